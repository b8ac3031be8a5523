// Package ctxvalue carries one request-scoped value of a type in a
// context: the principal, its row scope, its audit recorder. Each package
// that owns such a value declares one Key and keeps NewContext/FromContext
// as its API; the typed key is written once here.
package ctxvalue

import "context"

// Key is the context key of values of type T. Keys are compared by
// identity, so each package declares its own (a pointer to a Key).
type Key[T any] struct{ _ byte }

// With returns a copy of ctx carrying v under k.
func (k *Key[T]) With(ctx context.Context, v T) context.Context {
	return context.WithValue(ctx, k, v)
}

// From returns the value ctx carries under k, or T's zero value.
func (k *Key[T]) From(ctx context.Context) T {
	v, _ := ctx.Value(k).(T)
	return v
}
