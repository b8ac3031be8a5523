package graph

import (
	"context"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/ent/agency"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/statistics"
)

// statistics answers q of table d for the caller, under the disclosure
// control the policy gives them.
func (r *queryResolver) statistics(ctx context.Context, d statistics.Dataset, q statistics.Query) (*StatisticsTable, error) {
	if err := r.checkAgencyCodes(ctx, q.Where); err != nil {
		return nil, err
	}
	k, exact := r.enforcer.StatisticsControl(ctx)
	t, err := statistics.Compute(ctx, r.client, d, q, statistics.Control{K: k, Exact: exact})
	if err != nil {
		return nil, err
	}
	return &StatisticsTable{GroupBy: t.GroupBy, CountsPeople: t.CountsPeople, Threshold: t.Threshold,
		Period: statisticsPeriod(t.Period), Total: statisticsCell(t.Total), Cells: mapped(t.Cells, statisticsCell)}, nil
}

// prosecutionMeasures answers the monitoring mechanism's measures of q for
// the caller, durations withheld under the disclosure control the policy
// gives them, "now" being the operation's start (as overdueDays).
func (r *queryResolver) prosecutionMeasures(ctx context.Context, q statistics.Query, where *ProsecutionStatisticsFilter) (*ProsecutionMeasures, error) {
	if w := where; w != nil {
		q.Where = prosecutionFilter(w)
		q.From, q.To = deref(w.From), deref(w.To)
	}
	if err := r.checkAgencyCodes(ctx, q.Where); err != nil {
		return nil, err
	}
	k, exact := r.enforcer.StatisticsControl(ctx)
	m, err := statistics.ComputeMeasures(ctx, r.client, q, statistics.Control{K: k, Exact: exact}, operationNow(ctx))
	if err != nil {
		return nil, err
	}
	return &ProsecutionMeasures{GroupBy: m.GroupBy, Threshold: m.Threshold, Period: statisticsPeriod(m.Period),
		Total: measureCell(m.Total), Cells: mapped(m.Cells, measureCell)}, nil
}

// checkAgencyCodes refuses a filter by office or court naming a code the
// agency registry does not have: it matched no row, and a dashboard drew a
// believable 0 for a typo ("Prosecution-Tirane") where the office has
// dozens of proceedings (twenty-seventh session, 2026-12-08). The registry
// is every caller's to list (agencies), so the refusal tells nothing new.
func (r *queryResolver) checkAgencyCodes(ctx context.Context, where map[string][]string) error {
	for _, f := range []struct{ dim, field string }{{"OFFICE", "where.office"}, {"COURT", "where.court"}} {
		codes := where[f.dim]
		if len(codes) == 0 {
			continue
		}
		known, err := r.client.Agency.Query().Where(agency.CodeIn(codes...)).Select(agency.FieldCode).Strings(ctx)
		if err != nil {
			return err
		}
		for _, c := range codes {
			if slices.Contains(known, c) {
				continue
			}
			if len(c) > 64 || !utf8.ValidString(c) {
				return apperr.InvalidField(f.field, "%s names a code of %d bytes that no agency has: name agencies by their code in the registry (agencies { code }).", f.field, len(c))
			}
			return apperr.InvalidField(f.field, "%s names %q, which no agency has as its code: name agencies by their code in the registry (agencies { code }), as it writes them.", f.field, c)
		}
	}
	return nil
}

// referralQuery is q filtered by where, as the statistics package names
// the referrals' dimensions and values.
func referralQuery(q statistics.Query, where *ReferralStatisticsFilter) statistics.Query {
	if w := where; w != nil {
		q.Where = map[string][]string{"SERVICE_KIND": texts(w.ServiceKind), "FROM_AGENCY_KIND": texts(w.FromAgencyKind),
			"TO_AGENCY_KIND": texts(w.ToAgencyKind), "STATUS": texts(w.Status)}
		q.From, q.To = deref(w.From), deref(w.To)
	}
	return q
}

// referralMeasures answers the acceptance of referrals of q for the
// caller, under the disclosure control the policy gives them.
func (r *queryResolver) referralMeasures(ctx context.Context, q statistics.Query) (*ReferralMeasures, error) {
	k, exact := r.enforcer.StatisticsControl(ctx)
	m, err := statistics.ComputeReferralMeasures(ctx, r.client, q, statistics.Control{K: k, Exact: exact})
	if err != nil {
		return nil, err
	}
	cell := func(c statistics.ReferralMeasureCell) *ReferralMeasuresCell {
		out := &ReferralMeasuresCell{Values: c.Values, AcceptanceRate: c.AcceptanceRate, Suppressed: c.Suppressed,
			DaysToAccept: duration(c.DaysToAccept)}
		if c.Period != "" {
			out.Period = &c.Period
		}
		return out
	}
	return &ReferralMeasures{GroupBy: m.GroupBy, Threshold: m.Threshold, Period: statisticsPeriod(m.Period),
		Total: cell(m.Total), Cells: mapped(m.Cells, cell)}, nil
}

