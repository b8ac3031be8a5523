package migrations

import (
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
)

// TestNumberedNamesByVersion: the files Diff writes are numbered by the
// version given, not by the clock, with goose's name and content.
func TestNumberedNamesByVersion(t *testing.T) {
	plan := &migrate.Plan{Name: "add_case_notes", Changes: []*migrate.Change{{Cmd: "CREATE TABLE case_notes (id integer)", Reverse: "DROP TABLE case_notes"}}}
	files, err := numbered{sqltool.GooseFormatter, "20261216090001"}.Format(plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Name() != "20261216090001_add_case_notes.sql" {
		t.Fatalf("files %v, want one named 20261216090001_add_case_notes.sql", files)
	}
	if b := string(files[0].Bytes()); !strings.Contains(b, "-- +goose Up\nCREATE TABLE case_notes (id integer);") || !strings.Contains(b, "-- +goose Down\nDROP TABLE case_notes;") {
		t.Errorf("not goose's content:\n%s", b)
	}
}
