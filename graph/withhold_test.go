package graph

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
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

// TestAuditWrittenPastTheDeadline: a response built when the request's
// context is already done (its deadline passed while fields resolved)
// still leaves, so its events are written: with the request's context
// the write was dropped, and the refusals the answer carried (which say
// which victims have not consented) left no event (a helper's DPO hunt).
func TestAuditWrittenPastTheDeadline(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		trail := auditTrail{writer: audit.NewWriter(db.Client, db.Dialect), logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		ctx, cancel := context.WithCancel(context.Background())
		rec := audit.NewRecorder("deadline", "10.0.0.1", &viewer.Principal{Subject: "late@police-tirane", AgencyCode: "police-tirane"})
		ctx = audit.NewContext(graphql.WithOperationContext(ctx, &graphql.OperationContext{}), rec)
		rec.FieldRead("Victim", 51539607552, "Victim.legalName", audit.Access{Reason: "CONSENT"}, nil)
		cancel() // the deadline passed while the fields resolved
		resp := trail.InterceptResponse(ctx, func(context.Context) *graphql.Response {
			return &graphql.Response{Data: []byte(`{"node":{"legalName":null}}`)}
		})
		if resp == nil {
			t.Fatal("no response")
		}
		n, err := db.Client.AuditEvent.Query().Count(viewer.SystemContext(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d events written for a response sent past its deadline, want 1", n)
		}
	})
}
