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

// Middleware gives each request an id (the caller's X-Request-Id when it is
// well-formed, else a new one) and echoes it in the response.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !incoming.MatchString(id) {
			id = New()
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}
