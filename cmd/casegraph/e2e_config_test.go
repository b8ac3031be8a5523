//go:build unix

package main_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/internal/testserver"
)

// Run from the wrong folder, a command must not quietly make a second
// database or signing key: every command says which files it uses (as
// absolute paths, on stderr), only serve, migrate and seed create them, and
// token, policy and audit refuse a data directory without them.
func TestE2EDataDirectory(t *testing.T) {
	t.Parallel()
	top := t.TempDir()
	dataDir := filepath.Join(top, "data")
	dbFile := filepath.Join(dataDir, "casegraph.db")
	keyFile := filepath.Join(dataDir, "dev-signing-key.pem")
	env := childEnv("CASEGRAPH_DATA_DIR=" + dataDir)
	tokenArgs := []string{"token", "--subject", "s", "--agency", "police-tirane", "--role", "investigator"}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"token", tokenArgs, "no development signing key at " + keyFile},
		{"policy", []string{"policy", "history"}, "no CaseGraph database at " + dbFile},
		{"audit verify", []string{"audit", "verify"}, "no CaseGraph database at " + dbFile},
		{"audit export", []string{"audit", "export", "--since", "2026-01-01"}, "no CaseGraph database at " + dbFile},
		{"migrate --status", []string{"migrate", "--status"}, "no CaseGraph database at " + dbFile},
	} {
		t.Run("Refused/"+tc.name, func(t *testing.T) {
			r := mustRefuse(t, env, []string{tc.want, "CASEGRAPH_DATA_DIR"}, tc.args...)
			if strings.TrimSpace(r.stdout) != "" {
				t.Errorf("a refused command printed to stdout:\n%s", r)
			}
			for _, f := range []string{dbFile, keyFile} {
				if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a refused %s left %s behind (%v)", tc.name, f, err)
				}
			}
		})
	}

	t.Run("TokenWithDevelopmentTokensOff", func(t *testing.T) {
		off := childEnv("CASEGRAPH_DATA_DIR="+dataDir, "DATABASE_URL=postgres://nobody@127.0.0.1:1/none")
		mustRefuse(t, off, []string{"development tokens are off", "CASEGRAPH_DEV=1"}, tokenArgs...)
	})

	r := mustRun(t, env, "migrate")
	for _, want := range []string{"creating a new embedded database at " + dbFile, "created a new development signing key at " + keyFile} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the first migrate does not say %q:\n%s", want, r)
		}
	}
	r = mustRun(t, env, "seed", "--agencies")
	for _, want := range []string{"using the embedded database at " + dbFile, "using the development signing key at " + keyFile} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("seed does not say %q:\n%s", want, r)
		}
	}
	r = mustRun(t, env, tokenArgs...)
	if !strings.Contains(r.stderr, "signing with the development key at "+keyFile) {
		t.Errorf("token does not say which key it signed with:\n%s", r)
	}
	mustRun(t, env, "policy", "history")

	// A relative CASEGRAPH_DATA_DIR is named by its absolute path, which
	// shows the folder it was taken from.
	r = mustRefuse(t, childEnv("CASEGRAPH_DATA_DIR=data"), []string{"no development signing key at /"}, tokenArgs...)
	if strings.Contains(r.stderr, "at data/") {
		t.Errorf("the refusal names a relative path:\n%s", r)
	}
}

