package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/cost"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/trusted"
	"github.com/casegraph/casegraph/viewer"
)

const pageOfCases = `{ cases(first: 20){ edges{ node{ reference title } } } }`

// TestCostBudget: a principal who spends their budget of cost a minute is
// refused with 429 and RATE_LIMITED before anything runs; another
// principal is not.
func TestCostBudget(t *testing.T) {
	db := testdb.SQLite(t)
	s := testserver.Start(t, db, testserver.Options{Config: server.Config{CostPerMinute: 100}})
	alice := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	// cost 1 + 1 + 20 × 3 = 62: one fits in 100, two do not.
	s.Do(t, alice, pageOfCases, nil).MustOK(t)
	res := s.Do(t, alice, pageOfCases, nil)
	if res.Status != http.StatusTooManyRequests || len(res.Codes()) != 1 || res.Codes()[0] != "RATE_LIMITED" {
		t.Fatalf("want 429 RATE_LIMITED, got %d %v\n%s", res.Status, res.Codes(), res.Body)
	}
	if res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if len(res.Data) != 0 && string(res.Data) != "null" {
		t.Errorf("a refused request carries data: %s", res.Data)
	}
	// A small request still fits; another person has their own budget.
	s.Do(t, alice, `{ viewer { subject } }`, nil).MustOK(t)
	bob := s.Token(t, "police-durres", viewer.RoleInvestigator)
	s.Do(t, bob, pageOfCases, nil).MustOK(t)
}

// TestDeadline: a request's work is bounded in time. With a deadline that
// has passed before the first resolver runs, nothing is answered and the
// code says so.
func TestDeadline(t *testing.T) {
	db := testdb.SQLite(t)
	s := testserver.Start(t, db, testserver.Options{Config: server.Config{RequestTimeout: time.Nanosecond}})
	res := s.Do(t, s.Token(t, "police-tirane", viewer.RoleInvestigator), pageOfCases, nil)
	codes := res.Codes()
	if len(codes) == 0 || codes[0] != "UNAVAILABLE" {
		t.Fatalf("want UNAVAILABLE, got %d %v\n%s", res.Status, codes, res.Body)
	}
	var data struct{ Cases *struct{} }
	if len(res.Data) > 0 {
		res.Decode(t, &data)
	}
	if data.Cases != nil {
		t.Errorf("answered after the deadline: %s", res.Body)
	}
}

