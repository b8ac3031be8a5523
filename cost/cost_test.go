package cost_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/cost"
	"github.com/casegraph/casegraph/graph"
)

var schema = graph.NewExecutableSchema(graph.Config{}).Schema()

// measure validates query against the served schema and measures it.
func measure(t *testing.T, query string, vars map[string]any, l cost.Limits) (cost.Report, error) {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(schema, query, nil)
	if len(errs) > 0 {
		t.Fatalf("the query does not validate: %v", errs)
	}
	return cost.Measure(cost.NewSchema(schema), doc, doc.Operations[0], vars, l)
}

// TestCost pins the model on documents whose cost is worked out by hand:
// one point a field, the children of a connection's edges and nodes
// multiplied by its page (50 when it names none), nodes(ids:) by its ids.
func TestCost(t *testing.T) {
	l := cost.DefaultLimits()
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		want        int
	}{
		// cases 1 + edges (1 + 3 × (node 1 + reference 1))
		{"a page of three", `{ cases(first: 3){ edges{ node{ reference } } } }`, nil, 8},
		// totalCount is not multiplied: 1 + 1
		{"a count alone", `{ cases{ totalCount } }`, nil, 2},
		// victims 1 + edges (1 + 50 × 2) = 102; node 1 + 102; edges 1 + 2 × 103; cases 1 + 207
		{"a nested connection without a page gets 50", `{ cases(first: 2){ edges{ node{ victims{ edges{ node{ pseudonym } } } } } } }`, nil, 208},
		{"the same through a fragment", `{ cases(first: 2){ ...C } } fragment C on CaseConnection { edges{ node{ victims{ edges{ node{ pseudonym } } } } } }`, nil, 208},
		{"the same through an inline fragment", `{ cases(first: 2){ ... on CaseConnection { edges{ node{ victims{ edges{ node{ pseudonym } } } } } } } }`, nil, 208},
		// a connection's own fields under aliases cost what they do under
		// their names: edges and node are the field they are
		{"aliased edges and node", `{ cases(first: 3){ page: edges{ item: node{ ref: reference } } } }`, nil, 8},
		{"aliased totalCount", `{ cases{ n: totalCount } }`, nil, 2},
		{"aliased nested edges", `{ cases(first: 2){ e: edges{ n: node{ v: victims{ p: edges{ x: node{ pseudonym } } } } } } }`, nil, 208},
		// two aliases cost twice
		{"aliases count", `{ a: cases(first: 3){ edges{ node{ reference } } } b: cases(first: 3){ edges{ node{ reference } } } }`, nil, 16},
		// last counts like first
		{"last", `{ cases(last: 4){ edges{ node{ reference } } } }`, nil, 10},
		// page from a variable
		{"a page from a variable", `query($n: Int){ cases(first: $n){ edges{ node{ reference } } } }`, map[string]any{"n": int64(7)}, 16},
		// a null variable: the default page
		{"a null page is the default", `query($n: Int){ cases(first: $n){ edges{ node{ reference } } } }`, map[string]any{"n": nil}, 102},
		// nodes 1 + 3 × (lookup 20 + id 1)
		{"ids are looked up", `{ nodes(ids: ["1", "2", "3"]){ id } }`, nil, 64},
		// node 1 + lookup 20 + id 1
		{"an id is looked up", `{ node(id: "1"){ id } }`, nil, 22},
		// a proceeding's defendants as a connection, by its first:
		// defendantsConnection 1 + edges (1 + 30 × 2) = 62; node 63; edges 1 + 50 × 63; prosecutions 1 + 3,151
		{"defendants by their page", `{ prosecutions(first: 50){ edges{ node{ defendantsConnection(first: 30){ edges{ node{ pseudonym } } } } } } }`, nil, 3152},
		// without a page, the default one: 1 + (1 + 50 × 2) = 102; node 103; edges 1 + 2 × 103; 1 + 207
		{"defendants without a page get 50", `{ prosecutions(first: 2){ edges{ node{ defendantsConnection{ edges{ node{ pseudonym } } } } } } }`, nil, 208},
		// the deprecated list is priced as the connection's default page:
		// defendants 1 + 50 × 1 = 51; node 52; edges 1 + 2 × 52; prosecutions 1 + 105
		{"the list of defendants counts 50", `{ prosecutions(first: 2){ edges{ node{ defendants{ pseudonym } } } } }`, nil, 106},
		// a suspect's proceedings likewise: prosecutionsConnection 1 + edges (1 + 30 × 2) = 62; node 63; edges 1 + 50 × 63; suspects 1 + 3,151
		{"a suspect's proceedings by their page", `{ suspects(first: 50){ edges{ node{ prosecutionsConnection(first: 30){ edges{ node{ registrationNumber } } } } } } }`, nil, 3152},
		// and their deprecated list as 50: prosecutions 1 + 50 × 1 = 51; node 52; edges 1 + 2 × 52; suspects 1 + 105
		{"the list of a suspect's proceedings counts 50", `{ suspects(first: 2){ edges{ node{ prosecutions{ registrationNumber } } } } }`, nil, 106},
		// policyChanges is a plain list with a page: 1 + 50 × (1 + 1)
		{"a plain list with a page", `{ policyChanges{ reason at } }`, nil, 101},
		// the access matrix costs building it, whatever is read of it
		{"a field of fixed cost", `{ accessMatrix{ cells{ role kind object action allowed condition } } }`, nil, 5000},
		// each field once under a field of fixed cost: merged under one
		// name, from fragments too; two tables are two costs
		{"fields of a fixed cost asked once", `{ a: caseStatistics{ cells{ count } cells{ count ...C } total{ count } }
			b: caseStatistics(groupBy: [REGION]){ cells{ values count } } } fragment C on StatisticsCell { count suppressed }`, nil, 2000},
		// a mutation's input lists: 1 + 3 case ids × lookup 20 + id 1
		{"a mutation's ids are looked up", `mutation($c: [ID!]){ registerVictim(input: {pseudonym: "V-2026-0001", sex: FEMALE, ageGroup: ADULT,
			identificationStatus: POTENTIAL_VICTIM, identifiedBy: STATE_POLICE, identifiedAt: "2026-01-01T00:00:00Z", region: TIRANE,
			formsOfExploitation: [SEXUAL]}, caseIDs: $c){ id } }`, map[string]any{"c": []any{"1", "2", "3"}}, 1 + (3+1)*20 + 1 + 250},
		// a policy line is one item, whatever its length: 1 + 2 × 20 + 1,
		// and the mutation's own work (MutationCost)
		{"a policy change's lines", `mutation{ changePolicy(add: [["p", "judge", "court", "Victim:CONTACT", "read", "proceedings"], ["g2", "NGO_SHELTER", "support"]],
			reason: "Two lines for a test"){ added } }`, nil, 1 + 2*20 + 1 + 250},
		// each mutation field pays for its own work: three that change
		// nothing cost 3 × (1 + 1 + 250) whatever their payload asks
		{"each mutation's own work", `mutation{ a: withdrawConsent(id: "1", expectedVersion: 1){ id } b: withdrawConsent(id: "2", expectedVersion: 1){ id } c: withdrawConsent(id: "3", expectedVersion: 1){ id } }`, nil, 3 * (1 + 1 + 250)},
		// a where's list items count as fields: 8 + 3 (until 2026-12-07,
		// nineteenth session, a query's filter lists were not charged)
		{"a where's values", `{ cases(first: 3, where: {referenceIn: ["A", "B", "C"]}){ edges{ node{ reference } } } }`, nil, 11},
		// cases 1 + (totalCount 1 + 3 items) + 3 ids × 10, looked up once
		{"a where's ids are looked up", `{ cases(where: {idIn: ["1", "2", "3"]}){ totalCount } }`, nil, 1 + (1 + 3) + 3*10},
		{"an id alone", `{ cases(where: {id: "1"}){ totalCount } }`, nil, 1 + 1 + 10},
		// or's 2 items + idNotIn's 2; ids 1 + 2, nots not followed
		{"ids through or and not", `{ cases(where: {or: [{id: "1"}, {not: {idNotIn: ["2", "3"]}}]}){ totalCount } }`, nil, 1 + (1 + 4) + 3*10},
		{"ids from a variable", `query($ids: [ID!]){ cases(where: {idIn: $ids}){ totalCount } }`, map[string]any{"ids": []any{"1", "2"}}, 1 + (1 + 2) + 2*10},
		// prosecutions 1 + (1 + 3); node 1 + 5; edges 1 + 50 × 6; cases 1 +
		// 301; the ids' look-up once for the field, not for each case: + 30
		{"a nested where's ids are looked up once", `{ cases(first: 50){ edges{ node{ prosecutions(where: {idIn: ["1", "2", "3"]}){ totalCount } } } } }`, nil, 302 + 30},
		// the foreign keys are values, not ids looked up
		{"a foreign key", `{ cases(where: {leadAgencyIDIn: ["1", "2"]}){ totalCount } }`, nil, 1 + 1 + 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := measure(t, tc.query, tc.vars, l)
			if err != nil {
				t.Fatal(err)
			}
			if r.Cost != tc.want {
				t.Errorf("cost %d, want %d", r.Cost, tc.want)
			}
		})
	}
}

