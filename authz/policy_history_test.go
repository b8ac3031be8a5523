package authz_test

import (
	"fmt"
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

// TestPolicyChangesPageOn: beforeVersion pages through the history, so that a
// data protection officer reads all of it however long (first stops at
// 500, and until the twenty-seventh session, 2026-12-08, nothing older
// could be read over GraphQL). Reading page after page, each from the
// smallest version of the one before, gives every version once, newest
// first, as one page does; beforeVersion 1 is nothing, one past the
// newest version the newest first, and 0 is refused. Each page is one
// statement at most, as the first is.
func TestPolicyChangesPageOn(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		counted, n := testdb.CountingByKind(db)
		s := testserver.Start(t, counted)
		admin, dpo := s.Token(t, "onac", viewer.RoleAdmin), s.Token(t, "ngo-vatra", viewer.RoleDPO)
		// Seven changes: each line added, then removed, and so on.
		for i := range 7 {
			vars := map[string]any{"add": [][]string{judgePhoneLine}, "reason": fmt.Sprintf("Change %d: courts summon by phone", i)}
			if i%2 == 1 {
				vars = map[string]any{"remove": [][]string{judgePhoneLine}, "reason": fmt.Sprintf("Change %d: summons go through the prosecution", i)}
			}
			s.Ask(t, admin, changePolicy, vars).MustOK(t)
		}
		type page struct{ PolicyChanges []historyEntry }
		ask := func(t *testing.T, before any) page {
			t.Helper()
			return testserver.Data[page](t, s.Ask(t, dpo, `query($b: Int) { policyChanges(first: 3, beforeVersion: $b) { reason policyVersion } }`,
				map[string]any{"b": before}).MustOK(t))
		}
		all := testserver.Data[page](t, s.Ask(t, dpo, `{ policyChanges(first: 500) { reason policyVersion } }`, nil).MustOK(t)).PolicyChanges
		if len(all) < 8 {
			t.Fatalf("%d changes in the history, want the default policy and 7", len(all))
		}

		var read []historyEntry
		var before any // null: the newest page
		for range len(all) {
			n.Reset()
			p := ask(t, before)
			// One statement; none for the page before version 1.
			if got := n.All.Load(); got > 1 {
				t.Errorf("a page of the history before %v: %d statements, want at most 1", before, got)
			}
			if len(p.PolicyChanges) == 0 {
				break
			}
			read = append(read, p.PolicyChanges...)
			before = *p.PolicyChanges[len(p.PolicyChanges)-1].PolicyVersion
		}
		if len(read) != len(all) {
			t.Fatalf("paging read %d entries, one page %d", len(read), len(all))
		}
		for i := range all {
			if read[i].Reason != all[i].Reason || deref(read[i].PolicyVersion) != deref(all[i].PolicyVersion) {
				t.Errorf("entry %d paged: %q version %d; in one page: %q version %d",
					i, read[i].Reason, deref(read[i].PolicyVersion), all[i].Reason, deref(all[i].PolicyVersion))
			}
		}

		if p := ask(t, 1); len(p.PolicyChanges) != 0 {
			t.Errorf("before 1 listed %d changes, want none", len(p.PolicyChanges))
		}
		if p := ask(t, 1_000_000); len(p.PolicyChanges) != 3 || deref(p.PolicyChanges[0].PolicyVersion) != deref(all[0].PolicyVersion) {
			t.Errorf("before past the newest version: %+v, want the newest three", p.PolicyChanges)
		}
		testserver.WantRefusal(t, s.Ask(t, dpo, `{ policyChanges(beforeVersion: 0) { reason } }`, nil),
			testserver.Want{Code: "BAD_USER_INPUT", Field: "beforeVersion"})
	})
}
