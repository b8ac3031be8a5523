package statistics

import (
	"cmp"
	"hash/fnv"
	"slices"
)

// Disclosure control (docs/statistics.md says why it is safe, and what it
// does not protect against).
//
// A table of people publishes a time series (its total by month) and its
// grids (Dataset.grids: each a year crossed with a few dimensions; two
// grids share no dimension). In each such layer, a year at a time, a cell
// counting fewer than k people, but some, is hidden, and when any is, so
// are two others chosen by their values alone, never their counts
// (complements). A year is dark, shown in no layer, when its total is
// below k or when, in some layer, a reader who knows this rule could tell
// a hidden cell's count from the cells shown and the year's total
// (pinned): every layer would otherwise give that total back.
//
// A shown number is a sum of finest cells (every dimension, one month):
//
//   - a number of some dimension (grouped by one, or under a filter on
//     one) lies in one grid and sums whole years of it: it is shown
//     exactly when it holds no hidden cell of that grid;
//   - a number of no dimension (the whole table in some months) is shown
//     when, in each year it touches, it holds none of the year's hidden
//     months, or all of them and the year is not dark.
//
// Whether a number is shown and its value depend only on the cells it
// sums, never on the request it came in: the same cell is hidden in every
// request. What any combination of shown numbers tells of hidden cells is
// at most each year's hidden sum in each layer, with the rule that hid
// them, which pinned checks tells no hidden count; and as layers share
// only the year's total, no layer tells anything of another's hidden cells
// that its own shown cells do not (docs/statistics.md, "Why differencing
// gives nothing away").

// DefaultThreshold is k when the policy gives a role none.
const DefaultThreshold = 5

// Control is how a caller's counts of people are protected: the policy's
// threshold for their roles, or exact counts for those who may see them.
type Control struct {
	// K is the threshold: a cell of the time series or of a grid below it
	// (and above zero) is hidden. Zero means DefaultThreshold.
	K int
	// Exact: the caller sees exact counts of the rows they see.
	Exact bool
}

// threshold is the k applied to a table, 0 for none.
func (c Control) threshold(people bool) int {
	switch {
	case !people || c.Exact:
		return 0
	case c.K <= 0:
		return DefaultThreshold
	}
	return c.K
}

// layerCell is a cell of a layer: the time series (its values are the
// month) or a grid (a value of each of its dimensions), in a year.
type layerCell struct {
	year   string
	values []string
	count  int
}

// complementsPerYear is how many cells of a year's layer complementary
// suppression hides beside its small ones (all there are, when fewer).
// The choice depends only on which cells are small and on their values
// (complements), never on the other counts, so a reader who knows the rule
// learns from it only which cells could be the small ones; what the
// hidden sum then tells is checked by pinned.
const complementsPerYear = 2

