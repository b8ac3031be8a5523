package audit

import (
	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/ent/auditevent"
)

// BeforeEachBatch makes w call f as each of its batches starts, before its
// transaction begins, with the batch's numbers of requests and events: a
// test holds a batch there to choose what the next one gathers. Set it
// before w's first Write.
func BeforeEachBatch(w *Writer, f func(requests, events int)) { w.group.beforeBatch = f }

// Closed reports whether w refuses new writes.
func Closed(w *Writer) bool {
	w.group.mu.Lock()
	defer w.group.mu.Unlock()
	return w.group.closed
}

// FieldReadQuery is the statement of a newest-first page of the events
// about field, with the predicate the trail's queries use (fieldRead), in
// dialectName.
func FieldReadQuery(dialectName, field string, limit int) (string, []any) {
	s := sql.Dialect(dialectName).Select(auditevent.FieldID).From(sql.Table(auditevent.Table))
	fieldRead(field)(s)
	return s.OrderBy(sql.Desc(auditevent.FieldID)).Limit(limit).Query()
}
