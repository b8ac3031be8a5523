package authz_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/policychange"
	"github.com/casegraph/casegraph/ent/policyrule"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/viewer"
)

// TestConsentPurposesComeFromThePolicy checks that each role's purposes are
// its policy lines (the same as when they were fixed in the code), and that
// a policy stored before they were lines (none in it, none in its history)
// gets the default ones, recorded, when a server starts on it.
func TestConsentPurposesComeFromThePolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, name := range testdb.Backends {
		t.Run(name, func(t *testing.T) {
			db := testdb.Open(t, name)
			e, err := authz.New(ctx, db.Client, db.Dialect, graph.Vocabulary())
			if err != nil {
				t.Fatal(err)
			}
			want := map[viewer.Role][]domain.ConsentPurpose{
				viewer.RoleInvestigator: {domain.ConsentPurposeCriminalProceedings},
				viewer.RoleCaseWorker:   {domain.ConsentPurposeServices},
				viewer.RoleCoordinator:  {domain.ConsentPurposeServices},
			}
			purposes := func(e *authz.Enforcer, kind domain.AgencyKind, field, cond string) map[viewer.Role][]domain.ConsentPurpose {
				got := map[viewer.Role][]domain.ConsentPurpose{}
				for _, r := range viewer.Roles {
					if pu := e.ConsentPurposes([]viewer.Role{r}, string(kind), field, cond); len(pu) > 0 {
						got[r] = pu
					}
				}
				return got
			}
			// Whom the shipped policy lets read a victim's phone under a
			// condition that needs consent, and for which purpose.
			got := purposes(e, domain.AgencyKindLocalPoliceDirectorate, "Victim.phone", policies.OnCase)
			for r, pu := range purposes(e, domain.AgencyKindNgoShelter, "Victim.phone", policies.Referred) {
				got[r] = pu
			}
			got[viewer.RoleCoordinator] = e.ConsentPurposes([]viewer.Role{viewer.RoleCoordinator, viewer.RoleCaseWorker},
				string(domain.AgencyKindNgoShelter), "Victim.phone", policies.Referred)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("purposes: got %v, want %v", got, want)
			}

			// An older policy: no purpose lines, and a history that never
			// held one (an older version loaded its default policy
			// without them).
			sys := viewer.SystemContext(ctx)
			n, err := db.Client.PolicyRule.Delete().Where(policyrule.V2(policies.ConsentObject)).Exec(sys)
			if err != nil || n != len(viewer.Roles)-2 {
				t.Fatalf("deleting the purpose lines: %d, %v", n, err)
			}
			old, err := authz.LinesIn(sys, db.Client)
			if err != nil {
				t.Fatal(err)
			}
			added := make([][]string, len(old))
			for i, l := range old {
				added[i] = l
			}
			if _, err := db.Client.PolicyChange.Delete().Exec(sys); err != nil {
				t.Fatalf("deleting the history: %v", err)
			}
			db.Client.PolicyChange.Create().SetActorSubject(authz.DefaultPolicyActor).SetActorAgency(authz.DefaultPolicyActor).
				SetReason("The default policy of an older version.").SetAdded(added).SetRemoved([][]string{}).ExecX(sys)
			before, err := db.Client.PolicyChange.Query().Count(sys)
			if err != nil {
				t.Fatal(err)
			}
			e, err = authz.New(ctx, db.Client, db.Dialect, graph.Vocabulary())
			if err != nil {
				t.Fatalf("starting on a policy without purposes: %v", err)
			}
			if n, err := db.Client.PolicyRule.Query().Where(policyrule.V2(policies.ConsentObject)).Count(sys); err != nil || n != len(viewer.Roles)-2 {
				t.Errorf("purpose lines after the start: %d, %v", n, err)
			}
			last, err := db.Client.PolicyChange.Query().Order(ent.Desc(policychange.FieldID)).First(sys)
			if err != nil {
				t.Fatal(err)
			}
			if after, _ := db.Client.PolicyChange.Query().Count(sys); after != before+1 || last.ActorSubject != authz.DefaultPolicyActor || len(last.Added) != len(viewer.Roles)-2 {
				t.Errorf("the purposes were not recorded as one change by %s: %d changes before, %d after, last %+v", authz.DefaultPolicyActor, before, after, last)
			}
			if got := purposes(e, domain.AgencyKindLocalPoliceDirectorate, "Victim.phone", policies.OnCase); fmt.Sprint(got[viewer.RoleInvestigator]) != fmt.Sprint(want[viewer.RoleInvestigator]) {
				t.Errorf("investigators' purposes after the start: %v", got)
			}
		})
	}
}

