// Package graphiql serves GraphiQL, the in-browser GraphQL IDE, from the
// CaseGraph binary itself: the page and all its JavaScript and CSS are
// embedded, so it works with no internet access and loads nothing from a CDN.
//
// The third-party files in assets/ are pinned releases (graphiql 3.9.0, react
// and react-dom 18.3.1), fetched by scripts/refresh-graphiql.sh and committed.
// The files in static/ are ours: the page and the script that starts GraphiQL.
//
// Handler serves two kinds of path:
//
//	/                the page, with a strict Content-Security-Policy
//	/graphiql/NAME   the embedded scripts and stylesheet
//
// and answers 404 to anything else.
package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AssetPrefix is the path under which Handler serves the embedded files.
const AssetPrefix = "/graphiql/"

// The embedded files. Listing them one by one makes a missing asset a build
// error rather than a broken page.
//
//go:embed assets/graphiql.min.js assets/graphiql.min.css
//go:embed assets/react.production.min.js assets/react-dom.production.min.js
//go:embed static/init.js static/index.html
var files embed.FS

// ContentSecurityPolicy is sent with the page. Scripts come only from this
// server (there is no inline script: init.js starts GraphiQL). GraphiQL sets
// inline styles, so styles need 'unsafe-inline'; its fonts are data: URLs in
// its stylesheet. connect-src 'self' is why the endpoint must be same-origin.
const ContentSecurityPolicy = "default-src 'none'; " +
	"script-src 'self'; " +
	"style-src 'self' 'unsafe-inline'; " +
	"font-src 'self' data:; " +
	"img-src 'self' data:; " +
	"connect-src 'self'; " +
	"base-uri 'none'; " +
	"form-action 'none'; " +
	"frame-ancestors 'none'"

// assetCacheControl is sent with the assets. Their contents only change with
// a new pinned release (or a change to init.js), and the page links them with
// a ?v= content hash, so a browser may keep them for good.
const assetCacheControl = "public, max-age=31536000, immutable"

// asset is one embedded file served under AssetPrefix.
type asset struct {
	body        []byte
	gzipped     []byte // body compressed once: compressing graphiql.min.js took 25 ms of CPU a request
	contentType string
	etag        string // quoted strong ETag, from the content hash
	version     string // short content hash, for the ?v= of the page's links
}

// newAsset hashes and compresses body.
func newAsset(body []byte, contentType string) *asset {
	sum := sha256.Sum256(body)
	version := hex.EncodeToString(sum[:])[:16]
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err == nil {
		_, err = zw.Write(body)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		panic(fmt.Sprintf("graphiql: compressing an asset: %v", err)) // a bytes.Buffer does not fail
	}
	return &asset{body: body, gzipped: gz.Bytes(), contentType: contentType, etag: `"` + version + `"`, version: version}
}

// assetFiles maps the names served under AssetPrefix to embedded files.
var assetFiles = map[string]struct{ path, contentType string }{
	"react.production.min.js":     {"assets/react.production.min.js", "text/javascript; charset=utf-8"},
	"react-dom.production.min.js": {"assets/react-dom.production.min.js", "text/javascript; charset=utf-8"},
	"graphiql.min.js":             {"assets/graphiql.min.js", "text/javascript; charset=utf-8"},
	"graphiql.min.css":            {"assets/graphiql.min.css", "text/css; charset=utf-8"},
	"init.js":                     {"static/init.js", "text/javascript; charset=utf-8"},
}

// loadAssets reads and hashes the embedded files, once per process.
var loadAssets = sync.OnceValue(func() map[string]*asset {
	m := make(map[string]*asset, len(assetFiles))
	for name, f := range assetFiles {
		body, err := files.ReadFile(f.path)
		if err != nil {
			panic(fmt.Sprintf("graphiql: embedded %s: %v", f.path, err))
		}
		m[name] = newAsset(body, f.contentType)
	}
	return m
})

var indexTemplate = template.Must(template.ParseFS(files, "static/index.html"))

// Handler returns the handler that serves GraphiQL for the GraphQL endpoint
// at endpoint, which must be a path on the same origin, such as "/graphql"
// (the page's Content-Security-Policy allows requests to 'self' only).
// Mount it at "/" and route both "/" and "/graphiql/*" to it, for example
// with chi:
//
//	h := graphiql.Handler("/graphql")
//	r.Handle("/", h)
//	r.Handle("/graphiql/*", h)
//
// Handler panics if endpoint is not an absolute path.
func Handler(endpoint string) http.Handler {
	if !strings.HasPrefix(endpoint, "/") || strings.HasPrefix(endpoint, "//") {
		panic(fmt.Sprintf("graphiql: endpoint %q is not a same-origin path such as /graphql", endpoint))
	}
	assets := loadAssets()

	urls := make(map[string]string, len(assets))
	for name, a := range assets {
		urls[name] = AssetPrefix + name + "?v=" + a.version
	}
	var buf bytes.Buffer
	err := indexTemplate.Execute(&buf, struct {
		Endpoint string
		URL      map[string]string
	}{endpoint, urls})
	if err != nil {
		panic(fmt.Sprintf("graphiql: render index: %v", err))
	}
	index := newAsset(buf.Bytes(), "text/html; charset=utf-8")

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a *asset
		var cacheControl string
		switch path := r.URL.Path; {
		case path == "/":
			a, cacheControl = index, "no-cache"
		case strings.HasPrefix(path, AssetPrefix):
			a, cacheControl = assets[strings.TrimPrefix(path, AssetPrefix)], assetCacheControl
		}
		if a == nil {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", cacheControl)
		h.Set("Vary", "Accept-Encoding")
		body, etag := a.body, a.etag
		if acceptsGzip(r) {
			// Compressed once, at start: an unauthenticated client asking
			// for the 978 KB script four at a time kept both CPUs busy
			// while the router's middleware compressed it each time.
			body, etag = a.gzipped, strings.TrimSuffix(a.etag, `"`)+`-gzip"`
			h.Set("Content-Encoding", "gzip")
			// http.ServeContent sets no length for an encoded body, which
			// then went chunked; a range of the compressed bytes is of no
			// use to a browser, so the whole is sent, with its length.
			r.Header.Del("Range")
			h.Set("Content-Length", strconv.Itoa(len(body)))
		}
		h.Set("ETag", etag)
		h.Set("X-Content-Type-Options", "nosniff")
		if a == index {
			h.Set("Content-Security-Policy", ContentSecurityPolicy)
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

// acceptsGzip reports whether r's Accept-Encoding names gzip with a
// quality above zero (RFC 9110, 12.5.3).
func acceptsGzip(r *http.Request) bool {
	for _, header := range r.Header.Values("Accept-Encoding") {
		for _, coding := range strings.Split(header, ",") {
			name, params, _ := strings.Cut(coding, ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			key, value, _ := strings.Cut(params, "=")
			if !strings.EqualFold(strings.TrimSpace(key), "q") {
				return true
			}
			q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			return err == nil && q > 0
		}
	}
	return false
}
