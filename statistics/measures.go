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
	"github.com/casegraph/casegraph/ent/charge"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/prosecution"
)

// ProsecutionMeasures are the figures the monitoring mechanism watches for
// criminal proceedings, by the dimensions of prosecution statistics and
// the month of registration: how many were registered, are still under
// investigation, are past their investigation deadline and by how many
// days, had the deadline extended, reached a request for trial and in how
// many days from registration, or were dismissed.
//
// Like every table, they are computed in SQL over the rows the caller
// sees (the row scope is ent's, on each statement): three statements, over
// the proceedings, their first-instance decisions and their charges, each
// grouped by the proceeding's month and dimensions, and by the values
// measured (durations in whole days, sentences in months), counting. Those
// are histograms, not rows; the medians and 90th percentiles are read off
// them in Go. Proceedings are files, not people, so their counts are
// exact; but a duration over fewer than k proceedings describes those few,
// and months of imprisonment describe the people sentenced, so both are
// withheld under the caller's disclosure control like counts of people (a
// prosecutor of the office itself, holding statistics exact, sees them),
// and the maximum of a sentence, one person's, is never given.
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

	// The first-instance decisions on the cell's proceedings, by verdict
	// (a retried proceeding has more than one).
	Convicted, ConvictedOfLesserOffence, Acquitted, DismissedByCourt int
	// Their sentences: imprisonment (its months, over the people
	// sentenced: withheld below k, never the maximum), suspended or
	// probation, fines.
	ImprisonmentMonths         Distribution
	SuspendedOrProbation, Fine int
	// ImprisonmentAgainstRange is the sentences to imprisonment against
	// the statutory range (sentenceRange): exact counts of decisions, as
	// the kinds of sentence are.
	ImprisonmentAgainstRange AgainstRange
	// Compensation the decisions ordered: how many, how many of them were
	// paid, and in all (lek). The sum is nil for callers under disclosure
	// control: two looks at it give the award of a decision made between
	// them, one victim's.
	// The sum is a float, as GraphQL answers it: amounts stored before
	// they were bounded (domain.MaxCompensationLek) may reach 2^63-1 each,
	// and their sum more than 64 bits hold.
	CompensationOrdered, CompensationPaid int
	CompensationOrderedLek                *float64
	// TraffickingCharges are the charges brought under a trafficking
	// article (TraffickingArticles), as first brought; ReclassifiedTo
	// counts those of them reclassified since, by the article they carry
	// now.
	TraffickingCharges int
	ReclassifiedTo     map[string]int
}

// AgainstRange counts sentences to imprisonment by where they stand
// against the statutory range (sentenceRange's values).
type AgainstRange struct{ Below, Within, Above, NoRange int }

func (a *AgainstRange) add(value string, n int) {
	switch value {
	case BelowRange:
		a.Below += n
	case WithinRange:
		a.Within += n
	case AboveRange:
		a.Above += n
	case NoRange:
		a.NoRange += n
	}
}

// TraffickingArticles are the articles whose reclassification to a
// lesser offence the monitoring mechanism watches: trafficking of adults
// (110/a) and of children (128/b) of the Criminal Code.
var TraffickingArticles = []domain.Article{domain.ArticleCc110a, domain.ArticleCc128b}

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
// or, with Withheld, below the caller's threshold. Over people's values
// (peoplesDistribution) the maximum is never given, and a percentile too
// near either end under disclosure control is nil.
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

// outcomeRow is one row of the decisions statement: first-instance
// decisions of one month, value of each dimension (of their proceeding),
// verdict, sentence and compensation.
type outcomeRow struct {
	Month          string   `sql:"month"`
	D0             string   `sql:"d0"`
	D1             string   `sql:"d1"`
	D2             string   `sql:"d2"`
	Verdict        string   `sql:"verdict"`
	SentenceKind   *string  `sql:"sentence_kind"`
	SentenceMonths *int     `sql:"sentence_months"`
	Paid           bool     `sql:"paid"`
	Ordered        int      `sql:"ordered"`
	Lek            *float64 `sql:"lek"`
	SentenceRange  string   `sql:"sentence_range"`
	N              int      `sql:"n"`
}

