package schema

import (
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/casegraph/casegraph/domain"
)

// Agency is an institution that works on trafficking cases: a police
// directorate, a prosecution office, a court, a ministry, a shelter, an NGO.
// Principals act for exactly one agency.
type Agency struct {
	ent.Schema
}

// Mixin of Agency.
func (Agency) Mixin() []ent.Mixin { return []ent.Mixin{Record{}, listed(entgql.QueryField())} }

// Fields of Agency.
func (Agency) Fields() []ent.Field {
	return []ent.Field{
		sortable(field.String("code").Unique().Immutable().
			Match(regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)).MaxLen(64).
			Comment("Stable lower-kebab code, e.g. police-tirane; tokens name it.")),
		sortable(field.String("name").NotEmpty().MaxLen(200)),
		sortable(field.Enum("kind").GoType(domain.AgencyKind(""))),
		sortable(field.Enum("region").GoType(domain.Region("")).Optional().Nillable().
			Comment("The region the agency serves; empty for national bodies.")),
		field.Int("parent_id").Optional().Nillable(),
	}
}

// Edges of Agency.
func (Agency) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("children", Agency.Type).Annotations(entgql.RelayConnection()).
			From("parent").Field("parent_id").Unique(),
		edge.From("cases", CaseFile.Type).Ref("agencies").
			Through("assignments", CaseAssignment.Type).
			Annotations(entgql.RelayConnection()),
		edge.From("led_cases", CaseFile.Type).Ref("lead_agency").
			Annotations(entgql.RelayConnection()),
	}
}

// Indexes of Agency.
func (Agency) Indexes() []ent.Index {
	return indexed("name", "kind", "region", "parent_id")
}
