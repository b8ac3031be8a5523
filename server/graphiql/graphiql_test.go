package graphiql_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/server/graphiql"
)

// get serves one request to h and returns the response and its body.
func get(t *testing.T, h http.Handler, method, target string, header http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

var scriptTag = regexp.MustCompile(`<script\b[^>]*>`)

func TestIndex(t *testing.T) {
	h := graphiql.Handler("/graphql")
	res, body := get(t, h, http.MethodGet, "/", nil)

	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", cc)
	}

	csp := res.Header.Get("Content-Security-Policy")
	if csp == "" {
		t.Fatal("no Content-Security-Policy header")
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self'", "style-src 'self' 'unsafe-inline'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	for _, directive := range strings.Split(csp, ";") {
		if strings.HasPrefix(strings.TrimSpace(directive), "script-src") &&
			(strings.Contains(directive, "unsafe-inline") || strings.Contains(directive, "unsafe-eval")) {
			t.Errorf("script-src is not strict: %q", directive)
		}
	}

	for _, want := range []string{
		`<title>CaseGraph</title>`,
		`<script src="/graphiql/react.production.min.js?v=`,
		`<script src="/graphiql/react-dom.production.min.js?v=`,
		`<script src="/graphiql/graphiql.min.js?v=`,
		`<script src="/graphiql/init.js?v=`,
		`<link rel="stylesheet" href="/graphiql/graphiql.min.css?v=`,
		`data-endpoint="/graphql"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("index lacks %s", want)
		}
	}

	// The CSP allows no inline script, so every script must be external.
	for _, tag := range scriptTag.FindAllString(body, -1) {
		if !strings.Contains(tag, "src=") {
			t.Errorf("inline script in index: %s", tag)
		}
	}

	// React must load before react-dom, and both before GraphiQL and init.js.
	order := []string{"react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "init.js"}
	last := -1
	for _, name := range order {
		i := strings.Index(body, `/graphiql/`+name)
		if i < last {
			t.Errorf("%s loads out of order", name)
		}
		last = i
	}
}

func TestIndexNoCDN(t *testing.T) {
	h := graphiql.Handler("/graphql")
	for _, target := range []string{"/", "/graphiql/init.js"} {
		_, body := get(t, h, http.MethodGet, target, nil)
		lower := strings.ToLower(body)
		if strings.Contains(lower, "http://") || strings.Contains(lower, "https://") {
			t.Errorf("%s references an http(s) URL:\n%s", target, body)
		}
	}
}

func TestIndexEscapesEndpoint(t *testing.T) {
	h := graphiql.Handler(`/graphql"><script>alert(1)</script>`)
	_, body := get(t, h, http.MethodGet, "/", nil)
	if strings.Contains(body, `"><script>alert(1)`) {
		t.Errorf("endpoint not escaped:\n%s", body)
	}
	if !strings.Contains(body, `data-endpoint="/graphql&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`) {
		t.Errorf("escaped endpoint not found:\n%s", body)
	}
}

func TestHandlerRejectsNonPathEndpoint(t *testing.T) {
	for _, endpoint := range []string{"", "graphql", "https://example.com/graphql", "//example.com/graphql"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handler(%q) did not panic", endpoint)
				}
			}()
			graphiql.Handler(endpoint)
		}()
	}
}

