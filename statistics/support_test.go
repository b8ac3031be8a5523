package statistics_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

const supportQuery = `query ($service: ServiceKind, $period: StatisticsPeriod, $from: String, $to: String) {
  victimSupport(service: $service, period: $period, from: $from, to: $to) {
    service period threshold
    cells { ...s }
    total { ...s }
  }
}
fragment s on VictimSupportCell {
  period victims received share suppressed
  daysToFirstService { count median p90 max withheld }
}`

type supportJSON struct {
	Service   *string
	Threshold int
	Cells     []supportCellJSON
	Total     supportCellJSON
}

type supportCellJSON struct {
	Period             *string
	Victims, Received  *int
	Share              *float64
	Suppressed         bool
	DaysToFirstService durationJSON
}

// supportFacts is what the test reads of a victim by its own means: the
// month of identification and, for each kind of service it received and
// "ANY", the whole days to the first (0 when it started before).
type supportFacts struct {
	id    int
	month string
	days  map[string]int
}

func supportFactsOf(t *testing.T, c *ent.Client) []supportFacts {
	t.Helper()
	vs, err := c.Victim.Query().WithServices().All(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]supportFacts, len(vs))
	for i, v := range vs {
		f := supportFacts{id: v.ID, month: domain.MonthInTirana(v.IdentifiedAt), days: map[string]int{}}
		for _, s := range v.Edges.Services {
			d := max(0, int(s.StartedOn.Unix()-v.IdentifiedAt.Unix())/86400)
			for _, kind := range []string{string(s.Kind), "ANY"} {
				if old, ok := f.days[kind]; !ok || d < old {
					f.days[kind] = d
				}
			}
		}
		out[i] = f
	}
	return out
}

