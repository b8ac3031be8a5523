package graph

import (
	"context"

	"github.com/casegraph/casegraph/statistics"
)

// statistics answers q of table d for the caller, under the disclosure
// control the policy gives them.
func (r *queryResolver) statistics(ctx context.Context, d statistics.Dataset, q statistics.Query) (*StatisticsTable, error) {
	k, exact := r.enforcer.StatisticsControl(ctx)
	t, err := statistics.Compute(ctx, r.client, d, q, statistics.Control{K: k, Exact: exact})
	if err != nil {
		return nil, err
	}
	out := &StatisticsTable{GroupBy: t.GroupBy, CountsPeople: t.CountsPeople, Threshold: t.Threshold,
		Total: statisticsCell(t.Total), Cells: make([]*StatisticsCell, len(t.Cells))}
	if t.Period != statistics.Whole {
		p := StatisticsPeriod(t.Period)
		out.Period = &p
	}
	for i, c := range t.Cells {
		out.Cells[i] = statisticsCell(c)
	}
	return out, nil
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

// texts are enum values as the statistics package names them.
func texts[E ~string](values []E) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
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
