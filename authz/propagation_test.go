package authz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/viewer"
)

// victimPhone is the phone of the victim victimBeforeCourt creates.
const victimPhone = "+355 69 000 9001"

// judgesReadPhones is the policy line the propagation tests add and remove.
const judgesReadPhones = `["p", "judge", "court", "Victim:CONTACT", "read", "proceedings"]`

// victimBeforeCourt creates a case before the Tirana court with a victim
// who has a phone number (which judges do not read under the default
// policy) and returns the victim's id.
func victimBeforeCourt(t *testing.T, c *ent.Client) int {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	police := c.Agency.Query().Where(agency.Code("police-tirane")).OnlyX(ctx)
	court := c.Agency.Query().Where(agency.Code("court-tirane")).OnlyX(ctx)
	cf := c.CaseFile.Create().SetReference("TIR-2026-9001").SetTitle("Propagation test").
		SetRegion(domain.RegionTirane).SetLeadAgencyID(police.ID).SaveX(ctx)
	c.CaseAssignment.Create().SetCaseID(cf.ID).SetAgencyID(court.ID).SetPart(domain.CasePartAdjudicating).ExecX(ctx)
	v := c.Victim.Create().SetPseudonym("V-2026-9001").SetSex(domain.SexFemale).SetAgeGroup(domain.AgeGroupAdult).
		SetIdentificationStatus(domain.IdentificationStatusOfficialVictim).SetIdentifiedBy(domain.IdentifyingBodyStatePolice).
		SetIdentifiedAt(time.Now()).SetRegion(domain.RegionTirane).SetPhone(victimPhone).SaveX(ctx)
	c.CaseVictim.Create().SetCaseID(cf.ID).SetVictimID(v.ID).ExecX(ctx)
	return v.ID
}

// What a server answered a Tirana judge who asked for the victim's phone.
const (
	phoneShown       = "the phone"
	phoneForbidden   = "FORBIDDEN"
	phoneUnavailable = "UNAVAILABLE"
)

// judgeAsksPhone asks s, as a Tirana judge, for the victim's pseudonym and
// phone; it returns phoneShown, or the code of the phone's error (or of the
// response's errors when the phone's path has none).
func judgeAsksPhone(t *testing.T, s *testserver.Server, victim int) string {
	t.Helper()
	r := s.Do(t, s.Token(t, "court-tirane", viewer.RoleJudge),
		`query ($id: ID!) { node(id: $id) { ... on Victim { pseudonym phone } } }`, map[string]any{"id": victim})
	var data struct {
		Node *struct {
			Pseudonym string
			Phone     *string
		}
	}
	if len(r.Data) > 0 && string(r.Data) != "null" {
		r.Decode(t, &data)
	}
	if data.Node != nil && data.Node.Phone != nil {
		if *data.Node.Phone != victimPhone {
			t.Fatalf("the phone is %q, want %q", *data.Node.Phone, victimPhone)
		}
		return phoneShown
	}
	for _, e := range r.Errors {
		if len(e.Path) > 0 && e.Path[len(e.Path)-1] == "phone" {
			if data.Node == nil || data.Node.Pseudonym != "V-2026-9001" {
				t.Fatalf("a refused phone must leave the rest of the answer standing:\n%s", r.Body)
			}
			return e.Code()
		}
	}
	return "errors " + jsonString(r.Codes())
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

// twoServers starts two servers on one new PostgreSQL database, each with
// a pool of its own and following policy changes, and returns the first's
// database.
func twoServers(t *testing.T) (one, two *testserver.Server, db1 *database.DB) {
	t.Helper()
	db1 = testdb.Postgres(t)
	one = testserver.Start(t, db1, testserver.Options{ListenForPolicy: true})
	db2, err := database.OpenPostgres(context.Background(), db1.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db2.Close() })
	two = testserver.Start(t, db2, testserver.Options{ListenForPolicy: true, NoAgencies: true})
	return one, two, db1
}

