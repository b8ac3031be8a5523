package statistics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

var referralMeasuresQuery = measuresTableQuery("referralMeasures", "ReferralDimension", "ReferralStatisticsFilter", "ReferralMeasuresCell", `  period values acceptanceRate suppressed
  daysToAccept { count median p90 max withheld }
`)

type referralMeasuresJSON struct {
	Threshold int
	Cells     []referralCellJSON
	Total     referralCellJSON
}

type referralCellJSON struct {
	Period         *string
	Values         []string
	AcceptanceRate *float64
	Suppressed     bool
	DaysToAccept   durationJSON
}

// referralFacts is what the test reads of a referral by its own means:
// its dimensions, and the days from the referral to its first acceptance
// (-1 when never accepted), from its status history.
type referralFacts struct {
	month  string
	values map[string]string
	days   int
}

func referralFactsOf(t *testing.T, c *ent.Client) []referralFacts {
	t.Helper()
	rs, err := c.Referral.Query().WithFromAgency().WithToAgency().All(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]referralFacts, len(rs))
	for i, r := range rs {
		out[i] = referralFacts{month: r.ReferredAt.UTC().Format("2006-01"), days: -1, values: map[string]string{
			"SERVICE_KIND": string(r.ServiceKind), "FROM_AGENCY_KIND": string(r.Edges.FromAgency.Kind),
			"TO_AGENCY_KIND": string(r.Edges.ToAgency.Kind), "STATUS": string(r.Status)}}
		var first *time.Time
		for _, h := range r.StatusHistory {
			if h.Status == domain.ReferralStatusAccepted && (first == nil || h.At.Before(*first)) {
				at := h.At
				first = &at
			}
		}
		if first != nil {
			out[i].days = int(first.Unix()-r.ReferredAt.Unix()) / 86400
		}
	}
	return out
}

