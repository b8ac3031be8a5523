package leaktest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
)

func (r *leakRun) page(name, query, field string, size int, forward bool, maxPages int) (ids []int, total int, complete bool) {
	var cursor any
	for n := 0; n < maxPages; n++ {
		data := r.do(fmt.Sprintf("%s (page %d)", name, n+1), query, map[string]any{"n": size, "cursor": cursor}, nil)
		conn, _ := valueAt(data, field).(map[string]any)
		if conn == nil {
			r.add("paging", "%s: no %s in the data", name, field)
			return ids, total, false
		}
		tc, _ := conn["totalCount"].(json.Number)
		t, _ := tc.Int64()
		if n == 0 {
			total = int(t)
		} else if int(t) != total {
			r.add("paging", "%s: totalCount %d on page %d, %d on page 1", name, t, n+1, total)
		}
		edges, _ := conn["edges"].([]any)
		var pageIDs []int
		for _, e := range edges {
			id, _ := strconv.Atoi(fmt.Sprint(valueAt(e, "node/id")))
			pageIDs = append(pageIDs, id)
		}
		if len(pageIDs) > size {
			r.add("paging", "%s: page %d has %d rows, asked for %d", name, n+1, len(pageIDs), size)
		}
		if forward {
			ids = append(ids, pageIDs...)
		} else {
			ids = append(pageIDs, ids...)
		}
		pi, _ := conn["pageInfo"].(map[string]any)
		more, key := pi["hasNextPage"], "endCursor"
		if !forward {
			more, key = pi["hasPreviousPage"], "startCursor"
		}
		if more != true {
			return ids, total, true
		}
		cursor = pi[key]
		if cursor == nil {
			r.add("paging", "%s: more pages but no cursor", name)
			return ids, total, false
		}
	}
	return ids, total, false
}

// expect compares a paged list with the rows the oracle says the principal
// sees.
func (r *leakRun) expect(name string, ids []int, total int, complete bool, want map[int]bool) {
	seen := map[int]bool{}
	for _, id := range ids {
		if seen[id] {
			r.add("paging", "%s: row %d comes twice", name, id)
		}
		seen[id] = true
	}
	if total != len(want) {
		r.add("totalCount differs from the principal's rows", "%s: totalCount %d, the oracle counts %d", name, total, len(want))
	}
	if !complete {
		return
	}
	if len(ids) != total {
		r.add("totalCount differs from paging", "%s: paging reached %d rows, totalCount says %d", name, len(ids), total)
	}
	var missing []int
	for id := range want {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		r.add("visible rows missing", "%s: %d rows the principal sees were not returned, e.g. %v", name, len(missing), missing[:min(5, len(missing))])
	}
}

func (r *leakRun) victimsWhere(f func(*ent.Victim) bool) map[int]bool {
	out := map[int]bool{}
	for id := range r.v.rows["Victim"] {
		if f(r.w.victims[id]) {
			out[id] = true
		}
	}
	return out
}

// canary makes sure the byte scan finds a denied value, so that a clean
// scan means something.
func (r *leakRun) canary() {
	if len(r.needles.byVal) == 0 {
		if len(r.v.rows["Victim"]) < len(r.w.victims) || len(r.v.allowed) == 0 {
			r.t.Fatalf("%s: no denied value to look for", r.v.p)
		}
		return
	}
	var nd *needle
	for _, x := range r.needles.byVal {
		if nd == nil || x.val < nd.val {
			nd = x
		}
	}
	body := []byte(`{"data":{"x":"` + nd.val + `"}}`)
	found := 0
	r.needles.find(body, func(i int, got *needle) {
		if got == nd && !r.covered(body, i, got) {
			found++
		}
	})
	if found != 1 {
		r.t.Fatalf("%s: the byte scan does not find %q in %s", r.v.p, nd.val, body)
	}
}

