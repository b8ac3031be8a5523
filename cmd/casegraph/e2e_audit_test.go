//go:build unix

package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// A request held in flight
// ---------------------------------------------------------------------------

// TestE2EAuditTwoServers runs two `casegraph serve` processes on one
// PostgreSQL database, reads victims' identity through both at once, and
// checks with `casegraph audit verify` and `audit export` that their events
// make one unbroken chain holding every request.
func TestE2EAuditTwoServers(t *testing.T) {
	t.Parallel()
	env, dev := postgresEnv(t)
	mustRun(t, dev, "migrate") // in development mode, it makes the signing key
	seedDemo(t, env)
	// Both servers sign and accept tokens with the key in the shared data
	// directory.
	tok := token(t, dev, "--subject", "e2e-audit", "--agency", "prosecution-general", "--role", "prosecutor")
	servers := []*serving{startServe(t, dev), startServe(t, dev)}

	const perServer, workers = 12, 4
	const query = `{ cases(first: 20) { edges { node { victims(first: 5) { edges { node { pseudonym legalName healthNotes } } } } } } }`
	var wg sync.WaitGroup
	failures := make(chan string, 2*perServer)
	for _, s := range servers {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < perServer; i += workers {
					if err := postQuery(s.base(), tok, query); err != nil {
						failures <- err.Error()
					}
				}
			}()
		}
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	for _, s := range servers {
		s.terminate(t, 10*time.Second)
	}

	r := mustRun(t, env, "audit", "verify")
	m := regexp.MustCompile(`^OK: (\d+) events verify`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("audit verify:\n%s", r)
	}
	verified, _ := strconv.Atoi(m[1])
	export := mustRun(t, env, "audit", "export", "--since", "2000-01-01", "--format", "jsonl")
	lines := strings.Split(strings.TrimSpace(export.stdout), "\n")
	requests := map[string]bool{}
	for i, l := range lines {
		var ev struct {
			Seq       int
			RequestID string
			Kind      string
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("export line %d: %v\n%s", i+1, err, l)
		}
		if ev.Seq != i+1 {
			t.Fatalf("export line %d has seq %d: the chain has a gap or is out of order", i+1, ev.Seq)
		}
		if ev.Kind == "FIELD_ACCESS" {
			requests[ev.RequestID] = true
		}
	}
	if len(lines) != verified || verified == 0 {
		t.Errorf("export holds %d events, verify checked %d", len(lines), verified)
	}
	if len(requests) != 2*perServer {
		t.Errorf("%d requests left field events, want %d (one record per request, from both servers)", len(requests), 2*perServer)
	}
}

// postQuery posts query with token and wants a 200 with data; safe to call
// from several goroutines (it reports instead of failing the test).
func postQuery(base, token, query string) error {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !bytes.Contains(raw, []byte(`"cases":{"edges":[{`)) || bytes.Contains(raw, []byte("AUDIT_UNAVAILABLE")) {
		return fmt.Errorf("POST %s/graphql: status %d: %.500s", base, res.StatusCode, raw)
	}
	return nil
}
