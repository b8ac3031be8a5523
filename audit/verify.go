package audit

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/viewer"
)

// Verification is the result of walking the chain. The walk goes on past
// a break to the chain's end, re-anchored on the broken event's stored
// hash, so that each break is found once and the events after it are
// checked against each other: Valid, Checked, LastSeq, LastHash, BrokenAt
// and Problem say what they always said (the chain up to its first
// break), and Walked, Intact and Breaks what lies beyond.
type Verification struct {
	// Valid is true when every event's hash is its content's and links to
	// the event before it, with no number missing.
	Valid bool `json:"valid"`
	// Checked counts the events that verify before the first break (all
	// of them when Valid).
	Checked int64 `json:"checked"`
	// LastSeq and LastHash are the chain's end, or the last event before
	// its first break: keep them elsewhere to detect a truncated tail
	// later.
	LastSeq  int64  `json:"lastSeq"`
	LastHash string `json:"lastHash"`
	// BrokenAt is the first event that does not verify (0 when valid),
	// and Problem says how.
	BrokenAt int64  `json:"brokenAt,omitempty"`
	Problem  string `json:"problem,omitempty"`
	// Walked counts every event read, past any break, and WalkedTo is the
	// last one's seq: the chain's end as stored.
	Walked   int64 `json:"walked"`
	WalkedTo int64 `json:"walkedTo"`
	// Intact counts the events walked at which the chain's own checks
	// found no break, and to which the event after them, if linked, links
	// (an anchor's mismatch is a break of its own: it says the chain up to
	// there was rewritten, not that the event is inconsistent with its
	// neighbours). A PREVIOUS_HASH_MISMATCH concerns both its events, the
	// one rehashed or the one relinked: neither is intact.
	Intact int64 `json:"intact"`
	// Breaks lists the first MaxBreaks breaks found, in order of seq;
	// BreakCount counts them all and BreaksCut says that some were left
	// off the list.
	Breaks     []Break `json:"breaks,omitempty"`
	BreakCount int64   `json:"breakCount"`
	BreaksCut  bool    `json:"breaksCut"`
	// BreaksWithheld counts, for a reader of one agency's events, the
	// breaks about other agencies' events only, all of them: they are not
	// listed to it (Verifier, ForAgency).
	BreaksWithheld int64 `json:"breaksWithheld"`

	// own holds, during the walk, the first MaxBreaks breaks about each
	// agency's events (of at most maxAgencyLists agencies: agenciesCut
	// says breaks of others were not held), and past those past the
	// chain's end: ForAgency lists a reader's own from them, whatever
	// came before them in Breaks.
	own         map[int]agencyBreaks
	past        []Break
	agenciesCut bool
}

// MaxBreaks bounds the breaks a verification lists: a trail altered
// throughout has as many breaks as events, and the list is held in memory
// and sent whole. The count goes on.
const MaxBreaks = 100

// BreakKind says how the chain breaks at an event.
type BreakKind string

// The kinds of break, as verifyAuditTrail names them.
const (
	// BreakMissingEvents: the event's number is not the one after the
	// event before it (events were removed); its link is not checked.
	BreakMissingEvents BreakKind = "MISSING_EVENTS"
	// BreakOutOfOrder: the event's number is not past the furthest before (an
	// export's lines repeated or reordered).
	BreakOutOfOrder BreakKind = "OUT_OF_ORDER"
	// BreakPreviousHash: its prevHash is not the stored hash of the event
	// before it (that event was rehashed, or this one relinked).
	BreakPreviousHash BreakKind = "PREVIOUS_HASH_MISMATCH"
	// BreakHash: its content does not hash to its hash (it was altered).
	BreakHash BreakKind = "HASH_MISMATCH"
	// BreakRecords: its records are not those its digest covers.
	BreakRecords BreakKind = "RECORDS_MISMATCH"
	// BreakStoredOtherwise: a value is stored or written otherwise than the
	// writers do, which its hash cannot show (an id 0, a value of another
	// type, a time with an offset, a name holding a comma).
	BreakStoredOtherwise BreakKind = "STORED_OTHERWISE"
	// BreakDatedBefore: it is dated before the event before it.
	BreakDatedBefore BreakKind = "DATED_BEFORE_PREVIOUS"
	// BreakDatedInFuture: it is dated after the verification's clock,
	// give or take ClockSkew.
	BreakDatedInFuture BreakKind = "DATED_IN_FUTURE"
	// BreakAnchor: its hash (or, for an export's first event, its
	// prevHash) is not the anchor's.
	BreakAnchor BreakKind = "ANCHOR_MISMATCH"
	// BreakTailRemoved: an anchor names an event past the chain's end.
	BreakTailRemoved BreakKind = "TAIL_REMOVED"
	// BreakOutsideChain: events numbered 0 or below, or records of no
	// event of the chain.
	BreakOutsideChain BreakKind = "OUTSIDE_CHAIN"
)

// BreakKinds lists every kind of break, in the order GraphQL's
// AuditBreakKind does.
var BreakKinds = []BreakKind{BreakMissingEvents, BreakOutOfOrder, BreakPreviousHash, BreakHash, BreakRecords,
	BreakStoredOtherwise, BreakDatedBefore, BreakDatedInFuture, BreakAnchor, BreakTailRemoved, BreakOutsideChain}

