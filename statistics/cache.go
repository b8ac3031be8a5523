package statistics

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/rowscope"
	"golang.org/x/sync/singleflight"
)

// Channel is the PostgreSQL notification channel on which every statement
// that changes a table the statistics count announces it (the migration
// statistics_changed): the table's name, once its transaction commits.
const Channel = "casegraph_statistics"

// Cache keeps what the statistics read (finest cells, the support rows,
// the agency registry) and what is computed from it (disclosure's
// decisions, each panel's answer) across requests,
// for the callers who see every row of the table read: their statements
// are the same (rowscope.SeesEveryRow), so are the rows. A national
// dashboard asked again then costs no statistics statement at all.
//
// It is correct only while it hears every change. Each notification on
// Channel names the table a statement changed, and the cache forgets what
// was read from that table (each value is kept with the tables its
// statements read: a change to a case does not make the victims' cells
// stale); a notification naming no table it knows, and losing or
// regaining its listening connection, make it forget everything, and it
// keeps nothing while not listening (database.Listen's Lost and
// Listening). A value read before a change to one of its tables is never
// kept after it: each read notes its tables' stamp before its statement
// and stores only if that stamp is still current. Callers whose rows are
// narrowed by their scope read for themselves, as without a cache.
//
// Only PostgreSQL notifies; on SQLite there is no cache (nil), and
// Readings keep cells for one request.
type Cache struct {
	mu        sync.Mutex
	listening bool
	// epoch counts what makes everything stale: listening started or
	// stopped, a notification naming no table.
	epoch uint64
	// changes counts, for each table, the notifications naming it.
	changes map[string]uint64
	values  map[string]kept
	// weight is the sum of the kept values' weights.
	weight int
	// heard counts every notification; hits and misses the reads
	// of callers who share, refreshes the reads made again in the
	// background (Stats).
	heard, hits, misses, refreshes atomic.Uint64
	// refreshers are the reads to make again after a change (keepFresh);
	// wake tells the loop that some are due.
	refreshers map[string]*refresher
	wake       chan struct{}
	// reads merges the reads of one name and stamp that run at once
	// (a dashboard wall of several screens after a change): one statement,
	// not one each.
	reads singleflight.Group
}

// maxWeight bounds what the cache keeps of values that can be many (the
// answers to every distinct query: weighed, in cells). The rest is a few
// values a table (its cells, the registry, disclosure's decisions for each
// threshold), held until the table changes. 100,000 cells is about 15 MB,
// hundreds of dashboard panels.
const maxWeight = 100_000

// weighed is a value the cache bounds: an answer of so many cells.
type weighed interface{ keptWeight() int }

// kept is a value, the tables it was read from, and its weight.
type kept struct {
	value  any
	tables []string
	weight int
}

// NewCache returns a cache that keeps nothing until it is listening
// (Follow).
func NewCache() *Cache { return &Cache{wake: make(chan struct{}, 1)} }

// Follow makes the cache listen on Channel of the PostgreSQL database at
// databaseURL until ctx is done. It returns once it listens.
func (c *Cache) Follow(ctx context.Context, databaseURL string, logger *slog.Logger) error {
	err := database.Listen(ctx, databaseURL, Channel, database.ListenEvents{
		Notified:  c.changed,
		Lost:      func(error) { c.set(false) },
		Listening: func() { c.set(true) },
	}, logger)
	if err == nil {
		go c.refreshLoop(ctx)
	}
	return err
}

// Kept fresh: after a change, what national callers read from the table
// changed (their cells, the support rows, the registry: what a statement
// returns, not what is computed from it) is read again in the
// background, refreshAfter after the first change that made it stale,
// so that a dashboard's next request finds it kept instead of paying the
// read. Only what a request has asked for since it was last read again,
// and within refreshWithin, is read again, one read at a time: a server
// nobody looks at spends nothing, and under steady writes a value is read
// again at most once a request that asks for it (and once each
// refreshAfter). A request that arrives while it is read joins the read.
var refreshAfter = func() *atomic.Int64 {
	var d atomic.Int64
	d.Store(int64(time.Second))
	return &d
}()

