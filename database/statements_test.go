package database_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// TestStatementsSentCountsWhatTheClientSends: every statement the ent
// client sends counts once, inside a transaction or not, raw or built by
// ent, and BEGIN, COMMIT and ROLLBACK count as one each, so that
// casegraph_sql_statements_total divided by requests is the number of
// round trips a request costs.
func TestStatementsSentCountsWhatTheClientSends(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		// The system's context: the row rules allow its queries.
		ctx := viewer.SystemContext(context.Background())
		steps := []struct {
			what string
			want uint64
			run  func() error
		}{
			{"an ent query", 1, func() error { _, err := db.Client.Agency.Query().Count(ctx); return err }},
			{"a raw statement", 1, func() error { _, err := db.Client.ExecContext(ctx, "SELECT 1"); return err }},
			{"a raw query", 1, func() error {
				rows, err := db.Client.QueryContext(ctx, "SELECT 1")
				if err != nil {
					return err
				}
				return rows.Close()
			}},
			{"BEGIN, an ent query, a raw statement, COMMIT", 4, func() error {
				tx, err := db.Client.Tx(ctx)
				if err != nil {
					return err
				}
				if _, err := tx.Agency.Query().All(ctx); err != nil {
					return err
				}
				if _, err := tx.Client().ExecContext(ctx, "SELECT 1"); err != nil {
					return err
				}
				return tx.Commit()
			}},
			{"BEGIN, ROLLBACK", 2, func() error {
				tx, err := db.Client.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				return tx.Rollback()
			}},
			{"a rows-returning query under a request's share", 1, func() error {
				_, err := db.Client.Agency.Query().IDs(database.WithRequestShare(ctx, 1))
				return err
			}},
		}
		for _, s := range steps {
			before := db.StatementsSent()
			if err := s.run(); err != nil {
				t.Fatalf("%s: %v", s.what, err)
			}
			if got := db.StatementsSent() - before; got != s.want {
				t.Errorf("%s: counted %d statements, want %d", s.what, got, s.want)
			}
		}
	})
}

// TestTimesStoredWithoutMonotonicReading: a time the server writes, with
// the monotonic clock reading time.Now gives it, is stored as the instant
// alone, in a transaction or not, through ent or raw: the SQLite driver
// stored the reading too ("… UTC m=+66.47"), and the time then compared
// unequal to the same instant sent back.
func TestTimesStoredWithoutMonotonicReading(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if _, err := db.SQL.ExecContext(ctx, "CREATE TABLE wall_clock (n integer, at timestamp)"); err != nil {
			t.Fatal(err)
		}
		insert := "INSERT INTO wall_clock (n, at) VALUES (?, ?)"
		if db.Dialect == "postgres" {
			insert = "INSERT INTO wall_clock (n, at) VALUES ($1, $2)"
		}
		now := time.Now()
		if _, err := db.Client.ExecContext(ctx, insert, 1, now); err != nil {
			t.Fatal(err)
		}
		tx, err := db.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Client().ExecContext(ctx, insert, 2, now); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		rows, err := db.SQL.QueryContext(ctx, "SELECT n, CAST(at AS TEXT) FROM wall_clock ORDER BY n")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var i int
			var text string
			if err := rows.Scan(&i, &text); err != nil {
				t.Fatal(err)
			}
			n++
			if strings.Contains(text, "m=") {
				t.Errorf("row %d stored %q: the monotonic reading with the time", i, text)
			}
		}
		if n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
	})
}

