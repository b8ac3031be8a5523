package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

func seedDemo(t *testing.T, db *database.DB) demo.Stats {
	t.Helper()
	stats, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: 1, Seed: 7})
	if err != nil {
		t.Fatalf("seeding: %v", err)
	}
	return stats
}

// startCountedDemo seeds the demo data into db and serves it through a
// client that counts every statement it sends, for the tests that bound
// what a page costs.
func startCountedDemo(t *testing.T, db *database.DB) (*testserver.Server, *testdb.Statements) {
	t.Helper()
	seedDemo(t, db)
	counted, n := testdb.CountingByKind(db)
	return testserver.Start(t, counted), n
}

// nestedCasesQuery is what a dashboard asks for: a page of cases with their
// victims, prosecutions (with charges, decisions and defendants, and those
// with a deadline by it), suspects (with their proceedings) and agencies.
const nestedCasesQuery = `query ($n: Int!) {
  cases(first: $n, orderBy: [{field: OPENED_AT, direction: DESC}]) {
    totalCount
    edges { node {
      reference stage leadAgency { code }
      victims(first: 10) { totalCount edges { node { pseudonym legalName ageGroup cases { totalCount } } } }
      prosecutions(first: 3) { totalCount edges { node {
        registrationNumber stage office { code }
        charges(first: 3) { edges { node { article reclassifiedFrom } } }
        decisions(first: 3) { totalCount edges { node { verdict court { code } } } }
        defendantsConnection(first: 2) { totalCount edges { node { pseudonym legalName } } }
      } } }
      byDeadline: prosecutions(first: 2, where: {investigationDeadlineNotNil: true}, orderBy: [{field: INVESTIGATION_DEADLINE}]) { totalCount edges { node { registrationNumber } } }
      suspects(first: 2) { edges { node {
        prosecutionsConnection(first: 2, orderBy: [{field: REGISTERED_AT, direction: DESC}]) { totalCount edges { node { registrationNumber } } }
      } } }
      agencies(first: 3) { edges { node { code kind } } }
      assignments(first: 3) { edges { node { part agency { code } } } }
      events(first: 3) { totalCount }
    } }
  }
}`

// factQueries bounds the queries the access policy may add to a request,
// whatever its size: one a kind of fact a field condition asks (on a case,
// in the proceedings, referred, consents, emergency grants, and the same
// for suspects' cases), each asked once for every row already loaded.
const factQueries = 8

// TestNestedPageStatementCount fails if loading a page of cases with their
// victims, prosecutions and agencies costs a statement per row: 100 cases
// may cost no more than 10 do, give or take the policy's fact queries.
// Each nested page is one statement a level: a proceeding's
// defendantsConnection and a case's prosecutions ordered by deadline too
// (eighteenth session), and a suspect's prosecutionsConnection
// (nineteenth).
func TestNestedPageStatementCount(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, n := startCountedDemo(t, db)
		// The General Prosecution Office sees every case; its prosecutors
		// read victims' identity where the office is on the proceeding.
		token := s.Token(t, "prosecution-general", viewer.RoleProsecutor)
		count := func(size int) int64 {
			n.All.Store(0)
			r := s.Do(t, token, nestedCasesQuery, map[string]any{"n": size})
			var data struct {
				Cases struct {
					Edges []struct {
						Node struct{ Victims struct{ TotalCount int } }
					}
				}
			}
			r.Decode(t, &data)
			if len(data.Cases.Edges) != size {
				t.Fatalf("want %d cases, got %d\n%s", size, len(data.Cases.Edges), r.Body)
			}
			for _, e := range r.Errors {
				if e.Code() != "FORBIDDEN" {
					t.Fatalf("unexpected error: %s", r.Body)
				}
			}
			return n.All.Load()
		}
		small, mid, big := count(10), count(50), count(100)
		t.Logf("%s: %d statements for 10 cases, %d for 50, %d for 100", db.Dialect, small, mid, big)
		if big > small+factQueries || mid > small+factQueries {
			t.Errorf("statements grow with the page: %d for 10 cases, %d for 50, %d for 100", small, mid, big)
		}
		if big > 40 {
			t.Errorf("%d statements for one page is more than the nesting needs", big)
		}
	})
}

