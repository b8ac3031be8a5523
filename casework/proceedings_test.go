package casework_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// Suspects, prosecutions, charges, court decisions
// ---------------------------------------------------------------------------

func TestMutationSuspect(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		events := h.timeline(t, c.ID)
		var s suspectT

		t.Run("RecordOK", func(t *testing.T) {
			name := newSuspectName()
			s = call[suspectT](t, h, h.police, recordSuspectMutation, map[string]any{"in": map[string]any{
				"pseudonym": name, "sex": "MALE", "nationality": "AL", "role": "RECRUITER", "caseID": c.ID, "legalName": "Made Up",
			}})
			want := suspectT{ID: s.ID, Version: 1, Pseudonym: name, Sex: "MALE", Nationality: "AL", Role: "RECRUITER", Case: nodeRef{c.ID}}
			if s.ID == "" || s != want {
				t.Errorf("recordSuspect = %+v, want %+v", s, want)
			}
			events = h.expectEvents(t, c.ID, events, h.police.event("SUSPECT_RECORDED", "Suspect "+name+" recorded."))
		})

		validSuspect := func() map[string]any {
			return map[string]any{"pseudonym": newSuspectName(), "sex": "MALE", "nationality": "AL", "role": "CLIENT", "caseID": c.ID}
		}
		h.refuseEachInput(t, h.police, recordSuspectMutation, []inputRefusal{
			{"RecordErrDuplicatePseudonym", withField(validSuspect, "pseudonym", s.Pseudonym), want{Code: "CONFLICT", Field: "input.pseudonym"}},
			{"RecordErrUnknownCase", withField(validSuspect, "caseID", missingCaseID), badField("input.caseID")},
			{"RecordErrEmptyPseudonym", withField(validSuspect, "pseudonym", ""), badField("input.pseudonym")},
			{"RecordErrBadRoleEnum", withField(validSuspect, "role", "NOPE"), invalid},
		}, s.ID)

		t.Run("UpdateOK", func(t *testing.T) {
			need(t, s.ID)
			got := call[suspectT](t, h, h.prosecutor, updateSuspectMutation, map[string]any{"id": s.ID, "v": 1, "in": map[string]any{
				"role": "ORGANISER", "nationality": "XK", "clearLegalName": true,
			}})
			if got.Version != 2 || got.Role != "ORGANISER" || got.Nationality != "XK" || got.Pseudonym != s.Pseudonym {
				t.Errorf("updateSuspect = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("SUSPECT_UPDATED", "Suspect "+s.Pseudonym+" updated."))
			s = got
		})

		h.refuseEach(t, h.police, updateSuspectMutation, s.ID, []refusal{
			{"UpdateErrStaleVersion", func() map[string]any {
				return map[string]any{"id": s.ID, "v": 1, "in": map[string]any{"role": "CLIENT"}}
			}, conflict},
			{"UpdateErrNationalityTooLong", func() map[string]any {
				return map[string]any{"id": s.ID, "v": s.Version, "in": map[string]any{"nationality": strings.Repeat("X", 65)}}
			}, badField("input.nationality")},
			{"UpdateErrNotFound", func() map[string]any {
				return map[string]any{"id": c.ID, "v": 1, "in": map[string]any{"role": "CLIENT"}}
			}, notFound},
		})
	})
}

