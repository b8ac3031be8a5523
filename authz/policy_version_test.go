package authz_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/ent/policychange"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// A policy change made safe to retry (idempotencyKey) and safe against
// another made from the same policy (expectedVersion), as every other
// write is (docs/policy-tools.md, "Versions and retries").

const (
	keyedChange = `mutation ($add: [[String!]!], $remove: [[String!]!], $reason: String!, $expected: Int, $key: String) {
		changePolicy(add: $add, remove: $remove, reason: $reason, expectedVersion: $expected, idempotencyKey: $key) { added removed policyVersion } }`
	versionAndLines = `{ policyVersion policyLines again: policyVersion }`
)

var judgeHealthLine = []string{"p", "judge", "court", "Victim:HEALTH", "read", "proceedings"}

// policyRead is the policy as a client reads it, lines and version in
// one request.
type policyRead struct {
	PolicyVersion, Again int
	PolicyLines          [][]string
}

func readPolicy(t *testing.T, e *env, token string) policyRead {
	t.Helper()
	d := decode[policyRead](t, e.do(t, token, versionAndLines, nil).MustOK(t))
	if d.Again != d.PolicyVersion {
		t.Fatalf("policyVersion answered %d and %d in one request", d.PolicyVersion, d.Again)
	}
	return d
}

// has reports whether the policy read holds line, and how often.
func (p policyRead) has(line []string) int {
	n := 0
	for _, l := range p.PolicyLines {
		if slices.Equal(l, line) {
			n++
		}
	}
	return n
}

type changeAnswer struct {
	ChangePolicy *struct{ Added, Removed, PolicyVersion int }
}

// TestPolicyVersionCountsChanges: policyVersion is the number of changes
// in the policy's history, moves by one with each change, is what the
// change answers, and is read with the lines in one statement: asking it
// beside policyLines (twice, under an alias) costs no statement more than
// policyLines alone.
func TestPolicyVersionCountsChanges(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		counted, n := testdb.CountingByKind(db)
		s := testserver.Start(t, counted)
		admin := s.Token(t, "onac", viewer.RoleAdmin)
		history := db.Client.PolicyChange.Query().CountX(sys())
		read := func(query string) (policyRead, int64) {
			t.Helper()
			n.Reset()
			r := s.Ask(t, admin, query, nil).MustOK(t)
			return testserver.Data[policyRead](t, r), n.All.Load()
		}
		read(`{ policyLines }`) // the first request of a principal fills the server's caches
		_, alone := read(`{ policyLines }`)
		before, both := read(versionAndLines)
		if both != alone {
			t.Errorf("policyLines alone costs %d statements, with policyVersion twice %d: want the same (one read)", alone, both)
		}
		if before.PolicyVersion != history || before.Again != history {
			t.Errorf("policyVersion = %d, %d, want the %d changes of the history", before.PolicyVersion, before.Again, history)
		}
		r := s.Ask(t, admin, keyedChange, map[string]any{"add": [][]string{judgePhoneLine}, "reason": changeReason, "expected": before.PolicyVersion}).MustOK(t)
		made := testserver.Data[changeAnswer](t, r).ChangePolicy
		if made == nil || made.Added != 1 || made.PolicyVersion != history+1 {
			t.Fatalf("the change answered %s, want added 1 and policyVersion %d", r.Data, history+1)
		}
		after, _ := read(versionAndLines)
		if after.PolicyVersion != history+1 || after.has(judgePhoneLine) != 1 {
			t.Errorf("after the change, policyVersion %d (want %d), the new line %d times", after.PolicyVersion, history+1, after.has(judgePhoneLine))
		}
	})
}

// TestPolicyChangeStatements: what the version and the key cost a
// change. The version is read with the lines the change is checked
// against (one statement, as before), so expectedVersion costs none; a
// key costs what it costs a create (its lock, its look-up, its record):
// three. A replay writes nothing.
func TestPolicyChangeStatements(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		counted, n := testdb.CountingByKind(db)
		s := testserver.Start(t, counted)
		admin := s.Token(t, "onac", viewer.RoleAdmin)
		cost := func(vars map[string]any) int64 {
			t.Helper()
			n.Reset()
			s.Ask(t, admin, keyedChange, vars).MustOK(t)
			return n.All.Load()
		}
		s.Ask(t, admin, `{ policyLines }`, nil).MustOK(t) // the first request of a principal fills the server's caches
		add := map[string]any{"add": [][]string{judgePhoneLine}, "reason": changeReason}
		remove := map[string]any{"remove": [][]string{judgePhoneLine}, "reason": changeReason}
		plain := cost(add)
		cost(remove)
		version := testserver.Data[policyRead](t, s.Ask(t, admin, versionAndLines, nil)).PolicyVersion
		expected := cost(map[string]any{"add": add["add"], "reason": changeReason, "expected": version})
		keyed := cost(map[string]any{"remove": remove["remove"], "reason": changeReason, "key": "statements-1"})
		before := testdb.RowCounts(t, db.Client)
		replay := cost(map[string]any{"remove": remove["remove"], "reason": changeReason, "key": "statements-1"})
		testserver.WantUnchanged(t, db.Client, before)
		t.Logf("a change of one line: %d statements; with expectedVersion %d; with a key %d; its replay %d", plain, expected, keyed, replay)
		if expected != plain || keyed != plain+3 {
			t.Errorf("a change costs %d statements, with expectedVersion %d (want %d), with a key %d (want %d)", plain, expected, plain, keyed, plain+3)
		}
	})
}

