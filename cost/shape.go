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
}

// expanded is the size of a selection set with its fragments expanded.
type expanded struct {
	fields, depth int
	inProgress    bool
}

// scan counts the spreads of one selection set and checks its aliases,
// without expanding fragments (each definition is scanned once).
func (s *shape) scan(set ast.SelectionSet) error {
	return s.scanInto(set, map[string]int{})
}

// scanInto is scan with the fields of the selection set counted in
// perName, which an inline fragment shares with the set it stands in:
// its fields are the set's, and twenty aliases in each of many
// `... on Query { }` are as many aliases of the field (a review's
// finding).
func (s *shape) scanInto(set ast.SelectionSet, perName map[string]int) error {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			perName[sel.Name]++
			if n := perName[sel.Name]; n > s.limits.MaxAliases {
				return tooComplex("aliases", n, s.limits.MaxAliases,
					fmt.Sprintf("The field %q is asked for more than %d times in one selection; at most %d aliases of a field are allowed.", sel.Name, s.limits.MaxAliases, s.limits.MaxAliases))
			}
			if err := s.scan(sel.SelectionSet); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := s.scanInto(sel.SelectionSet, perName); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			s.spreads++
			if s.spreads > s.limits.MaxSpreads {
				return tooComplex("spreads", s.spreads, s.limits.MaxSpreads,
					fmt.Sprintf("The document has more than %d fragment spreads.", s.limits.MaxSpreads))
			}
		}
	}
	return nil
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
