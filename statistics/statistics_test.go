package statistics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

func TestStatistics(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		seed(t, db)
		withUnusualForms(t, db.Client)
		s := testserver.Start(t, db)
		victims := victimRows(t, db.Client)
		coordinator := s.As(t, "onac", viewer.RoleCoordinator)
		analyst := s.As(t, "onac", viewer.RoleAnalyst)

		t.Run("every figure against the rows, and the differencing attacks find nothing", func(t *testing.T) {
			var all []shown
			for _, r := range requests() {
				got := ask(t, s, coordinator, victimQuery, r)
				if got.Threshold != 5 || !got.CountsPeople {
					t.Fatalf("coordinator: threshold %d, countsPeople %v; want 5 (the default), true", got.Threshold, got.CountsPeople)
				}
				checkVictims(t, victims, r, got, 5)
				want := expect(victims, r)
				cells := append(slices.Clone(got.Cells), got.Total)
				for i, c := range cells {
					if c.Count == nil {
						continue
					}
					members := map[int]bool{}
					if i == len(cells)-1 {
						for _, m := range want.members {
							for _, x := range m {
								members[x] = true
							}
						}
					} else {
						for _, x := range want.members[cellKey(c)] {
							members[x] = true
						}
					}
					all = append(all, shown{what: fmt.Sprintf("%+v %s", r, cellKey(c)), members: members, count: *c.Count})
				}
			}
			if leaks := differencing(all, 5); len(leaks) > 0 {
				t.Errorf("differencing recovers small counts:\n%s", strings.Join(leaks, "\n"))
			}
			t.Logf("%d numbers shown across %d requests; none differs from another by 1..4 victims", len(all), len(requests()))
		})

		t.Run("complementary suppression: no year's total less its shown parts is a small count", func(t *testing.T) {
			years := ask(t, s, coordinator, victimQuery, request{period: "YEAR"})
			total := map[string]int{}
			for _, y := range years.Cells {
				if y.Count != nil {
					total[*y.Period] = *y.Count
				}
			}
			// Each layer: the time series by month, and each grid by year.
			layers := map[string]request{"months": {period: "MONTH"}}
			for _, g := range victimGrids {
				layers[strings.Join(g, "×")] = request{groupBy: g, period: "YEAR"}
			}
			sawHidden := false
			for name, r := range layers {
				got := ask(t, s, coordinator, victimQuery, r)
				shownSum, suppressed := map[string]int{}, map[string]int{}
				for _, c := range got.Cells {
					year := (*c.Period)[:4]
					if c.Count == nil {
						suppressed[year]++
					} else {
						shownSum[year] += *c.Count
					}
				}
				for year, n := range total {
					if name != "months" && notClosed(victims)[year] {
						continue // withheld whole from every grid until closed
					}
					rest := n - shownSum[year]
					sawHidden = sawHidden || rest > 0
					if rest != 0 && (rest < 5 || suppressed[year] < 2) {
						t.Errorf("%s, %s: the year's %d less its shown cells leaves %d in %d suppressed cells", name, year, n, rest, suppressed[year])
					}
				}
				// A year whose total is withheld (dark) shows nothing in any
				// layer: the layer's cells would add up to it.
				for year, n := range shownSum {
					if _, shown := total[year]; !shown {
						t.Errorf("%s, %s: the year's total is withheld, but %d of it is shown", name, year, n)
					}
				}
			}
			if !sawHidden {
				t.Fatal("no year's total covers a suppressed cell: the demo data does not exercise disclosure control")
			}
			for _, r := range requests() {
				got := ask(t, s, coordinator, victimQuery, r)
				if len(r.where) == 0 || got.Total.Count == nil {
					continue
				}
				if slices.ContainsFunc(got.Cells, func(c cell) bool { return c.Suppressed }) && len(r.dimensions()) > len(r.groupBy) {
					t.Errorf("%+v: a cell is suppressed but the filtered total %d is shown: total minus the others reveals it", r, *got.Total.Count)
				}
			}
		})

		t.Run("the grids publish: most victims by sex and age group, and by region, per year, are shown", func(t *testing.T) {
			for _, g := range [][]string{{"SEX", "AGE_GROUP"}, {"REGION"}, {"EXPLOITATION"}} {
				got := ask(t, s, coordinator, victimQuery, request{groupBy: g, period: "YEAR"})
				shown := 0
				for _, c := range got.Cells {
					if c.Count != nil {
						shown += *c.Count
					}
				}
				// Of the victims in these cells, most are in cells shown.
				if 2*shown < len(victims) {
					t.Errorf("victims by %v by year: %d of %d victims in shown cells", g, shown, len(victims))
				}
			}
		})

		t.Run("exact only for a role that sees every row counted", func(t *testing.T) {
			// A prosecutor sees their district's victims exactly; with an
			// analyst's role beside it the person counts the nation's,
			// under the analyst's threshold.
			r := request{groupBy: []string{"REGION"}, period: "YEAR"}
			prosecutor := s.As(t, "prosecution-tirane", viewer.RoleProsecutor)
			if got := ask(t, s, prosecutor, victimQuery, r); got.Threshold != 0 {
				t.Errorf("a prosecutor alone: threshold %d, want 0 (exact)", got.Threshold)
			}
			both := testserver.Principal{Token: s.Token(t, "prosecution-tirane", viewer.RoleProsecutor, viewer.RoleAnalyst), Agency: "prosecution-tirane"}
			got := ask(t, s, both, victimQuery, r)
			if got.Threshold != 10 {
				t.Fatalf("a prosecutor who is an analyst too: threshold %d, want the analyst's 10", got.Threshold)
			}
			checkVictims(t, victims, r, got, 10)
		})

		t.Run("threshold from the policy, changed at run time", func(t *testing.T) {
			r := request{groupBy: []string{"REGION"}, period: "YEAR"}
			got := ask(t, s, analyst, victimQuery, r)
			if got.Threshold != 10 {
				t.Fatalf("analyst threshold %d, want the policy's 10", got.Threshold)
			}
			checkVictims(t, victims, r, got, 10)
			admin := s.Token(t, "onac", viewer.RoleAdmin)
			line := `["p", "analyst", "*", "statistics", "threshold", "3"]`
			s.Do(t, admin, `mutation { changePolicy(add: [`+line+`], remove: [["p", "analyst", "*", "statistics", "threshold", "10"]], reason: "lower the analysts' threshold for the test") { added } }`, nil).MustOK(t)
			got = ask(t, s, analyst, victimQuery, r)
			if got.Threshold != 3 {
				t.Fatalf("after the change the analyst's threshold is %d, want 3", got.Threshold)
			}
			checkVictims(t, victims, r, got, 3)
			bad := s.Do(t, admin, `mutation { changePolicy(add: [["p", "analyst", "*", "statistics", "threshold", "1"]], reason: "lower the analysts' threshold for the test") { added } }`, nil)
			testserver.WantCodes(t, bad, "BAD_USER_INPUT")
		})

		t.Run("exact counts for who may see them, within their rows", func(t *testing.T) {
			p := s.As(t, "prosecution-tirane", viewer.RoleProsecutor)
			got := ask(t, s, p, victimQuery, request{groupBy: []string{"SEX", "AGE_GROUP"}, period: "YEAR"})
			if got.Threshold != 0 {
				t.Fatalf("threshold %d for a prosecution office, which the policy gives exact counts", got.Threshold)
			}
			for _, c := range got.Cells {
				if c.Suppressed {
					t.Fatalf("exact counts, yet %s is suppressed", cellKey(c))
				}
			}
			if n := *got.Total.Count; n == 0 || n >= len(victims) {
				t.Fatalf("a district office counts %d of %d victims: want its own, some but not all", n, len(victims))
			}
		})

		t.Run("row scope: a regional principal counts its region, the national one the country", func(t *testing.T) {
			cases := caseRows(t, db.Client)
			inTirane := 0
			for _, c := range cases {
				if c.values["REGION"] == "TIRANE" {
					inTirane++
				}
			}
			regional := s.As(t, "police-tirane", viewer.RoleInvestigator)
			tirane := request{where: map[string]any{"region": []string{"TIRANE"}}}
			a, b := ask(t, s, regional, caseQuery, tirane), ask(t, s, coordinator, caseQuery, tirane)
			if *a.Total.Count != inTirane || *b.Total.Count != inTirane {
				t.Errorf("Tirana's cases: regional %d, national %d; want %d", *a.Total.Count, *b.Total.Count, inTirane)
			}
			a, b = ask(t, s, regional, caseQuery, request{}), ask(t, s, coordinator, caseQuery, request{})
			if *b.Total.Count != len(cases) {
				t.Errorf("national total %d, want %d", *b.Total.Count, len(cases))
			}
			if *a.Total.Count < inTirane || *a.Total.Count >= len(cases) {
				t.Errorf("regional total %d: want Tirana's %d and the few elsewhere it works on, not all %d", *a.Total.Count, inTirane, len(cases))
			}
			// Victims: what the regional police count of Tirana is what the
			// country counts of Tirana (all of them are in its rows).
			va, vb := ask(t, s, regional, victimQuery, tirane), ask(t, s, coordinator, victimQuery, tirane)
			if fmt.Sprint(va.Total.Count) != fmt.Sprint(vb.Total.Count) && va.Total.Count != nil && vb.Total.Count != nil {
				t.Errorf("Tirana's victims: regional %d, national %d", *va.Total.Count, *vb.Total.Count)
			}
			checkVictims(t, victims, tirane, vb, 5)
		})

		// Under disclosure control everyone is served the same tables of
		// people, the country's, which the annual report publishes: a
		// regional principal's own (its region's victims and those of other
		// regions on its cases), less the published ones, pinned single
		// victims of other regions (a hunt over HTTP).
		t.Run("one published table of people for everyone under disclosure control", func(t *testing.T) {
			regional := s.As(t, "police-tirane", viewer.RoleInvestigator)
			asked := []struct {
				query string
				r     request
			}{
				{victimQuery, request{period: "YEAR"}},
				{victimQuery, request{period: "MONTH"}},
				{victimQuery, request{groupBy: []string{"REGION"}, period: "YEAR"}},
				{victimQuery, request{where: map[string]any{"region": []string{"TIRANE"}}}},
				{referralQuery, request{groupBy: []string{"SERVICE_KIND"}, period: "YEAR"}},
			}
			for _, g := range victimGrids {
				asked = append(asked, struct {
					query string
					r     request
				}{victimQuery, request{groupBy: g, period: "YEAR"}})
			}
			for _, a := range asked {
				got, want := ask(t, s, regional, a.query, a.r), ask(t, s, coordinator, a.query, a.r)
				if got.Threshold != 5 || !reflect.DeepEqual(got, want) {
					t.Errorf("%+v: the regional police are shown\n%+v\nthe coordinator\n%+v", a.r, got, want)
				}
			}
		})

		t.Run("case counts against the rows", func(t *testing.T) {
			cases := caseRows(t, db.Client)
			for _, r := range []request{{}, {groupBy: []string{"REGION", "STAGE"}, period: "YEAR"},
				{groupBy: []string{"LEAD_AGENCY_KIND", "OPEN"}, period: "QUARTER", where: map[string]any{"open": true, "region": []string{"TIRANE"}}},
				{groupBy: []string{"EXPLOITATION"}, period: "YEAR"},
				{groupBy: []string{"REGION"}, where: map[string]any{"exploitation": []string{"FORCED_LABOUR", "UNSPECIFIED"}}}} {
				got := ask(t, s, coordinator, caseQuery, r)
				if got.CountsPeople || got.Threshold != 0 {
					t.Fatalf("cases are counted as people (threshold %d)", got.Threshold)
				}
				want := expect(cases, r)
				if len(got.Cells) != len(want.members) {
					t.Errorf("%+v: %d cells, want %d", r, len(got.Cells), len(want.members))
				}
				checkExactCells(t, r, got, want)
			}
		})

		t.Run("proceedings against the rows", func(t *testing.T) {
			rows := prosecutionRows(t, db.Client)
			for _, r := range []request{{}, {groupBy: []string{"OFFICE", "STAGE"}, period: "YEAR"},
				{groupBy: []string{"EXTENDED"}, period: "QUARTER", where: map[string]any{"office": []string{"prosecution-tirane"}}}} {
				got := ask(t, s, coordinator, prosecutionQuery, r)
				want := expect(rows, r)
				if got.CountsPeople || len(got.Cells) != len(want.members) || *got.Total.Count != len(rows) && len(r.where) == 0 {
					t.Errorf("%+v: %d cells (want %d), total %v of %d", r, len(got.Cells), len(want.members), got.Total.Count, len(rows))
				}
				checkExactCells(t, r, got, want)
			}
		})

		t.Run("proceedings sent to trial against the rows, by month of the request", func(t *testing.T) {
			var rows []row
			for _, p := range db.Client.Prosecution.Query().WithOffice().AllX(viewer.SystemContext(context.Background())) {
				if p.TrialRequestedAt != nil {
					rows = append(rows, row{month: domain.MonthInTirana(*p.TrialRequestedAt), values: map[string]string{
						"OFFICE": p.Edges.Office.Code, "STAGE": string(p.Stage), "EXTENDED": yesNo(p.DeadlineExtensions > 0)}})
				}
			}
			for _, r := range []request{{}, {groupBy: []string{"OFFICE"}, period: "YEAR"},
				{groupBy: []string{"STAGE"}, period: "QUARTER", where: map[string]any{"from": "2024-01", "to": "2025-12"}}} {
				got := ask(t, s, coordinator, trialRequestQuery, r)
				want := expect(rows, r)
				if got.CountsPeople || len(got.Cells) != len(want.members) || len(got.Cells) == 0 {
					t.Errorf("%+v: %d cells (want %d, some)", r, len(got.Cells), len(want.members))
				}
				checkExactCells(t, r, got, want)
			}
		})

		t.Run("court decisions against the rows, by month decided", func(t *testing.T) {
			rows := decisionRows(t, db.Client)
			for _, r := range []request{{}, {groupBy: []string{"VERDICT", "INSTANCE"}, period: "YEAR"},
				{groupBy: []string{"SENTENCE"}, where: map[string]any{"instance": []string{"FIRST_INSTANCE"}, "from": "2023-01", "to": "2025-12"}},
				{groupBy: []string{"COMPENSATION", "COURT"}, period: "QUARTER", where: map[string]any{"verdict": []string{"CONVICTED", "CONVICTED_OF_LESSER_OFFENCE"}}},
				{groupBy: []string{"INSTANCE"}, where: map[string]any{"compensation": []string{"ORDERED_PAID"}, "sentence": []string{"IMPRISONMENT", "NONE"}}},
				{groupBy: []string{"SENTENCE_RANGE", "VERDICT"}, period: "YEAR", where: map[string]any{"instance": []string{"FIRST_INSTANCE"}}},
				{groupBy: []string{"COURT"}, where: map[string]any{"sentenceRange": []string{"WITHIN_RANGE", "NO_RANGE"}}}} {
				got := ask(t, s, coordinator, decisionQuery, r)
				want := expect(rows, r)
				if got.CountsPeople || got.Threshold != 0 || len(got.Cells) != len(want.members) || len(got.Cells) == 0 {
					t.Errorf("%+v: %d cells (want %d, some), countsPeople %v", r, len(got.Cells), len(want.members), got.CountsPeople)
				}
				checkExactCells(t, r, got, want)
			}
		})

		t.Run("referrals against the rows, controlled as people", func(t *testing.T) {
			rows := referralRows(t, db.Client)
			sawHidden := false
			for _, r := range []request{{}, {groupBy: []string{"SERVICE_KIND"}, period: "YEAR"},
				{groupBy: []string{"STATUS"}, where: map[string]any{"serviceKind": []string{"SHELTER"}}},
				{groupBy: []string{"TO_AGENCY_KIND", "FROM_AGENCY_KIND"}, period: "YEAR"}} {
				got := ask(t, s, coordinator, referralQuery, r)
				want := expect(rows, r)
				if cells := cellsListed(rows, r, want); !got.CountsPeople || got.Threshold != 5 || len(got.Cells) != cells {
					t.Errorf("%+v: countsPeople %v, threshold %d, %d cells (want %d)", r, got.CountsPeople, got.Threshold, len(got.Cells), cells)
				}
				grid := gridOf(referralGrids, r.dimensions())
				counts := gridCounts(rows, grid)
				for _, c := range got.Cells {
					sawHidden = sawHidden || c.Suppressed
					members := want.members[cellKey(c)]
					checkCell(t, fmt.Sprintf("%+v %s", r, cellKey(c)), c, members, len(r.dimensions()) > 0 && small(rows, members, grid, counts, 5))
				}
			}
			if !sawHidden {
				t.Error("no referral cell suppressed: the demo data does not exercise it")
			}
		})

		t.Run("bad input", func(t *testing.T) {
			// A month refused names where it sits (where.from), and quotes
			// the value only when it is short.
			long := strings.Repeat("2025-01", 700)
			for _, tc := range []struct {
				where map[string]any
				field string
			}{
				{map[string]any{"from": "2025-13"}, "where.from"},
				{map[string]any{"from": "2025-06", "to": "2025-01"}, "where.from"},
				{map[string]any{"to": "2025-1"}, "where.to"},
				{map[string]any{"to": long}, "where.to"},
			} {
				r := s.Do(t, coordinator.Token, victimQuery, request{where: tc.where}.vars())
				testserver.WantCodes(t, r, "BAD_USER_INPUT")
				if len(r.Errors) == 1 && r.Errors[0].Field() != tc.field || strings.Contains(r.Errors[0].Message, long[:100]) {
					t.Errorf("%.80v: want the field %s and no long value quoted, got %.300s", tc.where, tc.field, r.Body)
				}
			}
			r := s.Do(t, coordinator.Token, victimQuery, request{groupBy: []string{"SEX", "SEX"}}.vars())
			testserver.WantCodes(t, r, "BAD_USER_INPUT")
			// Two grids, a dimension by month or quarter, a dimension over
			// part of a year: each would publish a cell no grid decides on.
			for _, bad := range []request{
				{groupBy: []string{"SEX", "REGION"}},
				{groupBy: []string{"SEX"}, where: map[string]any{"foreignNational": true}},
				{where: map[string]any{"exploitation": []string{"FORCED_LABOUR"}, "sex": []string{"MALE"}}},
				{groupBy: victimDims},
				{groupBy: []string{"REGION"}, period: "MONTH"},
				{groupBy: []string{"SEX"}, period: "QUARTER"},
				{where: map[string]any{"region": []string{"TIRANE"}, "from": "2025-03", "to": "2025-12"}},
				{groupBy: []string{"SEX"}, where: map[string]any{"to": "2025-06"}},
			} {
				testserver.WantCodes(t, s.Do(t, coordinator.Token, victimQuery, bad.vars()), "BAD_USER_INPUT")
			}
			testserver.WantCodes(t, s.Do(t, coordinator.Token, referralQuery, request{groupBy: []string{"STATUS", "TO_AGENCY_KIND"}}.vars()), "BAD_USER_INPUT")
		})

		t.Run("reads are audited: the table and the request, never a value", func(t *testing.T) {
			for _, read := range []struct {
				query string
				vars  map[string]any
				table string
				// groupBy and mentions are what the event's detail must say.
				groupBy, mentions string
			}{
				{victimQuery, request{groupBy: []string{"REGION"}, period: "YEAR", where: map[string]any{"region": []string{"KUKES"}}}.vars(), "victims", "[REGION]", "KUKES"},
				{supportQuery, map[string]any{"service": "LEGAL_AID", "from": "2024-01"}, "victimSupport", "[SERVICE_KIND]", "LEGAL_AID"},
				{decisionQuery, request{groupBy: []string{"VERDICT"}, where: map[string]any{"instance": []string{"APPEAL"}}}.vars(), "decisions", "[VERDICT]", "APPEAL"},
				{trialRequestQuery, request{groupBy: []string{"OFFICE"}, where: map[string]any{"from": "2025-03"}}.vars(), "trialRequests", "[OFFICE]", "2025-03"},
			} {
				testserver.Call[map[string]any](t, s, coordinator, read.query, read.vars)
				events := db.Client.AuditEvent.Query().Where(auditevent.Kind(string(audit.StatisticsRead)), auditevent.ActorSubject(coordinator.Subject)).
					Order(ent.Desc(auditevent.FieldID)).AllX(viewer.SystemContext(context.Background()))
				if len(events) == 0 {
					t.Fatal("no STATISTICS_READ event")
				}
				var detail map[string]any
				if err := json.Unmarshal([]byte(events[0].Detail), &detail); err != nil {
					t.Fatal(err)
				}
				if detail["table"] != read.table || fmt.Sprint(detail["groupBy"]) != read.groupBy || !strings.Contains(events[0].Detail, read.mentions) {
					t.Errorf("detail %s: want the table %s, grouping %s and filter %s", events[0].Detail, read.table, read.groupBy, read.mentions)
				}
				if strings.Contains(events[0].Detail, "count") || strings.Contains(events[0].Detail, "received") {
					t.Errorf("detail %s holds a value", events[0].Detail)
				}
			}
		})
	})
}

