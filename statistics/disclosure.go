package statistics

import "slices"

// Disclosure control (docs/statistics.md says why it is safe, and what it
// does not protect against).
//
// A finest cell (every dimension of the table, one month) counting fewer
// than k people, but some, is hidden. A shown number is a sum of finest
// cells, and two kinds are shown:
//
//   - a cell of some dimension (grouped by one, or under a filter on one)
//     is shown exactly when it contains no hidden finest cell;
//   - a cell of no dimension (the whole table in some months: a period of
//     an ungrouped, unfiltered request, or its total) is shown exactly when
//     each of its months is releasable: its hidden cells are none, or at
//     least two that sum to k or more and cannot all be at k-1 (then each
//     would be known).
//
// Whether a number is shown and its value depend only on the finest cells
// it sums, never on the request it came in: the same cell is hidden in
// every request. What any combination of shown numbers can tell about
// hidden cells is at most each releasable month's hidden sum, which covers
// two or more cells and k or more people. Complementary suppression
// follows: a shown dimension cell has no hidden part, and a shown total's
// hidden part is a month's whole hidden sum, never one cell.

// DefaultThreshold is k when the policy gives a role none.
const DefaultThreshold = 5

// Control is how a caller's counts of people are protected: the policy's
// threshold for their roles, or exact counts for those who may see them.
type Control struct {
	// K is the threshold: a finest cell below it (and above zero) is
	// hidden. Zero means DefaultThreshold.
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

// hiddenCells marks the finest cells below k (primary suppression), and
// in each month whose hidden cells could be told from its total, the
// smallest others until they cannot (complementary suppression, decided
// on the finest cells, so the same in every request).
func hiddenCells(fine []fineCell, k int) []bool {
	hidden := make([]bool, len(fine))
	byMonth := map[string][]int{}
	for i, c := range fine {
		hidden[i] = c.count > 0 && c.count < k
		byMonth[c.month] = append(byMonth[c.month], i)
	}
	for _, cells := range byMonth {
		// Smallest first, then by values: the same choice every time.
		slices.SortFunc(cells, func(a, b int) int {
			if d := fine[a].count - fine[b].count; d != 0 {
				return d
			}
			return slices.Compare(fine[a].values, fine[b].values)
		})
		for _, i := range cells {
			if monthReleasable(fine, hidden, cells, k) {
				break
			}
			hidden[i] = true
		}
	}
	return hidden
}

// monthReleasable reports whether a month's hidden cells are none, or
// at least two summing to k or more, not all of them known to be k-1 (a
// complementary cell, k or more, has no known ceiling).
func monthReleasable(fine []fineCell, hidden []bool, cells []int, k int) bool {
	n, sum, pinned := 0, 0, true
	for _, i := range cells {
		if !hidden[i] {
			continue
		}
		n++
		sum += fine[i].count
		pinned = pinned && fine[i].count == k-1
	}
	return n == 0 || (n >= 2 && sum >= k && !pinned)
}

// releasable lists the months that may be shown whole: those whose
// hidden cells hiddenCells could make safe (a month of fewer than k
// people in all cannot be).
func releasable(fine []fineCell, hidden []bool, k int) map[string]bool {
	byMonth := map[string][]int{}
	for i, c := range fine {
		byMonth[c.month] = append(byMonth[c.month], i)
	}
	out := make(map[string]bool, len(byMonth))
	for m, cells := range byMonth {
		out[m] = monthReleasable(fine, hidden, cells, k)
	}
	return out
}

// publish is a cell as shown: its count, or null and suppressed when it
// sums a hidden finest cell.
func publish(c Cell, count int, hidden bool) Cell {
	if hidden {
		c.Suppressed = true
		return c
	}
	c.Count = &count
	return c
}
