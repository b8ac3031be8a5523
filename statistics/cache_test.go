package statistics_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/statistics"
	"github.com/casegraph/casegraph/viewer"
)

// TestCacheAcrossRequests: on PostgreSQL, a server with a statistics.Cache
// answers a national principal's repeated statistics without a statistics
// statement, answers a regional principal (whose rows are narrowed) afresh
// every time, and after a change committed to a counted table, through
// any connection, both servers on the database answer with the change.
func TestCacheAcrossRequests(t *testing.T) {
	db := testdb.Postgres(t)
	seed(t, db)
	counted, statements := testdb.CountingByKind(db)
	start := func(d *database.DB) *testserver.Server { return cachedServer(t, d, followingCache(t, db)) }
	a, b := start(counted), start(db)
	// By the lead agency's kind too, so that the cases' statement needs
	// the agency registry (withAgencies).
	byRegion := request{groupBy: []string{"REGION", "LEAD_AGENCY_KIND"}}
	// regions asks s as p for cases by region (summed over the agencies'
	// kinds), and counts the statements the request sent outside the
	// audit trail's transaction (server a's only): the statistics' own.
	regions := func(s *testserver.Server, p testserver.Principal) (map[string]int, int64) {
		outside := func() int64 { return statements.All.Load() - statements.InTx.Load() }
		before := outside()
		got := ask(t, s, p, caseQuery, byRegion)
		out := map[string]int{}
		for _, c := range got.Cells {
			out[c.Values[0]] += *c.Count
		}
		return out, outside() - before
	}
	truth := func() map[string]int {
		out := map[string]int{}
		for _, r := range caseRows(t, db.Client) {
			out[r.values["REGION"]]++
		}
		return out
	}
	same := func(x, y map[string]int) bool {
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if y[k] != v {
				return false
			}
		}
		return true
	}

	national, regional := a.As(t, "onac", viewer.RoleCoordinator), a.As(t, "police-tirane", viewer.RoleInvestigator)
	// What a server reads once for each caller (the agency of a token) is
	// not what is measured.
	for _, p := range []testserver.Principal{national, regional} {
		a.Do(t, p.Token, `{ viewer { subject } }`, nil).MustOK(t)
	}
	first, cold := regions(a, national)
	again, warm := regions(a, national)
	if !same(first, truth()) || !same(again, first) {
		t.Fatalf("national cases by region: %v then %v, want %v", first, again, truth())
	}
	// The first sends the cases' statement and reads the agency registry;
	// the second sends neither.
	if cold != 2 || warm != 0 {
		t.Errorf("national requests sent %d, then %d statements: want 2 (the cases' statement, the agency registry), then none", cold, warm)
	}
	// Every agency is every caller's to see: the registry is shared; the
	// regional principal's cases are its own, read every time.
	_, r1 := regions(a, regional)
	_, r2 := regions(a, regional)
	if r1 != 1 || r2 != 1 {
		t.Errorf("a regional principal's requests sent %d, then %d statements: want 1 each time (its rows are its own)", r1, r2)
	}
	// Server b keeps its own copy.
	if got, _ := regions(b, b.As(t, "onac", viewer.RoleCoordinator)); !same(got, truth()) {
		t.Fatalf("server b: %v, want %v", got, truth())
	}

	// A change committed outside any server: one case moves to KUKES.
	if _, err := db.SQL.Exec(`UPDATE case_files SET region = 'KUKES' WHERE id = (SELECT min(id) FROM case_files WHERE region = 'TIRANE')`); err != nil {
		t.Fatal(err)
	}
	want := truth()
	for name, s := range map[string]*testserver.Server{"a": a, "b": b} {
		p := s.As(t, "onac", viewer.RoleCoordinator)
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, _ := regions(s, p)
			if same(got, want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server %s still answers %v after the change, want %v", name, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestCacheForgetsByTable: a change forgets only what was read from the
// table changed. After a statement on victims, a national request for
// victims and cases reads the victims again and nothing else; after one
// on agencies, it reads the cases (named by their agencies' kinds) and the
// agency registry, not the victims.
func TestCacheForgetsByTable(t *testing.T) {
	// What a change made stale is not read again in the background while
	// this test counts (TestCacheKeptFreshOverHTTP has that).
	defer statistics.SetRefreshAfter(time.Hour)()
	db := testdb.Postgres(t)
	seed(t, db)
	counted, statements := testdb.CountingByKind(db)
	cache := followingCache(t, db)
	s := cachedServer(t, counted, cache)
	p := s.As(t, "onac", viewer.RoleCoordinator)
	// Cases by their lead agencies' kinds: the cases' statement and the
	// agency registry.
	const both = `{ v: victimStatistics { total { count } } c: caseStatistics(groupBy: [LEAD_AGENCY_KIND]) { total { count } } }`
	// read sends both and returns the statements sent outside the audit
	// trail's transaction: the statistics' own.
	read := func() int64 {
		before := statements.All.Load() - statements.InTx.Load()
		s.Do(t, p.Token, both, nil).MustOK(t)
		return statements.All.Load() - statements.InTx.Load() - before
	}
	// change runs a statement on table that changes nothing (a statement
	// trigger notifies all the same) and waits until the cache heard it.
	change := func(table string) {
		heard := cache.Stats().Heard
		if _, err := db.SQL.Exec(`UPDATE ` + table + ` SET id = id WHERE false`); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); cache.Stats().Heard == heard; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the cache did not hear of a statement on %s", table)
			}
		}
	}
	s.Do(t, p.Token, `{ viewer { subject } }`, nil).MustOK(t) // the caller's agency, read once
	// The editions of the closed years are taken by another server: this
	// one reads them.
	other := testserver.Start(t, db)
	other.Do(t, other.As(t, "onac", viewer.RoleCoordinator).Token, both, nil).MustOK(t)
	if n := read(); n != 3 {
		t.Fatalf("the first request sent %d statistics statements, want 3 (the editions of victims, cases, agencies)", n)
	}
	before := metrics(t, s.URL)
	if n := read(); n != 0 {
		t.Fatalf("the repeated request sent %d statements, want none", n)
	}
	// /metrics shows it: the repeated request's reads were hits, none a
	// miss, and the cache listens.
	after := metrics(t, s.URL)
	if after["casegraph_statistics_cache_hits_total"] <= before["casegraph_statistics_cache_hits_total"] ||
		after["casegraph_statistics_cache_misses_total"] != before["casegraph_statistics_cache_misses_total"] ||
		after["casegraph_statistics_cache_listening"] != 1 || after["casegraph_statistics_cache_answer_cells"] == 0 {
		t.Errorf("/metrics before and after a request answered from the cache:\n%v\n%v", before, after)
	}
	change("victims")
	if n := read(); n != 0 {
		t.Errorf("after a change to victims the request sent %d statements, want none (victims are the editions')", n)
	}
	change("agencies")
	if n := read(); n != 2 {
		t.Errorf("after a change to agencies the request sent %d statements, want 2 (cases and the registry)", n)
	}
	if got := metrics(t, s.URL)["casegraph_statistics_cache_notifications_total"]; got != float64(cache.Stats().Heard) || got < 2 {
		t.Errorf("casegraph_statistics_cache_notifications_total = %v, the cache heard %d", got, cache.Stats().Heard)
	}
}

