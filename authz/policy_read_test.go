package authz_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "policytools", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPolicyReadingOverGraphQL asks the matrix, an explanation, a what-if
// and the history over HTTP, as a DPO and an admin would, and checks them
// against the golden files of the shipped policy (the same the command
// line is held to) and that nobody else may ask.
func TestPolicyReadingOverGraphQL(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	// The whole matrix is computed in memory: about a second on a quiet
	// machine, past the 5-second request deadline when the package runs
	// beside the others on two busy cores. This test reads its content;
	// the deadline has tests of its own (server's TestDeadline).
	e := start(t, db, testserver.Options{Config: server.Config{RequestTimeout: time.Minute}})
	dpo := e.tok(t, "ngo-vatra", viewer.RoleDPO)
	admin := e.tok(t, "onac", viewer.RoleAdmin)

	t.Run("OnlyDPOsAndAdmins", func(t *testing.T) {
		for _, q := range []string{
			`{ accessMatrix { csv } }`,
			`{ explainAccess(question: {roles: [judge], agencyKind: HIGH_COURT, field: "Victim.legalName"}) { allowed } }`,
			`{ policyWhatIf(add: [["p","judge","court","Victim.phone","read","any"]]) { role } }`,
			`{ policyChanges { reason } }`,
		} {
			r := e.do(t, e.tok(t, "court-tirane", viewer.RoleJudge), q, nil)
			if codes := r.Codes(); !slices.Equal(codes, []string{"FORBIDDEN"}) || !nullData(r.Data) {
				t.Errorf("%s as a judge: %s", q, r.Body)
			}
		}
	})
	t.Run("Matrix", func(t *testing.T) {
		var d struct {
			AccessMatrix struct {
				Markdown, CSV string
				Cells         []struct {
					Role, Kind, Object, Action string
					Allowed                    bool
					Condition                  *string
				}
			}
		}
		e.do(t, dpo, `{ accessMatrix { markdown csv cells { role kind object action allowed condition } } }`, nil).MustOK(t).Decode(t, &d)
		if d.AccessMatrix.CSV != readGolden(t, "matrix.csv.golden") || d.AccessMatrix.Markdown != readGolden(t, "matrix.md.golden") {
			t.Errorf("the matrix over GraphQL is not the shipped policy's")
		}
		i := slices.IndexFunc(d.AccessMatrix.Cells, func(c struct {
			Role, Kind, Object, Action string
			Allowed                    bool
			Condition                  *string
		}) bool {
			return c.Role == "judge" && c.Kind == "HIGH_COURT" && c.Object == "Victim.legalName" && c.Action == "read"
		})
		if i < 0 || !d.AccessMatrix.Cells[i].Allowed || d.AccessMatrix.Cells[i].Condition == nil || *d.AccessMatrix.Cells[i].Condition != "proceedings" {
			t.Errorf("the judge's legal name cell is missing or wrong")
		}
	})
	t.Run("Explain", func(t *testing.T) {
		var d explainAnswer
		e.do(t, admin, `{ explainAccess(question: {roles: [case_worker], agencyKind: NGO_SHELTER, field: "Victim.legalName"}) {
			allowed rules text conditions { condition allowed consentRequired purposes } emergency { opens } } }`, nil).MustOK(t).Decode(t, &d)
		x := d.ExplainAccess
		if !x.Allowed || !slices.Equal(x.Rules, []string{"p, case_worker, support, Victim:IDENTITY, read, referred"}) || !x.Emergency.Opens ||
			x.Text != readGolden(t, "explain_case_worker_ngo_shelter_read_legal_name.golden") {
			t.Errorf("explanation = %+v", x)
		}
		if i := slices.IndexFunc(x.Conditions, func(c explainedCondition) bool { return c.Condition == "referred" }); i < 0 || !x.Conditions[i].Allowed || !x.Conditions[i].ConsentRequired || !slices.Equal(x.Conditions[i].Purposes, []string{"SERVICES"}) {
			t.Errorf("referred condition = %+v", x.Conditions)
		}
		// A refused question names where the part sits in the request.
		for question, field := range map[string]string{
			`{roles: [judge], agencyKind: HIGH_COURT, field: "Victim.shoeSize"}`:          "question.field",
			`{roles: [judge, dpo, judge], agencyKind: HIGH_COURT, field: "Victim.phone"}`: "question.roles",
			`{roles: [judge], agencyKind: HIGH_COURT}`:                                    "question.field",
		} {
			r := e.do(t, dpo, `{ explainAccess(question: `+question+`) { allowed } }`, nil)
			if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) || r.Errors[0].Field() != field {
				t.Errorf("%s: want BAD_USER_INPUT at %s, got %s", question, field, r.Body)
			}
		}
	})
	t.Run("WhatIfChangesNothing", func(t *testing.T) {
		var d struct {
			PolicyWhatIf []struct{ Role, Kind, Object, Action, Before, After string }
		}
		e.do(t, dpo, `{ policyWhatIf(add: [["p","judge","court","Victim.legalName","read","on_case"]]) { role kind object action before after } }`, nil).MustOK(t).Decode(t, &d)
		if len(d.PolicyWhatIf) != 5 || d.PolicyWhatIf[0].Role != "judge" || d.PolicyWhatIf[0].Kind != "COURT_FIRST_INSTANCE" ||
			d.PolicyWhatIf[0].Before != "proceedings" || d.PolicyWhatIf[0].After != "on_case, proceedings" {
			t.Errorf("what-if = %+v (see policytools/testdata/whatif_add_judge_legal_name_on_case.golden)", d.PolicyWhatIf)
		}
		var m struct{ AccessMatrix struct{ CSV string } }
		e.do(t, dpo, `{ accessMatrix { csv } }`, nil).MustOK(t).Decode(t, &m)
		if m.AccessMatrix.CSV != readGolden(t, "matrix.csv.golden") {
			t.Errorf("a what-if changed the policy in force")
		}
		r := e.do(t, dpo, `{ policyWhatIf(add: [["p","judge","court","Victim.legalName","peek","on_case"]]) { role } }`, nil)
		if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) {
			t.Errorf("an invalid line: %s", r.Body)
		}
		// A short line beside the DPO's verify removed: validation
		// panicked (INTERNAL) for a DPO's what-if, as for a change.
		r = e.do(t, dpo, `query ($add: [[String!]!], $remove: [[String!]!]) { policyWhatIf(add: $add, remove: $remove) { role } }`,
			map[string]any{"add": [][]string{{"p"}}, "remove": [][]string{{"p", "dpo", "*", "audit", "verify", "any"}}})
		if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) {
			t.Errorf("a short line and the DPO's verify removed: %s", r.Body)
		}
		// What a change refuses as text, a what-if refuses too: a line
		// break, a zero-width space.
		for _, v := range []string{"judge\n", "ju\u200bdge"} {
			r := e.do(t, dpo, `query ($l: [[String!]!]) { policyWhatIf(add: $l) { role } }`,
				map[string]any{"l": [][]string{{"p", v, "court", "Victim.legalName", "read", "on_case"}}})
			if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) || r.Errors[0].Extensions["field"] != "add" {
				t.Errorf("a what-if with %q: %s", v, r.Body)
			}
		}
	})
	t.Run("History", func(t *testing.T) {
		const reason = "Judges call victims to schedule hearings."
		e.do(t, admin, `mutation { changePolicy(add: [["p","judge","court","Victim.phone","read","on_case"]], reason: "`+reason+`") { added } }`, nil).MustOK(t)
		var d struct {
			PolicyChanges []struct {
				ActorSubject, ActorAgency, Reason string
				Added, Removed                    [][]string
			}
		}
		e.do(t, dpo, `{ policyChanges { actorSubject actorAgency reason added removed } }`, nil).MustOK(t).Decode(t, &d)
		if len(d.PolicyChanges) != 2 || d.PolicyChanges[0].Reason != reason || d.PolicyChanges[0].ActorAgency != "onac" ||
			d.PolicyChanges[0].ActorSubject != subject("onac", viewer.RoleAdmin) || len(d.PolicyChanges[0].Added) != 1 || len(d.PolicyChanges[0].Removed) != 0 {
			t.Fatalf("history = %+v", d.PolicyChanges)
		}
		// It starts with the default policy as loaded, every line of it.
		shipped, err := policies.Parse(policies.DefaultPolicy)
		if err != nil {
			t.Fatal(err)
		}
		if first := d.PolicyChanges[1]; first.ActorSubject != authz.DefaultPolicyActor || len(first.Added) != len(shipped) || len(first.Removed) != 0 {
			t.Errorf("the history's first entry: %s, %d lines added, want the %d of the default policy", first.ActorSubject, len(first.Added), len(shipped))
		}
		// A page of one is one; a page of none is none (ent's Limit(0) is
		// no limit: it listed every change).
		for _, first := range []int{0, 1} {
			var page struct{ PolicyChanges []struct{ Reason string } }
			e.do(t, dpo, `query ($n: Int) { policyChanges(first: $n) { reason } }`, map[string]any{"n": first}).MustOK(t).Decode(t, &page)
			if len(page.PolicyChanges) != first {
				t.Errorf("policyChanges(first: %d) listed %d changes", first, len(page.PolicyChanges))
			}
		}
	})
}

