package server

import "net/http"

// apiContentSecurityPolicy is the policy of every answer but the GraphiQL
// page (which sends its own, graphiql.ContentSecurityPolicy): a JSON answer
// is never a document, so nothing may load from it, nothing may frame it,
// and a browser tricked into rendering one runs nothing.
const apiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"

// securityHeaders sets, on every answer before any handler runs (so a 401,
// 404, 405, 413 or 429 carries them too), the headers that keep a browser
// from doing anything with an API answer but hand it to the script that
// asked: no sniffing a JSON body into HTML, no framing, no Referer to
// other sites, no cache (an answer may carry victims' data, each
// disclosure audited: no browser or proxy may serve it again), and no
// cross-origin no-cors reads. GraphiQL's handler replaces the policy and
// the cache headers with its own.
//
// Strict-Transport-Security is left to the TLS terminator in front of the
// server: sent over plain HTTP it means nothing.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", apiContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
