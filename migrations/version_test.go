package migrations_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/casegraph/casegraph/migrations"
)

// TestNextVersionSortsLast: `make migration` numbers a new migration after
// every committed one of both folders (and the Go ones), even when they are
// dated ahead of the clock, and by the clock when it is later.
func TestNextVersionSortsLast(t *testing.T) {
	fixture := func(names ...string) string {
		dir := t.TempDir()
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("-- +goose Up\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	sqlite := fixture("20261127100523_init.sql", "20261216090000_last.sql", "atlas.sum")
	postgres := fixture("20261127100530_init.sql", "20261216090002_last.sql", "atlas.sum")
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, c := range []struct {
		name string
		now  time.Time
		dirs []string
		want string
	}{
		{"the clock before the committed: one second after the latest", at("2026-12-07T17:30:28Z"), []string{sqlite}, "20261216090001"},
		{"the latest of both folders", at("2026-12-07T17:30:28Z"), []string{sqlite, postgres}, "20261216090003"},
		{"the clock at the latest", at("2026-12-16T09:00:02Z"), []string{sqlite, postgres}, "20261216090003"},
		{"the clock after the committed", at("2026-12-20T08:15:00.7+01:00"), []string{sqlite, postgres}, "20261220071500"},
		{"a second across the minute", at("2026-12-07T00:00:00Z"), []string{fixture("20261231235959_x.sql")}, "20270101000000"},
		// The Go migrations (20261215090001) count too.
		{"an empty folder", at("2026-12-07T17:30:28Z"), []string{fixture()}, "20261215090002"},
	} {
		got, err := migrations.NextVersion(c.now, c.dirs...)
		if err != nil || got != c.want {
			t.Errorf("%s: NextVersion = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if _, err := migrations.NextVersion(time.Now(), fixture("init.sql")); err == nil {
		t.Error("a file not numbered as goose numbers one was taken")
	}
	if _, err := migrations.NextVersion(time.Now(), filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a folder that does not exist was taken as empty")
	}
	// The committed folders: after each of their files.
	got, err := migrations.NextVersion(time.Now(), "sqlite", "postgres")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"sqlite", "postgres"} {
		for _, f := range sqlFiles(t, dir) {
			if filepath.Base(f) >= got {
				t.Errorf("the next version %s sorts before the committed %s", got, f)
			}
		}
	}
}
