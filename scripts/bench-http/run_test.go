package benchhttp_test

import (
	"bufio"
	"bytes"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
)

// TestRunPrintsOneTable runs run.sh for a few seconds on a small demo,
// on SQLite and on PostgreSQL, and reads its table: one row per arm and
// number of connections, in order, each with requests, no errors, the
// server's peak memory, its statements per request (the counter on
// /metrics) and the CPU a request of the server and of PostgreSQL. A
// second run reuses the seeded data instead of seeding again.
func TestRunPrintsOneTable(t *testing.T) {
	needTools(t)
	binary := buildServer(t)
	for _, database := range []string{"sqlite", "postgres"} {
		t.Run(database, func(t *testing.T) {
			localPostgres := false // whose processes' CPU the script can read
			env := []string{
				"CASEGRAPH=" + binary, "BENCH_DIR=" + t.TempDir(), "PORT=" + freePort(t),
				"DATABASES=" + database, "SCALE=1", "CONNECTIONS=1 2", "DURATION=1", "WARMUP=1",
			}
			if database == "postgres" {
				if _, err := exec.LookPath("psql"); err != nil {
					testdb.PostgresUnusable(t, "the benchmark script needs psql, which is not installed")
				}
				u, err := url.Parse(testdb.CreatePostgres(t))
				if err != nil {
					t.Fatal(err)
				}
				localPostgres = u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1"
				env = append(env, "POSTGRES_SERVER="+u.Scheme+"://"+u.User.String()+"@"+u.Host,
					"BENCH_DATABASE="+strings.TrimPrefix(u.Path, "/"))
			}
			table, log := runScript(t, env...)
			if !strings.Contains(log, "seeding") {
				t.Errorf("the first run did not seed:\n%s", log)
			}
			wantTable(t, table, database, localPostgres, []string{"nolegal", "refused", "allowed"}, []string{"1", "2"})

			// The second run on PostgreSQL adds the floor's rows (FLOOR=1).
			again, arms := append(env, "ARMS=nolegal", "CONNECTIONS=1"), []string{"nolegal"}
			if database == "postgres" {
				again, arms = append(again, "FLOOR=1", "FLOOR_PORT="+freePort(t)), append(arms, "floor")
			}
			table, log = runScript(t, again...)
			if !strings.Contains(log, "reusing") || strings.Contains(log, "seeding") {
				t.Errorf("the second run did not reuse the seeded data:\n%s", log)
			}
			wantTable(t, table, database, localPostgres, arms, []string{"1"})
		})
	}
}

// fakeServer is the casegraph of TestRunFailsWhenTheServerExits: every
// command is the real one's (REAL_CASEGRAPH), but serve runs the real
// server as its child and, once the test writes a line to EXIT_FIFO,
// kills it and exits with status 3, as a server that crashed would. It
// ends a second after its port closes, as a loaded machine once
// made it (CI, 2026-12-07): wrk fails first, and run.sh must still say
// how the server ended, not only that wrk failed.
const fakeServer = `#!/usr/bin/env bash
set -euo pipefail
[ "${1:-}" = serve ] || exec "$REAL_CASEGRAPH" "$@"
say() { echo "fake casegraph: $*" >&2; }
. "$SERVERS_SH"
"$REAL_CASEGRAPH" serve & server_started real $!
read -r _ <"$EXIT_FIFO"
if server_running real; then kill -KILL "${server_pid[real]}"; fi
wait || true
sleep 1
exit 3
`

