package graph_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/sensitivity"
	"github.com/casegraph/casegraph/viewer"
)

var (
	entGraphOnce sync.Once
	entGraph     *gen.Graph
	entGraphErr  error
)

// loadEntGraph loads the ent schema as entc sees it, annotations included.
func loadEntGraph(t *testing.T) *gen.Graph {
	t.Helper()
	entGraphOnce.Do(func() {
		entGraph, entGraphErr = entc.LoadGraph("../ent/schema", &gen.Config{})
	})
	if entGraphErr != nil {
		t.Fatalf("loading the ent schema: %v", entGraphErr)
	}
	return entGraph
}

// servedSchema is the schema the GraphQL handler serves.
func servedSchema() *ast.Schema {
	return graph.NewExecutableSchema(graph.Config{}).Schema()
}

// gqlTypeName is the GraphQL name of an ent type (CaseFile is Case).
func gqlTypeName(n *gen.Type) string {
	if ant, ok := n.Annotations["EntGQL"].(map[string]any); ok {
		if name, ok := ant["Type"].(string); ok && name != "" {
			return name
		}
	}
	return n.Name
}

func camel(snake string) string {
	parts := strings.Split(snake, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

type sensitiveField struct {
	gqlType, gqlField, entField string
	category                    sensitivity.Category
	orderName                   string
}

// sensitiveFields derives the list of sensitive fields from the ent schema:
// the one place they are declared.
func sensitiveFields(t *testing.T) []sensitiveField {
	t.Helper()
	var out []sensitiveField
	for _, n := range loadEntGraph(t).Nodes {
		for _, f := range n.Fields {
			a, ok, err := sensitivity.FromAnnotations(f.Annotations)
			if err != nil {
				t.Fatalf("%s.%s: %v", n.Name, f.Name, err)
			}
			if ok {
				out = append(out, sensitiveField{gqlTypeName(n), camel(f.Name), f.Name, a.Category, strings.ToUpper(f.Name)})
			}
		}
	}
	if len(out) < 13 {
		t.Fatalf("found only %d sensitive fields in the ent schema; the victim alone has 10", len(out))
	}
	return out
}

// whereFieldsOf lists the ent field names that a where input filters on.
func whereFieldsOf(def *ast.Definition) map[string]bool {
	out := map[string]bool{}
	if def == nil {
		return out
	}
	for _, f := range def.Fields {
		if name, ok := strings.CutSuffix(f.Description, " field predicates"); ok {
			out[name] = true
		}
	}
	return out
}

// TestSensitiveFieldsAgree checks that every field the ent schema declares
// sensitive carries the directive with its category in the served schema,
// is nullable there, and is neither filterable nor orderable; and that no
// field carries the directive without the declaration.
func TestSensitiveFieldsAgree(t *testing.T) {
	s := servedSchema()
	declared := map[string]bool{}
	for _, sf := range sensitiveFields(t) {
		name := sf.gqlType + "." + sf.gqlField
		declared[name] = true
		t.Run(name, func(t *testing.T) {
			obj := s.Types[sf.gqlType]
			if obj == nil {
				t.Fatalf("type %s is not served", sf.gqlType)
			}
			f := obj.Fields.ForName(sf.gqlField)
			if f == nil {
				t.Fatalf("field %s is not served", name)
			}
			if f.Type.NonNull {
				t.Errorf("%s is non-null (%s); a denial would null its parent", name, f.Type)
			}
			d := f.Directives.ForName(sensitivity.DirectiveName)
			if d == nil {
				t.Fatalf("%s has no @%s directive", name, sensitivity.DirectiveName)
			}
			if got := d.Arguments.ForName("category").Value.Raw; got != string(sf.category) {
				t.Errorf("%s: directive category %s, schema declares %s", name, got, sf.category)
			}
			if where := whereFieldsOf(s.Types[sf.gqlType+"WhereInput"]); where[sf.entField] {
				t.Errorf("%s can be filtered on in %sWhereInput", name, sf.gqlType)
			}
			if in := s.Types[sf.gqlType+"WhereInput"]; in != nil {
				for _, inf := range in.Fields {
					if strings.HasPrefix(inf.Name, sf.gqlField) {
						t.Errorf("%sWhereInput has %s, a predicate on a sensitive field", sf.gqlType, inf.Name)
					}
				}
			}
			if order := s.Types[sf.gqlType+"OrderField"]; order != nil {
				for _, v := range order.EnumValues {
					if v.Name == sf.orderName {
						t.Errorf("%s can be ordered by (%s)", name, v.Name)
					}
				}
			}
		})
	}
	for _, def := range s.Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if f.Directives.ForName(sensitivity.DirectiveName) != nil && !declared[def.Name+"."+f.Name] {
				t.Errorf("%s.%s carries @%s but no ent field declares it sensitive", def.Name, f.Name, sensitivity.DirectiveName)
			}
		}
	}
}

