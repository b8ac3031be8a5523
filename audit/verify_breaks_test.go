package audit_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
)

// at is a break's place and kind, as a test expects it.
type at struct {
	Seq  int64
	Kind audit.BreakKind
}

func places(breaks []audit.Break) []at {
	out := []at{}
	for _, b := range breaks {
		out = append(out, at{b.Seq, b.Kind})
		if b.Problem == "" {
			out = append(out, at{b.Seq, "WITHOUT A PROBLEM"})
		}
	}
	return out
}

// verifyEach is audit.VerifyEach, with the breaks it handed on.
func verifyEach(t *testing.T, db *database.DB, anchors ...audit.Anchor) (audit.Verification, []audit.Break) {
	t.Helper()
	var each []audit.Break
	v, err := audit.VerifyEach(context.Background(), db.Client, func(b audit.Break) { each = append(each, b) }, anchors...)
	if err != nil {
		t.Fatalf("verifying: %v", err)
	}
	return v, each
}

// alterReason changes the reason of the events numbered from to to,
// leaving their hashes: each is altered on its own.
func alterReason(t *testing.T, db *database.DB, from, to int64) {
	t.Helper()
	mustExec(t, db, "UPDATE audit_events SET reason = 'nothing happened' WHERE id BETWEEN $1 AND $2", from, to)
}

// tamperable writes n sample events and returns them as stored, with the
// triggers that keep the trail append-only out of the way of tampering.
func tamperable(t *testing.T, db *database.DB, n int) []audit.Event {
	t.Helper()
	write(t, audit.Install(db.Client, db.Dialect), sampleEvents(n, base))
	events := testdb.AuditTrail(t, db)
	bypassTriggers(t, db)
	return events
}

// TestVerifyReportsEveryBreak: the walk goes past a break to the chain's
// end and re-anchors on the broken event's stored hash, so two altered
// events are two breaks, one each, and the events between and after them
// verify; a rehashed event, a removed one, are one break each too. It used
// to stop at the first break: a DPO could not tell one altered event from
// a trail altered throughout.
func TestVerifyReportsEveryBreak(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		const n = 14
		events := tamperable(t, db, n)

		// Two events altered, far apart; event 4 is about several records.
		alterReason(t, db, 4, 4)
		alterReason(t, db, 9, 9)
		v, each := verifyEach(t, db)
		want := []at{{4, audit.BreakHash}, {9, audit.BreakHash}}
		if got := places(v.Breaks); !reflect.DeepEqual(got, want) || v.BreakCount != 2 || v.BreaksCut {
			t.Errorf("breaks %v (%d in all, cut %v), want %v: one each", got, v.BreakCount, v.BreaksCut, want)
		}
		if !reflect.DeepEqual(each, v.Breaks) {
			t.Errorf("handed on %v, listed %v", places(each), places(v.Breaks))
		}
		if v.Walked != n || v.WalkedTo != n || v.Intact != n-2 {
			t.Errorf("walked %d to event %d, %d intact; want all %d walked, the %d between and after the breaks intact", v.Walked, v.WalkedTo, v.Intact, n, n-2)
		}
		// What verify always said: up to the first break.
		if v.Valid || v.BrokenAt != 4 || v.Checked != 3 || v.LastSeq != 3 || v.LastHash != events[2].Hash || !strings.Contains(v.Problem, "altered") {
			t.Errorf("verify = %+v, want broken first at 4 with 3 events before it", v)
		}

		// Event 6 rewritten with a fresh hash: its successor's link breaks,
		// once. Event 11 removed: a gap, at event 12, once.
		e := events[5]
		e.Reason = "rewritten, consistently"
		mustExec(t, db, "UPDATE audit_events SET reason = $1, hash = $2 WHERE id = 6", e.Reason, e.ComputeHash())
		mustExec(t, db, "DELETE FROM audit_events WHERE id = 11")
		v, each = verifyEach(t, db)
		want = []at{{4, audit.BreakHash}, {7, audit.BreakPreviousHash}, {9, audit.BreakHash}, {12, audit.BreakMissingEvents}}
		if got := places(v.Breaks); !reflect.DeepEqual(got, want) || v.BreakCount != 4 || !reflect.DeepEqual(each, v.Breaks) {
			t.Errorf("breaks %v (%d in all; handed on %v), want %v", got, v.BreakCount, places(each), want)
		}
		// Event 6, rehashed, is no more intact than event 7, which does not
		// link to it.
		if v.Walked != n-1 || v.WalkedTo != n || v.Intact != n-1-5 {
			t.Errorf("walked %d to event %d, %d intact; want %d walked to %d, %d intact", v.Walked, v.WalkedTo, v.Intact, n-1, n, n-6)
		}
		if !strings.Contains(v.Breaks[3].Problem, "11 to 11") {
			t.Errorf("the gap's problem %q does not name event 11", v.Breaks[3].Problem)
		}
	})
}

