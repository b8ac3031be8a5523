package graph

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAdmissionKeepsSlotsForCheapOperations: heavy operations hold at most
// all but a quarter of the slots, so a small query finds one at once
// however many heavy ones arrive (a review: operations costing a little
// over cheapCost filled every slot, and small queries, which never waited
// before there were slots, waited behind them).
func TestAdmissionKeepsSlotsForCheapOperations(t *testing.T) {
	a := NewAdmission(4, 8).withCeiling(1_000_000)
	var releases []func()
	defer func() {
		for _, r := range releases {
			r()
		}
	}()
	for i := range 3 {
		release, ok := a.admit(context.Background(), cheapCost+1, "")
		if !ok {
			t.Fatalf("heavy operation %d refused with slots free", i)
		}
		releases = append(releases, release)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if release, ok := a.admit(ctx, cheapCost+1, ""); ok {
		release()
		t.Errorf("a fourth heavy operation took the slot kept for cheap ones")
	}
	release, ok := a.admit(context.Background(), 10, "")
	if !ok {
		t.Fatalf("a cheap operation found no slot with three of four held by heavy ones")
	}
	release()
}

// waitFor polls until cond holds: the operations under test wait on
// goroutines of their own.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after 5 s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// queuedOperation is an operation admit is deciding on in a goroutine.
type queuedOperation struct {
	caller string
	done   chan bool // admitted or refused
	// release gives its slot back once admitted.
	release func()
}

// queue sends a cheap operation of caller, and returns once it waits or
// was decided.
func queue(t *testing.T, a *Admission, caller string) *queuedOperation {
	t.Helper()
	return queueCost(t, a, context.Background(), caller, 10)
}

// outcome is what admit decided for op, within 5 s.
func (op *queuedOperation) outcome(t *testing.T) bool {
	t.Helper()
	select {
	case ok := <-op.done:
		op.done <- ok
		return ok
	case <-time.After(5 * time.Second):
		t.Fatalf("%s's operation still waiting", op.caller)
		return false
	}
}

func (op *queuedOperation) decided() bool { return len(op.done) > 0 }

// TestAdmissionSharesTheQueue: a caller arriving at a queue another
// filled takes the place of that caller's newest waiter until both hold
// equal shares; served in order of arrival, it was refused 503 for as long
// as the other kept the queue full (a review).
func TestAdmissionSharesTheQueue(t *testing.T) {
	a := NewAdmission(1, 4).withCeiling(1_000_000)
	hold, ok := a.admit(context.Background(), 10, "bulk")
	if !ok {
		t.Fatal("the only slot refused")
	}
	var bulk []*queuedOperation
	for range 4 {
		bulk = append(bulk, queue(t, a, "bulk"))
	}
	if op := queue(t, a, "bulk"); op.outcome(t) {
		t.Fatal("a fifth operation queued in a queue of four")
	}

	dashboard := []*queuedOperation{queue(t, a, "dashboard")}
	if dashboard[0].decided() {
		t.Fatal("the dashboard's first operation was refused at a queue one caller filled")
	}
	if bulk[3].outcome(t) {
		t.Fatal("bulk's newest waiter was admitted, not refused")
	}
	dashboard = append(dashboard, queue(t, a, "dashboard"))
	if dashboard[1].decided() || bulk[2].outcome(t) {
		t.Fatal("the dashboard's second operation did not take bulk's newest place (3 against 1)")
	}
	if op := queue(t, a, "dashboard"); op.outcome(t) {
		t.Fatal("a third took a place with the shares equal (2 and 2)")
	}
	if bulk[0].decided() || bulk[1].decided() {
		t.Fatal("bulk's oldest waiters lost their places")
	}
	if got := a.Stats(); got.Queued != 4 || got.Refused != 4 {
		t.Fatalf("stats %+v, want 4 queued and 4 refused", got)
	}

	// The queue drains: every operation left in it runs, one at a time (so
	// nobody runs any when the next is chosen: the earliest goes).
	hold()
	wantInTurn(t, bulk[0], bulk[1], dashboard[0], dashboard[1])
}

// TestAdmissionGivesAFreedSlotToTheFewestRunning: a slot freed goes to the
// waiting caller with the fewest operations running, not to the first
// waiting; otherwise a caller with many queued takes each slot in turn.
func TestAdmissionGivesAFreedSlotToTheFewestRunning(t *testing.T) {
	a := NewAdmission(2, 8).withCeiling(1_000_000)
	first, _ := a.admit(context.Background(), 10, "bulk")
	second, _ := a.admit(context.Background(), 10, "bulk")
	bulk := []*queuedOperation{queue(t, a, "bulk"), queue(t, a, "bulk")}
	dashboard := queue(t, a, "dashboard")

	first()
	if !dashboard.outcome(t) {
		t.Fatal("the dashboard's operation refused")
	}
	if bulk[0].decided() || bulk[1].decided() {
		t.Fatal("bulk's first waiter took the slot freed, with bulk running one and the dashboard none")
	}
	// With one each running, the earliest waiter is next.
	second()
	if !bulk[0].outcome(t) || bulk[1].decided() {
		t.Fatal("bulk's earliest waiter was not next")
	}
	dashboard.release()
	if !bulk[1].outcome(t) {
		t.Fatal("bulk's last waiter refused")
	}
	bulk[0].release()
	bulk[1].release()
	if s := a.Stats(); s.Running != 0 || s.Queued != 0 {
		t.Fatalf("stats %+v after every release", s)
	}
}

// queueCost sends an operation of caller costing c with context ctx, and
// returns once it waits or was decided (refused, or its place taken).
func queueCost(t *testing.T, a *Admission, ctx context.Context, caller string, c int) *queuedOperation {
	t.Helper()
	op := &queuedOperation{caller: caller, done: make(chan bool, 1)}
	before := a.Stats()
	go func() {
		release, ok := a.admit(ctx, c, caller)
		op.release = release
		op.done <- ok
	}()
	waitFor(t, caller+"'s operation queued or decided", func() bool {
		s := a.Stats()
		return s.Queued > before.Queued || s.Refused > before.Refused || len(op.done) > 0
	})
	return op
}

// TestAdmissionSharesHeavyRoom: heavy operations are shared between
// callers as cheap ones are. They waited in order of arrival for the
// slots heavy ones may hold (x/sync's semaphore) before the fair
// choice, so a caller keeping its heavy operations queued took every
// heavy slot freed, and another's waited until refused (a review).
func TestAdmissionSharesHeavyRoom(t *testing.T) {
	a := NewAdmission(4, 16).withCeiling(1_000_000) // three slots for heavy ones
	heavy := cheapCost + 1
	var running []func()
	for range 3 {
		release, ok := a.admit(context.Background(), heavy, "bulk")
		if !ok {
			t.Fatal("a heavy operation refused with heavy slots free")
		}
		running = append(running, release)
	}
	bulk := []*queuedOperation{queueCost(t, a, context.Background(), "bulk", heavy), queueCost(t, a, context.Background(), "bulk", heavy)}
	dashboard := queueCost(t, a, context.Background(), "dashboard", heavy)
	running[0]()
	if !dashboard.outcome(t) {
		t.Fatal("the dashboard's heavy operation refused")
	}
	if bulk[0].decided() {
		t.Fatal("bulk's first waiter took the heavy slot freed, with bulk running two and the dashboard none")
	}
	dashboard.release()
	running[1]()
	running[2]()
	for _, op := range bulk {
		if !op.outcome(t) {
			t.Fatal("bulk's waiter refused with room free")
		}
		op.release()
	}
}

// TestAdmissionKeepsHeavyRoomForTheFirstHeavyWaiter: a heavy operation
// waiting for the heavy room is not passed by smaller heavy ones (it would
// wait until refused), but a cheap one never waits for heavy room.
func TestAdmissionKeepsHeavyRoomForTheFirstHeavyWaiter(t *testing.T) {
	a := NewAdmission(8, 16).withCeiling(1_000_000)
	size := int(a.room.heavyRoomSize)
	half, ok := a.admit(context.Background(), size/2, "x")
	if !ok {
		t.Fatal("half the heavy room refused")
	}
	large := queueCost(t, a, context.Background(), "y", size)
	small := queueCost(t, a, context.Background(), "z", size/4)
	if small.decided() {
		t.Fatal("a small heavy operation passed a large one waiting for the heavy room")
	}
	cheap, ok := a.admit(context.Background(), 10, "z")
	if !ok {
		t.Fatal("a cheap operation waited for heavy room")
	}
	cheap()
	half()
	wantInTurn(t, large, small)
}

// wantInTurn: the waiting operations ops are admitted in their order, each
// once the one before gives its room back, and none before its turn.
func wantInTurn(t *testing.T, ops ...*queuedOperation) {
	t.Helper()
	for i, op := range ops {
		if !op.outcome(t) {
			t.Fatalf("%s's operation refused in its turn", op.caller)
		}
		for _, later := range ops[i+1:] {
			if later.decided() {
				t.Fatalf("%s's operation was decided before %s's gave its room back", later.caller, op.caller)
			}
		}
		op.release()
	}
}

// TestAdmissionEndedRequestTakesNoPlace: an operation that cannot wait
// (its client gone, or its body sent until its deadline) does not take
// another caller's place in a full queue: that caller's waiter was
// refused for nothing (a review).
func TestAdmissionEndedRequestTakesNoPlace(t *testing.T) {
	a := NewAdmission(1, 2).withCeiling(1_000_000)
	hold, _ := a.admit(context.Background(), 10, "bulk")
	defer hold()
	bulk := []*queuedOperation{queue(t, a, "bulk"), queue(t, a, "bulk")}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	almostDue, cancel2 := context.WithTimeout(context.Background(), minWaitToDisplace)
	defer cancel2()
	for _, ctx := range []context.Context{gone, almostDue} {
		if release, ok := a.admit(ctx, 10, "other"); ok {
			release()
			t.Fatal("admitted with the only slot held")
		}
	}
	if bulk[0].decided() || bulk[1].decided() {
		t.Fatalf("a waiter refused for a request that could not wait; stats %+v", a.Stats())
	}
}

// TestAdmissionReturnsEverything: operations of many callers, cheap and
// heavy, with deadlines that end while they wait: once all are done, all
// the room is free and nothing waits.
func TestAdmissionReturnsEverything(t *testing.T) {
	for round := range 12 {
		a := NewAdmission(4, []int{0, 3, 40}[round%3]).withCeiling(5000)
		rng := rand.New(rand.NewPCG(uint64(round), 1))
		var wg sync.WaitGroup
		checked := make(chan error, 1)
		stop := make(chan struct{})
		go func() { checked <- a.room.checkWhile(stop) }()
		for i := range 300 {
			caller, c := fmt.Sprint(rng.IntN(5)), 10
			if i%7 == 0 {
				caller = ""
			}
			if rng.IntN(2) == 0 {
				c = cheapCost + 1 + rng.IntN(4000)
			}
			timeout, work := time.Duration(rng.IntN(4000))*time.Microsecond, time.Duration(rng.IntN(300))*time.Microsecond
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				if release, ok := a.admit(ctx, c, caller); ok {
					time.Sleep(work)
					release()
				}
			})
		}
		wg.Wait()
		close(stop)
		if err := <-checked; err != nil {
			t.Fatalf("round %d, while operations came and went: %v", round, err)
		}
		r := a.room
		if s := a.Stats(); s.Running != 0 || s.Queued != 0 || r.slots != 4 || r.heavySlots != 3 || r.heavyRoom != r.heavyRoomSize ||
			len(r.callers) != 0 || len(r.waiting) != 0 || len(a.queue.byCaller) != 0 {
			t.Fatalf("round %d: after every operation, %+v, room %d slots, %d heavy, %d of %d heavy room, %d callers running, %d waiting, %d holding places",
				round, s, r.slots, r.heavySlots, r.heavyRoom, r.heavyRoomSize, len(r.callers), len(r.waiting), len(a.queue.byCaller))
		}
	}
}

