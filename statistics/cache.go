package statistics

import (
	"context"
	"log/slog"
	"strconv"
	"sync"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/rowscope"
	"golang.org/x/sync/singleflight"
)

// Channel is the PostgreSQL notification channel on which every statement
// that changes a table the statistics count announces it (the migration
// statistics_changed): the table's name, once its transaction commits.
const Channel = "casegraph_statistics"

// Cache keeps what the statistics read (finest cells, the support rows,
// the agency registry, disclosure's decisions on them) across requests,
// for the callers who see every row of the table read: their statements
// are the same (rowscope.SeesEveryRow), so are the rows. A national
// dashboard asked again then costs no statistics statement at all.
//
// It is correct only while it hears every change: it forgets everything
// at each notification on Channel, and keeps nothing while its listening
// connection is down (database.Listen's Lost and Listening). A value read
// before a notification is never kept after it: each read notes the
// cache's generation before its statement and stores only if no
// notification came since. Callers whose rows are narrowed by their
// scope read for themselves, as without a cache.
//
// Only PostgreSQL notifies; on SQLite there is no cache (nil), and
// Readings keep cells for one request.
type Cache struct {
	mu         sync.Mutex
	generation uint64
	listening  bool
	values     map[string]any
	// reads merges the reads of one name and generation that run at once
	// (a dashboard wall of several screens after a change): one statement,
	// not one each.
	reads singleflight.Group
}

// NewCache returns a cache that keeps nothing until it is listening
// (Follow).
func NewCache() *Cache { return &Cache{} }

// Follow makes the cache listen on Channel of the PostgreSQL database at
// databaseURL until ctx is done. It returns once it listens.
func (c *Cache) Follow(ctx context.Context, databaseURL string, logger *slog.Logger) error {
	return database.Listen(ctx, databaseURL, Channel, database.ListenEvents{
		Notified:  func() { c.set(true) },
		Lost:      func(error) { c.set(false) },
		Listening: func() { c.set(true) },
	}, logger)
}

// set forgets everything kept, starts a new generation, and keeps values
// from now on only while listening.
func (c *Cache) set(listening bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	c.listening = listening
	c.values = nil
}

// load returns the value kept under name, and the generation to store a
// new one with.
func (c *Cache) load(name string) (value any, ok bool, generation uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	value, ok = c.values[name]
	return value, ok && c.listening, c.generation
}

// store keeps value under name if nothing changed since generation.
func (c *Cache) store(name string, value any, generation uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.listening || c.generation != generation {
		return
	}
	if c.values == nil {
		c.values = map[string]any{}
	}
	c.values[name] = value
}

// shared reads through c what callers who see every row of the ent type
// entity read alike: the value kept, or read's, kept for the next one.
// Anyone else, and every caller without a cache or an entity, reads.
func shared[T any](ctx context.Context, c *Cache, name, entity string, read func() (T, error)) (T, error) {
	if c == nil || entity == "" || !rowscope.SeesEveryRow(ctx, entity) {
		return read()
	}
	v, ok, generation := c.load(name)
	if t, isT := v.(T); ok && isT {
		return t, nil
	}
	v, err, _ := c.reads.Do(name+"@"+strconv.FormatUint(generation, 10), func() (any, error) {
		t, err := read()
		if err == nil {
			c.store(name, t, generation)
		}
		return t, err
	})
	t, _ := v.(T)
	return t, err
}
