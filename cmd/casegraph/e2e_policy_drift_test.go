//go:build unix

package main_test

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// driftMessage is serve's log message when the policy in force is not the
// one its history makes.
const driftMessage = "the policy in force is not the one its history makes: lines written into or removed from policy_rules by hand decide reads with no history entry and no audit event; `casegraph audit verify` names them"

// TestE2EPolicyLineWrittenByHand: on PostgreSQL, a policy line written
// into policy_rules by SQL, which decides reads with no entry in the
// policy's history and no audit event (the data protection officer's
// hunt, twenty-sixth session: an analyst read shelters, `audit verify`
// OK), is named by `audit verify`, which exits 1, and by serve's log at
// its start, at ERROR; a server on the policy as its history made it
// says nothing of it.
func TestE2EPolicyLineWrittenByHand(t *testing.T) {
	t.Parallel()
	env, dev := postgresEnv(t)
	mustRun(t, dev, "migrate")
	s := startServe(t, dev) // loads the default policy, recorded in its history
	if rec, ok := s.logged(driftMessage); ok {
		t.Errorf("the default policy as loaded is said not to be its history's: %v", rec)
	}
	s.terminate(t, 10*time.Second)
	if r := mustRun(t, env, "audit", "verify"); strings.Contains(r.stdout, "POLICY") {
		t.Errorf("audit verify on the policy as its history made it:\n%s", r)
	}

	var url string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "DATABASE_URL="); ok {
			url = v
		}
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO policy_rules (ptype, v0, v1, v2, v3, v4, v5) VALUES ('p', 'analyst', '*', 'Victim:LOCATION', 'read', 'any', '')`); err != nil {
		t.Fatal(err)
	}

	r := run(t, env, "audit", "verify")
	if r.code != 1 || !strings.Contains(r.stdout, "POLICY: in force, and added by no change of its history (written into policy_rules by hand?): p, analyst, *, Victim:LOCATION, read, any") {
		t.Errorf("audit verify after a line written by hand: want exit 1 naming the line:\n%s", r)
	}
	s = startServe(t, dev)
	rec, ok := s.logged(driftMessage)
	if !ok || rec.Level() != "ERROR" || !strings.Contains(s.output(), `["p","analyst","*","Victim:LOCATION","read","any"]`) {
		t.Errorf("serve on a line written by hand: want an ERROR naming it, got %v:\n%s", rec, s.output())
	}
	s.terminate(t, 10*time.Second)
}
