package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/rowrule"
)

// CaseEvent is an entry on a case's timeline: who did what, and when. Every
// mutation that concerns a case writes one in the same transaction. Its
// summary never carries a victim's personal data.
type CaseEvent struct {
	ent.Schema
}

// Mixin of CaseEvent.
func (CaseEvent) Mixin() []ent.Mixin { return []ent.Mixin{Record{}} }

// Fields of CaseEvent.
func (CaseEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").GoType(domain.CaseEventKind("")).Immutable().
			Annotations(entgql.OrderField("KIND")),
		field.Time("at").Default(time.Now).Immutable().
			Annotations(entgql.OrderField("AT")),
		field.String("actor_subject").Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.String("summary").Immutable().MaxLen(500).
			Annotations(notFilterable),
		field.String("subject_id").Optional().Immutable().
			Comment("Global id of the record the event is about (a victim, a prosecution…).").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Int("case_id").Immutable(),
		field.Int("actor_agency_id").Immutable(),
	}
}

// Edges of CaseEvent.
func (CaseEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case", CaseFile.Type).Ref("events").Field("case_id").
			Unique().Required().Immutable(),
		edge.To("actor_agency", Agency.Type).Field("actor_agency_id").Unique().Required().Immutable(),
	}
}

// Indexes of CaseEvent.
func (CaseEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("kind"), index.Fields("at"), index.Fields("case_id", "at"), index.Fields("actor_agency_id"),
	}
}

// Annotations of CaseEvent: read-only in GraphQL; written by the mutations
// themselves.
func (CaseEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.MultiOrder()}
}

// Policy of CaseEvent: see package rowrule.
func (CaseEvent) Policy() ent.Policy { return rowrule.CaseEventPolicy() }