// TestPolicyChangeReachesEveryServer runs two servers against one
// PostgreSQL database, changes the policy through one, and watches the
// change take effect on the other within a second.
func TestPolicyChangeReachesEveryServer(t *testing.T) {
	one, two, db1 := twoServers(t)
	victim := victimBeforeCourt(t, db1.Client)

	if got := judgeAsksPhone(t, two, victim); got != phoneForbidden {
		t.Fatalf("before the change a judge must not read the phone: got %s", got)
	}
	admin := one.Token(t, "onac", viewer.RoleAdmin)
	start := time.Now()
	one.Do(t, admin, `mutation { changePolicy(add: [`+judgesReadPhones+`],
		reason: "Courts summon victims by phone") { added removed } }`, nil).MustOK(t)
	for deadline := start.Add(time.Second); judgeAsksPhone(t, two, victim) != phoneShown; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the other server still refuses the phone %v after the change", time.Since(start))
		}
	}
	t.Logf("the change reached the other server in %v", time.Since(start))

	// And back: removing the line takes effect there too.
	one.Do(t, admin, `mutation { changePolicy(remove: [`+judgesReadPhones+`],
		reason: "Summons go through the prosecution office") { added removed } }`, nil).MustOK(t)
	for deadline := time.Now().Add(time.Second); judgeAsksPhone(t, two, victim) != phoneForbidden; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the other server still shows the phone a second after the line was removed")
		}
	}
}

// TestConflictingPolicyChangesAtOnce: two changes, each valid alone and
// not together (one removes the coordinator's consent purpose SERVICES,
// the other adds a coordinator read that needs it), sent at once through
// two servers on one PostgreSQL. They are taken one at a time: at most one
// is made, the refused one is told so, the policy stored still validates,
// and both servers stay ready. Before changes were locked, both committed
// in 3 of 4 tries and no server would load the policy.
func TestConflictingPolicyChangesAtOnce(t *testing.T) {
	one, two, db1 := twoServers(t)
	const (
		removePurpose = `mutation { changePolicy(remove: [["p", "coordinator", "*", "consent", "purpose", "SERVICES"]], reason: "no consent for services any more") { added } }`
		addRead       = `mutation { changePolicy(add: [["p", "coordinator", "governance", "Victim:CONTACT", "read", "referred"]], reason: "coordinators call referred victims") { added } }`
	)
	for round := range 4 {
		var answers [2]*testserver.Response
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, x := range []struct {
			s   *testserver.Server
			doc string
		}{{one, removePurpose}, {two, addRead}} {
			wg.Go(func() {
				tok := x.s.Token(t, "onac", viewer.RoleAdmin)
				<-start
				answers[i] = x.s.Do(t, tok, x.doc, nil)
			})
		}
		close(start)
		wg.Wait()
		made := 0
		for _, a := range answers {
			switch codes := a.Codes(); {
			case len(codes) == 0:
				made++
			case !slices.Equal(codes, []string{"BAD_USER_INPUT"}):
				t.Errorf("round %d: a change refused with %v, want BAD_USER_INPUT:\n%s", round, codes, a.Body)
			}
		}
		if made != 1 {
			t.Errorf("round %d: %d of the two changes made, want exactly one", round, made)
		}
		lines, err := authz.LinesIn(viewer.SystemContext(context.Background()), db1.Client)
		if err != nil {
			t.Fatal(err)
		}
		if err := policies.Validate(lines, one.Enforcer.Vocabulary()); err != nil {
			t.Fatalf("round %d: the stored policy does not validate: %v", round, err)
		}
		for _, s := range []*testserver.Server{one, two} {
			if st, body := readyz(t, s); st != http.StatusOK {
				t.Errorf("round %d: a server is not ready after the changes (%d %v)", round, st, body)
			}
		}
		// Back to the start for the next round, whichever was made.
		if len(answers[0].Codes()) == 0 {
			one.Do(t, one.Token(t, "onac", viewer.RoleAdmin), `mutation { changePolicy(add: [["p", "coordinator", "*", "consent", "purpose", "SERVICES"]], reason: "back to the policy as it was") { added } }`, nil).MustOK(t)
		} else {
			one.Do(t, one.Token(t, "onac", viewer.RoleAdmin), `mutation { changePolicy(remove: [["p", "coordinator", "governance", "Victim:CONTACT", "read", "referred"]], reason: "back to the policy as it was") { added } }`, nil).MustOK(t)
		}
	}
}

