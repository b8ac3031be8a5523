package policytools_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/policytools"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// golden compares got with testdata/name; -update rewrites the file.
func golden(t *testing.T, name, got string) {
	t.Helper()
	testserver.Golden(t, filepath.Join("testdata", name), got)
}

// wantBadInput fails unless err is a BAD_USER_INPUT *apperr.Error about
// field whose message names bad.
func wantBadInput(t *testing.T, err error, field, bad string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("want a BAD_USER_INPUT *apperr.Error, got %v", err)
	}
	if ae.Code != apperr.BadUserInput || ae.Field != field {
		t.Errorf("got code %s field %q, want %s field %q (%s)", ae.Code, ae.Field, apperr.BadUserInput, field, ae.Message)
	}
	if !strings.Contains(ae.Message, bad) {
		t.Errorf("the message does not name %q: %s", bad, ae.Message)
	}
}

func condition(x policytools.Explanation, c string) policytools.ConditionAnswer {
	for _, a := range x.Conditions {
		if a.Condition == c {
			return a
		}
	}
	return policytools.ConditionAnswer{}
}

// allowedConditions lists the conditions x allows, sorted as the matrix
// sorts them.
func allowedConditions(x policytools.Explanation) []string {
	var out []string
	for _, a := range x.Conditions {
		if a.Allowed {
			out = append(out, a.Condition)
		}
	}
	slices.Sort(out)
	return out
}

func roles(rs ...viewer.Role) []viewer.Role { return rs }

