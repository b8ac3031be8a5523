package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/casegraph/casegraph/rowrule"

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
func (Prosecution) Mixin() []ent.Mixin { return []ent.Mixin{Record{}} }

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
		field.Time("investigation_started_at").Optional().Nillable().
			Annotations(notSettable, entgql.Skip(entgql.SkipWhereInput)),
		field.Time("investigation_closed_at").Optional().Nillable().
			Annotations(notSettable, entgql.Skip(entgql.SkipWhereInput)),
		field.Time("trial_requested_at").Optional().Nillable().
			Annotations(notSettable, entgql.OrderField("TRIAL_REQUESTED_AT")),
		field.Time("dismissed_at").Optional().Nillable().
			Annotations(notSettable, entgql.Skip(entgql.SkipWhereInput)),
		field.Time("first_instance_decided_at").Optional().Nillable().
			Annotations(notSettable, entgql.Skip(entgql.SkipWhereInput)),
		field.Time("appeal_decided_at").Optional().Nillable().
			Annotations(notSettable, entgql.Skip(entgql.SkipWhereInput)),
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
		edge.From("case", CaseFile.Type).Ref("prosecutions").Field("case_id").
			Unique().Required().Immutable(),
		edge.To("office", Agency.Type).Field("office_id").Unique().Required(),
		edge.To("defendants", Suspect.Type).Through("defendant_links", ProsecutionDefendant.Type),
		edge.To("charges", Charge.Type).
			Annotations(entgql.RelayConnection(), notSettable),
		edge.To("decisions", CourtDecision.Type).
			Annotations(entgql.RelayConnection(), notSettable),
	}
}

// Indexes of Prosecution.
func (Prosecution) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("stage"), index.Fields("registered_at"), index.Fields("investigation_deadline"),
		index.Fields("deadline_extensions"), index.Fields("trial_requested_at"), index.Fields("closed_at"),
		index.Fields("case_id"), index.Fields("office_id"),
	}
}

// Annotations of Prosecution.
func (Prosecution) Annotations() []schema.Annotation {
	return connectionAnnotations(createAndUpdateInputs, entgql.QueryField())
}

// Policy of Prosecution: see package rowrule.
func (Prosecution) Policy() ent.Policy { return rowrule.ProsecutionPolicy() }