// Break is one place where the chain does not verify: the event's seq (for
// a break at the chain's end, the seq after its last event), its kind and
// how.
type Break struct {
	Seq     int64     `json:"seq"`
	Kind    BreakKind `json:"kind"`
	Problem string    `json:"problem"`
	// agency is the agency of the event's actor as stored (0: none, or no
	// event read there): a reader of one agency's events is listed only
	// its own people's. A PREVIOUS_HASH_MISMATCH is about the event before
	// too, whose hash no longer matches (it was rehashed, or this one
	// relinked): before is that event's agency.
	agency, before int
}

// concerns reports whether b is about an event of agency's people.
func (b Break) concerns(agency int) bool {
	return b.agency == agency || b.Kind == BreakPreviousHash && b.before == agency
}

// addBreak counts b, the first break when v was valid, and lists it in
// order of seq (after the breaks of the same seq) among the first
// MaxBreaks, and among the first MaxBreaks of each agency it concerns.
func (v *Verification) addBreak(b Break) {
	if v.Valid {
		v.Valid, v.BrokenAt, v.Problem = false, b.Seq, b.Problem
	}
	v.BreakCount++
	v.Breaks = insertBreak(v.Breaks, b)
	v.BreaksCut = v.BreaksCut || v.BreakCount > int64(len(v.Breaks))
	if b.Kind == BreakTailRemoved || b.Kind == BreakOutsideChain {
		// Past the chain's end, every reader's: at most one of each kind
		// per walk, and one more tail after it (anchored).
		v.past = append(v.past, b)
		return
	}
	agencies := []int{b.agency}
	if b.Kind == BreakPreviousHash && b.before != b.agency {
		agencies = append(agencies, b.before)
	}
	for _, agency := range agencies {
		own, ok := v.own[agency]
		if !ok && len(v.own) >= maxAgencyLists {
			v.agenciesCut = true
			continue
		}
		if v.own == nil {
			v.own = map[int]agencyBreaks{}
		}
		own.count++
		own.list = insertBreak(own.list, b)
		v.own[agency] = own
	}
}

// insertBreak inserts b in list, in order of seq after the breaks of the
// same seq, keeping the first MaxBreaks.
func insertBreak(list []Break, b Break) []Break {
	i, _ := slices.BinarySearchFunc(list, b.Seq+1, func(x Break, seq int64) int { return cmp.Compare(x.Seq, seq) })
	if i == len(list) && len(list) >= MaxBreaks {
		return list
	}
	list = slices.Insert(list, i, b)
	if len(list) > MaxBreaks {
		list = list[:MaxBreaks]
	}
	return list
}

// agencyBreaks are the first MaxBreaks breaks about one agency's events,
// and how many there are.
type agencyBreaks struct {
	list  []Break
	count int64
}

// maxAgencyLists bounds the agencies whose breaks a walk lists apart: the
// registry holds a few tens, but an agency id is what the events store,
// and a trail rewritten with a fresh id at every event would otherwise
// hold a list per event.
const maxAgencyLists = 256

// clone is v with lists of its own, for a reader to add to: v is every
// reader's of a shared walk.
func (v Verification) clone() Verification {
	v.Breaks, v.past = slices.Clone(v.Breaks), slices.Clone(v.past)
	if v.own != nil {
		own := make(map[int]agencyBreaks, len(v.own))
		for agency, a := range v.own {
			own[agency] = agencyBreaks{list: slices.Clone(a.list), count: a.count}
		}
		v.own = own
	}
	return v
}

// ForAgency is v as told to a reader of the events of one agency's
// people: the first MaxBreaks breaks at its own people's events (a broken
// link at the event after one of them too), kept apart during the walk
// however many others come before them, and those past the chain's end (a
// removed tail, events outside the chain), which name no event;
// BreaksCut says whether its own list was cut. The others are counted,
// not listed (BreaksWithheld): the seq of a break at another agency's
// event, and its kind, say something of an event whose hash the reader is
// not shown. What the reader was told before the walk went past the first
// break (BrokenAt, Problem), it still is. When breaks were at the events
// of more agencies than the walk lists apart, and not at this one's
// among them, the reader is listed its own of the first MaxBreaks of all
// and told its list was cut.
func (v Verification) ForAgency(agency int) Verification {
	own, ok := v.own[agency]
	switch {
	case ok || !v.agenciesCut:
		v.Breaks = slices.Concat(own.list, v.past)
		v.BreaksCut = own.count > int64(len(own.list))
		v.BreaksWithheld = v.BreakCount - own.count - int64(len(v.past))
	default:
		var listed []Break
		withheld := int64(0)
		for _, b := range v.Breaks {
			switch {
			case b.Kind == BreakTailRemoved || b.Kind == BreakOutsideChain:
			case b.concerns(agency):
				listed = append(listed, b)
			default:
				withheld++
			}
		}
		v.Breaks, v.BreaksCut, v.BreaksWithheld = append(listed, v.past...), true, withheld
	}
	v.own, v.past, v.agenciesCut = nil, nil, false
	return v
}

// Anchor is an event's number and hash kept outside the database (from an
// earlier verification or export). The chain alone cannot show that its
// last events were removed, or that someone able to drop the triggers
// rewrote it whole with fresh hashes; an anchor can.
type Anchor struct {
	Seq  int64
	Hash string
}

// verifyBatch is how many events are read at a time.
const verifyBatch = 5000

