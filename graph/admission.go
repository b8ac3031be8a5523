package graph

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// Admission bounds the operations a server executes at once, and those
// waiting to: only operations costing over cheapCost once waited (for
// room among the heavy ones), so any number of cheap ones ran at once,
// and memory grew with them (eighty requests each under cheapCost took a
// server under a 72 MiB GOMEMLIMIT to a third of its CPU spent
// collecting garbage, a hunt over HTTP).
//
// Every operation takes one of its slots to execute. A heavy one (over
// cheapCost) first takes its cost of the heavy operations' room (the
// cost ceiling once for each CPU) and one of the slots heavy ones may
// hold, then a slot: one weighted queue for
// both would put a cheap operation behind a heavy one waiting for room
// (x/sync's semaphore serves its waiters in order), and a small query
// would wait for the large ones. An operation that finds no slot waits,
// if there is a place for it in the queue, for at most half of what is
// left of its deadline; otherwise, or then, it is refused (UNAVAILABLE,
// HTTP 503 with Retry-After) before anything of it runs.
//
// Room is shared between callers (principals, viewer.Principal.Key): a
// free slot goes to the waiting caller with the fewest operations
// running, and a caller arriving at a full queue takes the place of the
// newest waiter of the caller holding most of it, if that one holds more
// than the newcomer would. Served in order of arrival, one client keeping
// the queue full (an integrator's bulk job, a dashboard reloading in a
// loop) had every other caller refused 503, or waiting behind all of its
// operations (a review). One caller alone is served in order of arrival,
// as before.
type Admission struct {
	size  int64
	slots *fairSlots
	queue *admissionQueue
	// heavy holds the costs of the heavy operations admitted or waiting
	// for a slot, at most heavyRoom (set by the handler: it knows the
	// ceiling).
	heavy     *semaphore.Weighted
	heavyRoom int64
	// heavySlots are the slots heavy operations may hold: all but a
	// quarter (at least one, when there are two or more), kept for cheap
	// ones.
	heavySlots *semaphore.Weighted

	running atomic.Int64
	refused atomic.Uint64
}

// NewAdmission returns an Admission executing at most operations at once,
// with at most queued waiting.
func NewAdmission(operations, queued int) *Admission {
	operations = max(operations, 1)
	reserve := 0
	if operations >= 2 {
		reserve = max(1, operations/4)
	}
	return &Admission{size: int64(operations), slots: newFairSlots(operations), queue: newAdmissionQueue(max(queued, 0)),
		heavySlots: semaphore.NewWeighted(int64(operations - reserve))}
}

// withCeiling sets the heavy operations' room from the cost ceiling:
// it once for each CPU. An operation resolves its fields in order on one
// goroutine, so it keeps one CPU busy at the most.
func (a *Admission) withCeiling(maxCost int) *Admission {
	a.heavyRoom = int64(maxCost) * int64(runtime.GOMAXPROCS(0))
	a.heavy = semaphore.NewWeighted(a.heavyRoom)
	return a
}

// AdmissionStats are an Admission's figures, for /metrics.
type AdmissionStats struct {
	// Limit is the operations executed at once at most; Running those
	// executing, Queued those waiting; Refused counts those refused for
	// want of room since the start.
	Limit, Running, Queued int64
	Refused                uint64
}

// Stats reads the Admission's figures.
func (a *Admission) Stats() AdmissionStats {
	return AdmissionStats{Limit: a.size, Running: a.running.Load(), Queued: a.queue.len(), Refused: a.refused.Load()}
}

// queueWait is how long an operation waits for room without a deadline
// (a caller in process): half the server's default deadline.
const queueWait = 2500 * time.Millisecond

