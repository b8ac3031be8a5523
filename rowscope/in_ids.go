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
			arr := make(pq.Int64Array, len(ids))
			for i, id := range ids {
				arr[i] = int64(id)
			}
			b.WriteString(" = ANY(").Arg(arr).WriteString("::bigint[])")
		default:
			list, _ := json.Marshal(ids) // a []int always marshals
			if ids == nil {
				list = []byte("[]")
			}
			b.WriteString(" IN (SELECT value FROM json_each(").Arg(string(list)).WriteString("))")
		}
	})
}
