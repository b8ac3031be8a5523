package statistics

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// BenchmarkMonthRule times the statements that count by month, as a
// caller who sees every row sends them, with Tirana's months (monthOf) and
// with UTC's (the rule until 2026-12-07: on PostgreSQL AT TIME ZONE 'UTC',
// on SQLite strftime of the text the driver writes, its offset rewritten),
// one after the other in each iteration so that both meet the same load,
// on the demo data at scale 40 (CASEGRAPH_DASHBOARD_SCALE for another),
// seeded by the benchmark. It reports each rule's milliseconds a statement
// (docs/statistics.md, "How a table is computed").
func BenchmarkMonthRule(b *testing.B) {
	scale := testdb.DemoScale(b, 40)
	reads := []struct {
		name string
		read func(context.Context, *ent.Client) error
	}{
		{"cases-by-month-and-region", func(ctx context.Context, c *ent.Client) error {
			_, err := readCases(ctx, c, grouping{true, false, false, false, false})
			return err
		}},
		{"proceedings-by-month-office-and-stage", func(ctx context.Context, c *ent.Client) error {
			_, err := readProsecutions(ctx, c, grouping{true, true, false})
			return err
		}},
		{"victims-finest", func(ctx context.Context, c *ent.Client) error { _, err := readVictims(ctx, c, nil); return err }},
		{"referrals-finest", func(ctx context.Context, c *ent.Client) error { _, err := readReferrals(ctx, c, nil); return err }},
		{"support", func(ctx context.Context, c *ent.Client) error { _, err := readSupport(ctx, c); return err }},
		{"days-to-accept", func(ctx context.Context, c *ent.Client) error { _, err := readDaysToAccept(ctx, c); return err }},
	}
	testdb.EachDemo(b, scale, func(b *testing.B, db *database.DB) {
		ctx := viewer.SystemContext(context.Background())
		for _, r := range reads {
			tirana, args := firstStatement(b, db, r.read)
			utc := utcMonths(db.Dialect, tirana)
			if utc == tirana {
				b.Fatalf("%s: no month to rewrite in %s", r.name, tirana)
			}
			b.Run(r.name, func(b *testing.B) {
				var spent [2]time.Duration
				n := 0
				for b.Loop() {
					for i, q := range []string{tirana, utc} {
						start := time.Now()
						drain(ctx, b, db.SQL, q, args)
						spent[i] += time.Since(start)
					}
					n++
				}
				b.ReportMetric(float64(spent[0].Microseconds())/1000/float64(n), "tirana-ms/op")
				b.ReportMetric(float64(spent[1].Microseconds())/1000/float64(n), "utc-ms/op")
			})
		}
	})
}

// firstStatement is the first statement read sends: the one that counts by
// month (the agency registry, when read, comes after it).
func firstStatement(b *testing.B, db *database.DB, read func(context.Context, *ent.Client) error) (string, []any) {
	b.Helper()
	c := &capturing{Driver: entsql.OpenDB(db.Dialect, db.SQL)}
	if err := read(viewer.SystemContext(context.Background()), ent.NewClient(ent.Driver(c))); err != nil {
		b.Fatal(err)
	}
	return c.query, c.args
}

// capturing is a driver that keeps the first query sent through it.
type capturing struct {
	dialect.Driver
	query string
	args  []any
}

func (c *capturing) Query(ctx context.Context, query string, args, v any) error {
	if c.query == "" {
		c.query = query
		c.args, _ = args.([]any)
	}
	return c.Driver.Query(ctx, query, args, v)
}

// sqliteMonth matches the month of a column in a SQLite statement.
var sqliteMonth = regexp.MustCompile(regexp.QuoteMeta(database.SQLiteMonthInTirana) + `\(([^()]*)\)`)

// utcMonths is query with its months UTC's, as counted until 2026-12-07.
func utcMonths(dialectName, query string) string {
	if dialectName == dialect.Postgres {
		return strings.ReplaceAll(query, "AT TIME ZONE '"+domain.Tirana.String()+"'", "AT TIME ZONE 'UTC'")
	}
	return sqliteMonth.ReplaceAllStringFunc(query, func(m string) string {
		return "strftime('%Y-%m', " + sqliteTime(sqliteMonth.FindStringSubmatch(m)[1]) + ")"
	})
}

// drain runs query and reads every row.
func drain(ctx context.Context, b *testing.B, db *sql.DB, query string, args []any) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	cols, _ := rows.Columns()
	dest := make([]any, len(cols))
	for i := range dest {
		dest[i] = new(any)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			b.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
}