// TestEverydayDocumentsPass: the limits let the pages people use through.
func TestEverydayDocumentsPass(t *testing.T) {
	l := cost.DefaultLimits()
	for name, q := range map[string]string{
		"README's dashboard page": `{ cases(first: 50){ edges{ node{ reference stage leadAgency{ name }
			victims(first: 20){ edges{ node{ pseudonym sex legalName } } }
			prosecutions(first: 10){ edges{ node{ registrationNumber stage charges(first: 10){ edges{ node{ article } } } } } } } } } }`,
		"README's example":           readmeExample,
		"a DPO's page of 500 events": `{ auditEvents(first: 500){ edges{ node{ seq occurredAt kind actorSubject actorAgency entityType entity fields decision reason } } } }`,
		"GraphiQL's introspection":   readFile(t, "testdata/introspection.graphql"),
		// A where's largest list (docs/input.md), a page of 500 of them
		"a pull of 1,000 cases by id": pullByID(1000),
	} {
		t.Run(name, func(t *testing.T) {
			if err := cost.CheckText(q, l); err != nil {
				t.Fatal(err)
			}
			r, err := measure(t, q, nil, l)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("cost %d, depth %d", r.Cost, r.Depth)
		})
	}
}

// readmeExample is README's example query; keep them the same.
const readmeExample = `{
  viewer { subject roles agency { code name } }
  cases(first: 5, where: {region: TIRANE}, orderBy: [{field: OPENED_AT, direction: DESC}]) {
    totalCount
    edges {
      node {
        id reference stage openedAt
        leadAgency { code }
        victims(first: 10) { totalCount edges { node { pseudonym ageGroup identificationStatus legalName } } }
        prosecutions(first: 5) { edges { node { registrationNumber stage investigationDeadline charges(first: 10) { edges { node { article reclassifiedFrom } } } } } }
        assignments(first: 10) { edges { node { part agency { code } } } }
      }
    }
  }
}`

