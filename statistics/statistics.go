// Package statistics computes the grouped counts that dashboards and the
// annual report show, in SQL over the rows the caller sees, and withholds
// the counts of people that could single someone out (disclosure.go).
//
// A table of people is read by one SQL statement, an ent query whose
// Modify turns it into a GROUP BY over every dimension of the table and the
// month: the table's finest cells (under disclosure control, from the
// editions of closed years: editions.go). A table of records is read
// grouped by the dimensions a request names (Dataset.grouping). Because
// each is an ent query, the privacy policy (the row scope) applies in SQL,
// so a regional prosecutor counts the region's rows and the national
// coordinator the country's. Filters, groupings and periods are then sums
// of those cells in Go (sums of counts, never rows), which is what makes
// disclosure control the same whatever the request: docs/statistics.md.
package statistics

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/charge"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/ent/victim"
)

// Period is what a table's cells are counted by besides its dimensions.
type Period string

// Periods. Whole is no period: the whole time in one cell.
const (
	Whole   Period = ""
	Month   Period = "MONTH"
	Quarter Period = "QUARTER"
	Year    Period = "YEAR"
)

// Query is what a caller asks of a table.
type Query struct {
	// GroupBy are dimensions of the table, in the order of each cell's
	// values.
	GroupBy []string
	Period  Period
	// Where keeps the rows whose value of each dimension named is one of
	// those listed (an empty list restricts nothing).
	Where map[string][]string
	// From and To are months (YYYY-MM), both included; empty: unbounded.
	From, To string
}

// normalised is q with each filter's values sorted, once each, and empty
// filters left out: the same question, named once where an answer is
// kept (a filter listing a value a thousand times is not a thousand
// questions).
func (q Query) normalised() Query {
	where := map[string][]string{}
	for dim, values := range q.Where {
		if len(values) > 0 {
			where[dim] = slices.Compact(slices.Sorted(slices.Values(values)))
		}
	}
	q.Where = where
	return q
}

// Cell is one count of a table. Count is nil when suppressed.
type Cell struct {
	Period     string
	Values     []string
	Count      *int
	Suppressed bool
}

// Table is the answer to a Query.
type Table struct {
	Name    string
	GroupBy []string
	Period  Period
	// CountsPeople says whether disclosure control applies.
	CountsPeople bool
	// Threshold is the k applied; 0 when the caller sees exact counts.
	Threshold int
	Cells     []Cell
	Total     Cell
}

// fineCell is one cell of a table at its finest: a month and a value of
// every dimension of the table, in the order of dataset.dims.
type fineCell struct {
	month  string
	values []string
	count  int
}

// Dataset is one table the package can count.
type Dataset struct {
	name string
	// from is what the table's statement reads (nothing for the measures,
	// which are read afresh each time).
	from source
	// people: the table counts people, so disclosure control applies.
	people bool
	dims   []string
	// grids are the tables a table of people publishes (docs/statistics.md,
	// "Grids"): each dimension lies in exactly one, a query names the
	// dimensions of one grid only, by year, and disclosure control decides
	// on each grid's cells (a year and a value of each of its dimensions).
	// Nil for tables of records, whose counts are exact.
	grids [][]string
	// read returns the cells of the rows ctx's caller sees, by month and
	// the dimensions by groups (nil: every one, the finest cells), in one
	// SQL statement.
	read func(ctx context.Context, client *ent.Client, by grouping) ([]fineCell, error)
	// edited is the table's cells in the editions (editions.go): for
	// tables of people, which callers under disclosure control read.
	edited func(*joined) []fineCell
}

// Name is the table's name, as the audit trail's STATISTICS_READ events
// and a Table name it.
func (d Dataset) Name() string { return d.name }

// Victims counts victims identified, by month of identification.
var Victims = Dataset{name: "victims", from: source{ent.TypeVictim, []string{victim.Table}}, people: true, dims: victimDims, grids: victimGrids, read: readVictims,
	edited: func(j *joined) []fineCell { return j.victims }}

