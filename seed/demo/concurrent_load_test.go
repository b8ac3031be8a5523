package demo_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/viewer"
)

// TestConcurrentLoadsOneLoadsTheOtherFindsItNotEmpty: two loads of the
// demo into the same empty database at once (two servers started with
// --seed-demo-if-empty on a fresh PostgreSQL, or seed --demo run twice)
// end with one demo and, for the other, ErrNotEmpty: the database then
// holds the demo, as "already holds cases" says. In one transaction each,
// both read an empty database (neither sees the other's uncommitted rows)
// and both write the agencies; the second failed on the first's agency
// codes, an error that was not ErrNotEmpty, which serve reported as "none
// of it was kept: the next start loads all of it" and exited (a review).
func TestConcurrentLoadsOneLoadsTheOtherFindsItNotEmpty(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		opts := demo.Options{Scale: 1, Seed: 1, Today: demoToday}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { _, errs[i] = demo.Load(ctx, db.Client, opts) })
		}
		wg.Wait()
		loaded, notEmpty := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				loaded++
			case errors.Is(err, demo.ErrNotEmpty):
				notEmpty++
			default:
				t.Errorf("a concurrent Load: %v, want nil or ErrNotEmpty", err)
			}
		}
		cases, err := db.Client.CaseFile.Query().Count(viewer.SystemContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		if loaded != 1 || notEmpty != 1 || cases == 0 {
			t.Errorf("two loads at once: %d loaded, %d found the database not empty, %d cases; want 1, 1 and the demo", loaded, notEmpty, cases)
		}
	})
}