// TestPolicyChangeRetriedWithItsKey: an admin whose answer was lost
// retries with the same idempotencyKey and gets what the first call
// answered, the policy changed once; also with the lines in another
// order, and also after another change moved the policy past the version
// the first call expected (the retry is the change made, not a stale
// one). The same key with another change (lines, reason or version) is
// CONFLICT on idempotencyKey and writes nothing; another admin's key is
// their own.
func TestPolicyChangeRetriedWithItsKey(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin := e.tok(t, "onac", viewer.RoleAdmin)
		start := readPolicy(t, e, admin)
		vars := func(add [][]string, reason string, expected int) map[string]any {
			return map[string]any{"add": add, "reason": reason, "expected": expected, "key": "policy-2026-12-07-courts"}
		}
		first := e.do(t, admin, keyedChange, vars([][]string{judgePhoneLine, judgeHealthLine}, changeReason, start.PolicyVersion)).MustOK(t)
		want := fmt.Sprintf(`{"changePolicy":{"added":2,"removed":0,"policyVersion":%d}}`, start.PolicyVersion+1)
		if string(first.Data) != want {
			t.Fatalf("the change answered %s, want %s", first.Data, want)
		}
		made := readPolicy(t, e, admin)
		changesBy := func() int {
			return e.db.Client.PolicyChange.Query().Where(policychange.ActorSubject(subject("onac", viewer.RoleAdmin))).CountX(sys())
		}

		t.Run("SameChangeReplays", func(t *testing.T) {
			for name, add := range map[string][][]string{
				"AsSent":          {judgePhoneLine, judgeHealthLine},
				"LinesReordered":  {judgeHealthLine, judgePhoneLine},
				"FieldsOfSpacing": {{"p", " judge", "court", "Victim:HEALTH ", "read", "proceedings"}, judgePhoneLine},
			} {
				t.Run(name, func(t *testing.T) {
					before := counts(t, e.db.Client)
					r := e.do(t, admin, keyedChange, vars(add, "  "+changeReason+" ", start.PolicyVersion)).MustOK(t)
					if string(r.Data) != want {
						t.Errorf("the retry answered %s, want the first call's %s", r.Data, want)
					}
					unchanged(t, e.db.Client, before)
					if got := readPolicy(t, e, admin); got.PolicyVersion != made.PolicyVersion || got.has(judgePhoneLine) != 1 || got.has(judgeHealthLine) != 1 {
						t.Errorf("after the retry: version %d (want %d), lines %d and %d times (want once)",
							got.PolicyVersion, made.PolicyVersion, got.has(judgePhoneLine), got.has(judgeHealthLine))
					}
				})
			}
			if n := changesBy(); n != 1 {
				t.Errorf("the admin's history holds %d changes, want 1", n)
			}
		})

		t.Run("OtherChangeSameKey", func(t *testing.T) {
			for name, v := range map[string]map[string]any{
				"OtherLines":   vars([][]string{judgePhoneLine}, changeReason, start.PolicyVersion),
				"OtherReason":  vars([][]string{judgePhoneLine, judgeHealthLine}, "Courts summon victims and read their health", start.PolicyVersion),
				"OtherVersion": vars([][]string{judgePhoneLine, judgeHealthLine}, changeReason, made.PolicyVersion),
				"NoVersion":    {"add": [][]string{judgePhoneLine, judgeHealthLine}, "reason": changeReason, "key": "policy-2026-12-07-courts"},
				"FieldsInAnotherOrder": vars([][]string{judgePhoneLine, {"p", "judge", "court", "Victim:HEALTH", "proceedings", "read"}},
					changeReason, start.PolicyVersion),
			} {
				t.Run(name, func(t *testing.T) {
					before := counts(t, e.db.Client)
					wantRefusal(t, e.do(t, admin, keyedChange, v), "CONFLICT", "idempotencyKey")
					unchanged(t, e.db.Client, before)
					if got := readPolicy(t, e, admin); got.PolicyVersion != made.PolicyVersion || !slices.EqualFunc(got.PolicyLines, made.PolicyLines, slices.Equal) {
						t.Errorf("a refused retry changed the policy (version %d, want %d)", got.PolicyVersion, made.PolicyVersion)
					}
				})
			}
		})

		t.Run("ReplaysAfterTheVersionPassed", func(t *testing.T) {
			other := e.tok(t, "moi", viewer.RoleAdmin)
			e.do(t, other, keyedChange, map[string]any{"remove": [][]string{judgeHealthLine}, "reason": "Health stays with the prosecution",
				"expected": made.PolicyVersion}).MustOK(t)
			before := counts(t, e.db.Client)
			r := e.do(t, admin, keyedChange, vars([][]string{judgePhoneLine, judgeHealthLine}, changeReason, start.PolicyVersion)).MustOK(t)
			if string(r.Data) != want {
				t.Errorf("the retry after another change answered %s, want the first call's %s", r.Data, want)
			}
			unchanged(t, e.db.Client, before)
			if got := readPolicy(t, e, admin); got.has(judgeHealthLine) != 0 || got.PolicyVersion != made.PolicyVersion+1 {
				t.Errorf("the retry made its change again: health line %d times, version %d (want %d)", got.has(judgeHealthLine), got.PolicyVersion, made.PolicyVersion+1)
			}
		})

		// Keys are each person's own (docs/mutations.md): another admin's
		// same key is a request of theirs, refused here on its merits
		// (the line is in the policy), not as a replay of the first.
		t.Run("AnotherAdminsKey", func(t *testing.T) {
			other := e.tok(t, "moi", viewer.RoleAdmin)
			before := counts(t, e.db.Client)
			r := e.do(t, other, keyedChange, vars([][]string{judgePhoneLine}, changeReason, readPolicy(t, e, admin).PolicyVersion))
			wantRefusal(t, r, "BAD_USER_INPUT", "add")
			unchanged(t, e.db.Client, before)
		})
	})
}

