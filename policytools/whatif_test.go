package policytools_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/policyrule"
	"github.com/casegraph/casegraph/ent/predicate"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/policytools"
	"github.com/casegraph/casegraph/viewer"
)

func line(t *testing.T, s string) policies.Line {
	t.Helper()
	ls, err := policies.Parse(s)
	if err != nil || len(ls) != 1 {
		t.Fatalf("parsing %q: %v", s, err)
	}
	return ls[0]
}

func lines(t *testing.T, ss ...string) []policies.Line {
	t.Helper()
	var out []policies.Line
	for _, s := range ss {
		out = append(out, line(t, s))
	}
	return out
}

// whatIfCases are changes of the shipped policy and every cell each must
// change (role, kinds, objects, action, before → after).
var whatIfCases = []struct {
	name        string
	add, remove []string
	want        []wantChange
}{
	{
		name: "add_judge_legal_name_on_case",
		add:  []string{"p, judge, court, Victim.legalName, read, on_case"},
		want: []wantChange{{viewer.RoleJudge, courtKinds, []string{"Victim.legalName"}, policies.Read, "proceedings", "on_case, proceedings"}},
	},
	{
		name: "add_judge_contact",
		add:  []string{"p, judge, court, Victim:CONTACT, read, proceedings"},
		want: []wantChange{{viewer.RoleJudge, courtKinds, []string{"Victim.address", "Victim.phone"}, policies.Read, "denied", "proceedings"}},
	},
	{
		name:   "remove_judge_testimony",
		remove: []string{"p, judge, court, Victim:TESTIMONY, read, proceedings"},
		want:   []wantChange{{viewer.RoleJudge, courtKinds, []string{"Victim.testimonySummary"}, policies.Read, "proceedings", "denied"}},
	},
	{
		name:   "replace_dpo_audit_read_all",
		add:    []string{"p, dpo, governance, audit, read_all, any"},
		remove: []string{"p, dpo, NATIONAL_ANTI_TRAFFICKING_COORDINATOR, audit, read_all, any"},
		want: []wantChange{{viewer.RoleDPO, kindList(domain.AgencyKindHighProsecutorialCouncil, domain.AgencyKindMinistryOfInterior,
			domain.AgencyKindResponsibleAuthority), []string{policies.Audit}, policies.ReadAll, "denied", "allowed"}},
	},
	{
		name: "add_case_workers_see_all_victims",
		add:  []string{"p, case_worker, support, rows:victims, see, all"},
		want: []wantChange{{viewer.RoleCaseWorker, supportKinds, []string{policies.RowsVictims}, policies.See, "assigned", "all"}},
	},
	{
		name: "add_ngo_shelter_to_investigation",
		add:  []string{"g2, NGO_SHELTER, investigation"},
		want: []wantChange{
			{viewer.RoleInvestigator, kindList(domain.AgencyKindNgoShelter), investigatorFields, policies.Read, "denied", policies.OnCase},
			{viewer.RoleInvestigator, kindList(domain.AgencyKindNgoShelter), investigatorFields, policies.Write, "denied", "allowed"},
			{viewer.RoleInvestigator, kindList(domain.AgencyKindNgoShelter), investigatorMutations, policies.Call, "denied", "allowed"},
			{viewer.RoleInvestigator, kindList(domain.AgencyKindNgoShelter), []string{policies.Emergency}, policies.Request, "denied", "allowed"},
			{viewer.RoleInvestigator, kindList(domain.AgencyKindNgoShelter), []string{policies.Statistics}, policies.Read, "denied", "allowed"},
			{viewer.RoleInvestigator, kindList(domain.AgencyKindNgoShelter), []string{policies.Statistics}, policies.Threshold, "denied", "k = 5"},
		},
	},
	{
		// A purpose opens every field that needs consent under a consent
		// naming it: a change the what-if once reported as none (a hunt
		// over HTTP read victims' names after it).
		name: "add_investigator_purpose_services",
		add:  []string{"p, investigator, *, consent, purpose, SERVICES"},
		want: []wantChange{{viewer.RoleInvestigator, allKinds(), []string{policies.ConsentObject}, policies.PurposeAction,
			"CRIMINAL_PROCEEDINGS", "SERVICES, CRIMINAL_PROCEEDINGS"}},
	},
	{
		name:   "remove_and_add_the_same_line",
		add:    []string{"p, admin, *, policy, change, any"},
		remove: []string{"p, admin, *, policy, change, any"},
	},
}

