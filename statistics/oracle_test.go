package statistics_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/statistics"
	"github.com/casegraph/casegraph/viewer"
)

// The tests' own reading of the data: the rows of each table as the
// statistics must count them, the requests the tests send, and the checks of
// an answer against what the rows say. TestStatistics and the measures' tests
// compare GraphQL's answers with these.

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
		out[i] = row{month: domain.MonthInTirana(v.IdentifiedAt), values: map[string]string{
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
		out[i] = row{month: domain.MonthInTirana(k.OpenedAt), values: map[string]string{
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
		out[i] = row{month: domain.MonthInTirana(p.RegisteredAt), values: map[string]string{
			"OFFICE": p.Edges.Office.Code, "STAGE": string(p.Stage), "EXTENDED": yesNo(p.DeadlineExtensions > 0)}}
	}
	return out
}

// decisionRows reads every court decision by the test's own means: its
// month decided, court, instance, verdict, sentence (NONE for none) and
// compensation (ordered when more than nothing was, by a decision that
// convicts someone; paid only then).
func decisionRows(t *testing.T, c *ent.Client) []row {
	ds := c.CourtDecision.Query().WithCourt().WithProsecution(func(q *ent.ProsecutionQuery) { q.WithCharges().WithDecisions() }).
		AllX(viewer.SystemContext(context.Background()))
	out := make([]row, len(ds))
	for i, d := range ds {
		sentence, compensation := "NONE", "NOT_ORDERED"
		if d.SentenceKind != nil {
			sentence = string(*d.SentenceKind)
		}
		if d.CompensationOrderedLek != nil && *d.CompensationOrderedLek > 0 && convicts(d, d.Edges.Prosecution.Edges.Decisions) {
			compensation = map[bool]string{true: "ORDERED_PAID", false: "ORDERED_UNPAID"}[d.CompensationPaid]
		}
		out[i] = row{month: domain.MonthInTirana(d.DecidedOn), values: map[string]string{
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
		out[i] = row{month: domain.MonthInTirana(r.ReferredAt), values: map[string]string{
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
