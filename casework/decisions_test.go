package casework_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// Court decisions: who a review convicts
// ---------------------------------------------------------------------------

// wantDecisionsByCompensation checks the prosecutor's decisionStatistics
// by instance, verdict and compensation, as "INSTANCE VERDICT
// COMPENSATION" → count: what the rules of who a decision convicts leave
// counted.
func (h *harness) wantDecisionsByCompensation(t *testing.T, want map[string]int) {
	t.Helper()
	var stats struct {
		DecisionStatistics struct {
			Cells []struct {
				Values []string
				Count  int
			}
		}
	}
	h.do(t, h.prosecutor, `{ decisionStatistics(groupBy: [INSTANCE, VERDICT, COMPENSATION]) { cells { values count } } }`, nil).
		MustOK(t).Decode(t, &stats)
	cells := map[string]int{}
	for _, cell := range stats.DecisionStatistics.Cells {
		cells[strings.Join(cell.Values, " ")] = cell.Count
	}
	if !reflect.DeepEqual(cells, want) {
		t.Errorf("decisionStatistics by instance, verdict and compensation = %v, want %v", cells, want)
	}
}

// decisionIn is the input of a decision at instance by court in
// proceeding p, decided on, with more fields.
func (h *harness) decisionIn(t *testing.T, p prosecutionT, instance, court, verdict string, on time.Time, more map[string]any) map[string]any {
	t.Helper()
	in := map[string]any{"instance": instance, "decidedOn": stamp(on), "verdict": verdict,
		"prosecutionID": p.ID, "courtID": h.agency(t, court)}
	for k, v := range more {
		in[k] = v
	}
	return in
}

