package testdb_test

import (
	"context"
	"errors"
	"testing"
	"time"

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

// A hold keeps one statement from the database until it is released, and
// gives the test the statement's context; the next goes through.
func TestHoldStatement(t *testing.T) {
	db, faults := testdb.WithFaults(testdb.SQLite(t))
	type key struct{}
	ctx := context.WithValue(viewer.SystemContext(context.Background()), key{}, "the caller's")
	hold := faults.HoldStatement(t, "agencies")
	counted := make(chan error, 1)
	go func() { _, err := db.Client.Agency.Query().Count(ctx); counted <- err }()
	if got := hold.Reached(t, 10*time.Second); got.Value(key{}) != "the caller's" {
		t.Errorf("the held statement's context is not its caller's")
	}
	select {
	case err := <-counted:
		t.Fatalf("the held statement returned (%v) before its release", err)
	default:
	}
	hold.Release()
	if err := <-counted; err != nil {
		t.Fatal(err)
	}
	if _, err := db.Client.Agency.Query().Count(ctx); err != nil {
		t.Fatalf("a hold holds one statement, the next failed: %v", err)
	}
}