// Verify walks the whole chain in order and reports every broken link,
// checking also that each anchor's event is still there with its hash.
func Verify(ctx context.Context, client *ent.Client, anchors ...Anchor) (Verification, error) {
	return VerifyEach(ctx, client, nil, anchors...)
}

// VerifyEach is Verify, handing each break to each (when not nil) as it is
// found, in order of seq: the command prints them all, however many, where
// the Verification lists the first MaxBreaks. The walk holds a batch of
// events at a time, whatever the breaks.
func VerifyEach(ctx context.Context, client *ent.Client, each func(Break), anchors ...Anchor) (Verification, error) {
	sys := viewer.SystemContext(ctx)
	w := newWalk(anchors)
	w.each = each
	for {
		var dialectName string
		rows, err := client.AuditEvent.Query().Where(auditevent.IDGT(w.seq), dialectInto(&dialectName)).
			Order(ent.Asc(auditevent.FieldID)).Limit(verifyBatch).All(sys)
		if err != nil {
			named, nerr := misstoredUnreadable(sys, client, dialectName, w)
			if nerr != nil {
				return w.v, fmt.Errorf("audit: reading the chain's records: %w", nerr)
			}
			if named {
				continue // past the event that could not be read
			}
			return w.v, fmt.Errorf("audit: reading the chain: %w", err)
		}
		if len(rows) > 0 {
			if err := stepBatch(sys, client, dialectName, rows, w); err != nil {
				return w.v, fmt.Errorf("audit: reading the chain's records: %w", err)
			}
		}
		if len(rows) < verifyBatch {
			break
		}
	}
	if err := orphans(sys, client, w); err != nil {
		return w.v, err
	}
	return w.finish(), nil
}

// stepBatch steps w through rows, a batch of the chain in order, each
// event with its records. Every record of the batch's events is read,
// whether its event holds a digest or not (a record added to an event of
// one record shows), in one pass in the events' order beside them: what
// it holds is the batch's events and the records of one event, however
// many records the batch has.
func stepBatch(ctx context.Context, client *ent.Client, dialectName string, rows []*ent.AuditEvent, w *walk) error {
	// The clock is read after the rows: every event among them was
	// written before it.
	clock, err := clockOf(ctx, client, dialectName)
	if err != nil {
		return err
	}
	w.clock = clock.Add(ClockSkew)
	misstored, err := storedOtherwise(ctx, client, dialectName, rows[0].ID, rows[len(rows)-1].ID)
	if err != nil {
		return err
	}
	next := 0
	var records []Record // of rows[next]
	// stepBefore steps every event of the batch numbered below seq.
	stepBefore := func(seq int64) {
		for next < len(rows) && rows[next].ID < seq {
			r := rows[next]
			e := FromRow(r)
			e.Records, records = records, nil
			next++
			var kind BreakKind
			problem := ""
			switch {
			case r.EntityID != nil && *r.EntityID == 0, r.ActorAgencyID != nil && *r.ActorAgencyID == 0:
				// The hash writes an id that is absent as 0, so a 0 stored
				// where there was none hashes alike: it is no id ent gives
				// out, and the DPO's scope reads it otherwise than none.
				kind, problem = BreakStoredOtherwise, "its entity or agency id is 0, which no record has, where its hash covers none: it was altered"
			case misstored[e.Seq] != "":
				kind, problem = BreakStoredOtherwise, misstored[e.Seq]
			}
			w.step(e, kind, problem)
		}
	}
	err = scanRecords(ctx, client, recordsBetween(dialectName, rows[0].ID, rows[len(rows)-1].ID),
		func(seq int64, r Record) bool {
			stepBefore(seq)
			// A record whose number no event of the batch has is left to
			// the walk: the chain has a gap there, or orphans finds it.
			if next < len(rows) && rows[next].ID == seq {
				records = append(records, r)
			}
			return true
		})
	if err != nil {
		return err
	}
	stepBefore(math.MaxInt64)
	return nil
}

// clockOf reads the clock the writers of the chain share: PostgreSQL's
// (appendTx dates events by it), on SQLite this process's.
func clockOf(ctx context.Context, client *ent.Client, dialectName string) (time.Time, error) {
	if dialectName != dialect.Postgres {
		return time.Now(), nil
	}
	rows, err := client.QueryContext(ctx, "SELECT clock_timestamp()")
	if err != nil {
		return time.Time{}, fmt.Errorf("audit: reading the clock: %w", err)
	}
	defer rows.Close()
	var now time.Time
	if !rows.Next() {
		return time.Time{}, fmt.Errorf("audit: reading the clock: no answer (%v)", rows.Err())
	}
	if err := rows.Scan(&now); err != nil {
		return time.Time{}, fmt.Errorf("audit: reading the clock: %w", err)
	}
	return now, rows.Close()
}

// orphans checks, at the end of the walk, that nothing lies outside the
// chain: no event numbered 0 or below (the walk starts at 1, but the
// DPO's queries would list it), and no record of an event that does not
// exist (records are written with their event, in its transaction, so one
// appended meanwhile is not counted): such a record, planted ahead of the
// chain, would join the event that later takes its number. Each is a break
// just past the chain's end.
func orphans(ctx context.Context, client *ent.Client, w *walk) error {
	for _, outside := range []struct{ query, problem string }{
		{`SELECT max(id), count(*) FROM audit_events WHERE id <= 0`,
			"%d events are numbered 0 or below, outside the chain (the last numbered %d): they were added"},
		{`SELECT min(event_id), count(*) FROM ` + recordsTable + ` r
		WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.id = r.event_id AND e.id > 0)`,
			"%d records belong to no event of the chain (the first to event %d): they were added"},
	} {
		first, n, err := countOutside(ctx, client, outside.query)
		if err != nil {
			return fmt.Errorf("audit: reading what lies outside the chain: %w", err)
		}
		if n > 0 {
			w.add(Break{Seq: w.v.WalkedTo + 1, Kind: BreakOutsideChain, Problem: fmt.Sprintf(outside.problem, n, first)})
		}
	}
	return nil
}