func TestRefusals(t *testing.T) {
	l := cost.DefaultLimits()
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		code        apperr.Code
		field       string
		limit       string
	}{
		{"first over the maximum on a nested list", `{ cases(first: 2){ edges{ node{ victims(first: 501){ totalCount } } } } }`, nil,
			apperr.BadUserInput, "cases.edges.node.victims.first", ""},
		{"a negative first on a nested list", `{ cases(first: 2){ edges{ node{ victims(first: -1){ totalCount } } } } }`, nil,
			apperr.BadUserInput, "cases.edges.node.victims.first", ""},
		{"a negative last under an alias", `{ c: cases(last: -5){ totalCount } }`, nil, apperr.BadUserInput, "c.last", ""},
		{"first over the maximum on a proceeding's defendants", `{ prosecutions(first: 2){ edges{ node{ defendantsConnection(first: 501){ totalCount } } } } }`, nil,
			apperr.BadUserInput, "prosecutions.edges.node.defendantsConnection.first", ""},
		{"last over the maximum on a suspect's proceedings", `{ suspects(first: 2){ edges{ node{ prosecutionsConnection(last: 501){ totalCount } } } } }`, nil,
			apperr.BadUserInput, "suspects.edges.node.prosecutionsConnection.last", ""},
		{"first from a variable, too large", `query($n: Int){ cases(first: $n){ totalCount } }`, map[string]any{"n": int64(100000)},
			apperr.BadUserInput, "cases.first", ""},
		{"more than 500 ids", `query($ids: [ID!]!){ nodes(ids: $ids){ id } }`, map[string]any{"ids": make([]any, 501)},
			apperr.BadUserInput, "nodes.ids", ""},
		{"over the cost ceiling", `{ agencies(first: 500){ edges{ node{ cases{ edges{ node{ reference } } } } } } }`, nil,
			apperr.TooComplex, "", "cost"},
		// A fixed cost pays for reading once what the field builds: a
		// field asked for again under another name resolves again for
		// every cell.
		{"a field asked twice under a field of fixed cost", `{ caseStatistics{ cells{ count c: count } } }`, nil,
			apperr.TooComplex, "", "fixedCostAliases"},
		{"a list asked twice under a field of fixed cost", `{ accessMatrix{ a: cells{ allowed } b: cells{ allowed } } }`, nil,
			apperr.TooComplex, "", "fixedCostAliases"},
		{"a field asked twice in the merged selections of a list", `{ accessMatrix{ cells{ allowed } cells{ a: allowed } } }`, nil,
			apperr.TooComplex, "", "fixedCostAliases"},
		{"a field asked twice through fragments", `{ policyWhatIf{ ...A ... on PolicyCellChange { b: before } } } fragment A on PolicyCellChange { before }`, nil,
			apperr.TooComplex, "", "fixedCostAliases"},
		{"__typename asked twice under a field of fixed cost", `{ accessMatrix{ cells{ a: __typename b: __typename } } }`, nil,
			apperr.TooComplex, "", "fixedCostAliases"},
		{"three introspections", `{ a: __schema{ queryType{ name } } b: __schema{ queryType{ name } } c: __type(name: "Case"){ name } }`, nil,
			apperr.TooComplex, "", "introspection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := measure(t, tc.query, tc.vars, l)
			var ae *apperr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("want an *apperr.Error, got %v", err)
			}
			if ae.Code != tc.code || ae.Field != tc.field {
				t.Errorf("got %s on %q (%s), want %s on %q", ae.Code, ae.Field, ae.Message, tc.code, tc.field)
			}
			if tc.limit != "" && ae.Details["limit"] != tc.limit {
				t.Errorf("limit %v, want %s", ae.Details["limit"], tc.limit)
			}
			if tc.limit == "cost" && (ae.Details["value"] == nil || ae.Details["maximum"] != l.MaxCost) {
				t.Errorf("the refusal does not carry the cost and the ceiling: %v", ae.Details)
			}
		})
	}
}

