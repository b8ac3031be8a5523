package statistics

import "slices"

// Disclosure control (docs/statistics.md says why it is safe, and what it
// does not protect against).
//
// A table of people publishes a time series (its total by month) and its
// grids (Dataset.grids: each a year crossed with a few dimensions; two
// grids share no dimension). In each, a cell counting fewer than k people,
// but some, is hidden; and in each year, a layer's hidden cells must be
// none, or at least two that sum to k or more and cannot all be at k-1
// (then each would be known): until they are, the year's smallest other
// cell is hidden too (complementary suppression). A year that a layer
// cannot make safe so (fewer than k people in all, or every cell at k-1)
// is dark: nothing of it is shown in any layer, as every grid would
// otherwise give its total back.
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
// at most each year's hidden sum in each layer, which covers two or more
// cells and k or more people; and as grids share only the year's total, no
// grid tells anything of another's hidden cells that its own shown cells
// do not (docs/statistics.md, "Why differencing gives nothing away").

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

// hiddenCells marks a layer's cells below k (primary suppression), and in
// each year whose hidden cells could be told from its total, the smallest
// others until they cannot (complementary suppression).
func hiddenCells(layer []layerCell, k int) []bool {
	hidden := make([]bool, len(layer))
	byYear := map[string][]int{}
	for i, c := range layer {
		hidden[i] = c.count > 0 && c.count < k
		byYear[c.year] = append(byYear[c.year], i)
	}
	for _, year := range byYear {
		// Smallest first, then by values: the same choice every time.
		slices.SortFunc(year, func(a, b int) int {
			if d := layer[a].count - layer[b].count; d != 0 {
				return d
			}
			return slices.Compare(layer[a].values, layer[b].values)
		})
		for _, i := range year {
			if yearReleasable(layer, hidden, year, k) {
				break
			}
			hidden[i] = true
		}
	}
	return hidden
}

// yearReleasable reports whether a year's hidden cells are none, or
// at least two summing to k or more, not all of them known to be k-1 (a
// complementary cell, k or more, has no known ceiling).
func yearReleasable(layer []layerCell, hidden []bool, year []int, k int) bool {
	n, sum, pinned := 0, 0, true
	for _, i := range year {
		if !hidden[i] {
			continue
		}
		n++
		sum += layer[i].count
		pinned = pinned && layer[i].count == k-1
	}
	return n == 0 || (n >= 2 && sum >= k && !pinned)
}

// releasable lists the years of a layer whose hidden cells hiddenCells
// could make safe.
func releasable(cells []layerCell, hidden []bool, k int) map[string]bool {
	byYear := map[string][]int{}
	for i, c := range cells {
		byYear[c.year] = append(byYear[c.year], i)
	}
	out := make(map[string]bool, len(byYear))
	for y, of := range byYear {
		out[y] = yearReleasable(cells, hidden, of, k)
	}
	return out
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
	// shownYear: the year is not dark (its total may be shown).
	shownYear map[string]bool
}

// decide applies disclosure control to a table's finest cells, whose
// dimensions are dims, under k: the time series and each grid, each year.
func decide(fine []fineCell, dims []string, grids [][]string, k int) *decision {
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
	hiddenMonth := hiddenCells(months, k)
	shownYear := releasable(months, hiddenMonth, k)

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
		hidden := hiddenCells(cells, k)
		for y, ok := range releasable(cells, hidden, k) {
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