func TestMutationProsecution(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, other := h.openCase(t), h.openCase(t)
		s1, s2, stranger := h.recordSuspect(t, c.ID), h.recordSuspect(t, c.ID), h.recordSuspect(t, other.ID)
		events := h.timeline(t, c.ID)
		registeredAt := date(3, 2)
		var p prosecutionT
		// The proceeding's office changes it (ownProceeding): the Tirana
		// office until it moves the proceeding to SPAK (UpdateOK), then SPAK.
		office := h.prosecutor
		moved := func(from, to string) eventT {
			return office.event("PROSECUTION_STAGE_CHANGED", fmt.Sprintf("Proceeding %s moved from %s to %s.", p.RegistrationNumber, from, to))
		}
		// The case's stage follows its one proceeding (see also
		// TestCaseFollowsProceedings).
		caseFollows := func(from, to string) eventT {
			return office.event("STAGE_CHANGED", fmt.Sprintf("Stage changed from %s to %s, following its proceedings.", from, to))
		}

		t.Run("RegisterOK", func(t *testing.T) {
			number := newRegistration()
			p = call[prosecutionT](t, h, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
				"registrationNumber": number, "registeredAt": stamp(registeredAt), "caseID": c.ID,
				"officeID": h.agency(t, "prosecution-tirane"), "defendantIDs": []string{s1.ID, s2.ID},
			}})
			if p.ID == "" || p.Version != 1 || p.RegistrationNumber != number || p.Stage != "REGISTERED" || !p.RegisteredAt.Equal(registeredAt) ||
				p.InvestigationDeadline != nil || p.DeadlineExtensions != 0 || p.ClosedAt != nil || p.Office.Code != "prosecution-tirane" ||
				p.Case.ID != c.ID || len(p.Defendants) != 2 {
				t.Errorf("registerProsecution = %+v", p)
			}
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("PROSECUTION_REGISTERED", "Proceeding "+number+" registered."),
				h.prosecutor.event("AGENCY_ASSIGNED", "prosecution-tirane assigned as PROSECUTING."), caseFollows("NOTICE_RECEIVED", "REGISTERED"))
		})

		validProsecution := func() map[string]any {
			return map[string]any{"registrationNumber": newRegistration(), "registeredAt": stamp(registeredAt), "caseID": c.ID, "officeID": h.agency(t, "spak")}
		}
		h.refuseEachInput(t, h.prosecutor, registerProsMutation, []inputRefusal{
			{"RegisterErrOfficeIsPolice", withField(validProsecution, "officeID", h.agency(t, "police-tirane")), badField("input.officeID")},
			{"RegisterErrUnknownOffice", withField(validProsecution, "officeID", missingAgencyID), badField("input.officeID")},
			{"RegisterErrDefendantOfOtherCase", withField(validProsecution, "defendantIDs", []string{s1.ID, stranger.ID}), badField("input.defendantIDs")},
			{"RegisterErrDuplicateNumber", withField(validProsecution, "registrationNumber", p.RegistrationNumber), want{Code: "CONFLICT", Field: "input.registrationNumber"}},
			{"RegisterErrDeadlineBeforeRegistration", withField(validProsecution, "investigationDeadline", stamp(registeredAt.AddDate(0, 0, -1))), badField("input.investigationDeadline")},
		}, p.ID)

		t.Run("UpdateOK", func(t *testing.T) {
			need(t, p.ID)
			got := call[prosecutionT](t, h, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": 1, "in": map[string]any{
				"officeID": h.agency(t, "spak"), "removeDefendantIDs": []string{s2.ID},
			}})
			if got.Version != 2 || got.Office.Code != "spak" || len(got.Defendants) != 1 || got.Defendants[0].ID != s1.ID || got.Stage != "REGISTERED" {
				t.Errorf("updateProsecution = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("CASE_UPDATED", "Proceeding "+p.RegistrationNumber+" updated."),
				h.prosecutor.event("AGENCY_ASSIGNED", "spak assigned as PROSECUTING."))
			p = got
			office = h.principal(t, "spak", viewer.RoleProsecutor)
		})

		h.refuseEach(t, office, updateProsMutation, p.ID, []refusal{
			{"UpdateErrStaleVersion", func() map[string]any {
				return map[string]any{"id": p.ID, "v": 1, "in": map[string]any{"officeID": h.agency(t, "prosecution-tirane")}}
			}, conflict},
			{"UpdateErrOfficeIsCourt", func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version, "in": map[string]any{"officeID": h.agency(t, "court-tirane")}}
			}, badField("input.officeID")},
			{"UpdateErrNotFound", func() map[string]any {
				return map[string]any{"id": missingProsecutionID, "v": 1, "in": map[string]any{"officeID": h.agency(t, "spak")}}
			}, notFound},
		})

		for _, tc := range []struct {
			name, query string
			vars        func() map[string]any
			want        want
			allowed     string // extensions.allowed, when checked
		}{
			{"MoveErrImpossibleTransition", moveProsStageMutation, func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version, "stage": "FINAL"}
			}, badField("stage"), "[UNDER_INVESTIGATION TRANSFERRED MERGED]"},
			{"MoveErrBadStageEnum", moveProsStageMutation, func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version, "stage": "NOPE"}
			}, invalid, ""},
			{"MoveErrBeforeRegistration", moveProsStageMutation, func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version, "stage": "UNDER_INVESTIGATION", "at": stamp(registeredAt.Add(-time.Hour))}
			}, badField("at"), ""},
			{"MoveErrInTheFuture", moveProsStageMutation, func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version, "stage": "UNDER_INVESTIGATION", "at": stamp(time.Now().Add(time.Hour))}
			}, badField("at"), ""},
			{"MoveErrStaleVersion", moveProsStageMutation, func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version - 1, "stage": "UNDER_INVESTIGATION", "at": stamp(date(3, 10))}
			}, conflict, ""},
			{"MoveErrNotFound", moveProsStageMutation, func() map[string]any {
				return map[string]any{"id": missingProsecutionID, "v": 1, "stage": "UNDER_INVESTIGATION"}
			}, notFound, ""},
			// Registered without a deadline: starting the investigation
			// sets one; there is none to extend yet.
			{"ExtendErrNoDeadlineYet", extendDeadlineMutation, func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version, "until": stamp(date(9, 1))}
			}, badField("id"), ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, p.ID)
				e := h.refuse(t, office, tc.query, tc.vars(), tc.want, p.ID)
				if got := fmt.Sprint(e.Extensions["allowed"]); tc.allowed != "" && got != tc.allowed {
					t.Errorf("extensions.allowed = %s, want %s", got, tc.allowed)
				}
			})
		}

		startedAt := date(3, 10)
		t.Run("MoveToUnderInvestigationSetsDeadline", func(t *testing.T) {
			need(t, p.ID)
			got := h.moveProsecutionAs(t, office, p, "UNDER_INVESTIGATION", &startedAt)
			if got.Stage != "UNDER_INVESTIGATION" || got.Version != 3 {
				t.Errorf("moveProsecutionStage = %+v", got)
			}
			sameTime(t, "investigationStartedAt", got.InvestigationStartedAt, startedAt)
			// Three months later on Tirana's clock: 09:00 UTC on 10 March is
			// 10:00 in Tirana, and 10 June at 10:00 there is in summer time.
			sameTime(t, "investigationDeadline", got.InvestigationDeadline, tiranaDate(time.June, 10, 10))
			events = h.expectEvents(t, c.ID, events, moved("REGISTERED", "UNDER_INVESTIGATION"), caseFollows("REGISTERED", "UNDER_INVESTIGATION"))
			p = got
		})

		// Registered on 3/2, under investigation since 3/10: closing the
		// investigation on 3/5 would make it last minus five days.
		t.Run("MoveErrBeforeTheLatestStage", func(t *testing.T) {
			need(t, p.ID)
			e := h.refuse(t, office, moveProsStageMutation, map[string]any{
				"id": p.ID, "v": p.Version, "stage": "INVESTIGATION_CLOSED", "at": stamp(date(3, 5))}, badField("at"), p.ID)
			if !strings.Contains(e.Message, "when its investigation started") {
				t.Errorf("message %q does not say which date it is before", e.Message)
			}
		})

		// Nor can the registration move after a stage it already reached.
		t.Run("UpdateErrRegisteredAfterAStage", func(t *testing.T) {
			need(t, p.ID)
			e := h.refuse(t, office, updateProsMutation, map[string]any{
				"id": p.ID, "v": p.Version, "in": map[string]any{"registeredAt": stamp(date(3, 12))}}, badField("input.registeredAt"), p.ID)
			if !strings.Contains(e.Message, "when its investigation started") {
				t.Errorf("message %q does not say which date it is after", e.Message)
			}
		})

		extended := date(8, 10)
		t.Run("ExtendDeadlineOK", func(t *testing.T) {
			need(t, p.ID)
			got := call[prosecutionT](t, h, office, extendDeadlineMutation, map[string]any{"id": p.ID, "v": p.Version, "until": stamp(extended)})
			if got.Version != 4 || got.DeadlineExtensions != 1 || got.Stage != "UNDER_INVESTIGATION" {
				t.Errorf("extendInvestigationDeadline = %+v", got)
			}
			sameTime(t, "investigationDeadline", got.InvestigationDeadline, extended)
			events = h.expectEvents(t, c.ID, events, office.event("DEADLINE_EXTENDED",
				fmt.Sprintf("Investigation deadline of %s extended to %s.", p.RegistrationNumber, extended.Format(time.DateOnly))))
			p = got
		})

		for _, tc := range []struct {
			name  string
			v     func() int
			until time.Time
			want  want
		}{
			{"ExtendErrMoreThanThreeMonths", func() int { return p.Version }, extended.AddDate(0, 4, 0), badField("until")},
			{"ExtendErrNotLater", func() int { return p.Version }, extended.AddDate(0, 0, -1), badField("until")},
			{"ExtendErrStaleVersion", func() int { return p.Version - 1 }, extended.AddDate(0, 1, 0), conflict},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, p.ID)
				h.refuse(t, office, extendDeadlineMutation, map[string]any{"id": p.ID, "v": tc.v(), "until": stamp(tc.until)}, tc.want, p.ID)
			})
		}

		t.Run("MoveThroughTrialToFinal", func(t *testing.T) {
			need(t, p.ID)
			type step struct {
				stage string
				at    *time.Time
				field func(prosecutionT) *time.Time // the date the stage sets
			}
			steps := []step{
				{"INVESTIGATION_CLOSED", ptr(date(7, 1)), func(p prosecutionT) *time.Time { return p.InvestigationClosedAt }},
				{"TRIAL_REQUESTED", ptr(date(7, 15)), func(p prosecutionT) *time.Time { return p.TrialRequestedAt }},
				{"FIRST_INSTANCE_TRIAL", ptr(date(9, 1)), nil},
				{"FIRST_INSTANCE_DECIDED", ptr(date(10, 1)), func(p prosecutionT) *time.Time { return p.FirstInstanceDecidedAt }},
				{"APPEAL", ptr(date(10, 20)), nil},
				{"APPEAL_DECIDED", ptr(date(12, 1)), func(p prosecutionT) *time.Time { return p.AppealDecidedAt }},
				{"FINAL", nil, func(p prosecutionT) *time.Time { return p.ClosedAt }},
			}
			for _, st := range steps {
				got := h.moveProsecutionAs(t, office, p, st.stage, st.at)
				if got.Stage != st.stage || got.Version != p.Version+1 {
					t.Fatalf("moveProsecutionStage(%s) = %+v", st.stage, got)
				}
				switch {
				case st.field == nil:
				case st.at != nil:
					sameTime(t, st.stage+" date", st.field(got), *st.at)
				default:
					if d := st.field(got); d == nil || time.Since(*d).Abs() > time.Minute {
						t.Errorf("%s date = %v, want now", st.stage, d)
					}
				}
				if (got.ClosedAt != nil) != (st.stage == "FINAL") {
					t.Errorf("after %s closedAt = %v", st.stage, got.ClosedAt)
				}
				events = h.expectEvents(t, c.ID, events, moved(p.Stage, st.stage), caseFollows(p.Stage, st.stage))
				p = got
			}
			// Earlier dates stay as they were.
			sameTime(t, "investigationStartedAt", p.InvestigationStartedAt, startedAt)
			sameTime(t, "investigationDeadline", p.InvestigationDeadline, extended)
			if p.DismissedAt != nil {
				t.Errorf("dismissedAt = %v, want null", p.DismissedAt)
			}
		})

		t.Run("MoveErrAfterFinal", func(t *testing.T) {
			need(t, p.ID)
			e := h.refuse(t, office, moveProsStageMutation, map[string]any{"id": p.ID, "v": p.Version, "stage": "APPEAL"}, badField("stage"), p.ID)
			wantNoMoveAllowed(t, e)
		})

		t.Run("MoveToDismissed", func(t *testing.T) {
			q := h.registerProsecution(t, c.ID, registeredAt)
			q = h.moveProsecution(t, q, "UNDER_INVESTIGATION", ptr(date(3, 5)))
			q = h.moveProsecution(t, q, "INVESTIGATION_CLOSED", ptr(date(4, 1)))
			q = h.moveProsecution(t, q, "DISMISSED", ptr(date(4, 20)))
			if q.Stage != "DISMISSED" || q.Version != 4 {
				t.Errorf("after DISMISSED: %+v", q)
			}
			sameTime(t, "dismissedAt", q.DismissedAt, date(4, 20))
			sameTime(t, "closedAt", q.ClosedAt, date(4, 20))
			if q.TrialRequestedAt != nil {
				t.Errorf("trialRequestedAt = %v, want null", q.TrialRequestedAt)
			}
		})

		// A deadline three months after 31 August is 30 November: a month
		// has no 31st day to roll over into December.
		var q prosecutionT
		t.Run("MoveToUnderInvestigationDeadlineAtMonthEnd", func(t *testing.T) {
			q = h.registerProsecution(t, c.ID, date(8, 1))
			q = h.moveProsecution(t, q, "UNDER_INVESTIGATION", ptr(date(8, 31)))
			if q.InvestigationDeadline != nil && q.InvestigationDeadline.Equal(date(8, 31).AddDate(0, 3, 0)) {
				t.Errorf("BUG: a proceeding under investigation from %s gets the deadline %s, three months and a day; want %s",
					date(8, 31).Format(time.DateOnly), q.InvestigationDeadline.Format(time.DateOnly), date(11, 30).Format(time.DateOnly))
			}
			sameTime(t, "investigationDeadline", q.InvestigationDeadline, tiranaDate(time.November, 30, 11)) // 09:00 UTC on 31 August is 11:00 in Tirana
		})

		t.Run("ExtendErrThreeMonthsAndADay", func(t *testing.T) {
			need(t, q.ID)
			if q.InvestigationDeadline == nil {
				t.Fatal("no deadline")
			}
			until := q.InvestigationDeadline.AddDate(0, 3, 1)
			r := h.do(t, h.prosecutor, extendDeadlineMutation, map[string]any{"id": q.ID, "v": q.Version, "until": stamp(until)})
			if len(r.Errors) == 0 {
				t.Errorf("BUG: extending the deadline %s to %s (three months and a day) is accepted; want BAD_USER_INPUT on until",
					q.InvestigationDeadline.Format(time.DateOnly), until.Format(time.DateOnly))
			}
			if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) || r.Errors[0].Extensions["field"] != "until" {
				t.Errorf("got %s", r.Body)
			}
		})
	})
}

