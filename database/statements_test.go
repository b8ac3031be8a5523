package database_test

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// TestStatementsSentCountsWhatTheClientSends: every statement the ent
// client sends counts once, inside a transaction or not, raw or built by
// ent, and BEGIN, COMMIT and ROLLBACK count as one each, so that
// casegraph_sql_statements_total divided by requests is the number of
// round trips a request costs.
func TestStatementsSentCountsWhatTheClientSends(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		// The system's context: the row rules allow its queries.
		ctx := viewer.SystemContext(context.Background())
		steps := []struct {
			what string
			want uint64
			run  func() error
		}{
			{"an ent query", 1, func() error { _, err := db.Client.Agency.Query().Count(ctx); return err }},
			{"a raw statement", 1, func() error { _, err := db.Client.ExecContext(ctx, "SELECT 1"); return err }},
			{"a raw query", 1, func() error {
				rows, err := db.Client.QueryContext(ctx, "SELECT 1")
				if err != nil {
					return err
				}
				return rows.Close()
			}},
			{"BEGIN, an ent query, a raw statement, COMMIT", 4, func() error {
				tx, err := db.Client.Tx(ctx)
				if err != nil {
					return err
				}
				if _, err := tx.Agency.Query().All(ctx); err != nil {
					return err
				}
				if _, err := tx.Client().ExecContext(ctx, "SELECT 1"); err != nil {
					return err
				}
				return tx.Commit()
			}},
			{"BEGIN, ROLLBACK", 2, func() error {
				tx, err := db.Client.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				return tx.Rollback()
			}},
			{"a rows-returning query under a request's share", 1, func() error {
				_, err := db.Client.Agency.Query().IDs(database.WithRequestShare(ctx, 1))
				return err
			}},
		}
		for _, s := range steps {
			before := db.StatementsSent()
			if err := s.run(); err != nil {
				t.Fatalf("%s: %v", s.what, err)
			}
			if got := db.StatementsSent() - before; got != s.want {
				t.Errorf("%s: counted %d statements, want %d", s.what, got, s.want)
			}
		}
	})
}
