package leaktest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/testserver"
)

// --- Scanning raw bytes ---

type needle struct {
	val    string
	b      []byte
	labels []string
}

// needles finds many strings in a byte slice at once: a filter on the
// first two bytes, then candidates by their first four.
type needles struct {
	filter   []bool
	byPrefix map[uint32][]*needle
	byVal    map[string]*needle
}

func newNeedles() *needles {
	return &needles{filter: make([]bool, 1<<16), byPrefix: map[uint32][]*needle{}, byVal: map[string]*needle{}}
}

func (n *needles) add(val, label string) {
	if nd := n.byVal[val]; nd != nil {
		if len(nd.labels) < 3 {
			nd.labels = append(nd.labels, label)
		}
		return
	}
	nd := &needle{val: val, b: []byte(val), labels: []string{label}}
	n.byVal[val] = nd
	n.filter[binary.LittleEndian.Uint16(nd.b)] = true
	k := binary.LittleEndian.Uint32(nd.b)
	n.byPrefix[k] = append(n.byPrefix[k], nd)
}

func (n *needles) find(b []byte, fn func(i int, nd *needle)) {
	for i := 0; i+4 <= len(b); i++ {
		if !n.filter[binary.LittleEndian.Uint16(b[i:])] {
			continue
		}
		for _, nd := range n.byPrefix[binary.LittleEndian.Uint32(b[i:])] {
			if bytes.HasPrefix(b[i:], nd.b) {
				fn(i, nd)
			}
		}
	}
}

// --- One principal's run ---

type errorUse struct {
	e    testserver.Error
	used bool
}

// responseChecks is what the checks of one response share.
type responseChecks struct {
	name    string
	errs    map[string][]*errorUse
	cursors []string
	// reached collects the schema paths at which the response holds an
	// object with sensitive fields (generated queries only).
	reached map[string]bool
	// requestID is the response's X-Request-Id, under which its audit
	// events are written.
	requestID string
	// onlyLeaks: the response is a mutation's, whose refusals may take
	// several shapes (the whole payload null, or a field null with its
	// error); what it shows is checked, and a field the policy allows
	// refused with its own FORBIDDEN, but not how else it refuses, and its
	// trail must hold the decisions it carried (a field answered, allowed;
	// a field null with its FORBIDDEN, refused).
	onlyLeaks bool
	// replayRoot, replayID: the response is an idempotent replay of an
	// unchanged record, which it answers at replayRoot as it was made,
	// in the caller's rows or not (replayOnce).
	replayRoot string
	replayID   int
}

// nodeWant is the row a node(id) or nodes(ids) position asks for.
type nodeWant struct {
	typ    string
	id     int
	single bool // node(id) or nodes with one id, not nodes with several
}

// rowsModelled reports whether the oracle knows which rows of the type the
// principal sees; for other types (a charge, a court decision) a node is
// either the row or NOT_FOUND.
func (v *view) rowsModelled(typ string) bool {
	_, ok := v.rows[typ]
	return ok
}

type leakRun struct {
	t     *testing.T
	s     *testserver.Server
	w     *world
	v     *view
	token string

	needles      *needles
	allowedForms map[string]bool
	allowedList  []string
	containers   map[*needle][]string

	// NOT_FOUND messages of an id that names nothing, the id replaced by <ID>.
	nfNode, nfNodes string

	responses, bytes, deniedChecked, allowedChecked int
	allowedSeen                                     map[fieldKey]bool
	// reached are the schema paths of the generated queries at which a
	// response held an object with sensitive fields.
	reached map[string]bool
	// reviews counts the named decisions of the reviews seen (namedReviews).
	reviews reviewsCoverage
	// expectedEvents are the decisions on sensitive fields each response
	// carried, by request id; requestNames name the requests.
	expectedEvents map[string]map[auditKey]bool
	requestNames   map[string]string
	findings       map[string][]finding
	order          []string
	// trailAfter: the run's requests were all sent after the trail's event
	// of that sequence number (0: read the whole trail).
	trailAfter int64
}

