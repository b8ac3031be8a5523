package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// BenchmarkAuditOverhead compares the dashboard's page of 50 cases with
// their victims' identity fields (accessBenchQuery) served with the audit
// trail ("audited": every decision recorded and written before the answer)
// and without it ("unaudited"), both with the access checks on. It reports
// the audit events and the database statements of one request.
func BenchmarkAuditOverhead(b *testing.B) {
	for _, d := range testdb.Backends {
		b.Run(d, func(b *testing.B) {
			db := testdb.Open(b, d)
			testdb.Demo(b, db, 10)
			if err := db.Analyze(context.Background()); err != nil {
				b.Fatal(err)
			}
			counted, statements := testdb.CountingStatements(db)
			enforcer, err := authz.New(context.Background(), counted.Client, counted.Dialect, Vocabulary())
			if err != nil {
				b.Fatal(err)
			}
			writer := audit.Install(counted.Client, counted.Dialect)
			code := "prosecution-tirane"
			a := db.Client.Agency.Query().Where(agency.Code(code)).OnlyX(viewer.SystemContext(context.Background()))
			p := &viewer.Principal{Subject: "bench@" + code, AgencyCode: code, AgencyID: a.ID, Roles: []viewer.Role{viewer.RoleProsecutor}}
			vars := map[string]any{"where": map[string]any{"region": "TIRANE", "stageNotIn": []string{"NOTICE_RECEIVED", "REGISTERED"}}}
			opts := Options{Client: counted.Client, Enforcer: enforcer, Audit: writer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			for _, audited := range []bool{true, false} {
				name := "unaudited"
				if audited {
					name = "audited"
				}
				h := principalHandler(b, enforcer, p, newHandler(opts, audited))
				b.Run(name, func(b *testing.B) {
					events := func() int {
						n, err := db.Client.AuditEvent.Query().Count(viewer.SystemContext(context.Background()))
						if err != nil {
							b.Fatal(err)
						}
						return n
					}
					before := events()
					statements.Store(0)
					runAuditBench(b, h, vars)
					b.ReportMetric(float64(events()-before)/float64(b.N), "events/op")
					b.ReportMetric(float64(statements.Load())/float64(b.N), "statements/op")
				})
			}
		})
	}
}

// principalHandler serves h to p, as the server's middleware would after
// authentication.
func principalHandler(b *testing.B, enforcer *authz.Enforcer, p *viewer.Principal, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := viewer.NewContext(r.Context(), p)
		req, err := enforcer.NewRequest(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		h.ServeHTTP(w, r.WithContext(authz.NewContext(ctx, req)))
	})
}

func runAuditBench(b *testing.B, h http.Handler, vars map[string]any) {
	body, _ := json.Marshal(map[string]any{"query": accessBenchQuery, "variables": vars})
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"data":null`)) || bytes.Contains(w.Body.Bytes(), []byte(`AUDIT_UNAVAILABLE`)) {
			b.Fatalf("%d %s", w.Code, w.Body.String())
		}
	}
}