// Cases counts cases opened, by month of opening. Cases are files, not
// people: their counts are not suppressed (docs/statistics.md).
var Cases = Dataset{name: "cases", from: source{ent.TypeCaseFile, []string{casefile.Table, agency.Table}}, dims: caseDims, read: readCases}

// Prosecutions counts criminal proceedings registered, by month of
// registration: the monitoring mechanism's figures. Proceedings are files,
// not people: their counts are not suppressed.
var Prosecutions = Dataset{name: "prosecutions", from: source{ent.TypeProsecution, []string{prosecution.Table, agency.Table}}, dims: prosecutionDims, read: readProsecutions}

// TrialRequests counts criminal proceedings sent to trial (a request for
// trial: the indictment), by month of the request, by the dimensions of
// Prosecutions. Not suppressed, as proceedings are not.
var TrialRequests = Dataset{name: "trialRequests", from: source{ent.TypeProsecution, []string{prosecution.Table, agency.Table}}, dims: prosecutionDims, read: readTrialRequests}

// Decisions counts courts' decisions in criminal proceedings, by month
// decided: the outcomes a year's report counts by the date of the
// decision. Decisions are court records, not people: their counts are not
// suppressed, as proceedings' are not.
var Decisions = Dataset{name: "decisions", from: source{ent.TypeCourtDecision, []string{courtdecision.Table, agency.Table, charge.Table}}, dims: decisionDims, read: readDecisions}

// Referrals counts referrals of victims to services, by month referred.
// Each is one victim's, so they are controlled as counts of people.
var Referrals = Dataset{name: "referrals", from: source{ent.TypeReferral, []string{referral.Table, agency.Table}}, people: true, dims: referralDims, grids: referralGrids, read: readReferrals,
	edited: func(j *joined) []fineCell { return j.referrals }}

// Compute reads d's finest cells as ctx's caller sees them (once a
// request, see Readings), answers q under ctl, and records the reading on
// ctx's audit recorder.
func Compute(ctx context.Context, client *ent.Client, d Dataset, q Query, ctl Control) (*Table, error) {
	if err := d.check(q); err != nil {
		return nil, err
	}
	k := ctl.threshold(d.people)
	in, _, err := d.cells(ctx, client, k, d.grouping(q))
	if err != nil {
		return nil, err
	}
	if err := noteReading(ctx, d, q); err != nil {
		return nil, err
	}
	// The answer depends on the cells, q and k alone: kept like them (a
	// national dashboard asked again is answered without a sum), for those
	// very cells, when it is a panel's size (a finely grouped table is
	// answered afresh rather than held). Answers from editions are kept
	// with the editions, for every caller of the scope, on every database.
	key, err := json.Marshal(q.normalised())
	if err != nil {
		return nil, err
	}
	name := d.name + "/answer/" + strconv.Itoa(k) + "/" + in.withheldName() + string(key)
	if in.editions != nil {
		return in.editions.answered(name, func() *Table { return d.answer(ctx, in, q, ctl) }), nil
	}
	var fresh *Table
	kept := onCells(ctx, name, in.from, in.fine, func() *Table {
		fresh = d.answer(ctx, in, q, ctl)
		if len(fresh.Cells) > maxKeptAnswerCells {
			return nil
		}
		return fresh
	})
	switch {
	case kept != nil:
		return kept, nil
	case fresh != nil:
		return fresh, nil
	}
	return d.answer(ctx, in, q, ctl), nil
}

// cells returns what d publishes to ctx's caller under k: for a table of
// people under disclosure control (k > 0), its cells in the editions of
// the caller's scope and the years withheld, with those editions; else
// the live cells grouped by (Dataset.grouping), and no editions.
func (d Dataset) cells(ctx context.Context, client *ent.Client, k int, by grouping) (published, *joined, error) {
	if k == 0 || !d.people {
		fine, err := d.readCells(ctx, client, by)
		return published{fine: fine, from: d.from}, nil, err
	}
	if d.edited == nil {
		return published{}, nil, fmt.Errorf("statistics: %s counts people but is not in the editions", d.name)
	}
	j, withheld, err := fixedFor(ctx)
	if err != nil {
		return published{}, nil, err
	}
	// What is computed from editions is never stale: kept whatever
	// changes (no tables), for the callers who share d's cells.
	return published{fine: d.edited(j), withheld: withheld, from: source{entity: d.from.entity}, editions: j}, j, nil
}