func TestE2EConfigRefusals(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	base := childEnv("CASEGRAPH_DATA_DIR="+dataDir, "CASEGRAPH_ADDR="+testserver.FreeAddr(t))
	with := func(vars ...string) []string { return append(append([]string{}, base...), vars...) }
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no command", base, nil, "Usage:"},
		{"unknown command", base, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"CASEGRAPH_DEV not a boolean", with("CASEGRAPH_DEV=maybe"), []string{"serve"}, "CASEGRAPH_DEV"},
		{"CASEGRAPH_RATE_LIMIT not a number", with("CASEGRAPH_RATE_LIMIT=lots"), []string{"serve"}, "CASEGRAPH_RATE_LIMIT"},
		// The whole value is read: "32MiB" was 32 bytes, "10k" 10.
		{"CASEGRAPH_MAX_UNSENT_BYTES not a number of bytes", with("CASEGRAPH_MAX_UNSENT_BYTES=32MiB"), []string{"serve"}, "CASEGRAPH_MAX_UNSENT_BYTES must be a positive number of bytes"},
		{"CASEGRAPH_MAX_CONNS with a suffix", with("CASEGRAPH_MAX_CONNS=10k"), []string{"serve"}, "CASEGRAPH_MAX_CONNS must be a positive number of connections"},
		{"CASEGRAPH_COST_LIMIT with a suffix", with("CASEGRAPH_COST_LIMIT=1m"), []string{"serve"}, "CASEGRAPH_COST_LIMIT must be a cost a minute"},
		{"CASEGRAPH_RATE_LIMIT with a unit", with("CASEGRAPH_RATE_LIMIT=1200/min"), []string{"serve"}, "CASEGRAPH_RATE_LIMIT must be a number"},
		{"CASEGRAPH_MAX_COST with a suffix", with("CASEGRAPH_MAX_COST=25k"), []string{"serve"}, "CASEGRAPH_MAX_COST must be a positive number"},
		{"CASEGRAPH_LOG_LEVEL unknown", with("CASEGRAPH_LOG_LEVEL=chatty"), []string{"serve"}, "CASEGRAPH_LOG_LEVEL"},
		{"DATABASE_URL not postgres", with("DATABASE_URL=mysql://x"), []string{"migrate"}, "DATABASE_URL"},
		{"dev tokens turned off on SQLite without OIDC", with("CASEGRAPH_DEV=0"), []string{"serve"}, "CASEGRAPH_OIDC_ISSUER"},
		// Development tokens never stand in for an identity provider.
		{"dev tokens beside OIDC", with("CASEGRAPH_DEV=1", "CASEGRAPH_OIDC_ISSUER=https://id.example", "CASEGRAPH_OIDC_AUDIENCE=casegraph"), []string{"serve"}, "take the identity provider's place"},
		{"seed needs a mode", base, []string{"seed"}, "--demo or --agencies"},
		{"seed --today not a date", base, []string{"seed", "--demo", "--today", "14/09/2026"}, "--today must be a date like"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustRefuse(t, tc.env, []string{tc.want}, tc.args...)
		})
	}
	if r := mustRun(t, base, "help"); !strings.Contains(r.stdout, "casegraph serve") {
		t.Errorf("help:\n%s", r)
	}
}

// TestE2EAddressInUse: serve on an address another program listens on
// says which variable chooses it, and how: `make run` on a machine where
// :8080 is taken said only "bind: address already in use" (a new user's
// run of README, 2026-12-07), and its metrics listener likewise.
func TestE2EAddressInUse(t *testing.T) {
	t.Parallel()
	taken := testserver.Loopback(t)
	defer taken.Close()
	env := childEnv("CASEGRAPH_DATA_DIR="+filepath.Join(t.TempDir(), "data"), "CASEGRAPH_ADDR="+taken.Addr().String())
	mustRefuse(t, env, []string{"address already in use", "set CASEGRAPH_ADDR to another address", "CASEGRAPH_ADDR=:8081 make run"}, "serve")
	env = childEnv("CASEGRAPH_DATA_DIR="+filepath.Join(t.TempDir(), "data"), "CASEGRAPH_ADDR=127.0.0.1:0", "CASEGRAPH_METRICS_ADDR="+taken.Addr().String())
	mustRefuse(t, env, []string{"address already in use", "set CASEGRAPH_METRICS_ADDR to another address"}, "serve")
	// Said before anything else is done: no database made, no demo
	// loaded first (make run loaded the demo, then said it).
	dataDir := filepath.Join(t.TempDir(), "data")
	env = childEnv("CASEGRAPH_DATA_DIR="+dataDir, "CASEGRAPH_ADDR="+taken.Addr().String())
	mustRefuse(t, env, []string{"set CASEGRAPH_ADDR to another address"}, "serve", "--seed-demo-if-empty")
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve on an address in use made %s before it said so (%v)", dataDir, err)
	}
}

