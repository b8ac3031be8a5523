package graph

import (
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/sensitivity"
)

// Vocabulary reads from the served schema what the access policy may name:
// every sensitive field ("Victim.legalName", grouped under its category
// object "Victim:IDENTITY") and every mutation. The sensitive fields come,
// through the generated schema, from the ent annotations: one source.
func Vocabulary() policies.Vocabulary {
	s := NewExecutableSchema(Config{}).Schema()
	v := policies.Vocabulary{Fields: map[string]string{}}
	for _, def := range s.Types {
		if def.Kind != ast.Object {
			continue
		}
		for _, f := range def.Fields {
			d := f.Directives.ForName(sensitivity.DirectiveName)
			if d == nil {
				continue
			}
			v.Fields[def.Name+"."+f.Name] = policies.CategoryObject(def.Name, d.Arguments.ForName("category").Value.Raw)
		}
	}
	if s.Mutation != nil {
		for _, f := range s.Mutation.Fields {
			v.Mutations = append(v.Mutations, f.Name)
		}
	}
	return v
}