func newLeakRun(t *testing.T, s *testserver.Server, w *world, p principal, grants []*ent.EmergencyGrant) *leakRun {
	r := &leakRun{t: t, s: s, w: w, v: newView(t, w, p, grants), token: s.Token(t, p.agency, p.roles...),
		needles: newNeedles(), allowedForms: map[string]bool{}, containers: map[*needle][]string{},
		allowedSeen: map[fieldKey]bool{}, reached: map[string]bool{}, expectedEvents: map[string]map[auditKey]bool{}, requestNames: map[string]string{}, findings: map[string][]finding{}}
	for k := range r.v.allowed {
		for _, f := range jsonForms(w.value(k.typ, k.id, k.field)) {
			if !r.allowedForms[f] {
				r.allowedForms[f] = true
				r.allowedList = append(r.allowedList, f)
			}
		}
	}
	sort.Strings(r.allowedList)
	addRows := func(typ string, ids []int) {
		for _, id := range ids {
			for field := range sensitive[typ] {
				if noByteScan[typ+"."+field] {
					continue
				}
				for _, f := range jsonForms(w.value(typ, id, field)) {
					if len(f) >= 6 && !r.allowedForms[f] {
						r.needles.add(f, fmt.Sprintf("%s.%s of %s %d", typ, field, typ, id))
					}
				}
			}
		}
	}
	for _, typ := range rowTypeNames {
		addRows(typ, w.nodeIDs[typ])
	}
	return r
}

// add records a finding; findings of a category are reported grouped by
// signature (the query and the shape of the path), one example each.
func (r *leakRun) add(category, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	name, _, _ := strings.Cut(msg, ": ")
	r.addSig(category, queryBase(name), msg)
}

func (r *leakRun) addSig(category, sig, msg string) {
	if _, ok := r.findings[category]; !ok {
		r.order = append(r.order, category)
	}
	r.findings[category] = append(r.findings[category], finding{sig, msg})
}

type finding struct{ sig, msg string }

// queryBase is a query's name without its page or batch.
func queryBase(name string) string {
	base, _, _ := strings.Cut(name, " (page")
	base, _, _ = strings.Cut(base, " ×")
	return base
}

// pathShape is a path with its list indexes and node aliases generalised.
func pathShape(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if _, err := strconv.Atoi(p); err == nil {
			parts[i] = "#"
		} else if len(p) > 1 && p[0] == 'n' {
			if _, err := strconv.Atoi(p[1:]); err == nil {
				parts[i] = "n#"
			}
		}
	}
	return strings.Join(parts, "/")
}

func appendPath(path []string, k string) []string {
	return append(path[:len(path):len(path)], k)
}