// TestAdmissionLargeHeavyNotPassedByNewcomers: the heavy room kept for a
// large operation stays kept when smaller heavy ones of callers ranking
// before it arrive. Chosen anew at each grant, the holder was whoever
// ranked first: a large operation of a caller with one running ranked
// behind each newcomer, and was passed until refused (a review).
func TestAdmissionLargeHeavyNotPassedByNewcomers(t *testing.T) {
	a := NewAdmission(8, 16).withCeiling(1_000_000)
	size := int(a.room.heavyRoomSize)
	half, _ := a.admit(context.Background(), size/2, "x")
	panel, _ := a.admit(context.Background(), 10, "y") // a dashboard's other panel
	defer panel()
	large := queueCost(t, a, context.Background(), "y", size)
	small := queueCost(t, a, context.Background(), "z", size/4) // z runs none: it ranks before y
	if small.decided() {
		t.Fatal("a newcomer's small heavy operation took the heavy room kept for a large one")
	}
	half()
	wantInTurn(t, large, small)
}

// TestAdmissionGoneClientNotRun: an operation whose request has ended (its
// client gone) is not run, even with room free.
func TestAdmissionGoneClientNotRun(t *testing.T) {
	a := NewAdmission(4, 4).withCeiling(1_000_000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if release, ok := a.admit(ctx, 10, "x"); ok {
		release()
		t.Fatal("an ended request was admitted")
	}
	if s := a.Stats(); s.Running != 0 || s.Refused != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// BenchmarkAdmission is the scheduler's own cost: 64 goroutines on 8
// slots admitting operations that do nothing, so the queue is never
// empty (real operations take milliseconds). One caller, and 64.
func BenchmarkAdmission(b *testing.B) {
	for _, callers := range []int{1, 64} {
		b.Run(fmt.Sprintf("%d callers", callers), func(b *testing.B) {
			a := NewAdmission(8, 64).withCeiling(10_000)
			var next atomic.Int64
			b.SetParallelism(64 / runtime.GOMAXPROCS(0))
			b.RunParallel(func(pb *testing.PB) {
				caller := fmt.Sprint(next.Add(1) % int64(callers))
				for pb.Next() {
					if release, ok := a.admit(context.Background(), 10, caller); ok {
						release()
					}
				}
			})
		})
	}
}

// TestAdmissionLargeHeavyHoldsWhileSlotsAreFull: the heavy room is kept
// for the first heavy waiter to lack it even when it arrives with no slot
// free. Chosen only while a slot was free, the holder was picked when one
// freed, by rank, and a later caller running none took the place of a
// large operation that arrived first (a review).
func TestAdmissionLargeHeavyHoldsWhileSlotsAreFull(t *testing.T) {
	a := NewAdmission(4, 16).withCeiling(1_000_000)
	size := int(a.room.heavyRoomSize)
	half, _ := a.admit(context.Background(), size/2, "x")
	panel, _ := a.admit(context.Background(), 10, "y")
	defer panel()
	first, _ := a.admit(context.Background(), 10, "w")
	second, _ := a.admit(context.Background(), 10, "w") // every slot held
	defer second()
	large := queueCost(t, a, context.Background(), "y", size)
	later := queueCost(t, a, context.Background(), "z", size*3/4) // z runs none: it ranks before y
	first()
	half()
	wantInTurn(t, large, later)
}

// checkWhile checks the room's books until stop is closed, and returns the
// first thing wrong: each waiter's caller is the one the map holds for its
// key; a caller's active operations are its running ones and its waiters;
// the slots free and the operations running add up to all of them; with
// no holder, no heavy waiter lacks the heavy room, and a holder waits.
func (r *room) checkWhile(stop <-chan struct{}) error {
	size := func() int64 {
		r.mu.Lock()
		defer r.mu.Unlock()
		n := r.slots
		for _, c := range r.callers {
			n += int64(c.running)
		}
		return n
	}()
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		if err := r.checkOnce(size); err != nil {
			return err
		}
	}
}

func (r *room) checkOnce(size int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	waiting := map[*callerState]int{}
	for _, w := range r.waiting {
		if r.callers[w.caller.key] != w.caller {
			return fmt.Errorf("a waiter of %q counts in a state the map does not hold", w.caller.key)
		}
		waiting[w.caller]++
		if r.holder == nil && w.need.heavy && r.heavyRoom < w.need.cost {
			return fmt.Errorf("no holder, and a heavy waiter lacks the heavy room (%d of %d)", r.heavyRoom, w.need.cost)
		}
	}
	if r.holder != nil && !slices.Contains(r.waiting, r.holder) {
		return fmt.Errorf("the holder is not waiting")
	}
	n := r.slots
	for key, c := range r.callers {
		if c.key != key || c.running < 0 || c.active != c.running+waiting[c] || c.active == 0 {
			return fmt.Errorf("caller %q: %+v with %d waiting", key, *c, waiting[c])
		}
		n += int64(c.running)
	}
	if n != size {
		return fmt.Errorf("%d slots free and running, of %d", n, size)
	}
	return nil
}
