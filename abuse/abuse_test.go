// Package abuse_test replays, against the real server over HTTP, the
// requests that once took CaseGraph down (issue: "No single caller can
// exhaust the server") and more of the same kind: deep nesting, fan-out,
// aliases, fragments, introspection, many operations, many ids. Each must
// be refused with a code, or answered, within a second of server time and
// 50 MB of memory, writing at most its bounded events to the audit trail;
// and the server keeps answering others while they run.
package abuse_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// attack is one request an adversary sends.
type attack struct {
	name  string
	query string
	vars  map[string]any
	// operation names the operation to run, in a document of several.
	operation string
	// want is the code the request must be refused with; "" means it may
	// be answered (its page sizes are legal), within the same bounds.
	want string
	// maxEvents bounds the audit events it may write.
	maxEvents int
	// maxErrors is how many errors (all of code want) a refusal may carry;
	// 0 means one. Validation reports several, at most ten a rule.
	maxErrors int
}

const (
	maxServerTime = time.Second
	maxExtraHeap  = 50 << 20
	// maxAnswerBytes is the answer's limit (docs/limits.md, "Refusals").
	maxAnswerBytes = 8 << 20
)

func attacks() []attack {
	unknownIDs := make([]string, 500)
	for i := range unknownIDs {
		unknownIDs[i] = fmt.Sprintf("%d", 4_000_000_000+i)
	}
	ids := `["` + strings.Join(unknownIDs, `","`) + `"]`
	return []attack{
		{name: "agencies-cases fan-out, 227 bytes", want: "TOO_COMPLEX",
			query: `{ agencies(first:500){ edges{node{ cases{ edges{node{ leadAgency{ cases{ edges{node{ leadAgency{ cases{ edges{node{ reference }}}}}}}}}}}}}}}`},
		{name: "cases-victims 13 deep, first 100000", want: "TOO_COMPLEX", query: nested(13, "(first: 100000)")},
		{name: "cases-victims 4 deep, first 100000", want: "BAD_USER_INPUT", query: nested(4, "(first: 100000)")},
		{name: "cases-victims 13 deep, default pages", want: "TOO_COMPLEX", query: nested(13, "")},
		{name: "cases-victims 6 deep, pages of 500", want: "TOO_COMPLEX", query: nested(6, "(first: 500)")},
		{name: "500 aliases of cases(first:500){victims}", want: "TOO_COMPLEX",
			query: aliases(500, `cases(first:500){ edges{node{ victims{ edges{node{ pseudonym }}}}}}`)},
		{name: "20 aliases of cases(first:500){victims}", want: "TOO_COMPLEX",
			query: aliases(20, `cases(first:500){ edges{node{ victims{ edges{node{ pseudonym }}}}}}`)},
		{name: "5000 aliases of __schema", want: "TOO_COMPLEX",
			query: aliases(5000, `__schema{ types{ fields{ name type{ name } } } }`)},
		{name: "15 aliases of __schema", want: "TOO_COMPLEX",
			query: aliases(15, `__schema{ types{ fields{ name type{ name } } } }`)},
		{name: "chain of 4000 fragments", want: "TOO_COMPLEX", query: fragmentChain(4000)},
		{name: "chain of 1000 fragments", want: "TOO_COMPLEX", query: fragmentChain(1000)},
		{name: "fragment bomb, each spread twice", want: "TOO_COMPLEX", query: fragmentBomb(30)},
		{name: "200 aliases of nodes(500 unknown ids)", want: "TOO_COMPLEX",
			query: "query($ids: [ID!]!)" + aliases(200, `nodes(ids: $ids){ id }`), vars: map[string]any{"ids": unknownIDs}},
		{name: "20 aliases of nodes(500 unknown ids)", want: "TOO_COMPLEX",
			query: "query($ids: [ID!]!)" + aliases(20, `nodes(ids: $ids){ id }`), vars: map[string]any{"ids": unknownIDs}},
		{name: "2 aliases of nodes(500 unknown ids)", want: "", maxEvents: audit.MaxRefusedRecords + 1,
			query: "query($ids: [ID!]!)" + aliases(2, `nodes(ids: $ids){ id }`), vars: map[string]any{"ids": unknownIDs}},
		{name: "500 unknown ids in the text", want: "", maxEvents: audit.MaxRefusedRecords + 1,
			query: `{ nodes(ids: ` + ids + `){ id } }`},
		{name: "nodes with 10000 ids in variables", want: "BAD_USER_INPUT",
			query: `query($ids: [ID!]!){ nodes(ids: $ids){ id } }`, vars: map[string]any{"ids": manyIDs(10_000)}},
		{name: "first from a variable, too large", want: "BAD_USER_INPUT",
			query: `query($n: Int){ cases(first: 5){ edges{node{ victims(first: $n){ totalCount } }}} }`, vars: map[string]any{"n": 1_000_000}},
		{name: "a negative first on a nested list", want: "BAD_USER_INPUT",
			query: `{ cases(first: 5){ edges{node{ victims(first: -1){ totalCount } }}} }`},
		{name: "viewer.agency.parent 100 deep", want: "TOO_COMPLEX", query: parentChain(100)},
		// Validation compares every pair of fields answered under one name:
		// 999 pairs of two fields under "x" were a million errors, 254 MB
		// of answer and 2.2 GB of memory, before any cost was counted.
		{name: "2,000 conflicting fields under one name, 29 KB", want: "TOO_COMPLEX",
			query: "{ " + strings.Repeat("x: __typename x: policyLines ", 999) + "}"},
		// Validation compares the fields of an unused fragment too, which
		// no bound on the operation covered: 2 s and 800 MB from 57 KB.
		{name: "1,600 conflicting fields in an unused fragment", want: "BAD_USER_INPUT",
			query: "{ __typename } fragment F on Query { " + strings.Repeat("x: __typename x: viewer { subject } ", 1600) + "}"},
		{name: "50 conflicting fields under one name", want: "BAD_USER_INPUT", maxErrors: 10,
			query: "{ " + strings.Repeat("x: __typename x: viewer { subject } ", 25) + "}"},
		// "Did you mean" compared each unknown name with every field of the
		// filter, letter by letter: 2 s of CPU for a 975 KB body.
		{name: "2,000 unknown filter fields of 480 letters", want: "BAD_USER_INPUT", maxErrors: 10,
			query: unknownFilterFields(2000, 480)},
		// An answer repeats an alias for every object it is asked of: a
		// 1 MB alias under a page of cases was a 276 MB answer, and sixteen
		// such pages through a fragment ran a server out of memory.
		{name: "a 1,000,000-byte alias under a page of cases", want: "TOO_COMPLEX",
			query: "{ cases(first: 500) { edges { node { " + strings.Repeat("a", 1_000_000) + ": __typename } } } }"},
		{name: "a 50 KB alias spread into 16 pages of cases", want: "TOO_COMPLEX",
			query: aliases(16, "cases(first: 500) { edges { node { ...C } } }") + " fragment C on Case { " + strings.Repeat("a", 50_000) + ": __typename }"},
		// Validation's work on a value written in the document grows with
		// the square of its depth: 980 nested nots (6.9 KB) took 0.2 s of
		// CPU before any cost was charged (a review, 2026-12-07).
		{name: "a where of 980 nested nots, 6.9 KB", want: "TOO_COMPLEX",
			query: "{ cases(first: 5, where: " + strings.Repeat("{not: ", 980) + `{referenceContains: "a"}` + strings.Repeat("}", 980) + ") { totalCount } }"},
		// Within the values' depth, the filter's own bound answers.
		{name: "a where of 40 nested nots", want: "BAD_USER_INPUT",
			query: "{ cases(first: 5, where: " + strings.Repeat("{not: ", 40) + `{referenceContains: "a"}` + strings.Repeat("}", 40) + ") { totalCount } }"},
		// A mutation's transaction, checks and audit are priced besides its
		// payload: 300 that changed nothing cost 600 and took 0.15 s of
		// CPU on SQLite, 1,044 statements (a review, 2026-12-07).
		{name: "120 mutations that change nothing", want: "TOO_COMPLEX", query: manyMutations(20)},
		{name: "aliases of 64 bytes under a page of cases", want: "",
			query: "{ cases(first: 500) { edges { node { " + strings.Repeat("a", 64) + ": __typename " + strings.Repeat("b", 64) + ": id } } } }"},
		{name: "1000 operations in one document", want: "",
			query: manyOperations(1000), operation: "Q999"},
		{name: "the largest legal page of cases with victims", want: "",
			query: `{ cases(first: 500){ edges{node{ reference victims(first: 10){ edges{node{ pseudonym sex ageGroup }}}}}} }`},
	}
}

