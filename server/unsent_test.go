package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// Answers waiting for their clients (server/unsent.go). An operation gave
// its room back once its answer was built, and the answer then waited in
// memory for as long as the client took to read it: a prosecutor's token
// on one address, with 99 connections each asking an 8 MB page and
// reading nothing, held 1.5 GB of a server whose memory target is 72 MiB
// (a review). These tests ask a large answer over connections that read
// nothing, and count bytes and refusals, not time.

// bigAnswer is about 360 KB of answer that reads no record: the schema's
// types, fields and arguments with their descriptions, twice.
const bigAnswer = `{ a: __schema { ...S } b: __schema { ...S } }
fragment S on __Schema { types { name description fields { name description type { name } args { name description type { name } } }
	inputFields { name description } enumValues { name description } } }`

const (
	unsentBytes   = "casegraph_graphql_unsent_answer_bytes"
	unsentRefused = "casegraph_graphql_unsent_answers_refused_total"
)

// unsentServer starts a server over db with a budget of 1 MiB of answers
// not yet sent (a principal 256 KiB, an address 512 KiB), whose clients
// name their address in X-Forwarded-For. The connections it accepts have
// small send buffers, and askWithoutReading's small receive buffers, so
// that an answer of a few hundred kilobytes waits in the server, not in
// the kernels' buffers (on loopback those grow to megabytes).
func unsentServer(t *testing.T, db *database.DB, cfg server.Config) *testserver.Server {
	t.Helper()
	cfg.MaxUnsentAnswerBytes = 1 << 20
	if cfg.AnswerStall == 0 {
		cfg.AnswerStall = time.Hour // a connection that reads nothing keeps its answer for the test
	}
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	return testserver.Start(t, db, testserver.Options{Config: cfg, Listener: func(ln net.Listener) net.Listener { return smallSendBuffers{ln} }})
}

type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// askWithoutReading sends query as token from address over a connection
// of its own, with a small receive buffer, and reads nothing of the
// answer; the test reads or closes the connection.
func askWithoutReading(t *testing.T, s *testserver.Server, token, address, query string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	host := strings.TrimPrefix(s.URL, "http://")
	conn, err := d.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	body, err := json.Marshal(map[string]any{"query": query})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nX-Forwarded-For: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		host, token, address, len(body), body); err != nil {
		t.Fatal(err)
	}
	return conn
}

// waitForMetricAbove waits (up to 10 s) until the metric name reads more
// than than, and returns it.
func waitForMetricAbove(t *testing.T, base, name string, than float64) float64 {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if got := metric(t, base, name); got > than {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s stayed at %v or below", name, than)
		}
	}
}

// holdAnswers has askWithoutReading ask bigAnswer, as caller names
// (token and address), until the answers not yet sent are over limit
// bytes: each is waited for until it is counted. It returns the
// connections.
func holdAnswers(t *testing.T, s *testserver.Server, limit float64, caller func(i int) (token, address string)) []net.Conn {
	t.Helper()
	var conns []net.Conn
	for held := metric(t, s.URL, unsentBytes); held <= limit; {
		if len(conns) == 10 {
			t.Fatalf("ten answers not read hold %v bytes, not over %v", held, limit)
		}
		token, address := caller(len(conns))
		conns = append(conns, askWithoutReading(t, s, token, address, bigAnswer))
		// Counted once built, then a few bytes more once written: an
		// answer is counted when the count has grown by far more than those.
		held = waitForMetricAbove(t, s.URL, unsentBytes, held+64<<10)
	}
	return conns
}

// from sends req as from address.
func from(req *http.Request, address string) *http.Request {
	req.Header.Set("X-Forwarded-For", address)
	return req
}

// wantUnsentRefusal fails the test unless r is a refusal for answers not
// yet sent: 503, one UNAVAILABLE with the request id and a message
// saying why (with want in it), Retry-After, no data.
func wantUnsentRefusal(t *testing.T, when string, r *testserver.Response, want string) {
	t.Helper()
	wantBusy(t, when, r)
	if !strings.Contains(r.Errors[0].Message, want) {
		t.Errorf("%s: message %q does not say %q", when, r.Errors[0].Message, want)
	}
	noLeaks(t, r.Body)
}

const openCase = `mutation($a: ID!, $r: String!) { openCase(input: {reference: $r, title: "Slow", region: TIRANE, leadAgencyID: $a}) { id } }`

