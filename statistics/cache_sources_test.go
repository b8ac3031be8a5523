package statistics

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/rowscope"
)

// TestCacheSources: the Cache forgets a kept value only when a table it
// names in its source changes, so each source must name every table its
// statements read (a table left out would keep stale counts until some
// other change), and each of those tables must notify its changes (the
// migration's triggers; a table without one is never heard). The tables
// are taken from the statements each read sends, as a national caller.
func TestCacheSources(t *testing.T) {
	reads := map[string]struct {
		from source
		read func(context.Context, *ent.Client) error
	}{
		"agencies": {agencySource, func(ctx context.Context, c *ent.Client) error {
			_, err := withAgencies(ctx, c, nil, nil, 1, map[int]func(agencyFacts) string{0: agencyFacts.code})
			return err
		}},
		VictimSupport.name: {supportSource, func(ctx context.Context, c *ent.Client) error { _, err := readSupport(ctx, c); return err }},
	}
	for _, d := range []Dataset{Victims, Cases, Prosecutions, TrialRequests, Decisions, Referrals} {
		reads[d.name] = struct {
			from source
			read func(context.Context, *ent.Client) error
		}{d.from, func(ctx context.Context, c *ent.Client) error { _, err := d.read(ctx, c, nil); return err }}
	}
	named := regexp.MustCompile("(?:FROM|JOIN) [\"`]([a-z_]+)[\"`]")
	national := rowscope.NewContext(context.Background(), &rowscope.Scope{AgencyID: 1, Cases: rowscope.All, Victims: rowscope.All})
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		if db.Dialect == dialect.Postgres {
			notifying := tablesWithTrigger(t, db, "statistics_changed")
			if !sameSet(notifying, countedTables) {
				t.Errorf("tables whose changes are notified: %v; countedTables: %v", notifying, countedTables)
			}
		}
		for name, r := range reads {
			if !isSubset(r.from.tables, countedTables) {
				t.Errorf("%s reads %v, not all of them notified (countedTables %v)", name, r.from.tables, countedTables)
			}
			var mu sync.Mutex
			var sent []string
			drv := dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL), func(_ context.Context, v ...any) {
				mu.Lock()
				defer mu.Unlock()
				for _, m := range named.FindAllStringSubmatch(fmt.Sprint(v...), -1) {
					if !slices.Contains(sent, m[1]) {
						sent = append(sent, m[1])
					}
				}
			})
			if err := r.read(national, ent.NewClient(ent.Driver(drv))); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(sent) == 0 || !sameSet(sent, r.from.tables) {
				t.Errorf("%s: its statements read %v, its source names %v", name, sent, r.from.tables)
			}
		}
	})
}

// tablesWithTrigger lists the tables that have a trigger named name.
func tablesWithTrigger(t *testing.T, db *database.DB, name string) []string {
	rows, err := db.SQL.Query(`SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = $1`, name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func isSubset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func sameSet(a, b []string) bool { return isSubset(a, b) && isSubset(b, a) }
