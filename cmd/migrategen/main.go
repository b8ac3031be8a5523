// Command migrategen writes a new versioned migration for each dialect from
// the difference between the committed migrations and the ent schema:
//
//	go run ./cmd/migrategen -name add_something
//
// Both files take one version, one second after the latest committed
// migration, or the clock's when that is later (migrations.NextVersion).
//
// SQLite needs nothing; PostgreSQL needs a server where it may create and
// drop a scratch database (DEV_DATABASE_URL, default the local one).
//
//	go run ./cmd/migrategen -by-hand -name add_a_trigger
//
// starts a migration written by hand instead (what ent does not model): an
// empty file in each folder, under the same version, and the sums rewritten.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/migrations"
)

func main() {
	name := flag.String("name", "", "name of the migration (lower_snake)")
	rehash := flag.Bool("rehash", false, "only rewrite atlas.sum after adding a hand-written migration")
	byHand := flag.Bool("by-hand", false, "write an empty migration to fill in by hand, in each dialect's folder, instead of the diff")
	flag.Parse()
	if *rehash {
		for _, dir := range []string{"migrations/sqlite", "migrations/postgres"} {
			if err := migrations.Rehash(dir); err != nil {
				log.Fatalf("migrategen: %v", err)
			}
		}
		return
	}
	if *name == "" {
		log.Fatal("migrategen: -name is required")
	}
	if *byHand {
		written, err := migrations.WriteByHand(time.Now(), *name, "migrations/sqlite", "migrations/postgres")
		for _, f := range written {
			fmt.Println(f)
		}
		if err != nil {
			log.Fatalf("migrategen: %v", err)
		}
		return
	}
	ctx := context.Background()
	// One version for both dialects, after every committed migration.
	version, err := migrations.NextVersion(time.Now(), "migrations/sqlite", "migrations/postgres")
	if err != nil {
		log.Fatalf("migrategen: %v", err)
	}
	if err := sqlite(ctx, version, *name); err != nil {
		log.Fatalf("migrategen: sqlite: %v", err)
	}
	if err := postgres(ctx, version, *name); err != nil {
		log.Fatalf("migrategen: postgres: %v", err)
	}
}

func sqlite(ctx context.Context, version, name string) error {
	db, err := database.OpenSQLiteMemory(ctx, "migrategen")
	if err != nil {
		return err
	}
	defer db.Close()
	return migrations.Diff(ctx, db.Client, dialect.SQLite, "migrations/sqlite", version, name)
}

func postgres(ctx context.Context, version, name string) error {
	base := os.Getenv("DEV_DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return err
	}
	defer admin.Close()
	scratch := fmt.Sprintf("casegraph_migrategen_%d", os.Getpid())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+scratch); err != nil {
		return err
	}
	defer admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+scratch+" WITH (FORCE)")
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	u.Path = "/" + scratch
	db, err := database.OpenPostgres(ctx, u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	return migrations.Diff(ctx, db.Client, dialect.Postgres, "migrations/postgres", version, name)
}