// chargeRow is one row of the charges statement: charges of one month,
// value of each dimension (of their proceeding), article now and article
// before a reclassification.
type chargeRow struct {
	Month   string  `sql:"month"`
	D0      string  `sql:"d0"`
	D1      string  `sql:"d1"`
	D2      string  `sql:"d2"`
	Article string  `sql:"article"`
	From    *string `sql:"reclassified_from"`
	N       int     `sql:"n"`
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
	outcomes, err := readOutcomes(ctx, client)
	if err != nil {
		return nil, err
	}
	charges, err := readCharges(ctx, client)
	if err != nil {
		return nil, err
	}
	if err := noteReading(ctx, d, q); err != nil {
		return nil, err
	}
	return answerMeasures(rows, outcomes, charges, q, ctl.threshold(true)), nil
}

// readMeasures is the one statement: proceedings grouped by month of
// registration, office, stage, extended, dismissed, whole days past the
// deadline (NULL when not past it) and whole days from registration to
// the trial request (NULL without one).
func readMeasures(ctx context.Context, client *ent.Client, now time.Time) ([]measureRow, error) {
	var rows []measureRow
	err := client.Prosecution.Query().Modify(func(s *sql.Selector) {
		open := make([]string, len(domain.InvestigationOpenStages))
		for i, st := range domain.InvestigationOpenStages {
			open[i] = "'" + string(st) + "'"
		}
		deadline, registered, trial := s.C(prosecution.FieldInvestigationDeadline), s.C(prosecution.FieldRegisteredAt), s.C(prosecution.FieldTrialRequestedAt)
		// domain.OverdueDays in SQL, to the nanosecond: past the deadline
		// by more than nothing, by whole days (integer division). Cut to
		// whole seconds, a deadline with a fraction of a second disagreed
		// with Prosecution.overdueDays within a second of it, or of each
		// day past it.
		sinceDeadline := nanosecondsSince(s, deadline, now)
		past := "CASE WHEN " + s.C(prosecution.FieldStage) + " IN (" + strings.Join(open, ", ") + ") AND " +
			sinceDeadline + " > 0 THEN " + sinceDeadline + " / " + strconv.FormatInt(int64(24*time.Hour), 10) + " END"
		toTrial := "CASE WHEN " + trial + " IS NOT NULL THEN (" + secondsOf(s, trial) + " - " + secondsOf(s, registered) + ") / 86400 END"
		groupByProceeding(s, s, map[string]string{"dismissed": s.C(prosecution.FieldDismissedAt) + " IS NOT NULL",
			"past_deadline": past, "to_trial_request": toTrial})
	}).Scan(ctx, &rows)
	return rows, err
}

// readOutcomes groups the first-instance decisions the caller sees by
// their proceeding's month and dimensions, verdict, sentence and whether
// compensation was ordered and paid, summing the compensation ordered
// (compensationOrdered: by a decision that convicts someone).
func readOutcomes(ctx context.Context, client *ent.Client) ([]outcomeRow, error) {
	var rows []outcomeRow
	err := client.CourtDecision.Query().Where(courtdecision.InstanceEQ(domain.InstanceFirstInstance)).Modify(func(s *sql.Selector) {
		p := sql.Table(prosecution.Table).As("proceeding")
		s.Join(p).On(s.C(courtdecision.FieldProsecutionID), p.C(prosecution.FieldID))
		lek := compensationOrdered(s)
		groupByProceeding(s, p, map[string]string{"verdict": s.C(courtdecision.FieldVerdict),
			"sentence_kind": s.C(courtdecision.FieldSentenceKind), "sentence_months": s.C(courtdecision.FieldSentenceMonths),
			"paid": s.C(courtdecision.FieldCompensationPaid), "ordered": "CASE WHEN " + lek + " > 0 THEN 1 ELSE 0 END",
			"sentence_range": sentenceRange(s, s)},
			// Summed as floats: a SUM of bigints overflows past 2^63-1
			// (SQLite: "integer overflow"; PostgreSQL's numeric sum does
			// not fit the int64 it was read into), and two amounts stored
			// before the bound did, failing the page for every caller (a
			// hunt over HTTP). A float has no such end; above 2^53 lek it
			// rounds, and GraphQL answers the sum as a Float anyway.
			sql.As("SUM(CAST("+lek+" AS DOUBLE PRECISION))", "lek"))
	}).Scan(ctx, &rows)
	return rows, err
}

