package statistics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"golang.org/x/sync/errgroup"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/input"
	"github.com/casegraph/casegraph/internal/ctxvalue"
	"github.com/casegraph/casegraph/viewer"
)

// Editions: what a caller under disclosure control is shown of people is
// fixed, year by year (docs/statistics.md, "Editions").
//
// Counts of people decided on live data change whenever a closed year
// does (a victim registered late, a service recorded for a victim of a
// past year, a referral decided), and two looks then tell the change: a
// cell hidden at 4 and shown at 5, with the year's total up by one, is a
// count of one. So a closed year is published as an edition: its finest
// cells of victims and of referrals, and the rows of support and of days
// to accept, read once, from one snapshot, for the caller's row scope,
// stored in statistics_editions and served unchanged from then on. A year
// is closed from editionMonth of the next year (the clock's, in Tirana: two
// months for late registrations); a year not closed is withheld whole, as
// the open year always was. What a caller under k > 0 is shown is then a
// function of the editions alone: it never changes.
//
// Callers who see exact counts (k = 0) read live data: they see the rows
// one by one anyway.

// editionMonth is the month of the next year from which a year is closed
// and its edition may be taken.
const editionMonth = time.March

// Closed reports whether year's edition may be taken at now: from the
// first of editionMonth of the next year in Tirana, whose calendar the
// months are counted on (domain.MonthInTirana).
func Closed(year int, now time.Time) bool {
	return !now.Before(time.Date(year+1, editionMonth, 1, 0, 0, 0, 0, domain.Tirana))
}

// editionsTable is the table of migration statistics_editions.
const editionsTable = "statistics_editions"

// Editions keeps the editions of one database: taken at the first look
// that needs them, stored, and kept in memory once read (they never
// change). The server makes one; every statistics read of people under
// disclosure control goes through it (WithEditions).
type Editions struct {
	client  *ent.Client
	dialect string
	// now is the clock that closes years (tests move it).
	now func() time.Time

	mu     sync.Mutex
	scopes map[string]*scopeEditions
	// sideBySide is held by the one take that reads side by side, in
	// several connections (inSnapshot); other takes at the same time
	// read in one. Takes of many scopes at once (after a year closes)
	// each holding several connections while waiting for more would
	// exhaust the pool and wait on each other for good (a review's
	// finding); one take holding a few cannot.
	sideBySide chan struct{}
}

// NewEditions returns the editions of the database of client, whose
// dialect is dialectName.
func NewEditions(client *ent.Client, dialectName string) *Editions {
	return &Editions{client: client, dialect: dialectName, now: time.Now, scopes: map[string]*scopeEditions{},
		sideBySide: make(chan struct{}, 1)}
}

// scopeEditions are one row scope's editions, as far as read.
type scopeEditions struct {
	// turn is held by the request reading or taking the scope's editions.
	turn chan struct{}
	// loaded: the stored editions of the scope have been read.
	loaded bool
	years  map[string]*edition
	// joined is every edition of years, in one value; replaced (never
	// changed) when a year is added, so what is computed from it can be
	// kept under its address (onCells).
	joined *joined
}

// edition is one closed year of one scope, as stored (JSON).
type edition struct {
	// Months names the calendar its months are on: Tirana's
	// (domain.Tirana's name) since 2026-12-07, when statistics took to
	// counting Tirana's months; empty, UTC's, in an edition taken before.
	// An edition is never taken again (docs/statistics.md, "Editions"),
	// so those stay UTC's, and the first take after them counts only the
	// rows they did not (countedFrom).
	Months    string       `json:"months,omitempty"`
	Victims   []storedCell `json:"victims"`
	Referrals []storedCell `json:"referrals"`
	Support   []supportRow `json:"support"`
	Days      []acceptRow  `json:"daysToAccept"`
}

// storedCell is a fineCell as stored.
type storedCell struct {
	Month  string   `json:"m"`
	Values []string `json:"v"`
	Count  int      `json:"n"`
}

