package statistics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/statistics"
	"github.com/casegraph/casegraph/viewer"
)

// countTableQuery asks field, a table of counts grouped by dimension and
// filtered by filter, for every member the tests read; the six count
// tables share this shape and differ only in these three names.
func countTableQuery(field, dimension, filter string) string {
	return fmt.Sprintf(`query ($groupBy: [%s!]!, $period: StatisticsPeriod, $where: %s) {
  %s(groupBy: $groupBy, period: $period, where: $where) {
    groupBy period countsPeople threshold
    cells { period values count suppressed }
    total { count suppressed }
  }
}`, dimension, filter, field)
}

var (
	victimQuery       = countTableQuery("victimStatistics", "VictimDimension", "VictimStatisticsFilter")
	caseQuery         = countTableQuery("caseStatistics", "CaseDimension", "CaseStatisticsFilter")
	prosecutionQuery  = countTableQuery("prosecutionStatistics", "ProsecutionDimension", "ProsecutionStatisticsFilter")
	referralQuery     = countTableQuery("referralStatistics", "ReferralDimension", "ReferralStatisticsFilter")
	trialRequestQuery = countTableQuery("trialRequestStatistics", "ProsecutionDimension", "ProsecutionStatisticsFilter")
	decisionQuery     = countTableQuery("decisionStatistics", "DecisionDimension", "DecisionStatisticsFilter")
)

// measuresTableQuery asks field, a table of measures grouped by dimension
// and filtered by filter, reading members (a selection on the cell type
// cellType) of every cell and of the total.
func measuresTableQuery(field, dimension, filter, cellType, members string) string {
	return fmt.Sprintf(`query ($groupBy: [%s!]!, $period: StatisticsPeriod, $where: %s) {
  %s(groupBy: $groupBy, period: $period, where: $where) {
    groupBy period threshold
    cells { ...m }
    total { ...m }
  }
}
fragment m on %s {
%s}`, dimension, filter, field, cellType, members)
}

type cell struct {
	Period     *string
	Values     []string
	Count      *int
	Suppressed bool
}

type table struct {
	GroupBy      []string
	Period       *string
	CountsPeople bool
	Threshold    int
	Cells        []cell
	Total        cell
}

