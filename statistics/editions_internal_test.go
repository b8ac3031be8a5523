package statistics

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/viewer"
)

// TestYearClosesInMarch: a year is withheld whole until the first of March
// of the next year (two months for late registrations), and shown from
// then on, from its edition; a caller without editions gets an error, not
// live counts.
func TestYearClosesInMarch(t *testing.T) {
	db := testdb.SQLite(t)
	if _, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: 1, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	year := time.Now().UTC().Year() - 1 // the demo data ends today
	yearOf := func(when time.Time) *Table {
		t.Helper()
		e := NewEditions(db.Client, db.Dialect)
		e.now = func() time.Time { return when }
		ctx := WithEditions(viewer.SystemContext(context.Background()), e)
		got, err := Compute(ctx, db.Client, Victims, Query{Period: Year}, Control{K: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got.Cells {
			if c.Period == strconv.Itoa(year) {
				return &Table{Cells: []Cell{c}}
			}
		}
		t.Fatalf("no cell of %d: %+v", year, got.Cells)
		return nil
	}
	february := time.Date(year+1, time.February, 28, 23, 59, 0, 0, time.UTC)
	if c := yearOf(february).Cells[0]; !c.Suppressed || c.Count != nil {
		t.Errorf("%d on %s: %+v, want it withheld", year, february.Format(time.DateOnly), c)
	}
	if n, err := db.Client.QueryContext(context.Background(), "SELECT 1 FROM statistics_editions WHERE year = ?", year); err != nil {
		t.Fatal(err)
	} else if stored := n.Next(); n.Close() != nil || stored {
		t.Errorf("an edition was taken before %d closed", year)
	}
	march := time.Date(year+1, time.March, 1, 0, 0, 0, 0, time.UTC)
	if c := yearOf(march).Cells[0]; c.Suppressed || c.Count == nil || *c.Count == 0 {
		t.Errorf("%d on %s: %+v, want its count", year, march.Format(time.DateOnly), c)
	}

	if _, err := Compute(viewer.SystemContext(context.Background()), db.Client, Victims, Query{Period: Year}, Control{K: 5}); err == nil {
		t.Error("counts of people under disclosure control were computed without editions")
	}
}
