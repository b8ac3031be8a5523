package graph

import (
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/caseevent"
	"github.com/casegraph/casegraph/ent/predicate"
)

// The feed of the case timeline: Query.caseEvents in COMMIT_ORDER, the
// entries by the transaction that wrote them, then by id
// (ent/schema/case_event.go, commitOrder), with a cursor an integrator
// keeps from one pull to the next and never rewinds (docs/mutations.md,
// "When a write becomes visible"). An entry is stamped, and gets its id and
// transaction id, before its transaction commits, and transactions commit
// in any order: ordered so and no more, a page could end past an entry
// whose transaction was still open, which would then commit below the
// cursor the client holds and never be in a pull. So a page answers only
// what no open transaction can precede:
//
//   - PostgreSQL: the entries whose transaction id is below the xmin of the
//     snapshot its own statement reads with (pg_current_snapshot() is that
//     statement's snapshot, under READ COMMITTED as in a transaction). Every
//     transaction below xmin has ended, committed or not, and every
//     transaction that writes later gets an id at or above it (ids are
//     given out in order, and an id given out is in the snapshots' list of
//     running ones before a later one can end): what a page answers is all
//     there will ever be below its last cursor. A subtransaction's entry
//     carries its top-level transaction's id, which pg_current_xact_id()
//     gives there, and becomes visible with it; a statement inside a write
//     transaction counts its own transaction as open, so its own entries,
//     which may yet roll back, are not answered. The horizon is the
//     database's (commitHorizon): any write transaction left open on it (an
//     audit batch, a demo load, a session in psql) holds the feed at its id
//     until it ends; the entries past it come in the pull after. Another
//     database's transactions do not, once pg_stat_activity names them.
//   - SQLite: every write transaction holds the database's one write lock
//     from BEGIN IMMEDIATE (database.OpenSQLite's _txlock) to COMMIT, and
//     ids are given out under it, growing (AUTOINCREMENT), so an entry
//     committed later has a higher id than every entry committed before
//     it, and a reader sees only committed entries: the order needs no
//     horizon, and the column is 0.
//
// The horizon is a predicate of each statement, the page's and the
// count's, so totalCount counts only entries a page can reach; the two
// statements are two snapshots, as for every list, and the count may lag
// the page by what ended between them.
const commitOrderField = "COMMIT_ORDER"

// caseEventsFilter is the filter of a page of Query.caseEvents: its where,
// and in COMMIT_ORDER the horizon.
func caseEventsFilter(orderBy []*ent.CaseEventOrder, where *ent.CaseEventWhereInput) func(*ent.CaseEventQuery) (*ent.CaseEventQuery, error) {
	if !commitOrdered(orderBy) {
		return where.Filter
	}
	return func(q *ent.CaseEventQuery) (*ent.CaseEventQuery, error) {
		q, err := where.Filter(q)
		if err != nil {
			return nil, err
		}
		return q.Where(committedBeforeEveryOpenWrite()), nil
	}
}

// caseEventsCursorBounds are the bounds of a page of Query.caseEvents past
// its cursors: in COMMIT_ORDER, pastCommitOrderCursor; in any other, none
// but entgql's.
func caseEventsCursorBounds(orderBy []*ent.CaseEventOrder) func(after, before *ent.Cursor) []func(*sql.Selector) {
	if !commitOrdered(orderBy) {
		return nil
	}
	return func(after, before *ent.Cursor) []func(*sql.Selector) {
		var bounds []func(*sql.Selector)
		if after != nil {
			bounds = append(bounds, pastCommitOrderCursor(after, ">"))
		}
		if before != nil {
			bounds = append(bounds, pastCommitOrderCursor(before, "<"))
		}
		return bounds
	}
}

// pastCommitOrderCursor is the entries past the cursor c of a page in
// COMMIT_ORDER, said so that the database starts its scan of the index
// (commit_txid, id) at the cursor. entgql asks the same of the page, but as
// commit_txid > t OR (commit_txid = t AND id > i), which bounds the index
// on neither database: each page read the index from its start and dropped
// every entry before the cursor, so a walk of the whole feed grew with the
// square of its length (PostgreSQL, demo at scale 10, whose 28,296 entries
// have one transaction: a page's statement took 6.5 ms at the median
// against 4.1 by createdAt; docs/mutations.md has the figures since).
//
//   - PostgreSQL: (commit_txid, id) > (t, i), a row comparison its btree
//     takes as one bound.
//   - SQLite: commit_txid = t AND id > i. SQLite bounds an index by the
//     first value of a row comparison only, and scanned every entry of the
//     transaction, which on SQLite is every entry; there the column is 0
//     on every entry (its default, which nothing sets otherwise) and the
//     id is the order, so this is the same rows, and an equality and a
//     range of the index.
//
// The count of totalCount takes no cursor, so this is no condition of the
// filter (ent.WithCaseEventCursorBounds). A cursor of another shape was
// refused before anything ran (connectionArguments).
func pastCommitOrderCursor(c *ent.Cursor, op string) func(*sql.Selector) {
	values, _ := c.Value.([]any)
	return func(s *sql.Selector) {
		if len(values) != 1 {
			return
		}
		txid, id := s.C(caseevent.FieldCommitTxid), s.C(caseevent.FieldID)
		s.Where(sql.P(func(b *sql.Builder) {
			if s.Dialect() == dialect.Postgres {
				b.WriteString("(" + txid + ", " + id + ") " + op + " (")
				b.Arg(values[0]).Comma().Arg(c.ID).WriteString(")")
				return
			}
			b.WriteString(txid + " = ").Arg(values[0]).WriteString(" AND " + id + " " + op + " ").Arg(c.ID)
		}))
	}
}