// row is one seeded record as the test reads it from the database, apart
// from the SQL under test: its month and its value of each dimension.
type row struct {
	month  string
	values map[string]string
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

func victimRows(t *testing.T, c *ent.Client) []row {
	vs := c.Victim.Query().AllX(viewer.SystemContext(context.Background()))
	out := make([]row, len(vs))
	for i, v := range vs {
		out[i] = row{month: v.IdentifiedAt.UTC().Format("2006-01"), values: map[string]string{
			"REGION": string(v.Region), "SEX": string(v.Sex), "AGE_GROUP": string(v.AgeGroup),
			"FOREIGN_NATIONAL": yesNo(v.ForeignNational), "IDENTIFICATION_STATUS": string(v.IdentificationStatus),
			"IDENTIFIED_BY": string(v.IdentifiedBy), "EXPLOITATION": exploitationGroup(v.FormsOfExploitation)}}
	}
	return out
}

func caseRows(t *testing.T, c *ent.Client) []row {
	cs := c.CaseFile.Query().WithLeadAgency().AllX(viewer.SystemContext(context.Background()))
	out := make([]row, len(cs))
	for i, k := range cs {
		open := "OPEN"
		if k.ClosedAt != nil {
			open = "CLOSED"
		}
		out[i] = row{month: k.OpenedAt.UTC().Format("2006-01"), values: map[string]string{
			"REGION": string(k.Region), "STAGE": string(k.Stage), "LEAD_AGENCY_KIND": string(k.Edges.LeadAgency.Kind), "OPEN": open,
			"EXPLOITATION": exploitationGroup(k.FormsOfExploitation)}}
	}
	return out
}

// exploitationGroup is the test's own reading of a list of forms of
// exploitation as one group: the form named (however often), MULTIPLE for
// several, UNSPECIFIED for none.
func exploitationGroup(forms []domain.Exploitation) string {
	distinct := map[domain.Exploitation]bool{}
	for _, f := range forms {
		distinct[f] = true
	}
	switch len(distinct) {
	case 0:
		return "UNSPECIFIED"
	case 1:
		return string(forms[0])
	}
	return "MULTIPLE"
}

// withUnusualForms gives a few seeded victims and cases the lists of forms
// the demo does not make (a form twice, none) so that the statistics'
// reading of each is checked.
func withUnusualForms(t *testing.T, c *ent.Client) {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	vs := c.Victim.Query().Order(ent.Asc(victim.FieldID)).Limit(2).AllX(ctx)
	c.Victim.UpdateOne(vs[0]).SetFormsOfExploitation([]domain.Exploitation{domain.ExploitationSexual, domain.ExploitationSexual}).ExecX(ctx)
	c.Victim.UpdateOne(vs[1]).SetFormsOfExploitation([]domain.Exploitation{}).ExecX(ctx)
	k := c.CaseFile.Query().Order(ent.Asc(casefile.FieldID)).FirstX(ctx)
	c.CaseFile.UpdateOne(k).SetFormsOfExploitation([]domain.Exploitation{domain.ExploitationForcedLabour, domain.ExploitationForcedLabour}).ExecX(ctx)
}

var victimDims = []string{"REGION", "SEX", "AGE_GROUP", "FOREIGN_NATIONAL", "IDENTIFICATION_STATUS", "IDENTIFIED_BY", "EXPLOITATION"}

// victimGrids and referralGrids are the tables of people the test expects
// to be published (docs/statistics.md, "Grids"): a request names the
// dimensions of one, by year, and suppression is decided on its cells.
var (
	victimGrids   = [][]string{{"SEX", "AGE_GROUP"}, {"REGION"}, {"FOREIGN_NATIONAL"}, {"EXPLOITATION"}, {"IDENTIFIED_BY"}, {"IDENTIFICATION_STATUS"}}
	referralGrids = [][]string{{"SERVICE_KIND", "STATUS"}, {"FROM_AGENCY_KIND", "TO_AGENCY_KIND"}}
)

// gridOf is the grid of grids that holds every dimension of dims (nil when
// dims is empty or no grid holds them all).
func gridOf(grids [][]string, dims []string) []string {
	for _, g := range grids {
		if len(dims) > 0 && !slices.ContainsFunc(dims, func(d string) bool { return !slices.Contains(g, d) }) {
			return g
		}
	}
	return nil
}

// gridCounts counts the rows of each cell of grid: a year and a value of
// each of its dimensions.
func gridCounts(rows []row, grid []string) map[string]int {
	counts := map[string]int{}
	for _, x := range rows {
		counts[gridKey(x, grid)]++
	}
	return counts
}

func gridKey(x row, grid []string) string {
	k := x.month[:4]
	for _, d := range grid {
		k += "|" + x.values[d]
	}
	return k
}

func prosecutionRows(t *testing.T, c *ent.Client) []row {
	ps := c.Prosecution.Query().WithOffice().AllX(viewer.SystemContext(context.Background()))
	out := make([]row, len(ps))
	for i, p := range ps {
		out[i] = row{month: p.RegisteredAt.UTC().Format("2006-01"), values: map[string]string{
			"OFFICE": p.Edges.Office.Code, "STAGE": string(p.Stage), "EXTENDED": yesNo(p.DeadlineExtensions > 0)}}
	}
	return out
}

// decisionRows reads every court decision by the test's own means: its
// month decided, court, instance, verdict, sentence (NONE for none) and
// compensation (ordered when more than nothing was; paid only then).
func decisionRows(t *testing.T, c *ent.Client) []row {
	ds := c.CourtDecision.Query().WithCourt().WithProsecution(func(q *ent.ProsecutionQuery) { q.WithCharges() }).
		AllX(viewer.SystemContext(context.Background()))
	out := make([]row, len(ds))
	for i, d := range ds {
		sentence, compensation := "NONE", "NOT_ORDERED"
		if d.SentenceKind != nil {
			sentence = string(*d.SentenceKind)
		}
		if d.CompensationOrderedLek != nil && *d.CompensationOrderedLek > 0 {
			compensation = map[bool]string{true: "ORDERED_PAID", false: "ORDERED_UNPAID"}[d.CompensationPaid]
		}
		out[i] = row{month: d.DecidedOn.UTC().Format("2006-01"), values: map[string]string{
			"COURT": d.Edges.Court.Code, "INSTANCE": string(d.Instance), "VERDICT": string(d.Verdict),
			"SENTENCE": sentence, "COMPENSATION": compensation, "SENTENCE_RANGE": sentenceAgainstRange(d, d.Edges.Prosecution.Edges.Charges)}}
	}
	return out
}

// sentenceAgainstRange is a decision's SENTENCE_RANGE by the test's own
// reading of the Criminal Code (110/a: 8 to 15 years; 128/b, the more
// severe: 10 to 20), not the package's; charges are its proceeding's.
func sentenceAgainstRange(d *ent.CourtDecision, charges []*ent.Charge) string {
	if d.SentenceKind == nil || *d.SentenceKind != domain.SentenceKindImprisonment || d.SentenceMonths == nil {
		return "NO_IMPRISONMENT"
	}
	if d.Verdict != domain.VerdictConvicted || d.Instance != domain.InstanceFirstInstance {
		return "NO_RANGE"
	}
	charged := map[domain.Article]bool{}
	for _, c := range charges {
		charged[c.Article] = true
	}
	for _, law := range []struct {
		article  domain.Article
		min, max int // years
	}{{domain.ArticleCc128b, 10, 20}, {domain.ArticleCc110a, 8, 15}} {
		if !charged[law.article] {
			continue
		}
		switch months := *d.SentenceMonths; {
		case months < law.min*12:
			return "BELOW_RANGE"
		case months > law.max*12:
			return "ABOVE_RANGE"
		}
		return "WITHIN_RANGE"
	}
	return "NO_RANGE"
}

func referralRows(t *testing.T, c *ent.Client) []row {
	rs := c.Referral.Query().WithFromAgency().WithToAgency().AllX(viewer.SystemContext(context.Background()))
	out := make([]row, len(rs))
	for i, r := range rs {
		out[i] = row{month: r.ReferredAt.UTC().Format("2006-01"), values: map[string]string{
			"SERVICE_KIND": string(r.ServiceKind), "FROM_AGENCY_KIND": string(r.Edges.FromAgency.Kind),
			"TO_AGENCY_KIND": string(r.Edges.ToAgency.Kind), "STATUS": string(r.Status)}}
	}
	return out
}

func periodOf(month, period string) string {
	switch period {
	case "MONTH":
		return month
	case "QUARTER":
		var m int
		fmt.Sscanf(month[5:], "%d", &m)
		return fmt.Sprintf("%s-Q%d", month[:4], (m+2)/3)
	case "YEAR":
		return month[:4]
	}
	return ""
}

// request is one statistics request of the test, as GraphQL variables.
type request struct {
	groupBy []string
	period  string
	where   map[string]any
}

func (r request) vars() map[string]any {
	v := map[string]any{"groupBy": r.groupBy, "where": r.where}
	if r.groupBy == nil {
		v["groupBy"] = []string{}
	}
	if r.period != "" {
		v["period"] = r.period
	}
	return v
}

// filteredRequest is a request of a measures table with the test's own
// reading of its filter (keep) over the facts T it computes the measures
// from.
type filteredRequest[T any] struct {
	groupBy []string
	period  string
	where   map[string]any
	keep    func(T) bool
}

// vars are the request's GraphQL variables, as request.vars gives them.
func (r filteredRequest[T]) vars() map[string]any {
	return request{r.groupBy, r.period, r.where}.vars()
}

var filterKeys = map[string]string{"OFFICE": "office", "SERVICE_KIND": "serviceKind", "STATUS": "status",
	"FROM_AGENCY_KIND": "fromAgencyKind", "TO_AGENCY_KIND": "toAgencyKind", "REGION": "region", "SEX": "sex", "AGE_GROUP": "ageGroup", "IDENTIFICATION_STATUS": "identificationStatus",
	"IDENTIFIED_BY": "identifiedBy", "STAGE": "stage", "LEAD_AGENCY_KIND": "leadAgencyKind", "EXPLOITATION": "exploitation",
	"COURT": "court", "INSTANCE": "instance", "VERDICT": "verdict", "SENTENCE": "sentence", "COMPENSATION": "compensation", "SENTENCE_RANGE": "sentenceRange"}

// keeps is the test's own reading of a filter.
func (r request) keeps(x row) bool {
	for dim, key := range filterKeys {
		if vs, ok := r.where[key].([]string); ok && len(vs) > 0 && !slices.Contains(vs, x.values[dim]) {
			return false
		}
	}
	if b, ok := r.where["foreignNational"].(bool); ok && x.values["FOREIGN_NATIONAL"] != yesNo(b) {
		return false
	}
	if b, ok := r.where["extended"].(bool); ok && x.values["EXTENDED"] != yesNo(b) {
		return false
	}
	if b, ok := r.where["open"].(bool); ok && x.values["OPEN"] != map[bool]string{true: "OPEN", false: "CLOSED"}[b] {
		return false
	}
	if from, ok := r.where["from"].(string); ok && x.month < from {
		return false
	}
	if to, ok := r.where["to"].(string); ok && x.month > to {
		return false
	}
	return true
}

// dimensions lists the dimensions r groups or filters by.
func (r request) dimensions() []string {
	dims := slices.Clone(r.groupBy)
	for dim, key := range filterKeys {
		if vs, ok := r.where[key].([]string); ok && len(vs) > 0 && !slices.Contains(dims, dim) {
			dims = append(dims, dim)
		}
	}
	for key, dim := range map[string]string{"foreignNational": "FOREIGN_NATIONAL", "extended": "EXTENDED", "open": "OPEN"} {
		if _, ok := r.where[key].(bool); ok && !slices.Contains(dims, dim) {
			dims = append(dims, dim)
		}
	}
	return dims
}

func (r request) cellOf(x row) string {
	parts := []string{periodOf(x.month, r.period)}
	for _, d := range r.groupBy {
		parts = append(parts, x.values[d])
	}
	return strings.Join(parts, "|")
}

func cellKey(c cell) string {
	p := ""
	if c.Period != nil {
		p = *c.Period
	}
	return strings.Join(append([]string{p}, c.Values...), "|")
}

// expected is the table the test computes itself from the rows: each
// cell's members, and whether any finest cell among them is below k.
type expected struct {
	members map[string][]int
}

func expect(rows []row, r request) expected {
	e := expected{members: map[string][]int{}}
	for i, x := range rows {
		if r.keeps(x) {
			k := r.cellOf(x)
			e.members[k] = append(e.members[k], i)
		}
	}
	return e
}

// checkExactCells checks that every cell of an exact table (cases,
// proceedings, decisions: not people) counts its members.
func checkExactCells(t *testing.T, r request, got table, want expected) {
	t.Helper()
	for _, c := range got.Cells {
		if c.Count == nil || *c.Count != len(want.members[cellKey(c)]) {
			t.Errorf("%+v %s: got %v, want %d", r, cellKey(c), c.Count, len(want.members[cellKey(c)]))
		}
	}
}

// small reports whether the members include a row whose cell of grid
// (counts: gridCounts over all rows, whatever the request) counts fewer
// than k.
func small(rows []row, members []int, grid []string, counts map[string]int, k int) bool {
	for _, i := range members {
		if n := counts[gridKey(rows[i], grid)]; k > 0 && n < k {
			return true
		}
	}
	return false
}

func seed(t *testing.T, db *database.DB) {
	t.Helper()
	if _, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: 1, Seed: 7}); err != nil {
		t.Fatalf("seeding: %v", err)
	}
}

