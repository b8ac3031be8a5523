package authz_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/policytools"
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
	lines := make([]policies.Line, len(add))
	for i, l := range add {
		lines[i] = l
	}
	if err := changeElsewhere(db, lines, nil); err != nil {
		t.Fatal(err)
	}
}

// changeElsewhere is storeElsewhere's change, removing lines too, for a
// goroutine other than the test's (a server's, hearing of it).
func changeElsewhere(db *database.DB, add, remove []policies.Line) error {
	tx, err := db.Client.Tx(sys())
	if err != nil {
		return err
	}
	if _, err := authz.Store(sys(), tx.Client(), &viewer.Principal{Subject: "admin@another-server", AgencyCode: "onac"},
		"A change made on another server", add, remove); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
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
		e := newEnforcer(t, db)
		read := policyStored(t, db)
		now := changeHeard(t, db, e, judgePhoneLine)
		if err := e.At(ctx, read, func(at *authz.Enforcer) error {
			if readsPhones(at) || !readsPhones(e) {
				t.Errorf("at version %d, read before the server loaded %d, the tools answer from one where judges read phones", read.Version, now.Version)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}

		reloaded := make(chan error, 1)
		waited := false
		if err := e.At(ctx, now, func(at *authz.Enforcer) error {
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

// newEnforcer is a server's policy over db, as it starts.
func newEnforcer(t *testing.T, db *database.DB) *authz.Enforcer {
	t.Helper()
	e, err := authz.New(context.Background(), db.Client, db.Dialect, graph.Vocabulary())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// policyStored is the policy as a request reads it.
func policyStored(t *testing.T, db *database.DB) authz.StoredPolicy {
	t.Helper()
	p, err := authz.PolicyIn(context.Background(), db.Client)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// changeHeard stores a change as another server makes it and has e
// reload, as a server hearing of it does, and returns the policy stored
// then.
func changeHeard(t *testing.T, db *database.DB, e *authz.Enforcer, add ...[]string) authz.StoredPolicy {
	t.Helper()
	storeElsewhere(t, db, add...)
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	return policyStored(t, db)
}

// The judges' reads the changes of these tests open (judgePhoneLine,
// judgeHealthLine).
func readsPhones(e *authz.Enforcer) bool { return judgeReads(e, "Victim:CONTACT") }
func readsHealth(e *authz.Enforcer) bool { return judgeReads(e, "Victim:HEALTH") }

func judgeReads(e *authz.Enforcer, category string) bool {
	return e.Decide(viewer.RoleJudge, "COURT_FIRST_INSTANCE", category, policies.Read, "proceedings").Allowed
}

// TestPolicyToolsWaitForAnInMemorySlot: a policy tool whose request read
// a version this server has replaced since answers over that version
// built in memory, in one of the slots what-ifs take
// (authz.InMemorySlot, one per CPU). With every slot held it waits, and
// gives up when its request's context ends, at its deadline or cancelled,
// at once and with that context's error (UNAVAILABLE over GraphQL, as a
// what-if's wait: policytools' TestWhatIfWaitsForASlot), holding no slot
// after. A tool at a version the server holds takes none: the one in
// force, and the one its last reload replaced (a change loaded during
// the request), whose policy and cached decisions it answers from. Until
// 2026-12-07 (twenty-first session) At built every version the server
// was past with no slot, however many tools were building one.
func TestPolicyToolsWaitForAnInMemorySlot(t *testing.T) {
	// Not parallel: every slot is held, which other tests' what-ifs take.
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnforcer(t, db)
		read := policyStored(t, db)
		replaced := changeHeard(t, db, e, judgePhoneLine)
		replacedPolicy := authz.LoadedPolicy(e)
		now := changeHeard(t, db, e, judgeHealthLine)
		inForce := authz.LoadedPolicy(e)

		slots := int64(runtime.GOMAXPROCS(0))
		if err := authz.InMemoryBuilds.Acquire(context.Background(), slots); err != nil {
			t.Fatal(err)
		}
		held := true
		release := func() {
			if held {
				authz.InMemoryBuilds.Release(slots)
				held = false
			}
		}
		defer release()
		unanswered := func(*authz.Enforcer) error {
			t.Errorf("with every slot held, a tool answered of version %d, which the server replaced", read.Version)
			return nil
		}
		deadline, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := e.At(deadline, read, unanswered); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("with every slot held, past its deadline: err = %v, want the deadline's", err)
		}
		leaving, leave := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, leave)
		start := time.Now()
		if err := e.At(leaving, read, unanswered); !errors.Is(err, context.Canceled) {
			t.Errorf("with every slot held, its client gone: err = %v, want the cancellation's", err)
		}
		if waited := time.Since(start); waited > 2*time.Second {
			t.Errorf("a tool whose client left after 50ms waited %v for a slot", waited)
		}
		// The policies the server holds: the one in force and the one its
		// last reload replaced, each with its decisions cached. A bound on
		// the wait, should they wait too.
		bounded, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, held := range []struct {
			p      authz.StoredPolicy
			policy any
		}{{now, inForce}, {replaced, replacedPolicy}} {
			if err := e.At(bounded, held.p, func(at *authz.Enforcer) error {
				if authz.LoadedPolicy(at) != held.policy {
					t.Errorf("at version %d, which the server holds, a tool answered over a policy built anew", held.p.Version)
				}
				if !readsPhones(at) || readsHealth(at) != (held.p.Version == now.Version) {
					t.Errorf("at version %d, a tool answers from a policy of another version", held.p.Version)
				}
				return nil
			}); err != nil {
				t.Errorf("with every slot held, a tool at version %d, which the server holds: %v", held.p.Version, err)
			}
		}

		release()
		if !authz.InMemoryBuilds.TryAcquire(slots) {
			t.Fatal("the tools that gave up hold a slot")
		}
		authz.InMemoryBuilds.Release(slots)
		if err := e.At(context.Background(), read, func(at *authz.Enforcer) error {
			if readsPhones(at) || readsHealth(at) {
				t.Errorf("at version %d, read before the server loaded %d, the tools answer from one where judges read phones or health", read.Version, now.Version)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPolicyToolsInMemoryAtOnce: tools answering at once of a version
// this server has replaced since build it in memory at most one per CPU
// at a time (authz.InMemorySlot), each answering of that version. make
// test-race runs it under the race detector.
func TestPolicyToolsInMemoryAtOnce(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnforcer(t, db)
		read := policyStored(t, db)
		changeHeard(t, db, e, judgePhoneLine)
		changeHeard(t, db, e, judgeHealthLine)
		slots := int64(runtime.GOMAXPROCS(0))
		var answering, most atomic.Int64
		var tools sync.WaitGroup
		for range 4 * slots {
			tools.Go(func() {
				err := e.At(context.Background(), read, func(at *authz.Enforcer) error {
					n := answering.Add(1)
					defer answering.Add(-1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					if readsPhones(at) || readsHealth(at) {
						t.Errorf("at version %d, the tools answer from one where judges read phones or health", read.Version)
					}
					time.Sleep(20 * time.Millisecond) // a matrix takes longer
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		tools.Wait()
		if most.Load() > slots {
			t.Errorf("%d tools answered at once over a policy built in memory, on %d slots", most.Load(), slots)
		}
	})
}

// TestPolicyToolsBusyOverHTTP: another server makes two changes while a
// DPO's explainAccess runs, and this one loads them between the
// request's read of the policy and its answer, which is then of a
// version the server no longer holds, built in memory in one of
// what-if's slots (authz.InMemorySlot). With every slot held it is
// refused as a request past its deadline is, UNAVAILABLE on
// explainAccess, holding no slot after; with one free it answers of the
// version it read, not of the server's.
func TestPolicyToolsBusyOverHTTP(t *testing.T) {
	// Not parallel: every slot is held, which other tests' what-ifs take.
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		hook := hookPolicyRead(db)
		s := testserver.Start(t, db, testserver.Options{Config: server.Config{RequestTimeout: 3 * time.Second}})
		e := s.Enforcer
		dpo := s.Token(t, "ngo-vatra", viewer.RoleDPO)
		const explainPhone = `{ policyVersion explainAccess(question: {roles: [judge], agencyKind: COURT_FIRST_INSTANCE, field: "Victim.phone"}) { allowed } }`
		type answer struct {
			PolicyVersion int
			ExplainAccess struct{ Allowed bool }
		}
		first := testserver.Data[answer](t, s.Ask(t, dpo, explainPhone, nil).MustOK(t)) // fills the server's caches
		// heardDuringTheRequest arms the hook: right after the next
		// request's read of the policy, another server adds (or removes)
		// each line, a change each, and this server loads each change.
		heardDuringTheRequest := func(removed bool, lines ...[]string) {
			hook.arm(func() error {
				for _, l := range lines {
					add, remove := []policies.Line{l}, []policies.Line(nil)
					if removed {
						add, remove = remove, add
					}
					if err := changeElsewhere(db, add, remove); err != nil {
						return err
					}
					if err := e.Reload(); err != nil {
						return err
					}
				}
				return nil
			})
		}

		slots := int64(runtime.GOMAXPROCS(0))
		if err := authz.InMemoryBuilds.Acquire(context.Background(), slots); err != nil {
			t.Fatal(err)
		}
		heardDuringTheRequest(false, judgePhoneLine, judgeHealthLine)
		r := s.Ask(t, dpo, explainPhone, nil)
		authz.InMemoryBuilds.Release(slots)
		hook.check(t)
		testserver.WantErrors(t, r, "UNAVAILABLE  explainAccess")
		if !testserver.NullData(r.Data) {
			t.Errorf("with every slot held, an answer of a version the server replaced: %s", r.Data)
		}
		if !authz.InMemoryBuilds.TryAcquire(slots) {
			t.Fatal("the request refused holds a slot")
		}
		authz.InMemoryBuilds.Release(slots)

		heardDuringTheRequest(true, judgePhoneLine, judgeHealthLine)
		second := testserver.Data[answer](t, s.Ask(t, dpo, explainPhone, nil).MustOK(t))
		hook.check(t)
		if second.PolicyVersion != first.PolicyVersion+2 || !second.ExplainAccess.Allowed {
			t.Errorf("at version %d, read with the judges' phone line, explainAccess says %+v of version %d", first.PolicyVersion+2, second.ExplainAccess, second.PolicyVersion)
		}
		if readsPhones(e) || policyStored(t, db).Version != first.PolicyVersion+4 {
			t.Errorf("the server did not load the changes made during the request")
		}
	})
}

// policyReadHook runs what it is armed with once, right after the next
// read of the policy through a database's client, in the goroutine that
// read it: what another server changes between a request's read of the
// policy and its answer, heard by this one.
type policyReadHook struct {
	armed atomic.Pointer[func() error]
	err   atomic.Pointer[error]
}

func hookPolicyRead(db *database.DB) *policyReadHook {
	h := &policyReadHook{}
	db.Client.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			v, err := next.Query(ctx, q)
			if _, ok := q.(*ent.PolicyRuleQuery); ok {
				if f := h.armed.Swap(nil); f != nil {
					if err := (*f)(); err != nil {
						h.err.Store(&err)
					}
				}
			}
			return v, err
		})
	}))
	return h
}

func (h *policyReadHook) arm(f func() error) { h.armed.Store(&f) }

// check fails t when the hook was not run since it was armed, or failed.
func (h *policyReadHook) check(t *testing.T) {
	t.Helper()
	if h.armed.Load() != nil {
		t.Fatal("the request did not read the policy")
	}
	if err := h.err.Swap(nil); err != nil {
		t.Fatal(*err)
	}
}

// TestMalformedWhatIfOnABusyServer: a what-if's change is checked
// (policytools' nextPolicy, changePolicy's check) before it waits for
// one of the slots of policies built in memory. With every slot held, a
// change changePolicy would refuse is refused BAD_USER_INPUT, naming
// what is wrong, not left waiting until its deadline and answered
// UNAVAILABLE (a retry would fail the same way: the client must mend
// its input, not wait); a change that would go through still waits and
// is UNAVAILABLE at its deadline. The check needs no slot: it builds no
// policy (until 2026-12-07, twenty-second session, it ran inside one).
func TestMalformedWhatIfOnABusyServer(t *testing.T) {
	// Not parallel: every slot is held, which other tests' what-ifs take.
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db, testserver.Options{Config: server.Config{RequestTimeout: 2 * time.Second}})
		dpo := s.Token(t, "ngo-vatra", viewer.RoleDPO)
		const whatIf = `query ($add: [[String!]!], $remove: [[String!]!]) { policyWhatIf(add: $add, remove: $remove) { object } }`
		s.Ask(t, dpo, `{ policyVersion }`, nil).MustOK(t) // fills the server's caches

		slots := int64(runtime.GOMAXPROCS(0))
		if err := authz.InMemoryBuilds.Acquire(context.Background(), slots); err != nil {
			t.Fatal(err)
		}
		defer authz.InMemoryBuilds.Release(slots)
		shipped := []string{"p", "judge", "court", "Victim:IDENTITY", "read", "proceedings"}
		for _, tc := range []struct {
			name        string
			add, remove [][]string
			want        string
		}{
			{"an action no line has", [][]string{{"p", "judge", "court", "Victim.phone", "peek", "on_case"}}, nil, "BAD_USER_INPUT add policyWhatIf"},
			{"a line already in the policy", [][]string{shipped}, nil, "BAD_USER_INPUT add policyWhatIf"},
			{"a line not in the policy removed", nil, [][]string{judgePhoneLine}, "BAD_USER_INPUT remove policyWhatIf"},
			{"no line at all", nil, nil, "BAD_USER_INPUT add policyWhatIf"},
			{"a change changePolicy makes", [][]string{judgePhoneLine}, nil, "UNAVAILABLE  policyWhatIf"},
		} {
			r := s.Ask(t, dpo, whatIf, map[string]any{"add": tc.add, "remove": tc.remove})
			testserver.WantErrors(t, r, tc.want)
			if !testserver.NullData(r.Data) {
				t.Errorf("%s: data %s", tc.name, r.Data)
			}
		}
	})
}

// TestInvalidChangeAnswerStaysSmall: a change of many invalid lines is
// answered with the first few problems and a count of the rest, by
// what-if and changePolicy alike (one check), not with every line
// quoted back (500 lines with a role of 400 characters were answered
// with about 400 KB, twice what was sent).
func TestInvalidChangeAnswerStaysSmall(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		admin := s.Token(t, "onac", viewer.RoleAdmin)
		before := s.Ask(t, admin, `{ policyVersion }`, nil).MustOK(t)
		var lines [][]string
		for i := range policytools.MaxChangeLines {
			lines = append(lines, []string{"p", fmt.Sprintf("role-%04d-%s", i, strings.Repeat("x", 400)), "court", "Victim:IDENTITY", "read", "proceedings"})
		}
		for _, ask := range []string{
			`query ($add: [[String!]!]) { policyWhatIf(add: $add) { object } }`,
			`mutation ($add: [[String!]!]) { changePolicy(add: $add, reason: "many lines at once") { added } }`,
		} {
			r := s.Ask(t, admin, ask, map[string]any{"add": lines})
			if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" {
				t.Fatalf("%s: want one BAD_USER_INPUT, got %s", ask, r.Body)
			}
			message := r.Errors[0].Message
			if !strings.Contains(message, "role-0000-") || !strings.Contains(message, "and 480 more problems") {
				t.Errorf("%s: the message does not name the first problem and count the rest:\n%.600s", ask, message)
			}
			if len(r.Body) > 16<<10 {
				t.Errorf("%s: an answer of %d bytes to a change of %d lines", ask, len(r.Body), len(lines))
			}
		}
		if after := s.Ask(t, admin, `{ policyVersion }`, nil).MustOK(t); !bytes.Equal(after.Data, before.Data) {
			t.Errorf("the refused change moved the policy's version: %s, then %s", before.Data, after.Data)
		}
	})
}
