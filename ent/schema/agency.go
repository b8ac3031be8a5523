package schema

import (
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/rowrule"
)

// Agency is an institution that works on trafficking cases: a police
// directorate, a prosecution office, a court, a ministry, a shelter, an NGO.
// Principals act for exactly one agency.
type Agency struct {
	ent.Schema
}

// Mixin of Agency.
func (Agency) Mixin() []ent.Mixin { return []ent.Mixin{Record{}} }

// Fields of Agency.
func (Agency) Fields() []ent.Field {
	return []ent.Field{
		field.String("code").Unique().Immutable().
			Match(regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)).MaxLen(64).
			Comment("Stable lower-kebab code, e.g. police-tirane; tokens name it.").
			Annotations(entgql.OrderField("CODE")),
		field.String("name").NotEmpty().MaxLen(200).
			Annotations(entgql.OrderField("NAME")),
		field.Enum("kind").GoType(domain.AgencyKind("")).
			Annotations(entgql.OrderField("KIND")),
		field.Enum("region").GoType(domain.Region("")).Optional().Nillable().
			Comment("The region the agency serves; empty for national bodies.").
			Annotations(entgql.OrderField("REGION")),
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
	return []ent.Index{
		index.Fields("name"), index.Fields("kind"), index.Fields("region"), index.Fields("parent_id"),
	}
}

// Annotations of Agency.
func (Agency) Annotations() []schema.Annotation {
	return connectionAnnotations(entgql.QueryField())
}

// Policy of Agency: see package rowrule.
func (Agency) Policy() ent.Policy { return rowrule.AllowPrincipalsPolicy() }
