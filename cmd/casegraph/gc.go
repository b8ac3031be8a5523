package main

import (
	"runtime/debug"
)

// The garbage collector's settings of serve. A request of the dashboard
// page allocates some 4 MB in short-lived objects (gqlgen's field contexts
// and goroutines), so with Go's default (collect when the heap has grown
// by 100 %) the server spends a large part of its CPU collecting. Letting
// the heap grow by 200 % before a collection, under a soft limit of 72 MiB
// that makes the collector work harder as the process nears it, served
// 15–37 % more requests a second at 16 and 64 connections on PostgreSQL,
// with a peak RSS of 67–84 MiB (against 58–70) (docs/performance.md,
// 2026-12-05). serve applies it on PostgreSQL only: on SQLite the
// database's page cache is memory the limit does not count (modernc's
// allocator maps its own), and under 64 connections the peak RSS reached
// 95 MiB with these settings, against 85 without.
const (
	serveGCPercent   = 200
	serveMemoryLimit = 72 << 20
)

// tuneGC applies serve's settings unless the runtime's own variables say
// otherwise: with GOGC or GOMEMLIMIT set, the operator has chosen, and
// neither is changed. It reports whether it changed them.
func tuneGC(getenv func(string) string) bool {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return false
	}
	debug.SetGCPercent(serveGCPercent)
	debug.SetMemoryLimit(serveMemoryLimit)
	return true
}