// countOutside runs a query of one row (an id, a count).
func countOutside(ctx context.Context, client *ent.Client, query string) (int64, int64, error) {
	rows, err := client.QueryContext(ctx, query)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	var first stdsql.NullInt64
	var n int64
	if rows.Next() {
		if err := rows.Scan(&first, &n); err != nil {
			return 0, 0, err
		}
	}
	return first.Int64, n, rows.Err()
}

// storedOtherwise returns the events numbered first to last (with what is
// wrong) whose values SQLite holds otherwise than the writers store them,
// which their hash cannot show: it covers the values as read back, and
// SQLite reads the text '42' back as the number 42, but compares what is
// stored, so the DPO's filters (by record, by agency, by subject,
// emergency reads), the agency's scope and an export's --since pass over
// such an event. A hunt with write access to the file retyped a read's
// entity_id as a blob, and the read vanished from every filter while
// verify said OK. So each column must hold the storage class
// the writer gives it (text, an integer, an integer or NULL, emergency 0
// or 1), each record of the event likewise, and the time the UTC text
// the writer gives every time (time.Time.String of a UTC time, once with
// the monotonic clock reading the driver wrote before
// database.wallClock), exactly: a check of its suffix alone (" +0000 UTC")
// passed a time with a space or a newline before it, or an hour of one
// digit, which the driver reads back as the same instant but which sorts
// apart from every other time, out of the DPO's time ranges and an
// export's --since (a hunt), and text the driver cannot read at all,
// which stopped the walk with its error. PostgreSQL stores each value as
// its column's type: nothing to check there.
func storedOtherwise(ctx context.Context, client *ent.Client, dialectName string, first, last int64) (map[int64]string, error) {
	if dialectName != dialect.SQLite {
		return nil, nil
	}
	// Every event's time is read as text, to be compared in Go with the
	// writer's: a pattern in SQL cannot say that the date is one.
	query := `SELECT id, CAST(occurred_at AS TEXT),
		` + notStoredAs("text", append([]string{"occurred_at"}, textColumns...)...) + `
		OR typeof(actor_agency_id) NOT IN ('integer', 'null') OR typeof(entity_id) NOT IN ('integer', 'null')
		OR typeof(emergency) != 'integer' OR emergency NOT IN (0, 1)
		OR EXISTS (SELECT 1 FROM audit_event_records r WHERE r.event_id = e.id
			AND (typeof(r.event_id) != 'integer' OR typeof(r.entity_id) != 'integer' OR typeof(r.nonce) != 'text')) AS retyped
		FROM audit_events e WHERE id BETWEEN ? AND ?`
	return eventsStoredWrong(ctx, client, query, first, last, func(rows *stdsql.Rows) (int64, string, error) {
		var id int64
		var at stdsql.NullString
		var retyped bool
		if err := rows.Scan(&id, &at, &retyped); err != nil {
			return 0, "", err
		}
		if !storedAsWritten(at.String) {
			return id, fmt.Sprintf("its time is stored as %q, not as the writers store a time (in UTC, to the microsecond, as time.Time.String writes it): SQLite compares times as text, so a search by time would miss it, and the hash covers no digit past the microsecond; it was altered", at.String), nil
		}
		if retyped {
			return id, "a value of it or of its records is stored as another type than the writers store (text for a number, say): its hash reads it back alike, but SQLite compares what is stored, so the DPO's searches would miss it; it was altered", nil
		}
		return id, "", nil
	})
}

// eventsStoredWrong runs query, a statement over the events numbered first
// to last, and returns what read says is wrong with each event it reads
// from a row, by event; read says "" of an event stored as written.
func eventsStoredWrong(ctx context.Context, client *ent.Client, query string, first, last int64, read func(*stdsql.Rows) (int64, string, error)) (map[int64]string, error) {
	rows, err := client.QueryContext(ctx, query, first, last)
	if err != nil {
		return nil, fmt.Errorf("audit: reading how the chain is stored: %w", err)
	}
	defer rows.Close()
	bad := map[int64]string{}
	for rows.Next() {
		id, wrong, err := read(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: reading how the chain is stored: %w", err)
		}
		if wrong != "" {
			bad[id] = wrong
		}
	}
	return bad, rows.Err()
}

// sqliteTimeLayout is the layout of time.Time.String, as the writers store
// a time on SQLite.
const sqliteTimeLayout = "2006-01-02 15:04:05.999999999 -0700 MST"

// storedAsWritten reports whether text is a time as the writers store it
// on SQLite: time.Time.String of a UTC time truncated to the microsecond
// (timePrecision, as the hash covers it), with the monotonic clock reading
// the driver once wrote after it (" m=+0.012345678") or without. Digits
// past the microsecond, which the hash does not cover, were read back as
// the event's time and verified (the DPO's hunt, twenty-sixth session).
func storedAsWritten(text string) bool {
	at, monotonic, hasMonotonic := strings.Cut(text, " m=")
	if hasMonotonic && !monotonicReading(monotonic) {
		return false
	}
	t, err := time.Parse(sqliteTimeLayout, at)
	return err == nil && t.UTC().String() == at && toThePrecision(t)
}