// TestReferralMeasures compares the acceptance rate and the days to accept
// of several requests with the test's own computation from the referrals'
// statuses and histories, on SQLite and PostgreSQL. Both are controlled as
// counts of people: a rate is shown exactly when referralStatistics shows
// every count of a decided status under the cell (asked here through
// GraphQL, whose suppression TestStatistics proves), and the days only
// then and over at least k referrals, without their maximum.
func TestReferralMeasures(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, coordinator := seededServer(t, db)
		facts := referralFactsOf(t, db.Client)
		requests := []filteredRequest[referralFacts]{
			{nil, "", nil, func(referralFacts) bool { return true }},
			{[]string{"SERVICE_KIND"}, "", nil, func(referralFacts) bool { return true }},
			// Small cells: some with no referral accepted, whose days must be withheld too.
			{[]string{"SERVICE_KIND"}, "YEAR", nil, func(referralFacts) bool { return true }},
			{nil, "YEAR", map[string]any{"from": "2023-01", "to": "2024-12"},
				func(f referralFacts) bool { return f.month >= "2023-01" && f.month <= "2024-12" }},
		}
		// check asks every request as who, and compares; it returns how
		// many rates and days were shown and how many withheld.
		check := func(who testserver.Principal) (shownRates, shownDays, withheld int) {
			for _, r := range requests {
				vars := r.vars()
				got := testserver.Call[referralMeasuresJSON](t, s, who, referralMeasuresQuery, vars)
				k := got.Threshold
				// The counts by status under each cell, as referralStatistics shows them.
				statusVars := request{append(append([]string{}, r.groupBy...), "STATUS"), r.period, r.where}.vars()
				byStatus := testserver.Call[table](t, s, who, `query ($groupBy: [ReferralDimension!]!, $period: StatisticsPeriod, $where: ReferralStatisticsFilter) {
  referralStatistics(groupBy: $groupBy, period: $period, where: $where) { threshold cells { period values count suppressed } total { count suppressed } } }`, statusVars)
				hidden, periods := map[string]bool{}, map[string]bool{}
				for _, c := range byStatus.Cells {
					if c.Period != nil {
						periods[*c.Period] = true
					}
					n := len(c.Values) - 1
					if slices.Contains([]string{"ACCEPTED", "COMPLETED", "REJECTED"}, c.Values[n]) && c.Suppressed {
						per := ""
						if c.Period != nil {
							per = *c.Period
						}
						hidden[per+"|"+strings.Join(c.Values[:n], ",")] = true
					}
				}

				want := map[string]referralCellJSON{}
				type acc struct {
					accepted, rejected int
					days               []int
				}
				accs := map[string]*acc{}
				for _, f := range facts {
					if !r.keep(f) {
						continue
					}
					// A period referralStatistics leaves out (a year dark, or
					// still open) has no cell.
					if r.period != "" && !periods[periodOf(f.month, r.period)] {
						continue
					}
					values := []string{}
					for _, g := range r.groupBy {
						values = append(values, f.values[g])
					}
					key := periodOf(f.month, r.period) + "|" + strings.Join(values, ",")
					a := accs[key]
					if a == nil {
						a = &acc{}
						accs[key] = a
						per := periodOf(f.month, r.period)
						c := referralCellJSON{Values: values}
						if per != "" {
							c.Period = &per
						}
						want[key] = c
					}
					switch f.values["STATUS"] {
					case "ACCEPTED", "COMPLETED":
						a.accepted++
					case "REJECTED":
						a.rejected++
					}
					if f.days >= 0 && (f.values["STATUS"] == "ACCEPTED" || f.values["STATUS"] == "COMPLETED") {
						a.days = append(a.days, f.days)
					}
				}
				for key, a := range accs {
					c := want[key]
					c.Suppressed = hidden[key]
					if !c.Suppressed && a.accepted+a.rejected > 0 {
						rate := float64(a.accepted) / float64(a.accepted+a.rejected)
						c.AcceptanceRate = &rate
					}
					switch {
					case c.Suppressed:
						c.DaysToAccept.Withheld = true
					case len(a.days) == 0:
					case len(a.days) < k:
						c.DaysToAccept.Withheld = true
					default:
						slices.Sort(a.days)
						c.DaysToAccept = durationJSON{Count: len(a.days), Median: peoplesRank(a.days, 50, k), P90: peoplesRank(a.days, 90, k)}
					}
					want[key] = c
				}
				what := fmt.Sprintf("groupBy %v period %q where %v", r.groupBy, r.period, r.where)
				if len(got.Cells) != len(want) {
					t.Errorf("%s: %d cells, want %d", what, len(got.Cells), len(want))
				}
				for _, c := range got.Cells {
					per := ""
					if c.Period != nil {
						per = *c.Period
					}
					key := per + "|" + strings.Join(c.Values, ",")
					if a, b := jsonText(c), jsonText(want[key]); a != b {
						t.Errorf("%s: cell %s\n got  %s\n want %s", what, key, a, b)
					}
					if c.DaysToAccept.Max != nil {
						t.Errorf("%s: cell %s shows the maximum days to accept, one person's", what, key)
					}
					if c.AcceptanceRate != nil {
						shownRates++
					}
					if c.DaysToAccept.Median != nil {
						shownDays++
					}
					if c.Suppressed || c.DaysToAccept.Withheld {
						withheld++
					}
				}
			}
			return shownRates, shownDays, withheld
		}
		// At demo volumes the coordinator (k = 5) gets some rates and
		// distributions withheld: a service's referrals of a year by status
		// often hold a cell of fewer than five people.
		if _, _, withheld := check(coordinator); withheld == 0 {
			t.Error("nothing withheld from the national coordinator: the comparison does not exercise the control")
		}
		// Exact counts for analysts, by a policy change at run time: every
		// rate and distribution shown, and compared.
		if rates, days, withheld := check(exactForAnalysts(t, s)); rates == 0 || days == 0 || withheld != 0 {
			t.Errorf("analysts with exact counts: %d rates shown, %d days shown, %d withheld; want some, some, none", rates, days, withheld)
		}
		// The year still open (the last with referrals) is withheld from
		// the grids, so from referralMeasures too: no cell of it, its
		// total's days withheld, every cell for the whole time suppressed.
		// (A third review found its days' count, 103, and exact sums by
		// service.)
		last := slices.Max(slices.Collect(maps.Keys(notClosed(referralRows(t, db.Client)))))
		open := map[string]any{"from": last + "-01", "to": last + "-12"}
		byYear := testserver.Call[referralMeasuresJSON](t, s, coordinator, referralMeasuresQuery, request{[]string{"SERVICE_KIND"}, "YEAR", open}.vars())
		if len(byYear.Cells) > 0 || !byYear.Total.DaysToAccept.Withheld || byYear.Total.DaysToAccept.Count != 0 {
			t.Errorf("the open year by service and year: %s", jsonText(byYear))
		}
		whole := testserver.Call[referralMeasuresJSON](t, s, coordinator, referralMeasuresQuery, request{[]string{"SERVICE_KIND"}, "", open}.vars())
		for _, c := range whole.Cells {
			if !c.Suppressed || !c.DaysToAccept.Withheld {
				t.Errorf("the open year by service: %s shown", jsonText(c))
			}
		}
		// For the whole time, a service whose decided referrals are all of
		// the open year (here: every closed year's SHELTER referral made
		// PENDING) is withheld like the others, days included: its counts by
		// decided status are not listed, and its days would be the open
		// year's alone (a fifth review's finding: 34 referrals, median 4).
		openedAt, _ := time.Parse("2006", last)
		db.Client.Referral.Update().Where(referral.ServiceKindEQ(domain.ServiceKindShelter), referral.ReferredAtLT(openedAt),
			referral.StatusNEQ(domain.ReferralStatusPending)).SetStatus(domain.ReferralStatusPending).ExecX(viewer.SystemContext(context.Background()))
		for _, c := range testserver.Call[referralMeasuresJSON](t, s, coordinator, referralMeasuresQuery, request{[]string{"SERVICE_KIND"}, "", nil}.vars()).Cells {
			if !c.Suppressed || !c.DaysToAccept.Withheld {
				t.Errorf("for the whole time, with the open year in it: %s shown", jsonText(c))
			}
		}
		// By status; by a dimension of another grid than the status's; by
		// quarter (its counts by status are by year): refused.
		for _, q := range []string{`{ referralMeasures(groupBy: [STATUS]) { total { acceptanceRate } } }`,
			`{ referralMeasures(groupBy: [TO_AGENCY_KIND]) { total { acceptanceRate } } }`,
			`{ referralMeasures(period: QUARTER) { total { acceptanceRate } } }`} {
			testserver.WantCodes(t, s.Ask(t, coordinator.Token, q, nil), "BAD_USER_INPUT")
		}
	})
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
