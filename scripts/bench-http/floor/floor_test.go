package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestFloorAnswersAsCaseGraphDoes: the floor, in both shapes, measures the least work for
// the benchmark's allowed page only while it answers what CaseGraph
// answers, so its answer, decoded, must equal CaseGraph's for the same
// principal on the same data, and its audit trail must hold one event a
// page, chained, with a record for each legalName it showed. A rule that
// changes in CaseGraph's policy and not in the floor's statement fails
// here.
func TestFloorAnswersAsCaseGraphDoes(t *testing.T) {
	db := testdb.Postgres(t)
	testdb.Demo(t, db, 1)
	s := testserver.Start(t, db)
	query, err := os.ReadFile("../dashboard.graphql")
	if err != nil {
		t.Fatal(err)
	}
	token := s.Token(t, "prosecution-tirane", viewer.Role("prosecutor"))
	want := caseGraphsPage(t, s, token, query)
	_, shown := victimsShown(want)
	if shown == 0 {
		t.Fatal("CaseGraph shows no legalName on the page: the floor would measure no audit write")
	}
	ctx := context.Background()
	// Every record of the floor's trail, in whichever shape the trail
	// holds them: a row each, or an event's array.
	records := func() (n int) {
		if err := db.SQL.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM bench_floor_event_records)
			+ (SELECT coalesce(sum(cardinality(records)), 0) FROM bench_floor_events)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	type floorKind struct {
		shape Shape
		trail Trail
	}
	floors := map[floorKind]string{}
	for _, kind := range []floorKind{{"json", "records"}, {"rows", "records"}, {"rows", "array"}} {
		// Each start makes the audit tables anew: the trail is this floor's.
		f, err := New(ctx, db.SQL, "prosecution-tirane", "bench", kind.shape, kind.trail)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(f.Close)
		floor := httptest.NewServer(f)
		t.Cleanup(floor.Close)
		floors[kind] = floor.URL
		for page := 1; page <= 2; page++ {
			wantSamePage(t, kind.shape, want, askFloor(t, floor.URL, query))
		}
		var events, chained int
		if err := db.SQL.QueryRowContext(ctx, `SELECT
			  (SELECT count(*) FROM bench_floor_events),
			  (SELECT count(*) FROM bench_floor_events e JOIN bench_floor_events n ON n.id = e.id + 1 AND n.prev_hash = e.hash)`).
			Scan(&events, &chained); err != nil {
			t.Fatal(err)
		}
		if recorded := records(); events != 2 || recorded != 2*shown || chained != 1 {
			t.Fatalf("%v: the floor's audit trail after two pages of %d legalNames: %d events, %d records, %d links of the chain; want 2, %d, 1",
				kind, shown, events, recorded, chained, 2*shown)
		}
	}

	// The demo's office prosecutes every case it leads, so every legalName
	// of its page is allowed: the statement's decision is seen to refuse
	// only once cases it leads are prosecuted by another office (the first
	// two moved below), and to allow through an assignment to prosecute
	// alone (the third keeps its assignment).
	if _, err := db.SQL.ExecContext(ctx, `
		CREATE TEMPORARY TABLE moved AS SELECT c.id, row_number() OVER (ORDER BY c.id) AS n
		  FROM case_files c JOIN agencies a ON a.id = c.lead_agency_id
		  WHERE a.code = 'prosecution-tirane' AND EXISTS (SELECT 1 FROM case_victims cv WHERE cv.case_id = c.id)
		  ORDER BY c.id LIMIT 3;
		DELETE FROM case_assignments WHERE case_id IN (SELECT id FROM moved WHERE n <= 2) AND part = 'PROSECUTING';
		UPDATE prosecutions SET office_id =
		  (SELECT id FROM agencies WHERE kind = 'PROSECUTION_OFFICE' AND code <> 'prosecution-tirane' ORDER BY id LIMIT 1)
		WHERE case_id IN (SELECT id FROM moved)`); err != nil {
		t.Fatal(err)
	}
	want = caseGraphsPage(t, s, token, query)
	victims, named := victimsShown(want)
	if named == victims {
		t.Fatal("no legalName refused after the proceedings moved: the fixture no longer tests the floor's decision")
	}
	for kind, url := range floors {
		before := records()
		wantSamePage(t, kind.shape, want, askFloor(t, url, query))
		if recorded := records() - before; recorded != named {
			t.Errorf("%v: %d records of a page that shows %d of its %d victims' legalName", kind, recorded, named, victims)
		}
	}
}