// notFoundTemplates learns the answer to an id that names nothing.
func (r *leakRun) notFoundTemplates() {
	victimIDs := r.w.nodeIDs["Victim"]
	missing := strconv.Itoa(victimIDs[len(victimIDs)-1] + 1000)
	missing2 := strconv.Itoa(victimIDs[len(victimIDs)-1] + 2000)
	resp := r.s.Do(r.t, r.token, nodeQuery, map[string]any{"id": missing})
	if string(resp.Data) != `{"node":null}` || len(resp.Errors) != 1 || resp.Errors[0].Code() != "NOT_FOUND" {
		r.t.Fatalf("node(%s) of an id that names nothing: want null and one NOT_FOUND, got %s", missing, resp.Body)
	}
	r.nfNode = strings.ReplaceAll(resp.Errors[0].Message, missing, "<ID>")
	r.expectTrail(resp.Header.Get("X-Request-Id"), "node(id) naming nothing")
	resp = r.s.Do(r.t, r.token, nodesQuery, map[string]any{"ids": []string{missing, missing2}})
	if string(resp.Data) != `{"nodes":[null,null]}` || len(resp.Errors) != 2 || resp.Errors[0].Code() != "NOT_FOUND" {
		r.t.Fatalf("nodes([%s, %s]) of ids that name nothing: want two nulls with NOT_FOUND, got %s", missing, missing2, resp.Body)
	}
	r.nfNodes = strings.ReplaceAll(resp.Errors[0].Message, missing, "<ID>")
	r.expectTrail(resp.Header.Get("X-Request-Id"), "nodes(ids) naming nothing")
	if strings.Contains(r.nfNode, missing) || strings.Contains(r.nfNodes, missing) {
		r.t.Fatalf("the id is in the message twice: %q %q", r.nfNode, r.nfNodes)
	}
}

// nodeShapes compares, byte for byte (ids replaced), the answer to a row
// outside the principal's rows with the answer to an id that names nothing.
func (r *leakRun) nodeShapes() {
	for _, typ := range rowTypeNames {
		all := r.w.nodeIDs[typ]
		out, in := 0, 0
		for _, id := range all {
			vis, _ := r.v.visible(typ, id)
			if !vis && out == 0 {
				out = id
			}
			if vis && in == 0 {
				in = id
			}
		}
		if out == 0 {
			continue
		}
		missing := all[len(all)-1] + 1000
		norm := func(b []byte, id int) string {
			return strings.ReplaceAll(string(b), strconv.Itoa(id), "<ID>")
		}
		// want(id) are the node positions of the answer asking for id (the
		// row outside the scope, or the missing one).
		compare := func(what, q string, vars func(id int) map[string]any, want func(id int) map[string]nodeWant) {
			a := r.s.Do(r.t, r.token, q, vars(out))
			b := r.s.Do(r.t, r.token, q, vars(missing))
			if a.Status != b.Status || norm(a.Body, out) != norm(b.Body, missing) {
				r.add("node of a row outside the scope differs from a missing id", "%s %s: %s %d (outside the scope) gave %d %s; %d (no such row) gave %d %s",
					typ, what, typ, out, a.Status, a.Body, missing, b.Status, b.Body)
			}
			// Both responses go through the leak checks too, and are
			// compared with the trail.
			r.check(what+" of "+typ+" outside the scope", a, want(out))
			r.check(what+" of "+typ+" naming nothing", b, want(missing))
		}
		compare("node(id)", nodeQuery, func(id int) map[string]any { return map[string]any{"id": strconv.Itoa(id)} },
			func(id int) map[string]nodeWant { return map[string]nodeWant{"node": {typ, id, true}} })
		compare("nodes([id])", nodesQuery, func(id int) map[string]any { return map[string]any{"ids": []string{strconv.Itoa(id)}} },
			func(id int) map[string]nodeWant { return map[string]nodeWant{"nodes/0": {typ, id, true}} })
		if in != 0 {
			compare("nodes([visible, id])", nodesQuery, func(id int) map[string]any {
				return map[string]any{"ids": []string{strconv.Itoa(in), strconv.Itoa(id)}}
			}, func(id int) map[string]nodeWant {
				return map[string]nodeWant{"nodes/0": {typ, in, false}, "nodes/1": {typ, id, false}}
			})
		}
	}
}

