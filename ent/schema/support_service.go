package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/sensitivity"
)

// SupportService is support a victim received from a provider: shelter,
// medical or legal aid, and the rest of the service kinds of docs/domain.md.
type SupportService struct {
	ent.Schema
}

// Mixin of SupportService.
func (SupportService) Mixin() []ent.Mixin {
	return []ent.Mixin{Record{}, listed(createAndUpdateInputs)}
}

// Fields of SupportService.
func (SupportService) Fields() []ent.Field {
	return []ent.Field{
		sortable(field.Enum("kind").GoType(domain.ServiceKind("")).
			Annotations(immutableInput)),
		sortable(field.Time("started_on")),
		sortable(field.Time("ended_on").Optional().Nillable()),
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
		belongsTo("victim", Victim.Type, "services"),
		refersTo("provider", Agency.Type),
	}
}

// Indexes of SupportService.
func (SupportService) Indexes() []ent.Index {
	return indexed("kind", "started_on", "ended_on", "victim_id", "provider_id")
}