// TestPolicyChangeFromAStaleVersion: a change sent with the version of a
// policy changed since is CONFLICT on expectedVersion, extensions saying
// the version now, and writes nothing, not even an audit event of a
// change. It is checked before the change is read against the policy: a
// stale change removing the line the change ahead removed is told the
// policy changed, not that the line is not there. From the version now,
// the change is made.
func TestPolicyChangeFromAStaleVersion(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin, other := e.tok(t, "onac", viewer.RoleAdmin), e.tok(t, "moi", viewer.RoleAdmin)
		e.do(t, admin, keyedChange, map[string]any{"add": [][]string{judgeHealthLine}, "reason": "Courts read victims' health"}).MustOK(t)
		read := readPolicy(t, e, admin)
		e.do(t, other, keyedChange, map[string]any{"remove": [][]string{judgeHealthLine}, "reason": "Health stays with the prosecution",
			"expected": read.PolicyVersion}).MustOK(t)
		now := readPolicy(t, e, admin)
		if now.PolicyVersion != read.PolicyVersion+1 {
			t.Fatalf("policyVersion %d after a change from %d", now.PolicyVersion, read.PolicyVersion)
		}
		changes := func() int {
			return e.db.Client.AuditEvent.Query().Where(auditevent.Kind("POLICY_CHANGE")).CountX(sys())
		}
		for name, v := range map[string]map[string]any{
			"Add":                  {"add": [][]string{judgePhoneLine}, "reason": changeReason, "expected": read.PolicyVersion},
			"RemoveWhatWasRemoved": {"remove": [][]string{judgeHealthLine}, "reason": changeReason, "expected": read.PolicyVersion},
			"Keyed":                {"add": [][]string{judgePhoneLine}, "reason": changeReason, "expected": read.PolicyVersion, "key": "stale-1"},
			"Ahead":                {"add": [][]string{judgePhoneLine}, "reason": changeReason, "expected": now.PolicyVersion + 1},
		} {
			t.Run(name, func(t *testing.T) {
				before, events := counts(t, e.db.Client), changes()
				r := e.do(t, admin, keyedChange, v)
				got := testserver.WantRefusal(t, r, testserver.Want{Code: "CONFLICT", Field: "expectedVersion"})
				if cur := fmt.Sprint(got.Extensions["currentVersion"]); cur != fmt.Sprint(now.PolicyVersion) {
					t.Errorf("extensions.currentVersion = %s, want %d", cur, now.PolicyVersion)
				}
				unchanged(t, e.db.Client, before)
				if n := changes() - events; n != 0 {
					t.Errorf("the refused change left %d policy change events", n)
				}
				if got := readPolicy(t, e, admin); got.PolicyVersion != now.PolicyVersion || !slices.EqualFunc(got.PolicyLines, now.PolicyLines, slices.Equal) {
					t.Errorf("the refused change changed the policy")
				}
			})
		}
		// A key refused for a stale version was not used: the same key
		// from the version now makes the change.
		r := e.do(t, admin, keyedChange, map[string]any{"add": [][]string{judgePhoneLine}, "reason": changeReason, "expected": now.PolicyVersion, "key": "stale-1"}).MustOK(t)
		if d := decode[changeAnswer](t, r); d.ChangePolicy == nil || d.ChangePolicy.PolicyVersion != now.PolicyVersion+1 {
			t.Errorf("from the version now, the change answered %s", r.Data)
		}
	})
}

