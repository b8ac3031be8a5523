package abuse_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// maxAnswerBytes is the answer's limit (docs/limits.md, "Refusals": 8 MiB).
const maxAnswerBytes = 8 << 20

// TestIDListsCountAgainstTheAnswersSize: docs/limits.md promises that "the
// texts resolved are counted as the answer is built, and past 8 MiB nothing
// more is resolved", and the cost model charges a list of scalars as one
// field whatever its length. An audit event's entities is such a list (an
// event about a page of victims read alike names 500 of them), resolved as
// []int, which the answer's text count does not see: a DPO's request of
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
				t.Errorf("the answer was built to %.0f bytes before it was refused; its texts should stop it near %d", v, maxAnswerBytes)
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
