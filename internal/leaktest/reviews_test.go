package leaktest_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/viewer"
)

// A review may name the decision it reviews (CourtDecision.reviewedDecision,
// docs/domain.md), and the demo names it on most reviews. The edge is row
// scope's like every other: it shows the named decision to a principal who
// may read that decision by node(id), and null to one who may not. Every
// decision of a proceeding is seen with the proceeding, so only a court
// reading its own review in a proceeding it does not see (rowscope's
// throughOrOwn) meets a named decision it may not read; it reads the id
// the review names (reviewedDecisionID) and nothing of the record. The
// fixture below makes one such review, and the principals include the
// court of appeal that made it, so that a resolver reading reviewedDecision
// past row scope shows a row outside its rows and fails the test.

// addUnseenProceedingReview records, for the court of appeal, an appeal
// upholding the first-instance decision of a proceeding on a case the
// court does not work on, naming that decision: as a decision recorded for
// a court by another agency leaves it (docs/domain.md, "A review names the
// decision it reviews"). The demo assigns every court that decides to its
// case, so it holds none.
func addUnseenProceedingReview(t *testing.T, c *ent.Client) {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	must := fatalOn(t, "adding the review of a proceeding its court does not see")
	appeal := agencyOf(ctx, c, must, "court-appeal")
	// A decision of a court of first instance whose appeals the court of
	// appeal hears, reviewed by no one, at least reviewAfter before the
	// demo ends, in a case the court of appeal has no part in (a court
	// leads none and conducts no proceeding).
	const reviewAfter = 60
	first, err := c.CourtDecision.Query().
		Where(courtdecision.HasCourtWith(agency.KindEQ(domain.AgencyKindCourtFirstInstance)),
			courtdecision.DecidedOnLT(leakWorldDay.AddDate(0, 0, -reviewAfter)),
			courtdecision.HasProsecutionWith(
				prosecution.Not(prosecution.HasDecisionsWith(courtdecision.InstanceNEQ(domain.InstanceFirstInstance))),
				prosecution.Not(prosecution.HasCaseWith(casefile.HasAssignmentsWith(caseassignment.AgencyID(appeal.ID)))))).
		Order(ent.Asc(courtdecision.FieldID)).First(ctx)
	must(err)
	must(c.CourtDecision.Create().SetInstance(domain.InstanceAppeal).SetDecidedOn(first.DecidedOn.AddDate(0, 0, reviewAfter)).
		SetVerdict(domain.VerdictUpheld).SetNillableSentenceKind(first.SentenceKind).SetNillableSentenceMonths(first.SentenceMonths).
		SetNillableCompensationOrderedLek(first.CompensationOrderedLek).SetCompensationPaid(first.CompensationPaid).
		SetProsecutionID(first.ProsecutionID).SetCourtID(appeal.ID).SetReviewedDecisionID(first.ID).Exec(ctx))
}

// reviewsQuery reads, of each court decision asked for, the decision it
// names as the one it reviews.
const reviewsQuery = `query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on CourtDecision { reviewedDecisionID reviewedDecision { __typename id } } } }`

// namedReviews asks nodes(ids:) for every review that names the decision
// it reviews, and for every decision named. The checks of every response
// hold the edge to the oracle (edgeRules: the named decision if the
// principal sees it, else null) and a decision outside the principal's
// rows to the answer of an id that names nothing (checkNode); here every
// review the principal sees must name the stored id, also when the
// decision is outside its rows, and the run counts the named decisions
// shown and hidden (reviewsCoverage).
func (r *leakRun) namedReviews() {
	asked := map[int]bool{}
	for id, d := range r.w.decisions {
		if d.ReviewedDecisionID != nil {
			asked[id], asked[*d.ReviewedDecisionID] = true, true
		}
	}
	var refs []nodeWant
	for _, id := range sortedKeys(asked) {
		refs = append(refs, nodeWant{typ: "CourtDecision", id: id})
	}
	r.askNodes("nodes(ids) of reviews naming a decision", reviewsQuery, refs, 400, func(data any, refs []nodeWant) {
		for i, ref := range refs {
			review, _ := valueAt(data, fmt.Sprintf("nodes/%d", i)).(map[string]any)
			if review == nil || r.w.decisions[ref.id].ReviewedDecisionID == nil {
				continue // outside the principal's rows (checkNode), or names none
			}
			named := *r.w.decisions[ref.id].ReviewedDecisionID
			if got := review["reviewedDecisionID"]; got != strconv.Itoa(named) {
				r.add("the id a review names", "%s: review %d names %v, the database holds %d", r.v.p, ref.id, got, named)
			}
			if vis, _ := r.v.visible("CourtDecision", named); vis {
				r.reviews.shown++
			} else {
				r.reviews.hidden++
			}
		}
	})
}

// reviewsCoverage counts, over the reviews a principal sees that name a
// decision, the named decisions it may read (the edge shows them) and
// those it may not (the edge is null).
type reviewsCoverage struct{ shown, hidden int }

func (c *reviewsCoverage) add(o reviewsCoverage) {
	c.shown, c.hidden = c.shown+o.shown, c.hidden+o.hidden
}

// check fails when no principal met a named decision it may read, or one
// it may not: the edge would then be tested on one side of row scope
// only, and a resolver showing named decisions past it would pass.
func (c reviewsCoverage) check(t *testing.T) {
	t.Helper()
	t.Logf("reviews naming a decision, as principals see them: %d naming one they may read, %d one they may not", c.shown, c.hidden)
	if c.shown == 0 {
		t.Error("no principal saw a review naming a decision it may read: the demo names none (seed/demo, namesReviewed)")
	}
	if c.hidden == 0 {
		t.Error("no principal saw a review naming a decision it may not read (addUnseenProceedingReview, the court of appeal among the principals): reviewedDecision is not tested against row scope")
	}
}
