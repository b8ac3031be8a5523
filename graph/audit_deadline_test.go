package graph

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

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
