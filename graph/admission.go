package graph

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Admission bounds the operations a server executes at once, and those
// waiting to: only operations costing over cheapCost once waited (for
// room among the heavy ones), so any number of cheap ones ran at once,
// and memory grew with them (eighty requests each under cheapCost took a
// server under a 72 MiB GOMEMLIMIT to a third of its CPU spent
// collecting garbage, a hunt over HTTP).
//
// Every operation takes one of its slots to execute. A heavy one (over
// cheapCost) also takes one of the slots heavy ones may hold (all but a
// quarter, kept for cheap ones) and its cost of the heavy operations'
// room (the cost ceiling once for each CPU); a cheap one never waits for
// heavy room, so a small query does not wait behind large ones (room).
// An operation that finds no room waits, if there is a place for it in
// the queue, for at most half of what is left of its deadline;
// otherwise, or then, it is refused (UNAVAILABLE, HTTP 503 with
// Retry-After) before anything of it runs.
//
// Room is shared between callers (principals, viewer.Principal.Key): room
// freed goes to the waiting caller with the fewest operations running,
// and a caller arriving at a full queue takes the place of the newest
// waiter of the caller holding most of it, if that one holds more than
// the newcomer would. Served in order of arrival, one client keeping the
// queue full (an integrator's bulk job, a dashboard reloading in a loop)
// had every other caller refused 503, or waiting behind all of its
// operations (a review). One caller alone is served in order of arrival,
// as before.
type Admission struct {
	size  int64
	room  *room
	queue *admissionQueue

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
	return &Admission{size: int64(operations), queue: newAdmissionQueue(max(queued, 0)),
		room: &room{slots: int64(operations), heavySlots: int64(operations - reserve), callers: map[string]*callerState{}}}
}

// withCeiling sets the heavy operations' room from the cost ceiling:
// it once for each CPU. An operation resolves its fields in order on one
// goroutine, so it keeps one CPU busy at the most.
func (a *Admission) withCeiling(maxCost int) *Admission {
	a.room.heavyRoom = int64(maxCost) * int64(runtime.GOMAXPROCS(0))
	a.room.heavyRoomSize = a.room.heavyRoom
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
	return AdmissionStats{Limit: a.size, Running: a.size - a.room.freeSlots(), Queued: a.queue.len(), Refused: a.refused.Load()}
}

// queueWait is how long an operation waits for room without a deadline
// (a caller in process): half the server's default deadline.
const queueWait = 2500 * time.Millisecond

// admit waits for room for an operation of cost c sent by caller (a
// viewer.Principal.Key), and returns the function that gives it back, or
// false when there is none in time. It takes the room at once if it can
// (room.tryTake); otherwise it takes a place in the queue (maybe another
// caller's, admissionQueue.join) and waits until waitUntil, or until its
// place is taken.
func (a *Admission) admit(ctx context.Context, c int, caller string) (release func(), ok bool) {
	n := need{heavy: c > cheapCost}
	if n.heavy {
		n.cost = min(int64(c), a.room.heavyRoomSize)
	}
	if ctx.Err() != nil {
		// Its client is gone (or its deadline passed): nothing of it runs,
		// room free or not.
		return a.refuse()
	}
	if !a.room.tryTake(caller, n) {
		until := waitUntil(ctx, time.Now())
		wctx, cancel := context.WithDeadline(ctx, until)
		defer cancel()
		// Only an operation that can wait takes another caller's place:
		// one whose client left, or whose body was sent until its
		// deadline, would have that caller's waiter refused for nothing
		// (a review).
		displace := ctx.Err() == nil && time.Until(until) >= minWaitToDisplace
		place, ok := a.queue.join(caller, cancel, displace)
		if !ok {
			return a.refuse()
		}
		err := a.room.take(wctx, caller, n)
		a.queue.leave(caller, place)
		if err != nil {
			return a.refuse()
		}
	}
	return func() { a.room.give(caller, n) }, true
}

