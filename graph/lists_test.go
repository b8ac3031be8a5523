package graph

import (
	"context"
	"errors"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestMarshalListInOrder: the elements are marshalled one after the
// other, each under a field context that carries its index, and a panic
// in one element makes that element a null with an error while the
// others are still marshalled (the contract of gqlgen's own list
// marshalling, which marshalListInOrder stands in for).
func TestMarshalListInOrder(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	var order []int
	secondStarted := make(chan struct{})
	ret := marshalListInOrder(ctx, 4, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		if got := *graphql.GetFieldContext(ctx).Index; got != i {
			t.Errorf("element %d marshalled under index %d", i, got)
		}
		switch i {
		case 0: // the second element must not start while the first runs
			select {
			case <-secondStarted:
				t.Error("element 1 started before element 0 ended")
			case <-time.After(50 * time.Millisecond):
			}
		case 1:
			close(secondStarted)
		}
		order = append(order, i) // no lock: a second goroutine here is a data race the race detector reports
		if i == 2 {
			panic("element 2 fails")
		}
		return graphql.MarshalInt(i)
	})
	if want := []int{0, 1, 2, 3}; !slices.Equal(order, want) {
		t.Fatalf("marshalled in order %v, want %v", order, want)
	}
	if ret[2] != graphql.Null || ret[3] == graphql.Null || ret[0] == graphql.Null {
		t.Fatalf("want only element 2 null, got %v", ret)
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 1 {
		t.Fatalf("want one error for the panicking element, got %v", errs)
	}
}

// TestListStopsAtTheRequestsEnd: once the request's context has ended, a
// list marshals no further element: the rest are null, and the first of
// them carries the one error of the request's end (every element's
// fields were each refused, one error each).
func TestListStopsAtTheRequestsEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = graphql.WithResponseContext(ctx, graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	var marshalled []int
	ret := marshalListInOrder(ctx, 500, 0, false, func(_ context.Context, i int) graphql.Marshaler {
		marshalled = append(marshalled, i)
		if i == 2 {
			cancel() // the deadline passes while element 2 resolves
		}
		return graphql.MarshalInt(i)
	})
	if want := []int{0, 1, 2}; !slices.Equal(marshalled, want) {
		t.Fatalf("marshalled %v, want %v", marshalled, want)
	}
	if ret[2] == graphql.Null || ret[3] != graphql.Null || ret[499] != graphql.Null {
		t.Fatalf("want the elements after 2 null: %v", ret[:5])
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Fatalf("want one error for the request's end, got %v", errs)
	}
}

// TestExecutorResolvesInOrder: the executor `make generate` writes starts
// no goroutine of its own for a field or a list element
// (graph/internal/gqlgenerate). Run gqlgen alone (`go tool gqlgen
// generate`) and this fails.
func TestExecutorResolvesInOrder(t *testing.T) {
	src, err := os.ReadFile("generated.go")
	if err != nil {
		t.Fatal(err)
	}
	concurrent := regexp.MustCompile(`\.(ResolveConcurrently|ResolveRootConcurrently|Concurrently|MarshalSliceConcurrently)\(`)
	if found := concurrent.FindAll(src, 5); len(found) > 0 {
		t.Fatalf("generated.go resolves concurrently (%q): regenerate with `make generate`", found)
	}
	if n := len(regexp.MustCompile(`marshalListInOrder\(`).FindAll(src, -1)); n == 0 {
		t.Fatal("generated.go marshals no list with marshalListInOrder")
	}
}

// A mutation's payload is answered under the rows as they are after it: what
// the request found out about cases (the cases a referral's caseID found
// visible) is forgotten between mutations, as the facts and the policy are
// (refreshFacts).
func TestRefreshForgetsTheCasesSeen(t *testing.T) {
	ctx := withCaseLookups(context.Background())
	l := caseLookupsKey.From(ctx)
	l.visible.found[7], l.visible.asked[7], l.visible.asked[8] = true, true, true
	l.references.found[7], l.references.asked[7] = "TIR-2026-0001", true
	refreshFacts(ctx)
	if len(l.visible.found)+len(l.visible.asked)+len(l.references.found)+len(l.references.asked) != 0 {
		t.Errorf("after a mutation the request still answers from what it found out before: %v %v %v %v",
			l.visible.found, l.visible.asked, l.references.found, l.references.asked)
	}
}

// What a where naming ids refused is forgotten between mutations too: a
// field of a fragment spread under two mutations' payloads is one
// *ast.Field, and the second is answered, and its refusals recorded,
// under the rows as they are after the first (askedByID).
func TestRefreshForgetsWhatWheresRefused(t *testing.T) {
	ctx := withAskedByID(context.Background())
	a := askedByIDKey.From(ctx)
	field := &ast.Field{Name: "prosecutions"}
	a.of(field).once.Do(func() {})
	refreshFacts(ctx)
	if len(a.fields) != 0 {
		t.Errorf("after a mutation the request still answers from what its wheres refused before: %v", a.fields)
	}
}
