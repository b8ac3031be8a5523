package audit

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/ent/consent"
	"github.com/casegraph/casegraph/ent/predicate"
	"github.com/casegraph/casegraph/ent/supportservice"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// Filter narrows the events read; zero values do not filter.
type Filter struct {
	Kind          Kind
	ActorSubject  string
	ActorAgencyID int
	EntityType    string
	EntityID      int
	Field         string // e.g. "Victim.legalName"
	Decision      string // Allowed or Denied
	Since, Until  time.Time
	EmergencyOnly bool
	// AfterSeq and BeforeSeq page through the chain (exclusive).
	AfterSeq, BeforeSeq int64
}

// Scope is whose events a reader may see: all, or those of one agency —
// events of its people, and events about the records it works on (see
// rowscope.WorkedOnBy), as they stand when the trail is read.
type Scope struct {
	All      bool
	AgencyID int
}

// Query returns the events scope may see that match f, in chain order
// (ascending or, with newestFirst, descending), at most limit of them.
func Query(ctx context.Context, client *ent.Client, scope Scope, f Filter, newestFirst bool, limit int) ([]Event, error) {
	var dialectName string
	q := client.AuditEvent.Query().Where(predicates(scope, f)...).Where(dialectInto(&dialectName))
	if newestFirst {
		q = q.Order(ent.Desc(auditevent.FieldID))
	} else {
		q = q.Order(ent.Asc(auditevent.FieldID))
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	sys := viewer.SystemContext(ctx)
	rows, err := q.All(sys)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = FromRow(r)
		// An absent id stored as 0, which the hash cannot tell from none
		// (Verify reads it in SQL); the rest is decided with the records.
		out[i].altered = r.EntityID != nil && *r.EntityID == 0 || r.ActorAgencyID != nil && *r.ActorAgencyID == 0
	}
	// Before anything is taken out for a reader of one agency, each event
	// with all its records is checked as Verify's walk checks it alone
	// (withRecords).
	if err := withRecords(sys, client, dialectName, scope, out); err != nil {
		return nil, err
	}
	if err := withoutLinksElsewhere(sys, client, dialectName, scope, out); err != nil {
		return nil, err
	}
	if !scope.All {
		withoutHashes(scope, out)
	}
	return out, nil
}

// withoutHashes blanks, for a reader of one agency's events, the hashes
// that cover what the reader is not shown: an event's hash covers every
// field, so when all of them are shown but one of few values (a link's
// other record, taken out of its detail), trying the values against the
// hash gives it back (a review did so in under a second), and an event's
// prevHash is the hash of the event before it, which the reader may not
// be shown at all. Such a reader keeps the hashes of its own people's
// events, whose every field it is shown; Verifier.Verify keeps the same
// line for the chain's answers and anchors.
func withoutHashes(scope Scope, events []Event) {
	for i := range events {
		events[i].PrevHash = ""
		if events[i].ActorAgencyID != scope.AgencyID {
			events[i].Hash = ""
		}
	}
}

// withoutLinksElsewhere takes out of the detail of a link (recordLink) the
// other record it names, for a reader of one agency's events, when the
// link was made by another agency's people and the reader's agency does
// not work on that record. The event is shown for the record the agency
// works on (a victim); the other (a case it does not work on) would tell
// which hidden case the victim is on, as a referral's caseID once did (a
// hunt over HTTP). One statement a type of record named.
func withoutLinksElsewhere(ctx context.Context, client *ent.Client, dialectName string, scope Scope, events []Event) error {
	if scope.All {
		return nil
	}
	named := map[string][]int{} // type → the records links name
	for _, e := range events {
		if id := linkedRecord(e.Detail); id != 0 && e.ActorAgencyID != scope.AgencyID {
			named[rowscope.TypeOfID(id)] = append(named[rowscope.TypeOfID(id)], id)
		}
	}
	worked := map[int]bool{}
	for _, ids := range named {
		sel := rowscope.WorkedOnByOfType(scope.AgencyID, ids[0])
		if sel == nil {
			continue // no record of a known type: never shown
		}
		sel.Where(rowscope.InIDs(sel.C("id"), ids)).SetDialect(dialectName)
		query, args := sel.Query()
		rows, err := client.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			worked[id] = true
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
	}
	for i := range events {
		if id := linkedRecord(events[i].Detail); id != 0 && events[i].ActorAgencyID != scope.AgencyID && !worked[id] {
			events[i].Detail = `{"op":"link"}`
		}
	}
	return nil
}

