package authz_test

import (
	"context"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestPolicyChangeReachesEveryServer runs two servers against one
// PostgreSQL database, changes the policy through one, and watches the
// change take effect on the other within a second.
func TestPolicyChangeReachesEveryServer(t *testing.T) {
	db1 := testdb.Postgres(t)
	one := testserver.Start(t, db1, testserver.Options{ListenForPolicy: true})
	db2, err := database.OpenPostgres(context.Background(), db1.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db2.Close() })
	two := testserver.Start(t, db2, testserver.Options{ListenForPolicy: true, NoAgencies: true})

	// A case before the Tirana court, with a victim who has a phone number.
	ctx := viewer.SystemContext(context.Background())
	c := db1.Client
	police := c.Agency.Query().Where(agency.Code("police-tirane")).OnlyX(ctx)
	court := c.Agency.Query().Where(agency.Code("court-tirane")).OnlyX(ctx)
	cf := c.CaseFile.Create().SetReference("TIR-2026-9001").SetTitle("Propagation test").
		SetRegion(domain.RegionTirane).SetLeadAgencyID(police.ID).SaveX(ctx)
	c.CaseAssignment.Create().SetCaseID(cf.ID).SetAgencyID(court.ID).SetPart(domain.CasePartAdjudicating).ExecX(ctx)
	v := c.Victim.Create().SetPseudonym("V-2026-9001").SetSex(domain.SexFemale).SetAgeGroup(domain.AgeGroupAdult).
		SetIdentificationStatus(domain.IdentificationStatusOfficialVictim).SetIdentifiedBy(domain.IdentifyingBodyStatePolice).
		SetIdentifiedAt(time.Now()).SetRegion(domain.RegionTirane).SetPhone("+355 69 000 9001").SaveX(ctx)
	c.CaseVictim.Create().SetCaseID(cf.ID).SetVictimID(v.ID).ExecX(ctx)

	const query = `query ($id: ID!) { node(id: $id) { ... on Victim { pseudonym phone } } }`
	vars := map[string]any{"id": v.ID}
	judgeOnTwo := two.Token(t, "court-tirane", viewer.RoleJudge)
	phone := func() (string, []string) {
		r := two.Do(t, judgeOnTwo, query, vars)
		var data struct{ Node struct{ Phone *string } }
		r.Decode(t, &data)
		if data.Node.Phone == nil {
			return "", r.Codes()
		}
		return *data.Node.Phone, r.Codes()
	}
	if got, codes := phone(); got != "" || len(codes) != 1 || codes[0] != "FORBIDDEN" {
		t.Fatalf("before the change a judge must not read the phone: got %q, %v", got, codes)
	}

	admin := one.Token(t, "onac", viewer.RoleAdmin)
	start := time.Now()
	one.Do(t, admin, `mutation { changePolicy(add: [["p", "judge", "court", "Victim:CONTACT", "read", "proceedings"]],
		reason: "Courts summon victims by phone") { added removed } }`, nil).MustOK(t)

	deadline := start.Add(time.Second)
	for {
		got, _ := phone()
		if got == "+355 69 000 9001" {
			t.Logf("the change reached the other server in %v", time.Since(start))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other server still refuses the phone %v after the change", time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// And back: removing the line takes effect there too.
	one.Do(t, admin, `mutation { changePolicy(remove: [["p", "judge", "court", "Victim:CONTACT", "read", "proceedings"]],
		reason: "Summons go through the prosecution office") { added removed } }`, nil).MustOK(t)
	deadline = time.Now().Add(time.Second)
	for {
		if got, _ := phone(); got == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other server still shows the phone a second after the line was removed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