// TestVictimSupport compares victimSupport with the test's own
// computation from every victim's services, on SQLite and PostgreSQL: for
// the national coordinator (k = 5), whose figures of a month are withheld
// exactly when the rule of docs/statistics.md says (the month's total
// withheld by victimStatistics, as asked through GraphQL; a small count
// received, not received, or received any service but not this one), and
// for analysts given exact counts at run time. The shown numbers of many
// requests, with the victims table's own totals, are then differenced.
func TestVictimSupport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, coordinator := seededServer(t, db)
		facts := supportFactsOf(t, db.Client)
		kinds := []string{"ANY", "SHELTER", "LEGAL_AID", "PSYCHOLOGICAL", "MEDICAL", "INTERPRETATION"}
		type request struct {
			kind, period, from, to string
		}
		var requests []request
		for _, kind := range kinds {
			for _, p := range []string{"", "YEAR", "QUARTER", "MONTH"} {
				requests = append(requests, request{kind: kind, period: p})
			}
			requests = append(requests, request{kind: kind, period: "MONTH", from: "2025-01", to: "2025-06"},
				request{kind: kind, from: "2024-03", to: "2025-02"})
		}
		ask := func(who testserver.Principal, r request) supportJSON {
			vars := map[string]any{}
			if r.kind != "ANY" {
				vars["service"] = r.kind
			}
			for name, v := range map[string]string{"period": r.period, "from": r.from, "to": r.to} {
				if v != "" {
					vars[name] = v
				}
			}
			return testserver.Call[supportJSON](t, s, who, supportQuery, vars)
		}
		// A month's total as victimStatistics shows it to who: whether the
		// victims table withholds it.
		unreleased := func(who testserver.Principal) map[string]bool {
			months := testserver.Call[table](t, s, who, victimQuery, map[string]any{"groupBy": []string{}, "period": "MONTH"})
			out := map[string]bool{}
			for _, c := range months.Cells {
				out[*c.Period] = c.Suppressed
			}
			return out
		}

		// check asks every request as who and compares each cell with the
		// test's computation; it returns the numbers shown (for the
		// differencing) and how many received figures were shown and
		// withheld.
		check := func(who testserver.Principal, k int) (all []shown, shownReceived, withheld int) {
			hiddenMonth := unreleased(who)
			small := func(n int) bool { return n > 0 && n < k }
			for _, r := range requests {
				got := ask(who, r)
				if got.Threshold != k {
					t.Fatalf("threshold %d, want %d", got.Threshold, k)
				}
				// The months' members, and the rule's decision on each.
				type month struct {
					victims, received, anyReceived map[int]bool
					days                           []int
				}
				months := map[string]*month{}
				for _, f := range facts {
					if (r.from != "" && f.month < r.from) || (r.to != "" && f.month > r.to) {
						continue
					}
					m := months[f.month]
					if m == nil {
						m = &month{victims: map[int]bool{}, received: map[int]bool{}, anyReceived: map[int]bool{}}
						months[f.month] = m
					}
					m.victims[f.id] = true
					if d, ok := f.days[r.kind]; ok {
						m.received[f.id] = true
						m.days = append(m.days, d)
					}
					if _, ok := f.days["ANY"]; ok {
						m.anyReceived[f.id] = true
					}
				}
				type cellWant struct {
					victims, received    map[int]bool
					days                 []int
					unreleased, withheld bool
				}
				cells := map[string]*cellWant{}
				total := &cellWant{victims: map[int]bool{}, received: map[int]bool{}}
				for name, m := range months {
					anyWithheld := small(len(m.anyReceived)) || small(len(m.victims)-len(m.anyReceived))
					withheld := hiddenMonth[name] || small(len(m.received)) || small(len(m.victims)-len(m.received)) ||
						(r.kind != "ANY" && (anyWithheld || small(len(m.anyReceived)-len(m.received))))
					per := periodOf(name, r.period)
					for _, c := range []*cellWant{cells[per], total} {
						if c == nil {
							c = &cellWant{victims: map[int]bool{}, received: map[int]bool{}}
							cells[per] = c
						}
						for id := range m.victims {
							c.victims[id] = true
						}
						for id := range m.received {
							c.received[id] = true
						}
						c.days = append(c.days, m.days...)
						c.unreleased = c.unreleased || hiddenMonth[name]
						c.withheld = c.withheld || withheld
					}
				}
				what := fmt.Sprintf("%+v", r)
				if len(got.Cells) != len(cells) {
					t.Errorf("%s: %d cells, want %d", what, len(got.Cells), len(cells))
				}
				compare := func(name string, c supportCellJSON, w *cellWant) {
					want := supportCellJSON{Period: c.Period, Suppressed: w.withheld}
					if !w.unreleased {
						n := len(w.victims)
						want.Victims = &n
					}
					switch {
					case w.withheld:
						want.DaysToFirstService.Withheld = true
					default:
						n := len(w.received)
						want.Received = &n
						if len(w.victims) > 0 {
							share := float64(n) / float64(len(w.victims))
							want.Share = &share
						}
						want.DaysToFirstService.Count = n
						if n > 0 && n < k {
							want.DaysToFirstService = durationJSON{Withheld: true}
						} else if n > 0 {
							slices.Sort(w.days)
							want.DaysToFirstService.Median, want.DaysToFirstService.P90 = peoplesRank(w.days, 50, k), peoplesRank(w.days, 90, k)
						}
					}
					if a, b := jsonText(c), jsonText(want); a != b {
						t.Errorf("%s: %s\n got  %s\n want %s", what, name, a, b)
					}
					tag := fmt.Sprintf("%s %s", what, name)
					if c.Victims != nil {
						all = append(all, shown{what: "victims of " + tag, members: w.victims, count: *c.Victims})
					}
					if c.Received != nil {
						shownReceived++
						all = append(all, shown{what: r.kind + " received in " + tag, members: w.received, count: *c.Received})
					} else if len(w.received) > 0 {
						withheld++
					}
				}
				for _, c := range got.Cells {
					per := ""
					if c.Period != nil {
						per = *c.Period
					}
					if w := cells[per]; w == nil {
						t.Errorf("%s: cell %q has no victims", what, per)
					} else {
						compare("cell "+per, c, w)
					}
				}
				compare("total", got.Total, total)
			}
			return all, shownReceived, withheld
		}

		all, shownReceived, withheld := check(coordinator, 5)
		if shownReceived == 0 || withheld == 0 {
			t.Errorf("coordinator: %d received figures shown, %d withheld; want some of each, or the control is not exercised", shownReceived, withheld)
		}
		// Differencing: any two numbers shown where one counts a subset of
		// the other's victims, among those whose sets the reader knows to
		// be nested (a kind's figures within the same kind's, within any
		// service's, within the victims'), differ by 0 or at least k.
		// Figures of two different kinds are compared only through "any"
		// and the victims: whether one kind's recipients all had another
		// is not published.
		for _, kind := range kinds[1:] {
			var within []shown
			for _, n := range all {
				if !strings.Contains(n.what, " received in ") || strings.HasPrefix(n.what, kind+" ") || strings.HasPrefix(n.what, "ANY ") {
					within = append(within, n)
				}
			}
			if leaks := differencing(within, 5); len(leaks) > 0 {
				t.Errorf("differencing recovers small counts (%s):\n%s", kind, strings.Join(leaks, "\n"))
			}
		}
		t.Logf("coordinator: %d numbers shown, %d received figures withheld", len(all), withheld)

		// Exact counts for analysts, by a policy change at run time.
		if _, shown, withheld := check(exactForAnalysts(t, s), 0); shown == 0 || withheld != 0 {
			t.Errorf("analysts with exact counts: %d received figures shown, %d withheld; want some and none", shown, withheld)
		}

		// Here from and to are the field's own arguments: the error names them so.
		for _, bad := range []string{`{ victimSupport(from: "2025-13") { threshold } }`, `{ victimSupport(from: "2025-06", to: "2025-01") { threshold } }`} {
			r := s.Ask(t, coordinator.Token, bad, nil)
			testserver.WantCodes(t, r, "BAD_USER_INPUT")
			if r.Errors[0].Field() != "from" {
				t.Errorf("%s: want the field from, got %s", bad, r.Body)
			}
		}
	})
}
