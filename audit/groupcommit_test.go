package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
)

// Group commit (groupcommit.go): the tests hold each batch of a writer as
// it starts, before its transaction, to decide which writes queue behind
// it and so what the next batch gathers, instead of hoping the scheduler
// lines them up.

// batchStart is what a batch held by heldBatches started with.
type batchStart struct{ requests, events int }

// heldBatches holds every batch of a writer at its start until release.
type heldBatches struct {
	started chan batchStart
	next    chan struct{}
	free    chan struct{} // closed at the test's end: nothing is held any more
}

func holdBatches(t *testing.T, w *audit.Writer) *heldBatches {
	h := &heldBatches{started: make(chan batchStart, 1000), next: make(chan struct{}), free: make(chan struct{})}
	t.Cleanup(func() { close(h.free) })
	audit.BeforeEachBatch(w, func(requests, events int) {
		h.started <- batchStart{requests, events}
		select {
		case <-h.next:
		case <-h.free:
		}
	})
	return h
}

// holdFirstBatch returns a writer over db whose batches wait to be
// released, with one write ("first", one event) whose batch has started
// and is held: what each test writes next queues behind it.
func holdFirstBatch(t *testing.T, db *database.DB) (*audit.Writer, *heldBatches, *pending) {
	t.Helper()
	w := audit.NewWriter(db.Client, db.Dialect)
	h := holdBatches(t, w)
	first := startWrite(context.Background(), w, "first", 1)
	h.wait(t)
	return w, h, first
}

// within returns what ch delivers, failing the test with failure when
// nothing comes within 30 seconds: a held batch or a stuck write must not
// hang the test binary.
func within[T any](t *testing.T, ch <-chan T, failure string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal(failure)
		var zero T
		return zero
	}
}

// wait returns the next batch to start, held.
func (h *heldBatches) wait(t *testing.T) batchStart {
	t.Helper()
	return within(t, h.started, "no batch started")
}

// release lets the held batch go on.
func (h *heldBatches) release() { h.next <- struct{}{} }

// pending is a Write running in a goroutine; its result arrives on err.
type pending struct {
	events []audit.Event
	err    chan error
}

// startWrite writes n sample events, tagged with id, from a goroutine.
func startWrite(ctx context.Context, w *audit.Writer, id string, n int) *pending {
	events := sampleEvents(n, time.Now())
	for i := range events {
		events[i].RequestID = fmt.Sprintf("%s-%d", id, i)
	}
	p := &pending{events: events, err: make(chan error, 1)}
	go func() { p.err <- w.Write(ctx, events) }()
	return p
}

func (p *pending) result(t *testing.T) error {
	t.Helper()
	return within(t, p.err, "a write did not return")
}

// waitQueued waits until n writes of w wait for a batch.
func waitQueued(t *testing.T, w *audit.Writer, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for w.Stats().Queued != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", w.Stats().Queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitIdle waits until w has no batch being written and none queued.
func waitIdle(t *testing.T, w *audit.Writer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for st := w.Stats(); st.Queued != 0 || st.Writing != 0; st = w.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("the writer is still busy: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
}

// stored maps each request id of the trail to its event.
func stored(t *testing.T, db *database.DB) map[string]audit.Event {
	t.Helper()
	m := map[string]audit.Event{}
	for _, e := range testdb.AuditTrail(t, db) {
		m[e.RequestID] = e
	}
	return m
}

func isAuditUnavailable(err error) bool {
	var ae *apperr.Error
	return errors.As(err, &ae) && ae.Code == apperr.AuditUnavailable
}

// TestGroupCommitGathersWaitingWrites: 63 writes that arrive while a batch
// is being written are committed together in the next one, each gets
// success only then, and the chain holds every event, each write's in one
// run in its order.
func TestGroupCommitGathersWaitingWrites(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := audit.NewWriter(db.Client, db.Dialect)
		h := holdBatches(t, w)
		first := startWrite(context.Background(), w, "first", 2)
		if b := h.wait(t); b != (batchStart{1, 2}) {
			t.Fatalf("first batch %+v, want the lone write", b)
		}
		const waiting = 63
		writes := make([]*pending, waiting)
		for i := range writes {
			writes[i] = startWrite(context.Background(), w, fmt.Sprintf("w%d", i), 1+i%3)
		}
		waitQueued(t, w, waiting)
		h.release()
		if err := first.result(t); err != nil {
			t.Fatal(err)
		}
		b := h.wait(t)
		if b.requests != waiting {
			t.Fatalf("second batch %+v, want the %d writes that waited", b, waiting)
		}
		for i, p := range writes {
			select {
			case err := <-p.err:
				t.Fatalf("write %d returned (%v) before its batch committed", i, err)
			default:
			}
		}
		h.release()
		total := 2
		for i, p := range writes {
			if err := p.result(t); err != nil {
				t.Errorf("write %d: %v", i, err)
			}
			total += len(p.events)
		}
		if s := w.Stats(); s.Batches != 2 || s.Events != int64(total) {
			t.Errorf("stats %+v, want 2 batches of %d events", s, total)
		}
		if v := verify(t, db); !v.Valid || v.Checked != int64(total) {
			t.Errorf("verify = %+v, want valid over %d events", v, total)
		}
		got := stored(t, db)
		for i, p := range append(writes, first) {
			for j, e := range p.events {
				s, ok := got[e.RequestID]
				if !ok || s.Seq != e.Seq || s.Hash != e.Hash {
					t.Errorf("write %d, event %d: stored %+v, the writer set seq %d", i, j, s, e.Seq)
				}
				if j > 0 && e.Seq != p.events[j-1].Seq+1 {
					t.Errorf("write %d: its events are not one run of the chain", i)
				}
			}
		}
	})
}