// TestReviewConvictsAsTheDecisionItUpholds: a review's verdict alone does
// not say whether it convicts anyone (docs/domain.md, "Criminal
// proceedings"). An UPHELD decision convicts when the decision it upholds
// does: the one at the instance it reviews, decided on or before it, the
// latest. An AMENDED decision states its outcome by its sentence: with one
// it convicts, without one it convicts no one. A review that convicts no
// one carries no sentence and orders no compensation (BAD_USER_INPUT on
// the field, as an acquittal's), recorded or updated; a correction of the
// decision a review upholds that would leave the review's sentence or
// compensation on a decision convicting no one is refused; and the
// statistics count compensation by the same rule. Until 2026-12-07
// (nineteenth session) UPHELD and AMENDED could always carry both: an
// appeal upholding an acquittal ordered 500,000 lek, paid, and
// decisionStatistics counted it as ordered and paid.
func TestReviewConvictsAsTheDecisionItUpholds(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		appeal := h.principal(t, "court-appeal", viewer.RoleJudge)
		highCourt := h.principal(t, "high-court", viewer.RoleJudge)
		tried := func() prosecutionT {
			c := h.openAssigned(t, "ADJUDICATING", "court-tirane", "court-appeal", "high-court")
			return h.bringToTrial(t, h.registerProsecution(t, c.ID, date(3, 2)))
		}
		ordered := map[string]any{"compensationOrderedLek": 500000, "compensationPaid": true}

		// An acquittal, and reviews of it that convict no one.
		acquitted := tried()
		call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, acquitted, "FIRST_INSTANCE", "court-tirane", "ACQUITTED", date(6, 1), nil)})
		review := func(verdict string, more map[string]any) func() map[string]any {
			return func() map[string]any {
				return h.decisionIn(t, acquitted, "APPEAL", "court-appeal", verdict, date(7, 1), more)
			}
		}
		h.refuseEachInput(t, appeal, recordDecisionMutation, []inputRefusal{
			{"RecordErrUpheldAcquittalOrderingCompensation", review("UPHELD", ordered), badField("input.compensationOrderedLek")},
			{"RecordErrUpheldAcquittalOrderingNothing", review("UPHELD", map[string]any{"compensationOrderedLek": 0}), badField("input.compensationOrderedLek")},
			{"RecordErrUpheldAcquittalPaying", review("UPHELD", map[string]any{"compensationPaid": true}), badField("input.compensationPaid")},
			{"RecordErrUpheldAcquittalSentencing", review("UPHELD", map[string]any{"sentenceKind": "FINE"}), badField("input.sentenceKind")},
			{"RecordErrAmendedWithoutSentenceOrderingCompensation", review("AMENDED", ordered), badField("input.compensationOrderedLek")},
			{"RecordErrAmendedWithoutSentencePaying", review("AMENDED", map[string]any{"compensationPaid": true}), badField("input.compensationPaid")},
		})
		// An acquittal amended into a conviction: its sentence says so, and
		// it orders compensation; the High Court upholding it may too.
		amended := call[decisionT](t, h, appeal, recordDecisionMutation, map[string]any{"in": review("AMENDED", map[string]any{
			"sentenceKind": "IMPRISONMENT", "sentenceMonths": 100, "compensationOrderedLek": 300000})()})
		call[decisionT](t, h, highCourt, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, acquitted, "HIGH_COURT", "high-court", "UPHELD", date(9, 1),
			map[string]any{"compensationOrderedLek": 300000, "compensationPaid": true})})
		// Neither loses its sentence while the High Court's upholds it.
		h.refuseEach(t, appeal, updateDecisionMutation, amended.ID, []refusal{
			{"UpdateErrAmendedClearingTheSentenceItsReviewUpholds", func() map[string]any {
				return map[string]any{"id": amended.ID, "v": amended.Version, "in": map[string]any{
					"clearSentenceKind": true, "clearSentenceMonths": true, "clearCompensationOrderedLek": true}}
			}, badField("input.clearSentenceKind")},
		})

		// An upheld acquittal recorded without compensation takes none by
		// an update.
		upheldAcquittal := tried()
		call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, upheldAcquittal, "FIRST_INSTANCE", "court-tirane", "ACQUITTED", date(6, 1), nil)})
		upheld := call[decisionT](t, h, appeal, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, upheldAcquittal, "APPEAL", "court-appeal", "UPHELD", date(7, 1), nil)})
		h.refuseEach(t, appeal, updateDecisionMutation, upheld.ID, []refusal{
			{"UpdateErrUpheldAcquittalOrderingCompensation", func() map[string]any {
				return map[string]any{"id": upheld.ID, "v": upheld.Version, "in": map[string]any{"compensationOrderedLek": 1}}
			}, badField("input.compensationOrderedLek")},
			{"UpdateErrUpheldAcquittalPaying", func() map[string]any {
				return map[string]any{"id": upheld.ID, "v": upheld.Version, "in": map[string]any{"compensationPaid": true}}
			}, badField("input.compensationPaid")},
		})

		// A conviction upheld with compensation, after an earlier
		// acquittal: the conviction is neither made an acquittal nor moved
		// past the appeal, which would then uphold the acquittal, until the
		// appeal's court clears its compensation.
		convicted := tried()
		call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, convicted, "FIRST_INSTANCE", "court-tirane", "ACQUITTED", date(5, 1), nil)})
		first := call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, convicted, "FIRST_INSTANCE", "court-tirane", "CONVICTED", date(6, 1),
			map[string]any{"sentenceKind": "FINE", "compensationOrderedLek": 200000})})
		upholding := call[decisionT](t, h, appeal, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, convicted, "APPEAL", "court-appeal", "UPHELD", date(7, 1),
			map[string]any{"compensationOrderedLek": 200000})})
		acquit := map[string]any{"verdict": "ACQUITTED", "clearSentenceKind": true, "clearCompensationOrderedLek": true}
		h.refuseEach(t, h.judge, updateDecisionMutation, first.ID, []refusal{
			{"UpdateErrAcquittalUnderAnUpholdingReview", func() map[string]any {
				return map[string]any{"id": first.ID, "v": first.Version, "in": acquit}
			}, badField("input.verdict")},
			{"UpdateErrMovedPastTheReviewUpholdingIt", func() map[string]any {
				return map[string]any{"id": first.ID, "v": first.Version, "in": map[string]any{"decidedOn": stamp(date(7, 15))}}
			}, badField("input.decidedOn")},
		})
		upholding = call[decisionT](t, h, appeal, updateDecisionMutation, map[string]any{"id": upholding.ID, "v": upholding.Version,
			"in": map[string]any{"clearCompensationOrderedLek": true}})
		call[decisionT](t, h, h.judge, updateDecisionMutation, map[string]any{"id": first.ID, "v": first.Version, "in": acquit})

		// Compensation stored on an upheld acquittal before the rule, by
		// an appeal and by the High Court upholding that appeal: recorded
		// as it was, counted as ordered by no statistic; the High Court's
		// upholding the amended conviction is counted.
		for _, old := range []struct {
			instance, court string
			on              time.Time
		}{{"APPEAL", "court-appeal", date(7, 2)}, {"HIGH_COURT", "high-court", date(9, 1)}} {
			h.s.DB.Client.CourtDecision.Create().SetInstance(domain.Instance(old.instance)).SetDecidedOn(old.on).SetVerdict("UPHELD").
				SetCompensationOrderedLek(700000).SetCompensationPaid(true).
				SetProsecutionID(atoi(t, upheldAcquittal.ID)).SetCourtID(atoi(t, h.agency(t, old.court))).ExecX(systemCtx())
		}
		h.wantDecisionsByCompensation(t, map[string]int{
			"FIRST_INSTANCE ACQUITTED NOT_ORDERED": 4,
			"APPEAL AMENDED ORDERED_UNPAID":        1,
			"APPEAL UPHELD NOT_ORDERED":            3,
			"HIGH_COURT UPHELD NOT_ORDERED":        1,
			"HIGH_COURT UPHELD ORDERED_PAID":       1,
		})
	})
}

