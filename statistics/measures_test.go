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

	"github.com/99designs/gqlgen/graphql"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

var measuresQuery = measuresTableQuery("prosecutionMeasures", "ProsecutionDimension", "ProsecutionStatisticsFilter", "ProsecutionMeasuresCell", `  period values registered underInvestigation pastDeadline extended trialRequested dismissed dismissalRate
  daysPastDeadline { count median p90 max withheld }
  daysToTrialRequest { count median p90 max withheld }
  convicted convictedOfLesserOffence acquitted dismissedByCourt suspendedOrProbation fines
  imprisonmentMonths { count median p90 max withheld }
  imprisonmentAgainstRange { below within above noRange }
  compensationOrdered compensationPaid compensationOrderedLek traffickingCharges reclassifiedTo { article count }
`)

type durationJSON struct {
	Count            int
	Median, P90, Max *int
	Withheld         bool
}

type measureCellJSON struct {
	Period                                                                            *string
	Values                                                                            []string
	Registered, UnderInvestigation, PastDeadline, Extended, TrialRequested, Dismissed int
	DismissalRate                                                                     *float64
	DaysPastDeadline, DaysToTrialRequest                                              durationJSON

	Convicted, ConvictedOfLesserOffence, Acquitted, DismissedByCourt, SuspendedOrProbation, Fines int
	ImprisonmentMonths                                                                            durationJSON
	ImprisonmentAgainstRange                                                                      struct{ Below, Within, Above, NoRange int }
	CompensationOrdered, CompensationPaid                                                         int
	CompensationOrderedLek                                                                        *float64
	TraffickingCharges                                                                            int
	ReclassifiedTo                                                                                []articleCount
}

type articleCount struct {
	Article string
	Count   int
}

type measuresJSON struct {
	GroupBy   []string
	Period    *string
	Threshold int
	Cells     []measureCellJSON
	Total     measureCellJSON
}

// proceeding is what the test reads of one proceeding, by its own means.
type proceeding struct {
	registrationNumber             string
	month, office, stage, extended string
	deadline                       *time.Time
	registered                     time.Time
	trial, dismissed               *time.Time
	decisions                      []*ent.CourtDecision
	charges                        []*ent.Charge
}

func proceedings(t *testing.T, c *ent.Client) []proceeding {
	t.Helper()
	ps, err := c.Prosecution.Query().WithOffice().WithDecisions().WithCharges().All(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]proceeding, len(ps))
	for i, p := range ps {
		out[i] = proceeding{registrationNumber: p.RegistrationNumber, month: domain.MonthInTirana(p.RegisteredAt), office: p.Edges.Office.Code, stage: string(p.Stage),
			extended: yesNo(p.DeadlineExtensions > 0), deadline: p.InvestigationDeadline, registered: p.RegisteredAt,
			trial: p.TrialRequestedAt, dismissed: p.DismissedAt, decisions: p.Edges.Decisions, charges: p.Edges.Charges}
	}
	return out
}

// convicts reports whether court decision d of a proceeding whose
// decisions are all convicts someone, by domain.Decision.Convicts, the
// rule the statistics' SQL says too.
func convicts(d *ent.CourtDecision, all []*ent.CourtDecision) bool {
	facts := func(d *ent.CourtDecision) domain.Decision {
		x := domain.Decision{ID: d.ID, Instance: d.Instance, DecidedOn: d.DecidedOn, Verdict: d.Verdict, Sentenced: d.SentenceKind != nil}
		if d.ReviewedDecisionID != nil {
			x.ReviewedID = *d.ReviewedDecisionID
		}
		return x
	}
	fs := make([]domain.Decision, len(all))
	for i, x := range all {
		fs[i] = facts(x)
	}
	return facts(d).Convicts(fs)
}

