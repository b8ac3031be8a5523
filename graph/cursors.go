package graph

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/gqlname"
	"github.com/casegraph/casegraph/rowscope"
)

// connectionArguments refuses, before anything runs, a connection
// argument that ent's generated pagination cannot take: a cursor that does
// not decode, was not given out for the connection and its ordering, or
// has not the shape the connection gives out for its ordering, an ordering
// that names a field twice or asks COMMIT_ORDER where it cannot hold
// (checkCommitOrder, commit_order.go), or first and last together; and a
// connection's edges or an edge's node asked under two names
// (pagedFieldsOnce, connection_fields.go). Left to ent, these
// fail deep inside execution with an uncoded error (INTERNAL), a bad
// cursor on a nested connection even panics while the parent's query is
// planned (found by FuzzCursor), and a cursor of another ordering pages
// from a place that means nothing in this one. Each fragment is looked at
// once, so a document of spreads cannot make the check expensive.
type connectionArguments struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = connectionArguments{}

func (connectionArguments) ExtensionName() string                   { return "ConnectionArguments" }
func (connectionArguments) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (connectionArguments) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	seen := map[string]bool{}
	var check func(ast.SelectionSet) *apperr.Error
	check = func(set ast.SelectionSet) *apperr.Error {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				if err := checkConnectionField(sel, oc.Variables); err != nil {
					// The refusal names one of the field's arguments:
					// it points at the field (apperr.Error.At).
					err.At = apperr.LocationOf(sel.Position)
					return err
				}
				if err := check(sel.SelectionSet); err != nil {
					return err
				}
			case *ast.InlineFragment:
				if err := check(sel.SelectionSet); err != nil {
					return err
				}
			case *ast.FragmentSpread:
				if seen[sel.Name] || sel.Definition == nil {
					continue
				}
				seen[sel.Name] = true
				if err := check(sel.Definition.SelectionSet); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := check(oc.Operation.SelectionSet)
	if err == nil {
		err = pagedFieldsOnce([]ast.SelectionSet{oc.Operation.SelectionSet}, "")
	}
	if err != nil {
		return &gqlerror.Error{Message: err.Message, Err: err}
	}
	return nil
}

// checkConnectionField checks the cursors and ordering of one field.
func checkConnectionField(f *ast.Field, vars map[string]any) *apperr.Error {
	if f.Definition == nil {
		return nil
	}
	order := orderingOf(f, vars)
	seen := map[any]bool{}
	for _, field := range order.fields {
		if seen[field] {
			return apperr.InvalidField(f.Name+".orderBy", "orderBy of %s names the field %v twice; name each field once.", f.Name, field)
		}
		seen[field] = true
	}
	if err := order.checkCommitOrder(f); err != nil {
		return err
	}
	if err := checkPageArguments(f, vars); err != nil {
		return err
	}
	if isConnection(f) && selects(f.SelectionSet, "pageInfo", vars) && !selects(f.SelectionSet, "edges", vars) {
		// ent's pagination answers pageInfo from totalCount alone when no
		// edge is selected: hasNextPage true and no cursor, so a client
		// paging by pageInfo alone started again at the first page for
		// ever (a hunt over HTTP).
		return apperr.InvalidField(f.Name, "pageInfo of %s describes a page of edges: select edges { cursor } with it (totalCount alone needs neither).", f.Name)
	}
	var where map[string]any
	if arg := f.Arguments.ForName("where"); arg != nil && (isConnection(f) || isStatistics(f)) {
		value, _ := arg.Value.Value(vars)
		if err := checkFilter(f.Name+".where", value, false); err != nil {
			return err
		}
		where = asMap(value)
	}
	if err := order.pageable(f, where); err != nil {
		return err
	}
	for _, def := range f.Definition.Arguments {
		arg := f.Arguments.ForName(def.Name)
		if def.Type.Name() != "Cursor" || arg == nil {
			continue
		}
		value, err := arg.Value.Value(vars)
		if err != nil || value == nil {
			continue
		}
		c, ok := decodeCursor(value)
		if !ok || !order.gaveOut(f, c) || !order.fits(c.Value) || ofAnotherType(f, c.ID) {
			return apperr.InvalidField(f.Name+"."+def.Name,
				"%s of %s is not a cursor this server gave out for this list and ordering: pass edges.cursor or pageInfo.startCursor/endCursor from a page of the same list with the same orderBy.", def.Name, f.Name)
		}
	}
	return nil
}

// ofAnotherType reports whether a cursor's id is one of another type of
// record than the connection f lists (a cursor of cases given to victims):
// each type has its range of ids, so such a cursor paged from the start
// or the end of the list, as if it were one the list gave out.
func ofAnotherType(f *ast.Field, id int) bool {
	node, ok := strings.CutSuffix(f.Definition.Type.Name(), "Connection")
	if !ok {
		return false
	}
	if _, isNode := ent.NodeIDs[node]; !isNode {
		return false
	}
	typ := rowscope.TypeOfID(id)
	return typ != "" && typ != node
}

