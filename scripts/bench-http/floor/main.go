package main

import (
	"context"
	"database/sql"
	"log"
	"net/http"
	"os"

	_ "github.com/lib/pq"
)

// main serves the floor on ADDR (default 127.0.0.1:8091) over the
// PostgreSQL database at DATABASE_URL, for the prosecution office AGENCY
// (default prosecution-tirane); FLOOR_SHAPE json writes the answer in
// PostgreSQL, rows (the default) in the server; FLOOR_AUDIT=0 leaves the
// audit trail out.
func main() {
	addr := env("ADDR", "127.0.0.1:8091")
	db, err := sql.Open("postgres", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	s, err := New(context.Background(), db, env("AGENCY", "prosecution-tirane"), "bench",
		Shape(env("FLOOR_SHAPE", "rows")), os.Getenv("FLOOR_AUDIT") != "0")
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/graphql", s)
	log.Printf("floor: the allowed page on http://%s/graphql", addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}

func env(name, otherwise string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return otherwise
}