// metrics reads the casegraph_statistics_cache_* figures of base's /metrics.
func metrics(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(body), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(name, "casegraph_statistics_cache_") {
			continue
		}
		if out[name], err = strconv.ParseFloat(value, 64); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	return out
}

// TestCacheKeptFreshOverHTTP: after a change to cases, a national
// dashboard's cells are read again in the background, so that its next
// request (after the read) sends no statistics statement and answers as a
// server without a cache does.
func TestCacheKeptFreshOverHTTP(t *testing.T) {
	defer statistics.SetRefreshAfter(20 * time.Millisecond)()
	db := testdb.Postgres(t)
	seed(t, db)
	counted, statements := testdb.CountingByKind(db)
	cache := followingCache(t, db)
	s := cachedServer(t, counted, cache)
	fresh := testserver.Start(t, db) // reads every time
	const byMonth = `{ caseStatistics(period: MONTH) { total { count } cells { period count } } }`
	answer := func(s *testserver.Server) (string, int64) {
		before := statements.All.Load() - statements.InTx.Load()
		body := string(s.Do(t, s.As(t, "onac", viewer.RoleCoordinator).Token, byMonth, nil).MustOK(t).Body)
		return body, statements.All.Load() - statements.InTx.Load() - before
	}
	answer(s)
	refreshed := cache.Stats().Refreshes
	// The earliest case is opened a year earlier: a month's count changes.
	if _, err := db.SQL.Exec(`UPDATE case_files SET opened_at = opened_at - interval '365 days' WHERE id = (SELECT min(id) FROM case_files)`); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); cache.Stats().Refreshes == refreshed; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the cases' cells were not read again after the change")
		}
	}
	if m := metrics(t, s.URL)["casegraph_statistics_cache_refreshes_total"]; m != float64(cache.Stats().Refreshes) {
		t.Errorf("casegraph_statistics_cache_refreshes_total = %v, the cache counts %d", m, cache.Stats().Refreshes)
	}
	got, sent := answer(s)
	want, _ := answer(fresh)
	if sent != 0 || got != want {
		t.Errorf("after the background read the request sent %d statistics statements (want 0) and answered\n%s\nwhere a server without a cache answers\n%s", sent, got, want)
	}
}

// followingCache returns a statistics cache that listens to db until tb
// ends, as `casegraph serve` makes one on PostgreSQL.
func followingCache(tb testing.TB, db *database.DB) *statistics.Cache {
	tb.Helper()
	cache := statistics.NewCache()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	if err := cache.Follow(ctx, db.DSN(), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		tb.Fatal(err)
	}
	return cache
}

// cachedServer starts a server over db that keeps statistics in cache.
func cachedServer(tb testing.TB, db *database.DB, cache *statistics.Cache) *testserver.Server {
	tb.Helper()
	return testserver.Start(tb, db, testserver.Options{Config: server.Config{StatisticsCache: cache}})
}
