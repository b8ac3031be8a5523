package authz_test

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// TestPartsFitKinds refuses a part an agency's kind cannot take: only
// prosecution offices prosecute and only courts adjudicate, because those
// parts open victims' data without consent.
func TestPartsFitKinds(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		police := e.tok(t, "police-tirane", viewer.RoleInvestigator)
		const assign = `mutation ($c: ID!, $a: ID!, $p: CasePart!) { assignAgencyToCase(caseID: $c, agencyID: $a, part: $p) { id part } }`
		for _, tc := range []struct{ agency, part string }{
			{"ngo-vatra", "PROSECUTING"},
			{"police-durres", "ADJUDICATING"},
			{"court-tirane", "PROSECUTING"},
		} {
			t.Run(tc.agency+"/"+tc.part, func(t *testing.T) {
				e.refuse(t, police, assign, map[string]any{"c": gid(e.f.caseT), "a": gid(e.f.id(t, tc.agency)), "p": tc.part}, "BAD_USER_INPUT", "part")
			})
		}
		t.Run("OK", func(t *testing.T) {
			r := e.do(t, police, assign, map[string]any{"c": gid(e.f.caseT), "a": gid(e.f.id(t, "ngo-vatra")), "p": "SUPPORTING"}).MustOK(t)
			if string(r.Data) == "" {
				t.Fatal("no data")
			}
		})
	})
}

// TestReferralMovesBelongToTheirSides: only the receiving agency accepts,
// rejects or completes a referral (acceptance opens the victim's data to
// it); only the referring agency revokes it.
func TestReferralMovesBelongToTheirSides(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := viewer.SystemContext(context.Background())
		const move = `mutation ($id: ID!, $v: Int!, $s: ReferralStatus!) { moveReferralStatus(id: $id, expectedVersion: $v, status: $s) { status version } }`
		version := func() int { return e.db.Client.Referral.GetX(ctx, e.f.refT).Version }
		// refT: police-tirane → ngo-vatra, ACCEPTED.
		coordinator := e.tok(t, "responsible-authority", viewer.RoleCoordinator)
		e.refuse(t, coordinator, move, map[string]any{"id": gid(e.f.refT), "v": version(), "s": "COMPLETED"}, "FORBIDDEN", "")
		ngo := e.tok(t, "ngo-vatra", viewer.RoleCaseWorker)
		e.refuse(t, ngo, move, map[string]any{"id": gid(e.f.refT), "v": version(), "s": "REVOKED"}, "FORBIDDEN", "")
		e.do(t, ngo, move, map[string]any{"id": gid(e.f.refT), "v": version(), "s": "COMPLETED"}).MustOK(t)
		if got := e.db.Client.Referral.GetX(ctx, e.f.refT).Status; got != domain.ReferralStatusCompleted {
			t.Fatalf("status = %s, want COMPLETED", got)
		}
	})
}

// TestReloadRefusesAnInvalidPolicy keeps the policy in force when the
// database holds a line that does not validate (edited there by hand).
func TestReloadRefusesAnInvalidPolicy(t *testing.T) {
	db := testdb.SQLite(t)
	e := start(t, db)
	ctx := viewer.SystemContext(context.Background())
	judge := e.tok(t, "court-tirane", viewer.RoleJudge)
	const read = `query ($id: ID!) { node(id: $id) { ... on Victim { legalName } } }`
	before := e.do(t, judge, read, map[string]any{"id": gid(e.f.vT)}).MustOK(t).Body

	// A valid widening and an unknown role, together.
	db.Client.PolicyRule.Create().SetPtype("p").SetV0("judge").SetV1("court").SetV2("Victim:CONTACT").SetV3("read").SetV4("proceedings").ExecX(ctx)
	db.Client.PolicyRule.Create().SetPtype("p").SetV0("janitor").SetV1("*").SetV2("Victim:IDENTITY").SetV3("read").SetV4("any").ExecX(ctx)
	if err := e.s.Enforcer.Reload(); err == nil {
		t.Fatal("Reload accepted a policy naming an unknown role")
	}
	if d := e.s.Enforcer.Decide(viewer.RoleJudge, "COURT_FIRST_INSTANCE", "Victim.phone", "read", "proceedings"); d.Allowed {
		t.Error("the refused reload still widened the policy in force")
	}
	if after := e.do(t, judge, read, map[string]any{"id": gid(e.f.vT)}).MustOK(t).Body; string(after) != string(before) {
		t.Errorf("answer changed after a refused reload:\n%s\n%s", before, after)
	}
}
