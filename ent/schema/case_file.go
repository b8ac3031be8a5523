package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/rowrule"
)

// CaseFile is a trafficking case: the file that police, prosecution, courts
// and support organisations work from. It is called Case in GraphQL (ent
// cannot name a schema after a Go keyword).
type CaseFile struct {
	ent.Schema
}

// Mixin of CaseFile.
func (CaseFile) Mixin() []ent.Mixin { return []ent.Mixin{Record{}} }

// Fields of CaseFile.
func (CaseFile) Fields() []ent.Field {
	return []ent.Field{
		field.String("reference").Unique().Immutable().NotEmpty().MaxLen(64).
			Comment("The case's stable business reference, e.g. TIR-2024-0042; unique.").
			Annotations(entgql.OrderField("REFERENCE")),
		field.String("title").NotEmpty().MaxLen(300).
			Comment("A short description without personal data.").
			Annotations(notFilterable),
		field.Enum("stage").GoType(domain.ProceedingStage("")).
			Default(string(domain.ProceedingStageNoticeReceived)).
			Comment("Changes only through moveCaseStage, following the proceeding lifecycle.").
			Annotations(notSettable, entgql.OrderField("STAGE")),
		field.JSON("forms_of_exploitation", []domain.Exploitation{}).Default([]domain.Exploitation{}).
			Annotations(entgql.Type("[Exploitation!]")),
		field.Enum("region").GoType(domain.Region("")).
			Annotations(entgql.OrderField("REGION")),
		field.Time("opened_at").Default(time.Now).
			Annotations(entgql.OrderField("OPENED_AT")),
		field.Time("closed_at").Optional().Nillable().
			Comment("Set when the case reaches a terminal stage.").
			Annotations(notSettable, entgql.OrderField("CLOSED_AT")),
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
		edge.To("suspects", Suspect.Type).
			Annotations(entgql.RelayConnection(), notSettable),
		edge.To("prosecutions", Prosecution.Type).
			Annotations(entgql.RelayConnection(), notSettable),
		edge.To("referrals", Referral.Type).
			Annotations(entgql.RelayConnection(), notSettable),
		edge.To("events", CaseEvent.Type).
			Annotations(entgql.RelayConnection(), notSettable),
	}
}

// Indexes of CaseFile.
func (CaseFile) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("stage"), index.Fields("region"), index.Fields("opened_at"),
		index.Fields("closed_at"), index.Fields("lead_agency_id"),
	}
}

// Annotations of CaseFile.
func (CaseFile) Annotations() []schema.Annotation {
	return connectionAnnotations(createAndUpdateInputs, entgql.Type("Case"), entgql.QueryField("cases"))
}

// Policy of CaseFile: see package rowrule.
func (CaseFile) Policy() ent.Policy { return rowrule.CaseFilePolicy() }
