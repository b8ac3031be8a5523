package testdb

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	entmigrate "github.com/casegraph/casegraph/ent/migrate"
)

// RowCounts returns the number of rows of every table of the schema (taken
// from ent's, so a new table is counted without anyone listing it) but the
// audit trail, which records refusals too. Tests compare two counts to show
// that a refused write wrote nothing.
func RowCounts(tb testing.TB, c *ent.Client) map[string]int {
	tb.Helper()
	ctx := context.Background()
	out := make(map[string]int, len(entmigrate.Tables))
	for _, t := range entmigrate.Tables {
		if t.Name == auditevent.Table {
			continue
		}
		rows, err := c.QueryContext(ctx, "SELECT COUNT(*) FROM "+t.Name)
		if err != nil {
			tb.Fatalf("counting %s: %v", t.Name, err)
		}
		n := 0
		if rows.Next() {
			err = rows.Scan(&n)
		}
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			tb.Fatalf("counting %s: %v", t.Name, err)
		}
		out[t.Name] = n
	}
	return out
}
