package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/viewer"
)

// Writer appends events to the trail. Appending takes the chain's lock
// (one transaction at a time, across every server on one PostgreSQL),
// reads the last event, numbers and hashes the new ones after it and
// inserts them in one statement, and the records of events about several
// records in one more: five or six round trips (begin, lock, last, insert,
// records, commit; one fewer on SQLite) whatever the number of events.
//
// Write gathers the events of every request waiting at one moment into one
// such transaction (group commit, see groupcommit.go), so that requests do
// not queue on the lock one by one. Close it when the server stops.
type Writer struct {
	client  *ent.Client
	dialect string
	group   group
}

// ClockSkew is how far past the clock the trail takes an event's time
// (the writers', the PostgreSQL trigger's, verify's): the writers date no
// event past the clock they share, but carry the last event's time forward
// (times never go back along the chain), so after the clock was set back
// their events are dated a little ahead of it until it catches up. A day,
// far beyond what a time service or a failover to a standby sets a clock
// back by: with a minute (the first form), such a step made the writers
// date events back and verify call every genuine event of the step
// "added by hand", and an export checked on a machine whose clock ran a
// few minutes slow showed false breaks (a review). The cost: an event
// appended by hand up to a day ahead dates the events after it until the
// clock passes it (docs/audit.md). The PostgreSQL trigger
// audit_events_follow_the_chain (migrations) says the same day.
const ClockSkew = 24 * time.Hour

// ChainLockKey is the PostgreSQL advisory lock that orders appends to the
// trail, across every server on one database.
const ChainLockKey = 0x4341534547524150 // "CASEGRAP"

// NewWriter returns a writer over client, of dialect (ent's names).
func NewWriter(client *ent.Client, dialectName string) *Writer {
	return &Writer{client: client, dialect: dialectName}
}

// unavailable is the error of a write of the trail that failed while
// doing what: AUDIT_UNAVAILABLE (an *apperr.Error, as errors.As finds it),
// with the cause kept for the log. Every failed write returns it, so the
// caller refuses what the events record (fail closed) by the code alone.
func unavailable(doing string, err error) error {
	return fmt.Errorf("%w (%s: %w)", &apperr.Error{Code: apperr.AuditUnavailable,
		Message: "The audit trail is unavailable; try again later."}, doing, err)
}

// commit appends the events of a batch of requests in a transaction of
// its own, in order: all of them or, on a failure (AUDIT_UNAVAILABLE, see
// unavailable), none.
func (w *Writer) commit(ctx context.Context, batch [][]Event) error {
	sys := viewer.SystemContext(ctx)
	tx, err := w.client.BeginTx(sys, TxOptions(w.dialect))
	if err != nil {
		return unavailable("beginning", err)
	}
	if err := w.appendTx(sys, tx, batch); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return unavailable("committing", err)
	}
	return nil
}

