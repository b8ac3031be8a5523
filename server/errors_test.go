package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// ---------------------------------------------------------------------------
// Errors that reveal nothing
// ---------------------------------------------------------------------------

func TestInternalErrorRevealsNothing(t *testing.T) {
	s, token := startAsPolice(t)
	// The agencies stay (authentication needs them); the victims' table goes,
	// so the victims resolver fails with a genuine SQL error.
	if _, err := s.DB.SQL.Exec(`DROP TABLE victims`); err != nil {
		t.Fatalf("dropping the victims table: %v", err)
	}
	req := post(t, s.URL, token, `{ victims(first: 1) { totalCount } }`, nil)
	r := send(t, req)
	if r.Status != http.StatusOK {
		t.Errorf("status %d, want 200 (a partial GraphQL response):\n%s", r.Status, r.Body)
	}
	noLeaks(t, r.Body)
	if len(r.Errors) != 1 {
		t.Fatalf("want one error:\n%s", r.Body)
	}
	e := r.Errors[0]
	if e.Code() != "INTERNAL" {
		t.Fatalf("code %q, want INTERNAL:\n%s", e.Code(), r.Body)
	}
	id := r.Header.Get("X-Request-Id")
	if !generatedID.MatchString(id) {
		t.Fatalf("X-Request-Id %q", id)
	}
	if got, _ := e.Extensions["requestId"].(string); got != id {
		t.Errorf("extensions.requestId %q, want the X-Request-Id header %q", got, id)
	}
	for k := range e.Extensions {
		if k != "code" && k != "requestId" {
			t.Errorf("INTERNAL error carries extensions.%s:\n%s", k, r.Body)
		}
	}
	if !strings.Contains(e.Message, id) {
		t.Errorf("message %q does not quote the request id", e.Message)
	}
	var raw []map[string]json.RawMessage
	_ = json.Unmarshal(r.Top["errors"], &raw)
	for k := range raw[0] {
		switch k {
		case "message", "path", "locations", "extensions":
		default:
			t.Errorf("INTERNAL error carries member %q:\n%s", k, r.Body)
		}
	}
	// The details are in the log, under the same request id.
	var logged bool
	for _, rec := range s.LogRecordsWith(t, "request_id", id) {
		if rec.Msg() == "internal error" && strings.Contains(rec.String("error"), "no such table") {
			logged = true
		}
	}
	if !logged {
		t.Errorf("the log lacks an internal error record with request id %s and the error's detail:\n%s", id, s.Logs())
	}
}

func TestDatabaseDown(t *testing.T) {
	s, token := startAsPolice(t)

	if r := send(t, get(t, s.URL, "/readyz")); r.Status != http.StatusOK {
		t.Fatalf("/readyz with a live database: status %d:\n%s", r.Status, r.Body)
	}
	if err := s.DB.SQL.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("readyz", func(t *testing.T) {
		r := send(t, get(t, s.URL, "/readyz"))
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503:\n%s", r.Status, r.Body)
		}
		noLeaks(t, r.Body)
	})
	t.Run("healthz", func(t *testing.T) {
		// Liveness does not depend on the database.
		if r := send(t, get(t, s.URL, "/healthz")); r.Status != http.StatusOK {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
	})
	t.Run("graphql", func(t *testing.T) {
		r := send(t, post(t, s.URL, token, `{ cases(first: 1) { totalCount } }`, nil))
		noLeaks(t, r.Body)
		if r.Status != http.StatusOK && r.Status != http.StatusServiceUnavailable {
			t.Errorf("status %d, want 200 or 503", r.Status)
		}
		if len(r.Errors) == 0 || (r.code(0) != "UNAVAILABLE" && r.code(0) != "INTERNAL") {
			t.Fatalf("want UNAVAILABLE or INTERNAL:\n%s", r.Body)
		}
		if strings.Contains(string(r.Top["data"]), "totalCount") {
			t.Errorf("data from a closed database:\n%s", r.Body)
		}
		id := r.Header.Get("X-Request-Id")
		if got, _ := r.Errors[0].Extensions["requestId"].(string); got != id {
			t.Errorf("BUG: with the database down, /graphql answers %d %s without extensions.requestId (got %q, X-Request-Id %q); "+
				"graph/errors.go puts requestId on every UNAVAILABLE/INTERNAL error but auth.Middleware's refusal does not: %s",
				r.Status, r.code(0), got, id, r.Body)
		}
	})
}
