package audit

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/casegraph/casegraph/internal/ctxvalue"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/viewer"
)

// Recorder collects the events of one request until they are written. It
// is safe for concurrent use (GraphQL resolves fields concurrently).
type Recorder struct {
	mu   sync.Mutex
	base Event
	now  func() time.Time

	pending []*pendingEvent
	// added counts the events ever added, numbering them (pendingEvent.n)
	// so that a mark finds those added since it, wherever they stand.
	added uint64
	// reads groups the fields of one record decided alike into one event.
	reads map[readKey]*pendingEvent
	// released are the response paths of sensitive values the response
	// carries: withheld if their events cannot be written.
	released []ast.Path

	// refusedRecords are the records refused by id so far, each recorded
	// once for each thing refused; past MaxRefusedRecords they are only
	// summarised: one event for each thing refused (kind, fields, reason)
	// says how many, and names up to MaxSummarisedRecords records in all
	// (summarised).
	refusedRecords map[refusedKey]bool
	summaries      map[summaryKey]*summary
	summarised     int
	// refusals are the refusals recorded so far, each once (Refusal).
	refusals map[refusalKey]bool
}

type refusalKey struct {
	kind           Kind
	fields, reason string
}

// MaxRefusedRecords bounds the records refused by id that one request
// records one by one: enough to show a DPO what was probed, while a
// request asking for thousands of unknown ids cannot fill the
// append-only trail. The rest are counted in one summary event.
const MaxRefusedRecords = 20

// MaxSummarisedRecords bounds the records the summary of a request's
// refused records names (as an event about several records: one narrow
// row each, found by "who looked at this victim"). Without them a probe
// of one victim hid behind 20 unknown ids, named by no record; past the
// bound, they are only counted.
const MaxSummarisedRecords = 1000

// refusedKey is one record refused by id, and what was refused: two
// mutations refused over one case are two events (a refused updateCase
// once hid a refused request for emergency access to the same case, in
// the same request: a hunt over HTTP).
type refusedKey struct {
	kind       Kind
	entityType string
	entityID   int
	fields     string
}

// summaryKey is one thing refused past MaxRefusedRecords: its kind, the
// type of its records (a DPO filters by it), fields and reason.
type summaryKey struct {
	kind                       Kind
	entityType, fields, reason string
}

// summary is what a request was refused past MaxRefusedRecords, for one
// thing refused: how many records, and the ids of those it names.
type summary struct {
	fields []string
	count  int
	ids    []int
	// justification is the one given (Justify) when the first record of
	// the summary was refused: the summary's event is made when the
	// events are taken, after the field that gave it has returned.
	justification string
}

type pendingEvent struct {
	Event
	n uint64 // its number among the events added (Recorder.added)
	// txBound events record changes made in the request's transaction:
	// dropped when it rolls back, since the change did not happen.
	txBound bool
	// told events record a field consulted by a rule whose outcome the
	// caller learns whether or not the request succeeds: kept when the
	// answer carries no data or its transaction rolls back.
	told bool
	// note events record a read answered as a whole (the audit trail,
	// statistics) rather than field by field: see ReleaseNoted.
	note bool
}

type readKey struct {
	entityType string
	entityID   int
	access     Access
}

// Access is the decision on one sensitive field of one record.
type Access struct {
	Allowed bool
	Rule    string // the policy line (or "emergency access") that allowed it
	Reason  string // why it was refused
	// Refusal is the kind of rule that refused it, told to the client;
	// the audit trail keeps Reason.
	Refusal       apperr.Refusal
	Emergency     bool
	Justification string // the emergency grant's
}

// NewRecorder starts the record of one request by p (nil before
// authentication) from clientAddress.
func NewRecorder(requestID, clientAddress string, p *viewer.Principal) *Recorder {
	r := &Recorder{now: time.Now, reads: map[readKey]*pendingEvent{}, refusedRecords: map[refusedKey]bool{}, refusals: map[refusalKey]bool{},
		summaries: map[summaryKey]*summary{}}
	r.base = Event{RequestID: requestID, ClientAddress: clientAddress}
	if p != nil {
		r.base.ActorSubject = p.Subject
		r.base.ActorAgencyID = p.AgencyID
		r.base.ActorAgency = p.AgencyCode
		for _, role := range p.Roles {
			r.base.ActorRoles = append(r.base.ActorRoles, string(role))
		}
	}
	return r
}

// MaxJustification bounds the justification an event keeps: the longest an
// emergency grant accepts (casework), so that a refused request cannot
// write a body's worth of text into the append-only trail.
const MaxJustification = 2000