// TestPolicyChangesFromOneVersionAtOnce: two admins change the policy at
// once from the version both read, each change valid alone and with the
// other. Exactly one is made; the other is CONFLICT and writes nothing;
// the version moves by one. On PostgreSQL the test holds the policy lock
// until both changes wait for it, so that both have read what they read
// before either commits; SQLite takes write transactions one at a time.
func TestPolicyChangesFromOneVersionAtOnce(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admins := [2]string{e.tok(t, "onac", viewer.RoleAdmin), e.tok(t, "moi", viewer.RoleAdmin)}
		lines := [2][]string{judgePhoneLine, judgeHealthLine}
		read := readPolicy(t, e, admins[0])
		release := holdPolicyLock(t, e.db)
		var answers [2]*testserver.Response
		var wg sync.WaitGroup
		for i := range admins {
			wg.Go(func() {
				answers[i] = e.s.Do(t, admins[i], keyedChange, map[string]any{"add": [][]string{lines[i]},
					"reason": changeReason, "expected": read.PolicyVersion})
			})
		}
		release(2)
		wg.Wait()
		made := -1
		for i, a := range answers {
			switch codes := a.Codes(); {
			case len(codes) == 0:
				made = i
			case !slices.Equal(codes, []string{"CONFLICT"}) || a.Errors[0].Field() != "expectedVersion":
				t.Errorf("a change refused %v, want CONFLICT on expectedVersion:\n%s", codes, a.Body)
			}
		}
		if n := len(answers[0].Codes()) + len(answers[1].Codes()); n != 1 {
			t.Fatalf("%d of the two changes refused, want exactly one:\n%s\n%s", n, answers[0].Body, answers[1].Body)
		}
		got := readPolicy(t, e, admins[0])
		if got.PolicyVersion != read.PolicyVersion+1 || got.has(lines[made]) != 1 || got.has(lines[1-made]) != 0 {
			t.Errorf("after the race: version %d (want %d), the winner's line %d times, the loser's %d",
				got.PolicyVersion, read.PolicyVersion+1, got.has(lines[made]), got.has(lines[1-made]))
		}
	})
}

// TestStartUpChangesTakeThePolicyLock: the changes a server makes to the
// policy as it starts (the default policy into an empty table, here) wait
// for the policy lock like an admin's change, on PostgreSQL, so that the
// history's order is the order in which changes committed, and the
// version a replay reports is the one the change answered
// (authz.ChangeMade).
func TestStartUpChangesTakeThePolicyLock(t *testing.T) {
	t.Parallel()
	db := testdb.Postgres(t)
	release := holdPolicyLock(t, db)
	started := make(chan error, 1)
	go func() {
		_, err := authz.New(context.Background(), db.Client, db.Dialect, graph.Vocabulary())
		started <- err
	}()
	release(1)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if n := db.Client.PolicyChange.Query().CountX(sys()); n == 0 {
		t.Errorf("the server loaded no default policy")
	}
}

// holdPolicyLock takes, on PostgreSQL, the lock policy changes take
// (authz.PolicyLockKey) and returns release, which waits until n changes
// wait for it and lets them go. On SQLite it takes nothing: write
// transactions are one at a time there, and release returns at once.
func holdPolicyLock(t *testing.T, db *database.DB) (release func(n int)) {
	t.Helper()
	if db.Dialect != dialect.Postgres {
		return func(int) {}
	}
	ctx := context.Background()
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(authz.PolicyLockKey)); err != nil {
		t.Fatal(err)
	}
	return func(n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var waiting int
			if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting >= n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d changes waiting for the policy lock, want %d", waiting, n)
			}
		}
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", int64(authz.PolicyLockKey)); err != nil {
			t.Fatal(err)
		}
	}
}