// TestResponseSizeLimit: an answer over the byte limit is dropped whole,
// with TOO_COMPLEX naming the limit, and no read is recorded as
// disclosed.
func TestResponseSizeLimit(t *testing.T) {
	db := testdb.SQLite(t)
	s := testserver.Start(t, db, testserver.Options{Config: server.Config{MaxResponseBytes: 2_000}})
	testdb.Demo(t, db, 1)
	prosecutor := s.Token(t, "prosecution-tirane", viewer.RoleProsecutor)
	var before int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM audit_events WHERE decision = 'ALLOWED'`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	res := s.Do(t, prosecutor, `{ victims(first: 100){ edges{ node{ pseudonym legalName } } } }`, nil)
	if len(res.Errors) != 1 || res.Errors[0].Code() != "TOO_COMPLEX" || res.Errors[0].Extensions["limit"] != "responseBytes" {
		t.Fatalf("want TOO_COMPLEX on responseBytes, got %v\n%.500s", res.Codes(), res.Body)
	}
	if len(res.Data) != 0 && string(res.Data) != "null" {
		t.Fatalf("the data was sent: %.300s", res.Data)
	}
	var after int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM audit_events WHERE decision = 'ALLOWED'`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("%d reads recorded as disclosed for an answer that was not sent", after-before)
	}
	// A small answer goes through.
	s.Do(t, prosecutor, `{ viewer { subject } }`, nil).MustOK(t)

	// A mutation's answer is never dropped: its write is made, and the
	// answer is how the client knows. It is counted as a query's
	// (until 2026-12-07, twenty-third session, it was not, and one
	// payload was 385 MB): the mutation whose payload reaches the limit
	// is not made, nor are those after it, each null with TOO_COMPLEX.
	lead, err := db.Client.Agency.Query().Where(agency.Code("police-tirane")).OnlyID(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	title := strings.Repeat("Long title ", 10)
	var titles strings.Builder
	for i := range 20 { // 20 × 110 bytes: over the 2,000
		fmt.Fprintf(&titles, " t%d: title", i)
	}
	in := func(reference string) map[string]any {
		return map[string]any{"reference": reference, "title": title, "region": "TIRANE",
			"formsOfExploitation": []string{"SEXUAL"}, "leadAgencyID": fmt.Sprint(lead)}
	}
	res = s.Do(t, s.Token(t, "police-tirane", viewer.RoleInvestigator),
		`mutation($a: CreateCaseInput!, $b: CreateCaseInput!, $c: CreateCaseInput!) {
			a: openCase(input: $a) { id reference title }
			b: openCase(input: $b) { id reference`+titles.String()+` }
			c: openCase(input: $c) { id reference } }`,
		map[string]any{"a": in("TIR-SIZE-0001"), "b": in("TIR-SIZE-0002"), "c": in("TIR-SIZE-0003")})
	var created struct{ A, B, C *struct{ Reference string } }
	res.Decode(t, &created)
	if created.A == nil || created.A.Reference != "TIR-SIZE-0001" {
		t.Fatalf("the answer of the mutation made was dropped: %.500s", res.Body)
	}
	if created.B != nil || created.C != nil {
		t.Errorf("want the mutation that reached the limit, and the one after it, null: %.500s", res.Body)
	}
	var stopped []string
	for _, e := range res.Errors {
		if e.Code() != "TOO_COMPLEX" || e.Extensions["limit"] != "responseBytes" {
			t.Errorf("want TOO_COMPLEX on responseBytes, got %v: %s", e.Extensions, e.Message)
		}
		if len(e.Path) > 0 {
			stopped = append(stopped, fmt.Sprint(e.Path[0]))
		}
	}
	if strings.Join(stopped, " ") != "b c" {
		t.Errorf("want one error for each root field stopped (b c), got %q: %.500s", stopped, res.Body)
	}
	if len(res.Body) > 2*2_000 {
		t.Errorf("the answer is %d bytes for a limit of 2,000 on its values: %.500s", len(res.Body), res.Body)
	}
	ctx := viewer.SystemContext(context.Background())
	for reference, want := range map[string]int{"TIR-SIZE-0001": 1, "TIR-SIZE-0002": 0, "TIR-SIZE-0003": 0} {
		if n := db.Client.CaseFile.Query().Where(casefile.Reference(reference)).CountX(ctx); n != want {
			t.Errorf("%d cases %s, want %d", n, reference, want)
		}
	}

	// The limit reached under a nullable field (an edge's node): the null
	// of the field stopped goes no further up, so the mutation's field
	// would be answered, and the mutation made, but for the answer's limit.
	res = s.Do(t, s.Token(t, "police-tirane", viewer.RoleInvestigator),
		`mutation($d: CreateCaseInput!) { d: openCase(input: $d) { id
			agencies(first: 1) { edges { node { cases(first: 5) { edges { node { id`+titles.String()+` } } } } } } } }`,
		map[string]any{"d": in("TIR-SIZE-0004")})
	if len(res.Errors) != 1 || res.Errors[0].Code() != "TOO_COMPLEX" || !strings.Contains(string(res.Data), `"d":null`) {
		t.Errorf("want d null with one TOO_COMPLEX: %v %.500s", res.Codes(), res.Body)
	}
	if n := db.Client.CaseFile.Query().Where(casefile.Reference("TIR-SIZE-0004")).CountX(ctx); n != 0 {
		t.Errorf("%d cases TIR-SIZE-0004 made by a mutation answered as not made", n)
	}
}

