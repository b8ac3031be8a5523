package database_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
)

// TestListenHearsThroughABurst: pings of the listening connection must not
// stop it hearing. lib/pq reads a ping's answer only after handing over the
// notifications before it; a listener that waited for the answer in the
// loop that takes them would, with enough of them pending, wait for ever
// and report neither the notifications nor a lost connection (the
// statistics cache would then keep stale cells). A database 20 ms away and
// 16 writers notifying as fast as they can make many pend during each
// ping; a last notification after the burst must still arrive.
func TestListenHearsThroughABurst(t *testing.T) {
	dsn := testdb.PostgresURL(t)
	defer database.SetPingEvery(50 * time.Millisecond)()

	// A proxy that delays what the server sends by 20 ms.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { _, _ = io.Copy(s, c) }()
			go func() {
				buf := make([]byte, 1<<16)
				for {
					n, err := s.Read(buf)
					if err != nil {
						c.Close()
						return
					}
					time.Sleep(20 * time.Millisecond)
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	var heard, lost atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	u.Host = ln.Addr().String()
	err = database.Listen(ctx, u.String(), "listen_burst_test", database.ListenEvents{
		Notified:  func(string) { heard.Add(1) },
		Lost:      func(error) { lost.Add(1) },
		Listening: func() {},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(16)
	stop := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				_, _ = db.Exec(`SELECT pg_notify('listen_burst_test', 'x')`)
			}
		}()
	}
	wg.Wait()
	// Whatever is still pending drains; then one more must be heard.
	deadline := time.Now().Add(60 * time.Second)
	for last := heard.Load(); ; last = heard.Load() {
		time.Sleep(500 * time.Millisecond)
		if heard.Load() == last || time.Now().After(deadline) {
			break
		}
	}
	before := heard.Load()
	if _, err := db.Exec(`SELECT pg_notify('listen_burst_test', 'last')`); err != nil {
		t.Fatal(err)
	}
	for heard.Load() == before {
		if time.Now().After(deadline) {
			t.Fatalf("after %d notifications the listener hears nothing more, and reported %d losses", before, lost.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