// linkedRecord is the other record a link's detail names
// ({"op":"link","case":12884901893}), or 0 for any other detail.
func linkedRecord(detail string) int {
	if !strings.HasPrefix(detail, `{"op":"link",`) {
		return 0
	}
	var d map[string]any
	dec := json.NewDecoder(strings.NewReader(detail))
	dec.UseNumber()
	if dec.Decode(&d) != nil {
		return 0
	}
	for k, v := range d {
		if n, ok := v.(json.Number); ok && k != "op" {
			id, _ := n.Int64()
			return int(id)
		}
	}
	return 0
}

// dialectInto is a predicate that adds nothing and sets *name to the
// query's dialect when it is built: ent tells the dialect to predicates
// only, and the events' records are read by a statement of their own.
func dialectInto(name *string) predicate.AuditEvent {
	return func(s *sql.Selector) { *name = s.Dialect() }
}

// recordsTable holds the records of events about several (see Record).
const recordsTable = "audit_event_records"

// withRecords reads the records of the events about several among events,
// in one statement. A reader of one agency's events is shown all the
// records of its own people's events, and of the others only those it
// works on, without their nonces: the rest are other agencies' (see
// Record). Every record of every event listed is read, shown or not, so
// that an event whose records are not those its digest covers (one
// swapped, added or removed behind the application's back) is marked
// altered (HashMatches), as Verify calls it broken, whoever reads it.
func withRecords(ctx context.Context, client *ent.Client, dialectName string, scope Scope, events []Event) error {
	at := map[int64]*Event{}
	var ids, own []int
	for i := range events {
		e := &events[i]
		at[e.Seq] = e
		ids = append(ids, int(e.Seq))
		if e.ActorAgencyID == scope.AgencyID {
			own = append(own, int(e.Seq))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	b := sql.Dialect(dialectName)
	t := b.Table(recordsTable)
	sel := b.Select(t.C("event_id"), t.C("entity_id"), t.C("nonce")).From(t).
		Where(rowscope.InIDs(t.C("event_id"), ids)).OrderBy(t.C("event_id"), t.C("entity_id"))
	if !scope.All {
		shown := sql.Or(rowscope.InIDs(t.C("event_id"), own), workedOnBy(t.C("entity_id"), scope.AgencyID))
		sel.AppendSelectExpr(sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("CASE WHEN ").Join(shown).WriteString(" THEN 1 ELSE 0 END")
		}))
	}
	query, args := sel.Query()
	rows, err := client.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	stored := map[int64][]Record{}
	for rows.Next() {
		var seq int64
		var r Record
		shown := 1
		dest := []any{&seq, &r.ID, &r.Nonce}
		if !scope.All {
			dest = append(dest, &shown)
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		stored[seq] = append(stored[seq], r)
		e := at[seq]
		if e == nil || shown == 0 || e.EntityID != 0 {
			continue
		}
		if _, several := digestOf(e.Detail); !several {
			continue // an event about one record shows none
		}
		if !scope.All {
			r.Nonce = ""
		}
		e.Records = append(e.Records, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range events {
		whole := events[i]
		whole.Records = stored[whole.Seq]
		if kind, _ := ownBreak(whole); kind != "" {
			events[i].altered = true
		}
	}
	return nil
}

// recordsBetween is the statement of the records of the events first to
// last, in the order of their events.
func recordsBetween(dialectName string, first, last int64) *sql.Selector {
	b := sql.Dialect(dialectName)
	t := b.Table(recordsTable)
	return b.Select(t.C("event_id"), t.C("entity_id"), t.C("nonce")).From(t).
		Where(sql.And(sql.GTE(t.C("event_id"), first), sql.LTE(t.C("event_id"), last))).
		OrderBy(t.C("event_id"), t.C("entity_id"))
}

// scanRecords runs sel, which selects event_id, entity_id and nonce, and
// gives each row to add, until add returns false.
func scanRecords(ctx context.Context, client *ent.Client, sel *sql.Selector, add func(int64, Record) bool) error {
	query, args := sel.Query()
	rows, err := client.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var r Record
		if err := rows.Scan(&seq, &r.ID, &r.Nonce); err != nil {
			return err
		}
		if !add(seq, r) {
			return nil
		}
	}
	return rows.Err()
}

func predicates(scope Scope, f Filter) []predicate.AuditEvent {
	var ps []predicate.AuditEvent
	if !scope.All {
		ps = append(ps, ofAgency(scope.AgencyID))
	}
	if f.Kind != "" {
		ps = append(ps, auditevent.Kind(string(f.Kind)))
	}
	if f.ActorSubject != "" {
		ps = append(ps, auditevent.ActorSubject(f.ActorSubject))
	}
	if f.ActorAgencyID != 0 {
		ps = append(ps, auditevent.ActorAgencyID(f.ActorAgencyID))
	}
	if f.EntityType != "" {
		ps = append(ps, auditevent.EntityType(f.EntityType))
	}
	if f.EntityID != 0 {
		ps = append(ps, aboutRecord(f.EntityID, scope))
	}
	if f.Field != "" {
		ps = append(ps, fieldRead(f.Field))
	}
	if f.Decision != "" {
		ps = append(ps, auditevent.Decision(f.Decision))
	}
	// Times are stored in UTC; SQLite compares them as text, so a bound
	// in another zone must be turned into UTC to compare as an instant.
	if !f.Since.IsZero() {
		ps = append(ps, auditevent.OccurredAtGTE(f.Since.UTC()))
	}
	if !f.Until.IsZero() {
		ps = append(ps, auditevent.OccurredAtLT(f.Until.UTC()))
	}
	if f.EmergencyOnly {
		ps = append(ps, auditevent.Emergency(true))
	}
	if f.AfterSeq != 0 {
		ps = append(ps, auditevent.IDGT(f.AfterSeq))
	}
	if f.BeforeSeq != 0 {
		ps = append(ps, auditevent.IDLT(f.BeforeSeq))
	}
	return ps
}

// fieldRead keeps the events about field (read, refused or written). The
// fields are a comma-separated list in one column, matched whole: on
// PostgreSQL as an array, which an index holds (migration
// 20261211090003: four LIKE patterns scanned the whole trail, 0.27 s a
// statement on a million events, a hunt); on SQLite with LIKE. A name
// holding a comma matches nothing on either (graph refuses it).
func fieldRead(field string) predicate.AuditEvent {
	like := auditevent.Or(auditevent.Fields(field),
		auditevent.FieldsHasPrefix(field+","), auditevent.FieldsHasSuffix(","+field),
		auditevent.FieldsContains(","+field+","))
	return func(s *sql.Selector) {
		if s.Dialect() != dialect.Postgres {
			like(s)
			return
		}
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("string_to_array(" + s.C(auditevent.FieldFields) + ", ',') @> ARRAY[").Arg(field).WriteString("]")
		}))
	}
}

