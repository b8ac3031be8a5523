package cost

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/apperr"
)

// Schema holds what the cost model needs to know of the served schema:
// what reading it by introspection costs.
type Schema struct {
	// schemaCost is the cost of __schema: one point for every type,
	// field, argument and enum value it can list. typeCost is the cost of
	// __type: the largest type's.
	schemaCost, typeCost int
}

// NewSchema measures s for introspection.
func NewSchema(s *ast.Schema) Schema {
	var out Schema
	for _, t := range s.Types {
		size := 1 + len(t.Fields) + len(t.EnumValues) + len(t.Interfaces) + len(t.Types)
		for _, f := range t.Fields {
			size += len(f.Arguments)
		}
		out.schemaCost += size
		out.typeCost = max(out.typeCost, size)
	}
	out.schemaCost += len(s.Directives)
	return out
}

// Report is what Measure found.
type Report struct {
	// Cost is the operation's cost: every field is one point, multiplied
	// by the page sizes of the connections above it (the default page
	// where a connection names none), by the number of ids of nodes(ids:),
	// and by UnpagedList for a list without page arguments. Introspection
	// costs what the schema could list.
	Cost int
	// Depth is how deeply fields nest, fragments expanded.
	Depth int
	// DefaultPages counts the connections asked for without a page size:
	// WithDefaultPages gives them the default page.
	DefaultPages int
	// OrderingTerms counts the connections whose orderBy is one term
	// where the argument is a list: WithDefaultPages makes it the list of
	// that term.
	OrderingTerms int
}

// Measure computes op's cost with vars (coerced) and checks it and every
// connection's page size against l. It expects a validated document. The
// error is an *apperr.Error: BAD_USER_INPUT naming the argument for a page
// size out of range, TOO_COMPLEX with the cost and the ceiling otherwise.
func Measure(schema Schema, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any, l Limits) (Report, error) {
	m := measurer{schema: schema, doc: doc, vars: vars, limits: l, memo: map[memoKey]measured{},
		mutation: op.Operation == ast.Mutation}
	r := m.set(op.SelectionSet, 0, "")
	if m.err != nil {
		return Report{}, m.err
	}
	if m.introspection > l.MaxIntrospection {
		return Report{}, tooComplex("introspection", m.introspection, l.MaxIntrospection,
			fmt.Sprintf("The operation asks for __schema or __type %d times; at most %d are allowed.", m.introspection, l.MaxIntrospection))
	}
	if r.depth > l.MaxDepth {
		return Report{}, tooComplex("depth", r.depth, l.MaxDepth,
			fmt.Sprintf("Fields nest %d deep; at most %d levels are allowed.", r.depth, l.MaxDepth))
	}
	total := saturatingAdd(r.cost, r.once)
	if total > l.MaxCost {
		return Report{}, tooComplex("cost", total, l.MaxCost,
			fmt.Sprintf("The operation would cost %d points, over the limit of %d: ask for smaller pages (first/last) or fewer nested lists.", total, l.MaxCost))
	}
	return Report{Cost: total, Depth: r.depth, DefaultPages: m.defaults, OrderingTerms: m.orderingTerms}, nil
}

type measurer struct {
	schema        Schema
	doc           *ast.QueryDocument
	vars          map[string]any
	limits        Limits
	memo          map[memoKey]measured
	introspection int
	defaults      int
	orderingTerms int
	err           error
	// mutation: the operation's top-level fields write (see inputCost).
	mutation bool
}

// memoKey names a fragment's cost under a connection of a given page size
// (only edges and nodes directly inside a connection depend on it).
type memoKey struct {
	fragment string
	page     int
}

// measured is what a selection costs: cost for each object it is asked
// of (multiplied by the pages above it), once for the request whatever
// the pages above it (the ids a where looks up, filterIDs), and its depth.
type measured struct{ cost, once, depth int }

func (m *measurer) set(set ast.SelectionSet, page int, path string) measured {
	var out measured
	for _, sel := range set {
		var r measured
		switch sel := sel.(type) {
		case *ast.Field:
			r = m.field(sel, page, path)
		case *ast.InlineFragment:
			r = m.set(sel.SelectionSet, page, path)
		case *ast.FragmentSpread:
			k := memoKey{sel.Name, page}
			var ok bool
			if r, ok = m.memo[k]; !ok {
				if def := m.doc.Fragments.ForName(sel.Name); def != nil {
					r = m.set(def.SelectionSet, page, path)
				}
				m.memo[k] = r
			}
		}
		out.cost = saturatingAdd(out.cost, r.cost)
		out.once = saturatingAdd(out.once, r.once)
		out.depth = max(out.depth, r.depth)
	}
	return out
}