// seededServer seeds the demo data into db and starts a server on it; it
// returns the server and its national coordinator (k = 5, the default).
func seededServer(t *testing.T, db *database.DB) (*testserver.Server, testserver.Principal) {
	t.Helper()
	seed(t, db)
	s := testserver.Start(t, db)
	return s, s.As(t, "onac", viewer.RoleCoordinator)
}

// exactForAnalysts gives analysts exact counts by a change of the policy
// at run time, and returns an analyst.
func exactForAnalysts(t *testing.T, s *testserver.Server) testserver.Principal {
	t.Helper()
	admin := s.Token(t, "onac", viewer.RoleAdmin)
	s.Do(t, admin, `mutation { changePolicy(add: [["p", "analyst", "*", "statistics", "exact", "any"]], reason: "exact counts for the test") { added } }`, nil).MustOK(t)
	return s.As(t, "onac", viewer.RoleAnalyst)
}

func ask(t *testing.T, s *testserver.Server, p testserver.Principal, query string, r request) table {
	t.Helper()
	return testserver.Call[table](t, s, p, query, r.vars())
}

// checkVictims compares a victims table with the test's own computation
// over every victim (a national principal sees them all) under threshold
// k: every shown number is the true count, and a cell of some dimension
// holding a cell of its grid below k is suppressed.
func checkVictims(t *testing.T, rows []row, r request, got table, k int) {
	t.Helper()
	want := expect(rows, r)
	if cells := cellsListed(rows, r, want); len(got.Cells) != cells {
		t.Errorf("%+v: %d cells, want %d", r, len(got.Cells), cells)
	}
	grid := gridOf(victimGrids, r.dimensions())
	counts := gridCounts(rows, grid)
	filtered := false
	for key := range r.where {
		filtered = filtered || (key != "from" && key != "to")
	}
	var all []int
	for _, c := range got.Cells {
		members, ok := want.members[cellKey(c)]
		if !ok && !(c.Suppressed && c.Period != nil && notClosed(rows)[(*c.Period)[:4]]) {
			t.Errorf("%+v: cell %s has no victims (and is not a period of a year not closed)", r, cellKey(c))
			continue
		}
		checkCell(t, fmt.Sprintf("%+v %s", r, cellKey(c)), c, members, len(r.dimensions()) > 0 && small(rows, members, grid, counts, k))
	}
	for _, m := range want.members {
		all = append(all, m...)
	}
	checkCell(t, fmt.Sprintf("%+v total", r), got.Total, all, filtered && small(rows, all, grid, counts, k))
}

