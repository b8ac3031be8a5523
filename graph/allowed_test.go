package graph_test

import (
	"slices"
	"testing"
	"time"

	"github.com/casegraph/casegraph/cost"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// allowedField is a field of the served schema that carries @allowed.
type allowedField struct {
	name  string // "Query.auditEvents"
	power policies.Power
}

// allowedFields walks the served schema for @allowed, failing the test on
// one that names no power of the table.
func allowedFields(t *testing.T) []allowedField {
	t.Helper()
	var out []allowedField
	for _, def := range servedSchema().Types {
		for _, f := range def.Fields {
			d := f.Directives.ForName("allowed")
			if d == nil {
				continue
			}
			name := def.Name + "." + f.Name
			obj, act := d.Arguments.ForName("object").Value.Raw, d.Arguments.ForName("action").Value.Raw
			p, ok := policies.PowerOf(obj, act)
			if !ok {
				t.Errorf("%s is @allowed(object: %q, action: %q), which is not a power of policies.Powers", name, obj, act)
				continue
			}
			if p.Refusal == "" {
				t.Errorf("%s needs %s %s, whose row in policies.Powers has no refusal", name, obj, act)
			}
			out = append(out, allowedField{name, p})
		}
	}
	return out
}

// TestEveryPowerIsChecked proves that every @allowed names a row of the
// table of powers, and that every power is checked somewhere: declared by
// a field, or, for a power no field needs, named where it is checked; a
// power checked by a mutation names one of the schema.
func TestEveryPowerIsChecked(t *testing.T) {
	used := map[string]bool{}
	for _, f := range allowedFields(t) {
		used[f.power.Object+" "+f.power.Action] = true
	}
	for _, p := range policies.Powers {
		if !used[p.Object+" "+p.Action] && p.CheckedBy == "" {
			t.Errorf("no field is @allowed(object: %q, action: %q) and policies.Powers names no other place that checks it", p.Object, p.Action)
		}
		if mutation, ok := p.NeededBy(); ok && !slices.Contains(graph.Vocabulary().Mutations, mutation) {
			t.Errorf("%s %s is checked by %s, which is not a mutation of the schema", p.Object, p.Action, p.CheckedBy)
		}
	}
}

// allowedQueries ask each @allowed field over HTTP.
var allowedQueries = map[string]string{
	"Query.policyLines":            `{ policyLines }`,
	"Query.policyVersion":          `{ policyVersion }`,
	"Query.accessMatrix":           `{ accessMatrix { csv } }`,
	"Query.explainAccess":          `{ explainAccess(question: {roles: [judge], agencyKind: HIGH_COURT, field: "Victim.legalName"}) { allowed } }`,
	"Query.policyWhatIf":           `{ policyWhatIf(add: [["p","judge","court","Victim.phone","read","proceedings"]]) { role } }`,
	"Query.policyChanges":          `{ policyChanges { reason } }`,
	"Query.policyDrift":            `{ policyDrift { none } }`,
	"Query.auditEvents":            `{ auditEvents(first: 1) { pageInfo { hasNextPage } } }`,
	"Query.verifyAuditTrail":       `{ verifyAuditTrail { valid } }`,
	"Query.victimStatistics":       `{ victimStatistics(groupBy: [SEX]) { total { count suppressed } } }`,
	"Query.caseStatistics":         `{ caseStatistics(groupBy: [REGION]) { total { count } } }`,
	"Query.prosecutionStatistics":  `{ prosecutionStatistics(groupBy: [OFFICE]) { total { count } } }`,
	"Query.referralMeasures":       `{ referralMeasures(groupBy: [SERVICE_KIND]) { total { acceptanceRate } } }`,
	"Query.prosecutionMeasures":    `{ prosecutionMeasures(groupBy: [OFFICE]) { total { registered } } }`,
	"Query.victimSupport":          `{ victimSupport(service: LEGAL_AID) { total { received } } }`,
	"Query.decisionStatistics":     `{ decisionStatistics(groupBy: [VERDICT]) { total { count } } }`,
	"Query.trialRequestStatistics": `{ trialRequestStatistics(groupBy: [OFFICE]) { total { count } } }`,
	"Query.referralStatistics":     `{ referralStatistics(groupBy: [STATUS]) { total { count suppressed } } }`,
}

// person is a role at an agency of the registry.
type person struct {
	agency string
	role   viewer.Role
}

// holders and others of each power under the shipped policy: an admin
// reads the policy but never the audit trail.
var (
	powerHolders = map[string][]person{
		"policy read":  {{"ngo-vatra", viewer.RoleDPO}, {"onac", viewer.RoleAdmin}},
		"audit read":   {{"ngo-vatra", viewer.RoleDPO}, {"onac", viewer.RoleDPO}},
		"audit verify": {{"ngo-vatra", viewer.RoleDPO}},
		"statistics read": {{"onac", viewer.RoleAnalyst}, {"onac", viewer.RoleCoordinator},
			{"prosecution-tirane", viewer.RoleProsecutor}, {"police-tirane", viewer.RoleInvestigator}},
	}
	powerOthers = map[string][]person{
		"policy read":  {{"court-tirane", viewer.RoleJudge}, {"police-gd", viewer.RoleInvestigator}},
		"audit read":   {{"onac", viewer.RoleAdmin}, {"onac", viewer.RoleCoordinator}},
		"audit verify": {{"onac", viewer.RoleAdmin}, {"ngo-vatra", viewer.RoleCaseWorker}},
		"statistics read": {{"court-tirane", viewer.RoleJudge}, {"ngo-vatra", viewer.RoleCaseWorker},
			{"onac", viewer.RoleDPO}, {"onac", viewer.RoleAdmin}},
	}
)

// TestAllowedOverHTTP asks every @allowed field over HTTP as people
// without its power, who get FORBIDDEN with the power's refusal and no
// data, and as people with it, who get data.
func TestAllowedOverHTTP(t *testing.T) {
	t.Parallel()
	// The first matrix is computed whole; on a busy machine that can take
	// longer than a request may, which is not what this test is about.
	s := testserver.Start(t, testdb.SQLite(t), testserver.Options{Config: server.Config{RequestTimeout: time.Minute}})
	for _, f := range allowedFields(t) {
		q, ok := allowedQueries[f.name]
		if !ok {
			t.Errorf("%s is @allowed but allowedQueries does not ask it", f.name)
			continue
		}
		power := f.power.Object + " " + f.power.Action
		if len(powerHolders[power]) == 0 || len(powerOthers[power]) == 0 {
			t.Errorf("%s needs %s: name people with and without it", f.name, power)
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			for _, p := range powerOthers[power] {
				r := s.Do(t, s.Token(t, p.agency, p.role), q, nil)
				if !slices.Equal(r.Codes(), []string{"FORBIDDEN"}) || r.Errors[0].Message != f.power.Refusal || string(r.Data) != "null" {
					t.Errorf("as %s at %s: want FORBIDDEN %q and no data, got:\n%s", p.role, p.agency, f.power.Refusal, r.Body)
				}
			}
			for _, p := range powerHolders[power] {
				r := s.Do(t, s.Token(t, p.agency, p.role), q, nil)
				if len(r.Errors) > 0 || len(r.Data) == 0 || string(r.Data) == "null" {
					t.Errorf("as %s at %s: want data, got:\n%s", p.role, p.agency, r.Body)
				}
			}
		})
	}
}

// TestStatisticsFieldsHaveFixedCosts: every field that needs the
// statistics read power reads whole tables, whatever it selects, so the
// cost model gives it a fixed cost (cost.DefaultLimits); one without it
// would cost as little as a scalar, and a request could ask for dozens
// (a review found decisionStatistics and trialRequestStatistics so).
func TestStatisticsFieldsHaveFixedCosts(t *testing.T) {
	fixed := cost.DefaultLimits().FixedCosts
	n := 0
	for _, f := range allowedFields(t) {
		if f.power.Object != "statistics" {
			continue
		}
		n++
		if fixed[f.name] < 1_000 {
			t.Errorf("%s reads statistics but its fixed cost is %d, want at least 1,000 (cost.DefaultLimits)", f.name, fixed[f.name])
		}
	}
	if n < 9 {
		t.Errorf("found %d statistics fields, want the 9 of statistics.graphqls at least", n)
	}
}
