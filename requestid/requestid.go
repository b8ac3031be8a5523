// Package requestid gives every request an id that its response, its log
// lines and any INTERNAL error carry, so a person can quote it and an
// operator can find what happened.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
)

// Header is the HTTP header that carries the id, both ways.
const Header = "X-Request-Id"

type key struct{}

// New returns a fresh random id.
func New() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NewContext returns a copy of ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// FromContext returns the id of ctx, or "" if it has none.
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// incoming accepts a caller's own id only when it is short and plain, so
// that it cannot smuggle anything into logs.
var incoming = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// Middleware gives each request an id and echoes it in the response: a
// new one, after the caller's X-Request-Id and a dot when that is
// well-formed. The audit trail records the id as a fact about the request,
// so a caller may not choose it whole: one who sent another request's id
// would have the trail show the two as one request. Their own id still
// leads it, for finding their request by it.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := New()
		if caller := r.Header.Get(Header); incoming.MatchString(caller) {
			id = caller + "." + id
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}