// TestPolicyChangeCallerCheckedUnderTheLock: whether the caller may
// change the policy is decided, like the change itself, under the lock
// (authz.PolicyLockKey), on the policy the changes before it left. It was
// asked before the lock, of the policy in memory: an admin whose change
// waited behind one that took the power (or the call) from admins changed
// the policy after it (a hunt over HTTP). The test holds the lock so that
// both changes wait, the hand-over first; the late one is refused,
// recorded as a refused change, and changes nothing.
func TestPolicyChangeCallerCheckedUnderTheLock(t *testing.T) {
	for _, tc := range []struct{ name, object, action string }{
		{"Power", "policy", "change"},
		{"Call", "Mutation.changePolicy", "call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := testdb.Postgres(t)
			s := testserver.Start(t, db)
			ctx := context.Background()
			conn, err := db.SQL.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(authz.PolicyLockKey)); err != nil {
				t.Fatal(err)
			}
			waiting := func(n int) {
				t.Helper()
				for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
					var got int
					if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&got); err != nil {
						t.Fatal(err)
					}
					if got >= n {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("%d changes waiting for the policy lock, want %d", got, n)
					}
				}
			}
			// The hand-over takes the power, or the call, from admins and
			// gives both to the national coordinator (one role must hold
			// both: policies.Validate).
			handOver := fmt.Sprintf(`mutation { changePolicy(
				remove: [["p", "admin", "*", %[1]q, %[2]q, "any"]],
				add: [["p", "coordinator", "NATIONAL_ANTI_TRAFFICKING_COORDINATOR", "policy", "change", "any"],
					["p", "coordinator", "NATIONAL_ANTI_TRAFFICKING_COORDINATOR", "Mutation.changePolicy", "call", "any"]],
				reason: "The national coordinator governs the policy from now on") { added removed } }`, tc.object, tc.action)
			late := `mutation { changePolicy(add: [` + judgesReadPhones + `], reason: "Courts summon victims by phone") { added } }`
			lateAdmin := s.As(t, "moi", viewer.RoleAdmin)
			refused := func() int {
				return db.Client.AuditEvent.Query().Where(auditevent.ActorSubject(lateAdmin.Subject), auditevent.Kind("MUTATION"),
					auditevent.Fields("Mutation.changePolicy"), auditevent.Decision("DENIED")).CountX(viewer.SystemContext(ctx))
			}

			var first, second *testserver.Response
			var wg sync.WaitGroup
			wg.Go(func() { first = s.Do(t, s.Token(t, "onac", viewer.RoleAdmin), handOver, nil) })
			waiting(1)
			wg.Go(func() { second = s.Do(t, lateAdmin.Token, late, nil) })
			waiting(2)
			if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", int64(authz.PolicyLockKey)); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if codes := first.Codes(); len(codes) != 0 {
				t.Fatalf("the hand-over was refused %v:\n%s", codes, first.Body)
			}
			if codes := second.Codes(); !slices.Equal(codes, []string{"FORBIDDEN"}) {
				t.Errorf("an admin changed the policy after the change before it took that from admins: codes %v, want [FORBIDDEN]:\n%s", codes, second.Body)
			}
			if n := refused(); n != 1 {
				t.Errorf("the refused change left %d refusals in the audit trail, want 1", n)
			}
			lines, err := authz.LinesIn(viewer.SystemContext(ctx), db.Client)
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(lines, func(l policies.Line) bool { return l.String() == judgePhoneRule }) {
				t.Errorf("the refused change is in the policy")
			}
		})
	}
}