func TestCheckText(t *testing.T) {
	l := cost.DefaultLimits()
	chain := func(n int) string {
		var b strings.Builder
		b.WriteString("{ viewer { ...F0 } }")
		for i := range n {
			b.WriteString(" fragment F" + itoa(i) + " on Viewer { ...F" + itoa(i+1) + " }")
		}
		return b.String() + " fragment F" + itoa(n) + " on Viewer { subject }"
	}
	// Each level asks for its parent twice, under one name (merged, so no
	// alias): 2^levels fields once expanded, a few hundred bytes of text.
	bomb := func(levels int) string {
		var b strings.Builder
		b.WriteString("{ viewer { agency { ...B0 } } }")
		for i := range levels {
			b.WriteString(" fragment B" + itoa(i) + " on Agency { parent { ...B" + itoa(i+1) + " } parent { ...B" + itoa(i+1) + " } }")
		}
		return b.String() + " fragment B" + itoa(levels) + " on Agency { code }"
	}
	for _, tc := range []struct {
		name, query, limit string
	}{
		{"too many tokens", "{ " + strings.Repeat("__typename ", l.MaxTokens) + "}", "tokens"},
		{"too many fragments", chain(l.MaxFragments + 1), "fragments"},
		{"a fragment bomb", bomb(15), "fields"},
		// 400 fields under one name: 79,800 pairs (at most 2,000 fields,
		// 2 million pairs, were 29 KB of text).
		{"one name answered by many fields", "{ " + strings.Repeat("x: __typename x: viewer { subject } ", 200) + "}", "fieldPairs"},
		{"one name answered by many fields through fragments", "{ ...A ...A ...B } fragment A on Query { " + strings.Repeat("cases(first: 1) { totalCount } ", 130) +
			"} fragment B on Query { ... on Query { cases(first: 2) { totalCount } } " + strings.Repeat("cases(first: 3) { totalCount } ", 130) + "}", "fieldPairs"},
		// Validation merges the sub-selections of the fields of one name:
		// 39 times 49 fields under b are 1,911 under b in one selection.
		{"fields of one name under fields of one name", "{ " + strings.Repeat("a: viewer { "+strings.Repeat("b: subject b: roles ", 24)+"b: subject } ", 39) + "}", "fieldPairs"},
		{"too many aliases of a field", "{ " + aliases(l.MaxAliases+1, "v%d: viewer { subject } ") + "}", "aliases"},
		{"aliases of a field spread over inline fragments", "{ " + aliases(l.MaxAliases+1, "... on Query { v%d: viewer { subject } } ") + "}", "aliases"},
		{"aliases of a field spread over named fragments", "{ ...A ...B } fragment A on Query { " + aliases(l.MaxAliases/2+1, "a%d: viewer { subject } ") +
			"} fragment B on Query { ...C } fragment C on Query { " + aliases(l.MaxAliases/2+1, "b%d: viewer { subject } ") + "}", "aliases"},
		{"a long alias", "{ viewer { " + strings.Repeat("a", l.MaxAliasBytes+1) + ": subject } }", "aliasBytes"},
		{"a long alias in a fragment", "{ viewer { ...F } } fragment F on Viewer { " + strings.Repeat("a", l.MaxAliasBytes+1) + ": subject }", "aliasBytes"},
		{"too deep", "{ viewer { agency { " + strings.Repeat("parent { ", l.MaxDepth) + "code" + strings.Repeat(" }", l.MaxDepth) + " } } }", "depth"},
		// Validation's work on a value grows with the square of its depth.
		{"a value nested too deep", "{ cases(first: 5, where: " + nested(l.MaxValueDepth+1) + ") { totalCount } }", "valueDepth"},
		{"a list nested too deep", "{ nodes(ids: " + strings.Repeat("[", l.MaxValueDepth+1) + strings.Repeat("]", l.MaxValueDepth+1) + ") { id } }", "valueDepth"},
		{"a value nested too deep in a fragment", "{ ...F } fragment F on Query { cases(where: " + nested(980) + ") { totalCount } }", "valueDepth"},
		{"a directive's value nested too deep", "{ viewer @include(if: " + nested(l.MaxValueDepth+1) + ") { subject } }", "valueDepth"},
		{"a variable's default nested too deep", "query($w: CaseWhereInput = " + nested(l.MaxValueDepth+1) + ") { cases(where: $w) { totalCount } }", "valueDepth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cost.CheckText(tc.query, l)
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.TooComplex || ae.Details["limit"] != tc.limit {
				t.Fatalf("want TOO_COMPLEX on %s, got %v", tc.limit, err)
			}
		})
	}
	// Validation compares the fields of every fragment definition, used
	// or not: an unused one is refused before it does.
	t.Run("an unused fragment is refused", func(t *testing.T) {
		err := cost.CheckText("{ __typename } fragment F on Query { "+strings.Repeat("x: __typename x: viewer { subject } ", 1600)+"}", l)
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput || !strings.Contains(ae.Message, `"F" is never used`) {
			t.Fatalf("want BAD_USER_INPUT saying F is never used, got %v", err)
		}
	})
	t.Run("a cycle is left to validation", func(t *testing.T) {
		if err := cost.CheckText(`{ viewer { ...A } } fragment A on Viewer { ...B } fragment B on Viewer { ...A }`, l); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("just under the limits", func(t *testing.T) {
		if err := cost.CheckText(chain(l.MaxFragments-1), l); err != nil {
			t.Fatal(err)
		}
		if err := cost.CheckText("{ cases(first: 5, where: "+nested(l.MaxValueDepth)+") { totalCount } }", l); err != nil {
			t.Fatal(err)
		}
		if err := cost.CheckText("{ viewer { "+strings.Repeat("a", l.MaxAliasBytes)+": subject } }", l); err != nil {
			t.Fatal(err)
		}
		if err := cost.CheckText("{ ...A ...B } fragment A on Query { "+aliases(l.MaxAliases/2, "a%d: viewer { subject } ")+
			"} fragment B on Query { ...C } fragment C on Query { "+aliases(l.MaxAliases/2, "b%d: viewer { subject } ")+"}", l); err != nil {
			t.Fatal(err)
		}
	})
	// A field asked for many times under one name is one field, run once
	// (GraphQL merges them): many fragments each asking for a record's id,
	// as a client of many components sends, are not aliases.
	t.Run("one name many times is one field", func(t *testing.T) {
		if err := cost.CheckText("{ "+strings.Repeat("... on Query { v: viewer { subject } } ", 3*l.MaxAliases)+"}", l); err != nil {
			t.Fatal(err)
		}
	})
	// Relay and Apollo add id and __typename to every fragment: a page
	// spreading 150 fragments on one object (22,350 pairs) is a client's
	// ordinary document.
	t.Run("a page of many fragments", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("query Page { cases(first: 2) { edges { node { id")
		for i := range 150 {
			fmt.Fprintf(&b, " ...C%d", i)
		}
		b.WriteString(" } } } }")
		for i := range 150 {
			fmt.Fprintf(&b, " fragment C%d on Case { id __typename }", i)
		}
		if err := cost.CheckText(b.String(), l); err != nil {
			t.Fatal(err)
		}
	})
}

