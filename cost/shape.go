package cost

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/casegraph/casegraph/apperr"
)

// CheckText bounds a document's shape before it is validated: validation
// itself does work that grows faster than the text (comparing the fields
// of every pair of fragments), so a document of a few kilobytes could keep
// a CPU busy for seconds before any limit on its cost applies. It reads
// the tokens first (linear, cheap), then parses and measures.
//
// A document that does not parse passes: the caller's parser reports it
// the usual way. The error, if any, is an *apperr.Error with code
// TOO_COMPLEX, or BAD_USER_INPUT for a fragment no operation uses (which
// validation would refuse after doing the work this bounds).
func CheckText(query string, l Limits) error {
	src := &ast.Source{Input: query}
	lex := lexer.New(src)
	for tokens := 0; ; tokens++ {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			break
		}
		if tokens >= l.MaxTokens {
			return tooComplex("tokens", tokens+1, l.MaxTokens,
				fmt.Sprintf("The document is longer than %d tokens; send a shorter one.", l.MaxTokens))
		}
	}
	doc, err := parser.ParseQuery(src)
	if err != nil {
		return nil
	}
	return CheckShape(doc, l)
}

// CheckShape bounds a parsed document's fragments, spreads, aliases (how
// many of a field, how long each), depth and expanded size. It needs no schema, and tolerates what
// validation will refuse (unknown or cyclic fragments).
func CheckShape(doc *ast.QueryDocument, l Limits) error {
	if n := len(doc.Fragments); n > l.MaxFragments {
		return tooComplex("fragments", n, l.MaxFragments,
			fmt.Sprintf("The document defines %d fragments; at most %d are allowed.", n, l.MaxFragments))
	}
	s := shape{doc: doc, limits: l, fragments: map[string]*expanded{}}
	for _, f := range doc.Fragments {
		if err := s.valuesWithin(f.Directives); err != nil {
			return err
		}
		if err := s.scan(f.SelectionSet); err != nil {
			return err
		}
	}
	fields, depth := 0, 0
	for _, op := range doc.Operations {
		if err := s.valuesWithin(op.Directives); err != nil {
			return err
		}
		for _, v := range op.VariableDefinitions {
			if err := s.valueWithin(v.DefaultValue); err != nil {
				return err
			}
			if err := s.valuesWithin(v.Directives); err != nil {
				return err
			}
		}
		if err := s.scan(op.SelectionSet); err != nil {
			return err
		}
		e := s.expand(op.SelectionSet)
		fields = saturatingAdd(fields, e.fields)
		depth = max(depth, e.depth)
	}
	if fields > l.MaxFields {
		return tooComplex("fields", fields, l.MaxFields,
			fmt.Sprintf("The operation selects %d fields once its fragments are expanded; at most %d are allowed.", fields, l.MaxFields))
	}
	if depth > l.MaxDepth {
		return tooComplex("depth", depth, l.MaxDepth,
			fmt.Sprintf("Fields nest %d deep; at most %d levels are allowed.", depth, l.MaxDepth))
	}
	// A fragment no operation spreads is refused here, as validation
	// would refuse it: validation still compares the fields of its
	// definition, which no bound on the operations' fields covers (1,600
	// conflicting fields under one name in an unused fragment took 2 s
	// and 800 MB to be told it was unused; the review's finding).
	for _, f := range doc.Fragments {
		if _, spread := s.fragments[f.Name]; !spread {
			return &apperr.Error{Code: apperr.BadUserInput, Message: fmt.Sprintf("Fragment %q is never used.", truncateName(f.Name))}
		}
	}
	// Counted once the expanded size is known to be bounded: pairs walks
	// the fields as expanded.
	pairs := 0
	for _, op := range doc.Operations {
		pairs = saturatingAdd(pairs, s.pairs([]merged{{set: op.SelectionSet}}))
	}
	if pairs > l.MaxFieldPairs {
		return tooComplex("fieldPairs", pairs, l.MaxFieldPairs,
			fmt.Sprintf("Validating the operation would compare %d pairs of fields answered under one name; at most %d are allowed: ask for each field once.", pairs, l.MaxFieldPairs))
	}
	return nil
}

type shape struct {
	doc       *ast.QueryDocument
	limits    Limits
	spreads   int
	fragments map[string]*expanded
	// asks is, per fragment, the names it answers each field under in its
	// own selection (see asked); nil while it is being counted.
	asks map[string]answers
}

