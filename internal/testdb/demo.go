package testdb

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/seed/demo"
)

// Demo loads the demo data into db at scale (1 is the Albanian volumes),
// always from seed 1, so that every test and benchmark over it reads the
// same world.
func Demo(tb testing.TB, db *database.DB, scale int) {
	tb.Helper()
	if _, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: scale, Seed: 1}); err != nil {
		tb.Fatalf("loading the demo data: %v", err)
	}
}
