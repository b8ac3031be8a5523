package statistics

import (
	"context"
	"slices"
	"strings"

	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/supportservice"
	"github.com/casegraph/casegraph/ent/victim"
)

// VictimSupport is the support victims received: of the victims identified
// in a month (as the victims table counts them), how many received a kind
// of support service (legal aid is one) or any, and the days from
// identification to the first such service.
//
// Its figures are counts of people, split by whether each received the
// service: a table of month × RECEIVED (YES/NO) per kind. It has no other
// dimension, on purpose. The victims table already publishes grids
// (region, sex, ...; by year) under disclosure control whose guarantee is
// that no combination of shown numbers tells a hidden cell: only a year's
// whole hidden sum. A support figure by region would split the year's
// total by region too (received + not received), and so tell a region's
// hidden sum, which can be one cell. A figure of a whole month tells
// nothing of any grid's cells. What is protected within the table
// (docs/statistics.md):
//
//   - received and not received add up to the month's victims, so both are
//     shown only when the victims table shows the month's total (the
//     month is not hidden in its time series) and neither is a small count
//     (1..k-1): one being small, the other would give it away;
//   - every victim who received a kind received some service, so "any
//     service" less "this kind" counts people too: a kind's figures of a
//     month are also withheld when that difference is small, and whenever
//     "any service" is withheld (shown beside it, they would tell why);
//   - a sum of months (a quarter, a year, the total) is shown only when
//     every month in it is.
//
// The days to the first service are a distribution (median, 90th
// percentile; never the maximum, one person's) over the victims who
// received it, shown when their count is, and over at least k. A service
// that started before the identification counts as 0 days.
var VictimSupport = Dataset{name: "victimSupport", people: true}

// supportSource is what readSupport reads: victims and their services.
var supportSource = source{ent.TypeVictim, []string{victim.Table, supportservice.Table}}

// AnyService names the support table of any kind of service.
const AnyService = "ANY"

// SupportTable is the answer to a victim support query.
type SupportTable struct {
	// Service is a domain.ServiceKind, or AnyService.
	Service   string
	Period    Period
	Threshold int
	Cells     []SupportCell
	Total     SupportCell
}

// SupportCell is one period's figures. Victims is nil when the victims
// table withholds the period's total; Received and Share are nil, and
// Suppressed set, when they are withheld.
type SupportCell struct {
	Period             string
	Victims, Received  *int
	Share              *float64
	Suppressed         bool
	DaysToFirstService Distribution
}

// supportRow is one row of the support statement: the victims identified
// in one month who received one kind of service (or any, AnyService),
// by whole days from identification to their first service of it.
type supportRow struct {
	Month string `sql:"month" json:"month"`
	Kind  string `sql:"kind" json:"kind"`
	Days  int    `sql:"days" json:"days"`
	N     int    `sql:"n" json:"n"`
}

// supportMonth is what a month holds for one kind: the month's victims,
// those who received the kind, the histogram of their days, whether the
// victims table withholds the month's total (unreleased), and whether the
// received figures are withheld (they are when it is).
type supportMonth struct {
	victims, received    int
	days                 map[int]int
	unreleased, withheld bool
}

// ComputeSupport answers, for the caller of ctx under ctl, how many of the
// victims identified in each period of q received service (a
// domain.ServiceKind, or AnyService), and records the reading on ctx's
// audit recorder. q may name a period and months (From, To), and no
// dimension. Two statements: the victims' finest cells (shared with
// victimStatistics within the request) and the support statement.
func ComputeSupport(ctx context.Context, client *ent.Client, service string, q Query, ctl Control) (*SupportTable, error) {
	ts, err := ComputeSupportKinds(ctx, client, []string{service}, q, ctl)
	if err != nil {
		return nil, err
	}
	return ts[0], nil
}

