package migrations

import (
	"context"
	"fmt"
	"slices"

	"ariga.io/atlas/sql/migrate"
	atlas "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/casegraph/casegraph/ent"
)

// Diff writes to dir a new migration named name that brings the state of
// the migrations already in dir to the current ent schema, in goose's
// format, for the dialect of client. client must be an empty database: the
// existing migrations are replayed on it first. It writes nothing when the
// migrations are up to date.
func Diff(ctx context.Context, client *ent.Client, dialectName, dir, name string) error {
	d, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return fmt.Errorf("opening migration directory: %w", err)
	}
	return client.Schema.NamedDiff(ctx, name,
		schema.WithDir(d),
		schema.WithDialect(dialectName),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithFormatter(sqltool.GooseFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithDiffHook(keepHandWrittenIndexes),
	)
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
