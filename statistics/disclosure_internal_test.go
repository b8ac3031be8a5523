package statistics

import "testing"

// TestDarkYears: a year that one layer cannot make safe shows nothing in
// any layer, since the others would add up to its total. Built by hand, as
// the demo data has no such year nationally.
func TestDarkYears(t *testing.T) {
	dims := []string{"SEX", "REGION"}
	grids := [][]string{{"SEX"}, {"REGION"}}
	cell := func(month, sex, region string, n int) fineCell {
		return fineCell{month: month, values: []string{sex, region}, count: n}
	}
	// 2024 is safe everywhere: the control.
	safe := []fineCell{cell("2024-01", "F", "A", 20), cell("2024-02", "M", "B", 20)}
	for _, tc := range []struct {
		name string
		year []fineCell
	}{
		// Two months of 4 (k = 5): the time series can only hide both, and
		// then each is known from the year's 8; the sex grid would show
		// F = 8, the year's total.
		{"the time series", []fineCell{cell("2025-01", "F", "A", 4), cell("2025-02", "F", "B", 4)}},
		// One month of 8, shown; the sex grid has F = 4 and M = 4, which it
		// can only hide both, and then each is known from the 8.
		{"a grid", []fineCell{cell("2025-01", "F", "A", 4), cell("2025-01", "M", "A", 4)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fine := append(append([]fineCell{}, safe...), tc.year...)
			dc := decide(fine, dims, grids, 5)
			if dc.shownYear["2025"] || !dc.shownYear["2024"] {
				t.Fatalf("years shown %v: want 2024 and not 2025", dc.shownYear)
			}
			for f, c := range fine {
				dark := c.month[:4] == "2025"
				for g := range grids {
					if dc.inHidden[g][f] != dark {
						t.Errorf("%v in grid %v: hidden %v, want %v", c, grids[g], dc.inHidden[g][f], dark)
					}
				}
				if dc.hiddenMonth[c.month] != dark {
					t.Errorf("month %s: hidden %v, want %v", c.month, dc.hiddenMonth[c.month], dark)
				}
			}
			// And through answer: the year's total, and its figure by sex.
			d := Dataset{name: "test", people: true, dims: dims, grids: grids}
			for _, q := range []Query{{Period: Year}, {GroupBy: []string{"SEX"}, Period: Year}, {GroupBy: []string{"REGION"}, Period: Year}} {
				for _, c := range d.answer(t.Context(), fine, q, Control{K: 5}).Cells {
					if c.Period == "2025" && !c.Suppressed {
						t.Errorf("%v: %s %v shown (%d)", q.GroupBy, c.Period, c.Values, *c.Count)
					}
				}
			}
		})
	}
}

// TestGridsPartitionDimensions: each dimension of a table of people lies in
// exactly one grid. A dimension in none could not be asked for; one in two
// would link two grids, whose hidden cells could then be bounded against
// each other (docs/statistics.md, "Grids").
func TestGridsPartitionDimensions(t *testing.T) {
	for _, d := range []Dataset{Victims, Referrals} {
		if !d.people || d.grids == nil {
			t.Fatalf("%s: people %v, grids %v", d.name, d.people, d.grids)
		}
		in := map[string]int{}
		for _, g := range d.grids {
			for _, dim := range g {
				in[dim]++
			}
		}
		for _, dim := range d.dims {
			if in[dim] != 1 {
				t.Errorf("%s: %s lies in %d grids, want 1", d.name, dim, in[dim])
			}
		}
		if len(in) != len(d.dims) {
			t.Errorf("%s: the grids name %d dimensions, the table has %d", d.name, len(in), len(d.dims))
		}
	}
}