// grouping is what d is read grouped by to answer q. A table of records
// (exact counts) is read by month and the dimensions q groups or filters
// by alone: a dashboard's panel of cases by region groups the cases by
// month and region in SQL, a few hundred rows, rather than reading every
// finest cell (tens of thousands at demo scale 400) to sum them in Go;
// its sums are the same, as every dimension q names is in its cells. A
// table of people is read at its finest (nil): disclosure control decides
// on its finest cells, and the support and referral measures answer
// several queries from one reading.
func (d Dataset) grouping(q Query) grouping {
	if d.people {
		return nil
	}
	by := make(grouping, len(d.dims))
	for i, dim := range d.dims {
		by[i] = slices.Contains(q.GroupBy, dim) || len(q.Where[dim]) > 0
	}
	return by
}

// withheldName names in's withheld years in the name a value computed
// from in is kept under (onCells names the cells).
func (in published) withheldName() string {
	return "withheld:" + strings.Join(in.withheld, ",") + "/"
}

// maxKeptAnswerCells is the most cells of an answer kept across requests:
// a dashboard's panels are tens to hundreds.
const maxKeptAnswerCells = 2000

// keptWeight is what an answer weighs in the Cache: its cells, and one for
// itself (a too large answer, not kept, is kept as nil: one).
func (t *Table) keptWeight() int {
	if t == nil {
		return 1
	}
	return len(t.Cells) + 1
}

// check refuses a query that names what the table does not have.
func (d Dataset) check(q Query) error {
	for i, g := range q.GroupBy {
		if !slices.Contains(d.dims, g) {
			return apperr.Errorf(apperr.BadUserInput, "%s statistics have no dimension %s.", d.name, g)
		}
		if slices.Contains(q.GroupBy[:i], g) {
			return apperr.Errorf(apperr.BadUserInput, "groupBy names %s twice.", g)
		}
	}
	for dim := range q.Where {
		if !slices.Contains(d.dims, dim) {
			return apperr.Errorf(apperr.BadUserInput, "%s statistics have no dimension %s.", d.name, dim)
		}
	}
	switch q.Period {
	case Whole, Month, Quarter, Year:
	default:
		return apperr.Errorf(apperr.BadUserInput, "Unknown period %q.", q.Period)
	}
	for _, m := range []struct{ name, v string }{{"from", q.From}, {"to", q.To}} {
		if m.v == "" {
			continue
		}
		if _, err := time.Parse("2006-01", m.v); err != nil || len(m.v) != 7 {
			// The value is quoted only when short: this one is refused
			// for its form, and a long one would fill the message.
			if len(m.v) > 16 || !utf8.ValidString(m.v) {
				return apperr.InvalidField(m.name, "%s must be a month, YYYY-MM (2025-03), not a text of %d bytes.", m.name, len(m.v))
			}
			return apperr.InvalidField(m.name, "%s must be a month, YYYY-MM (2025-03), not %q.", m.name, m.v)
		}
	}
	if q.From != "" && q.To != "" && q.From > q.To {
		return apperr.InvalidField("from", "from (%s) is after to (%s).", q.From, q.To)
	}
	g, err := d.gridOf(q)
	if err != nil || g < 0 {
		return err
	}
	// A grid's cells are years: a number of some dimension is a sum of
	// whole years.
	if q.Period != Whole && q.Period != Year {
		return apperr.Errorf(apperr.BadUserInput, "%s statistics by a dimension are by YEAR or for the whole time, not by %s; the time series (no dimension) is by month and quarter too.", d.name, q.Period)
	}
	if q.From != "" && q.From[5:] != "01" || q.To != "" && q.To[5:] != "12" {
		return apperr.Errorf(apperr.BadUserInput, "%s statistics by a dimension are of whole years: from must be a January (YYYY-01) and to a December (YYYY-12).", d.name)
	}
	return nil
}