// TestDecisionRecordedUnderAReviewKeepsItConvicting: a decision recorded
// at the instance a review reviews, dated on or before it, may become the
// decision the review upholds (domain.Decision.Reviewed: the latest on or
// before it, the last recorded of a date, a decision being recorded last).
// When the review carries a sentence or compensation and would then
// uphold a decision that convicts no one, the decision is refused
// (BAD_USER_INPUT on input.decidedOn, which puts it under the review), as
// the same move by an update is; through two reviews too. A conviction
// there, an acquittal after the review, and an acquittal under a review
// that carries nothing are recorded: decisions are recorded late, in any
// order. Until 2026-12-07 (nineteenth session) recordCourtDecision did
// not ask: a first-instance acquittal recorded for the day of the
// conviction an appeal had upheld with 200,000 lek, or a fortnight
// after it, was accepted, and the appeal ordered compensation on an
// acquittal that the statistics no longer counted (a review's hunt).
func TestDecisionRecordedUnderAReviewKeepsItConvicting(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		appeal := h.principal(t, "court-appeal", viewer.RoleJudge)
		highCourt := h.principal(t, "high-court", viewer.RoleJudge)
		record := func(who principal, p prosecutionT, instance, court, verdict string, on time.Time, more map[string]any) {
			call[decisionT](t, h, who, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, p, instance, court, verdict, on, more)})
		}
		// A conviction of 1 June that an appeal of 1 July upholds, with
		// compensation when ordering.
		upheld := func(ordering bool) prosecutionT {
			c := h.openAssigned(t, "ADJUDICATING", "court-tirane", "court-appeal", "high-court")
			p := h.bringToTrial(t, h.registerProsecution(t, c.ID, date(3, 2)))
			record(h.judge, p, "FIRST_INSTANCE", "court-tirane", "CONVICTED", date(6, 1), map[string]any{"sentenceKind": "FINE", "compensationOrderedLek": 200000})
			var more map[string]any
			if ordering {
				more = map[string]any{"compensationOrderedLek": 200000, "compensationPaid": true}
			}
			record(appeal, p, "APPEAL", "court-appeal", "UPHELD", date(7, 1), more)
			return p
		}
		firstInstance := func(p prosecutionT, verdict string, on time.Time) func() map[string]any {
			return func() map[string]any { return h.decisionIn(t, p, "FIRST_INSTANCE", "court-tirane", verdict, on, nil) }
		}
		ordering := upheld(true)
		h.refuseEachInput(t, h.judge, recordDecisionMutation, []inputRefusal{
			{"RecordErrAcquittalOfTheUpheldConvictionsDate", firstInstance(ordering, "ACQUITTED", date(6, 1)), badField("input.decidedOn")},
			{"RecordErrAcquittalBeforeTheAppeal", firstInstance(ordering, "ACQUITTED", date(6, 15)), badField("input.decidedOn")},
			{"RecordErrDismissalOfTheAppealsDate", firstInstance(ordering, "DISMISSED", date(7, 1)), badField("input.decidedOn")},
		})
		// Through two reviews: the High Court upholding, with compensation,
		// an appeal that upholds the conviction.
		throughTwo := upheld(false)
		record(highCourt, throughTwo, "HIGH_COURT", "high-court", "UPHELD", date(9, 1), map[string]any{"compensationOrderedLek": 200000})
		h.refuseEachInput(t, h.judge, recordDecisionMutation, []inputRefusal{
			{"RecordErrAcquittalUnderTheHighCourtsReview", firstInstance(throughTwo, "ACQUITTED", date(6, 15)), badField("input.decidedOn")},
		})
		h.refuseEachInput(t, appeal, recordDecisionMutation, []inputRefusal{
			{"RecordErrQuashedUnderTheHighCourtsReview", func() map[string]any {
				return h.decisionIn(t, throughTwo, "APPEAL", "court-appeal", "QUASHED_RETRIAL", date(8, 1), nil)
			}, badField("input.decidedOn")},
		})
		// Recorded: a conviction under the review, an acquittal after it
		// (a retrial's, say), an acquittal under a review carrying nothing.
		record(h.judge, ordering, "FIRST_INSTANCE", "court-tirane", "CONVICTED_OF_LESSER_OFFENCE", date(6, 15), nil)
		record(h.judge, ordering, "FIRST_INSTANCE", "court-tirane", "ACQUITTED", date(7, 2), nil)
		record(h.judge, upheld(false), "FIRST_INSTANCE", "court-tirane", "ACQUITTED", date(6, 15), nil)
	})
}

