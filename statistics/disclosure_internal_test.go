package statistics

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestDarkYears: a year that one layer cannot show safely shows nothing in
// any layer, since the others would add up to its total. Built by hand (the
// layers were found by searching for ones the rule's audit rejects), as the
// demo data has no such year nationally.
func TestDarkYears(t *testing.T) {
	dims := []string{"SEX", "REGION"}
	grids := [][]string{{"SEX"}, {"REGION"}}
	cell := func(month, sex, region string, n int) fineCell {
		return fineCell{month: month, values: []string{sex, region}, count: n}
	}
	// 2024 is safe everywhere: the control; 2026, the year still open, is
	// withheld from every layer whatever it holds.
	safe := []fineCell{cell("2024-01", "F", "A", 20), cell("2024-02", "M", "B", 20), cell("2026-01", "F", "A", 20), cell("2026-02", "M", "B", 20)}
	for _, tc := range []struct {
		name string
		year []fineCell
	}{
		// Months of 5, 5, 8 and 1 (k = 5): April's 1 is hidden with the
		// first two others in the calendar, both of 5, and then the hidden
		// sum, 11, tells that it is 1. Sex and region show the year (one
		// cell each) safely.
		{"the time series", []fineCell{cell("2025-01", "F", "A", 5), cell("2025-02", "F", "A", 5),
			cell("2025-03", "F", "A", 8), cell("2025-04", "F", "A", 1)}},
		// Regions of 5, 1, 7 and 5, all in one month: the same in the region
		// grid; the time series and sex show the year safely.
		{"a grid", []fineCell{cell("2025-01", "F", "A", 5), cell("2025-01", "F", "B", 1),
			cell("2025-01", "F", "C", 7), cell("2025-01", "F", "D", 5)}},
		// Fewer than k people in the year.
		{"a small year", []fineCell{cell("2025-01", "F", "A", 1), cell("2025-03", "M", "B", 2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := editioned(append(append([]fineCell{}, safe...), tc.year...), "2026")
			dc := decide(in.fine, dims, grids, 5, in.withheld)
			if dc.shownYear["2025"] || !dc.shownYear["2024"] || dc.shownYear["2026"] {
				t.Fatalf("years shown %v: want 2024 and not 2025 nor 2026", dc.shownYear)
			}
			for f, c := range in.fine {
				dark := c.month[:4] == "2025"
				for g := range grids {
					if want := dark; dc.inHidden[g][f] != want {
						t.Errorf("%v in grid %v: hidden %v, want %v", c, grids[g], dc.inHidden[g][f], want)
					}
				}
				if want := dark; dc.hiddenMonth[c.month] != want {
					t.Errorf("month %s: hidden %v, want %v", c.month, dc.hiddenMonth[c.month], want)
				}
			}
			// And through answer: a grid's answer leaves the year out (which
			// cells it has would tell which values its people have); the time
			// series lists every month of it, suppressed.
			d := Dataset{name: "test", people: true, dims: dims, grids: grids}
			for _, q := range []Query{{GroupBy: []string{"SEX"}, Period: Year}, {GroupBy: []string{"REGION"}, Period: Year}} {
				for _, c := range d.answer(t.Context(), in, q, Control{K: 5}).Cells {
					if c.Period == "2025" {
						t.Errorf("%v: a cell of the dark year: %+v", q.GroupBy, c)
					}
				}
			}
			withheld := map[string]int{}
			for _, c := range d.answer(t.Context(), in, Query{Period: Month}, Control{K: 5}).Cells {
				if y := c.Period[:4]; y != "2024" {
					withheld[y]++
					if !c.Suppressed {
						t.Errorf("month %s of a withheld year shown", c.Period)
					}
				}
			}
			if withheld["2025"] != 12 || withheld["2026"] != 12 {
				t.Errorf("the dark year and the year not closed list %v months, want all 12 each", withheld)
			}
		})
	}
}

// TestMonthsStayHiddenAsTheYearGoesOn: as the months of a year arrive, a
// month hidden once stays hidden. Otherwise a look in March (January and
// February hidden, the year's total 12) and one in June (February shown, 9)
// would tell January (3): an adversarial review's finding, when complements
// were taken in the order of a hash, in which a new month can come first.
func TestMonthsStayHiddenAsTheYearGoesOn(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 2026))
	for range 2000 {
		k := 3 + rng.IntN(4)
		var months []layerCell
		hiddenBefore := map[string]bool{}
		for m := 1; m <= 12; m++ {
			n := 1 + rng.IntN(2*k)
			months = append(months, layerCell{year: "2026", values: []string{fmt.Sprintf("2026-%02d", m)}, count: n})
			hidden, safe := hideLayer(months, k, chronologically)
			if !safe["2026"] {
				continue // dark: nothing shown, so nothing to compare with later
			}
			for i, c := range months {
				if hiddenBefore[c.values[0]] && !hidden[i] {
					t.Fatalf("k=%d %v: %s hidden before %d months, shown after", k, months, c.values[0], m)
				}
			}
			for i, c := range months {
				hiddenBefore[c.values[0]] = hidden[i]
			}
		}
	}
}