// TestFailedBatchFailsAllItsWrites: the INSERT of a batch fails; every
// write in it gets AUDIT_UNAVAILABLE and none of its events is stored;
// the batch before and the one after are unaffected.
func TestFailedBatchFailsAllItsWrites(t *testing.T) {
	testdb.Each(t, func(t *testing.T, plain *database.DB) {
		db, faults := testdb.WithFaults(plain)
		w, h, first := holdFirstBatch(t, db)
		writes := make([]*pending, 8)
		for i := range writes {
			writes[i] = startWrite(context.Background(), w, fmt.Sprintf("failed%d", i), 2)
		}
		waitQueued(t, w, len(writes))
		h.release()
		if err := first.result(t); err != nil {
			t.Fatal(err)
		}
		if b := h.wait(t); b.requests != len(writes) {
			t.Fatalf("second batch %+v, want the %d waiting writes", b, len(writes))
		}
		faults.FailStatements("INSERT INTO audit_events", 1, errors.New("disk full"))
		h.release()
		for i, p := range writes {
			if err := p.result(t); !isAuditUnavailable(err) {
				t.Errorf("write %d of the failed batch: %v, want AUDIT_UNAVAILABLE", i, err)
			}
		}
		last := startWrite(context.Background(), w, "last", 1)
		h.wait(t)
		h.release()
		if err := last.result(t); err != nil {
			t.Fatalf("the batch after the failed one: %v", err)
		}
		got := stored(t, plain)
		for _, p := range writes {
			for _, e := range p.events {
				if _, ok := got[e.RequestID]; ok {
					t.Errorf("%s, of the failed batch, is stored", e.RequestID)
				}
			}
		}
		if _, ok := got["last-0"]; !ok || len(got) != 2 {
			t.Errorf("trail holds %d events, want first and last", len(got))
		}
		if v := verify(t, plain); !v.Valid || v.Checked != 2 {
			t.Errorf("verify = %+v", v)
		}
	})
}

// TestWriteLeavesOrWaits: a write whose context ends while it is queued
// drops out at once (AUDIT_UNAVAILABLE, nothing stored); one whose batch
// has started returns AUDIT_UNAVAILABLE at once too (its caller withholds
// the answer), and the batch goes on and writes it: a read recorded that
// was not sent. It used to wait for the batch, past its deadline.
func TestWriteLeavesOrWaits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w, h, first := holdFirstBatch(t, db)

		leaveCtx, leave := context.WithCancel(context.Background())
		leaver := startWrite(leaveCtx, w, "leaver", 1)
		waitQueued(t, w, 1)
		leave()
		// The batch ahead is still held: only dropping out lets it return.
		if err := leaver.result(t); !isAuditUnavailable(err) || !errors.Is(err, context.Canceled) {
			t.Errorf("queued write whose context ended: %v, want AUDIT_UNAVAILABLE (context canceled)", err)
		}

		stayCtx, stay := context.WithCancel(context.Background())
		stayer := startWrite(stayCtx, w, "stayer", 1)
		waitQueued(t, w, 1)
		h.release()
		if err := first.result(t); err != nil {
			t.Fatal(err)
		}
		if b := h.wait(t); b != (batchStart{1, 1}) {
			t.Fatalf("second batch %+v, want the one write still queued", b)
		}
		stay()
		// The batch is still held: only leaving lets the write return.
		if err := stayer.result(t); !isAuditUnavailable(err) || !errors.Is(err, context.Canceled) {
			t.Errorf("write whose context ended after its batch started: %v, want AUDIT_UNAVAILABLE (context canceled)", err)
		}
		h.release()
		waitIdle(t, w)
		got := stored(t, db)
		if _, ok := got["leaver-0"]; ok {
			t.Error("the write that dropped out is stored")
		}
		if _, ok := got["stayer-0"]; !ok {
			t.Error("the write whose batch had started is not stored: the batch went on without it")
		}
		if v := verify(t, db); !v.Valid || v.Checked != 2 {
			t.Errorf("verify = %+v", v)
		}
	})
}

