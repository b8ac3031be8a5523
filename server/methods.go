package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/casegraph/casegraph/apperr"
)

// routableMethods are the methods a route can be registered for.
var routableMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace,
}

// methodNotAllowed answers a method a path does not serve: 405 with the
// Allow header the router's routes give and a coded error that says what
// to use, or otherwise's answer when no method at all serves the path (the
// router calls this for any method it does not know, before it looks at
// the path): the router's own answer to a path it does not serve.
func methodNotAllowed(routes chi.Routes, otherwise http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range routableMethods {
			if routes.Match(chi.NewRouteContext(), m, r.URL.Path) {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) == 0 {
			otherwise(w, r)
			return
		}
		allow := strings.Join(allowed, ", ")
		w.Header().Set("Allow", allow)
		apperr.WriteHTTP(w, http.StatusMethodNotAllowed, apperr.BadUserInput,
			strconv.Quote(cut(r.URL.Path, 100))+" does not serve "+strconv.Quote(cut(r.Method, 20))+": use "+allow+".", "")
	}
}

// cut shortens s, which the client chose, to n bytes for a message.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// notFound answers a path nothing serves as every other refusal is
// answered: a GraphQL error with a code, saying where the API is. It was
// Go's plain-text "404 page not found", with no code (a new user's
// report). The path is not echoed.
func notFound(w http.ResponseWriter, _ *http.Request) {
	apperr.WriteHTTP(w, http.StatusNotFound, apperr.NotFound,
		"Nothing is served at this path: the API is /graphql (POST, or GET for queries), GraphiQL is at /.", "")
}