// TestReviewRuleStatements: the rule of who a review convicts reads the
// proceeding's decisions in one statement, and only when it needs them.
// recordCourtDecision reads them for a review already (a review needs a
// decision to review), so it sends no statement more, and for a
// first-instance acquittal or dismissal (a review may come to uphold it),
// one statement more than a first-instance conviction; updateCourtDecision
// reads them when the decision's verdict, sentence or date moves (a date
// moved read them before, for the order of reviews), or when an UPHELD
// decision keeps a sentence or compensation: one statement more than a
// payment recorded, whatever the proceeding holds. A review naming the
// decision it reviews (reviewedDecisionID) costs nothing more recorded,
// and an update naming one the statement a verdict's costs.
func TestReviewRuleStatements(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		counted, n := testdb.CountingByKind(db)
		h := start(t, counted)
		appeal := h.principal(t, "court-appeal", viewer.RoleJudge)
		c := h.openAssigned(t, "ADJUDICATING", "court-tirane", "court-appeal")
		p := h.bringToTrial(t, h.registerProsecution(t, c.ID, date(3, 2)))
		count := func(run func()) int64 {
			n.Reset()
			run()
			return n.All.Load()
		}
		var first, upholding decisionT
		record := func(who principal, instance, court, verdict string, on time.Time, more map[string]any) decisionT {
			return call[decisionT](t, h, who, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, p, instance, court, verdict, on, more)})
		}
		update := func(who principal, d *decisionT, in map[string]any) int64 {
			return count(func() {
				*d = call[decisionT](t, h, who, updateDecisionMutation, map[string]any{"id": d.ID, "v": d.Version, "in": in})
			})
		}
		first = record(h.judge, "FIRST_INSTANCE", "court-tirane", "CONVICTED", date(6, 1), map[string]any{"sentenceKind": "FINE"})
		record(appeal, "APPEAL", "court-appeal", "UPHELD", date(6, 15), nil) // the appeal's first request fills the server's caches
		bare := count(func() { record(appeal, "APPEAL", "court-appeal", "UPHELD", date(7, 1), nil) })
		ordering := count(func() {
			upholding = record(appeal, "APPEAL", "court-appeal", "UPHELD", date(7, 2), map[string]any{"compensationOrderedLek": 1000})
		})
		// Warmed up by the first updates of each principal.
		update(h.judge, &first, map[string]any{"compensationPaid": false})
		update(appeal, &upholding, map[string]any{"compensationPaid": false})
		payment := update(h.judge, &first, map[string]any{"compensationPaid": false})
		verdict := update(h.judge, &first, map[string]any{"verdict": "CONVICTED_OF_LESSER_OFFENCE"})
		moved := update(h.judge, &first, map[string]any{"decidedOn": stamp(date(6, 2))})
		upheldPaid := update(appeal, &upholding, map[string]any{"compensationPaid": true})
		// A review naming the decision it reviews: read among the
		// decisions a review reads already; an update naming one reads
		// them as a verdict's does.
		naming := count(func() {
			record(appeal, "APPEAL", "court-appeal", "UPHELD", date(7, 3), map[string]any{"reviewedDecisionID": first.ID})
		})
		renamed := update(appeal, &upholding, map[string]any{"reviewedDecisionID": first.ID})
		// After every review, so that no review upholds them.
		convicting := count(func() { record(h.judge, "FIRST_INSTANCE", "court-tirane", "CONVICTED", date(8, 1), nil) })
		acquitting := count(func() { record(h.judge, "FIRST_INSTANCE", "court-tirane", "ACQUITTED", date(8, 2), nil) })
		t.Logf("%s: recordCourtDecision of an appeal %d statements, ordering compensation %d, naming the decision it reviews %d, of a first-instance conviction %d, an acquittal %d; updateCourtDecision of a payment %d, a verdict %d, a date %d, an upholding review's payment %d, the decision a review names %d",
			db.Dialect, bare, ordering, naming, convicting, acquitting, payment, verdict, moved, upheldPaid, renamed)
		for what, got := range map[string]int64{"ordering compensation": ordering, "naming the decision it reviews": naming} {
			if got != bare {
				t.Errorf("an appeal %s took %d statements, one ordering none and naming none %d: want as many", what, got, bare)
			}
		}
		if acquitting != convicting+1 {
			t.Errorf("recordCourtDecision of a first-instance acquittal took %d statements, want %d: a conviction's and one", acquitting, convicting+1)
		}
		for what, got := range map[string]int64{"a verdict": verdict, "a date": moved, "an upholding review's payment": upheldPaid, "the decision a review names": renamed} {
			if got != payment+1 {
				t.Errorf("updateCourtDecision of %s took %d statements, want %d: a payment's and one", what, got, payment+1)
			}
		}
	})
}

