package server_test

// Where each error points (docs/errors.md, "Where an error points"): an
// error at a field of the answer carries its path and the field's
// locations; one about a point of the document and no field of the answer
// (a document that does not validate, a variable's value, a refusal
// before anything runs that names a field) carries locations only; one
// about the request as a whole carries neither.

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// at is a location of a document, for the tables below.
func at(line, column int) []testserver.Location {
	return []testserver.Location{{Line: line, Column: column}}
}

// pointAt is what every error of a response must carry: its code, its
// path ("" for none, as testserver.PathString writes it; "*" for any) and
// its locations (nil for none).
type pointAt struct {
	code      string
	path      string
	locations []testserver.Location
}

// TestWhereErrorsPoint sends one request of each family of error to a real
// server over HTTP, on the demo data, and checks the path and the exact
// locations (line and column) of every error of the answer; it logs the
// table of what each family carries. Until 2026-12-07 (twenty-fifth
// session) the errors a root field's middleware adds (a mutation the
// policy refuses, an input the rules refuse, a transaction that could not
// begin), those at an element of nodes(ids:), the values the audit trail
// withholds, the variables refused and the refusals made before any field
// runs carried no locations, while a resolver's errors and gqlparser's
// did.
func TestWhereErrorsPoint(t *testing.T) {
	testdb.Each(t, func(t *testing.T, base *database.DB) {
		db, faults := testdb.WithFaults(base)
		if _, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: 1, Seed: 7}); err != nil {
			t.Fatalf("seeding: %v", err)
		}
		// A small answer limit, for the answer refused for its size.
		s := testserver.Start(t, db, testserver.Options{Config: server.Config{MaxResponseBytes: 2_000}})
		police := s.Token(t, "police-tirane", viewer.RoleInvestigator)
		// Sees the cases and their victims, may read no victim's identity.
		general := s.Token(t, "prosecution-general", viewer.RoleProsecutor)
		// Reads the identity of its own cases' victims.
		tirane := s.Token(t, "prosecution-tirane", viewer.RoleProsecutor)
		shelter := s.Token(t, "ngo-vatra", viewer.RoleCaseWorker)
		lead := s.AgencyIDs(t)["police-tirane"]
		caseInput := func(reference, title string) map[string]any {
			return map[string]any{"reference": reference, "title": title, "region": "TIRANE",
				"formsOfExploitation": []string{"FORCED_BEGGING"}, "leadAgencyID": lead}
		}
		opened := testserver.Call[struct{ ID string }](t, s, testserver.Principal{Token: police},
			`mutation ($in: CreateCaseInput!) { openCase(input: $in) { id } }`,
			map[string]any{"in": caseInput("TIR-2026-9101", "Opened to be refused")})

		// Lines 4 to 15 of the document of an answer past its size.
		var twelvePages string
		for i := range 12 {
			twelvePages += fmt.Sprintf("\n      led%d: ledCases(first: 200) { ...titles }", i)
		}
		brokenAudit, mendedAudit := testdb.AuditBreakage(db.Dialect)
		// A victim and a suspect whose identity the office reads.
		var read struct {
			Cases struct {
				Edges []struct {
					Node struct {
						Victims, Suspects struct {
							Edges []struct {
								Node struct {
									ID        string
									LegalName *string
								}
							}
						}
					}
				}
			}
		}
		s.Do(t, tirane, `{ cases(first: 8) { edges { node {
  victims(first: 1) { edges { node { id legalName } } }
  suspects(first: 1) { edges { node { id legalName } } }
} } } }`, nil).Decode(t, &read)
		var victimID, suspectID string
		for _, e := range read.Cases.Edges {
			v, sus := e.Node.Victims.Edges, e.Node.Suspects.Edges
			if len(v) > 0 && len(sus) > 0 && v[0].Node.LegalName != nil && sus[0].Node.LegalName != nil {
				victimID, suspectID = v[0].Node.ID, sus[0].Node.ID
				break
			}
		}
		if victimID == "" {
			t.Fatal("the demo data has no case whose victim's and suspect's identity prosecution-tirane reads")
		}
		for _, tc := range []struct {
			name  string
			token string
			query string
			vars  map[string]any
			// before and after, when set, put the server in the state
			// the case needs and take it out.
			before, after func(t *testing.T)
			status        int
			want          []pointAt
		}{
			// Errors at a field of the answer: path and the field's
			// location.
			{
				name:  "FORBIDDEN: a sensitive field in a list, under an alias",
				token: general,
				query: `{
  cases(first: 2) {
    edges { node {
      reference
      victims(first: 3) {
        edges { node { pseudonym name: legalName } }
      }
    } }
  }
}`,
				want: []pointAt{{"FORBIDDEN", "*", at(6, 34)}},
			},
			{
				name:  "FORBIDDEN: a sensitive field in a fragment",
				token: general,
				query: `{
  victims(first: 2) { edges { node { ...identity } } }
}

fragment identity on Victim {
  pseudonym
  legalName
}`,
				want: []pointAt{{"FORBIDDEN", "*", at(7, 3)}},
			},
			{
				name:  "FORBIDDEN: a power the caller does not hold (@allowed)",
				token: police,
				query: `{
  viewer { subject }
  trail: auditEvents(first: 1) { edges { cursor } }
}`,
				want: []pointAt{{"FORBIDDEN", "trail", at(3, 3)}},
			},
			{
				name:  "FORBIDDEN: a mutation the policy refuses",
				token: shelter,
				query: `mutation ($in: CreateCaseInput!) {
  opened: openCase(input: $in) { id }
}`,
				vars: map[string]any{"in": caseInput("TIR-2026-9102", "Refused")},
				want: []pointAt{{"FORBIDDEN", "opened", at(2, 3)}},
			},
			{
				name:  "NOT_FOUND: node(id:)",
				token: police,
				query: `query ($id: ID!) {
  viewer { subject }
  record: node(id: $id) { id }
}`,
				vars: map[string]any{"id": "2147000000"},
				want: []pointAt{{"NOT_FOUND", "record", at(3, 3)}},
			},
			{
				name:  "NOT_FOUND: nodes(ids:), at each id's index",
				token: police,
				query: `{
  records: nodes(ids: ["2147000000", "2147000001"]) { id }
}`,
				want: []pointAt{{"NOT_FOUND", "records.0", at(2, 3)}, {"NOT_FOUND", "records.1", at(2, 3)}},
			},
			{
				name:  "BAD_USER_INPUT: a mutation's input the rules refuse, the second of two",
				token: police,
				query: `mutation ($a: CreateCaseInput!, $b: CreateCaseInput!) {
  first: openCase(input: $a) { id }
  second: openCase(input: $b) { id }
}`,
				vars: map[string]any{"a": caseInput("TIR-2026-9103", "Kept"), "b": caseInput("TIR-2026-9104", "A\u0000B")},
				want: []pointAt{{"BAD_USER_INPUT", "second", at(3, 3)}},
			},
			{
				name:  "BAD_USER_INPUT: a mutation's argument casework refuses",
				token: police,
				query: `mutation ($id: ID!) {
  moved: moveCaseStage(id: $id, expectedVersion: 1, stage: APPEAL_DECIDED) { id }
}`,
				vars: map[string]any{"id": opened.ID},
				want: []pointAt{{"BAD_USER_INPUT", "moved", at(2, 3)}},
			},
			{
				name:  "CONFLICT: a stale expectedVersion",
				token: police,
				query: `mutation ($id: ID!) {
  updated: updateCase(id: $id, expectedVersion: 99, input: {title: "Stale"}) { id }
}`,
				vars: map[string]any{"id": opened.ID},
				want: []pointAt{{"CONFLICT", "updated", at(2, 3)}},
			},
			{
				name:  "UNAVAILABLE: a list's statement lost its connection",
				token: police,
				query: `{
  viewer { subject }
  list: cases(first: 2) { totalCount }
}`,
				before: func(*testing.T) { faults.FailStatements("case_files", -1, io.EOF) },
				after:  func(*testing.T) { faults.Clear() },
				want:   []pointAt{{"UNAVAILABLE", "list", at(3, 3)}},
			},
			{
				name:  "UNAVAILABLE: a mutation's BEGIN failed",
				token: police,
				query: `mutation ($in: CreateCaseInput!) {
  opened: openCase(input: $in) { id }
}`,
				vars:   map[string]any{"in": caseInput("TIR-2026-9105", "Not begun")},
				before: func(*testing.T) { faults.FailBegins(2, io.EOF) },
				after:  func(*testing.T) { faults.Clear() },
				want:   []pointAt{{"UNAVAILABLE", "opened", at(2, 3)}},
			},
			{
				name:  "AUDIT_UNAVAILABLE: values read and refusals withheld",
				token: tirane,
				query: `{
  victims(first: 3) {
    edges { node {
      pseudonym
      name: legalName
    } }
  }
}`,
				before: func(t *testing.T) { execAll(t, db, brokenAudit) },
				after:  func(t *testing.T) { execAll(t, db, mendedAudit) },
				want:   []pointAt{{"AUDIT_UNAVAILABLE", "*", at(5, 7)}},
			},
			{
				// Each value at the field that asked for it: not the first
				// field of its response key in the document, which may be
				// another type's (the Victim's for the Suspect's) or one
				// left out (@include(if: false)). Until the twenty-sixth
				// session (2026-12-07) both pointed at (3, 21).
				name:  "AUDIT_UNAVAILABLE: values asked for under one name in two fragments, after a field left out",
				token: tirane,
				query: `query ($no: Boolean!) {
  records: nodes(ids: ["` + victimID + `", "` + suspectID + `"]) {
    ... on Victim { name: legalName @include(if: $no) id name: legalName }
    ... on Suspect {
      name: legalName
    }
  }
}`,
				vars:   map[string]any{"no": false},
				before: func(t *testing.T) { execAll(t, db, brokenAudit) },
				after:  func(t *testing.T) { execAll(t, db, mendedAudit) },
				want:   []pointAt{{"AUDIT_UNAVAILABLE", "records.0.name", at(3, 58)}, {"AUDIT_UNAVAILABLE", "records.1.name", at(5, 7)}},
			},
			{
				name:  "TOO_COMPLEX: a mutation's answer reached its size limit",
				token: police,
				// Twelve pages of the titles of the cases the agency leads,
				// past the answer's limit.
				query: `mutation ($in: CreateCaseInput!) {
  opened: openCase(input: $in) {
    leadAgency {` + twelvePages + `
    }
  }
}

fragment titles on CaseConnection { edges { node {
  title
} } }`,
				vars: map[string]any{"in": caseInput("TIR-2026-9106", "Answered at length")},
				want: []pointAt{{"TOO_COMPLEX", "*", at(21, 3)}},
			},
			// About a point of the document and no field of the answer:
			// locations only.
			{
				name:  "BAD_USER_INPUT: a document that does not parse",
				token: police,
				query: `{
  cases(first: 1 { totalCount }
}`,
				want: []pointAt{{"BAD_USER_INPUT", "", at(2, 18)}},
			},
			{
				name:  "BAD_USER_INPUT: a document that does not validate",
				token: police,
				query: `{
  cases(first: 1) { total }
}`,
				want: []pointAt{{"BAD_USER_INPUT", "", at(2, 21)}},
			},
			{
				name:  "BAD_USER_INPUT: a variable's value",
				token: police,
				query: `query Page(
  $size: Int!
) { cases(first: $size) { totalCount } }`,
				vars: map[string]any{"size": "ten"},
				// gqlparser's path, which names the variable.
				want: []pointAt{{"BAD_USER_INPUT", "variable.size", at(2, 3)}},
			},
			{
				name:  "BAD_USER_INPUT: a cursor refused before anything runs",
				token: police,
				query: `{
  viewer { subject }
  page: cases(first: 1, after: "not a cursor") { totalCount }
}`,
				want: []pointAt{{"BAD_USER_INPUT", "", at(3, 3)}},
			},
			{
				name:  "BAD_USER_INPUT: a page over 500, refused by the cost check",
				token: police,
				query: `{
  viewer { subject }
  cases(first: 1) { edges { node {
    victims(first: 501) { totalCount }
  } } }
}`,
				want: []pointAt{{"BAD_USER_INPUT", "", at(4, 5)}},
			},
			{
				name:  "TOO_COMPLEX: a field of fixed cost asked for twice",
				token: police,
				query: `{
  accessMatrix {
    csv
    again: csv
  }
}`,
				want: []pointAt{{"TOO_COMPLEX", "", at(4, 5)}},
			},
			// About the request as a whole: neither.
			{
				name:  "TOO_COMPLEX: the document's cost",
				token: police,
				query: `{
  cases(first: 500) { edges { node {
    victims(first: 500) { edges { node { id } } }
  } } }
}`,
				want: []pointAt{{"TOO_COMPLEX", "", nil}},
			},
			{
				name:  "TOO_COMPLEX: an answer over its size",
				token: police,
				query: `{ cases(first: 200) { edges { node { reference title } } } }`,
				want:  []pointAt{{"TOO_COMPLEX", "", nil}},
			},
			{
				name:   "UNAUTHENTICATED: no token",
				query:  `{ viewer { subject } }`,
				status: http.StatusUnauthorized,
				want:   []pointAt{{"UNAUTHENTICATED", "", nil}},
			},
			{
				name:   "UNAUTHENTICATED: a token not signed by the server's key",
				token:  police[:len(police)-4] + "AAAA",
				query:  `{ viewer { subject } }`,
				status: http.StatusUnauthorized,
				want:   []pointAt{{"UNAUTHENTICATED", "", nil}},
			},
			{
				name:   "BAD_USER_INPUT: a body over its limit",
				token:  police,
				query:  "# " + strings.Repeat("x", 1<<20) + "\n{ viewer { subject } }",
				status: http.StatusRequestEntityTooLarge,
				want:   []pointAt{{"BAD_USER_INPUT", "", nil}},
			},
		} {
			if tc.before != nil {
				tc.before(t)
			}
			r := s.Do(t, tc.token, tc.query, tc.vars)
			if tc.after != nil {
				tc.after(t)
			}
			if want := cmp.Or(tc.status, http.StatusOK); r.Status != want {
				t.Errorf("%s: status %d, want %d:\n%.600s", tc.name, r.Status, want, r.Body)
			}
			if len(r.Errors) == 0 {
				t.Errorf("%s: no error:\n%.600s", tc.name, r.Body)
			}
			met := make([]bool, len(tc.want))
			for _, e := range r.Errors {
				got := pointAt{e.Code(), testserver.PathString(e.Path), e.Locations}
				i := slices.IndexFunc(tc.want, func(w pointAt) bool {
					return w.code == got.code && (w.path == got.path || w.path == "*" && got.path != "")
				})
				if i < 0 {
					t.Errorf("%s: an error %s at %q not expected:\n%.600s", tc.name, got.code, got.path, r.Body)
					continue
				}
				met[i] = true
				if want := tc.want[i].locations; !slices.Equal(got.locations, want) {
					t.Errorf("%s: %s at %q has locations %v, want %v:\n%.600s", tc.name, got.code, got.path, got.locations, want, r.Body)
				}
			}
			for i, w := range tc.want {
				if !met[i] {
					t.Errorf("%s: no error %s at %q:\n%.600s", tc.name, w.code, w.path, r.Body)
				}
			}
			t.Logf("%s | %d | %s", tc.name, r.Status, describeErrors(r))
		}
	})
}

// describeErrors is a line of the table the test logs: each error's code,
// whether it has a path and its locations.
func describeErrors(r *testserver.Response) string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, fmt.Sprintf("%s path=%t locations=%v", e.Code(), len(e.Path) > 0, e.Locations))
	}
	return strings.Join(slices.Compact(out), ", ")
}

// execAll runs stmts on db's connection pool, in order.
func execAll(t *testing.T, db *database.DB, stmts []string) {
	t.Helper()
	for _, stmt := range stmts {
		if _, err := db.SQL.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}
