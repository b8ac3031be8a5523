package policytools_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/policyrule"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/policytools"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// THE POLICY TEST. The expected access of every role at every kind of
// agency is written out below, by hand, from what each institution needs;
// it is not derived from policy.csv. Every cell of the matrix (role × kind
// × rows, role × kind × sensitive field × read/write, role × kind ×
// mutation, role × kind × power) is compared with it, so a policy change
// that widens or narrows anyone's access fails here until this table is
// changed with it, on purpose, in review.

// The kinds of agency, by the family each role belongs to (docs/domain.md).
var (
	policeKinds = []domain.AgencyKind{
		domain.AgencyKindStatePoliceGeneralDirectorate, domain.AgencyKindLocalPoliceDirectorate,
		domain.AgencyKindBorderAndMigrationPolice, domain.AgencyKindNationalBureauOfInvestigation,
	}
	prosecutionKinds = []domain.AgencyKind{
		domain.AgencyKindProsecutionOffice, domain.AgencyKindSpecialProsecutionOffice, domain.AgencyKindGeneralProsecutionOffice,
	}
	courtKinds = []domain.AgencyKind{
		domain.AgencyKindCourtFirstInstance, domain.AgencyKindSpecialCourtFirstInstance, domain.AgencyKindCourtOfAppeal,
		domain.AgencyKindSpecialCourtOfAppeal, domain.AgencyKindHighCourt,
	}
	governanceKinds = []domain.AgencyKind{
		domain.AgencyKindHighProsecutorialCouncil, domain.AgencyKindMinistryOfInterior,
		domain.AgencyKindNationalAntiTraffickingCoordinator, domain.AgencyKindResponsibleAuthority,
	}
	supportKinds = []domain.AgencyKind{
		domain.AgencyKindStateSocialService, domain.AgencyKindStateAgencyForChildRights, domain.AgencyKindLabourInspectorate,
		domain.AgencyKindStateShelter, domain.AgencyKindNgoShelter, domain.AgencyKindNgoServiceProvider,
		domain.AgencyKindMobileIdentificationUnit,
	}
)

// allKinds is every kind of agency: the families above must cover them,
// each once.
func allKinds() []domain.AgencyKind {
	return slices.Concat(policeKinds, prosecutionKinds, courtKinds, governanceKinds, supportKinds)
}

// sensitiveFields is every sensitive field of the schema with its category.
// A new sensitive field fails the test until it is added here and its
// access decided in wantGrants.
var sensitiveFields = map[string]string{
	"Victim.legalName":        "Victim:IDENTITY",
	"Victim.dateOfBirth":      "Victim:IDENTITY",
	"Victim.personalNumber":   "Victim:IDENTITY",
	"Victim.phone":            "Victim:CONTACT",
	"Victim.address":          "Victim:CONTACT",
	"Victim.healthNotes":      "Victim:HEALTH",
	"Victim.testimonySummary": "Victim:TESTIMONY",
	"Victim.shelterLocation":  "Victim:LOCATION",
	"Victim.nationality":      "Victim:QUASI_IDENTIFIER",
	"Victim.exactAge":         "Victim:QUASI_IDENTIFIER",
	"Suspect.legalName":       "Suspect:IDENTITY",
	"Suspect.personalNumber":  "Suspect:IDENTITY",
	"SupportService.notes":    "SupportService:HEALTH",
	"Consent.givenBy":         "Consent:QUASI_IDENTIFIER",
}

// schemaMutations is every mutation of the schema. A new one fails the test until
// it is added here and either granted in wantGrants or listed in
// callableByNobody.
var schemaMutations = []string{
	"openCase", "updateCase", "moveCaseStage", "assignAgencyToCase",
	"registerVictim", "updateVictim", "linkVictimToCase", "recordConsent", "withdrawConsent",
	"recordSuspect", "updateSuspect",
	"registerProsecution", "updateProsecution", "moveProsecutionStage", "extendInvestigationDeadline",
	"addCharge", "reclassifyCharge", "recordCourtDecision", "updateCourtDecision",
	"createReferral", "moveReferralStatus", "recordSupportService", "updateSupportService",
	"requestEmergencyAccess", "revokeEmergencyAccess", "changePolicy",
}

// callableByNobody lists the mutations of the schema no role may call (on
// purpose). Every other mutation must be callable by some role.
var callableByNobody = []string{}