// refuse counts an operation refused for want of room.
func (a *Admission) refuse() (func(), bool) {
	a.refused.Add(1)
	return nil, false
}

// minWaitToDisplace is the least wait an operation must have left to take
// another caller's place in a full queue: a few operations' time.
const minWaitToDisplace = 100 * time.Millisecond

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

// room is what operations execute in: the slots, the slots heavy
// operations may hold, and the heavy operations' cost room; one
// scheduler hands out all three, so that callers share every kind fairly
// (with x/sync's semaphores for the heavy ones, served in order of
// arrival, one caller's heavy operations took every heavy slot freed
// while another's waited: a review).
//
// A waiter is given what it needs as soon as it fits, the waiting caller
// with the fewest operations running first (the earliest on a tie): a
// caller with many operations queued would otherwise take each slot
// freed, and another's one operation wait behind all of them. A waiter
// that does not fit does not hold back the others, except that the heavy
// room is kept for the first heavy waiter that found too little of it
// (holder) until it has it: a large heavy operation is not passed by
// smaller ones until it is refused, and a cheap one never waits for heavy
// room.
type room struct {
	mu sync.Mutex
	// What is free; heavyRoomSize is all of the heavy room (withCeiling).
	slots, heavySlots, heavyRoom int64
	heavyRoomSize                int64
	// callers are the callers running or waiting, each with its count
	// of operations running, which a waiter reads through its pointer:
	// a map look-up for each waiter of each grant was most of the
	// scheduler's time with 64 waiting.
	callers map[string]*callerState
	waiting []*roomWaiter // in order of arrival
	// holder is the heavy waiter the heavy room is kept for: the first in
	// order that found too little of it. It stays the holder until it is
	// given room or stops waiting, whatever its caller's rank meanwhile:
	// chosen anew at each grant, a large operation of a caller with one
	// running ranked behind each newcomer's smaller one, and was passed
	// until refused (a review).
	holder *roomWaiter
}

// need is what an operation takes of the room: a slot, and if heavy a
// heavy slot and cost of the heavy room.
type need struct {
	heavy bool
	cost  int64
}

// roomWaiter is an operation waiting for room; granted is closed when it
// is given what it needs.
type roomWaiter struct {
	caller  *callerState
	need    need
	granted chan struct{}
}

// callerState is what room knows of one caller: its operations running,
// and those running or waiting (it is forgotten when none is).
type callerState struct {
	key             string
	running, active int
}

// callerOf returns caller's state, counting one more operation active.
func (r *room) callerOf(caller string) *callerState {
	c := r.callers[caller]
	if c == nil {
		c = &callerState{key: caller}
		r.callers[caller] = c
	}
	c.active++
	return c
}

// done counts one operation of c less active, forgetting c at none.
func (r *room) done(c *callerState) {
	if c.active--; c.active == 0 {
		delete(r.callers, c.key)
	}
}

// tryTake takes what n needs for caller if it is its turn now.
func (r *room) tryTake(caller string, n need) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.slots == 0 {
		return false // the common case under load: nothing to hand out
	}
	w := r.enter(caller, n)
	if r.isGranted(w) {
		return true
	}
	r.leaveWaiting(w)
	return false
}

// take waits for caller's turn to take what n needs, until ctx ends.
func (r *room) take(ctx context.Context, caller string, n need) error {
	r.mu.Lock()
	if err := ctx.Err(); err != nil {
		// Ended before it waited (its place taken, its client gone): it
		// does not run, even with room free.
		r.mu.Unlock()
		return err
	}
	w := r.enter(caller, n)
	r.mu.Unlock()
	select {
	case <-w.granted:
		return nil
	case <-ctx.Done():
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.isGranted(w) {
		// Given room as it stopped waiting: it goes to the next.
		r.put(w.caller, n)
	} else {
		r.leaveWaiting(w)
	}
	return ctx.Err()
}

// freeSlots is the slots no operation holds: the operations running are
// the rest.
func (r *room) freeSlots() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.slots
}