// dashboardQuery is a national dashboard: eight panels in one request.
const dashboardQuery = `{
  victimsByYear: victimStatistics(period: YEAR) { total { count } cells { period count } }
  victimsBySexAge: victimStatistics(groupBy: [SEX, AGE_GROUP], period: YEAR) { cells { period values count suppressed } }
  victimsByRegion: victimStatistics(groupBy: [REGION], period: YEAR) { cells { values count suppressed } }
  casesByRegion: caseStatistics(groupBy: [REGION], period: YEAR) { cells { period values count } }
  casesByStage: caseStatistics(groupBy: [STAGE, OPEN]) { cells { values count } }
  proceedingsByOffice: prosecutionStatistics(groupBy: [OFFICE, STAGE], period: YEAR) { cells { period values count } }
  extensions: prosecutionStatistics(groupBy: [EXTENDED], period: QUARTER) { cells { period values count } }
  referrals: referralStatistics(groupBy: [SERVICE_KIND, STATUS], period: YEAR) { cells { period values count suppressed } }
}`

// TestGroupingsPerRequestBounded: a request whose panels group one table
// of records in many ways reads maxGroupingsPerTable groupings (3), then
// the table's finest cells once for the rest, whatever the number of
// panels, and answers each panel as it is answered alone.
func TestGroupingsPerRequestBounded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		seed(t, db)
		counted, n := testdb.CountingStatements(db)
		s := testserver.Start(t, counted)
		token := s.Token(t, "onac", viewer.RoleCoordinator)
		count := func(query string) (int64, *testserver.Response) {
			before := n.Load()
			r := s.Do(t, token, query, nil).MustOK(t)
			return n.Load() - before, r
		}
		panel := func(alias, dim string) string {
			return alias + `: decisionStatistics(groupBy: [` + dim + `]) { cells { values count } total { count } }`
		}
		dims := []string{"COURT", "INSTANCE", "VERDICT", "SENTENCE", "COMPENSATION", "SENTENCE_RANGE"}
		var panels []string
		for i, dim := range dims {
			panels = append(panels, panel(fmt.Sprintf("p%d", i), dim))
		}
		count(`{ ` + panel("warm", "INSTANCE") + ` }`) // what a server reads once for a caller
		one, _ := count(`{ ` + panel("p1", "INSTANCE") + ` }`)
		all, r := count(`{ ` + strings.Join(panels, "\n") + ` }`)
		// Three groupings, the finest cells, and the agency registry (the
		// courts are named from it), against one grouping.
		if all-one != 4 {
			t.Errorf("6 panels grouped 6 ways cost %d statements more than 1 panel: want 4 (3 groupings, the finest cells, the registry)", all-one)
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(r.Data, &got); err != nil {
			t.Fatal(err)
		}
		for i, dim := range dims {
			_, alone := count(`{ ` + panel(fmt.Sprintf("p%d", i), dim) + ` }`)
			var want map[string]json.RawMessage
			if err := json.Unmarshal(alone.Data, &want); err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("p%d", i)
			if string(got[key]) != string(want[key]) {
				t.Errorf("%s in a request of 6 panels: %s\nalone: %s", dim, got[key], want[key])
			}
		}
	})
}

