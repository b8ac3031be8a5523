package cost_test

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/cost"
)

// TestLimitsWorkedExamplesAreTheCosts: docs/limits.md's table of what
// everyday documents cost, which integrators budget by, is the model's:
// every row is measured (a refused one by the cost its refusal reports).
// Until 2026-12-07 (eighteenth session) the table said "pinned by
// cost_test.go", no test read it, and GraphiQL's introspection query was
// 2,061 there and 2,306 in the model and over HTTP (a hunt).
func TestLimitsWorkedExamplesAreTheCosts(t *testing.T) {
	documents := map[string]string{
		"README's dashboard page": `{ cases(first: 50){ edges{ node{ reference stage leadAgency{ name }
			victims(first: 20){ edges{ node{ pseudonym sex legalName } } }
			prosecutions(first: 10){ edges{ node{ registrationNumber stage charges(first: 10){ edges{ node{ article } } } } } } } } } }`,
		"README's example query":                            readmeExample,
		"a DPO's page of 500 audit events":                  `{ auditEvents(first: 500){ edges{ node{ seq occurredAt kind actorSubject actorAgency entityType entity fields decision reason } } } }`,
		"the access matrix with its cells":                  `{ accessMatrix{ cells{ role kind object action allowed condition } } }`,
		"GraphiQL's introspection query":                    readFile(t, "testdata/introspection.graphql"),
		"an integrator's pull of 500 known cases by `idIn`": pullByID(500),
	}
	page := readFile(t, "../docs/limits.md")
	start := strings.Index(page, "Worked examples")
	if start < 0 {
		t.Fatal("docs/limits.md has no worked examples")
	}
	row := regexp.MustCompile(`(?m)^\| (.+?) \| ([0-9,]+)(?: \(.*\))? \|$`)
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
			t.Errorf("docs/limits.md's row %q names no document this test knows", label)
			continue
		}
		want, err := strconv.Atoi(strings.ReplaceAll(m[2], ",", ""))
		if err != nil {
			t.Fatal(err)
		}
		seen++
		r, err := measure(t, doc, nil, cost.DefaultLimits())
		var refused *apperr.Error
		if errors.As(err, &refused) && refused.Code == apperr.TooComplex && refused.Details["limit"] == "cost" {
			r.Cost = refused.Details["value"].(int)
		} else if err != nil {
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

// pullByID is an integrator's pull of n cases it knows the ids of, a page
// of them with seven fields each: what a where's ids cost beside the page
// (docs/limits.md).
func pullByID(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.Quote(strconv.Itoa(34359738368 + i))
	}
	return `{ cases(first: 500, where: {idIn: [` + strings.Join(ids, ", ") + `]}){ edges{ node{ id reference title stage region openedAt leadAgency{ code } } } } }`
}