// victimSupport answers victimSupport: statistics.ComputeSupport of
// service (any when nil) by period.
func (r *queryResolver) victimSupport(ctx context.Context, service *domain.ServiceKind, q statistics.Query, from, to string) (*VictimSupport, error) {
	k, exact := r.enforcer.StatisticsControl(ctx)
	kind := statistics.AnyService
	if service != nil {
		kind = string(*service)
	}
	q.From, q.To = from, to
	t, err := statistics.ComputeSupport(ctx, r.client, kind, q, statistics.Control{K: k, Exact: exact})
	if err != nil {
		return nil, err
	}
	cell := func(c statistics.SupportCell) *VictimSupportCell {
		out := &VictimSupportCell{Victims: c.Victims, Received: c.Received, Share: c.Share, Suppressed: c.Suppressed,
			DaysToFirstService: duration(c.DaysToFirstService)}
		if c.Period != "" {
			out.Period = &c.Period
		}
		return out
	}
	return &VictimSupport{Service: service, Period: statisticsPeriod(t.Period), Threshold: t.Threshold,
		Total: cell(t.Total), Cells: mapped(t.Cells, cell)}, nil
}

// proceedingsQuery is a query of a table of proceedings (registered, or
// sent to trial).
func proceedingsQuery(groupBy []ProsecutionDimension, period *StatisticsPeriod, where *ProsecutionStatisticsFilter) statistics.Query {
	q := statisticsQuery(groupBy, period)
	if w := where; w != nil {
		q.Where = prosecutionFilter(w)
		q.From, q.To = deref(w.From), deref(w.To)
	}
	return q
}

// prosecutionFilter is a filter of proceedings as the statistics package
// names its dimensions' values.
func prosecutionFilter(w *ProsecutionStatisticsFilter) map[string][]string {
	return map[string][]string{"OFFICE": w.Office, "STAGE": texts(w.Stage), "EXTENDED": yesNo(w.Extended)}
}

func measureCell(c statistics.MeasureCell) *ProsecutionMeasuresCell {
	out := &ProsecutionMeasuresCell{Values: c.Values, Registered: c.Registered, UnderInvestigation: c.UnderInvestigation,
		PastDeadline: c.PastDeadline, DaysPastDeadline: duration(c.DaysPastDeadline), Extended: c.Extended,
		TrialRequested: c.TrialRequested, DaysToTrialRequest: duration(c.DaysToTrialRequest), Dismissed: c.Dismissed,
		DismissalRate: c.DismissalRate(), Convicted: c.Convicted, ConvictedOfLesserOffence: c.ConvictedOfLesserOffence,
		Acquitted: c.Acquitted, DismissedByCourt: c.DismissedByCourt, ImprisonmentMonths: duration(c.ImprisonmentMonths),
		SuspendedOrProbation: c.SuspendedOrProbation, Fines: c.Fine,
		ImprisonmentAgainstRange: &SentencesAgainstRange{Below: c.ImprisonmentAgainstRange.Below, Within: c.ImprisonmentAgainstRange.Within,
			Above: c.ImprisonmentAgainstRange.Above, NoRange: c.ImprisonmentAgainstRange.NoRange},
		CompensationOrdered: c.CompensationOrdered,
		CompensationPaid:    c.CompensationPaid, CompensationOrderedLek: c.CompensationOrderedLek,
		TraffickingCharges: c.TraffickingCharges, ReclassifiedTo: []*ArticleCount{}}
	for _, a := range slices.Sorted(maps.Keys(c.ReclassifiedTo)) {
		out.ReclassifiedTo = append(out.ReclassifiedTo, &ArticleCount{Article: domain.Article(a), Count: c.ReclassifiedTo[a]})
	}
	if c.Period != "" {
		out.Period = &c.Period
	}
	return out
}

func duration(d statistics.Distribution) *DurationMeasure {
	return &DurationMeasure{Count: d.Count, Median: d.Median, P90: d.P90, Max: d.Max, Withheld: d.Withheld}
}

func statisticsQuery[D ~string](groupBy []D, period *StatisticsPeriod) statistics.Query {
	q := statistics.Query{GroupBy: texts(groupBy)}
	if period != nil {
		q.Period = statistics.Period(*period)
	}
	return q
}

func statisticsCell(c statistics.Cell) *StatisticsCell {
	out := &StatisticsCell{Values: c.Values, Count: c.Count, Suppressed: c.Suppressed}
	if c.Period != "" {
		out.Period = &c.Period
	}
	return out
}

// statisticsPeriod is the period a table's cells are grouped by; none for
// the whole span.
func statisticsPeriod(p statistics.Period) *StatisticsPeriod {
	if p == statistics.Whole {
		return nil
	}
	out := StatisticsPeriod(p)
	return &out
}

// mapped is f of each value, in order.
func mapped[E, O any](values []E, f func(E) O) []O {
	out := make([]O, len(values))
	for i, v := range values {
		out[i] = f(v)
	}
	return out
}

// texts are enum values as the statistics package names them.
func texts[E ~string](values []E) []string {
	return mapped(values, func(v E) string { return string(v) })
}

// yesNo is a yes/no filter as a dimension's values: nil keeps both.
func yesNo(b *bool) []string {
	if b == nil {
		return nil
	}
	return []string{map[bool]string{true: "YES", false: "NO"}[*b]}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
