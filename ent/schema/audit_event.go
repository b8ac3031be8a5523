package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditEvent is one entry of the audit trail: a look at sensitive fields of
// one record (allowed or refused), a mutation, a policy change, a refused
// authentication, an emergency grant or revocation. Entries are written by
// package audit, never updated or deleted (the policy below, and database
// triggers, refuse it), and chained: hash covers the entry's content and
// prev_hash, the hash of the entry before it (id - 1).
type AuditEvent struct {
	ent.Schema
}

// Mixin of AuditEvent: its rows are scoped like every entity's, with no
// timestamps of its own; in GraphQL, exposed through hand-written queries.
func (AuditEvent) Mixin() []ent.Mixin { return []ent.Mixin{RowScope{}, unlisted} }

// Fields of AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id").Immutable().Positive().
			Comment("Position in the chain, from 1 without gaps."),
		field.Time("occurred_at").Immutable(),
		field.String("kind").Immutable(),
		field.String("request_id").Immutable().Default(""),
		field.String("operation").Immutable().Default(""),
		field.String("client_address").Immutable().Default(""),
		field.String("actor_subject").Immutable().Default(""),
		field.Int("actor_agency_id").Immutable().Optional().Nillable(),
		field.String("actor_agency").Immutable().Default(""),
		field.String("actor_roles").Immutable().Default("").
			Comment("The principal's roles, comma-separated."),
		field.String("entity_type").Immutable().Default(""),
		field.Int("entity_id").Immutable().Optional().Nillable(),
		field.Text("fields").Immutable().Default("").
			Comment("Names of the fields concerned (Victim.legalName), comma-separated; never values."),
		field.String("decision").Immutable().Default(""),
		field.Text("rule").Immutable().Default(""),
		field.Text("reason").Immutable().Default(""),
		field.Bool("emergency").Immutable().Default(false),
		field.Text("justification").Immutable().Default(""),
		field.Text("detail").Immutable().Default("").
			Comment("JSON: what else the kind of event records (a policy change's lines before and after)."),
		field.String("prev_hash").Immutable(),
		field.String("hash").Immutable(),
	}
}

// Indexes of AuditEvent: each filter a DPO uses, followed by the chain
// order (id), so that a page of the newest matching events is a short
// range scan however long the trail. Entity ids are global: the id alone
// names the record.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("occurred_at"),
		index.Fields("entity_id", "id"),
		index.Fields("actor_subject", "id"),
		index.Fields("actor_agency_id", "id"),
		index.Fields("kind", "id"),
		// A DPO's "reads of one type of record": a scan of the whole trail
		// without it (a hunt, on a trail of a million events). The fields
		// read are a list in one column; PostgreSQL indexes its names by a
		// hand-written index (migration 20261211090003).
		index.Fields("entity_type", "id"),
		index.Fields("emergency", "id"),
	}
}
