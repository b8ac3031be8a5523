//go:build unix

package main_test

import (
	"database/sql"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// countCases counts the cases stored in the embedded database of dataDir,
// read-only, beside a server that may be writing it.
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

// TestHuntInterruptedDemoSeedIsCompletedOnRestart: `make run` (serve
// --seed-demo-if-empty) "loads the demo data on first start", and the
// demo is "five whole years of synthetic cases, and the current year up
// to the day before --today" (README). The load writes one transaction a
// year, and the next start skips it whenever any case exists: a first
// start interrupted while loading (Ctrl-C, a kill) leaves some years
// stored, and every later start serves that part of the demo as if it
// were the whole, with no word said and no way out but deleting the
// database by hand.
func TestHuntInterruptedDemoSeedIsCompletedOnRestart(t *testing.T) {
	t.Parallel()
	// What the demo is, today: the same seed and day make the same data.
	full := childEnv("CASEGRAPH_DATA_DIR=" + filepath.Join(t.TempDir(), "full"))
	r := mustRun(t, full, "seed", "--demo")
	m := regexp.MustCompile(`demo data loaded: \d+ agencies, (\d+) cases`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("seed --demo does not say what it loaded:\n%s", r)
	}
	want, _ := strconv.Atoi(m[1])

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			env := childEnv("CASEGRAPH_DATA_DIR=" + dataDir)
			// The first start, stopped once some of the demo is stored and
			// before all of it is.
			var stoppedAt int
			for attempt := 0; attempt < 20 && stoppedAt == 0; attempt++ {
				dataDir = filepath.Join(t.TempDir(), "data")
				env = childEnv("CASEGRAPH_DATA_DIR=" + dataDir)
				s := spawnServe(t, env, "--seed-demo-if-empty")
				deadline := time.Now().Add(30 * time.Second)
				for time.Now().Before(deadline) && !s.exited(0) {
					if strings.Contains(s.stdout.String(), "loading demo data") {
						if n := countCases(t, dataDir); n > 0 {
							_ = s.cmd.Process.Signal(sig)
							<-s.done
							if got := countCases(t, dataDir); got > 0 && got < want {
								stoppedAt = got
							}
							break
						}
					}
					time.Sleep(2 * time.Millisecond)
				}
				if !s.exited(0) {
					_ = s.cmd.Process.Kill()
					<-s.done
				}
			}
			if stoppedAt == 0 {
				t.Skip("could not stop the first start while it was loading the demo")
			}
			t.Logf("the first start was stopped (%v) with %d of the demo's %d cases stored", sig, stoppedAt, want)

			// `make run` again.
			s := startServe(t, env, "--seed-demo-if-empty")
			s.terminate(t, 10*time.Second)
			if got := countCases(t, dataDir); got != want {
				t.Errorf("after the second start the database holds %d cases, the demo %d: the interrupted load is served as the whole demo", got, want)
			}
		})
	}
}