// TestVerifyListsAtMostMaxBreaks: a trail altered throughout has a break
// at each event; the walk counts them all, lists the first MaxBreaks and
// says the list was cut, and hands every one to the command.
func TestVerifyListsAtMostMaxBreaks(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		const n = audit.MaxBreaks + 10
		tamperable(t, db, n)
		alterReason(t, db, 3, n)

		v, each := verifyEach(t, db)
		if v.BreakCount != n-2 || !v.BreaksCut || len(v.Breaks) != audit.MaxBreaks {
			t.Fatalf("%d breaks listed of %d, cut %v; want %d listed of %d, cut", len(v.Breaks), v.BreakCount, v.BreaksCut, audit.MaxBreaks, n-2)
		}
		for i, b := range v.Breaks {
			if b.Seq != int64(i+3) || b.Kind != audit.BreakHash {
				t.Fatalf("break %d is %v, want event %d's hash", i, places([]audit.Break{b}), i+3)
			}
		}
		if len(each) != n-2 || each[len(each)-1].Seq != n {
			t.Errorf("handed on %d breaks, want every one of %d, the last at %d", len(each), n-2, n)
		}
		if v.Walked != n || v.Intact != 2 || v.BrokenAt != 3 || v.Checked != 2 {
			t.Errorf("verify = walked %d, intact %d, broken first at %d after %d; want %d, 2, 3, 2", v.Walked, v.Intact, v.BrokenAt, v.Checked, n)
		}
	})
}

