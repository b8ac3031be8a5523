package statistics_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// supportWithholds is docs/statistics.md's rule for a month of
// victimSupport, as a reader who knows it applies it: t victims in the
// month (shown), a who received any service, n who received the kind;
// under the threshold k, counts below max(k, 3) are small.
func supportWithholds(t, a, n, k int) (anyWithheld, kindWithheld bool) {
	k = max(k, 3)
	small := func(x int) bool { return x > 0 && x < k }
	anyWithheld = small(a) || small(t-a)
	return anyWithheld, anyWithheld || small(n) || small(t-n) || small(a-n)
}

// TestSupportAtThresholdTwo: under a threshold of 2 (the least the policy
// allows), a month of four victims, two of them given a service, one of
// them sheltered: victimSupport showed "any service" (2 of 4) and withheld
// SHELTER, and withheld could then only mean 1 (0 and 2 would have been
// shown), so one of that month's victims was sheltered and the other not.
// A reader who knows the rule tries every count that agrees with what is
// shown: a withheld figure must keep two.
func TestSupportAtThresholdTwo(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		agencies := s.AgencyIDs(t)
		admin := s.Token(t, "onac", viewer.RoleAdmin)
		s.Do(t, admin, `mutation { changePolicy(add: [["p", "coordinator", "governance", "statistics", "threshold", "2"]], reason: "a threshold of 2 for the test") { added } }`, nil).MustOK(t)
		coordinator := s.As(t, "onac", viewer.RoleCoordinator)

		// May 2024 (a closed year): four victims alike, so that every
		// grid and the month show 4.
		ctx := viewer.SystemContext(context.Background())
		at := time.Date(2024, 5, 10, 9, 0, 0, 0, domain.Tirana)
		services := [][]domain.ServiceKind{{domain.ServiceKindShelter, domain.ServiceKindLegalAid}, {domain.ServiceKindLegalAid}, nil, nil}
		for i, kinds := range services {
			v := db.Client.Victim.Create().SetPseudonym(fmt.Sprintf("V-2024-7%05d", i)).SetSex(domain.SexFemale).
				SetAgeGroup(domain.AgeGroupAdult).SetIdentificationStatus(domain.IdentificationStatusOfficialVictim).
				SetIdentifiedBy(domain.IdentifyingBodyStatePolice).SetIdentifiedAt(at).SetRegion(domain.RegionTirane).SaveX(ctx)
			for _, kind := range kinds {
				db.Client.SupportService.Create().SetKind(kind).SetStartedOn(at.Add(24 * time.Hour)).SetVictimID(v.ID).
					SetProviderID(agencies["shelter-national"]).ExecX(ctx)
			}
		}

		month := func(service string) supportCellJSON {
			vars := map[string]any{"period": "MONTH", "from": "2024-05", "to": "2024-05"}
			if service != "ANY" {
				vars["service"] = service
			}
			got := testserver.Call[supportJSON](t, s, coordinator, supportQuery, vars)
			if got.Threshold != 2 || len(got.Cells) != 1 {
				t.Fatalf("%s: threshold %d, %d cells; want 2 and May", service, got.Threshold, len(got.Cells))
			}
			return got.Cells[0]
		}
		anyService := month("ANY")
		if anyService.Victims == nil || *anyService.Victims != 4 {
			t.Fatalf("May 2024: victims %v, want 4 shown", anyService.Victims)
		}
		victims := *anyService.Victims
		for _, kind := range []string{"SHELTER", "LEGAL_AID"} {
			c := month(kind)
			// Every (any, kind) that agrees with what the two answers show.
			possible := map[int]bool{}
			for a := 0; a <= victims; a++ {
				for n := 0; n <= a; n++ {
					anyWithheld, kindWithheld := supportWithholds(victims, a, n, 2)
					if anyWithheld != (anyService.Received == nil) || kindWithheld != (c.Received == nil) ||
						anyService.Received != nil && *anyService.Received != a || c.Received != nil && *c.Received != n {
						continue
					}
					possible[n] = true
				}
			}
			switch {
			case len(possible) == 0:
				t.Errorf("%s: answers any %s, %s %s agree with no count under the rule", kind, shownCount(anyService.Received), kind, shownCount(c.Received))
			case c.Received == nil && len(possible) == 1:
				t.Errorf("%s withheld beside any service %v of %d victims: it can only be %v", kind, *anyService.Received, victims, possible)
			}
		}
	})
}

func shownCount(n *int) string {
	if n == nil {
		return "withheld"
	}
	return fmt.Sprint(*n)
}
