package testserver

import (
	"net"
	"testing"
)

// Loopback listens on a free loopback port, for tests that serve on a
// listener of their own (a proxy, a server's ListenAndServe); closing it
// is the caller's.
func Loopback(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return ln
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago, for a child process to listen on. Another process may take it
// before the child does and answer in its place: a child that says where it
// listens (casegraph serve's "serving" log line) is better given port 0.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln := Loopback(tb)
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
