//go:build unix

package main_test

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testserver"

	_ "modernc.org/sqlite"
)

func TestE2ESQLite(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	env := childEnv("CASEGRAPH_DATA_DIR=" + dataDir)

	seeded := seedDemo(t, env)
	if _, err := os.Stat(filepath.Join(dataDir, "casegraph.db")); err != nil {
		t.Fatalf("seed --demo did not create the embedded database under CASEGRAPH_DATA_DIR: %v", err)
	}
	mustRefuse(t, env, []string{"already has cases"}, "seed", "--demo")
	if r := mustRun(t, env, "migrate", "--status"); !strings.Contains(r.stdout, "0 pending migrations") {
		t.Errorf("migrate --status after seed:\n%s", r)
	}

	tok := token(t, env, "--subject", "e2e", "--agency", "police-tirane", "--role", "investigator")
	s := startServe(t, env)
	base := s.base()

	t.Run("graphql", func(t *testing.T) {
		checkCases(t, base, tok, "e2e", seeded)
	})

	t.Run("Go's collector defaults on SQLite", func(t *testing.T) {
		checkGCPercent(t, base, "100")
	})

	// A user who writes a policy line over GraphQL as the command line
	// takes it, one string, is told that a line is a list of its fields
	// (the refusal said "unknown policy type", naming the whole line).
	t.Run("graphql policy lines are lists of fields", func(t *testing.T) {
		admin := token(t, env, "--subject", "e2e-admin", "--agency", "onac", "--role", "admin")
		const line = "p, judge, court, Victim.phone, read, on_case"
		for _, doc := range []string{
			`query ($add: [[String!]!]) { policyWhatIf(add: $add) { role } }`,
			`mutation ($add: [[String!]!]) { changePolicy(add: $add, reason: "Courts summon victims by phone") { added } }`,
		} {
			r := testserver.Send(t, testserver.Post(t, base, admin, doc, map[string]any{"add": [][]string{{line}}}))
			if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" ||
				!strings.Contains(r.Errors[0].Message, "over GraphQL a line is a list of its fields") ||
				!strings.Contains(r.Errors[0].Message, `["p", "judge", "court", "Victim.phone", "read", "on_case"]`) {
				t.Errorf("%s with the line %q: want one BAD_USER_INPUT saying a line is a list of its fields:\n%s", doc, line, r.Body)
			}
		}
	})

	t.Run("graphql refuses no token", func(t *testing.T) {
		res, err := http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{ viewer { subject } }"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"UNAUTHENTICATED"`) {
			t.Fatalf("status %d:\n%s", res.StatusCode, body)
		}
	})

	t.Run("graphiql", func(t *testing.T) {
		status, h, body := httpGet(t, base, "/")
		if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /: status %d, Content-Type %q", status, h.Get("Content-Type"))
		}
		page := string(body)
		if !strings.Contains(page, `id="graphiql"`) || !strings.Contains(page, `data-endpoint="/graphql"`) {
			t.Errorf("GET / is not the GraphiQL page:\n%s", page)
		}
		if h.Get("Content-Security-Policy") == "" {
			t.Error("GraphiQL page without Content-Security-Policy")
		}
		// Every script comes from the binary itself, not a CDN.
		srcs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
		scripts := 0
		for _, m := range srcs {
			src := m[1]
			if strings.HasPrefix(src, "data:") {
				continue
			}
			if !strings.HasPrefix(src, "/graphiql/") {
				t.Errorf("the page loads %q from elsewhere than the binary", src)
				continue
			}
			status, _, asset := httpGet(t, base, src)
			if status != http.StatusOK || len(asset) == 0 {
				t.Errorf("GET %s: status %d, %d bytes", src, status, len(asset))
			}
			scripts++
		}
		if scripts < 4 {
			t.Errorf("the page links %d embedded assets, want the GraphiQL scripts and stylesheet", scripts)
		}
	})

	t.Run("healthz and readyz", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz"} {
			if status, _, body := httpGet(t, base, p); status != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
				t.Errorf("GET %s: status %d: %s", p, status, body)
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		status, _, body := httpGet(t, base, "/metrics")
		if status != http.StatusOK {
			t.Fatalf("GET /metrics: status %d", status)
		}
		for _, want := range []string{
			"casegraph_http_requests_total",
			`casegraph_http_requests_total{method="POST",route="/graphql",status="200"}`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})

	t.Run("logs are JSON and carry no victim names", func(t *testing.T) {
		// A prosecutor reads the names of the victims of their office's
		// proceedings; other victims' names are FORBIDDEN.
		prosecutor := token(t, env, "--subject", "e2e-prosecutor", "--agency", "prosecution-tirane", "--role", "prosecutor")
		var d struct {
			Victims struct {
				Edges []struct{ Node struct{ LegalName *string } }
			}
		}
		for _, code := range graphQLPartial(t, base, prosecutor, `{ victims(first: 50) { edges { node { legalName } } } }`, &d) {
			if code != "FORBIDDEN" {
				t.Fatalf("reading victims' names: error %s", code)
			}
		}
		names := 0
		for _, e := range d.Victims.Edges {
			if e.Node.LegalName == nil || *e.Node.LegalName == "" {
				continue
			}
			names++
			if out := s.stdout.String() + s.stderr.String(); strings.Contains(out, *e.Node.LegalName) {
				t.Errorf("the server's output holds victim name %q", *e.Node.LegalName)
			}
		}
		if names == 0 {
			t.Fatal("the demo victims have no legal names to look for")
		}
		lines := 0
		sc := bufio.NewScanner(strings.NewReader(s.stdout.String()))
		for sc.Scan() {
			var v map[string]any
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Errorf("stdout line is not JSON: %q", sc.Text())
			}
			lines++
		}
		if lines == 0 || !strings.Contains(s.stdout.String(), `"msg":"serving"`) {
			t.Errorf("no JSON log lines on stdout:\n%s", s.stdout)
		}
	})

	// A request in flight when SIGTERM arrives still completes, and the
	// process then exits 0.
	t.Run("graceful shutdown", func(t *testing.T) {
		f := testserver.StartInflight(t, s.addr, tok, `{ viewer { subject } cases(first: 1) { totalCount } }`)
		if err := s.signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		testserver.WaitRefused(t, s.addr, 10*time.Second)
		if s.exited(0) {
			t.Fatalf("serve %s with a request in flight", s.ended())
		}
		status, body := f.Finish(t)
		if status != http.StatusOK || !strings.Contains(string(body), `"subject":"e2e"`) {
			t.Fatalf("the in-flight request did not complete: status %d:\n%s", status, body)
		}
		if !s.exited(10 * time.Second) {
			t.Fatal("serve still running 10s after SIGTERM and its last request")
		}
		if code := s.exitCode(); code != 0 {
			t.Fatalf("serve %s; want exit 0 after SIGTERM", s.ended())
		}
	})
}

