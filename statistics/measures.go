package statistics

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/prosecution"
)

// ProsecutionMeasures are the figures the monitoring mechanism watches for
// criminal proceedings, by the dimensions of prosecution statistics and
// the month of registration: how many were registered, are still under
// investigation, are past their investigation deadline and by how many
// days, had the deadline extended, reached a request for trial and in how
// many days from registration, or were dismissed.
//
// Like every table, they are computed in SQL over the proceedings the
// caller sees (the row scope is ent's, on the statement): one statement
// groups the proceedings by month, dimensions and the two durations in
// whole days, and counts. Those are histograms, not rows; the medians,
// 90th percentiles and maxima are read off them in Go. Proceedings are
// files, not people, so their counts are exact; but a duration measured
// over fewer than k proceedings describes those few, so it is withheld
// under the caller's disclosure control like a count of people (a
// prosecutor of the office itself, holding statistics exact, sees it).
var ProsecutionMeasures = Dataset{name: "prosecutionMeasures", dims: prosecutionDims}

// Measures is a table of ProsecutionMeasures.
type Measures struct {
	GroupBy []string
	Period  Period
	// Threshold is the k under which a duration is withheld; 0 when the
	// caller sees them all.
	Threshold int
	Cells     []MeasureCell
	Total     MeasureCell
}

// MeasureCell is the measures of the proceedings of one period and value
// of each grouped dimension.
type MeasureCell struct {
	Period string
	Values []string
	// Registered is every proceeding of the cell; UnderInvestigation those
	// whose investigation still runs (domain.InvestigationOpenStages);
	// PastDeadline those of them past their deadline now; Extended those
	// whose deadline was ever extended; TrialRequested and Dismissed those
	// that reached either end of the investigation.
	Registered, UnderInvestigation, PastDeadline, Extended, TrialRequested, Dismissed int
	// DaysPastDeadline is over PastDeadline, DaysToTrialRequest (from
	// registration) over TrialRequested.
	DaysPastDeadline, DaysToTrialRequest Distribution
}

// DismissalRate is the share of the cell's proceedings whose
// investigation ended that were dismissed rather than sent to trial; nil
// when none ended.
func (c MeasureCell) DismissalRate() *float64 {
	ended := c.Dismissed + c.TrialRequested
	if ended == 0 {
		return nil
	}
	r := float64(c.Dismissed) / float64(ended)
	return &r
}

// Distribution is a duration in whole days over Count proceedings: its
// median, 90th percentile (nearest rank) and maximum, nil when Count is 0
// or, with Withheld, below the caller's threshold.
type Distribution struct {
	Count            int
	Median, P90, Max *int
	Withheld         bool
}

// measureRow is one row of the measures statement: the proceedings of one
// month, value of each dimension, stage and pair of durations.
type measureRow struct {
	Month          string `sql:"month"`
	D0             string `sql:"d0"`
	D1             string `sql:"d1"`
	D2             string `sql:"d2"`
	Dismissed      bool   `sql:"dismissed"`
	PastDeadline   *int   `sql:"past_deadline"`
	ToTrialRequest *int   `sql:"to_trial_request"`
	N              int    `sql:"n"`
}

// ComputeMeasures reads the histograms of the proceedings the caller of
// ctx sees as of now, answers q under ctl, and records the reading on
// ctx's audit recorder.
func ComputeMeasures(ctx context.Context, client *ent.Client, q Query, ctl Control, now time.Time) (*Measures, error) {
	d := ProsecutionMeasures
	if err := d.check(q); err != nil {
		return nil, err
	}
	rows, err := readMeasures(ctx, client, now)
	if err != nil {
		return nil, err
	}
	if err := noteReading(ctx, d, q); err != nil {
		return nil, err
	}
	return answerMeasures(rows, q, ctl.threshold(true)), nil
}

// readMeasures is the one statement: proceedings grouped by month of
// registration, office, stage, extended, dismissed, whole days past the
// deadline (NULL when not past it) and whole days from registration to
// the trial request (NULL without one).
func readMeasures(ctx context.Context, client *ent.Client, now time.Time) ([]measureRow, error) {
	var rows []measureRow
	err := client.Prosecution.Query().Modify(func(s *sql.Selector) {
		office := sql.Table(agency.Table).As("office")
		s.Join(office).On(s.C(prosecution.FieldOfficeID), office.C(agency.FieldID))
		open := make([]string, len(domain.InvestigationOpenStages))
		for i, st := range domain.InvestigationOpenStages {
			open[i] = "'" + string(st) + "'"
		}
		deadline, registered, trial := s.C(prosecution.FieldInvestigationDeadline), s.C(prosecution.FieldRegisteredAt), s.C(prosecution.FieldTrialRequestedAt)
		// Whole days, as domain.OverdueDays counts them, from whole
		// seconds: integer division, no rounding of fractions of a day.
		nowSeconds := strconv.FormatInt(now.Unix(), 10)
		past := "CASE WHEN " + s.C(prosecution.FieldStage) + " IN (" + strings.Join(open, ", ") + ") AND " +
			secondsOf(s, deadline) + " < " + nowSeconds + " THEN (" + nowSeconds + " - " + secondsOf(s, deadline) + ") / 86400 END"
		toTrial := "CASE WHEN " + trial + " IS NOT NULL THEN (" + secondsOf(s, trial) + " - " + secondsOf(s, registered) + ") / 86400 END"
		month := monthOf(s, registered)
		exprs := []string{month, office.C(agency.FieldCode), s.C(prosecution.FieldStage),
			"CASE WHEN " + s.C(prosecution.FieldDeadlineExtensions) + " > 0 THEN 'YES' ELSE 'NO' END",
			s.C(prosecution.FieldDismissedAt) + " IS NOT NULL", past, toTrial}
		s.Select(sql.As(exprs[0], "month"), sql.As(exprs[1], "d0"), sql.As(exprs[2], "d1"), sql.As(exprs[3], "d2"),
			sql.As(exprs[4], "dismissed"), sql.As(exprs[5], "past_deadline"), sql.As(exprs[6], "to_trial_request"),
			sql.As(sql.Count("*"), "n")).GroupBy(exprs...)
	}).Scan(ctx, &rows)
	return rows, err
}

