package authz_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// TestPolicyToolsAnswerTheVersionStored: another server changes the
// policy, and this one has not heard yet (it does not follow, as any
// server is between a change and its announcement). accessMatrix and
// explainAccess answered from the policy this server had loaded, a
// version behind the policyVersion asked beside them, so a DPO read a
// matrix that was not the policy in force; now every policy field of a
// request answers of the policy that request reads once (lines and
// version in one statement), this server catching up first, so that what
// it decides after the answer is what the answer said (the judge reads
// the phone the change opened). policyWhatIf read the stored lines in a
// statement of its own; it reads the request's.
func TestPolicyToolsAnswerTheVersionStored(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		counted, n := testdb.CountingByKind(db)
		// The whole matrix is computed again after a reload: see
		// TestPolicyReadingOverGraphQL on the deadline.
		s := testserver.Start(t, counted, testserver.Options{Config: server.Config{RequestTimeout: time.Minute}})
		victim := victimBeforeCourt(t, db.Client)
		dpo := s.Token(t, "ngo-vatra", viewer.RoleDPO)
		const tools = `{ policyVersion accessMatrix { csv }
			explainAccess(question: {roles: [judge], agencyKind: COURT_FIRST_INSTANCE, field: "Victim.phone"}) { allowed rules }
			policyWhatIf(remove: [["p", "judge", "court", "Victim:IDENTITY", "read", "proceedings"]]) { object } }`
		type answer struct {
			PolicyVersion int
			AccessMatrix  struct{ CSV string }
			ExplainAccess struct {
				Allowed bool
				Rules   []string
			}
		}
		ask := func() (answer, int64) {
			t.Helper()
			n.Reset()
			r := s.Ask(t, dpo, tools, nil).MustOK(t)
			return testserver.Data[answer](t, r), n.All.Load()
		}
		judgeReadsPhones := func(a answer) bool {
			return strings.Contains(a.AccessMatrix.CSV, "\njudge,COURT_FIRST_INSTANCE,Victim.phone,read,true,proceedings\n")
		}
		ask() // the first request of a principal fills the server's caches
		before, current := ask()
		if judgeReadsPhones(before) || before.ExplainAccess.Allowed {
			t.Fatalf("before the change the tools say judges read phones: %+v", before.ExplainAccess)
		}

		storeElsewhere(t, db, judgePhoneLine)

		after, behind := ask()
		if after.PolicyVersion != before.PolicyVersion+1 {
			t.Fatalf("policyVersion %d after another server's change from %d", after.PolicyVersion, before.PolicyVersion)
		}
		if !judgeReadsPhones(after) {
			t.Errorf("at version %d, the matrix does not show the judges' phone read of that version", after.PolicyVersion)
		}
		if !after.ExplainAccess.Allowed || !slices.Equal(after.ExplainAccess.Rules, []string{judgePhoneRule}) {
			t.Errorf("at version %d, explainAccess says %+v, want allowed by %q", after.PolicyVersion, after.ExplainAccess, judgePhoneRule)
		}
		if got := judgeAsksPhone(t, s, victim); got != phoneShown {
			t.Errorf("after the tools answered of version %d, the same server answers a judge's phone read %s, want %s", after.PolicyVersion, got, phoneShown)
		}
		t.Logf("policyVersion and the three tools in one request: %d statements, %d when the server was behind", current, behind)
		if current != 1 || behind != current+1 {
			t.Errorf("the tools cost %d statements (want 1, the policy read once), %d when behind (want one more, the reload's read)", current, behind)
		}
	})
}

// storeElsewhere stores a change as another server makes it, of which
// the servers of the test hear nothing.
func storeElsewhere(t *testing.T, db *database.DB, add ...[]string) {
	t.Helper()
	tx, err := db.Client.Tx(sys())
	if err != nil {
		t.Fatal(err)
	}
	lines := make([]policies.Line, len(add))
	for i, l := range add {
		lines[i] = l
	}
	if _, err := authz.Store(sys(), tx.Client(), &viewer.Principal{Subject: "admin@another-server", AgencyCode: "onac"},
		"A change made on another server", lines, nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyToolsAtTheVersionRead: the enforcer a tool answers with
// (Enforcer.At) decides by the policy the request read, also when the
// server has loaded a newer one since (a change between the request's
// read and the tool): then over that policy's lines in memory. At the
// version loaded it is the server's own policy, and a reload meanwhile
// neither waits for the answer nor moves it: the answer is all of the
// version read, and the server decides by the new one at once. Until
// 2026-12-07 (twentieth session, its review) the answer held the server's
// policy and a reload waited for it: while a DPO's matrix was computed
// (about a second after a reload, seconds over a large policy) the server
// enforced the version before a change, as current, and every other tool
// and the change's own answer waited behind it.
func TestPolicyToolsAtTheVersionRead(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e, err := authz.New(ctx, db.Client, db.Dialect, graph.Vocabulary())
		if err != nil {
			t.Fatal(err)
		}
		reads := func(e *authz.Enforcer, category string) bool {
			return e.Decide(viewer.RoleJudge, "COURT_FIRST_INSTANCE", category, policies.Read, "proceedings").Allowed
		}
		readsPhones := func(e *authz.Enforcer) bool { return reads(e, "Victim:CONTACT") }
		readsHealth := func(e *authz.Enforcer) bool { return reads(e, "Victim:HEALTH") }
		read, err := authz.PolicyIn(ctx, db.Client)
		if err != nil {
			t.Fatal(err)
		}
		storeElsewhere(t, db, judgePhoneLine)
		if err := e.Reload(); err != nil {
			t.Fatal(err)
		}
		now, err := authz.PolicyIn(ctx, db.Client)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.At(read, func(at *authz.Enforcer) error {
			if readsPhones(at) || !readsPhones(e) {
				t.Errorf("at version %d, read before the server loaded %d, the tools answer from one where judges read phones", read.Version, now.Version)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}

		reloaded := make(chan error, 1)
		waited := false
		if err := e.At(now, func(at *authz.Enforcer) error {
			if !readsPhones(at) {
				t.Errorf("at version %d, loaded, the tools answer from one where judges do not read phones", now.Version)
			}
			storeElsewhere(t, db, judgeHealthLine)
			go func() { reloaded <- e.Reload() }()
			select {
			case err := <-reloaded:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				waited = true
				t.Errorf("a reload waited for a tool's answer: meanwhile the server enforced version %d as current", now.Version)
			}
			if readsHealth(at) || !readsPhones(at) {
				t.Errorf("a tool's answer of version %d moved to the version loaded while it answered", now.Version)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if waited {
			if err := <-reloaded; err != nil {
				t.Fatal(err)
			}
		}
		if !readsHealth(e) || !readsPhones(e) {
			t.Errorf("after the reload the server does not decide by the change it loaded")
		}
	})
}