// TestDashboardStatementCount: a dashboard of eight panels over the four
// tables costs, on top of what any request costs (the caller's agency, the
// audit trail's write), one SQL statement for each grouping of a table of
// records it asks (cases by region; by stage and open; proceedings by
// office and stage; by extension), panels of one grouping sharing it
// (statistics.Readings), plus one read of the agency registry for the
// groupings by agency (withAgencies), and none for the tables of people,
// which are the editions' (read once a server and scope); the same
// whether the database is empty or holds the demo data.
func TestDashboardStatementCount(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		counted, n := testdb.CountingStatements(db)
		s := testserver.Start(t, counted)
		token := s.Token(t, "onac", viewer.RoleCoordinator)
		count := func(query string) int64 {
			before := n.Load()
			s.Do(t, token, query, nil).MustOK(t)
			return n.Load() - before
		}
		onePanel := `{ victimStatistics(period: YEAR) { total { count } } }`
		count(dashboardQuery) // the first request of a server loads what it keeps
		empty := count(dashboardQuery)
		seed(t, db)
		// The first look at years that closed takes their editions, once
		// for the caller's scope (statistics/editions.go): not measured.
		count(dashboardQuery)
		seeded, one := count(dashboardQuery), count(onePanel)
		t.Logf("statements: 8 panels %d on an empty database, %d with the demo data; 1 panel %d", empty, seeded, one)
		if empty != seeded {
			t.Errorf("statements grow with the data: %d empty, %d seeded", empty, seeded)
		}
		if seeded-one != 5 {
			t.Errorf("8 panels over 4 tables cost %d statements more than 1 panel does: want 5, one for each of the four groupings of tables of records (cases, proceedings) and the agency registry once; the tables of people are the editions'", seeded-one)
		}
	})
}