// TestUnsentAnswersRefuseTheirCaller: a caller whose answers wait for it
// to read them past its share (a quarter of the server's budget) is
// refused before anything of its request runs, while another caller is
// served; once it has read them (or closed their connections) it is
// served again, and what it had been sent was not cut short.
func TestUnsentAnswersRefuseTheirCaller(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	s := unsentServer(t, db, server.Config{})
	slow := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	other := s.Token(t, "police-durres", viewer.RoleInvestigator)
	agency := s.AgencyIDs(t)["police-tirane"]
	if got := metric(t, s.URL, "casegraph_graphql_unsent_answer_bytes_limit"); got != 1<<20 {
		t.Fatalf("casegraph_graphql_unsent_answer_bytes_limit = %v, want %d", got, 1<<20)
	}

	held := holdAnswers(t, s, 256<<10, func(int) (string, string) { return slow, "203.0.113.1" })
	t.Logf("%d answers not read hold %v bytes", len(held), metric(t, s.URL, unsentBytes))

	rows, trail := testdb.RowCounts(t, db.Client), len(testdb.AuditTrail(t, db))
	vars := map[string]any{"a": agency, "r": "SLOW-1"}
	refused := send(t, from(post(t, s.URL, slow, openCase, vars), "203.0.113.1"))
	wantUnsentRefusal(t, "the slow reader's next request", refused.Response, "your earlier requests")
	if got := metric(t, s.URL, unsentRefused); got != 1 {
		t.Errorf("%s = %v, want 1", unsentRefused, got)
	}
	if after := testdb.RowCounts(t, db.Client); fmt.Sprint(after) != fmt.Sprint(rows) {
		t.Errorf("a refused request wrote: rows %v, then %v", rows, after)
	}
	if after := len(testdb.AuditTrail(t, db)); after != trail {
		t.Errorf("a refused request was audited: %d events, then %d", trail, after)
	}

	// Another caller, from another address, is served.
	send(t, from(post(t, s.URL, other, `{ viewer { subject } }`, nil), "203.0.113.2")).MustOK(t)

	// The first answer, read now, is whole: nothing sent was cut short.
	res, err := http.ReadResponse(bufio.NewReader(held[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	var answer struct {
		Data struct {
			A, B struct{ Types []struct{ Name string } }
		}
	}
	if err != nil || res.StatusCode != http.StatusOK || json.Unmarshal(raw, &answer) != nil || len(answer.Data.A.Types) == 0 || len(answer.Data.B.Types) == 0 {
		t.Fatalf("the answer waiting, read: status %d, %d bytes, %v", res.StatusCode, len(raw), err)
	}
	for _, c := range held {
		c.Close()
	}
	waitForMetric(t, s.URL, unsentBytes, 0)
	send(t, from(post(t, s.URL, slow, openCase, vars), "203.0.113.1")).MustOK(t)
}

// TestUnsentAnswersOfAnAddressAndOfTheServer: past half the budget for
// one client address, a caller from it with nothing of its own waiting is
// refused, and one from another address served; past the whole budget,
// any caller is refused, until the answers are read.
func TestUnsentAnswersOfAnAddressAndOfTheServer(t *testing.T) {
	t.Parallel()
	s := unsentServer(t, testdb.SQLite(t), server.Config{})
	callers := 0
	// A principal of its own each time: its share is never what refuses.
	caller := func() string {
		callers++
		tok, err := s.Issuer.Issue(fmt.Sprintf("reader-%d", callers), "police-tirane", []viewer.Role{viewer.RoleInvestigator}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	const ask = `{ viewer { subject } }`

	office := holdAnswers(t, s, 512<<10, func(int) (string, string) { return caller(), "198.51.100.7" })
	wantUnsentRefusal(t, "a new caller from the office's address", send(t, from(post(t, s.URL, caller(), ask, nil), "198.51.100.7")).Response, "your network address")
	send(t, from(post(t, s.URL, caller(), ask, nil), "198.51.100.8")).MustOK(t)

	others := holdAnswers(t, s, 1<<20, func(i int) (string, string) { return caller(), fmt.Sprintf("192.0.2.%d", i+1) })
	wantUnsentRefusal(t, "a new caller from a new address, the server's budget spent", send(t, from(post(t, s.URL, caller(), ask, nil), "192.0.2.200")).Response, "server is busy")
	if got := metric(t, s.URL, unsentRefused); got != 2 {
		t.Errorf("%s = %v, want 2", unsentRefused, got)
	}

	for _, c := range append(office, others...) {
		c.Close()
	}
	waitForMetric(t, s.URL, unsentBytes, 0)
	send(t, from(post(t, s.URL, caller(), ask, nil), "198.51.100.7")).MustOK(t)
}

// TestUnsentAnswersCheckedOnceAdmitted: an operation that waited for room
// is checked again when it has it. Its caller's answer was built while it
// waited (the one operation that may run at once, held by a locked
// table), and counts as not sent from the moment its operation gives the
// room back: the waiter is refused, nothing of it run.
func TestUnsentAnswersCheckedOnceAdmitted(t *testing.T) {
	db := testdb.Postgres(t)
	t.Parallel()
	s := unsentServer(t, db, server.Config{RequestTimeout: 4 * time.Second, MaxOperations: 1, MaxQueuedOperations: 1})
	slow := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	s.Do(t, slow, `{ viewer { subject } }`, nil).MustOK(t)

	unlock := lockCases(t, db)
	held := askWithoutReading(t, s, slow, "203.0.113.1", `{ cases(first: 1) { totalCount } a: __schema { ...S } b: __schema { ...S } }
		fragment S on __Schema { types { name description fields { name description type { name } args { name description type { name } } }
		inputFields { name description } enumValues { name description } } }`)
	waitForMetric(t, s.URL, "casegraph_graphql_operations_in_flight", 1)
	waiting := make(chan *testserver.Response, 1)
	ref := "SLOW-ADMITTED"
	go func() {
		waiting <- testserver.Send(t, from(post(t, s.URL, slow, openCase, map[string]any{"a": s.AgencyIDs(t)["police-tirane"], "r": ref}), "203.0.113.1"))
	}()
	waitForMetric(t, s.URL, "casegraph_graphql_operations_queued", 1)
	unlock()

	wantUnsentRefusal(t, "the waiter, its caller's answer built meanwhile", <-waiting, "your earlier requests")
	if got := metric(t, s.URL, unsentRefused); got != 1 {
		t.Errorf("%s = %v, want 1", unsentRefused, got)
	}
	if got := metric(t, s.URL, "casegraph_graphql_operations_refused_total"); got != 0 {
		t.Errorf("casegraph_graphql_operations_refused_total = %v, want 0 (it had room)", got)
	}
	held.Close()
	waitForMetric(t, s.URL, unsentBytes, 0)
	var found struct{ Cases struct{ TotalCount int } }
	s.Do(t, slow, `query($r: String!) { cases(where: {reference: $r}) { totalCount } }`, map[string]any{"r": ref}).MustOK(t).Decode(t, &found)
	if found.Cases.TotalCount != 0 {
		t.Errorf("a mutation refused for its caller's answers waiting made its case")
	}
}

// TestAnswerCutOffWhenItsClientStopsReading: each 64 KiB of an answer
// must leave within the stall time. A client that reads nothing is cut
// off then, and the memory its answer held is free (it no longer counts),
// not at the end of http.Server's WriteTimeout; one that reads gets its
// answer whole.
func TestAnswerCutOffWhenItsClientStopsReading(t *testing.T) {
	t.Parallel()
	s := unsentServer(t, testdb.SQLite(t), server.Config{AnswerStall: time.Second})
	token := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	whole := s.Do(t, token, bigAnswer, nil).MustOK(t)

	stalled := askWithoutReading(t, s, token, "203.0.113.1", bigAnswer)
	waitForMetricAbove(t, s.URL, unsentBytes, 0)
	waitForMetric(t, s.URL, unsentBytes, 0) // cut off: the client has still read nothing
	res, err := http.ReadResponse(bufio.NewReader(stalled), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err == nil || len(got) >= len(whole.Body) {
		t.Errorf("a client that read nothing got %d bytes of %d, and %v: want the answer cut short", len(got), len(whole.Body), err)
	}

	reading := askWithoutReading(t, s, token, "203.0.113.2", bigAnswer)
	res, err = http.ReadResponse(bufio.NewReader(reading), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || len(got) != len(whole.Body) {
		t.Errorf("a client reading got %d bytes of %d, and %v", len(got), len(whole.Body), err)
	}
}