// TestExplainThresholdOfTwoRoles: explainAccess says which threshold the
// server applies to a person's statistics. A prosecutor's exact counts
// cover only the prosecutor's rows: with an analyst's role beside it the
// person counts the nation's, and statistics withhold counts below the
// analyst's 10 (Enforcer.StatisticsControl). explainAccess answered that
// no threshold applies and every count is exact, as it asked only whether
// one of the roles holds "statistics, exact" (a hunt over HTTP).
func TestExplainThresholdOfTwoRoles(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.tok(t, "onac", viewer.RoleAdmin)
		for _, tc := range []struct {
			roles     []viewer.Role
			threshold int
		}{
			{[]viewer.Role{viewer.RoleProsecutor}, 0},
			{[]viewer.Role{viewer.RoleProsecutor, viewer.RoleAnalyst}, 10},
		} {
			var s struct{ VictimStatistics struct{ Threshold int } }
			e.do(t, e.s.Token(t, "prosecution-tirane", tc.roles...), `{ victimStatistics { threshold } }`, nil).MustOK(t).Decode(t, &s)
			if s.VictimStatistics.Threshold != tc.threshold {
				t.Fatalf("%v at a prosecution office: the server applies k = %d, want %d", tc.roles, s.VictimStatistics.Threshold, tc.threshold)
			}
			var x struct {
				ExplainAccess struct {
					Allowed bool
					Summary string
					Rules   []string
				}
			}
			e.do(t, admin, `query ($roles: [Role!]!) { explainAccess(question: {roles: $roles, agencyKind: PROSECUTION_OFFICE, object: "statistics", action: "threshold"}) { allowed summary rules } }`,
				map[string]any{"roles": tc.roles}).MustOK(t).Decode(t, &x)
			got := x.ExplainAccess
			if tc.threshold == 0 && (got.Allowed || !strings.Contains(got.Summary, "exact")) ||
				tc.threshold > 0 && (!got.Allowed || !strings.Contains(got.Summary, fmt.Sprintf(" below %d withheld", tc.threshold)) ||
					!slices.Equal(got.Rules, []string{"p, analyst, *, statistics, threshold, 10"})) {
				t.Errorf("%v at a prosecution office: the server applies k = %d, explainAccess says allowed=%v %q (rules %v)",
					tc.roles, tc.threshold, got.Allowed, got.Summary, got.Rules)
			}
		}
	})
}