func (m *measurer) field(f *ast.Field, page int, parent string) measured {
	path := f.Alias
	if path == "" {
		path = f.Name
	}
	if parent != "" {
		path = parent + "." + path
	}
	if IsIntrospection(f) {
		m.introspection++
		if f.Name == "__schema" {
			return measured{cost: m.schema.schemaCost, depth: 1}
		}
		return measured{cost: m.schema.typeCost, depth: 1}
	}
	def := f.Definition
	if def == nil {
		return measured{cost: 1, depth: 1}
	}
	if f.ObjectDefinition != nil {
		if c, ok := m.limits.FixedCosts[f.ObjectDefinition.Name+"."+f.Name]; ok {
			if err := m.askedOnce([]ast.SelectionSet{f.SelectionSet}, path); err != nil && m.err == nil {
				m.err = err
			}
			return measured{cost: c, depth: m.set(f.SelectionSet, 0, path).depth + 1}
		}
	}
	times := 1
	if def.Type.Elem != nil && len(f.SelectionSet) > 0 {
		switch {
		case page > 0 && (f.Name == "edges" || f.Name == "nodes"):
			times = page
		case def.Arguments.ForName("ids") != nil:
			times = m.listLength(f, "ids")
			if times > m.limits.MaxPage && m.err == nil {
				m.err = &apperr.Error{Code: apperr.BadUserInput, Field: path + ".ids", At: apperr.LocationOf(f.Position),
					Message: fmt.Sprintf("At most %d ids at a time.", m.limits.MaxPage), Details: map[string]any{"maximum": m.limits.MaxPage}}
			}
		default:
			times = m.limits.UnpagedList
			if f.ObjectDefinition != nil {
				if n, ok := m.limits.ListSizes[f.ObjectDefinition.Name+"."+f.Name]; ok {
					times = n
				}
			}
		}
	}
	childPage := 0
	if paginated(def) {
		if orderingTerm(f, m.vars) {
			m.orderingTerms++
		}
		page := m.page(f, path)
		if def.Type.Elem != nil {
			times = page // a plain list with a page size (policyChanges)
		} else {
			childPage = page // a connection: its edges and nodes
		}
	}
	children := m.set(f.SelectionSet, childPage, path)
	if m.mutation && parent == "" {
		children.cost = saturatingAdd(children.cost, saturatingAdd(m.inputCost(f), m.limits.MutationCost))
	}
	if def.Arguments.ForName("ids") != nil || lookupByID(f) {
		// Looking a record up by id, and refusing it when it is not the
		// caller's (an error in the answer, an event in the audit trail),
		// costs far more than reading a field: node(id:) as each id of
		// nodes(ids:), or a thousand node lookups under aliases in
		// fragments cost what two thousand fields do (a review's finding).
		children.cost = saturatingAdd(children.cost, m.limits.LookupCost)
	}
	if where := f.Arguments.ForName("where"); where != nil {
		if v, err := where.Value.Value(m.vars); err == nil {
			// gqlgen reads a field's where again for each object the
			// field is asked of (a case's prosecutions, under each case
			// of the page): each item of its lists is counted as a field
			// is. The ids it names are looked up once for the field of
			// the document, however many objects it is asked of.
			children.cost = saturatingAdd(children.cost, inputItems(v))
			children.once = saturatingAdd(children.once, saturatingMul(filterIDs(v), m.limits.FilterIDCost))
		}
	}
	return measured{
		cost:  saturatingAdd(1, saturatingMul(times, children.cost)),
		once:  children.once,
		depth: children.depth + 1,
	}
}

// filterIDs counts the ids a where names: id and idNEQ (one each), idIn
// and idNotIn (their items), and each id bound (idGT, idGTE, idLT,
// idLTE: bounds that leave one id are looked up and recorded as that id,
// graph.recordIDsAsked; until 2026-12-07, nineteenth session, a range
// was free, and 99 one-id ranges under or cost a tenth of the same ids by
// idIn), at any depth. Which of them a where asks for depends on the nots
// and the other bounds around them; the model follows neither and prices
// them all.
func filterIDs(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for name, e := range v {
			switch name {
			case "id", "idNEQ", "idGT", "idGTE", "idLT", "idLTE":
				if e != nil {
					n = saturatingAdd(n, 1)
				}
			case "idIn", "idNotIn":
				if list, ok := e.([]any); ok {
					n = saturatingAdd(n, len(list))
				} else if e != nil {
					n = saturatingAdd(n, 1) // a single value is coerced to a list of one
				}
			default:
				n = saturatingAdd(n, filterIDs(e))
			}
		}
	case []any:
		for _, e := range v {
			n = saturatingAdd(n, filterIDs(e))
		}
	}
	return n
}

