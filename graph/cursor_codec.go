package graph

import (
	"context"
	"encoding/base64"
	"io"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/ctxvalue"
)

// servedCursor is a cursor as the server gives it out: ent's (the record's
// id, and its values of the ordering's fields) and the key of the ordering
// of the page it came from (ordering.key). ent's cursor alone held no
// ordering, so a cursor of a page ordered by stage was taken by one ordered
// by region, both strings, and the page started after a region named like
// a stage (a hunt over HTTP). Encoded as ent's (msgpack, then base64), the
// key under a name of its own: without one, the bytes are those ent wrote,
// which is what every cursor given out before 2026-12-06 is.
type servedCursor struct {
	ID       int    `msgpack:"i"`
	Value    any    `msgpack:"v,omitempty"`
	Ordering string `msgpack:"o,omitempty"`
}

// MarshalCursor and UnmarshalCursor are the GraphQL Cursor scalar
// (gqlgen.yml). A cursor is marshalled with the key of the ordering of the
// connection it is an edge or the page info of, which its context holds.
func MarshalCursor(c ent.Cursor) graphql.ContextMarshaler {
	return cursorOfPage{c}
}

// UnmarshalCursor reads a Cursor argument into ent's cursor; the ordering it
// carries was checked against the connection's before anything ran
// (connectionArguments).
func UnmarshalCursor(_ context.Context, v any) (ent.Cursor, error) {
	c, ok := decodeCursor(v)
	if !ok {
		return ent.Cursor{}, &apperr.Error{Code: apperr.BadUserInput, Message: "A cursor is passed as the server gave it out (edges.cursor, pageInfo.startCursor or endCursor)."}
	}
	return ent.Cursor{ID: c.ID, Value: c.Value}, nil
}

// cursorOfPage is ent's cursor of an edge, to be written with its page's
// ordering.
type cursorOfPage struct{ ent.Cursor }

func (c cursorOfPage) MarshalGQLContext(ctx context.Context, w io.Writer) error {
	served := servedCursor{ID: c.ID, Value: c.Value, Ordering: pageOrderingKeyOf(ctx)}
	// Written as ent writes its cursors: straight into the answer.
	if _, err := io.WriteString(w, `"`); err != nil {
		return err
	}
	enc := base64.NewEncoder(base64.RawStdEncoding, w)
	if err := msgpack.NewEncoder(enc).Encode(served); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, `"`)
	return err
}

// pageOrderings is a request's memory of the ordering key of each of its
// connection fields: a page's cursors are written one an edge, and
// working the key out again for each tripled the allocations of writing
// one (a benchmark of one cursor: 41 against ent's 13; 13 with the
// memory). One operation has one set of variables, so a field has one
// key in it, however many pages of it there are (a nested list's).
type pageOrderings struct {
	mu   sync.Mutex
	keys map[*ast.Field]string
}

var pageOrderingsKey = &ctxvalue.Key[*pageOrderings]{}

// withPageOrderings gives a request's answer its memory of ordering keys.
func withPageOrderings(ctx context.Context) context.Context {
	return pageOrderingsKey.With(ctx, &pageOrderings{keys: map[*ast.Field]string{}})
}

// pageOrderingKeyOf is the ordering key of the page a cursor being written
// is of: that of the connection field it is resolved under.
func pageOrderingKeyOf(ctx context.Context) string {
	f := connectionOf(ctx)
	if f == nil || !graphql.HasOperationContext(ctx) {
		return ""
	}
	keyOf := func() string { return orderingOf(f, graphql.GetOperationContext(ctx).Variables).key(f) }
	memory := pageOrderingsKey.From(ctx)
	if memory == nil {
		return keyOf()
	}
	memory.mu.Lock()
	defer memory.mu.Unlock()
	key, ok := memory.keys[f]
	if !ok {
		key = keyOf()
		memory.keys[f] = key
	}
	return key
}

// connectionOf is the connection field a cursor field (edges.cursor,
// pageInfo.startCursor, pageInfo.endCursor) is resolved under: the nearest
// field above it whose type is a connection.
func connectionOf(ctx context.Context) *ast.Field {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if f := fc.Field.Field; f != nil && f.Definition != nil && strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
			return f
		}
	}
	return nil
}

// decodeCursor decodes a cursor as ent's pagination does, with the
// ordering the server wrote beside it. The msgpack decoder underneath
// panics on some malformed input (a map that names "v" twice, with values
// of different kinds; found by FuzzCursor), so a panic is a cursor that
// does not decode, refused before execution ever decodes it again.
func decodeCursor(value any) (c servedCursor, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	s, isString := value.(string)
	if !isString {
		return c, false
	}
	dec := msgpack.NewDecoder(base64.NewDecoder(base64.RawStdEncoding, strings.NewReader(s)))
	return c, dec.Decode(&c) == nil
}
