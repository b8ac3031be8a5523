package authz_test

import (
	"testing"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/viewer"
)

// TestPolicyDriftNamesLinesNoChangeMade: the policy in force is the one
// its history makes after the default policy is loaded and after changes
// through changePolicy, added and removed; a line written into
// policy_rules by hand, or one deleted by hand, is named, as the data
// protection officer's hunt (twenty-sixth session) needed: such a line
// decided reads with no entry in the history and no audit event.
func TestPolicyDriftNamesLinesNoChangeMade(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		drift := func() authz.Drift {
			t.Helper()
			d, err := authz.PolicyDrift(t.Context(), db.Client)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		if d := drift(); !d.None() {
			t.Fatalf("the default policy as loaded differs from its history: %+v", d)
		}
		none := s.Ask(t, s.Token(t, "ngo-vatra", viewer.RoleDPO), `{ policyDrift { none unexplained missing } }`, nil).MustOK(t)
		if string(none.Data) != `{"policyDrift":{"none":true,"unexplained":[],"missing":[]}}` {
			t.Errorf("policyDrift over HTTP of the default policy: %s", none.Data)
		}
		admin := s.Token(t, "onac", viewer.RoleAdmin)
		s.Ask(t, admin, keyedChange, map[string]any{"add": [][]string{judgePhoneLine}, "reason": "Courts summon victims by phone"}).MustOK(t)
		s.Ask(t, admin, `mutation ($rm: [[String!]!]) { changePolicy(remove: $rm, reason: "Courts no longer summon by phone") { policyVersion } }`,
			map[string]any{"rm": [][]string{judgePhoneLine}}).MustOK(t)
		if d := drift(); !d.None() {
			t.Fatalf("after a line added and removed through changePolicy: %+v", d)
		}

		byHand := policies.Line{"p", "analyst", "*", "Victim:LOCATION", "read", "any"}
		db.Client.PolicyRule.Create().SetPtype(byHand[0]).SetV0(byHand[1]).SetV1(byHand[2]).SetV2(byHand[3]).SetV3(byHand[4]).SetV4(byHand[5]).ExecX(sys())
		d := drift()
		if len(d.Unexplained) != 1 || d.Unexplained[0].String() != byHand.String() || len(d.Missing) != 0 {
			t.Fatalf("a line written by hand: %+v", d)
		}

		// The same over HTTP, for the data protection officer who has no
		// command line (policyDrift; twenty-seventh session, 2026-12-08).
		dpo := s.Token(t, "ngo-vatra", viewer.RoleDPO)
		type driftAnswer struct {
			PolicyDrift struct {
				None                 bool
				Unexplained, Missing [][]string
			}
		}
		got := testserver.Data[driftAnswer](t, s.Ask(t, dpo, `{ policyDrift { none unexplained missing } }`, nil).MustOK(t)).PolicyDrift
		if got.None || len(got.Unexplained) != 1 || policies.Line(got.Unexplained[0]).String() != byHand.String() || len(got.Missing) != 0 {
			t.Errorf("policyDrift over HTTP after a line written by hand: %+v", got)
		}

		gone, err := db.Client.PolicyRule.Query().First(sys())
		if err != nil {
			t.Fatal(err)
		}
		db.Client.PolicyRule.DeleteOne(gone).ExecX(sys())
		d = drift()
		if len(d.Missing) != 1 || len(d.Unexplained) != 1 {
			t.Fatalf("a line deleted by hand besides the one written: %+v", d)
		}
	})
}

// TestPolicyDriftIsOneARequest: policyDrift replays the whole history, so
// its work grows with every change ever made (1,001 changes of 500 lines
// took 2 s a call on either database), whatever is read of its answer: it
// is priced whole, as verifyAuditTrail is, and twenty aliases of it in one
// request, which each did the work (40 s of a shared server's time for
// one request of a policy reader), are refused before any runs. Until the
// twenty-seventh session (2026-12-08, a review) it cost as a field.
func TestPolicyDriftIsOneARequest(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		dpo := s.Token(t, "ngo-vatra", viewer.RoleDPO)
		s.Ask(t, dpo, `{ policyDrift { none } }`, nil).MustOK(t)
		testserver.WantRefusal(t, s.Ask(t, dpo, `{ a: policyDrift { none } b: policyDrift { none } }`, nil),
			testserver.Want{Code: "TOO_COMPLEX"})
	})
}
