package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/casegraph/casegraph/apperr"
)

const (
	mediaTypeJSON            = "application/json"
	mediaTypeGraphQLResponse = "application/graphql-response+json"
)

// HTTPMethods are the methods GraphQL over HTTP serves; route only these
// to the handler (it refuses others too, with 405).
var HTTPMethods = []string{http.MethodGet, http.MethodPost, http.MethodOptions}

// allowedMethods is the Allow header of a refused method.
var allowedMethods = strings.Join(HTTPMethods, ", ")

// overHTTP is GraphQL over HTTP
// (https://graphql.github.io/graphql-over-http/draft/), the whole of it in
// one gqlgen transport, so that every answer /graphql gives about
// the request itself has a status, a media type and an extensions.code that
// follow one rule:
//
//   - Methods: POST runs any operation; GET runs queries only (a mutation
//     over GET is 405 with Allow: POST, since GET must be safe); OPTIONS
//     says which methods there are. Anything else is 405 with
//     Allow: GET, POST, OPTIONS and BAD_USER_INPUT.
//   - A POST body must be application/json (charset, if named, utf-8).
//     Anything else, or no Content-Type at all, is 415 with
//     UNSUPPORTED_MEDIA_TYPE: the client sent a kind of body CaseGraph does
//     not read, and the message says which one it does. So is a body with
//     a Content-Encoding (gzip): it is read as sent.
//   - The request's parameters: a JSON object whose query is a string (it
//     may be left out only when extensions.persistedQuery names a stored
//     document), operationName a string or null, variables and extensions
//     objects or null; other members are ignored. A body that is not JSON,
//     or parameters of the wrong shape, are 400 with BAD_USER_INPUT.
//   - The response's media type follows Accept: application/graphql-response+json
//     when the client asks for it (by order, or by a higher q), otherwise
//     application/json, which is also the answer to no Accept or to an
//     Accept naming neither (the spec's legacy default, which every client
//     reads).
//   - A request error (the document does not parse or validate, the
//     variables do not fit it, or the server refuses the operation before
//     it runs) has no "data" member, as the GraphQL spec says. With
//     application/json the status is 200, since the request was well-formed
//     HTTP; with application/graphql-response+json it is 4xx (400, or what
//     the error's code means: 401, 403, 429) or 5xx for UNAVAILABLE and
//     INTERNAL, so that a client can tell a request error from a field
//     error by the status alone.
//   - An operation that ran answers 200 with "data", whatever its field
//     errors.
type overHTTP struct{}

var _ graphql.Transport = overHTTP{}

// Supports takes every request: a method or media type the transport does
// not serve gets a coded answer from Do, not gqlgen's uncoded "transport not
// supported".
func (overHTTP) Supports(*http.Request) bool { return true }