// grantsPage is what a data protection officer's review of emergency
// access shows: each grant with the reference of its case (caseReference
// exists so that the reviewer, who sees no case, can name it).
const grantsPage = `query ($n: Int!) {
  emergencyGrants(first: $n, orderBy: {field: GRANTED_AT, direction: DESC}) {
    totalCount
    edges { node { subject justification grantedAt expiresAt revokedAt caseID caseReference agency { code } } }
  }
}`

// TestEmergencyGrantsPageCostsNoStatementPerGrant: a DPO's page of the
// agency's emergency grants with caseReference costs as many SQL
// statements for 50 grants as for 5: the cases of the page's grants are
// looked up in one statement (graph/case_lookup.go). Until 2026-12-06
// caseReference read the case of each grant with a statement of its own
// (53 statements for 50 grants against 8 for 5, on SQLite and
// PostgreSQL), so a DPO's review grew a statement per grant, up to 500 a
// request.
func TestEmergencyGrantsPageCostsNoStatementPerGrant(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, n := startCountedDemo(t, db)
		// Sixty grants of the General Directorate's investigators (five a
		// person a day at most), each on a case of its own, made through
		// the API.
		ctx := viewer.SystemContext(context.Background())
		cases := db.Client.CaseFile.Query().Limit(60).AllX(ctx)
		if len(cases) < 60 {
			t.Fatalf("the demo data has %d cases; the test needs 60", len(cases))
		}
		references := map[string]string{} // global id → reference
		for _, c := range cases {
			references[testserver.GlobalID(c.ID)] = c.Reference
		}
		const request = `mutation ($case: ID!) { requestEmergencyAccess(caseID: $case, justification: "Victim missing since last night; need her phone to locate her.", hours: 1) { id caseReference } }`
		var who testserver.Principal
		for i, c := range cases {
			if i%5 == 0 {
				subject := fmt.Sprintf("investigator-%d@police-gd", i/5)
				tok, err := s.Issuer.Issue(subject, "police-gd", []viewer.Role{viewer.RoleInvestigator}, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				who = testserver.Principal{Token: tok, Subject: subject, Agency: "police-gd"}
			}
			// The payload's caseReference is read in the mutation's transaction.
			g := testserver.Call[struct{ ID, CaseReference string }](t, s, who, request, map[string]any{"case": testserver.GlobalID(c.ID)})
			if g.CaseReference != c.Reference {
				t.Fatalf("the grant on case %s answers caseReference %q, want %q", c.Reference, g.CaseReference, c.Reference)
			}
		}
		dpo := s.Token(t, "police-gd", viewer.RoleDPO)
		count := func(size int) int64 {
			n.Reset()
			r := s.Ask(t, dpo, grantsPage, map[string]any{"n": size}).MustOK(t)
			var data struct {
				EmergencyGrants struct {
					TotalCount int
					Edges      []struct {
						Node struct{ CaseID, CaseReference string }
					}
				}
			}
			r.Decode(t, &data)
			if len(data.EmergencyGrants.Edges) != size || data.EmergencyGrants.TotalCount != len(cases) {
				t.Fatalf("want %d of %d grants, got %d of %d", size, len(cases), len(data.EmergencyGrants.Edges), data.EmergencyGrants.TotalCount)
			}
			for _, e := range data.EmergencyGrants.Edges {
				if want := references[e.Node.CaseID]; e.Node.CaseReference != want {
					t.Fatalf("a grant on case %s answers caseReference %q, want %q: %s", e.Node.CaseID, e.Node.CaseReference, want, r.Body)
				}
			}
			return n.All.Load() - n.InTx.Load()
		}
		count(5) // the first request of a principal fills the server's caches
		small, big := count(5), count(50)
		t.Logf("%s: %d statements for 5 grants, %d for 50", db.Dialect, small, big)
		if small != big {
			t.Errorf("statements grow with the page of emergency grants: %d for 5 grants, %d for 50 (caseReference reads each grant's case alone)", small, big)
		}
	})
}

