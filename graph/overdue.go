package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/prosecution"
)

// The monitoring mechanism's records behind "past the investigation
// deadline": Prosecution.overdueDays and ProsecutionWhereInput.overdue,
// both by domain's one rule (OverdueDays, InvestigationOpenStages) and both
// at the operation's start, so that a filtered page and its overdueDays
// never disagree about "now".

// operationNow is when the operation began: one "now" for every field of
// a response.
func operationNow(ctx context.Context) time.Time {
	if graphql.HasOperationContext(ctx) {
		if start := graphql.GetOperationContext(ctx).Stats.OperationStart; !start.IsZero() {
			return start
		}
	}
	return time.Now()
}

func (r *prosecutionResolver) overdueDays(ctx context.Context, p *ent.Prosecution) (*int, error) {
	days, overdue := domain.OverdueDays(p.Stage, p.InvestigationDeadline, operationNow(ctx))
	if !overdue {
		return nil, nil
	}
	return &days, nil
}

// overdue adds the filter to w: the SQL form of domain.OverdueDays's
// "overdue" (true) or its negation (false); nil filters nothing.
func (r *prosecutionWhereInputResolver) overdue(ctx context.Context, w *ent.ProsecutionWhereInput, want *bool) error {
	if want == nil {
		return nil
	}
	now := operationNow(ctx)
	if *want {
		w.AddPredicates(prosecution.StageIn(domain.InvestigationOpenStages...), prosecution.InvestigationDeadlineLT(now))
		return nil
	}
	// Spelled out rather than NOT(overdue): with no deadline, SQL's NOT
	// of a NULL comparison is NULL and would drop the row.
	w.AddPredicates(prosecution.Or(
		prosecution.StageNotIn(domain.InvestigationOpenStages...),
		prosecution.InvestigationDeadlineIsNil(),
		prosecution.InvestigationDeadlineGTE(now),
	))
	return nil
}