// TxOptions are the options of a transaction that appends to the trail:
// on PostgreSQL, READ COMMITTED whatever the database's default, so that
// the chain's end read after taking the lock is the committed one.
func TxOptions(dialectName string) *sql.TxOptions {
	if dialectName == dialect.Postgres {
		return &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	return nil
}

// WriteTx appends events in tx (begun with TxOptions), which the caller commits: the events then
// stand or fall with the transaction's other changes. A failure is
// AUDIT_UNAVAILABLE (see unavailable).
func (w *Writer) WriteTx(ctx context.Context, tx *ent.Tx, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	return w.appendTx(ctx, tx, [][]Event{events})
}

// appendTx appends the events of batch, one list after the other, in tx.
// It numbers and hashes them in place (their Seq, PrevHash and Hash are
// the caller's to read once written).
func (w *Writer) appendTx(ctx context.Context, tx *ent.Tx, batch [][]Event) error {
	sys := viewer.SystemContext(ctx)
	c := tx.Client()
	// SQLite transactions here begin IMMEDIATE (database.Open): they
	// already exclude every other writer.
	// now is the latest time an event may bear: the clock every writer of
	// the chain shares (PostgreSQL's, read with the lock; on SQLite this
	// server is the only writer). A server whose clock runs ahead would
	// otherwise date its events in the future and, since times never go
	// back along the chain, every event after them too.
	now := time.Now()
	if w.dialect == dialect.Postgres {
		if err := lockChain(sys, c, &now); err != nil {
			return unavailable("locking the chain", err)
		}
	}
	seq, prev, notBefore := int64(0), GenesisHash, time.Time{}
	last, err := c.AuditEvent.Query().Order(ent.Desc(auditevent.FieldID)).
		Select(auditevent.FieldID, auditevent.FieldHash, auditevent.FieldOccurredAt).First(sys)
	switch {
	case ent.IsNotFound(err):
	case err != nil:
		return unavailable("reading the chain's end", err)
	default:
		seq, prev, notBefore = last.ID, last.Hash, last.OccurredAt
	}
	if notBefore.After(now.Add(ClockSkew)) {
		// The last event is dated more than a day past the clock: no
		// writer dated it, and PostgreSQL refuses it to the server's role,
		// so it was appended round the trigger or into the SQLite file.
		// Carried forward, it dated every later event in its future,
		// hashed so for good and out of every time range, while verify
		// said valid (a hunt). The events are dated now instead: verify
		// names the event dated ahead (DATED_IN_FUTURE), or, once the clock
		// has passed it, the first event after it (DATED_BEFORE_PREVIOUS).
		// To the microsecond, as every time is stored: on SQLite the
		// clock's nanoseconds were stored, which the hash does not cover
		// (verify names such a time since the twenty-sixth session).
		notBefore = now.Truncate(timePrecision)
	}
	var rows []row
	var records []recordRow
	for _, events := range batch {
		for i := range events {
			e := &events[i]
			if seq == math.MaxInt64 {
				// An event numbered the largest number, which no writer
				// reaches, was appended by hand: the next one would be
				// numbered below 1, outside the chain.
				return unavailable("numbering", fmt.Errorf("the chain's last event is numbered %d: no number follows it", seq))
			}
			seq++
			e.Seq, e.PrevHash = seq, prev
			// Times never go back along the chain (a request that waited for
			// the lock, another server's clock): an event is dated at least
			// like the one before it, so that time ranges are runs of it.
			e.OccurredAt = e.OccurredAt.UTC().Truncate(timePrecision)
			if e.OccurredAt.After(now) {
				e.OccurredAt = now.UTC().Truncate(timePrecision)
			}
			if e.OccurredAt.Before(notBefore) {
				e.OccurredAt = notBefore.UTC()
			}
			notBefore = e.OccurredAt
			e.Hash = e.ComputeHash()
			prev = e.Hash
			rows = append(rows, w.row(e))
			for _, r := range e.Records {
				records = append(records, recordRow{EventID: e.Seq, EntityID: r.ID, Nonce: r.Nonce})
			}
		}
	}
	doc, err := json.Marshal(rows)
	if err != nil {
		return unavailable("encoding", err)
	}
	if _, err := c.ExecContext(sys, w.insert("audit_events", columns), string(doc)); err != nil {
		return unavailable("inserting", err)
	}
	if len(records) == 0 {
		return nil
	}
	if doc, err = json.Marshal(records); err != nil {
		return unavailable("encoding", err)
	}
	if _, err := c.ExecContext(sys, w.insert("audit_event_records", recordColumns), string(doc)); err != nil {
		return unavailable("inserting records", err)
	}
	return nil
}

// lockChain takes the chain's advisory lock for the transaction on
// PostgreSQL and reads the database's clock in the same statement.
func lockChain(ctx context.Context, c *ent.Client, now *time.Time) error {
	rows, err := c.QueryContext(ctx, "SELECT pg_advisory_xact_lock($1)::text, clock_timestamp()", int64(ChainLockKey))
	if err != nil {
		return err
	}
	defer rows.Close()
	var locked string
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return errors.New("no answer")
	}
	if err := rows.Scan(&locked, now); err != nil {
		return err
	}
	return rows.Close()
}

// recordRow is one record of an event about several, as the INSERT of
// audit_event_records reads it (see row).
type recordRow struct {
	EventID  int64  `json:"event_id"`
	EntityID int    `json:"entity_id"`
	Nonce    string `json:"nonce"`
}

// recordColumns of audit_event_records, in recordRow's order.
var recordColumns = []string{"event_id", "entity_id", "nonce"}

// row is one event as the INSERT reads it from a JSON array: one bound
// parameter, whatever the number of events (a VALUES list of 21 columns a
// row took PostgreSQL seven times as long to parse and bind).
type row struct {
	ID            int64  `json:"id"`
	OccurredAt    string `json:"occurred_at"`
	Kind          Kind   `json:"kind"`
	RequestID     string `json:"request_id"`
	Operation     string `json:"operation"`
	ClientAddress string `json:"client_address"`
	ActorSubject  string `json:"actor_subject"`
	ActorAgencyID *int   `json:"actor_agency_id"`
	ActorAgency   string `json:"actor_agency"`
	ActorRoles    string `json:"actor_roles"`
	EntityType    string `json:"entity_type"`
	EntityID      *int   `json:"entity_id"`
	Fields        string `json:"fields"`
	Decision      string `json:"decision"`
	Rule          string `json:"rule"`
	Reason        string `json:"reason"`
	Emergency     bool   `json:"emergency"`
	Justification string `json:"justification"`
	Detail        string `json:"detail"`
	PrevHash      string `json:"prev_hash"`
	Hash          string `json:"hash"`
}