// aboutRecord keeps the events about the record id: of it alone, or of
// several records among them (found by the records' index on entity_id).
//
// A reader of one agency's events finds an event about several by id only
// when they would be shown id among its records (see withRecords): their
// agency works on it, or the event is of their agency's people. Otherwise
// whether the event came back would tell, id after id tried, which other
// agencies' records it is about.
//
// A victim's data is also held by records of their own (victimsRecords):
// "who looked at this person" finds the events about those too; they
// were filed under the record's id alone.
func aboutRecord(id int, scope Scope) predicate.AuditEvent {
	return func(s *sql.Selector) {
		t := sql.Table(recordsTable)
		about := func(column string) *sql.Predicate {
			if rowscope.TypeOfID(id) != "Victim" {
				return sql.EQ(column, id)
			}
			or := []*sql.Predicate{sql.EQ(column, id)}
			for _, r := range victimsRecords {
				rt := sql.Table(r.table)
				or = append(or, idIn(column, sql.Select(rt.C("id")).From(rt).Where(sql.EQ(rt.C(r.victimColumn), id))))
			}
			return sql.Or(or...)
		}
		eventsOf := func(extra ...*sql.Predicate) *sql.Selector {
			return sql.Select(t.C("event_id")).From(t).Where(sql.And(append([]*sql.Predicate{about(t.C("entity_id"))}, extra...)...))
		}
		or := []*sql.Predicate{about(s.C(auditevent.FieldEntityID))}
		if scope.All {
			or = append(or, idIn(s.C(auditevent.FieldID), eventsOf()))
		} else {
			// Events about several records, when the agency works on the
			// record asked about: of the worked-on subqueries, only that of
			// id's table can hold it. Asked of id itself, not of each record
			// (a victim's services are records of another table, and the
			// agency works on them when it works on the victim).
			if ids := rowscope.WorkedOnByOfType(scope.AgencyID, id); ids != nil {
				worked := sql.P(func(b *sql.Builder) { b.Arg(id).WriteString(" IN (").Join(ids).WriteString(")") })
				or = append(or, idIn(s.C(auditevent.FieldID), eventsOf(worked)))
			}
			or = append(or, sql.And(sql.EQ(s.C(auditevent.FieldActorAgencyID), scope.AgencyID), idIn(s.C(auditevent.FieldID), eventsOf())))
		}
		s.Where(sql.Or(or...))
	}
}

// victimsRecords are the records that hold one victim's sensitive data
// apart from the victim's row: a support service's notes (HEALTH), a
// consent's giver (QUASI_IDENTIFIER: it tells a minor's age). A read of
// them is a look at the victim. TestVictimsRecordsCoverTheSchema fails
// when a type with a sensitive field is added and not said here or there
// to be no victim's (a hunt found consents missing: their reads could not
// be found by the victim).
var victimsRecords = []struct {
	typ, table, victimColumn string
}{
	{"SupportService", supportservice.Table, supportservice.FieldVictimID},
	{"Consent", consent.Table, consent.FieldVictimID},
}