// Do answers one request by the rules of overHTTP.
func (overHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	start := graphql.Now()
	answer := responseMediaType(r.Header.Get("Accept"))
	var params *graphql.RawParams
	var refusal *requestRefusal
	switch r.Method {
	case http.MethodPost:
		params, refusal = paramsFromBody(r)
	case http.MethodGet:
		params, refusal = paramsFromURL(r.URL.RawQuery)
	case http.MethodOptions:
		w.Header().Set("Allow", allowedMethods)
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		refusal = &requestRefusal{status: http.StatusMethodNotAllowed, allow: allowedMethods,
			err: apperr.Errorf(apperr.BadUserInput, "/graphql does not serve %s: send the request with POST (or GET, for a query).", methodName(r.Method))}
	}
	if refusal != nil {
		refuse(ctx, w, exec, answer, refusal)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeResponse(w, answer, requestErrorStatus(answer, resp.Errors), &requestErrorResponse{Errors: resp.Errors, Extensions: resp.Extensions})
		return
	}
	if r.Method == http.MethodGet && opCtx.Operation.Operation != ast.Query {
		// GET must be safe: a proxy or a prefetching browser may repeat it.
		refuse(ctx, w, exec, answer, &requestRefusal{status: http.StatusMethodNotAllowed, allow: http.MethodPost,
			err: apperr.Errorf(apperr.BadUserInput, "GET runs queries only; send mutations with POST.")})
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if resp == nil {
		// The context ended (the client left, or the deadline passed)
		// before the operation produced an answer.
		refuse(ctx, w, exec, answer, &requestRefusal{status: http.StatusServiceUnavailable,
			err: apperr.Errorf(apperr.Unavailable, "The request ended before it was answered; try again.")})
		return
	}
	if resp.Data == nil {
		// An extension refused the operation before it ran: a request
		// error like a validation failure, with no data.
		status := requestErrorStatus(answer, resp.Errors)
		if busy, _ := opCtx.Stats.GetExtension(busyStatsKey).(bool); busy {
			// No room to run it (Admission): 503 whatever the media type,
			// as the rate limit answers 429, so that any client and load
			// balancer retries, and when.
			w.Header().Set("Retry-After", busyRetryAfter)
			status = http.StatusServiceUnavailable
		}
		writeResponse(w, answer, status, &requestErrorResponse{Errors: resp.Errors, Extensions: resp.Extensions})
		return
	}
	writeResponse(w, answer, http.StatusOK, resp)
}

// WriteUnavailable answers a request to /graphql that the server refuses
// whole, before reading it, because it can run none yet (it is starting:
// server.Start): 503 with retryAfter (seconds) in Retry-After whatever
// the media type, as a refusal for want of room is answered (Admission),
// in the media type Accept asks for, with one UNAVAILABLE error saying
// message and no "data" member. The body is not read.
func WriteUnavailable(w http.ResponseWriter, r *http.Request, message, retryAfter string) {
	w.Header().Set("Retry-After", retryAfter)
	writeResponse(w, responseMediaType(r.Header.Get("Accept")), http.StatusServiceUnavailable, &requestErrorResponse{Errors: gqlerror.List{{
		Message:    message,
		Extensions: map[string]any{"code": string(apperr.Unavailable)},
	}}})
}

// requestRefusal is a request refused before GraphQL reads it.
type requestRefusal struct {
	status int
	allow  string // the Allow header of a 405
	// acceptEncoding is the Accept-Encoding header of a 415 for a content
	// coding (RFC 9110, 12.5.3): the codings a body may be sent in.
	acceptEncoding string
	err            *apperr.Error
}

// refuse answers a refusal through the error presenter, like every other
// error, without a "data" member. The status is the refusal's whatever the
// media type: the request was not a well-formed GraphQL-over-HTTP request.
func refuse(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, answer string, rf *requestRefusal) {
	resp := exec.DispatchError(ctx, gqlerror.List{gqlerror.WrapIfUnwrapped(rf.err)})
	if rf.allow != "" {
		w.Header().Set("Allow", rf.allow)
	}
	if rf.acceptEncoding != "" {
		w.Header().Set("Accept-Encoding", rf.acceptEncoding)
	}
	writeResponse(w, answer, rf.status, &requestErrorResponse{Errors: resp.Errors, Extensions: resp.Extensions})
}

// requestErrorResponse is a GraphQL response to a request that did not
// run: no "data" member at all (the GraphQL spec, "Response Format").
type requestErrorResponse struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func writeResponse(w http.ResponseWriter, mediaType string, status int, body any) {
	raw, err := json.Marshal(body)
	if err != nil {
		// Only a resolver's value could fail to encode, and gqlgen has
		// encoded those already; answer something valid regardless.
		status = http.StatusInternalServerError
		raw = []byte(`{"errors":[{"message":"Internal error: the response could not be encoded.","extensions":{"code":"INTERNAL"}}]}`)
	}
	w.Header().Set("Content-Type", mediaType+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(raw)
}

// requestErrorStatus is the status of a request error: 200 with
// application/json (the request was well-formed; the errors say the rest),
// otherwise the status its first error's code stands for.
func requestErrorStatus(mediaType string, errs gqlerror.List) int {
	if mediaType == mediaTypeJSON {
		return http.StatusOK
	}
	var code string
	if len(errs) > 0 {
		code, _ = errs[0].Extensions["code"].(string)
	}
	switch apperr.Code(code) {
	case apperr.Unauthenticated:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.RateLimited:
		return http.StatusTooManyRequests
	case apperr.Unavailable, apperr.AuditUnavailable:
		return http.StatusServiceUnavailable
	case apperr.Internal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// responseMediaType picks the response's media type from an Accept header:
// the supported type with the highest q, the first listed on a tie;
// application/json when neither is acceptable or nothing is said.
func responseMediaType(accept string) string {
	best, bestQ := mediaTypeJSON, 0.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, p, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := p["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		var offered string
		switch mt {
		case mediaTypeGraphQLResponse:
			offered = mediaTypeGraphQLResponse
		case mediaTypeJSON, "application/*", "*/*":
			offered = mediaTypeJSON
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = offered, q
		}
	}
	return best
}

// paramsFromBody reads a POST's JSON body.
func paramsFromBody(r *http.Request) (*graphql.RawParams, *requestRefusal) {
	if rf := checkContentType(r.Header.Get("Content-Type")); rf != nil {
		return nil, rf
	}
	if rf := checkContentEncoding(r.Header.Values("Content-Encoding")); rf != nil {
		return nil, rf
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, badRequest("The request body could not be read.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest(`The request body is empty: send a JSON object such as {"query": "{ __typename }"}.`)
	}
	if rf := withinJSONBounds(body, "The request body"); rf != nil {
		return nil, rf
	}
	if rf := namesOnce(body, "The request body"); rf != nil {
		return nil, rf
	}
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&members); err != nil {
		// Never the decoder's own words: they can quote the body, and
		// the body can carry a victim's data.
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, badRequest("The request body is not valid JSON%s: send a JSON object with a query string.", atOffset(syntax))
		}
		return nil, badRequest("The request body is not a JSON object: send a JSON object with a query string.")
	}
	if dec.More() {
		return nil, badRequest("The request body holds more than one JSON value: send one JSON object with a query string.")
	}
	if members == nil {
		return nil, badRequest("The request body is not a JSON object: send a JSON object with a query string.")
	}
	params, rf := paramsFromMembers(members)
	if rf == nil {
		rf = noParametersInURL(r.URL.RawQuery, params.OperationName)
	}
	if rf != nil {
		return nil, rf
	}
	return params, nil
}

// graphQLParameters are the members of a request, in a POST's body or a
// GET's query string, that GraphQL over HTTP defines and the server reads.
var graphQLParameters = []string{"query", "operationName", "variables", "extensions"}

// noParametersInURL refuses a POST whose URL names a GraphQL parameter
// (query, operationName, variables, extensions, in any case), or whose
// query string is not URL encoding: the server reads a POST's parameters
// from its body alone, while a reader before it may take the URL's
// (express-graphql reads ?query= before the body's), so {"query":
// "mutation …"} sent to /graphql?query={__typename} ran the mutation
// where such a gateway judged the query (a review, twenty-fifth
// session), as with a member named twice (namesOnce). Other parameters
// (a client's ?op= for its logs) are no GraphQL's and are left alone, and
// so is operationName, the body's (operationName) repeated once, as
// clients that name the operation in the URL for their logs send it
// (/graphql?operationName=Dashboard): every reader runs that operation.
// Until the twenty-sixth session (2026-12-07) that was refused too, and
// such a client's every request failed.
func noParametersInURL(rawQuery, operationName string) *requestRefusal {
	if rawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return badRequest("The URL's query string is not valid URL encoding.")
	}
	for name, values := range q {
		if name == "operationName" && operationName != "" && len(values) == 1 && values[0] == operationName {
			continue
		}
		for _, param := range graphQLParameters {
			if strings.EqualFold(name, param) {
				return badRequest("A POST sends %s in its JSON body, not in the URL, which names %s: send each parameter once, in the body.", param, strconv.Quote(truncate(name, 30)))
			}
		}
	}
	return nil
}

func atOffset(syntax *json.SyntaxError) string {
	if syntax == nil {
		return ""
	}
	return fmt.Sprintf(" (at byte %d)", syntax.Offset)
}

// checkContentType accepts application/json, in UTF-8.
func checkContentType(contentType string) *requestRefusal {
	mt, p, err := mime.ParseMediaType(contentType)
	if contentType == "" || err != nil || mt != mediaTypeJSON {
		what := "no Content-Type"
		if contentType != "" {
			what = fmt.Sprintf("Content-Type %q", truncate(contentType, 60))
		}
		return &requestRefusal{status: http.StatusUnsupportedMediaType,
			err: apperr.Errorf(apperr.UnsupportedMediaType, "A POST to /graphql must have Content-Type: application/json, not %s.", what)}
	}
	if cs, ok := p["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return &requestRefusal{status: http.StatusUnsupportedMediaType,
			err: apperr.Errorf(apperr.UnsupportedMediaType, "The request body must be UTF-8 (Content-Type: application/json; charset=utf-8), not %q.", truncate(cs, 30))}
	}
	return nil
}

// checkContentEncoding accepts a body as it is sent (no Content-Encoding,
// or identity): a compressed body is 415, as RFC 9110 (15.5.16) has it
// for a content coding the server does not read, rather than 400 "not
// JSON" for the bytes gzip made of it, which sent a client looking for a
// fault in its JSON.
func checkContentEncoding(codings []string) *requestRefusal {
	for _, header := range codings {
		for _, c := range strings.Split(header, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return &requestRefusal{status: http.StatusUnsupportedMediaType, acceptEncoding: "identity",
					err: apperr.Errorf(apperr.UnsupportedMediaType, "A POST to /graphql must send its application/json body uncompressed, not with Content-Encoding %q.", truncate(c, 30))}
			}
		}
	}
	return nil
}