// TestMutationEndedProsecutionUnchanged: an ended proceeding is a record of
// what was; it is not moved to another office (which would give that
// office standing on its case) nor otherwise changed, its charges
// included: a hunt reclassified a charge of a dismissed proceeding, which
// moved the monitoring mechanism's count of trafficking charges
// reclassified to a lesser offence.
func TestMutationEndedProsecutionUnchanged(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		p := h.registerProsecution(t, c.ID, date(3, 2))
		ch := call[chargeT](t, h, h.prosecutor, addChargeMutation, map[string]any{"in": map[string]any{"article": "CC_110A", "prosecutionID": p.ID}})
		for _, stage := range []string{"UNDER_INVESTIGATION", "INVESTIGATION_CLOSED", "DISMISSED"} {
			p = h.moveProsecution(t, p, stage, nil)
		}
		need(t, p.ID, ch.ID)
		for _, in := range []map[string]any{{"officeID": h.agency(t, "prosecution-durres")}, {"registeredAt": stamp(date(3, 3))}} {
			h.refuse(t, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": p.Version, "in": in}, badField("id"), p.ID)
		}
		h.refuse(t, h.prosecutor, reclassifyMutation, map[string]any{"id": ch.ID, "v": ch.Version, "article": "CC_114"}, badField("id"), ch.ID, p.ID)
	})
}

