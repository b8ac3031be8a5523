// Command gqlgenerate runs gqlgen (gqlgen.yml at the module root) with one
// change to the executor it writes: every field of a request is resolved
// in order on the request's own goroutine, instead of a goroutine for each
// resolver field and each element of a list.
//
// Why: CaseGraph's resolvers do not wait on each other. A page's edges are
// loaded by ent's eager loading, one statement a level, before their
// fields are resolved, and the access facts are fetched once a request; so
// what gqlgen's goroutines bought was nothing, and what they cost was most
// of a page's executor time on this two-core server (a goroutine for each
// of the page's hundreds of objects, each growing its stack through the
// field middleware: runtime.newstack and copystack were 11 % of the CPU
// profile, docs/performance.md). One goroutine a request also means that a
// request uses one core at the most, so a heavy page cannot take both
// cores from everyone else.
//
// Two steps do it:
//   - the plugin sequential marks every object of the schema as not
//     concurrent, which gqlgen honours for an object's fields (it does so
//     itself for the Mutation type, whose fields run in order by the
//     GraphQL specification);
//   - gqlgen has no such setting for the rest, so the written file is
//     then rewritten by the table inOrder: lists are marshalled by
//     graph's marshalListInOrder, which has the signature and contract of
//     gqlgen's graphql.MarshalSliceConcurrently, and an object no longer
//     prepares a group for its deferred fields, which only concurrent
//     fields fill (preparing it computed the object's path, about 10,000
//     allocations a dashboard page). A rewrite that finds nothing to
//     replace fails, so that a gqlgen release that writes these lines
//     another way is noticed at `make generate`, not in a benchmark.
//
// A client's @defer is still accepted: the deferred fields are resolved
// with the rest and come in the one answer, which the GraphQL incremental
// delivery proposal allows a server to do.
//
// go generate runs it (generate.go at the module root); nothing in its
// output is edited by hand.
package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

// inOrder is each rewrite of the written executor: every occurrence of
// from becomes to.
var inOrder = []struct{ from, to string }{
	{"graphql.MarshalSliceConcurrently(", "marshalListInOrder("},
	{"deferred := graphql.NewDeferredGroup(ctx)", "var deferred graphql.DeferredGroup"},
}

func main() {
	// gqlgen logs what it infers (resolver methods it did not find to
	// bind, for instance); its own command discards that unless asked.
	log.SetOutput(io.Discard)
	if err := generate(); err != nil {
		fmt.Fprintln(os.Stderr, "gqlgenerate:", err)
		os.Exit(1)
	}
}

func generate() error {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		return err
	}
	if err := api.Generate(cfg, api.AddPlugin(sequential{})); err != nil {
		return err
	}
	return rewrite(cfg.Exec.Filename)
}

// sequential is a gqlgen plugin: it runs after the executor's data is
// built and before its code is written.
type sequential struct{}

func (sequential) Name() string { return "sequential" }

func (sequential) GenerateCode(data *codegen.Data) error {
	for _, o := range data.Objects {
		o.DisableConcurrency = true
	}
	return nil
}

// rewrite applies inOrder to the executor gqlgen wrote.
func rewrite(filename string) error {
	src, err := os.ReadFile(filename)
	if err != nil {
		return err
	}
	for _, r := range inOrder {
		if !bytes.Contains(src, []byte(r.from)) {
			return fmt.Errorf("%s has no %q: gqlgen now writes it another way (graph/internal/gqlgenerate)", filename, r.from)
		}
		src = bytes.ReplaceAll(src, []byte(r.from), []byte(r.to))
	}
	return os.WriteFile(filename, src, 0o644)
}