const nodeSample = 100

// everyNode asks nodes(ids) for every victim, suspect and support service
// in the database, and node(id) for up to nodeSample of each type inside
// the principal's rows and as many outside, spread over the ids.
func (r *leakRun) everyNode() {
	var refs, sample []nodeWant
	for _, typ := range rowTypeNames {
		ids := r.w.nodeIDs[typ]
		var in, out []nodeWant
		for _, id := range ids {
			ref := nodeWant{typ: typ, id: id}
			refs = append(refs, ref)
			if vis, _ := r.v.visible(typ, id); vis {
				in = append(in, ref)
			} else {
				out = append(out, ref)
			}
		}
		for _, side := range [][]nodeWant{in, out} {
			n := min(len(side), nodeSample)
			for i := range n {
				sample = append(sample, side[i*len(side)/n])
			}
		}
	}
	// node(id:), many times in one operation under aliases.
	const perOp = 250
	for i := 0; i < len(sample); i += perOp {
		chunk := sample[i:min(i+perOp, len(sample))]
		var b strings.Builder
		b.WriteString("query {")
		want := map[string]nodeWant{}
		for j, ref := range chunk {
			alias := fmt.Sprintf("n%d", j)
			fmt.Fprintf(&b, "\n  %s: node(id: %q) %s", alias, strconv.Itoa(ref.id), nodeLight)
			ref.single = true
			want[alias] = ref
		}
		b.WriteString("\n}")
		r.do(fmt.Sprintf("node(id) ×%d from #%d", len(chunk), i), withFragments(b.String()), nil, want)
	}
	// nodes(ids:), in batches.
	r.askNodes("nodes(ids)", nodesQuery, refs, 400, nil)
}

// askNodes asks query (a nodes(ids:) query) for refs in batches of
// perBatch, each named label and checked against the oracle; then, if
// answered is not nil, hands it each batch's data with its refs.
func (r *leakRun) askNodes(label, query string, refs []nodeWant, perBatch int, answered func(data any, refs []nodeWant)) {
	for i := 0; i < len(refs); i += perBatch {
		chunk := refs[i:min(i+perBatch, len(refs))]
		if len(chunk) == 1 && i > 0 { // one id takes node's path; keep batches plural
			chunk = refs[i-1:]
		}
		ids := make([]string, len(chunk))
		want := map[string]nodeWant{}
		for j, ref := range chunk {
			ids[j] = strconv.Itoa(ref.id)
			want[fmt.Sprintf("nodes/%d", j)] = ref
		}
		data := r.do(fmt.Sprintf("%s ×%d from #%d", label, len(chunk), i), query, map[string]any{"ids": ids}, want)
		if answered != nil {
			answered(data, chunk)
		}
	}
}