// joined is the editions of a scope together: the finest cells of each
// table of people and the rows of the measures, over every fixed year.
type joined struct {
	years              map[string]bool
	victims, referrals []fineCell
	support            []supportRow
	days               []acceptRow

	// decisions are disclosure control's decisions on these cells, by
	// table, threshold and years withheld: as fixed as the cells, so kept
	// as long as they are, for every caller of the scope and on every
	// database (the Cache keeps only national callers', on PostgreSQL).
	mu        sync.Mutex
	decisions map[string]*decision
	// answers are tables answered from these cells, by name (Compute):
	// as fixed as the cells, so kept for every caller of the scope on
	// every database, up to maxAnsweredCells cells in all (answerCells,
	// names included). A server
	// without the Cache (SQLite) otherwise sums every edition's cells
	// for each panel of each request.
	answers     map[string]*Table
	answerCells int
}

// maxAnsweredCells bounds the cells of the answers a scope's editions
// keep: a dashboard's panels are tens to hundreds of cells, so this is
// about a hundred panels, a few MB (one scope: publishedScope).
const maxAnsweredCells = 20000

// answered returns the table kept under name, or answer's, kept with the
// scope's answers within maxAnsweredCells (all forgotten when full).
// answer runs outside the lock: it takes the scope's disclosure decisions
// (decided), and other panels need not wait for its sums.
func (j *joined) answered(name string, answer func() *Table) *Table {
	j.mu.Lock()
	t, ok := j.answers[name]
	j.mu.Unlock()
	if ok {
		return t
	}
	t = answer()
	j.mu.Lock()
	defer j.mu.Unlock()
	if kept, ok := j.answers[name]; ok {
		return kept
	}
	if len(t.Cells) > maxKeptAnswerCells {
		return t
	}
	// The name weighs too (a query's filter can list a thousand values):
	// a cell for every 100 bytes of it.
	w := t.keptWeight() + len(name)/100
	if j.answerCells+w > maxAnsweredCells {
		// A caller asking ever new queries: the answers start again, as
		// the Cache's do, so that those asked now are kept rather than
		// the first ever asked.
		j.answers, j.answerCells = nil, 0
	}
	if j.answers == nil {
		j.answers = map[string]*Table{}
	}
	j.answers[name] = t
	j.answerCells += w
	return t
}

// decided returns the decision kept under name, or decide's, kept.
func (j *joined) decided(name string, decide func() *decision) *decision {
	j.mu.Lock()
	defer j.mu.Unlock()
	if dc, ok := j.decisions[name]; ok {
		return dc
	}
	if j.decisions == nil {
		j.decisions = map[string]*decision{}
	}
	dc := decide()
	j.decisions[name] = dc
	return dc
}

var editionsKey = &ctxvalue.Key[*Editions]{}

// WithEditions returns ctx carrying e: the statistics of people it reads
// under disclosure control are e's.
func WithEditions(ctx context.Context, e *Editions) context.Context {
	return editionsKey.With(ctx, e)
}

// published is a table of people's cells as disclosure control decides on
// them: the finest cells of the years that may be shown, and the years
// withheld whole because they are not closed yet (their cells are not
// among fine).
type published struct {
	fine     []fineCell
	withheld []string
	// from is what a value computed from fine is kept by (onCells): the
	// table's source for live cells, none for editions (they never change).
	from source
	// editions are those fine is of, nil for live cells.
	editions *joined
}

// fixedFor returns the editions of ctx's caller of every closed year,
// taking those not taken yet, and the years not closed up to the clock's
// (withheld). Which years these are depends on the clock alone, never on
// the data: a year that the data reached only later (a victim registered
// late in a year that had none) would otherwise get its edition then, and
// show that someone was (a review's finding). So every year from
// input.Earliest, the earliest any record may name, has an edition, most
// of them empty; no statement is sent once a scope's editions are read.
func fixedFor(ctx context.Context) (*joined, []string, error) {
	e := editionsKey.From(ctx)
	if e == nil {
		// Fail closed: live data under disclosure control would tell
		// changes to closed years between looks.
		return nil, nil, fmt.Errorf("statistics: no editions on the context; counts of people under disclosure control are served from editions")
	}
	now := e.now()
	var closed, withheld []string
	for y := input.Earliest.Year(); y <= now.In(domain.Tirana).Year(); y++ {
		if Closed(y, now) {
			closed = append(closed, strconv.Itoa(y))
		} else {
			withheld = append(withheld, strconv.Itoa(y))
		}
	}
	j, err := e.fixed(ctx, closed)
	return j, withheld, err
}

// Prepare takes the editions ctx's caller needs and has not got yet:
// what a command does before it reads in a transaction of its own (on
// SQLite, taking an edition inside it would wait for that transaction's
// lock). With the clock fixed (SetClock), nothing is taken after it.
func (e *Editions) Prepare(ctx context.Context) error {
	_, _, err := fixedFor(WithEditions(ctx, e))
	return err
}