// columns of audit_events, in row's order.
var columns = []string{"id", "occurred_at", "kind", "request_id", "operation", "client_address",
	"actor_subject", "actor_agency_id", "actor_agency", "actor_roles", "entity_type", "entity_id",
	"fields", "decision", "rule", "reason", "emergency", "justification", "detail", "prev_hash", "hash"}

func (w *Writer) row(e *Event) row {
	r := row{ID: e.Seq, Kind: e.Kind, RequestID: e.RequestID, Operation: e.Operation,
		ClientAddress: e.ClientAddress, ActorSubject: e.ActorSubject, ActorAgency: e.ActorAgency,
		ActorRoles: strings.Join(e.ActorRoles, ","), EntityType: e.EntityType, Fields: strings.Join(e.Fields, ","),
		Decision: e.Decision, Rule: e.Rule, Reason: e.Reason, Emergency: e.Emergency,
		Justification: e.Justification, Detail: e.Detail, PrevHash: e.PrevHash, Hash: e.Hash}
	if w.dialect == dialect.Postgres {
		r.OccurredAt = e.OccurredAt.Format(time.RFC3339Nano)
	} else {
		// As the SQLite driver writes a time (time.Time.String), so that
		// the trail's times compare with those it binds.
		r.OccurredAt = e.OccurredAt.String()
	}
	if e.ActorAgencyID != 0 {
		r.ActorAgencyID = &e.ActorAgencyID
	}
	if e.EntityID != 0 {
		r.EntityID = &e.EntityID
	}
	return r
}

// insert is the statement that appends a JSON array of rows to table.
func (w *Writer) insert(table string, columns []string) string {
	list := strings.Join(columns, ", ")
	if w.dialect == dialect.Postgres {
		return "INSERT INTO " + table + " (" + list + ") SELECT " + list +
			" FROM json_populate_recordset(NULL::" + table + ", $1)"
	}
	// jsonb_each: each row's value stays SQLite's binary JSON, which
	// json_extract reads in place; json_each would render every row back
	// to text and json_extract parse it again, once a column (40 % less
	// time for a request's 98 events, BenchmarkWrite).
	extract := make([]string, len(columns))
	for i, c := range columns {
		extract[i] = "json_extract(value, '$." + c + "')"
	}
	return "INSERT INTO " + table + " (" + list + ") SELECT " + strings.Join(extract, ", ") + " FROM jsonb_each(?)"
}

// FromRow turns a stored event back into an Event.
func FromRow(r *ent.AuditEvent) Event {
	e := Event{
		Seq: r.ID, OccurredAt: r.OccurredAt.UTC(), Kind: Kind(r.Kind), RequestID: r.RequestID,
		Operation: r.Operation, ClientAddress: r.ClientAddress, ActorSubject: r.ActorSubject,
		ActorAgency: r.ActorAgency, EntityType: r.EntityType, Decision: r.Decision, Rule: r.Rule,
		Reason: r.Reason, Emergency: r.Emergency, Justification: r.Justification, Detail: r.Detail,
		PrevHash: r.PrevHash, Hash: r.Hash,
		ActorRoles: splitList(r.ActorRoles), Fields: splitList(r.Fields),
	}
	if r.ActorAgencyID != nil {
		e.ActorAgencyID = *r.ActorAgencyID
	}
	if r.EntityID != nil {
		e.EntityID = *r.EntityID
	}
	return e
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// Install makes client record the changes of every request that carries a
// Recorder (see recordChanges) and returns the writer of its trail. Call
// it once per client.
func Install(client *ent.Client, dialectName string) *Writer {
	client.Use(recordChanges())
	return NewWriter(client, dialectName)
}

// RoleOwnsTrail reports whether the PostgreSQL role of db owns the audit
// tables (the events or their records): its owner can disable the
// triggers that keep them append-only.
func RoleOwnsTrail(ctx context.Context, db *sql.DB) (bool, error) {
	var owns bool
	err := db.QueryRowContext(ctx,
		`SELECT bool_or(pg_get_userbyid(relowner) = current_user) FROM pg_class
		 WHERE oid IN ('audit_events'::regclass, 'audit_event_records'::regclass)`).Scan(&owns)
	if err != nil {
		return false, fmt.Errorf("audit: checking who owns the trail: %w", err)
	}
	return owns, nil
}

// Dialect is the database dialect the writer writes to (ent's names).
func (w *Writer) Dialect() string { return w.dialect }
