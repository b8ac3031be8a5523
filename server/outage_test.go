package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// Issue 9's fault test: outageLength unless CASEGRAPH_TEST_OUTAGE (a Go
// duration) says otherwise, for trying the test quickly by hand.
const (
	outageLength = 10 * time.Second
	// recoveryBound is how soon after the database is back the server
	// must serve normally again.
	recoveryBound = 5 * time.Second
)

// TestPostgresOutage cuts a real PostgreSQL away from a real server (every
// connection closed, new ones refused) for outageLength. Meanwhile every
// query and mutation answers UNAVAILABLE promptly, never INTERNAL, and
// /readyz answers 503; within recoveryBound of the database coming back the
// server answers queries, mutations and /readyz normally, though its pool
// still holds connections that died in the outage.
func TestPostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("a ten-second outage is not a short test")
	}
	outage := outageLength
	if v := os.Getenv("CASEGRAPH_TEST_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("CASEGRAPH_TEST_OUTAGE=%q: %v", v, err)
		}
		outage = d
	}
	s, proxy, tok, openCaseVars := serveThroughProxy(t)

	proxy.cut()
	down := time.Now()
	answered := 0
	for time.Since(down) < outage {
		for _, op := range []struct {
			name string
			do   func() *testserver.Response
		}{
			{"query", func() *testserver.Response { return s.Do(t, tok, outageQuery, nil) }},
			{"mutation", func() *testserver.Response { return s.Do(t, tok, outageMutation, openCaseVars()) }},
		} {
			start := time.Now()
			res := op.do()
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("%s during the outage took %v to answer", op.name, took)
			}
			if codes := res.Codes(); len(codes) == 0 || codes[0] != string(apperr.Unavailable) {
				t.Fatalf("%s %v into the outage: status %d, codes %v, want UNAVAILABLE:\n%s", op.name, time.Since(down).Round(time.Millisecond), res.Status, codes, res.Body)
			}
			for _, e := range res.Errors {
				if e.Code() != string(apperr.Unavailable) {
					t.Errorf("%s during the outage: an error with code %q:\n%s", op.name, e.Code(), res.Body)
				}
			}
		}
		if status := readyz(t, s.URL); status != http.StatusServiceUnavailable {
			t.Fatalf("/readyz during the outage: %d, want 503", status)
		}
		answered++
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("%d rounds of query, mutation and /readyz answered during a %v outage", answered, outage)

	proxy.restore(t)
	up := time.Now()
	for {
		q := s.Do(t, tok, outageQuery, nil)
		m := s.Do(t, tok, outageMutation, openCaseVars())
		r := readyz(t, s.URL)
		for _, res := range []*testserver.Response{q, m} {
			for _, code := range res.Codes() {
				if code != string(apperr.Unavailable) {
					t.Fatalf("while the server recovers: code %q, want none or UNAVAILABLE:\n%s", code, res.Body)
				}
			}
		}
		if len(q.Errors) == 0 && len(m.Errors) == 0 && r == http.StatusOK {
			break
		}
		if time.Since(up) > recoveryBound {
			t.Fatalf("%v after the database came back: query %s, mutation %s, /readyz %d", recoveryBound, q.Body, m.Body, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("serving normally %v after the database came back", time.Since(up).Round(time.Millisecond))
	// And it stays so.
	for range 5 {
		s.Do(t, tok, outageQuery, nil).MustOK(t)
	}
	s.Do(t, tok, outageMutation, openCaseVars()).MustOK(t)
}

// TestPostgresDroppedConnectionsRetried: when every connection in the pool
// has been dropped but the database answers, the next query and the next
// mutation succeed at once. database/sql retries a statement or a BEGIN
// that lib/pq reports as driver.ErrBadConn (the connection was found dead
// before anything was done) on another connection, and graph retries a
// BEGIN once more; nothing retries a COMMIT.
func TestPostgresDroppedConnectionsRetried(t *testing.T) {
	s, proxy, tok, openCaseVars := serveThroughProxy(t)
	for _, op := range []struct {
		name string
		do   func() *testserver.Response
	}{
		{"query", func() *testserver.Response { return s.Do(t, tok, outageQuery, nil) }},
		{"mutation", func() *testserver.Response { return s.Do(t, tok, outageMutation, openCaseVars()) }},
	} {
		if idle := s.DB.SQL.Stats().Idle; idle < 3 {
			t.Fatalf("only %d idle connections before the cut: the test would not meet dead ones", idle)
		}
		proxy.cut()
		proxy.restore(t)
		// The pool's connections are dead: one taken from it by hand,
		// without database/sql's retry, fails.
		ctx := context.Background()
		conn, err := s.DB.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.PingContext(ctx); err == nil {
			t.Fatal("a pooled connection survived the cut: the test proves nothing")
		}
		_ = conn.Close()
		if res := op.do(); len(res.Errors) > 0 {
			t.Fatalf("the first %s after the connections were dropped: %s", op.name, res.Body)
		}
		// Fill the pool again for the next one.
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { s.Do(t, tok, outageQuery, nil).MustOK(t) })
		}
		wg.Wait()
	}
}