// TestVerifierBreaksAsTheCommands: the server's verifier checks anchors
// after a shared walk, the command during its own; on a broken chain both
// list the same breaks (an anchor's mismatch a break of its own beside
// the event's), and a reader of one agency's events is listed those at its
// own people's events and counted the rest.
func TestVerifierBreaksAsTheCommands(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		const n = 12
		events := tamperable(t, db, n)
		alterReason(t, db, 4, 4) // agency 4's (sampleEvents)
		alterReason(t, db, 9, 9) // no agency's
		anchor := func(seq int64, hash string) audit.Anchor { a, _ := audit.NewAnchor(seq, hash); return a }
		wrong := events[0].Hash
		anchors := []audit.Anchor{anchor(12, wrong), anchor(2, wrong), anchor(6, events[5].Hash), anchor(9, wrong), anchor(20, wrong)}

		var verifier audit.Verifier
		ctx := context.Background()
		got, err := verifier.Verify(ctx, db.Client, audit.Scope{All: true}, anchors...)
		command, cerr := audit.Verify(ctx, db.Client, anchors...)
		if err != nil || cerr != nil || !reflect.DeepEqual(got, command) {
			t.Fatalf("the verifier's %+v (%v), the command's %+v (%v): want them alike", got, err, command, cerr)
		}
		want := []at{{2, audit.BreakAnchor}, {4, audit.BreakHash}, {9, audit.BreakHash}, {9, audit.BreakAnchor}, {12, audit.BreakAnchor}, {13, audit.BreakTailRemoved}}
		if p := places(got.Breaks); !reflect.DeepEqual(p, want) || got.BreakCount != int64(len(want)) {
			t.Errorf("breaks %v, want %v", p, want)
		}
		if got.Valid || got.BrokenAt != 2 || got.Checked != 1 || got.LastSeq != 1 || got.LastHash != events[0].Hash || got.Intact != n-2 {
			t.Errorf("verify = %+v, want broken first at the anchor of 2, with the %d events but the altered intact", got, n-2)
		}

		// Agency 4's DPO, anchoring its own event 4 wrongly: its own
		// breaks are listed, the one at no agency's event 9 counted.
		own, err := verifier.Verify(ctx, db.Client, audit.Scope{AgencyID: 4}, anchor(4, wrong))
		if err != nil {
			t.Fatal(err)
		}
		want = []at{{4, audit.BreakHash}, {4, audit.BreakAnchor}}
		if p := places(own.Breaks); !reflect.DeepEqual(p, want) || own.BreakCount != 3 || own.BreaksWithheld != 1 || own.LastHash != "" {
			t.Errorf("agency 4's DPO: breaks %v of %d, %d withheld, last hash %q; want %v of 3, 1 withheld, no hash", p, own.BreakCount, own.BreaksWithheld, own.LastHash, want)
		}
		// The national reader's answer is not changed by the one before
		// (the walk is shared; each reader's list is its own).
		if again, err := verifier.Verify(ctx, db.Client, audit.Scope{All: true}, anchors...); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("after agency 4's: %+v (%v), want %+v", again, err, got)
		}
	})
}

// TestVerifyGoesPastAnUnreadableEvent: an event whose time does not even
// read back (on SQLite stored as a blob; on PostgreSQL dated 'infinity',
// which the tables' owner can still append: the server's role is refused
// it, and the walk stopped with the driver's error): the walk names it,
// goes on from its stored hash and finds the next break after it.
func TestVerifyGoesPastAnUnreadableEvent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		db     func(testing.TB) *database.DB
		tamper string
	}{
		{"BlobOnSQLite", testdb.SQLite, "UPDATE audit_events SET occurred_at = CAST(occurred_at AS BLOB) WHERE id = 4"},
		{"InfinityOnPostgres", testdb.Postgres, "UPDATE audit_events SET occurred_at = 'infinity' WHERE id = 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := tc.db(t)
			const n = 14
			tamperable(t, db, n)
			mustExec(t, db, tc.tamper)
			alterReason(t, db, 9, 9)
			v, each := verifyEach(t, db)
			want := []at{{4, audit.BreakStoredOtherwise}, {9, audit.BreakHash}}
			if got := places(v.Breaks); !reflect.DeepEqual(got, want) || !reflect.DeepEqual(each, v.Breaks) {
				t.Errorf("breaks %v, want %v", got, want)
			}
			if v.Walked != n || v.Intact != n-2 || v.BrokenAt != 4 || v.Checked != 3 {
				t.Errorf("verify = %+v, want %d walked, %d intact, broken first at 4", v, n, n-2)
			}
		})
	}
}

