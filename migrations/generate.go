package migrations

import (
	"context"
	"fmt"

	"ariga.io/atlas/sql/migrate"
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
	)
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