// ComputeSupportKinds is ComputeSupport of each of services, read with the
// same two statements and recorded as one reading (the annual report's
// table of every kind).
func ComputeSupportKinds(ctx context.Context, client *ent.Client, services []string, q Query, ctl Control) ([]*SupportTable, error) {
	for _, service := range services {
		if service != AnyService && !domain.ServiceKind(service).Valid() {
			return nil, apperr.Errorf(apperr.BadUserInput, "Unknown service kind %q.", service)
		}
	}
	if len(q.GroupBy) > 0 || len(q.Where) > 0 {
		return nil, apperr.Errorf(apperr.BadUserInput, "Victim support is counted by period only (docs/statistics.md).")
	}
	if err := Victims.check(q); err != nil {
		return nil, err
	}
	k := ctl.threshold(true)
	in, fixed, err := Victims.cells(ctx, client, k, nil)
	if err != nil {
		return nil, err
	}
	var rows []supportRow
	if fixed != nil {
		rows = fixed.support
	} else if rows, err = readStatement(ctx, VictimSupport.name, supportSource, func(ctx context.Context) ([]supportRow, error) { return readSupport(ctx, client) }); err != nil {
		return nil, err
	}
	noted := q
	noted.GroupBy, noted.Where = []string{"SERVICE_KIND"}, map[string][]string{"SERVICE_KIND": services}
	if err := noteReading(ctx, VictimSupport, noted); err != nil {
		return nil, err
	}
	out := make([]*SupportTable, len(services))
	for i, service := range services {
		out[i] = supportTable(ctx, in, rows, service, q, ctl)
	}
	return out, nil
}

// supportTable answers q for service from the two statements' rows.
func supportTable(ctx context.Context, in published, rows []supportRow, service string, q Query, ctl Control) *SupportTable {
	k := ctl.threshold(true)
	dc := Victims.disclosure(ctx, in, k)
	months := supportMonths(in.fine, dc, rows, service, k)

	type sum struct {
		cell                 SupportCell
		victims, received    int
		unreleased, withheld bool
		days                 map[int]int
	}
	sums := map[string]*sum{}
	total := &sum{days: map[int]int{}}
	add := func(s *sum, m *supportMonth) {
		s.victims += m.victims
		s.received += m.received
		s.unreleased = s.unreleased || m.unreleased
		s.withheld = s.withheld || m.withheld
		for d, n := range m.days {
			s.days[d] += n
		}
	}
	for month, m := range months {
		if (q.From != "" && month < q.From) || (q.To != "" && month > q.To) {
			continue
		}
		if !dc.shownYear[month[:4]] && q.Period != Whole {
			add(total, m)
			continue
		}
		p := bucket(month, q.Period)
		s := sums[p]
		if s == nil {
			s = &sum{cell: SupportCell{Period: p}, days: map[int]int{}}
			sums[p] = s
		}
		add(s, m)
		add(total, m)
	}
	// A sum that spans a withheld year is withheld (as victimStatistics
	// withholds it).
	if dc.spansWithheld(q) {
		total.unreleased, total.withheld = true, true
		if q.Period == Whole {
			// The one cell of the whole range is the total's (a second
			// review of the editions found it shown for the closed
			// months alone).
			for _, s := range sums {
				s.unreleased, s.withheld = true, true
			}
		}
	}
	finish := func(s *sum) SupportCell {
		c := s.cell
		if !s.unreleased {
			victims := s.victims
			c.Victims = &victims
		}
		c.Suppressed = s.withheld
		if s.withheld {
			// Withheld even when none received: that none did would be told.
			c.DaysToFirstService = Distribution{Withheld: true}
			return c
		}
		victims, received := s.victims, s.received
		c.Received = &received
		if victims > 0 {
			share := float64(received) / float64(victims)
			c.Share = &share
		}
		c.DaysToFirstService = peoplesDistribution(s.days, k) // one person's each
		if c.DaysToFirstService.Withheld {
			c.DaysToFirstService.Count = 0
		}
		return c
	}
	out := &SupportTable{Service: service, Period: q.Period, Threshold: k, Total: finish(total), Cells: []SupportCell{}}
	for _, s := range sums {
		out.Cells = append(out.Cells, finish(s))
	}
	// A withheld year's months (dark, or not closed, which has none here)
	// are listed as the victims' time series lists them: every one,
	// suppressed (which months have victims would tell).
	var withheld []string
	if q.Period != Whole {
		withheld = dc.withheldIn(q)
	}
	for _, c := range withheldPeriods(withheld, q) {
		out.Cells = append(out.Cells, SupportCell{Period: c.Period, Suppressed: true, DaysToFirstService: Distribution{Withheld: true}})
	}
	slices.SortFunc(out.Cells, func(a, b SupportCell) int { return strings.Compare(a.Period, b.Period) })
	return out
}