// expectedMeasures computes, from the proceedings, the cell each one falls
// in and its measures as of now, as the test understands them: the
// overdue rule of domain.OverdueDays, days as whole 24-hour spans, the
// nearest-rank median and 90th percentile over the sorted days, withheld
// below k.
func expectedMeasures(ps []proceeding, groupBy []string, period string, keep func(proceeding) bool, now time.Time, k int) map[string]measureCellJSON {
	type acc struct {
		c                   measureCellJSON
		past, trial, months []int
		reclassified        map[string]int
		lek                 float64
	}
	cells := map[string]*acc{}
	for _, p := range ps {
		if !keep(p) {
			continue
		}
		values := []string{}
		for _, g := range groupBy {
			values = append(values, map[string]string{"OFFICE": p.office, "STAGE": p.stage, "EXTENDED": p.extended}[g])
		}
		per := periodOf(p.month, period)
		key := per + "|" + strings.Join(values, ",")
		a := cells[key]
		if a == nil {
			a = &acc{c: measureCellJSON{Values: values}, reclassified: map[string]int{}}
			if per != "" {
				a.c.Period = &per
			}
			cells[key] = a
		}
		a.c.Registered++
		if domain.ProceedingStage(p.stage).InvestigationOpen() {
			a.c.UnderInvestigation++
		}
		if days, overdue := domain.OverdueDays(domain.ProceedingStage(p.stage), p.deadline, now); overdue {
			a.c.PastDeadline++
			a.past = append(a.past, days)
		}
		if p.extended == "YES" {
			a.c.Extended++
		}
		if p.trial != nil {
			a.c.TrialRequested++
			a.trial = append(a.trial, int(p.trial.Sub(p.registered)/(24*time.Hour)))
		}
		if p.dismissed != nil {
			a.c.Dismissed++
		}
		for _, d := range p.decisions {
			if d.Instance != domain.InstanceFirstInstance {
				continue
			}
			switch d.Verdict {
			case domain.VerdictConvicted:
				a.c.Convicted++
			case domain.VerdictConvictedOfLesserOffence:
				a.c.ConvictedOfLesserOffence++
			case domain.VerdictAcquitted:
				a.c.Acquitted++
			case domain.VerdictDismissed:
				a.c.DismissedByCourt++
			}
			if d.SentenceKind != nil {
				switch *d.SentenceKind {
				case domain.SentenceKindImprisonment:
					if d.SentenceMonths != nil {
						a.months = append(a.months, *d.SentenceMonths)
					}
					r := &a.c.ImprisonmentAgainstRange
					switch sentenceAgainstRange(d, p.charges) {
					case "BELOW_RANGE":
						r.Below++
					case "WITHIN_RANGE":
						r.Within++
					case "ABOVE_RANGE":
						r.Above++
					case "NO_RANGE":
						r.NoRange++
					}
				case domain.SentenceKindSuspendedOrProbation:
					a.c.SuspendedOrProbation++
				case domain.SentenceKindFine:
					a.c.Fines++
				}
			}
			// A decision that convicts no one orders no compensation: an
			// amount stored on one is not counted (docs/statistics.md).
			if d.CompensationOrderedLek != nil && convicts(d, p.decisions) {
				a.lek += float64(*d.CompensationOrderedLek)
				if *d.CompensationOrderedLek > 0 {
					a.c.CompensationOrdered++
					if d.CompensationPaid {
						a.c.CompensationPaid++
					}
				}
			}
		}
		for _, ch := range p.charges {
			first := ch.Article
			if ch.ReclassifiedFrom != nil {
				first = *ch.ReclassifiedFrom
			}
			if first != domain.ArticleCc110a && first != domain.ArticleCc128b {
				continue
			}
			a.c.TraffickingCharges++
			if ch.ReclassifiedFrom != nil && *ch.ReclassifiedFrom != ch.Article {
				a.reclassified[string(ch.Article)]++
			}
		}
	}
	dist := func(days []int) durationJSON {
		d := durationJSON{Count: len(days)}
		switch {
		case len(days) == 0:
		case len(days) < k:
			d.Withheld = true
		default:
			slices.Sort(days)
			at := func(q float64) *int {
				i := 0
				for float64(i+1) < q*float64(len(days)) {
					i++
				}
				return &days[i]
			}
			d.Median, d.P90, d.Max = at(0.5), at(0.9), &days[len(days)-1]
		}
		return d
	}
	out := map[string]measureCellJSON{}
	for key, a := range cells {
		a.c.DaysPastDeadline, a.c.DaysToTrialRequest, a.c.ImprisonmentMonths = dist(a.past), dist(a.trial), dist(a.months)
		if m := a.c.ImprisonmentMonths; m.Median != nil { // one person's sentence each
			slices.Sort(a.months)
			a.c.ImprisonmentMonths = durationJSON{Count: m.Count, Median: peoplesRank(a.months, 50, k), P90: peoplesRank(a.months, 90, k)}
		}
		if k == 0 {
			lek := a.lek
			a.c.CompensationOrderedLek = &lek
		}
		a.c.ReclassifiedTo = []articleCount{}
		for _, art := range slices.Sorted(maps.Keys(a.reclassified)) {
			a.c.ReclassifiedTo = append(a.c.ReclassifiedTo, articleCount{art, a.reclassified[art]})
		}
		if ended := a.c.Dismissed + a.c.TrialRequested; ended > 0 {
			r := float64(a.c.Dismissed) / float64(ended)
			a.c.DismissalRate = &r
		}
		out[key] = a.c
	}
	return out
}