// SetClock makes now the clock that closes years: a command fixes it to
// the moment it reports.
func (e *Editions) SetClock(now func() time.Time) { e.now = now }

// fixed returns the editions of ctx's caller of the years closed, taking
// those not taken yet.
func (e *Editions) fixed(ctx context.Context, closed []string) (*joined, error) {
	scope := publishedScope
	e.mu.Lock()
	se := e.scopes[scope]
	if se == nil {
		se = &scopeEditions{years: map[string]*edition{}, turn: make(chan struct{}, 1)}
		e.scopes[scope] = se
	}
	e.mu.Unlock()

	// One request of a scope at a time reads or takes its editions; the
	// others wait for it, or for their own end.
	select {
	case se.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := func() { <-se.turn }
	handedOff := false
	defer func() {
		if !handedOff {
			release()
		}
	}()
	if !se.loaded {
		if err := e.load(ctx, scope, se, nil); err != nil {
			return nil, err
		}
		se.loaded = true
	}
	var missing []string
	for _, y := range closed {
		if se.years[y] == nil {
			missing = append(missing, y)
		}
	}
	if len(missing) > 0 {
		// Another server may have taken them (the first look after a year
		// closes, on every server at once): read those first.
		if err := e.load(ctx, scope, se, missing); err != nil {
			return nil, err
		}
		missing = slices.DeleteFunc(missing, func(y string) bool { return se.years[y] != nil })
	}
	if len(missing) == 0 {
		return se.joinedNow(), nil
	}
	// The take goes on, holding the scope's turn, whatever becomes of the
	// request that found the editions missing (its client may leave, its
	// deadline pass: at scale 400 a take lasts longer than a request may),
	// since the requests waiting need them too; this request waits for it,
	// or for its own end.
	type taken struct {
		j   *joined
		err error
	}
	done := make(chan taken, 1)
	handedOff = true
	go func() {
		defer release()
		taking, cancel := context.WithTimeout(context.WithoutCancel(ctx), takeTimeout)
		defer cancel()
		j, err := e.takeMissing(taking, scope, se, missing)
		done <- taken{j, err}
	}()
	select {
	case t := <-done:
		return t.j, t.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// takeMissing takes the editions of missing, reads back what is stored
// (another server's, if it took some first), and returns se's editions
// joined. Called holding se's turn.
func (e *Editions) takeMissing(ctx context.Context, scope string, se *scopeEditions, missing []string) (*joined, error) {
	if err := e.take(ctx, scope, missing, se.countedFrom()); err != nil {
		return nil, err
	}
	if err := e.load(ctx, scope, se, missing); err != nil {
		return nil, err
	}
	for _, y := range missing {
		if se.years[y] == nil {
			return nil, fmt.Errorf("statistics: the edition of %s was taken but cannot be read", y)
		}
	}
	return se.joinedNow(), nil
}

// countedFrom is the instant from which a take of se's missing years
// counts rows: the end of the last edition stored, when that edition is
// on UTC's calendar (taken before 2026-12-07), since it counted the rows
// up to its end in UTC. In Tirana's months the first hour of the next
// year (23:00 to midnight UTC on 31 December) is January's, and would be
// counted twice, in both editions. Zero (every row) when the last
// edition is Tirana's, or there is none: a row before the end of an
// edition on Tirana's calendar falls in its year and is left out of the
// take as a year already taken. Called holding se's turn.
func (se *scopeEditions) countedFrom() time.Time {
	last := ""
	for y := range se.years {
		last = max(last, y)
	}
	if last == "" || se.years[last].Months != "" {
		return time.Time{}
	}
	y, _ := strconv.Atoi(last)
	return time.Date(y+1, time.January, 1, 0, 0, 0, 0, time.UTC)
}

// joinedNow is se's editions joined, made again when years were added.
// Called holding se's turn.
func (se *scopeEditions) joinedNow() *joined {
	if se.joined == nil || len(se.joined.years) != len(se.years) {
		se.joined = join(se.years)
	}
	return se.joined
}

// takeTimeout bounds the taking of editions (four statements over the
// scope's rows, and one insert).
const takeTimeout = 5 * time.Minute

// publishedScope names the editions every caller under disclosure
// control is served: the country's tables of people, the ones the annual
// report publishes, whatever rows the caller sees one by one. When each
// row scope had its own (a regional police directorate's: its region's
// victims and those of other regions on its cases), the published
// national table less the region's showed what the region's table hid:
// nine region-years of the demo pinned a single victim from another
// region (a hunt over HTTP). With one table for all there is nothing to
// difference across callers at one threshold (docs/statistics.md,
// "Residual risk"). The name ends with the editions' shape.
var publishedScope = "all" + editionShape

// editionShape names what an edition holds: the dimensions of victims and
// of referrals, in the order of their cells' values, and editionFormat.
// A dimension added (README, "A statistics dimension") makes editions of a
// new shape, taken afresh; those of the old shape stay stored, unread.
var editionShape = func() string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.Join(victimDims, ",") + "|" + strings.Join(referralDims, ",") + "|" + editionFormat))
	return fmt.Sprintf(" (shape %08x)", h.Sum32())
}()

