package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// EmergencyGrant is time-limited access, asked for with a written
// justification, to the sensitive fields of one case's victims and
// suspects. It is granted at once, for a few hours at most, and data
// protection officers can list and revoke it.
type EmergencyGrant struct {
	ent.Schema
}

// Mixin of EmergencyGrant.
func (EmergencyGrant) Mixin() []ent.Mixin {
	return []ent.Mixin{Record{}, listed(entgql.QueryField())}
}

// Fields of EmergencyGrant.
func (EmergencyGrant) Fields() []ent.Field {
	return []ent.Field{
		sortable(field.String("subject").Immutable().
			Comment("The person the access was granted to.")),
		field.Text("justification").Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		sortable(field.Time("granted_at").Default(time.Now).Immutable()),
		sortable(field.Time("expires_at").Immutable()),
		sortable(field.Time("revoked_at").Optional().Nillable()),
		field.String("revoked_by").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Int("agency_id").Immutable(),
		field.Int("case_id").Immutable(),
	}
}

// Edges of EmergencyGrant.
func (EmergencyGrant) Edges() []ent.Edge {
	return []ent.Edge{
		refersTo("agency", Agency.Type),
		// Not an edge in GraphQL: a data protection officer reviews grants
		// on cases they may not see; caseID and caseReference say which.
		refersTo("case", CaseFile.Type, entgql.Skip(entgql.SkipAll)),
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