// readCharges groups the charges the caller sees by their proceeding's
// month and dimensions, article and the article before a
// reclassification.
func readCharges(ctx context.Context, client *ent.Client) ([]chargeRow, error) {
	var rows []chargeRow
	err := client.Charge.Query().Modify(func(s *sql.Selector) {
		p := sql.Table(prosecution.Table).As("proceeding")
		s.Join(p).On(s.C(charge.FieldProsecutionID), p.C(prosecution.FieldID))
		groupByProceeding(s, p, map[string]string{"article": s.C(charge.FieldArticle),
			"reclassified_from": s.C(charge.FieldReclassifiedFrom)})
	}).Scan(ctx, &rows)
	return rows, err
}

// groupByProceeding makes s select and group by the month of registration
// and the dimensions of the proceeding p (s itself or joined to it), then
// by the named expressions, and count; more are selected as they are
// (aggregates).
func groupByProceeding(s *sql.Selector, p interface{ C(string) string }, named map[string]string, more ...string) {
	office := sql.Table(agency.Table).As("office")
	s.Join(office).On(p.C(prosecution.FieldOfficeID), office.C(agency.FieldID))
	m := monthOf(s, p.C(prosecution.FieldRegisteredAt))
	exprs := []string{m.group, office.C(agency.FieldCode), p.C(prosecution.FieldStage),
		"CASE WHEN " + p.C(prosecution.FieldDeadlineExtensions) + " > 0 THEN 'YES' ELSE 'NO' END"}
	cols := []string{sql.As(m.text, "month"), sql.As(exprs[1], "d0"), sql.As(exprs[2], "d1"), sql.As(exprs[3], "d2")}
	for _, name := range slices.Sorted(maps.Keys(named)) {
		cols = append(cols, sql.As(named[name], name))
		exprs = append(exprs, named[name])
	}
	s.Select(append(append(cols, more...), sql.As(sql.Count("*"), "n"))...).GroupBy(exprs...)
}

// measureSum accumulates one cell: its counts and the two histograms.
type measureSum struct {
	cell                      MeasureCell
	pastDays, toTrial, months map[int]int // days (months) → proceedings (people sentenced)
	lek                       float64     // compensation ordered, in all (see MeasureCell)
}

func (m *measureSum) addOutcome(r outcomeRow) {
	c := &m.cell
	switch domain.Verdict(r.Verdict) {
	case domain.VerdictConvicted:
		c.Convicted += r.N
	case domain.VerdictConvictedOfLesserOffence:
		c.ConvictedOfLesserOffence += r.N
	case domain.VerdictAcquitted:
		c.Acquitted += r.N
	case domain.VerdictDismissed:
		c.DismissedByCourt += r.N
	}
	if r.SentenceKind != nil {
		switch domain.SentenceKind(*r.SentenceKind) {
		case domain.SentenceKindImprisonment:
			if r.SentenceMonths != nil {
				m.months[*r.SentenceMonths] += r.N
			}
		case domain.SentenceKindSuspendedOrProbation:
			c.SuspendedOrProbation += r.N
		case domain.SentenceKindFine:
			c.Fine += r.N
		}
	}
	c.ImprisonmentAgainstRange.add(r.SentenceRange, r.N)
	if r.Ordered == 1 {
		c.CompensationOrdered += r.N
		if r.Paid {
			c.CompensationPaid += r.N
		}
	}
	if r.Lek != nil {
		m.lek += *r.Lek
	}
}

