package graph_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
)

// feedEntry is a timeline entry as the tests of the feed read it.
type feedEntry struct{ ID, Kind, Summary, CreatedAt string }

// feedPage is one page of caseEvents.
type feedPage struct {
	Entries   []feedEntry
	EndCursor *string
	HasNext   bool
	Total     int
}

const feedPull = `query ($after: Cursor, $n: Int) {
  caseEvents(first: $n, after: $after, orderBy: [{field: COMMIT_ORDER}]) {
    totalCount
    edges { cursor node { id kind summary createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`

// pullFeed asks one page of the feed after the cursor after (nil: from the
// start).
func pullFeed(t *testing.T, s *testserver.Server, token string, after *string, n int) feedPage {
	t.Helper()
	vars := map[string]any{"n": n}
	if after != nil {
		vars["after"] = *after
	}
	var data struct {
		CaseEvents struct {
			TotalCount int
			Edges      []struct {
				Cursor string
				Node   feedEntry
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
	}
	s.Do(t, token, feedPull, vars).MustOK(t).Decode(t, &data)
	p := feedPage{EndCursor: data.CaseEvents.PageInfo.EndCursor, HasNext: data.CaseEvents.PageInfo.HasNextPage, Total: data.CaseEvents.TotalCount}
	for _, e := range data.CaseEvents.Edges {
		p.Entries = append(p.Entries, e.Node)
	}
	return p
}

// eventually retries cond until it holds or a time has passed: on
// PostgreSQL the feed waits for every write transaction of the server
// older than an entry, and other tests' (other databases of the same
// server) may be open for a moment.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCommitOrderWaitsForAnEarlierWrite: the race of
// TestChangedSinceWithTheOverlap, on the timeline. A transaction writes
// an entry (through the column's default, as every writer does) and stays
// open; a case opened meanwhile over HTTP commits a later entry. A pull by
// createdAt sees the later entry, and a client that then asks strictly
// after its stamp never sees the earlier one, committed after: the race is
// real. A pull in COMMIT_ORDER does not show the later entry while the
// earlier transaction is open, and once it commits, shows both, the
// earlier first, after the cursor the client already held. On PostgreSQL
// (SQLite's writers take the write lock at BEGIN: the HTTP write would
// wait for the open transaction).
func TestCommitOrderWaitsForAnEarlierWrite(t *testing.T) {
	db := testdb.Postgres(t)
	s, tok := withCases(t, db, "TIR-FEED-0")
	ctx := context.Background()

	// The client has pulled everything there is: the case's opening.
	var held *string
	var opened feedEntry
	eventually(t, "the case's opening never reached the feed", func() bool {
		p := pullFeed(t, s, tok, nil, 10)
		held = p.EndCursor
		if len(p.Entries) == 1 {
			opened = p.Entries[0]
		}
		return len(p.Entries) == 1
	})
	var caseID, agencyID int
	if err := db.SQL.QueryRowContext(ctx, `SELECT case_id, actor_agency_id FROM case_events`).Scan(&caseID, &agencyID); err != nil {
		t.Fatal(err)
	}

	// An earlier write, stamped now, its transaction left open.
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	stamped := time.Now().UTC()
	var earlierID int
	var txid, ownTxid int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO case_events
  (created_at, updated_at, kind, at, actor_subject, summary, case_id, actor_agency_id)
  VALUES ($1, $1, 'CASE_UPDATED', $1, 'test', 'The earlier write.', $2, $3) RETURNING id, commit_txid`,
		stamped, caseID, agencyID).Scan(&earlierID, &txid); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&ownTxid); err != nil {
		t.Fatal(err)
	}
	if txid != ownTxid {
		t.Fatalf("the column's default gave the entry %d, its transaction is %d", txid, ownTxid)
	}

	// A later write commits: a case opened over HTTP.
	s.Do(t, tok, openCaseDoc, map[string]any{"in": faultCaseInput("TIR-FEED-1", agencyGlobalID(t, db, "police-tirane"))}).MustOK(t)

	// A client pulling by createdAt, strictly after the stamp of the
	// last entry it holds, sees the later entry and moves its watermark
	// to its stamp.
	const byStamp = `query ($since: Time!) { caseEvents(first: 100, where: {createdAtGT: $since}, orderBy: [{field: CREATED_AT}]) {
  edges { node { id kind summary createdAt } } } }`
	stampPull := func(since string) []feedEntry {
		var data struct {
			CaseEvents struct{ Edges []struct{ Node feedEntry } }
		}
		s.Do(t, tok, byStamp, map[string]any{"since": since}).MustOK(t).Decode(t, &data)
		var out []feedEntry
		for _, e := range data.CaseEvents.Edges {
			out = append(out, e.Node)
		}
		return out
	}
	before := stampPull(opened.CreatedAt)
	if len(before) != 1 || before[0].Kind != "CASE_OPENED" {
		t.Fatalf("by createdAt, while the earlier write is open: %v, want the later case's opening alone", before)
	}
	later, watermark := before[0], before[0].CreatedAt

	// In commit order, the later entry waits for the earlier write. The
	// client keeps the end of every page it gets, as a mirror does.
	p := pullFeed(t, s, tok, held, 10)
	if len(p.Entries) != 0 {
		t.Errorf("in COMMIT_ORDER after the held cursor, while an earlier write is open: %v, want nothing yet", p.Entries)
	}
	if p.EndCursor != nil {
		held = p.EndCursor
	}
	// Backwards, the latest page holds it back too.
	var latest struct {
		CaseEvents struct{ Edges []struct{ Node feedEntry } }
	}
	s.Do(t, tok, `{ caseEvents(last: 10, orderBy: [{field: COMMIT_ORDER}]) { edges { node { id kind summary createdAt } } } }`, nil).MustOK(t).Decode(t, &latest)
	if e := latest.CaseEvents.Edges; len(e) != 1 || e[0].Node.ID != opened.ID {
		t.Errorf("the last page in COMMIT_ORDER, while an earlier write is open: %v, want the first case's opening %s alone", e, opened.ID)
	}
	if p.Total != 1 {
		t.Errorf("totalCount in COMMIT_ORDER while an earlier write is open = %d, want 1 (the first case's opening)", p.Total)
	}

	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var got []feedEntry
	eventually(t, "the feed never showed the two entries after the cursor held", func() bool {
		got = pullFeed(t, s, tok, held, 10).Entries
		return len(got) >= 2
	})
	if want := []string{testserver.GlobalID(earlierID), later.ID}; len(got) != 2 || got[0].ID != want[0] || got[1].ID != want[1] {
		t.Errorf("in COMMIT_ORDER after the held cursor: %v, want the earlier write %s, then the later %s", got, want[0], want[1])
	}
	if lost := stampPull(watermark); slices.ContainsFunc(lost, func(e feedEntry) bool { return e.ID == testserver.GlobalID(earlierID) }) {
		t.Errorf("by createdAt strictly after the later entry's stamp %s, the earlier write %s came: the test does not exercise the race", watermark, stamped)
	}
}

// TestCommitOrderPagesEveryEntryOnce: a client pages the whole timeline
// in COMMIT_ORDER, a few entries a page, while writers update cases and
// register victims into them over HTTP; once they have stopped and the
// feed has caught up, it holds every entry exactly once.
func TestCommitOrderPagesEveryEntryOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		const writers, rounds = 6, 8
		refs := make([]string, writers)
		for w := range refs {
			refs[w] = fmt.Sprintf("TIR-FEED-%d", w)
		}
		s, tok := withCases(t, db, refs...)
		var cases struct {
			Cases struct {
				Edges []struct {
					Node struct {
						ID      string
						Version int
					}
				}
			}
		}
		s.Do(t, tok, `{ cases(first: 50) { edges { node { id version } } } }`, nil).MustOK(t).Decode(t, &cases)
		if len(cases.Cases.Edges) != writers {
			t.Fatalf("%d cases", len(cases.Cases.Edges))
		}

		var wg sync.WaitGroup
		done := make(chan struct{})
		for w, c := range cases.Cases.Edges {
			wg.Add(1)
			go func() {
				defer wg.Done()
				version := c.Node.Version
				for i := range rounds {
					r := s.Do(t, tok, `mutation ($id: ID!, $v: Int!, $title: String!) { updateCase(id: $id, expectedVersion: $v, input: {title: $title}) { version } }`,
						map[string]any{"id": c.Node.ID, "v": version, "title": fmt.Sprintf("Round %d", i)})
					var updated struct{ UpdateCase *struct{ Version int } }
					if r.Status != 200 || len(r.Errors) > 0 || json.Unmarshal(r.Data, &updated) != nil || updated.UpdateCase == nil {
						t.Errorf("updateCase: %s", r.Body)
						return
					}
					version = updated.UpdateCase.Version
					r = s.Do(t, tok, `mutation ($in: CreateVictimInput!, $cases: [ID!]) { registerVictim(input: $in, caseIDs: $cases) { id } }`,
						map[string]any{"cases": []string{c.Node.ID}, "in": map[string]any{
							"pseudonym": fmt.Sprintf("V-2026-%02d%02d", w, i), "sex": "FEMALE", "ageGroup": "ADULT",
							"identificationStatus": "POTENTIAL_VICTIM", "identifiedBy": "STATE_POLICE",
							"identifiedAt": "2026-02-15T10:00:00Z", "region": "TIRANE",
						}})
					if r.Status != 200 || len(r.Errors) > 0 {
						t.Errorf("registerVictim: %s", r.Body)
						return
					}
				}
			}()
		}
		go func() { wg.Wait(); close(done) }()

		seen := map[string]int{}
		var order []string
		var cursor *string
		pull := func() feedPage {
			p := pullFeed(t, s, tok, cursor, 5)
			for _, e := range p.Entries {
				seen[e.ID]++
				order = append(order, e.ID)
			}
			if p.EndCursor != nil {
				cursor = p.EndCursor
			}
			return p
		}
		for writing := true; writing; {
			select {
			case <-done:
				writing = false
			default:
				if p := pull(); len(p.Entries) == 0 {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}
		if t.Failed() {
			return
		}

		// Every entry there is, by id (no horizon), once the writers are done.
		all := map[string]bool{}
		var after *string
		for {
			var data struct {
				CaseEvents struct {
					Edges    []struct{ Node struct{ ID string } }
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
			s.Do(t, tok, `query ($after: Cursor) { caseEvents(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
				map[string]any{"after": after}).MustOK(t).Decode(t, &data)
			for _, e := range data.CaseEvents.Edges {
				all[e.Node.ID] = true
			}
			if !data.CaseEvents.PageInfo.HasNextPage {
				break
			}
			after = data.CaseEvents.PageInfo.EndCursor
		}
		if want := writers * (1 + 2*rounds); len(all) < want {
			t.Fatalf("%d entries in the timeline, want at least %d", len(all), want)
		}
		eventually(t, fmt.Sprintf("the feed holds %d of the %d entries", len(seen), len(all)), func() bool {
			for p := pull(); p.HasNext; p = pull() {
			}
			return len(seen) >= len(all)
		})
		if db.Dialect != dialect.Postgres {
			// The id is the order on SQLite because every entry's
			// commit_txid is 0, whatever wrote it (pastCommitOrderCursor).
			var other int
			if err := db.SQL.QueryRowContext(context.Background(), `SELECT count(*) FROM case_events WHERE commit_txid <> 0`).Scan(&other); err != nil || other != 0 {
				t.Errorf("%d entries with a commit_txid other than 0 on SQLite (%v)", other, err)
			}
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("entry %s came %d times", id, n)
			}
			if !all[id] {
				t.Errorf("entry %s came, but is not in the timeline", id)
			}
		}
		for id := range all {
			if seen[id] == 0 {
				t.Errorf("entry %s never came: a page passed it before its transaction committed", id)
			}
		}
		// Backwards, last/before, the same entries in the reverse order.
		var back []string
		var before *string
		for {
			var data struct {
				CaseEvents struct {
					Edges    []struct{ Node struct{ ID string } }
					PageInfo struct {
						HasPreviousPage bool
						StartCursor     *string
					}
				}
			}
			s.Do(t, tok, `query ($before: Cursor) { caseEvents(last: 7, before: $before, orderBy: [{field: COMMIT_ORDER}]) {
  edges { node { id } } pageInfo { hasPreviousPage startCursor } } }`, map[string]any{"before": before}).MustOK(t).Decode(t, &data)
			for i := len(data.CaseEvents.Edges) - 1; i >= 0; i-- {
				back = append(back, data.CaseEvents.Edges[i].Node.ID)
			}
			if !data.CaseEvents.PageInfo.HasPreviousPage {
				break
			}
			before = data.CaseEvents.PageInfo.StartCursor
		}
		slices.Reverse(back)
		if !slices.Equal(back, order) {
			t.Errorf("backwards in COMMIT_ORDER: %d entries %v\nforwards: %d %v", len(back), back, len(order), order)
		}
		t.Logf("%s: %d entries pulled, %d different", db.Dialect, len(order), len(seen))
	})
}

