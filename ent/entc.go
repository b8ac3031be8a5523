//go:build ignore

// entc.go generates the ent client and the GraphQL schema of the data model
// (graph/ent.graphqls). Run through `go generate ./...` (see generate.go).
package main

import (
	"log"
	"runtime"

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
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	// Tables keyed by each GraphQL type's name, which entgql's functions
	// name as its own templates do.
	typeTables := gen.MustParse(gen.NewTemplate("type_tables").Funcs(entgql.TemplateFuncs).
		ParseFiles("ent/template/type_tables.tmpl"))
	err = entc.Generate("./ent/schema", &gen.Config{
		Templates: []*gen.Template{typeTables},
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