const refreshWithin = 15 * time.Minute

// refresher is how to read a kept value again, given the loop's context
// (keepFresh builds it with the caller and row scope of the request that
// last read the value).
type refresher struct {
	tables []string
	read   func(context.Context) (any, error)
	used   time.Time
	// due: a change made it stale; asked: a request has read it since it
	// was last read again (a value nobody asks for is read again once,
	// not after every change).
	due, asked bool
}

// remember notes how to read name again (keepFresh).
func (c *Cache) remember(name string, tables []string, read func(context.Context) (any, error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refreshers == nil {
		c.refreshers = map[string]*refresher{}
	}
	r := c.refreshers[name]
	if r == nil {
		r = &refresher{}
		c.refreshers[name] = r
	}
	// In place: a change already noted (due) stays noted.
	r.tables, r.read, r.used, r.asked = tables, read, time.Now(), true
}

// due marks the refreshers whose tables stale says are stale, and wakes
// the loop. Called with mu held.
func (c *Cache) due(stale func(tables []string) bool) {
	marked := false
	for _, r := range c.refreshers {
		if stale(r.tables) {
			r.due, marked = true, true
		}
	}
	if marked {
		select {
		case c.wake <- struct{}{}:
		default: // the loop is woken already
		}
	}
}

// refreshLoop reads again what is due, refreshAfter after it is first
// woken, until ctx is done. (refreshAfter is atomic: a test shortens it.)
func (c *Cache) refreshLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(refreshAfter.Load())):
		}
		c.refreshDue(ctx)
	}
}

// refreshDue reads again, one at a time, each due value asked for lately
// and not kept since (a request may have read it already).
func (c *Cache) refreshDue(ctx context.Context) {
	c.mu.Lock()
	type job struct {
		name string
		r    refresher
	}
	var jobs []job
	for name, r := range c.refreshers {
		if !r.due || !r.asked {
			continue
		}
		r.due, r.asked = false, false
		if time.Since(r.used) > refreshWithin {
			delete(c.refreshers, name)
			continue
		}
		jobs = append(jobs, job{name, *r})
	}
	c.mu.Unlock()
	for _, j := range jobs {
		if c.refresh(ctx, j.name, j.r) {
			c.refreshes.Add(1)
		}
	}
}

// refreshTimeout bounds a read made again in the background as a request
// is bounded by default (requests that join it wait for it).
const refreshTimeout = 5 * time.Second

// refresh reads name again unless it is kept, and reports whether what
// it read was kept. A panic in the read is caught: it would otherwise end
// the process, where in a request it ends the request.
func (c *Cache) refresh(ctx context.Context, name string, r refresher) (kept bool) {
	_, ok, stamp := c.load(name, r.tables)
	if ok {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	defer func() {
		if recover() != nil {
			kept = false
		}
	}()
	if _, err, _ := c.readKept(name, r.tables, stamp, func() (any, error) { return r.read(ctx) }); err != nil {
		return false
	}
	_, kept, _ = c.load(name, r.tables)
	return kept
}

// readKept reads name once for every caller who asks for it at stamp (a
// read under way is joined), and keeps what it read if none of tables
// changed since stamp. merged: the read was shared with another caller.
func (c *Cache) readKept(name string, tables []string, stamp uint64, read func() (any, error)) (value any, err error, merged bool) {
	return c.reads.Do(name+"@"+strconv.FormatUint(stamp, 10), func() (any, error) {
		v, err := read()
		if err == nil {
			c.store(name, tables, v, stamp)
		}
		return v, err
	})
}

// CacheStats are what an operator watches of a Cache (/metrics).
type CacheStats struct {
	// Listening: values are kept (the listening connection is up).
	Listening bool
	// Hits and Misses count the reads of callers who share the cache
	// (cells, registry, decisions, answers): answered from it, or not.
	Hits, Misses uint64
	// Heard counts the notifications heard; Refreshes the reads made
	// again in the background after them and kept.
	Heard, Refreshes uint64
	// Kept is how many values are kept; Weight what the answers among
	// them weigh, in cells (at most maxWeight).
	Kept, Weight int
}

// Stats returns the cache's figures now.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Listening: c.listening, Hits: c.hits.Load(), Misses: c.misses.Load(),
		Heard: c.heard.Load(), Refreshes: c.refreshes.Load(), Kept: len(c.values), Weight: c.weight}
}