// TestCommitOrderRefusedWhereItCannotHold: COMMIT_ORDER orders the root
// caseEvents alone and ascending (graph/commit_order.go says why); any
// other use is BAD_USER_INPUT on the ordering, before anything runs, and a
// cursor of the feed pages nothing else.
func TestCommitOrderRefusedWhereItCannotHold(t *testing.T) {
	db := testdb.SQLite(t)
	s, tok := withCases(t, db, "TIR-FEED-0")
	var caseID string
	var first struct {
		Cases struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	s.Do(t, tok, `{ cases(first: 1) { edges { node { id } } } }`, nil).MustOK(t).Decode(t, &first)
	caseID = first.Cases.Edges[0].Node.ID
	feed := pullFeed(t, s, tok, nil, 10)
	if len(feed.Entries) != 1 || feed.EndCursor == nil {
		t.Fatalf("the feed: %+v", feed)
	}
	for _, c := range []struct {
		query string
		vars  map[string]any
		field string
	}{
		{`{ caseEvents(orderBy: [{field: COMMIT_ORDER, direction: DESC}]) { edges { node { id } } } }`, nil, "caseEvents.orderBy"},
		{`query ($o: [CaseEventOrder!]) { caseEvents(orderBy: $o) { totalCount } }`,
			map[string]any{"o": map[string]any{"field": "COMMIT_ORDER", "direction": "DESC"}}, "caseEvents.orderBy"},
		{`{ caseEvents(orderBy: [{field: KIND}, {field: COMMIT_ORDER}]) { edges { node { id } } } }`, nil, "caseEvents.orderBy"},
		{`{ caseEvents(orderBy: [{field: COMMIT_ORDER}, {field: KIND}]) { edges { node { id } } } }`, nil, "caseEvents.orderBy"},
		{`query ($id: ID!) { node(id: $id) { ... on Case { events(orderBy: [{field: COMMIT_ORDER}]) { edges { node { id } } } } } }`,
			map[string]any{"id": caseID}, "events.orderBy"},
		{`{ cases { edges { node { events(orderBy: {field: COMMIT_ORDER}) { totalCount } } } } }`, nil, "events.orderBy"},
		{`query ($c: Cursor) { caseEvents(after: $c, orderBy: [{field: CREATED_AT}]) { edges { node { id } } } }`,
			map[string]any{"c": *feed.EndCursor}, "caseEvents.after"},
	} {
		testserver.WantRefusal(t, s.Do(t, tok, c.query, c.vars), testserver.Want{Code: "BAD_USER_INPUT", Field: c.field})
	}
}

// TestCommitOrderCostsNoStatement: the horizon is a condition of the
// page's own statements: a page in COMMIT_ORDER, with its totalCount, sends
// as many statements as the same page by createdAt (docs/mutations.md
// states the number), and writes no audit event.
func TestCommitOrderCostsNoStatement(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		counted, n := testdb.CountingByKind(db)
		s := testserver.Start(t, counted)
		tok := s.Token(t, "police-tirane", "investigator")
		lead := agencyGlobalID(t, db, "police-tirane")
		for i := range 3 {
			s.Do(t, tok, openCaseDoc, map[string]any{"in": faultCaseInput(fmt.Sprintf("TIR-FEED-%d", i), lead)}).MustOK(t)
		}
		audited := len(testdb.AuditTrail(t, db))
		page := func(order string) int64 {
			n.Reset()
			s.Do(t, tok, `{ caseEvents(first: 2, orderBy: [{field: `+order+`}]) { totalCount edges { cursor node { id kind } } pageInfo { hasNextPage endCursor } } }`, nil).MustOK(t)
			return n.All.Load()
		}
		byStamp, inCommitOrder := page("CREATED_AT"), page("COMMIT_ORDER")
		t.Logf("%s: %d statements a page in COMMIT_ORDER with totalCount, %d by CREATED_AT", db.Dialect, inCommitOrder, byStamp)
		if inCommitOrder != byStamp || inCommitOrder != 2 {
			t.Errorf("a page in COMMIT_ORDER with totalCount sent %d statements, by CREATED_AT %d; want 2 each (the count and the page)", inCommitOrder, byStamp)
		}
		if after := len(testdb.AuditTrail(t, db)); after != audited {
			t.Errorf("the pages wrote %d audit events", after-audited)
		}
	})
}

// TestCommitOrderIsNotHeldByAnotherDatabase: a write transaction left open
// in another database of the same PostgreSQL server (another tenant, a
// demo load, a test) writes nothing into this one, so the feed does not
// wait for it: the case opened meanwhile is in the next pull. Until
// 2026-12-07 (nineteenth session) the horizon was the snapshot's xmin, the
// whole server's, and such a transaction held the feed for as long as it
// ran (CI's commit-order tests waited on other packages' demo loads).
func TestCommitOrderIsNotHeldByAnotherDatabase(t *testing.T) {
	other, err := sql.Open("postgres", testdb.CreatePostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	tx, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	var xid int64
	if err := tx.QueryRowContext(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&xid); err != nil {
		t.Fatal(err) // the transaction now has an id: it is running
	}

	db := testdb.Postgres(t)
	s, tok := withCases(t, db, "TIR-FEED-OTHER")
	// A moment for the other tests' transactions on the server to end;
	// the one held open above never does.
	eventually(t, fmt.Sprintf("the case's opening never reached the feed while transaction %d of another database was open", xid), func() bool {
		return len(pullFeed(t, s, tok, nil, 10).Entries) == 1
	})
}