// wantRows is the row scope of every role at every kind; anything not
// listed sees no rows.
var wantRows = []struct {
	role           viewer.Role
	kinds          []domain.AgencyKind
	cases, victims rowscope.Level
}{
	{viewer.RoleInvestigator, kindList(domain.AgencyKindStatePoliceGeneralDirectorate), rowscope.All, rowscope.All},
	{viewer.RoleInvestigator, kindList(domain.AgencyKindLocalPoliceDirectorate), rowscope.Region, rowscope.Region},
	{viewer.RoleInvestigator, kindList(domain.AgencyKindBorderAndMigrationPolice, domain.AgencyKindNationalBureauOfInvestigation), rowscope.Assigned, rowscope.Assigned},
	{viewer.RoleProsecutor, kindList(domain.AgencyKindProsecutionOffice), rowscope.Region, rowscope.Assigned},
	{viewer.RoleProsecutor, kindList(domain.AgencyKindSpecialProsecutionOffice), rowscope.Assigned, rowscope.Assigned},
	{viewer.RoleProsecutor, kindList(domain.AgencyKindGeneralProsecutionOffice), rowscope.All, rowscope.All},
	{viewer.RoleJudge, courtKinds, rowscope.Assigned, rowscope.Assigned},
	{viewer.RoleCaseWorker, supportKinds, rowscope.Assigned, rowscope.Assigned},
	{viewer.RoleCoordinator, governanceKinds, rowscope.All, rowscope.All},
	{viewer.RoleAnalyst, allKinds(), rowscope.All, rowscope.All},
}

// grant is what one role at some kinds may do besides rows: read field
// categories under a condition, write field categories, call mutations and
// hold powers ("emergency request", "policy read", …).
type grant struct {
	role      viewer.Role
	kinds     []domain.AgencyKind
	reads     map[string]string
	writes    []string
	mutations []string
	powers    []string
	// threshold is the k statistics withhold counts of people below, for
	// a role that reads them ("-": none, it sees exact counts).
	threshold string
}

