package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// GraphQL over HTTP GET
// ---------------------------------------------------------------------------

func TestGraphQLOverGET(t *testing.T) {
	s, token := startAsPolice(t)

	getQuery := func(t *testing.T, q url.Values, token string) *reply {
		t.Helper()
		req := get(t, s.URL, "/graphql?"+q.Encode())
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return send(t, req)
	}

	t.Run("query", func(t *testing.T) {
		r := getQuery(t, url.Values{"query": {`{viewer{subject}}`}}, token)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
		if !strings.Contains(string(r.Body), `"subject":"test-investigator@police-tirane"`) {
			t.Fatalf("unexpected body:\n%s", r.Body)
		}
	})

	t.Run("query with variables", func(t *testing.T) {
		r := getQuery(t, url.Values{
			"query":     {`query($n: Int){ cases(first: $n){ totalCount } }`},
			"variables": {`{"n": 1}`},
		}, token)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
	})

	// Too many parameters is said so, not called a bad encoding.
	t.Run("too many parameters", func(t *testing.T) {
		req := get(t, s.URL, "/graphql?query=%7Bviewer%7Bsubject%7D%7D"+strings.Repeat("&a=1", 10_000))
		req.Header.Set("Authorization", "Bearer "+token)
		r := send(t, req)
		if r.Status != http.StatusBadRequest || len(r.Errors) != 1 || r.code(0) != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "10001 parameters") {
			t.Errorf("status %d:\n%.300s", r.Status, r.Body)
		}
	})

	t.Run("needs a token", func(t *testing.T) {
		r := getQuery(t, url.Values{"query": {`{viewer{subject}}`}}, "")
		if r.Status != http.StatusUnauthorized || r.code(0) != "UNAUTHENTICATED" {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
	})

	// The mutation works over POST, so its refusal over GET is about the
	// method and nothing else.
	var agencyID string
	{
		r := send(t, post(t, s.URL, token, `{ agencies(where: {code: "police-tirane"}) { edges { node { id } } } }`, nil))
		var data struct {
			Agencies struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		if r.Status != http.StatusOK || len(r.Errors) > 0 || json.Unmarshal(r.Top["data"], &data) != nil || len(data.Agencies.Edges) != 1 {
			t.Fatalf("looking up the agency: status %d:\n%s", r.Status, r.Body)
		}
		agencyID = data.Agencies.Edges[0].Node.ID
	}
	openCase := func(ref string) string {
		return fmt.Sprintf(`mutation { openCase(input: {reference: %q, title: "Opened by the GET test", region: TIRANE, leadAgencyID: %q}) { id reference } }`, ref, agencyID)
	}
	caseExists := func(t *testing.T, ref string) bool {
		t.Helper()
		ok, err := s.DB.Client.CaseFile.Query().Where(casefile.Reference(ref)).Exist(viewer.SystemContext(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	t.Run("mutation over POST works", func(t *testing.T) {
		r := send(t, post(t, s.URL, token, openCase("GET-TEST-POST"), nil))
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
		if !caseExists(t, "GET-TEST-POST") {
			t.Fatal("openCase over POST created nothing")
		}
	})

	for _, tc := range []struct {
		name string
		q    url.Values
		ref  string
	}{
		{"mutation is refused", url.Values{"query": {openCase("GET-TEST-1")}}, "GET-TEST-1"},
		{"mutation picked by operationName is refused", url.Values{
			"query":         {`query Q { viewer { subject } } ` + strings.Replace(openCase("GET-TEST-2"), "mutation {", "mutation M {", 1)},
			"operationName": {"M"},
		}, "GET-TEST-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := getQuery(t, tc.q, token)
			if r.Status < 400 || r.Status >= 500 {
				t.Errorf("status %d, want a 4xx refusal:\n%s", r.Status, r.Body)
			}
			if caseExists(t, tc.ref) {
				t.Fatalf("a mutation sent with GET was executed (case %s exists):\n%s", tc.ref, r.Body)
			}
			if _, ok := r.Top["data"]; ok && string(r.Top["data"]) != "null" {
				t.Errorf("refused GET mutation returned data:\n%s", r.Body)
			}
			if len(r.Errors) == 0 {
				t.Fatalf("no error in the refusal:\n%s", r.Body)
			}
			if r.code(0) == "" {
				t.Errorf("BUG: a mutation over GET is refused (status %d) but the error has no extensions.code (docs/design.md, decision 7): %s", r.Status, r.Body)
			}
			if r.code(0) != "BAD_USER_INPUT" {
				t.Errorf("code %q, want BAD_USER_INPUT", r.code(0))
			}
		})
	}
}
