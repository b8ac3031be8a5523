package schema

import (
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/sensitivity"
)

// Victim is a victim or potential victim of trafficking. The pseudonym, sex,
// age group, identification status, forms of exploitation and region are
// always safe to show within a principal's rows; every other personal field
// is declared sensitive here, and only here.
type Victim struct {
	ent.Schema
}

// Mixin of Victim.
func (Victim) Mixin() []ent.Mixin {
	return []ent.Mixin{Record{}, listed(createAndUpdateInputs, entgql.QueryField())}
}

// Fields of Victim.
func (Victim) Fields() []ent.Field {
	return []ent.Field{
		sortable(field.String("pseudonym").Unique().Immutable().
			Match(regexp.MustCompile(`^V-[0-9]{4}-[0-9]{4,}$`)).
			Comment("Stable pseudonym such as V-2024-0042; the only name most people see.")),
		sortable(field.Enum("sex").GoType(domain.Sex(""))),
		sortable(field.Enum("age_group").GoType(domain.AgeGroup(""))),
		sortable(field.Enum("identification_status").GoType(domain.IdentificationStatus(""))),
		sortable(field.Enum("identified_by").GoType(domain.IdentifyingBody(""))),
		sortable(field.Time("identified_at")),
		field.JSON("forms_of_exploitation", []domain.Exploitation{}).Default([]domain.Exploitation{}).
			Annotations(entgql.Type("[Exploitation!]")),
		sortable(field.Enum("region").GoType(domain.Region(""))),
		field.Bool("foreign_national").Default(false).
			Comment("Whether the victim is not an Albanian national (statistics need it; the nationality itself is sensitive)."),

		// Sensitive fields (docs/domain.md, Victims).
		field.String("legal_name").Optional().Nillable().MaxLen(200).
			Annotations(sensitivity.Annotate(sensitivity.Identity)...),
		field.Time("date_of_birth").Optional().Nillable().
			Annotations(sensitivity.Annotate(sensitivity.Identity)...),
		field.String("personal_number").Optional().Nillable().MaxLen(32).
			Annotations(sensitivity.Annotate(sensitivity.Identity)...),
		field.String("nationality").Optional().Nillable().MaxLen(64).
			Comment("Quasi-identifier: in a small country a foreign nationality can single a person out.").
			Annotations(sensitivity.Annotate(sensitivity.QuasiIdentifier)...),
		field.Int("exact_age").Optional().Nillable().Range(0, 130).
			Comment("Age in years at identification; a quasi-identifier (the age group is not).").
			Annotations(sensitivity.Annotate(sensitivity.QuasiIdentifier)...),
		field.String("phone").Optional().Nillable().MaxLen(40).
			Annotations(sensitivity.Annotate(sensitivity.Contact)...),
		field.String("address").Optional().Nillable().MaxLen(400).
			Annotations(sensitivity.Annotate(sensitivity.Contact)...),
		field.Text("health_notes").Optional().Nillable().
			Comment("Special category data under Law 124/2024.").
			Annotations(sensitivity.Annotate(sensitivity.Health)...),
		field.Text("testimony_summary").Optional().Nillable().
			Annotations(sensitivity.Annotate(sensitivity.Testimony)...),
		field.String("shelter_location").Optional().Nillable().MaxLen(400).
			Annotations(sensitivity.Annotate(sensitivity.Location)...),
	}
}

// Edges of Victim.
func (Victim) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("cases", CaseFile.Type).Ref("victims").Through("case_links", CaseVictim.Type).
			Annotations(entgql.RelayConnection(), notSettable),
		owns("referrals", Referral.Type),
		owns("services", SupportService.Type),
		owns("consents", Consent.Type),
	}
}

// Indexes of Victim.
func (Victim) Indexes() []ent.Index {
	return indexed(
		"sex", "age_group", "identification_status", "identified_by", "identified_at",
		"region", "foreign_national",
	)
}