// wantGrants is everything any role may do; anything not listed is denied.
// In particular coordinators, analysts, data protection officers and
// admins read and write no sensitive field, and a role at a kind outside
// its family gets nothing.
var wantGrants = []grant{
	{
		role: viewer.RoleInvestigator, kinds: policeKinds,
		// Identity, contact and quasi-identifiers of victims in their cases
		// (with consent), suspects' identity; never health, testimony or
		// shelter location.
		reads: map[string]string{
			"Victim:IDENTITY": policies.OnCase, "Victim:CONTACT": policies.OnCase,
			"Victim:QUASI_IDENTIFIER": policies.OnCase, "Suspect:IDENTITY": policies.OnCase,
			"Consent:QUASI_IDENTIFIER": policies.OnCase,
		},
		writes: []string{"Victim:IDENTITY", "Victim:CONTACT", "Victim:QUASI_IDENTIFIER", "Suspect:IDENTITY", "Consent:QUASI_IDENTIFIER"},
		mutations: []string{
			"openCase", "updateCase", "moveCaseStage", "assignAgencyToCase", "registerVictim", "updateVictim",
			"linkVictimToCase", "recordConsent", "withdrawConsent", "recordSuspect", "updateSuspect",
			"createReferral", "moveReferralStatus", "requestEmergencyAccess",
		},
		powers: []string{"emergency request", "statistics read"}, threshold: "5",
	},
	{
		role: viewer.RoleProsecutor, kinds: prosecutionKinds,
		// The criminal proceeding is the legal basis: identity, contact,
		// testimony and quasi-identifiers of the victims, suspects'
		// identity; never health or shelter location.
		reads: map[string]string{
			"Victim:IDENTITY": policies.Proceedings, "Victim:CONTACT": policies.Proceedings,
			"Victim:TESTIMONY": policies.Proceedings, "Victim:QUASI_IDENTIFIER": policies.Proceedings,
			"Suspect:IDENTITY": policies.Proceedings, "Consent:QUASI_IDENTIFIER": policies.Proceedings,
		},
		writes: []string{
			"Victim:IDENTITY", "Victim:CONTACT", "Victim:TESTIMONY", "Victim:QUASI_IDENTIFIER", "Suspect:IDENTITY",
			"Consent:QUASI_IDENTIFIER",
		},
		mutations: []string{
			"openCase", "updateCase", "moveCaseStage", "assignAgencyToCase", "updateVictim", "linkVictimToCase",
			"recordConsent", "withdrawConsent", "recordSuspect", "updateSuspect", "registerProsecution",
			"updateProsecution", "moveProsecutionStage", "extendInvestigationDeadline", "addCharge",
			"reclassifyCharge", "createReferral", "moveReferralStatus", "requestEmergencyAccess",
		},
		powers: []string{"emergency request", "statistics read"}, threshold: "5",
	},
	{
		// A district prosecution office counts its own records exactly.
		role: viewer.RoleProsecutor, kinds: kindList(domain.AgencyKindProsecutionOffice),
		powers: []string{"statistics exact"}, threshold: "-",
	},
	{
		role: viewer.RoleJudge, kinds: courtKinds,
		// Identity and testimony of the victims, suspects' identity, in the
		// proceedings before the court; writes no sensitive field.
		reads: map[string]string{
			"Victim:IDENTITY": policies.Proceedings, "Victim:TESTIMONY": policies.Proceedings,
			"Suspect:IDENTITY": policies.Proceedings,
		},
		mutations: []string{
			"moveCaseStage", "assignAgencyToCase", "moveProsecutionStage", "recordCourtDecision", "updateCourtDecision",
		},
	},
	{
		role: viewer.RoleCaseWorker, kinds: supportKinds,
		// What a service needs of the victims referred to it (with
		// consent): identity, contact, health, shelter location,
		// quasi-identifiers, its services' health notes; never testimony
		// or suspects.
		reads: map[string]string{
			"Victim:IDENTITY": policies.Referred, "Victim:CONTACT": policies.Referred,
			"Victim:HEALTH": policies.Referred, "Victim:LOCATION": policies.Referred,
			"Victim:QUASI_IDENTIFIER": policies.Referred, "SupportService:HEALTH": policies.Referred,
			"Consent:QUASI_IDENTIFIER": policies.Referred,
		},
		writes: []string{
			"Victim:IDENTITY", "Victim:CONTACT", "Victim:HEALTH", "Victim:LOCATION", "Victim:QUASI_IDENTIFIER",
			"SupportService:HEALTH", "Consent:QUASI_IDENTIFIER",
		},
		mutations: []string{
			"registerVictim", "updateVictim", "recordConsent", "withdrawConsent", "createReferral",
			"moveReferralStatus", "recordSupportService", "updateSupportService", "requestEmergencyAccess",
		},
		powers: []string{"emergency request"},
	},
	{
		role: viewer.RoleCoordinator, kinds: governanceKinds,
		mutations: []string{"createReferral", "moveReferralStatus", "assignAgencyToCase"},
		powers:    []string{"statistics read"}, threshold: "5",
	},
	{
		// Analysts publish: a higher threshold than the default.
		role: viewer.RoleAnalyst, kinds: allKinds(),
		powers: []string{"statistics read"}, threshold: "10",
	},
	{
		role: viewer.RoleDPO, kinds: allKinds(),
		mutations: []string{"revokeEmergencyAccess"},
		powers:    []string{"emergency review", "policy read", "audit read", "audit verify"},
	},
	{
		// The national coordinator's DPO reads every agency's audit events.
		role: viewer.RoleDPO, kinds: kindList(domain.AgencyKindNationalAntiTraffickingCoordinator),
		powers: []string{"audit read_all"},
	},
	{
		role: viewer.RoleAdmin, kinds: allKinds(),
		mutations: []string{"changePolicy"},
		powers:    []string{"policy change", "policy read"},
	},
}

// matrixPowers are the powers compared, as "object action".
var matrixPowers = []string{"emergency request", "emergency review", "policy read", "policy change",
	"audit read", "audit read_all", "audit verify", "statistics read", "statistics exact"}

func kindList(ks ...domain.AgencyKind) []domain.AgencyKind { return ks }

// cellKey names one cell: "role @ KIND object action".
func cellKey(role viewer.Role, kind domain.AgencyKind, object, action string) string {
	return fmt.Sprintf("%s @ %s %s %s", role, kind, object, action)
}

// wantPurposes are the purposes a consent must name to open a field that
// needs consent to each role, at every kind of agency (a purpose line
// holds at every kind).
var wantPurposes = map[viewer.Role]string{
	viewer.RoleInvestigator: "CRIMINAL_PROCEEDINGS", viewer.RoleProsecutor: "CRIMINAL_PROCEEDINGS",
	viewer.RoleJudge: "CRIMINAL_PROCEEDINGS", viewer.RoleCaseWorker: "SERVICES",
	viewer.RoleCoordinator: "SERVICES", viewer.RoleAnalyst: "STATISTICS",
}

