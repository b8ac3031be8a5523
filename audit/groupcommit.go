package audit

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit: every request's events must be committed before its
// answer leaves, and the chain admits one appender at a time. Writing each
// request in a transaction of its own made requests queue on the chain's
// lock, one commit each, so throughput fell as clients grew. Instead, Write
// puts the request's events in a queue, and one loop per Writer takes
// every request waiting at that moment and appends their events in one
// transaction (one lock, one read of the chain's end, one INSERT, one
// commit); each request waits for that commit and gets its result. While a
// batch commits the next one gathers, so the busier the server, the larger
// the batches and the fewer the commits. No request waits on purpose for
// others: a lone request is written at once.
//
// The loop runs only while there is something to write: the first Write
// to find it stopped starts it, and it stops when the queue is empty, so
// an idle Writer holds no goroutine and needs no Close to be collected.

// Bounds of one batch. A batch takes whole requests, oldest first, while it
// stays within both; the rest waits for the next batch. A request larger
// than a bound goes alone, whole: its events stand or fall together.
const (
	maxBatchEvents = 4096
	maxBatchBytes  = 8 << 20 // of rows, as estimated by eventSize
	// batchTimeout bounds one batch's transaction. A batch is nobody's
	// request (its callers may leave, see Write), so it has a deadline of
	// its own: a database that hangs fails the batch, not the writer.
	batchTimeout = 10 * time.Second
)

// errClosed is the cause of a Write refused because the writer is closed.
var errClosed = errors.New("the audit writer is closed")

// group is a Writer's queue and the state of its loop.
type group struct {
	mu      sync.Mutex
	pending []*pendingWrite
	writing int           // requests in the batch being written
	running bool          // a loop is writing batches
	stopped chan struct{} // closed when the running loop stops
	closed  bool

	batches, events atomic.Int64

	// beforeBatch, when set (tests), runs as a batch starts, after it
	// has been taken from the queue and before its transaction begins.
	beforeBatch func(requests, events int)
}

// pendingWrite is one Write waiting for its batch.
type pendingWrite struct {
	events []Event
	done   chan struct{} // closed when err is set
	err    error
}

// Write appends events, with those of the other requests waiting at the
// same time, in one transaction of their own, and returns once it has
// committed: the events are durable when Write returns nil. A failed
// batch fails every request in it with AUDIT_UNAVAILABLE (see
// unavailable) and writes none of their events.
//
// A request whose ctx ends while it is still queued drops out: nothing of
// it is written, and Write returns AUDIT_UNAVAILABLE. One whose ctx ends
// once its batch has started returns AUDIT_UNAVAILABLE too, and the batch
// goes on: its events may yet be committed. The caller withholds what the
// events are about either way, so a read may be recorded that was not
// sent, never the reverse. Waiting for the batch instead held answers up
// to a batch's own timeout past their deadline under load (a hunt: 13 s
// after a 5 s deadline, most of it waiting on a batch of 18 requests).
func (w *Writer) Write(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return unavailable("waiting for the trail", err)
	}
	p := &pendingWrite{events: events, done: make(chan struct{})}
	g := &w.group
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return unavailable("appending", errClosed)
	}
	g.pending = append(g.pending, p)
	if !g.running {
		g.running, g.stopped = true, make(chan struct{})
		go w.loop()
	}
	g.mu.Unlock()

	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
	}
	g.mu.Lock()
	if i := slices.Index(g.pending, p); i >= 0 {
		g.pending = slices.Delete(g.pending, i, i+1)
		g.mu.Unlock()
		return unavailable("waiting for the trail", ctx.Err())
	}
	g.mu.Unlock()
	select {
	case <-p.done: // it ended as ctx did: its result is known
		return p.err
	default:
		return unavailable("waiting for the trail's commit", ctx.Err())
	}
}

// loop writes batches until the queue is empty, then stops.
func (w *Writer) loop() {
	g := &w.group
	for {
		g.mu.Lock()
		batch := g.take()
		g.writing = len(batch)
		if len(batch) == 0 {
			g.running = false
			close(g.stopped)
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()

		lists := make([][]Event, len(batch))
		n := 0
		for i, p := range batch {
			lists[i] = p.events
			n += len(p.events)
		}
		if g.beforeBatch != nil {
			g.beforeBatch(len(batch), n)
		}
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		err := w.commit(ctx, lists)
		cancel()
		g.batches.Add(1)
		if err == nil {
			g.events.Add(int64(n))
		}
		for _, p := range batch {
			p.err = err
			close(p.done)
		}
	}
}

// take removes the next batch from the queue (see maxBatchEvents: an
// event's records count as events, each a row to insert; they were not
// counted, and a batch of 18 pages held 2,784 records, a hunt). g.mu is
// held.
func (g *group) take() []*pendingWrite {
	events, bytes, n := 0, 0, 0
	for _, p := range g.pending {
		size, rows := 0, 0
		for i := range p.events {
			size += eventSize(&p.events[i])
			rows += 1 + len(p.events[i].Records)
		}
		if n > 0 && (events+rows > maxBatchEvents || bytes+size > maxBatchBytes) {
			break
		}
		events, bytes, n = events+rows, bytes+size, n+1
	}
	batch := slices.Clone(g.pending[:n])
	g.pending = slices.Delete(g.pending, 0, n)
	return batch
}

// eventSize estimates the bytes of an event's row: its strings, and a
// fixed share for the numbers, hashes, times and JSON around them.
func eventSize(e *Event) int {
	n := 320 + len(e.RequestID) + len(e.Operation) + len(e.ClientAddress) + len(e.ActorSubject) +
		len(e.ActorAgency) + len(e.EntityType) + len(e.Decision) + len(e.Rule) + len(e.Reason) +
		len(e.Justification) + len(e.Detail)
	for _, r := range e.ActorRoles {
		n += len(r) + 1
	}
	for _, f := range e.Fields {
		n += len(f) + 1
	}
	return n + len(e.Records)*recordSize
}

// recordSize estimates the bytes of one record's row: its id and nonce and
// the JSON around them.
const recordSize = 80

// Close refuses every later Write (AUDIT_UNAVAILABLE) and waits until the
// writes already queued are committed or failed, or until ctx ends. A
// server closes its writer once it has stopped taking requests, so that no
// request answered goes without its events.
func (w *Writer) Close(ctx context.Context) error {
	g := &w.group
	g.mu.Lock()
	g.closed = true
	running, stopped := g.running, g.stopped
	g.mu.Unlock()
	if !running {
		return nil
	}
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WriterStats counts a Writer's batches since it was made.
type WriterStats struct {
	// Batches is the number of transactions Write began (committed or not).
	Batches int64
	// Events is the number of events they committed.
	Events int64
	// Queued is the number of writes waiting for a batch now, and Writing
	// the number in the batch being written.
	Queued, Writing int
}

// Stats returns what the writer has done so far.
func (w *Writer) Stats() WriterStats {
	g := &w.group
	g.mu.Lock()
	defer g.mu.Unlock()
	return WriterStats{Batches: g.batches.Load(), Events: g.events.Load(), Queued: len(g.pending), Writing: g.writing}
}
