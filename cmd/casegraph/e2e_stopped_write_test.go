//go:build unix

package main_test

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/internal/testserver"
)

// TestServeStoppedPastItsGraceWithAWriteInFlight: `casegraph serve` on
// PostgreSQL is sent SIGTERM while a create waits inside the database, its
// rows written, for the audit trail's lock (another session holds it; the
// request's deadline is raised past the grace period, so the grace ends
// first). serve waits its 20 s, then exits with an error: its client gets
// no answer, and the database rolls back the create (its COMMIT never
// ran). The client retries against a new server with the same key and
// ends with exactly one case; `audit verify` holds. The in-process tests
// of the same (server.TestServerStoppedWhileAMutationRuns) cannot end the
// process; this one does. On PostgreSQL only: no lock holds a SQLite write
// in the middle of its transaction (a writer takes the database's one write
// lock at BEGIN), and serve has no hook.
func TestServeStoppedPastItsGraceWithAWriteInFlight(t *testing.T) {
	t.Parallel()
	env, dev := postgresEnv(t)
	mustRun(t, dev, "migrate") // in development mode, it makes the signing key
	mustRun(t, dev, "seed", "--agencies")
	dev = append(dev, "CASEGRAPH_REQUEST_TIMEOUT=2m")
	s := startServe(t, dev)
	tok := token(t, dev, "--subject", "e2e-stopped", "--agency", "police-tirane", "--role", "investigator")
	var v struct {
		Viewer struct{ Agency struct{ ID string } }
	}
	graphQL(t, s.base(), tok, `{ viewer { agency { id } } }`, &v)
	const create = `mutation ($in: CreateCaseInput!) { openCase(input: $in, idempotencyKey: "intake-stopped") { id } }`
	vars := map[string]any{"in": map[string]any{"reference": "TIR-STOPPED-1", "title": "Suspected forced begging",
		"region": "TIRANE", "leadAgencyID": v.Viewer.Agency.ID}}
	body, err := json.Marshal(map[string]any{"query": create, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("postgres", envValue(env, "DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(query string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	lock, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback() }()
	if _, err := lock.Exec(`SELECT pg_advisory_xact_lock($1)`, int64(audit.ChainLockKey)); err != nil {
		t.Fatal(err)
	}

	conn, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		s.addr, tok, len(body), body)
	waitFor(t, "the create to wait for the audit trail's lock", func() bool {
		return count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
  AND wait_event_type = 'Lock' AND wait_event = 'advisory'`) == 1
	})

	if err := s.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !s.exited(time.Minute) {
		t.Fatal("serve still running a minute after SIGTERM")
	}
	if code := s.exitCode(); code != 2 {
		t.Errorf("serve %s, with a request cut off at the end of its grace period; want exit 2", s.ended())
	}
	// The operator is told why it exited 2, not "context deadline exceeded" alone.
	if !strings.Contains(s.output(), "cutting off the requests still running") {
		t.Errorf("serve's output does not say it cut off the requests still running:\n%s", s.output())
	}
	if res, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
		t.Fatalf("the create cut off with the process was answered %s", res.Status)
	}
	// The process is gone; its session ends once it stops waiting, and
	// with it the create, which never committed.
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stopped server's session to end", func() bool {
		return count(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'`) == 0
	})
	if n := count(`SELECT count(*) FROM case_files`) + count(`SELECT count(*) FROM idempotency_records`); n != 0 {
		t.Fatalf("the create cut off before its COMMIT left %d rows", n)
	}

	next := startServe(t, dev)
	var made struct{ OpenCase struct{ ID string } }
	testserver.Send(t, testserver.Post(t, next.base(), tok, create, vars)).MustOK(t).Decode(t, &made)
	if made.OpenCase.ID == "" || count(`SELECT count(*) FROM case_files WHERE reference = 'TIR-STOPPED-1'`) != 1 ||
		count(`SELECT count(*) FROM idempotency_records WHERE key = 'intake-stopped'`) != 1 {
		t.Errorf("after the retry: case %q, want exactly one case and one idempotency record", made.OpenCase.ID)
	}
	next.terminate(t, 10*time.Second)
	if r := mustRun(t, env, "audit", "verify"); !strings.HasPrefix(r.stdout, "OK: ") {
		t.Errorf("audit verify:\n%s", r)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
	}
}