// TestCloseDrains: Close refuses new writes at once, and returns only once
// the writes queued before it are committed.
func TestCloseDrains(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w, h, first := holdFirstBatch(t, db)
		queued := make([]*pending, 4)
		for i := range queued {
			queued[i] = startWrite(context.Background(), w, fmt.Sprintf("queued%d", i), 1)
		}
		waitQueued(t, w, len(queued))

		closed := make(chan error, 1)
		go func() { closed <- w.Close(context.Background()) }()
		for !audit.Closed(w) {
			time.Sleep(time.Millisecond)
		}
		if err := w.Write(context.Background(), sampleEvents(1, time.Now())); !isAuditUnavailable(err) {
			t.Errorf("write after Close: %v, want AUDIT_UNAVAILABLE", err)
		}
		select {
		case err := <-closed:
			t.Fatalf("Close returned (%v) with writes still queued", err)
		default:
		}
		h.release()
		h.wait(t)
		h.release()
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		for i, p := range append(queued, first) {
			if err := p.result(t); err != nil {
				t.Errorf("write %d, queued before Close: %v", i, err)
			}
		}
		if got := stored(t, db); len(got) != 1+len(queued) {
			t.Errorf("trail holds %d events, want %d", len(got), 1+len(queued))
		}
	})
}

// TestBatchBounds: a batch takes whole writes, oldest first, up to 4096
// rows (events and their records: sampleEvents gives every fourth event
// two, so 1,000 events are 1,500 rows); a write larger than that goes
// alone and whole.
func TestBatchBounds(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w, h, first := holdFirstBatch(t, db)
		var writes []*pending
		for i, n := range []int{1000, 1000, 1000, 1000, 1000, 5000, 1000} {
			writes = append(writes, startWrite(context.Background(), w, fmt.Sprintf("w%d", i), n))
			waitQueued(t, w, i+1) // in this order
		}
		h.release()
		var got []batchStart
		for range 5 {
			got = append(got, h.wait(t))
			h.release()
		}
		want := []batchStart{{2, 2000}, {2, 2000}, {1, 1000}, {1, 5000}, {1, 1000}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("batches %v, want %v", got, want)
		}
		for i, p := range append(writes, first) {
			if err := p.result(t); err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
		if v := verify(t, db); !v.Valid || v.Checked != 11001 {
			t.Errorf("verify = %+v", v)
		}
	})
}

// TestManyWritersFewerTransactions: many goroutines write at once through one
// writer, without holding anything; all succeed, in fewer transactions
// than writes.
func TestManyWritersFewerTransactions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := audit.NewWriter(db.Client, db.Dialect)
		const writers, rounds = 64, 5
		var wg sync.WaitGroup
		for g := range writers {
			wg.Go(func() {
				for r := range rounds {
					if err := w.Write(context.Background(), sampleEvents(2, time.Now())); err != nil {
						t.Errorf("writer %d, round %d: %v", g, r, err)
					}
				}
			})
		}
		wg.Wait()
		s := w.Stats()
		if s.Events != 2*writers*rounds || s.Batches >= writers*rounds {
			t.Errorf("stats %+v: want %d events in fewer than %d transactions", s, 2*writers*rounds, writers*rounds)
		}
		if v := verify(t, db); !v.Valid || v.Checked != s.Events {
			t.Errorf("verify = %+v", v)
		}
		t.Logf("%d writes in %d transactions", writers*rounds, s.Batches)
	})
}
