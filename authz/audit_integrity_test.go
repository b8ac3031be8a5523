package authz_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// exchange is one GraphQL request and its response, sent from a goroutine
// (where a test must not stop): failures are returned, not reported.
type exchange struct {
	status    int
	requestID string
	body      []byte
	err       error
}

// eachLegalNameAnswer hands check each answer to a read of a victim's
// legalName, decoded; a request that failed, or an answer that is not
// JSON, is an error of the test and is not checked further.
func eachLegalNameAnswer(t *testing.T, answers []exchange, check func(x exchange, legalName *string, errs []testserver.Error)) {
	t.Helper()
	for _, x := range answers {
		if x.err != nil {
			t.Errorf("request failed: %v", x.err)
			continue
		}
		var r struct {
			Data   struct{ Node struct{ LegalName *string } }
			Errors []testserver.Error
		}
		if err := json.Unmarshal(x.body, &r); err != nil {
			t.Errorf("status %d, response is not JSON: %v\n%s", x.status, err, x.body)
			continue
		}
		check(x, r.Data.Node.LegalName, r.Errors)
	}
}

func postGraphQL(url, token, query string, vars map[string]any) exchange {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return exchange{err: err}
	}
	req, err := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return exchange{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return exchange{err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return exchange{status: res.StatusCode, requestID: res.Header.Get("X-Request-Id"), body: raw, err: err}
}

// TestAuditChainAcrossServers: two servers on one PostgreSQL database
// answer reads of a sensitive field at once, 64 clients in all, each
// server gathering its requests' events into batches (group commit); every
// read is answered, every read is recorded once, and the chain they share
// stays whole: the batches of both interleave under the chain's lock.
func TestAuditChainAcrossServers(t *testing.T) {
	t.Parallel()
	db1 := testdb.Postgres(t)
	e, w1 := startWithWriter(t, db1)
	db2, err := database.OpenPostgres(context.Background(), db1.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db2.Close() })
	w2 := audit.Install(db2.Client, db2.Dialect)
	two := testserver.Start(t, db2, testserver.Options{NoAgencies: true, Config: manyClientsConfig(w2)})
	f := e.f
	before := len(testdb.AuditTrail(t, db1))

	const goroutines, rounds = 32, 2 // per server
	const query = `query ($id: ID!) { node(id: $id) { ... on Victim { legalName } } }`
	vars := map[string]any{"id": gid(f.vT)}
	want := secret(f.pseudonym[f.vT], "legalName")
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		answers []exchange
	)
	for _, s := range []*testserver.Server{e.s, two} {
		token := s.Token(t, "prosecution-tirane", viewer.RoleProsecutor) // each server trusts its own key
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					x := postGraphQL(s.URL, token, query, vars)
					mu.Lock()
					answers = append(answers, x)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()

	requests := map[string]bool{}
	eachLegalNameAnswer(t, answers, func(x exchange, legalName *string, errs []testserver.Error) {
		if x.status != http.StatusOK || len(errs) > 0 || legalName == nil || *legalName != want {
			t.Errorf("want status 200 with legalName %q, got %d:\n%s", want, x.status, x.body)
		}
		if x.requestID == "" || requests[x.requestID] {
			t.Errorf("request id %q is missing or repeated", x.requestID)
		}
		requests[x.requestID] = true
	})
	if t.Failed() {
		return
	}

	events := testdb.AuditTrail(t, db1)
	v, err := audit.Verify(context.Background(), db1.Client)
	if err != nil || !v.Valid || v.Checked != int64(len(events)) {
		t.Errorf("verify = %+v, %v; want valid over %d events", v, err, len(events))
	}
	for i, ev := range events {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: the numbering has a gap or a repeat", i+1, ev.Seq)
		}
	}
	recorded := map[string]int{}
	reads := 0
	for _, ev := range events[before:] {
		if ev.Kind != audit.FieldAccess {
			continue
		}
		reads++
		recorded[ev.RequestID]++
		if ev.EntityID != f.vT || ev.Decision != audit.Allowed || !slices.Equal(ev.Fields, []string{"Victim.legalName"}) {
			t.Errorf("unexpected read event: %s", dump([]audit.Event{ev}))
		}
	}
	if reads != len(answers) {
		t.Errorf("%d FIELD_ACCESS events for %d requests", reads, len(answers))
	}
	s1, s2 := w1.Stats(), w2.Stats()
	if written := s1.Events + s2.Events; written != int64(len(events)-before) {
		t.Errorf("the servers' writers committed %d events, the trail gained %d", written, len(events)-before)
	}
	t.Logf("%d requests, %d + %d audit transactions", len(answers), s1.Batches, s2.Batches)
	for id := range requests {
		if recorded[id] != 1 {
			t.Errorf("request %s has %d read events, want 1", id, recorded[id])
		}
	}
}