// expanded is the size of a selection set with its fragments expanded.
type expanded struct {
	fields, depth int
	inProgress    bool
}

// answers is, per field, the names (aliases, or the field's own) a
// selection answers it under. Fields asked for under one name are merged
// into one and run once; each other name runs the field again.
type answers map[string]map[string]bool

// add records that the field is answered under key, and refuses more
// than MaxAliases names for one field.
func (a answers) add(field, key string, l Limits) error {
	if a[field] == nil {
		a[field] = map[string]bool{}
	}
	a[field][key] = true
	if n := len(a[field]); n > l.MaxAliases {
		return tooComplex("aliases", n, l.MaxAliases,
			fmt.Sprintf("The field %q is asked for under more than %d names in one selection; at most %d aliases of a field are allowed.", field, l.MaxAliases, l.MaxAliases))
	}
	return nil
}

// scan counts the spreads of one selection set and checks its aliases,
// without expanding fragments (each definition is scanned once).
func (s *shape) scan(set ast.SelectionSet) error {
	return s.scanInto(set, answers{})
}

// merged is a selection set as validation reaches it: one of the
// sub-selections of the fields answered under one name, which it compares
// together, with the fragments spread on the way to it (a fragment spread
// again inside itself is a cycle, which validation refuses: it adds
// nothing here).
type merged struct {
	set     ast.SelectionSet
	through *spreadPath
}

type spreadPath struct {
	fragment string
	up       *spreadPath
}

func (p *spreadPath) has(fragment string) bool {
	for ; p != nil; p = p.up {
		if p.fragment == fragment {
			return true
		}
	}
	return false
}

// pairs counts the pairs of fields validation compares in a group of
// selection sets it merges: each pair of fields answered under one name
// (whether one field asked twice, or two that conflict: `x: a x: b`,
// `cases(first: 1) cases(first: 2)`), and, in the sub-selections of the
// fields of each name taken together, their pairs in turn. Thirty-nine
// `a: viewer { … }` each answering 49 fields under `b` are 1,911 fields
// under `b` in one merged selection: 1.8 million pairs. It visits each
// field as expanded once, so its work is bounded by MaxFields.
func (s *shape) pairs(group []merged) int {
	answered := map[string]int{}
	under := map[string][]merged{}
	var collect func(set ast.SelectionSet, through *spreadPath)
	collect = func(set ast.SelectionSet, through *spreadPath) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				key := responseKey(sel)
				answered[key]++
				if len(sel.SelectionSet) > 0 {
					under[key] = append(under[key], merged{set: sel.SelectionSet, through: through})
				}
			case *ast.InlineFragment:
				collect(sel.SelectionSet, through)
			case *ast.FragmentSpread:
				if def := s.doc.Fragments.ForName(sel.Name); def != nil && !through.has(sel.Name) {
					collect(def.SelectionSet, &spreadPath{fragment: sel.Name, up: through})
				}
			}
		}
	}
	for _, m := range group {
		collect(m.set, m.through)
	}
	total := 0
	for key, n := range answered {
		total = saturatingAdd(total, n*(n-1)/2)
		if subs := under[key]; len(subs) > 0 {
			total = saturatingAdd(total, s.pairs(subs))
		}
	}
	return total
}

