package server_test

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/viewer"
)

// GraphQL over HTTP, as graphql/overhttp.go states it: statuses, media
// types, codes and the absence of "data" on a request error. `make
// conformance` runs graphql-http's audits on top of these.

const (
	jsonType     = "application/json"
	responseType = "application/graphql-response+json"
)

// raw sends body to /graphql with the given method, Content-Type and Accept
// ("" sends none) and the token.
func raw(t *testing.T, base, token, method, contentType, accept, body string) *reply {
	t.Helper()
	req, err := http.NewRequest(method, base+"/graphql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, req)
}

// mediaType is the response's Content-Type without parameters.
func (r *reply) mediaType() string {
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.TrimSpace(mt)
}

func TestGraphQLOverHTTP(t *testing.T) {
	s, token := startAsPolice(t)

	t.Run("OK", func(t *testing.T) {
		for _, tc := range []struct{ accept, want string }{
			{"", jsonType},
			{jsonType, jsonType},
			{"*/*", jsonType},
			{responseType, responseType},
			{responseType + ", application/json;q=0.9", responseType},
			{"application/json;q=0.5, " + responseType, responseType},
			{responseType + ";q=0.2, application/json", jsonType},
			// Neither media type: the legacy default every client reads.
			{"text/html", jsonType},
		} {
			t.Run("Accept "+tc.accept, func(t *testing.T) {
				r := raw(t, s.URL, token, http.MethodPost, "application/json; charset=utf-8", tc.accept, `{"query": "{ viewer { subject } }"}`)
				if r.Status != http.StatusOK || len(r.Errors) > 0 {
					t.Fatalf("status %d:\n%s", r.Status, r.Body)
				}
				if r.mediaType() != tc.want {
					t.Errorf("Content-Type %q, want %s", r.Header.Get("Content-Type"), tc.want)
				}
				if !strings.Contains(string(r.Top["data"]), `"subject":"test-investigator@police-tirane"`) {
					t.Errorf("data %s", r.Top["data"])
				}
			})
		}
	})

	// A request error: the document is wrong, the HTTP request is not.
	// With application/json that is 200; with the GraphQL response type a
	// 400; neither has "data".
	// The message says what is wrong (want, when given).
	for _, tc := range []struct{ name, body, want string }{
		{"ErrDocumentParse", `{"query": "{"}`, ""},
		{"ErrDocumentValidation", `{"query": "{ noSuchField }"}`, ""},
		{"ErrVariableCoercion", `{"query": "query ($id: ID!) { node(id: $id) { id } }", "variables": {"id": null}}`, ""},
		{"ErrUnknownOperationName", `{"query": "query A { viewer { subject } }", "operationName": "B"}`, `The document has no operation named \"B\".`},
		{"ErrNoOperationName", `{"query": "query A { viewer { subject } } query B { viewer { subject } }"}`, "The document has 2 operations: name the one to run in operationName."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, accept := range []struct {
				mediaType string
				status    int
			}{{jsonType, http.StatusOK}, {responseType, http.StatusBadRequest}} {
				r := raw(t, s.URL, token, http.MethodPost, jsonType, accept.mediaType, tc.body)
				if r.Status != accept.status {
					t.Errorf("Accept %s: status %d, want %d:\n%s", accept.mediaType, r.Status, accept.status, r.Body)
				}
				if r.mediaType() != accept.mediaType {
					t.Errorf("Accept %s: Content-Type %q", accept.mediaType, r.Header.Get("Content-Type"))
				}
				if _, ok := r.Top["data"]; ok {
					t.Errorf("Accept %s: a request error carries a data member:\n%s", accept.mediaType, r.Body)
				}
				if len(r.Errors) == 0 || r.code(0) != "BAD_USER_INPUT" || !strings.Contains(string(r.Body), tc.want) {
					t.Errorf("Accept %s: want BAD_USER_INPUT %s:\n%s", accept.mediaType, tc.want, r.Body)
				}
			}
		})
	}

	// A request that is not a GraphQL-over-HTTP request at all: 400 with
	// BAD_USER_INPUT whatever the Accept, a message that says what to send,
	// and nothing of the body echoed.
	for _, tc := range []struct{ name, body, mentions string }{
		{"ErrQueryMisspelt", `{"qeury": "{ viewer { subject } }"}`, `"qeury"`},
		{"ErrQueryMissing", `{"variables": {}}`, "no query"},
		{"ErrQueryNull", `{"query": null}`, "no query"},
		{"ErrQueryNumber", `{"query": 1}`, "query must be a string"},
		{"ErrQueryObject", `{"query": {"obj": "ect"}}`, "query must be a string"},
		{"ErrQueryArray", `{"query": ["{ viewer { subject } }"]}`, "query must be a string"},
		{"ErrQueryBoolean", `{"query": false}`, "query must be a string"},
		{"ErrOperationNameNumber", `{"query": "{ viewer { subject } }", "operationName": 1}`, "operationName"},
		{"ErrVariablesString", `{"query": "{ viewer { subject } }", "variables": "{}"}`, "variables"},
		{"ErrVariablesArray", `{"query": "{ viewer { subject } }", "variables": []}`, "variables"},
		{"ErrExtensionsNumber", `{"query": "{ viewer { subject } }", "extensions": 0}`, "extensions"},
		{"ErrBodyEmpty", ``, "empty"},
		{"ErrBodyNotJSON", `{ "not a JSON`, "not valid JSON"},
		{"ErrBodyArray", `[{"query": "{ viewer { subject } }"}]`, "not a JSON object"},
		{"ErrBodyString", `"{ viewer { subject } }"`, "not a JSON object"},
		{"ErrBodyNull", `null`, "not a JSON object"},
		{"ErrBodyTwoValues", `{"query": "{ viewer { subject } }"} {"query": "{ viewer { subject } }"}`, "more than one"},
		// A name twice in one object: Go's decoder kept the last, a
		// gateway before the server may read the first (a review).
		{"ErrQueryTwice", `{"query": "{ __typename }", "query": "{ viewer { subject } }"}`, `"query" twice`},
		{"ErrQueryTwiceEscaped", `{"query": "{ __typename }", "\u0071uery": "{ viewer { subject } }"}`, `"query" twice`},
		{"ErrVariableTwice", `{"query": "{ viewer { subject } }", "variables": {"a": 1, "a": 2}}`, `"a" twice`},
		{"ErrNameTwiceAsDecoded", "{\"query\": \"{ viewer { subject } }\", \"variables\": {\"\xff\": 1, \"\xfe\": 2}}", "twice"},
		{"ErrNameTwiceDeep", `{"query": "{ viewer { subject } }", "variables": {"x": [{"k": 1}, {"k": 1, "k": 2}]}}`, `"k" twice`},
		// Names that differ only in case are one name to a reader that
		// decodes into a structure (Go's encoding/json matches a field's
		// name without regard to case, Unicode's folding included, and
		// keeps the last): the server ran "query", such a gateway judged
		// "Query" (a review, twenty-fifth session).
		{"ErrQueryTwiceInAnotherCase", `{"query": "mutation { __typename }", "Query": "{ viewer { subject } }"}`, `"query" twice`},
		{"ErrQueryTwiceInCapitals", `{"QUERY": "{ viewer { subject } }", "query": "{ __typename }"}`, `twice`},
		{"ErrVariablesTwiceFolded", "{\"query\": \"{ viewer { subject } }\", \"variables\": {}, \"variable\u017f\": {}}", `"variables" twice`},
		{"ErrNameTwiceKelvin", "{\"query\": \"{ viewer { subject } }\", \"variables\": {\"k\": 1, \"\u212a\": 2}}", `twice`},
		{"ErrPersistedQueryHashTwiceInAnotherCase", `{"query": "{ viewer { subject } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "a", "SHA256Hash": "b"}}}`, `"sha256Hash" twice`},
		// Counted before decoding: 250,000 empty objects were 41 MiB of
		// maps for one request of 750 KB.
		{"ErrVariablesTooManyItems", `{"query": "{ viewer { subject } }", "variables": {"x": [` + strings.Repeat(`{},`, 20_000) + `{}]}}`, "more than 10000 items"},
		{"ErrBodyTooManyItems", `{"query": "{ viewer { subject } }", ` + strings.Repeat(`"x": 1, `, 20_000) + `"y": 1}`, "more than 10000 items"},
		{"ErrVariablesTooDeep", `{"query": "{ viewer { subject } }", "variables": {"x": ` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}}`, "deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, accept := range []string{jsonType, responseType} {
				r := raw(t, s.URL, token, http.MethodPost, jsonType, accept, tc.body)
				if r.Status != http.StatusBadRequest {
					t.Errorf("Accept %s: status %d, want 400:\n%s", accept, r.Status, r.Body)
				}
				if _, ok := r.Top["data"]; ok {
					t.Errorf("Accept %s: a refused request carries a data member:\n%s", accept, r.Body)
				}
				if len(r.Errors) != 1 || r.code(0) != "BAD_USER_INPUT" {
					t.Fatalf("Accept %s: want one BAD_USER_INPUT:\n%s", accept, r.Body)
				}
				if !strings.Contains(r.Errors[0].Message, tc.mentions) {
					t.Errorf("message %q does not mention %s", r.Errors[0].Message, tc.mentions)
				}
				if strings.Contains(r.Errors[0].Message, "viewer") {
					t.Errorf("message echoes the body: %q", r.Errors[0].Message)
				}
			}
		})
	}

	// Within the bounds, a long list of ids in the variables is read
	// (strings holding the characters that count are not counted).
	t.Run("OKVariablesOfThousandsOfItems", func(t *testing.T) {
		ids := strings.Repeat(`"[{,}]", `, 9_000)
		r := raw(t, s.URL, token, http.MethodPost, jsonType, "", `{"query": "{ viewer { subject } }", "variables": {"ids": [`+ids+`"x"]}}`)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
	})

	// One name in several objects is no name twice.
	t.Run("OKOneNameInSeveralObjects", func(t *testing.T) {
		r := raw(t, s.URL, token, http.MethodPost, jsonType, "", `{"query": "{ viewer { subject } }", "variables": {"query": {"query": [{"query": 1}, {"query": 2}]}, "x": {}}, "extensions": {"query": 1}}`)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
	})

	// A POST's parameters are its body's: one that names them in its URL
	// too is refused, since a reader before the server may take the
	// URL's (express-graphql reads a POST's ?query= before its body's)
	// while the server ran the body's (a review, twenty-fifth session).
	// Other URL parameters are no GraphQL's and are left alone, and so is
	// the body's own operationName repeated in the URL, as clients that
	// name the operation in the URL for their logs send it
	// (/graphql?operationName=Mine): a reader of either runs Mine. Until
	// the twenty-sixth session (2026-12-07) it was refused 400 too.
	t.Run("POSTWithParametersInItsURL", func(t *testing.T) {
		const named = `{"query": "query Other { __typename } mutation Mine { __typename }", "operationName": "Mine"}`
		for _, tc := range []struct{ name, url, body string }{
			{"ErrQuery", "?query=%7B+__typename+%7D", ""},
			{"ErrQueryInAnotherCase", "?Query=%7B+__typename+%7D", ""},
			{"ErrVariables", "?variables=%7B%7D", ""},
			{"ErrExtensions", "?extensions=%7B%7D", ""},
			{"ErrOperationName", "?operationName=Other", ""},
			{"ErrOperationNameNotTheBodys", "?operationName=Other", named},
			{"ErrOperationNameTwice", "?operationName=Mine&operationName=Mine", named},
			{"ErrOperationNameInAnotherCase", "?OperationName=Mine", named},
			{"ErrOperationNameAndQuery", "?operationName=Mine&query=%7B+__typename+%7D", named},
			{"OKAnotherParameter", "?op=Mine", ""},
			{"OKOperationNameAsInTheBody", "?operationName=Mine", named},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body := cmp.Or(tc.body, `{"query": "mutation { __typename }"}`)
				req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql"+tc.url, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", jsonType)
				req.Header.Set("Authorization", "Bearer "+token)
				r := send(t, req)
				if strings.HasPrefix(tc.name, "OK") {
					if r.Status != http.StatusOK || len(r.Errors) > 0 {
						t.Fatalf("status %d:\n%s", r.Status, r.Body)
					}
					return
				}
				if r.Status != http.StatusBadRequest || r.code(0) != "BAD_USER_INPUT" {
					t.Fatalf("status %d code %q, want 400 BAD_USER_INPUT:\n%s", r.Status, r.code(0), r.Body)
				}
				if _, ok := r.Top["data"]; ok {
					t.Errorf("the mutation ran:\n%s", r.Body)
				}
			})
		}
	})

	t.Run("NullMembersAreAbsentMembers", func(t *testing.T) {
		r := raw(t, s.URL, token, http.MethodPost, jsonType, "", `{"query": "{ viewer { subject } }", "operationName": null, "variables": null, "extensions": null, "unknown": 1}`)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
	})

	t.Run("GET", func(t *testing.T) {
		for _, tc := range []struct {
			name, query string
			status      int
			code        string
		}{
			{"OK", "query=%7B+viewer+%7B+subject+%7D+%7D", http.StatusOK, ""},
			{"ErrNoQuery", "variables=%7B%7D", http.StatusBadRequest, "BAD_USER_INPUT"},
			{"ErrVariablesNotJSON", "query=%7B+viewer+%7B+subject+%7D+%7D&variables=nope", http.StatusBadRequest, "BAD_USER_INPUT"},
			{"ErrVariablesArray", "query=%7B+viewer+%7B+subject+%7D+%7D&variables=%5B%5D", http.StatusBadRequest, "BAD_USER_INPUT"},
			{"ErrVariablesTooDeep", "query=%7B+viewer+%7B+subject+%7D+%7D&variables=%7B%22x%22%3A" + strings.Repeat("%5B", 70) + strings.Repeat("%5D", 70) + "%7D", http.StatusBadRequest, "BAD_USER_INPUT"},
			// A parameter twice: url.Values.Get read the first, another
			// reader may read the last.
			{"ErrQueryTwice", "query=%7B+__typename+%7D&query=%7B+viewer+%7B+subject+%7D+%7D", http.StatusBadRequest, "BAD_USER_INPUT"},
			{"ErrVariableNamedTwice", "query=%7B+viewer+%7B+subject+%7D+%7D&variables=%7B%22a%22%3A1%2C%22a%22%3A2%7D", http.StatusBadRequest, "BAD_USER_INPUT"},
			// A reader of parameters that ignores case (ASP.NET's) takes
			// Query for query.
			{"ErrQueryTwiceInAnotherCase", "query=%7B+__typename+%7D&Query=%7B+viewer+%7B+subject+%7D+%7D", http.StatusBadRequest, "BAD_USER_INPUT"},
			{"ErrVariableNamedTwiceInAnotherCase", "query=%7B+viewer+%7B+subject+%7D+%7D&variables=%7B%22a%22%3A1%2C%22A%22%3A2%7D", http.StatusBadRequest, "BAD_USER_INPUT"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req := get(t, s.URL, "/graphql?"+tc.query)
				req.Header.Set("Authorization", "Bearer "+token)
				r := send(t, req)
				if r.Status != tc.status || r.code(0) != tc.code {
					t.Fatalf("status %d code %q, want %d %q:\n%s", r.Status, r.code(0), tc.status, tc.code, r.Body)
				}
				if strings.HasSuffix(tc.name, "TooDeep") && !strings.Contains(string(r.Body), "deep, more than 64") {
					t.Errorf("the refusal does not name the bound:\n%s", r.Body)
				}
				if _, ok := r.Top["data"]; ok != (tc.code == "") {
					t.Errorf("data member present: %v:\n%s", ok, r.Body)
				}
			})
		}
	})
}

// Issue 8: a body of a kind CaseGraph does not read gets 415 with its own
// code and a message naming what to send, and runs nothing.
func TestUnsupportedMediaType(t *testing.T) {
	s, token := startAsPolice(t)
	var agencies struct {
		Agencies struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	s.Do(t, token, `{ agencies(where: {code: "police-tirane"}) { edges { node { id } } } }`, nil).MustOK(t).Decode(t, &agencies)
	lead := agencies.Agencies.Edges[0].Node.ID
	openCase := func(ref string) string {
		q := fmt.Sprintf(`mutation { openCase(input: {reference: %q, title: "Media type test", region: TIRANE, leadAgencyID: %q}) { id } }`, ref, lead)
		b, err := json.Marshal(map[string]string{"query": q})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	exists := func(ref string) bool {
		ok, err := s.DB.Client.CaseFile.Query().Where(casefile.Reference(ref)).Exist(viewer.SystemContext(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	// The same mutation as application/json works, so each refusal below
	// is about the media type alone.
	t.Run("OK", func(t *testing.T) {
		r := raw(t, s.URL, token, http.MethodPost, "application/json; charset=UTF-8", "", openCase("MT-OK"))
		if r.Status != http.StatusOK || len(r.Errors) > 0 || !exists("MT-OK") {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
	})
	for i, contentType := range []string{
		"", // none at all
		"text/plain;charset=UTF-8",
		"application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x",
		"application/graphql",
		"application/graphql-response+json",
		"application/json; charset=iso-8859-1",
		"application/json; charset=utf-16",
		"not a media type",
	} {
		t.Run(fmt.Sprintf("Err %q", contentType), func(t *testing.T) {
			ref := fmt.Sprintf("MT-%d", i)
			for _, accept := range []string{jsonType, responseType} {
				r := raw(t, s.URL, token, http.MethodPost, contentType, accept, openCase(ref))
				if r.Status != http.StatusUnsupportedMediaType {
					t.Errorf("Accept %s: status %d, want 415:\n%s", accept, r.Status, r.Body)
				}
				if len(r.Errors) != 1 || r.code(0) != "UNSUPPORTED_MEDIA_TYPE" {
					t.Fatalf("Accept %s: want one UNSUPPORTED_MEDIA_TYPE:\n%s", accept, r.Body)
				}
				if !strings.Contains(r.Errors[0].Message, "application/json") {
					t.Errorf("the message does not say what to send: %q", r.Errors[0].Message)
				}
				if _, ok := r.Top["data"]; ok {
					t.Errorf("a refused request carries a data member:\n%s", r.Body)
				}
			}
			if exists(ref) {
				t.Fatalf("a mutation sent as %q was executed", contentType)
			}
		})
	}
}

// A compressed body is a kind CaseGraph does not read either: 415, not
// 400 "not JSON" for the bytes gzip made (RFC 9110, 15.5.16); identity is
// the body as sent.
func TestCompressedBodyRefused(t *testing.T) {
	s, token := startAsPolice(t)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write([]byte(`{"query": "{ viewer { subject } }"}`)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		encoding, body string
		status         int
	}{
		{"gzip", gz.String(), http.StatusUnsupportedMediaType},
		{"identity, gzip", gz.String(), http.StatusUnsupportedMediaType},
		{"identity", `{"query": "{ viewer { subject } }"}`, http.StatusOK},
	} {
		req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", jsonType)
		req.Header.Set("Content-Encoding", tc.encoding)
		req.Header.Set("Authorization", "Bearer "+token)
		r := send(t, req)
		if r.Status != tc.status {
			t.Errorf("Content-Encoding %s: status %d, want %d:\n%s", tc.encoding, r.Status, tc.status, r.Body)
		}
		if tc.status != http.StatusOK && (len(r.Errors) != 1 || r.code(0) != "UNSUPPORTED_MEDIA_TYPE" || !strings.Contains(r.Errors[0].Message, "uncompressed") || r.Header.Get("Accept-Encoding") != "identity") {
			t.Errorf("Content-Encoding %s: want one UNSUPPORTED_MEDIA_TYPE saying to send it uncompressed, and Accept-Encoding: identity:\n%s", tc.encoding, r.Body)
		}
	}
}

// Issue 8: a method /graphql does not serve is 405 with Allow and a code.
func TestMethodNotAllowed(t *testing.T) {
	s, token := startAsPolice(t)
	for _, method := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete, "FROBNICATE"} {
		t.Run(method, func(t *testing.T) {
			r := raw(t, s.URL, token, method, jsonType, "", `{"query": "{ viewer { subject } }"}`)
			if r.Status != http.StatusMethodNotAllowed {
				t.Fatalf("status %d, want 405:\n%s", r.Status, r.Body)
			}
			if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
				t.Errorf("Allow %q, want GET and POST", allow)
			}
			if len(r.Errors) != 1 || r.code(0) != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "POST") {
				t.Errorf("want one BAD_USER_INPUT that says to use POST:\n%s", r.Body)
			}
			if _, ok := r.Top["data"]; ok {
				t.Errorf("a refused request carries a data member:\n%s", r.Body)
			}
		})
	}
	t.Run("HEAD", func(t *testing.T) {
		r := raw(t, s.URL, token, http.MethodHead, "", "", "")
		if r.Status != http.StatusMethodNotAllowed || !strings.Contains(r.Header.Get("Allow"), "POST") {
			t.Fatalf("status %d, Allow %q", r.Status, r.Header.Get("Allow"))
		}
	})
	t.Run("OPTIONS", func(t *testing.T) {
		// With a token or without (a browser's preflight sends none).
		for _, tok := range []string{token, ""} {
			r := raw(t, s.URL, tok, http.MethodOptions, "", "", "")
			if r.Status != http.StatusNoContent || r.Header.Get("Allow") != "GET, POST, OPTIONS" {
				t.Fatalf("token %v: status %d, Allow %q", tok != "", r.Status, r.Header.Get("Allow"))
			}
		}
	})
	// The probes answer HEAD (a load balancer's check may use it); /metrics
	// only GET and HEAD.
	t.Run("probes", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			status       int
		}{
			{http.MethodHead, "/healthz", http.StatusOK},
			{http.MethodHead, "/readyz", http.StatusOK},
			{http.MethodHead, "/metrics", http.StatusOK},
			{http.MethodPut, "/metrics", http.StatusMethodNotAllowed},
			{http.MethodDelete, "/metrics", http.StatusMethodNotAllowed},
			{http.MethodPost, "/healthz", http.StatusMethodNotAllowed},
		} {
			req, err := http.NewRequest(tc.method, s.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r := send(t, req); r.Status != tc.status || tc.method == http.MethodHead && len(r.Body) != 0 {
				t.Errorf("%s %s: status %d, %d bytes; want %d", tc.method, tc.path, r.Status, len(r.Body), tc.status)
			}
		}
	})
}