func TestExplain(t *testing.T) {
	e, _ := newPolicyEnforcer(t)
	for _, tc := range []struct {
		name  string
		q     policytools.Question
		check func(t *testing.T, x policytools.Explanation)
	}{
		{
			name: "case_worker_ngo_shelter_read_legal_name",
			q:    policytools.Question{Roles: roles(viewer.RoleCaseWorker), Kind: domain.AgencyKindNgoShelter, Field: "Victim.legalName"},
			check: func(t *testing.T, x policytools.Explanation) {
				if got := allowedConditions(x); !slices.Equal(got, []string{policies.Referred}) {
					t.Errorf("allowed under %v, want only referred", got)
				}
				c := condition(x, policies.Referred)
				if !c.ConsentRequired || !slices.Equal(c.Purposes, []domain.ConsentPurpose{domain.ConsentPurposeServices}) {
					t.Errorf("referred: consent %v for %v, want consent for SERVICES", c.ConsentRequired, c.Purposes)
				}
				if !x.Emergency.Opens || !x.Emergency.CanRequest {
					t.Errorf("emergency %+v, want a grant to open it and the role to be able to ask", x.Emergency)
				}
			},
		},
		{
			name: "investigator_local_police_read_phone",
			q:    policytools.Question{Roles: roles(viewer.RoleInvestigator), Kind: domain.AgencyKindLocalPoliceDirectorate, Field: "Victim.phone"},
			check: func(t *testing.T, x policytools.Explanation) {
				if got := allowedConditions(x); !slices.Equal(got, []string{policies.OnCase}) {
					t.Errorf("allowed under %v, want only on_case", got)
				}
				if c := condition(x, policies.OnCase); !c.ConsentRequired || c.Rule != "p, investigator, investigation, Victim:CONTACT, read, on_case" {
					t.Errorf("on_case: consent %v, rule %q", c.ConsentRequired, c.Rule)
				}
			},
		},
		{
			name: "prosecutor_prosecution_office_read_testimony",
			q:    policytools.Question{Roles: roles(viewer.RoleProsecutor), Kind: domain.AgencyKindProsecutionOffice, Field: "Victim.testimonySummary", Action: policies.Read},
			check: func(t *testing.T, x policytools.Explanation) {
				if got := allowedConditions(x); !slices.Equal(got, []string{policies.Proceedings}) {
					t.Errorf("allowed under %v, want only proceedings", got)
				}
				if condition(x, policies.Proceedings).ConsentRequired {
					t.Error("proceedings must not need consent")
				}
			},
		},
		{
			name: "investigator_local_police_read_health_notes",
			q:    policytools.Question{Roles: roles(viewer.RoleInvestigator), Kind: domain.AgencyKindLocalPoliceDirectorate, Field: "Victim.healthNotes"},
			check: func(t *testing.T, x policytools.Explanation) {
				if x.Allowed || len(x.Rules) > 0 || x.Emergency.Opens {
					t.Errorf("allowed %v, rules %v, emergency opens %v; want denied, no rule, emergency closed", x.Allowed, x.Rules, x.Emergency.Opens)
				}
				if !x.Emergency.CanRequest {
					t.Error("an investigator may ask for emergency access (it just does not open health notes)")
				}
			},
		},
		{
			name: "case_worker_ngo_shelter_write_health_notes",
			q:    policytools.Question{Roles: roles(viewer.RoleCaseWorker), Kind: domain.AgencyKindNgoShelter, Field: "Victim.healthNotes", Action: policies.Write},
			check: func(t *testing.T, x policytools.Explanation) {
				if !x.Allowed || x.Conditions != nil || x.Emergency != nil {
					t.Errorf("allowed %v, conditions %v, emergency %v; want allowed, no conditions", x.Allowed, x.Conditions, x.Emergency)
				}
			},
		},
		{
			name: "judge_high_court_call_record_court_decision",
			q:    policytools.Question{Roles: roles(viewer.RoleJudge), Kind: domain.AgencyKindHighCourt, Mutation: "recordCourtDecision"},
			check: func(t *testing.T, x policytools.Explanation) {
				if !x.Allowed || !slices.Equal(x.Rules, []string{"p, judge, court, Mutation.recordCourtDecision, call, any"}) {
					t.Errorf("allowed %v by %v", x.Allowed, x.Rules)
				}
			},
		},
		{
			name: "case_worker_ngo_shelter_call_open_case",
			q:    policytools.Question{Roles: roles(viewer.RoleCaseWorker), Kind: domain.AgencyKindNgoShelter, Mutation: "openCase"},
			check: func(t *testing.T, x policytools.Explanation) {
				if x.Allowed {
					t.Error("a case worker may not open a case")
				}
			},
		},
		{
			name: "dpo_national_coordinator_audit_read_all",
			q:    policytools.Question{Roles: roles(viewer.RoleDPO), Kind: domain.AgencyKindNationalAntiTraffickingCoordinator, Object: policies.Audit, Action: policies.ReadAll},
			check: func(t *testing.T, x policytools.Explanation) {
				if !x.Allowed || !slices.Equal(x.Rules, []string{"p, dpo, NATIONAL_ANTI_TRAFFICKING_COORDINATOR, audit, read_all, any"}) {
					t.Errorf("allowed %v by %v", x.Allowed, x.Rules)
				}
			},
		},
		{
			name: "dpo_ngo_shelter_audit_read_all",
			q:    policytools.Question{Roles: roles(viewer.RoleDPO), Kind: domain.AgencyKindNgoShelter, Object: policies.Audit, Action: policies.ReadAll},
			check: func(t *testing.T, x policytools.Explanation) {
				if x.Allowed || len(x.Rules) > 0 {
					t.Errorf("allowed %v by %v; a shelter's DPO reads only the agency's own events", x.Allowed, x.Rules)
				}
			},
		},
		{
			name: "dpo_and_admin_read_policy",
			q:    policytools.Question{Roles: roles(viewer.RoleDPO, viewer.RoleAdmin), Kind: domain.AgencyKindMinistryOfInterior, Object: policies.Policy, Action: policies.Read},
			check: func(t *testing.T, x policytools.Explanation) {
				want := []string{"p, dpo, *, policy, read, any", "p, admin, *, policy, read, any"}
				if !x.Allowed || !slices.Equal(x.Rules, want) {
					t.Errorf("allowed %v by %v, want both roles' lines %v", x.Allowed, x.Rules, want)
				}
			},
		},
		{
			name: "prosecutor_prosecution_office_rows_cases",
			q:    policytools.Question{Roles: roles(viewer.RoleProsecutor), Kind: domain.AgencyKindProsecutionOffice, Object: policies.RowsCases},
			check: func(t *testing.T, x policytools.Explanation) {
				if x.Level != rowscope.Region || !slices.Equal(x.Rules, []string{"p, prosecutor, PROSECUTION_OFFICE, rows:cases, see, region"}) {
					t.Errorf("level %s by %v, want region", x.Level.Name(), x.Rules)
				}
			},
		},
		{
			name: "prosecutor_prosecution_office_rows_victims",
			q:    policytools.Question{Roles: roles(viewer.RoleProsecutor), Kind: domain.AgencyKindProsecutionOffice, Object: policies.RowsVictims, Action: policies.See},
			check: func(t *testing.T, x policytools.Explanation) {
				if x.Level != rowscope.Assigned {
					t.Errorf("level %s, want assigned", x.Level.Name())
				}
			},
		},
		{
			name: "dpo_ngo_shelter_rows_victims",
			q:    policytools.Question{Roles: roles(viewer.RoleDPO), Kind: domain.AgencyKindNgoShelter, Object: policies.RowsVictims},
			check: func(t *testing.T, x policytools.Explanation) {
				if x.Allowed || x.Level != rowscope.None || len(x.Rules) > 0 {
					t.Errorf("allowed %v at %s by %v, want no rows", x.Allowed, x.Level.Name(), x.Rules)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := policytools.Explain(e, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, x)
			golden(t, "explain_"+tc.name+".golden", x.Text())
		})
	}
}

func TestExplainRefusesBadInput(t *testing.T) {
	e, _ := newPolicyEnforcer(t)
	judge := roles(viewer.RoleJudge)
	court := domain.AgencyKindHighCourt
	for _, tc := range []struct {
		name       string
		q          policytools.Question
		field, bad string
	}{
		{"no role", policytools.Question{Kind: court, Field: "Victim.legalName"}, "role", "role"},
		{"unknown role", policytools.Question{Roles: roles("sheriff"), Kind: court, Field: "Victim.legalName"}, "role", `"sheriff"`},
		{"a role twice", policytools.Question{Roles: roles(viewer.RoleJudge, viewer.RoleDPO, viewer.RoleJudge), Kind: court, Field: "Victim.legalName"}, "role", `"judge"`},
		{"unknown kind", policytools.Question{Roles: judge, Kind: "MOON_COURT", Field: "Victim.legalName"}, "kind", `"MOON_COURT"`},
		{"a family is not a kind", policytools.Question{Roles: judge, Kind: "court", Field: "Victim.legalName"}, "kind", `"court"`},
		{"unknown field", policytools.Question{Roles: judge, Kind: court, Field: "Victim.shoeSize"}, "field", `"Victim.shoeSize"`},
		{"a category is not a field", policytools.Question{Roles: judge, Kind: court, Field: "Victim:IDENTITY"}, "field", "Victim.legalName"},
		{"unknown field action", policytools.Question{Roles: judge, Kind: court, Field: "Victim.legalName", Action: "delete"}, "action", `"delete"`},
		{"unknown mutation", policytools.Question{Roles: judge, Kind: court, Mutation: "deleteEverything"}, "mutation", `"deleteEverything"`},
		{"unknown object", policytools.Question{Roles: judge, Kind: court, Object: "rows:witnesses", Action: "see"}, "object", `"rows:witnesses"`},
		{"unknown power action", policytools.Question{Roles: judge, Kind: court, Object: policies.Audit, Action: "delete"}, "action", `"delete"`},
		{"a power without action", policytools.Question{Roles: judge, Kind: court, Object: policies.Emergency}, "action", "request, review"},
		{"rows take see", policytools.Question{Roles: judge, Kind: court, Object: policies.RowsCases, Action: policies.Read}, "action", `"read"`},
		{"nothing asked", policytools.Question{Roles: judge, Kind: court}, "field", "exactly one"},
		{"two things asked", policytools.Question{Roles: judge, Kind: court, Field: "Victim.legalName", Mutation: "openCase"}, "field", "exactly one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policytools.Explain(e, tc.q)
			wantBadInput(t, err, tc.field, tc.bad)
		})
	}
}