// admit waits for room for an operation of cost c sent by caller (a
// viewer.Principal.Key), and returns the function that gives it back, or
// false when there is none in time. A heavy operation takes, in this
// order, its cost of the heavy room, one of the slots heavy operations
// may hold (all but a reserve for cheap ones: a burst of operations
// costing a little over cheapCost filled every slot, and a small query,
// which never waited before slots, waited behind them; a review), then a
// slot; a cheap one a slot alone. Each is tried at once first; an
// operation that must wait for any takes a place in the queue (maybe
// another caller's, admissionQueue.join) and waits until waitUntil, or
// until its place is taken.
func (a *Admission) admit(ctx context.Context, c int, caller string) (release func(), ok bool) {
	var holds []hold
	if c > cheapCost {
		holds = []hold{{a.heavy, min(int64(c), a.heavyRoom)}, {a.heavySlots, 1}}
	}
	taken := 0
	for taken < len(holds) && holds[taken].sem.TryAcquire(holds[taken].n) {
		taken++
	}
	slot := taken == len(holds) && a.slots.tryAcquire(caller)
	if !slot {
		wctx, cancel := context.WithDeadline(ctx, waitUntil(ctx, time.Now()))
		defer cancel()
		place, ok := a.queue.join(caller, cancel)
		if !ok {
			return a.refuse(holds[:taken])
		}
		for taken < len(holds) && holds[taken].sem.Acquire(wctx, holds[taken].n) == nil {
			taken++
		}
		slot = taken == len(holds) && a.slots.acquire(wctx, caller) == nil
		a.queue.leave(caller, place)
		if !slot {
			return a.refuse(holds[:taken])
		}
	}
	a.running.Add(1)
	return func() {
		a.running.Add(-1)
		a.slots.release(caller)
		releaseAll(holds)
	}, true
}

// hold is n of a semaphore's units an operation takes to run.
type hold struct {
	sem *semaphore.Weighted
	n   int64
}

func releaseAll(holds []hold) {
	for _, h := range holds {
		h.sem.Release(h.n)
	}
}

func (a *Admission) refuse(held []hold) (func(), bool) {
	releaseAll(held)
	a.refused.Add(1)
	return nil, false
}

// waitUntil is when an operation stops waiting for room: half of what is
// left of its deadline, so that an operation admitted has time to run.
func waitUntil(ctx context.Context, now time.Time) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return now.Add(queueWait)
	}
	return now.Add(d.Sub(now) / 2)
}

// DefaultOperations is how many operations a server executes at once by
// default: four for each CPU (an operation keeps one CPU busy at the most,
// and waits on the database part of its time), and no more than the
// database's pool holds connections (poolSize; 0: not known), since each
// needs one for its statements and one beyond would only wait for it,
// holding its memory.
func DefaultOperations(poolSize int) int {
	n := 4 * runtime.GOMAXPROCS(0)
	if poolSize > 0 {
		n = min(n, poolSize)
	}
	return max(n, 2)
}

// DefaultQueued is how many operations wait for a slot at most by
// default: eight for each slot. A waiting request holds its body (at most
// a megabyte, usually a few kilobytes) and its parsed document, not an
// answer being built; at tens of milliseconds an operation, eight rounds
// of the slots clear well within half a deadline.
func DefaultQueued(operations int) int { return 8 * operations }

// fairSlots are the slots operations execute in. A slot freed goes to
// the waiting caller with the fewest operations running (the earliest of
// them on a tie), not to the first waiting: otherwise a caller with many
// operations queued takes each slot freed, and another's one operation
// waits behind all of them.
type fairSlots struct {
	mu      sync.Mutex
	free    int64
	running map[string]int
	waiting []*slotWaiter // in order of arrival
}

// slotWaiter is an operation waiting for a slot; granted is closed when
// it is given one.
type slotWaiter struct {
	caller  string
	granted chan struct{}
}

func newFairSlots(n int) *fairSlots {
	return &fairSlots{free: int64(n), running: map[string]int{}}
}

// tryAcquire takes a slot for caller if one is free and nobody waits.
func (f *fairSlots) tryAcquire(caller string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.free == 0 || len(f.waiting) > 0 {
		return false
	}
	f.take(caller)
	return true
}