func TestMutationCharge(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, other := h.openCase(t), h.openCase(t)
		s, stranger := h.recordSuspect(t, c.ID), h.recordSuspect(t, other.ID)
		p := h.registerProsecution(t, c.ID, date(3, 2), s.ID)
		bystander := h.recordSuspect(t, c.ID) // of the case, not a defendant of p
		closed := h.moveProsecution(t, h.registerProsecution(t, c.ID, date(3, 2)), "TRANSFERRED", ptr(date(3, 3)))
		events := h.timeline(t, c.ID)
		var ch chargeT

		t.Run("AddOK", func(t *testing.T) {
			ch = call[chargeT](t, h, h.prosecutor, addChargeMutation, map[string]any{"in": map[string]any{
				"article": "CC_110A", "prosecutionID": p.ID, "suspectID": s.ID,
			}})
			if ch.ID == "" || ch.Version != 1 || ch.Article != "CC_110A" || ch.ReclassifiedFrom != nil || ch.ReclassifiedAt != nil ||
				ch.Prosecution.ID != p.ID || ch.Suspect == nil || ch.Suspect.ID != s.ID {
				t.Errorf("addCharge = %+v", ch)
			}
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("CHARGE_ADDED", "Charge under CC_110A added to "+p.RegistrationNumber+"."))
		})

		// A defendant the proceeding charges stays its defendant (a review:
		// removing them left the charge against someone it no longer
		// prosecutes).
		t.Run("RemoveErrChargedDefendant", func(t *testing.T) {
			need(t, ch.ID)
			for field, in := range map[string]map[string]any{
				"input.removeDefendantIDs": {"removeDefendantIDs": []string{s.ID}},
				"input.clearDefendants":    {"clearDefendants": true},
			} {
				h.refuse(t, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": p.Version, "in": in}, badField(field), p.ID)
			}
		})

		t.Run("ReclassifyTwiceKeepsFirstArticle", func(t *testing.T) {
			need(t, ch.ID)
			for i, step := range []struct{ from, to string }{{"CC_110A", "CC_128B"}, {"CC_128B", "CC_114"}} {
				got := call[chargeT](t, h, h.prosecutor, reclassifyMutation, map[string]any{"id": ch.ID, "v": ch.Version, "article": step.to})
				if got.Article != step.to || got.Version != i+2 || got.ReclassifiedFrom == nil || *got.ReclassifiedFrom != "CC_110A" ||
					got.ReclassifiedAt == nil || time.Since(*got.ReclassifiedAt).Abs() > time.Minute {
					t.Errorf("reclassifyCharge(%s) = %+v, want reclassifiedFrom CC_110A", step.to, got)
				}
				events = h.expectEvents(t, c.ID, events, h.prosecutor.event("CHARGE_RECLASSIFIED",
					fmt.Sprintf("Charge in %s reclassified from %s to %s.", p.RegistrationNumber, step.from, step.to)))
				ch = got
			}
		})

		h.refuseEach(t, h.prosecutor, reclassifyMutation, ch.ID, []refusal{
			{"ReclassifyErrSameArticle", func() map[string]any { return map[string]any{"id": ch.ID, "v": ch.Version, "article": ch.Article} }, badField("article")},
			{"ReclassifyErrStaleVersion", func() map[string]any { return map[string]any{"id": ch.ID, "v": 1, "article": "CC_115"} }, conflict},
			{"ReclassifyErrBadArticleEnum", func() map[string]any { return map[string]any{"id": ch.ID, "v": ch.Version, "article": "NOPE"} }, invalid},
			{"ReclassifyErrNotFound", func() map[string]any { return map[string]any{"id": p.ID, "v": 1, "article": "CC_115"} }, notFound},
		})

		for _, tc := range []struct {
			name string
			in   map[string]any
			want want
		}{
			{"AddErrProsecutionClosed", map[string]any{"article": "CC_110A", "prosecutionID": closed.ID}, badField("input.prosecutionID")},
			{"AddErrUnknownProsecution", map[string]any{"article": "CC_110A", "prosecutionID": missingProsecutionID}, badField("input.prosecutionID")},
			{"AddErrSuspectOfOtherCase", map[string]any{"article": "CC_110A", "prosecutionID": p.ID, "suspectID": stranger.ID}, badInput},
			// A proceeding charges its own defendants (a hunt over HTTP
			// charged a suspect of the case it did not prosecute).
			{"AddErrSuspectNotADefendant", map[string]any{"article": "CC_110A", "prosecutionID": p.ID, "suspectID": bystander.ID}, badField("input.suspectID")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := h.refuse(t, h.prosecutor, addChargeMutation, map[string]any{"in": tc.in}, tc.want)
				if tc.name == "AddErrSuspectOfOtherCase" {
					if f := e.Extensions["field"]; f != "input.suspectID" {
						t.Errorf("addCharge with a suspectID of another case names extensions.field %q; want where it sits, \"input.suspectID\"", f)
					}
				}
			})
		}
	})
}

