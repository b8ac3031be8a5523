package ctxvalue

import (
	"context"
	"testing"
)

func TestKeysAreApart(t *testing.T) {
	a, b := &Key[*int]{}, &Key[*int]{}
	one, two := 1, 2
	ctx := b.With(a.With(context.Background(), &one), &two)
	if got := a.From(ctx); got != &one {
		t.Errorf("a: got %v, want the first value", got)
	}
	if got := b.From(ctx); got != &two {
		t.Errorf("b: got %v, want the second value", got)
	}
	if got := (&Key[*int]{}).From(ctx); got != nil {
		t.Errorf("a key never used: got %v, want nil", got)
	}
}
