package rowscope

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	gen "github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/viewer"
)

// CasesWorkedOn is the set of cases an agency works on, read from the
// database once per request, at its first use, and then passed to every
// statement of the request as one parameter. Without it each level of a
// page (cases, their victims, proceedings, charges) repeats the subqueries
// of CaseWorkedOnBy, and each field fact asks them again.
//
// The set is read outside any transaction, so it is used only by
// statements outside one: a mutation's own writes (a case assigned, a
// proceeding registered) change the set, so inside its transaction the
// rules keep the subqueries, which see those writes.
type CasesWorkedOn struct {
	client   *gen.Client
	agencyID int

	mu     sync.Mutex
	ids    []int
	loaded bool
}

// NewCasesWorkedOn returns the not yet read set of cases agencyID works on,
// to be read through client.
func NewCasesWorkedOn(client *gen.Client, agencyID int) *CasesWorkedOn {
	return &CasesWorkedOn{client: client, agencyID: agencyID}
}

// IDs returns the ids of the cases, reading them at the first call. Calls
// from concurrent resolvers wait for the one read; a failed read is not
// kept, so the next call tries again.
func (c *CasesWorkedOn) IDs(ctx context.Context) ([]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		ids, err := c.client.CaseFile.Query().Where(CaseWorkedOnBy(c.agencyID)).IDs(viewer.SystemContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("reading the cases the agency works on: %w", err)
		}
		c.ids, c.loaded = ids, true
	}
	return c.ids, nil
}

// Forget drops the set read so far: a mutation calls it (through the
// request's Refresh) after it may have changed which cases the agency
// works on.
func (c *CasesWorkedOn) Forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids, c.loaded = nil, false
}

// InIDs is the predicate "column is one of ids", written with ids as one
// parameter whatever their number, so the statement's text is the same for
// every request: on PostgreSQL an array (= ANY($1::bigint[])), on SQLite a
// JSON array read by json_each.
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
