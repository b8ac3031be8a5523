package cost

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"
)

// CheckText bounds a document's shape before it is validated: validation
// itself does work that grows faster than the text (comparing the fields
// of every pair of fragments), so a document of a few kilobytes could keep
// a CPU busy for seconds before any limit on its cost applies. It reads
// the tokens first (linear, cheap), then parses and measures.
//
// A document that does not parse passes: the caller's parser reports it
// the usual way. The error, if any, is an *apperr.Error with code
// TOO_COMPLEX.
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

// CheckShape bounds a parsed document's fragments, spreads, aliases,
// depth and expanded size. It needs no schema, and tolerates what
// validation will refuse (unknown or cyclic fragments).
func CheckShape(doc *ast.QueryDocument, l Limits) error {
	if n := len(doc.Fragments); n > l.MaxFragments {
		return tooComplex("fragments", n, l.MaxFragments,
			fmt.Sprintf("The document defines %d fragments; at most %d are allowed.", n, l.MaxFragments))
	}
	s := shape{doc: doc, limits: l, fragments: map[string]*expanded{}}
	for _, f := range doc.Fragments {
		if err := s.scan(f.SelectionSet); err != nil {
			return err
		}
	}
	fields, depth := 0, 0
	for _, op := range doc.Operations {
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
	return nil
}

type shape struct {
	doc       *ast.QueryDocument
	limits    Limits
	spreads   int
	fragments map[string]*expanded
	// asks is, per fragment, what its own selection adds to the one it
	// is spread in (see asked); absent names while it is being counted.
	asks map[string]fragmentAsks
}

// fragmentAsks is what a fragment's selection adds to the selection it is
// spread in: the names it answers each field under, and how many fields
// it answers under each name.
type fragmentAsks struct {
	names answers
	same  sameName
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
	return s.scanInto(set, answers{}, sameName{})
}

// sameName counts, per name, the fields a selection answers under it,
// and refuses more than MaxSameName: validation compares each pair of
// fields answered under one name, whether they are one field asked twice
// or two that conflict (`x: a x: b`, `cases(first: 1) cases(first: 2)`).
type sameName map[string]int

func (n sameName) add(key string, count int, l Limits) error {
	n[key] = saturatingAdd(n[key], count)
	if n[key] > l.MaxSameName {
		return tooComplex("sameName", n[key], l.MaxSameName,
			fmt.Sprintf("More than %d fields are answered under the name %q in one selection; at most %d are allowed.", l.MaxSameName, key, l.MaxSameName))
	}
	return nil
}

// scanInto is scan with the fields of the selection set counted in names,
// which a fragment shares with the set it stands in: its fields are the
// set's, and twenty aliases in each of many `... on Query { }`, or in each
// of many named fragments spread side by side, are as many aliases of the
// field (two reviews' findings: 900 mutations in one request).
func (s *shape) scanInto(set ast.SelectionSet, names answers, same sameName) error {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if err := names.add(sel.Name, responseKey(sel), s.limits); err != nil {
				return err
			}
			if err := same.add(responseKey(sel), 1, s.limits); err != nil {
				return err
			}
			if err := s.scan(sel.SelectionSet); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := s.scanInto(sel.SelectionSet, names, same); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			s.spreads++
			if s.spreads > s.limits.MaxSpreads {
				return tooComplex("spreads", s.spreads, s.limits.MaxSpreads,
					fmt.Sprintf("The document has more than %d fragment spreads.", s.limits.MaxSpreads))
			}
			asks := s.asked(sel.Name)
			for field, keys := range asks.names {
				for key := range keys {
					if err := names.add(field, key, s.limits); err != nil {
						return err
					}
				}
			}
			for key, n := range asks.same {
				if err := same.add(key, n, s.limits); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// responseKey is the name a field is answered under: its alias, or else
// its own name.
func responseKey(f *ast.Field) string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Name
}

// asked is what the fragment name adds to the selection it is spread in:
// the names it answers each field under, and how many fields it answers
// under each name, in its own selection, its inline fragments and the
// fragments it spreads (each spread counting again). Each fragment is
// counted once; an unknown or cyclic one (validation refuses both) adds
// nothing. Its names are at most the document's tokens.
func (s *shape) asked(name string) fragmentAsks {
	if a, ok := s.asks[name]; ok {
		return a
	}
	def := s.doc.Fragments.ForName(name)
	if def == nil {
		return fragmentAsks{}
	}
	if s.asks == nil {
		s.asks = map[string]fragmentAsks{}
	}
	s.asks[name] = fragmentAsks{} // a cycle back to name adds nothing
	a := fragmentAsks{names: answers{}, same: sameName{}}
	answer := func(field, key string, n int) {
		if a.names[field] == nil {
			a.names[field] = map[string]bool{}
		}
		a.names[field][key] = true
		a.same[key] = saturatingAdd(a.same[key], n)
	}
	var collect func(set ast.SelectionSet)
	collect = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				answer(sel.Name, responseKey(sel), 1)
			case *ast.InlineFragment:
				collect(sel.SelectionSet)
			case *ast.FragmentSpread:
				spread := s.asked(sel.Name)
				for field, keys := range spread.names {
					for key := range keys {
						answer(field, key, 0)
					}
				}
				for key, n := range spread.same {
					a.same[key] = saturatingAdd(a.same[key], n)
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
