package audit

import (
	"slices"
	"testing"
)

// TestDefuse: a CSV cell a spreadsheet would run as a formula gets a
// leading ', and so does one that starts with ' already, so that removing
// one leading ' from any cell that has it gives the value back.
func TestDefuse(t *testing.T) {
	values := []string{"=SUM(A1)", "+1", "-1", "@x", "\tx", "'quoted", "''", "plain", ""}
	want := []string{"'=SUM(A1)", "'+1", "'-1", "'@x", "'\tx", "''quoted", "'''", "plain", ""}
	got := defuse(slices.Clone(values))
	if !slices.Equal(got, want) {
		t.Fatalf("defuse(%q) = %q, want %q", values, got, want)
	}
	for i, c := range got {
		back := c
		if len(c) > 0 && c[0] == '\'' {
			back = c[1:]
		}
		if back != values[i] {
			t.Errorf("%q read back as %q, want %q", c, back, values[i])
		}
	}
}