// commitOrdered reports whether orderBy names COMMIT_ORDER (refused with
// anything else, checkCommitOrder).
func commitOrdered(orderBy []*ent.CaseEventOrder) bool {
	for _, o := range orderBy {
		if o != nil && o.Field != nil && o.Field.String() == commitOrderField {
			return true
		}
	}
	return false
}

// commitHorizon is the SQL of the lowest transaction id that may still
// commit an entry into this database: the least of the transactions the
// statement's snapshot holds running (pg_snapshot_xip, which leaves out
// the statement's own, so that is added), the snapshot's xmax when none
// runs, less those known to be another database's. A transaction belongs
// to one database for ever, so pg_stat_activity, read at any moment,
// only ever proves an id is not this database's; an id it does not name
// (ended meanwhile, a prepared transaction, a session whose transaction
// id the role may not read) stays in, and only holds the feed longer.
// Until 2026-12-07 (nineteenth session) the horizon was the snapshot's
// xmin, the whole server's: a demo load in another database held this
// database's feed for as long as it ran. pg_stat_activity keeps 32 bits
// of an id: those of running transactions differ (less than 2^31 apart),
// so the low 32 bits identify one. It is a subquery of constants for the
// statement, evaluated once, a bound of the index (commit_txid, id).
const commitHorizon = `(SELECT LEAST(
	COALESCE(MIN(x::text::bigint), pg_snapshot_xmax(pg_current_snapshot())::text::bigint),
	COALESCE(pg_current_xact_id_if_assigned()::text::bigint, pg_snapshot_xmax(pg_current_snapshot())::text::bigint))
FROM pg_snapshot_xip(pg_current_snapshot()) AS x
WHERE (x::text::bigint % 4294967296) NOT IN (
	SELECT a.backend_xid::text::bigint FROM pg_stat_activity a
	WHERE a.backend_xid IS NOT NULL AND a.datname IS DISTINCT FROM current_database()))`

// committedBeforeEveryOpenWrite keeps the entries written by transactions
// below commitHorizon (PostgreSQL), and every entry on SQLite.
func committedBeforeEveryOpenWrite() predicate.CaseEvent {
	return func(s *sql.Selector) {
		if s.Dialect() != dialect.Postgres {
			return
		}
		s.Where(sql.ExprP(s.C(caseevent.FieldCommitTxid) + " < " + commitHorizon))
	}
}

// checkCommitOrder refuses COMMIT_ORDER where its promise cannot hold:
//
//   - on another list than Query.caseEvents (a case's events): nested
//     pages are loaded for every parent at once, without the horizon; one
//     case's feed is caseEvents(where: {caseID: …});
//   - with another term: before it, the order is no longer the commits'
//     (an entry committed later sorts before a cursor held); after it,
//     nothing (entries of one transaction come together), so it is refused
//     too, for one rule;
//   - descending: the entries committed later come before every cursor
//     held. The latest page is last: n (with before to go back further).
func (o ordering) checkCommitOrder(f *ast.Field) *apperr.Error {
	named := false
	for _, field := range o.fields {
		named = named || field == commitOrderField
	}
	if !named {
		return nil
	}
	path := f.Name + ".orderBy"
	switch {
	case f.ObjectDefinition == nil || f.ObjectDefinition.Name != "Query" || f.Name != "caseEvents":
		return apperr.InvalidField(path, "COMMIT_ORDER orders the root caseEvents only: ask caseEvents(where: {caseID: …}, orderBy: [{field: COMMIT_ORDER}]) for one case's entries in that order.")
	case len(o.fields) > 1:
		return apperr.InvalidField(path, "COMMIT_ORDER is the order of caseEvents on its own: name it alone in orderBy.")
	case o.directions[0] != "ASC":
		return apperr.InvalidField(path, "COMMIT_ORDER goes ascending, so that an entry committed later always comes after the cursors you hold: for the latest entries ask last: n, and before to go further back.")
	}
	return nil
}