// expected expands wantRows and wantGrants over the full cross product:
// cell → the conditions under which it is allowed, joined ("" = denied).
func expectedMatrix(t *testing.T) map[string]string {
	t.Helper()
	fields := matrixKeys(sensitiveFields)
	slices.Sort(fields)
	want := map[string]string{}
	for _, role := range viewer.Roles {
		for _, k := range allKinds() {
			want[cellKey(role, k, policies.RowsCases, policies.See)] = ""
			want[cellKey(role, k, policies.RowsVictims, policies.See)] = ""
			for _, f := range fields {
				want[cellKey(role, k, f, policies.Read)] = ""
				want[cellKey(role, k, f, policies.Write)] = ""
			}
			for _, mu := range schemaMutations {
				want[cellKey(role, k, policies.MutationObject(mu), policies.Call)] = ""
			}
			for _, p := range matrixPowers {
				obj, act, _ := strings.Cut(p, " ")
				want[cellKey(role, k, obj, act)] = ""
			}
			want[cellKey(role, k, policies.Statistics, policies.Threshold)] = ""
			want[cellKey(role, k, policies.ConsentObject, policies.PurposeAction)] = wantPurposes[role]
		}
	}
	set := func(key, value string) {
		if _, ok := want[key]; !ok {
			t.Fatalf("the expected table names a cell outside the matrix: %s", key)
		}
		want[key] = value
	}
	for _, r := range wantRows {
		for _, k := range r.kinds {
			set(cellKey(r.role, k, policies.RowsCases, policies.See), r.cases.Name())
			set(cellKey(r.role, k, policies.RowsVictims, policies.See), r.victims.Name())
		}
	}
	for _, g := range wantGrants {
		for _, k := range g.kinds {
			for _, f := range fields {
				if c, ok := g.reads[sensitiveFields[f]]; ok {
					set(cellKey(g.role, k, f, policies.Read), c)
				}
				if slices.Contains(g.writes, sensitiveFields[f]) {
					set(cellKey(g.role, k, f, policies.Write), policies.Any)
				}
			}
			for _, mu := range g.mutations {
				set(cellKey(g.role, k, policies.MutationObject(mu), policies.Call), policies.Any)
			}
			for _, p := range g.powers {
				obj, act, _ := strings.Cut(p, " ")
				set(cellKey(g.role, k, obj, act), policies.Any)
			}
			switch g.threshold {
			case "":
			case "-":
				set(cellKey(g.role, k, policies.Statistics, policies.Threshold), "")
			default:
				set(cellKey(g.role, k, policies.Statistics, policies.Threshold), g.threshold)
			}
		}
	}
	return want
}

// cells flattens a matrix into the same form as expected.
func matrixCells(m policytools.Matrix) map[string]string {
	got := map[string]string{}
	for _, c := range m.Cells {
		if c.Allowed != (len(c.Conditions) > 0) {
			panic(fmt.Sprintf("%+v: allowed without condition, or denied with one", c))
		}
		got[cellKey(c.Role, c.Kind, c.Object, c.Action)] = strings.Join(c.Conditions, "|")
	}
	return got
}

// compare returns every cell where m differs from want, and how many cells
// it compared. A cell missing on either side is a difference.
func compareMatrix(m policytools.Matrix, want map[string]string) (diffs []string, compared int) {
	got := matrixCells(m)
	keys := matrixKeys(want)
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	show := func(v string, ok bool) string {
		switch {
		case !ok:
			return "(no such cell)"
		case v == "":
			return "denied"
		}
		return "allowed " + v
	}
	for _, k := range keys {
		w, wok := want[k]
		g, gok := got[k]
		if w != g || wok != gok {
			diffs = append(diffs, fmt.Sprintf("%s: policy gives %s, expected %s", k, show(g, gok), show(w, wok)))
		}
	}
	return diffs, len(keys)
}

func matrixKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// newEnforcer returns an enforcer over a fresh database seeded with the
// default policy.
func newPolicyEnforcer(t *testing.T) (*authz.Enforcer, *database.DB) {
	t.Helper()
	db := testdb.SQLite(t)
	e, err := authz.New(context.Background(), db.Client, db.Dialect, graph.Vocabulary())
	if err != nil {
		t.Fatalf("building the enforcer: %v", err)
	}
	return e, db
}

