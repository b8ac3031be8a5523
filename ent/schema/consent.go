package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/sensitivity"
)

// Consent is a victim's consent (or, for a child under 16, a parent's or
// guardian's) to share their data with kinds of agency for given purposes.
// It can be withdrawn; a withdrawn consent is kept, never deleted.
type Consent struct {
	ent.Schema
}

// Mixin of Consent.
func (Consent) Mixin() []ent.Mixin { return []ent.Mixin{Record{}, listed(createInput)} }

// Fields of Consent.
func (Consent) Fields() []ent.Field {
	return []ent.Field{
		field.JSON("agency_kinds", []domain.AgencyKind{}).
			Annotations(immutableInput, entgql.Type("[AgencyKind!]")),
		field.JSON("purposes", []domain.ConsentPurpose{}).
			Annotations(immutableInput, entgql.Type("[ConsentPurpose!]")),
		// Who gave a minor's consent tells more than the age group:
		// recordConsent refuses the victim alone under 16, so a minor's own
		// consent says 16 or 17. Read like the victim's exact age.
		field.Enum("given_by").GoType(domain.ConsentGivenBy("")).
			Annotations(append(sensitivity.Annotate(sensitivity.QuasiIdentifier), immutableInput)...),
		sortable(field.Time("given_at").Immutable()),
		sortable(field.Time("withdrawn_at").Optional().Nillable().
			Comment("Set by withdrawConsent.").
			Annotations(notSettable)),
		// A victim's own consent opens nothing when the victim was, or may
		// have been, under 16 when giving it (casework.givenUnder16). It is
		// kept from the victim's stored ages by casework, whoever asks, so
		// that an age recorded later, or one the recorder may not read,
		// still voids it; the facts of field checks skip such a consent.
		field.Bool("given_under_16").Default(false).
			Comment("A consent given by the victim while under 16 by the victim's stored ages (or a minor of unknown age): it opens nothing. Not in GraphQL.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("recorded_by").Immutable().
			Comment("Subject of the principal who recorded the consent.").
			Annotations(notSettable, entgql.Skip(entgql.SkipWhereInput)),
		field.Int("victim_id").Immutable(),
		field.Int("recorded_by_agency_id").Immutable(),
	}
}

// Edges of Consent.
func (Consent) Edges() []ent.Edge {
	return []ent.Edge{
		belongsTo("victim", Victim.Type, "consents"),
		refersTo("recorded_by_agency", Agency.Type, notSettable),
	}
}

// Indexes of Consent.
func (Consent) Indexes() []ent.Index {
	return indexed("given_by", "given_at", "withdrawn_at", "victim_id", "recorded_by_agency_id")
}