// TestExplainAgreesWithMatrix asks Explain about every cell of the matrix
// of the shipped policy and compares the answers.
func TestExplainAgreesWithMatrix(t *testing.T) {
	e, _ := newPolicyEnforcer(t)
	m := policytools.MatrixOf(e)
	explain := func(t *testing.T, q policytools.Question) policytools.Explanation {
		t.Helper()
		x, err := policytools.Explain(e, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		return x
	}
	asked := 0
	for _, c := range m.Cells {
		asked++
		category, isField := m.Categories[c.Object]
		mutation, isMutation := strings.CutPrefix(c.Object, "Mutation.")
		switch {
		case isField && c.Action == policies.Read:
			q := policytools.Question{Roles: roles(c.Role), Kind: c.Kind, Field: c.Object}
			x := explain(t, q)
			if got := allowedConditions(x); !slices.Equal(got, c.Conditions) || x.Allowed != c.Allowed {
				t.Errorf("%s @ %s read %s: Explain allows %v (%v), the matrix %v", c.Role, c.Kind, c.Object, got, x.Allowed, c.Conditions)
			}
			for _, a := range x.Conditions {
				if a.Allowed && a.ConsentRequired != authz.ConsentRequired(category, a.Condition) {
					t.Errorf("%s @ %s read %s under %s: consent %v", c.Role, c.Kind, c.Object, a.Condition, a.ConsentRequired)
				}
			}
			// A grant opens what the role reads, while the role may ask for one.
			if mayAsk := policytools.MatrixCell(m, c.Role, c.Kind, policies.Emergency, policies.Request).Allowed; x.Emergency.Opens != (c.Allowed && mayAsk) {
				t.Errorf("%s @ %s read %s: emergency opens %v (may ask for a grant: %v)", c.Role, c.Kind, c.Object, x.Emergency.Opens, mayAsk)
			}
		case isField:
			q := policytools.Question{Roles: roles(c.Role), Kind: c.Kind, Field: c.Object, Action: policies.Write}
			if x := explain(t, q); x.Allowed != c.Allowed {
				t.Errorf("%s @ %s write %s: Explain %v, the matrix %v", c.Role, c.Kind, c.Object, x.Allowed, c.Allowed)
			}
		case c.Object == policies.RowsCases || c.Object == policies.RowsVictims:
			want := rowscope.None.Name()
			if c.Allowed {
				want = c.Conditions[0]
			}
			if x := explain(t, policytools.Question{Roles: roles(c.Role), Kind: c.Kind, Object: c.Object}); x.Level.Name() != want {
				t.Errorf("%s @ %s %s: Explain %s, the matrix %s", c.Role, c.Kind, c.Object, x.Level.Name(), want)
			}
		case isMutation:
			if x := explain(t, policytools.Question{Roles: roles(c.Role), Kind: c.Kind, Mutation: mutation}); x.Allowed != c.Allowed {
				t.Errorf("%s @ %s call %s: Explain %v, the matrix %v", c.Role, c.Kind, mutation, x.Allowed, c.Allowed)
			}
		case c.Object == policies.Statistics && c.Action == policies.Threshold:
			x := explain(t, policytools.Question{Roles: roles(c.Role), Kind: c.Kind, Object: c.Object, Action: c.Action})
			if x.Allowed != c.Allowed || c.Allowed && !strings.Contains(x.Summary, " below "+c.Conditions[0]+" withheld") {
				t.Errorf("%s @ %s statistics threshold: Explain %v (%s), the matrix %v %v", c.Role, c.Kind, x.Allowed, x.Summary, c.Allowed, c.Conditions)
			}
		case c.Object == policies.ConsentObject:
			x := explain(t, policytools.Question{Roles: roles(c.Role), Kind: c.Kind, Object: c.Object, Action: c.Action})
			if x.Allowed != c.Allowed || c.Allowed && !strings.Contains(x.Summary, strings.Join(c.Conditions, " or ")) {
				t.Errorf("%s @ %s consent purposes: Explain %v (%s), the matrix %v %v", c.Role, c.Kind, x.Allowed, x.Summary, c.Allowed, c.Conditions)
			}
		default:
			x := explain(t, policytools.Question{Roles: roles(c.Role), Kind: c.Kind, Object: c.Object, Action: c.Action})
			if x.Allowed != c.Allowed || x.Allowed != (len(x.Rules) > 0) {
				t.Errorf("%s @ %s %s %s: Explain %v by %v, the matrix %v", c.Role, c.Kind, c.Object, c.Action, x.Allowed, x.Rules, c.Allowed)
			}
		}
	}
	want := len(viewer.Roles) * len(allKinds()) * (2 + 2*len(sensitiveFields) + len(schemaMutations) + len(matrixPowers) + 2)
	if asked != want {
		t.Errorf("asked about %d cells, want the whole matrix, %d", asked, want)
	}
}

func TestExplainMatrixGoldenFiles(t *testing.T) {
	e, _ := newPolicyEnforcer(t)
	m := policytools.MatrixOf(e)
	golden(t, "matrix.md.golden", m.Markdown())
	var csv bytes.Buffer
	if err := m.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	golden(t, "matrix.csv.golden", csv.String())
}