// caseGraphsPage asks CaseGraph for the page; a legalName it refuses
// comes as null with a FORBIDDEN error, which the floor does not write.
func caseGraphsPage(t *testing.T, s *testserver.Server, token string, query []byte) any {
	t.Helper()
	r := s.Ask(t, token, string(query), nil)
	for _, e := range r.Errors {
		if e.Code() != "FORBIDDEN" {
			t.Fatalf("CaseGraph's answer has an error other than a refusal:\n%s", r.Body)
		}
	}
	var page any
	if err := json.Unmarshal(r.Data, &page); err != nil {
		t.Fatal(err)
	}
	return page
}

func wantSamePage(t *testing.T, shape Shape, want, got any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		a, _ := json.MarshalIndent(want, "", " ")
		b, _ := json.MarshalIndent(got, "", " ")
		t.Fatalf("the floor's page (%s) differs from CaseGraph's\nCaseGraph:\n%s\nfloor:\n%s", shape, a, b)
	}
}

// TestFloorRefusesAnotherKindOfAgency: its statement decides as a
// district prosecution office only.
func TestFloorRefusesAnotherKindOfAgency(t *testing.T) {
	db := testdb.Postgres(t)
	testdb.Demo(t, db, 1)
	if _, err := New(context.Background(), db.SQL, "prosecution-general", "bench", "rows", "records"); err == nil {
		t.Fatal("the floor took the General Prosecution Office, whose rules its statement does not write")
	}
}

func askFloor(t *testing.T, url string, query []byte) any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": string(query)})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the floor answered %s: %s", resp.Status, raw)
	}
	var answer struct{ Data any }
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatalf("the floor's answer is not JSON: %v\n%s", err, raw)
	}
	return answer.Data
}

// victimsShown counts the victims the page shows, and those of them
// whose legalName it shows (a victim of two cases of the page once: one
// record an event a victim).
func victimsShown(data any) (victims, legalNames int) {
	seen := map[any]bool{}
	named := map[any]bool{}
	for _, c := range dig(data, "cases", "edges") {
		for _, v := range dig(c, "node", "victims", "edges") {
			pseudonym := dig1(v, "node", "pseudonym")
			seen[pseudonym] = true
			if name, _ := dig1(v, "node", "legalName").(string); name != "" {
				named[pseudonym] = true
			}
		}
	}
	return len(seen), len(named)
}

func dig(v any, path ...string) []any {
	list, _ := dig1(v, path...).([]any)
	return list
}

func dig1(v any, path ...string) any {
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// TestFloorClosedAnswersAtOnce: a page asked once the floor is closing
// gets an error, not a wait for a writer that has gone (it waited
// forever: its event sat in the queue nobody read).
func TestFloorClosedAnswersAtOnce(t *testing.T) {
	db := testdb.Postgres(t)
	testdb.Demo(t, db, 1)
	query, err := os.ReadFile("../dashboard.graphql")
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(context.Background(), db.SQL, "prosecution-tirane", "bench", "rows", "records")
	if err != nil {
		t.Fatal(err)
	}
	floor := httptest.NewServer(f)
	// httptest's Close waits for every handler: after a failure here one
	// may wait forever, and the test would hang instead of failing.
	t.Cleanup(func() {
		if !t.Failed() {
			floor.Close()
		}
	})
	askFloor(t, floor.URL, query) // its trail is written while open
	f.Close()
	body, _ := json.Marshal(map[string]string{"query": string(query)})
	// The client's timeout only stops a hang from holding the test for
	// the whole run; the assertion is on the answer.
	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Post(floor.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("a page asked of a closed floor got no answer: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusInternalServerError || !bytes.Contains(raw, []byte(errClosed.Error())) {
		t.Fatalf("a page asked of a closed floor: %s %s; want 500 saying %q", resp.Status, raw, errClosed)
	}
}
