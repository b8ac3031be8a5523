package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/casegraph/casegraph/domain"
)

// CaseFile is a trafficking case: the file that police, prosecution, courts
// and support organisations work from. It is called Case in GraphQL (ent
// cannot name a schema after a Go keyword).
type CaseFile struct {
	ent.Schema
}

// Mixin of CaseFile.
func (CaseFile) Mixin() []ent.Mixin {
	return []ent.Mixin{Record{}, listed(createAndUpdateInputs, entgql.Type("Case"), entgql.QueryField("cases"))}
}

// Fields of CaseFile.
func (CaseFile) Fields() []ent.Field {
	return []ent.Field{
		sortable(field.String("reference").Unique().Immutable().NotEmpty().MaxLen(64).
			Comment("The case's stable business reference, e.g. TIR-2024-0042; unique.")),
		field.String("title").NotEmpty().MaxLen(300).
			Comment("A short description without personal data.").
			Annotations(notFilterable),
		sortable(field.Enum("stage").GoType(domain.ProceedingStage("")).
			Default(string(domain.ProceedingStageNoticeReceived)).
			Comment("Changes only through moveCaseStage, following the proceeding lifecycle.").
			Annotations(notSettable)),
		field.JSON("forms_of_exploitation", []domain.Exploitation{}).Default([]domain.Exploitation{}).
			Annotations(entgql.Type("[Exploitation!]")),
		sortable(field.Enum("region").GoType(domain.Region(""))),
		sortable(field.Time("opened_at").Default(time.Now)),
		sortable(field.Time("closed_at").Optional().Nillable().
			Comment("Set when the case reaches a terminal stage.").
			Annotations(notSettable)),
		field.Int("lead_agency_id"),
	}
}

// Edges of CaseFile.
func (CaseFile) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("lead_agency", Agency.Type).Field("lead_agency_id").Unique().Required(),
		edge.To("agencies", Agency.Type).
			Through("assignments", CaseAssignment.Type).
			Annotations(entgql.RelayConnection(), notSettable),
		edge.To("victims", Victim.Type).Through("victim_links", CaseVictim.Type).
			Annotations(entgql.RelayConnection(), notSettable),
		owns("suspects", Suspect.Type),
		// A case's proceedings take the where of the root list, so that
		// they can be ordered by investigationDeadline, which needs
		// investigationDeadlineNotNil (graph.ordering.pageable).
		owns("prosecutions", Prosecution.Type, FilteredPage{}),
		owns("referrals", Referral.Type),
		owns("events", CaseEvent.Type),
	}
}

// Indexes of CaseFile.
func (CaseFile) Indexes() []ent.Index {
	return indexed("stage", "region", "opened_at", "closed_at", "lead_agency_id")
}