// investigatorFields and investigatorMutations are what the policy gives
// investigators at the kinds of the investigation family.
var (
	investigatorFields = []string{
		"Consent.givenBy", "Suspect.legalName", "Suspect.personalNumber", "Victim.address", "Victim.dateOfBirth",
		"Victim.exactAge", "Victim.legalName", "Victim.nationality", "Victim.personalNumber", "Victim.phone",
	}
	investigatorMutations = []string{
		"Mutation.openCase", "Mutation.updateCase", "Mutation.moveCaseStage", "Mutation.assignAgencyToCase",
		"Mutation.registerVictim", "Mutation.updateVictim", "Mutation.linkVictimToCase", "Mutation.recordConsent",
		"Mutation.withdrawConsent", "Mutation.recordSuspect", "Mutation.updateSuspect", "Mutation.createReferral",
		"Mutation.moveReferralStatus", "Mutation.requestEmergencyAccess",
	}
)

type wantChange struct {
	role          viewer.Role
	kinds         []domain.AgencyKind
	objects       []string
	action        string
	before, after string
}

// expand lists the changes ws describe, in the order WhatIf reports them
// when each want covers one object (roles, then kinds).
func expand(ws []wantChange) []policytools.CellChange {
	var out []policytools.CellChange
	for _, w := range ws {
		for _, k := range w.kinds {
			for _, o := range w.objects {
				out = append(out, policytools.CellChange{Role: w.role, Kind: k, Object: o, Action: w.action, Before: w.before, After: w.after})
			}
		}
	}
	return out
}