func TestPolicyMatrix(t *testing.T) {
	e, _ := newPolicyEnforcer(t)
	m := policytools.MatrixOf(e)

	t.Run("the expected table covers the schema", func(t *testing.T) {
		v := e.Vocabulary()
		if !matrixMapsEqual(v.Fields, sensitiveFields) {
			t.Errorf("the schema's sensitive fields changed; decide their access in this test.\nschema:   %v\nexpected: %v", v.Fields, sensitiveFields)
		}
		if !slices.Equal(slices.Sorted(slices.Values(v.Mutations)), slices.Sorted(slices.Values(schemaMutations))) {
			t.Errorf("the schema's mutations changed; decide who may call them in this test.\nschema:   %v\nexpected: %v", v.Mutations, schemaMutations)
		}
		got := slices.Sorted(slices.Values(domain.All[domain.AgencyKind]()))
		if want := slices.Sorted(slices.Values(allKinds())); !slices.Equal(got, want) {
			t.Errorf("the agency kinds changed; place each in a family in this test.\ndomain:   %v\nexpected: %v", got, want)
		}
	})

	t.Run("every cell is as expected", func(t *testing.T) {
		diffs, n := compareMatrix(m, expectedMatrix(t))
		for _, d := range diffs {
			t.Error(d)
		}
		want := len(viewer.Roles) * len(allKinds()) * (2 + 2*len(sensitiveFields) + len(schemaMutations) + len(matrixPowers) + 2) // + threshold, purposes
		if n != want {
			t.Errorf("compared %d cells, want the full cross product of %d", n, want)
		}
		t.Logf("compared %d matrix cells", n)
		readmeStatesCellCount(t, n)
	})

	t.Run("only investigators, prosecutors, judges and case workers read or write sensitive fields", func(t *testing.T) {
		for _, c := range m.Cells {
			switch c.Role {
			case viewer.RoleInvestigator, viewer.RoleProsecutor, viewer.RoleJudge, viewer.RoleCaseWorker:
				continue
			}
			if m.Categories[c.Object] != "" && c.Allowed {
				t.Errorf("%s @ %s may %s %s under %v; this role must read and write no sensitive field",
					c.Role, c.Kind, c.Action, c.Object, c.Conditions)
			}
		}
	})

	t.Run("a role outside its family gets nothing", func(t *testing.T) {
		home := map[viewer.Role][]domain.AgencyKind{
			viewer.RoleInvestigator: policeKinds, viewer.RoleProsecutor: prosecutionKinds, viewer.RoleJudge: courtKinds,
			viewer.RoleCaseWorker: supportKinds, viewer.RoleCoordinator: governanceKinds,
		}
		all := matrixCells(m)
		for role, family := range home {
			for _, k := range allKinds() {
				if slices.Contains(family, k) {
					continue
				}
				prefix := fmt.Sprintf("%s @ %s ", role, k)
				purposes := cellKey(role, k, policies.ConsentObject, policies.PurposeAction) // a role's purpose holds at every kind, and opens nothing alone
				for key, v := range all {
					if strings.HasPrefix(key, prefix) && v != "" && key != purposes {
						t.Errorf("%s: allowed %s outside the role's family", key, v)
					}
				}
			}
		}
		// The example of the brief, spelled out.
		for _, c := range m.Cells {
			if c.Role == viewer.RoleInvestigator && c.Kind == domain.AgencyKindNgoShelter && m.Categories[c.Object] != "" && c.Allowed {
				t.Errorf("an investigator at an NGO shelter may %s %s", c.Action, c.Object)
			}
		}
	})

	t.Run("every mutation is callable by some role or listed as callable by nobody", func(t *testing.T) {
		callable := map[string]bool{}
		for _, c := range m.Cells {
			if mu, ok := strings.CutPrefix(c.Object, "Mutation."); ok && c.Allowed {
				callable[mu] = true
			}
		}
		for _, mu := range e.Vocabulary().Mutations {
			nobody := slices.Contains(callableByNobody, mu)
			switch {
			case callable[mu] && nobody:
				t.Errorf("%s is listed as callable by nobody, but the policy lets some role call it", mu)
			case !callable[mu] && !nobody:
				t.Errorf("no role may call %s; grant it or list it in callableByNobody", mu)
			}
		}
		for _, mu := range callableByNobody {
			if !slices.Contains(e.Vocabulary().Mutations, mu) {
				t.Errorf("callableByNobody names %s, which is not a mutation of the schema", mu)
			}
		}
	})

	t.Run("markdown and csv", func(t *testing.T) {
		if md := m.Markdown(); md != policytools.MatrixOf(e).Markdown() {
			t.Error("Markdown is not deterministic")
		}
		var buf bytes.Buffer
		if err := m.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if h := strings.Join(recs[0], ","); h != "role,kind,object,action,allowed,condition" {
			t.Errorf("CSV header %q", h)
		}
		for _, line := range [][]string{
			{"investigator", "LOCAL_POLICE_DIRECTORATE", "rows:cases", "see", "true", "region"},
			{"prosecutor", "PROSECUTION_OFFICE", "Victim.testimonySummary", "read", "true", "proceedings"},
			{"judge", "HIGH_COURT", "Victim.phone", "read", "false", ""},
			{"case_worker", "NGO_SHELTER", "Victim.healthNotes", "write", "true", "any"},
			{"dpo", "NGO_SHELTER", "Mutation.revokeEmergencyAccess", "call", "true", "any"},
			{"admin", "HIGH_COURT", "policy", "change", "true", "any"},
			{"analyst", "NGO_SHELTER", "Victim.legalName", "read", "false", ""},
		} {
			if !slices.ContainsFunc(recs, func(r []string) bool { return slices.Equal(r, line) }) {
				t.Errorf("CSV lacks %v", line)
			}
		}
	})
}