// TestRunFailsWhenTheServerExits: a server that exits during the
// benchmark fails the run, which says how it ended (its exit status) and
// prints no table: the figures of a server that is gone, read from its
// pid's /proc files or from whatever process has that pid since, are not
// the server's. The server exits as the run's first measurement begins.
func TestRunFailsWhenTheServerExits(t *testing.T) {
	needTools(t)
	binary := buildServer(t)
	dir := t.TempDir()
	fifo, fake := filepath.Join(dir, "exit"), filepath.Join(dir, "casegraph")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, []byte(fakeServer), 0o755); err != nil {
		t.Fatal(err)
	}
	servers, err := filepath.Abs("../servers.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("./run.sh")
	cmd.Env = append(os.Environ(), "CASEGRAPH="+fake, "REAL_CASEGRAPH="+binary, "EXIT_FIFO="+fifo, "SERVERS_SH="+servers,
		"BENCH_DIR="+t.TempDir(), "PORT="+freePort(t), "DATABASES=sqlite", "ARMS=nolegal",
		"SCALE=1", "CONNECTIONS=1", "DURATION=1", "WARMUP=1")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	told := false
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		log.WriteString(lines.Text() + "\n")
		if !told && strings.Contains(lines.Text(), "sqlite nolegal: 1 connections") {
			// The fake server reads the FIFO since it started: it has
			// a reader, and the write does not block.
			f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
			if err == nil {
				_, err = f.WriteString("exit\n")
				f.Close()
			}
			if err != nil {
				t.Errorf("telling the fake server to exit: %v", err)
			}
			told = true
		}
	}
	err = cmd.Wait()
	if !told {
		t.Fatalf("run.sh never began a measurement (%v):\n%s", err, log.String())
	}
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
		t.Errorf("run.sh: %v, want exit status 1\n%s", err, log.String())
	}
	if stdout.Len() > 0 {
		t.Errorf("run.sh printed, with the server gone:\n%s", stdout.String())
	}
	if want := ") exited with status 3: no table"; !strings.Contains(log.String(), want) {
		t.Errorf("run.sh did not say the server exited with status 3 (%q):\n%s", want, log.String())
	}
}

// needTools skips the test where the benchmark script cannot run: with
// -short, or without wrk, jq or curl.
func needTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the benchmark script against a built server; skipped with -short")
	}
	for _, tool := range []string{"wrk", "jq", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: the benchmark script needs %s, which is not installed", tool)
		}
	}
}

const tableHeader = "| database | arm | connections | requests/s | p50 ms | p99 ms | errors | server RSS peak MiB | SQL statements/request | server CPU ms/request | PostgreSQL CPU ms/request |"

// wantTable checks the script's output: the table alone, its header, and
// one plausible row per arm and connections, arms first. localPostgres:
// the PostgreSQL server runs on this machine, so its CPU is in the table.
func wantTable(t *testing.T, out, database string, localPostgres bool, arms, connections []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2+len(arms)*len(connections) || lines[0] != tableHeader {
		t.Fatalf("want the header and %d rows, got:\n%s", len(arms)*len(connections), out)
	}
	i := 2
	for _, arm := range arms {
		for _, conns := range connections {
			cells := strings.Split(strings.Trim(lines[i], "| "), " | ")
			i++
			if len(cells) != 11 || cells[0] != database || cells[1] != arm || cells[2] != conns {
				t.Errorf("row %q, want %s %s %s and 11 cells", lines[i-1], database, arm, conns)
				continue
			}
			type cell struct{ name, value string }
			positive := []cell{{"requests/s", cells[3]}, {"p50", cells[4]}, {"RSS", cells[7]}, {"server CPU", cells[9]}}
			// Only CaseGraph counts its statements (on /metrics).
			if arm == "floor" {
				if cells[8] != "-" {
					t.Errorf("%s floor %s: statements/request = %q, want -", database, conns, cells[8])
				}
			} else {
				positive = append(positive, cell{"statements/request", cells[8]})
			}
			// PostgreSQL's CPU is its own processes', read where they run
			// on this machine; on SQLite the database is the server's.
			if localPostgres {
				positive = append(positive, cell{"PostgreSQL CPU", cells[10]})
			} else if cells[10] != "-" {
				t.Errorf("%s %s %s: PostgreSQL CPU = %q, want - (SQLite, or a PostgreSQL server elsewhere)", database, arm, conns, cells[10])
			}
			for _, c := range positive {
				if v, err := strconv.ParseFloat(c.value, 64); err != nil || v <= 0 {
					t.Errorf("%s %s %s: %s = %q, want a positive number", database, arm, conns, c.name, c.value)
				}
			}
			if cells[6] != "0" {
				t.Errorf("%s %s %s: %s errors, want 0 (wrong answers count as errors)", database, arm, conns, cells[6])
			}
		}
	}
}

// runScript runs run.sh with env added and returns its standard output
// (the table) and its standard error (what it did).
func runScript(t *testing.T, env ...string) (table, log string) {
	t.Helper()
	cmd := exec.Command("./run.sh")
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run.sh: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// buildServer builds ./cmd/casegraph into the test's temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	binary := filepath.Join(t.TempDir(), "casegraph")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/casegraph")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/casegraph: %v\n%s", err, out)
	}
	return binary
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	_, port, err := net.SplitHostPort(testserver.FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	return port
}