// A plain SIGTERM with nothing in flight: prompt exit 0. Also
// --seed-demo-if-empty fills an empty database.
func TestE2EServeSeedIfEmptyAndSIGTERM(t *testing.T) {
	t.Parallel()
	env := childEnv("CASEGRAPH_DATA_DIR=" + filepath.Join(t.TempDir(), "data"))
	s := startServe(t, env, "--seed-demo-if-empty")
	tok := token(t, env, "--subject", "e2e-2", "--agency", "police-tirane", "--role", "investigator")
	checkCases(t, s.base(), tok, "e2e-2", 1<<30)
	// The banner names the address it listens on.
	if !strings.Contains(s.stderr.String(), "http://"+s.addr+"/") {
		t.Errorf("the banner does not name http://%s/:\n%s", s.addr, s.stderr)
	}
	s.terminate(t, 5*time.Second)
}

// A server is ready when its own /readyz answers, not whatever answers on
// the address it was given: startServe gave serve a port free a moment
// before (testserver.FreeAddr) and polled that port, so a sibling test's
// server that took the port first answered for it, and the test ran
// against that server while its own exited (address already in use). Here
// a stand-in holds the address first and answers every request 200.
func TestE2EReadyIsTheServersOwn(t *testing.T) {
	t.Parallel()
	taken := testserver.Loopback(t)
	t.Cleanup(func() { _ = taken.Close() })
	go func() { _ = http.Serve(taken, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})) }()
	s := spawn(t, childEnv("CASEGRAPH_DATA_DIR="+filepath.Join(t.TempDir(), "data"), "CASEGRAPH_ADDR="+taken.Addr().String()), "serve")
	if err := s.waitReady(30 * time.Second); err == nil {
		t.Fatalf("casegraph serve, given an address another server holds, was taken for ready (%s):\n%s", s.ended(), s.output())
	}
	if s.exitCode() != 2 || !strings.Contains(s.stderr.String(), "address already in use") {
		t.Errorf("casegraph serve on an address another server holds: %s, want exit 2 saying the address is in use:\n%s", s.ended(), s.output())
	}
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

