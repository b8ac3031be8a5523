package testdb

import (
	"context"
	"os"
	"strconv"
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

// EachDemo runs f as a sub-benchmark on every backend, over a fresh
// database holding the demo data at scale with its planner statistics up
// to date and, on PostgreSQL, vacuumed (database.Analyze), so that
// benchmarks measure the plans and reads a loaded
// database would run.
func EachDemo(b *testing.B, scale int, f func(b *testing.B, db *database.DB)) {
	b.Helper()
	for _, d := range Backends {
		b.Run(d, func(b *testing.B) {
			db := Open(b, d)
			Demo(b, db, scale)
			if err := db.Analyze(context.Background()); err != nil {
				b.Fatalf("analyzing the demo data: %v", err)
			}
			f(b, db)
		})
	}
}

// DemoScale is the demo's scale a benchmark seeds: CASEGRAPH_DASHBOARD_SCALE
// when set (a whole number above 0), else def.
func DemoScale(tb testing.TB, def int) int {
	tb.Helper()
	v := os.Getenv("CASEGRAPH_DASHBOARD_SCALE")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("CASEGRAPH_DASHBOARD_SCALE=%q: want a whole number above 0", v)
	}
	return n
}
