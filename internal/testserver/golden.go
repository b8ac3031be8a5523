package testserver

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is the -update flag of every test binary that uses golden files:
// `go test ./authz -update` rewrites them instead of comparing.
var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Updating reports whether the test binary runs with -update, for tests
// that rewrite a golden file of their own shape (a README section).
func Updating() bool { return *update }

// Golden compares got with the file at path; with -update it rewrites the
// file instead.
func Golden(tb testing.TB, path, got string) {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("reading the golden file (rewrite it with -update): %v", err)
	}
	if got != string(want) {
		tb.Errorf("output differs from %s (check, then rewrite with -update):\n--- got\n%s--- want\n%s", path, got, want)
	}
}