// askedOnce checks that a selection under a field of fixed cost asks for
// each field under one name only, and the selections under each of its
// fields in turn. A fixed cost pays for building what the field computes
// and reading it once, whatever fields are read of it: the fields under
// it are not counted against the fields budget (graph.requestLimits).
// Each other name would resolve the field again for every object built,
// which grows with the data, not with the price: twenty aliases of a
// statistics table's cells, each with twenty aliases of count, resolved
// 250,000 fields for a cost of 1,000 (a hunt). group is the selections
// the answer merges into one (those of the fields answered under one
// name), fragments expanded as they are spread: their fields, at most
// MaxFields (CheckText), are each visited once.
func (m *measurer) askedOnce(group []ast.SelectionSet, path string) error {
	answeredAs := map[string]string{} // a field's name → the name it is answered under
	var keys []string
	under := map[string][]ast.SelectionSet{}
	var err error
	var collect func(set ast.SelectionSet)
	collect = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				key := responseKey(sel)
				first, asked := answeredAs[sel.Name]
				if !asked {
					answeredAs[sel.Name] = key
					keys = append(keys, key)
				} else if first != key && err == nil {
					refusal := tooComplex("fixedCostAliases", 2, 1, fmt.Sprintf(
						"Under %s the field %s is asked for under two names, %q and %q: under a field of fixed cost each field is asked for once, since its price pays for reading once what it builds.",
						truncateName(path), truncateName(sel.Name), truncateName(first), truncateName(key)))
					// Where it is asked for under its second name.
					refusal.At = apperr.LocationOf(sel.Position)
					err = refusal
				}
				if len(sel.SelectionSet) > 0 {
					under[key] = append(under[key], sel.SelectionSet)
				}
			case *ast.InlineFragment:
				collect(sel.SelectionSet)
			case *ast.FragmentSpread:
				if def := m.doc.Fragments.ForName(sel.Name); def != nil {
					collect(def.SelectionSet)
				}
			}
		}
	}
	for _, set := range group {
		collect(set)
	}
	for _, key := range keys {
		if err != nil {
			break
		}
		if sets := under[key]; len(sets) > 0 {
			err = m.askedOnce(sets, path+"."+key)
		}
	}
	return err
}

// lookupByID reports whether f looks a record up by its id for reading
// (a query's field with an id argument, such as node); a mutation's id
// names what it writes, which its own work is.
func lookupByID(f *ast.Field) bool {
	return f.ObjectDefinition != nil && f.ObjectDefinition.Name == "Query" && f.Definition.Arguments.ForName("id") != nil
}

// inputCost is what a mutation's input lists cost: each item (an id to
// link, a line of a policy change, at any depth of its input objects) is
// one more record to look up and write, charged as a lookup. Without it a
// mutation cost its payload's fields whatever it was given: twenty
// aliases each linking a victim to 1,000 cases held SQLite's write lock
// for seconds (a review's finding).
func (m *measurer) inputCost(f *ast.Field) int {
	items := 0
	for _, arg := range f.Arguments {
		v, err := arg.Value.Value(m.vars)
		if err == nil {
			items = saturatingAdd(items, inputItems(v))
		}
	}
	return saturatingMul(items, m.limits.LookupCost)
}

// inputItems counts the items of the lists in an input value, and of those
// in its input objects; a list's items that are lists (a policy line) count
// as one each.
func inputItems(v any) int {
	n := 0
	switch v := v.(type) {
	case []any:
		n = len(v)
		for _, e := range v {
			if o, ok := e.(map[string]any); ok {
				n = saturatingAdd(n, inputItems(o))
			}
		}
	case map[string]any:
		for _, e := range v {
			n = saturatingAdd(n, inputItems(e))
		}
	}
	return n
}

// paginated reports whether a field takes a page size: a Relay
// connection, or a list with a first argument.
func paginated(def *ast.FieldDefinition) bool {
	return def.Arguments.ForName("first") != nil
}

// page returns the page size a connection field asks for, checking it.
func (m *measurer) page(f *ast.Field, path string) int {
	size := -1
	for _, name := range []string{"first", "last"} {
		n, given := m.intArg(f, name)
		if !given {
			continue
		}
		if n < 0 || n > m.limits.MaxPage {
			if m.err == nil {
				m.err = &apperr.Error{
					Code:    apperr.BadUserInput,
					Field:   path + "." + name,
					At:      apperr.LocationOf(f.Position),
					Message: fmt.Sprintf("%s on %s must be between 0 and %d.", name, path, m.limits.MaxPage),
					Details: map[string]any{"maximum": m.limits.MaxPage},
				}
			}
			return 0
		}
		size = max(size, n)
	}
	if size < 0 {
		m.defaults++
		return m.limits.DefaultPage
	}
	return size
}

// intArg returns the value of an Int argument, and whether one was given
// (null is not given).
func (m *measurer) intArg(f *ast.Field, name string) (int, bool) {
	arg := f.Arguments.ForName(name)
	if arg == nil {
		return 0, false
	}
	v, err := arg.Value.Value(m.vars)
	if err != nil || v == nil {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return clampInt(float64(n)), true
	case int:
		return n, true
	case float64:
		return clampInt(n), true
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, false
		}
		return clampInt(x), true
	}
	return 0, false
}

func clampInt(x float64) int { return int(math.Max(math.Min(x, ceiling), -ceiling)) }

func (m *measurer) listLength(f *ast.Field, name string) int {
	arg := f.Arguments.ForName(name)
	if arg == nil {
		return 0
	}
	v, err := arg.Value.Value(m.vars)
	if err != nil {
		return 0
	}
	if list, ok := v.([]any); ok {
		return len(list)
	}
	if v != nil {
		return 1 // a single value is coerced to a list of one
	}
	return 0
}