// measureSum accumulates one cell: its counts and the two histograms.
type measureSum struct {
	cell              MeasureCell
	pastDays, toTrial map[int]int // days → proceedings
}

func (m *measureSum) add(r measureRow, stage string) {
	c := &m.cell
	c.Registered += r.N
	if slices.Contains(domain.InvestigationOpenStages, domain.ProceedingStage(stage)) {
		c.UnderInvestigation += r.N
	}
	if r.D2 == "YES" {
		c.Extended += r.N
	}
	if r.Dismissed {
		c.Dismissed += r.N
	}
	if r.PastDeadline != nil {
		c.PastDeadline += r.N
		m.pastDays[*r.PastDeadline] += r.N
	}
	if r.ToTrialRequest != nil {
		c.TrialRequested += r.N
		m.toTrial[*r.ToTrialRequest] += r.N
	}
}

// answerMeasures sums the rows q keeps into q's cells and total, reads
// each cell's durations off its histograms, and withholds those over
// fewer than k proceedings.
func answerMeasures(rows []measureRow, q Query, k int) *Measures {
	d := ProsecutionMeasures
	pos := make([]int, len(q.GroupBy))
	for i, g := range q.GroupBy {
		pos[i] = slices.Index(d.dims, g)
	}
	newSum := func(c MeasureCell) *measureSum {
		return &measureSum{cell: c, pastDays: map[int]int{}, toTrial: map[int]int{}}
	}
	sums := map[string]*measureSum{}
	total := newSum(MeasureCell{Values: []string{}})
	for _, r := range rows {
		fc := fineCell{month: r.Month, values: []string{r.D0, r.D1, r.D2}}
		if !d.keeps(fc, q) {
			continue
		}
		cell := MeasureCell{Period: bucket(r.Month, q.Period), Values: make([]string, len(pos))}
		for i, p := range pos {
			cell.Values[i] = fc.values[p]
		}
		key := cell.Period + "\x00" + strings.Join(cell.Values, "\x00")
		s := sums[key]
		if s == nil {
			s = newSum(cell)
			sums[key] = s
		}
		s.add(r, r.D1)
		total.add(r, r.D1)
	}
	out := &Measures{GroupBy: q.GroupBy, Period: q.Period, Threshold: k, Total: total.finish(k), Cells: []MeasureCell{}}
	for _, s := range sums {
		out.Cells = append(out.Cells, s.finish(k))
	}
	sort.Slice(out.Cells, func(i, j int) bool {
		a, b := out.Cells[i], out.Cells[j]
		if a.Period != b.Period {
			return a.Period < b.Period
		}
		return slices.Compare(a.Values, b.Values) < 0
	})
	return out
}

func (m *measureSum) finish(k int) MeasureCell {
	c := m.cell
	c.DaysPastDeadline = distribution(m.pastDays, k)
	c.DaysToTrialRequest = distribution(m.toTrial, k)
	return c
}

// distribution reads a histogram (days → proceedings): the nearest-rank
// median and 90th percentile (the smallest value with at least that share
// of the proceedings at or below it) and the maximum; withheld when over
// fewer than k proceedings.
func distribution(h map[int]int, k int) Distribution {
	n := 0
	for _, c := range h {
		n += c
	}
	out := Distribution{Count: n}
	if n == 0 {
		return out
	}
	if n < k {
		out.Withheld = true
		return out
	}
	days := slices.Sorted(maps.Keys(h))
	rank := func(percent int) *int {
		want := (percent*n + 99) / 100 // ceil(percent% of n), at least 1
		seen := 0
		for _, d := range days {
			seen += h[d]
			if seen >= want {
				return &d
			}
		}
		return nil // not reached: want ≤ n
	}
	out.Median, out.P90 = rank(50), rank(90)
	out.Max = &days[len(days)-1]
	return out
}
