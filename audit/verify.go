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

// Verification is the result of walking the chain.
type Verification struct {
	// Valid is true when every event's hash is its content's and links to
	// the event before it, with no number missing.
	Valid bool `json:"valid"`
	// Checked counts the events walked.
	Checked int64 `json:"checked"`
	// LastSeq and LastHash are the chain's end: keep them elsewhere to
	// detect a truncated tail later.
	LastSeq  int64  `json:"lastSeq"`
	LastHash string `json:"lastHash"`
	// BrokenAt is the first event that does not verify (0 when valid),
	// and Problem says how.
	BrokenAt int64  `json:"brokenAt,omitempty"`
	Problem  string `json:"problem,omitempty"`
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

// Verify walks the whole chain in order and reports the first broken link,
// checking also that each anchor's event is still there with its hash.
func Verify(ctx context.Context, client *ent.Client, anchors ...Anchor) (Verification, error) {
	sys := viewer.SystemContext(ctx)
	w := newWalk(anchors)
	for {
		var dialectName string
		rows, err := client.AuditEvent.Query().Where(auditevent.IDGT(w.v.LastSeq), dialectInto(&dialectName)).
			Order(ent.Asc(auditevent.FieldID)).Limit(verifyBatch).All(sys)
		if err != nil {
			if v, named := misstoredUnreadable(sys, client, dialectName, w); named {
				return v, nil
			}
			return w.v, fmt.Errorf("audit: reading the chain: %w", err)
		}
		if len(rows) == 0 {
			return orphans(sys, client, w.finish())
		}
		valid, err := stepBatch(sys, client, dialectName, rows, w)
		if err != nil {
			return w.v, fmt.Errorf("audit: reading the chain's records: %w", err)
		}
		if !valid {
			return w.v, nil
		}
		if len(rows) < verifyBatch {
			return orphans(sys, client, w.finish())
		}
	}
}

// stepBatch steps w through rows, a batch of the chain in order, each
// event with its records. Every record of the batch's events is read,
// whether its event holds a digest or not (a record added to an event of
// one record shows), in one pass in the events' order beside them: what
// it holds is the batch's events and the records of one event, however
// many records the batch has. It reports whether the walk is still valid.
func stepBatch(ctx context.Context, client *ent.Client, dialectName string, rows []*ent.AuditEvent, w *walk) (bool, error) {
	misstored, err := storedOtherwise(ctx, client, dialectName, rows[0].ID, rows[len(rows)-1].ID)
	if err != nil {
		return false, err
	}
	next, valid := 0, true
	var records []Record // of rows[next]
	// stepBefore steps every event of the batch numbered below seq.
	stepBefore := func(seq int64) bool {
		for valid && next < len(rows) && rows[next].ID < seq {
			r := rows[next]
			e := FromRow(r)
			e.Records, records = records, nil
			next++
			switch {
			case r.EntityID != nil && *r.EntityID == 0, r.ActorAgencyID != nil && *r.ActorAgencyID == 0:
				// The hash writes an id that is absent as 0, so a 0 stored
				// where there was none hashes alike: it is no id ent gives
				// out, and the DPO's scope reads it otherwise than none.
				valid = w.fail(e.Seq, "its entity or agency id is 0, which no record has, where its hash covers none: it was altered")
			case misstored[e.Seq] != "":
				valid = w.fail(e.Seq, misstored[e.Seq])
			default:
				valid = w.step(e)
			}
		}
		return valid
	}
	err = scanRecords(ctx, client, recordsBetween(dialectName, rows[0].ID, rows[len(rows)-1].ID),
		func(seq int64, r Record) bool {
			if !stepBefore(seq) {
				return false
			}
			// A record whose number no event of the batch has is left to
			// the walk: the chain has a gap there, or orphans finds it.
			if next < len(rows) && rows[next].ID == seq {
				records = append(records, r)
			}
			return true
		})
	if err != nil {
		return false, err
	}
	return stepBefore(math.MaxInt64), nil
}

// orphans checks, at the end of a valid walk, that nothing lies outside
// the chain: no event numbered 0 or below (the walk starts at 1, but the
// DPO's queries would list it), and no record of an event that does not
// exist (records are written with their event, in its transaction, so one
// appended meanwhile is not counted): such a record, planted ahead of the
// chain, would join the event that later takes its number.
func orphans(ctx context.Context, client *ent.Client, v Verification) (Verification, error) {
	if !v.Valid {
		return v, nil
	}
	for _, outside := range []struct{ query, problem string }{
		{`SELECT max(id), count(*) FROM audit_events WHERE id <= 0`,
			"%d events are numbered 0 or below, outside the chain (the last numbered %d): they were added"},
		{`SELECT min(event_id), count(*) FROM ` + recordsTable + ` r
		WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.id = r.event_id AND e.id > 0)`,
			"%d records belong to no event of the chain (the first to event %d): they were added"},
	} {
		first, n, err := countOutside(ctx, client, outside.query)
		if err != nil {
			return v, fmt.Errorf("audit: reading what lies outside the chain: %w", err)
		}
		if n > 0 {
			v.Valid, v.BrokenAt = false, v.LastSeq+1
			v.Problem = fmt.Sprintf(outside.problem, n, first)
			return v, nil
		}
	}
	return v, nil
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
// database.wallClock). PostgreSQL stores each value as its column's type:
// nothing to check there.
func storedOtherwise(ctx context.Context, client *ent.Client, dialectName string, first, last int64) (map[int64]string, error) {
	if dialectName != dialect.SQLite {
		return nil, nil
	}
	rows, err := client.QueryContext(ctx, `SELECT id, offset FROM (SELECT id,
		CAST(occurred_at AS TEXT) NOT LIKE '% +0000 UTC' AND CAST(occurred_at AS TEXT) NOT LIKE '% +0000 UTC m=%' AS offset,
		`+notStoredAs("text", append([]string{"occurred_at"}, textColumns...)...)+`
		OR typeof(actor_agency_id) NOT IN ('integer', 'null') OR typeof(entity_id) NOT IN ('integer', 'null')
		OR typeof(emergency) != 'integer' OR emergency NOT IN (0, 1)
		OR EXISTS (SELECT 1 FROM audit_event_records r WHERE r.event_id = e.id
			AND (typeof(r.event_id) != 'integer' OR typeof(r.entity_id) != 'integer' OR typeof(r.nonce) != 'text')) AS retyped
		FROM audit_events e WHERE id BETWEEN ? AND ?) WHERE offset OR retyped`, first, last)
	if err != nil {
		return nil, fmt.Errorf("audit: reading how the chain is stored: %w", err)
	}
	defer rows.Close()
	bad := map[int64]string{}
	for rows.Next() {
		var id int64
		var offset bool
		if err := rows.Scan(&id, &offset); err != nil {
			return nil, fmt.Errorf("audit: reading how the chain is stored: %w", err)
		}
		bad[id] = "a value of it or of its records is stored as another type than the writers store (text for a number, say): its hash reads it back alike, but SQLite compares what is stored, so the DPO's searches would miss it; it was altered"
		if offset {
			bad[id] = "its time is stored with an offset other than UTC: SQLite compares times as text, so a search by time would miss it; it was altered"
		}
	}
	return bad, rows.Err()
}

// misstoredUnreadable names the event a batch of the chain could not be
// read for, when it is one SQLite holds as another type than the writers
// store (a time stored as a blob does not even read back as a time): the
// events before it are walked, and the chain breaks there, where reading
// the batch once failed with the driver's error (a review).
func misstoredUnreadable(ctx context.Context, client *ent.Client, dialectName string, w *walk) (Verification, bool) {
	bad, err := storedOtherwise(ctx, client, dialectName, w.v.LastSeq+1, w.v.LastSeq+verifyBatch)
	if err != nil || len(bad) == 0 {
		return w.v, false
	}
	seq := slices.Min(slices.Collect(maps.Keys(bad)))
	before, err := client.AuditEvent.Query().Where(auditevent.IDGT(w.v.LastSeq), auditevent.IDLT(seq)).
		Order(ent.Asc(auditevent.FieldID)).All(ctx)
	if err != nil {
		return w.v, false
	}
	if len(before) > 0 {
		if valid, err := stepBatch(ctx, client, dialectName, before, w); err != nil || !valid {
			return w.v, err == nil
		}
	}
	w.fail(seq, bad[seq])
	return w.v, true
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
// ended with). An anchor before that cannot be checked against the file
// and is refused, as is a line whose keys are not exactly an event's:
// encoding/json would read "ACTORSUBJECT" or a second "actorSubject" into
// the hashed field while every other reader of the file sees another.
func VerifyExport(r io.Reader, anchors ...Anchor) (Verification, error) {
	w := newWalk(anchors)
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
			w.v.LastSeq, w.v.LastHash = e.Seq-1, e.PrevHash
			if want := w.want[e.Seq-1]; want != "" && want != e.PrevHash {
				w.v.Valid, w.v.BrokenAt = false, e.Seq
				w.v.Problem = "its previous hash is not the anchor's: the chain was rewritten from here"
				return w.v, nil
			}
			first = false
		}
		if !writtenInUTC(sc.Bytes(), e) {
			w.fail(e.Seq, "its time is written with an offset other than UTC (Z), as the export never writes it: the same instant hashes alike, but a reader selecting events by the text of their date would miss it; it was altered")
			return w.v, nil
		}
		if !w.step(e) {
			return w.v, nil
		}
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

// walk checks events one after the other.
type walk struct {
	v        Verification
	want     map[int64]string
	furthest int64
	lastTime time.Time // of the last event checked, as its hash covers it
}

func newWalk(anchors []Anchor) *walk {
	w := &walk{v: Verification{Valid: true, LastHash: GenesisHash}, want: map[int64]string{}}
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

// step checks e, the next event; false at the first broken link.
func (w *walk) step(e Event) bool {
	problem := ""
	switch {
	case e.Seq != w.v.LastSeq+1:
		problem = fmt.Sprintf("events %d to %d are missing", w.v.LastSeq+1, e.Seq-1)
	case e.PrevHash != w.v.LastHash:
		problem = "its previous hash is not the hash of the event before it"
	case e.ComputeHash() != e.Hash:
		problem = "its content does not match its hash: it was altered"
	case !recordsMatch(e):
		problem = "its records do not match the digest its hash covers: records were added or removed"
	case w.want[e.Seq] != "" && w.want[e.Seq] != e.Hash:
		problem = anchorMismatch
	case hashedTime(e).Before(w.lastTime):
		// The writers date an event, under the chain's lock, no earlier
		// than the one before it (TestTimesFollowTheChain): one dated
		// earlier was written by something else, its hashes computed by
		// hand (the hash has no key), to be found among older events.
		problem = "it is dated before the event before it, which the writers never do: it was added by hand"
	case !listsRoundTrip(e.Fields) || !listsRoundTrip(e.ActorRoles):
		// The hash joins a list with commas: ["a,b"] hashes as ["a","b"],
		// and an export whose line was so rewritten would verify while a
		// reader looking for "b" passes it over.
		problem = "a field or role name is empty or holds a comma, which its hash cannot tell from two: it was altered"
	}
	if problem != "" {
		return w.fail(e.Seq, problem)
	}
	w.v.Checked++
	w.v.LastSeq, w.v.LastHash, w.lastTime = e.Seq, e.Hash, hashedTime(e)
	return true
}

// fail records the first broken link, at event seq; it returns false.
func (w *walk) fail(seq int64, problem string) bool {
	w.v.Valid, w.v.BrokenAt, w.v.Problem = false, seq, problem
	return false
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
// the walk would have: the first anchor (by seq) before v's break whose
// event's stored hash is not its own breaks the chain there, and failing
// that an anchor past v's end says that the chain lost its end. The
// hashes are read after the walk, so an event the walk verified and
// someone changed since shows as a mismatch.
func anchored(ctx context.Context, client *ent.Client, v Verification, anchors []Anchor) (Verification, error) {
	if len(anchors) == 0 {
		return v, nil
	}
	anchors = slices.SortedFunc(slices.Values(anchors), func(a, b Anchor) int { return cmp.Compare(a.Seq, b.Seq) })
	var seqs []int64
	for _, a := range anchors {
		if a.Seq <= v.LastSeq {
			seqs = append(seqs, a.Seq, a.Seq-1)
		}
	}
	hashes := map[int64]string{0: GenesisHash}
	if len(seqs) > 0 {
		rows, err := client.AuditEvent.Query().Where(auditevent.IDIn(seqs...)).
			Select(auditevent.FieldID, auditevent.FieldHash).All(viewer.SystemContext(ctx))
		if err != nil {
			return v, fmt.Errorf("audit: reading the anchors' events: %w", err)
		}
		for _, r := range rows {
			hashes[r.ID] = r.Hash
		}
	}
	w := &walk{v: v}
	for _, a := range anchors {
		if a.Seq > v.LastSeq {
			break
		}
		if hashes[a.Seq] != a.Hash {
			// The walk would have stopped here, its end the event before.
			w.v.Checked, w.v.LastSeq, w.v.LastHash = a.Seq-1, a.Seq-1, hashes[a.Seq-1]
			w.fail(a.Seq, anchorMismatch)
			return w.v, nil
		}
	}
	if !v.Valid {
		return v, nil
	}
	w.furthest = anchors[len(anchors)-1].Seq
	return w.finish(), nil
}

// conflictingAnchors stands for the hash of an event two anchors give
// otherwise: no hash is it.
const conflictingAnchors = "two anchors of this event"

// anchorMismatch is the problem of an event whose hash is not its anchor's.
const anchorMismatch = "its hash is not the anchor's: the chain was rewritten up to here"

// finish checks, at the chain's end, that no anchor lies beyond it.
func (w *walk) finish() Verification {
	if w.v.LastSeq < w.furthest {
		w.v.Valid, w.v.BrokenAt = false, w.v.LastSeq+1
		w.v.Problem = fmt.Sprintf("the chain ends at event %d but an anchor names event %d: events were removed from its end", w.v.LastSeq, w.furthest)
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
