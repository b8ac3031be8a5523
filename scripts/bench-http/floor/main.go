package main

import (
	"context"
	"database/sql"
	"log"
	"net"
	"net/http"
	"os"

	_ "github.com/lib/pq"
)

// main serves the floor on ADDR (default 127.0.0.1:8091, loopback only)
// over the PostgreSQL database at FLOOR_DATABASE_URL, for the prosecution office AGENCY
// (default prosecution-tirane); FLOOR_SHAPE json writes the answer in
// PostgreSQL, rows (the default) in the server; FLOOR_TRAIL records (the
// default, CaseGraph's shape) or array says how an event holds its
// records (Trail); FLOOR_AUDIT=0 leaves the audit trail out.
func main() {
	// The floor shows legal names to whoever asks, with no token: it serves
	// the loopback interface only, and it reads a variable of its own, not
	// the DATABASE_URL a shell may hold for a real server.
	addr := env("ADDR", "127.0.0.1:8091")
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("ADDR %q: the floor serves a loopback address only (127.0.0.1:PORT)", addr)
	}
	url := os.Getenv("FLOOR_DATABASE_URL")
	if url == "" {
		log.Fatal("FLOOR_DATABASE_URL: the benchmark's database (make bench-http sets it)")
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	trail := Trail(env("FLOOR_TRAIL", "records"))
	if os.Getenv("FLOOR_AUDIT") == "0" {
		trail = "none"
	}
	s, err := New(context.Background(), db, env("AGENCY", "prosecution-tirane"), "bench",
		Shape(env("FLOOR_SHAPE", "rows")), trail)
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/graphql", s)
	// Listening before the line run.sh waits for: the line means it answers.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("floor: the allowed page on http://%s/graphql", addr)
	log.Fatal(http.Serve(l, nil))
}

func env(name, otherwise string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return otherwise
}