// TestPagination walks victims forwards and backwards with a filter and an
// ordering, and checks that the pages tile the filtered, ordered list.
func TestPagination(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		seedDemo(t, db)
		s := testserver.Start(t, db)
		token := s.Token(t, "onac", viewer.RoleCoordinator)
		const query = `query ($first: Int, $after: Cursor, $last: Int, $before: Cursor) {
  victims(first: $first, after: $after, last: $last, before: $before,
          where: {ageGroup: MINOR, sexIn: [FEMALE]},
          orderBy: [{field: IDENTIFIED_AT, direction: DESC}, {field: PSEUDONYM}]) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id pseudonym ageGroup sex identifiedAt } }
  }
}`
		type page struct {
			Victims struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage, HasPreviousPage bool
					StartCursor, EndCursor       *string
				}
				Edges []struct {
					Cursor string
					Node   struct{ ID, Pseudonym, AgeGroup, Sex, IdentifiedAt string }
				}
			}
		}
		fetch := func(vars map[string]any) page {
			var p page
			s.Do(t, token, query, vars).MustOK(t).Decode(t, &p)
			return p
		}
		// walk fetches the pages that vars(cursor) asks for until next, given
		// each page, says there is none after it; more than 100 pages fail.
		walk := func(direction string, vars func(cursor any) map[string]any, next func(page) (cursor any, more bool)) {
			var cursor any
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatalf("%s pagination does not end", direction)
				}
				var more bool
				if cursor, more = next(fetch(vars(cursor))); !more {
					return
				}
			}
		}
		var forward []string
		walk("forward", func(after any) map[string]any { return map[string]any{"first": 25, "after": after} }, func(p page) (any, bool) {
			for _, e := range p.Victims.Edges {
				if e.Node.AgeGroup != "MINOR" || e.Node.Sex != "FEMALE" {
					t.Fatalf("filter leaked %s (%s, %s)", e.Node.Pseudonym, e.Node.AgeGroup, e.Node.Sex)
				}
				forward = append(forward, e.Node.Pseudonym)
			}
			if !p.Victims.PageInfo.HasNextPage {
				if len(forward) != p.Victims.TotalCount {
					t.Fatalf("walked %d victims, totalCount says %d", len(forward), p.Victims.TotalCount)
				}
				return nil, false
			}
			return *p.Victims.PageInfo.EndCursor, true
		})
		if len(forward) < 100 {
			t.Fatalf("only %d minor female victims in the demo data; the test needs several pages", len(forward))
		}
		seen := map[string]bool{}
		for _, v := range forward {
			if seen[v] {
				t.Fatalf("%s appears twice while paging forwards", v)
			}
			seen[v] = true
		}
		// Backwards from the end must give the same list reversed.
		var backward []string
		walk("backward", func(before any) map[string]any { return map[string]any{"last": 25, "before": before} }, func(p page) (any, bool) {
			for i := len(p.Victims.Edges) - 1; i >= 0; i-- {
				backward = append(backward, p.Victims.Edges[i].Node.Pseudonym)
			}
			if !p.Victims.PageInfo.HasPreviousPage {
				return nil, false
			}
			return *p.Victims.PageInfo.StartCursor, true
		})
		if len(backward) != len(forward) {
			t.Fatalf("backwards gave %d victims, forwards %d", len(backward), len(forward))
		}
		for i := range forward {
			if forward[i] != backward[len(backward)-1-i] {
				t.Fatalf("position %d: forwards %s, backwards %s", i, forward[i], backward[len(backward)-1-i])
			}
		}
		// The order is the one asked for.
		var last string
		p := fetch(map[string]any{"first": 200})
		for _, e := range p.Victims.Edges {
			if last != "" && e.Node.IdentifiedAt > last {
				t.Fatalf("not ordered by identifiedAt descending: %s after %s", e.Node.IdentifiedAt, last)
			}
			last = e.Node.IdentifiedAt
		}
	})
}