// minSupportThreshold is the least k victimSupport's figures are withheld
// under (supportMonths): the policy allows k = 2, under which a withheld
// figure of a month could be told from the month's total and "any service".
const minSupportThreshold = 3

// supportMonths is each month's figures for service, withheld by the rules
// of VictimSupport: decided per month, on the whole table, so the same in
// every request.
func supportMonths(fine []fineCell, dc *decision, rows []supportRow, service string, k int) map[string]*supportMonth {
	months := map[string]*supportMonth{}
	anyReceived := map[string]int{}
	for _, c := range fine {
		m := months[c.month]
		if m == nil {
			m = &supportMonth{days: map[int]int{}}
			months[c.month] = m
		}
		m.victims += c.count
	}
	for _, r := range rows {
		m := months[r.Month]
		if m == nil {
			// A victim registered between the two statements: its month is
			// counted by the next request.
			continue
		}
		if r.Kind == AnyService {
			anyReceived[r.Month] += r.N
		}
		if r.Kind == service {
			m.received += r.N
			m.days[r.Days] += r.N
		}
	}
	// Below 3, "small" is 1 alone, and the reasons a figure is withheld
	// (the kind small, not received small, any less the kind small) can
	// all name one count: at k = 2, a month of 4 showing 2 given any
	// service withheld a kind only when 1 received it (0 and 2 would be
	// shown), so that count was told. From 3, each reason leaves at least
	// two counts (TestSupportAtThresholdTwo).
	if k > 0 {
		k = max(k, minSupportThreshold)
	}
	small := func(n int) bool { return n > 0 && n < k }
	for month, m := range months {
		m.unreleased = dc.hiddenMonth[month]
		// A kind is shown only where "any service" is too: shown beside a
		// withheld ANY, it would tell what withheld ANY (a sixth review's
		// finding: SHELTER 10 of 16 shown, ANY withheld, so 15 received
		// some service and 1 none).
		anyWithheld := small(anyReceived[month]) || small(m.victims-anyReceived[month])
		m.withheld = m.unreleased || small(m.received) || small(m.victims-m.received) ||
			(service != AnyService && (anyWithheld || small(anyReceived[month]-m.received)))
	}
	return months
}

// readSupport groups the victims the caller sees by month of
// identification, each kind of service they received and AnyService, and
// the whole days from identification to their first service of it: one
// statement, counts only.
func readSupport(ctx context.Context, client *ent.Client) ([]supportRow, error) {
	var rows []supportRow
	err := client.Victim.Query().Modify(func(s *sql.Selector) {
		// Each victim's first service of each kind, and of any: its
		// seconds, so that the earliest is found by number (SQLite keeps
		// times as text with their own offsets, which do not sort).
		started := secondsOf(s, supportservice.FieldStartedOn)
		services := sql.Table(supportservice.Table)
		byKind := sql.Select(services.C(supportservice.FieldVictimID), sql.As(services.C(supportservice.FieldKind), "kind"),
			sql.As("MIN("+started+")", "first_at")).From(services).GroupBy(services.C(supportservice.FieldVictimID), services.C(supportservice.FieldKind))
		anyKind := sql.Select(services.C(supportservice.FieldVictimID)).
			AppendSelectExprAs(sql.Expr("'"+AnyService+"'"), "kind").
			AppendSelectAs("MIN("+started+")", "first_at").From(services).GroupBy(services.C(supportservice.FieldVictimID))
		first := byKind.UnionAll(anyKind).As("first_service")
		s.Join(first).On(s.C(victim.FieldID), first.C(supportservice.FieldVictimID))
		days := "(" + first.C("first_at") + " - " + secondsOf(s, s.C(victim.FieldIdentifiedAt)) + ") / 86400"
		days = "CASE WHEN " + days + " < 0 THEN 0 ELSE " + days + " END"
		countFrom(ctx, s, s.C(victim.FieldIdentifiedAt))
		month := monthOf(s, s.C(victim.FieldIdentifiedAt))
		s.Select(sql.As(month.text, "month"), sql.As(first.C("kind"), "kind"), sql.As(days, "days"), sql.As(sql.Count("*"), "n")).
			GroupBy(month.group, first.C("kind"), days)
	}).Scan(ctx, &rows)
	return rows, err
}