// TestVerifyRehashedEventMovedAheadIsOneBreak: an event rewritten with its
// time an hour ahead and a fresh hash, which links to the event before it,
// is one break, at the event after it, which does not link to it; the
// events after that verify against the time of the last event still
// linked to. Its time used to become the reference, so every later event
// was DATED_BEFORE_PREVIOUS (a review). Neither event of the broken link
// counts as intact.
func TestVerifyRehashedEventMovedAheadIsOneBreak(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		const n = 14
		events := tamperable(t, db, n)
		e := events[4] // event 5
		e.OccurredAt = e.OccurredAt.Add(time.Hour)
		ahead := "UPDATE audit_events SET occurred_at = occurred_at + interval '1 hour', hash = $1 WHERE id = 5"
		if db.Dialect == dialect.SQLite {
			ahead = "UPDATE audit_events SET occurred_at = replace(occurred_at, '2026-03-03 09:', '2026-03-03 10:'), hash = $1 WHERE id = 5"
		}
		mustExec(t, db, ahead, e.ComputeHash())
		if moved := testdb.AuditTrail(t, db)[4]; !moved.OccurredAt.Equal(e.OccurredAt) || moved.ComputeHash() != moved.Hash {
			t.Fatalf("fixture: event 5 at %v (want %v), its hash its own %v", moved.OccurredAt, e.OccurredAt, moved.ComputeHash() == moved.Hash)
		}

		v, each := verifyEach(t, db)
		want := []at{{6, audit.BreakPreviousHash}}
		if got := places(v.Breaks); !reflect.DeepEqual(got, want) || v.BreakCount != 1 || !reflect.DeepEqual(each, v.Breaks) {
			t.Errorf("breaks %v (%d in all), want %v: one", got, v.BreakCount, want)
		}
		// Verified up to 4: event 5, which 6 does not link to, is vouched
		// for no more than counted intact (TestVerifyVouchesForNoRehashedEvent).
		if v.Walked != n || v.Intact != n-2 || v.BrokenAt != 6 || v.Checked != 4 {
			t.Errorf("verify = walked %d, intact %d, broken first at %d after %d; want %d, %d (but 5 and 6), 6, 4", v.Walked, v.Intact, v.BrokenAt, v.Checked, n, n-2)
		}
	})
}

// TestVerifyListsABrokenLinkToBothAgencies: an event rehashed breaks the
// link of the event after it, and that break is about both: the DPO of
// the rehashed event's agency is listed it, as is the DPO of the next
// event's. It was listed to the latter only, so a DPO whose own event was
// rewritten was listed nothing and told one break was withheld (a
// review).
func TestVerifyListsABrokenLinkToBothAgencies(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		const n = 8
		sample := sampleEvents(n, base)
		sample[5].ActorAgencyID, sample[5].ActorAgency = 7, "police-durres" // event 6
		write(t, audit.Install(db.Client, db.Dialect), sample)
		events := testdb.AuditTrail(t, db)
		bypassTriggers(t, db)
		e := events[4] // event 5, agency 4's
		if e.ActorAgencyID != 4 || events[5].ActorAgencyID != 7 || events[7].ActorAgencyID != 4 {
			t.Fatalf("fixture: agencies %d, %d, %d", e.ActorAgencyID, events[5].ActorAgencyID, events[7].ActorAgencyID)
		}
		e.Reason = "rewritten, consistently"
		mustExec(t, db, "UPDATE audit_events SET reason = $1, hash = $2 WHERE id = 5", e.Reason, e.ComputeHash())
		alterReason(t, db, 8, 8) // agency 4's too

		var verifier audit.Verifier
		for _, c := range []struct {
			agency   int
			want     []at
			withheld int64
		}{
			{4, []at{{6, audit.BreakPreviousHash}, {8, audit.BreakHash}}, 0},
			{7, []at{{6, audit.BreakPreviousHash}}, 1},
			{9, []at{}, 2},
		} {
			own, err := verifier.Verify(context.Background(), db.Client, audit.Scope{AgencyID: c.agency})
			if err != nil {
				t.Fatal(err)
			}
			if got := places(own.Breaks); !reflect.DeepEqual(got, c.want) || own.BreakCount != 2 || own.BreaksWithheld != c.withheld || own.BreaksCut {
				t.Errorf("agency %d's DPO: breaks %v of %d, %d withheld, cut %v; want %v of 2, %d withheld", c.agency, got, own.BreakCount, own.BreaksWithheld, own.BreaksCut, c.want, c.withheld)
			}
		}
	})
}