// paramsFromMembers checks the members of a POST body's object.
func paramsFromMembers(m map[string]json.RawMessage) (*graphql.RawParams, *requestRefusal) {
	params := &graphql.RawParams{}
	if rf := decodeObjectMember(m, "extensions", &params.Extensions); rf != nil {
		return nil, rf
	}
	if rf := decodeObjectMember(m, "variables", &params.Variables); rf != nil {
		return nil, rf
	}
	if raw, ok := m["operationName"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &params.OperationName); err != nil {
			return nil, badRequest("operationName must be a string (or null).")
		}
	}
	raw, ok := m["query"]
	switch {
	case ok && !isNull(raw):
		if err := json.Unmarshal(raw, &params.Query); err != nil {
			return nil, badRequest("query must be a string holding the GraphQL document.")
		}
	case hasPersistedQuery(params.Extensions):
		// The document is named by its hash; the persisted-query
		// extension looks it up.
	default:
		return nil, badRequest("The request has no query: send {\"query\": \"<GraphQL document>\"}%s.", unknownMembers(m))
	}
	return params, nil
}

// decodeObjectMember decodes m[name] into dst when it is a JSON object, and
// leaves dst nil when it is absent or null.
func decodeObjectMember(m map[string]json.RawMessage, name string, dst *map[string]any) *requestRefusal {
	raw, ok := m[name]
	if !ok || isNull(raw) {
		return nil
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return badRequest("%s must be a JSON object (or null).", name)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep 64-bit ids and big numbers exact
	if err := dec.Decode(dst); err != nil {
		return badRequest("%s must be a JSON object (or null).", name)
	}
	return nil
}

// The bounds of the JSON a request sends (its body, or a GET's variables
// and extensions), checked before it is decoded: a megabyte holds 250,000
// empty objects, each a map once decoded (41 MiB for one request, and 1.5
// GB for sixty at once, in a hunt over HTTP), whether or not the document
// declares them. An item is an object's member or an array's element; the
// largest variables of a real request (a list of a few thousand ids, a
// policy what-if of 500 lines) are a few thousand.
const (
	maxJSONItems = 10_000
	maxJSONDepth = 64
)

// scanJSON reads JSON text once, allocating nothing, and calls mark for
// each of { } [ , ] outside strings and, when str is not nil, str with
// each string's bounds (raw[start:end+1] is the string, quotes included);
// a call returning false ends the scan. Text that is not JSON is read as
// far as its bytes go: the decoder refuses it after.
func scanJSON(raw []byte, mark func(b byte) bool, str func(start, end int) bool) {
	inString, escaped, start := false, false, 0
	for i, b := range raw {
		if inString {
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
				if str != nil && !str(start, i) {
					return
				}
			}
			continue
		}
		switch b {
		case '"':
			inString, start = true, i
		case '{', '}', '[', ']', ',':
			if !mark(b) {
				return
			}
		}
	}
}