// VictimsRecordTypes names the types of victimsRecords.
func VictimsRecordTypes() []string {
	out := make([]string, len(victimsRecords))
	for i, r := range victimsRecords {
		out[i] = r.typ
	}
	return out
}

// idIn is "column is one of the ids sub selects". On PostgreSQL it is
// written = ANY(ARRAY(sub)): the subquery's few ids then probe the primary
// key, and the OR with entity_id = … is two index scans; as IN (sub),
// the planner walks the whole trail backwards testing each event.
func idIn(column string, sub *sql.Selector) *sql.Predicate {
	return sql.P(func(b *sql.Builder) {
		b.Ident(column)
		if b.Dialect() == dialect.Postgres {
			b.WriteString(" = ANY(ARRAY(").Join(sub).WriteString("))")
		} else {
			b.WriteString(" IN (").Join(sub).WriteString(")")
		}
	})
}

// ofAgency keeps the events of agency's people and those about the records
// it works on (rowscope.WorkedOnBy), as they stand when the trail is read:
// of one record, or of several of which one at least is its.
//
// Events about several records are probed event by event (the primary
// key's event_id first): a set of every event about the agency's records
// would grow with the trail. Only they have records (field reads, and the
// summaries of records refused past MaxRefusedRecords, as reads or
// mutations, without an entity_id), so the others skip the probe. Probing
// field reads alone hid a summary from the DPO of the agency whose victim
// it names (a hunt over HTTP).
func ofAgency(agencyID int) predicate.AuditEvent {
	return func(s *sql.Selector) {
		t := sql.Table(recordsTable)
		probe := func(worked *sql.Predicate) *sql.Predicate {
			records := sql.Select(t.C("event_id")).From(t).Where(sql.And(sql.ColumnsEQ(t.C("event_id"), s.C(auditevent.FieldID)), worked))
			return sql.And(sql.In(s.C(auditevent.FieldKind), string(FieldAccess), string(RecordRefused), string(Mutation)), sql.IsNull(s.C(auditevent.FieldEntityID)),
				sql.P(func(b *sql.Builder) {
					b.WriteString("EXISTS (").Join(records)
					if b.Dialect() == dialect.Postgres {
						b.WriteString(" OFFSET 0") // see below
					}
					b.WriteString(")")
				}))
		}
		or := []*sql.Predicate{sql.EQ(s.C(auditevent.FieldActorAgencyID), agencyID)}
		if s.Dialect() != dialect.Postgres {
			// On SQLite one IN of every worked-on id becomes a search of the
			// entity_id index for each and a sort of all the agency's events;
			// one IN a type, the trail is read newest first.
			s.Where(sql.Or(append(or, workedOnBy(s.C(auditevent.FieldEntityID), agencyID),
				probe(workedOnBy(t.C("entity_id"), agencyID)))...))
			return
		}
		// On PostgreSQL the worked-on ids are a common table expression that
		// both entity_id and the records are matched against: in the
		// statement once, the subqueries are planned and run once. Written
		// out again for the records, they were planned three times (an
		// EXISTS is planned both hashed and probed row by row), which cost
		// more than reading the page. OFFSET 0 keeps the EXISTS a probe (see
		// rowscope.CaseIDWorkedOnBy): hashed, it reads every record of the
		// trail.
		var ids *sql.Selector
		for _, worked := range rowscope.WorkedOnBy(agencyID) {
			if ids == nil {
				ids = worked
			} else {
				ids.UnionAll(worked)
			}
		}
		s.Prefix(sql.With(workedOn, "id").As(ids))
		w := sql.Table(workedOn)
		isWorkedOn := func(column string) *sql.Predicate { return sql.In(column, sql.Select(w.C("id")).From(w)) }
		s.Where(sql.Or(append(or, isWorkedOn(s.C(auditevent.FieldEntityID)), probe(isWorkedOn(t.C("entity_id"))))...))
	}
}

// workedOnBy is "column is the id of a record agencyID works on", one
// subquery a type of record (rowscope.WorkedOnBy).
func workedOnBy(column string, agencyID int) *sql.Predicate {
	var or []*sql.Predicate
	for _, ids := range rowscope.WorkedOnBy(agencyID) {
		or = append(or, sql.In(column, ids))
	}
	return sql.Or(or...)
}

// workedOn names the ids of the records the reader's agency works on in the
// statement that ofAgency narrows.
const workedOn = "agency_worked_on"
