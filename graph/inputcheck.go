package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/casework"
	"github.com/casegraph/casegraph/input"
)

// The limits of one where argument. Every value (a list item or a scalar)
// becomes a bound parameter of one SQL statement, every condition (a field
// compared, an and, or or not) a node of its expression tree, every nested
// object a level of parentheses. SQLite takes 32,766 parameters and an
// expression tree 1,000 deep, where a flat "or" of n branches is already n
// deep; PostgreSQL takes 65,535 parameters. Well inside both, a filter that
// passes runs the same on both, and one that does not is refused before any
// SQL runs, with the limits in extensions.
//
// MaxFilterPatternBytes bounds the text a filter matches by pattern
// (…Contains, …HasPrefix, …HasSuffix, …EqualFold, …ContainsFold), all of
// them together. PostgreSQL's ILIKE lowers the whole pattern again for
// every row it reads, so a pattern costs its length once a row: 45
// patterns of 20 KB kept a PostgreSQL core busy for the whole 5 s deadline
// of one request, for a cost of 3 (a hunt over HTTP). The text columns a
// filter can match (references, pseudonyms, codes, names) are under a
// hundred characters.
const (
	MaxFilterValues       = 1000
	MaxFilterConditions   = 200
	MaxFilterDepth        = 16
	MaxFilterPatternBytes = 256
)

// checkInput is a root-field middleware that applies the rules of package
// input to what a client sends, before any resolver runs:
//
//   - every String and Time argument of a mutation, at any depth of its
//     input objects and lists, must be storable text or a sane time
//     (input.CheckText, input.ParseTime);
//   - every String argument of any operation, payload fields included, must
//     be valid UTF-8 without NUL: PostgreSQL cannot even compare such a
//     string, SQLite would, so the answer would depend on the database;
//   - every list of enumeration values a mutation writes names each value
//     once;
//   - every where argument, and every list of ids, must be small enough
//     for the database.
//
// It walks the arguments by their GraphQL types, not by a list of fields,
// so a field or mutation added to the schema is covered without anyone
// remembering to; and it runs before the resolver, so a refused input
// writes nothing.
func checkInput(schema *ast.Schema) graphql.RootFieldMiddleware {
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		oc := graphql.GetOperationContext(ctx)
		field := graphql.GetRootFieldContext(ctx).Field
		c := inputChecker{
			schema:   schema,
			vars:     oc.Variables,
			mutation: oc.Operation != nil && oc.Operation.Operation == ast.Mutation,
			now:      time.Now(),
			seen:     map[string]bool{},
		}
		err := c.arguments(field.Field, "", true)
		if err == nil {
			if err := c.selections(field.SelectionSet, ""); err != nil {
				graphql.AddError(onRootField(ctx), err)
				return graphql.Null
			}
			return next(ctx)
		}
		if !c.replayMayExcuse(field, err) {
			graphql.AddError(onRootField(ctx), err)
			return graphql.Null
		}
		ctx, replayed := casework.RefusedUnlessReplay(ctx, err)
		out := next(ctx)
		if replayed() || out == nil || out == graphql.Null {
			// Answered as the replay of a write already made, or refused
			// (casework returned err): its error is on the field already.
			return out
		}
		// Resolved without being told apart (not made through casework):
		// refused after all, and its transaction rolls back.
		graphql.AddError(onRootField(ctx), err)
		return graphql.Null
	}
}