// checkPageArguments refuses first and last together on any connection
// (ent's pagination answers it with an uncoded error), and a cursor of the
// other direction than the page's: a page goes forwards, first from after,
// or backwards, last from before (a page without either is the default
// first, cost.WithDefaultPages). ent's pagination reads every cursor as
// "past it in the direction of the page", so first with before answered
// records after the cursor, last with after records before it, and after
// with before a window that is not between them, INTERNAL under an orderBy
// (a hunt). Relay's algorithm would cut the edges by both cursors, then
// take first or last of them; no client needs it to page, and README says
// why it is refused rather than built. Their bounds are the cost model's
// (package cost).
func checkPageArguments(f *ast.Field, vars map[string]any) *apperr.Error {
	given := func(name string) bool {
		if f.Definition.Arguments.ForName(name) == nil {
			return false
		}
		arg := f.Arguments.ForName(name)
		if arg == nil {
			return false
		}
		value, err := arg.Value.Value(vars)
		return err == nil && value != nil
	}
	switch backwards := given("last"); {
	case backwards && given("first"):
		return apperr.InvalidField(f.Name, "%s takes first or last, not both: page forwards with first/after or backwards with last/before.", f.Name)
	case backwards && given("after"):
		return apperr.InvalidField(f.Name+".after", "after of %s goes with first, not last: page forwards with first/after or backwards with last/before.", f.Name)
	case !backwards && given("before"):
		return apperr.InvalidField(f.Name+".before", "before of %s goes with last, not first (nor after): page forwards with first/after or backwards with last/before.", f.Name)
	}
	return nil
}

