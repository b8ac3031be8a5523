package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/casegraph/casegraph/domain"
)

// Referral is a victim's referral from one agency to another for a service,
// in the National Referral Mechanism. Its status follows PENDING → ACCEPTED |
// REJECTED → COMPLETED, or REVOKED, and keeps its history.
type Referral struct {
	ent.Schema
}

// Mixin of Referral.
func (Referral) Mixin() []ent.Mixin {
	return []ent.Mixin{Record{}, listed(createInput, entgql.QueryField())}
}

// Fields of Referral.
func (Referral) Fields() []ent.Field {
	return []ent.Field{
		sortable(field.Enum("service_kind").GoType(domain.ServiceKind("")).
			Annotations(immutableInput)),
		sortable(field.Enum("status").GoType(domain.ReferralStatus("")).
			Default(string(domain.ReferralStatusPending)).
			Comment("Changes only through moveReferralStatus.").
			Annotations(notSettable)),
		field.JSON("status_history", []domain.ReferralStatusChange{}).Default([]domain.ReferralStatusChange{}).
			Annotations(notSettable, entgql.Type("[ReferralStatusChange!]")),
		sortable(field.Time("referred_at").Immutable()),
		field.Int("victim_id").Immutable(),
		// Not a filter: a referral is seen through its victim, and its case
		// may be outside the caller's rows, so `caseID: X` would tell
		// whether the victim's referral belongs to hidden case X (its
		// value reads null then, graph/referral_case.go). A case's
		// referrals are its `referrals` edge.
		field.Int("case_id").Optional().Nillable().Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Int("from_agency_id").Immutable(),
		field.Int("to_agency_id").Immutable(),
	}
}

// Edges of Referral.
func (Referral) Edges() []ent.Edge {
	return []ent.Edge{
		belongsTo("victim", Victim.Type, "referrals"),
		edge.From("case", CaseFile.Type).Ref("referrals").Field("case_id").
			Unique().Immutable(),
		refersTo("from_agency", Agency.Type),
		refersTo("to_agency", Agency.Type),
	}
}

// Indexes of Referral.
func (Referral) Indexes() []ent.Index {
	return indexed(
		"service_kind", "status", "referred_at", "victim_id", "case_id",
		"from_agency_id", "to_agency_id",
	)
}