// TestPreparedQueries: a raw query marked WithPrepared answers as it would
// unmarked, is prepared once however often it runs (on PostgreSQL, one
// statement in the session's pg_prepared_statements), counts as one
// statement sent each time, and past MaxPrepared texts the rest still
// answer, unprepared.
func TestPreparedQueries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		// One connection: the session that prepared is the one asked.
		db.SQL.SetMaxOpenConns(1)
		ctx := database.WithPrepared(viewer.SystemContext(context.Background()))
		param := "?"
		if db.Dialect == dialect.Postgres {
			param = "$1::bigint"
		}
		ask := func(query string, n int) int {
			t.Helper()
			rows, err := db.Client.QueryContext(ctx, query, n)
			if err != nil {
				t.Errorf("%s: %v", query, err) // not Fatal: goroutines ask too
				return -1
			}
			defer rows.Close()
			var got int
			if !rows.Next() || rows.Scan(&got) != nil {
				t.Errorf("%s: no answer (%v)", query, rows.Err())
				return -1
			}
			return got
		}
		query := "SELECT " + param + " + 1"
		for i := range 3 {
			before := db.StatementsSent()
			if got := ask(query, 41+i); got != 42+i {
				t.Errorf("answer %d, want %d", got, 42+i)
			}
			if sent := db.StatementsSent() - before; sent != 1 {
				t.Errorf("counted %d statements, want 1", sent)
			}
		}
		if n := database.KeptPrepared(db); n != 1 {
			t.Errorf("%d statements kept after one text three times, want 1", n)
		}
		if db.Dialect == dialect.Postgres {
			var onServer int
			err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", query).Scan(&onServer)
			if err != nil || onServer != 1 {
				t.Errorf("the session holds %d prepared statements of the text (%v), want 1", onServer, err)
			}
		}
		// Requests that first send a text at the same moment share one
		// prepare: the first one's waits long enough for all to ask.
		db.SQL.SetMaxOpenConns(4)
		database.SetPrepareHook(db, func() { time.Sleep(200 * time.Millisecond) })
		prepares := database.PreparesDone(db)
		concurrent := "SELECT " + param + " + 2"
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if got := ask(concurrent, i); got != i+2 {
					t.Errorf("concurrent answer %d, want %d", got, i+2)
				}
			})
		}
		wg.Wait()
		if n := database.PreparesDone(db) - prepares; n != 1 {
			t.Errorf("8 requests sending a new text at once prepared it %d times, want 1", n)
		}

		// A prepare the database does not answer holds no request past its
		// own deadline.
		release := make(chan struct{})
		database.SetPrepareHook(db, func() { <-release })
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		start := time.Now()
		_, err := db.Client.QueryContext(short, "SELECT "+param+" + 3", 1)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
			t.Errorf("a request waiting for a stalled prepare: %v after %v, want its deadline", err, time.Since(start))
		}
		close(release)
		database.SetPrepareHook(db, nil)

		for i := range database.MaxPrepared + 5 {
			if got := ask(fmt.Sprintf("SELECT %s + %d", param, i), 1); got != 1+i {
				t.Errorf("text %d: answer %d, want %d", i, got, 1+i)
			}
		}
		if n := database.KeptPrepared(db); n != database.MaxPrepared {
			t.Errorf("%d statements kept, want the bound %d", n, database.MaxPrepared)
		}
	})
}

// TestPreparedEntQueries: ent's own queries marked WithPrepared (what
// graph does for a query operation's reads) run as prepared statements,
// once prepared however often they run, with the answers and the
// statement count they had unprepared; within a request's share the slot
// is still freed when the rows are closed, and unmarked queries are not
// prepared.
func TestPreparedEntQueries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		sys := viewer.SystemContext(context.Background())
		if _, err := db.Client.Agency.Create().SetCode("prepared-probe").SetName("Prepared probe").
			SetKind(domain.AgencyKindNgoShelter).Save(sys); err != nil {
			t.Fatal(err)
		}
		codes := func(ctx context.Context) []string {
			t.Helper()
			got, err := db.Client.Agency.Query().Where(agency.CodeHasPrefix("prepared-")).Select(agency.FieldCode).Strings(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		want := codes(sys)
		if database.KeptPrepared(db) != 0 {
			t.Fatalf("an unmarked query was prepared")
		}
		// A share of one slot: a slot not freed would hold the next query.
		ctx, cancel := context.WithTimeout(database.WithPrepared(database.WithRequestShare(sys, 1)), 10*time.Second)
		defer cancel()
		prepares := database.PreparesDone(db)
		for range 3 {
			before := db.StatementsSent()
			if got := codes(ctx); !slices.Equal(got, want) {
				t.Errorf("prepared, the query answers %v, want %v", got, want)
			}
			if sent := db.StatementsSent() - before; sent != 1 {
				t.Errorf("counted %d statements, want 1", sent)
			}
		}
		if n := database.PreparesDone(db) - prepares; n != 1 {
			t.Errorf("one text asked three times was prepared %d times, want 1", n)
		}
		if n := database.KeptPrepared(db); n != 1 {
			t.Errorf("%d statements kept, want 1", n)
		}
	})
}