// TestFilterableAndOrderableFieldsAreIndexed checks that every field a
// connection can filter or order on, and every foreign key, leads an index.
func TestFilterableAndOrderableFieldsAreIndexed(t *testing.T) {
	s := servedSchema()
	for _, n := range loadEntGraph(t).Nodes {
		leading := map[string]bool{"id": true}
		for _, idx := range n.Indexes {
			leading[idx.Columns[0]] = true
		}
		if n.HasCompositeID() {
			leading[n.EdgeSchema.ID[0].Name] = true
		}
		needs := map[string]string{}
		for name := range whereFieldsOf(s.Types[gqlTypeName(n)+"WhereInput"]) {
			needs[name] = "filterable"
		}
		for _, f := range n.Fields {
			if ant, ok := f.Annotations["EntGQL"].(map[string]any); ok {
				if of, _ := ant["OrderField"].(string); of != "" {
					needs[f.Name] = "orderable"
				}
			}
			if f.IsEdgeField() {
				needs[f.Name] = "a foreign key"
			}
			if f.Unique {
				leading[f.Name] = true
			}
		}
		for field, why := range needs {
			if field == "id" || leading[field] {
				continue
			}
			t.Errorf("%s.%s is %s but no index starts with it", n.Name, field, why)
		}
	}
}

// TestDomainEnumsMatchGraphQL checks that each enumeration of the domain
// package is one GraphQL enum with the same values.
func TestDomainEnumsMatchGraphQL(t *testing.T) {
	s := servedSchema()
	enums := map[string][]string{
		"AgencyKind": domain.AgencyKind("").Values(), "Region": domain.Region("").Values(),
		"Sex": domain.Sex("").Values(), "AgeGroup": domain.AgeGroup("").Values(),
		"IdentificationStatus": domain.IdentificationStatus("").Values(),
		"IdentifyingBody":      domain.IdentifyingBody("").Values(),
		"Exploitation":         domain.Exploitation("").Values(),
		"ReferralStatus":       domain.ReferralStatus("").Values(), "ServiceKind": domain.ServiceKind("").Values(),
		"Article": domain.Article("").Values(), "ProceedingStage": domain.ProceedingStage("").Values(),
		"Verdict": domain.Verdict("").Values(), "SentenceKind": domain.SentenceKind("").Values(),
		"Instance": domain.Instance("").Values(), "CasePart": domain.CasePart("").Values(),
		"ConsentPurpose": domain.ConsentPurpose("").Values(), "ConsentGivenBy": domain.ConsentGivenBy("").Values(),
		"SuspectRole": domain.SuspectRole("").Values(), "CaseEventKind": domain.CaseEventKind("").Values(),
		// The audit trail's kinds and decisions are written by package
		// audit and read back through these enums.
		"AuditEventKind": kinds(), "AuditDecision": {audit.Allowed, audit.Denied},
		// The verifier's kinds of break, read through AuditBreakKind.
		"AuditBreakKind": breakKinds(),
		// The roles a token may name (package viewer), which Viewer.roles
		// answers and explainAccess asks about.
		"Role": roleNames(),
	}
	for name, want := range enums {
		def := s.Types[name]
		if def == nil || def.Kind != ast.Enum {
			t.Errorf("enum %s is not served", name)
			continue
		}
		var got []string
		for _, v := range def.EnumValues {
			got = append(got, v.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("enum %s: GraphQL has %v, domain has %v", name, got, want)
		}
	}
	for name, def := range s.Types {
		if def.Kind == ast.Enum && strings.HasPrefix(name, "Case") && strings.HasSuffix(name, "Stage") && name != "ProceedingStage" {
			t.Errorf("enum %s duplicates ProceedingStage", name)
		}
	}
}

func roleNames() []string {
	out := make([]string, len(viewer.Roles))
	for i, r := range viewer.Roles {
		out[i] = string(r)
	}
	return out
}

func breakKinds() []string {
	out := make([]string, len(audit.BreakKinds))
	for i, k := range audit.BreakKinds {
		out[i] = string(k)
	}
	return out
}

func kinds() []string {
	out := make([]string, len(audit.Kinds))
	for i, k := range audit.Kinds {
		out[i] = string(k)
	}
	return out
}

// TestAuditBreakKindsSayTheVerifiersBounds: the schema's words for
// DATED_IN_FUTURE name the skew the verifier allows (audit.ClockSkew).
// They said "plus a minute" for a day from 2026-12-06 until the DPO's
// hunt (twenty-sixth session): a DPO told an event dated ten minutes
// ahead breaks the chain looked for a break verify never reports.
func TestAuditBreakKindsSayTheVerifiersBounds(t *testing.T) {
	words := map[time.Duration]string{time.Minute: "a minute", time.Hour: "an hour", 24 * time.Hour: "a day"}[audit.ClockSkew]
	if words == "" {
		t.Fatalf("audit.ClockSkew is %v: say it in words here", audit.ClockSkew)
	}
	def := servedSchema().Types["AuditBreakKind"]
	for _, v := range def.EnumValues {
		if v.Name == string(audit.BreakDatedInFuture) && !strings.Contains(v.Description, "more than "+words) {
			t.Errorf("AuditBreakKind.%s says %q, want it to say more than %s (audit.ClockSkew)", v.Name, v.Description, words)
		}
	}
}