// scanInto is scan with the fields of the selection set counted in names,
// which a fragment shares with the set it stands in: its fields are the
// set's, and twenty aliases in each of many `... on Query { }`, or in each
// of many named fragments spread side by side, are as many aliases of the
// field (two reviews' findings: 900 mutations in one request).
func (s *shape) scanInto(set ast.SelectionSet, names answers) error {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if n := len(sel.Alias); n > s.limits.MaxAliasBytes {
				return tooComplex("aliasBytes", n, s.limits.MaxAliasBytes,
					fmt.Sprintf("The alias %q is %d bytes long; at most %d are allowed.", truncateName(sel.Alias), n, s.limits.MaxAliasBytes))
			}
			if err := names.add(sel.Name, responseKey(sel), s.limits); err != nil {
				return err
			}
			for _, a := range sel.Arguments {
				if err := s.valueWithin(a.Value); err != nil {
					return err
				}
			}
			if err := s.valuesWithin(sel.Directives); err != nil {
				return err
			}
			if err := s.scan(sel.SelectionSet); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := s.valuesWithin(sel.Directives); err != nil {
				return err
			}
			if err := s.scanInto(sel.SelectionSet, names); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if err := s.valuesWithin(sel.Directives); err != nil {
				return err
			}
			s.spreads++
			if s.spreads > s.limits.MaxSpreads {
				return tooComplex("spreads", s.spreads, s.limits.MaxSpreads,
					fmt.Sprintf("The document has more than %d fragment spreads.", s.limits.MaxSpreads))
			}
			for field, keys := range s.asked(sel.Name) {
				for key := range keys {
					if err := names.add(field, key, s.limits); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// valuesWithin checks the values of directives' arguments (valueWithin).
func (s *shape) valuesWithin(directives ast.DirectiveList) error {
	for _, d := range directives {
		for _, a := range d.Arguments {
			if err := s.valueWithin(a.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// valueWithin refuses a value written in the document whose lists and
// objects nest deeper than MaxValueDepth. Each value is read once, as the
// text holds it: linear in the document.
func (s *shape) valueWithin(v *ast.Value) error {
	if d := valueDepth(v, s.limits.MaxValueDepth+1); d > s.limits.MaxValueDepth {
		return tooComplex("valueDepth", d, s.limits.MaxValueDepth,
			fmt.Sprintf("A value in the document nests lists and objects more than %d deep; at most %d levels are allowed.", s.limits.MaxValueDepth, s.limits.MaxValueDepth))
	}
	return nil
}

// valueDepth is how deeply v's lists and objects nest (a scalar or a
// variable 0, [1] 1, {a: [1]} 2), counted no further than stop.
func valueDepth(v *ast.Value, stop int) int {
	if v == nil || (v.Kind != ast.ListValue && v.Kind != ast.ObjectValue) {
		return 0
	}
	if stop <= 1 {
		return 1
	}
	deepest := 0
	for _, c := range v.Children {
		deepest = max(deepest, valueDepth(c.Value, stop-1))
		if deepest >= stop-1 {
			break
		}
	}
	return 1 + deepest
}

// responseKey is the name a field is answered under: its alias, or else
// its own name.
func responseKey(f *ast.Field) string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Name
}

// asked is the names the fragment name answers each field under in its own
// selection, its inline fragments and the fragments it spreads included:
// what spreading it adds to the selection it stands in. Each fragment is
// counted once; an unknown or cyclic one (validation refuses both) adds
// nothing. Its names are at most the document's tokens.
func (s *shape) asked(name string) answers {
	if a, ok := s.asks[name]; ok {
		return a
	}
	def := s.doc.Fragments.ForName(name)
	if def == nil {
		return nil
	}
	if s.asks == nil {
		s.asks = map[string]answers{}
	}
	s.asks[name] = nil // a cycle back to name adds nothing
	a := answers{}
	answer := func(field, key string) {
		if a[field] == nil {
			a[field] = map[string]bool{}
		}
		a[field][key] = true
	}
	var collect func(set ast.SelectionSet)
	collect = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				answer(sel.Name, responseKey(sel))
			case *ast.InlineFragment:
				collect(sel.SelectionSet)
			case *ast.FragmentSpread:
				for field, keys := range s.asked(sel.Name) {
					for key := range keys {
						answer(field, key)
					}
				}
			}
		}
	}
	collect(def.SelectionSet)
	s.asks[name] = a
	return a
}

// expand measures a selection set with every fragment expanded where it is
// spread, computing each fragment once.
func (s *shape) expand(set ast.SelectionSet) expanded {
	var out expanded
	for _, sel := range set {
		var e expanded
		switch sel := sel.(type) {
		case *ast.Field:
			e = s.expand(sel.SelectionSet)
			e.fields = saturatingAdd(e.fields, 1)
			e.depth++
		case *ast.InlineFragment:
			e = s.expand(sel.SelectionSet)
		case *ast.FragmentSpread:
			e = s.fragment(sel.Name)
		}
		out.fields = saturatingAdd(out.fields, e.fields)
		out.depth = max(out.depth, e.depth)
	}
	return out
}

func (s *shape) fragment(name string) expanded {
	if e, ok := s.fragments[name]; ok {
		if e.inProgress {
			return expanded{} // a cycle: validation refuses it
		}
		return *e
	}
	def := s.doc.Fragments.ForName(name)
	if def == nil {
		return expanded{} // unknown: validation refuses it
	}
	e := &expanded{inProgress: true}
	s.fragments[name] = e
	*e = s.expand(def.SelectionSet)
	return *e
}

// truncateName shortens a name the client chose, for a message.
func truncateName(name string) string {
	if len(name) > 60 {
		return name[:60] + "…"
	}
	return name
}