// cellsListed is how many cells an answer to r lists. A year not closed
// (statistics.Closed) is withheld from every layer: a grid's answer has no
// cell of it, the time series lists every period of it (between from and
// to) suppressed; other cells are those of the rows.
func cellsListed(rows []row, r request, want expected) int {
	open, n := notClosed(rows), 0
	for key, members := range want.members {
		switch {
		case len(r.dimensions()) == 0 && r.period != "" && open[key[:4]]:
		case len(r.dimensions()) == 0 || slices.ContainsFunc(members, func(i int) bool { return !open[rows[i].month[:4]] }):
			n++
		}
	}
	if len(r.dimensions()) == 0 && r.period != "" {
		periods := map[string]bool{}
		for year := range open {
			for m := 1; m <= 12; m++ {
				month := fmt.Sprintf("%s-%02d", year, m)
				from, _ := r.where["from"].(string)
				to, _ := r.where["to"].(string)
				if (from == "" || month >= from) && (to == "" || month <= to) {
					periods[periodOf(month, r.period)] = true
				}
			}
		}
		n += len(periods)
	}
	return n
}

// notClosed are the years of rows not closed today: withheld whole from
// callers under disclosure control (statistics/editions.go). The demo data
// ends today, so there is at least one, and two from January to February.
func notClosed(rows []row) map[string]bool {
	out := map[string]bool{}
	for _, x := range rows {
		year, _ := strconv.Atoi(x.month[:4])
		if !statistics.Closed(year, time.Now()) {
			out[x.month[:4]] = true
		}
	}
	return out
}

