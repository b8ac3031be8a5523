package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/casegraph/casegraph/domain"
)

// Prosecution is a criminal proceeding registered by a prosecution office
// (Art. 287) and followed through investigation, trial and appeal. Its stage
// changes only along the lifecycle of docs/domain.md, and each stage it reaches
// records its date.
type Prosecution struct {
	ent.Schema
}

// Mixin of Prosecution.
func (Prosecution) Mixin() []ent.Mixin {
	return []ent.Mixin{Record{}, listed(createAndUpdateInputs, entgql.QueryField())}
}

// Fields of Prosecution.
func (Prosecution) Fields() []ent.Field {
	return []ent.Field{
		sortable(field.String("registration_number").Unique().Immutable().NotEmpty().MaxLen(64).
			Comment("The office's registration number of the proceeding.")),
		sortable(field.Enum("stage").GoType(domain.ProceedingStage("")).
			Default(string(domain.ProceedingStageRegistered)).
			Comment("Changes only through moveProsecutionStage.").
			Annotations(notSettable)),
		sortable(field.Time("registered_at")),
		sortable(field.Time("investigation_deadline").Optional().Nillable().
			Comment("Changes through extendInvestigationDeadline once set.").
			Annotations(immutableInput)),
		sortable(field.Int("deadline_extensions").Default(0).NonNegative().
			Annotations(notSettable)),
		recordedAt("investigation_started_at"),
		recordedAt("investigation_closed_at"),
		// Whether a court had the proceeding: a dismissal the office
		// decides alone (from INVESTIGATION_CLOSED) is no court's, one it
		// asked a court for is (casework.decisionFits).
		recordedAt("dismissal_requested_at"),
		sortable(field.Time("trial_requested_at").Optional().Nillable().
			Annotations(notSettable)),
		recordedAt("dismissed_at"),
		recordedAt("first_instance_decided_at"),
		recordedAt("appeal_decided_at"),
		sortable(field.Time("closed_at").Optional().Nillable().
			Comment("When the proceeding reached a terminal stage.").
			Annotations(notSettable)),
		field.Int("case_id").Immutable(),
		field.Int("office_id"),
	}
}

// Edges of Prosecution.
func (Prosecution) Edges() []ent.Edge {
	return []ent.Edge{
		belongsTo("case", CaseFile.Type, "prosecutions"),
		edge.To("office", Agency.Type).Field("office_id").Unique().Required(),
		edge.To("defendants", Suspect.Type).Through("defendant_links", ProsecutionDefendant.Type).
			Comment("The suspects the proceeding is against, all of them in one list.").
			Annotations(connectionBeside("defendants_connection",
				"The suspects the proceeding is against, a page at a time, ordered by orderBy (then by id): "+
					"the same records as defendants, priced by first or last as every connection is.",
				"it pages the same suspects. This list holds every defendant however many, and is priced as 50.")...),
		owns("charges", Charge.Type),
		owns("decisions", CourtDecision.Type),
	}
}

// Indexes of Prosecution.
func (Prosecution) Indexes() []ent.Index {
	return indexed(
		"stage", "registered_at", "investigation_deadline", "deadline_extensions",
		"trial_requested_at", "closed_at", "case_id", "office_id",
	)
}
