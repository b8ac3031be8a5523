package abuse_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// TestMutationAnswerStopsAtItsSizeLimit: a mutation's answer is counted
// against the answer's 8 MiB as a query's is, and stops resolving there:
// the mutation whose payload reaches the limit is not made (its field is
// null, its transaction rolled back, as one whose payload could not be
// read), and the answer says so once. Until 2026-12-07 (twenty-third
// session) a mutation's answer was not counted at all: a prosecutor's
// mutation whose payload read twenty aliases of a 20,000-character
// testimony through the case's victims and their cases (cost about
// 20,000, well under the ceiling) answered 385 MB, took the server to
// 2 GB and 9 s of CPU, its transaction open meanwhile; the same
// selection asked by a query was refused at 8 MiB. Here the payload
// would be about 16 MB.
func TestMutationAnswerStopsAtItsSizeLimit(t *testing.T) {
	db := testdb.SQLite(t)
	srv := startSeeded(t, db)
	prosecutor := srv.Token(t, "prosecution-tirane", viewer.RoleProsecutor)

	// A victim of one of the office's proceedings whose testimony the
	// prosecutor reads.
	var seen struct {
		Prosecutions struct {
			Edges []struct {
				Node struct {
					Case struct {
						Victims struct {
							Edges []struct {
								Node struct {
									ID               string
									Version          int
									TestimonySummary *string
								}
							}
						}
					}
				}
			}
		}
	}
	srv.Do(t, prosecutor, `{ prosecutions(first: 50) { edges { node { case {
		victims(first: 1) { edges { node { id version testimonySummary } } } } } } } }`, nil).MustOK(t).Decode(t, &seen)
	var victimID string
	var version int
	for _, e := range seen.Prosecutions.Edges {
		if vs := e.Node.Case.Victims.Edges; len(vs) > 0 && vs[0].Node.TestimonySummary != nil {
			victimID, version = vs[0].Node.ID, vs[0].Node.Version
			break
		}
	}
	if victimID == "" {
		t.Fatal("the demo has no victim whose testimony a prosecutor of prosecution-tirane reads")
	}
	const update = `mutation($id: ID!, $v: Int!, $in: UpdateVictimInput!) { updateVictim(id: $id, expectedVersion: $v, input: $in) { version `
	testimony := strings.Repeat("Described recruitment through an offer of work abroad. ", 400)[:20_000]
	srv.Do(t, prosecutor, update+`} }`,
		map[string]any{"id": victimID, "v": version, "in": map[string]any{"testimonySummary": testimony}}).MustOK(t)
	version++

	var leaves []string
	for i := range 20 {
		leaves = append(leaves, fmt.Sprintf("t%d: testimonySummary", i))
	}
	leaf := strings.Join(leaves, " ")
	var pages []string
	for i := range 20 {
		// 20 × 40 testimonies of 20,000 characters: 16 MB.
		pages = append(pages, fmt.Sprintf(`c%d: cases(first: 1) { edges { node { victims(first: 1) { edges { node { %s
			cases(first: 1) { edges { node { victims(first: 1) { edges { node { %s } } } } } } } } } } } }`, i, leaf, leaf))
	}
	allowedReads := func() int {
		var n int
		if err := db.SQL.QueryRow(`SELECT count(*) FROM audit_events WHERE decision = 'ALLOWED'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := allowedReads()
	res, elapsed := send(t, srv, prosecutor, attack{
		query: update + strings.Join(pages, " ") + ` } }`,
		vars:  map[string]any{"id": victimID, "v": version, "in": map[string]any{"testimonySummary": "Changed. " + testimony[:len(testimony)-9]}},
	})
	t.Logf("%v, status %d, %d bytes, codes %v", elapsed.Round(time.Millisecond), res.Status, len(res.Body), res.Codes())
	if len(res.Body) > maxAnswerBytes+64<<10 {
		t.Errorf("the mutation's answer is %d bytes, past the answer's %d", len(res.Body), maxAnswerBytes)
	}
	if len(res.Errors) != 1 || res.Errors[0].Code() != "TOO_COMPLEX" || res.Errors[0].Extensions["limit"] != "responseBytes" {
		t.Errorf("want one TOO_COMPLEX on responseBytes for the one root field stopped, got %v: %.300s", res.Codes(), res.Body)
	}
	var data struct{ UpdateVictim *struct{ Version int } }
	if err := json.Unmarshal(res.Data, &data); err != nil || data.UpdateVictim != nil {
		t.Errorf("want the mutation's field null, not made (err %v): %.300s", err, res.Data)
	}
	// The testimonies resolved before the limit were not sent: no read
	// of them is recorded as disclosed, as for a query's dropped answer.
	if n := allowedReads() - before; n != 0 {
		t.Errorf("%d reads recorded as disclosed for a mutation's answer that was not sent", n)
	}
	var after struct{ Node struct{ Version int } }
	srv.Do(t, prosecutor, `query($id: ID!) { node(id: $id) { ... on Victim { version } } }`, map[string]any{"id": victimID}).
		MustOK(t).Decode(t, &after)
	if after.Node.Version != version {
		t.Errorf("the victim is at version %d after a mutation answered as not made, want %d", after.Node.Version, version)
	}
}