// Justify gives the events recorded from now on the justification the
// caller wrote (an emergency request's), until Justify(""): a refused
// request then tells the data protection officer why it was made, as its
// grant would have. Surrounding white space is not kept (nor is it in a
// grant), and past MaxJustification bytes the text is cut at a letter's
// boundary, without the white space the cut leaves at its end.
func (r *Recorder) Justify(justification string) {
	j := strings.TrimSpace(justification)
	if len(j) > MaxJustification {
		// What the cut leaves ends as text does: a carriage return
		// without its line feed, or a space, is not kept at its end.
		j = strings.TrimRightFunc(strings.ToValidUTF8(j[:MaxJustification], ""), unicode.IsSpace)
	}
	r.mu.Lock()
	r.base.Justification = j
	r.mu.Unlock()
}

// SetOperation names the GraphQL operation the events belong to.
func (r *Recorder) SetOperation(name string) {
	r.mu.Lock()
	r.base.Operation = name
	for _, e := range r.pending {
		e.Operation = name
	}
	r.mu.Unlock()
}

func (r *Recorder) event(kind Kind) Event {
	e := r.base
	e.ActorRoles = slices.Clone(r.base.ActorRoles)
	e.Kind = kind
	e.OccurredAt = r.now()
	return e
}

// add appends pe to the pending events, numbered (r.mu held).
func (r *Recorder) add(pe *pendingEvent) {
	r.added++
	pe.n = r.added
	r.pending = append(r.pending, pe)
}

// FieldRead records the decision on field (e.g. "Victim.legalName") of
// one record; path is where an allowed value sits in the response.
func (r *Recorder) FieldRead(entityType string, entityID int, field string, a Access, path ast.Path) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fieldRead(entityType, entityID, field, a)
	if a.Allowed && path != nil {
		r.released = append(r.released, path)
	}
}

// Consulted records that a rule decided by the value of field of a record
// the caller may read (a victim's date of birth, for the age a consent
// needs): the answer, refused or not, tells the caller something of it, so
// it is a read, kept even when the request fails or its transaction rolls
// back, and with nothing in the response to withhold.
func (r *Recorder) Consulted(entityType string, entityID int, field string, a Access) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fieldRead(entityType, entityID, field, a).told = true
}

// fieldRead adds field to the pending event of the record's reads decided
// alike (r.mu held).
func (r *Recorder) fieldRead(entityType string, entityID int, field string, a Access) *pendingEvent {
	k := readKey{entityType, entityID, a}
	pe, ok := r.reads[k]
	if !ok {
		e := r.event(FieldAccess)
		e.EntityType, e.EntityID = entityType, entityID
		e.Decision = Denied
		if a.Allowed {
			e.Decision = Allowed
		}
		e.Rule, e.Reason, e.Emergency, e.Justification = a.Rule, a.Reason, a.Emergency, a.Justification
		pe = &pendingEvent{Event: e}
		r.reads[k] = pe
		r.add(pe)
	}
	if !slices.Contains(pe.Fields, field) {
		pe.Fields = append(pe.Fields, field)
	}
	return pe
}

// Change records a change made in the request's transaction: kind
// (Mutation, PolicyChange, EmergencyGranted, EmergencyRevoked), the record,
// the names of the fields set or cleared (never their values), and detail.
// It is forgotten if the transaction rolls back.
func (r *Recorder) Change(kind Kind, entityType string, entityID int, fields []string, fill func(*Event)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.event(kind)
	e.EntityType, e.EntityID, e.Fields, e.Decision = entityType, entityID, fields, Allowed
	if fill != nil {
		fill(&e)
	}
	r.add(&pendingEvent{Event: e, txBound: true})
}

// Refusal records something refused that changed nothing (a mutation the
// policy does not allow, a field for want of a power), with the reason,
// once a request: the same refusal under twenty aliases is one event, so a
// request adds at most one row for each distinct thing it was refused.
func (r *Recorder) Refusal(kind Kind, fields []string, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := refusalKey{kind, strings.Join(fields, "\x00"), reason}
	if r.refusals[k] {
		return
	}
	r.refusals[k] = true
	e := r.event(kind)
	e.Fields, e.Decision, e.Reason = fields, Denied, reason
	r.add(&pendingEvent{Event: e})
}

