package policies_test

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/viewer"
)

var update = flag.Bool("update", false, "rewrite the generated sections of README.md")

// powersTable renders the table of powers as README.md shows it.
func powersTable() string {
	var b strings.Builder
	b.WriteString("| object | action | lets its holder | roles that may hold it |\n|---|---|---|---|\n")
	for _, p := range policies.Powers {
		o, _ := policies.PowerObjectOf(p.Object)
		roles := "any"
		if len(o.Roles) > 0 {
			roles = fmt.Sprint(o.Roles)
			roles = strings.Trim(roles, "[]")
		}
		does := p.Does
		if p.Implies != "" {
			does += fmt.Sprintf(" (and `%s`)", p.Implies)
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", p.Object, p.Action, does, roles)
	}
	return b.String()
}

// purposesTable renders the roles' consent purposes of the default policy:
// the roles of each purpose, purposes in the order of the roles.
func purposesTable(t *testing.T) string {
	t.Helper()
	lines, err := policies.Parse(policies.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	rolesOf := map[string][]string{}
	for _, role := range viewer.Roles {
		for _, l := range lines {
			if l[0] == policies.PtypeP && l[1] == string(role) && l[3] == policies.ConsentObject {
				if _, seen := rolesOf[l[5]]; !seen {
					order = append(order, l[5])
				}
				rolesOf[l[5]] = append(rolesOf[l[5]], l[1])
			}
		}
	}
	var b strings.Builder
	b.WriteString("| role | purpose |\n|---|---|\n")
	for _, pu := range order {
		fmt.Fprintf(&b, "| %s | `%s` |\n", strings.Join(rolesOf[pu], ", "), pu)
	}
	return b.String()
}

// TestReadmeIsCurrent checks the sections of README.md generated from the
// table of powers and from the purpose lines of policy.csv; -update
// rewrites them.
func TestReadmeIsCurrent(t *testing.T) {
	const path = "README.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, sec := range []struct{ name, body string }{
		{"powers", powersTable()},
		{"purposes", purposesTable(t)},
	} {
		begin, end := "<!-- "+sec.name+":begin -->", "<!-- "+sec.name+":end -->"
		before, rest, ok := strings.Cut(text, begin)
		current, after, ok2 := strings.Cut(rest, end)
		if !ok || !ok2 {
			t.Fatalf("%s lacks the markers %s and %s", path, begin, end)
		}
		if *update {
			text = before + begin + "\n" + sec.body + end + after
			continue
		}
		if strings.TrimSpace(current) != strings.TrimSpace(sec.body) {
			t.Errorf("the %s section of %s is out of date; run: go test ./policies -run TestReadmeIsCurrent -update", sec.name, path)
		}
	}
	if *update && text != string(raw) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPowersTable checks the table itself: every power on a known object,
// once, with what it lets do, a cell for the matrix, and a refusal or a
// place that checks it; every object with at least one power.
func TestPowersTable(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range policies.Powers {
		key := p.Object + " " + p.Action
		if seen[key] {
			t.Errorf("%s is in the table twice", key)
		}
		seen[key] = true
		if _, ok := policies.PowerObjectOf(p.Object); !ok {
			t.Errorf("%s: unknown object", key)
		}
		if p.Does == "" || p.Cell == "" {
			t.Errorf("%s: says neither what it lets do nor how the matrix shows it", key)
		}
		if p.Refusal == "" && p.CheckedBy == "" {
			t.Errorf("%s: neither a refusal for @allowed nor the place that checks it", key)
		}
		if _, ok := p.NeededBy(); ok && p.Refusal == "" {
			t.Errorf("%s: needed by a mutation, which refuses a caller without it with its refusal, and it has none", key)
		}
		if _, ok := policies.PowerOf(p.Object, p.Implies); p.Implies != "" && !ok {
			t.Errorf("%s implies %s, which is not a power", key, p.Implies)
		}
	}
	for _, o := range policies.PowerObjects {
		if len(policies.ActionsOf(o.Name)) == 0 {
			t.Errorf("%s has no power", o.Name)
		}
	}
}

// TestValidatePurposes checks the consent purpose lines and that a role
// reading under consent has a purpose: a line is refused naming what is
// wrong, and the shipped policy's purposes are those of each role before
// they became lines.
func TestValidatePurposes(t *testing.T) {
	defaults, err := policies.Parse(policies.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	vocab := graph.Vocabulary()
	without := func(drop func(policies.Line) bool) []policies.Line {
		return slices.DeleteFunc(slices.Clone(defaults), drop)
	}
	withLineTo := func(t *testing.T, base []policies.Line, s string) []policies.Line {
		t.Helper()
		l, err := policies.Parse(s)
		if err != nil || len(l) != 1 {
			t.Fatalf("parsing %q: %v", s, err)
		}
		return append(slices.Clone(base), l[0])
	}
	withLine := func(t *testing.T, s string) []policies.Line {
		t.Helper()
		return withLineTo(t, defaults, s)
	}
	noAnalystPurpose := without(func(l policies.Line) bool {
		return l[0] == policies.PtypeP && l[1] == string(viewer.RoleAnalyst) && l[3] == policies.ConsentObject
	})
	noPolicyChangers := without(func(l policies.Line) bool {
		return l[0] == policies.PtypeP && (l[3] == policies.Policy && l[4] == policies.Change || l[3] == policies.MutationObject("changePolicy"))
	})
	for _, tc := range []struct {
		name  string
		lines []policies.Line
		bad   string // the token the error must name; "" = valid
	}{
		{"a role without purpose reads under consent", withLineTo(t, noAnalystPurpose, "p, analyst, *, Victim:IDENTITY, read, on_case"), "analyst"},
		{"a role without purpose reads under proceedings", withLineTo(t, noAnalystPurpose, "p, analyst, *, Victim:IDENTITY, read, proceedings"), ""},
		{"a role without purpose reads what needs no consent", withLineTo(t, noAnalystPurpose, "p, analyst, *, Victim:LOCATION, read, any"), ""},
		// Who governs and watches keeps its powers and gets no victim data.
		{"the data protection officer given victims' shelters", withLine(t, "p, dpo, *, Victim:LOCATION, read, any"), "dpo"},
		{"the administrator given every victim's row", withLine(t, "p, admin, *, rows:victims, see, all"), "admin"},
		{"nobody may change the policy any more", without(func(l policies.Line) bool {
			return l[0] == policies.PtypeP && l[3] == policies.Policy && l[4] == policies.Change
		}), "policy, change"},
		// A request checks the power and the call at the caller's one kind.
		{"the power and the call held at different kinds", withLineTo(t, withLineTo(t, noPolicyChangers,
			"p, admin, HIGH_COURT, policy, change, any"), "p, admin, MINISTRY_OF_INTERIOR, Mutation.changePolicy, call, any"), "policy, change"},
		{"the power at a family, the call at one of its kinds", withLineTo(t, withLineTo(t, noPolicyChangers,
			"p, admin, court, policy, change, any"), "p, admin, HIGH_COURT, Mutation.changePolicy, call, any"), ""},
		{"the power at every kind, the call at one", withLineTo(t, withLineTo(t, noPolicyChangers,
			"p, admin, *, policy, change, any"), "p, admin, HIGH_COURT, Mutation.changePolicy, call, any"), ""},
		{"the power and the call held by different roles", withLineTo(t, withLineTo(t, noPolicyChangers,
			"p, admin, *, policy, change, any"), "p, dpo, *, Mutation.changePolicy, call, any"), "policy, change"},
		{"the data protection officer cannot verify the trail", without(func(l policies.Line) bool {
			return l[0] == policies.PtypeP && l[1] == string(viewer.RoleDPO) && l[3] == policies.Audit && l[4] == policies.Verify
		}), "audit, verify"},
		// The break glass keeps its brake while anyone may break it.
		{"the data protection officer cannot review emergency grants", without(func(l policies.Line) bool {
			return l[0] == policies.PtypeP && l[1] == string(viewer.RoleDPO) && l[3] == policies.Emergency && l[4] == policies.Review
		}), "emergency, review"},
		{"the data protection officer cannot call revokeEmergencyAccess", without(func(l policies.Line) bool {
			return l[0] == policies.PtypeP && l[1] == string(viewer.RoleDPO) && l[3] == policies.MutationObject("revokeEmergencyAccess")
		}), "Mutation.revokeEmergencyAccess, call"},
		{"nobody may ask for emergency access, nor review it", without(func(l policies.Line) bool {
			return l[0] == policies.PtypeP && (l[3] == policies.Emergency || l[3] == policies.MutationObject("revokeEmergencyAccess") ||
				l[3] == policies.MutationObject("requestEmergencyAccess"))
		}), ""},
		{"a purpose held at one kind only", withLine(t, "p, dpo, court, consent, purpose, SERVICES"), "court"},
		{"an unknown purpose", withLine(t, "p, dpo, *, consent, purpose, CURIOSITY"), "CURIOSITY"},
		{"an unknown consent action", withLine(t, "p, dpo, *, consent, give, SERVICES"), "give"},
		{"a second purpose", withLine(t, "p, judge, *, consent, purpose, STATISTICS"), ""},
		{"case workers lose their purpose", without(func(l policies.Line) bool {
			return l[0] == policies.PtypeP && l[1] == string(viewer.RoleCaseWorker) && l[3] == policies.ConsentObject
		}), "case_worker"},
		{"analysts lose their purpose (they read nothing)", without(func(l policies.Line) bool {
			return l[0] == policies.PtypeP && l[1] == string(viewer.RoleAnalyst) && l[3] == policies.ConsentObject
		}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := policies.Validate(tc.lines, vocab)
			switch {
			case tc.bad == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.bad != "" && err == nil:
				t.Errorf("accepted")
			case tc.bad != "" && !strings.Contains(err.Error(), strconv.Quote(tc.bad)):
				t.Errorf("the error does not name %q: %v", tc.bad, err)
			}
		})
	}

	// The purposes each role had when they were fixed in the code.
	was := map[viewer.Role]domain.ConsentPurpose{
		viewer.RoleInvestigator: domain.ConsentPurposeCriminalProceedings,
		viewer.RoleProsecutor:   domain.ConsentPurposeCriminalProceedings,
		viewer.RoleJudge:        domain.ConsentPurposeCriminalProceedings,
		viewer.RoleCaseWorker:   domain.ConsentPurposeServices,
		viewer.RoleCoordinator:  domain.ConsentPurposeServices,
		viewer.RoleAnalyst:      domain.ConsentPurposeStatistics,
	}
	got := map[viewer.Role]domain.ConsentPurpose{}
	for _, l := range defaults {
		if l[0] == policies.PtypeP && l[3] == policies.ConsentObject {
			if _, twice := got[viewer.Role(l[1])]; twice {
				t.Errorf("%s has two purposes", l[1])
			}
			got[viewer.Role(l[1])] = domain.ConsentPurpose(l[5])
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(was) {
		t.Errorf("the shipped purposes are %v, want %v", got, was)
	}
}