// withinJSONBounds refuses JSON text holding more than maxJSONItems items
// or nested deeper than maxJSONDepth, in one pass over the text.
func withinJSONBounds(raw []byte, what string) *requestRefusal {
	items, level, deepest := 0, 0, 0
	scanJSON(raw, func(b byte) bool {
		switch b {
		case '{', '[':
			level++
			items++ // its first item, or none: one more than it holds at most
			deepest = max(deepest, level)
		case '}', ']':
			level--
		case ',':
			items++
		}
		return true
	}, nil)
	if items > maxJSONItems {
		return badRequest("%s holds more than %d items (members of objects and elements of lists): send fewer, or split the request.", what, maxJSONItems)
	}
	if deepest > maxJSONDepth {
		return badRequest("%s nests objects and lists %d deep, more than %d.", what, deepest, maxJSONDepth)
	}
	return nil
}

// namesOnce refuses JSON text in which an object names a member twice
// (RFC 8259 leaves what that means to each reader): Go's decoder keeps the
// last, so {"query": A, "query": B} ran B, while a gateway or a firewall
// before the server that reads the first (a trusted-documents check, a
// filter of mutations) judged A (an integrator's review, twenty-fourth
// session). Names are compared as the decoder reads them, and without
// regard to case (foldName): Go's encoding/json, decoding into a
// structure, takes "Query" (or "QUERY", "variableſ") for the field
// "query" and keeps the last, so {"query": A, "Query": B} ran A here
// and B in such a gateway (a review, twenty-fifth session). It runs after
// withinJSONBounds, which bounds the names it keeps; text that is not
// JSON is the decoder's to refuse.
func namesOnce(raw []byte, what string) *requestRefusal {
	type object struct {
		names   map[string]string // folded name → the name as sent; nil for a list
		wantKey bool
	}
	var stack []object
	var refusal *requestRefusal
	scanJSON(raw, func(b byte) bool {
		switch b {
		case '{':
			stack = append(stack, object{names: map[string]string{}, wantKey: true})
		case '[':
			stack = append(stack, object{})
		case '}', ']':
			if len(stack) == 0 {
				return false
			}
			stack = stack[:len(stack)-1]
		case ',':
			if top := len(stack) - 1; top >= 0 && stack[top].names != nil {
				stack[top].wantKey = true
			}
		}
		return true
	}, func(start, end int) bool {
		top := len(stack) - 1
		if top < 0 || stack[top].names == nil || !stack[top].wantKey {
			return true // a value, not a name
		}
		stack[top].wantKey = false
		// As the decoder reads it: escapes undone ("\u0071uery" is
		// "query"), and bytes that are not UTF-8 read as U+FFFD.
		var name string
		if quoted := raw[start : end+1]; bytes.IndexByte(quoted, '\\') >= 0 || !utf8.Valid(quoted) {
			if json.Unmarshal(quoted, &name) != nil {
				return false // not JSON: the decoder's to refuse
			}
		} else {
			name = string(quoted[1 : len(quoted)-1])
		}
		folded := foldName(name)
		if first, twice := stack[top].names[folded]; twice {
			refusal = nameTwice(what, "member", first, name)
			return false
		}
		stack[top].names[folded] = name
		return true
	})
	return refusal
}