// toThePrecision reports whether t has no digit past timePrecision, the
// precision the writers store and the hash covers.
func toThePrecision(t time.Time) bool { return t.Equal(t.Truncate(timePrecision)) }

// monotonicReading reports whether s is what time.Time.String writes of
// the monotonic clock after "m=": a sign, seconds, and nine decimals.
func monotonicReading(s string) bool {
	if len(s) < 1 || (s[0] != '+' && s[0] != '-') {
		return false
	}
	whole, decimals, ok := strings.Cut(s[1:], ".")
	return ok && whole != "" && len(decimals) == 9 &&
		strings.Trim(whole, "0123456789") == "" && strings.Trim(decimals, "0123456789") == ""
}

// nonFinite returns the events numbered first to last that PostgreSQL
// holds dated 'infinity' or '-infinity': a value of the column's type,
// which the writers never store and the driver cannot read back as a time,
// so that reading a batch holding one fails.
func nonFinite(ctx context.Context, client *ent.Client, first, last int64) (map[int64]string, error) {
	query := `SELECT id, occurred_at::text FROM audit_events
		WHERE id BETWEEN $1 AND $2 AND NOT isfinite(occurred_at)`
	return eventsStoredWrong(ctx, client, query, first, last, func(rows *stdsql.Rows) (int64, string, error) {
		var id int64
		var at string
		err := rows.Scan(&id, &at)
		return id, fmt.Sprintf("it is dated %s, which no writer stores and no reader can read as a time: it was added by hand", at), err
	})
}

// misstoredUnreadable names the event a batch of the chain could not be
// read for, when it is one SQLite holds as another type than the writers
// store (a time stored as a blob does not even read back as a time): the
// events before it are walked, it breaks there, and the walk goes on
// after it, re-anchored on its stored hash (read as text), where reading
// the batch once failed with the driver's error (a review). It reports
// whether it named one.
func misstoredUnreadable(ctx context.Context, client *ent.Client, dialectName string, w *walk) (bool, error) {
	find := storedOtherwise
	if dialectName == dialect.Postgres {
		find = func(ctx context.Context, client *ent.Client, _ string, first, last int64) (map[int64]string, error) {
			return nonFinite(ctx, client, first, last)
		}
	}
	bad, err := find(ctx, client, dialectName, w.seq+1, w.seq+verifyBatch)
	if err != nil || len(bad) == 0 {
		return false, nil
	}
	seq := slices.Min(slices.Collect(maps.Keys(bad)))
	before, err := client.AuditEvent.Query().Where(auditevent.IDGT(w.seq), auditevent.IDLT(seq)).
		Order(ent.Asc(auditevent.FieldID)).All(ctx)
	if err != nil {
		return false, nil
	}
	if len(before) > 0 {
		if err := stepBatch(ctx, client, dialectName, before, w); err != nil {
			return false, err
		}
	}
	if alone, err := client.AuditEvent.Query().Where(auditevent.ID(seq)).All(ctx); err == nil && len(alone) == 1 {
		return true, stepBatch(ctx, client, dialectName, alone, w)
	}
	var hash string
	var agency stdsql.NullInt64
	query := `SELECT CAST(hash AS TEXT), CAST(actor_agency_id AS INTEGER) FROM audit_events WHERE id = ?`
	if dialectName == dialect.Postgres {
		query = `SELECT hash, actor_agency_id FROM audit_events WHERE id = $1`
	}
	rows, err := client.QueryContext(ctx, query, seq)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&hash, &agency); err != nil {
			return false, err
		}
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	w.stepUnread(seq, int(agency.Int64), hash, bad[seq])
	return true, nil
}

// textColumns are the columns of audit_events the writers store as text.
var textColumns = []string{"kind", "request_id", "operation", "client_address", "actor_subject", "actor_agency", "actor_roles",
	"entity_type", "fields", "decision", "rule", "reason", "justification", "detail", "prev_hash", "hash"}

// notStoredAs is SQLite's "one of columns is not stored as class".
func notStoredAs(class string, columns ...string) string {
	var b strings.Builder
	for i, c := range columns {
		if i > 0 {
			b.WriteString(" OR ")
		}
		fmt.Fprintf(&b, "typeof(%s) != '%s'", c, class)
	}
	return b.String()
}

// VerifyExport checks a JSON-lines export (Export) on its own, without the
// database: the Commissioner's check. An export is a run of the chain; its
// first event's prevHash is taken as given unless an anchor names the
// event just before the run (pass what an earlier export or verification
// ended with), or the run starts at event 1, whose prevHash is 64 zeros. An anchor before that cannot be checked against the file
// and is refused, as is a line whose keys are not exactly an event's:
// encoding/json would read "ACTORSUBJECT" or a second "actorSubject" into
// the hashed field while every other reader of the file sees another.
func VerifyExport(r io.Reader, anchors ...Anchor) (Verification, error) {
	return VerifyExportEach(r, nil, anchors...)
}