func (m *measureSum) addCharge(r chargeRow) {
	c := &m.cell
	first := r.Article
	if r.From != nil {
		first = *r.From
	}
	if !slices.Contains(TraffickingArticles, domain.Article(first)) {
		return
	}
	c.TraffickingCharges += r.N
	if r.From != nil && *r.From != r.Article {
		c.ReclassifiedTo[r.Article] += r.N
	}
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
// fewer than k proceedings (or people sentenced).
func answerMeasures(rows []measureRow, outcomes []outcomeRow, charges []chargeRow, q Query, k int) *Measures {
	d := ProsecutionMeasures
	pos := make([]int, len(q.GroupBy))
	for i, g := range q.GroupBy {
		pos[i] = slices.Index(d.dims, g)
	}
	newSum := func(c MeasureCell) *measureSum {
		c.ReclassifiedTo = map[string]int{}
		return &measureSum{cell: c, pastDays: map[int]int{}, toTrial: map[int]int{}, months: map[int]int{}}
	}
	sums := map[string]*measureSum{}
	total := newSum(MeasureCell{Values: []string{}})
	// cellsOf returns the sums a row of month and dimension values adds
	// to, none when q does not keep it.
	keeps := d.filter(q)
	cellsOf := func(month string, values []string) []*measureSum {
		if !keeps(fineCell{month: month, values: values}) {
			return nil
		}
		cell := MeasureCell{Period: bucket(month, q.Period), Values: make([]string, len(pos))}
		for i, p := range pos {
			cell.Values[i] = values[p]
		}
		key := cell.Period + "\x00" + strings.Join(cell.Values, "\x00")
		s := sums[key]
		if s == nil {
			s = newSum(cell)
			sums[key] = s
		}
		return []*measureSum{s, total}
	}
	for _, r := range rows {
		for _, s := range cellsOf(r.Month, []string{r.D0, r.D1, r.D2}) {
			s.add(r, r.D1)
		}
	}
	for _, r := range outcomes {
		for _, s := range cellsOf(r.Month, []string{r.D0, r.D1, r.D2}) {
			s.addOutcome(r)
		}
	}
	for _, r := range charges {
		for _, s := range cellsOf(r.Month, []string{r.D0, r.D1, r.D2}) {
			s.addCharge(r)
		}
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
	c.ImprisonmentMonths = peoplesDistribution(m.months, k) // one person's sentence each
	// Only to callers with exact counts: a sum of live decisions, read
	// twice, gives the award of one decided in between (a seventh review's
	// finding), whatever the number it is over.
	if k == 0 {
		lek := m.lek
		c.CompensationOrderedLek = &lek
	}
	return c
}

// distribution reads a histogram (days → proceedings): the nearest-rank
// median and 90th percentile (the smallest value with at least that share
// of the proceedings at or below it) and the maximum; withheld when over
// fewer than k proceedings.
func distribution(h map[int]int, k int) Distribution {
	return quantiles(h, k, false)
}

// peoplesDistribution reads a histogram whose values are each one person's
// (a sentence, the days a victim waited for care): as distribution, but
// never the maximum, and, under disclosure control (k > 0), a percentile
// only while at least k values lie below its rank and k above it. Nearest
// rank puts the 90th percentile of 5 to 9 values on the largest, and two
// readings over sets that differ by one person (a month more, an office
// less) then give that person's value; a review recovered sentences so.
func peoplesDistribution(h map[int]int, k int) Distribution {
	return quantiles(h, k, true)
}

func quantiles(h map[int]int, k int, people bool) Distribution {
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
		if people && k > 0 && (want-1 < k || n-want < k) {
			return nil // too near either end: a few people's values
		}
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
	if !people {
		out.Max = &days[len(days)-1]
	}
	return out
}