// checkFilter refuses an empty list anywhere in a filter (idIn: [],
// or: [], and: [{sexIn: []}]): ent's generated filter drops it, so
// referenceIn: [] matched every row where it means none (a hunt over
// HTTP: an integrator asking for "these ids" with an empty set got every
// case it sees). Refused, not read as "none", since the same drop makes
// or: [] match every row too: what an empty list means is the caller's to
// say with no filter or a non-empty list.
//
// It refuses an empty filter object below the top too (not: {},
// and: [{}], not: {idIn: null}: every object inside a where is a where),
// which ent's generated filter fails on: until
// 2026-12-07 (eighteenth session) that was refused only when the resolver
// built the filter, after the document's other fields had run, and
// without extensions.field (a hunt; before that a fuzz target had found
// it INTERNAL). An empty where at the top is no filter.
func checkFilter(path string, value any, nested bool) *apperr.Error {
	if list, ok := asList(value); ok {
		value = list
	} else if m := asMap(value); m != nil {
		value = m
	}
	switch v := value.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			if v[k] != nil { // a condition given as null is none
				keys = append(keys, k)
			}
		}
		if nested && len(keys) == 0 {
			return apperr.InvalidField(path, "%s is an empty filter ({}): give it at least one condition, or leave it out.", path)
		}
		slices.Sort(keys) // the first in order is the one named
		for _, k := range keys {
			if err := checkFilter(path+"."+k, v[k], true); err != nil {
				return err
			}
		}
	case []any:
		if len(v) == 0 {
			return apperr.InvalidField(path, "%s is an empty list, which a filter cannot take: leave the condition out, or name at least one value.", path)
		}
		for i, x := range v {
			if err := checkFilter(path+"."+strconv.Itoa(i), x, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// pageable refuses an ordering by a field that may be empty (a case's
// closedAt, a proceeding's investigationDeadline) unless the filter keeps
// only the records that have one (where: {closedAtNotNil: true}). ent's
// cursors compare values, and no value compares with NULL: paging by
// closedAt reached 7 of 122 cases on SQLite and 81 on PostgreSQL, which
// also sort NULLs at opposite ends (a hunt over HTTP). A list without a
// where (an edge) is ordered by such a field not at all.
func (o ordering) pageable(f *ast.Field, where map[string]any) *apperr.Error {
	for _, field := range o.fields {
		name, ok := field.(string)
		if !ok || !nullableOrderField(o.typ, name) {
			continue
		}
		// An ordering field's name is its ent field's in upper case
		// (CLOSED_AT, closed_at), its filter's in GraphQL's spelling
		// (closedAtNotNil).
		notNil := gqlname.Of(strings.ToLower(name)) + "NotNil"
		if keepsOnly(where, notNil) {
			continue
		}
		if whereType := f.Definition.Arguments.ForName("where"); whereType != nil && hasInputField(whereType.Type.Name(), notNil) {
			return apperr.InvalidField(f.Name+".orderBy",
				"%s may be empty, and records without one can be neither ordered alike on every database nor paged past: order %s by %s with where: {%s: true}, or by a field every record has.",
				name, f.Name, name, notNil)
		}
		return apperr.InvalidField(f.Name+".orderBy",
			"%s may be empty, and records without one can be neither ordered alike on every database nor paged past: order %s by a field every record has.", name, f.Name)
	}
	return nil
}

// keepsOnly reports whether the filter where holds the condition name:
// true at its top, or in one of the terms of its top-level and.
func keepsOnly(where map[string]any, name string) bool {
	if where[name] == true {
		return true
	}
	terms, _ := asList(where["and"])
	return slices.ContainsFunc(terms, func(t any) bool { return asMap(t)[name] == true })
}

// ordering is a connection's orderBy: its GraphQL input type, whether it
// is a list, and the fields it names with their directions, in order.
type ordering struct {
	typ        string
	isList     bool
	fields     []any
	directions []any
	// oldestFirst is auditEvents' order, which an argument of its own
	// sets rather than an orderBy (the trail is in the order of its seq,
	// one way or the other).
	oldestFirst bool
}

// orderingOf reads the orderBy of the connection field f, each term's
// direction its input type's default where the term leaves it out, and
// the oldestFirst of a list ordered by it.
func orderingOf(f *ast.Field, vars map[string]any) ordering {
	o := orderByOf(f, vars)
	if arg := f.Arguments.ForName("oldestFirst"); arg != nil && f.Definition.Arguments.ForName("oldestFirst") != nil {
		value, _ := arg.Value.Value(vars)
		o.oldestFirst = value == true
	}
	return o
}

// orderByOf reads the orderBy of the connection field f.
func orderByOf(f *ast.Field, vars map[string]any) ordering {
	def := f.Definition.Arguments.ForName("orderBy")
	if def == nil {
		return ordering{}
	}
	o := ordering{typ: def.Type.Name(), isList: def.Type.Elem != nil}
	arg := f.Arguments.ForName("orderBy")
	if arg == nil {
		return o
	}
	value, _ := arg.Value.Value(vars)
	terms, isList := asList(value)
	if !isList && value != nil {
		// One term where the type is a list (input coercion) is a list of
		// it: the same ordering, and the same cursors.
		terms = []any{value}
	}
	for _, t := range terms {
		t := asMap(t)
		direction := t["direction"]
		if direction == nil {
			direction = defaultDirection(o.typ)
		}
		o.fields = append(o.fields, t["field"])
		o.directions = append(o.directions, direction)
	}
	return o
}

// defaultDirection is the direction an ordering term of the input type
// typ has when it names none (ASC, in entgql's ordering inputs).
func defaultDirection(typ string) any {
	if t := parsedSchema.Types[typ]; t != nil {
		if d := t.Fields.ForName("direction"); d != nil && d.DefaultValue != nil {
			return d.DefaultValue.Raw
		}
	}
	return nil
}

// key names the ordering of a page of the connection field f, as its
// cursors carry it: the field's schema coordinate (Query.cases,
// Victim.cases, so a cursor of one list is not taken by another) and each
// term's field and direction ("Query.cases:OPENED_AT DESC,STAGE ASC"). An
// alias, a variable for a literal, one term without brackets or a
// direction left to its default make the same key, so a cursor is taken
// by every request for the same page. An oldest-first page of the audit
// trail adds ":oldestFirst" ("Query.auditEvents:oldestFirst"); a
// newest-first one, the trail's default, adds nothing, so its cursors
// given out before the order was in the key are still taken.
func (o ordering) key(f *ast.Field) string {
	var b strings.Builder
	if f.ObjectDefinition != nil {
		b.WriteString(f.ObjectDefinition.Name)
	}
	b.WriteString(".")
	b.WriteString(f.Name)
	for i := range o.fields {
		sep := ","
		if i == 0 {
			sep = ":"
		}
		fmt.Fprintf(&b, "%s%v %v", sep, o.fields[i], o.directions[i])
	}
	if o.oldestFirst {
		b.WriteString(":oldestFirst")
	}
	return b.String()
}

// gaveOut reports whether the cursor c belongs to the ordering o of the
// connection field f: it carries o's key. A cursor given out before
// 2026-12-06 carries none; one without values can only be of a page in
// the connection's default order (by id), and is taken there, where it
// means what it meant; one with values may be of any ordering of the same
// types, and is not taken.
func (o ordering) gaveOut(f *ast.Field, c servedCursor) bool {
	if c.Ordering == "" {
		return c.Value == nil && len(o.fields) == 0 && !o.oldestFirst
	}
	return c.Ordering == o.key(f)
}

// fits reports whether a decoded cursor's value has the shape ent's
// pagination gives out for the ordering, each value of a type its field
// can hold: for a list ordering, one value a field (none without an
// ordering, which encodes as no value at all); for a single ordering,
// nothing, or a value of its field (of the id without one).
func (o ordering) fits(value any) bool {
	if !o.isList {
		switch {
		case value == nil:
			return true
		case !isCursorScalar(value) || !comparableValue(value):
			return false
		case len(o.fields) == 0:
			return isInteger(reflect.TypeOf(value).Kind())
		}
		return cursorValueFits(o.typ, o.fields[0], value)
	}
	if value == nil {
		return len(o.fields) == 0
	}
	values, ok := value.([]any)
	if !ok || len(values) != len(o.fields) {
		return false
	}
	for i, v := range values {
		if !isCursorScalar(v) || !comparableValue(v) || !cursorValueFits(o.typ, o.fields[i], v) {
			return false
		}
	}
	return true
}

// comparableValue reports whether a cursor's value is one both databases can
// compare, as the arguments of a query must be (storable, and a time's
// year within 0001 to 9999 in UTC; inputChecker): a forged cursor holding
// NUL was INTERNAL on PostgreSQL and an empty page on SQLite, one holding
// year 10000 opposite pages on the two. An integer is a signed 64-bit one,
// as every integer column is: neither driver takes a uint64 beyond it (a
// review found it INTERNAL).
func comparableValue(v any) bool {
	switch v := v.(type) {
	case string:
		return storable("", v) == nil
	case time.Time:
		return inComparableYears(v)
	case uint64:
		return v <= math.MaxInt64
	}
	return true
}

// isCursorScalar reports whether v is a value an ordered column can hold
// as msgpack decodes it: what a database driver accepts as an argument.
func isCursorScalar(v any) bool {
	switch v.(type) {
	case nil, bool, string, time.Time,
		int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64:
		return true
	}
	return false
}

// hasInputField reports whether the input type typeName of the served
// schema has the field name.
func hasInputField(typeName, name string) bool {
	t := parsedSchema.Types[typeName]
	return t != nil && t.Fields.ForName(name) != nil
}

// selects reports whether set selects the field name at its own level,
// through inline fragments and fragment spreads, and not skipped
// (@skip, @include: edges @skip(if: true) got past the pageInfo rule, a
// review).
func selects(set ast.SelectionSet, name string, vars map[string]any) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Name == name && included(sel.Directives, vars) {
				return true
			}
		case *ast.InlineFragment:
			if included(sel.Directives, vars) && selects(sel.SelectionSet, name, vars) {
				return true
			}
		case *ast.FragmentSpread:
			if sel.Definition != nil && included(sel.Directives, vars) && selects(sel.Definition.SelectionSet, name, vars) {
				return true
			}
		}
	}
	return false
}

