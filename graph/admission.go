package graph

import (
	"context"
	"runtime"
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
// if fewer than its queue's bound are waiting already, for at most half
// of what is left of its deadline; otherwise, or then, it is refused
// (UNAVAILABLE, HTTP 503 with Retry-After) before anything of it runs.
type Admission struct {
	size, maxQueued int64
	slots           *semaphore.Weighted
	// heavy holds the costs of the heavy operations admitted or waiting
	// for a slot, at most heavyRoom (set by the handler: it knows the
	// ceiling).
	heavy     *semaphore.Weighted
	heavyRoom int64
	// heavySlots are the slots heavy operations may hold: all but a
	// quarter (at least one, when there are two or more), kept for cheap
	// ones.
	heavySlots *semaphore.Weighted

	running, queued atomic.Int64
	refused         atomic.Uint64
}

// NewAdmission returns an Admission executing at most operations at once,
// with at most queued waiting.
func NewAdmission(operations, queued int) *Admission {
	operations = max(operations, 1)
	reserve := 0
	if operations >= 2 {
		reserve = max(1, operations/4)
	}
	return &Admission{size: int64(operations), maxQueued: int64(max(queued, 0)), slots: semaphore.NewWeighted(int64(operations)),
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
	return AdmissionStats{Limit: a.size, Running: a.running.Load(), Queued: a.queued.Load(), Refused: a.refused.Load()}
}

// queueWait is how long an operation waits for room without a deadline
// (a caller in process): half the server's default deadline.
const queueWait = 2500 * time.Millisecond

// admit waits for room for an operation of cost c, and returns the
// function that gives it back, or false when there is none in time. A heavy
// operation takes, in this order, its cost of the heavy room, one of the
// slots heavy operations may hold (all but a reserve for cheap ones: a
// burst of operations costing a little over cheapCost filled every slot,
// and a small query, which never waited before slots, waited behind them;
// a review), then a slot; a cheap one a slot alone. Each is tried at once
// first; an operation that must wait for any queues (if fewer than the
// bound are waiting) until waitUntil.
func (a *Admission) admit(ctx context.Context, c int) (release func(), ok bool) {
	holds := []hold{{a.slots, 1}}
	if c > cheapCost {
		holds = []hold{{a.heavy, min(int64(c), a.heavyRoom)}, {a.heavySlots, 1}, {a.slots, 1}}
	}
	taken := 0
	for taken < len(holds) && holds[taken].sem.TryAcquire(holds[taken].n) {
		taken++
	}
	if taken < len(holds) {
		if a.queued.Add(1) > a.maxQueued {
			a.queued.Add(-1)
			return a.refuse(holds[:taken])
		}
		wctx, cancel := context.WithDeadline(ctx, waitUntil(ctx, time.Now()))
		for taken < len(holds) && holds[taken].sem.Acquire(wctx, holds[taken].n) == nil {
			taken++
		}
		cancel()
		a.queued.Add(-1)
		if taken < len(holds) {
			return a.refuse(holds[:taken])
		}
	}
	a.running.Add(1)
	return func() {
		a.running.Add(-1)
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