// complementOrder is a fixed order of a grid's cells: a hash of their
// values, never their counts. Taking the smallest cells first (an earlier
// rule) told a reader that each complement was no larger than the smallest
// count shown, which, with the hidden sum, could pin a small cell.
func complementOrder(c layerCell) uint64 {
	h := fnv.New64a()
	for _, v := range c.values {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// complements are the cells of year (indexes into layer) that
// complementary suppression hides when the cells small are: none when no
// cell is small; else complementsPerYear of the others, chosen one by one,
// each the closest to those hidden so far (sharing a value of the first
// dimension counts most, of the last least: a grid's row, so that the
// totals of the rows left shown keep what they can), ties in
// complementOrder.
func complements(layer []layerCell, year []int, small map[int]bool, inOrder func(a, b layerCell) int) []int {
	if len(small) == 0 {
		return nil
	}
	hidden := make([]int, 0, len(small)+complementsPerYear)
	for _, i := range year {
		if small[i] {
			hidden = append(hidden, i)
		}
	}
	closeness := func(i int) int {
		best := 0
		for _, j := range hidden {
			n := 0
			for d, v := range layer[i].values {
				if layer[j].values[d] == v {
					n += 1 << (len(layer[i].values) - 1 - d)
				}
			}
			best = max(best, n)
		}
		return best
	}
	var chosen []int
	for len(chosen) < complementsPerYear {
		next, nearest := -1, -1
		for _, i := range year {
			if slices.Contains(hidden, i) {
				continue
			}
			c := closeness(i)
			if next < 0 || c > nearest || c == nearest && inOrder(layer[i], layer[next]) < 0 {
				next, nearest = i, c
			}
		}
		if next < 0 {
			break
		}
		chosen = append(chosen, next)
		hidden = append(hidden, next)
	}
	return chosen
}

// compareInOrder orders a grid's cells by complementOrder, then by
// values: the order its complements are taken in.
func compareInOrder(a, b layerCell) int {
	if x, y := complementOrder(a), complementOrder(b); x != y {
		return cmp.Compare(x, y)
	}
	return slices.Compare(a.values, b.values)
}

// hideLayer decides one layer, a year at a time: cells below k (and above
// zero) are hidden (primary suppression), and with them their complements
// (complementary suppression), taken in inOrder when equally close. safe
// lists the years whose layer may be shown: its total is k or more and no
// hidden cell's count follows from what is shown and the rule itself
// (pinned).
func hideLayer(layer []layerCell, k int, inOrder func(a, b layerCell) int) (hidden []bool, safe map[string]bool) {
	hidden = make([]bool, len(layer))
	byYear := map[string][]int{}
	for i, c := range layer {
		byYear[c.year] = append(byYear[c.year], i)
	}
	safe = make(map[string]bool, len(byYear))
	for y, year := range byYear {
		small, total := map[int]bool{}, 0
		for _, i := range year {
			if layer[i].count > 0 && layer[i].count < k {
				small[i], hidden[i] = true, true
			}
			total += layer[i].count
		}
		for _, i := range complements(layer, year, small, inOrder) {
			hidden[i] = true
		}
		safe[y] = total >= k && !pinned(layer, hidden, year, k, inOrder)
	}
	return hidden, safe
}

// pinned reports whether a reader who knows the rule (hideLayer), the
// cells shown and the year's hidden sum could tell the count of a hidden
// cell. It tries every way the rule could have hidden these cells: which
// of them were the complements (none, one or two, each counting k or
// more; the rest below k), keeping those whose small cells the rule
// (complements) would give these complements; in each, each hidden cell
// lies in an interval (its bounds, less what the others can hold of the
// sum). A cell whose every interval is one and the same value is pinned.
func pinned(layer []layerCell, hidden []bool, year []int, k int, inOrder func(a, b layerCell) int) bool {
	var h []int
	sum := 0
	for _, i := range year {
		if hidden[i] {
			h = append(h, i)
			sum += layer[i].count
		}
	}
	if len(h) == 0 {
		return false
	}
	// may[x] is what hidden cell x may count: the first value seen, and
	// whether another was.
	type values struct {
		seen, several bool
		v             int
	}
	may := make([]values, len(h))
	try := func(complement func(x int) bool) {
		small, n := map[int]bool{}, 0
		for x, i := range h {
			if complement(x) {
				n++
			} else {
				small[i] = true
			}
		}
		if len(small) == 0 {
			return
		}
		chosen := complements(layer, year, small, inOrder)
		if len(chosen) != n || slices.ContainsFunc(chosen, func(i int) bool { return small[i] || !hidden[i] }) {
			return
		}
		// Small cells count 1 to k-1, complements k or more (no ceiling).
		sumLo, sumCeilings := 0, 0
		for x := range h {
			if complement(x) {
				sumLo += k
			} else {
				sumLo, sumCeilings = sumLo+1, sumCeilings+k-1
			}
		}
		if sum < sumLo || n == 0 && sum > sumCeilings {
			return
		}
		for x := range h {
			// x takes what the others leave: at least the sum less their
			// ceilings (none when a complement is among them), at most the
			// sum less their floors.
			lo, ceiling, othersComplements := 1, k-1, n
			if complement(x) {
				lo, ceiling, othersComplements = k, 0, n-1
			}
			from, to := lo, sum-(sumLo-lo)
			if othersComplements == 0 {
				from = max(from, sum-(sumCeilings-ceiling))
			}
			if !complement(x) {
				to = min(to, ceiling)
			}
			m := &may[x]
			switch {
			case from < to || m.seen && from != m.v:
				m.several = true
			case !m.seen:
				m.seen, m.v = true, from
			}
		}
	}
	// The way the rule did hide them first: when it leaves every hidden cell
	// more than one count, no other way can take that away (the sets only
	// grow), and the search of the others, which grows with the cube of the
	// hidden cells, is not needed.
	try(func(x int) bool { return layer[h[x]].count >= k })
	if !slices.ContainsFunc(may, func(m values) bool { return !m.several }) {
		return false
	}
	// Past a few dozen hidden cells the search would cost a request seconds:
	// count the layer pinned (its year dark) rather than search.
	if len(h) > maxSearchedHidden {
		return true
	}
	try(func(int) bool { return false })
	for a := range h {
		try(func(x int) bool { return x == a })
		for b := a + 1; b < len(h); b++ {
			try(func(x int) bool { return x == a || x == b })
		}
	}
	for _, m := range may {
		if !m.several {
			return true
		}
	}
	return false
}

// decision is disclosure control's decision on a table's finest cells
// under one k.
type decision struct {
	// inHidden[g][f]: finest cell f lies in a hidden cell of grid g.
	inHidden [][]bool
	// hiddenMonth: a month's total is hidden in the time series.
	hiddenMonth map[string]bool
	// hiddenMonths counts each year's hidden months.
	hiddenMonths map[string]int
	// shownYear: the year may be shown, being neither dark nor not closed
	// yet (docs/statistics.md, rules 4 and 5); false: withheld from every
	// layer.
	shownYear map[string]bool
}

// withheldIn are the years withheld from every layer (dark, or not
// closed) that q's from and to span.
func (dc *decision) withheldIn(q Query) []string {
	var out []string
	for y, shown := range dc.shownYear {
		if !shown && (q.From == "" || y >= q.From[:4]) && (q.To == "" || y <= q.To[:4]) {
			out = append(out, y)
		}
	}
	return out
}

// spansWithheld reports whether q's from and to span a withheld year.
func (dc *decision) spansWithheld(q Query) bool { return len(dc.withheldIn(q)) > 0 }

// maxSearchedHidden is the most hidden cells of a layer's year whose every
// classification pinned tries; at 40, about 800 tries of a few thousand
// steps each.
const maxSearchedHidden = 40

// chronologically orders the months of the time series by the calendar.
func chronologically(a, b layerCell) int { return slices.Compare(a.values, b.values) }

// decide applies disclosure control to a table's finest cells, whose
// dimensions are dims, under k: the time series and each grid, each year.
// The years withheld (not closed: editions.go) are shown in no layer.
func decide(fine []fineCell, dims []string, grids [][]string, k int, withheld []string) *decision {
	// The time series: one cell a month, released by year.
	var months []layerCell
	at := map[string]int{}
	for _, c := range fine {
		i, ok := at[c.month]
		if !ok {
			i = len(months)
			at[c.month] = i
			months = append(months, layerCell{year: c.month[:4], values: []string{c.month}})
		}
		months[i].count += c.count
	}
	// Months are taken as complements in the order of the calendar: the
	// months of a year arrive in that order, so a month hidden stays hidden
	// as the year goes on (in the order of a hash, a new month could take a
	// complement's place, and show a month that an earlier look hid, whose
	// year's total was shown then).
	hiddenMonth, shownYear := hideLayer(months, k, chronologically)
	// A year not closed is withheld from every layer, its time series too
	// (editions.go); it has no cells here when k > 0.
	for _, y := range withheld {
		shownYear[y] = false
	}

	// Each grid: one cell a year and value of each of its dimensions.
	type layer struct {
		hidden []bool
		of     []int // finest cell → its cell of the grid
	}
	layers := make([]layer, len(grids))
	for g, grid := range grids {
		pos := make([]int, len(grid))
		for i, dim := range grid {
			pos[i] = slices.Index(dims, dim)
		}
		var cells []layerCell
		at := map[string]int{}
		of := make([]int, len(fine))
		var key []byte
		for f, c := range fine {
			key = append(key[:0], c.month[:4]...)
			for _, p := range pos {
				key = append(append(key, 0), c.values[p]...)
			}
			i, ok := at[string(key)]
			if !ok {
				i = len(cells)
				at[string(key)] = i
				values := make([]string, len(pos))
				for j, p := range pos {
					values[j] = c.values[p]
				}
				cells = append(cells, layerCell{year: c.month[:4], values: values})
			}
			cells[i].count += c.count
			of[f] = i
		}
		hidden, safe := hideLayer(cells, k, compareInOrder)
		for y, ok := range safe {
			shownYear[y] = shownYear[y] && ok
		}
		layers[g] = layer{hidden, of}
	}

	dc := &decision{inHidden: make([][]bool, len(grids)), hiddenMonth: map[string]bool{}, hiddenMonths: map[string]int{}, shownYear: shownYear}
	for i, m := range months {
		if hiddenMonth[i] || !shownYear[m.year] {
			dc.hiddenMonth[m.values[0]] = true
			dc.hiddenMonths[m.year]++
		}
	}
	for g, l := range layers {
		dc.inHidden[g] = make([]bool, len(fine))
		for f, c := range fine {
			dc.inHidden[g][f] = l.hidden[l.of[f]] || !shownYear[c.month[:4]]
		}
	}
	return dc
}

// withholdsWhole reports whether a number of no dimension that holds
// hiddenMonths (the hidden months it sums) is withheld: when it holds some
// of a year's hidden months but not all, or the year is dark.
func (dc *decision) withholdsWhole(hiddenMonths map[string]bool) bool {
	perYear := map[string]int{}
	for m := range hiddenMonths {
		perYear[m[:4]]++
	}
	for y, n := range perYear {
		if n != dc.hiddenMonths[y] || !dc.shownYear[y] {
			return true
		}
	}
	return false
}

// publish is a cell as shown: its count, or null and suppressed when it
// is withheld.
func publish(c Cell, count int, hidden bool) Cell {
	if hidden {
		c.Suppressed = true
		return c
	}
	c.Count = &count
	return c
}
