package migrations

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"ariga.io/atlas/sql/migrate"
	atlas "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/casegraph/casegraph/ent"
)

// Diff writes to dir a new migration numbered version (NextVersion) and
// named name that brings the state of the migrations already in dir to the
// current ent schema, in goose's format, for the dialect of client. client
// must be an empty database: the existing migrations are replayed on it
// first. It writes nothing when the migrations are up to date.
func Diff(ctx context.Context, client *ent.Client, dialectName, dir, version, name string) error {
	d, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return fmt.Errorf("opening migration directory: %w", err)
	}
	return client.Schema.NamedDiff(ctx, name,
		schema.WithDir(d),
		schema.WithDialect(dialectName),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithFormatter(numbered{sqltool.GooseFormatter, version}),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithDiffHook(keepHandWrittenIndexes),
	)
}

// versionLayout is goose's version of a migration file: its UTC time to
// the second, as the clock names it.
const versionLayout = "20060102150405"

// NextVersion is the version of a new migration: now's, or, when a
// committed migration (a file of one of dirs, or a migration written in Go)
// is numbered at or after it, one second after the latest of them. goose
// refuses, on a database already past it, a migration numbered below the
// last one applied, and the committed versions may lie ahead of the clock
// (they run to 2026-12-16 while written on 2026-12-07): named by the clock
// alone, a new migration sorted before them and a database migrated by the
// last release would not take it. Both dialects' files take the same
// version, from both folders.
func NextVersion(now time.Time, dirs ...string) (string, error) {
	latest := int64(0)
	for _, m := range goMigrations(dialect.SQLite) {
		latest = max(latest, m.Version)
	}
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
		if err != nil {
			return "", err
		}
		if len(files) == 0 {
			if _, err := os.Stat(dir); err != nil {
				return "", fmt.Errorf("reading the migrations: %w", err)
			}
		}
		for _, f := range files {
			prefix, _, _ := strings.Cut(filepath.Base(f), "_")
			v, err := strconv.ParseInt(prefix, 10, 64)
			if err != nil {
				return "", fmt.Errorf("%s: not numbered as goose numbers a migration (%s)", f, versionLayout)
			}
			latest = max(latest, v)
		}
	}
	next := now.UTC().Truncate(time.Second)
	if latest > 0 {
		t, err := time.Parse(versionLayout, strconv.FormatInt(latest, 10))
		if err != nil {
			return "", fmt.Errorf("the latest migration's version %d is not a time (%s): %w", latest, versionLayout, err)
		}
		if !next.After(t) {
			next = t.Add(time.Second)
		}
	}
	return next.Format(versionLayout), nil
}

// numbered names the files of a migration by version instead of by the
// clock, as GooseFormatter does.
type numbered struct {
	migrate.Formatter
	version string
}

func (n numbered) Format(p *migrate.Plan) ([]migrate.File, error) {
	files, err := n.Formatter.Format(p)
	if err != nil {
		return nil, err
	}
	for i, f := range files {
		rest := strings.TrimLeft(f.Name(), "0123456789")
		files[i] = migrate.NewLocalFile(n.version+rest, f.Bytes())
	}
	return files, nil
}

// handWrittenIndexes are indexes the migrations create by hand, on what
// ent does not model (an expression): the diff would drop them.
var handWrittenIndexes = map[string]bool{
	"audit_events_field_names": true, // 20261211090003, PostgreSQL
}

// keepHandWrittenIndexes takes out of the diff the dropping of a
// hand-written index.
func keepHandWrittenIndexes(next schema.Differ) schema.Differ {
	return schema.DiffFunc(func(current, desired *atlas.Schema) ([]atlas.Change, error) {
		changes, err := next.Diff(current, desired)
		if err != nil {
			return nil, err
		}
		kept := changes[:0]
		for _, c := range changes {
			if m, ok := c.(*atlas.ModifyTable); ok {
				m.Changes = slices.DeleteFunc(m.Changes, func(c atlas.Change) bool {
					d, ok := c.(*atlas.DropIndex)
					return ok && handWrittenIndexes[d.I.Name]
				})
				if len(m.Changes) == 0 {
					continue
				}
			}
			kept = append(kept, c)
		}
		return kept, nil
	})
}

// Rehash rewrites dir's atlas.sum after a hand-written migration (a trigger,
// which ent does not model) was added: Diff refuses a directory whose files
// do not match their sums.
func Rehash(dir string) error {
	d, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return fmt.Errorf("opening migration directory: %w", err)
	}
	sum, err := d.Checksum()
	if err != nil {
		return fmt.Errorf("summing %s: %w", dir, err)
	}
	return migrate.WriteSumFile(d, sum)
}

// byHandName is a migration's name as `make migration` takes it: lower
// snake case, so that the file name says what it does and sorts by version.
var byHandName = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// WriteByHand starts a migration written by hand (a trigger, a backfill:
// what ent does not model) in each of dirs, one file a dialect folder, all
// numbered with one version after every committed migration (NextVersion),
// and rewrites each folder's atlas.sum so that the next `make migration`
// takes the folder. The files hold goose's Up and Down markers and a
// comment to fill in; after editing them, `make migration-sums`. It
// returns the files written, and writes nothing when name is not lower
// snake case or a file of that name would be replaced.
func WriteByHand(now time.Time, name string, dirs ...string) ([]string, error) {
	if !byHandName.MatchString(name) {
		return nil, fmt.Errorf("the name %q is not lower_snake_case (letters, digits and single underscores, a letter first)", name)
	}
	version, err := NextVersion(now, dirs...)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(dirs))
	for i, dir := range dirs {
		paths[i] = filepath.Join(dir, version+"_"+name+".sql")
		if _, err := os.Stat(paths[i]); err == nil {
			return nil, fmt.Errorf("%s exists already", paths[i])
		}
	}
	const body = "-- What this migration does and why ent cannot write it. Hand-written:\n" +
		"-- after editing, `make migration-sums`.\n" +
		"-- +goose Up\n\n" +
		"-- +goose Down\n"
	for i, path := range paths {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			return paths[:i], err
		}
		if err := Rehash(dirs[i]); err != nil {
			return paths[:i+1], err
		}
	}
	return paths, nil
}