// gridOf is the grid of d the dimensions q groups or filters by lie in: -1
// when q names none or d has no grids, an error when they lie in two.
func (d Dataset) gridOf(q Query) (int, error) {
	named := slices.Clone(q.GroupBy)
	for dim, values := range q.Where {
		if len(values) > 0 {
			named = append(named, dim)
		}
	}
	if d.grids == nil || len(named) == 0 {
		return -1, nil
	}
	g := slices.IndexFunc(d.grids, func(grid []string) bool { return slices.Contains(grid, named[0]) })
	if g < 0 || slices.ContainsFunc(named, func(dim string) bool { return !slices.Contains(d.grids[g], dim) }) {
		grids := make([]string, len(d.grids))
		for i, grid := range d.grids {
			grids[i] = strings.Join(grid, " with ")
		}
		return 0, apperr.Errorf(apperr.BadUserInput, "%s statistics group and filter by the dimensions of one published table at a time: %s.", d.name, strings.Join(grids, "; "))
	}
	return g, nil
}

// answer sums the finest cells q keeps into q's cells and total, and
// applies disclosure control; q is checked (Dataset.check).
func (d Dataset) answer(ctx context.Context, in published, q Query, ctl Control) *Table {
	k := ctl.threshold(d.people)
	dc := d.disclosure(ctx, in, k)
	fine := in.fine
	grid, _ := d.gridOf(q)
	pos := make([]int, len(q.GroupBy))
	for i, g := range q.GroupBy {
		pos[i] = slices.Index(d.dims, g)
	}
	// A sum is withheld if it holds a hidden cell of q's grid (as a number
	// of some dimension) or some but not all of a year's hidden months (as
	// a number of none): decision.withholdsWhole.
	type sum struct {
		cell         Cell
		count        int
		inHidden     bool
		hiddenMonths map[string]bool
		// listed: some of it is of a year not withheld (a cell only of
		// withheld years is not listed, whatever its period).
		listed bool
	}
	sums := map[string]*sum{}
	var total sum
	add := func(s *sum, f int) {
		s.count += fine[f].count
		s.inHidden = s.inHidden || grid >= 0 && dc.inHidden[grid][f]
		if m := fine[f].month; dc.hiddenMonth[m] {
			if s.hiddenMonths == nil {
				s.hiddenMonths = map[string]bool{}
			}
			s.hiddenMonths[m] = true
		}
	}
	// Tens of thousands of finest cells a table: each cell's key is built
	// in one reused buffer, and a sum's values made once, when it is new.
	keeps := d.filter(q)
	// A withheld year (dark, or not closed) has no cells of its own: which
	// cells it has would tell which values its people have (and a year not
	// closed has none here at all). The time series lists each of its
	// months (quarters, the year) as suppressed instead; a grid leaves it
	// out.
	dimensional := grid >= 0 || len(q.GroupBy) > 0
	var key []byte
	for f, c := range fine {
		if !keeps(c) {
			continue
		}
		year := c.month[:4]
		yearWithheld := !dc.shownYear[year]
		if yearWithheld && q.Period != Whole {
			add(&total, f)
			continue
		}
		period := bucket(c.month, q.Period)
		key = append(key[:0], period...)
		for _, p := range pos {
			key = append(append(key, 0), c.values[p]...)
		}
		s := sums[string(key)]
		if s == nil {
			cell := Cell{Period: period, Values: make([]string, len(pos))}
			for i, p := range pos {
				cell.Values[i] = c.values[p]
			}
			s = &sum{cell: cell}
			sums[string(key)] = s
		}
		add(s, f)
		s.listed = s.listed || !yearWithheld
		add(&total, f)
	}
	filtered := slices.ContainsFunc(slices.Collect(maps.Values(q.Where)), func(v []string) bool { return len(v) > 0 })
	// A number that spans a withheld year (the total, a cell for the whole
	// time) is suppressed whatever its value: shown or not by whether the
	// year has people of its values, it would tell which (and a 0 that it
	// has none). Which years are withheld is public (the time series).
	spansWithheld := dc.spansWithheld(q)
	withhold := func(s *sum, dimensions, spansYears bool) bool {
		switch {
		case spansYears && spansWithheld:
			return true
		case dimensions:
			return s.inHidden
		}
		return dc.withholdsWhole(s.hiddenMonths)
	}
	t := &Table{Name: d.name, GroupBy: q.GroupBy, Period: q.Period, CountsPeople: d.people, Threshold: k,
		Total: publish(total.cell, total.count, withhold(&total, filtered, true))}
	t.Total.Values = []string{}
	for _, s := range sums {
		if s.listed {
			t.Cells = append(t.Cells, publish(s.cell, s.count, withhold(s, filtered || len(q.GroupBy) > 0, q.Period == Whole)))
		}
	}
	if !dimensional && q.Period != Whole {
		t.Cells = append(t.Cells, withheldPeriods(dc.withheldIn(q), q)...)
	}
	sort.Slice(t.Cells, func(i, j int) bool {
		a, b := t.Cells[i], t.Cells[j]
		if a.Period != b.Period {
			return a.Period < b.Period
		}
		return slices.Compare(a.Values, b.Values) < 0
	})
	if t.Cells == nil {
		t.Cells = []Cell{}
	}
	return t
}