// acquire takes a slot for caller, waiting its turn until ctx ends.
func (f *fairSlots) acquire(ctx context.Context, caller string) error {
	f.mu.Lock()
	if f.free > 0 && len(f.waiting) == 0 {
		f.take(caller)
		f.mu.Unlock()
		return nil
	}
	w := &slotWaiter{caller: caller, granted: make(chan struct{})}
	f.waiting = append(f.waiting, w)
	f.mu.Unlock()
	select {
	case <-w.granted:
		return nil
	case <-ctx.Done():
	}
	f.mu.Lock()
	select {
	case <-w.granted:
		// Given a slot as it stopped waiting: it goes to the next.
		f.mu.Unlock()
		f.release(caller)
	default:
		f.waiting = slices.DeleteFunc(f.waiting, func(o *slotWaiter) bool { return o == w })
		f.mu.Unlock()
	}
	return ctx.Err()
}

// release gives caller's slot back, to the waiting caller with the fewest
// running.
func (f *fairSlots) release(caller string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running[caller]--; f.running[caller] == 0 {
		delete(f.running, caller)
	}
	f.free++
	for f.free > 0 && len(f.waiting) > 0 {
		next := 0
		for i, w := range f.waiting {
			if f.running[w.caller] < f.running[f.waiting[next].caller] {
				next = i
			}
		}
		w := f.waiting[next]
		f.waiting = slices.Delete(f.waiting, next, next+1)
		f.take(w.caller)
		close(w.granted)
	}
}

func (f *fairSlots) take(caller string) {
	f.free--
	f.running[caller]++
}

// admissionQueue bounds the operations waiting for room, and shares its
// places between callers: one arriving at a full queue takes the place of
// the newest waiter of the caller holding most places, if that caller
// holds more than the newcomer would with it (so callers end with equal
// shares, and the one that filled the queue alone keeps its oldest
// waiters). The waiter whose place is taken stops waiting and is refused.
type admissionQueue struct {
	mu       sync.Mutex
	max      int
	total    int
	byCaller map[string][]*queuePlace // in order of arrival
}

// queuePlace is one waiter's place; stop ends its wait when another takes
// the place (taken).
type queuePlace struct {
	stop  context.CancelFunc
	taken bool
}

func newAdmissionQueue(n int) *admissionQueue {
	return &admissionQueue{max: n, byCaller: map[string][]*queuePlace{}}
}

func (q *admissionQueue) len() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return int64(q.total)
}

// join takes a place for one of caller's operations, whose wait stop
// ends, or returns false when the queue is full and no caller holds more
// of it than caller would.
func (q *admissionQueue) join(caller string, stop context.CancelFunc) (*queuePlace, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.total >= q.max {
		most, held := "", 0
		for c, places := range q.byCaller {
			// The smaller key on a tie: which caller yields does not
			// depend on the map's order.
			if len(places) > held || (len(places) == held && c < most) {
				most, held = c, len(places)
			}
		}
		if len(q.byCaller[caller])+1 >= held {
			return nil, false
		}
		newest := q.byCaller[most][held-1]
		q.remove(most, held-1)
		newest.taken = true
		newest.stop()
	}
	place := &queuePlace{stop: stop}
	q.byCaller[caller] = append(q.byCaller[caller], place)
	q.total++
	return place, true
}

// leave gives caller's place back when its wait ends, unless another
// caller took it.
func (q *admissionQueue) leave(caller string, place *queuePlace) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if place.taken {
		return
	}
	q.remove(caller, slices.Index(q.byCaller[caller], place))
}

func (q *admissionQueue) remove(caller string, i int) {
	places := slices.Delete(q.byCaller[caller], i, i+1)
	if len(places) == 0 {
		delete(q.byCaller, caller)
	} else {
		q.byCaller[caller] = places
	}
	q.total--
}