// VerifyExportEach is VerifyExport, handing each break to each (when not
// nil) as it is found.
func VerifyExportEach(r io.Reader, each func(Break), anchors ...Anchor) (Verification, error) {
	w := newWalk(anchors)
	w.each = each
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	first := true
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := exportedKeys(sc.Bytes()); err != nil {
			return w.v, fmt.Errorf("line %d is not an exported event: %w", line, err)
		}
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return w.v, fmt.Errorf("line %d is not an exported event: %w", line, err)
		}
		if first {
			// The run starts where the export starts.
			for _, a := range anchors {
				if a.Seq < e.Seq-1 {
					return w.v, fmt.Errorf("the anchor at event %d lies before the export, which starts at event %d: it cannot be checked against this file (give the anchor of event %d, or of one within the export)", a.Seq, e.Seq, e.Seq-1)
				}
			}
			w.seq, w.hash = e.Seq-1, e.PrevHash
			if e.Seq == 1 {
				// Every chain starts from 64 zeros, as the walk of the
				// database does: an export from event 1 linked elsewhere
				// verified (the DPO's hunt, twenty-sixth session).
				w.hash = GenesisHash
			}
			w.v.LastSeq, w.v.LastHash, w.v.WalkedTo = e.Seq-1, w.hash, e.Seq-1
			if want := w.want[e.Seq-1]; want != "" && want != e.PrevHash {
				w.add(Break{Seq: e.Seq, Kind: BreakAnchor, Problem: "its previous hash is not the anchor's: the chain was rewritten from here", agency: e.ActorAgencyID})
			}
			first = false
		}
		var kind BreakKind
		problem := ""
		if !writtenInUTC(sc.Bytes(), e) {
			kind, problem = BreakStoredOtherwise, "its time is written with an offset other than UTC (Z), as the export never writes it: the same instant hashes alike, but a reader selecting events by the text of their date would miss it; it was altered"
		} else if !toThePrecision(e.OccurredAt) {
			kind, problem = BreakStoredOtherwise, "its time is written past the microsecond, as the export never writes it: the hash covers no digit past the microsecond, so another time verified alike; it was altered"
		}
		w.step(e, kind, problem)
	}
	if err := sc.Err(); err != nil {
		return w.v, err
	}
	return w.finish(), nil
}

// writtenInUTC reports whether line, an exported event e, writes its time
// as Export does: in UTC, RFC 3339 ("Z"). A line rewritten to
// "2026-12-05T14:01:28-12:00" is the same instant, so its hash holds, and
// it once verified (a hunt).
func writtenInUTC(line []byte, e Event) bool {
	var raw struct {
		OccurredAt string `json:"occurredAt"`
	}
	return json.Unmarshal(line, &raw) == nil && raw.OccurredAt == e.OccurredAt.UTC().Format(time.RFC3339Nano)
}

// The keys an exported line may hold: the JSON names of Event's fields,
// and of Record's within "records".
var eventKeys, recordKeys = jsonNames(Event{}), jsonNames(Record{})

func jsonNames(v any) map[string]bool {
	names := map[string]bool{}
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

// exportedKeys checks that line is one JSON object whose keys are each an
// event's, exactly as spelled and once, and whose records' are a record's.
func exportedKeys(line []byte) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	object := func(allowed map[string]bool, value func(key string) error) error {
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return fmt.Errorf("not a JSON object")
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			if !allowed[key] || seen[key] {
				return fmt.Errorf("the key %q is unknown or repeated", key)
			}
			seen[key] = true
			if err := value(key); err != nil {
				return err
			}
		}
		_, err := dec.Token() // the closing brace
		return err
	}
	skip := func(string) error { var v json.RawMessage; return dec.Decode(&v) }
	err := object(eventKeys, func(key string) error {
		if key != "records" {
			return skip(key)
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return fmt.Errorf("records is not a list")
		}
		for dec.More() {
			if err := object(recordKeys, skip); err != nil {
				return err
			}
		}
		_, err := dec.Token() // the closing bracket
		return err
	})
	if err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("more than one JSON value")
	}
	return nil
}

// walk checks events one after the other. After a break it goes on from
// the broken event's stored hash (re-anchors), so that an altered event is
// one break and the events after it are checked against each other; the
// time an event may not precede stays the last intact event's, so that a
// time altered far ahead does not break every event after it. An event
// whose successor does not link to it is not intact after all (it was
// rehashed, or its successor relinked): it is counted back and its time
// is no reference, so that one event rehashed with its time moved ahead
// is one break, not a break at every event after it (a review).
type walk struct {
	v        Verification
	want     map[int64]string
	furthest int64
	seq      int64     // the furthest event walked (an export's lines may go back)
	hash     string    // its stored hash
	agency   int       // its actor's agency as stored
	lastTime time.Time // of the last intact event, as its hash covers it
	// intact says the last event walked was counted intact, and
	// timeBefore is lastTime as it was before it; verifiedBefore is the
	// verified end (LastSeq, LastHash) as it was before it.
	intact         bool
	timeBefore     time.Time
	verifiedBefore struct {
		seq  int64
		hash string
	}
	// clock is the latest time an event may bear: the verification's
	// clock, read after the events were, plus ClockSkew.
	clock time.Time
	each  func(Break)
}