// TestExplainExactOfTwoRoles: "statistics, exact" for a prosecutor-analyst
// is answered as the server decides it: not exact, since the prosecutor's
// exact counts cover only its own rows and the server applies k = 10; it
// was answered by whether some role holds the line (a review).
func TestExplainExactOfTwoRoles(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		roles := []viewer.Role{viewer.RoleProsecutor, viewer.RoleAnalyst}
		var s struct{ VictimStatistics struct{ Threshold int } }
		e.do(t, e.s.Token(t, "prosecution-tirane", roles...), `{ victimStatistics { threshold } }`, nil).MustOK(t).Decode(t, &s)
		if s.VictimStatistics.Threshold != 10 {
			t.Fatalf("the server applies k = %d to a prosecutor-analyst, want 10", s.VictimStatistics.Threshold)
		}
		var x struct {
			ExplainAccess struct {
				Allowed bool
				Summary string
				Rules   []string
			}
		}
		e.do(t, e.tok(t, "onac", viewer.RoleAdmin), `query ($roles: [Role!]!) { explainAccess(question: {roles: $roles, agencyKind: PROSECUTION_OFFICE, object: "statistics", action: "exact"}) { allowed summary rules } }`,
			map[string]any{"roles": roles}).MustOK(t).Decode(t, &x)
		got := x.ExplainAccess
		if got.Allowed || strings.Contains(got.Summary, "no count suppressed") {
			t.Errorf("the server withholds counts below 10 from a prosecutor-analyst, yet explainAccess(statistics, exact) says allowed=%v %q (rules %v)",
				got.Allowed, got.Summary, got.Rules)
		}
	})
}