// nameTwice refuses a name sent twice, as first and then as again (the
// same, or the same but for case).
func nameTwice(what, kind, first, again string) *requestRefusal {
	if first == again {
		return badRequest("%s names the %s %s twice in one object: send each name once.", what, kind, strconv.Quote(truncate(first, 30)))
	}
	return badRequest("%s names the %s %s twice in one object, as %s and %s: a reader that ignores case, as Go's encoding/json does, takes them for one name. Send each name once.",
		what, kind, strconv.Quote(truncate(first, 30)), strconv.Quote(truncate(first, 30)), strconv.Quote(truncate(again, 30)))
}

// foldName is name as a reader that ignores case reads it: each letter
// the least of the letters Unicode folds it with (unicode.SimpleFold), so
// that foldName(a) == foldName(b) exactly when strings.EqualFold(a, b),
// which is how Go's encoding/json matches a member with a field ("K",
// the Kelvin sign, is "k"; "ſ", the long s, is "s").
func foldName(name string) string {
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(name) // each ASCII letter's orbit's least is its capital
	}
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// paramsFromURL reads a GET's query string.
func paramsFromURL(rawQuery string) (*graphql.RawParams, *requestRefusal) {
	// net/url refuses more than 10,000 parameters, with an error that read
	// here as if the encoding were wrong.
	if n := strings.Count(rawQuery, "&") + 1; n > 10_000 {
		return nil, badRequest("The URL's query string has %d parameters: a GraphQL GET sends query, and variables, operationName and extensions when it needs them.", n)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, badRequest("The URL's query string is not valid URL encoding.")
	}
	for _, name := range graphQLParameters {
		// url.Values.Get reads the first of a repeated parameter, where
		// another reader before the server may read the last (see
		// namesOnce).
		if len(q[name]) > 1 {
			return nil, badRequest("The URL's query string names the parameter %s %d times: send it once.", name, len(q[name]))
		}
		// A reader that ignores the case of a parameter's name (ASP.NET's)
		// takes Query for query, as encoding/json does for a member.
		var spelt []string
		for other := range q {
			if strings.EqualFold(other, name) {
				spelt = append(spelt, other)
			}
		}
		if len(spelt) > 1 {
			sort.Strings(spelt) // "Query" before "query": one message for one request
			return nil, nameTwice("The URL's query string", "parameter", spelt[0], spelt[1])
		}
	}
	params := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	for _, p := range []struct {
		name string
		dst  *map[string]any
	}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
		name, dst := p.name, p.dst
		v := q.Get(name)
		if v == "" {
			continue
		}
		// A POST's body is bounded whole before it is decoded; a GET's
		// members here, with their own message.
		if rf := withinJSONBounds([]byte(v), "The "+name+" parameter"); rf != nil {
			return nil, rf
		}
		if rf := namesOnce([]byte(v), "The "+name+" parameter"); rf != nil {
			return nil, rf
		}
		if rf := decodeObjectMember(map[string]json.RawMessage{name: json.RawMessage(v)}, name, dst); rf != nil {
			rf.err.Message = fmt.Sprintf("The %s parameter must be a URL-encoded JSON object.", name)
			return nil, rf
		}
	}
	if !q.Has("query") && !hasPersistedQuery(params.Extensions) {
		return nil, badRequest("The URL has no query parameter: GET /graphql?query=<URL-encoded GraphQL document>.")
	}
	return params, nil
}

func hasPersistedQuery(extensions map[string]any) bool {
	_, ok := extensions["persistedQuery"].(map[string]any)
	return ok
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// unknownMembers names (a few of) the members CaseGraph does not read, to
// point at a misspelt "query".
func unknownMembers(m map[string]json.RawMessage) string {
	var names []string
	for name := range m {
		if !slices.Contains(graphQLParameters, name) {
			names = append(names, strconv.Quote(truncate(name, 30)))
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	if len(names) > 3 {
		names = append(names[:3], "…")
	}
	return " (the body has " + strings.Join(names, ", ") + ", which GraphQL over HTTP does not define)"
}

func badRequest(format string, args ...any) *requestRefusal {
	return &requestRefusal{status: http.StatusBadRequest, err: apperr.Errorf(apperr.BadUserInput, format, args...)}
}

// methodName quotes a method for a message; a made-up one is cut short.
func methodName(m string) string { return strconv.Quote(truncate(m, 20)) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
