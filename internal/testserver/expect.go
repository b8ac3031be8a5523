package testserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/testdb"
)

// Ask sends one operation with token, as Do does, and checks what every
// answer must satisfy (see CheckClean); an answer that fails it shows the
// server's log of the request.
func (s *Server) Ask(tb testing.TB, token, query string, vars map[string]any) *Response {
	tb.Helper()
	r := s.Do(tb, token, query, vars)
	if !CheckClean(tb, r) {
		for _, e := range r.Errors {
			if id, _ := e.Extensions["requestId"].(string); id != "" {
				tb.Logf("server log of the request (for diagnosis only):\n%s", s.LogOfRequest(id))
			}
		}
	}
	return r
}

// CheckClean fails the test when r shows a server error: a status of 500 or
// more, a stack trace or source location in the body, or an error without
// a client code. It reports whether r was clean.
func CheckClean(tb testing.TB, r *Response) bool {
	tb.Helper()
	clean := true
	if r.Status >= 500 {
		tb.Errorf("status %d:\n%s", r.Status, r.Body)
		clean = false
	}
	for _, leak := range []string{"goroutine", ".go:"} {
		if bytes.Contains(r.Body, []byte(leak)) {
			tb.Errorf("response body contains %q:\n%s", leak, r.Body)
			clean = false
		}
	}
	for _, e := range r.Errors {
		if c := e.Code(); c == "" || c == "INTERNAL" {
			tb.Errorf("error with code %q:\n%s", c, r.Body)
			clean = false
		}
	}
	return clean
}

// Data decodes the response's data into a T.
func Data[T any](tb testing.TB, r *Response) T {
	tb.Helper()
	var v T
	r.Decode(tb, &v)
	return v
}

// Call runs an operation as p that must succeed with status 200 and
// returns its one top-level field decoded into T.
func Call[T any](tb testing.TB, s *Server, p Principal, query string, vars map[string]any) T {
	tb.Helper()
	r := s.Ask(tb, p.Token, query, vars).MustOK(tb)
	var data map[string]json.RawMessage
	r.Decode(tb, &data)
	if len(data) != 1 {
		tb.Fatalf("want one top-level field, got:\n%s", r.Body)
	}
	var out T
	for _, raw := range data {
		if err := json.Unmarshal(raw, &out); err != nil {
			tb.Fatalf("decoding %s: %v", raw, err)
		}
	}
	return out
}

// Want is the refusal a test expects.
type Want struct {
	Code  string
	Field string // extensions.field; "" when not checked
	// Validation marks a refusal by GraphQL validation or variable
	// coercion, before any resolver runs.
	Validation bool
}

// WantRefusal checks that r is exactly one error as w says and no data
// (null, or an object of nulls), and returns the error.
func WantRefusal(tb testing.TB, r *Response, w Want) Error {
	tb.Helper()
	if len(r.Errors) != 1 {
		tb.Fatalf("want exactly one %s error, got status %d:\n%s", w.Code, r.Status, r.Body)
	}
	e := r.Errors[0]
	if e.Code() != w.Code {
		tb.Errorf("extensions.code = %q, want %q:\n%s", e.Code(), w.Code, r.Body)
	}
	if w.Field != "" {
		if f := e.Field(); f != w.Field {
			tb.Errorf("extensions.field = %q, want %q:\n%s", f, w.Field, r.Body)
		}
	}
	if !NullData(r.Data) {
		tb.Errorf("a refused operation returned data: %s", r.Data)
	}
	return e
}

// NullData reports whether data is null or an object of nulls.
func NullData(data json.RawMessage) bool {
	if len(data) == 0 || string(data) == "null" {
		return true
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return false
	}
	for _, v := range m {
		if v != nil {
			return false
		}
	}
	return true
}

// WantCodes checks that r's errors carry exactly codes, in order.
func WantCodes(tb testing.TB, r *Response, codes ...string) {
	tb.Helper()
	if got := r.Codes(); !slices.Equal(got, codes) {
		tb.Errorf("error codes = %q, want %q:\n%s", got, codes, r.Body)
	}
}

// ErrorSet renders each error of r as "CODE field path", sorted.
func ErrorSet(r *Response) []string {
	out := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		out[i] = strings.TrimSpace(fmt.Sprintf("%s %s %s", e.Code(), e.Field(), PathString(e.Path)))
	}
	slices.Sort(out)
	return out
}

// PathString renders an error's path as dotted text.
func PathString(p []any) string {
	parts := make([]string, len(p))
	for i, v := range p {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ".")
}

// WantErrors checks that r carries exactly the errors want (rendered as
// ErrorSet renders them), in any order.
func WantErrors(tb testing.TB, r *Response, want ...string) {
	tb.Helper()
	want = slices.Clone(want)
	slices.Sort(want)
	if got := ErrorSet(r); !slices.Equal(got, want) {
		tb.Errorf("errors:\n got %q\nwant %q\n%s", got, want, r.Body)
	}
}

// RowChanges describes how the row counts of every table moved from
// before to after ("" when none did).
func RowChanges(before, after map[string]int) string {
	var diffs []string
	for table, n := range before {
		if after[table] != n {
			diffs = append(diffs, fmt.Sprintf("%s %d → %d", table, n, after[table]))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, ", ")
}

// WantUnchanged fails the test when a table of c gained or lost rows since
// before (testdb.RowCounts).
func WantUnchanged(tb testing.TB, c *ent.Client, before map[string]int) {
	tb.Helper()
	if diff := RowChanges(before, testdb.RowCounts(tb, c)); diff != "" {
		tb.Errorf("a refused request changed the database: %s", diff)
	}
}
