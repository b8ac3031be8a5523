package statistics

import (
	"context"
	"errors"
	"slices"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/referral"
)

// ReferralMeasures are how referrals of victims are answered, by the
// dimensions of referral statistics (but status) and the month referred:
// the acceptance rate (of the referrals the receiving agency decided on,
// the share it accepted: ACCEPTED or COMPLETED against REJECTED) and the
// days from the referral to its acceptance.
//
// Each referral is one victim's, so both are controlled like counts of
// people, by the same rule and the same grid as referralStatistics
// (docs/statistics.md): its counts by STATUS, so by SERVICE_KIND or none,
// by year or for the whole time;
//   - a rate is the ratio of the cell's counts by status, and is shown
//     only when referralStatistics shows each of those counts (no hidden
//     cell of the grid under them): a rate over counts that are withheld
//     would give them away with the cell's total;
//   - the days to accept are a distribution (median and 90th percentile,
//     never the maximum, which is one person's) over the referrals of the
//     cell accepted now (ACCEPTED, COMPLETED: so its count is one
//     referralStatistics shows, not one including referrals accepted and
//     revoked since), shown only when those counts are shown and there are
//     at least k of them.
var ReferralMeasures = Dataset{name: "referralMeasures", people: true, dims: referralDims}

// ReferralMeasureTable is a table of ReferralMeasures.
type ReferralMeasureTable struct {
	GroupBy   []string
	Period    Period
	Threshold int
	Cells     []ReferralMeasureCell
	Total     ReferralMeasureCell
}

// ReferralMeasureCell is the measures of the referrals of one period and
// value of each grouped dimension.
type ReferralMeasureCell struct {
	Period string
	Values []string
	// AcceptanceRate is nil when none was decided, or when it is withheld
	// (Suppressed).
	AcceptanceRate *float64
	Suppressed     bool
	DaysToAccept   Distribution
}

// acceptRow is one row of the days-to-accept statement: the accepted
// referrals of one month, value of each dimension and whole days.
type acceptRow struct {
	Month string `sql:"month" json:"month"`
	D0    string `sql:"d0" json:"d0"`
	D1    string `sql:"d1" json:"d1"`
	D2    string `sql:"d2" json:"d2"`
	D3    string `sql:"d3" json:"d3"`
	Days  int    `sql:"days" json:"days"`
	N     int    `sql:"n" json:"n"`
}

// decided are the statuses of a referral its receiver decided on, and of
// them those that accepted it.
var (
	acceptedStatuses = []string{string(domain.ReferralStatusAccepted), string(domain.ReferralStatusCompleted)}
	decidedStatuses  = append(slices.Clone(acceptedStatuses), string(domain.ReferralStatusRejected))
)

// ComputeReferralMeasures answers q of ReferralMeasures for the caller of
// ctx under ctl, and records the reading on ctx's audit recorder. Two
// statements: referralStatistics' finest cells (shared with it within the
// request) and the histogram of days to accept.
func ComputeReferralMeasures(ctx context.Context, client *ent.Client, q Query, ctl Control) (*ReferralMeasureTable, error) {
	d := ReferralMeasures
	if err := d.check(q); err != nil {
		return nil, err
	}
	if slices.Contains(q.GroupBy, "STATUS") {
		return nil, apperr.Errorf(apperr.BadUserInput, "Referral measures are of every status together; they cannot be grouped by STATUS.")
	}
	// The cells' counts by status: a query of referralStatistics, under
	// its rules (one grid, by year).
	byStatus := q
	byStatus.GroupBy = append(slices.Clone(q.GroupBy), "STATUS")
	if err := Referrals.check(byStatus); err != nil {
		var refused *apperr.Error
		if errors.As(err, &refused) {
			return nil, apperr.Errorf(refused.Code, "Referral measures are computed from referralStatistics by STATUS, under its rules: %s", refused.Message)
		}
		return nil, err
	}
	k := ctl.threshold(true)
	in, fixed, err := Referrals.cells(ctx, client, k, nil)
	if err != nil {
		return nil, err
	}
	var days []acceptRow
	if fixed != nil {
		days = fixed.days
	} else if days, err = readDaysToAccept(ctx, client); err != nil {
		return nil, err
	}
	if err := noteReading(ctx, d, q); err != nil {
		return nil, err
	}
	counts := Referrals.answer(ctx, in, byStatus, ctl)

	type sum struct {
		cell               ReferralMeasureCell
		accepted, rejected int
		withheld           bool
		days               map[int]int
	}
	sums := map[string]*sum{}
	total := &sum{cell: ReferralMeasureCell{Values: []string{}}, days: map[int]int{}}
	at := func(period string, values []string) *sum {
		key := period + "\x00" + strings.Join(values, "\x00")
		s := sums[key]
		if s == nil {
			s = &sum{cell: ReferralMeasureCell{Period: period, Values: values}, days: map[int]int{}}
			sums[key] = s
		}
		return s
	}
	tally := func(s *sum, status string, c Cell) {
		if !slices.Contains(decidedStatuses, status) {
			return
		}
		if c.Suppressed || c.Count == nil {
			s.withheld = true
			return
		}
		if slices.Contains(acceptedStatuses, status) {
			s.accepted += *c.Count
		} else {
			s.rejected += *c.Count
		}
	}
	for _, c := range counts.Cells {
		n := len(c.Values) - 1
		tally(at(c.Period, slices.Clone(c.Values[:n])), c.Values[n], c)
	}
	// The total's counts by status: the same query without grouping. When
	// it spans a withheld year, it lists none of them (or lists them
	// suppressed), and its days are withheld too.
	totals := Referrals.answer(ctx, in, Query{GroupBy: []string{"STATUS"}, Where: q.Where, From: q.From, To: q.To}, ctl)
	for _, c := range totals.Cells {
		tally(total, c.Values[0], c)
	}
	// So are the days of every cell for the whole time: a cell's counts by
	// status that fall only in a withheld year are not listed, and its
	// accepted referrals' days would be counted without them (a fifth
	// review's finding).
	if Referrals.disclosure(ctx, in, k).spansWithheld(q) {
		total.withheld = true
		if q.Period == Whole {
			for _, s := range sums {
				s.withheld = true
			}
		}
	}
	pos := make([]int, len(q.GroupBy))
	for i, g := range q.GroupBy {
		pos[i] = slices.Index(d.dims, g)
	}
	keeps := d.filter(q)
	for _, r := range days {
		values := []string{r.D0, r.D1, r.D2, r.D3}
		if !keeps(fineCell{month: r.Month, values: values}) {
			continue
		}
		total.days[r.Days] += r.N
		// Only the cells referralStatistics lists have days: a year it
		// leaves out (dark, or not closed) has none here either, or they
		// would be shown without their counts.
		cell := make([]string, len(pos))
		for i, p := range pos {
			cell[i] = values[p]
		}
		if s := sums[bucket(r.Month, q.Period)+"\x00"+strings.Join(cell, "\x00")]; s != nil {
			s.days[r.Days] += r.N
		}
	}
	finish := func(s *sum) ReferralMeasureCell {
		c := s.cell
		c.Suppressed = s.withheld
		if !s.withheld && s.accepted+s.rejected > 0 {
			r := float64(s.accepted) / float64(s.accepted+s.rejected)
			c.AcceptanceRate = &r
		}
		c.DaysToAccept = peoplesDistribution(s.days, k) // one referral's each
		// Withheld even when none was accepted: that none was would be told.
		if s.withheld {
			c.DaysToAccept = Distribution{Withheld: true}
		}
		if c.DaysToAccept.Withheld {
			c.DaysToAccept.Count = 0 // a count of people below k, or one withheld
		}
		return c
	}
	out := &ReferralMeasureTable{GroupBy: q.GroupBy, Period: q.Period, Threshold: k, Total: finish(total), Cells: []ReferralMeasureCell{}}
	for _, s := range sums {
		out.Cells = append(out.Cells, finish(s))
	}
	slices.SortFunc(out.Cells, func(a, b ReferralMeasureCell) int {
		if c := strings.Compare(a.Period, b.Period); c != 0 {
			return c
		}
		return slices.Compare(a.Values, b.Values)
	})
	return out, nil
}

