package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// Graceful shutdown
// ---------------------------------------------------------------------------

// listening is a server running ListenAndServe on a loopback port.
type listening struct {
	addr   string
	token  string
	cancel context.CancelFunc
	done   chan struct{}
	err    error // set before done is closed
}

// returned reports whether ListenAndServe has returned, waiting up to d.
func (l *listening) returned(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-l.done:
			return true
		default:
			return false
		}
	}
	select {
	case <-l.done:
		return true
	case <-time.After(d):
		return false
	}
}

func startListening(t *testing.T, grace time.Duration, cfgs ...server.Config) *listening {
	t.Helper()
	var cfg server.Config
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	srv, issuer := newServer(t, cfg)
	token, err := issuer.Issue("shutdown@test", "police-tirane", []viewer.Role{viewer.RoleInvestigator}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ln := testserver.Loopback(t)
	ctx, cancel := context.WithCancel(context.Background())
	l := &listening{addr: ln.Addr().String(), token: token, cancel: cancel, done: make(chan struct{})}
	go func() {
		l.err = srv.ListenAndServe(ctx, ln, grace)
		close(l.done)
	}()
	t.Cleanup(func() {
		cancel()
		if !l.returned(grace + 5*time.Second) {
			t.Error("ListenAndServe did not return at cleanup")
		}
	})
	return l
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	l := startListening(t, 15*time.Second)
	addr, token := l.addr, l.token
	base := "http://" + addr

	// An ordinary request first, on a connection kept alive afterwards.
	idle, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	_ = idle.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(idle, "GET /readyz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	idleReader := bufio.NewReader(idle)
	res, err := http.ReadResponse(idleReader, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("/readyz: status %d, close %v", res.StatusCode, res.Close)
	}
	if r := send(t, post(t, base, token, `{ viewer { subject } }`, nil)); r.Status != http.StatusOK {
		t.Fatalf("status %d:\n%s", r.Status, r.Body)
	}

	f := testserver.StartInflight(t, addr, token, `{ viewer { subject } cases(first: 1) { totalCount } }`)
	l.cancel()
	testserver.WaitRefused(t, addr, 10*time.Second)

	// The idle keep-alive connection is closed by the server.
	if _, err := idleReader.ReadByte(); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Errorf("the idle connection was not closed: read returned %v", err)
	}
	// While a request is in flight, the server waits for it.
	if l.returned(0) {
		t.Fatalf("ListenAndServe returned (%v) while a request was in flight", l.err)
	}

	status, body := f.Finish(t)
	if status != http.StatusOK || !strings.Contains(string(body), `"subject":"shutdown@test"`) || !strings.Contains(string(body), `"totalCount":0`) {
		t.Fatalf("the in-flight request did not complete: status %d:\n%s", status, body)
	}
	if !l.returned(10 * time.Second) {
		t.Fatal("ListenAndServe did not return after the last request finished")
	}
	if l.err != nil {
		t.Fatalf("ListenAndServe returned %v, want nil", l.err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("a new connection was accepted after shutdown")
	}
}

// TestShutdownClosesTheAuditTrail: a request in flight when the server
// is told to stop is answered with its events in the trail, and once
// ListenAndServe has returned the trail's writer refuses new events.
func TestShutdownClosesTheAuditTrail(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	w := audit.Install(db.Client, db.Dialect)
	l := startListening(t, 15*time.Second, server.Config{DB: db, Audit: w})
	// A node that is not there: its refusal is recorded (RECORD_REFUSED).
	f := testserver.StartInflight(t, l.addr, l.token, `{ node(id: "`+testserver.GlobalID(1<<40)+`") { id } }`)
	l.cancel()
	testserver.WaitRefused(t, l.addr, 10*time.Second)
	status, body := f.Finish(t)
	if status != http.StatusOK {
		t.Fatalf("the in-flight request: status %d:\n%s", status, body)
	}
	if !l.returned(10 * time.Second) {
		t.Fatal("ListenAndServe did not return after the last request finished")
	}
	events := testdb.AuditTrail(t, db)
	if len(events) != 1 || events[0].Kind != audit.RecordRefused || events[0].ActorSubject != "shutdown@test" {
		t.Errorf("the answered request's events: %+v, want its one RECORD_REFUSED", events)
	}
	err := w.Write(context.Background(), []audit.Event{{Kind: audit.RecordRefused, OccurredAt: time.Now()}})
	if ae := (*apperr.Error)(nil); !errors.As(err, &ae) || ae.Code != apperr.AuditUnavailable {
		t.Errorf("a write after shutdown: %v, want AUDIT_UNAVAILABLE", err)
	}
}

func TestShutdownGraceExpires(t *testing.T) {
	t.Parallel()
	const grace = 300 * time.Millisecond
	l := startListening(t, grace)
	_ = testserver.StartInflight(t, l.addr, l.token, `{ viewer { subject } }`) // never finished
	start := time.Now()
	l.cancel()
	if !l.returned(grace + 10*time.Second) {
		t.Fatal("ListenAndServe did not return after its grace period")
	}
	if took := time.Since(start); took < grace {
		t.Errorf("returned after %v, before the grace period of %v", took, grace)
	}
	if l.err == nil {
		t.Error("ListenAndServe returned nil although a request was cut off")
	} else if !errors.Is(l.err, context.DeadlineExceeded) {
		t.Logf("ListenAndServe returned %v", l.err)
	}
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}