func sameChanges(a, b []policytools.CellChange) bool {
	key := func(c policytools.CellChange) string {
		return strings.Join([]string{string(c.Role), string(c.Kind), c.Object, c.Action, c.Before, c.After}, "|")
	}
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i] = key(a[i])
	}
	for i := range b {
		kb[i] = key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

func TestWhatIf(t *testing.T) {
	e, db := newPolicyEnforcer(t)
	ctx := context.Background()
	matrixBefore := policytools.MatrixOf(e)
	linesBefore, err := e.Lines(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rowsBefore := testdb.RowCounts(t, db.Client)

	for _, tc := range whatIfCases {
		t.Run(tc.name, func(t *testing.T) {
			changes, err := policytools.WhatIf(ctx, e, lines(t, tc.add...), lines(t, tc.remove...))
			if err != nil {
				t.Fatal(err)
			}
			if want := expand(tc.want); !sameChanges(changes, want) {
				t.Errorf("changes:\n%s\nwant:\n%s", policytools.RenderChanges(changes), policytools.RenderChanges(want))
			}
			golden(t, "whatif_"+tc.name+".golden", policytools.RenderChanges(changes))
		})
	}

	t.Run("order is by role, then kind, then rows, fields, mutations, powers", func(t *testing.T) {
		// Two kinds joining other families change cells of two roles.
		changes, err := policytools.WhatIf(ctx, e, lines(t, "g2, HIGH_COURT, support", "g2, NGO_SHELTER, investigation"), nil)
		if err != nil {
			t.Fatal(err)
		}
		section := func(obj string) int {
			switch {
			case strings.HasPrefix(obj, "rows:"):
				return 0
			case strings.HasPrefix(obj, "Mutation."):
				return 2
			case slices.ContainsFunc(policytools.MatrixPowers, func(p policytools.Power) bool { return p.Object == obj }):
				return 3
			}
			return 1
		}
		rank := func(c policytools.CellChange) []int {
			return []int{slices.Index(viewer.Roles, c.Role), slices.Index(allKinds(), c.Kind), section(c.Object)}
		}
		roles := map[viewer.Role]bool{}
		for i, c := range changes {
			roles[c.Role] = true
			if i > 0 && slices.Compare(rank(changes[i-1]), rank(c)) > 0 {
				t.Errorf("%+v comes after %+v", c, changes[i-1])
			}
		}
		if !roles[viewer.RoleInvestigator] || !roles[viewer.RoleCaseWorker] || len(roles) != 2 {
			t.Errorf("changed the cells of %v, want investigator and case_worker", roles)
		}
		golden(t, "whatif_add_two_kinds_to_families.golden", policytools.RenderChanges(changes))
	})

	t.Run("refusals", func(t *testing.T) {
		for _, rc := range []struct {
			name        string
			add, remove []string
			field, bad  string
		}{
			// Adding a line already in force is refused, as changePolicy
			// refuses it: what-if answers whether the change would go
			// through, and a no-op change would not.
			{"an existing line", []string{"p, judge, court, Victim:IDENTITY, read, proceedings"}, nil, "add", "already in the policy"},
			// A line named twice is said so: "already in the policy" was
			// false of a line the change would be first to add (a hunt
			// over HTTP).
			{"the same line twice", []string{"p, judge, court, Victim:CONTACT, read, proceedings", "p, judge, court, Victim:CONTACT, read, proceedings"}, nil, "add", "named twice"},
			{"the same line removed twice", nil, []string{"p, judge, court, Victim:IDENTITY, read, proceedings", "p, judge, court, Victim:IDENTITY, read, proceedings"}, "remove", "named twice"},
			{"an invalid line", []string{"p, judge, court, Victim:SHOE_SIZE, read, proceedings"}, nil, "add", "p, judge, court, Victim:SHOE_SIZE, read, proceedings"},
			{"an unknown condition", []string{"p, judge, court, Victim:IDENTITY, read, whenever"}, nil, "add", `"whenever"`},
			{"a line not in the policy", nil, []string{"p, judge, court, Victim:HEALTH, read, proceedings"}, "remove", "p, judge, court, Victim:HEALTH, read, proceedings"},
			{"a removal that leaves a line naming a missing family", nil, []string{
				"g2, HIGH_PROSECUTORIAL_COUNCIL, governance", "g2, MINISTRY_OF_INTERIOR, governance",
				"g2, NATIONAL_ANTI_TRAFFICKING_COORDINATOR, governance", "g2, RESPONSIBLE_AUTHORITY, governance",
			}, "remove", "p, coordinator, governance, rows:cases, see, all"}, // "add" until the twenty-seventh session: it added nothing
			{"nothing", nil, nil, "add", "nothing"},
			// Checked before anything else: 125,000 lines took 38 s.
			{"more lines than a change may have", tooManyLines(policytools.MaxChangeLines + 1), nil, "add", "at most 500 lines"},
		} {
			t.Run(rc.name, func(t *testing.T) {
				_, err := policytools.WhatIf(ctx, e, lines(t, rc.add...), lines(t, rc.remove...))
				wantBadInput(t, err, rc.field, rc.bad)
			})
		}
	})

	t.Run("nothing changed", func(t *testing.T) {
		if !reflect.DeepEqual(policytools.MatrixOf(e), matrixBefore) {
			t.Error("the enforcer's matrix changed")
		}
		linesAfter, err := e.Lines(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(linesAfter, linesBefore) {
			t.Error("the policy in the database changed")
		}
		if after := testdb.RowCounts(t, db.Client); !reflect.DeepEqual(after, rowsBefore) {
			t.Errorf("rows changed: before %v, after %v", rowsBefore, after)
		}
	})
}

// TestWhatIfAgreesWithAChangeMade makes each change for real in a fresh
// database and checks, over the whole matrix, that the cells that differ
// are exactly those WhatIf reported, with the values it reported.
func TestWhatIfAgreesWithAChangeMade(t *testing.T) {
	shipped, _ := newPolicyEnforcer(t)
	before := matrixCells(policytools.MatrixOf(shipped))
	for _, tc := range whatIfCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, db := newPolicyEnforcer(t)
			ctx := context.Background()
			add, remove := lines(t, tc.add...), lines(t, tc.remove...)
			changes, err := policytools.WhatIf(ctx, e, add, remove)
			if err != nil {
				t.Fatal(err)
			}

			sys := viewer.SystemContext(ctx)
			for _, l := range remove {
				if _, err := db.Client.PolicyRule.Delete().Where(ruleIs(l)...).Exec(sys); err != nil {
					t.Fatal(err)
				}
			}
			for _, l := range add {
				v := make([]string, 6)
				copy(v, l[1:])
				if err := db.Client.PolicyRule.Create().SetPtype(l[0]).
					SetV0(v[0]).SetV1(v[1]).SetV2(v[2]).SetV3(v[3]).SetV4(v[4]).SetV5(v[5]).Exec(sys); err != nil {
					t.Fatal(err)
				}
			}
			changed, err := authz.New(ctx, db.Client, db.Dialect, graph.Vocabulary())
			if err != nil {
				t.Fatal(err)
			}
			after := matrixCells(policytools.MatrixOf(changed))

			reported := map[string]policytools.CellChange{}
			for _, c := range changes {
				reported[cellKey(c.Role, c.Kind, c.Object, c.Action)] = c
			}
			for k, v := range after {
				c, ok := reported[k]
				switch {
				case v != before[k] && !ok:
					t.Errorf("%s changed (%q → %q) but WhatIf did not report it", k, before[k], v)
				case v == before[k] && ok:
					t.Errorf("WhatIf reported %s, which did not change", k)
				case ok && (cellValue(c.Before) != before[k] || cellValue(c.After) != v):
					t.Errorf("%s: WhatIf says %q → %q, the change made %q → %q", k, c.Before, c.After, before[k], v)
				}
			}
		})
	}
}

