package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/sensitivity"
)

// Suspect is a person suspected of a role in a trafficking case.
type Suspect struct {
	ent.Schema
}

// Mixin of Suspect.
func (Suspect) Mixin() []ent.Mixin {
	return []ent.Mixin{Record{}, listed(createAndUpdateInputs, entgql.QueryField())}
}

// Fields of Suspect.
func (Suspect) Fields() []ent.Field {
	return []ent.Field{
		sortable(field.String("pseudonym").Unique().Immutable().NotEmpty().MaxLen(64).
			Comment("Stable pseudonym such as S-2024-0007.")),
		sortable(field.Enum("sex").GoType(domain.Sex(""))),
		sortable(field.String("nationality").MaxLen(64)),
		sortable(field.Enum("role").GoType(domain.SuspectRole(""))),
		field.Int("case_id").Immutable(),

		field.String("legal_name").Optional().Nillable().MaxLen(200).
			Annotations(sensitivity.Annotate(sensitivity.Identity)...),
		field.String("personal_number").Optional().Nillable().MaxLen(32).
			Annotations(sensitivity.Annotate(sensitivity.Identity)...),
	}
}

// Edges of Suspect.
func (Suspect) Edges() []ent.Edge {
	return []ent.Edge{
		belongsTo("case", CaseFile.Type, "suspects"),
		edge.From("prosecutions", Prosecution.Type).Ref("defendants").Through("defendant_links", ProsecutionDefendant.Type).
			Comment("The proceedings against the suspect, all of them in one list.").
			Annotations(append([]schema.Annotation{notSettable}, connectionBeside("prosecutions_connection",
				"The proceedings against the suspect, a page at a time, ordered by orderBy (then by id): "+
					"the same records as prosecutions, priced by first or last as every connection is.",
				"it pages the same proceedings. This list holds every proceeding however many, and is priced as 50.")...)...),
	}
}

// Indexes of Suspect.
func (Suspect) Indexes() []ent.Index {
	return indexed("sex", "nationality", "role", "case_id")
}