// TestPageSizeLimits refuses pages beyond the maximum and defaults an
// unbounded list to a bounded page.
func TestPageSizeLimits(t *testing.T) {
	db := testdb.SQLite(t)
	seedDemo(t, db)
	s := testserver.Start(t, db)
	token := s.Token(t, "onac", viewer.RoleCoordinator)
	r := s.Do(t, token, `{ victims(first: 100000) { totalCount } }`, nil)
	if got := r.Codes(); len(got) != 1 || got[0] != "BAD_USER_INPUT" {
		t.Fatalf("first: 100000: want BAD_USER_INPUT, got %v\n%s", got, r.Body)
	}
	// An Int is a number: a string of digits is refused, not read as
	// one (gqlgen's own Int did), and says what an Int is.
	for _, n := range []any{"3", json.Number("3.5")} {
		r = s.Do(t, token, `query ($n: Int) { victims(first: $n) { totalCount } }`, map[string]any{"n": n})
		if got := r.Codes(); len(got) != 1 || got[0] != "BAD_USER_INPUT" || strings.Contains(string(r.Body), "totalCount") {
			t.Errorf("first: %#v: want BAD_USER_INPUT and no answer, got %s", n, r.Body)
		}
	}
	if r = s.Do(t, token, `query ($n: Int) { victims(first: $n) { totalCount } }`, map[string]any{"n": "3"}); !strings.Contains(string(r.Body), "whole number") {
		t.Errorf(`first: "3": want a message saying what an Int is, got %s`, r.Body)
	}
	s.Do(t, token, `query ($n: Int) { victims(first: $n) { totalCount } }`, map[string]any{"n": 3}).MustOK(t)
	var data struct {
		Victims struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	s.Do(t, token, `{ victims { totalCount edges { node { id } } } }`, nil).MustOK(t).Decode(t, &data)
	if data.Victims.TotalCount <= 50 || len(data.Victims.Edges) != 50 {
		t.Fatalf("an unbounded list should give the default page of 50 of %d, got %d", data.Victims.TotalCount, len(data.Victims.Edges))
	}
}

// TestGraphiQLIntrospection: the query GraphiQL sends for its
// documentation explorer is answered whole. It reads a dozen fields of
// every type, field and argument, far more than the cost model's point
// for each, and was stopped past its fields budget.
func TestGraphiQLIntrospection(t *testing.T) {
	s := testserver.Start(t, testdb.SQLite(t))
	query, err := os.ReadFile("../cost/testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Schema struct {
			Types []struct{ Name string }
		} `json:"__schema"`
	}
	token := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	s.Do(t, token, string(query), nil).MustOK(t).Decode(t, &data)
	if len(data.Schema.Types) < 100 {
		t.Errorf("the schema lists %d types", len(data.Schema.Types))
	}
	// Introspection nested as deep as a query asks (the types of the
	// fields of the types …) is refused by validation's rule
	// (MaxIntrospectionDepth); the fields it may resolve past its budget
	// are bounded as well (introspectionFields).
	nested := `{ __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }`
	if r := s.Do(t, token, nested, nil); len(r.Errors) == 0 || len(r.Data) > 0 && string(r.Data) != "null" {
		t.Errorf("nested introspection answered: %.300s", r.Body)
	}
}

