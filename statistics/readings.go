package statistics

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/charge"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/ent/supportservice"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/internal/ctxvalue"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// Readings keeps the finest cells each table was read with during one
// request, so that the panels of a dashboard that ask the same table
// (victims by year, by sex and age group, by region) share one statement
// instead of one each. The row scope, and so the cells, cannot change
// within a request that reads statistics: only queries do, and a query
// changes nothing.
//
// Across requests, what callers who see every row read is kept by the
// server's Cache, which hears of every change on PostgreSQL; without one
// (SQLite, a command) cells are kept for the request alone.
type Readings struct {
	mu     sync.Mutex
	tables map[string]*reading
	cache  *Cache
	// groupings are the groupings of each table of records read so far
	// (grouping.name, by table).
	groupings map[string][]string
}

// reading is one table's rows, read once: concurrent panels wait for the
// first one's statement.
type reading struct {
	once  sync.Once
	value any
	err   error
}

var readingsKey = &ctxvalue.Key[*Readings]{}

// WithReadings returns ctx carrying a new, empty Readings: one request's,
// reading through cache (nil: none). It is installed for every request;
// its map is made at the first table read, so a request that reads none
// pays one small allocation.
func WithReadings(ctx context.Context, cache *Cache) context.Context {
	return readingsKey.With(ctx, &Readings{cache: cache})
}

// readCells returns d's cells grouped by by as ctx's caller sees them:
// read through client at the first ask of the request, and kept for the
// rest of it (each grouping apart), past maxGroupingsPerTable groupings
// of d its finest cells instead.
func (d Dataset) readCells(ctx context.Context, client *ent.Client, by grouping) ([]fineCell, error) {
	if by = capGroupings(ctx, d.name, by); by == nil {
		return readStatement(ctx, d.name, d.from, func(ctx context.Context) ([]fineCell, error) { return d.read(ctx, client, nil) })
	}
	cells, err := readStatement(ctx, d.name+by.name(), d.from, func(ctx context.Context) (groupedCells, error) {
		cells, err := d.read(ctx, client, by)
		return groupedCells(cells), err
	})
	return cells, err
}

// maxGroupingsPerTable is how many distinct groupings of one table of
// records a request reads, each a statement; past them it reads the
// table's finest cells, which answer every query. A request of many
// panels, each grouped differently, then costs at most this many
// statements a table and one more (a review found 64 panels of court
// decisions, each grouped differently, costing 64 statements).
const maxGroupingsPerTable = 3

// capGroupings returns by while the request on ctx has read fewer than
// maxGroupingsPerTable other groupings of table, else nil (the finest
// cells). Without Readings (a command, whose tables are fixed) by.
func capGroupings(ctx context.Context, table string, by grouping) grouping {
	rs := readingsKey.From(ctx)
	if rs == nil || by == nil {
		return by
	}
	name := by.name()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	read := rs.groupings[table]
	switch {
	case slices.Contains(read, name):
		return by
	case len(read) >= maxGroupingsPerTable:
		return nil
	}
	if rs.groupings == nil {
		rs.groupings = map[string][]string{}
	}
	rs.groupings[table] = append(read, name)
	return by
}

// groupedCells are a table's cells by a query's dimensions, which the
// Cache weighs like answers (weighed): a national caller asking ever new
// groupings cannot fill memory with them, as the finest cells, a few
// values a table, cannot.
type groupedCells []fineCell

func (g groupedCells) keptWeight() int { return len(g) + 1 }

// readStatement is readOnce for what a statement returns (not what is
// computed from it), which the Cache also reads again after a change
// (keepFresh).
func readStatement[T any](ctx context.Context, name string, from source, read func(context.Context) (T, error)) (T, error) {
	keepFresh(ctx, name, from, read)
	return readOnce(ctx, name, from, func() (T, error) { return read(ctx) })
}

// source is what a statistics read reads: the ent type whose row scope
// narrows it (callers who see every row of it read alike, and share
// through the Cache), and every table its statements name (a change to
// any of them makes what was read stale). TestCacheSources checks the
// tables against the statements and the migration's triggers.
type source struct {
	entity string
	tables []string
}

