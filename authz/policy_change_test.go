package authz_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/ent/policychange"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// 5. Policy change at run time
// ---------------------------------------------------------------------------

const (
	changePolicy   = `mutation ($add: [[String!]!], $remove: [[String!]!], $reason: String!) { changePolicy(add: $add, remove: $remove, reason: $reason) { added removed } }`
	policyLines    = `{ policyLines }`
	judgePhoneRule = "p, judge, court, Victim:CONTACT, read, proceedings"
	changeReason   = "Courts need to summon victims by phone"
)

var judgePhoneLine = []string{"p", "judge", "court", "Victim:CONTACT", "read", "proceedings"}

func TestPolicyChange(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		admin := e.tok(t, "onac", viewer.RoleAdmin)
		judge := e.tok(t, "court-tirane", viewer.RoleJudge)
		dpo := e.tok(t, "police-tirane", viewer.RoleDPO)

		lines := func(t *testing.T) []string {
			t.Helper()
			var d struct{ PolicyLines [][]string }
			e.do(t, admin, policyLines, nil).MustOK(t).Decode(t, &d)
			out := make([]string, len(d.PolicyLines))
			for i, l := range d.PolicyLines {
				out[i] = strings.Join(l, ", ")
			}
			return out
		}
		initial := lines(t)
		if slices.Contains(initial, judgePhoneRule) {
			t.Fatalf("the default policy already has %q", judgePhoneRule)
		}
		if !slices.Contains(initial, "p, judge, court, Victim:IDENTITY, read, proceedings") {
			t.Fatalf("policyLines lacks a default line: %q", initial)
		}
		judgeBefore := []string{"legalName", "testimonySummary"}
		e.readVictim(t, judge, f.vT, judgeBefore...)

		t.Run("PolicyLines", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				token string
				code  string
			}{
				{"OKAdmin", admin, ""},
				{"OKDPO", dpo, ""},
				{"ErrJudge", judge, "FORBIDDEN"},
				{"ErrInvestigator", e.tok(t, "police-tirane", viewer.RoleInvestigator), "FORBIDDEN"},
				{"ErrAnalyst", e.tok(t, "onac", viewer.RoleAnalyst), "FORBIDDEN"},
				{"ErrCoordinator", e.tok(t, "onac", viewer.RoleCoordinator), "FORBIDDEN"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := e.do(t, tc.token, policyLines, nil)
					if tc.code != "" {
						wantRefusal(t, r, tc.code, "")
						return
					}
					var d struct{ PolicyLines [][]string }
					r.MustOK(t).Decode(t, &d)
					if len(d.PolicyLines) != len(initial) {
						t.Errorf("%d lines, want %d", len(d.PolicyLines), len(initial))
					}
				})
			}
		})

		t.Run("Refusals", func(t *testing.T) {
			valid := judgePhoneLine
			for _, tc := range []struct {
				name   string
				token  string
				vars   map[string]any
				code   string
				field  string
				status int
			}{
				{"ErrNotAdminJudge", judge, map[string]any{"add": [][]string{valid}, "reason": changeReason}, "FORBIDDEN", "Mutation.changePolicy", 200},
				{"ErrNotAdminDPO", dpo, map[string]any{"add": [][]string{valid}, "reason": changeReason}, "FORBIDDEN", "Mutation.changePolicy", 200},
				{"ErrEmptyReason", admin, map[string]any{"add": [][]string{valid}, "reason": ""}, "BAD_USER_INPUT", "reason", 200},
				{"ErrBlankReason", admin, map[string]any{"add": [][]string{valid}, "reason": "          "}, "BAD_USER_INPUT", "reason", 200},
				// A reason the policy's history would show blank (a hunt had
				// four zero-width spaces accepted), or of punctuation alone.
				{"ErrInvisibleReason", admin, map[string]any{"add": [][]string{valid}, "reason": strings.Repeat("\u200b", 12)}, "BAD_USER_INPUT", "reason", 200},
				{"ErrReasonWithAnInvisible", admin, map[string]any{"add": [][]string{valid}, "reason": "Courts\u200b summon victims"}, "BAD_USER_INPUT", "reason", 200},
				{"ErrVariationSelectorsInReason", admin, map[string]any{"add": [][]string{valid}, "reason": "Courts" + strings.Repeat("\ufe0f", 40) + " summon victims"}, "BAD_USER_INPUT", "reason", 200},
				{"ErrPunctuationReason", admin, map[string]any{"add": [][]string{valid}, "reason": "..........!!"}, "BAD_USER_INPUT", "reason", 200},
				{"ErrNothing", admin, map[string]any{"reason": changeReason}, "BAD_USER_INPUT", "", 200},
				{"ErrUnknownRole", admin, map[string]any{"add": [][]string{{"p", "janitor", "court", "Victim:CONTACT", "read", "proceedings"}}, "reason": changeReason}, "BAD_USER_INPUT", "add", 200},
				{"ErrUnknownKind", admin, map[string]any{"add": [][]string{{"p", "judge", "PIZZERIA", "Victim:CONTACT", "read", "proceedings"}}, "reason": changeReason}, "BAD_USER_INPUT", "add", 200},
				{"ErrUnknownField", admin, map[string]any{"add": [][]string{{"p", "judge", "court", "Victim.favouriteColour", "read", "proceedings"}}, "reason": changeReason}, "BAD_USER_INPUT", "add", 200},
				{"ErrUnknownCategory", admin, map[string]any{"add": [][]string{{"p", "judge", "court", "Victim:SECRETS", "read", "proceedings"}}, "reason": changeReason}, "BAD_USER_INPUT", "add", 200},
				{"ErrUnknownAction", admin, map[string]any{"add": [][]string{{"p", "judge", "court", "Victim:CONTACT", "delete", "proceedings"}}, "reason": changeReason}, "BAD_USER_INPUT", "add", 200},
				{"ErrUnknownCondition", admin, map[string]any{"add": [][]string{{"p", "judge", "court", "Victim:CONTACT", "read", "always"}}, "reason": changeReason}, "BAD_USER_INPUT", "add", 200},
				{"ErrUnknownMutation", admin, map[string]any{"add": [][]string{{"p", "judge", "court", "Mutation.dropTables", "call", "any"}}, "reason": changeReason}, "BAD_USER_INPUT", "add", 200},
				{"ErrShortLine", admin, map[string]any{"add": [][]string{{"p", "judge", "court"}}, "reason": changeReason}, "BAD_USER_INPUT", "add", 200},
				{"ErrValidWithInvalid", admin, map[string]any{"add": [][]string{valid, {"p", "janitor", "court", "Victim:CONTACT", "read", "proceedings"}}, "reason": changeReason}, "BAD_USER_INPUT", "add", 200},
				// A threshold the enforcer would not match ("020" is asked
				// about as "20"): a hunt had it stored and listed, and
				// without effect.
				{"ErrThresholdWithALeadingZero", admin, map[string]any{"add": [][]string{{"p", "coordinator", "governance", "statistics", "threshold", "020"}}, "reason": changeReason}, "BAD_USER_INPUT", "add", 200},
				{"ErrThresholdWithASign", admin, map[string]any{"add": [][]string{{"p", "coordinator", "governance", "statistics", "threshold", "+20"}}, "reason": changeReason}, "BAD_USER_INPUT", "add", 200},
				// A short line beside a guardian's removal: validation
				// panicked (INTERNAL), reading the short line's fields.
				{"ErrShortLineWithTheDPOsVerifyRemoved", admin, map[string]any{"add": [][]string{{"p"}}, "remove": [][]string{{"p", "dpo", "*", "audit", "verify", "any"}}, "reason": changeReason}, "BAD_USER_INPUT", "add", 200},
				// The break glass keeps its brake: the officers' review
				// and revocation of emergency grants are not removed while
				// anyone may ask for one (twenty-seventh session).
				{"ErrTheDPOsRevokeRemoved", admin, map[string]any{"remove": [][]string{{"p", "dpo", "*", "Mutation.revokeEmergencyAccess", "call", "any"}}, "reason": changeReason}, "BAD_USER_INPUT", "remove", 200},
				{"ErrTheDPOsReviewRemoved", admin, map[string]any{"remove": [][]string{{"p", "dpo", "*", "emergency", "review", "any"}}, "reason": changeReason}, "BAD_USER_INPUT", "remove", 200},
				{"ErrRemoveAbsent", admin, map[string]any{"add": [][]string{valid}, "remove": [][]string{{"p", "judge", "court", "Victim:HEALTH", "read", "proceedings"}}, "reason": changeReason}, "BAD_USER_INPUT", "remove", 200},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := counts(t, e.db.Client)
					r := e.do(t, tc.token, changePolicy, tc.vars)
					wantRefusal(t, r, tc.code, tc.field)
					if r.Status != tc.status {
						t.Errorf("status %d, want %d", r.Status, tc.status)
					}
					unchanged(t, e.db.Client, before)
					if got := lines(t); !slices.Equal(got, initial) {
						t.Errorf("the policy changed")
					}
					e.readVictim(t, judge, f.vT, judgeBefore...)
				})
			}
			t.Run("ErrReasonOmitted", func(t *testing.T) {
				before := counts(t, e.db.Client)
				r := e.do(t, admin, `mutation ($add: [[String!]!]) { changePolicy(add: $add) { added } }`, map[string]any{"add": [][]string{valid}})
				if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" {
					t.Errorf("want one BAD_USER_INPUT, got %s", r.Body)
				}
				if r.Status != http.StatusOK {
					// Known elsewhere: validation errors answer 422.
					t.Logf("status %d for a GraphQL validation error", r.Status)
				}
				unchanged(t, e.db.Client, before)
				e.readVictim(t, judge, f.vT, judgeBefore...)
			})
		})

		t.Run("OK", func(t *testing.T) {
			r := e.do(t, admin, changePolicy, map[string]any{"add": [][]string{judgePhoneLine}, "reason": changeReason}).MustOK(t)
			if string(r.Data) != `{"changePolicy":{"added":1,"removed":0}}` {
				t.Errorf("data = %s", r.Data)
			}
			// In force on the very next request, on the same server.
			e.readVictim(t, judge, f.vT, "legalName", "testimonySummary", "phone", "address")
			if got := lines(t); !slices.Contains(got, judgePhoneRule) || len(got) != len(initial)+1 {
				t.Errorf("policyLines after the change lacks %q", judgePhoneRule)
			}
			changes := ok(e.db.Client.PolicyChange.Query().Where(policychange.ActorSubjectNEQ(authz.DefaultPolicyActor)).All(sys()))(t)
			if len(changes) != 1 || changes[0].Reason != changeReason || changes[0].ActorSubject != subject("onac", viewer.RoleAdmin) ||
				changes[0].ActorAgency != "onac" || len(changes[0].Added) != 1 || !slices.Equal(changes[0].Added[0], judgePhoneLine) {
				t.Errorf("recorded changes = %+v", changes)
			}
			// The line names the court family: every court on a case's
			// proceedings reads contact data now, within its own rows.
			e.readVictim(t, e.tok(t, "court-durres", viewer.RoleJudge), f.vD, "legalName", "testimonySummary", "phone", "address")
			e.wantHidden(t, judge, "vD", f.vD)
		})

		t.Run("OKRemove", func(t *testing.T) {
			r := e.do(t, admin, changePolicy, map[string]any{"remove": [][]string{judgePhoneLine}, "reason": "Summons go through the prosecution again"}).MustOK(t)
			if string(r.Data) != `{"changePolicy":{"added":0,"removed":1}}` {
				t.Errorf("data = %s", r.Data)
			}
			e.readVictim(t, judge, f.vT, judgeBefore...)
			if got := lines(t); !slices.Equal(got, initial) {
				t.Errorf("policyLines after removal differ from the initial policy")
			}
		})

		// A document's later mutations are decided under the policy its
		// earlier ones changed (a hunt: the field rules read by the first
		// mutation's payload held for the whole document).
		t.Run("InForceForTheRestOfTheDocument", func(t *testing.T) {
			judgeAdmin := e.s.Token(t, "court-tirane", viewer.RoleJudge, viewer.RoleAdmin)
			const victims = `{ case { victims(first: 10) { edges { node { pseudonym phone } } } } }`
			document := `mutation ($case: ID!, $court: ID!, $add: [[String!]!], $reason: String!) {
				before: assignAgencyToCase(caseID: $case, agencyID: $court, part: ADJUDICATING) ` + victims + `
				change: changePolicy(add: $add, reason: $reason) { added }
				after: assignAgencyToCase(caseID: $case, agencyID: $court, part: ADJUDICATING) ` + victims + ` }`
			r := e.s.Do(t, judgeAdmin, document, map[string]any{"case": gid(f.caseT), "court": gid(f.id(t, "court-tirane")),
				"add": [][]string{judgePhoneLine}, "reason": changeReason})
			defer e.do(t, admin, changePolicy, map[string]any{"remove": [][]string{judgePhoneLine}, "reason": "Summons go through the prosecution again"}).MustOK(t)
			type payload struct {
				Case struct {
					Victims struct {
						Edges []struct {
							Node struct{ Pseudonym, Phone *string }
						}
					}
				}
			}
			d := decode[struct{ Before, After payload }](t, r)
			phoneOfVT := func(p payload) *string {
				for _, e := range p.Case.Victims.Edges {
					if e.Node.Pseudonym != nil && *e.Node.Pseudonym == f.pseudonym[f.vT] {
						return e.Node.Phone
					}
				}
				t.Fatalf("no %s among the case's victims:\n%s", f.pseudonym[f.vT], r.Body)
				return nil
			}
			if got := phoneOfVT(d.Before); got != nil {
				t.Errorf("before the change, the judge read the phone %q", *got)
			}
			if got, want := phoneOfVT(d.After), secret(f.pseudonym[f.vT], "phone"); got == nil || *got != want {
				t.Errorf("after the change in the same document, the phone is %v, want %q (the policy read by the first mutation held):\n%s", got, want, r.Body)
			}
		})

		// The same for rows: the judge's rows, removed by the document's
		// second mutation, no longer hold the case for its third.
		t.Run("RowsInForceForTheRestOfTheDocument", func(t *testing.T) {
			judgeAdmin := e.s.Token(t, "court-tirane", viewer.RoleJudge, viewer.RoleAdmin)
			rows := [][]string{{"p", "judge", "court", "rows:cases", "see", "assigned"}, {"p", "judge", "court", "rows:victims", "see", "assigned"}}
			document := `mutation ($case: ID!, $court: ID!, $remove: [[String!]!], $reason: String!) {
				before: assignAgencyToCase(caseID: $case, agencyID: $court, part: ADJUDICATING) { case { id } }
				change: changePolicy(remove: $remove, reason: $reason) { removed }
				after: assignAgencyToCase(caseID: $case, agencyID: $court, part: ADJUDICATING) { case { id } } }`
			r := e.s.Do(t, judgeAdmin, document, map[string]any{"case": gid(f.caseT), "court": gid(f.id(t, "court-tirane")),
				"remove": rows, "reason": "Courts see cases through the prosecution's file"})
			defer e.do(t, admin, changePolicy, map[string]any{"add": rows, "reason": "Courts see the cases assigned to them"}).MustOK(t)
			d := decode[struct {
				Before, After *struct{ Case struct{ ID string } }
				Change        *struct{ Removed int }
			}](t, r)
			if d.Before == nil || d.Before.Case.ID != gid(f.caseT) || d.Change == nil || d.Change.Removed != 2 {
				t.Fatalf("the document's first two mutations did not run as expected:\n%s", r.Body)
			}
			if d.After != nil || len(r.Errors) != 1 || testserver.PathString(r.Errors[0].Path) != "after" || r.Errors[0].Field() != "caseID" {
				t.Errorf("the third mutation saw the case under the rows the second removed, want one error at after, on caseID:\n%s", r.Body)
			}
		})

		// A role that may call changePolicy without the power to change
		// the policy is refused, and the attempt is recorded as every
		// refused mutation is (it left no event: a hunt over HTTP).
		t.Run("RefusedForWantOfThePowerIsRecorded", func(t *testing.T) {
			call := []string{"p", "dpo", "*", "Mutation.changePolicy", "call", "any"}
			e.do(t, admin, changePolicy, map[string]any{"add": [][]string{call}, "reason": "Data protection officers propose changes"}).MustOK(t)
			defer func() {
				e.do(t, admin, changePolicy, map[string]any{"remove": [][]string{call}, "reason": "Data protection officers propose no changes"}).MustOK(t)
			}()
			refused := func() int {
				return ok(e.db.Client.AuditEvent.Query().Where(auditevent.ActorSubject(subject("police-tirane", viewer.RoleDPO)),
					auditevent.Kind("MUTATION"), auditevent.Fields("Mutation.changePolicy"), auditevent.Decision("DENIED")).Count(sys()))(t)
			}
			before := refused()
			r := e.do(t, dpo, changePolicy, map[string]any{"add": [][]string{judgePhoneLine}, "reason": changeReason})
			if codes := r.Codes(); !slices.Equal(codes, []string{"FORBIDDEN"}) || r.Errors[0].Message != "Your role may not change the access policy." {
				t.Fatalf("a DPO calling changePolicy without the power: %s", r.Body)
			}
			if n := refused() - before; n != 1 {
				t.Errorf("the refused change left %d events, want 1", n)
			}
		})
	})
}

// nullData reports whether a response carries no data.
func nullData(data json.RawMessage) bool { return len(data) == 0 || string(data) == "null" }