// RefusedRecord records a record asked for by id and refused (not found in
// the caller's rows), as kind: RecordRefused for a read, Mutation for a
// mutation of it (fields name it). A record is recorded once a request for
// each thing refused, and at most MaxRefusedRecords of them; the rest are
// summarised (see Take).
func (r *Recorder) RefusedRecord(kind Kind, entityType string, entityID int, fields []string, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	joined := strings.Join(fields, "\x00")
	k := refusedKey{kind, entityType, entityID, joined}
	if r.refusedRecords[k] {
		return
	}
	// Every record is remembered, so that each counts once; the map is as
	// large as the ids a request may name, which its cost bounds.
	r.refusedRecords[k] = true
	if len(r.refusedRecords) > MaxRefusedRecords {
		sk := summaryKey{kind, entityType, joined, reason}
		sum := r.summaries[sk]
		if sum == nil {
			sum = &summary{fields: fields, justification: r.base.Justification}
			r.summaries[sk] = sum
		}
		sum.count++
		// A record's id is positive.
		if entityID > 0 && r.summarised < MaxSummarisedRecords && !slices.Contains(sum.ids, entityID) {
			sum.ids = append(sum.ids, entityID)
			r.summarised++
		}
		return
	}
	e := r.event(kind)
	e.EntityType, e.EntityID, e.Fields, e.Decision, e.Reason = entityType, entityID, fields, Denied, reason
	if fields == nil {
		e.Fields = []string{}
	}
	r.add(&pendingEvent{Event: e})
}

// Answered marks answer (a path in the response; empty for the whole
// answer) as telling the caller what a refusal recorded since the request
// began is about (node's null for a record refused, a list's page without
// it): withheld, like a sensitive value, when the request's events cannot
// be written. A refused look whose event is not written would be an
// attempt on a record that no DPO can find.
func (r *Recorder) Answered(answer ast.Path) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.released = append(r.released, answer)
}

// Note records something done that is neither a read of a record nor a
// change (reading the audit trail), with detail.
func (r *Recorder) Note(kind Kind, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.event(kind)
	e.Fields, e.Decision, e.Detail = []string{}, Allowed, detail
	r.add(&pendingEvent{Event: e, note: true})
}

// ReleaseNoted marks answer (a path in the response; empty for the whole
// answer) as released if a note, or a field a rule consulted, was recorded
// since m and is still to be written: what such a read answered is
// withheld, like a sensitive value, when its record cannot be written.
// Events of other fields resolved at the same time may be counted too,
// which only withholds more.
func (r *Recorder) ReleaseNoted(m Mark, answer ast.Path) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, pe := range r.pending {
		if pe.n > m.added && (pe.note || pe.told) {
			r.released = append(r.released, answer)
			return
		}
	}
}

// TakeForCommit is Take for writing the events with a transaction, and
// returns, beside them, what to do if that transaction then fails: put
// back the events that stand without it (refusals, and the fields a rule
// consulted, which the caller learnt of whatever became of the change), to
// be written after the response is built, or withheld with it. The
// changes did not happen and the allowed reads of their payload were not
// sent: those are dropped, as RolledBack drops them.
func (r *Recorder) TakeForCommit() (events []Event, failed func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	taken, summaries := r.pending, r.summaries
	return r.take(), func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		kept := slices.DeleteFunc(slices.Clone(taken), undone)
		r.pending = append(kept, r.pending...)
		// The summaries stand without the transaction, like refusals:
		// put back, with any made since.
		for k, sum := range summaries {
			if since := r.summaries[k]; since != nil {
				r.summarised -= len(since.ids)
				sum.count += since.count
				sum.ids = slices.Compact(slices.Sorted(slices.Values(append(sum.ids, since.ids...))))
			}
			r.summaries[k] = sum
			r.summarised += len(sum.ids)
		}
	}
}

// undone reports whether pe goes with a transaction that did not commit:
// a change, or an allowed read of its payload (but not a field a rule
// consulted, whose outcome the caller learnt).
func undone(pe *pendingEvent) bool {
	return pe.txBound || pe.Kind == FieldAccess && pe.Decision == Allowed && !pe.told
}

// Take returns the pending events and forgets them. The reads of several
// records decided alike become one event about them (see groupReads). Records
// refused past MaxRefusedRecords become one event for each thing refused
// (its kind, fields and reason), about the records it names, whose detail
// says how many there were.
func (r *Recorder) Take() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.take()
}

func (r *Recorder) take() []Event {
	out := groupReads(r.pending)
	keys := slices.SortedFunc(maps.Keys(r.summaries), func(a, b summaryKey) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.entityType, b.entityType), cmp.Compare(a.fields, b.fields), cmp.Compare(a.reason, b.reason))
	})
	for _, k := range keys {
		sum := r.summaries[k]
		e := r.event(k.kind)
		e.EntityType, e.Fields, e.Decision, e.Reason, e.Justification = k.entityType, sum.fields, Denied, k.reason, sum.justification
		if e.Fields == nil {
			e.Fields = []string{}
		}
		e.Detail = fmt.Sprintf(`{"notItemised":%d}`, sum.count)
		if len(sum.ids) > 0 {
			e.Records = make([]Record, len(sum.ids))
			for i, id := range sum.ids {
				e.Records[i] = Record{ID: id, Nonce: newNonce()}
			}
			slices.SortFunc(e.Records, func(a, b Record) int { return a.ID - b.ID })
			e.Detail = fmt.Sprintf(`{"notItemised":%d,"recordsDigest":"%s"}`, sum.count, RecordsDigest(e.Records))
		}
		out = append(out, e)
	}
	r.summaries, r.summarised = map[summaryKey]*summary{}, 0
	r.pending = nil
	clear(r.reads)
	return out
}

