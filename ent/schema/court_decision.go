package schema

import (
	"fmt"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/casegraph/casegraph/domain"
)

// CourtDecision is a court's decision in a prosecution, at one instance:
// the verdict, the sentence, and compensation ordered to the victim.
type CourtDecision struct {
	ent.Schema
}

// Mixin of CourtDecision.
func (CourtDecision) Mixin() []ent.Mixin {
	return []ent.Mixin{Record{}, listed(createAndUpdateInputs)}
}

// Fields of CourtDecision.
func (CourtDecision) Fields() []ent.Field {
	return []ent.Field{
		sortable(field.Enum("instance").GoType(domain.Instance("")).
			Annotations(immutableInput)),
		sortable(field.Time("decided_on")),
		sortable(field.Enum("verdict").GoType(domain.Verdict(""))),
		sortable(field.Enum("sentence_kind").GoType(domain.SentenceKind("")).Optional().Nillable()),
		sortable(field.Int("sentence_months").Optional().Nillable().Range(0, 1200)),
		field.Int64("compensation_ordered_lek").Optional().Nillable().Validate(compensationInBounds).
			Comment("Compensation ordered to the victim, in Albanian lek.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Bool("compensation_paid").Default(false),
		field.Int("prosecution_id").Immutable(),
		field.Int("court_id").Immutable(),
		// Set and changed by the review's court, checked by casework
		// (namedDecisionFits); without it the decision reviewed is
		// inferred (domain.Decision.Reviewed).
		field.Int("reviewed_decision_id").Optional().Nillable().
			Comment("The decision this review names as the one it reviews: of its proceeding, at the instance it reviews, decided on or before it. Null when none is named: the decision reviewed is then the proceeding's latest at that instance decided on or before the review, the last recorded of a date."),
	}
}

// Edges of CourtDecision.
func (CourtDecision) Edges() []ent.Edge {
	return []ent.Edge{
		belongsTo("prosecution", Prosecution.Type, "decisions"),
		refersTo("court", Agency.Type),
		// A decision of the same type: ent makes an edge to its own type
		// without an inverse both ways (a link named by either end), so
		// the link is the inverse of the reviews that name a decision,
		// which GraphQL does not serve.
		edge.To("naming_reviews", CourtDecision.Type).Annotations(entgql.Skip(entgql.SkipAll)).
			From("reviewed_decision").Field("reviewed_decision_id").Unique(),
	}
}

// Indexes of CourtDecision.
func (CourtDecision) Indexes() []ent.Index {
	return indexed(
		"instance", "decided_on", "verdict", "sentence_kind", "sentence_months",
		"compensation_paid", "prosecution_id", "court_id", "reviewed_decision_id",
	)
}

// compensationInBounds refuses an amount below nothing or above
// domain.MaxCompensationLek, saying both ends (ent's own Range says only
// "value out of range", and a client had to guess the limit). The message
// holds no ": ", after which casework.validationReason would cut it.
func compensationInBounds(lek int64) error {
	if lek < 0 || lek > domain.MaxCompensationLek {
		return fmt.Errorf("it must lie between 0 and %d lek, the most one decision may order", domain.MaxCompensationLek)
	}
	return nil
}
