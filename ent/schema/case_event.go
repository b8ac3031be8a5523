package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/casegraph/casegraph/domain"
)

// CaseEvent is an entry on a case's timeline: who did what, and when. Every
// mutation that concerns a case writes one in the same transaction. Its
// summary never carries a victim's personal data.
type CaseEvent struct {
	ent.Schema
}

// Mixin of CaseEvent: read-only in GraphQL; written by the mutations
// themselves. Listed at the root too: the one place a mirror finds what
// moves no record's updatedAt (a victim linked, a charge added, a consent
// recorded), across the cases it sees (docs/mutations.md).
func (CaseEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{Record{}, listed(entgql.QueryField("caseEvents").Description(
		"The timeline entries of the cases you see, less those about a victim you do not see: what happened to each case, " +
			"links and records made under it included. To pull what changed since your last pull, ask " +
			"createdAtGTE your latest createdAt less the request deadline (an entry is stamped before its change commits).",
	))}
}

// Fields of CaseEvent.
func (CaseEvent) Fields() []ent.Field {
	return []ent.Field{
		sortable(field.Enum("kind").GoType(domain.CaseEventKind("")).Immutable()),
		sortable(field.Time("at").Default(time.Now).Immutable()),
		field.String("actor_subject").Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.String("summary").Immutable().MaxLen(500).
			Annotations(notFilterable),
		field.String("subject_id").Optional().Immutable().
			Comment("Global id of the record the event is about (a victim, a prosecution…).").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Int("subject_victim_id").Optional().Nillable().Immutable().
			Comment("The victim the event is about: its subject, or the victim of the referral, support or consent that is. " +
				"Row scope hides the entry from whoever does not see that victim (rowscope.caseEventRows). Not in GraphQL.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("case_id").Immutable(),
		field.Int("actor_agency_id").Immutable(),
	}
}

// Edges of CaseEvent.
func (CaseEvent) Edges() []ent.Edge {
	return []ent.Edge{
		belongsTo("case", CaseFile.Type, "events"),
		refersTo("actor_agency", Agency.Type),
	}
}

// Indexes of CaseEvent.
func (CaseEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("kind"), index.Fields("at"), index.Fields("case_id", "at"), index.Fields("actor_agency_id"),
	}
}
