package audit_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/internal/testdb"
)

// TestVerifierWalksOnceAtATime: readers asking at once, each with anchors
// of its own (real or past the end), share one walk of the chain, wait for
// it no longer than their own deadline, and each is told what its own
// anchors say. When anchors were part of what a walk was shared by, each
// reader's anchors began a walk of the whole trail (a hunt over HTTP).
// PostgreSQL: a transaction holding audit_events keeps the walk waiting,
// where the walks under way can be counted.
func TestVerifierWalksOnceAtATime(t *testing.T) {
	t.Parallel()
	db := testdb.Postgres(t)
	w := audit.Install(db.Client, db.Dialect)
	write(t, w, sampleEvents(6, base))
	trail := testdb.AuditTrail(t, db)
	var v audit.Verifier

	hold, err := db.SQL.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback() }()
	if _, err := hold.Exec(`LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	const readers = 8
	errs := make([]error, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			anchor, _ := audit.NewAnchor(int64(1_000_000+i), strings.Repeat("0", 64))
			_, errs[i] = v.Verify(ctx, db.Client, audit.Scope{All: true}, anchor)
		}()
	}
	// The walks under way wait on the lock: count them.
	walks := 0
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		if err := db.SQL.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE '%FROM "audit_events"%'`).Scan(&walks); err != nil {
			t.Fatal(err)
		}
		if walks > 0 {
			time.Sleep(200 * time.Millisecond) // let any other walk begin
			_ = db.SQL.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
				AND wait_event_type = 'Lock' AND query LIKE '%FROM "audit_events"%'`).Scan(&walks)
			break
		}
	}
	if walks != 1 {
		t.Errorf("%d walks of the chain under way for %d readers with anchors of their own, want 1", walks, readers)
	}
	answered := make(chan struct{})
	go func() { wg.Wait(); close(answered) }()
	select {
	case <-answered: // by their deadlines, the lock still held
		for i, err := range errs {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("reader %d, the chain held past its deadline: %v, want its deadline", i, err)
			}
		}
	case <-time.After(10 * time.Second):
		t.Errorf("readers still waiting for the walk 9 s past their deadline")
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	<-answered

	// Each reader is told what its own anchors say, the walk shared or not.
	ctx := context.Background()
	last := trail[len(trail)-1]
	own, _ := audit.NewAnchor(last.Seq, last.Hash)
	other, _ := audit.NewAnchor(2, last.Hash)
	past, _ := audit.NewAnchor(last.Seq+5, last.Hash)
	wrongLast, _ := audit.NewAnchor(last.Seq, trail[0].Hash)
	for _, tc := range []struct {
		name    string
		anchors []audit.Anchor
		valid   bool
		broken  int64
	}{
		{"none", nil, true, 0},
		{"its own", []audit.Anchor{own}, true, 0},
		{"another hash", []audit.Anchor{own, other}, false, 2},
		{"past the end", []audit.Anchor{past}, false, last.Seq + 1},
		{"another hash before one past the end", []audit.Anchor{past, other}, false, 2},
		// Two hashes for one event: one is wrong, in either order (the
		// command once kept the last, a review).
		{"its own after another for the same event", []audit.Anchor{wrongLast, own}, false, last.Seq},
		{"another after its own for the same event", []audit.Anchor{own, wrongLast}, false, last.Seq},
	} {
		got, err := v.Verify(ctx, db.Client, audit.Scope{All: true}, tc.anchors...)
		want, werr := audit.Verify(ctx, db.Client, tc.anchors...)
		if err != nil || werr != nil || got.Valid != tc.valid || got.BrokenAt != tc.broken || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: shared walk %+v (%v), the command's %+v (%v); want valid %v, broken at %d, and the two alike", tc.name, got, err, want, werr, tc.valid, tc.broken)
		}
	}
}