// aliases repeats format n times, with the repetition's number in place of %d.
func aliases(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// TestWithDefaultPages: nested connections without a page get first: 50 in
// a copy; the cached document is left as it was.
func TestWithDefaultPages(t *testing.T) {
	const query = `query($n: Int){ cases(first: 2){ ...C } victims(first: $n){ totalCount } }
fragment C on CaseConnection { edges{ node{ victims{ totalCount } prosecutions(last: 3){ totalCount } } } }`
	doc, errs := gqlparser.LoadQueryWithRules(schema, query, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	before := format(doc)
	vars := map[string]any{"n": nil}
	out, op := cost.WithDefaultPages(doc, doc.Operations[0], vars, cost.DefaultLimits())
	if format(doc) != before {
		t.Fatal("the shared document was changed")
	}
	got := format(out)
	for _, want := range []string{"victims(first: 50)", "prosecutions(last: 3)", "cases(first: 2)"} {
		if !strings.Contains(got, want) {
			t.Errorf("the copy lacks %q:\n%s", want, got)
		}
	}
	// The null variable is replaced, in the operation the executor runs.
	victims := op.SelectionSet[1].(*ast.Field)
	if a := victims.Arguments.ForName("first"); a == nil || a.Value.Raw != "50" {
		t.Errorf("victims(first: $n) with n null: want first 50, got %v", a)
	}
	if out.Fragments.ForName("C") == doc.Fragments.ForName("C") {
		t.Error("the fragment was not copied")
	}
}

// TestOrderingTermsAsLists: a connection's orderBy of one term is the list
// of it in the copy (the eager loading of nested pages takes only a list),
// in the document and in a variable; a list stays as it was.
func TestOrderingTermsAsLists(t *testing.T) {
	const query = `query($o: [VictimOrder!]){ cases(first: 2, orderBy: {field: REFERENCE}){ ...C } victims(first: 1, orderBy: [{field: PSEUDONYM}]){ totalCount } }
fragment C on CaseConnection { edges{ node{ victims(first: 3, orderBy: $o){ totalCount } } } }`
	doc, errs := gqlparser.LoadQueryWithRules(schema, query, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	before := format(doc)
	vars := map[string]any{"o": []map[string]any{{"field": "PSEUDONYM", "direction": "DESC"}}}
	r, err := cost.Measure(cost.NewSchema(schema), doc, doc.Operations[0], vars, cost.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if r.OrderingTerms != 2 {
		t.Errorf("OrderingTerms %d, want 2", r.OrderingTerms)
	}
	out, _ := cost.WithDefaultPages(doc, doc.Operations[0], vars, cost.DefaultLimits())
	if format(doc) != before {
		t.Fatal("the shared document was changed")
	}
	got := format(out)
	for _, want := range []string{"cases(first: 2, orderBy: [{field:REFERENCE}])", "victims(first: 1, orderBy: [{field:PSEUDONYM}])", "victims(first: 3, orderBy: $o)"} {
		if !strings.Contains(got, want) {
			t.Errorf("the copy lacks %q:\n%s", want, got)
		}
	}
	if list, ok := vars["o"].([]any); !ok || len(list) != 1 {
		t.Errorf("the variable is %#v, want a list of any of one term", vars["o"])
	}
}

func format(doc *ast.QueryDocument) string {
	var b strings.Builder
	formatter.NewFormatter(&b).FormatQueryDocument(doc)
	return b.String()
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// nested is a case filter whose objects nest depth deep: depth-1 `not`s
// around a condition.
func nested(depth int) string {
	return strings.Repeat("{not: ", depth-1) + `{nameContains: "a"}` + strings.Repeat("}", depth-1)
}
