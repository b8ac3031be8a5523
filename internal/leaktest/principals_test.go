package leaktest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/seed"
	"github.com/casegraph/casegraph/viewer"
)

// TestPrincipalsCoverEveryRoleAndKind holds the hand-picked principals of
// the leak test to the roles (viewer.Roles), the agency kinds (the domain's,
// and the registry's agencies) and the shipped policy: every role is held
// alone by some principal, and for every role and agency kind at which the
// policy gives that role rows, some principal of that role alone sits at an
// agency of a kind the policy treats the same for it (the same lines: rows,
// fields, mutations, powers). Kinds the policy treats alike share one
// principal (the border police's investigator stands for the National
// Bureau of Investigation's), so a new role, or a kind given lines of its
// own, fails here until the list has a principal for it; the run's time
// grows only then.
func TestPrincipalsCoverEveryRoleAndKind(t *testing.T) {
	t.Parallel()
	lines, err := policies.Parse(policies.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	family := map[string]string{} // kind → family (g2)
	for _, l := range lines {
		if len(l) == 3 && l[0] == "g2" {
			family[l[1]] = l[2]
		}
	}
	kindOf := map[string]domain.AgencyKind{}
	for _, a := range seed.AgencyRegistry {
		kindOf[a.Code] = a.Kind
	}
	// treatment is what the policy gives role at kind: its lines without
	// their subject, sorted, and whether they give rows.
	treatment := func(role viewer.Role, kind domain.AgencyKind) (string, bool) {
		var got []string
		rows := false
		for _, l := range lines {
			if len(l) != 6 || l[0] != "p" || l[1] != string(role) {
				continue
			}
			if s := l[2]; s != "*" && s != string(kind) && s != family[string(kind)] {
				continue
			}
			got = append(got, strings.Join(l[3:], ", "))
			rows = rows || strings.HasPrefix(l[3], "rows:") && l[5] != "none"
		}
		slices.Sort(got)
		return strings.Join(got, "; "), rows
	}
	covered := map[string]bool{} // role and treatment a principal stands for
	for _, p := range principals {
		kind, ok := kindOf[p.agency]
		if !ok {
			t.Errorf("%s: no agency %q in the registry (seed.AgencyRegistry)", p, p.agency)
			continue
		}
		if len(p.roles) == 1 {
			tr, _ := treatment(p.roles[0], kind)
			covered[string(p.roles[0])+" | "+tr] = true
		}
	}
	kinds := domain.All[domain.AgencyKind]()
	for _, kind := range kinds {
		if _, ok := family[string(kind)]; !ok {
			t.Errorf("the agency kind %s is in no family of the policy (g2)", kind)
		}
	}
	classes := 0
	for _, role := range viewer.Roles {
		if !slices.ContainsFunc(principals, func(p principal) bool { return len(p.roles) == 1 && p.roles[0] == role }) {
			t.Errorf("no principal holds the role %s alone: add one to principals (leak_test.go)", role)
			continue
		}
		seen := map[string]bool{}
		for _, kind := range kinds {
			tr, rows := treatment(role, kind)
			if !rows || seen[tr] {
				continue
			}
			seen[tr] = true
			classes++
			if !covered[string(role)+" | "+tr] {
				var at []string
				for _, a := range seed.AgencyRegistry {
					if a.Kind == kind {
						at = append(at, a.Code)
					}
				}
				t.Errorf("no principal stands for the role %s at the kind %s (%v): the policy gives it rows there, and lines it has at no kind a principal of that role sits at: add one to principals (leak_test.go)",
					role, kind, at)
			}
		}
	}
	t.Logf("%d roles; %d treatments of a role that sees rows, each by a principal", len(viewer.Roles), classes)
}

// TestOracleKnowsWhatThePolicyGives holds the oracle's hand-written tables
// (familyOf, rowLevels, readRules, purposeOf in oracle_test.go) to the
// lines of the shipped policy they restate, for every role and agency
// kind: the family of each kind, the level at which the role sees cases
// and victims, each sensitive category it reads and under what condition,
// and the consent purpose of a role that reads with consent. The oracle
// stays written by hand, apart from the code that reads the policy, so that
// a fault in that code is a finding; this only says, in a second, where a
// new role or a changed line left it behind, which the leak test would say
// after minutes, as a leak or an over-refusal of some principal, or not at
// all for a kind no principal sits at.
func TestOracleKnowsWhatThePolicyGives(t *testing.T) {
	t.Parallel()
	lines, err := policies.Parse(policies.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	family := map[string]string{}
	purpose := map[viewer.Role]string{}
	for _, l := range lines {
		switch {
		case len(l) == 3 && l[0] == "g2":
			family[l[1]] = l[2]
		case len(l) == 6 && l[0] == "p" && l[3] == "consent" && l[4] == "purpose":
			purpose[viewer.Role(l[1])] = l[5]
		}
	}
	// given is what the policy's lines for role at kind say: the level of
	// each rows: object, and the condition of each Type:CATEGORY read.
	given := func(role viewer.Role, kind string) (levels, reads map[string]string) {
		levels, reads = map[string]string{}, map[string]string{}
		for _, l := range lines {
			if len(l) != 6 || l[0] != "p" || l[1] != string(role) {
				continue
			}
			if s := l[2]; s != "*" && s != kind && s != family[kind] {
				continue
			}
			switch {
			case strings.HasPrefix(l[3], "rows:") && l[4] == "see":
				levels[strings.TrimPrefix(l[3], "rows:")] = l[5]
			case strings.Contains(l[3], ":") && l[4] == "read":
				reads[l[3]] = l[5]
			}
		}
		return levels, reads
	}
	for _, kind := range domain.All[domain.AgencyKind]() {
		k := string(kind)
		if familyOf[k] != family[k] {
			t.Errorf("the oracle puts the kind %s in the family %q, the policy in %q (familyOf)", k, familyOf[k], family[k])
		}
		for _, role := range viewer.Roles {
			levels, reads := given(role, k)
			cases, victims := rowLevels(role, k)
			for object, want := range map[string]string{"cases": cases, "victims": victims} {
				got := levels[object]
				if got == "" {
					got = "none"
				}
				if got != want {
					t.Errorf("%s at %s sees %s at the level %q by the policy, %q by the oracle (rowLevels)", role, k, object, got, want)
				}
			}
			oracle := map[string]string{}
			if r, ok := readRules[role]; ok && r.family == familyOf[k] {
				oracle = r.cats
			}
			for cat, cond := range reads {
				if oracle[cat] != cond {
					t.Errorf("%s at %s reads %s when %s by the policy, the oracle says %q (readRules)", role, k, cat, cond, oracle[cat])
				}
			}
			for cat, cond := range oracle {
				if _, ok := reads[cat]; !ok {
					t.Errorf("%s at %s reads %s when %s by the oracle, not at all by the policy (readRules)", role, k, cat, cond)
				}
			}
			for cat, cond := range reads {
				_, category, _ := strings.Cut(cat, ":")
				if consentCategories[category] && cond != "proceedings" && string(purposeOf[role]) != purpose[role] {
					t.Errorf("%s reads %s with consent; its purpose is %q by the policy, %q by the oracle (purposeOf)", role, cat, purpose[role], purposeOf[role])
				}
			}
		}
	}
}