func (r *leakRun) battery() {
	v := r.v
	r.canary()
	r.notFoundTemplates()

	// Every victim, forwards with every sensitive field, aliases and
	// fragments, then backwards with a few.
	ids, total, done := r.page("victims forwards", victimsForward, "victims", 200, true, 20)
	r.expect("victims forwards", ids, total, done, v.rows["Victim"])
	ids, total, done = r.page("victims backwards", victimsBackward, "victims", 200, false, 20)
	r.expect("victims backwards", ids, total, done, v.rows["Victim"])

	// Filters and orderings on non-sensitive fields.
	ids, total, done = r.page("victims: female minors", victimsMinorFemale, "victims", 250, true, 10)
	r.expect("victims: female minors", ids, total, done, r.victimsWhere(func(x *ent.Victim) bool {
		return x.AgeGroup == domain.AgeGroupMinor && x.Sex == domain.SexFemale
	}))
	ids, total, done = r.page("victims: foreign or official", victimsForeignOrOfficial, "victims", 250, true, 10)
	r.expect("victims: foreign or official", ids, total, done, r.victimsWhere(func(x *ent.Victim) bool {
		return x.ForeignNational || x.IdentificationStatus == domain.IdentificationStatusOfficialVictim
	}))

	// Victim → services (notes) and referrals → victim: the first pages.
	ids, total, done = r.page("victims → services, referrals", victimServices, "victims", 50, true, nestedPages)
	r.expect("victims → services, referrals", ids, total, done, r.victimsWhere(func(x *ent.Victim) bool {
		return (x.IdentificationStatus == domain.IdentificationStatusOfficialVictim ||
			x.IdentificationStatus == domain.IdentificationStatusPotentialVictim) && x.Region != domain.RegionTirane
	}))

	// Cases: every one with a nested count, the first pages deeply nested
	// (case → victims → cases → victims, suspects, proceedings, referrals).
	ids, total, done = r.page("cases", casesFlat, "cases", 250, true, 20)
	r.expect("cases", ids, total, done, v.rows["Case"])
	ids, total, done = r.page("cases nested", casesNested, "cases", 25, true, nestedPages)
	r.expect("cases nested", ids, total, done, v.rows["Case"])
	r.casesWhere()

	ids, total, done = r.page("suspects", suspectsQuery, "suspects", 250, true, 20)
	r.expect("suspects", ids, total, done, v.rows["Suspect"])

	// Proceedings and referrals: every one, then the first pages nested.
	ids, total, done = r.page("prosecutions", prosecutionsFlat, "prosecutions", 250, true, 20)
	r.expect("prosecutions", ids, total, done, v.rows["Prosecution"])
	ids, total, done = r.page("prosecutions nested", prosecutionsQuery, "prosecutions", 50, true, 1)
	r.expect("prosecutions nested", ids, total, done, v.rows["Prosecution"])
	ids, total, done = r.page("referrals", referralsFlat, "referrals", 250, true, 20)
	r.expect("referrals", ids, total, done, v.rows["Referral"])
	ids, total, done = r.page("referrals nested", referralsQuery, "referrals", 50, true, 1)
	r.expect("referrals nested", ids, total, done, v.rows["Referral"])

	// Agencies (every principal sees them all) → their cases → victims and
	// suspects; the viewer's own agency; consents → victim.
	r.do("agencies", agenciesQuery, nil, nil)

	// Emergency grants: one's own, or the agency's for its data protection
	// officer.
	ids, total, done = r.page("emergency grants", grantsQuery, "emergencyGrants", 100, true, 5)
	r.expect("emergency grants", ids, total, done, v.rows["EmergencyGrant"])

	r.everyNode()
	r.otherNodes()
	r.namedReviews()
	r.nodeShapes()
	r.overGET()
}

// otherNodes asks nodes(ids) for every case, proceeding, referral and
// consent, each with a path to victims or suspects.
func (r *leakRun) otherNodes() {
	var refs []nodeWant
	for _, typ := range []string{"Case", "Prosecution", "Referral", "Consent"} {
		for _, id := range r.w.nodeIDs[typ] {
			refs = append(refs, nodeWant{typ: typ, id: id})
		}
	}
	r.askNodes("nodes(ids) of other types", otherNodes, refs, 500, nil)
}

// overGET sends a query with GET, the other transport.
func (r *leakRun) overGET() {
	req, err := http.NewRequest(http.MethodGet, r.s.URL+"/graphql?query="+url.QueryEscape(victimsGET), nil)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	r.check("victims over GET", r.s.Send(r.t, req), nil)
}

// nestedPages caps the pages of the deeply nested queries (the flat
// lists page through everything).
const nestedPages = 2

// casesWhere filters cases on non-sensitive fields.
func (r *leakRun) casesWhere() {
	ids, total, done := r.page("cases: Tirana or Vlorë, open", casesFiltered, "cases", 250, true, 10)
	want := map[int]bool{}
	for id := range r.v.rows["Case"] {
		c := r.w.cases[id]
		if (c.Region == domain.RegionTirane || c.Region == domain.RegionVlore) && c.ClosedAt == nil {
			want[id] = true
		}
	}
	r.expect("cases: Tirana or Vlorë, open", ids, total, done, want)
}