// TestE2EHelp: --help and -h of every command and subcommand print its
// usage on stdout and exit 0, with nothing on stderr and nothing opened or
// created (they exited 2, and a group of commands took --help for an
// unknown command).
func TestE2EHelp(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	env := childEnv("CASEGRAPH_DATA_DIR=" + dataDir)
	for _, command := range []string{
		"serve", "migrate", "seed", "token",
		"policy", "policy matrix", "policy explain", "policy what-if", "policy history",
		"audit", "audit verify", "audit export", "report", "report annual", "victims", "victims age-conflicts",
		"documents", "documents add", "documents check",
	} {
		for _, help := range []string{"--help", "-h"} {
			args := append(strings.Fields(command), help)
			r := run(t, env, args...)
			if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "Usage:\n") || !strings.Contains(r.stdout, "\n  casegraph "+command+" ") {
				t.Errorf("want exit 0, the usage of %q on stdout and nothing on stderr:\n%s", command, r)
			}
		}
	}
	// Among other flags, too.
	if r := run(t, env, "token", "--subject", "s", "--help"); r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "-agency") {
		t.Errorf("want the flags of token:\n%s", r)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("asking for help created %s (%v)", dataDir, err)
	}
}

// TestE2EFlagErrorSaidOnce: a wrong flag is said once, on stderr, with
// where the flags are listed (the flag package printed it, then the usage,
// and main printed it again).
func TestE2EFlagErrorSaidOnce(t *testing.T) {
	t.Parallel()
	env := childEnv("CASEGRAPH_DATA_DIR=" + filepath.Join(t.TempDir(), "data"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		// README's anchor, its hash cut short.
		{[]string{"audit", "verify", "--anchor", "1234:9f86d08"}, `invalid value "1234:9f86d08" for flag -anchor`},
		{[]string{"token", "--subject", "s", "--admin"}, "flag provided but not defined: -admin"},
		{[]string{"report", "annual", "--year", "last"}, `invalid value "last" for flag -year`},
	} {
		r := mustRefuse(t, env, []string{tc.want, "--help lists its flags"}, tc.args...)
		if n := strings.Count(r.stderr, tc.want); n != 1 || r.code != 2 || r.stdout != "" || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("want exit 2 and one line on stderr, saying %q once (%d times):\n%s", tc.want, n, r)
		}
	}
}

// TestE2ETrustedDocuments: with CASEGRAPH_TRUSTED_DOCUMENTS naming a
// manifest made by `casegraph documents add`, `serve` says so and answers a
// registered document, and refuses any other (introspection included).
func TestE2ETrustedDocuments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := childEnv("CASEGRAPH_DATA_DIR=" + filepath.Join(dir, "data"))
	doc := filepath.Join(dir, "viewer.graphql")
	if err := os.WriteFile(doc, []byte("query Me { viewer { subject } }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "trusted.json")
	mustRun(t, env, "documents", "add", "--manifest", manifest, doc)
	mustRun(t, env, "seed", "--agencies")
	s := startServe(t, append(env, "CASEGRAPH_TRUSTED_DOCUMENTS="+manifest))
	if !strings.Contains(s.output(), "serving only trusted documents") {
		t.Errorf("serve does not say it serves only trusted documents:\n%s", s.output())
	}
	tok := token(t, env, "--subject", "s", "--agency", "police-tirane", "--role", "investigator")
	var me struct{ Viewer struct{ Subject string } }
	graphQL(t, s.base(), tok, "query Me { viewer { subject } }\n", &me)
	if me.Viewer.Subject != "s" {
		t.Errorf("the registered document answered %+v", me)
	}
	for _, other := range []string{`{ __schema { types { name } } }`, `{ cases(first: 1) { totalCount } }`} {
		r := testserver.Send(t, testserver.Post(t, s.base(), tok, other, nil))
		if codes := r.Codes(); len(codes) == 0 || strings.Contains(string(r.Body), `"types"`) || strings.Contains(string(r.Body), "totalCount\":") {
			t.Errorf("%s, not registered, was answered:\n%s", other, r.Body)
		}
	}
}
