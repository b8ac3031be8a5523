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
		release, ok := a.admit(context.Background(), cheapCost+1)
		if !ok {
			t.Fatalf("heavy operation %d refused with slots free", i)
		}
		releases = append(releases, release)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if release, ok := a.admit(ctx, cheapCost+1); ok {
		release()
		t.Errorf("a fourth heavy operation took the slot kept for cheap ones")
	}
	release, ok := a.admit(context.Background(), 10)
	if !ok {
		t.Fatalf("a cheap operation found no slot with three of four held by heavy ones")
	}
	release()
}
