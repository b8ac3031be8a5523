package casework_test

import (
	"testing"

	"github.com/casegraph/casegraph/viewer"
)

// reviewedQuery reads the decision a court decision names as the one it
// reviews, by the decision's id.
const reviewedQuery = `query Reviewed($id: ID!) { node(id: $id) { ... on CourtDecision { id reviewedDecisionID reviewedDecision { id verdict } } } }`

// reviewedT is what reviewedQuery answers of a decision.
type reviewedT struct {
	ID                 string
	ReviewedDecisionID *string
	ReviewedDecision   *struct{ ID, Verdict string }
}

// TestReviewNamesTheDecisionItReviews: a review may name the decision it
// reviews (reviewedDecisionID, docs/domain.md "Criminal proceedings"),
// and then upholds that one, in casework's rules and in the statistics'
// SQL alike, where it would otherwise uphold the proceeding's latest at
// the instance reviewed, the last recorded of a date: of two decisions of
// one day (co-defendants decided together), the one recorded last, which
// no clerk can see. The name is a decision of the same proceeding, at the
// instance the review reviews, decided on or before it (BAD_USER_INPUT on
// input.reviewedDecisionID, nothing written); updateCourtDecision sets,
// changes and clears it under the rules a recorded one meets; the named
// decision is not moved past its review, nor made an acquittal under a
// review carrying compensation; a decision recorded later on its day does
// not take its place. Reviews without a name are read as before. Until
// 2026-12-07 (twentieth session) no review named one: an appeal upholding
// the conviction of one co-defendant, recorded before the acquittal of the
// other on the same day, could order no compensation, and an acquittal
// recorded late on that day was refused.
func TestReviewNamesTheDecisionItReviews(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		appeal := h.principal(t, "court-appeal", viewer.RoleJudge)
		highCourt := h.principal(t, "high-court", viewer.RoleJudge)
		tried := func() prosecutionT {
			c := h.openAssigned(t, "ADJUDICATING", "court-tirane", "court-appeal", "high-court")
			return h.bringToTrial(t, h.registerProsecution(t, c.ID, date(3, 2)))
		}
		p := tried()
		// Two co-defendants decided together on 1 June: the conviction of
		// one, recorded first, and the acquittal of the other, recorded
		// last (the decision a review without a name upholds).
		conviction := call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, p, "FIRST_INSTANCE", "court-tirane", "CONVICTED", date(6, 1),
			map[string]any{"sentenceKind": "FINE", "compensationOrderedLek": 200000})})
		acquittal := call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, p, "FIRST_INSTANCE", "court-tirane", "ACQUITTED", date(6, 1), nil)})
		other := tried()
		elsewhere := call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, other, "FIRST_INSTANCE", "court-tirane", "CONVICTED", date(6, 1),
			map[string]any{"sentenceKind": "FINE"})})
		ordered := map[string]any{"compensationOrderedLek": 200000}
		upholding := func(named string, more map[string]any) func() map[string]any {
			return func() map[string]any {
				in := h.decisionIn(t, p, "APPEAL", "court-appeal", "UPHELD", date(7, 1), more)
				if named != "" {
					in["reviewedDecisionID"] = named
				}
				return in
			}
		}

		h.refuseEachInput(t, appeal, recordDecisionMutation, []inputRefusal{
			// Without a name, the acquittal recorded last.
			{"RecordErrUnnamedUpholdingTheLastRecordedOrderingCompensation", upholding("", ordered), badField("input.compensationOrderedLek")},
			{"RecordErrNamingTheAcquittalOrderingCompensation", upholding(acquittal.ID, ordered), badField("input.compensationOrderedLek")},
			{"RecordErrNamingADecisionOfAnotherProceeding", upholding(elsewhere.ID, nil), badField("input.reviewedDecisionID")},
			{"RecordErrNamingARecordThatIsNoDecision", upholding(p.ID, nil), badField("input.reviewedDecisionID")},
			{"RecordErrNamingADecisionAfterIt", withField(upholding(conviction.ID, nil), "decidedOn", stamp(date(5, 20))), badField("input.reviewedDecisionID")},
		})
		h.refuseEachInput(t, h.judge, recordDecisionMutation, []inputRefusal{
			{"RecordErrNamingAtFirstInstance", func() map[string]any {
				in := h.decisionIn(t, p, "FIRST_INSTANCE", "court-tirane", "ACQUITTED", date(6, 2), nil)
				in["reviewedDecisionID"] = conviction.ID
				return in
			}, badField("input.reviewedDecisionID")},
		})
		h.refuseEachInput(t, highCourt, recordDecisionMutation, []inputRefusal{
			{"RecordErrHighCourtNamingAFirstInstanceDecision", func() map[string]any {
				in := h.decisionIn(t, p, "HIGH_COURT", "high-court", "UPHELD", date(9, 1), nil)
				in["reviewedDecisionID"] = conviction.ID
				return in
			}, badField("input.reviewedDecisionID")},
		})

		// Named, the appeal upholds the conviction and orders its
		// compensation; it reads the decision it names.
		upheld := call[decisionT](t, h, appeal, recordDecisionMutation, map[string]any{"in": upholding(conviction.ID, ordered)()})
		wantNamed := func(t *testing.T, who principal, d decisionT, named decisionT) {
			t.Helper()
			got := call[reviewedT](t, h, who, reviewedQuery, map[string]any{"id": d.ID})
			if got.ReviewedDecisionID == nil || *got.ReviewedDecisionID != named.ID || got.ReviewedDecision == nil ||
				got.ReviewedDecision.ID != named.ID || got.ReviewedDecision.Verdict != named.Verdict {
				t.Errorf("decision %s names %+v (%+v), want %s (%s)", d.ID, got.ReviewedDecisionID, got.ReviewedDecision, named.ID, named.Verdict)
			}
		}
		wantNamed(t, appeal, upheld, conviction)
		wantNamed(t, h.reader, upheld, conviction)
		if got := call[reviewedT](t, h, appeal, reviewedQuery, map[string]any{"id": conviction.ID}); got.ReviewedDecisionID != nil || got.ReviewedDecision != nil {
			t.Errorf("a first-instance decision names %+v (%+v), want none", got.ReviewedDecisionID, got.ReviewedDecision)
		}
		// A court that does not work on the case sees neither decision.
		outsider := h.principal(t, "court-shkoder", viewer.RoleJudge)
		if r := h.do(t, outsider, reviewedQuery, map[string]any{"id": upheld.ID}); !nullData(r.Data) {
			t.Errorf("a court off the case read %s", r.Data)
		}

		// Another acquittal of that day, recorded late, does not take the
		// named conviction's place under the appeal.
		call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, p, "FIRST_INSTANCE", "court-tirane", "ACQUITTED", date(6, 1), nil)})

		// The named conviction keeps its place, and the appeal its name,
		// while the appeal orders compensation.
		h.refuseEach(t, h.judge, updateDecisionMutation, conviction.ID, []refusal{
			{"UpdateErrNamedDecisionMovedPastItsReview", func() map[string]any {
				return map[string]any{"id": conviction.ID, "v": conviction.Version, "in": map[string]any{"decidedOn": stamp(date(7, 15))}}
			}, badField("input.decidedOn")},
			{"UpdateErrNamedDecisionMadeAnAcquittal", func() map[string]any {
				return map[string]any{"id": conviction.ID, "v": conviction.Version, "in": map[string]any{
					"verdict": "ACQUITTED", "clearSentenceKind": true, "clearCompensationOrderedLek": true}}
			}, badField("input.verdict")},
		})
		h.refuseEach(t, appeal, updateDecisionMutation, upheld.ID, []refusal{
			{"UpdateErrNamingTheAcquittal", func() map[string]any {
				return map[string]any{"id": upheld.ID, "v": upheld.Version, "in": map[string]any{"reviewedDecisionID": acquittal.ID}}
			}, badField("input.compensationOrderedLek")},
			{"UpdateErrNameCleared", func() map[string]any {
				return map[string]any{"id": upheld.ID, "v": upheld.Version, "in": map[string]any{"clearReviewedDecision": true}}
			}, badField("input.compensationOrderedLek")},
			{"UpdateErrMovedBeforeTheDecisionItNames", func() map[string]any {
				return map[string]any{"id": upheld.ID, "v": upheld.Version, "in": map[string]any{"decidedOn": stamp(date(5, 20))}}
			}, badField("input.decidedOn")},
			{"UpdateErrNamingADecisionOfAnotherProceeding", func() map[string]any {
				return map[string]any{"id": upheld.ID, "v": upheld.Version, "in": map[string]any{"reviewedDecisionID": elsewhere.ID}}
			}, badField("input.reviewedDecisionID")},
			{"UpdateErrNamingItself", func() map[string]any {
				return map[string]any{"id": upheld.ID, "v": upheld.Version, "in": map[string]any{"reviewedDecisionID": upheld.ID}}
			}, badField("input.reviewedDecisionID")},
			// Named and cleared at once, as any field set and cleared
			// (docs/input.md): which was meant cannot be told. The clear
			// flag names the edge, the value its id: it was taken, the
			// name set and checked.
			{"UpdateErrNamedAndCleared", func() map[string]any {
				return map[string]any{"id": upheld.ID, "v": upheld.Version, "in": map[string]any{"reviewedDecisionID": conviction.ID, "clearReviewedDecision": true}}
			}, badField("input.reviewedDecisionID")},
		})
		h.refuseEach(t, h.judge, updateDecisionMutation, acquittal.ID, []refusal{
			{"UpdateErrNamingAtFirstInstance", func() map[string]any {
				return map[string]any{"id": acquittal.ID, "v": acquittal.Version, "in": map[string]any{"reviewedDecisionID": conviction.ID}}
			}, badField("input.reviewedDecisionID")},
		})

		// A review stored without a name (upholding the acquittal recorded
		// last) is given one by its court, and may then order compensation.
		unnamed := call[decisionT](t, h, appeal, recordDecisionMutation, map[string]any{"in": upholding("", nil)()})
		if got := call[reviewedT](t, h, appeal, reviewedQuery, map[string]any{"id": unnamed.ID}); got.ReviewedDecisionID != nil || got.ReviewedDecision != nil {
			t.Errorf("a review recorded without a name names %+v (%+v)", got.ReviewedDecisionID, got.ReviewedDecision)
		}
		named := call[decisionT](t, h, appeal, updateDecisionMutation, map[string]any{"id": unnamed.ID, "v": unnamed.Version,
			"in": map[string]any{"reviewedDecisionID": conviction.ID, "compensationOrderedLek": 100000}})
		wantNamed(t, appeal, named, conviction)

		// The statistics read the name too: both appeals order
		// compensation on the conviction they name.
		h.wantDecisionsByCompensation(t, map[string]int{
			"FIRST_INSTANCE CONVICTED ORDERED_UNPAID": 1,
			"FIRST_INSTANCE CONVICTED NOT_ORDERED":    1,
			"FIRST_INSTANCE ACQUITTED NOT_ORDERED":    2,
			"APPEAL UPHELD ORDERED_UNPAID":            2,
		})
	})
}