func newWalk(anchors []Anchor) *walk {
	w := &walk{v: Verification{Valid: true, LastHash: GenesisHash}, want: map[int64]string{}, hash: GenesisHash,
		clock: time.Now().Add(ClockSkew)}
	for _, a := range anchors {
		if had := w.want[a.Seq]; had != "" && had != a.Hash {
			// Two hashes for one event: one of them is not the chain's,
			// whichever comes last (the last used to win, so a wrong
			// anchor before a right one verified; a review).
			a.Hash = conflictingAnchors
		}
		w.want[a.Seq] = a.Hash
		w.furthest = max(w.furthest, a.Seq)
	}
	return w
}

// step checks e, the next event, given a problem already found with how
// it is stored (kind and problem, or ""), and goes on from its stored hash.
// An event is at most one break of its own, the first problem found, and
// besides may follow a gap and mismatch an anchor; a broken link is listed
// even where a problem with how the event is stored was found first.
func (w *walk) step(e Event, kind BreakKind, problem string) {
	agency := e.ActorAgencyID
	inOrder := e.Seq > w.seq
	linked := w.numbered(e.Seq, agency)
	if linked && e.PrevHash != w.hash && w.intact {
		// The event before does not hold: its hash is not the one this
		// event links to. Nor is it verified: its hash, which a DPO keeps
		// as an anchor, may be a forgery (a review).
		w.v.Intact--
		w.lastTime = w.timeBefore
		if w.v.Valid {
			w.v.Checked--
			w.v.LastSeq, w.v.LastHash = w.verifiedBefore.seq, w.verifiedBefore.hash
		}
	}
	if problem != "" && linked && e.PrevHash != w.hash {
		// A problem with how the event is stored must not hide that it
		// does not link to the event before: that one's agency is told
		// of the link (a review).
		w.add(Break{Seq: e.Seq, Kind: BreakPreviousHash, Problem: brokenLink, agency: agency, before: w.agency})
	}
	if problem == "" {
		kind, problem = w.check(e, linked, inOrder)
	}
	if problem != "" {
		w.add(Break{Seq: e.Seq, Kind: kind, Problem: problem, agency: agency, before: w.agency})
	}
	if want := w.want[e.Seq]; want != "" && want != e.Hash {
		w.add(Break{Seq: e.Seq, Kind: BreakAnchor, Problem: anchorMismatch, agency: agency})
	}
	if !inOrder {
		// A line repeated or moved back: the walk stays at the furthest
		// event, which the next one follows and links to; this one was
		// a break of its own (a line moved back made the next line a
		// gap back to it, a review).
		return
	}
	w.intact = linked && problem == ""
	if w.intact {
		w.v.Intact++
		w.timeBefore, w.lastTime = w.lastTime, hashedTime(e)
		if w.v.Valid {
			w.v.Checked++
			w.verifiedBefore.seq, w.verifiedBefore.hash = w.v.LastSeq, w.v.LastHash
			w.v.LastSeq, w.v.LastHash = e.Seq, e.Hash
		}
	}
	w.seq, w.hash, w.agency = e.Seq, e.Hash, agency
}

// stepUnread steps past event seq, which could not be read (problem says
// why): it breaks there and the walk goes on from its stored hash.
func (w *walk) stepUnread(seq int64, agency int, hash, problem string) {
	w.numbered(seq, agency)
	w.intact = false
	w.add(Break{Seq: seq, Kind: BreakStoredOtherwise, Problem: problem, agency: agency})
	if want := w.want[seq]; want != "" && want != hash {
		w.add(Break{Seq: seq, Kind: BreakAnchor, Problem: anchorMismatch, agency: agency})
	}
	w.seq, w.hash, w.agency = seq, hash, agency
}

// numbered counts event seq walked and checks its number follows the last
// one's: it reports whether it does, and so whether its link to the event
// before can be checked.
func (w *walk) numbered(seq int64, agency int) bool {
	w.v.Walked++
	w.v.WalkedTo = max(w.v.WalkedTo, seq)
	switch {
	case seq <= w.seq:
		w.add(Break{Seq: seq, Kind: BreakOutOfOrder, Problem: fmt.Sprintf("it is numbered %d after event %d: events are repeated or out of order", seq, w.seq), agency: agency})
	case seq != w.seq+1:
		w.add(Break{Seq: seq, Kind: BreakMissingEvents, Problem: fmt.Sprintf("events %d to %d are missing", w.seq+1, seq-1), agency: agency})
	default:
		return true
	}
	return false
}

// check returns what is wrong with e itself, the first thing found, and
// its link to the event before when linked. An event numbered out of
// order (inOrder false) is not checked against the time of events
// numbered after it.
func (w *walk) check(e Event, linked, inOrder bool) (BreakKind, string) {
	if linked && e.PrevHash != w.hash {
		return BreakPreviousHash, brokenLink
	}
	if kind, problem := ownBreak(e); kind != "" {
		return kind, problem
	}
	switch {
	case inOrder && hashedTime(e).Before(w.lastTime):
		// The writers date an event, under the chain's lock, no earlier
		// than the one before it (TestTimesFollowTheChain): one dated
		// earlier was written by something else, its hashes computed by
		// hand (the hash has no key), to be found among older events.
		return BreakDatedBefore, "it is dated before the event before it, which the writers never do: it was added by hand"
	case hashedTime(e).After(w.clock):
		// The writers date no event past the clock they share (appendTx):
		// one dated ahead was appended by hand, and once made every later
		// event dated in its future (a hunt).
		return BreakDatedInFuture, "it is dated after the clock of the verification, which the writers never do: it was added by hand"
	}
	return "", ""
}

