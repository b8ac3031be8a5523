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
		field.String("registration_number").Unique().Immutable().NotEmpty().MaxLen(64).
			Comment("The office's registration number of the proceeding.").
			Annotations(entgql.OrderField("REGISTRATION_NUMBER")),
		field.Enum("stage").GoType(domain.ProceedingStage("")).
			Default(string(domain.ProceedingStageRegistered)).
			Comment("Changes only through moveProsecutionStage.").
			Annotations(notSettable, entgql.OrderField("STAGE")),
		field.Time("registered_at").
			Annotations(entgql.OrderField("REGISTERED_AT")),
		field.Time("investigation_deadline").Optional().Nillable().
			Comment("Changes through extendInvestigationDeadline once set.").
			Annotations(immutableInput, entgql.OrderField("INVESTIGATION_DEADLINE")),
		field.Int("deadline_extensions").Default(0).NonNegative().
			Annotations(notSettable, entgql.OrderField("DEADLINE_EXTENSIONS")),
		recordedAt("investigation_started_at"),
		recordedAt("investigation_closed_at"),
		field.Time("trial_requested_at").Optional().Nillable().
			Annotations(notSettable, entgql.OrderField("TRIAL_REQUESTED_AT")),
		recordedAt("dismissed_at"),
		recordedAt("first_instance_decided_at"),
		recordedAt("appeal_decided_at"),
		field.Time("closed_at").Optional().Nillable().
			Comment("When the proceeding reached a terminal stage.").
			Annotations(notSettable, entgql.OrderField("CLOSED_AT")),
		field.Int("case_id").Immutable(),
		field.Int("office_id"),
	}
}

// Edges of Prosecution.
func (Prosecution) Edges() []ent.Edge {
	return []ent.Edge{
		belongsTo("case", CaseFile.Type, "prosecutions"),
		edge.To("office", Agency.Type).Field("office_id").Unique().Required(),
		edge.To("defendants", Suspect.Type).Through("defendant_links", ProsecutionDefendant.Type),
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
