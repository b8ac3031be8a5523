package graph

import (
	"context"
	"errors"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/ctxvalue"
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

// refusedReads records each of ids, asked for to be read and not shown
// (recordRefusedReads), and marks answer, where the response tells that
// they were not shown, to be withheld when the events cannot be written.
func refusedReads(rec *audit.Recorder, ids []int, answer ast.Path) {
	if len(ids) == 0 {
		return
	}
	recordRefusedReads(rec, ids)
	rec.Answered(answer)
}

// recordRefusedReads records each of ids, asked for to be read and not
// shown: the one function node(id:), nodes(ids:) and a list's where file
// their refusals with. The recorder counts each record once a request and
// itemises 20 of them, summarising the rest (audit.MaxRefusedRecords).
func recordRefusedReads(rec *audit.Recorder, ids []int) {
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
// naming ids, one statement for the field of the document, whatever their
// number (a filter holds at most 1,000 values, docs/input.md) and however
// many parents the field is resolved under (askedByID). Foreign keys
// (caseID, victimID, …) are not counted: docs/audit.md, "Records asked
// for by id", says why.
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
	asked := askedByIDOf(ctx).of(fc.Field.Field)
	asked.once.Do(func() {
		// Should the look-up panic, the other parents fail too rather
		// than answer as if nothing was refused.
		asked.err = errLookUpUnfinished
		asked.refused, asked.err = refusedOf(ctx, client, where)
		// Recorded once: the recorder would count each record once a
		// request anyway, but going through a thousand ids again for
		// each of 500 parents is work the look-up was made once to save.
		recordRefusedReads(rec, asked.refused)
	})
	if asked.err != nil {
		// The list is not answered without knowing what it refuses.
		return asked.err
	}
	if len(asked.refused) > 0 {
		// Each parent's list tells what was not shown: each is withheld
		// when the events cannot be written.
		rec.Answered(answerPath(fc))
	}
	return nil
}

// refusedOf is the records where names by id, of its list's own type, that
// the caller does not see: one statement, none when it names no such id.
func refusedOf(ctx context.Context, client *ent.Client, where idFilter) ([]int, error) {
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
		return nil, nil
	}
	if tx := ent.FromContext(ctx); tx != nil {
		client = tx
	}
	shown, err := where.IDsShown(ctx, client, ids)
	if err != nil {
		return nil, err
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
	return refused, nil
}

// askedByID is a request's answer's memory of what the wheres naming ids
// refused, one entry a field of the document (an *ast.Field). gqlgen
// resolves a nested list's field once for each parent (a case's
// prosecutions under a page of 500 cases, 500 times), always with the same
// where: one operation has one set of variables. Looked up at each, the
// ids cost a statement a parent (until 2026-12-07, nineteenth session);
// the first parent looks them up and the others take its answer, or wait
// for it should they resolve concurrently (the executor resolves in order
// today: TestExecutorResolvesInOrder), as pageOrderings keeps a field's
// ordering key and caseLookups a fact about cases. A look-up that failed
// fails the field under every parent.
type askedByID struct {
	mu     sync.Mutex
	fields map[*ast.Field]*askedOnce
}

// errLookUpUnfinished is the error of a field whose look-up, made under
// another parent, did not finish (it panicked).
var errLookUpUnfinished = errors.New("the look-up of the ids a where names did not finish")

// askedOnce is what one field's where refused, found out once.
type askedOnce struct {
	once    sync.Once
	refused []int
	err     error
}

var askedByIDKey = &ctxvalue.Key[*askedByID]{}

// withAskedByID gives a request's answer its memory of what its wheres
// refused.
func withAskedByID(ctx context.Context) context.Context {
	return askedByIDKey.With(ctx, &askedByID{fields: map[*ast.Field]*askedOnce{}})
}

// askedByIDOf is the request's memory of what its wheres refused, or,
// outside a request's answer, one for this field alone.
func askedByIDOf(ctx context.Context) *askedByID {
	if a := askedByIDKey.From(ctx); a != nil {
		return a
	}
	return &askedByID{fields: map[*ast.Field]*askedOnce{}}
}

// of is field's entry, made on first asking.
func (a *askedByID) of(field *ast.Field) *askedOnce {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.fields[field]
	if !ok {
		e = &askedOnce{}
		a.fields[field] = e
	}
	return e
}

// forget drops what was found out: a mutation may have changed the
// caller's rows, and a field of a fragment spread under the payloads of
// two mutations is one *ast.Field (refreshFacts).
func (a *askedByID) forget() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.fields)
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