// replayMayExcuse reports whether err, the refusal of an argument of the
// root field f (its selections not yet walked), is one an idempotent
// create's replay is answered despite: a mutation sent with an
// idempotency key that passes the rules itself, whose selections pass
// them too (checked as for any request: a payload's arguments reach the
// database however the create ends), refused for its input. The rules
// grow (invisible characters in keys and repeated ids were refused from
// 2026-12-06): a create made before a rule, whose answer was lost, and
// retried after it, was made, and is answered so; any other request
// keeps the refusal (casework.RefusedUnlessReplay decides under the key's
// lock). Until the create is told apart, the unchecked input reaches only
// the request's hash and its ids (docs/mutations.md).
func (c *inputChecker) replayMayExcuse(f graphql.CollectedField, err error) bool {
	if !c.mutation || !idempotencyKeyGiven(f, c.vars) {
		return false
	}
	var refusal *apperr.Error
	if !errors.As(err, &refusal) || refusal.Code != apperr.BadUserInput {
		return false
	}
	key := f.Arguments.ForName("idempotencyKey")
	def := f.Definition.Arguments.ForName("idempotencyKey")
	v, keyErr := key.Value.Value(c.vars)
	if def == nil || keyErr != nil || c.value("idempotencyKey", "idempotencyKey", def.Type, v, true) != nil {
		return false
	}
	return c.selections(f.SelectionSet, "") == nil
}

type inputChecker struct {
	schema   *ast.Schema
	vars     map[string]any
	mutation bool
	now      time.Time
	// seen holds the fragments already walked: a fragment's arguments are
	// the same wherever it is spread, and walking each once keeps a
	// document of fragments spreading each other twice from costing 2^n.
	seen map[string]bool
}

// field checks the arguments of f and of every field selected under it;
// root is true for the root field itself, whose arguments a mutation
// writes. Errors name an argument of the root field by its name
// ("input.title") and one of a field under it by the path of response
// names to it ("edges.node.victims.where").
func (c *inputChecker) field(f *ast.Field, prefix string, root bool) error {
	if err := c.arguments(f, prefix, root); err != nil {
		return err
	}
	if !root {
		prefix += f.Alias + "."
	}
	return c.selections(f.SelectionSet, prefix)
}

// arguments checks the arguments of f, as field does.
func (c *inputChecker) arguments(f *ast.Field, prefix string, root bool) error {
	if f.Definition != nil {
		for _, arg := range f.Arguments {
			def := f.Definition.Arguments.ForName(arg.Name)
			if def == nil {
				continue
			}
			v, err := arg.Value.Value(c.vars)
			if err != nil {
				continue // gqlgen reports it, with its own code
			}
			path := prefix + arg.Name
			if root && c.mutation && changesNothing(def.Type, v) {
				return apperr.InvalidField(path, "%s changes nothing: give at least one field to change.", path)
			}
			if arg.Name == "where" {
				if err := c.filterSize(path, v); err != nil {
					return err
				}
			}
			if err := c.value(path, arg.Name, def.Type, v, root && c.mutation); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *inputChecker) selections(set ast.SelectionSet, prefix string) error {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if err := c.field(s, prefix, false); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := c.selections(s.SelectionSet, prefix); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if c.seen[s.Name] || s.Definition == nil {
				continue
			}
			c.seen[s.Name] = true
			if err := c.selections(s.Definition.SelectionSet, prefix); err != nil {
				return err
			}
		}
	}
	return nil
}