// TestGridsPartitionDimensions: each dimension of a table of people lies in
// exactly one grid. A dimension in none could not be asked for; one in two
// would link two grids, whose hidden cells could then be bounded against
// each other (docs/statistics.md, "Grids").
func TestGridsPartitionDimensions(t *testing.T) {
	for _, d := range griddedDatasets {
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

// TestNoHiddenCountFollows plays the reader who knows the rule: for each
// layer (a year's cells), it tries every count the hidden cells could
// have (every split of their sum, which the year's total less the cells
// shown tells), keeps those under which the rule hides exactly the same
// cells and shows the year, and checks that every hidden cell could have
// at least two counts. Random layers, and two the demo data once had,
// where choosing the smallest cells as complements pinned a month of 4
// and a form of exploitation of 3 (an adversarial review's finding).
func TestNoHiddenCountFollows(t *testing.T) {
	// counts are by the cell's values joined with "|": one dimension, or
	// two (where complements prefer a small cell's row).
	type layerCase struct {
		k      int
		counts map[string]int
	}
	cases := []layerCase{
		{5, map[string]int{"2022-01": 5, "2022-02": 10, "2022-03": 8, "2022-04": 10, "2022-05": 13, "2022-06": 5,
			"2022-07": 8, "2022-08": 9, "2022-09": 10, "2022-10": 9, "2022-11": 4, "2022-12": 12}},
		{5, map[string]int{"FORCED_BEGGING": 18, "FORCED_LABOUR": 19, "MULTIPLE": 5, "SEXUAL": 66,
			"FORCED_MARRIAGE_DOMESTIC_SERVITUDE": 5, "UNSPECIFIED": 3}},
		{5, map[string]int{"BERAT": 4, "DIBER": 10, "DURRES": 4, "ELBASAN": 17, "FIER": 4, "TIRANE": 200}},
	}
	rng := rand.New(rand.NewPCG(12, 2026))
	grid := []string{"X|1", "X|2", "X|3", "Y|1", "Y|2", "Y|3"}
	for len(cases) < 1200 {
		k := 2 + rng.IntN(5)
		c := layerCase{k: k, counts: map[string]int{}}
		for i := range 2 + rng.IntN(5) {
			n := 1 + rng.IntN(k+3)
			if rng.IntN(3) == 0 {
				n = 1 + rng.IntN(k-1) // small cells are the interesting ones
			}
			name := string(rune('A' + i))
			if len(cases)%2 == 0 {
				name = grid[rng.IntN(len(grid))]
			}
			c.counts[name] = n
		}
		cases = append(cases, c)
	}
	enumerated, dark, pinnedCells := 0, 0, 0
	for n, c := range cases {
		var layer []layerCell
		for _, v := range slices.Sorted(maps.Keys(c.counts)) {
			layer = append(layer, layerCell{year: "2025", values: strings.Split(v, "|"), count: c.counts[v]})
		}
		// Grids take complements in the order of a hash, the months of
		// the time series in the order of the calendar: both are searched.
		inOrder := compareInOrder
		if n%3 == 0 {
			inOrder = chronologically
		}
		hidden, safe := hideLayer(layer, c.k, inOrder)
		if !safe["2025"] {
			dark++
			continue
		}
		var at []int
		sum := 0
		for i, h := range hidden {
			if h {
				at = append(at, i)
				sum += layer[i].count
			}
		}
		if len(at) == 0 || splits(sum, len(at)) > 30_000 {
			continue
		}
		enumerated++
		may := make([]map[int]bool, len(at))
		for x := range may {
			may[x] = map[int]bool{}
		}
		eachSplit(sum, len(at), func(parts []int) {
			other := slices.Clone(layer)
			for x, i := range at {
				other[i].count = parts[x]
			}
			h, s := hideLayer(other, c.k, inOrder)
			if !s["2025"] || !slices.Equal(h, hidden) {
				return
			}
			for x := range at {
				may[x][parts[x]] = true
			}
		})
		for x, i := range at {
			if !may[x][layer[i].count] {
				t.Fatalf("k=%d %v: the true count of %v is not among those found: the search is wrong", c.k, c.counts, layer[i].values)
			}
			if len(may[x]) < 2 {
				pinnedCells++
				t.Errorf("k=%d %v: hidden %v can only count %d", c.k, c.counts, layer[i].values, layer[i].count)
			}
		}
	}
	if enumerated < 600 {
		t.Fatalf("only %d layers searched: the test does not exercise the rule", enumerated)
	}
	t.Logf("%d layers searched exhaustively, %d dark, %d hidden cells pinned", enumerated, dark, pinnedCells)
}

// splits counts the ways to split sum into n positive parts.
func splits(sum, n int) int {
	// C(sum-1, n-1), stopping early when it grows large.
	r := 1
	for i := 1; i < n; i++ {
		r = r * (sum - i) / i
		if r > 1<<30 {
			return r
		}
	}
	return r
}

// eachSplit calls f with every split of sum into n positive parts.
func eachSplit(sum, n int, f func([]int)) {
	parts := make([]int, n)
	var rec func(i, left int)
	rec = func(i, left int) {
		if i == n-1 {
			parts[i] = left
			f(parts)
			return
		}
		for v := 1; v <= left-(n-1-i); v++ {
			parts[i] = v
			rec(i+1, left-v)
		}
	}
	if sum >= n {
		rec(0, sum)
	}
}

// TestSupportListsDarkMonths: victimSupport lists a dark year as the
// victims' time series does, every month suppressed, so that which months
// had victims is not told.
func TestSupportListsDarkMonths(t *testing.T) {
	victim := func(month string, n int) fineCell {
		return fineCell{month: month, values: []string{"TIRANE", "FEMALE", "ADULT", "NO", "IDENTIFIED", "POLICE", "SEXUAL"}, count: n}
	}
	// 2025 has 3 victims (below k = 5): dark. 2024 and 2026 are not.
	in := editioned([]fineCell{victim("2024-02", 30), victim("2025-03", 2), victim("2025-07", 1), victim("2026-01", 40)}, "2026")
	rows := []supportRow{{Month: "2025-03", Kind: AnyService, Days: 2, N: 2}, {Month: "2025-03", Kind: "SHELTER", Days: 2, N: 2}}
	got := supportTable(t.Context(), in, rows, "SHELTER", Query{Period: Month}, Control{K: 5})
	withheld := map[string]int{}
	for _, c := range got.Cells {
		if y := c.Period[:4]; y != "2024" {
			withheld[y]++
			if !c.Suppressed || c.Victims != nil || c.Received != nil || !c.DaysToFirstService.Withheld {
				t.Errorf("%s of a withheld year: %+v", c.Period, c)
			}
		}
	}
	if withheld["2025"] != 12 || withheld["2026"] != 12 {
		t.Errorf("the dark year and the year not closed list %v months, want all 12 each", withheld)
	}
	if !got.Total.Suppressed {
		t.Errorf("the total over withheld years is shown: %+v", got.Total)
	}
}

// TestNumbersSpanningAWithheldYear: a number whose from and to span a year
// withheld from its layer (dark; or, for a grid, still open) is suppressed
// whatever its value, and a year withheld lists no values. Shown or not
// by whether the year has people of its values, it would tell which, and a
// 0 that it has none (a third review's finding: two looks at such numbers
// told that the open year's 6 victims were women from Tirana, and that the
// one added next was a man from Kukës).
func TestNumbersSpanningAWithheldYear(t *testing.T) {
	dims := []string{"SEX", "REGION"}
	d := Dataset{name: "test", people: true, dims: dims, grids: [][]string{{"SEX"}, {"REGION"}}}
	var fine []fineCell
	for _, month := range []string{"2024-03", "2025-03"} {
		for _, region := range []string{"DURRES", "KUKES", "TIRANE"} {
			for _, sex := range []string{"F", "M"} {
				fine = append(fine, fineCell{month: month, values: []string{sex, region}, count: 10})
			}
		}
	}
	// 2023: three victims, dark. 2026: open, six women from Tirana.
	fine = append(fine, fineCell{month: "2023-05", values: []string{"M", "KUKES"}, count: 3},
		fineCell{month: "2026-02", values: []string{"F", "TIRANE"}, count: 6})
	ask := func(q Query) *Table {
		t.Helper()
		if err := d.check(q); err != nil {
			t.Fatal(err)
		}
		return d.answer(t.Context(), editioned(fine, "2026"), q, Control{K: 5})
	}
	region := func(r string) map[string][]string { return map[string][]string{"REGION": {r}} }
	for _, q := range []Query{
		{GroupBy: []string{"REGION"}, From: "2025-01", To: "2026-12"},
		{GroupBy: []string{"SEX"}, From: "2023-01", To: "2024-12"},
		{GroupBy: []string{"REGION"}},
	} {
		for _, c := range ask(q).Cells {
			if !c.Suppressed {
				t.Errorf("%+v: %v shown (%d), though the range spans a withheld year", q, c.Values, *c.Count)
			}
		}
	}
	for _, q := range []Query{
		{Where: region("DURRES"), From: "2026-01", To: "2026-12", Period: Year},
		{Where: region("TIRANE"), From: "2023-01", To: "2023-12"},
		{Period: Month, From: "2023-05", To: "2023-06"},
	} {
		if got := ask(q); !got.Total.Suppressed || len(got.Cells) > 0 && q.Period == Year {
			t.Errorf("%+v: total %v, cells %+v: want the total suppressed and no cells of the withheld year", q, got.Total.Count, got.Cells)
		}
	}
	// The control: years that are neither.
	if got := ask(Query{GroupBy: []string{"REGION"}, From: "2024-01", To: "2025-12"}); got.Total.Suppressed || slices.ContainsFunc(got.Cells, func(c Cell) bool { return c.Suppressed }) {
		t.Errorf("2024-2025 by region: %+v", got)
	}
}

// TestOpenYearShowsNothing: the year still open shows no number of people,
// its months and total included. Two looks at them would tell how many
// were registered in between (a fourth review's finding: January and
// February shown, 8 and 9; after two victims of March, all three hidden but
// the year's total, 19: so March = 2).
func TestOpenYearShowsNothing(t *testing.T) {
	d := Dataset{name: "test", people: true, dims: []string{"SEX"}, grids: [][]string{{"SEX"}}}
	closed := []fineCell{{month: "2025-04", values: []string{"F"}, count: 40}, {month: "2025-09", values: []string{"M"}, count: 40}}
	looks := [][]fineCell{
		append(slices.Clone(closed), fineCell{month: "2026-01", values: []string{"F"}, count: 8}, fineCell{month: "2026-02", values: []string{"F"}, count: 9}),
		append(slices.Clone(closed), fineCell{month: "2026-01", values: []string{"F"}, count: 8}, fineCell{month: "2026-02", values: []string{"F"}, count: 9},
			fineCell{month: "2026-03", values: []string{"M"}, count: 2}),
	}
	answers := make([][]*Table, len(looks))
	for i, fine := range looks {
		in := editioned(fine, "2026")
		for _, q := range []Query{{Period: Month, From: "2026-01"}, {Period: Quarter}, {Period: Year}, {}, {From: "2026-01", To: "2026-12"}} {
			got := d.answer(t.Context(), in, q, Control{K: 5})
			answers[i] = append(answers[i], got)
			if got.Total.Count != nil {
				t.Errorf("look %d, %+v: total %d shown", i+1, q, *got.Total.Count)
			}
			for _, c := range got.Cells {
				if strings.HasPrefix(c.Period, "2026") && !c.Suppressed || c.Period == "" && !c.Suppressed {
					t.Errorf("look %d, %+v: %s shown (%d)", i+1, q, c.Period, *c.Count)
				}
			}
		}
		// The closed year is shown.
		if got := d.answer(t.Context(), in, Query{Period: Year, To: "2025-12"}, Control{K: 5}); got.Total.Count == nil || *got.Total.Count != 80 {
			t.Errorf("look %d: 2025's total %v, want 80", i+1, got.Total.Count)
		}
	}
	// Nothing of the year not closed reaches an answer: the two looks are
	// answered alike.
	if a, b := jsonOf(t, answers[0]), jsonOf(t, answers[1]); a != b {
		t.Errorf("two looks differ:\n%s\n%s", a, b)
	}
}

// editioned is fine as the editions serve it (editions.go): the cells of
// the years not withheld, and the years withheld, which have none.
func editioned(fine []fineCell, withheld ...string) published {
	in := published{withheld: withheld}
	for _, c := range fine {
		if !slices.Contains(withheld, c.month[:4]) {
			in.fine = append(in.fine, c)
		}
	}
	return in
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSupportKindOnlyBesideAny: a kind's month is withheld whenever "any
// service" is. Shown beside a withheld ANY, it would tell why ANY was
// withheld (a sixth review's finding: 16 victims, SHELTER 10 shown, ANY
// withheld: ANY could then only be 15, so 1 victim received no service).
func TestSupportKindOnlyBesideAny(t *testing.T) {
	fine := []fineCell{
		{month: "2024-03", values: []string{"TIRANE", "FEMALE", "ADULT", "NO", "IDENTIFIED", "POLICE", "SEXUAL"}, count: 16},
		{month: "2026-01", values: []string{"TIRANE", "FEMALE", "ADULT", "NO", "IDENTIFIED", "POLICE", "SEXUAL"}, count: 40},
	}
	rows := []supportRow{{Month: "2024-03", Kind: AnyService, Days: 1, N: 15}, {Month: "2024-03", Kind: "SHELTER", Days: 1, N: 10}}
	q := Query{Period: Month, From: "2024-03", To: "2024-03"}
	anyService := supportTable(t.Context(), editioned(fine, "2026"), rows, AnyService, q, Control{K: 5})
	shelter := supportTable(t.Context(), editioned(fine, "2026"), rows, "SHELTER", q, Control{K: 5})
	if len(anyService.Cells) != 1 || !anyService.Cells[0].Suppressed {
		t.Fatalf("any service: %+v, want March withheld (1 received none)", anyService.Cells)
	}
	if len(shelter.Cells) != 1 || !shelter.Cells[0].Suppressed || shelter.Cells[0].Received != nil {
		t.Errorf("shelter: %+v, want March withheld beside a withheld ANY", shelter.Cells)
	}
}

// TestSupportWholeRangeSpanningAWithheldYear: victimSupport's one cell of
// a whole range that spans a year withheld is withheld with the total, as
// every number spanning a withheld year is (a review of the editions found
// it shown, counting the closed months alone).
func TestSupportWholeRangeSpanningAWithheldYear(t *testing.T) {
	victim := func(month string, n int) fineCell {
		return fineCell{month: month, values: []string{"TIRANE", "FEMALE", "ADULT", "NO", "IDENTIFIED", "POLICE", "SEXUAL"}, count: n}
	}
	in := editioned([]fineCell{victim("2025-06", 30), victim("2025-09", 30)}, "2026")
	rows := []supportRow{{Month: "2025-06", Kind: AnyService, Days: 2, N: 20}, {Month: "2025-09", Kind: AnyService, Days: 2, N: 20}}
	got := supportTable(t.Context(), in, rows, AnyService, Query{From: "2025-06", To: "2026-12"}, Control{K: 5})
	for _, c := range append(got.Cells, got.Total) {
		if !c.Suppressed || c.Victims != nil || c.Received != nil {
			t.Errorf("a number spanning 2026 is shown: %+v", c)
		}
	}
	if closed := supportTable(t.Context(), in, rows, AnyService, Query{From: "2025-06", To: "2025-12"}, Control{K: 5}); closed.Total.Suppressed {
		t.Errorf("the closed months alone are withheld: %+v", closed.Total)
	}
}

// TestPeoplesPercentilesAwayFromTheEnds: over people's values, under
// disclosure control, a percentile is given only with at least k values
// below and k above it, so it is never the largest (nor the smallest) of a
// few, and the maximum never; with exact counts (k = 0) every percentile
// is given. Distinct values 1..n, so a value is its rank.
func TestPeoplesPercentilesAwayFromTheEnds(t *testing.T) {
	for _, k := range []int{0, 5, 10} {
		shownP90 := false
		for n := max(k, 1); n <= 120; n++ {
			h := map[int]int{}
			for v := 1; v <= n; v++ {
				h[v] = 1
			}
			d := peoplesDistribution(h, k)
			if d.Max != nil || d.Withheld || d.Count != n {
				t.Fatalf("k %d, n %d: %+v; want the count, no maximum, not withheld", k, n, d)
			}
			for name, q := range map[string]*int{"median": d.Median, "p90": d.P90} {
				switch {
				case q == nil && k == 0:
					t.Errorf("k 0, n %d: %s not given with exact counts", n, name)
				case q != nil && k > 0 && (*q-1 < k || n-*q < k):
					t.Errorf("k %d, n %d: %s %d has %d values below and %d above, want at least %d each", k, n, name, *q, *q-1, n-*q, k)
				}
			}
			shownP90 = shownP90 || d.P90 != nil
		}
		if !shownP90 {
			t.Errorf("k %d: the 90th percentile is never given up to 120 values", k)
		}
	}
}
