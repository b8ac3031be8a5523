package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// IdempotencyRecord remembers the result of a create that carried an
// idempotency key, so that a retried request returns the record the first
// one made instead of making a second. It is not part of the GraphQL API.
type IdempotencyRecord struct {
	ent.Schema
}

// Mixin of IdempotencyRecord: its rows are scoped like every entity's, with no
// timestamps of its own.
func (IdempotencyRecord) Mixin() []ent.Mixin { return []ent.Mixin{RowScope{}, unlisted} }

// Fields of IdempotencyRecord.
func (IdempotencyRecord) Fields() []ent.Field {
	return []ent.Field{
		field.String("agency_code").Immutable(),
		field.String("subject").Immutable(),
		field.String("operation").Immutable(),
		field.String("key").Immutable().NotEmpty().MaxLen(200),
		field.String("request_hash").Immutable().
			Comment("SHA-256 of the request's input with its lists in order, as releases before 2026-12-06 compare a retry: kept so that a retry reaching a server of the previous release during a rolling deploy or a rollback still replays."),
		field.String("canonical_hash").Optional().Nillable().Immutable().
			Comment("SHA-256 of the request's canonical form (a value that stores what omission stores left out): the same key with other input is a CONFLICT. Null on records written before 2026-12-06."),
		field.Int("result_id").Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of IdempotencyRecord.
func (IdempotencyRecord) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("agency_code", "subject", "operation", "key").Unique(),
		index.Fields("created_at"),
	}
}
