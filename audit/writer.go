package audit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/viewer"
)

// Writer appends events to the trail. Appending takes the chain's lock
// (one transaction at a time, across every server on one PostgreSQL),
// reads the last event, numbers and hashes the new ones after it and
// inserts them together: five round trips (begin, lock, last, insert,
// commit) whatever the number of events, up to insertBatch of them.
type Writer struct {
	client  *ent.Client
	dialect string
}

// insertBatch bounds the events of one INSERT statement, under SQLite's
// and PostgreSQL's limits on bound parameters (21 a row).
const insertBatch = 1000

// chainLockKey is the PostgreSQL advisory lock that orders appends.
const chainLockKey = 0x4341534547524150 // "CASEGRAP"

// NewWriter returns a writer over client, of dialect (ent's names).
func NewWriter(client *ent.Client, dialectName string) *Writer {
	return &Writer{client: client, dialect: dialectName}
}

// Write appends events in a transaction of its own.
func (w *Writer) Write(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	sys := viewer.SystemContext(ctx)
	tx, err := w.client.Tx(sys)
	if err != nil {
		return fmt.Errorf("audit: beginning: %w", err)
	}
	if err := w.WriteTx(sys, tx, events); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("audit: committing: %w", err)
	}
	return nil
}

// WriteTx appends events in tx, which the caller commits: the events then
// stand or fall with the transaction's other changes.
func (w *Writer) WriteTx(ctx context.Context, tx *ent.Tx, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	sys := viewer.SystemContext(ctx)
	c := tx.Client()
	// SQLite transactions here begin IMMEDIATE (database.Open): they
	// already exclude every other writer.
	if w.dialect == dialect.Postgres {
		if _, err := c.ExecContext(sys, "SELECT pg_advisory_xact_lock($1)", int64(chainLockKey)); err != nil {
			return fmt.Errorf("audit: locking the chain: %w", err)
		}
	}
	seq, prev, notBefore := int64(0), GenesisHash, time.Time{}
	last, err := c.AuditEvent.Query().Order(ent.Desc(auditevent.FieldID)).
		Select(auditevent.FieldID, auditevent.FieldHash, auditevent.FieldOccurredAt).First(sys)
	switch {
	case ent.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("audit: reading the chain's end: %w", err)
	default:
		seq, prev, notBefore = last.ID, last.Hash, last.OccurredAt
	}
	creates := make([]*ent.AuditEventCreate, 0, min(len(events), insertBatch))
	for i := range events {
		e := &events[i]
		seq++
		e.Seq, e.PrevHash = seq, prev
		// Times never go back along the chain (a request that waited for
		// the lock, another server's clock): an event is dated at least
		// like the one before it, so that time ranges are runs of it.
		e.OccurredAt = e.OccurredAt.UTC().Truncate(timePrecision)
		if e.OccurredAt.Before(notBefore) {
			e.OccurredAt = notBefore.UTC()
		}
		notBefore = e.OccurredAt
		e.Hash = e.ComputeHash()
		prev = e.Hash
		creates = append(creates, create(c, e))
		if len(creates) == insertBatch || i == len(events)-1 {
			if err := c.AuditEvent.CreateBulk(creates...).Exec(sys); err != nil {
				return fmt.Errorf("audit: inserting: %w", err)
			}
			creates = creates[:0]
		}
	}
	return nil
}

func create(c *ent.Client, e *Event) *ent.AuditEventCreate {
	b := c.AuditEvent.Create().SetID(e.Seq).SetOccurredAt(e.OccurredAt).SetKind(string(e.Kind)).
		SetRequestID(e.RequestID).SetOperation(e.Operation).SetClientAddress(e.ClientAddress).
		SetActorSubject(e.ActorSubject).SetActorAgency(e.ActorAgency).
		SetActorRoles(strings.Join(e.ActorRoles, ",")).SetEntityType(e.EntityType).
		SetFields(strings.Join(e.Fields, ",")).SetDecision(e.Decision).SetRule(e.Rule).
		SetReason(e.Reason).SetEmergency(e.Emergency).SetJustification(e.Justification).
		SetDetail(e.Detail).SetPrevHash(e.PrevHash).SetHash(e.Hash)
	if e.ActorAgencyID != 0 {
		b.SetActorAgencyID(e.ActorAgencyID)
	}
	if e.EntityID != 0 {
		b.SetEntityID(e.EntityID)
	}
	return b
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
// table: its owner can disable the triggers that keep it append-only.
func RoleOwnsTrail(ctx context.Context, db *sql.DB) (bool, error) {
	var owns bool
	err := db.QueryRowContext(ctx,
		`SELECT pg_get_userbyid(relowner) = current_user FROM pg_class WHERE oid = 'audit_events'::regclass`).Scan(&owns)
	if err != nil {
		return false, fmt.Errorf("audit: checking who owns the trail: %w", err)
	}
	return owns, nil
}