// agencySource is the agency registry's (withAgencies).
var agencySource = source{ent.TypeAgency, []string{agency.Table}}

// countedTables are the tables whose every change is notified on Channel
// (migration statistics_changed): the only ones a cached read may read.
var countedTables = []string{
	victim.Table, casefile.Table, prosecution.Table, referral.Table,
	courtdecision.Table, supportservice.Table, agency.Table, charge.Table,
}

// readOnce returns what read returns, read at the first ask of the request
// under name and kept for the rest of it; for callers who see every row
// of from.entity, through the server's Cache. Without Readings on ctx (a
// command, a test) each ask reads.
func readOnce[T any](ctx context.Context, name string, from source, read func() (T, error)) (T, error) {
	rs := readingsKey.From(ctx)
	if rs == nil {
		return read()
	}
	rs.mu.Lock()
	if rs.tables == nil {
		rs.tables = map[string]*reading{}
	}
	r, ok := rs.tables[name]
	if !ok {
		r = &reading{}
		rs.tables[name] = r
	}
	rs.mu.Unlock()
	r.once.Do(func() { r.value, r.err = shared(ctx, rs.cache, name, from, read) })
	v, _ := r.value.(T)
	return v, r.err
}

// keepFresh tells the Cache how to make read again after a change, for a
// caller who shares it (Cache's "Kept fresh"). The read runs under a
// context of the cache's loop that holds only what the statement depends
// on, the caller and its row scope (which sees every row of the table),
// never the rest of the request (its readings, audit notes, pool share),
// which has ended.
func keepFresh[T any](ctx context.Context, name string, from source, read func(context.Context) (T, error)) {
	rs := readingsKey.From(ctx)
	if rs == nil || rs.cache == nil || from.entity == "" || !rowscope.SeesEveryRow(ctx, from.entity) {
		return
	}
	cache, scope, caller := rs.cache, rowscope.FromContext(ctx), viewer.FromContext(ctx)
	cache.remember(name, from.tables, func(loop context.Context) (any, error) {
		ctx := rowscope.NewContext(loop, scope)
		if caller != nil {
			ctx = viewer.NewContext(ctx, caller)
		}
		return read(WithReadings(ctx, cache))
	})
}

// readInside is readOnce for a read made inside another that the Cache
// may keep (the agency registry, inside the cases' cells): with a cache it
// reads through it, never through the request's copy. That copy may have
// been read before a change the outer read began after; the outer read
// would then be kept, under its newer stamp, with the old registry in it,
// until the next change. Without a cache, once a request.
func readInside[T any](ctx context.Context, name string, from source, read func(context.Context) (T, error)) (T, error) {
	rs := readingsKey.From(ctx)
	if rs == nil || rs.cache == nil {
		return readOnce(ctx, name, from, func() (T, error) { return read(ctx) })
	}
	keepFresh(ctx, name, from, read)
	return shared(ctx, rs.cache, name, from, func() (T, error) { return read(ctx) })
}

// onCells returns compute(), a function of the cells fine (and of what
// name says: a query, a threshold) and nothing else, kept under name as
// readOnce keeps what it reads. A value kept across requests may have
// been computed from cells read before a change, and is used only with
// those very cells (the same slice), never with others it would not fit:
// the name it is kept under names the cells by their address, which the
// kept value holds (so no other slice can be given it while it is kept).
func onCells[T any](ctx context.Context, name string, from source, fine []fineCell, compute func() T) T {
	var first *fineCell
	if len(fine) > 0 {
		first = &fine[0]
	}
	made := func() onThese[T] { return onThese[T]{first: first, n: len(fine), value: compute()} }
	name += fmt.Sprintf("@%p", first)
	o, _ := readOnce(ctx, name, from, func() (onThese[T], error) { return made(), nil })
	if o.n != len(fine) || o.first != first {
		o = made()
	}
	return o.value
}

// onThese is a value computed from the cells that start at first.
type onThese[T any] struct {
	first *fineCell
	n     int
	value T
}

// keptWeight is the value's (weighed).
func (o onThese[T]) keptWeight() int {
	if w, ok := any(o.value).(weighed); ok {
		return w.keptWeight()
	}
	return 0
}