// TestConsentPurposesRemovedStayRemoved: a policy an admin left without
// consent purposes (nobody reads a field that needs consent, so it
// validates) is the policy after a restart. A start took "no purpose line"
// for a policy stored before purposes were lines, and added the default
// purposes of six roles back at every start: a change nobody asked for,
// with no POLICY_CHANGE event in the audit trail (a hunt over HTTP).
func TestConsentPurposesRemovedStayRemoved(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		remove := [][]string{
			{"p", "investigator", "investigation", "Victim:IDENTITY", "read", "on_case"},
			{"p", "investigator", "investigation", "Victim:CONTACT", "read", "on_case"},
			{"p", "case_worker", "support", "Victim:IDENTITY", "read", "referred"},
			{"p", "case_worker", "support", "Victim:CONTACT", "read", "referred"},
			{"p", "case_worker", "support", "Victim:HEALTH", "read", "referred"},
			{"p", "case_worker", "support", "SupportService:HEALTH", "read", "referred"},
		}
		shipped, err := policies.Parse(policies.DefaultPolicy)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range shipped {
			if l[0] == policies.PtypeP && l[3] == policies.ConsentObject {
				remove = append(remove, l)
			}
		}
		s.Ask(t, s.Token(t, "onac", viewer.RoleAdmin), changePolicy, map[string]any{"remove": remove,
			"reason": "No data that needs the victim's consent is read until the new consent form is in use"}).MustOK(t)
		purposeLines := func(s *testserver.Server) []string {
			var d struct{ PolicyLines [][]string }
			s.Ask(t, s.Token(t, "onac", viewer.RoleAdmin), policyLines, nil).MustOK(t).Decode(t, &d)
			var out []string
			for _, l := range d.PolicyLines {
				if len(l) > 3 && l[3] == policies.ConsentObject {
					out = append(out, strings.Join(l, ", "))
				}
			}
			return out
		}
		if got := purposeLines(s); len(got) != 0 {
			t.Fatalf("after the change the policy still has purposes %v", got)
		}
		changes := db.Client.PolicyChange.Query().CountX(sys())

		// The same database, served again (a restart, or a second server).
		again := testserver.Start(t, db, testserver.Options{NoAgencies: true})
		if got := purposeLines(again); len(got) != 0 {
			t.Errorf("after a restart the policy has purposes the admin removed: %v", got)
		}
		if n := db.Client.PolicyChange.Query().CountX(sys()); n != changes {
			t.Errorf("the restart changed the policy: %d changes in its history, were %d", n, changes)
		}
	})
}

// TestThresholdStoredUnplainlyIsDroppedAtStart: a threshold line written
// otherwise than the enforcer asks for it ("020"), which releases before
// 2026-12-06 validated and stored although it never took effect, is
// dropped at start, recorded in the policy's history: validation refuses
// it now, and a database holding one no longer started a server (a
// review). The threshold in force does not move: it is still the default.
func TestThresholdStoredUnplainlyIsDroppedAtStart(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		testserver.Start(t, db) // the database as an earlier release left it
		ctx := viewer.SystemContext(context.Background())
		line := []string{"p", "analyst", "*", "statistics", "threshold", "020"}
		db.Client.PolicyRule.Create().SetPtype(line[0]).SetV0(line[1]).SetV1(line[2]).SetV2(line[3]).
			SetV3(line[4]).SetV4(line[5]).SetV5("").ExecX(ctx)
		db.Client.PolicyChange.Create().SetActorSubject("test-admin@onac").SetActorAgency("onac").
			SetReason("Analysts' threshold raised to twenty").SetAdded([][]string{line}).SetRemoved([][]string{}).ExecX(ctx)

		s := testserver.Start(t, db, testserver.Options{NoAgencies: true})
		var d struct{ VictimStatistics struct{ Threshold int } }
		s.Ask(t, s.Token(t, "onac", viewer.RoleAnalyst), `{ victimStatistics { threshold } }`, nil).MustOK(t).Decode(t, &d)
		if d.VictimStatistics.Threshold != 10 {
			t.Errorf("the analysts' threshold is %d after the start, want 10, the one in force before it", d.VictimStatistics.Threshold)
		}
		if n := db.Client.PolicyRule.Query().Where(policyrule.V2("statistics"), policyrule.V4("020")).CountX(ctx); n != 0 {
			t.Errorf("the line %v is still stored", line)
		}
		last := db.Client.PolicyChange.Query().Order(ent.Desc(policychange.FieldID)).FirstX(ctx)
		if last.ActorSubject != authz.DefaultPolicyActor || len(last.Removed) != 1 || strings.Join(last.Removed[0], ",") != strings.Join(line, ",") {
			t.Errorf("the history's last change: %s removed %v, want %s removing %v", last.ActorSubject, last.Removed, authz.DefaultPolicyActor, line)
		}
	})
}
