//go:build ignore

// entc.go generates the ent client and the GraphQL schema of the data model
// (graph/ent.graphqls). Run through `go generate ./...` (see generate.go).
package main

import (
	"bytes"
	"fmt"
	"iter"
	"log"
	"runtime"
	"slices"
	"text/template/parse"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/internal/gqlname"
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
		entgql.WithSchemaHook(sensitiveFieldsNullable, pageFiltersOnly, describeConnectionsBeside),
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
		Hooks: []gen.Hook{nameDomainEnums, connectionsBeside, edgesNotFilterable},
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
	// The annotations of ent/schema (schema.ConnectionBeside,
	// schema.FilteredPage), by their names.
	connectionBesideAnnotation = "CaseGraphConnectionBeside"
	filteredPageAnnotation     = "CaseGraphFilteredPage"
)

// connectionsBeside adds, for each list edge annotated
// schema.ConnectionBeside, a second edge over the same join table, named
// as the annotation says and served as a Relay connection: the list keeps
// its type for the clients that read it (a list made a connection breaks
// them: docs/schema-changes.md), and the connection is eager-loaded and
// paged as every other, one statement a level (a page of it under a list
// of parents through limitPerRowInOrder), because entgql's collection
// knows it as an edge. A field written by hand beside the list would be
// loaded a parent at a time. ent refuses two edges through one edge
// schema in a schema (it would not know which one a link written through
// the edge schema is of); the second edge here is never written (it is
// kept out of every mutation input, and nothing in casework sets it), so
// it only reads the links the first one writes. The list may be either
// side of the join (Prosecution.defendants, or Suspect.prosecutions, its
// inverse): the twin is a copy of it, so it reads the links from the same
// side.
func connectionsBeside(next gen.Generator) gen.Generator {
	return gen.GenerateFunc(func(g *gen.Graph) error {
		for b := range listsWithConnectionBeside(g) {
			n, e := b.owner, b.list
			if b.name == "" || e.Unique || !e.M2M() || hasEdge(n, b.name) {
				return fmt.Errorf("%s.%s: a connection beside it needs a new name and a many-to-many edge", n.Name, e.Name)
			}
			twin := *e
			twin.Name = b.name
			twin.StructTag = fmt.Sprintf(`json:"%s,omitempty"`, b.name)
			twin.Annotations = gen.Annotations{}
			for k, v := range e.Annotations {
				if k != connectionBesideAnnotation && k != entgqlAnnotation {
					twin.Annotations[k] = v
				}
			}
			// The connection takes the list's GraphQL annotation but for
			// its shape and its directives (the list's deprecation), and
			// is in no mutation input.
			gql := map[string]any{}
			if list, ok := e.Annotations[entgqlAnnotation].(map[string]any); ok {
				for k, v := range list {
					gql[k] = v
				}
			}
			delete(gql, "Directives")
			gql["RelayConnection"] = true
			skip, _ := gql["Skip"].(float64)
			gql["Skip"] = float64(int(skip) | int(entgql.SkipMutationCreateInput|entgql.SkipMutationUpdateInput))
			twin.Annotations[entgqlAnnotation] = gql
			n.Edges = append(n.Edges, &twin)
		}
		return next.Generate(g)
	})
}

// listWithConnectionBeside is a list edge annotated
// schema.ConnectionBeside, with what the annotation says: the name in ent
// of the connection served beside it, and the connection's description.
type listWithConnectionBeside struct {
	owner             *gen.Type
	list              *gen.Edge
	name, description string
}

// listsWithConnectionBeside yields every list edge of g annotated
// schema.ConnectionBeside, the one walk of the annotation that
// connectionsBeside (which adds the connections) and
// describeConnectionsBeside (which describes them in the GraphQL schema)
// both read, so that they cannot disagree on which edges it names. The
// connections added carry no such annotation, so they are not yielded
// even when added during the walk.
func listsWithConnectionBeside(g *gen.Graph) iter.Seq[listWithConnectionBeside] {
	return func(yield func(listWithConnectionBeside) bool) {
		for _, n := range g.Nodes {
			for _, e := range n.Edges {
				ant, ok := e.Annotations[connectionBesideAnnotation].(map[string]any)
				if !ok || e.Type.IsEdgeSchema() {
					// ent gives the edge to the join table's rows
					// (defendant_links) the annotations of the edge.
					continue
				}
				name, _ := ant["edge"].(string)
				description, _ := ant["description"].(string)
				if !yield(listWithConnectionBeside{owner: n, list: e, name: name, description: description}) {
					return
				}
			}
		}
	}
}