// checkCell checks a cell shown against its members, and that it is
// suppressed when it must be.
func checkCell(t *testing.T, what string, c cell, members []int, mustHide bool) {
	t.Helper()
	if c.Suppressed != (c.Count == nil) {
		t.Errorf("%s: suppressed %v but count %v", what, c.Suppressed, c.Count)
	}
	if mustHide && !c.Suppressed {
		t.Errorf("%s: shown (%d), but it holds a cell of its grid below k", what, *c.Count)
	}
	if c.Count != nil && *c.Count != len(members) {
		t.Errorf("%s: got %d, want %d", what, *c.Count, len(members))
	}
}

// requests are groupings, filters and periods a dashboard (or an
// attacker) asks for.
func requests() []request {
	var out []request
	// The time series, by every period.
	for _, p := range []string{"", "YEAR", "QUARTER", "MONTH"} {
		out = append(out, request{period: p})
	}
	for _, f := range []map[string]any{{"from": "2025-01", "to": "2025-06"}, {"from": "2025-02", "to": "2025-06"},
		{"from": "2025-03", "to": "2025-03"}, {"from": "2024-01", "to": "2025-12"}, {"from": "2023-04"}} {
		for _, p := range []string{"", "YEAR", "QUARTER", "MONTH"} {
			out = append(out, request{period: p, where: f})
		}
	}
	// Each grid, grouped by each of its dimensions and all of them, by
	// year and for the whole time.
	for _, g := range append(victimGrids, []string{"AGE_GROUP"}, []string{"SEX"}) {
		for _, p := range []string{"", "YEAR"} {
			out = append(out, request{groupBy: g, period: p})
		}
	}
	filters := []map[string]any{
		{"region": []string{"TIRANE"}},
		{"region": []string{"KUKES", "DIBER"}},
		{"sex": []string{"FEMALE"}},
		{"sex": []string{"MALE"}, "ageGroup": []string{"ADULT"}},
		{"foreignNational": false},
		{"foreignNational": true},
		{"ageGroup": []string{"MINOR"}},
		{"exploitation": []string{"SEXUAL", "MULTIPLE"}},
		{"exploitation": []string{"FORCED_LABOUR"}},
		{"region": []string{"TIRANE"}, "from": "2025-01", "to": "2025-12"},
		{"sex": []string{"FEMALE"}, "from": "2023-01"},
		{"from": "2024-01", "to": "2025-12"},
	}
	for _, f := range filters {
		for _, g := range [][]string{nil, {"SEX"}, {"AGE_GROUP"}, {"REGION"}} {
			r := request{groupBy: g, period: "YEAR", where: f}
			if gridOf(victimGrids, r.dimensions()) == nil && len(r.dimensions()) > 0 {
				continue // two grids: refused (the bad input subtest)
			}
			out = append(out, r, request{groupBy: g, where: f})
		}
	}
	return out
}

