package statistics

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// griddedDatasets are the Datasets with grids, which the tests of grids
// read; TestGridsAreDocumented fails for one the source has and this list
// does not.
var griddedDatasets = []Dataset{Victims, Referrals}

// TestGridsAreDocumented holds the table of docs/statistics.md's "Grids"
// to the grids the code serves: one row a table of people, its grids in
// the order of Dataset.grids, each its dimensions joined by "with" (words
// in brackets are the table's own). The Datasets with grids are found in
// the package's source, so a new one fails here until it has its row.
func TestGridsAreDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/statistics.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][][]string{} // table → its grids
	var order []string                    // the tables, as the rows name them
	inGrids, inTable := false, false
	brackets := regexp.MustCompile(`\([^)]*\)`)
	for line := range strings.Lines(string(doc)) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#"):
			inGrids = strings.HasPrefix(line, "### Grids")
		case inGrids && line == "| table | grids |":
			inTable = true
		case inTable && strings.HasPrefix(line, "|---"):
		case inTable && strings.HasPrefix(line, "|"):
			cells := strings.Split(strings.Trim(line, "|"), "|")
			if len(cells) != 2 {
				t.Fatalf("docs/statistics.md, Grids: a row of %d cells: %s", len(cells), line)
			}
			name := strings.TrimSpace(cells[0])
			for _, g := range strings.Split(brackets.ReplaceAllString(cells[1], ""), ";") {
				documented[name] = append(documented[name], strings.Fields(strings.ReplaceAll(g, " with ", " ")))
			}
			order = append(order, name)
		default:
			inTable = false
		}
	}
	if len(order) == 0 {
		t.Fatal(`docs/statistics.md has no table "| table | grids |" under its heading "Grids"`)
	}
	served := map[string]Dataset{}
	for _, d := range griddedDatasets {
		served[d.name] = d
	}
	for _, name := range datasetsWithGrids(t) {
		d, ok := served[name]
		if !ok {
			t.Errorf("the Dataset %q has grids the tests of grids do not read: add it to griddedDatasets", name)
			continue
		}
		if !slices.EqualFunc(documented[name], d.grids, slices.Equal[[]string]) {
			t.Errorf("docs/statistics.md, Grids: the row of %s lists %v; the code serves %v", name, documented[name], d.grids)
		}
		delete(documented, name)
	}
	for name := range documented {
		t.Errorf("docs/statistics.md, Grids: a row for %s, a table the code serves no grids of", name)
	}
}

// datasetsWithGrids are the names of the Datasets the package's source
// writes with grids.
func datasetsWithGrids(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if id, ok := lit.Type.(*ast.Ident); !ok || id.Name != "Dataset" {
				return true
			}
			name, grids := "", false
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				switch key, _ := kv.Key.(*ast.Ident); {
				case key == nil:
				case key.Name == "grids":
					grids = true
				case key.Name == "name":
					if b, ok := kv.Value.(*ast.BasicLit); ok {
						name, _ = strconv.Unquote(b.Value)
					}
				}
			}
			if grids {
				names = append(names, name)
			}
			return true
		})
	}
	if len(names) == 0 {
		t.Fatal("no Dataset with grids found in the package's source")
	}
	return names
}