func hasEdge(n *gen.Type, name string) bool {
	for _, e := range n.Edges {
		if e.Name == name {
			return true
		}
	}
	return false
}

// edgesNotFilterable keeps every edge out of the generated where inputs
// (hasVictims, hasCasesWith…). Their SQL subqueries do not pass through the
// privacy rules that limit rows, so a filter through an edge would match
// visible rows by the attributes of rows the caller may not see: an oracle.
// entgql reads one annotation for both the owner's hasEdge filters and the
// where of the edge's own connection, so an edge annotated
// schema.FilteredPage keeps it, for its connection to take a where (a
// case's prosecutions, by deadline), and pageFiltersOnly takes its
// hasEdge filters out of the GraphQL schema.
func edgesNotFilterable(next gen.Generator) gen.Generator {
	return gen.GenerateFunc(func(g *gen.Graph) error {
		for _, n := range g.Nodes {
			for _, e := range n.Edges {
				if e.Annotations == nil {
					e.Annotations = gen.Annotations{}
				}
				if _, filtered := e.Annotations[filteredPageAnnotation]; filtered {
					continue
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

// pageFiltersOnly takes out of the owner's where input the filters through
// an edge annotated schema.FilteredPage (hasProsecutions,
// hasProsecutionsWith on CaseWhereInput), which entgql writes beside the
// where of the edge's connection: the filters the connection takes are of
// its own records' fields, the root list's, which see only the rows the
// caller may see; a filter through the edge would not (edgesNotFilterable).
// The generated Go where input keeps the fields, which nothing a client
// sends can set. A filter this does not find stops the generation: entgql
// names them otherwise now, and they must not be published.
func pageFiltersOnly(g *gen.Graph, s *ast.Schema) error {
	for _, n := range g.Nodes {
		for _, e := range n.Edges {
			if _, filtered := e.Annotations[filteredPageAnnotation]; !filtered {
				continue
			}
			input := s.Types[gqlTypeName(n)+"WhereInput"]
			if input == nil {
				return fmt.Errorf("%s.%s: no where input %sWhereInput to take its edge filters out of", n.Name, e.Name, gqlTypeName(n))
			}
			for _, name := range []string{gqlname.Of("has_" + e.Name), gqlname.Of("has_" + e.Name + "_with")} {
				i := slices.IndexFunc(input.Fields, func(f *ast.FieldDefinition) bool { return f.Name == name })
				if i < 0 {
					return fmt.Errorf("%s.%s: %s has no filter %s to take out", n.Name, e.Name, input.Name, name)
				}
				input.Fields = slices.Delete(input.Fields, i, i+1)
			}
		}
	}
	return nil
}

// describeConnectionsBeside gives each connection connectionsBeside added
// the description of its annotation (ent's comment of an edge is the
// list's, which both edges share).
func describeConnectionsBeside(g *gen.Graph, s *ast.Schema) error {
	for b := range listsWithConnectionBeside(g) {
		var field *ast.FieldDefinition
		if def := s.Types[gqlTypeName(b.owner)]; def != nil {
			field = def.Fields.ForName(gqlname.Of(b.name))
		}
		if field == nil {
			return fmt.Errorf("%s.%s: no field %s in the GraphQL schema to describe", b.owner.Name, b.list.Name, gqlname.Of(b.name))
		}
		field.Description = b.description
	}
	return nil
}

// gqlTypeName is the GraphQL name of the type of n (Case for CaseFile).
func gqlTypeName(n *gen.Type) string {
	if ant, ok := n.Annotations[entgqlAnnotation].(map[string]any); ok {
		if name, _ := ant["Type"].(string); name != "" {
			return name
		}
	}
	return n.Name
}