// TestTrustedDocuments: a server given a manifest runs its documents, by
// hash or by text, and nothing else; they are still costed.
func TestTrustedDocuments(t *testing.T) {
	const dashboard = `query Dashboard($n: Int) { cases(first: $n){ edges{ node{ reference victims(first: 50){ edges{ node{ pseudonym } } } } } } }`
	docs := trusted.New()
	hash := docs.Add(dashboard)
	names := docs.Add(`query VictimNames { victims(first: 5){ edges{ node{ legalName } } } }`)
	db := testdb.SQLite(t)
	s := testserver.Start(t, db, testserver.Options{Config: server.Config{TrustedDocuments: docs}})
	testdb.Demo(t, db, 1)
	token := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	post := func(body map[string]any) *testserver.Response {
		t.Helper()
		return s.Send(t, testserver.PostBody(t, s.URL, token, body))
	}
	byHash := func(h string) map[string]any {
		return map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": h}}}
	}
	wantCode := func(t *testing.T, res *testserver.Response, code string) {
		t.Helper()
		if codes := res.Codes(); len(codes) != 1 || codes[0] != code {
			t.Fatalf("want %s, got %d %v\n%s", code, res.Status, codes, res.Body)
		}
	}

	t.Run("by hash", func(t *testing.T) {
		body := byHash(hash)
		body["variables"] = map[string]any{"n": 5}
		post(body).MustOK(t)
	})
	t.Run("by text", func(t *testing.T) {
		post(map[string]any{"query": dashboard, "variables": map[string]any{"n": 5}}).MustOK(t)
	})
	t.Run("any other text", func(t *testing.T) {
		wantCode(t, post(map[string]any{"query": `{ viewer { subject } }`}), "PERSISTED_QUERY_NOT_FOUND")
	})
	t.Run("an unknown hash", func(t *testing.T) {
		wantCode(t, post(byHash(trusted.Hash("{ viewer { subject } }"))), "PERSISTED_QUERY_NOT_FOUND")
	})
	t.Run("a hash that is not the text's", func(t *testing.T) {
		body := byHash(hash)
		body["query"] = `{ viewer { subject } }`
		wantCode(t, post(body), "BAD_USER_INPUT")
	})
	t.Run("still costed", func(t *testing.T) {
		body := byHash(hash)
		body["variables"] = map[string]any{"n": 500}
		wantCode(t, post(body), "TOO_COMPLEX")
	})
	t.Run("audited by operation name", func(t *testing.T) {
		post(byHash(names))
		var n int
		if err := db.SQL.QueryRow(`SELECT count(*) FROM audit_events WHERE operation = 'query VictimNames'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Error("no audit event names the registered operation")
		}
	})
}

// TestAnyDocumentWithoutARegistry: without a manifest (development),
// documents run by text, and a hash alone is not found, so an Apollo
// client sends the text next.
func TestAnyDocumentWithoutARegistry(t *testing.T) {
	s := testserver.Start(t, testdb.SQLite(t))
	token := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	s.Do(t, token, `{ viewer { subject } }`, nil).MustOK(t)
	raw := `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + trusted.Hash(`{ viewer { subject } }`) + `"}}}`
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res := s.Send(t, req)
	if codes := res.Codes(); len(codes) != 1 || codes[0] != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("want PERSISTED_QUERY_NOT_FOUND, got %d %v\n%s", res.Status, codes, res.Body)
	}
}

// TestStatementTimeout: on PostgreSQL a statement the server started stops
// on the server at the timeout, whatever became of its request.
func TestStatementTimeout(t *testing.T) {
	url := database.WithStatementTimeout(testdb.CreatePostgres(t), 300*time.Millisecond)
	db, err := database.Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	_, err = db.SQL.Exec(`SELECT pg_sleep(5)`)
	if err == nil || !strings.Contains(err.Error(), "57014") && !strings.Contains(err.Error(), "statement timeout") {
		t.Fatalf("want a statement timeout, got %v", err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("the statement ran %v", elapsed)
	}
}

// TestRequestShare: one request runs at most its share of statements at
// once; the rest of the pool stays free for others.
func TestRequestShare(t *testing.T) {
	db, err := database.Open(context.Background(), testdb.CreatePostgres(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := database.WithRequestShare(context.Background(), 1)
	start := time.Now()
	done := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := db.Client.ExecContext(ctx, `SELECT pg_sleep(0.3)`)
			done <- err
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if elapsed := time.Since(start); elapsed < 600*time.Millisecond {
		t.Errorf("two statements of one request with a share of one ran together (%v)", elapsed)
	}
}

// TestTrustedDocumentsAtStart: a manifest the server could never run is
// refused before it serves.
func TestTrustedDocumentsAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.json")
	for name, doc := range map[string]string{
		"does not validate": `{ nosuchfield }`,
		"too deep":          "{ viewer { agency { " + strings.Repeat("parent { ", 30) + "code" + strings.Repeat(" }", 30) + " } } }",
	} {
		t.Run(name, func(t *testing.T) {
			docs := trusted.New()
			docs.Add(doc)
			raw, err := docs.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			loaded, err := trusted.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := graph.CheckTrustedDocuments(loaded, cost.DefaultLimits()); err == nil {
				t.Fatal("the manifest was accepted")
			}
		})
	}
}

// TestAuditEventsSpendTheBudget: the events a request writes to the
// append-only trail are charged to its caller's budget after it, whole,
// even past the caller's limit, and its next requests are refused until it
// has paid (graph.CostBudget.Charge; docs/limits.md, "Budgets"), so refused
// looks at victims cannot flood the trail within a budget meant for pages.
// The coordinator may read no legalName: each page writes a refusal a
// victim, charged 10. The charge went through httprate's OnLimit, which
// adds nothing when the increment would take the caller over its limit:
// one larger than the room left was dropped whole, five pages of 250 were
// answered, 1,250 refusals in the trail for a budget of 300, and a caller
// keeping its budget nearly spent (a bulk job) never paid for its events
// (a hunt).
func TestAuditEventsSpendTheBudget(t *testing.T) {
	for _, c := range []struct {
		page, answered int
		why            string
	}{
		// Cost 1 + 1 + 100 × 2 = 202, charged 1,000 after: without the
		// charge fourteen fit in 3,000; with it three (the third fits in
		// the 596 left, and its charge takes the budget to 3,606).
		{100, 3, "their audit events should have spent the budget after 3"},
		// Cost about 500, charged 2,500 after: the first spends it.
		{250, 1, "the first one's 2,500 of events should have spent it"},
	} {
		// A server of its own for each case: budgets are a person's and
		// an address's.
		db := testdb.SQLite(t)
		s := testserver.Start(t, db, testserver.Options{Config: server.Config{CostPerMinute: 3_000}})
		testdb.Demo(t, db, 1)
		coordinator := s.Token(t, "onac", viewer.RoleCoordinator)
		refusedNames := fmt.Sprintf(`{ victims(first: %d){ edges{ node{ legalName } } } }`, c.page)
		answered := 0
		for range 10 {
			res := s.Do(t, coordinator, refusedNames, nil)
			if res.Status == http.StatusTooManyRequests {
				break
			}
			if res.Status != http.StatusOK {
				t.Fatalf("status %d: %.300s", res.Status, res.Body)
			}
			answered++
		}
		if answered != c.answered {
			t.Errorf("%d pages of %d refused names answered on a budget of 3,000, want %d: %s", answered, c.page, c.answered, c.why)
		}
	}
}

// TestConnectionsPerAddress: one client address holds at most
// MaxConnsPerAddress connections open; another is closed at once, and a
// slot freed lets the next in. One client holding 20,000 idle keep-alive
// connections used up the server's file descriptors, and every other
// client's connection failed (a helper's hunt).
func TestConnectionsPerAddress(t *testing.T) {
	l := startListening(t, time.Second, server.Config{MaxConnsPerAddress: 2})
	// open sends a request on a new connection and reports the status
	// line it read (or the error), leaving the connection open.
	open := func() (net.Conn, string) {
		c, err := net.Dial("tcp", l.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return c, err.Error()
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return c, err.Error()
		}
		return c, strings.TrimSpace(line)
	}
	first, status := open()
	if status != "HTTP/1.1 200 OK" {
		t.Fatalf("the first connection: %q", status)
	}
	if _, status := open(); status != "HTTP/1.1 200 OK" {
		t.Fatalf("the second connection: %q", status)
	}
	// A third is told why, and closed.
	if _, status := open(); status != "HTTP/1.1 503 Service Unavailable" {
		t.Errorf("a third connection from the address: %q, want 503", status)
	}
	first.Close()
	// The slot comes back once the server has seen the close.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, status := open()
		if status == "HTTP/1.1 200 OK" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a connection after one closed: %q", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIdleConnectionsClosedWhenCrowded: past three quarters of MaxConns,
// keep-alives are turned off and the idle connections closed, so that
// clients holding idle connections cannot fill the server (every new
// connection, a health check's included, would wait); at half they are
// on again.
func TestIdleConnectionsClosedWhenCrowded(t *testing.T) {
	l := startListening(t, time.Second, server.Config{MaxConns: 8, MaxConnsPerAddress: 8})
	idle := func() net.Conn {
		c, err := net.Dial("tcp", l.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return c
	}
	var held []net.Conn
	for range 5 {
		held = append(held, idle())
	}
	// The sixth makes three quarters of 8: it only connects, so that the
	// five are all idle when the server turns keep-alives off.
	time.Sleep(50 * time.Millisecond) // the server marks a connection idle just after its answer
	sixth, err := net.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sixth.Close() })
	// The idle connections are closed by the server.
	for i, c := range held {
		if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Read(make([]byte, 1)); err == nil || n > 0 {
			t.Fatalf("idle connection %d stayed open when crowded: read %d, %v", i, n, err)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("idle connection %d stayed open when crowded", i)
		}
	}
	sixth.Close()
	// Calm again, keep-alives come back: a connection serves two requests.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := idle()
		_, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		if err == nil {
			if res, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				res.Body.Close()
				break
			}
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("keep-alives did not come back once calm")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHeadersBounded: a request's headers are bounded well under Go's
// default megabyte (each is held in memory before any check).
func TestHeadersBounded(t *testing.T) {
	l := startListening(t, time.Second)
	req, err := http.NewRequest(http.MethodGet, "http://"+l.addr+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Go reads 4 KB past the bound before it refuses.
	req.Header.Set("X-Pad", strings.Repeat("a", server.MaxHeaderBytes+8<<10))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("headers over %d bytes: status %d, want 431", server.MaxHeaderBytes, res.StatusCode)
	}
}

// TestDeadlineWhileWaitingForALock: a mutation that waits past the
// request's deadline for a row another transaction holds, or for the audit
// trail's lock, answers UNAVAILABLE and writes nothing, on both databases.
// PostgreSQL stops the statement with an error of its own (57014), which
// once answered INTERNAL (a hunt over HTTP), and waiting for the audit
// trail's lock AUDIT_UNAVAILABLE, an outage that was none (a review).
func TestDeadlineWhileWaitingForALock(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db, testserver.Options{Config: server.Config{RequestTimeout: time.Second}})
		token := s.Token(t, "police-tirane", viewer.RoleInvestigator)
		for i, hold := range []struct{ name, postgres, sqlite string }{
			{"a row", `SELECT id FROM case_files WHERE id = $1 FOR UPDATE`, `UPDATE case_files SET title = title WHERE id = ?`},
			// SQLite's writers are one at a time already: the row's hold.
			{"the audit trail's lock", fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d) WHERE $1::bigint > 0`, audit.ChainLockKey), ""},
		} {
			t.Run(hold.name, func(t *testing.T) {
				statement := hold.postgres
				if db.Dialect != "postgres" {
					if statement = hold.sqlite; statement == "" {
						t.Skip("SQLite's writers are one at a time: the row's hold is the same")
					}
				}
				var opened struct {
					OpenCase struct {
						ID      string
						Version int
					}
				}
				ref := fmt.Sprintf("LOCK-%d", i)
				s.Do(t, token, `mutation($a: ID!, $r: String!) { openCase(input: {reference: $r, title: "Held", region: TIRANE, leadAgencyID: $a}) { id version } }`,
					map[string]any{"a": fmt.Sprint(s.AgencyIDs(t)["police-tirane"]), "r": ref}).MustOK(t).Decode(t, &opened)

				ctx := context.Background()
				tx, err := db.SQL.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = tx.Rollback() }()
				if _, err := tx.ExecContext(ctx, statement, opened.OpenCase.ID); err != nil {
					t.Fatal(err)
				}
				res := s.Do(t, token, `mutation($id: ID!, $v: Int!) { updateCase(id: $id, expectedVersion: $v, input: {title: "Changed"}) { version } }`,
					map[string]any{"id": opened.OpenCase.ID, "v": opened.OpenCase.Version})
				if codes := res.Codes(); len(codes) != 1 || codes[0] != "UNAVAILABLE" {
					t.Fatalf("want UNAVAILABLE, got %d %v\n%s", res.Status, codes, res.Body)
				}
				// An integrator must know whether to retry: the change was
				// not made, and the answer says so wherever the deadline
				// stopped it (a hunt: stopped in its resolver, it said only
				// "took too long").
				if msg := res.Errors[0].Message; !strings.Contains(msg, "the change was not made") {
					t.Errorf("the deadline's error does not say the change was not made: %q", msg)
				}
				if err := tx.Rollback(); err != nil {
					t.Fatal(err)
				}
				var title string
				if err := db.SQL.QueryRow(`SELECT title FROM case_files WHERE reference = '` + ref + `'`).Scan(&title); err != nil || title != "Held" {
					t.Errorf("after the refusal the case's title is %q (%v), want it unchanged", title, err)
				}
			})
		}
	})
}

// TestOneErrorForTheDeadline: once a request's deadline has passed, what
// is left of the operation is not resolved field by field, each with an
// UNAVAILABLE of its own (a hunt over HTTP found 136 in one answer): the
// answer carries one error for the deadline. The first root field waits
// for a table another transaction holds until the deadline; twenty more
// follow it.
func TestOneErrorForTheDeadline(t *testing.T) {
	db := testdb.Postgres(t)
	s := testserver.Start(t, db, testserver.Options{Config: server.Config{RequestTimeout: time.Second}})
	token := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	s.Do(t, token, `{ viewer { subject } }`, nil).MustOK(t) // the agency is known: authentication reads nothing
	var aliases strings.Builder
	for i := range 20 {
		fmt.Fprintf(&aliases, " s%d: subject r%d: roles", i, i)
	}
	query := `{ cases(first: 5){ edges{ node{ reference } } } me: viewer {` + aliases.String() + ` } }`

	unlock := lockCases(t, db)
	// One error for each root field (a review: with one for the whole
	// answer, the non-null viewer nulled the data with no error at its
	// path), not one for each of its forty fields.
	res := s.Do(t, token, query, nil)
	roots := map[string]bool{}
	for _, e := range res.Errors {
		if e.Code() != "UNAVAILABLE" || len(e.Path) == 0 {
			t.Fatalf("want UNAVAILABLE errors for the deadline, got %s", res.Body)
		}
		roots[fmt.Sprint(e.Path[0])] = true
		if id, _ := e.Extensions["requestId"].(string); id == "" {
			t.Errorf("the deadline's error has no requestId: %s", res.Body)
		}
	}
	if len(res.Errors) != 2 || !roots["cases"] || !roots["me"] {
		t.Fatalf("want one UNAVAILABLE for each root field (cases, me), got %d errors\n%.2000s", len(res.Errors), res.Body)
	}
	unlock()
	s.Do(t, token, query, nil).MustOK(t)
}