// nested returns cases → victims → cases … depth levels deep, each nested
// connection with args.
func nested(depth int, args string) string {
	var b strings.Builder
	b.WriteString("{ cases(first: 50){ edges{node{ reference ")
	for i := 1; i < depth; i++ {
		edge := "victims"
		if i%2 == 0 {
			edge = "cases"
		}
		fmt.Fprintf(&b, "%s%s{ edges{node{ id ", edge, args)
	}
	for i := 1; i < depth; i++ {
		b.WriteString("}}}")
	}
	b.WriteString("}}}}")
	return b.String()
}

func aliases(n int, field string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, field)
	}
	b.WriteString(" }")
	return b.String()
}

// manyMutations asks each of six mutations under n aliases, every one
// naming records that do not exist.
func manyMutations(n int) string {
	var b strings.Builder
	b.WriteString("mutation {")
	for k, m := range []string{
		`withdrawConsent(id: "x", expectedVersion: 1) { id }`,
		`linkVictimToCase(victimID: "x", caseID: "y") { id }`,
		`updateCase(id: "x", expectedVersion: 1, input: {}) { id }`,
		`updateVictim(id: "x", expectedVersion: 1, input: {}) { id }`,
		`updateSuspect(id: "x", expectedVersion: 1, input: {}) { id }`,
		`updateProsecution(id: "x", expectedVersion: 1, input: {}) { id }`,
	} {
		for i := range n {
			fmt.Fprintf(&b, " m%d_%d: %s", k, i, m)
		}
	}
	b.WriteString(" }")
	return b.String()
}

