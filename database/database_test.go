package database_test

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/internal/testdb"
)

// TestPostgresSessionsRunWithoutJIT: JIT compilation cost ~150 ms on every
// scoped query whose estimated cost passed jit_above_cost; sessions opened
// by OpenPostgres turn it off.
func TestPostgresSessionsRunWithoutJIT(t *testing.T) {
	db := testdb.Postgres(t)
	var jit string
	if err := db.SQL.QueryRowContext(context.Background(), "SHOW jit").Scan(&jit); err != nil {
		t.Fatal(err)
	}
	if jit != "off" {
		t.Fatalf("jit = %q in a CaseGraph session, want off", jit)
	}
}
