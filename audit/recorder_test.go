package audit_test

import (
	"fmt"
	"slices"
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
		t.Errorf("summary %+v: want a RECORD_REFUSED of no one record counting 7", summary)
	}
	// The summary is about the 7 records, as an event about several: a
	// probe of one record behind 20 others is found by that record.
	var ids []int
	for _, r := range summary.Records {
		ids = append(ids, r.ID)
	}
	want := []int{}
	for id := range extra {
		want = append(want, 1000+audit.MaxRefusedRecords+id)
	}
	if !slices.Equal(ids, want) || !strings.Contains(summary.Detail, `"recordsDigest":"`+audit.RecordsDigest(summary.Records)+`"`) {
		t.Errorf("summary records %v, detail %s: want %v under their digest", ids, summary.Detail, want)
	}
	if again := rec.Take(); len(again) != 0 {
		t.Errorf("the summary was written twice: %+v", again)
	}
}

// TestReadsDecidedAlikeAreOneEvent: the fields of several records read (or
// refused) alike in one request are one event about them, under a digest
// of their records; a record decided otherwise, or alone, keeps an event
// of its own; every record keeps every field it was decided on.
func TestReadsDecidedAlikeAreOneEvent(t *testing.T) {
	rec := audit.NewRecorder("req-1", "127.0.0.1", nil)
	refused := audit.Access{Reason: "no policy line"}
	allowed := audit.Access{Allowed: true, Rule: "p, prosecutor, prosecution, Victim:IDENTITY, read, on_case"}
	// Fields arrive in any order: 30, 10 and 20 are refused both fields.
	rec.FieldRead("Victim", 30, "Victim.legalName", refused, nil)
	rec.FieldRead("Victim", 10, "Victim.phone", refused, nil)
	rec.FieldRead("Victim", 10, "Victim.legalName", refused, nil)
	rec.FieldRead("Victim", 40, "Victim.legalName", allowed, nil)
	rec.FieldRead("Victim", 30, "Victim.phone", refused, nil)
	rec.FieldRead("Victim", 20, "Victim.legalName", refused, nil)
	rec.FieldRead("Victim", 20, "Victim.phone", refused, nil)
	// 50 is refused one field only: not alike.
	rec.FieldRead("Victim", 50, "Victim.legalName", refused, nil)
	rec.Note(audit.TrailRead, `{"returned":0}`)

	events := rec.Take()
	if len(events) != 4 {
		t.Fatalf("%d events, want one about 10, 20 and 30, one about 40, one about 50, the note:\n%+v", len(events), events)
	}
	group, single, other := events[0], events[1], events[2]
	if group.EntityID != 0 || !slices.Equal(group.EntityIDs(), []int{10, 20, 30}) ||
		!slices.Equal(group.Fields, []string{"Victim.legalName", "Victim.phone"}) || group.Decision != audit.Denied {
		t.Errorf("the event about several = %+v", group)
	}
	want := `{"recordsDigest":"` + audit.RecordsDigest(group.Records) + `"}`
	if group.Detail != want || len(group.Records[0].Nonce) != 32 || group.Records[0].Nonce == group.Records[1].Nonce {
		t.Errorf("detail %s, records %+v: want the digest of three records with nonces of their own", group.Detail, group.Records)
	}
	if single.EntityID != 40 || single.Records != nil || single.Decision != audit.Allowed {
		t.Errorf("the allowed read of 40 = %+v, want an event of its own", single)
	}
	if other.EntityID != 50 || other.Records != nil || !slices.Equal(other.Fields, []string{"Victim.legalName"}) {
		t.Errorf("the read of 50 = %+v, want an event of its own", other)
	}
	if events[3].Kind != audit.TrailRead {
		t.Errorf("the note = %+v", events[3])
	}
	if n := audit.Entries(events); n != 6 {
		t.Errorf("Entries = %d, want 6 (three records, two events of one, the note)", n)
	}
}

// TestReadsAroundAChangeAreNotGrouped: reads before and after a change made
// in the request (a mutation's event) are not one event, so the chain
// never shows a record read before the change it was read after.
func TestReadsAroundAChangeAreNotGrouped(t *testing.T) {
	rec := audit.NewRecorder("req-1", "127.0.0.1", nil)
	refused := audit.Access{Reason: "no policy line"}
	rec.FieldRead("Victim", 10, "Victim.legalName", refused, nil)
	rec.FieldRead("Victim", 11, "Victim.legalName", refused, nil)
	rec.Change(audit.Mutation, "Victim", 20, []string{"pseudonym"}, nil)
	rec.FieldRead("Victim", 20, "Victim.legalName", refused, nil)
	rec.FieldRead("Victim", 21, "Victim.legalName", refused, nil)
	events := rec.Take()
	var got []string
	for _, e := range events {
		got = append(got, fmt.Sprintf("%s %v", e.Kind, e.EntityIDs()))
	}
	want := []string{"FIELD_ACCESS [10 11]", "MUTATION [20]", "FIELD_ACCESS [20 21]"}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// TestJustifyHoldsUntilCleared: the events recorded while a justification
// is given carry it, trimmed and cut to MaxJustification bytes at a
// letter's boundary; those before and after carry none.
func TestJustifyHoldsUntilCleared(t *testing.T) {
	rec := audit.NewRecorder("req-1", "127.0.0.1", nil)
	rec.RefusedRecord(audit.Mutation, "Case", 1, nil, "before")
	// "x" first, so that the cut falls inside a two-byte letter.
	rec.Justify("  x" + strings.Repeat("é", audit.MaxJustification) + "  ")
	rec.RefusedRecord(audit.Mutation, "Case", 2, nil, "during")
	rec.Justify("")
	rec.RefusedRecord(audit.Mutation, "Case", 3, nil, "after")
	events := rec.Take()
	if len(events) != 3 {
		t.Fatalf("%d events, want 3", len(events))
	}
	during := events[1].Justification
	if want := "x" + strings.Repeat("é", audit.MaxJustification/2-1); during != want {
		t.Errorf("justification while given: %d bytes, want x and %d bytes of é", len(during), len(want)-1)
	}
	if events[0].Justification != "" || events[2].Justification != "" {
		t.Errorf("justifications before and after: %q, %q; want none", events[0].Justification, events[2].Justification)
	}
}