func fragmentChain(n int) string {
	var b strings.Builder
	b.WriteString("{ viewer { ...F0 } }")
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on Viewer { subject ...F%d }", i, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Viewer { subject }", n)
	return b.String()
}

// fragmentBomb is small text whose expanded tree has 2^levels fields.
func fragmentBomb(levels int) string {
	var b strings.Builder
	b.WriteString("{ viewer { ...B0 } }")
	for i := range levels {
		fmt.Fprintf(&b, " fragment B%d on Viewer { subject ...B%d ...B%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment B%d on Viewer { subject }", levels)
	return b.String()
}

// unknownFilterFields is a where filter of n fields the filter does not
// have, each named with letters letters.
func unknownFilterFields(n, letters int) string {
	var b strings.Builder
	b.WriteString("{ prosecutions(first: 1, where: { ")
	for i := range n {
		fmt.Fprintf(&b, "%s%d: 1 ", strings.Repeat("q", letters), i)
	}
	b.WriteString("}) { totalCount } }")
	return b.String()
}

func parentChain(depth int) string {
	return "{ viewer { agency { " + strings.Repeat("parent { ", depth) + "code" + strings.Repeat(" }", depth) + " } } }"
}

func manyOperations(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "query Q%d { viewer { subject } } ", i)
	}
	return b.String()
}

func manyIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%d", 4_000_000_000+i)
	}
	return out
}

