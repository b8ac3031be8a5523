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

// CaseAssignment says that an agency works on a case and in which part:
// investigating, prosecuting, adjudicating, supporting or coordinating. It is
// the edge between CaseFile and Agency. An agency has one part in a case.
type CaseAssignment struct {
	ent.Schema
}

// Mixin of CaseAssignment.
func (CaseAssignment) Mixin() []ent.Mixin { return []ent.Mixin{Record{}} }

// Fields of CaseAssignment.
func (CaseAssignment) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").Immutable(),
		field.Int("agency_id").Immutable(),
		field.Enum("part").GoType(domain.CasePart("")),
		field.Time("assigned_at").Default(time.Now).Immutable(),
	}
}

// Edges of CaseAssignment.
func (CaseAssignment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("case", CaseFile.Type).Field("case_id").Unique().Required().Immutable(),
		edge.To("agency", Agency.Type).Field("agency_id").Unique().Required().Immutable(),
	}
}

// Indexes of CaseAssignment.
func (CaseAssignment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("case_id", "agency_id").Unique(),
		index.Fields("agency_id"),
	}
}

// Annotations of CaseAssignment.
func (CaseAssignment) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)}
}

// Policy of CaseAssignment: see package rowrule.
func (CaseAssignment) Policy() ent.Policy { return rowrule.CaseAssignmentPolicy() }