// TestReferralCaseOutsideTheRows: a referral is seen through its victim;
// its case may be outside the caller's rows, and then its caseID is null,
// as its case is: the id named a case that node(id:) says does not exist,
// and told a prosecutor which victims share a case they cannot see (a
// helper's hunt). The cases of a page of referrals are looked up in one
// statement, whatever its size.
func TestReferralCaseOutsideTheRows(t *testing.T) {
	db := testdb.SQLite(t)
	s, n := startCountedDemo(t, db)
	token := s.Token(t, "prosecution-tirane", viewer.RoleProsecutor)
	s.Do(t, token, `{ viewer { subject } }`, nil).MustOK(t) // loads the agency
	page := func(size int) (referrals []struct {
		ID     string
		CaseID *string
		Case   *struct{ ID string }
	}, statements int64) {
		var data struct {
			Referrals struct {
				Edges []struct {
					Node struct {
						ID     string
						CaseID *string
						Case   *struct{ ID string }
					}
				}
			}
		}
		n.All.Store(0)
		s.Do(t, token, `query ($n: Int) { referrals(first: $n) { edges { node { id caseID case { id } } } } }`, map[string]any{"n": size}).MustOK(t).Decode(t, &data)
		statements = n.All.Load()
		for _, e := range data.Referrals.Edges {
			referrals = append(referrals, e.Node)
		}
		return referrals, statements
	}
	all, statements := page(500)
	stored := map[string]bool{} // referrals with a case, as stored
	ctx := viewer.SystemContext(context.Background())
	for _, r := range db.Client.Referral.Query().Where(referral.CaseIDNotNil()).AllX(ctx) {
		stored[strconv.Itoa(r.ID)] = true
	}
	hidden := 0
	for _, r := range all {
		switch {
		case (r.CaseID == nil) != (r.Case == nil):
			t.Errorf("referral %s: caseID %v, case %v: want both or neither", r.ID, r.CaseID, r.Case)
		case r.Case != nil && *r.CaseID != r.Case.ID:
			t.Errorf("referral %s: caseID %s, case %s", r.ID, *r.CaseID, r.Case.ID)
		case r.CaseID == nil && stored[r.ID]:
			hidden++
		}
	}
	if hidden == 0 || len(all) < 50 {
		t.Fatalf("of %d referrals, none had a case outside the prosecutor's rows: the demo data does not exercise it", len(all))
	}
	if _, fewer := page(20); statements != fewer {
		t.Errorf("%d statements for 500 referrals, %d for 20: the cases are not looked up together", statements, fewer)
	}
	// Nested under a list of victims too: one lookup for the whole page.
	nested := func(victims int, field string) int64 {
		n.All.Store(0)
		s.Do(t, token, `query ($n: Int) { victims(first: $n) { edges { node { referrals(first: 20) { edges { node { id `+field+` } } } } } } }`,
			map[string]any{"n": victims}).MustOK(t)
		return n.All.Load()
	}
	for _, victims := range []int{5, 50} {
		if with, without := nested(victims, "caseID"), nested(victims, ""); with != without+1 {
			t.Errorf("%d victims' referrals: %d statements with caseID, %d without; want one more", victims, with, without)
		}
	}
	// Nor is a case a filter of referrals: `caseID: X` would tell whether
	// the victim's referral belongs to hidden case X.
	if r := s.Do(t, token, `{ referrals(first: 5, where: {caseIDNotNil: true}) { totalCount } }`, nil); !slices.Equal(r.Codes(), []string{"BAD_USER_INPUT"}) {
		t.Errorf("referrals filtered by their case: %s", r.Body)
	}
}