// A load of the demo data, by `make run`'s first start (serve
// --seed-demo-if-empty) or by seed --demo, keeps all of it or none: stopped
// part-way (Ctrl-C, a kill), it keeps nothing, so that the next start, or
// seed --demo again, loads the whole demo. It was written a year at a time:
// an interrupted load kept the years already committed, every later start
// served them as the whole demo, and seed --demo refused the database as
// one that already held cases.
func TestInterruptedDemoLoadKeepsNothing(t *testing.T) {
	t.Parallel()
	// The whole demo, and how long loading it takes on this machine now.
	whole := spawn(t, childEnv("CASEGRAPH_DATA_DIR="+filepath.Join(t.TempDir(), "whole")), "seed", "--demo")
	whole.waitUntil(t, "began loading the demo", seedBegan)
	began := time.Now()
	<-whole.done
	took := time.Since(began)
	m := demoLoaded.FindStringSubmatch(whole.stdout.String())
	if m == nil {
		t.Fatalf("seed --demo does not say what it loaded:\n%s", whole.output())
	}
	want, _ := strconv.Atoi(m[2])

	for _, load := range []struct {
		args []string
		// began reports whether the command said it is loading the demo.
		began func(*serving) bool
		// again runs the command again, after the interrupted load.
		again func(t *testing.T, env []string)
	}{{
		args:  []string{"serve", "--seed-demo-if-empty"},
		began: func(s *serving) bool { return strings.Contains(s.stdout.String(), "loading demo data") }, // its log
		again: func(t *testing.T, env []string) {
			startServe(t, env, "--seed-demo-if-empty").terminate(t, 10*time.Second)
		},
	}, {
		args:  []string{"seed", "--demo"},
		began: seedBegan,
		again: func(t *testing.T, env []string) { seedDemo(t, env) },
	}} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
			t.Run(strings.Join(load.args, " ")+"/"+sig.String(), func(t *testing.T) {
				// Stopped at points along the load, from half its time to
				// none, until two stops came before it ended.
				var env []string
				var dataDir string
				stopped := 0
				for _, part := range []float64{0.5, 0.25, 0.12, 0.06, 0} {
					if stopped == 2 {
						break
					}
					dir := filepath.Join(t.TempDir(), "data")
					e := childEnv("CASEGRAPH_DATA_DIR=" + dir)
					if load.args[0] == "serve" {
						e = append(e, anyPort)
					}
					s := spawn(t, e, load.args...)
					s.waitUntil(t, "began loading the demo", load.began)
					time.Sleep(time.Duration(part * float64(took)))
					_ = s.signal(sig)
					<-s.done
					after := time.Duration(part * float64(took))
					got := countCases(t, dir)
					t.Logf("stopped (%v) %v after it began loading: %d of the demo's %d cases", sig, after, got, want)
					switch {
					case got == want:
						continue // the load ended first
					case got != 0:
						t.Fatalf("stopped (%v) %v after it began loading, %s kept %d of the demo's %d cases",
							sig, after, strings.Join(load.args, " "), got, want)
					}
					stopped++
					env, dataDir = e, dir
					if sig == syscall.SIGINT && !strings.Contains(s.stderr.String(), "interrupted and none of it was kept") {
						t.Errorf("stopped by Ctrl-C, %s does not say it kept none of the demo:\n%s", strings.Join(load.args, " "), s.output())
					}
				}
				if stopped == 0 {
					t.Fatalf("every load of the demo ended before it was stopped (a whole load took %v)", took)
				}
				load.again(t, env)
				if got := countCases(t, dataDir); got != want {
					t.Errorf("after an interrupted load and %s again, the database holds %d cases, the demo %d",
						strings.Join(load.args, " "), got, want)
				}
			})
		}
	}
}

// seedBegan reports whether seed --demo said it is loading the demo.
func seedBegan(s *serving) bool { return strings.Contains(s.stderr.String(), "loading the demo data") }

// countCases counts the cases stored in the embedded database of dataDir,
// read-only, beside a command that may be writing it.
func countCases(t *testing.T, dataDir string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "casegraph.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM case_files").Scan(&n); err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return 0
		}
		t.Fatal(err)
	}
	return n
}