// withheldPeriods are the suppressed cells of the time series q asks for
// that stand for withheld years: each of their periods between q's from and
// to.
func withheldPeriods(years []string, q Query) []Cell {
	var out []Cell
	seen := map[string]bool{}
	for _, y := range years {
		for m := 1; m <= 12; m++ {
			month := y + "-" + string(rune('0'+m/10)) + string(rune('0'+m%10))
			if (q.From != "" && month < q.From) || (q.To != "" && month > q.To) {
				continue
			}
			if p := bucket(month, q.Period); !seen[p] {
				seen[p] = true
				out = append(out, Cell{Period: p, Values: []string{}, Suppressed: true})
			}
		}
	}
	return out
}

// disclosure is disclosure control's decision on d's cells under k
// (decide). It depends on the cells, the years withheld and k alone, so a
// request decides it once a table and threshold (Readings), however many
// panels read the table; in must be the request's cells of d (cells).
func (d Dataset) disclosure(ctx context.Context, in published, k int) *decision {
	name := d.name + "/disclosure/" + strconv.Itoa(k) + "/" + in.withheldName()
	made := func() *decision { return decide(in.fine, d.dims, d.grids, k, in.withheld) }
	if in.editions != nil {
		return in.editions.decided(name, made)
	}
	return onCells(ctx, name, in.from, in.fine, made)
}

// filter returns whether q's filter and months keep a finest cell, q's
// dimensions looked up once (it is asked of every cell).
func (d Dataset) filter(q Query) func(fineCell) bool {
	type kept struct {
		pos    int
		values []string
	}
	var where []kept
	for dim, values := range q.Where {
		if len(values) > 0 {
			where = append(where, kept{slices.Index(d.dims, dim), values})
		}
	}
	return func(c fineCell) bool {
		if (q.From != "" && c.month < q.From) || (q.To != "" && c.month > q.To) {
			return false
		}
		for _, w := range where {
			if !slices.Contains(w.values, c.values[w.pos]) {
				return false
			}
		}
		return true
	}
}

// bucket names the period of p that month (YYYY-MM) falls in.
func bucket(month string, p Period) string {
	switch p {
	case Month:
		return month
	case Quarter:
		// month is YYYY-MM (checked when read): its quarter is (MM+2)/3.
		m := int(month[5]-'0')*10 + int(month[6]-'0')
		return month[:4] + "-Q" + string(rune('0'+(m+2)/3))
	case Year:
		return month[:4]
	}
	return ""
}

// noteReading records that the caller read table d with q: the table,
// grouping, period and filter, never a value.
func noteReading(ctx context.Context, d Dataset, q Query) error {
	rec := audit.FromContext(ctx)
	if rec == nil {
		return nil
	}
	detail, err := json.Marshal(map[string]any{"table": d.name, "groupBy": q.GroupBy, "period": q.Period,
		"where": q.Where, "from": q.From, "to": q.To})
	if err != nil {
		return err
	}
	rec.Note(audit.StatisticsRead, string(detail))
	return nil
}