func TestAssets(t *testing.T) {
	h := graphiql.Handler("/graphql")
	for _, tc := range []struct {
		name    string
		ctype   string
		minSize int
		marker  string // a string the file must contain
	}{
		{"react.production.min.js", "text/javascript", 5_000, "react.production.min.js"},
		{"react-dom.production.min.js", "text/javascript", 100_000, "react-dom.production.min.js"},
		{"graphiql.min.js", "text/javascript", 500_000, "createFetcher"},
		{"graphiql.min.css", "text/css", 100_000, ".graphiql-container"},
		{"init.js", "text/javascript", 500, "defaultEditorToolsVisibility"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, h, http.MethodGet, "/graphiql/"+tc.name, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", res.StatusCode)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("Content-Type = %q, want %s", ct, tc.ctype)
			}
			if len(body) < tc.minSize {
				t.Errorf("size = %d, want at least %d", len(body), tc.minSize)
			}
			if !strings.Contains(body, tc.marker) {
				t.Errorf("body lacks %q", tc.marker)
			}
			cc := res.Header.Get("Cache-Control")
			if !strings.Contains(cc, "max-age=31536000") {
				t.Errorf("Cache-Control = %q, want a long max-age", cc)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}

			// The query string (the ?v= cache buster) does not matter.
			res2, body2 := get(t, h, http.MethodGet, "/graphiql/"+tc.name+"?v=whatever", nil)
			if res2.StatusCode != http.StatusOK || body2 != body {
				t.Errorf("with ?v=: status %d, same body %v", res2.StatusCode, body2 == body)
			}

			// Revalidation by ETag.
			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			res3, _ := get(t, h, http.MethodGet, "/graphiql/"+tc.name, http.Header{"If-None-Match": {etag}})
			if res3.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match: status %d, want 304", res3.StatusCode)
			}

			// Compressed when asked (the file compressed once, at start),
			// with an ETag of its own; not when gzip is refused.
			for _, accept := range []string{"gzip", "br;q=1.0, gzip;q=0.8", "GZIP"} {
				res4, zipped := get(t, h, http.MethodGet, "/graphiql/"+tc.name, http.Header{"Accept-Encoding": {accept}})
				if res4.Header.Get("Content-Encoding") != "gzip" || res4.Header.Get("ETag") == etag || !strings.Contains(res4.Header.Get("Vary"), "Accept-Encoding") ||
					res4.Header.Get("Content-Length") != strconv.Itoa(len(zipped)) {
					t.Fatalf("Accept-Encoding %s: Content-Encoding %q, ETag %q, Vary %q, Content-Length %q", accept, res4.Header.Get("Content-Encoding"), res4.Header.Get("ETag"), res4.Header.Get("Vary"), res4.Header.Get("Content-Length"))
				}
				zr, err := gzip.NewReader(strings.NewReader(zipped))
				if err != nil {
					t.Fatal(err)
				}
				unzipped, err := io.ReadAll(zr)
				if err != nil || string(unzipped) != body || len(zipped) >= len(body) {
					t.Errorf("Accept-Encoding %s: %d bytes that unzip (%v) to the file: %v", accept, len(zipped), err, string(unzipped) == body)
				}
			}
			for _, accept := range []string{"identity", "gzip;q=0", "br"} {
				if res5, plain := get(t, h, http.MethodGet, "/graphiql/"+tc.name, http.Header{"Accept-Encoding": {accept}}); res5.Header.Get("Content-Encoding") != "" || plain != body {
					t.Errorf("Accept-Encoding %s: Content-Encoding %q", accept, res5.Header.Get("Content-Encoding"))
				}
			}
		})
	}
}

// Every script and stylesheet the page links to is served.
func TestIndexLinksResolve(t *testing.T) {
	h := graphiql.Handler("/graphql")
	_, body := get(t, h, http.MethodGet, "/", nil)
	links := regexp.MustCompile(`(?:src|href)="(/[^"]*)"`).FindAllStringSubmatch(body, -1)
	if len(links) != 5 {
		t.Errorf("found %d links, want 5 (4 scripts, 1 stylesheet)", len(links))
	}
	for _, m := range links {
		res, _ := get(t, h, http.MethodGet, m[1], nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", m[1], res.StatusCode)
		}
	}
}

func TestNotFound(t *testing.T) {
	h := graphiql.Handler("/graphql")
	for _, target := range []string{
		"/graphiql/nope.js",
		"/graphiql/",
		"/graphiql",
		"/index.html",
		"/nope",
		"/graphiql/../graphiql/init.js",
		"/graphiql/static/init.js",
		"/graphiql/assets/graphiql.min.js",
		"/graphiql/LICENSE.graphiql",
	} {
		res, _ := get(t, h, http.MethodGet, target, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", target, res.StatusCode)
		}
	}
}

func TestMethods(t *testing.T) {
	h := graphiql.Handler("/graphql")

	res, body := get(t, h, http.MethodHead, "/", nil)
	if res.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD / = %d with %d bytes, want 200 and none", res.StatusCode, len(body))
	}

	for _, target := range []string{"/", "/graphiql/init.js"} {
		res, _ := get(t, h, http.MethodPost, target, nil)
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s = %d, want 405", target, res.StatusCode)
		}
		if allow := res.Header.Get("Allow"); allow != "GET, HEAD" {
			t.Errorf("POST %s: Allow = %q", target, allow)
		}
	}
}