// emergencyCells are the investigators' cells of asking for emergency access.
var emergencyCells = append(matrixCrossKeys([]viewer.Role{viewer.RoleInvestigator}, policeKinds, []string{"Mutation.requestEmergencyAccess"}, policies.Call),
	matrixCrossKeys([]viewer.Role{viewer.RoleInvestigator}, policeKinds, []string{policies.Emergency}, policies.Request)...)

// TestPolicyMatrixCatchesChanges proves the comparison reports a change of
// the policy in the database: each case adds (or removes) one line, builds
// a new enforcer over it, and expects exactly the cells it changes.
func TestPolicyMatrixCatchesChanges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		add    policies.Line
		remove policies.Line
		// cells the change must report, each a prefix "role @ KIND object action".
		want []string
	}{
		{
			name: "judges read victims' contact",
			add:  policies.Line{"p", "judge", "court", "Victim:CONTACT", "read", "proceedings"},
			want: matrixCrossKeys([]viewer.Role{viewer.RoleJudge}, courtKinds, []string{"Victim.address", "Victim.phone"}, policies.Read),
		},
		{
			name: "analysts read victims' identity",
			add:  policies.Line{"p", "analyst", "*", "Victim:IDENTITY", "read", "any"},
			want: matrixCrossKeys([]viewer.Role{viewer.RoleAnalyst}, allKinds(),
				[]string{"Victim.dateOfBirth", "Victim.legalName", "Victim.personalNumber"}, policies.Read),
		},
		{
			name: "one field, not a category",
			add:  policies.Line{"p", "coordinator", "MINISTRY_OF_INTERIOR", "Victim.healthNotes", "read", "any"},
			want: matrixCrossKeys([]viewer.Role{viewer.RoleCoordinator}, kindList(domain.AgencyKindMinistryOfInterior),
				[]string{"Victim.healthNotes"}, policies.Read),
		},
		{
			name: "case workers see every victim",
			add:  policies.Line{"p", "case_worker", "support", "rows:victims", "see", "all"},
			want: matrixCrossKeys([]viewer.Role{viewer.RoleCaseWorker}, supportKinds, []string{policies.RowsVictims}, policies.See),
		},
		{
			name: "coordinators call a mutation",
			add:  policies.Line{"p", "coordinator", "governance", "Mutation.updateVictim", "call", "any"},
			want: matrixCrossKeys([]viewer.Role{viewer.RoleCoordinator}, governanceKinds, []string{"Mutation.updateVictim"}, policies.Call),
		},
		{
			name: "a shelter joins the police family",
			add:  policies.Line{"g2", "NGO_SHELTER", "investigation"},
			want: []string{"investigator @ NGO_SHELTER "},
		},
		{ // A call needs its power, and the power is used only through the call: either line takes both cells.
			name:   "investigators lose the power to ask for emergency access",
			remove: policies.Line{"p", "investigator", "investigation", "emergency", "request", "any"},
			want:   emergencyCells,
		},
		{
			name:   "investigators lose the call that asks for emergency access",
			remove: policies.Line{"p", "investigator", "investigation", "Mutation.requestEmergencyAccess", "call", "any"},
			want:   emergencyCells,
		},
		{
			name:   "judges lose testimony",
			remove: policies.Line{"p", "judge", "court", "Victim:TESTIMONY", "read", "proceedings"},
			want:   matrixCrossKeys([]viewer.Role{viewer.RoleJudge}, courtKinds, []string{"Victim.testimonySummary"}, policies.Read),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, db := newPolicyEnforcer(t) // seeds the default policy
			sys := viewer.SystemContext(context.Background())
			if tc.add != nil {
				v := make([]string, 6)
				copy(v, tc.add[1:])
				err := db.Client.PolicyRule.Create().SetPtype(tc.add[0]).
					SetV0(v[0]).SetV1(v[1]).SetV2(v[2]).SetV3(v[3]).SetV4(v[4]).SetV5(v[5]).Exec(sys)
				if err != nil {
					t.Fatalf("inserting %s: %v", tc.add, err)
				}
			}
			if tc.remove != nil {
				n, err := db.Client.PolicyRule.Delete().Where(policyrule.Ptype(tc.remove[0]),
					policyrule.V0(tc.remove[1]), policyrule.V1(tc.remove[2]), policyrule.V2(tc.remove[3]),
					policyrule.V3(tc.remove[4]), policyrule.V4(tc.remove[5])).Exec(sys)
				if err != nil || n != 1 {
					t.Fatalf("removing %s: %d rows, %v", tc.remove, n, err)
				}
			}
			changed, err := authz.New(context.Background(), db.Client, db.Dialect, graph.Vocabulary())
			if err != nil {
				t.Fatalf("building the enforcer over the changed policy: %v", err)
			}
			diffs, _ := compareMatrix(policytools.MatrixOf(changed), expectedMatrix(t))
			if len(diffs) == 0 {
				t.Fatalf("the comparison reports no difference after changing the policy")
			}
			for _, d := range diffs {
				if !slices.ContainsFunc(tc.want, func(w string) bool { return strings.HasPrefix(d, w) }) {
					t.Errorf("unexpected difference: %s", d)
				}
			}
			for _, w := range tc.want {
				if !slices.ContainsFunc(diffs, func(d string) bool { return strings.HasPrefix(d, w) }) {
					t.Errorf("no difference reported for %s", w)
				}
			}
			t.Logf("%d differences, e.g. %s", len(diffs), diffs[0])
		})
	}
}

