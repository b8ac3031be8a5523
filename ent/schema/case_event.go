package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
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
			"orderBy: [{field: COMMIT_ORDER}] with first and, after the first pull, after: the last endCursor you got: " +
			"an entry committed later always comes after it, and none comes twice. A page in that order holds an entry back " +
			"until every write that began before it has ended, so the latest entries come a moment late, and later still while " +
			"a long write is open. Ordered by createdAt, ask createdAtGTE your latest createdAt less the request deadline " +
			"(an entry is stamped before its change commits) and drop what you hold.",
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
		commitOrder(),
	}
}

// commitOrder is the transaction that wrote the entry, for the feed of
// Query.caseEvents in COMMIT_ORDER (docs/mutations.md, "When a write
// becomes visible"). On PostgreSQL it is the writing transaction's id
// (pg_current_xact_id, 64 bits, never wrapping; as a bigint), set by the
// column's default in the transaction itself, so that no statement is
// added and no writer can forget it: entries are ordered by it, then by id,
// and the feed answers only those below the reading statement's snapshot
// xmin, every transaction under which has ended (graph/commit_order.go).
// On SQLite, whose writers hold the database's one write lock from BEGIN
// IMMEDIATE to COMMIT, ids are given out in commit order already, so the
// column is 0 and the id orders. Named for what the order is, not for the
// column (sortable's rule): the column is the database's means to it. Not
// a GraphQL field nor a filter: a transaction id counts every write of the
// database, of every agency; the cursors carry it, as they carry ids.
func commitOrder() ent.Field {
	return field.Int64("commit_txid").Immutable().
		Comment("The writing transaction: its id on PostgreSQL, 0 on SQLite (the id is the commit order there). Set by the column's default; never by the code.").
		Annotations(
			entsql.DefaultExprs(map[string]string{
				dialect.Postgres: "pg_current_xact_id()::text::bigint",
				dialect.SQLite:   "0",
				// ent's create builder asks a value of a field with no
				// default for a dialect named "sqlite" (gen.Field.RequiredFor
				// reads its storage's dialects so), while the schema's
				// default for SQLite is read under dialect.SQLite,
				// "sqlite3": without this key, every entry written on SQLite
				// was refused for want of the column the database fills.
				"sqlite": "0",
			}),
			entgql.OrderField("COMMIT_ORDER"),
			entgql.Skip(entgql.SkipType|entgql.SkipWhereInput|entgql.SkipMutationCreateInput|entgql.SkipMutationUpdateInput),
		)
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
		// The feed's order: a page is a range of it.
		index.Fields("commit_txid", "id"),
	}
}
