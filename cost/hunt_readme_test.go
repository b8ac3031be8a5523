package cost_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/cost"
)

// TestHuntLimitsWorkedExamplesAreTheCosts: docs/limits.md, "The cost
// model", gives integrators a table of what everyday documents cost,
// introduced as
//
//	Worked examples (pinned by cost/cost_test.go):
//	| GraphiQL's introspection query | 2,061 |
//
// An integrator budgeting requests (CASEGRAPH_COST_LIMIT, CASEGRAPH_MAX_COST)
// reads these numbers. The GraphiQL row is not pinned anywhere
// (TestEverydayDocumentsPass only logs it) and is stale: the model, and the
// server over HTTP (a TOO_COMPLEX refusal under CASEGRAPH_MAX_COST=1 reports
// "value":2306 for the same document), cost GraphiQL's introspection query at
// 2,306. The page also says "`__schema` costs one point for every type, field,
// argument and enum value the schema could list (about 2,000)" and, further
// down, "(about 2,300)". This test reads the table and measures every row
// whose document the package's tests hold.
func TestHuntLimitsWorkedExamplesAreTheCosts(t *testing.T) {
	documents := map[string]string{
		"README's dashboard page": `{ cases(first: 50){ edges{ node{ reference stage leadAgency{ name }
			victims(first: 20){ edges{ node{ pseudonym sex legalName } } }
			prosecutions(first: 10){ edges{ node{ registrationNumber stage charges(first: 10){ edges{ node{ article } } } } } } } } } }`,
		"README's example query":           readmeExample,
		"a DPO's page of 500 audit events": `{ auditEvents(first: 500){ edges{ node{ seq occurredAt kind actorSubject actorAgency entityType entity fields decision reason } } } }`,
		"the access matrix with its cells": `{ accessMatrix{ cells{ role kind object action allowed condition } } }`,
		"GraphiQL's introspection query":   readFile(t, "testdata/introspection.graphql"),
	}
	page := readFile(t, "../docs/limits.md")
	start := strings.Index(page, "Worked examples")
	if start < 0 {
		t.Fatal("docs/limits.md has no worked examples")
	}
	row := regexp.MustCompile("(?m)^\\| (.+?) \\| ([0-9,]+)(?: \\(.*\\))? \\|$")
	seen := 0
	for _, m := range row.FindAllStringSubmatch(page[start:], -1) {
		label := m[1]
		doc := ""
		for prefix, d := range documents {
			if strings.HasPrefix(label, prefix) {
				doc = d
			}
		}
		if doc == "" && strings.HasPrefix(label, "`{") && strings.HasSuffix(label, "}`") {
			doc = strings.Trim(label, "`")
		}
		if doc == "" {
			continue // a row that names no document (the agencies chain)
		}
		want, err := strconv.Atoi(strings.ReplaceAll(m[2], ",", ""))
		if err != nil {
			t.Fatal(err)
		}
		seen++
		r, err := measure(t, doc, nil, cost.DefaultLimits())
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if r.Cost != want {
			t.Errorf("docs/limits.md says %q costs %s; the model costs it %d", label, m[2], r.Cost)
		}
	}
	if seen < len(documents) {
		t.Errorf("found %d of the table's rows, want at least %d", seen, len(documents))
	}
}
