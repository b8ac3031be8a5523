//go:build ignore

// entc.go generates the ent client and the GraphQL schema of the data model
// (graph/ent.graphqls). Run through `go generate ./...` (see generate.go).
package main

import (
	"bytes"
	"fmt"
	"log"
	"runtime"
	"text/template/parse"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/sensitivity"
)

func main() {
	// ent formats its files with goimports, GOMAXPROCS at a time, while it
	// rewrites them; tx.go's import of database/sql (as stdsql, for the
	// sql/execquery feature) comes only from goimports reading client.go,
	// which may be half written at that moment, so tx.go was now and then
	// generated without it (ent/ent#4513; check-generated failed once on
	// it). One at a time, each file is read whole.
	runtime.GOMAXPROCS(1)
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("graph/ent.graphqls"),
		entgql.WithWhereInputs(true),
		entgql.WithSchemaHook(sensitiveFieldsNullable),
		entgql.WithTemplates(entgqlTemplates()...),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	// Tables keyed by each GraphQL type's name, which entgql's functions
	// name as its own templates do.
	typeTables := gen.MustParse(gen.NewTemplate("type_tables").Funcs(entgql.TemplateFuncs).
		ParseFiles("ent/template/type_tables.tmpl"))
	nestedPages := gen.MustParse(gen.NewTemplate("nested_pages").
		ParseFiles("ent/template/nested_pages.tmpl"))
	// What each where input asks for by id, for the audit trail.
	whereIDs := gen.MustParse(gen.NewTemplate("where_ids").Funcs(entgql.TemplateFuncs).
		ParseFiles("ent/template/where_ids.tmpl"))
	if err := orderNestedPages(entgql.CollectionTemplate); err != nil {
		log.Fatalf("ordering nested pages: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Templates: []*gen.Template{typeTables, nestedPages, whereIDs},
		// Runs before the extension's hooks, so entgql sees the names.
		Hooks: []gen.Hook{nameDomainEnums, edgesNotFilterable},
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureIntercept,
			gen.FeatureGlobalID,
			gen.FeatureNamedEdges,
			gen.FeatureVersionedMigration,
			gen.FeatureLock,
			gen.FeatureExecQuery,
			// Modify: the statistics package groups and counts in SQL through
			// ent queries, so that the privacy policy (row scope) applies.
			gen.FeatureModifier,
		},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// entgqlTemplates are entgql's templates, the where inputs included
// (WithWhereInputs above), with its pagination replaced by
// ent/template/gql_pagination.tmpl: entgql's looks a connection's own
// fields up by the alias the client gave them, and loses them under one.
func entgqlTemplates() []*gen.Template {
	pagination := gen.MustParse(gen.NewTemplate("gql_pagination").Funcs(entgql.TemplateFuncs).
		ParseFiles("ent/template/gql_pagination.tmpl"))
	templates := []*gen.Template{entgql.WhereTemplate}
	for _, t := range entgql.AllTemplates {
		if t == entgql.PaginationTemplate {
			t = pagination
		}
		templates = append(templates, t)
	}
	return templates
}

// nameDomainEnums gives every enum field whose Go type comes from the domain
// package the GraphQL name of that type (Region, not CaseRegion), so that one
// enumeration is one GraphQL enum wherever it is used.
func nameDomainEnums(next gen.Generator) gen.Generator {
	return gen.GenerateFunc(func(g *gen.Graph) error {
		for _, n := range g.Nodes {
			for _, f := range n.Fields {
				if !f.IsEnum() || !f.HasGoType() || f.Type.RType.PkgPath != domainPkg {
					continue
				}
				if f.Annotations == nil {
					f.Annotations = gen.Annotations{}
				}
				ant, _ := f.Annotations[entgqlAnnotation].(map[string]any)
				if ant == nil {
					ant = map[string]any{}
				}
				if _, set := ant["Type"]; !set || ant["Type"] == "" {
					ant["Type"] = f.Type.RType.Name
				}
				f.Annotations[entgqlAnnotation] = ant
			}
		}
		return next.Generate(g)
	})
}

// orderNestedPages points the eager loading of entgql's collection
// template at limitPerRowInOrder (ent/template/nested_pages.tmpl) where it
// calls entgql.LimitPerRow, which limits each parent's rows of a nested
// page but leaves them in no order (the comment there says what followed).
// The call is one line of a template of 430 that entgql does not
// split, so it is changed here, by program, rather than copied whole; a
// version of entgql that writes it otherwise stops the generation instead
// of leaving nested pages unordered.
func orderNestedPages(collection *gen.Template) error {
	const call, ordered = "entgql.LimitPerRow(", "limitPerRowInOrder("
	found := 0
	var visit func(parse.Node)
	visit = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				visit(c)
			}
		case *parse.TextNode:
			found += bytes.Count(n.Text, []byte(call))
			n.Text = bytes.ReplaceAll(n.Text, []byte(call), []byte(ordered))
		case *parse.IfNode:
			visit(n.List)
			visit(n.ElseList)
		case *parse.RangeNode:
			visit(n.List)
			visit(n.ElseList)
		case *parse.WithNode:
			visit(n.List)
			visit(n.ElseList)
		}
	}
	for _, t := range collection.Templates() {
		if t.Tree != nil {
			visit(t.Tree.Root)
		}
	}
	if found != 1 {
		return fmt.Errorf("entgql's collection template calls %s %d times, want once: see that its nested pages are ordered, then change orderNestedPages", call, found)
	}
	return nil
}

const (
	domainPkg        = "github.com/casegraph/casegraph/domain"
	entgqlAnnotation = "EntGQL"
)

// edgesNotFilterable keeps every edge out of the generated where inputs
// (hasVictims, hasCasesWith…). Their SQL subqueries do not pass through the
// privacy rules that limit rows, so a filter through an edge would match
// visible rows by the attributes of rows the caller may not see: an oracle.
func edgesNotFilterable(next gen.Generator) gen.Generator {
	return gen.GenerateFunc(func(g *gen.Graph) error {
		for _, n := range g.Nodes {
			for _, e := range n.Edges {
				if e.Annotations == nil {
					e.Annotations = gen.Annotations{}
				}
				ant, _ := e.Annotations[entgqlAnnotation].(map[string]any)
				if ant == nil {
					ant = map[string]any{}
				}
				skip, _ := ant["Skip"].(float64)
				ant["Skip"] = float64(int(skip) | int(entgql.SkipWhereInput))
				e.Annotations[entgqlAnnotation] = ant
			}
		}
		return next.Generate(g)
	})
}

// sensitiveFieldsNullable makes every field that carries the @sensitive
// directive nullable in GraphQL, whatever its column says: a denied field
// resolves to null with an error, and must not null its parent object.
func sensitiveFieldsNullable(_ *gen.Graph, s *ast.Schema) error {
	for _, def := range s.Types {
		if def.Kind != ast.Object {
			continue
		}
		for _, f := range def.Fields {
			if f.Directives.ForName(sensitivity.DirectiveName) != nil {
				f.Type.NonNull = false
			}
		}
	}
	return nil
}
