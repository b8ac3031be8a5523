package graph

import (
	"context"
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

func queue(t *testing.T, a *Admission, caller string) *queuedOperation {
	t.Helper()
	op := &queuedOperation{caller: caller, done: make(chan bool, 1)}
	before := a.Stats()
	go func() {
		release, ok := a.admit(context.Background(), 10, caller)
		op.release = release
		op.done <- ok
	}()
	// Queued, or decided at once (refused, or another's place taken).
	waitFor(t, caller+"'s operation queued or decided", func() bool {
		s := a.Stats()
		return s.Queued > before.Queued || s.Refused > before.Refused || len(op.done) > 0
	})
	return op
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
	for _, op := range []*queuedOperation{bulk[0], bulk[1], dashboard[0], dashboard[1]} {
		if !op.outcome(t) {
			t.Fatalf("%s's queued operation refused while the queue drained", op.caller)
		}
		op.release()
	}
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