// set forgets everything kept, starts a new epoch, and keeps values from
// now on only while listening.
func (c *Cache) set(listening bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.listening = listening
	c.values, c.weight = nil, 0
	if listening {
		c.due(func([]string) bool { return true })
	}
}

// changed forgets what was read from table (everything, when table is
// not one of countedTables: a notification from a newer or older
// migration that names something else), makes reads of it that are under
// way unkeepable, and marks them to be read again.
func (c *Cache) changed(table string) {
	defer c.heard.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(countedTables, table) {
		c.epoch++
		c.values, c.weight = nil, 0
		c.due(func([]string) bool { return true })
		return
	}
	if c.changes == nil {
		c.changes = map[string]uint64{}
	}
	c.changes[table]++
	for name, k := range c.values {
		if slices.Contains(k.tables, table) {
			c.forget(name)
		}
	}
	c.due(func(tables []string) bool { return slices.Contains(tables, table) })
}

// stamp is a number that grows whenever one of tables changes or
// everything is forgotten: the sum of counts that only grow. Called with
// mu held.
func (c *Cache) stamp(tables []string) uint64 {
	s := c.epoch
	for _, t := range tables {
		s += c.changes[t]
	}
	return s
}

// load returns the value kept under name, and the stamp of tables (what
// name is read from) to store a new one with.
func (c *Cache) load(name string, tables []string) (value any, ok bool, stamp uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.values[name]
	return k.value, ok && c.listening, c.stamp(tables)
}

// store keeps value under name if none of tables changed since stamp.
func (c *Cache) store(name string, tables []string, value any, stamp uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.listening || c.stamp(tables) != stamp {
		return
	}
	if c.values == nil {
		c.values = map[string]kept{}
	}
	k := kept{value: value, tables: tables}
	if w, ok := value.(weighed); ok {
		k.weight = w.keptWeight()
	}
	if k.weight > 0 && c.weight+k.weight > maxWeight {
		// A caller asking ever new queries would fill memory: the answers
		// start again; the cells they are summed from stay.
		for name, old := range c.values {
			if old.weight > 0 {
				c.forget(name)
			}
		}
	}
	c.forget(name)
	c.values[name] = k
	c.weight += k.weight
}

// forget drops the value kept under name. Called with mu held.
func (c *Cache) forget(name string) {
	c.weight -= c.values[name].weight
	delete(c.values, name)
}

// shared reads through c what callers who see every row of from.entity
// read alike: the value kept, or read's, kept for the next one.
// Anyone else, and every caller without a cache or an entity, reads.
func shared[T any](ctx context.Context, c *Cache, name string, from source, read func() (T, error)) (T, error) {
	if c == nil || from.entity == "" || !rowscope.SeesEveryRow(ctx, from.entity) {
		return read()
	}
	v, ok, stamp := c.load(name, from.tables)
	if t, isT := v.(T); ok && isT {
		c.hits.Add(1)
		return t, nil
	}
	c.misses.Add(1)
	v, err, merged := c.readKept(name, from.tables, stamp, func() (any, error) { return read() })
	if err != nil && merged && ctx.Err() == nil {
		// The statement may have been another request's, failed only
		// because that request gave up (its client left, its deadline
		// passed): this one reads for itself.
		return read()
	}
	t, _ := v.(T)
	return t, err
}