// TestConvictionNeedsATrialRequest: a court convicts or acquits at trial,
// so a decision that convicts or acquits (Verdict.GivenAtTrial) is
// recorded only in a proceeding whose trial was requested. A request to
// dismiss lets the court dismiss (DISMISSED) or send the file back
// (DISMISSAL_REQUESTED → UNDER_INVESTIGATION, the only mark a send-back
// leaves besides the reopened investigation's dates); after a send-back
// the office requests a trial before any conviction, and the lifecycle has
// no way back from a trial request to the investigation, so a trial
// requested is one requested after the send-back. BAD_USER_INPUT on the
// verdict, recorded or updated. Until 2026-12-07 (nineteenth session) a
// dismissal requested was enough: a court of first instance recorded a
// conviction in a proceeding whose dismissal request it had sent back,
// under investigation again (a hunt).
func TestConvictionNeedsATrialRequest(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		dismissalRequested := func() prosecutionT {
			p := h.registerProsecution(t, h.openAssigned(t, "ADJUDICATING", "court-tirane").ID, date(3, 2))
			for i, stage := range []string{"UNDER_INVESTIGATION", "INVESTIGATION_CLOSED", "DISMISSAL_REQUESTED"} {
				p = h.moveProsecution(t, p, stage, ptr(date(4, 1+i)))
			}
			return p
		}
		atTrial := func(p prosecutionT) []inputRefusal {
			in := func(verdict string, more map[string]any) func() map[string]any {
				return func() map[string]any {
					return h.decisionIn(t, p, "FIRST_INSTANCE", "court-tirane", verdict, date(7, 1), more)
				}
			}
			return []inputRefusal{
				{"RecordErrConvicted", in("CONVICTED", map[string]any{"sentenceKind": "FINE", "compensationOrderedLek": 100000}), badField("input.verdict")},
				{"RecordErrConvictedOfALesserOffence", in("CONVICTED_OF_LESSER_OFFENCE", nil), badField("input.verdict")},
				{"RecordErrAcquitted", in("ACQUITTED", nil), badField("input.verdict")},
			}
		}

		// A request to dismiss before the court: it dismisses, and that
		// decision is not made a conviction.
		pending := dismissalRequested()
		t.Run("DismissalRequested", func(t *testing.T) { h.refuseEachInput(t, h.judge, recordDecisionMutation, atTrial(pending)) })
		dismissal := call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, pending, "FIRST_INSTANCE", "court-tirane", "DISMISSED", date(7, 1), nil)})
		h.refuseEach(t, h.judge, updateDecisionMutation, dismissal.ID, []refusal{
			{"UpdateErrDismissalMadeAConviction", func() map[string]any {
				return map[string]any{"id": dismissal.ID, "v": dismissal.Version, "in": map[string]any{"verdict": "CONVICTED", "sentenceKind": "FINE"}}
			}, badField("input.verdict")},
		})

		// Sent back: under investigation again, no court decides a
		// conviction until the office requests a trial.
		sentBack := h.moveProsecutionAs(t, h.judge, dismissalRequested(), "UNDER_INVESTIGATION", ptr(date(5, 1)))
		t.Run("SentBack", func(t *testing.T) { h.refuseEachInput(t, h.judge, recordDecisionMutation, atTrial(sentBack)) })
		sentBack = h.moveProsecution(t, sentBack, "INVESTIGATION_CLOSED", ptr(date(6, 1)))
		t.Run("SentBackAndClosed", func(t *testing.T) { h.refuseEachInput(t, h.judge, recordDecisionMutation, atTrial(sentBack)) })
		sentBack = h.moveProsecution(t, sentBack, "TRIAL_REQUESTED", ptr(date(6, 2)))
		got := call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": h.decisionIn(t, sentBack, "FIRST_INSTANCE", "court-tirane", "CONVICTED", date(7, 1),
			map[string]any{"sentenceKind": "FINE", "compensationOrderedLek": 100000})})
		if got.Verdict != "CONVICTED" {
			t.Errorf("a conviction after the trial requested = %+v", got)
		}
	})
}
