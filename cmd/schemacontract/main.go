// Command schemacontract publishes the GraphQL schema CaseGraph serves as
// schema.published.graphql, its contract with clients, and refuses to
// publish a change that breaks them unless docs/schema-changes.md lists it
// with a reason (docs/schema-changes.md says what breaks a client):
//
//	go run ./cmd/schemacontract               # publish; go generate runs it last
//	go run ./cmd/schemacontract diff OLD NEW  # every change from one contract to another
//
// It reads the schema as gqlgen does (the files gqlgen.yml names, which
// the executor serves as they are), so it runs after gqlgen and needs no
// compiled server. A refusal leaves the published file as it was and exits
// 1; diff exits 1 when a change breaks clients.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/99designs/gqlgen/codegen/config"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/schemacompat"
)

const (
	publishedFile = "schema.published.graphql"
	changesFile   = "docs/schema-changes.md"
)

func main() {
	var err error
	switch args := os.Args[1:]; {
	case len(args) == 0:
		err = publish()
	case len(args) == 3 && args[0] == "diff":
		err = diff(args[1], args[2])
	default:
		fmt.Fprintln(os.Stderr, "usage: schemacontract [diff OLD NEW]")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemacontract:", err)
		os.Exit(1)
	}
}

func publish() error {
	// Moves to the module root, where gqlgen.yml is.
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		return err
	}
	served, err := gqlparser.LoadSchema(cfg.Sources...)
	if err != nil {
		return err
	}
	next := schemacompat.Print(served)
	prev, err := os.ReadFile(publishedFile)
	if errors.Is(err, fs.ErrNotExist) {
		return os.WriteFile(publishedFile, next, 0o644)
	}
	if err != nil {
		return err
	}
	accepted, err := readAccepted()
	if err != nil {
		return err
	}
	if bytes.Equal(prev, next) {
		return nil
	}
	old, err := schemacompat.Parse(publishedFile, prev)
	if err != nil {
		return fmt.Errorf("%w\n(restore %s from git: it is only ever written by make generate)", err, publishedFile)
	}
	now, err := schemacompat.Parse(publishedFile, next)
	if err != nil {
		return fmt.Errorf("the published form of the schema does not parse: %w", err)
	}
	changes := schemacompat.Compare(old, now)
	if refused := schemacompat.Unaccepted(changes, accepted); len(refused) > 0 {
		for _, c := range refused {
			fmt.Fprintf(os.Stderr, "%s; list it in %s with a reason to publish it\n", c, changesFile)
		}
		fmt.Fprintf(os.Stderr, "\nClients built against %s break. If that is meant, add a row for each to the table under %q in %s, saying why and what integrators do instead:\n\n",
			publishedFile, schemacompat.AcceptedHeading, changesFile)
		for _, c := range refused {
			fmt.Fprintf(os.Stderr, "| %s | `%s` | <why, and what integrators do instead> |\n", time.Now().Format(time.DateOnly), c.Text())
		}
		fmt.Fprintln(os.Stderr)
		return fmt.Errorf("%s not rewritten: %d breaking change(s) not accepted", publishedFile, len(refused))
	}
	for _, c := range changes {
		if c.Level == schemacompat.Dangerous {
			fmt.Fprintf(os.Stderr, "schemacontract: published, tell integrators: %s\n", c)
		}
	}
	return os.WriteFile(publishedFile, next, 0o644)
}

func readAccepted() ([]schemacompat.Accepted, error) {
	doc, err := os.ReadFile(changesFile)
	if err != nil {
		return nil, err
	}
	return schemacompat.ReadAccepted(changesFile, doc)
}

// diff prints every change from the contract in file a to that in file b,
// one a line, and fails when one breaks clients.
func diff(a, b string) error {
	old, err := parseFile(a)
	if err != nil {
		return err
	}
	now, err := parseFile(b)
	if err != nil {
		return err
	}
	changes := schemacompat.Compare(old, now)
	for _, c := range changes {
		fmt.Println(c)
	}
	if n := len(schemacompat.BreakingOf(changes)); n > 0 {
		return fmt.Errorf("%d breaking change(s) from %s to %s", n, a, b)
	}
	return nil
}

func parseFile(name string) (*ast.Schema, error) {
	src, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return schemacompat.Parse(name, src)
}