// ownBreak returns what is wrong with e alone, with all its records, the
// first thing found: the checks of the walk that need no other event and
// no clock, which Query also asks of each event it lists (HashMatches).
func ownBreak(e Event) (BreakKind, string) {
	switch {
	case e.ComputeHash() != e.Hash:
		return BreakHash, "its content does not match its hash: it was altered"
	case !recordsMatch(e):
		return BreakRecords, "its records do not match the digest its hash covers: records were added or removed"
	case !listsRoundTrip(e.Fields) || !listsRoundTrip(e.ActorRoles):
		// The hash joins a list with commas: ["a,b"] hashes as ["a","b"],
		// and an export whose line was so rewritten would verify while a
		// reader looking for "b" passes it over.
		return BreakStoredOtherwise, "a field or role name is empty or holds a comma, which its hash cannot tell from two: it was altered"
	}
	return "", ""
}

// brokenLink is the problem of an event that does not link to the one
// before it.
const brokenLink = "its previous hash is not the hash of the event before it"

// add records b, handing it on to each.
func (w *walk) add(b Break) {
	w.v.addBreak(b)
	if w.each != nil {
		w.each(b)
	}
}

// hashedTime is e's time as its hash covers it.
func hashedTime(e Event) time.Time { return e.OccurredAt.UTC().Truncate(timePrecision) }

// listsRoundTrip reports whether names, joined with commas as the hash
// joins them, split back into the same names.
func listsRoundTrip(names []string) bool {
	for _, n := range names {
		if n == "" || strings.Contains(n, ",") {
			return false
		}
	}
	return true
}

// anchored checks anchors against v, a walk of the chain without them, as
// the walk would have: each anchor whose event's stored hash is not its
// own is a break there (the first break, with the chain verified up to the
// event before it, when it comes before v's), and an anchor past v's end
// says that the chain lost its end. An anchor on an event missing within
// the chain adds nothing to the gap's break, as in the walk. The hashes
// are read after the walk, so an event the walk verified and someone
// changed since shows as a mismatch.
func anchored(ctx context.Context, client *ent.Client, v Verification, anchors []Anchor) (Verification, error) {
	if len(anchors) == 0 {
		return v, nil
	}
	want := newWalk(anchors).want
	seqs := slices.Sorted(maps.Keys(want))
	var read []int64
	for _, seq := range seqs {
		if seq <= v.WalkedTo {
			read = append(read, seq, seq-1)
		}
	}
	hashes, agencies := map[int64]string{0: GenesisHash}, map[int64]int{}
	if len(read) > 0 {
		rows, err := client.AuditEvent.Query().Where(auditevent.IDIn(read...)).
			Select(auditevent.FieldID, auditevent.FieldHash, auditevent.FieldActorAgencyID).All(viewer.SystemContext(ctx))
		if err != nil {
			return v, fmt.Errorf("audit: reading the anchors' events: %w", err)
		}
		for _, r := range rows {
			hashes[r.ID] = r.Hash
			if r.ActorAgencyID != nil {
				agencies[r.ID] = *r.ActorAgencyID
			}
		}
	}
	v = v.clone() // v is every reader's of a shared walk
	for _, seq := range seqs {
		stored, ok := hashes[seq]
		if seq > v.WalkedTo || !ok || stored == want[seq] {
			continue
		}
		first := v.Valid || seq < v.BrokenAt
		v.addBreak(Break{Seq: seq, Kind: BreakAnchor, Problem: anchorMismatch, agency: agencies[seq]})
		if first {
			// The walk would have broken first here, its end the event
			// before.
			v.Valid, v.BrokenAt, v.Problem = false, seq, anchorMismatch
			v.Checked, v.LastSeq, v.LastHash = seq-1, seq-1, hashes[seq-1]
		}
	}
	w := &walk{v: v, seq: v.WalkedTo, furthest: seqs[len(seqs)-1]}
	return w.finish(), nil
}

// conflictingAnchors stands for the hash of an event two anchors give
// otherwise: no hash is it.
const conflictingAnchors = "two anchors of this event"

// anchorMismatch is the problem of an event whose hash is not its anchor's.
const anchorMismatch = "its hash is not the anchor's: the chain was rewritten up to here"

// finish checks, at the chain's end, that no anchor lies beyond it.
func (w *walk) finish() Verification {
	if w.v.WalkedTo < w.furthest {
		w.add(Break{Seq: w.v.WalkedTo + 1, Kind: BreakTailRemoved,
			Problem: fmt.Sprintf("the chain ends at event %d but an anchor names event %d: events were removed from its end", w.v.WalkedTo, w.furthest)})
	}
	return w.v
}

// recordsMatch reports whether e's records are those its detail's digest
// covers (none for an event without a digest), each with a well-formed
// nonce and an id of its own: a nonce that held a newline and another
// line would let two records pass for one under the same digest.
func recordsMatch(e Event) bool {
	digest, ok := digestOf(e.Detail)
	if !ok {
		return len(e.Records) == 0
	}
	if e.EntityID != 0 || len(e.Records) == 0 {
		return false
	}
	seen := make(map[int]bool, len(e.Records))
	for _, r := range e.Records {
		if r.ID <= 0 || seen[r.ID] || !wellFormedNonce(r.Nonce) {
			return false
		}
		seen[r.ID] = true
	}
	return RecordsDigest(e.Records) == digest
}