// groupReads returns the pending events with the field reads of several
// records that share everything but the record (type, fields, decision,
// rule, reason, emergency grant) as one event about those records (see
// Record), at the place of the first of them and dated like it. A read of
// one record stays an event of its own, as every other kind does. Reads
// on either side of a change (a mutation's event) are not grouped, so
// that the chain never shows a record read before the change it was read
// after.
func groupReads(pending []*pendingEvent) []Event {
	type key struct {
		entityType, fields, decision, rule, reason, justification string
		emergency                                                 bool
		afterChanges                                              int
	}
	keys := make([]key, len(pending))
	members := map[key][]*Event{}
	changes := 0
	for i, pe := range pending {
		if pe.txBound {
			changes++
		}
		if pe.Kind == FieldAccess && pe.EntityID != 0 {
			e := &pe.Event
			keys[i] = key{e.EntityType, strings.Join(slices.Sorted(slices.Values(e.Fields)), ","), e.Decision,
				e.Rule, e.Reason, e.Justification, e.Emergency, changes}
			members[keys[i]] = append(members[keys[i]], e)
		}
	}
	out := make([]Event, 0, len(pending)+1)
	for i, pe := range pending {
		if pe.Kind != FieldAccess || pe.EntityID == 0 {
			out = append(out, pe.Event)
			continue
		}
		k := keys[i]
		same := members[k]
		switch {
		case same == nil: // already in its group's event
		case len(same) == 1:
			out = append(out, pe.Event)
		default:
			e := pe.Event
			e.Fields = slices.Sorted(slices.Values(e.Fields))
			e.EntityID = 0
			e.Records = make([]Record, len(same))
			for i, m := range same {
				e.Records[i] = Record{ID: m.EntityID, Nonce: newNonce()}
			}
			slices.SortFunc(e.Records, func(a, b Record) int { return a.ID - b.ID })
			e.Detail = recordsDetail(e.Records)
			out = append(out, e)
		}
		members[k] = nil
	}
	return out
}

// Mark is a point in a request's record: where one mutation of the
// request began, so that its own events can be told from those before it.
type Mark struct {
	pending, released int
	added             uint64 // the events added before it (see ReleaseNoted)
}

// Mark returns the current point of the record. Events are only taken at a
// commit, so a mark stays valid until the transaction it starts ends.
func (r *Recorder) Mark() Mark {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Mark{pending: len(r.pending), released: len(r.released), added: r.added}
}

// RolledBack forgets what the transaction begun at m did and showed: its
// changes, which did not happen, and the allowed reads of its payload,
// which the response does not carry (a mutation that is not made answers
// null). Refusals, and everything recorded before m, stay to be written.
func (r *Recorder) RolledBack(m Mark) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.pending > len(r.pending) || m.released > len(r.released) {
		m = Mark{} // taken since: nothing of it is pending any more
	}
	kept := r.pending[:m.pending]
	for _, pe := range r.pending[m.pending:] {
		if !undone(pe) {
			kept = append(kept, pe)
		}
	}
	r.pending = kept
	for k, pe := range r.reads {
		if undone(pe) {
			delete(r.reads, k)
		}
	}
	r.released = r.released[:m.released]
}

// Committed forgets the response paths of the values whose events were
// just written with a transaction: they need no withholding any more.
func (r *Recorder) Committed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.released = nil
}

// NothingReleased forgets the allowed reads of a request whose answer
// carries no data (a mutation rolled back): nothing was disclosed.
// Refusals stay.
func (r *Recorder) NothingReleased() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = slices.DeleteFunc(r.pending, func(pe *pendingEvent) bool {
		return pe.Kind == FieldAccess && pe.Decision == Allowed && !pe.told
	})
	clear(r.reads)
	r.released = nil
}

// Released returns the response paths of the sensitive values read.
func (r *Recorder) Released() []ast.Path {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.released)
}

var recorderKey = &ctxvalue.Key[*Recorder]{}

// NewContext returns ctx carrying r.
func NewContext(ctx context.Context, r *Recorder) context.Context { return recorderKey.With(ctx, r) }

// FromContext returns the recorder of ctx, or nil when the work is not a
// request's (seeding, migrations).
func FromContext(ctx context.Context) *Recorder { return recorderKey.From(ctx) }