// readDaysToAccept groups the referrals the caller sees that are accepted
// now by month referred, their dimensions and the whole days from the referral to the
// first ACCEPTED of their status history (a JSON list).
func readDaysToAccept(ctx context.Context, client *ent.Client) ([]acceptRow, error) {
	// As acceptRow, but with days that may be null (ent's Scan reads no
	// embedded struct).
	var scanned []struct {
		Month string `sql:"month"`
		D0    string `sql:"d0"`
		D1    string `sql:"d1"`
		D2    string `sql:"d2"`
		D3    string `sql:"d3"`
		Days  *int   `sql:"days"`
		N     int    `sql:"n"`
	}
	err := client.Referral.Query().Modify(func(s *sql.Selector) {
		from, to := joinReferralAgencies(s)
		history := s.C(referral.FieldStatusHistory)
		var accepted string
		if s.Dialect() == dialect.Postgres {
			accepted = "(SELECT FLOOR(EXTRACT(EPOCH FROM MIN((h->>'at')::timestamptz)))::bigint FROM jsonb_array_elements(" + history +
				") AS h WHERE h->>'status' = '" + string(domain.ReferralStatusAccepted) + "')"
		} else {
			accepted = "(SELECT MIN(CAST(strftime('%s', json_extract(h.value, '$.at')) AS INTEGER)) FROM json_each(" + history +
				") AS h WHERE json_extract(h.value, '$.status') = '" + string(domain.ReferralStatusAccepted) + "')"
		}
		days := "(" + accepted + " - " + secondsOf(s, s.C(referral.FieldReferredAt)) + ") / 86400"
		countFrom(ctx, s, s.C(referral.FieldReferredAt))
		m := monthOf(s, s.C(referral.FieldReferredAt))
		exprs := []string{m.group, s.C(referral.FieldServiceKind), from.C(agency.FieldKind),
			to.C(agency.FieldKind), s.C(referral.FieldStatus), days}
		// Only referrals accepted now (ACCEPTED, COMPLETED): the days' count
		// is then the sum of counts referralStatistics shows under the
		// cell, not one that includes referrals accepted and revoked since,
		// whose count may be withheld.
		// A referral accepted now whose history has no ACCEPTED has no
		// days (null), and is left out below rather than by a WHERE on
		// the same subquery, which PostgreSQL would evaluate a second time
		// for every referral (1.9 against 0.8 s at scale 400, where this
		// is half of a national take of editions).
		s.Where(sql.InValues(s.C(referral.FieldStatus), domain.ReferralStatusAccepted, domain.ReferralStatusCompleted))
		s.Select(sql.As(m.text, "month"), sql.As(exprs[1], "d0"), sql.As(exprs[2], "d1"), sql.As(exprs[3], "d2"),
			sql.As(exprs[4], "d3"), sql.As(exprs[5], "days"), sql.As(sql.Count("*"), "n")).GroupBy(exprs...)
	}).Scan(ctx, &scanned)
	rows := make([]acceptRow, 0, len(scanned))
	for _, r := range scanned {
		if r.Days != nil {
			rows = append(rows, acceptRow{Month: r.Month, D0: r.D0, D1: r.D1, D2: r.D2, D3: r.D3, Days: *r.Days, N: r.N})
		}
	}
	return rows, err
}
