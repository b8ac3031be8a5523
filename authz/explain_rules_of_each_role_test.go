package authz_test

import (
	"slices"
	"testing"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// TestExplainNamesTheLineTheServerReadsUnder: a person with two roles that
// both read a field under one condition, each for its own consent purpose
// (docs/powers.md, "Consent purposes": "the read is filed under that
// role's line"). The victim's consent names only the second role's
// purpose, so the server opens the field by the second role's line and the
// audit trail files the read under it. explainAccess, whose rules are "the
// policy lines that allow it", names only the first role's line, for the
// condition and in its rules, beside the purposes of both: a DPO checking
// an audit event's rule against explain is told that line does not allow
// the read, and explain pairs the investigator's line with a purpose
// (SERVICES) under which that line opens nothing.
func TestExplainNamesTheLineTheServerReadsUnder(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		caseWorkerLine := []string{"p", "case_worker", "investigation", "Victim:IDENTITY", "read", "on_case"}
		e.do(t, e.tok(t, "onac", viewer.RoleAdmin), `mutation ($a: [[String!]!]) { changePolicy(add: $a, reason: "Victim support officers inside police directorates read names on their cases") { __typename } }`,
			map[string]any{"a": [][]string{caseWorkerLine}}).MustOK(t)
		addConsent(t, e.db.Client, f, f.vT, []domain.AgencyKind{domain.AgencyKindLocalPoliceDirectorate}, []domain.ConsentPurpose{domain.ConsentPurposeServices})

		roles := []viewer.Role{viewer.RoleInvestigator, viewer.RoleCaseWorker}
		tok, err := e.s.Issuer.Issue("two-roles@police-tirane", "police-tirane", roles, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ Node struct{ LegalName *string } }
		e.do(t, tok, `query ($id: ID!) { node(id: $id) { ... on Victim { legalName } } }`, map[string]any{"id": gid(f.vT)}).MustOK(t).Decode(t, &d)
		if d.Node.LegalName == nil {
			t.Fatalf("the two-role person should read vT's name under the case worker's line and the consent for services")
		}
		var rule string
		for _, ev := range testdb.AuditTrail(t, e.db) {
			if ev.ActorSubject == "two-roles@police-tirane" && slices.Contains(ev.Fields, "Victim.legalName") && ev.Decision == "ALLOWED" {
				rule = ev.Rule
			}
		}
		if rule != "p, case_worker, investigation, Victim:IDENTITY, read, on_case" {
			t.Fatalf("the read is filed under %q, want the case worker's line", rule)
		}

		var a struct {
			ExplainAccess struct {
				Rules      []string
				Conditions []struct {
					Condition, Rule string
					Purposes        []string
				}
			}
		}
		e.do(t, e.tok(t, "onac", viewer.RoleDPO), `query ($q: AccessQuestion!) { explainAccess(question: $q) { rules conditions { condition rule purposes } } }`,
			map[string]any{"q": map[string]any{"roles": roles, "agencyKind": "LOCAL_POLICE_DIRECTORATE", "field": "Victim.legalName"}}).MustOK(t).Decode(t, &a)
		if !slices.Contains(a.ExplainAccess.Rules, rule) {
			t.Errorf("explainAccess's rules %q do not name %q, the line the server read the name under and the audit trail names", a.ExplainAccess.Rules, rule)
		}
		for _, c := range a.ExplainAccess.Conditions {
			if c.Condition == "on_case" && c.Rule != rule && slices.Contains(c.Purposes, "SERVICES") {
				t.Errorf("explainAccess pairs on_case's line %q with the purposes %v; that line opens nothing under a consent for SERVICES (the server reads under %q)", c.Rule, c.Purposes, rule)
			}
		}
	})
}
