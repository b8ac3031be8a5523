//go:build unix

package main_test

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testserver"
)

// CASEGRAPH_METRICS_ADDR moves /metrics off the main address and
// CASEGRAPH_METRICS_TOKEN closes it: `casegraph serve` wires both. And
// CASEGRAPH_MAX_UNSENT_BYTES, which /metrics shows.
func TestE2EMetricsAddressAndToken(t *testing.T) {
	t.Parallel()
	const metricsToken = "e2e-scrape-token"
	// A port the kernel picks, which serve logs (as for its main address:
	// anyPort).
	env := childEnv("CASEGRAPH_DATA_DIR="+filepath.Join(t.TempDir(), "data"),
		"CASEGRAPH_METRICS_ADDR=127.0.0.1:0", "CASEGRAPH_METRICS_TOKEN="+metricsToken, "CASEGRAPH_MAX_UNSENT_BYTES=20000000")
	s := startServe(t, env)
	logged, ok := s.logged("serving /metrics")
	metricsAddr := logged.String("addr")
	if !ok || metricsAddr == "" {
		t.Fatalf("serve does not log where it serves /metrics:\n%s", s.stdout)
	}

	if status, _, body := httpGet(t, s.base(), "/metrics"); status != http.StatusNotFound || strings.Contains(string(body), "go_goroutines") {
		t.Errorf("/metrics on CASEGRAPH_ADDR: status %d, want 404", status)
	}
	scrape := func(token string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, "http://"+metricsAddr+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatalf("GET /metrics on CASEGRAPH_METRICS_ADDR: %v", err)
		}
		defer res.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, res.Body)
		return res.StatusCode, b.String()
	}
	if status, body := scrape(""); status != http.StatusUnauthorized || strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics without the token: status %d, want 401", status)
	}
	status, body := scrape(metricsToken)
	if status != http.StatusOK || !strings.Contains(body, `route="/readyz"`) {
		t.Errorf("/metrics with the token: status %d:\n%.500s", status, body)
	}
	if !strings.Contains(body, "\ncasegraph_graphql_unsent_answer_bytes_limit 2e+07\n") {
		t.Errorf("/metrics does not show CASEGRAPH_MAX_UNSENT_BYTES=20000000 as the budget of answers not yet sent:\n%s", body)
	}
	s.terminate(t, 10*time.Second)
}

func TestE2EMetricsAddressRefused(t *testing.T) {
	t.Parallel()
	env := childEnv("CASEGRAPH_DATA_DIR="+filepath.Join(t.TempDir(), "data"),
		"CASEGRAPH_ADDR="+testserver.FreeAddr(t), "CASEGRAPH_METRICS_ADDR=not-an-address")
	mustRefuse(t, env, []string{"CASEGRAPH_METRICS_ADDR"}, "serve")
}