// TestExplainMutationNeedsItsPower: explainAccess says a person may call
// requestEmergencyAccess only when the server lets them: the call line
// and the power "emergency, request" (docs/powers.md: the power is checked
// by its mutation; authz's callRefusal). With the police's break-glass
// suspended (the power removed, the call line left, the scenario
// docs/powers.md names), the server refuses every investigator FORBIDDEN;
// explainAccess answered from the call line alone, "allowed: true ... may
// call requestEmergencyAccess", and an admin or DPO checking that the
// suspension took effect was told it had not (a hunt).
func TestExplainMutationNeedsItsPower(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.tok(t, "onac", viewer.RoleAdmin)
		e.do(t, admin, `mutation ($r: [[String!]!]) { changePolicy(remove: $r, reason: "Police break-glass suspended pending review") { __typename } }`,
			map[string]any{"r": [][]string{{"p", "investigator", "investigation", "emergency", "request", "any"}}}).MustOK(t)

		r := e.do(t, e.tok(t, "police-tirane", viewer.RoleInvestigator),
			`mutation ($c: ID!) { requestEmergencyAccess(caseID: $c, justification: "Victim missing from the shelter tonight, contact needed", hours: 1) { id } }`,
			map[string]any{"c": gid(e.f.caseT)})
		served := len(r.Errors) == 0
		if served {
			t.Fatalf("the server granted emergency access after the power was removed: %s", r.Body)
		}
		if c := r.Codes(); len(c) != 1 || c[0] != "FORBIDDEN" {
			t.Fatalf("want one FORBIDDEN, got %s", r.Body)
		}

		var a struct {
			ExplainAccess struct {
				Allowed bool
				Summary string
			}
		}
		e.do(t, e.tok(t, "onac", viewer.RoleDPO), `query { explainAccess(question: {roles: [investigator], agencyKind: LOCAL_POLICE_DIRECTORATE, mutation: "requestEmergencyAccess"}) { allowed summary } }`,
			nil).MustOK(t).Decode(t, &a)
		if a.ExplainAccess.Allowed != served {
			t.Errorf("explainAccess says investigators at a local police directorate may call requestEmergencyAccess (allowed %v: %q); the server refuses them FORBIDDEN",
				a.ExplainAccess.Allowed, a.ExplainAccess.Summary)
		}
	})
}