func TestAbuse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		srv := startSeeded(t, db)
		coordinator := srv.Token(t, "onac", viewer.RoleCoordinator)

		for _, a := range attacks() {
			t.Run(a.name, func(t *testing.T) {
				before := auditEvents(t, db)
				var res *testserver.Response
				var elapsed time.Duration
				extraHeap := peakHeapGrowth(func() {
					res, elapsed = send(t, srv, coordinator, a)
				})
				codes := res.Codes()
				if a.want != "" {
					if len(codes) < 1 || len(codes) > max(1, a.maxErrors) || slices.ContainsFunc(codes, func(c string) bool { return c != a.want }) {
						t.Fatalf("want 1 to %d %s errors, got status %d codes %v\n%.600s", max(1, a.maxErrors), a.want, res.Status, codes, res.Body)
					}
					if strings.Contains(string(res.Body), "Did you mean") {
						t.Errorf("a refusal suggests names: %.300s", res.Body)
					}
					if len(res.Data) != 0 && string(res.Data) != "null" {
						t.Errorf("a refused request carries data: %.200s", res.Data)
					}
				} else {
					for _, c := range codes {
						if c != "NOT_FOUND" && c != "FORBIDDEN" {
							t.Fatalf("want an answer, got status %d codes %v\n%.600s", res.Status, codes, res.Body)
						}
					}
				}
				if elapsed > maxServerTime {
					t.Errorf("took %v, over %v", elapsed, maxServerTime)
				}
				if extraHeap > maxExtraHeap {
					t.Errorf("heap grew by %d MB, over %d MB", extraHeap>>20, maxExtraHeap>>20)
				}
				if written := auditEvents(t, db) - before; written > a.maxEvents {
					t.Errorf("wrote %d audit events, at most %d allowed", written, a.maxEvents)
				}
				t.Logf("%v, heap +%d KB, status %d, %d bytes", elapsed.Round(time.Millisecond), extraHeap>>10, res.Status, len(res.Body))
			})
		}
	})
}

// TestServesOthersUnderAbuse sends four abusive requests at a time, over
// and over, while a person checks /readyz and runs a small query: each of
// theirs answers, and fast: the median within 100 ms, or within ten times
// what the same request took just before on the same server with no
// abuse, whichever is more. The second bound is there for a machine busy
// with other work, where the first measures the machine, not the server:
// until 2026-12-07 (nineteenth session) the 100 ms alone failed the suite
// on a loaded machine with the server serving as it should.
func TestServesOthersUnderAbuse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		srv := startSeeded(t, db)
		coordinator := srv.Token(t, "onac", viewer.RoleCoordinator)
		investigator := srv.Token(t, "police-tirane", viewer.RoleInvestigator)
		small := func() (ready, query time.Duration) {
			start := time.Now()
			res, err := http.Get(srv.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("/readyz answered %d", res.StatusCode)
			}
			ready = time.Since(start)
			start = time.Now()
			srv.Do(t, investigator, `{ cases(first: 5){ edges{node{ reference stage }}} }`, nil).MustOK(t)
			return ready, time.Since(start)
		}
		median := func(d []time.Duration) time.Duration {
			d = slices.Clone(d)
			slices.Sort(d)
			return d[len(d)/2]
		}
		var quietReady, quietQuery []time.Duration
		for range 20 {
			r, q := small()
			quietReady, quietQuery = append(quietReady, r), append(quietQuery, q)
		}
		heavy := attacks()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var sent atomic.Int64
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := w; ctx.Err() == nil; i += 4 {
					a := heavy[i%len(heavy)]
					send(t, srv, coordinator, a)
					sent.Add(1)
				}
			})
		}
		var ready, query []time.Duration
		for range 20 {
			time.Sleep(50 * time.Millisecond)
			r, q := small()
			ready, query = append(ready, r), append(query, q)
		}
		cancel()
		wg.Wait()
		t.Logf("%d abusive requests meanwhile", sent.Load())
		for _, p := range []struct {
			what             string
			latencies, quiet []time.Duration
		}{{"/readyz", ready, quietReady}, {"a small query", query, quietQuery}} {
			m, slowest := median(p.latencies), slices.Max(p.latencies)
			bound := max(100*time.Millisecond, 10*median(p.quiet))
			t.Logf("%s under abuse: median %v, slowest %v (without abuse: median %v)", p.what, m, slowest, median(p.quiet))
			if m > bound {
				t.Errorf("under abuse, %s takes %v (median), over %v (100 ms, or ten times its %v without abuse)", p.what, m, bound, median(p.quiet))
			}
			if slowest > max(time.Second, 10*bound) {
				t.Errorf("under abuse, %s took %v once", p.what, slowest)
			}
		}
	})
}