// TestAnswerStopsAtItsSizeLimit: a query whose texts pass the answer's
// size limit is refused as before (TOO_COMPLEX, responseBytes, no data),
// and stops there: the cost model counts values, not their length, so an
// answer of long texts was built whole (160 MB for 20 pages of health
// notes) before it was refused. Nothing after the overflow is resolved:
// the second root field sends no statement.
func TestAnswerStopsAtItsSizeLimit(t *testing.T) {
	db := testdb.SQLite(t)
	seedDemo(t, db)
	counted, n := testdb.CountingByKind(db)
	s := testserver.Start(t, counted, testserver.Options{Config: server.Config{MaxResponseBytes: 1_000}})
	token := s.Token(t, "onac", viewer.RoleCoordinator)
	s.Do(t, token, `{ viewer { subject } }`, nil).MustOK(t) // loads the agency
	ask := func(q string) (*testserver.Response, int64) {
		n.All.Store(0)
		return s.Do(t, token, q, nil), n.All.Load()
	}
	const long = `a: victims(first: 200) { edges { node { pseudonym } } }`
	alone, aloneStatements := ask(`{ ` + long + ` }`)
	both, bothStatements := ask(`{ ` + long + ` b: cases(first: 100) { edges { node { reference title } } } }`)
	for _, r := range []*testserver.Response{alone, both} {
		if len(r.Errors) != 1 || r.Errors[0].Code() != "TOO_COMPLEX" || r.Errors[0].Extensions["limit"] != "responseBytes" || (len(r.Data) != 0 && string(r.Data) != "null") {
			t.Fatalf("want the answer refused, TOO_COMPLEX on responseBytes, got %.400s", r.Body)
		}
	}
	if bothStatements != aloneStatements {
		t.Errorf("the field after the overflow sent %d statements (%d with it, %d without)", bothStatements-aloneStatements, bothStatements, aloneStatements)
	}
}

