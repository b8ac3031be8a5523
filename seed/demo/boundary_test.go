package demo_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlyTheBinaryImportsTheDemo keeps the simulator apart from what
// production runs: besides tests and the packages that exist only for them
// (internal/testdb, internal/testserver), only cmd/casegraph (for `seed
// --demo` and `serve --seed-demo-if-empty`) may import package demo.
func TestOnlyTheBinaryImportsTheDemo(t *testing.T) {
	const demoPath = "github.com/casegraph/casegraph/seed/demo"
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		switch dir {
		case filepath.Join("cmd", "casegraph"), filepath.Join("seed", "demo"),
			filepath.Join("internal", "testdb"), filepath.Join("internal", "testserver"):
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == demoPath {
				t.Errorf("%s imports the demo simulator; only cmd/casegraph and tests may", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
