package testdb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// A statement fault aims at statements sent outside and inside a
// transaction alike: both wrappers route Exec and Query through one gate.
func TestFailStatementsOutsideAndInsideTransactions(t *testing.T) {
	db, faults := testdb.WithFaults(testdb.SQLite(t))
	ctx := viewer.SystemContext(context.Background())
	lost := errors.New("connection lost")

	faults.FailStatements("agencies", 1, lost)
	if _, err := db.Client.Agency.Query().Count(ctx); !errors.Is(err, lost) {
		t.Fatalf("a query outside a transaction: got %v, want %v", err, lost)
	}
	if _, err := db.Client.Agency.Query().Count(ctx); err != nil {
		t.Fatalf("the fault was for one statement, the next failed: %v", err)
	}

	faults.FailStatements("agencies", 1, lost)
	tx, err := db.Client.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.Agency.Query().Count(ctx); !errors.Is(err, lost) {
		t.Fatalf("a query inside a transaction: got %v, want %v", err, lost)
	}
}