func TestMutationCourtDecision(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openAssigned(t, "ADJUDICATING", "court-tirane", "court-appeal")
		p := h.bringToTrial(t, h.registerProsecution(t, c.ID, date(3, 2)))
		// Proceedings no decision fits: one no court has had yet, one
		// merged into another before a court had it and one the office
		// dismissed alone (on cases of their own: ending them ends their
		// case), and one brought to trial with no decision recorded.
		untried := h.registerProsecution(t, c.ID, date(3, 2))
		merged := h.moveProsecution(t, h.registerProsecution(t, h.openAssigned(t, "ADJUDICATING", "court-tirane").ID, date(3, 2)), "MERGED", nil)
		dismissed := h.registerProsecution(t, h.openAssigned(t, "ADJUDICATING", "court-tirane").ID, date(3, 2))
		for _, stage := range []string{"UNDER_INVESTIGATION", "INVESTIGATION_CLOSED", "DISMISSED"} {
			dismissed = h.moveProsecution(t, dismissed, stage, nil)
		}
		undecided := h.bringToTrial(t, h.registerProsecution(t, c.ID, date(3, 2)))
		events := h.timeline(t, c.ID)
		decidedOn := date(10, 1)
		input := func(verdict string, kind any, months any) map[string]any {
			return map[string]any{
				"instance": "FIRST_INSTANCE", "decidedOn": stamp(decidedOn), "verdict": verdict, "sentenceKind": kind,
				"sentenceMonths": months, "compensationOrderedLek": 500000, "prosecutionID": p.ID, "courtID": h.agency(t, "court-tirane"),
			}
		}
		var d decisionT

		t.Run("RecordOK", func(t *testing.T) {
			d = call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": input("CONVICTED", "IMPRISONMENT", 96)})
			want := decisionT{
				ID: d.ID, Version: 1, Instance: "FIRST_INSTANCE", Verdict: "CONVICTED", DecidedOn: d.DecidedOn, SentenceKind: ptr("IMPRISONMENT"),
				SentenceMonths: ptr(96), CompensationOrderedLek: ptr[int64](500000), Court: agencyRef{"court-tirane"}, Prosecution: nodeRef{p.ID},
			}
			if d.ID == "" || !reflect.DeepEqual(d, want) || !d.DecidedOn.Equal(decidedOn) {
				t.Errorf("recordCourtDecision =\n%+v, want\n%+v", d, want)
			}
			events = h.expectEvents(t, c.ID, events, h.judge.event("COURT_DECISION_RECORDED", "FIRST_INSTANCE decision in "+p.RegistrationNumber+": CONVICTED."))
		})

		h.refuseEachInput(t, h.judge, recordDecisionMutation, []inputRefusal{
			{"RecordErrSentenceOnAcquittal", func() map[string]any { return input("ACQUITTED", "IMPRISONMENT", 12) }, badField("input.sentenceKind")},
			{"RecordErrImprisonmentWithoutLength", func() map[string]any { return input("CONVICTED", "IMPRISONMENT", nil) }, badField("input.sentenceMonths")},
			{"RecordErrLengthWithoutKind", func() map[string]any { return input("CONVICTED", nil, 12) }, badField("input.sentenceKind")},
			{"RecordErrCourtIsProsecution", withField(func() map[string]any { return input("CONVICTED", "FINE", nil) }, "courtID", h.agency(t, "prosecution-tirane")), badField("input.courtID")},
			{"RecordErrUnknownProsecution", withField(func() map[string]any { return input("ACQUITTED", nil, nil) }, "prosecutionID", c.ID), badField("input.prosecutionID")},
			{"RecordErrNegativeCompensation", withField(func() map[string]any { return input("CONVICTED", "FINE", nil) }, "compensationOrderedLek", -1), badField("input.compensationOrderedLek")},
			// At most a trillion lek (domain.MaxCompensationLek): 5·10^18 twice
			// in one cell overflowed the statistics' sum (a hunt).
			{"RecordErrCompensationOverTheBound", withField(func() map[string]any { return input("CONVICTED", "FINE", nil) }, "compensationOrderedLek", int64(1_000_000_000_001)), badField("input.compensationOrderedLek")},
			{"RecordErrNoMonths", func() map[string]any { return input("CONVICTED", "IMPRISONMENT", 0) }, badField("input.sentenceMonths")},
			{"RecordErrBeforeRegistration", withField(func() map[string]any { return input("ACQUITTED", nil, nil) }, "decidedOn", stamp(date(3, 1))), badField("input.decidedOn")},
			// A court records its own decisions, not another court's.
			{"RecordErrAnotherCourt", withField(func() map[string]any { return input("ACQUITTED", nil, nil) }, "courtID", h.agency(t, "court-durres")),
				want{Code: "FORBIDDEN", Field: "input.courtID"}},
			// A decision fits the proceeding's course (a hunt recorded an
			// appeal's sentence by a court of first instance in a
			// proceeding still registered, and in one merged).
			{"RecordErrNoCourtHadIt", withField(func() map[string]any { return input("ACQUITTED", nil, nil) }, "prosecutionID", untried.ID), badField("input.prosecutionID")},
			{"RecordErrMerged", withField(func() map[string]any { return input("ACQUITTED", nil, nil) }, "prosecutionID", merged.ID), badField("input.prosecutionID")},
			{"RecordErrDismissedByTheOffice", withField(func() map[string]any { return input("CONVICTED", "FINE", nil) }, "prosecutionID", dismissed.ID), badField("input.prosecutionID")},
			{"RecordErrAnotherInstance", withField(func() map[string]any { return input("ACQUITTED", nil, nil) }, "instance", "APPEAL"), badField("input.instance")},
			{"RecordErrReviewVerdictAtFirstInstance", func() map[string]any { return input("UPHELD", nil, nil) }, badField("input.verdict")},
		})

		// An appeal reviews a first-instance decision recorded in the
		// proceeding: refused where none is, recorded where one is.
		t.Run("RecordAppealOfARecordedDecision", func(t *testing.T) {
			need(t, d.ID)
			appeal := h.principal(t, "court-appeal", viewer.RoleJudge)
			appealOf := func(prosecutionID string, on time.Time) map[string]any {
				return map[string]any{"in": map[string]any{"instance": "APPEAL", "decidedOn": stamp(on), "verdict": "UPHELD",
					"prosecutionID": prosecutionID, "courtID": h.agency(t, "court-appeal")}}
			}
			h.refuse(t, appeal, recordDecisionMutation, appealOf(undecided.ID, date(11, 1)), badField("input.instance"))
			// Nor before the decision it reviews (10-01).
			h.refuse(t, appeal, recordDecisionMutation, appealOf(p.ID, date(9, 1)), badField("input.instance"))
			got := call[decisionT](t, h, appeal, recordDecisionMutation, appealOf(p.ID, date(11, 1)))
			if got.Instance != "APPEAL" || got.Verdict != "UPHELD" || got.Court != (agencyRef{"court-appeal"}) {
				t.Errorf("recordCourtDecision by the court of appeal = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, appeal.event("COURT_DECISION_RECORDED", "APPEAL decision in "+p.RegistrationNumber+": UPHELD."))
		})

		t.Run("UpdateOKCompensationPaid", func(t *testing.T) {
			need(t, d.ID)
			got := call[decisionT](t, h, h.judge, updateDecisionMutation, map[string]any{"id": d.ID, "v": 1, "in": map[string]any{"compensationPaid": true}})
			if got.Version != 2 || !got.CompensationPaid || got.Verdict != "CONVICTED" || got.SentenceMonths == nil || *got.SentenceMonths != 96 {
				t.Errorf("updateCourtDecision = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.judge.event("COURT_DECISION_RECORDED", "Decision in "+p.RegistrationNumber+" updated."))
			d = got
		})

		// Another court's judge may not change it.
		t.Run("UpdateErrAnotherCourt", func(t *testing.T) {
			need(t, d.ID)
			appeal := h.principal(t, "court-appeal", viewer.RoleJudge)
			h.refuse(t, appeal, updateDecisionMutation, map[string]any{"id": d.ID, "v": d.Version,
				"in": map[string]any{"verdict": "ACQUITTED", "clearSentenceKind": true, "clearSentenceMonths": true}},
				want{Code: "FORBIDDEN", Field: "courtID"}, d.ID)
			// The refusal is an audit event about the decision.
			if n := h.refusalsAbout(t, appeal, "CourtDecision", d.ID); n != 1 {
				t.Errorf("%d refusals of %s about the decision in the audit trail, want 1", n, appeal.Subject)
			}
		})
		h.refuseEach(t, h.judge, updateDecisionMutation, d.ID, []refusal{
			// The appeal of 11-01 reviews it.
			{"UpdateErrAfterItsAppeal", func() map[string]any {
				return map[string]any{"id": d.ID, "v": d.Version, "in": map[string]any{"decidedOn": stamp(date(12, 1))}}
			}, badField("input.decidedOn")},
			{"UpdateErrBeforeRegistration", func() map[string]any {
				return map[string]any{"id": d.ID, "v": d.Version, "in": map[string]any{"decidedOn": stamp(date(3, 1))}}
			}, badField("input.decidedOn")},
			{"UpdateErrReviewVerdictAtFirstInstance", func() map[string]any {
				return map[string]any{"id": d.ID, "v": d.Version, "in": map[string]any{"verdict": "AMENDED"}}
			}, badField("input.verdict")},
			{"UpdateErrAcquittalKeepingSentence", func() map[string]any {
				return map[string]any{"id": d.ID, "v": d.Version, "in": map[string]any{"verdict": "ACQUITTED"}}
			}, badField("input.sentenceKind")},
			{"UpdateErrCompensationOverTheBound", func() map[string]any {
				return map[string]any{"id": d.ID, "v": d.Version, "in": map[string]any{"compensationOrderedLek": int64(5_000_000_000_000_000_000)}}
			}, badField("input.compensationOrderedLek")},
			{"UpdateErrStaleVersion", func() map[string]any {
				return map[string]any{"id": d.ID, "v": 1, "in": map[string]any{"compensationPaid": false}}
			}, conflict},
			{"UpdateErrNotFound", func() map[string]any {
				return map[string]any{"id": p.ID, "v": 1, "in": map[string]any{"compensationPaid": false}}
			}, notFound},
		})

		// A decision stored before the rules (a review's verdict at first
		// instance) still takes its payment: the verdict is checked only
		// when one is given.
		t.Run("UpdateOKPaymentOfADecisionStoredBefore", func(t *testing.T) {
			old := h.s.DB.Client.CourtDecision.Create().SetInstance("FIRST_INSTANCE").SetDecidedOn(date(10, 2)).SetVerdict("UPHELD").
				SetProsecutionID(atoi(t, p.ID)).SetCourtID(atoi(t, h.agency(t, "court-tirane"))).SaveX(systemCtx())
			call[decisionT](t, h, h.judge, updateDecisionMutation, map[string]any{"id": fmt.Sprint(old.ID), "v": old.Version,
				"in": map[string]any{"compensationPaid": true}})
		})

		t.Run("UpdateOKCompensationAtTheBound", func(t *testing.T) {
			need(t, d.ID)
			got := call[decisionT](t, h, h.judge, updateDecisionMutation, map[string]any{"id": d.ID, "v": d.Version,
				"in": map[string]any{"compensationOrderedLek": int64(1_000_000_000_000)}})
			if got.CompensationOrderedLek == nil || *got.CompensationOrderedLek != 1_000_000_000_000 {
				t.Errorf("updateCourtDecision = %+v", got)
			}
			d = got
		})

		// An acquittal carries no sentence and orders no compensation
		// (TestDecisionConvictingNoOneOrdersNoCompensation): both go.
		t.Run("UpdateOKAcquittalClearingSentence", func(t *testing.T) {
			need(t, d.ID)
			got := call[decisionT](t, h, h.judge, updateDecisionMutation, map[string]any{"id": d.ID, "v": d.Version, "in": map[string]any{
				"verdict": "ACQUITTED", "clearSentenceKind": true, "clearSentenceMonths": true,
				"clearCompensationOrderedLek": true, "compensationPaid": false,
			}})
			if got.Version != 4 || got.Verdict != "ACQUITTED" || got.SentenceKind != nil || got.SentenceMonths != nil || got.CompensationOrderedLek != nil || got.CompensationPaid {
				t.Errorf("updateCourtDecision = %+v", got)
			}
		})
	})
}

// TestDecisionConvictingNoOneOrdersNoCompensation: a conviction carries a
// sentence and may order compensation to the victim (docs/domain.md); a
// decision whose verdict convicts no one (domain.Verdict.MayConvict: an
// acquittal, a dismissal) orders none, neither an amount nor a payment,
// recorded or updated (BAD_USER_INPUT naming the field, as the sentence's
// refusal), and compensation stored on one before the rule is not counted
// by the statistics. Until 2026-12-07 (eighteenth session) the server
// refused such a decision's sentence but recorded an ACQUITTED or
// DISMISSED decision ordering 500,000 lek, paid, and prosecutionMeasures
// counted it as compensation ordered and paid to the victim of a
// proceeding in which nobody was convicted (a hunt over HTTP).
func TestDecisionConvictingNoOneOrdersNoCompensation(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openAssigned(t, "ADJUDICATING", "court-tirane")
		p := h.bringToTrial(t, h.registerProsecution(t, c.ID, date(3, 2)))
		input := func(verdict string, more map[string]any) func() map[string]any {
			return func() map[string]any {
				in := map[string]any{"instance": "FIRST_INSTANCE", "decidedOn": stamp(date(6, 1)), "verdict": verdict,
					"prosecutionID": p.ID, "courtID": h.agency(t, "court-tirane")}
				for k, v := range more {
					in[k] = v
				}
				return in
			}
		}
		ordered := map[string]any{"compensationOrderedLek": 500000, "compensationPaid": true}
		var refusals []inputRefusal
		for _, verdict := range []string{"ACQUITTED", "DISMISSED"} {
			refusals = append(refusals,
				inputRefusal{"RecordErr" + verdict + "OrderingCompensation", input(verdict, ordered), badField("input.compensationOrderedLek")},
				inputRefusal{"RecordErr" + verdict + "OrderingNothing", input(verdict, map[string]any{"compensationOrderedLek": 0}), badField("input.compensationOrderedLek")},
				inputRefusal{"RecordErr" + verdict + "Paying", input(verdict, map[string]any{"compensationPaid": true}), badField("input.compensationPaid")})
		}
		h.refuseEachInput(t, h.judge, recordDecisionMutation, refusals)

		// A conviction ordering compensation, made an acquittal: the
		// compensation goes with the sentence, or the update is refused.
		d := call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": input("CONVICTED", map[string]any{
			"sentenceKind": "FINE", "compensationOrderedLek": 500000, "compensationPaid": true})()})
		acquit := map[string]any{"verdict": "ACQUITTED", "clearSentenceKind": true}
		with := func(in map[string]any, k string, v any) map[string]any {
			out := map[string]any{k: v}
			for k, v := range in {
				out[k] = v
			}
			return out
		}
		h.refuseEach(t, h.judge, updateDecisionMutation, d.ID, []refusal{
			{"UpdateErrAcquittalKeepingCompensation", func() map[string]any {
				return map[string]any{"id": d.ID, "v": d.Version, "in": acquit}
			}, badField("input.compensationOrderedLek")},
			{"UpdateErrAcquittalKeepingPayment", func() map[string]any {
				return map[string]any{"id": d.ID, "v": d.Version, "in": with(acquit, "clearCompensationOrderedLek", true)}
			}, badField("input.compensationPaid")},
		})
		d = call[decisionT](t, h, h.judge, updateDecisionMutation, map[string]any{"id": d.ID, "v": d.Version,
			"in": with(with(acquit, "clearCompensationOrderedLek", true), "compensationPaid", false)})
		if d.Verdict != "ACQUITTED" || d.CompensationOrderedLek != nil || d.CompensationPaid || d.SentenceKind != nil {
			t.Errorf("acquittal clearing its sentence and compensation = %+v", d)
		}
		h.refuseEach(t, h.judge, updateDecisionMutation, d.ID, []refusal{
			{"UpdateErrAcquittalOrderingCompensation", func() map[string]any {
				return map[string]any{"id": d.ID, "v": d.Version, "in": map[string]any{"compensationOrderedLek": 1}}
			}, badField("input.compensationOrderedLek")},
			{"UpdateErrAcquittalPaying", func() map[string]any {
				return map[string]any{"id": d.ID, "v": d.Version, "in": map[string]any{"compensationPaid": true}}
			}, badField("input.compensationPaid")},
		})

		// Compensation stored on an acquittal before the rule: recorded as
		// it was, counted as ordered by no statistic. Beside it a
		// conviction ordering 200,000 lek, unpaid, which they count.
		h.s.DB.Client.CourtDecision.Create().SetInstance("FIRST_INSTANCE").SetDecidedOn(date(6, 2)).SetVerdict("ACQUITTED").
			SetCompensationOrderedLek(700000).SetCompensationPaid(true).
			SetProsecutionID(atoi(t, p.ID)).SetCourtID(atoi(t, h.agency(t, "court-tirane"))).ExecX(systemCtx())
		call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": input("CONVICTED", map[string]any{
			"sentenceKind": "FINE", "compensationOrderedLek": 200000})()})
		var stats struct {
			ProsecutionMeasures struct {
				Total struct {
					CompensationOrdered, CompensationPaid int
					CompensationOrderedLek                *float64
				}
			}
			DecisionStatistics struct {
				Cells []struct {
					Values []string
					Count  int
				}
			}
		}
		h.do(t, h.prosecutor, `{ prosecutionMeasures { total { compensationOrdered compensationPaid compensationOrderedLek } }
			decisionStatistics(groupBy: [VERDICT, COMPENSATION]) { cells { values count } } }`, nil).MustOK(t).Decode(t, &stats)
		if m := stats.ProsecutionMeasures.Total; m.CompensationOrdered != 1 || m.CompensationPaid != 0 || m.CompensationOrderedLek == nil || *m.CompensationOrderedLek != 200000 {
			lek := "null"
			if m.CompensationOrderedLek != nil {
				lek = fmt.Sprint(*m.CompensationOrderedLek)
			}
			t.Errorf("prosecutionMeasures: compensation ordered %d, paid %d, %s lek; want the conviction's alone: 1, 0, 200000",
				m.CompensationOrdered, m.CompensationPaid, lek)
		}
		cells := map[string]int{}
		for _, cell := range stats.DecisionStatistics.Cells {
			cells[strings.Join(cell.Values, " ")] = cell.Count
		}
		if want := map[string]int{"ACQUITTED NOT_ORDERED": 2, "CONVICTED ORDERED_UNPAID": 1}; !reflect.DeepEqual(cells, want) {
			t.Errorf("decisionStatistics by verdict and compensation = %v, want %v", cells, want)
		}
	})
}