// TestPolicyChangeSurvivesLostListener: a server (the follower) loses the
// connection on which policy changes are announced while another server
// changes the policy, and the first reload once it is back fails on the
// follower's dead pooled connections. The follower must say it is not
// ready and refuse the phone (and mutations) with UNAVAILABLE from the
// moment it knows, never answer under the policy it had, and enforce the
// new policy on its own once the database is reachable again: a grant,
// then a revoke. The grant cuts the connections at a TCP proxy; the revoke
// kills them in PostgreSQL (pg_terminate_backend), finding the listener by
// its application name.
func TestPolicyChangeSurvivesLostListener(t *testing.T) {
	db := testdb.Postgres(t)
	changer := testserver.Start(t, db)
	victim := victimBeforeCourt(t, db.Client)

	pg, err := url.Parse(db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	poolProxy, listenerProxy := startProxy(t, pg.Host), startProxy(t, pg.Host)
	const poolApp = "casegraph-test-follower"
	followerDB, err := database.OpenPostgres(context.Background(), poolProxy.dsn(pg, poolApp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = followerDB.Close() })
	follower := testserver.Start(t, followerDB, testserver.Options{
		NoAgencies: true, ListenForPolicy: true, PolicyListenerURL: listenerProxy.dsn(pg, ""),
	})
	admin := changer.Token(t, "onac", viewer.RoleAdmin)

	waitReady(t, follower, http.StatusOK)
	if got := judgeAsksPhone(t, follower, victim); got != phoneForbidden {
		t.Fatalf("under the default policy a judge must not read the phone: got %s", got)
	}

	// terminate ends the backends of this database with application name
	// app, and returns how many it ended.
	terminate := func(app string) int {
		var n int
		err := db.SQL.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, app).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	for _, step := range []struct {
		name           string
		change         string
		before, after  string
		cutConnections func()
	}{
		{
			name:   "grant",
			change: `changePolicy(add: [` + judgesReadPhones + `], reason: "Courts summon victims by phone")`,
			before: phoneForbidden, after: phoneShown,
			cutConnections: func() { listenerProxy.cut() },
		},
		{
			name:   "revoke",
			change: `changePolicy(remove: [` + judgesReadPhones + `], reason: "Summons go through the prosecution office")`,
			before: phoneShown, after: phoneForbidden,
			cutConnections: func() {
				listenerProxy.refuse()
				if n := terminate("casegraph-listen-casegraph_policy"); n != 1 {
					t.Fatalf("terminated %d backends named casegraph-listen-casegraph_policy, want the listener's", n)
				}
			},
		},
	} {
		ok := t.Run(step.name, func(t *testing.T) {
			if got := judgeAsksPhone(t, follower, victim); got != step.before {
				t.Fatalf("before the change the follower answers %s, want %s", got, step.before)
			}

			// The listener goes; the follower knows and says so.
			step.cutConnections()
			waitReady(t, follower, http.StatusServiceUnavailable)
			if got := judgeAsksPhone(t, follower, victim); got != phoneUnavailable {
				t.Fatalf("without its listener the follower answers %s, want %s", got, phoneUnavailable)
			}
			rules := db.Client.PolicyRule.Query().CountX(viewer.SystemContext(context.Background()))
			r := follower.Do(t, follower.Token(t, "onac", viewer.RoleAdmin), `mutation { `+step.change+` { added } }`, nil)
			if codes := r.Codes(); !slices.Equal(codes, []string{phoneUnavailable}) {
				t.Fatalf("a policy change through the follower: codes %v, want [UNAVAILABLE]:\n%s", codes, r.Body)
			}
			if n := db.Client.PolicyRule.Query().CountX(viewer.SystemContext(context.Background())); n != rules {
				t.Fatalf("a refused change wrote policy rules: %d, was %d", n, rules)
			}

			// Meanwhile the other server changes the policy.
			changer.Do(t, admin, `mutation { `+step.change+` { added removed } }`, nil).MustOK(t)
			if got := judgeAsksPhone(t, changer, victim); got != step.after {
				t.Fatalf("the server that changed the policy answers %s, want %s", got, step.after)
			}

			// The listener comes back while the follower's pooled
			// connections are dead and new ones refused: its first reload
			// fails.
			accepted := listenerProxy.accepted.Load()
			poolProxy.refuse()
			if step.name == "grant" {
				poolProxy.cut()
			} else if n := terminate(poolApp); n == 0 {
				t.Fatal("the follower's pool had no connection to terminate")
			}
			listenerProxy.restore()
			for deadline := time.Now().Add(5 * time.Second); listenerProxy.accepted.Load() == accepted; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the listener did not reconnect within 5 s")
				}
			}
			time.Sleep(300 * time.Millisecond) // the reload runs, and fails
			if s, _ := readyz(t, follower); s != http.StatusServiceUnavailable {
				t.Fatalf("/readyz answers %d while the follower cannot reach its database", s)
			}

			// The database is reachable again: the follower catches up
			// without any further change, and never answers under the
			// policy it had.
			poolProxy.restore()
			start := time.Now()
			for deadline := start.Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				got := judgeAsksPhone(t, follower, victim)
				if got == step.before {
					t.Fatalf("%v after the database came back the follower answered under the old policy (%s)", time.Since(start), got)
				}
				if got == step.after {
					if s, body := readyz(t, follower); s != http.StatusOK {
						t.Fatalf("the follower enforces the new policy but /readyz answers %d: %s", s, body)
					}
					t.Logf("the follower enforced the new policy %v after the database came back", time.Since(start))
					break
				}
				if time.Now().After(deadline) {
					s, body := readyz(t, follower)
					t.Fatalf("10 s after the database came back the follower still answers %s (/readyz %d %s)", got, s, body)
				}
			}
		})
		if !ok {
			return // the next step starts from this one's policy
		}
	}
}

// readyz returns the status and body of s's /readyz.
func readyz(t *testing.T, s *testserver.Server) (int, map[string]string) {
	t.Helper()
	res, err := http.Get(s.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("/readyz: %v", err)
	}
	return res.StatusCode, body
}

