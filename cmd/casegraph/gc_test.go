package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestTuneGC: serve sets its collector's percent and memory limit when the
// environment names neither, and leaves the runtime's settings alone when
// the operator set GOGC or GOMEMLIMIT.
func TestTuneGC(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})
	current := func() (int, int64) {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p, debug.SetMemoryLimit(-1)
	}
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		set := func(k string) string {
			if k == name {
				return "150"
			}
			return ""
		}
		if tuneGC(set) {
			t.Errorf("with %s set, tuneGC changed the settings", name)
		}
		if p, l := current(); p != 100 || l != math.MaxInt64 {
			t.Errorf("with %s set: GOGC %d, limit %d; want them untouched", name, p, l)
		}
	}
	if !tuneGC(func(string) string { return "" }) {
		t.Fatal("with neither set, tuneGC changed nothing")
	}
	if p, l := current(); p != serveGCPercent || l != serveMemoryLimit {
		t.Errorf("GOGC %d, limit %d; want %d and %d", p, l, serveGCPercent, serveMemoryLimit)
	}
}
