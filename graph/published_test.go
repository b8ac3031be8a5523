package graph_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/casegraph/casegraph/schemacompat"
)

// TestPublishedSchema checks that schema.published.graphql, the contract
// agency integrators build against, is the schema the server serves,
// printed as published, and that the breaking changes accepted on purpose
// (docs/schema-changes.md) read. `make generate` writes the file, and
// refuses a breaking change the document does not list with a reason.
func TestPublishedSchema(t *testing.T) {
	published, err := os.ReadFile("../schema.published.graphql")
	if err != nil {
		t.Fatal(err)
	}
	served := schemacompat.Print(servedSchema())
	if !bytes.Equal(served, published) {
		t.Errorf("schema.published.graphql is not the schema served: run make generate, which publishes it " +
			"(and refuses a breaking change docs/schema-changes.md does not list)")
		old, err := schemacompat.Parse("schema.published.graphql", published)
		if err != nil {
			t.Fatal(err)
		}
		now, err := schemacompat.Parse("served", served)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range schemacompat.Compare(old, now) {
			t.Log(c)
		}
	}
	doc, err := os.ReadFile("../docs/schema-changes.md")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := schemacompat.ReadAccepted("docs/schema-changes.md", doc); err != nil {
		t.Error(err)
	}
}
