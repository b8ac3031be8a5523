package authz_test

import (
	"testing"

	"github.com/casegraph/casegraph/viewer"
)

// TestExplainMutationNeedsItsPower: requestEmergencyAccess is called only
// by a person whose role holds both the call line and the power
// "emergency, request" (docs/powers.md: the power is checked by its
// mutation). With the police's break-glass suspended (the power removed,
// the call line left, the scenario docs/powers.md names), the server
// refuses every investigator's request with FORBIDDEN, while explainAccess,
// asked about the mutation, answers "allowed: true ... may call
// requestEmergencyAccess": an admin or DPO checking whether the suspension
// took effect is told it did not. docs/policy-tools.md: explain asks the
// questions a request asks, "so it cannot disagree with what a request
// decides".
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

// TestExplainCanRequestNeedsTheCall is the other half: with the call line
// removed and the power kept (requests for emergency access taken by a
// duty officer, not through the API), the server refuses every
// investigator's requestEmergencyAccess FORBIDDEN, while explainAccess
// answers emergency.canRequest true ("These roles may ask for one") for
// the fields they read, and "may ask for emergency access to one case" for
// the power.
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
// hold both), explainAccess says a DPO may call changePolicy; the server
// refuses the DPO's change FORBIDDEN.
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