const (
	outageQuery    = `{ cases(first: 5) { totalCount edges { node { reference } } } }`
	outageMutation = `mutation ($in: CreateCaseInput!) { openCase(input: $in) { id } }`
)

// serveThroughProxy starts a server on a fresh PostgreSQL database reached
// through a dbProxy, with a pool of idle connections, and returns a token
// that may open cases and a maker of openCase variables.
func serveThroughProxy(t *testing.T) (*testserver.Server, *dbProxy, string, func() map[string]any) {
	t.Helper()
	direct := testdb.Postgres(t)
	u, err := url.Parse(direct.DSN())
	if err != nil {
		t.Fatal(err)
	}
	proxy := startDBProxy(t, u.Host)
	u.Host = proxy.addr
	db, err := database.OpenPostgres(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s := testserver.Start(t, db)
	tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	lead, err := db.Client.Agency.Query().Where(agency.Code("police-tirane")).OnlyID(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	openCaseVars := func() map[string]any {
		mu.Lock()
		defer mu.Unlock()
		n++
		return map[string]any{"in": map[string]any{
			"reference": "TIR-OUTAGE-" + strconv.Itoa(n), "title": "Suspected forced begging", "region": "TIRANE",
			"formsOfExploitation": []string{"FORCED_BEGGING"}, "leadAgencyID": strconv.Itoa(lead),
		}}
	}
	// Fill the pool with idle connections, for the cut to kill.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { s.Do(t, tok, outageQuery, nil).MustOK(t) })
	}
	wg.Wait()
	s.Do(t, tok, outageMutation, openCaseVars()).MustOK(t)
	return s, proxy, tok, openCaseVars
}

func readyz(t *testing.T, base string) int {
	t.Helper()
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

// dbProxy forwards TCP connections from a loopback port to a database
// server, and can cut them: close every connection and stop listening, so
// that new ones are refused as by a host that is down, then listen again on
// the same port.
type dbProxy struct {
	target, addr string

	mu    sync.Mutex
	ln    net.Listener // nil while cut
	conns map[net.Conn]struct{}
}

func startDBProxy(t *testing.T, target string) *dbProxy {
	t.Helper()
	ln := testserver.Loopback(t)
	p := &dbProxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *dbProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *dbProxy) forward(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil {
		// Cut between Accept and here.
		p.mu.Unlock()
		_ = client.Close()
		_ = server.Close()
		return
	}
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(server, client)
		_ = server.Close()
		close(done)
	}()
	_, _ = io.Copy(client, server)
	_ = client.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// cut closes every forwarded connection and refuses new ones.
func (p *dbProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// restore listens on the proxy's port again.
func (p *dbProxy) restore(t *testing.T) {
	t.Helper()
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("listening on %s again: %v", p.addr, err)
}