// TestVerifyAuditTrailThroughGraphQL: a data protection officer checks the
// chain through the API and sees where it was tampered with; nobody else
// may check it. The national coordinator's DPO, who reads every event,
// anchors any (TestVerifyAuditTrailOneAgency: the others).
func TestVerifyAuditTrailThroughGraphQL(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prosecutor := e.tok(t, "prosecution-tirane", viewer.RoleProsecutor)
		for _, id := range []int{e.f.vT, e.f.vBridge, e.f.vT, e.f.vBridge, e.f.vT} {
			e.do(t, prosecutor, `query ($id: ID!) { node(id: $id) { ... on Victim { legalName } } }`,
				map[string]any{"id": gid(id)}).MustOK(t)
		}
		n := int64(len(testdb.AuditTrail(t, e.db)))
		if n < 5 {
			t.Fatalf("want at least 5 events to tamper with one in the middle, have %d", n)
		}

		const query = `{ verifyAuditTrail { valid checked lastSeq brokenAt problem } }`
		type verification struct {
			Valid    bool
			Checked  int64
			LastSeq  int64
			BrokenAt *int64
			Problem  *string
		}
		dpo := e.tok(t, "onac", viewer.RoleDPO)
		verifyAsDPO := func(t *testing.T) verification {
			t.Helper()
			return decode[struct{ VerifyAuditTrail verification }](t, e.do(t, dpo, query, nil).MustOK(t)).VerifyAuditTrail
		}

		if got := verifyAsDPO(t); !got.Valid || got.Checked != n || got.LastSeq != n || got.BrokenAt != nil || got.Problem != nil {
			t.Errorf("intact chain: %+v, want valid with %d events checked", got, n)
		}
		// An anchor kept from earlier: its own passes; one past the end
		// (a removed tail) or with another hash (a rewritten chain) fails.
		withAnchor := func(t *testing.T, seq int64, hash string) verification {
			t.Helper()
			const q = `query ($a: [AuditAnchor!]) { verifyAuditTrail(anchors: $a) { valid checked lastSeq brokenAt problem } }`
			r := e.do(t, dpo, q, map[string]any{"a": []map[string]any{{"seq": seq, "hash": hash}}}).MustOK(t)
			return decode[struct{ VerifyAuditTrail verification }](t, r).VerifyAuditTrail
		}
		last := testdb.AuditTrail(t, e.db)[n-1].Hash
		if got := withAnchor(t, n, last); !got.Valid {
			t.Errorf("the chain's own anchor: %+v", got)
		}
		// Each verification is recorded, so the chain has grown since n.
		if got := withAnchor(t, n+1000, last); got.Valid || got.LastSeq <= n || deref(got.BrokenAt) != got.LastSeq+1 {
			t.Errorf("an anchor past the end: %+v, want broken just past the chain's end, which has grown past %d with the verifications", got, n)
		}
		if got := withAnchor(t, 2, last); got.Valid || deref(got.BrokenAt) != int64(2) {
			t.Errorf("an anchor with another hash: %+v, want broken at 2", got)
		}
		// The chain's numbers are 64-bit: an anchor past 2^31 is read (and
		// here lies past the end), not refused as an Int of 32 bits.
		if got := withAnchor(t, 3_000_000_000, last); got.Valid || got.Problem == nil || !strings.Contains(*got.Problem, "3000000000") {
			t.Errorf("an anchor numbered past 2^31: %+v, want it read and past the end", got)
		}
		if r := e.do(t, dpo, `{ verifyAuditTrail(anchors: [{seq: 0, hash: "x"}]) { valid } }`, nil); !slices.Equal(r.Codes(), []string{"BAD_USER_INPUT"}) {
			t.Errorf("a malformed anchor: %s", r.Body)
		}

		k := n/2 + 1
		alterEvents(t, e.db, k, k)
		got := verifyAsDPO(t)
		if got.Valid || got.BrokenAt == nil || *got.BrokenAt != k || got.Problem == nil || *got.Problem == "" || got.Checked != k-1 {
			t.Errorf("tampered chain: %+v (brokenAt %v), want invalid, broken at %d, with a problem", got, deref(got.BrokenAt), k)
		}

		investigator := e.tok(t, "police-tirane", viewer.RoleInvestigator)
		wantRefusal(t, e.do(t, investigator, query, nil), "FORBIDDEN", "")
	})
}

