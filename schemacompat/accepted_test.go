package schemacompat

import (
	"slices"
	"strings"
	"testing"
)

const acceptedDoc = `# Schema changes

Prose, and a table that is not the one:

| date | change | reason |
|---|---|---|
| 2026-01-01 | ` + "`Query.b removed`" + ` | not under the heading |

## Breaking changes accepted

| date | change | reason |
|---|---|---|
| 2026-12-07 | ` + "`Enum CaseStage.FINAL removed`" + ` | merged into CLOSED; a | in the reason is kept |

## After
| 2026-12-08 | ` + "`Query.c removed`" + ` | under another heading |
`

func TestReadAccepted(t *testing.T) {
	got, err := ReadAccepted("doc.md", []byte(acceptedDoc))
	if err != nil {
		t.Fatal(err)
	}
	want := []Accepted{{"2026-12-07", "Enum CaseStage.FINAL removed", "merged into CLOSED; a | in the reason is kept"}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}

	changes := []Change{
		{Breaking, "Enum CaseStage.FINAL", "removed"},
		{Breaking, "Query.b", "removed"},
		{Breaking, "Query.c", "removed"},
		{Dangerous, "Enum CaseStage.NEW", "added"},
	}
	var left []string
	for _, c := range Unaccepted(changes, got) {
		left = append(left, c.String())
	}
	if w := []string{"BREAKING: Query.b removed", "BREAKING: Query.c removed"}; !slices.Equal(left, w) {
		t.Errorf("unaccepted: got %q, want %q", left, w)
	}
}

// TestReadAcceptedRefuses checks that a row is accepted only with a date,
// a change and a reason, and that a document without the heading is an
// error rather than a list of nothing.
func TestReadAcceptedRefuses(t *testing.T) {
	row := "| 2026-12-07 | `Enum CaseStage.FINAL removed` | merged into CLOSED |"
	for _, c := range []struct{ row, want string }{
		{strings.Replace(row, "2026-12-07", "7.12.2026", 1), `the date "7.12.2026" is not YYYY-MM-DD`},
		{strings.Replace(row, "merged into CLOSED", "", 1), "say why it is accepted"},
		{strings.Replace(row, "merged into CLOSED", "<why, and what integrators do instead>", 1), "say why it is accepted"},
		{strings.Replace(row, "`Enum CaseStage.FINAL removed`", "", 1), "no change"},
		{"| 2026-12-07 | `Enum CaseStage.FINAL removed` |", "a row is | date | change | reason |"},
	} {
		doc := AcceptedHeading + "\n\n| date | change | reason |\n|---|---|---|\n" + c.row + "\n"
		if _, err := ReadAccepted("doc.md", []byte(doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error saying %q", c.row, err, c.want)
		}
	}
	if _, err := ReadAccepted("doc.md", []byte("# Schema changes\n")); err == nil {
		t.Error("a document without the heading was read as accepting nothing")
	}
}