// give returns what n took for caller.
func (r *room) give(caller string, n need) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(r.callers[caller], n)
}

// enter adds a waiter and hands out the room; the caller holds mu.
func (r *room) enter(caller string, n need) *roomWaiter {
	w := &roomWaiter{caller: r.callerOf(caller), need: n, granted: make(chan struct{})}
	r.waiting = append(r.waiting, w)
	if n.heavy && r.holder == nil && r.heavyRoom < n.cost {
		r.holder = w // the first to lack the heavy room: no waiter before it does (holder)
	}
	r.grant()
	return w
}

// leaveWaiting removes a waiter not granted: one that did not fit may have
// held the heavy room for itself, so the room is handed out again.
func (r *room) leaveWaiting(w *roomWaiter) {
	r.waiting = slices.DeleteFunc(r.waiting, func(o *roomWaiter) bool { return o == w })
	if r.holder == w {
		r.holder = r.firstLacking()
	}
	r.done(w.caller)
	r.grant()
}

func (r *room) put(c *callerState, n need) {
	c.running--
	r.done(c)
	r.slots++
	if n.heavy {
		r.heavySlots++
		r.heavyRoom += n.cost
	}
	r.grant()
}

func (r *room) isGranted(w *roomWaiter) bool {
	select {
	case <-w.granted:
		return true
	default:
		return false
	}
}

// grant gives the room to waiters while one fits, the first in order
// (fewest running for its caller, then arrival), skipping heavy waiters
// while the heavy room is held for another (holder); the caller holds mu.
// Two passes over the waiters a grant, no sort: the queue may be long (a
// review measured a sort a grant at 1.5 ms under the lock for 2,048
// waiters, and 8.6 ms for 10,000).
func (r *room) grant() {
	// Without a free slot nothing fits: a waiter arriving then (most of
	// them under load) costs no pass.
	for len(r.waiting) > 0 && r.slots > 0 {
		next := r.first(func(w *roomWaiter) bool {
			return r.fits(w.need) && (!w.need.heavy || r.holder == nil || w == r.holder)
		})
		if next == nil {
			return
		}
		r.waiting = slices.DeleteFunc(r.waiting, func(o *roomWaiter) bool { return o == next })
		next.caller.running++
		r.slots--
		if next.need.heavy {
			r.heavySlots--
			r.heavyRoom -= next.need.cost
			// The holder has the room (a heavy waiter given room while
			// one holds it is the holder), or the room shrank: the first
			// heavy waiter lacking it now holds it.
			r.holder = r.firstLacking()
		}
		close(next.granted)
	}
}

// firstLacking is the first heavy waiter in order that lacks heavy room,
// or nil. The holder is chosen by it whenever one may newly lack the room
// or the holder goes, and otherwise when a waiter arrives lacking it
// (enter), so that with no holder no waiter lacks the room, slots free or
// not (a review: chosen only while a slot was free, a later caller's
// smaller operation could become the holder before a large one that
// arrived first).
func (r *room) firstLacking() *roomWaiter {
	return r.first(func(w *roomWaiter) bool { return w.need.heavy && r.heavyRoom < w.need.cost })
}

// first is the first waiter in order (fewest running for its caller, the
// earliest of them) that ok accepts, or nil.
func (r *room) first(ok func(*roomWaiter) bool) *roomWaiter {
	var best *roomWaiter
	least := 0
	for _, w := range r.waiting {
		if ok(w) && (best == nil || w.caller.running < least) {
			best, least = w, w.caller.running
		}
	}
	return best
}

func (r *room) fits(n need) bool {
	return r.slots > 0 && (!n.heavy || r.heavySlots > 0 && r.heavyRoom >= n.cost)
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
// of it than caller would (or the operation may not displace one).
func (q *admissionQueue) join(caller string, stop context.CancelFunc, displace bool) (*queuePlace, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.total >= q.max {
		if !displace {
			return nil, false
		}
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
