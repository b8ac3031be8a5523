package authz_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/policychange"
	"github.com/casegraph/casegraph/ent/policyrule"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/viewer"
)

// TestConsentPurposesComeFromThePolicy checks that each role's purposes are
// its policy lines (the same as when they were fixed in the code), and that
// a policy stored before they were lines gets the default ones, recorded,
// when a server starts on it.
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

			// An older policy: no purpose lines.
			sys := viewer.SystemContext(ctx)
			n, err := db.Client.PolicyRule.Delete().Where(policyrule.V2(policies.ConsentObject)).Exec(sys)
			if err != nil || n != len(viewer.Roles)-2 {
				t.Fatalf("deleting the purpose lines: %d, %v", n, err)
			}
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
