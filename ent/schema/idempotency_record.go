package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/casegraph/casegraph/rowrule"
)

// IdempotencyRecord remembers the result of a create that carried an
// idempotency key, so that a retried request returns the record the first
// one made instead of making a second. It is not part of the GraphQL API.
type IdempotencyRecord struct {
	ent.Schema
}

// Fields of IdempotencyRecord.
func (IdempotencyRecord) Fields() []ent.Field {
	return []ent.Field{
		field.String("agency_code").Immutable(),
		field.String("subject").Immutable(),
		field.String("operation").Immutable(),
		field.String("key").Immutable().NotEmpty().MaxLen(200),
		field.String("request_hash").Immutable().
			Comment("SHA-256 of the request's input: the same key with other input is a CONFLICT."),
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

// Annotations of IdempotencyRecord.
func (IdempotencyRecord) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of IdempotencyRecord: see package rowrule.
func (IdempotencyRecord) Policy() ent.Policy { return rowrule.AllowPrincipalsPolicy() }