// value checks v, the value at path of GraphQL type t; name is the field or
// argument's own name. stored is true for what a mutation writes.
func (c *inputChecker) value(path, name string, t *ast.Type, v any, stored bool) error {
	if v == nil {
		return nil
	}
	if t.Elem != nil {
		items, ok := v.([]any)
		if !ok { // a single value given for a list (input coercion)
			// From variables gqlparser hands it over as a typed slice of
			// one ([]string{s}, asList), which is no string and no time:
			// where: {referenceIn: "TIR\x00"} went unchecked to the
			// database, INTERNAL on PostgreSQL, and openedAtIn: t was
			// refused as no time (a review). It is checked as the single
			// value it was sent as, naming the list, as in the document.
			if list, typed := asList(v); typed && len(list) == 1 {
				v = list[0]
			}
			return c.value(path, name, t.Elem, v, stored)
		}
		// A list of ids (nodes(ids:), caseIDs…) becomes one IN (…) of
		// bound parameters, like a filter's values.
		if t.Elem.NamedType == "ID" && len(items) > MaxFilterValues {
			return &apperr.Error{
				Code:    apperr.BadUserInput,
				Field:   path,
				Message: fmt.Sprintf("%s holds %d ids; one list may hold at most %d values. Split the request into several.", path, len(items), MaxFilterValues),
				Details: map[string]any{"maxValues": MaxFilterValues},
			}
		}
		if stored {
			if err := c.repeatedValue(path, t.Elem, items); err != nil {
				return err
			}
		}
		for i, item := range items {
			if err := c.value(fmt.Sprintf("%s[%d]", path, i), name, t.Elem, item, stored); err != nil {
				return err
			}
		}
		return nil
	}
	def := c.schema.Types[t.NamedType]
	if def == nil {
		return nil
	}
	if def.Kind == ast.InputObject {
		m, _ := v.(map[string]any)
		if err := setAndCleared(path, m); err != nil {
			return err
		}
		if err := addedAndRemoved(path, m); err != nil {
			return err
		}
		for _, f := range def.Fields {
			if fv, ok := m[f.Name]; ok {
				if err := c.value(path+"."+f.Name, f.Name, f.Type, fv, stored); err != nil {
					return err
				}
			}
		}
		return nil
	}
	s, ok := v.(string)
	if !ok {
		if t.NamedType == "Time" { // a number or an object: still say what a time is
			return input.NotRFC3339(path)
		}
		return nil // gqlgen's coercion refuses what does not fit
	}
	switch t.NamedType {
	case "String":
		if stored {
			return input.CheckText(path, name, s)
		}
		return storable(path, s)
	case "Time":
		if stored {
			_, err := input.ParseTime(path, name, s, c.now)
			return err
		}
		t, ok := input.ParseRFC3339(s)
		if !ok {
			return input.NotRFC3339(path)
		}
		// 9999-12-31T23:59:59-23:59 is RFC 3339 and year 10000 in UTC.
		if !inComparableYears(t) {
			return apperr.InvalidField(path, "%s lies outside the years 0001 to 9999 in UTC.", path)
		}
	}
	return nil
}

// repeatedValue refuses a list of enumeration values or of ids, written by
// a mutation, that names one value twice. Such a list is a set (a
// consent's agency kinds and purposes, a victim's forms of exploitation,
// the cases a victim is registered on, a proceeding's defendants): a
// repeated value means nothing more, yet an enumeration value would be
// stored, shown and counted as often as it was sent (a client could store
// one a thousand times), and a repeated id was linked once but kept in the
// request an idempotent retry is compared with, so the retry naming the
// same set ([c] after [c, c]) was CONFLICT (a hunt).
func (c *inputChecker) repeatedValue(path string, elem *ast.Type, items []any) error {
	if def := c.schema.Types[elem.NamedType]; def == nil || def.Kind != ast.Enum && elem.NamedType != "ID" {
		return nil
	}
	seen := make(map[string]bool, len(items))
	for _, item := range items {
		switch item.(type) { // anything else is gqlgen's to refuse
		case string, json.Number, int, int64:
		default:
			continue
		}
		value := fmt.Sprint(item) // an id may come as a string or a number (sameItem)
		if seen[value] {
			return apperr.InvalidField(path, "%s names %s more than once; name each value once.", path, value)
		}
		seen[value] = true
	}
	return nil
}