// TestVerifyListsAnAgencyItsBreaksPastOthers: the list of all breaks is
// cut at MaxBreaks, but a DPO of one agency is listed its own people's
// first MaxBreaks, whatever came before them, and told its own list was
// cut only when it was. The list of all was cut first and filtered after,
// so 103 breaks at no agency's events hid one at agency 4's from its DPO,
// who was listed nothing and told the list was cut (a review).
func TestVerifyListsAnAgencyItsBreaksPastOthers(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		const n = 3*audit.MaxBreaks + 30
		tamperable(t, db, n)
		mustExec(t, db, "UPDATE audit_events SET reason = 'x' WHERE actor_agency_id IS NULL AND id <= $1", 3*audit.MaxBreaks+10)
		alterReason(t, db, n-1, n-1) // agency 4's (sampleEvents)
		var verifier audit.Verifier
		ctx := context.Background()
		all, err := verifier.Verify(ctx, db.Client, audit.Scope{All: true})
		if err != nil {
			t.Fatal(err)
		}
		if all.BreakCount != audit.MaxBreaks+4 || !all.BreaksCut || len(all.Breaks) != audit.MaxBreaks {
			t.Fatalf("the national DPO: %d listed of %d, cut %v; want %d of %d, cut", len(all.Breaks), all.BreakCount, all.BreaksCut, audit.MaxBreaks, audit.MaxBreaks+4)
		}
		own, err := verifier.Verify(ctx, db.Client, audit.Scope{AgencyID: 4})
		if err != nil {
			t.Fatal(err)
		}
		want := []at{{n - 1, audit.BreakHash}}
		if got := places(own.Breaks); !reflect.DeepEqual(got, want) || own.BreaksCut || own.BreakCount != all.BreakCount || own.BreaksWithheld != all.BreakCount-1 {
			t.Errorf("agency 4's DPO: breaks %v of %d, cut %v, %d withheld; want %v of %d, not cut, %d withheld", got, own.BreakCount, own.BreaksCut, own.BreaksWithheld, want, all.BreakCount, all.BreakCount-1)
		}

		// Every event altered: agency 4's DPO is listed the first
		// MaxBreaks of its own, told the list was cut, and counted the
		// others withheld.
		alterReason(t, db, 1, n)
		own, err = verifier.Verify(ctx, db.Client, audit.Scope{AgencyID: 4})
		if err != nil {
			t.Fatal(err)
		}
		if own.BreakCount != n || !own.BreaksCut || len(own.Breaks) != audit.MaxBreaks || own.BreaksWithheld != n/3 {
			t.Fatalf("agency 4's DPO: %d listed of %d, cut %v, %d withheld; want %d, of %d, cut, %d withheld", len(own.Breaks), own.BreakCount, own.BreaksCut, own.BreaksWithheld, audit.MaxBreaks, n, n/3)
		}
		for i, b := range own.Breaks {
			if seq := int64(i/2*3 + i%2 + 1); b.Seq != seq || b.Kind != audit.BreakHash {
				t.Fatalf("break %d is %v, want agency 4's event %d's hash", i, places([]audit.Break{b}), seq)
			}
		}
	})
}

