//go:build unix

package main_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
)

// postgresEnv creates a database for t on the test PostgreSQL server and
// returns the binary's environment for it, and the same in development mode
// (the server signs and accepts its own tokens).
func postgresEnv(t *testing.T) (env, dev []string) {
	t.Helper()
	dbURL := testdb.CreatePostgres(t)
	binary(t)
	env = childEnv("DATABASE_URL="+dbURL, "CASEGRAPH_DATA_DIR="+filepath.Join(t.TempDir(), "data"))
	return env, append(append([]string{}, env...), "CASEGRAPH_DEV=1")
}

func TestE2EPostgres(t *testing.T) {
	t.Parallel()
	env, dev := postgresEnv(t)

	if r := mustRun(t, env, "migrate", "--status"); !regexp.MustCompile(`^[1-9][0-9]* pending migrations`).MatchString(r.stdout) {
		t.Errorf("migrate --status on an empty database:\n%s", r)
	}
	// serve and seed refuse an unmigrated database, naming the fix.
	mustRefuse(t, append(dev, "CASEGRAPH_ADDR="+testserver.FreeAddr(t)), []string{"pending migrations", "casegraph migrate"}, "serve")
	mustRefuse(t, dev, []string{"casegraph migrate"}, "seed", "--demo")

	if r := mustRun(t, env, "migrate"); !regexp.MustCompile(`applied [1-9][0-9]* migrations`).MatchString(r.stdout) {
		t.Errorf("migrate:\n%s", r)
	}
	if r := mustRun(t, env, "migrate", "--status"); !strings.Contains(r.stdout, "0 pending migrations") {
		t.Errorf("migrate --status after migrate:\n%s", r)
	}
	if r := mustRun(t, env, "migrate"); !strings.Contains(r.stdout, "applied 0 migrations") {
		t.Errorf("a second migrate:\n%s", r)
	}

	// Development tokens are off by default on PostgreSQL: without an OIDC
	// issuer, serve refuses to start.
	r := mustRefuse(t, append(env, "CASEGRAPH_ADDR="+testserver.FreeAddr(t)), []string{"CASEGRAPH_OIDC_ISSUER", "CASEGRAPH_DEV=1"}, "serve")
	if strings.Contains(r.stderr, "Bearer ") {
		t.Errorf("serve printed development tokens although they are off:\n%s", r)
	}

	seeded := seedDemo(t, env)
	// The server makes the signing key; a token is minted with it.
	s := startServe(t, dev)
	tok := token(t, dev, "--subject", "e2e-pg", "--agency", "police-tirane", "--role", "investigator")
	if !strings.Contains(s.stdout.String(), `"database":"postgres"`) {
		t.Errorf("serve does not say it runs on PostgreSQL:\n%s", s.stdout)
	}
	if strings.Contains(s.stdout.String()+s.stderr.String(), "postgres@") {
		t.Errorf("serve prints the database URL with its user:\n%s", s.output())
	}
	checkCases(t, s.base(), tok, "e2e-pg", seeded)
	checkGCPercent(t, s.base(), "200") // gc.go's serveGCPercent
	s.terminate(t, 10*time.Second)
}

// ---------------------------------------------------------------------------
// Refusals of the command line
// ---------------------------------------------------------------------------

func TestE2ETokenRefusals(t *testing.T) {
	t.Parallel()
	env := childEnv("CASEGRAPH_DATA_DIR=" + filepath.Join(t.TempDir(), "data"))
	mustRun(t, env, "seed", "--agencies") // sets the data directory up, signing key and agencies included
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown role", []string{"--subject", "s", "--agency", "police-tirane", "--role", "wizard"}, `unknown role "wizard"`},
		{"no subject", []string{"--agency", "police-tirane", "--role", "investigator"}, "subject"},
		{"blank subject", []string{"--subject", "  ", "--agency", "police-tirane", "--role", "investigator"}, "subject"},
		{"no agency", []string{"--subject", "s", "--role", "investigator"}, "agency"},
		{"no role", []string{"--subject", "s", "--agency", "police-tirane"}, "role"},
		{"ttl beyond the maximum", []string{"--subject", "s", "--agency", "police-tirane", "--role", "investigator", "--ttl", "1000h"}, "lifetime"},
		{"negative ttl", []string{"--subject", "s", "--agency", "police-tirane", "--role", "investigator", "--ttl", "-1h"}, "lifetime"},
		{"unknown flag", []string{"--subject", "s", "--agency", "police-tirane", "--role", "investigator", "--admin"}, "flag provided but not defined"},
		// The server would refuse it: 401 "unknown agency".
		{"unknown agency", []string{"--subject", "s", "--agency", "police-tirana", "--role", "investigator"}, `no agency has the code "police-tirana"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRefuse(t, env, []string{tc.want}, append([]string{"token"}, tc.args...)...)
			if strings.Count(strings.TrimSpace(r.stdout), ".") == 2 {
				t.Errorf("a refused token command printed a token:\n%s", r)
			}
		})
	}
	// Two roles are fine.
	r := mustRun(t, env, "token", "--subject", "s", "--agency", "police-tirane", "--role", "investigator", "--role", "analyst")
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("a token of roles the policy gives something warns:\n%s", r)
	}
	// A role the policy gives nothing at the agency's kind is signed, with
	// a warning naming the roles it gives something there: the server
	// would answer empty pages and refusals with no hint why.
	r = mustRun(t, env, "token", "--subject", "s", "--agency", "police-tirane", "--role", "judge")
	if want := "warning: the policy gives the role judge nothing at police-tirane, an agency of kind LOCAL_POLICE_DIRECTORATE"; !strings.Contains(r.stderr, want) ||
		!strings.Contains(r.stderr, "at LOCAL_POLICE_DIRECTORATE: investigator, analyst, dpo, admin") || strings.Count(strings.TrimSpace(r.stdout), ".") != 2 {
		t.Errorf("want a token and a warning %q naming the roles the policy gives something there:\n%s", want, r)
	}
}