// included reports whether a selection with directives is executed: not
// skipped by @skip(if: true) nor left out by @include(if: false).
func included(directives ast.DirectiveList, vars map[string]any) bool {
	cond := func(d *ast.Directive) bool {
		arg := d.Arguments.ForName("if")
		if arg == nil {
			return false
		}
		v, _ := arg.Value.Value(vars)
		b, _ := v.(bool)
		return b
	}
	if d := directives.ForName("skip"); d != nil && cond(d) {
		return false
	}
	if d := directives.ForName("include"); d != nil && !cond(d) {
		return false
	}
	return true
}

// isConnection reports whether f lists one of ent's connections (of a Node
// type), whose pagination ent writes; the audit trail's is the server's
// own and answers pageInfo alone.
func isConnection(f *ast.Field) bool {
	node, ok := strings.CutSuffix(f.Definition.Type.Name(), "Connection")
	if !ok {
		return false
	}
	_, isNode := ent.NodeIDs[node]
	return isNode
}

// isStatistics is whether f is a statistics field (its where a
// …StatisticsFilter): an empty list there was taken as no filter, so a
// dashboard whose multi-select was cleared (office: []) got the whole
// table where it meant none (twenty-seventh session, 2026-12-08).
func isStatistics(f *ast.Field) bool {
	def := f.Definition.Arguments.ForName("where")
	return def != nil && strings.HasSuffix(def.Type.Name(), "StatisticsFilter")
}

// asList is v as a list, whatever its element type: gqlparser hands a
// variable's list over as []any, but a single value it coerced to a list
// of one as a typed slice ([]map[string]any for one ordering term sent
// without brackets), which a type switch on []any missed: orderBy: $o with
// {"field": "CLOSED_AT"} passed every check (a review).
func asList(v any) ([]any, bool) {
	if list, ok := v.([]any); ok {
		return list, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// asMap is v as an input object, or nil.
func asMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil
	}
	out := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out
}
