package audit_test

import (
	"strings"
	"testing"

	"github.com/casegraph/casegraph/audit"
)

// TestRefusedRecordsAreBounded: a record refused twice in one request is
// recorded once, and past MaxRefusedRecords the rest become one event that
// counts them, so a request of thousands of unknown ids cannot fill the
// append-only trail.
func TestRefusedRecordsAreBounded(t *testing.T) {
	rec := audit.NewRecorder("req-1", "127.0.0.1", nil)
	extra := 7
	for id := range audit.MaxRefusedRecords + extra {
		rec.RefusedRecord(audit.RecordRefused, "Victim", 1000+id, nil, "not found in the caller's rows")
		rec.RefusedRecord(audit.RecordRefused, "Victim", 1000+id, nil, "not found in the caller's rows") // again
	}
	events := rec.Take()
	if len(events) != audit.MaxRefusedRecords+1 {
		t.Fatalf("%d events, want %d itemised and one summary", len(events), audit.MaxRefusedRecords)
	}
	seen := map[int]bool{}
	for _, e := range events[:audit.MaxRefusedRecords] {
		if e.Kind != audit.RecordRefused || seen[e.EntityID] {
			t.Errorf("event %+v: want one RECORD_REFUSED a record", e)
		}
		seen[e.EntityID] = true
	}
	summary := events[len(events)-1]
	if summary.Kind != audit.RecordRefused || summary.EntityID != 0 || summary.Decision != audit.Denied ||
		!strings.Contains(summary.Detail, `"notItemised":7`) {
		t.Errorf("summary %+v: want a RECORD_REFUSED without a record counting 7", summary)
	}
	if again := rec.Take(); len(again) != 0 {
		t.Errorf("the summary was written twice: %+v", again)
	}
}
