package abuse_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestFixedCostRootsStopPastTheirFields: docs/limits.md, "An answer that
// outgrows its cost": "An operation stops resolving fields past twice its
// cost plus 1,000". A field of fixed cost (a statistics table, 1,000; the
// access matrix, 5,000) is exempt from that count ("its fields were paid
// for"), but what is resolved under it is not fixed: twenty aliases of
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
func TestFixedCostRootsStopPastTheirFields(t *testing.T) {
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
