package graph

import (
	"encoding/json"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

func TestNullPaths(t *testing.T) {
	doc := json.RawMessage(`{"node":{"pseudonym":"V-1","legalName":"Secret Name","n":1.50},"cases":{"edges":[{"node":{"victims":[{"legalName":"A \"quoted\" name"},{"legalName":null}]}}]},"gone":null}`)
	path := func(els ...any) ast.Path {
		var p ast.Path
		for _, e := range els {
			switch v := e.(type) {
			case string:
				p = append(p, ast.PathName(v))
			case int:
				p = append(p, ast.PathIndex(v))
			}
		}
		return p
	}
	got, err := nullPaths(doc, []ast.Path{
		path("node", "legalName"),
		path("cases", "edges", 0, "node", "victims", 0, "legalName"),
		path("gone", "legalName"), // under a null parent: nothing to withhold
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"node":{"pseudonym":"V-1","legalName":null,"n":1.50},"cases":{"edges":[{"node":{"victims":[{"legalName":null},{"legalName":null}]}}]},"gone":null}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// A path that is not in the document fails: the caller then sends no
	// data at all rather than a value it could not find to withhold.
	for _, p := range []ast.Path{path("node", "phone"), path("cases", "edges", 3, "node"), path("node", "pseudonym", "x")} {
		if _, err := nullPaths(doc, []ast.Path{p}); err == nil {
			t.Errorf("%v: want an error", p)
		}
	}
	if _, err := nullPaths(json.RawMessage(`{"a":`), []ast.Path{path("a")}); err == nil {
		t.Error("a broken document: want an error")
	}
}