// ruleIs matches the stored row of policy line l.
func ruleIs(l policies.Line) []predicate.PolicyRule {
	v := make([]string, 6)
	copy(v, l[1:])
	return []predicate.PolicyRule{policyrule.Ptype(l[0]), policyrule.V0(v[0]), policyrule.V1(v[1]), policyrule.V2(v[2]),
		policyrule.V3(v[3]), policyrule.V4(v[4]), policyrule.V5(v[5])}
}

// cellValue turns a CellChange value into matrixCells' form.
func cellValue(s string) string {
	switch s {
	case "denied":
		return ""
	case "allowed":
		return policies.Any
	}
	if k, ok := strings.CutPrefix(s, "k = "); ok {
		return k // the statistics threshold
	}
	return strings.ReplaceAll(s, ", ", "|")
}

// tooManyLines is n distinct lines, none of them valid.
func tooManyLines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("p, judge, court, Victim:LINE_%d, read, proceedings", i)
	}
	return out
}

// TestWhatIfStopsAtTheDeadline: a what-if touching every role builds two
// whole matrices, each cell a pass over the policy (a what-if of 500
// lines took 7 s of CPU); it stops with the request's deadline instead of
// answering after it.
func TestWhatIfStopsAtTheDeadline(t *testing.T) {
	e, _ := newPolicyEnforcer(t)
	var add []policies.Line
	for _, role := range viewer.Roles {
		add = append(add, line(t, fmt.Sprintf("p, %s, NGO_SHELTER, Mutation.openCase, call, any", role)))
	}
	start := time.Now()
	if _, err := policytools.WhatIf(context.Background(), e, add, nil); err != nil {
		t.Fatal(err)
	}
	whole := time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), whole/10)
	defer cancel()
	if _, err := policytools.WhatIf(ctx, e, add, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a what-if of %v given %v: err = %v, want the deadline's", whole, whole/10, err)
	}
}

// TestMatrixWithinStopsWithItsContext: accessMatrix's matrix
// (MatrixWithin) is MatrixOf's, and stops when its request ends, as a
// what-if's do, so a matrix over a policy built in memory holds its slot
// (authz.InMemorySlot) no longer than its request.
func TestMatrixWithinStopsWithItsContext(t *testing.T) {
	e, _ := newPolicyEnforcer(t)
	m, err := policytools.MatrixWithin(context.Background(), e)
	if err != nil || !reflect.DeepEqual(m, policytools.MatrixOf(e)) {
		t.Errorf("MatrixWithin (err %v) is not MatrixOf", err)
	}
	gone, leave := context.WithCancel(context.Background())
	leave()
	if _, err := policytools.MatrixWithin(gone, e); !errors.Is(err, context.Canceled) {
		t.Errorf("its client gone: err = %v, want the cancellation's", err)
	}
}

// TestWhatIfWaitsForASlot: what-ifs take one of the slots of policies
// built in memory, one per CPU, which the policy tools' answers of an
// older version take too (authz.Enforcer.At); with every slot held by
// such work, a what-if waits, and gives up at its deadline, given
// several times what it takes with a slot free.
func TestWhatIfWaitsForASlot(t *testing.T) {
	e, _ := newPolicyEnforcer(t)
	add := []policies.Line{line(t, "p, judge, court, Victim.phone, read, on_case")}
	start := time.Now()
	if _, err := policytools.WhatIf(context.Background(), e, add, nil); err != nil {
		t.Fatal(err)
	}
	enough := 3*time.Since(start) + 100*time.Millisecond
	release := holdEveryInMemorySlot(t)
	ctx, cancel := context.WithTimeout(context.Background(), enough)
	defer cancel()
	if _, err := policytools.WhatIf(ctx, e, add, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("with every slot taken, given %v: err = %v, want the deadline's", enough, err)
	}
	release()
	if _, err := policytools.WhatIf(context.Background(), e, add, nil); err != nil {
		t.Errorf("with the slots free: %v", err)
	}
}

// holdEveryInMemorySlot takes every slot of policies built in memory,
// one work per CPU waiting in each, and returns what lets them go.
func holdEveryInMemorySlot(t *testing.T) (release func()) {
	t.Helper()
	slots := runtime.GOMAXPROCS(0)
	held, done := make(chan struct{}), make(chan struct{})
	var works sync.WaitGroup
	for range slots {
		works.Go(func() {
			_ = authz.InMemorySlot(context.Background(), func() error {
				held <- struct{}{}
				<-done
				return nil
			})
		})
	}
	for range slots {
		<-held
	}
	var once sync.Once
	release = func() { once.Do(func() { close(done); works.Wait() }) }
	t.Cleanup(release)
	return release
}
