package authz_test

import (
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// historyEntry is an entry of policyChanges as these tests read it.
type historyEntry struct {
	Reason        string
	PolicyVersion *int
}

// TestPolicyChangesSayTheirVersion: each entry of policyChanges says the
// version of the policy its change made, the policyVersion changePolicy
// answered for it, so that a DPO ties a change to the version a client
// read; the entries recorded before (the default policy, loaded first,
// is version 1) have theirs. The history is listed newest first in its
// own order, that of the versions: an entry whose server's clock was
// behind (its "at" before the entry ahead of it) is listed by its
// version, where it was listed below the change it followed. The version
// is read in the listing's one statement.
func TestPolicyChangesSayTheirVersion(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		counted, n := testdb.CountingByKind(db)
		s := testserver.Start(t, counted)
		admin, dpo := s.Token(t, "onac", viewer.RoleAdmin), s.Token(t, "ngo-vatra", viewer.RoleDPO)
		change := func(add []string, reason string) int {
			t.Helper()
			r := s.Ask(t, admin, keyedChange, map[string]any{"add": [][]string{add}, "reason": reason}).MustOK(t)
			return testserver.Data[changeAnswer](t, r).ChangePolicy.PolicyVersion
		}
		first := change(judgePhoneLine, "Courts summon victims by phone")
		// A change recorded by a server whose clock is an hour behind.
		db.Client.PolicyChange.Create().SetActorSubject("admin@another-server").SetActorAgency("onac").
			SetReason("Recorded by a server whose clock is behind").SetAt(time.Now().Add(-time.Hour)).
			SetAdded([][]string{}).SetRemoved([][]string{}).ExecX(sys())
		last := change(judgeHealthLine, "Courts order protective measures for health")

		s.Ask(t, dpo, `{ policyVersion }`, nil).MustOK(t) // the first request of a principal fills the server's caches
		n.Reset()
		r := s.Ask(t, dpo, `{ policyVersion policyChanges(first: 500) { reason policyVersion } }`, nil).MustOK(t)
		withVersions := n.All.Load()
		d := testserver.Data[struct {
			PolicyVersion int
			PolicyChanges []historyEntry
		}](t, r)
		if d.PolicyVersion != last || last != first+2 {
			t.Fatalf("the changes answered versions %d and %d, policyVersion is %d", first, last, d.PolicyVersion)
		}
		if len(d.PolicyChanges) != last {
			t.Fatalf("the history lists %d changes at version %d", len(d.PolicyChanges), last)
		}
		for i, c := range d.PolicyChanges {
			if want := last - i; c.PolicyVersion == nil || *c.PolicyVersion != want {
				t.Errorf("entry %d of the history (%q) says version %v, want %d: newest first, the first change version 1", i, c.Reason, deref(c.PolicyVersion), want)
			}
		}
		if got := d.PolicyChanges[1].Reason; got != "Recorded by a server whose clock is behind" {
			t.Errorf("the second entry is %q, want the change made between the two (listed by version, not by its clock)", got)
		}

		n.Reset()
		s.Ask(t, dpo, `{ policyVersion policyChanges(first: 500) { reason } }`, nil).MustOK(t)
		if without := n.All.Load(); withVersions != without {
			t.Errorf("policyChanges costs %d statements with each entry's version, %d without: want the same", withVersions, without)
		}
		t.Logf("policyVersion and the history with its versions: %d statements", withVersions)
	})
}
