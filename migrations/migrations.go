// Package migrations holds CaseGraph's versioned schema migrations, one
// directory per dialect, generated from the ent schema by `make migration`
// (cmd/migrategen) and applied by `casegraph migrate` through goose. They are
// embedded in the binary.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"entgo.io/ent/dialect"
	"github.com/pressly/goose/v3"
)

//go:embed postgres sqlite
var files embed.FS

// FS returns the migration files of dialectName (ent's dialect names).
func FS(dialectName string) (fs.FS, error) {
	switch dialectName {
	case dialect.Postgres:
		return fs.Sub(files, "postgres")
	case dialect.SQLite:
		return fs.Sub(files, "sqlite")
	}
	return nil, fmt.Errorf("no migrations for dialect %q", dialectName)
}

// Provider is goose's provider of the migrations of dialectName, SQL files
// and Go migrations both, on db.
func Provider(db *sql.DB, dialectName string) (*goose.Provider, error) {
	fsys, err := FS(dialectName)
	if err != nil {
		return nil, err
	}
	gd := goose.DialectSQLite3
	if dialectName == dialect.Postgres {
		gd = goose.DialectPostgres
	}
	return goose.NewProvider(gd, db, fsys, goose.WithGoMigrations(goMigrations(dialectName)...))
}

// Apply applies every pending migration, each in its own transaction, and
// returns the versions it applied.
func Apply(ctx context.Context, db *sql.DB, dialectName string) ([]int64, error) {
	p, err := Provider(db, dialectName)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("applying migrations: %w", err)
	}
	versions := make([]int64, 0, len(results))
	for _, r := range results {
		versions = append(versions, r.Source.Version)
	}
	return versions, nil
}

// Pending returns how many migrations have not been applied yet.
func Pending(ctx context.Context, db *sql.DB, dialectName string) (int, error) {
	p, err := Provider(db, dialectName)
	if err != nil {
		return 0, err
	}
	statuses, err := p.Status(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range statuses {
		if s.State == goose.StatePending {
			n++
		}
	}
	return n, nil
}