func pathKey(path []any) string {
	parts := make([]string, len(path))
	for i, p := range path {
		switch x := p.(type) {
		case float64:
			parts[i] = strconv.FormatFloat(x, 'f', -1, 64)
		case json.Number:
			parts[i] = x.String()
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(parts, "/")
}

func decodeJSON(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	return v
}

func valueAt(v any, path string) any {
	for _, k := range strings.Split(path, "/") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func clip(b []byte, i, n int) string {
	lo, hi := max(0, i-n), min(len(b), i+n)
	return string(b[lo:hi])
}

// do sends one operation and checks its response; want names the node
// positions it asks for. It returns the decoded data.
func (r *leakRun) do(name, query string, vars map[string]any, want map[string]nodeWant) any {
	r.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		r.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, r.s.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.token)
	// Uncompressed: the bytes are the same, the server and the test spare
	// gzip (the GET request below keeps the default, compressed).
	req.Header.Set("Accept-Encoding", "identity")
	return r.check(name, r.s.Send(r.t, req), want)
}

// scan looks for denied values in raw bytes.
func (r *leakRun) scan(name string, b []byte) {
	reported := map[*needle]bool{}
	r.needles.find(b, func(i int, nd *needle) {
		if reported[nd] || r.covered(b, i, nd) {
			return
		}
		reported[nd] = true
		label, _, _ := strings.Cut(nd.labels[0], " of ")
		r.addSig("LEAK in raw bytes", queryBase(name)+" "+label,
			fmt.Sprintf("%s: %s may not see %q (%s), yet it is in the response at byte %d: …%s…",
				name, r.v.p, nd.val, strings.Join(nd.labels, "; "), i, clip(b, i, 80)))
	})
}

// covered reports whether the occurrence of nd at i is part of an
// occurrence of a longer value the principal may see.
func (r *leakRun) covered(b []byte, i int, nd *needle) bool {
	cs, ok := r.containers[nd]
	if !ok {
		for _, a := range r.allowedList {
			if len(a) > len(nd.val) && strings.Contains(a, nd.val) {
				cs = append(cs, a)
			}
		}
		r.containers[nd] = cs
	}
	for _, a := range cs {
		for off := 0; ; {
			j := strings.Index(a[off:], nd.val)
			if j < 0 {
				break
			}
			start := i - (off + j)
			if start >= 0 && bytes.HasPrefix(b[start:], []byte(a)) {
				return true
			}
			off += j + 1
		}
	}
	return false
}

func (r *leakRun) walk(rc *responseChecks, v any, path []string, spath string) {
	switch x := v.(type) {
	case map[string]any:
		typ, _ := x["__typename"].(string)
		if spath == "Query.nodes" && typ != "" {
			spath = "Query.nodes(" + typ + ")"
		}
		if typ != "" && rc.reached != nil && len(sensitive[typ]) > 0 {
			rc.reached[spath] = true
		}
		if idStr, ok := x["id"].(string); ok && typ != "" {
			id, err := strconv.Atoi(idStr)
			if err != nil {
				r.add("malformed id", "%s: %s id %q at %s", rc.name, typ, idStr, strings.Join(path, "/"))
			} else {
				r.checkObject(rc, typ, id, x, path)
			}
		}
		for k, c := range x {
			if s, ok := c.(string); ok && (k == "cursor" || k == "startCursor" || k == "endCursor") {
				rc.cursors = append(rc.cursors, s)
			}
			r.walk(rc, c, appendPath(path, k), schemaPath(spath, typ, k))
		}
	case []any:
		for i, c := range x {
			r.walk(rc, c, appendPath(path, strconv.Itoa(i)), spath)
		}
	}
}

// schemaPath is the path through the schema (Query.cases/Case.victims) of
// the value under key k of an object of type typ at spath: the data's root
// fields are Query's, and a connection's edges and nodes are transparent.
// (Generated queries use no aliases.)
func schemaPath(spath, typ, k string) string {
	switch {
	case spath == "" && typ == "":
		return "Query." + k
	case typ == "":
		return spath
	}
	return spath + "/" + typ + "." + k
}

func (r *leakRun) checkObject(rc *responseChecks, typ string, id int, obj map[string]any, path []string) {
	at := strings.Join(path, "/")
	if !r.w.exists(typ, id) {
		r.add("unknown row", "%s: %s %d at %s is not in the database", rc.name, typ, id, at)
		return
	}
	if vis, known := r.v.visible(typ, id); known && !vis && !rc.replayRootAllowed(at, id) {
		r.addSig("LEAK of a row outside the principal's scope", queryBase(rc.name)+" "+pathShape(at),
			fmt.Sprintf("%s: %s %d at %s", rc.name, typ, id, at))
	}
	if fields := sensitive[typ]; fields != nil {
		for key, val := range obj {
			field := key
			if f, ok := aliases[key]; ok {
				field = f
			}
			if _, ok := fields[field]; ok {
				r.checkField(rc, typ, id, field, val, appendPath(path, key))
			}
		}
	}
	for key, val := range obj {
		want, shape, ok := r.v.edge(typ, id, key)
		if !ok {
			continue
		}
		where := fmt.Sprintf("%s: %s %d .%s at %s", rc.name, typ, id, key, at)
		if val == nil {
			// Null where the principal sees the row: withheld (a mutation's
			// answer is checked for what it shows only).
			if shape == "object" && len(want) > 0 && !rc.onlyLeaks {
				r.add("visible row withheld by an edge", "%s: null, the principal sees %v", where, sortedKeys(want))
			}
			continue
		}
		idOf := func(n any) int {
			m, _ := n.(map[string]any)
			s, _ := m["id"].(string)
			i, _ := strconv.Atoi(s)
			return i
		}
		switch shape {
		case "connection":
			conn, _ := val.(map[string]any)
			if tc, ok := conn["totalCount"].(json.Number); ok {
				if n, _ := tc.Int64(); int(n) != len(want) {
					r.add("totalCount of a nested edge", "%s: totalCount %d, the principal sees %d", where, n, len(want))
				}
			}
			edges, _ := conn["edges"].([]any)
			for _, e := range edges {
				em, _ := e.(map[string]any)
				if n, ok := em["node"]; ok {
					if i := idOf(n); !want[i] {
						r.add("wrong row in a nested edge", "%s: holds %d, want one of %v", where, i, sortedKeys(want))
					}
				}
			}
		case "list":
			list, _ := val.([]any)
			for _, n := range list {
				if i := idOf(n); !want[i] {
					r.add("wrong row in a nested edge", "%s: holds %d, want one of %v", where, i, sortedKeys(want))
				}
			}
			if len(list) != len(want) {
				r.add("count of a nested list", "%s: %d rows, the principal sees %d", where, len(list), len(want))
			}
		case "object":
			if i := idOf(val); !want[i] {
				r.add("wrong row in a nested edge", "%s: is %d, want %v", where, i, sortedKeys(want))
			}
		}
	}
}

func sameValue(got, truth any) bool {
	switch x := truth.(type) {
	case nil:
		return got == nil
	case string:
		s, ok := got.(string)
		return ok && s == x
	case time.Time:
		s, ok := got.(string)
		if !ok {
			return false
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		return err == nil && tm.Equal(x)
	case int:
		n, ok := got.(json.Number)
		if !ok {
			return false
		}
		i, err := n.Int64()
		return err == nil && int(i) == x
	}
	return false
}

func (r *leakRun) checkField(rc *responseChecks, typ string, id int, field string, got any, path []string) {
	pk := strings.Join(path, "/")
	errs := rc.errs[pk]
	for _, e := range errs {
		e.used = true
	}
	name := typ + "." + field
	truth := r.w.value(typ, id, field)
	key := fieldKey{typ, id, field}
	if rc.onlyLeaks {
		r.checkShown(rc, typ, id, field, got, pk)
		// The trail holds what the answer carried: a refusal where the
		// field is null with its FORBIDDEN, a read where it is answered.
		refused := len(errs) == 1 && errs[0].e.Code() == "FORBIDDEN" && errs[0].e.Extensions["field"] == name
		if refused || len(errs) == 0 {
			r.expectEvent(rc, typ, id, field, !refused)
		}
		// A field the policy lets the caller read, refused in the answer
		// to the caller's own write, is an over-refusal as in a read: the
		// integrator is told it may not see what it may (until the
		// twenty-sixth session the answer was checked for leaks only).
		if refused && r.v.may(typ, id, field) {
			r.allowedChecked++
			b, _ := json.Marshal(errs[0].e)
			r.addSig("allowed value withheld", queryBase(rc.name)+" "+pathShape(pk),
				fmt.Sprintf("%s: %s of %s %d at %s: the policy allows it, the server answered %s", rc.name, name, typ, id, pk, b))
		}
		return
	}
	r.expectEvent(rc, typ, id, field, r.v.may(typ, id, field))
	if r.v.may(typ, id, field) {
		r.allowedChecked++
		if len(errs) > 0 {
			b, _ := json.Marshal(errs[0].e)
			r.addSig("allowed value withheld", queryBase(rc.name)+" "+pathShape(pk),
				fmt.Sprintf("%s: %s of %s %d at %s: the policy allows it, the server answered %s", rc.name, name, typ, id, pk, b))
			return
		}
		if !sameValue(got, truth) {
			r.addSig("wrong value", queryBase(rc.name)+" "+pathShape(pk),
				fmt.Sprintf("%s: %s of %s %d at %s is %v, the database holds %v", rc.name, name, typ, id, pk, got, truth))
			return
		}
		if truth != nil {
			r.allowedSeen[key] = true
		}
		return
	}
	r.deniedChecked++
	if got != nil {
		r.addSig("LEAK of a denied field", queryBase(rc.name)+" "+pathShape(pk),
			fmt.Sprintf("%s: %s got %s of %s %d = %v at %s; the policy denies it", rc.name, r.v.p, name, typ, id, got, pk))
	}
	if len(errs) != 1 || errs[0].e.Code() != "FORBIDDEN" || errs[0].e.Extensions["field"] != name {
		var bs []string
		for _, e := range errs {
			b, _ := json.Marshal(e.e)
			bs = append(bs, string(b))
		}
		r.addSig("denial without its FORBIDDEN error", queryBase(rc.name)+" "+pathShape(pk),
			fmt.Sprintf("%s: %s of %s %d at %s: want null and one FORBIDDEN error with extensions.field %q, got value %v and errors %v",
				rc.name, name, typ, id, pk, name, got, bs))
	}
}

// checkShown checks a value a mutation's payload shows: a field the
// principal may not read is not shown, one it may is the stored value.
func (r *leakRun) checkShown(rc *responseChecks, typ string, id int, field string, got any, pk string) {
	if got == nil {
		return
	}
	name := typ + "." + field
	if !r.v.may(typ, id, field) {
		r.deniedChecked++
		r.addSig("LEAK of a denied field", queryBase(rc.name)+" "+pathShape(pk),
			fmt.Sprintf("%s: %s got %s of %s %d = %v at %s; the policy denies it", rc.name, r.v.p, name, typ, id, got, pk))
		return
	}
	r.allowedChecked++
	if truth := r.w.value(typ, id, field); !sameValue(got, truth) {
		r.addSig("wrong value", queryBase(rc.name)+" "+pathShape(pk),
			fmt.Sprintf("%s: %s of %s %d at %s is %v, the database holds %v", rc.name, name, typ, id, pk, got, truth))
	}
}

func (r *leakRun) checkNode(rc *responseChecks, data any, pk string, nw nodeWant) {
	got := valueAt(data, pk)
	errs := rc.errs[pk]
	for _, e := range errs {
		e.used = true
	}
	idStr := strconv.Itoa(nw.id)
	if !r.v.rowsModelled(nw.typ) {
		obj, _ := got.(map[string]any)
		shown := obj != nil && obj["id"] == idStr && obj["__typename"] == nw.typ && len(errs) == 0
		hidden := got == nil && len(errs) == 1 && errs[0].e.Code() == "NOT_FOUND"
		if !shown && !hidden {
			r.add("node of a row", "%s: %s %s at %s: want the row or NOT_FOUND, got %v, errors %v", rc.name, nw.typ, idStr, pk, got, len(errs))
		}
		return
	}
	if vis, _ := r.v.visible(nw.typ, nw.id); vis {
		obj, _ := got.(map[string]any)
		if obj == nil && len(errs) == 0 && r.refusedThrough(rc, pk, nw) {
			return
		}
		if obj == nil || obj["id"] != idStr || obj["__typename"] != nw.typ || len(errs) > 0 {
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.e.Code()+" "+e.e.Message)
			}
			r.add("node of a visible row", "%s: %s %s at %s: want the row, got %v, errors %v", rc.name, nw.typ, idStr, pk, got, msgs)
		}
		return
	}
	tmpl := r.nfNodes
	if nw.single {
		tmpl = r.nfNode
	}
	ok := got == nil && len(errs) == 1 && errs[0].e.Code() == "NOT_FOUND" &&
		strings.ReplaceAll(errs[0].e.Message, idStr, "<ID>") == tmpl && len(errs[0].e.Extensions) == 1
	if !ok {
		var msgs []string
		for _, e := range errs {
			b, _ := json.Marshal(e.e)
			msgs = append(msgs, string(b))
		}
		r.add("node of a row outside the scope differs from a missing id", "%s: %s %s at %s: got %v, errors %v; an id naming nothing gives null and NOT_FOUND %q",
			rc.name, nw.typ, idStr, pk, got, msgs, tmpl)
	}
}

// refusedThrough reports whether a row the principal sees is null at pk
// because the query asked for an edge of it the schema declares non-null
// to a row outside the principal's rows (view.refusedEdges): exactly one
// error, NOT_FOUND, on such an edge, and otherwise only the FORBIDDEN
// refusals of sensitive fields below the row, of the fields that resolved
// before it was nulled (the byte scan still reads every message). It marks
// them used, and expects in the trail the refusals of the row's own
// sensitive fields among them: they were decided.
func (r *leakRun) refusedThrough(rc *responseChecks, pk string, nw nodeWant) bool {
	var refusals []*errorUse
	for _, edge := range r.v.refusedEdges(nw.typ, nw.id) {
		refusals = append(refusals, rc.errs[pk+"/"+edge]...)
	}
	if len(refusals) != 1 || refusals[0].e.Code() != "NOT_FOUND" {
		return false
	}
	var below []*errorUse
	for path, errs := range rc.errs {
		if strings.HasPrefix(path, pk+"/") {
			below = append(below, errs...)
		}
	}
	for _, e := range below {
		if e != refusals[0] && e.e.Code() != "FORBIDDEN" {
			return false
		}
	}
	for _, e := range below {
		e.used = true
	}
	for path, errs := range rc.errs {
		key, ok := strings.CutPrefix(path, pk+"/")
		if f, alias := aliases[key]; alias {
			key = f
		}
		if _, sens := sensitive[nw.typ][key]; ok && sens && len(errs) == 1 && errs[0].e.Code() == "FORBIDDEN" {
			r.expectEvent(rc, nw.typ, nw.id, key, false)
		}
	}
	return true
}

// check runs every check on a response: rows in scope, denied fields null
// with their FORBIDDEN error, allowed fields true, node positions, no other
// error, and no denied value in the raw bytes or in a decoded cursor.
func (r *leakRun) check(name string, resp *testserver.Response, want map[string]nodeWant) any {
	return r.checkResponse(name, resp, want, false)
}

// checkResponse is check; onlyLeaks checks a mutation's response for what
// it shows only (see responseChecks).
func (r *leakRun) checkResponse(name string, resp *testserver.Response, want map[string]nodeWant, onlyLeaks bool) any {
	return r.checkWith(r.newChecks(name, resp, onlyLeaks), resp, want)
}

// newChecks starts the checks of one response.
func (r *leakRun) newChecks(name string, resp *testserver.Response, onlyLeaks bool) *responseChecks {
	rc := &responseChecks{name: name, errs: map[string][]*errorUse{}, reached: r.reached, requestID: resp.Header.Get("X-Request-Id"), onlyLeaks: onlyLeaks}
	r.expectTrail(rc.requestID, name)
	for _, e := range resp.Errors {
		k := pathKey(e.Path)
		rc.errs[k] = append(rc.errs[k], &errorUse{e: e})
	}
	return rc
}

// checkWith runs the checks of rc on its response.
func (r *leakRun) checkWith(rc *responseChecks, resp *testserver.Response, want map[string]nodeWant) any {
	name, onlyLeaks := rc.name, rc.onlyLeaks
	r.responses++
	r.bytes += len(resp.Body)
	if resp.Status != http.StatusOK {
		r.add("HTTP status", "%s: status %d: %s", name, resp.Status, clip(resp.Body, 0, 400))
	}
	data := decodeJSON(resp.Data)
	r.walk(rc, data, nil, "")
	for pk, nw := range want {
		r.checkNode(rc, data, pk, nw)
	}
	for _, list := range rc.errs {
		for _, e := range list {
			if !e.used && !onlyLeaks {
				b, _ := json.Marshal(e.e)
				r.addSig("unexpected error", queryBase(name)+" "+pathShape(pathKey(e.e.Path))+" "+e.e.Code(), fmt.Sprintf("%s: %s", name, b))
			}
		}
	}
	r.scan(name, resp.Body)
	for _, c := range rc.cursors {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if dec, err := enc.DecodeString(c); err == nil {
				r.scan(name+" (decoded cursor)", dec)
				break
			}
		}
	}
	return data
}

// nodeSample bounds, per type and per side of the principal's scope, the
// rows asked one by one with node(id): each costs the server a query of its
// own (nodes(ids) asks for every row, in batches).
