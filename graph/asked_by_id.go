package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/rowscope"
)

// A record asked for by id and not shown (outside the caller's rows, or not
// existing: the caller cannot tell which, nor does the trail) is a
// RECORD_REFUSED event about it, however it was asked for: node(id:),
// nodes(ids:) (recordNotFound), or a list whose where names it by id
// (recordIDsAsked). Probing ids is what a DPO looks for; until 2026-12-07
// (eighteenth session) a list's where answered a hidden record like a
// missing one and left no event (a hunt: hundreds of ids a request,
// found by no DPO).

// refusedReads records each of ids, asked for to be read and not shown,
// and marks answer, where the response tells that they were not shown, to
// be withheld when the events cannot be written. The recorder counts each
// record once a request and itemises 20 of them, summarising the rest
// (audit.MaxRefusedRecords).
func refusedReads(rec *audit.Recorder, ids []int, answer ast.Path) {
	if len(ids) == 0 {
		return
	}
	for _, id := range ids {
		// The type comes from the id's range, not from the database:
		// asking whether the record exists would cost a query per id. An
		// id of no record an agency works on (an agency's, an emergency
		// grant's, of no table) is a refusal about no record, as node(id:)
		// files it (namesItsType); nodes(ids:) filed it under the id.
		typ := rowscope.TypeOfID(id)
		if typ == "" {
			id = 0
		}
		rec.RefusedRecord(audit.RecordRefused, typ, id, nil, "not found in the caller's rows")
	}
	rec.Answered(answer)
}

// idFilter is a where input of a list of records (ent's <Type>WhereInput,
// ent/template/where_ids.tmpl).
type idFilter interface {
	// IDsAsked: the table of the list's records, and the ids its where
	// names positively (id and idIn, at the top and under and and or;
	// not under not).
	IDsAsked() (table string, ids []int)
	// IDsShown: those of ids the caller sees, in one statement.
	IDsShown(ctx context.Context, c *ent.Client, ids []int) ([]int, error)
}

// recordIDsAsked records the records the where of the field being resolved
// asks for by id and the caller does not see, as node(id:) records them.
// It reads the where as gqlgen hands it to the resolver, so every field
// taking one is covered, at the root or nested. The ids are those of the
// list's own type (an id of another type is no record of the list, as a
// mutation's argument of another type names none: namesItsType), each
// once, and visibility is one look-up of them under the caller's rows,
// not the page: an id the caller sees but other conditions filter out, or
// beyond the page, is no refusal. A where naming no id costs nothing; one
// naming ids, one statement, whatever their number (a filter holds at
// most 1,000 values, docs/input.md). Foreign keys (caseID, victimID, …)
// are not counted: docs/audit.md, "Records asked for by id", says why.
func recordIDsAsked(ctx context.Context, client *ent.Client) error {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || len(fc.Field.Arguments) == 0 {
		// Most fields take no argument: nothing more is read of them.
		return nil
	}
	where, ok := fc.Args["where"].(idFilter)
	rec := audit.FromContext(ctx)
	if !ok || rec == nil {
		return nil
	}
	table, named := where.IDsAsked()
	var ids []int
	once := make(map[int]bool, len(named))
	for _, id := range named {
		if !once[id] && rowscope.TableOfID(id) == table {
			once[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if tx := ent.FromContext(ctx); tx != nil {
		client = tx
	}
	shown, err := where.IDsShown(ctx, client, ids)
	if err != nil {
		// The list is not answered without knowing what it refuses.
		return err
	}
	seen := make(map[int]bool, len(shown))
	for _, id := range shown {
		seen[id] = true
	}
	refused := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			refused = append(refused, id)
		}
	}
	refusedReads(rec, refused, answerPath(fc))
	return nil
}

// answerPath is where the answer of fc's field lies in the response, to be
// withheld: its own path when it may be null, else that of the nearest
// field above it that may (where GraphQL puts the null of a field that
// may not), else the whole answer.
func answerPath(fc *graphql.FieldContext) ast.Path {
	for c := fc; c != nil; c = c.Parent {
		if c.Field.Field == nil || c.Field.Definition == nil {
			continue // an element of a list: its field is above
		}
		if !c.Field.Definition.Type.NonNull {
			return c.Path()
		}
	}
	return ast.Path{}
}