// inComparableYears reports whether t lies in the years 0001 to 9999 in
// UTC, which both databases compare alike: SQLite's times are text, which
// sorts year 10000 before 2021, where PostgreSQL sorts it after. Time
// arguments and cursors' values are held to it.
func inComparableYears(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

// MaxComparedBytes is the longest a string argument that is only compared
// (a filter's value, a search) may be. SQLite refuses a LIKE pattern over
// 50,000 bytes, and escaping a pattern's wildcards can double it; no
// stored text a filter may name is longer than input.MaxLine characters.
const MaxComparedBytes = 20_000

// storable is the least any string argument must be, even one that is only
// compared: text a database can hold and compare.
func storable(path, s string) error {
	if len(s) > MaxComparedBytes {
		return apperr.InvalidField(path, "%s is %d bytes long; a value that is only compared may be at most %d bytes.", path, len(s), MaxComparedBytes)
	}
	if !utf8.ValidString(s) {
		return apperr.InvalidField(path, "%s is not valid UTF-8 text.", path)
	}
	for _, r := range s {
		if r == 0 {
			return apperr.InvalidField(path, "%s holds a NUL character, which no text can hold.", path)
		}
	}
	return nil
}

// filterSize refuses a where argument too big for one SQL statement; see
// MaxFilterValues.
func (c *inputChecker) filterSize(path string, v any) error {
	var m filterMeasure
	m.measure(v, 1)
	if m.patternBytes > MaxFilterPatternBytes {
		return &apperr.Error{
			Code:  apperr.BadUserInput,
			Field: path,
			Message: fmt.Sprintf("The filter in %s matches %d bytes of text by pattern (Contains, HasPrefix, HasSuffix, EqualFold, ContainsFold), more than %d; the texts it can match are short: match less, or split the request.",
				path, m.patternBytes, MaxFilterPatternBytes),
			Details: map[string]any{"maxPatternBytes": MaxFilterPatternBytes},
		}
	}
	if m.values <= MaxFilterValues && m.conditions <= MaxFilterConditions && m.depth <= MaxFilterDepth {
		return nil
	}
	return &apperr.Error{
		Code:  apperr.BadUserInput,
		Field: path,
		Message: fmt.Sprintf("The filter in %s is too large: it may hold at most %d values and %d conditions, nested at most %d levels; it holds %d values and %d conditions, nested %d levels. Split the request into several, or filter on something the records share.",
			path, MaxFilterValues, MaxFilterConditions, MaxFilterDepth, m.values, m.conditions, m.depth),
		Details: map[string]any{"maxValues": MaxFilterValues, "maxConditions": MaxFilterConditions, "maxDepth": MaxFilterDepth},
	}
}

// filterMeasure is the size of a filter: values, conditions, depth, and
// the bytes of the texts it matches by pattern.
type filterMeasure struct{ values, conditions, depth, patternBytes int }

// matchesByPattern reports whether a filter's field (ent's where input)
// matches its text as a LIKE pattern.
func matchesByPattern(name string) bool {
	for _, suffix := range []string{"Contains", "HasPrefix", "HasSuffix", "EqualFold", "ContainsFold"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

func (m *filterMeasure) measure(v any, depth int) {
	m.depth = max(m.depth, depth)
	switch v := v.(type) {
	case map[string]any:
		m.conditions += len(v)
		for name, fv := range v {
			if text, ok := fv.(string); ok && matchesByPattern(name) {
				m.patternBytes += len(text)
			}
			m.measure(fv, depth+1)
		}
	case []any:
		for _, item := range v {
			m.measure(item, depth)
		}
	default:
		m.values++
	}
}

// setAndCleared refuses an update input that sets a field and clears it
// (legalName with clearLegalName: true): which one was meant cannot be told,
// and ent would quietly keep the value. A reference to one record is set
// by its id and cleared by the edge's name (reviewedDecisionID with
// clearReviewedDecision: true), so the flag clears either spelling; until
// 2026-12-07 (twentieth session) that pair was taken, the name set.
func setAndCleared(path string, m map[string]any) error {
	for _, name := range slices.Sorted(maps.Keys(m)) { // the same field named whatever the order
		field, ok := strings.CutPrefix(name, "clear")
		if !ok || field == "" || m[name] != true {
			continue
		}
		field = strings.ToLower(field[:1]) + field[1:]
		for _, set := range []string{field, field + "ID"} {
			if v, ok := m[set]; ok && v != nil {
				return apperr.InvalidField(path+"."+set, "%s.%s is set and cleared (%s) at once; send one of them.", path, set, name)
			}
		}
	}
	return nil
}

// sameItem reports whether two items of a list of ids or enumeration
// values name the same one: an id may come as a JSON string or number, or
// as a literal in the document (input.UnmarshalID), and "7" and 7 are one
// record. A value no scalar takes is gqlgen's to refuse after.
func sameItem(a, b any) bool {
	return a != nil && b != nil && fmt.Sprint(a) == fmt.Sprint(b)
}

// addedAndRemoved refuses an update input that adds a record and removes
// it at once (addDefendantIDs and removeDefendantIDs naming one suspect):
// as with setAndCleared, which was meant cannot be told, and ent quietly
// let the removal win (its RemoveXIDs drops the id from those to add; a
// hunt). The refusal names the list it is added in.
func addedAndRemoved(path string, m map[string]any) error {
	for _, name := range slices.Sorted(maps.Keys(m)) {
		what, ok := strings.CutPrefix(name, "add")
		if !ok || what == "" {
			continue
		}
		added, removed := listOf(m[name]), listOf(m["remove"+what])
		for _, id := range added {
			if id != nil && slices.ContainsFunc(removed, func(r any) bool { return sameItem(r, id) }) {
				return apperr.InvalidField(path+"."+name, "%s.%s adds %v and %s.remove%s removes it at once; send one of them.", path, name, id, path, what)
			}
		}
	}
	return nil
}

// listOf is the list a value given for a list type stands for. GraphQL's
// input coercion takes a single value for a list of one: addDefendantIDs:
// S in the document is the string S, and in variables gqlparser hands it
// over as a typed slice ([]string{S}, asList). Reading only []any let a
// record added and removed as single values through addedAndRemoved, and
// the removal silently won (a review). nil, no value, is no list.
// repeatedValue needs no such reading (one value repeats nothing), nor
// does changesNothing (a single value adds or removes one: a change).
func listOf(v any) []any {
	if v == nil {
		return nil
	}
	if list, ok := asList(v); ok {
		return list
	}
	return []any{v}
}

// changesNothing reports whether v is an update input (an Update…Input)
// that names nothing to change: no field, or only fields that write
// nothing (writes). It would only move the record's version and write a
// timeline entry, which is a client's mistake, not a change.
func changesNothing(t *ast.Type, v any) bool {
	m, ok := v.(map[string]any)
	if !ok || t.Elem != nil || !strings.HasPrefix(t.NamedType, "Update") || !strings.HasSuffix(t.NamedType, "Input") {
		return false
	}
	for name, fv := range m {
		if writes(name, fv) {
			return false
		}
	}
	return true
}

// writes reports whether an input field named name, sent with value,
// writes anything: the one reading of "this input writes this field",
// for the update that changes nothing (changesNothing) and for the fields
// the mutation guard checks the role may write (fieldsWritten). null,
// clearX: false, an empty appendX list and an empty addXIDs or
// removeXIDs list of records to link or unlink write nothing
// (docs/input.md, docs/mutations.md: null is omission). An empty list
// that sets a field (formsOfExploitation: []) empties it, and false for
// a field that is not a clear flag (foreignNational) sets it: both write.
func writes(name string, value any) bool {
	switch value := value.(type) {
	case nil:
		return false
	case bool:
		return value || !strings.HasPrefix(name, "clear")
	case []any:
		return len(value) > 0 || !addsOrRemoves(name)
	}
	return true
}

// addsOrRemoves reports whether an update input's field named name adds
// to or takes from what the record holds (appendFormsOfExploitation,
// addDefendantIDs, removeDefendantIDs), rather than setting it: the
// generated inputs name such lists so. An empty one does nothing (a hunt
// had addDefendantIDs: [] move a proceeding's version).
func addsOrRemoves(name string) bool {
	for _, prefix := range []string{"append", "add", "remove"} {
		if rest, ok := strings.CutPrefix(name, prefix); ok && rest != "" && rest[0] >= 'A' && rest[0] <= 'Z' {
			return true
		}
	}
	return false
}