// jsonOf is a cell with its pointers followed, to compare and print.
func jsonOf(c measureCellJSON) string {
	b, _ := json.Marshal(c)
	return string(b)
}

func measureKey(c measureCellJSON) string {
	per := ""
	if c.Period != nil {
		per = *c.Period
	}
	return per + "|" + strings.Join(c.Values, ",")
}

// TestProsecutionMeasures compares every measure of the monitoring
// mechanism, for several groupings, periods and filters, with the test's
// own computation from the proceedings, on SQLite and PostgreSQL: for the
// national coordinator (threshold 5: durations over fewer than five
// proceedings withheld) and a district prosecutor, who holds statistics
// exact and sees every duration of the proceedings in their row scope.
// Reading the measures is audited like any statistics table.
func TestProsecutionMeasures(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, coordinator := seededServer(t, db)
		all := proceedings(t, db.Client)

		requests := []filteredRequest[proceeding]{
			{nil, "", nil, func(proceeding) bool { return true }},
			{[]string{"OFFICE"}, "YEAR", nil, func(proceeding) bool { return true }},
			{[]string{"STAGE", "EXTENDED"}, "QUARTER", map[string]any{"from": "2023-01", "to": "2025-06"},
				func(p proceeding) bool { return p.month >= "2023-01" && p.month <= "2025-06" }},
			{[]string{"OFFICE"}, "", map[string]any{"office": []string{"prosecution-tirane", "prosecution-durres"}, "extended": true},
				func(p proceeding) bool {
					return (p.office == "prosecution-tirane" || p.office == "prosecution-durres") && p.extended == "YES"
				}},
		}
		check := func(t *testing.T, who testserver.Principal, rows []proceeding, wantK int) {
			nonEmpty, withheld := 0, 0
			exercised := map[string]int{}
			for _, r := range requests {
				vars := r.vars()
				before := time.Now()
				got := testserver.Call[measuresJSON](t, s, who, measuresQuery, vars)
				after := time.Now()
				if got.Threshold != wantK {
					t.Fatalf("threshold %d, want %d", got.Threshold, wantK)
				}
				k := got.Threshold
				// The server's "now" is between before and after; a
				// proceeding crossing a day of overdue in between may
				// count either way.
				wantBefore := expectedMeasures(rows, r.groupBy, r.period, r.keep, before, k)
				wantAfter := expectedMeasures(rows, r.groupBy, r.period, r.keep, after, k)
				what := fmt.Sprintf("groupBy %v period %q where %v", r.groupBy, r.period, r.where)
				if len(got.Cells) != len(wantBefore) {
					t.Errorf("%s: %d cells, want %d", what, len(got.Cells), len(wantBefore))
				}
				for _, c := range got.Cells {
					key := measureKey(c)
					if jsonOf(c) != jsonOf(wantBefore[key]) && jsonOf(c) != jsonOf(wantAfter[key]) {
						t.Errorf("%s: cell %s\n got  %s\n want %s", what, key, jsonOf(c), jsonOf(wantBefore[key]))
					}
					if c.Registered > 0 {
						nonEmpty++
					}
					if c.DaysToTrialRequest.Withheld || c.DaysPastDeadline.Withheld {
						withheld++
					}
				}
				wantTotal := expectedMeasures(rows, nil, "", r.keep, before, k)["|"]
				wantTotalAfter := expectedMeasures(rows, nil, "", r.keep, after, k)["|"]
				exercised["convicted"] += got.Total.Convicted
				exercised["suspended"] += got.Total.SuspendedOrProbation
				exercised["imprisonment"] += got.Total.ImprisonmentMonths.Count
				exercised["compensation"] += got.Total.CompensationOrdered
				for _, c := range got.Cells {
					if c.CompensationOrdered > 0 && c.CompensationOrderedLek == nil {
						exercised["lek withheld"]++
					}
				}
				exercised["reclassified"] += len(got.Total.ReclassifiedTo)
				got.Total.Values = nil
				wantTotal.Values, wantTotalAfter.Values = nil, nil
				if jsonOf(got.Total) != jsonOf(wantTotal) && jsonOf(got.Total) != jsonOf(wantTotalAfter) {
					t.Errorf("%s: total\n got  %s\n want %s", what, jsonOf(got.Total), jsonOf(wantTotal))
				}
			}
			if exercised["convicted"] == 0 || exercised["imprisonment"] == 0 || exercised["compensation"] == 0 || exercised["reclassified"] == 0 || exercised["suspended"] == 0 {
				t.Errorf("the data exercises too little: %v", exercised)
			}
			if nonEmpty == 0 {
				t.Fatal("no cell counted any proceeding: the comparison proves nothing")
			}
			if wantK > 0 && (withheld == 0 || exercised["lek withheld"] == 0) {
				t.Errorf("nothing withheld under the threshold (%d durations, %d compensation sums): the comparison does not exercise it",
					withheld, exercised["lek withheld"])
			}
		}

		t.Run("national coordinator, durations over fewer than 5 withheld", func(t *testing.T) {
			check(t, coordinator, all, 5)
		})
		t.Run("district prosecutor, exact, over the proceedings they see", func(t *testing.T) {
			prosecutor := s.As(t, "prosecution-tirane", viewer.RoleProsecutor)
			// The row scope is the one of every table (tested there):
			// the proceedings they see are those GraphQL lists them.
			type page struct {
				TotalCount int
				Edges      []struct {
					Node struct{ RegistrationNumber string }
				}
			}
			seen := testserver.Call[page](t, s, prosecutor, `{ prosecutions(first: 500) { totalCount edges { node { registrationNumber } } } }`, nil)
			if seen.TotalCount > len(seen.Edges) {
				t.Fatalf("the prosecutor sees %d proceedings, more than one page", seen.TotalCount)
			}
			var rows []proceeding
			for _, p := range all {
				if slices.ContainsFunc(seen.Edges, func(e struct {
					Node struct{ RegistrationNumber string }
				}) bool {
					return e.Node.RegistrationNumber == p.registrationNumber
				}) {
					rows = append(rows, p)
				}
			}
			if len(rows) == 0 || len(rows) == len(all) {
				t.Fatalf("the prosecutor sees %d of %d proceedings: want some, not all", len(rows), len(all))
			}
			check(t, prosecutor, rows, 0)
		})

		t.Run("audited", func(t *testing.T) {
			n, err := db.Client.AuditEvent.Query().Where(auditevent.Kind(string(audit.StatisticsRead)),
				auditevent.DetailContains(`"table":"prosecutionMeasures"`)).Count(viewer.SystemContext(context.Background()))
			if err != nil {
				t.Fatal(err)
			}
			if n < len(requests) {
				t.Errorf("%d STATISTICS_READ events of prosecutionMeasures, want at least %d", n, len(requests))
			}
		})
	})
}