// matrixCrossKeys lists the cell keys (with a trailing colon) of roles × kinds ×
// objects for act.
func matrixCrossKeys(roles []viewer.Role, ks []domain.AgencyKind, objects []string, act string) []string {
	var out []string
	for _, r := range roles {
		for _, k := range ks {
			for _, o := range objects {
				out = append(out, cellKey(r, k, o, act)+":")
			}
		}
	}
	return out
}

func matrixMapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestDefaultPolicyParsesAndValidates(t *testing.T) {
	lines, err := policies.Parse(policies.DefaultPolicy)
	if err != nil {
		t.Fatalf("parsing policy.csv: %v", err)
	}
	if len(lines) == 0 {
		t.Fatal("policy.csv holds no lines")
	}
	if err := policies.Validate(lines, graph.Vocabulary()); err != nil {
		t.Fatalf("policy.csv: %v", err)
	}
	for _, l := range lines {
		if (l[0] == policies.PtypeP && len(l) != 6) || (l[0] == policies.PtypeG2 && len(l) != 3) {
			t.Errorf("malformed line %s", l)
		}
	}
}

func TestValidateRefusesUnknownNames(t *testing.T) {
	defaults, err := policies.Parse(policies.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	vocab := graph.Vocabulary()
	for _, tc := range []struct {
		line string
		bad  string // the token the error must name
	}{
		{"p, sheriff, court, Victim:IDENTITY, read, proceedings", "sheriff"},
		{"p, Judge, court, Victim:IDENTITY, read, proceedings", "Judge"},
		{"p, judge, MOON_COURT, Victim:IDENTITY, read, proceedings", "MOON_COURT"},
		{"p, judge, courts, Victim:IDENTITY, read, proceedings", "courts"},
		{"p, judge, court, Victim:SHOE_SIZE, read, proceedings", "Victim:SHOE_SIZE"},
		{"p, judge, court, Victim.shoeSize, read, proceedings", "Victim.shoeSize"},
		{"p, judge, court, Witness:IDENTITY, read, proceedings", "Witness:IDENTITY"},
		{"p, judge, court, Mutation.deleteEverything, call, any", "Mutation.deleteEverything"},
		{"p, judge, court, rows:witnesses, see, all", "rows:witnesses"},
		{"p, judge, court, Victim:IDENTITY, delete, proceedings", "delete"},
		{"p, judge, court, Victim:IDENTITY, read, whenever", "whenever"},
		{"p, judge, court, Victim:IDENTITY, read, ON_CASE", "ON_CASE"},
		{"p, judge, court, Victim:IDENTITY, write, proceedings", "proceedings"},
		{"p, judge, court, rows:cases, read, all", "read"},
		{"p, judge, court, rows:cases, see, everything", "everything"},
		{"p, judge, court, rows:victims, see, any", "any"},
		{"p, judge, court, Mutation.openCase, execute, any", "execute"},
		{"p, judge, court, Mutation.openCase, call, on_case", "on_case"},
		{"p, dpo, *, emergency, approve, any", "approve"},
		{"p, dpo, *, emergency, review, referred", "referred"},
		{"p, admin, *, policy, delete, any", "delete"},
		{"p, admin, *, policy, change, always", "always"},
		{"p, admin, *, audit, read_all, any", "admin"},
		{"p, investigator, investigation, audit, read, any", "investigator"},
		{"p, dpo, *, audit, delete, any", "delete"},
		{"p, dpo, *, audit, read, agency", "agency"},
		{"g2, MOON_COURT, court", "MOON_COURT"},
		{"g2, HIGH_COURT, COURT_OF_APPEAL", "COURT_OF_APPEAL"},
		{"g3, HIGH_COURT, court", "g3"},
		// A family's name is lower-case ASCII: a lookalike letter (here a
		// Cyrillic і) or a leading sign would show as another name.
		{"g2, HIGH_COURT, investigat\u0456on", "investigat\u0456on"},
		{"g2, HIGH_COURT, #support", "#support"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			bad, err := policies.Parse(tc.line)
			if err != nil || len(bad) != 1 {
				t.Fatalf("parsing: %v", err)
			}
			err = policies.Validate(append(slices.Clone(defaults), bad[0]), vocab)
			if err == nil {
				t.Fatalf("Validate accepted %q", tc.line)
			}
			if !strings.Contains(err.Error(), strconv.Quote(tc.bad)) {
				t.Errorf("the error does not name %q: %v", tc.bad, err)
			}
			if !strings.Contains(err.Error(), bad[0].String()) {
				t.Errorf("the error does not quote the line %q: %v", bad[0].String(), err)
			}
			if strings.Count(err.Error(), "\n  ") != 1 {
				t.Errorf("the error names more than the bad line: %v", err)
			}
		})
	}
}

