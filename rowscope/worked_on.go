package rowscope

import (
	"entgo.io/ent/dialect/sql"
)

// WorkedOnBy returns subqueries of the ids of the records agencyID works
// on, one per type of record: the rows it would see at the assigned level,
// by the very predicates that scope its requests (cases it works on, their
// victims and everything hung off them; victims referred to or by it or
// supported by it). Ids are global (each table has its own range), so an
// id alone names the record. The audit trail uses it to show a data
// protection officer the events about their agency's records.
func WorkedOnBy(agencyID int) []*sql.Selector {
	var out []*sql.Selector
	for _, e := range entities {
		if e.record != "" {
			out = append(out, workedOn(agencyID, e))
		}
	}
	return out
}

// WorkedOnByOfType is the one of WorkedOnBy(agencyID)'s subqueries that can
// hold id (the one of its table), or nil when id is of no record an agency
// works on.
func WorkedOnByOfType(agencyID, id int) *sql.Selector {
	if e, ok := entityOfID(id); ok && e.record != "" {
		return workedOn(agencyID, e)
	}
	return nil
}

// workedOn is the subquery of the ids of e's records agencyID works on.
func workedOn(agencyID int, e entity) *sql.Selector {
	t := sql.Table(e.table)
	ids := sql.Select(t.C("id")).From(t)
	rowsOf(&Scope{AgencyID: agencyID, Cases: Assigned, Victims: Assigned}, e)(ids)
	return ids
}

// TypeOfID names the type of record id belongs to, from the id ranges of
// the tables (ent's global ids), without asking the database; "" for an
// id outside the records an agency works on.
func TypeOfID(id int) string {
	e, _ := entityOfID(id)
	return e.record
}

// TableOfID names the table whose range of global ids holds id, without
// asking the database; "" for an id outside every table's range. A list's
// filter names a record of its own type only by an id of its table
// (graph.recordIDsAsked).
func TableOfID(id int) string {
	e, _ := entityOfID(id)
	return e.table
}

// entityOfID is the entity whose table's id range holds id.
func entityOfID(id int) (entity, bool) {
	for _, e := range entities {
		if from, ok := idStart(e.table); ok && int64(id)>>32 == from>>32 {
			return e, true
		}
	}
	return entity{}, false
}