// startSeeded serves db, with the demo data, with the server's own limits.
func startSeeded(t *testing.T, db *database.DB) *testserver.Server {
	t.Helper()
	srv := testserver.Start(t, db)
	testdb.Demo(t, db, 1)
	return srv
}

// send posts a's request as token and returns the response and the time
// the server took to answer it in full (not the client's decoding).
func send(t *testing.T, srv *testserver.Server, token string, a attack) (*testserver.Response, time.Duration) {
	t.Helper()
	req := testserver.PostBody(t, srv.URL, token, map[string]any{"query": a.query, "variables": a.vars, "operationName": a.operation})
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	out := &testserver.Response{Status: res.StatusCode, Header: res.Header, Body: raw}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("status %d, not JSON: %v\n%.300s", res.StatusCode, err, raw)
	}
	return out, elapsed
}

// peakHeapGrowth runs f and returns how far the heap grew above where it
// stood before, sampled every millisecond.
func peakHeapGrowth(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if h := read(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

func auditEvents(t *testing.T, db *database.DB) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow("SELECT count(*) FROM audit_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestListsThatLoopStop: a proceeding's defendants and a suspect's
// proceedings are lists without page arguments, which the cost model can
// only estimate, and they refer back to each other. When every one of 30
// suspects was a defendant in every one of 30 proceedings, four levels of
// them from a proceeding (810,000 fields) were priced at about 11,000,
// and three from a suspect (27,000) at about 5,500: the server stopped
// each answer from growing past twice its cost. Both lists are priced as
// 50 since (the defendants' 2026-12-07, eighteenth session; a suspect's
// proceedings the same day, nineteenth session), and those loops are
// refused for their cost before they run. A list longer than its price
// still stops this way: with 100 suspects in the same 100 proceedings,
// two levels from a suspect are 10,100 fields from a request priced at
// 2,572.
func TestListsThatLoopStop(t *testing.T) {
	const n = 100
	db := testdb.SQLite(t)
	srv := startSeeded(t, db)
	ctx := viewer.SystemContext(context.Background())
	suspects, err := db.Client.Suspect.Query().Limit(n).IDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	proceedings, err := db.Client.Prosecution.Query().Limit(n).IDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(suspects) < n || len(proceedings) < n {
		t.Fatalf("the demo data has %d suspects and %d proceedings", len(suspects), len(proceedings))
	}
	for _, p := range proceedings {
		have, err := db.Client.Prosecution.GetX(ctx, p).QueryDefendants().IDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var add []int
		for _, s := range suspects {
			if !slices.Contains(have, s) {
				add = append(add, s)
			}
		}
		if err := db.Client.Prosecution.UpdateOneID(p).AddDefendantIDs(add...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	gpo := srv.Token(t, "prosecution-general", viewer.RoleProsecutor)
	suspect := map[string]any{"id": testserver.GlobalID(suspects[0])}
	for name, loop := range map[string]attack{
		"four levels from a proceeding": {query: `{ prosecutions(first: 1){ edges{ node{ defendants{ prosecutions{ defendants{ prosecutions{ registrationNumber } } } } } } } }`},
		"three levels from a suspect": {query: `query ($id: ID!) { node(id: $id){ ... on Suspect{ prosecutions{ defendants{ prosecutions{ registrationNumber } } } } } }`,
			vars: suspect},
	} {
		if res, _ := send(t, srv, gpo, loop); len(res.Errors) != 1 || res.Errors[0].Code() != "TOO_COMPLEX" || res.Errors[0].Extensions["limit"] != "cost" {
			t.Errorf("%s: want TOO_COMPLEX for its cost, got status %d %.300s", name, res.Status, res.Body)
		}
	}
	a := attack{query: `query ($id: ID!) { node(id: $id){ ... on Suspect{ prosecutions{ defendants{ pseudonym } } } } }`, vars: suspect}
	var res *testserver.Response
	var elapsed time.Duration
	extraHeap := peakHeapGrowth(func() { res, elapsed = send(t, srv, gpo, a) })
	found := false
	for _, e := range res.Errors {
		if e.Code() == "TOO_COMPLEX" && e.Extensions["limit"] == "fields resolved" {
			found = true
		}
	}
	if !found {
		t.Fatalf("want TOO_COMPLEX on the fields resolved, got status %d %v, %d bytes", res.Status, res.Codes(), len(res.Body))
	}
	if elapsed > maxServerTime || extraHeap > maxExtraHeap {
		t.Errorf("took %v and %d MB", elapsed, extraHeap>>20)
	}
	t.Logf("%v, heap +%d KB, %d bytes", elapsed.Round(time.Millisecond), extraHeap>>10, len(res.Body))
}

// TestIDListsCountAgainstTheAnswersSize: every value that can be long is
// counted against the answer's size as the answer is built, and past 8 MiB
// nothing more is resolved (docs/limits.md, "Refusals"), since the cost
// model charges a list of scalars as one field whatever its length. An
// audit event's entities is such a list (an event about a page of victims
// read alike names 500 of them), resolved as []int, which the count of
// texts alone did not see: a DPO's request of
// cost about 5,000 (twenty aliases of auditEvents(first: 12), each with
// twenty aliases of entities) built a 33 MB answer, 1.9 s of CPU and
// +215 MB of memory on the demo data before it was refused for its size
// at the end. On a real trail (events about thousands of records, pages
// of 500 events) the same request runs until its deadline, growing
// hundreds of megabytes, eight at once.
func TestIDListsCountAgainstTheAnswersSize(t *testing.T) {
	db := testdb.SQLite(t)
	srv := startSeeded(t, db)
	coordinator := srv.Token(t, "onac", viewer.RoleCoordinator)
	dpo := srv.Token(t, "onac", viewer.RoleDPO)
	// The coordinator may read no legal name: each page is one event of
	// refusals about 500 victims.
	for range 12 {
		res := srv.Do(t, coordinator, `{ victims(first: 500){ edges{ node{ legalName } } } }`, nil)
		if res.Status != 200 {
			t.Fatalf("status %d: %.300s", res.Status, res.Body)
		}
	}
	var entities []string
	for i := range 20 {
		entities = append(entities, fmt.Sprintf("e%d: entities", i))
	}
	page := `auditEvents(first: 12, where: {kind: FIELD_ACCESS}){ edges { node { ` + strings.Join(entities, " ") + ` } } }`
	a := attack{query: aliases(20, page)}
	var res *testserver.Response
	var elapsed time.Duration
	extraHeap := peakHeapGrowth(func() { res, elapsed = send(t, srv, dpo, a) })
	t.Logf("%v, heap +%d MB, status %d, codes %v, %.300s", elapsed.Round(time.Millisecond), extraHeap>>20, res.Status, res.Codes(), res.Body)
	for _, e := range res.Errors {
		if e.Extensions["limit"] == "responseBytes" {
			if v, _ := e.Extensions["value"].(float64); v > 2*maxAnswerBytes {
				t.Errorf("the answer was built to %.0f bytes before it was refused; its values counted should stop it near %d", v, maxAnswerBytes)
			}
		}
	}
	if extraHeap > maxExtraHeap {
		t.Errorf("heap grew by %d MB, over %d MB, for a request of cost about 5,000", extraHeap>>20, maxExtraHeap>>20)
	}
	if elapsed > maxServerTime {
		t.Errorf("took %v, over %v", elapsed, maxServerTime)
	}
}

// TestFixedCostPaysForEachFieldOnce: an operation stops resolving fields
// past twice its cost plus 1,000, and a field of fixed cost (a statistics
// table, 1,000; the access matrix, 5,000) is exempt from that count since
// its price paid for its fields, each once: a field asked for again under
// another name is refused (docs/limits.md, "The cost model"). What is
// resolved under such a field is not fixed: twenty aliases of
// cells, each asking twenty aliases of count and of suppressed, resolve
// every cell 800 times. caseStatistics grouped by its five dimensions by
// month has one cell per case on the demo data (313): a request of cost
// 1,000 resolved about 250,000 fields (and with aliases of values and
// period 500,000 fields, 1.3 s of CPU and +120 MB before it was refused
// for its size). The access matrix's 12,328 cells with 40 aliases of
// allowed are 493,000 fields, 5.6 MB, for a cost of 5,000; with 2,000
// fields it runs to the deadline. The cells grow with the data (cases
// and periods), so the work a client can ask for a fixed price has no
// bound but the deadline.
func TestFixedCostPaysForEachFieldOnce(t *testing.T) {
	db := testdb.SQLite(t)
	srv := startSeeded(t, db)
	var leaves []string
	for i := range 20 {
		leaves = append(leaves, fmt.Sprintf("c%d: count s%d: suppressed", i, i))
	}
	var cells []string
	for i := range 20 {
		cells = append(cells, fmt.Sprintf("k%d: cells { %s }", i, strings.Join(leaves, " ")))
	}
	var allowed []string
	for i := range 20 {
		allowed = append(allowed, fmt.Sprintf("a%d: allowed", i))
	}
	for _, c := range []struct {
		name, query string
		role        viewer.Role
		cost        int
	}{
		{"caseStatistics", `{ caseStatistics(groupBy: [REGION, STAGE, LEAD_AGENCY_KIND, OPEN, EXPLOITATION], period: MONTH) { ` +
			strings.Join(cells, " ") + ` } }`, viewer.RoleCoordinator, 1_000},
		{"accessMatrix", `{ accessMatrix { k0: cells { ` + strings.Join(allowed, " ") + ` } k1: cells { ` + strings.Join(allowed, " ") + ` } } }`,
			viewer.RoleDPO, 5_000},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := srv.Token(t, "onac", c.role)
			var res *testserver.Response
			var elapsed time.Duration
			extraHeap := peakHeapGrowth(func() { res, elapsed = send(t, srv, token, attack{query: c.query}) })
			// Stopped by its deadline is not stopped: that is the
			// work the price did not pay for.
			if elapsed > maxServerTime || extraHeap > maxExtraHeap {
				t.Errorf("took %v and %d MB, over %v and %d MB: %.300s", elapsed, extraHeap>>20, maxServerTime, maxExtraHeap>>20, res.Body)
			}
			for _, code := range res.Codes() {
				if code == "TOO_COMPLEX" {
					t.Logf("refused: %.300s", res.Body)
					return
				}
			}
			fields := countLeaves(t, res.Data)
			t.Logf("%v, heap +%d MB, status %d, %d bytes, %d leaf fields", elapsed.Round(time.Millisecond), extraHeap>>20, res.Status, len(res.Body), fields)
			if budget := 2*c.cost + 1_000; fields > budget {
				t.Errorf("an operation of cost %d resolved %d fields, past its budget of %d, with no TOO_COMPLEX", c.cost, fields, budget)
			}
		})
	}
}

// countLeaves counts the scalar values of an answer's data.
func countLeaves(t *testing.T, data json.RawMessage) int {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any) int
	walk = func(v any) int {
		switch v := v.(type) {
		case map[string]any:
			n := 0
			for _, e := range v {
				n += walk(e)
			}
			return n
		case []any:
			n := 0
			for _, e := range v {
				n += walk(e)
			}
			return n
		}
		return 1
	}
	return walk(v)
}