const (
	readmePath  = "../policies/README.md"
	matrixBegin = "<!-- matrix:begin -->"
	matrixEnd   = "<!-- matrix:end -->"
)

// cellCount is how policies/README.md states the number of cells this
// test compares.
var cellCount = regexp.MustCompile(`compares all [0-9,]+ cells`)

// readmeStatesCellCount checks that policies/README.md gives n as the
// number of cells compared (-update rewrites it): a number in prose goes
// stale unless a test keeps it.
func readmeStatesCellCount(t *testing.T, n int) {
	t.Helper()
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	digits := strconv.Itoa(n)
	for i := len(digits) - 3; i > 0; i -= 3 {
		digits = digits[:i] + "," + digits[i:]
	}
	want := "compares all " + digits + " cells"
	got := cellCount.Find(raw)
	switch {
	case got == nil:
		t.Errorf("%s must say how many cells this test compares (%q)", readmePath, want)
	case string(got) == want:
	case testserver.Updating():
		if err := os.WriteFile(readmePath, cellCount.ReplaceAll(raw, []byte(want)), 0o644); err != nil {
			t.Fatal(err)
		}
	default:
		t.Errorf("%s says %q; this test compares %d: run go test ./policytools -run TestPolicyMatrix -update", readmePath, got, n)
	}
}

// TestPolicyReadmeIsCurrent checks that policies/README.md shows the
// matrix of the shipped policy; -update rewrites that section.
func TestPolicyReadmeIsCurrent(t *testing.T) {
	e, _ := newPolicyEnforcer(t)
	md := policytools.MatrixOf(e).Markdown()
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	before, rest, ok := strings.Cut(text, matrixBegin)
	section, after, ok2 := strings.Cut(rest, matrixEnd)
	if !ok || !ok2 {
		t.Fatalf("%s lacks the markers %s and %s", readmePath, matrixBegin, matrixEnd)
	}
	if testserver.Updating() {
		next := before + matrixBegin + "\n" + md + matrixEnd + after
		if next != text {
			if err := os.WriteFile(readmePath, []byte(next), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote the matrix in %s", readmePath)
		}
		return
	}
	if strings.TrimSpace(section) != strings.TrimSpace(md) {
		t.Errorf("the matrix in %s is not the shipped policy's; run: go test ./policytools -run TestPolicyReadmeIsCurrent -update", readmePath)
	}
}