// peoplesRank is the nearest-rank percentile of people's values (sorted,
// at least one): never within k values of either end under disclosure
// control (k > 0), where it would be one of a few people's values.
func peoplesRank(sorted []int, percent, k int) *int {
	r := (percent*len(sorted) + 99) / 100
	if k > 0 && (r-1 < k || len(sorted)-r < k) {
		return nil
	}
	return &sorted[r-1]
}

// TestCompensationSumBeyond64Bits: amounts stored before compensation was
// bounded (domain.MaxCompensationLek) may be as large as 64 bits hold, and
// two of them in one cell overflowed the sum: SQLite's SUM failed
// ("integer overflow"), PostgreSQL's numeric sum did not fit the int64 it
// was read into, and prosecutionMeasures was INTERNAL for every caller (a
// hunt over HTTP). The page answers, and the sum is the amounts' sum.
func TestCompensationSumBeyond64Bits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, coordinator := seededServer(t, db)
		// A second decision like one of prosecution-tirane's, so that two
		// amounts fall in one group of the SQL sum, as a retried
		// proceeding's do.
		sys := viewer.SystemContext(context.Background())
		d := db.Client.CourtDecision.Query().Where(courtdecision.InstanceEQ(domain.InstanceFirstInstance), courtdecision.CompensationOrderedLekGT(0),
			courtdecision.HasProsecutionWith(prosecution.HasOfficeWith(agency.Code("prosecution-tirane")))).FirstX(sys)
		db.Client.CourtDecision.Create().SetInstance(d.Instance).SetDecidedOn(d.DecidedOn).SetVerdict(d.Verdict).
			SetNillableSentenceKind(d.SentenceKind).SetNillableSentenceMonths(d.SentenceMonths).SetCompensationOrderedLek(1).
			SetCompensationPaid(d.CompensationPaid).SetProsecutionID(d.ProsecutionID).SetCourtID(d.CourtID).ExecX(sys)
		// Past the rules, as rows written before them are.
		const huge = 5_000_000_000_000_000_000
		if _, err := db.SQL.Exec(fmt.Sprintf("UPDATE court_decisions SET compensation_ordered_lek = %d WHERE compensation_ordered_lek > 0", huge)); err != nil {
			t.Fatal(err)
		}
		prosecutor := s.As(t, "prosecution-tirane", viewer.RoleProsecutor)
		for _, who := range []testserver.Principal{coordinator, prosecutor} {
			got := testserver.Call[measuresJSON](t, s, who, measuresQuery, request{[]string{"OFFICE"}, "YEAR", nil}.vars())
			if got.Threshold > 0 {
				continue // the sum is withheld; that it answered is the test
			}
			if got.Total.CompensationOrdered < 2 {
				t.Fatalf("%s sees %d decisions ordering compensation; the test needs two", who.Agency, got.Total.CompensationOrdered)
			}
			for _, c := range append(got.Cells, got.Total) {
				want := float64(c.CompensationOrdered) * huge
				if c.CompensationOrdered > 0 && (c.CompensationOrderedLek == nil || *c.CompensationOrderedLek != want) {
					t.Errorf("%s: compensationOrderedLek of %v = %s, want %g", who.Agency, c.Values, jsonText(c.CompensationOrderedLek), want)
				}
			}
		}
	})
}

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
		out[i] = referralFacts{month: domain.MonthInTirana(r.ReferredAt), days: -1, values: map[string]string{
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

// TestMeasuresPastDeadlineAgreeWithOverdueDays: docs/statistics.md
// promises that prosecutionMeasures' pastDeadline and daysPastDeadline
// follow "the rule of domain.OverdueDays, as of the operation's start, the
// same as Prosecution.overdueDays", to the nanosecond. Until the
// seventeenth session the SQL cut both the deadline and "now" to whole
// seconds: a deadline with a fraction of a second (every first deadline
// the server sets itself, three months after a move made "now") was, in
// the second after it passed, overdue by overdueDays and not past it by
// the measures; and in the last second of each day past it, one day more
// overdue by the measures than by overdueDays. "Now" is fixed through
// gqlgen's clock (graphql.Now), which the operation's start is read from.
func TestMeasuresPastDeadlineAgreeWithOverdueDays(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		ids := s.AgencyIDs(t)
		police := s.As(t, "police-tirane", viewer.RoleInvestigator)
		prosecutor := s.As(t, "prosecution-tirane", viewer.RoleProsecutor)
		year := time.Now().UTC().Year() - 1
		c := testserver.Call[struct{ ID string }](t, s, police,
			`mutation ($in: CreateCaseInput!) { openCase(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"reference": "TIR-HUNT-1", "title": "Recruitment through false job offers", "region": "TIRANE",
				"formsOfExploitation": []string{"SEXUAL"}, "openedAt": fmt.Sprintf("%d-03-01T09:00:00Z", year),
				"leadAgencyID": testserver.GlobalID(ids["police-tirane"]),
			}})
		deadline := time.Date(year, time.May, 1, 10, 0, 0, 600_000_000, time.UTC) // 10:00:00.6
		testserver.Call[struct{ ID string }](t, s, prosecutor,
			`mutation ($in: CreateProsecutionInput!) { registerProsecution(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"registrationNumber": "PR-TIR-HUNT/1", "registeredAt": fmt.Sprintf("%d-04-01T09:00:00Z", year),
				"investigationDeadline": deadline.Format(time.RFC3339Nano), "caseID": c.ID,
				"officeID": testserver.GlobalID(ids["prosecution-tirane"]),
			}})

		const query = `{
  prosecutions(first: 10) { edges { node { registrationNumber overdueDays } } }
  prosecutionMeasures { threshold total { underInvestigation pastDeadline daysPastDeadline { count max withheld } } }
}`
		type answer struct {
			Prosecutions struct {
				Edges []struct{ Node struct{ OverdueDays *int } }
			}
			ProsecutionMeasures struct {
				Threshold int
				Total     struct {
					UnderInvestigation, PastDeadline int
					DaysPastDeadline                 struct {
						Count    int
						Max      *int
						Withheld bool
					}
				}
			}
		}
		for _, at := range []struct {
			name    string
			now     time.Time
			overdue bool
		}{
			{"InTheSecondAfterTheDeadline", deadline.Add(200 * time.Millisecond), true},               // 10:00:00.8, the same day
			{"InTheLastSecondOfTheFirstDay", deadline.Add(24*time.Hour - 300*time.Millisecond), true}, // next day 10:00:00.3
			{"AtTheDeadline", deadline, false},
			{"AMicrosecondBefore", deadline.Add(-time.Microsecond), false},
		} {
			t.Run(at.name, func(t *testing.T) {
				graphql.Now = func() time.Time { return at.now }
				defer func() { graphql.Now = time.Now }()
				r := s.Ask(t, prosecutor.Token, query, nil).MustOK(t)
				graphql.Now = time.Now
				got := testserver.Data[answer](t, r)
				if len(got.Prosecutions.Edges) != 1 {
					t.Fatalf("want the one proceeding: %s", r.Body)
				}
				days := got.Prosecutions.Edges[0].Node.OverdueDays
				if !at.overdue {
					tot := got.ProsecutionMeasures.Total
					if days != nil || tot.UnderInvestigation != 1 || tot.PastDeadline != 0 || tot.DaysPastDeadline.Count != 0 {
						t.Errorf("deadline %s, now %s: not overdue, but overdueDays %v and prosecutionMeasures' total: %s",
							deadline.Format(time.RFC3339Nano), at.now.Format(time.RFC3339Nano), days, r.Body)
					}
					return
				}
				if days == nil || *days != 0 {
					t.Fatalf("deadline %s, now %s: overdueDays = %v, want 0 (OverdueDays)", deadline.Format(time.RFC3339Nano),
						at.now.Format(time.RFC3339Nano), days)
				}
				m := got.ProsecutionMeasures
				if m.Threshold != 0 {
					t.Fatalf("the office's prosecutor reads at threshold %d, want exact durations (0)", m.Threshold)
				}
				tot := m.Total
				if tot.UnderInvestigation != 1 || tot.PastDeadline != 1 || tot.DaysPastDeadline.Count != 1 ||
					tot.DaysPastDeadline.Max == nil || *tot.DaysPastDeadline.Max != *days {
					t.Errorf("deadline %s, now %s: overdueDays %d, but prosecutionMeasures' total: %s",
						deadline.Format(time.RFC3339Nano), at.now.Format(time.RFC3339Nano), *days, r.Body)
				}
			})
		}
	})
}