// TestMutationProceedingByItsOfficeOnly: an office that sees another
// office's proceeding (the General Prosecution Office sees every one) may
// not end it (which closes its case), take it over (which opens its
// victims' identity and testimony), extend its deadline, or add or
// reclassify its charges: FORBIDDEN, and nothing changes. Each request is
// one its own office may make, as the last step shows.
func TestMutationProceedingByItsOfficeOnly(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		general := h.principal(t, "prosecution-general", viewer.RoleProsecutor)
		c := h.openCase(t)
		p := h.moveProsecution(t, h.registerProsecution(t, c.ID, date(3, 2)), "UNDER_INVESTIGATION", ptr(date(3, 5)))
		ch := call[chargeT](t, h, h.prosecutor, addChargeMutation, map[string]any{"in": map[string]any{"article": "CC_110A", "prosecutionID": p.ID}})
		forbidden := want{Code: "FORBIDDEN", Field: "id"}
		for _, tc := range []struct {
			name, query string
			vars        map[string]any
			want        want
			watch       string
		}{
			{"EndIt", moveProsStageMutation, map[string]any{"id": p.ID, "v": p.Version, "stage": "TRANSFERRED"}, forbidden, p.ID},
			{"TakeItOver", updateProsMutation, map[string]any{"id": p.ID, "v": p.Version,
				"in": map[string]any{"officeID": h.agency(t, "prosecution-general")}}, forbidden, p.ID},
			{"ExtendItsDeadline", extendDeadlineMutation, map[string]any{"id": p.ID, "v": p.Version, "until": stamp(date(7, 1))}, forbidden, p.ID},
			{"AddACharge", addChargeMutation, map[string]any{"in": map[string]any{"article": "CC_114", "prosecutionID": p.ID}},
				want{Code: "FORBIDDEN", Field: "input.prosecutionID"}, p.ID},
			{"ReclassifyACharge", reclassifyMutation, map[string]any{"id": ch.ID, "v": ch.Version, "article": "CC_128B"}, forbidden, ch.ID},
		} {
			t.Run(tc.name, func(t *testing.T) { h.refuse(t, general, tc.query, tc.vars, tc.want, tc.watch) })
		}
		t.Run("EachRefusalIsAnAuditEvent", func(t *testing.T) {
			// About the proceeding, so that the DPOs of the agencies on
			// its case find who tried (a review found them unrecorded).
			if n := h.refusalsAbout(t, general, "Prosecution", p.ID); n != 5 {
				t.Errorf("%d refusals of %s about the proceeding in the audit trail, want 5 (one a refused mutation)", n, general.Subject)
			}
		})
		t.Run("ItsOfficeMay", func(t *testing.T) {
			if got := h.moveProsecution(t, p, "TRANSFERRED", nil); got.Stage != "TRANSFERRED" {
				t.Errorf("the proceeding's own office moved it to %s, want TRANSFERRED", got.Stage)
			}
		})
	})
}