// shown is a number a request showed, with the set of victims it counts.
type shown struct {
	what    string
	members map[int]bool
	count   int
}

// differencing tries every pair of numbers shown (across all requests)
// where one counts a subset of the other's victims: their difference
// counts the victims of one in the other, and must be 0 or at least k.
// It also checks that each shown number equals its victims: a value that
// lied to hide a small count would be caught here too. It returns the
// findings.
func differencing(all []shown, k int) []string {
	var leaks []string
	for _, a := range all {
		if a.count != len(a.members) {
			leaks = append(leaks, fmt.Sprintf("%s shows %d for %d victims", a.what, a.count, len(a.members)))
		}
	}
	for i, a := range all {
		for _, b := range all[i+1:] {
			big, sub := a, b
			if len(b.members) > len(a.members) {
				big, sub = b, a
			}
			if d := big.count - sub.count; d > 0 && d < k && subset(sub.members, big.members) {
				leaks = append(leaks, fmt.Sprintf("%s minus %s = %d", big.what, sub.what, d))
				if len(leaks) > 5 {
					return leaks
				}
			}
		}
	}
	return leaks
}

func subset(a, b map[int]bool) bool {
	for i := range a {
		if !b[i] {
			return false
		}
	}
	return true
}

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
					rows = append(rows, row{month: p.TrialRequestedAt.UTC().Format("2006-01"), values: map[string]string{
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
			for _, where := range []map[string]any{{"from": "2025-13"}, {"from": "2025-06", "to": "2025-01"}, {"to": "2025-1"}} {
				r := s.Do(t, coordinator.Token, victimQuery, request{where: where}.vars())
				testserver.WantCodes(t, r, "BAD_USER_INPUT")
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
