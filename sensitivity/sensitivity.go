// Package sensitivity is the one place where a field is declared sensitive.
//
// An ent schema marks a field with Annotate(category). From that single
// declaration the code generator derives: the @sensitive directive on the
// GraphQL field (readable in the SDL by clients and data protection
// officers), the field's nullability in GraphQL (always nullable, so that a
// denial nulls the field and not its parent), its absence from every `where`
// filter and `orderBy`, and, in later layers, the casbin object name
// ("Victim.legalName") and its audit. A test fails when any of these
// disagree.
package sensitivity

import (
	"encoding/json"
	"fmt"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Category names the kind of personal data a field holds.
type Category string

// The categories of sensitive data.
const (
	Identity        Category = "IDENTITY"
	Contact         Category = "CONTACT"
	Health          Category = "HEALTH"
	Testimony       Category = "TESTIMONY"
	Location        Category = "LOCATION"
	QuasiIdentifier Category = "QUASI_IDENTIFIER"
)

// Categories lists every category in a stable order.
var Categories = []Category{Identity, Contact, Health, Testimony, Location, QuasiIdentifier}

// AnnotationName is the key of the annotation in ent's generated graph.
const AnnotationName = "Sensitive"

// DirectiveName is the GraphQL directive that marks a sensitive field.
const DirectiveName = "sensitive"

// Annotation marks an ent field as sensitive.
type Annotation struct {
	Category Category `json:"category"`
}

// Name implements schema.Annotation.
func (Annotation) Name() string { return AnnotationName }

// Annotate returns the annotations of a sensitive field of category c: the
// project's own marker plus what entgql needs to honour it. Use it as
// field.String("legal_name").Annotations(sensitivity.Annotate(sensitivity.Identity)...).
func Annotate(c Category) []schema.Annotation {
	return []schema.Annotation{
		Annotation{Category: c},
		// Never filterable or orderable: a filter or ordering on a value the
		// caller may not read is an oracle (docs/design.md, decision 3).
		entgql.Skip(entgql.SkipWhereInput | entgql.SkipOrderField),
		entgql.Directives(Directive(c)),
	}
}

// Directive is the GraphQL directive placed on a sensitive field.
func Directive(c Category) entgql.Directive {
	return entgql.NewDirective(DirectiveName, &ast.Argument{
		Name:  "category",
		Value: &ast.Value{Raw: string(c), Kind: ast.EnumValue},
	})
}

// FromAnnotations returns the sensitivity of a field from the annotations ent
// keeps for it in its generated graph (gen.Field.Annotations), and whether
// the field is sensitive at all.
func FromAnnotations(annotations map[string]any) (Annotation, bool, error) {
	raw, ok := annotations[AnnotationName]
	if !ok || raw == nil {
		return Annotation{}, false, nil
	}
	var a Annotation
	switch v := raw.(type) {
	case Annotation:
		a = v
	default:
		// Loaded graphs hold annotations decoded from JSON.
		buf, err := json.Marshal(v)
		if err != nil {
			return Annotation{}, false, err
		}
		if err := json.Unmarshal(buf, &a); err != nil {
			return Annotation{}, false, err
		}
	}
	for _, c := range Categories {
		if a.Category == c {
			return a, true, nil
		}
	}
	return Annotation{}, false, fmt.Errorf("unknown sensitivity category %q", a.Category)
}
