package leaktest_test

import (
	"fmt"
	"slices"
	"strconv"
)

// generatedNodeSample bounds the rows of each type a generated nodes(ids:)
// query asks for, on each side of the principal's scope.
const generatedNodeSample = 15

// generated runs the battery derived from the schema (generatedQueries):
// every path of up to pathDepth edges from every root field, and from
// nodes(ids:) of every Node type, to every sensitive field.
func (r *leakRun) generated(queries []generatedQuery) {
	for _, q := range queries {
		if q.typ == "" {
			r.do(q.name, q.query, nil, nil)
			continue
		}
		sample := r.nodeSample(q.typ)
		if len(sample) == 0 {
			continue
		}
		ids := make([]string, len(sample))
		want := map[string]nodeWant{}
		for i, id := range sample {
			ids[i] = strconv.Itoa(id)
			want[fmt.Sprintf("nodes/%d", i)] = nodeWant{typ: q.typ, id: id, single: len(sample) == 1}
		}
		r.do(q.name, q.query, map[string]any{"ids": ids}, want)
	}
}

// nodeSample picks rows of typ spread over its ids: up to
// generatedNodeSample inside the principal's rows and as many outside
// (where the oracle models the type's rows), or twice as many of any; and
// every row the principal sees whose non-null edges lead outside its rows
// (view.refusedEdges: a court's own decision in a proceeding it does not
// see), so that the battery meets the refusal (refusedThrough).
func (r *leakRun) nodeSample(typ string) []int {
	all := r.w.nodeIDs[typ]
	spread := func(ids []int, n int) []int {
		n = min(n, len(ids))
		out := make([]int, 0, n)
		for i := range n {
			out = append(out, ids[i*len(ids)/n])
		}
		return out
	}
	if !r.v.rowsModelled(typ) {
		return spread(all, 2*generatedNodeSample)
	}
	var in, out, refused []int
	for _, id := range all {
		switch vis, _ := r.v.visible(typ, id); {
		case vis && len(r.v.refusedEdges(typ, id)) > 0:
			refused = append(refused, id)
		case vis:
			in = append(in, id)
		default:
			out = append(out, id)
		}
	}
	return slices.Concat(refused, spread(in, generatedNodeSample), spread(out, generatedNodeSample))
}