// TestVerifyAuditTrailOneAgency: a DPO who reads one agency's events is
// told whether the chain verifies, but no hash it is not shown in the
// trail: not the chain's last, not the one before a mismatched anchor, and
// no yes or no on a hash guessed for another agency's event. A hunt over
// HTTP had such a DPO get any event's hash so, and try a hidden case's id
// against a link's event until it matched.
func TestVerifyAuditTrailOneAgency(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prosecutor := e.tok(t, "prosecution-tirane", viewer.RoleProsecutor)
		e.do(t, prosecutor, `query ($id: ID!) { node(id: $id) { ... on Victim { legalName } } }`,
			map[string]any{"id": gid(e.f.vT)}).MustOK(t)
		type verification struct {
			Valid    bool
			LastSeq  int64
			LastHash string
			BrokenAt *int64
		}
		const q = `query ($a: [AuditAnchor!]) { verifyAuditTrail(anchors: $a) { valid lastSeq lastHash brokenAt } }`
		verify := func(t *testing.T, token string, anchors ...audit.Event) (*verification, *testserver.Response) {
			t.Helper()
			as := []map[string]any{}
			for _, a := range anchors {
				as = append(as, map[string]any{"seq": a.Seq, "hash": a.Hash})
			}
			r := e.do(t, token, q, map[string]any{"a": as})
			return decode[struct{ VerifyAuditTrail *verification }](t, r).VerifyAuditTrail, r
		}
		national, durres := e.tok(t, "onac", viewer.RoleDPO), e.tok(t, "police-durres", viewer.RoleDPO)
		if got, r := verify(t, national); got == nil || !got.Valid || len(got.LastHash) != len(audit.GenesisHash) {
			t.Errorf("the national DPO: want valid with the chain's last hash:\n%s", r.Body)
		}
		got, r := verify(t, durres)
		if got == nil || !got.Valid || got.LastSeq == 0 || got.LastHash != "" {
			t.Errorf("police-durres's DPO without anchors: want valid, its end's seq and no hash:\n%s", r.Body)
		}
		// An expired token: an event of no agency's (a review anchored one).
		expired := testserver.DevClaims("police-tirane", "investigator")
		expired["iat"], expired["nbf"], expired["exp"] = time.Now().Add(-3*time.Hour).Unix(), time.Now().Add(-3*time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix()
		if r := e.do(t, testserver.Sign(t, e.s.Key, expired), `{ viewer { subject } }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("an expired token: status %d", r.Status)
		}
		var tirane, own, noAgency audit.Event
		for _, ev := range testdb.AuditTrail(t, e.db) {
			switch ev.ActorAgencyID {
			case e.f.id(t, "prosecution-tirane"):
				tirane = ev
			case e.f.id(t, "police-durres"):
				own = ev // the DPO's own verification
			case 0:
				noAgency = ev
			}
		}
		if tirane.Seq == 0 || own.Seq == 0 || noAgency.Seq == 0 {
			t.Fatalf("want an event of prosecution-tirane's, one of police-durres's and one of no agency's, have %d, %d and %d", tirane.Seq, own.Seq, noAgency.Seq)
		}
		// Another agency's event, or no agency's, with its true hash or a
		// guessed one: refused alike, and nothing recorded of what the
		// walk found (the DPO reads its own records: one saying valid or
		// not answered the guess, a review).
		ownEvents := func() int {
			n := 0
			for _, ev := range testdb.AuditTrail(t, e.db) {
				if ev.ActorAgencyID == e.f.id(t, "police-durres") {
					n++
				}
			}
			return n
		}
		before := ownEvents()
		for _, other := range []audit.Event{tirane, noAgency} {
			for _, hash := range []string{other.Hash, strings.Repeat("0", len(audit.GenesisHash))} {
				guess := other
				guess.Hash = hash
				_, r := verify(t, durres, guess)
				wantRefusal(t, r, "BAD_USER_INPUT", "anchors")
			}
		}
		if after := ownEvents(); after != before {
			t.Errorf("refused verifications recorded %d events of the DPO's, want none", after-before)
		}
		// Its own event: checked; a wrong hash breaks there, and the hash
		// of the event before it (another agency's, maybe) is not told.
		if got, r := verify(t, durres, own); got == nil || !got.Valid {
			t.Errorf("an anchor on the DPO's own event: want valid:\n%s", r.Body)
		}
		wrong := own
		wrong.Hash = strings.Repeat("0", len(audit.GenesisHash))
		if got, r := verify(t, durres, wrong); got == nil || got.Valid || deref(got.BrokenAt) != own.Seq || got.LastHash != "" {
			t.Errorf("a wrong hash on the DPO's own event: want broken there and no hash:\n%s", r.Body)
		}
	})
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
