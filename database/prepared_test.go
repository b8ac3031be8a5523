package database_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
