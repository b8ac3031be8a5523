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
func (Victim) Mixin() []ent.Mixin { return []ent.Mixin{Record{}} }

// Fields of Victim.
func (Victim) Fields() []ent.Field {
	return []ent.Field{
		field.String("pseudonym").Unique().Immutable().
			Match(regexp.MustCompile(`^V-[0-9]{4}-[0-9]{4,}$`)).
			Comment("Stable pseudonym such as V-2024-0042; the only name most people see.").
			Annotations(entgql.OrderField("PSEUDONYM")),
		field.Enum("sex").GoType(domain.Sex("")).
			Annotations(entgql.OrderField("SEX")),
		field.Enum("age_group").GoType(domain.AgeGroup("")).
			Annotations(entgql.OrderField("AGE_GROUP")),
		field.Enum("identification_status").GoType(domain.IdentificationStatus("")).
			Annotations(entgql.OrderField("IDENTIFICATION_STATUS")),
		field.Enum("identified_by").GoType(domain.IdentifyingBody("")).
			Annotations(entgql.OrderField("IDENTIFIED_BY")),
		field.Time("identified_at").
			Annotations(entgql.OrderField("IDENTIFIED_AT")),
		field.JSON("forms_of_exploitation", []domain.Exploitation{}).Default([]domain.Exploitation{}).
			Annotations(entgql.Type("[Exploitation!]")),
		field.Enum("region").GoType(domain.Region("")).
			Annotations(entgql.OrderField("REGION")),
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
		edge.To("referrals", Referral.Type).
			Annotations(entgql.RelayConnection(), notSettable),
		edge.To("services", SupportService.Type).
			Annotations(entgql.RelayConnection(), notSettable),
		edge.To("consents", Consent.Type).
			Annotations(entgql.RelayConnection(), notSettable),
	}
}

// Indexes of Victim.
func (Victim) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("sex"), index.Fields("age_group"), index.Fields("identification_status"),
		index.Fields("identified_by"), index.Fields("identified_at"), index.Fields("region"),
		index.Fields("foreign_national"),
	}
}

// Annotations of Victim.
func (Victim) Annotations() []schema.Annotation {
	return connectionAnnotations(createAndUpdateInputs, entgql.QueryField())
}

// Policy of Victim: see package rowrule.
func (Victim) Policy() ent.Policy { return rowrule.VictimPolicy() }