// TestSentencesAgainstRange: decisionStatistics by SENTENCE_RANGE and
// prosecutionMeasures' imprisonmentAgainstRange agree with the test's own
// reading of the Criminal Code (sentenceAgainstRange) over every decision.
// The demo's courts sentence within the range, so the test first moves
// sentences out of it: a conviction under 128/b below ten years, one under
// 110/a alone above fifteen, and one under both 110/a and 128/b at
// sixteen years, within 128/b's range and above 110/a's (the range of the
// more severe article decides).
func TestSentencesAgainstRange(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, coordinator := seededServer(t, db)
		ctx := viewer.SystemContext(context.Background())
		convictions := db.Client.CourtDecision.Query().
			Where(courtdecision.VerdictEQ(domain.VerdictConvicted), courtdecision.SentenceKindEQ(domain.SentenceKindImprisonment),
				courtdecision.InstanceEQ(domain.InstanceFirstInstance)).
			WithProsecution(func(q *ent.ProsecutionQuery) { q.WithCharges() }).AllX(ctx)
		charged := func(d *ent.CourtDecision, a domain.Article) bool {
			for _, c := range d.Edges.Prosecution.Edges.Charges {
				if c.Article == a {
					return true
				}
			}
			return false
		}
		moves := []struct {
			name     string
			fits     func(*ent.CourtDecision) bool
			months   int
			expected string
		}{
			{"128/b below ten years", func(d *ent.CourtDecision) bool { return charged(d, domain.ArticleCc128b) }, 9 * 12, "BELOW_RANGE"},
			{"110/a alone above fifteen years", func(d *ent.CourtDecision) bool {
				return charged(d, domain.ArticleCc110a) && !charged(d, domain.ArticleCc128b)
			}, 16 * 12, "ABOVE_RANGE"},
			{"110/a and 128/b at sixteen years", func(d *ent.CourtDecision) bool {
				return charged(d, domain.ArticleCc110a) && charged(d, domain.ArticleCc128b)
			}, 16 * 12, "WITHIN_RANGE"},
		}
		moved := map[int]bool{}
		for _, m := range moves {
			var found *ent.CourtDecision
			for _, d := range convictions {
				if !moved[d.ID] && m.fits(d) {
					found = d
					break
				}
			}
			if found == nil {
				t.Fatalf("the demo data has no first-instance conviction to imprisonment for %s", m.name)
			}
			moved[found.ID] = true
			found = db.Client.CourtDecision.UpdateOne(found).SetSentenceMonths(m.months).SaveX(ctx)
			found.Edges.Prosecution = db.Client.CourtDecision.QueryProsecution(found).WithCharges().OnlyX(ctx)
			if got := sentenceAgainstRange(found, found.Edges.Prosecution.Edges.Charges); got != m.expected {
				t.Fatalf("the test's own reading puts %s at %s, want %s", m.name, got, m.expected)
			}
		}

		// An appeal's conviction to imprisonment below 128/b's range is
		// not compared with it: the range is of first-instance
		// convictions of the offence charged.
		appeal := db.Client.CourtDecision.Query().Where(courtdecision.InstanceEQ(domain.InstanceAppeal)).
			WithProsecution(func(q *ent.ProsecutionQuery) { q.WithCharges() }).AllX(ctx)
		var onAppeal *ent.CourtDecision
		for _, d := range appeal {
			if charged(d, domain.ArticleCc128b) {
				onAppeal = d
				break
			}
		}
		if onAppeal == nil {
			t.Fatal("the demo data has no appeal decision in a proceeding charged under 128/b")
		}
		db.Client.CourtDecision.UpdateOne(onAppeal).SetVerdict(domain.VerdictConvicted).
			SetSentenceKind(domain.SentenceKindImprisonment).SetSentenceMonths(9 * 12).ExecX(ctx)

		rows := decisionRows(t, db.Client)
		for _, r := range []request{{groupBy: []string{"SENTENCE_RANGE"}},
			{groupBy: []string{"COURT", "SENTENCE_RANGE"}, period: "YEAR", where: map[string]any{"instance": []string{"FIRST_INSTANCE"}}},
			{groupBy: []string{"VERDICT"}, where: map[string]any{"sentenceRange": []string{"BELOW_RANGE", "ABOVE_RANGE"}}}} {
			got := ask(t, s, coordinator, decisionQuery, r)
			want := expect(rows, r)
			if len(got.Cells) != len(want.members) {
				t.Errorf("%+v: %d cells, want %d", r, len(got.Cells), len(want.members))
			}
			checkExactCells(t, r, got, want)
		}
		seen := map[string]bool{}
		for _, c := range ask(t, s, coordinator, decisionQuery, request{groupBy: []string{"SENTENCE_RANGE"}}).Cells {
			seen[c.Values[0]] = *c.Count > 0
		}
		for _, v := range []string{"BELOW_RANGE", "WITHIN_RANGE", "ABOVE_RANGE", "NO_RANGE", "NO_IMPRISONMENT"} {
			if !seen[v] {
				t.Errorf("no decision is counted as %s: the test does not exercise it", v)
			}
		}

		// prosecutionMeasures: the first-instance sentences to
		// imprisonment of every proceeding (the coordinator sees them all).
		var want struct{ Below, Within, Above, NoRange int }
		for _, d := range db.Client.CourtDecision.Query().Where(courtdecision.InstanceEQ(domain.InstanceFirstInstance)).
			WithProsecution(func(q *ent.ProsecutionQuery) { q.WithCharges() }).AllX(ctx) {
			switch sentenceAgainstRange(d, d.Edges.Prosecution.Edges.Charges) {
			case "BELOW_RANGE":
				want.Below++
			case "WITHIN_RANGE":
				want.Within++
			case "ABOVE_RANGE":
				want.Above++
			case "NO_RANGE":
				want.NoRange++
			}
		}
		got := testserver.Call[measuresJSON](t, s, coordinator, measuresQuery, request{}.vars()).Total.ImprisonmentAgainstRange
		if got != want {
			t.Errorf("prosecutionMeasures' imprisonmentAgainstRange %+v, want %+v", got, want)
		}
	})
}
