package docs_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxTrackedBytes bounds a file the repository holds: the largest it
// holds on purpose (graph/generated.go, GraphiQL's script) are under
// 2 MB; past 4 MiB a file is a build's output or data that belongs
// elsewhere.
const maxTrackedBytes = 4 << 20

// TestRepositoryHoldsNoBuiltProgram: no file git tracks is a compiled
// program (ELF, Mach-O, or a universal or Java class file by the same
// magic) or over maxTrackedBytes. The twenty-fifth session's `make
// migration-by-hand` commit carried a 46 MB migrategen
// binary that `go build ./cmd/migrategen` had left at the root, which
// .gitignore did not name, and no test said so; it was taken out by
// rewriting main's history (twenty-fifth session (2026-12-07), a review).
func TestRepositoryHoldsNoBuiltProgram(t *testing.T) {
	out, err := exec.Command("git", "-C", "..", "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git work tree here (git ls-files: %v): nothing to check", err)
	}
	for name := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
		path := filepath.Join("..", name)
		info, err := os.Lstat(path)
		if err != nil || !info.Mode().IsRegular() {
			continue // removed in the work tree, or a link
		}
		if info.Size() > maxTrackedBytes {
			t.Errorf("%s is tracked and holds %d bytes, more than %d: a build's output or data does not belong in the repository", name, info.Size(), maxTrackedBytes)
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 4)
		n, _ := f.Read(head)
		f.Close()
		for _, magic := range [][]byte{{0x7f, 'E', 'L', 'F'}, {0xcf, 0xfa, 0xed, 0xfe}, {0xce, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe}} {
			if bytes.Equal(head[:n], magic) {
				t.Errorf("%s is tracked and is a compiled program: remove it (git rm --cached) and ignore it in .gitignore", name)
			}
		}
	}
}