// TestExplainCanRequestNeedsTheCall is the other half: the power to ask
// for emergency access is used only through requestEmergencyAccess. With
// the call line removed and the power kept (requests taken by a duty
// officer, not through the API), the server refuses every investigator's
// request FORBIDDEN; explainAccess answered from the power alone:
// emergency.canRequest true ("These roles may ask for one") for the fields
// they read, and "may ask for emergency access to one case" for the power
// (a hunt).
func TestExplainCanRequestNeedsTheCall(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.do(t, e.tok(t, "onac", viewer.RoleAdmin), `mutation ($r: [[String!]!]) { changePolicy(remove: $r, reason: "Break-glass requests go through the duty officer") { __typename } }`,
			map[string]any{"r": [][]string{{"p", "investigator", "investigation", "Mutation.requestEmergencyAccess", "call", "any"}}}).MustOK(t)

		r := e.do(t, e.tok(t, "police-tirane", viewer.RoleInvestigator),
			`mutation ($c: ID!) { requestEmergencyAccess(caseID: $c, justification: "Victim missing from the shelter tonight, contact needed", hours: 1) { id } }`,
			map[string]any{"c": gid(e.f.caseT)})
		if c := r.Codes(); len(c) != 1 || c[0] != "FORBIDDEN" {
			t.Fatalf("want one FORBIDDEN, got %s", r.Body)
		}

		var a struct {
			Field struct{ Emergency struct{ CanRequest bool } }
			Power struct{ Allowed bool }
		}
		e.do(t, e.tok(t, "onac", viewer.RoleDPO), `query {
			field: explainAccess(question: {roles: [investigator], agencyKind: LOCAL_POLICE_DIRECTORATE, field: "Victim.legalName"}) { emergency { canRequest } }
			power: explainAccess(question: {roles: [investigator], agencyKind: LOCAL_POLICE_DIRECTORATE, object: "emergency", action: "request"}) { allowed } }`,
			nil).MustOK(t).Decode(t, &a)
		if a.Field.Emergency.CanRequest {
			t.Errorf("explainAccess says investigators may ask for emergency access (emergency.canRequest true); the server refuses their requestEmergencyAccess FORBIDDEN")
		}
		if a.Power.Allowed {
			t.Errorf("explainAccess says investigators may ask for emergency access to one case; the server refuses their requestEmergencyAccess FORBIDDEN")
		}
	})
}

// TestExplainChangePolicyNeedsThePower: the same for changePolicy, which
// needs the power "policy, change" beside its call line. With the call
// line given to data protection officers (a valid policy: admins still
// hold both), the server refuses the DPO's change FORBIDDEN; explainAccess
// said a DPO may call changePolicy (a hunt).
func TestExplainChangePolicyNeedsThePower(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.do(t, e.tok(t, "onac", viewer.RoleAdmin), `mutation ($a: [[String!]!]) { changePolicy(add: $a, reason: "DPOs may propose changes through the API") { __typename } }`,
			map[string]any{"a": [][]string{{"p", "dpo", "*", "Mutation.changePolicy", "call", "any"}}}).MustOK(t)
		dpo := e.tok(t, "onac", viewer.RoleDPO)
		r := e.do(t, dpo, `mutation ($a: [[String!]!]) { changePolicy(add: $a, reason: "Judges read victims' phones on their cases") { __typename } }`,
			map[string]any{"a": [][]string{{"p", "judge", "court", "Victim:CONTACT", "read", "proceedings"}}})
		if c := r.Codes(); len(c) != 1 || c[0] != "FORBIDDEN" {
			t.Fatalf("want the DPO's change refused FORBIDDEN, got %s", r.Body)
		}
		var a struct{ ExplainAccess struct{ Allowed bool } }
		e.do(t, dpo, `query { explainAccess(question: {roles: [dpo], agencyKind: NATIONAL_ANTI_TRAFFICKING_COORDINATOR, mutation: "changePolicy"}) { allowed } }`,
			nil).MustOK(t).Decode(t, &a)
		if a.ExplainAccess.Allowed {
			t.Errorf("explainAccess says a DPO may call changePolicy; the server refuses the DPO's change FORBIDDEN")
		}
	})
}
