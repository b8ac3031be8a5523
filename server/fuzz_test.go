package server_test

// Fuzz targets of issue 9: GraphQL documents and variables, global ids and
// pagination cursors, each sent as a client would through the server's real
// HTTP handler (in process, without a socket, so that fuzzing makes
// progress) over a small SQLite database seeded through the API, with a real
// development token. `make fuzz` runs each for FUZZTIME; plain `go test`
// runs their seeds and testdata/fuzz/<Name>/ as regression tests.
//
// The property everywhere: no panic, no 5xx, a JSON answer whose every
// error has an extensions.code, and never INTERNAL.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/input"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// Bounds on one fuzzed input, so that each iteration stays cheap; the
// abuse suite, not the fuzzer, is where big documents are tried.
const (
	fuzzMaxDocument  = 32 << 10
	fuzzMaxVariables = 16 << 10
	fuzzMaxValue     = 256
)

// fuzzWorld is the server fuzz targets talk to and the ids of its records.
type fuzzWorld struct {
	handler http.Handler
	token   string
	// ids are global ids of records that exist: cases, victims, an agency.
	cases, victims []string
	agency         string
}

// newFuzzWorld starts a server over a fresh SQLite database holding the
// agencies, two cases and two victims, created through the API by a police
// investigator, whose token the fuzzed requests carry.
func newFuzzWorld(f *testing.F) *fuzzWorld {
	f.Helper()
	s := testserver.Start(f, testdb.SQLite(f))
	w := &fuzzWorld{handler: s.HTTP.Config.Handler, token: s.Token(f, "police-tirane", viewer.RoleInvestigator)}
	var ag struct {
		Agencies struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	s.Do(f, w.token, `{ agencies(where: {code: "police-tirane"}) { edges { node { id } } } }`, nil).MustOK(f).Decode(f, &ag)
	if len(ag.Agencies.Edges) != 1 {
		f.Fatalf("police-tirane: %+v", ag)
	}
	w.agency = ag.Agencies.Edges[0].Node.ID
	for i := range 2 {
		var c struct{ OpenCase struct{ ID string } }
		s.Do(f, w.token, `mutation ($in: CreateCaseInput!) { openCase(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"reference": "TIR-FUZZ-" + strconv.Itoa(i), "title": "Suspected forced begging", "region": "TIRANE",
			"formsOfExploitation": []string{"FORCED_BEGGING"}, "leadAgencyID": w.agency,
		}}).MustOK(f).Decode(f, &c)
		w.cases = append(w.cases, c.OpenCase.ID)
		var v struct{ RegisterVictim struct{ ID string } }
		s.Do(f, w.token, `mutation ($in: CreateVictimInput!, $cases: [ID!]) { registerVictim(input: $in, caseIDs: $cases) { id } }`, map[string]any{
			"in": map[string]any{
				"pseudonym": "V-2026-900" + strconv.Itoa(i), "sex": "FEMALE", "ageGroup": "ADULT", "identificationStatus": "POTENTIAL_VICTIM",
				"identifiedBy": "STATE_POLICE", "identifiedAt": "2026-02-15T10:00:00Z", "region": "TIRANE", "formsOfExploitation": []string{"FORCED_BEGGING"},
			},
			"cases": []string{c.OpenCase.ID},
		}).MustOK(f).Decode(f, &v)
		w.victims = append(w.victims, v.RegisterVictim.ID)
	}
	return w
}

// post sends body to /graphql with the world's token and checks the
// property every answer must have; it returns the answer.
func (w *fuzzWorld) post(t *testing.T, body []byte) *testserver.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.token)
	rec := httptest.NewRecorder()
	w.handler.ServeHTTP(rec, req)
	res := &testserver.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if res.Status >= 500 {
		t.Fatalf("status %d for %s:\n%s", res.Status, body, res.Body)
	}
	if err := json.Unmarshal(res.Body, res); err != nil {
		t.Fatalf("answer is not JSON (status %d) for %s: %v\n%s", res.Status, body, err, res.Body)
	}
	for _, e := range res.Errors {
		switch e.Code() {
		case "":
			t.Fatalf("an error without extensions.code for %s:\n%s", body, res.Body)
		case string(apperr.Internal):
			t.Fatalf("INTERNAL for %s:\n%s", body, res.Body)
		}
	}
	return res
}

// request encodes a GraphQL request; variables that are not JSON are sent
// as a string, which the server must refuse with a code.
func request(t *testing.T, query string, variables []byte) []byte {
	t.Helper()
	req := map[string]any{"query": query}
	switch {
	case len(variables) == 0:
	case json.Valid(variables):
		req["variables"] = json.RawMessage(variables)
	default:
		req["variables"] = string(variables)
	}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func hasCode(res *testserver.Response, code apperr.Code) bool {
	for _, e := range res.Errors {
		if e.Code() == string(code) {
			return true
		}
	}
	return false
}

// FuzzGraphQLRequest sends arbitrary documents with arbitrary variables.
func FuzzGraphQLRequest(f *testing.F) {
	w := newFuzzWorld(f)
	seeds := []struct{ query, variables string }{
		{`{ viewer { subject roles agency { code name } } }`, ``},
		{`{ cases(first: 5, where: {region: TIRANE}, orderBy: [{field: OPENED_AT, direction: DESC}]) { totalCount edges { cursor node { id reference stage victims(first: 10) { totalCount edges { node { pseudonym ageGroup legalName } } } } } pageInfo { endCursor hasNextPage } } }`, ``},
		{`query ($id: ID!) { node(id: $id) { id __typename ... on Case { reference victims { edges { node { pseudonym } } } } } }`, `{"id": "` + w.cases[0] + `"}`},
		{`query ($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }`, `{"ids": ["` + w.cases[0] + `", "` + w.victims[0] + `", "1", "-1", "x"]}`},
		{`mutation ($in: CreateCaseInput!, $key: String) { openCase(input: $in, idempotencyKey: $key) { id reference version } }`,
			`{"in": {"reference": "TIR-2026-9", "title": "t", "region": "TIRANE", "formsOfExploitation": ["FORCED_BEGGING"], "leadAgencyID": "` + w.agency + `"}, "key": "k"}`},
		{`mutation ($id: ID!, $v: Int!) { moveCaseStage(id: $id, expectedVersion: $v, stage: PROSECUTION) { id stage } }`, `{"id": "` + w.cases[0] + `", "v": 99}`},
		{`query ($first: Int, $after: Cursor) { victims(first: $first, after: $after) { edges { cursor node { id } } } }`, `{"first": -1, "after": "@@@"}`},
		{`{ __schema { types { name fields { name args { name type { name } } } } } }`, ``},
		{`{ __type(name: "Victim") { fields { name } } }`, ``},
		{`query A { viewer { subject } } query B { viewer { roles } }`, ``},
		{`subscription { viewer { subject } }`, ``},
		{`fragment F on Query { ...F } { ...F }`, ``},
		{`{ cases(first: 99999999999999999999) { totalCount } }`, ``},
		{`{ cases(first: 1, last: 1) { totalCount } }`, ``},
		{`{ cases(where: {referenceContains: "\u0000"}) { totalCount } }`, ``},
		{`{ victims(where: {legalName: "x"}) { totalCount } }`, ``},
		{`{ viewer { subject @skip(if: $nope) } }`, ``},
		{`query ($x: Int!) { cases(first: $x) { totalCount } }`, `{"x": "five"}`},
		{`query ($x: Int!) { cases(first: $x) { totalCount } }`, `[1, 2]`},
		{`query ($x: Int!) { cases(first: $x) { totalCount } }`, `not json`},
		{`{`, ``},
		{`}}}`, ``},
		{``, ``},
		{`{ a: viewer { subject } a: cases { totalCount } }`, ``},
		{`{ auditEvents(first: 1) { edges { node { kind } } } }`, ``},
		{`{ verifyAuditTrail { ok } }`, ``},
	}
	for _, s := range seeds {
		f.Add(s.query, s.variables)
	}
	f.Fuzz(func(t *testing.T, query, variables string) {
		if len(query) > fuzzMaxDocument || len(variables) > fuzzMaxVariables {
			t.Skip("bigger than a fuzzing iteration should be")
		}
		w.post(t, request(t, query, []byte(variables)))
	})
}

// FuzzGlobalID sends arbitrary strings as ids to node and nodes. An id
// that is not a number is BAD_USER_INPUT; one that is names a record the
// caller sees (the node with that id, of the type rowscope.TypeOfID gives
// its range) or nothing (null with NOT_FOUND), whatever range it falls in.
func FuzzGlobalID(f *testing.F) {
	w := newFuzzWorld(f)
	for _, id := range append(append([]string{w.agency}, w.cases...), w.victims...) {
		f.Add(id)
	}
	for _, id := range []string{
		"0", "1", "-1", "+1", "01", " 1", "1 ", "1.0", "1e3", "0x10", "", "x", "١", "４２",
		"4294967295", "4294967296", "12884901888", "17179869183", "77309411329",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999999",
		"\x00", "Q2FzZTox", // a base64 "Case:1" as other servers encode ids
	} {
		f.Add(id)
	}
	const doc = `query ($id: ID!, $ids: [ID!]!) { node(id: $id) { id __typename } nodes(ids: $ids) { id __typename } }`
	f.Fuzz(func(t *testing.T, id string) {
		if len(id) > fuzzMaxValue {
			t.Skip("bigger than an id")
		}
		vars, err := json.Marshal(map[string]any{"id": id, "ids": []string{id, w.cases[0]}})
		if err != nil {
			t.Skip("not representable in JSON")
		}
		res := w.post(t, request(t, doc, vars))
		n, decodeErr := input.UnmarshalID(id)
		if decodeErr != nil {
			if !hasCode(res, apperr.BadUserInput) {
				t.Fatalf("id %q is not a number: want BAD_USER_INPUT, got:\n%s", id, res.Body)
			}
			return
		}
		type node struct {
			ID       string
			Typename string `json:"__typename"`
		}
		var data struct {
			Node  *node
			Nodes []*node
		}
		res.Decode(t, &data)
		if data.Node == nil {
			if !hasCode(res, apperr.NotFound) {
				t.Fatalf("id %q: node is null without NOT_FOUND:\n%s", id, res.Body)
			}
		} else {
			// An id is answered as it was asked: one record, one id.
			if data.Node.ID != id {
				t.Fatalf("id %q: node has id %q:\n%s", id, data.Node.ID, res.Body)
			}
			if typ := rowscope.TypeOfID(n); typ != "" && typ != data.Node.Typename {
				t.Fatalf("id %q: node is a %s, rowscope.TypeOfID says %s", id, data.Node.Typename, typ)
			}
		}
		if len(data.Nodes) != 2 || data.Nodes[1] == nil || data.Nodes[1].ID != w.cases[0] {
			t.Fatalf("id %q spoilt the answer for the other id of nodes:\n%s", id, res.Body)
		}
	})
}

// FuzzCursor sends arbitrary strings as after and before cursors, to a
// root connection (with and without an ordering) and a nested one. A cursor
// that entgql cannot decode is BAD_USER_INPUT; one it can decode pages, or
// is refused with a code, never INTERNAL.
func FuzzCursor(f *testing.F) {
	w := newFuzzWorld(f)
	for _, c := range []entgql.Cursor[int]{
		{ID: 1}, {ID: -1}, {ID: 1 << 40},
		{ID: 1, Value: "TIR-FUZZ-0"}, {ID: 1, Value: int64(7)}, {ID: 1, Value: 1.5}, {ID: 1, Value: true},
		{ID: 1, Value: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{ID: 1, Value: map[string]any{"a": 1}}, {ID: 1, Value: []any{1, "x"}}, {ID: 1, Value: []byte{0, 1}},
	} {
		var b bytes.Buffer
		c.MarshalGQL(&b)
		s, err := strconv.Unquote(b.String())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s)
	}
	for _, s := range []string{"", "@@@", "gaFpAQ", "gaFpAQ==", "////", "3q2+7w", "kQ", "3wAAAAE", "xwAAAAA=", "\x00"} {
		f.Add(s)
	}
	const doc = `query ($c: Cursor) {
  byID: cases(first: 2, after: $c) { edges { cursor node { id } } }
  byReference: cases(last: 2, before: $c, orderBy: [{field: REFERENCE}]) { edges { cursor node { id } } }
  byOpened: cases(first: 2, after: $c, orderBy: [{field: OPENED_AT, direction: DESC}]) { totalCount }
  victims(first: 1) { edges { node { cases(first: 1, after: $c) { totalCount edges { node { id } } } } } }
}`
	f.Fuzz(func(t *testing.T, cursor string) {
		if len(cursor) > fuzzMaxValue {
			t.Skip("bigger than a cursor")
		}
		vars, err := json.Marshal(map[string]any{"c": cursor})
		if err != nil {
			t.Skip("not representable in JSON")
		}
		res := w.post(t, request(t, doc, vars))
		if !cursorDecodes(cursor) && !hasCode(res, apperr.BadUserInput) {
			t.Fatalf("cursor %q cannot be decoded: want BAD_USER_INPUT, got:\n%s", cursor, res.Body)
		}
	})
}

// cursorDecodes reports whether ent's pagination can decode cursor; its
// msgpack decoder panics on some malformed input (a map naming "v" twice),
// which is a cursor that does not decode too.
func cursorDecodes(cursor string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	var c entgql.Cursor[int]
	ok = c.UnmarshalGQL(cursor) == nil
	return ok
}