// TestNodeForEveryType resolves one record of every node type through
// node(id:) and nodes(ids:), and checks that an id naming nothing is null
// with NOT_FOUND.
func TestNodeForEveryType(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		seedDemo(t, db)
		s := testserver.Start(t, db)
		// The national coordinator sees every row; an emergency grant is
		// visible to the person it was granted to.
		token := s.Token(t, "onac", viewer.RoleCoordinator)
		ctx := viewer.SystemContext(context.Background())
		c := db.Client
		onac := c.Agency.Query().Where(agency.Code("onac")).OnlyX(ctx)
		caseID := c.CaseFile.Query().FirstIDX(ctx)
		c.EmergencyGrant.Create().SetSubject("test-coordinator@onac").SetAgencyID(onac.ID).SetCaseID(caseID).
			SetJustification("test of node resolution for every type").SetExpiresAt(time.Now().Add(time.Hour)).ExecX(ctx)
		// Every type that implements Node is covered.
		for _, def := range servedSchema().Types {
			for _, iface := range def.Interfaces {
				if iface == "Node" {
					if _, ok := ent.NodeIDs[def.Name]; !ok {
						t.Errorf("node type %s is not covered by this test", def.Name)
					}
				}
			}
		}
		var all []string
		for typ, list := range ent.NodeIDs {
			ids, err := list(ctx, c)
			if err != nil || len(ids) == 0 {
				t.Fatalf("%s: %d rows, %v", typ, len(ids), err)
			}
			gid := fmt.Sprint(ids[0])
			all = append(all, gid)
			var data struct{ Node struct{ Typename, ID string } }
			s.Do(t, token, `query ($id: ID!) { node(id: $id) { typename: __typename id } }`, map[string]any{"id": gid}).MustOK(t).Decode(t, &data)
			if data.Node.Typename != typ || data.Node.ID != gid {
				t.Errorf("node(%s) = %s %s, want %s", gid, data.Node.Typename, data.Node.ID, typ)
			}
		}
		var many struct{ Nodes []*struct{ ID string } }
		s.Do(t, token, `query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": all}).MustOK(t).Decode(t, &many)
		if len(many.Nodes) != len(all) {
			t.Fatalf("nodes gave %d, want %d", len(many.Nodes), len(all))
		}
		for i, n := range many.Nodes {
			if n == nil || n.ID != all[i] {
				t.Errorf("nodes[%d] = %v, want %s", i, n, all[i])
			}
		}
		// An id that names nothing, of a known type's range and of none.
		for _, missing := range []string{"51539999999", "999999999999999"} {
			r := s.Do(t, token, `query ($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": missing})
			if string(r.Data) != `{"node":null}` || len(r.Errors) != 1 || r.Errors[0].Code() != "NOT_FOUND" {
				t.Errorf("node(%s): want null with NOT_FOUND, got %s", missing, r.Body)
			}
			r = s.Do(t, token, `query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{all[0], missing}})
			if len(r.Errors) != 1 || r.Errors[0].Code() != "NOT_FOUND" {
				t.Errorf("nodes([%s, %s]): want one NOT_FOUND, got %s", all[0], missing, r.Body)
			}
		}
		// An id is read only as the server writes it: with a sign or a
		// leading zero it found the record, which then answered with
		// another id than the one asked.
		for _, written := range []string{"0" + all[0], "+" + all[0], "-1", " " + all[0]} {
			r := s.Do(t, token, `query ($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": written})
			if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || strings.Contains(string(r.Body), all[0]+`"}`) ||
				!strings.Contains(r.Errors[0].Message, "string of digits") {
				t.Errorf("node(%q): want BAD_USER_INPUT saying what an id is, and no record, got %s", written, r.Body)
			}
		}
		// The same for a literal in the document; a whole number is an id.
		for literal, code := range map[string]string{"-5": "BAD_USER_INPUT", all[0]: ""} {
			r := s.Do(t, token, `{ node(id: `+literal+`) { id } }`, nil)
			if got := r.Codes(); (code == "" && len(got) != 0) || (code != "" && (len(got) != 1 || got[0] != code)) {
				t.Errorf("node(id: %s): codes %v, want %q:\n%s", literal, got, code, r.Body)
			}
		}
	})
}

// TestDeferredFieldsInTheOneAnswer: the server resolves a request's fields
// in order and has no incremental delivery, so fields a client marks with
// @defer come in the one answer, exactly as if unmarked, and are checked
// and audited alike (the same data, the same errors, the same statements).
// gqlgen's own executor set deferred resolver fields aside for a later
// part of the answer, which this transport never sends: they came as null.
func TestDeferredFieldsInTheOneAnswer(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, n := startCountedDemo(t, db)
		// Tirana's office reads the identity of its cases' victims; the
		// General Prosecution Office's is refused: both kinds of answer.
		for _, agencyCode := range []string{"prosecution-tirane", "prosecution-general"} {
			token := s.Token(t, agencyCode, viewer.RoleProsecutor)
			ask := func(victimFields string) (*testserver.Response, int64) {
				n.All.Store(0)
				q := `{ cases(first: 20, orderBy: [{field: OPENED_AT, direction: DESC}]) { edges { node {
				  reference victims(first: 10) { edges { node { pseudonym ` + victimFields + ` } } } } } } }`
				return s.Do(t, token, q, nil), n.All.Load()
			}
			ask(`legalName`) // the first request of a principal also loads its agency
			plain, plainStatements := ask(`legalName dateOfBirth cases { totalCount }`)
			deferred, deferredStatements := ask(`... @defer { legalName dateOfBirth cases { totalCount } }`)
			if string(plain.Data) != string(deferred.Data) {
				t.Errorf("%s: deferred fields answer otherwise:\n%s\nagainst\n%s", agencyCode, deferred.Data, plain.Data)
			}
			if len(plain.Errors) != len(deferred.Errors) {
				t.Errorf("%s: %d errors with @defer, %d without", agencyCode, len(deferred.Errors), len(plain.Errors))
			}
			if plainStatements != deferredStatements {
				t.Errorf("%s: %d statements with @defer, %d without", agencyCode, deferredStatements, plainStatements)
			}
			if !strings.Contains(string(plain.Data), `"legalName"`) {
				t.Fatalf("%s: the page has no victim: %s", agencyCode, plain.Body)
			}
		}
	})
}