// waitReady waits up to 5 s for s's /readyz to answer status; a 503 must
// say what is wrong.
func waitReady(t *testing.T, s *testserver.Server, status int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, body := readyz(t, s)
		if got == status {
			if status == http.StatusServiceUnavailable && (body["policy"] != "unconfirmed" || body["reason"] == "") {
				t.Fatalf("/readyz must name the unconfirmed policy and why: %v", body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz answers %d %v, want %d", got, body, status)
		}
	}
}

// proxy forwards TCP connections to a PostgreSQL server, and can cut them
// and refuse new ones, as a network would.
type proxy struct {
	ln       net.Listener
	target   string
	accepted atomic.Int64 // connections forwarded

	mu      sync.Mutex
	refused bool
	conns   []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln := testserver.Loopback(t)
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	go p.serve()
	return p
}

// dsn is pg's URL through the proxy, with application name app if any.
func (p *proxy) dsn(pg *url.URL, app string) string {
	u := *pg
	u.Host = p.ln.Addr().String()
	if app != "" {
		q := u.Query()
		q.Set("application_name", app)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.refused {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.accepted.Add(1)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

// refuse closes every new connection at once.
func (p *proxy) refuse() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused = true
}

// cut refuses new connections and closes the open ones.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused = true
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// restore forwards new connections again.
func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused = false
}

// TestStaleServerRefusesPowers: a server that cannot confirm its policy is
// current refuses what the policy opens, powers included, so that a
// revocation does not stay in force on it. While a follower's listener is
// down, an admin removes the district prosecutors' "statistics, exact" on
// another server; the follower, which answered /readyz 503, still served
// a prosecutor exact counts (threshold 0) under the revoked power, and
// every other power @allowed checks (a hunt over HTTP). It answers
// UNAVAILABLE, as for a sensitive field, until it has reloaded.
func TestStaleServerRefusesPowers(t *testing.T) {
	db := testdb.Postgres(t)
	changer := testserver.Start(t, db)
	pg, err := url.Parse(db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	listener := startProxy(t, pg.Host)
	followerDB, err := database.OpenPostgres(context.Background(), db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = followerDB.Close() })
	follower := testserver.Start(t, followerDB, testserver.Options{
		NoAgencies: true, ListenForPolicy: true, PolicyListenerURL: listener.dsn(pg, ""),
	})
	waitReady(t, follower, http.StatusOK)

	// threshold is the k s applies to a district prosecutor's statistics,
	// or -1 and the codes of the errors.
	threshold := func(s *testserver.Server) (int, []string) {
		r := s.Do(t, s.Token(t, "prosecution-tirane", viewer.RoleProsecutor), `{ victimStatistics { threshold } }`, nil)
		if len(r.Errors) > 0 {
			return -1, r.Codes()
		}
		var d struct{ VictimStatistics struct{ Threshold int } }
		r.Decode(t, &d)
		return d.VictimStatistics.Threshold, nil
	}
	policyRead := func() *testserver.Response {
		return follower.Do(t, follower.Token(t, "onac", viewer.RoleAdmin), `{ policyChanges(first: 1) { reason } }`, nil)
	}
	if k, codes := threshold(follower); k != 0 {
		t.Fatalf("before the change a district prosecutor sees exact counts: got k=%d %v", k, codes)
	}
	policyRead().MustOK(t)

	listener.cut()
	waitReady(t, follower, http.StatusServiceUnavailable)
	changer.Do(t, changer.Token(t, "onac", viewer.RoleAdmin),
		`mutation { changePolicy(remove: [["p", "prosecutor", "PROSECUTION_OFFICE", "statistics", "exact", "any"]], reason: "Small counts of a district identify victims") { removed } }`, nil).MustOK(t)
	if k, codes := threshold(changer); k != 5 {
		t.Fatalf("the server that made the change: k=%d %v, want 5", k, codes)
	}
	if k, codes := threshold(follower); !slices.Equal(codes, []string{phoneUnavailable}) {
		t.Errorf("the follower, whose policy is unconfirmed, answers statistics k=%d %v; want UNAVAILABLE, as for a sensitive field", k, codes)
	}
	testserver.WantRefusal(t, policyRead(), testserver.Want{Code: phoneUnavailable, Field: "Query.policyChanges"})

	// Once its listener is back and it has reloaded, the follower applies
	// the policy as changed.
	listener.restore()
	waitReady(t, follower, http.StatusOK)
	if k, codes := threshold(follower); k != 5 {
		t.Errorf("the follower, current again: k=%d %v, want 5", k, codes)
	}
	policyRead().MustOK(t)
}
