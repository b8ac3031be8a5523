package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/casegraph/casegraph/rowrule"
)

// EmergencyGrant is time-limited access, asked for with a written
// justification, to the sensitive fields of one case's victims and
// suspects. It is granted at once, for a few hours at most, and data
// protection officers can list and revoke it.
type EmergencyGrant struct {
	ent.Schema
}

// Mixin of EmergencyGrant.
func (EmergencyGrant) Mixin() []ent.Mixin { return []ent.Mixin{Record{}} }

// Fields of EmergencyGrant.
func (EmergencyGrant) Fields() []ent.Field {
	return []ent.Field{
		field.String("subject").Immutable().
			Comment("The person the access was granted to.").
			Annotations(entgql.OrderField("SUBJECT")),
		field.Text("justification").Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Time("granted_at").Default(time.Now).Immutable().
			Annotations(entgql.OrderField("GRANTED_AT")),
		field.Time("expires_at").Immutable().
			Annotations(entgql.OrderField("EXPIRES_AT")),
		field.Time("revoked_at").Optional().Nillable().
			Annotations(entgql.OrderField("REVOKED_AT")),
		field.String("revoked_by").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Int("agency_id").Immutable(),
		field.Int("case_id").Immutable(),
	}
}

// Edges of EmergencyGrant.
func (EmergencyGrant) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("agency", Agency.Type).Field("agency_id").Unique().Required().Immutable(),
		// Not an edge in GraphQL: a data protection officer reviews grants
		// on cases they may not see; caseID and caseReference say which.
		edge.To("case", CaseFile.Type).Field("case_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of EmergencyGrant.
func (EmergencyGrant) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("subject", "agency_id", "expires_at"),
		index.Fields("granted_at"), index.Fields("expires_at"), index.Fields("revoked_at"),
		index.Fields("agency_id"), index.Fields("case_id"),
	}
}

// Annotations of EmergencyGrant.
func (EmergencyGrant) Annotations() []schema.Annotation {
	return connectionAnnotations(entgql.QueryField())
}

// Policy of EmergencyGrant: see package rowrule.
func (EmergencyGrant) Policy() ent.Policy { return rowrule.EmergencyGrantPolicy() }