// TestMutationCourtMovesWhatIsBeforeIt: a court on a proceeding's case
// moves it while it is before that court (a court of first instance from
// a trial requested to the appeal lodged, a court of appeal the appeal),
// but neither ends it as the office would (TRANSFERRED, MERGED), nor moves
// it during the investigation, nor decides for another level.
func TestMutationCourtMovesWhatIsBeforeIt(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openAssigned(t, "ADJUDICATING", "court-tirane", "court-appeal")
		p := h.moveProsecution(t, h.registerProsecution(t, c.ID, date(3, 2)), "UNDER_INVESTIGATION", ptr(date(3, 5)))
		forbidden := want{Code: "FORBIDDEN", Field: "id"}
		t.Run("NotDuringTheInvestigation", func(t *testing.T) {
			h.refuse(t, h.judge, moveProsStageMutation, map[string]any{"id": p.ID, "v": p.Version, "stage": "INVESTIGATION_CLOSED"}, forbidden, p.ID)
		})
		p = h.moveProsecution(t, p, "INVESTIGATION_CLOSED", ptr(date(5, 1)))
		p = h.moveProsecution(t, p, "TRIAL_REQUESTED", ptr(date(5, 2)))
		t.Run("NotToTransferIt", func(t *testing.T) {
			h.refuse(t, h.judge, moveProsStageMutation, map[string]any{"id": p.ID, "v": p.Version, "stage": "TRANSFERRED"}, forbidden, p.ID)
		})
		// A court on the case in another part (the police may assign one
		// COORDINATING) sees the proceeding but does not adjudicate it.
		t.Run("NotByACourtOnTheCaseInAnotherPart", func(t *testing.T) {
			call[assignmentT](t, h, h.police, assignAgencyMutation, map[string]any{"case": c.ID, "agency": h.agency(t, "court-durres"), "part": "COORDINATING"})
			durres := h.principal(t, "court-durres", viewer.RoleJudge)
			before := h.refusalsAbout(t, durres, "Prosecution", p.ID)
			h.refuse(t, durres, moveProsStageMutation, map[string]any{"id": p.ID, "v": p.Version, "stage": "FIRST_INSTANCE_TRIAL"}, forbidden, p.ID)
			if after := h.refusalsAbout(t, durres, "Prosecution", p.ID); after != before+1 {
				t.Errorf("refusals of court-durres about the proceeding: %d → %d, want one more", before, after)
			}
		})
		t.Run("ThroughTheTrial", func(t *testing.T) {
			for _, stage := range []string{"FIRST_INSTANCE_TRIAL", "FIRST_INSTANCE_DECIDED", "APPEAL"} {
				if p = h.moveProsecutionAs(t, h.judge, p, stage, nil); p.Stage != stage {
					t.Fatalf("the court moved the proceeding to %s, want %s", p.Stage, stage)
				}
			}
		})
		// The appeal is the court of appeal's: the court of first
		// instance, on the same case, does not decide it.
		t.Run("NotAnotherLevelsDecision", func(t *testing.T) {
			h.refuse(t, h.judge, moveProsStageMutation, map[string]any{"id": p.ID, "v": p.Version, "stage": "APPEAL_DECIDED"}, forbidden, p.ID)
			appeal := h.principal(t, "court-appeal", viewer.RoleJudge)
			if p = h.moveProsecutionAs(t, appeal, p, "APPEAL_DECIDED", nil); p.Stage != "APPEAL_DECIDED" {
				t.Fatalf("the court of appeal moved the proceeding to %s, want APPEAL_DECIDED", p.Stage)
			}
		})
	})
}
