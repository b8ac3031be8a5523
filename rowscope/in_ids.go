package rowscope

import (
	"encoding/json"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/lib/pq"
)

// InIDs is the predicate "column is one of ids" (the victims of a page,
// for their facts), written with ids as one parameter whatever their
// number, so the statement's text is the same for every request: on
// PostgreSQL an array (= ANY($1::bigint[])), on SQLite a JSON array read by
// json_each.
func InIDs(column string, ids []int) *sql.Predicate {
	return sql.P(func(b *sql.Builder) {
		b.Ident(column)
		switch b.Dialect() {
		case dialect.Postgres:
			b.WriteString(" = ANY(").Arg(IDsArg(b.Dialect(), ids)).WriteString("::bigint[])")
		default:
			b.WriteString(" IN (SELECT value FROM json_each(").Arg(IDsArg(b.Dialect(), ids)).WriteString("))")
		}
	})
}

// IDsArg is the argument InIDs passes for ids in the dialect: an array's
// text on PostgreSQL (as lib/pq would write pq.Int64Array), a JSON array
// on SQLite. A caller filling in a statement built once (authz's facts)
// encodes a page's ids once with it, not once a branch.
func IDsArg(d string, ids []int) any {
	if d == dialect.Postgres {
		arr := make(pq.Int64Array, len(ids))
		for i, id := range ids {
			arr[i] = int64(id)
		}
		text, _ := arr.Value() // an Int64Array always encodes
		return text
	}
	list, _ := json.Marshal(ids) // a []int always marshals
	if ids == nil {
		list = []byte("[]")
	}
	return string(list)
}