// editionFormat is the version of edition's JSON and of the support and
// days-to-accept rows it holds: changed with them.
const editionFormat = "1"

// load reads the stored editions of scope (of years, or every year when
// nil) into se.
func (e *Editions) load(ctx context.Context, scope string, se *scopeEditions, years []string) error {
	where := sql.EQ("scope", scope)
	if years != nil {
		ys := make([]any, len(years))
		for i, y := range years {
			ys[i], _ = strconv.Atoi(y)
		}
		where = sql.And(where, sql.In("year", ys...))
	}
	query, args := sql.Dialect(e.dialect).Select("year", "content").From(sql.Table(editionsTable)).Where(where).Query()
	rows, err := e.client.QueryContext(viewer.SystemContext(ctx), query, args...)
	if err != nil {
		return fmt.Errorf("statistics: reading editions: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var year int
		var content string
		if err := rows.Scan(&year, &content); err != nil {
			return fmt.Errorf("statistics: reading editions: %w", err)
		}
		ed := &edition{}
		if err := json.Unmarshal([]byte(content), ed); err != nil {
			return fmt.Errorf("statistics: the edition of %d for %s: %w", year, scope, err)
		}
		se.years[strconv.Itoa(year)] = ed
	}
	return rows.Err()
}

// take reads the country's tables of people (publishedScope, whoever the
// caller), in one snapshot, and stores each of years as an edition, unless
// one is stored already (taken by another server, or request, first). It
// counts the rows from from (every row when zero: countedFrom).
func (e *Editions) take(ctx context.Context, scope string, years []string, from time.Time) error {
	ctx = viewer.SystemContext(ctx)
	if !from.IsZero() {
		ctx = countedFromKey.With(ctx, from)
	}
	var (
		victims, referrals []fineCell
		support            []supportRow
		days               []acceptRow
	)
	err := e.inSnapshot(ctx,
		func(ctx context.Context, c *ent.Client) (err error) {
			victims, err = readVictims(ctx, c, nil)
			return err
		},
		func(ctx context.Context, c *ent.Client) (err error) {
			referrals, err = readReferrals(ctx, c, nil)
			return err
		},
		func(ctx context.Context, c *ent.Client) (err error) { support, err = readSupport(ctx, c); return err },
		func(ctx context.Context, c *ent.Client) (err error) { days, err = readDaysToAccept(ctx, c); return err },
	)
	if err != nil {
		return err
	}
	taken := map[string]*edition{}
	for _, y := range years {
		taken[y] = &edition{Months: domain.Tirana.String(), Victims: []storedCell{}, Referrals: []storedCell{}, Support: []supportRow{}, Days: []acceptRow{}}
	}
	for _, c := range victims {
		if ed := taken[c.month[:4]]; ed != nil {
			ed.Victims = append(ed.Victims, storedCell{c.month, c.values, c.count})
		}
	}
	for _, c := range referrals {
		if ed := taken[c.month[:4]]; ed != nil {
			ed.Referrals = append(ed.Referrals, storedCell{c.month, c.values, c.count})
		}
	}
	for _, r := range support {
		if ed := taken[r.Month[:4]]; ed != nil {
			ed.Support = append(ed.Support, r)
		}
	}
	for _, r := range days {
		if ed := taken[r.Month[:4]]; ed != nil {
			ed.Days = append(ed.Days, r)
		}
	}
	// One statement for every year: a look that finds several closed
	// years (a server's first) stores them at once.
	at := e.now().UTC()
	insert := sql.Dialect(e.dialect).Insert(editionsTable).Columns("scope", "year", "taken_at", "content")
	for _, y := range years {
		content, err := json.Marshal(taken[y])
		if err != nil {
			return err
		}
		year, _ := strconv.Atoi(y)
		insert.Values(scope, year, at, string(content))
	}
	query, args := insert.OnConflict(sql.ConflictColumns("scope", "year"), sql.DoNothing()).Query()
	if _, err := e.client.ExecContext(viewer.SystemContext(ctx), query, args...); err != nil {
		return fmt.Errorf("statistics: storing the editions of %v: %w", years, err)
	}
	return nil
}

// inSnapshot runs reads, each with a client of one read-only snapshot of
// the database, so that the editions of a take agree with each other. On
// PostgreSQL, when no other take does (Editions.sideBySide), they run
// side by side, each in a transaction of its own that imports the
// snapshot the first exports (SET TRANSACTION SNAPSHOT): at scale 400 the
// take's four statements take 3.2 s one after the other, near what a
// request may wait. Otherwise, and on SQLite, the first transaction
// serves them in turn. The first read that fails cancels the others.
func (e *Editions) inSnapshot(ctx context.Context, reads ...func(context.Context, *ent.Client) error) error {
	var txs []*ent.Tx
	defer func() {
		for _, tx := range txs {
			_ = tx.Rollback() // read only: nothing to commit
		}
	}()
	begin := func(snapshot string) (*ent.Client, error) {
		tx, err := e.client.BeginTx(ctx, database.SnapshotOptions(e.dialect))
		if err != nil {
			return nil, err
		}
		txs = append(txs, tx)
		c := tx.Client()
		if e.dialect != dialect.Postgres {
			return c, nil
		}
		// `serve` bounds every statement by the request timeout; these
		// read the scope's whole tables, once, and are bounded by
		// takeTimeout instead (a review found takes failing for good at
		// scale 400 otherwise).
		settings := []string{fmt.Sprintf("SET LOCAL statement_timeout = %d", takeTimeout.Milliseconds())}
		if snapshot != "" {
			settings = append([]string{"SET TRANSACTION SNAPSHOT '" + snapshot + "'"}, settings...)
		}
		for _, set := range settings {
			if _, err := c.ExecContext(ctx, set); err != nil {
				return nil, err
			}
		}
		return c, nil
	}
	first, err := begin("")
	if err != nil {
		return err
	}
	inTurn := func() error {
		for _, read := range reads {
			if err := read(ctx, first); err != nil {
				return err
			}
		}
		return nil
	}
	if e.dialect != dialect.Postgres {
		return inTurn()
	}
	select {
	case e.sideBySide <- struct{}{}:
		defer func() { <-e.sideBySide }()
	default:
		return inTurn()
	}
	var snapshot string
	rows, err := first.QueryContext(ctx, "SELECT pg_export_snapshot()")
	if err != nil {
		return err
	}
	for rows.Next() {
		err = rows.Scan(&snapshot)
	}
	if err = errors.Join(err, rows.Close(), rows.Err()); err != nil {
		return err
	}
	// PostgreSQL's snapshot names are hexadecimal digits and dashes; the
	// name is spliced into SET, which takes no parameter.
	if snapshot == "" || strings.Trim(snapshot, "0123456789ABCDEFabcdef-") != "" {
		return fmt.Errorf("statistics: PostgreSQL exported the snapshot %q", snapshot)
	}
	clients := []*ent.Client{first}
	for range reads[1:] {
		c, err := begin(snapshot)
		if err != nil {
			return err
		}
		clients = append(clients, c)
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, read := range reads {
		g.Go(func() error { return read(gctx, clients[i]) })
	}
	return g.Wait()
}

// join puts the editions of years together, in the order of the years.
func join(years map[string]*edition) *joined {
	j := &joined{years: map[string]bool{}}
	for _, y := range slices.Sorted(maps.Keys(years)) {
		ed := years[y]
		j.years[y] = true
		for _, c := range ed.Victims {
			j.victims = append(j.victims, fineCell{c.Month, c.Values, c.Count})
		}
		for _, c := range ed.Referrals {
			j.referrals = append(j.referrals, fineCell{c.Month, c.Values, c.Count})
		}
		j.support = append(j.support, ed.Support...)
		j.days = append(j.days, ed.Days...)
	}
	return j
}
