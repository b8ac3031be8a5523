package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/casegraph/casegraph/rowrule"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/sensitivity"
)

// SupportService is support a victim received from a provider: shelter,
// medical or legal aid, and the rest of docs/domain.md's service kinds.
type SupportService struct {
	ent.Schema
}

// Mixin of SupportService.
func (SupportService) Mixin() []ent.Mixin { return []ent.Mixin{Record{}} }

// Fields of SupportService.
func (SupportService) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").GoType(domain.ServiceKind("")).
			Annotations(immutableInput, entgql.OrderField("KIND")),
		field.Time("started_on").
			Annotations(entgql.OrderField("STARTED_ON")),
		field.Time("ended_on").Optional().Nillable().
			Annotations(entgql.OrderField("ENDED_ON")),
		field.Text("notes").Optional().Nillable().
			Comment("Free text about a person's support reveals health and circumstances: treated as health data.").
			Annotations(sensitivity.Annotate(sensitivity.Health)...),
		field.Int("victim_id").Immutable(),
		field.Int("provider_id").Immutable(),
	}
}

// Edges of SupportService.
func (SupportService) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("victim", Victim.Type).Ref("services").Field("victim_id").
			Unique().Required().Immutable(),
		edge.To("provider", Agency.Type).Field("provider_id").Unique().Required().Immutable(),
	}
}

// Indexes of SupportService.
func (SupportService) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("kind"), index.Fields("started_on"), index.Fields("ended_on"),
		index.Fields("victim_id"), index.Fields("provider_id"),
	}
}

// Annotations of SupportService.
func (SupportService) Annotations() []schema.Annotation {
	return connectionAnnotations(createAndUpdateInputs)
}

// Policy of SupportService: see package rowrule.
func (SupportService) Policy() ent.Policy { return rowrule.SupportServicePolicy() }