// TestVerifyExportMovedLine: an export whose line 4 was moved after line
// 6 is a gap at event 5 and event 4 out of order, and nothing more: the
// walk stays at the furthest event, so event 7 follows event 6 and links
// to it, and event 4 is not checked against the time of events numbered
// after it. Event 7 used to be a gap back to event 4, "events 5 to 6 are
// missing" though both were there (a review).
func TestVerifyExportMovedLine(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	write(t, audit.Install(db.Client, db.Dialect), sampleEvents(7, base))
	var out strings.Builder
	if _, err := audit.Export(context.Background(), db.Client, time.Time{}, audit.FormatJSONL, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 7 {
		t.Fatalf("exported %d lines, want 7", len(lines))
	}
	moved := []string{lines[0], lines[1], lines[2], lines[4], lines[5], lines[3], lines[6]}
	var each []audit.Break
	v, err := audit.VerifyExportEach(strings.NewReader(strings.Join(moved, "\n")), func(b audit.Break) { each = append(each, b) })
	if err != nil {
		t.Fatal(err)
	}
	want := []at{{4, audit.BreakOutOfOrder}, {5, audit.BreakMissingEvents}}
	if got := places(v.Breaks); !reflect.DeepEqual(got, want) || v.BreakCount != 2 || len(each) != 2 {
		t.Errorf("breaks %v (%d in all, %d handed on), want %v", got, v.BreakCount, len(each), want)
	}
	if v.Walked != 7 || v.WalkedTo != 7 || v.Intact != 5 || v.BrokenAt != 5 || v.Checked != 3 {
		t.Errorf("verify = walked %d to %d, %d intact, broken first at %d after %d; want 7 to 7, 5 (but 5 and 4), 5, 3", v.Walked, v.WalkedTo, v.Intact, v.BrokenAt, v.Checked)
	}
	if len(v.Breaks) == 2 && !strings.Contains(v.Breaks[0].Problem, "numbered 4 after event 6") {
		t.Errorf("out of order: %q, want it numbered 4 after event 6", v.Breaks[0].Problem)
	}
}

// TestVerifyListsABrokenLinkBehindAStorageProblem: event 5 (agency 4's)
// rehashed consistently breaks the link of event 6 (agency 7's), which
// also has an entity id stored as 0 where its hash covers none. The
// storage problem, found first, hid the link: the only break was about
// agency 7, and agency 4's DPO, whose event was rewritten, was listed
// nothing (a review). Both are listed now.
func TestVerifyListsABrokenLinkBehindAStorageProblem(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		sample := sampleEvents(8, base)
		sample[5].ActorAgencyID, sample[5].ActorAgency = 7, "police-durres" // event 6
		sample[5].EntityID, sample[5].EntityType = 0, ""                    // stored NULL
		write(t, audit.Install(db.Client, db.Dialect), sample)
		e := testdb.AuditTrail(t, db)[4] // event 5, agency 4's
		bypassTriggers(t, db)
		e.Reason = "rewritten, consistently"
		mustExec(t, db, "UPDATE audit_events SET reason = $1, hash = $2 WHERE id = 5", e.Reason, e.ComputeHash())
		mustExec(t, db, "UPDATE audit_events SET entity_id = 0 WHERE id = 6") // its hash alike

		if v, _ := verifyEach(t, db); !reflect.DeepEqual(places(v.Breaks), []at{{6, audit.BreakPreviousHash}, {6, audit.BreakStoredOtherwise}}) {
			t.Errorf("breaks %v, want the broken link and the storage problem at 6", places(v.Breaks))
		}
		var verifier audit.Verifier
		own, err := verifier.Verify(context.Background(), db.Client, audit.Scope{AgencyID: 4})
		if err != nil {
			t.Fatal(err)
		}
		if got := places(own.Breaks); !reflect.DeepEqual(got, []at{{6, audit.BreakPreviousHash}}) {
			t.Errorf("agency 4's DPO, whose event 5 was rewritten, is listed %v (%d withheld), want the broken link at 6", got, own.BreaksWithheld)
		}
	})
}

// TestVerifyVouchesForNoRehashedEvent: event 5 rehashed consistently is not
// intact, and not verified either: its hash, the chain's last verified one
// by the old fields, is what a DPO keeps as an anchor, and a later rewrite
// from event 6 on would have verified against it (a review).
func TestVerifyVouchesForNoRehashedEvent(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		events := tamperable(t, db, 8)
		e := events[4]
		e.Reason = "rewritten, consistently"
		mustExec(t, db, "UPDATE audit_events SET reason = $1, hash = $2 WHERE id = 5", e.Reason, e.ComputeHash())
		v, _ := verifyEach(t, db)
		if v.LastSeq != 4 || v.LastHash != events[3].Hash || v.Checked != 4 || v.BrokenAt != 6 {
			t.Errorf("verified up to event %d (%d checked, broken at %d), want 4 (4, 6): event 5's forged hash is vouched for", v.LastSeq, v.Checked, v.BrokenAt)
		}
	})
}
