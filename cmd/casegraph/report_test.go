package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/statistics"
	"github.com/casegraph/casegraph/viewer"
)

// reportYear is the year the tests report: a whole year of the demo made
// as of reportToday.
const reportYear = 2025

var reportToday = time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC)

// reportScale is the demo's scale in these tests. At scale 1 (Albanian
// volumes) disclosure control suppresses every victims cell of the year,
// totals included, so nothing shown would be compared; at 4 the totals
// are shown (docs/statistics.md, Annual report).
const reportScale = 4

// runReport runs `casegraph report annual --year 2025 args…` in-process,
// through run as main does, and returns its stdout.
func runReport(t *testing.T, args ...string) string {
	t.Helper()
	var out, errs bytes.Buffer
	all := append([]string{"report", "annual", "--year", strconv.Itoa(reportYear)}, args...)
	if err := run(context.Background(), all, &out, &errs); err != nil {
		t.Fatalf("casegraph %s: %v\n%s", strings.Join(all, " "), err, errs.String())
	}
	return out.String()
}

func reportJSONOf(t *testing.T, out string) annualReport {
	t.Helper()
	var r annualReport
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("the json report does not parse: %v\n%s", err, out)
	}
	return r
}

// statisticsQueries are the GraphQL fields of the report's tables.
var statisticsQueries = map[string]struct{ field, dimension, filter string }{
	"victims":       {"victimStatistics", "VictimDimension", "VictimStatisticsFilter"},
	"cases":         {"caseStatistics", "CaseDimension", "CaseStatisticsFilter"},
	"prosecutions":  {"prosecutionStatistics", "ProsecutionDimension", "ProsecutionStatisticsFilter"},
	"decisions":     {"decisionStatistics", "DecisionDimension", "DecisionStatisticsFilter"},
	"trialRequests": {"trialRequestStatistics", "ProsecutionDimension", "ProsecutionStatisticsFilter"},
}

type gqlCell struct {
	Period     *string
	Values     []string
	Count      *int
	Suppressed bool
}

type gqlTable struct {
	GroupBy      []string
	Period       *string
	CountsPeople bool
	Threshold    int
	Cells        []gqlCell
	Total        gqlCell
}

// askTable asks GraphQL, as p, the question a table of the report answers.
func askTable(t *testing.T, s *testserver.Server, p testserver.Principal, rt reportTable, from, to string) gqlTable {
	t.Helper()
	if rt.Table == "victimSupport" {
		return askSupport(t, s, p, from, to)
	}
	q, ok := statisticsQueries[rt.Table]
	if !ok {
		t.Fatalf("the report has a table %q the test cannot ask GraphQL for", rt.Table)
	}
	query := fmt.Sprintf(`query ($groupBy: [%s!]!, $where: %s) { %s(groupBy: $groupBy, where: $where) {
  groupBy period countsPeople threshold cells { period values count suppressed } total { count suppressed } } }`, q.dimension, q.filter, q.field)
	where := map[string]any{"from": from, "to": to}
	for dim, values := range rt.Where {
		where[strings.ToLower(dim)] = values // the report filters on one-word dimensions (INSTANCE)
	}
	return testserver.Call[gqlTable](t, s, p, query, map[string]any{"groupBy": rt.GroupBy, "where": where})
}

// askSupport asks victimSupport, as p, for each kind of service and for
// any: the question the report's table of support answers, as a table of
// one cell per kind and the total of any.
func askSupport(t *testing.T, s *testserver.Server, p testserver.Principal, from, to string) gqlTable {
	t.Helper()
	type answer struct {
		Threshold int
		Total     struct {
			Received   *int
			Suppressed bool
		}
	}
	ask := func(service any) (gqlCell, int) {
		a := testserver.Call[answer](t, s, p, `query ($service: ServiceKind, $from: String, $to: String) {
  victimSupport(service: $service, from: $from, to: $to) { threshold total { received suppressed } } }`,
			map[string]any{"service": service, "from": from, "to": to})
		return gqlCell{Count: a.Total.Received, Suppressed: a.Total.Suppressed}, a.Threshold
	}
	out := gqlTable{GroupBy: []string{"SERVICE_KIND"}, CountsPeople: true}
	for _, kind := range domain.ServiceKind("").Values() {
		c, k := ask(kind)
		c.Values = []string{kind}
		out.Cells, out.Threshold = append(out.Cells, c), k
	}
	out.Total, _ = ask(nil)
	return out
}

func showCount(c *int) string {
	if c == nil {
		return "null"
	}
	return strconv.Itoa(*c)
}

// sameCell reports how a report's cell differs from GraphQL's, "" if not.
func sameCell(r reportCell, g gqlCell) string {
	if g.Period != nil || !slices.Equal(r.Values, g.Values) || showCount(r.Count) != showCount(g.Count) || r.Suppressed != g.Suppressed {
		return fmt.Sprintf("report %v %s suppressed=%v, GraphQL %v %s suppressed=%v",
			r.Values, showCount(r.Count), r.Suppressed, g.Values, showCount(g.Count), g.Suppressed)
	}
	return ""
}

// victimsOfYear counts the year's victims by each value of each victims
// table's dimension from the rows, apart from the statistics package.
func victimsOfYear(t *testing.T, c *ent.Client) map[string]map[string]int {
	t.Helper()
	out := map[string]map[string]int{"SEX": {}, "AGE_GROUP": {}, "FOREIGN_NATIONAL": {}, "REGION": {}}
	for _, v := range c.Victim.Query().AllX(viewer.SystemContext(context.Background())) {
		if domain.MonthInTirana(v.IdentifiedAt)[:4] != strconv.Itoa(reportYear) {
			continue
		}
		out["SEX"][string(v.Sex)]++
		out["AGE_GROUP"][string(v.AgeGroup)]++
		out["FOREIGN_NATIONAL"][map[bool]string{true: "YES", false: "NO"}[v.ForeignNational]]++
		out["REGION"][string(v.Region)]++
	}
	return out
}

// maskGenerated replaces the report's time of making, for golden files.
var generatedAt = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

func TestReportAnnual(t *testing.T) {
	commandBackends(t, func(t *testing.T, db *database.DB) {
		if _, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: reportScale, Seed: 1, Today: reportToday}); err != nil {
			t.Fatalf("seeding: %v", err)
		}
		s := testserver.Start(t, db)
		from, to := fmt.Sprintf("%d-01", reportYear), fmt.Sprintf("%d-12", reportYear)

		t.Run("the annual report's numbers equal the GraphQL answers", func(t *testing.T) {
			// The national coordinator's threshold is the default, 5; the
			// analysts' is the policy's 10: each as national as the report.
			for _, tc := range []struct {
				p    testserver.Principal
				args []string
				k    int
			}{
				{s.As(t, "onac", viewer.RoleCoordinator), nil, statistics.DefaultThreshold},
				{s.As(t, "onac", viewer.RoleAnalyst), []string{"--threshold", "10"}, 10},
			} {
				r := reportJSONOf(t, runReport(t, append([]string{"--format", "json"}, tc.args...)...))
				if r.Year != reportYear || r.From != from || r.To != to || r.Threshold != tc.k || len(r.Tables) != len(annualTables(reportYear)) {
					t.Fatalf("report of %d from %s to %s, k %d, %d tables; want %d, %s, %s, %d, %d",
						r.Year, r.From, r.To, r.Threshold, len(r.Tables), reportYear, from, to, tc.k, len(annualTables(reportYear)))
				}
				shown, suppressed := 0, 0
				for _, rt := range r.Tables {
					g := askTable(t, s, tc.p, rt, from, to)
					if g.Threshold != rt.Threshold || g.CountsPeople != rt.CountsPeople || !slices.Equal(g.GroupBy, rt.GroupBy) {
						t.Errorf("%s: threshold %d, countsPeople %v, groupBy %v; GraphQL %d, %v, %v",
							rt.Title, rt.Threshold, rt.CountsPeople, rt.GroupBy, g.Threshold, g.CountsPeople, g.GroupBy)
					}
					if rt.CountsPeople && rt.Threshold != tc.k {
						t.Errorf("%s: threshold %d, want %d", rt.Title, rt.Threshold, tc.k)
					}
					if len(g.Cells) != len(rt.Cells) || len(rt.Cells) == 0 {
						t.Errorf("%s: %d cells, GraphQL %d", rt.Title, len(rt.Cells), len(g.Cells))
						continue
					}
					for i, c := range rt.Cells {
						if d := sameCell(c, g.Cells[i]); d != "" {
							t.Errorf("%s: %s", rt.Title, d)
						}
					}
					g.Total.Values = []string{}
					if d := sameCell(rt.Total, g.Total); d != "" {
						t.Errorf("%s, total: %s", rt.Title, d)
					}
					if rt.CountsPeople {
						for _, c := range append(slices.Clone(rt.Cells), rt.Total) {
							if c.Suppressed {
								suppressed++
							} else {
								shown++
							}
						}
					}
				}
				// Both kinds of number are compared, or the comparison
				// proves little.
				if shown == 0 || suppressed == 0 {
					t.Errorf("k %d: %d numbers of people shown, %d suppressed: the demo data does not exercise both", tc.k, shown, suppressed)
				}
			}
		})

		t.Run("no count of people below k is printed in any format", func(t *testing.T) {
			truth := victimsOfYear(t, db.Client)
			for _, k := range []int{statistics.DefaultThreshold, 10} {
				args := []string{"--threshold", strconv.Itoa(k)}
				for _, format := range []string{reportMD, reportCSV, reportJSON} {
					out := runReport(t, append([]string{"--format", format}, args...)...)
					for _, leak := range smallCounts(t, format, out, k) {
						t.Errorf("%s, k %d: %s", format, k, leak)
					}
					if format == reportJSON {
						continue
					}
					// And from the rows: no value of a victims table whose
					// count is below k is printed next to that count.
					victims := victimSections(format, out)
					for dim, counts := range truth {
						for value, n := range counts {
							if n >= k {
								continue
							}
							for _, printed := range []string{fmt.Sprintf("| %s | %d |", value, n), fmt.Sprintf("\n%s,%d\n", value, n)} {
								if strings.Contains(victims, printed) {
									t.Errorf("%s, k %d: %s %s has %d victims and the report prints %q", format, k, dim, value, n, printed)
								}
							}
						}
					}
				}
			}
		})

		t.Run("formats", func(t *testing.T) {
			md, csvOut := runReport(t, "--format", "md"), runReport(t, "--format", "csv")
			if def := runReport(t); generatedAt.ReplaceAllString(def, "") != generatedAt.ReplaceAllString(md, "") {
				t.Error("the default format is not md")
			}
			// Both backends print the same report of the same demo.
			golden(t, "testdata/report_annual.md.golden", generatedAt.ReplaceAllString(md, "<generated>"))
			golden(t, "testdata/report_annual.csv.golden", csvOut)
			checkMarkdown(t, md)
			checkCSV(t, csvOut)
			r := reportJSONOf(t, runReport(t, "--format", "json"))
			if _, err := time.Parse(time.RFC3339, r.GeneratedAt); err != nil {
				t.Errorf("generatedAt %q: %v", r.GeneratedAt, err)
			}
			for _, rt := range r.Tables {
				for _, c := range append(slices.Clone(rt.Cells), rt.Total) {
					if c.Suppressed != (c.Count == nil) || len(c.Values) != len(rt.GroupBy) && len(c.Values) != 0 {
						t.Errorf("%s: cell %v count %s suppressed %v", rt.Title, c.Values, showCount(c.Count), c.Suppressed)
					}
				}
			}
			if len(r.NotAvailable) == 0 || !strings.Contains(md, "## Not available yet") || !strings.Contains(csvOut, "not available yet,Victims by nationality") {
				t.Error("the report does not list the tables not available yet")
			}
		})

		t.Run("every table read is in the audit trail, no value", func(t *testing.T) {
			sys := viewer.SystemContext(context.Background())
			reads := func() []*ent.AuditEvent {
				return db.Client.AuditEvent.Query().Where(auditevent.Kind(string(audit.StatisticsRead)), auditevent.ActorSubject(commandActor)).
					Order(ent.Asc(auditevent.FieldID)).AllX(sys)
			}
			before := len(reads())
			tables := reportJSONOf(t, runReport(t, "--format", "json", "--threshold", "7")).Tables
			events := reads()[before:]
			if len(events) != len(tables) {
				t.Fatalf("%d STATISTICS_READ events for one report, want one a table (%d)", len(events), len(tables))
			}
			for i, e := range events {
				var detail struct {
					Table    string
					GroupBy  []string
					From, To string
				}
				if err := json.Unmarshal([]byte(e.Detail), &detail); err != nil {
					t.Fatal(err)
				}
				want := tables[i]
				if detail.Table != want.Table || !slices.Equal(detail.GroupBy, want.GroupBy) || detail.From != from || detail.To != to {
					t.Errorf("event %d detail %s: want table %s by %v from %s to %s", e.ID, e.Detail, want.Table, want.GroupBy, from, to)
				}
				if strings.Contains(e.Detail, "count") || !strings.HasPrefix(e.Operation, "report annual --year 2025 --threshold 7") || e.RequestID != events[0].RequestID {
					t.Errorf("event %d: operation %q, request %s, detail %s", e.ID, e.Operation, e.RequestID, e.Detail)
				}
			}
			v, err := audit.Verify(sys, db.Client)
			if err != nil || !v.Valid {
				t.Errorf("the trail does not verify after the report: %+v %v", v, err)
			}
		})

		if db.Dialect == dialect.SQLite {
			t.Run("no report when its reads cannot be recorded", func(t *testing.T) {
				refuseAuditAppends(t, db)
				var out, errs bytes.Buffer
				err := run(context.Background(), []string{"report", "annual", "--year", "2025"}, &out, &errs)
				if err == nil || !strings.Contains(err.Error(), "audit trail") || out.Len() > 0 {
					t.Errorf("the trail refuses the events, yet: error %v, %d bytes printed", err, out.Len())
				}
			})
		}
	})
}

// smallCounts scans a report's output for counts of people printed below
// k, in the format's own layout, and returns what it finds.
func smallCounts(t *testing.T, format, out string, k int) []string {
	t.Helper()
	var leaks []string
	check := func(where, count string) {
		if count == suppressedMark {
			return
		}
		n, err := strconv.Atoi(count)
		if err != nil {
			leaks = append(leaks, fmt.Sprintf("%s: count %q is neither a number nor %q", where, count, suppressedMark))
		} else if n > 0 && n < k {
			// 0 counts no one: a kind of support no victim received.
			leaks = append(leaks, fmt.Sprintf("%s: %d printed", where, n))
		}
	}
	switch format {
	case reportJSON:
		r := reportJSONOf(t, out)
		for _, rt := range r.Tables {
			for _, c := range append(slices.Clone(rt.Cells), rt.Total) {
				if c.Count != nil && rt.CountsPeople && (c.Suppressed || (*c.Count > 0 && *c.Count < k)) {
					leaks = append(leaks, fmt.Sprintf("%s %v: %d printed", rt.Title, c.Values, *c.Count))
				}
			}
		}
	case reportMD:
		// Rows of the tables under a heading of people (victims).
		people := false
		for line := range strings.Lines(out) {
			if strings.HasPrefix(line, "## ") {
				people = strings.HasPrefix(line, "## Victims")
			}
			if !people || !strings.HasPrefix(line, "| ") {
				continue
			}
			cols := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
			if strings.TrimSpace(cols[len(cols)-1]) == "Count" {
				continue
			}
			check(strings.TrimSpace(line), strings.TrimSpace(cols[len(cols)-1]))
		}
	case reportCSV:
		rd := csv.NewReader(strings.NewReader(out))
		rd.FieldsPerRecord = -1
		records, err := rd.ReadAll()
		if err != nil {
			t.Fatalf("the csv report does not parse: %v", err)
		}
		people, heading := false, false
		for _, rec := range records {
			switch {
			case rec[0] == "table":
				people, heading = strings.HasPrefix(rec[1], "Victims"), true
			case heading:
				heading = false
			case people && rec[0] != "not available yet":
				check(strings.Join(rec, ","), rec[len(rec)-1])
			}
		}
	}
	return leaks
}

// victimSections is the part of an md or csv report that counts victims.
func victimSections(format, out string) string {
	var b strings.Builder
	sep, start := "\n## ", "Victims"
	if format == reportCSV {
		sep, start = "\ntable,", `"Victims`
	}
	for _, part := range strings.Split("\n"+out, sep)[1:] {
		if strings.HasPrefix(part, start) {
			b.WriteString("\n" + part)
		}
	}
	return b.String()
}

// checkMarkdown checks the md report's shape: a title, a heading per table
// in order, each with a table whose last row is the total.
func checkMarkdown(t *testing.T, md string) {
	t.Helper()
	if !strings.HasPrefix(md, fmt.Sprintf("# CaseGraph annual report %d\n", reportYear)) {
		t.Errorf("md does not start with its title:\n%.200s", md)
	}
	var headings []string
	for line := range strings.Lines(md) {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			headings = append(headings, strings.TrimSpace(h))
		}
	}
	var want []string
	for _, a := range annualTables(reportYear) {
		want = append(want, a.title)
	}
	if want = append(want, "Not available yet"); !slices.Equal(headings, want) {
		t.Errorf("md headings %q, want %q", headings, want)
	}
	for _, section := range strings.Split(md, "\n## ")[1:len(want)] {
		rows := regexp.MustCompile(`(?m)^\|.*\|$`).FindAllString(section, -1)
		if len(rows) < 4 || !strings.HasPrefix(rows[len(rows)-1], "| **Total** |") || !strings.HasSuffix(rows[0], "| Count |") {
			t.Errorf("md section without a table of cells and a total:\n%s", section)
		}
	}
}

// checkCSV checks the csv report's shape: per table, a line naming it, a
// heading, cells, a TOTAL line; then the tables not available yet.
func checkCSV(t *testing.T, out string) {
	t.Helper()
	rd := csv.NewReader(strings.NewReader(out))
	rd.FieldsPerRecord = -1
	records, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("the csv report does not parse: %v", err)
	}
	tables := annualTables(reportYear)
	i := 0
	for _, a := range tables {
		if i >= len(records) || !slices.Equal(records[i], []string{"table", a.title, "threshold", records[i][len(records[i])-1]}) {
			t.Fatalf("record %d is not the line naming %q: %q", i, a.title, records[min(i, len(records)-1)])
		}
		if !slices.Equal(records[i+1], append(slices.Clone(a.groupBy), "count")) {
			t.Errorf("%s: heading %q", a.title, records[i+1])
		}
		i += 2
		for i < len(records) && records[i][0] != "TOTAL" {
			if len(records[i]) != len(a.groupBy)+1 {
				t.Errorf("%s: cell %q", a.title, records[i])
			}
			i++
		}
		i++ // the total
	}
	for ; i < len(records); i++ {
		if records[i][0] != "not available yet" || len(records[i]) != 3 {
			t.Errorf("after the tables, %q", records[i])
		}
	}
}

// TestReportUsage: a missing or invalid flag is refused before the
// database is opened (main exits 2 with the message), and nothing is
// printed or created.
func TestReportUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", []string{"report"}, "report needs a command"},
		{"unknown command", []string{"report", "weekly"}, `unknown report command "weekly"`},
		{"no year", []string{"report", "annual"}, "needs --year"},
		{"year not a number", []string{"report", "annual", "--year", "last"}, `invalid value "last" for flag -year`},
		{"year in the future", []string{"report", "annual", "--year", strconv.Itoa(time.Now().In(domain.Tirana).Year() + 1)}, "--year must be a year from 1990"},
		{"year too early", []string{"report", "annual", "--year", "25"}, "--year must be a year from 1990"},
		{"unknown format", []string{"report", "annual", "--year", "2025", "--format", "xlsx"}, `--format is md, csv or json, not "xlsx"`},
		{"threshold below the default", []string{"report", "annual", "--year", "2025", "--threshold", "4"}, "--threshold must be from 5"},
		{"threshold above the policy's bound", []string{"report", "annual", "--year", "2025", "--threshold", "101"}, "--threshold must be from 5"},
		{"an argument left over", []string{"report", "annual", "--year", "2025", "now"}, `unexpected argument "now"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			t.Setenv("CASEGRAPH_DATA_DIR", dataDir)
			t.Setenv("DATABASE_URL", "")
			var out, errs bytes.Buffer
			err := run(context.Background(), tc.args, &out, &errs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if out.Len() > 0 {
				t.Errorf("printed %q", out.String())
			}
			if entries, _ := os.ReadDir(dataDir); len(entries) > 0 {
				t.Errorf("a refused report created %s in the data directory", entries[0].Name())
			}
		})
	}
	t.Run("valid flags, no database", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "data")
		t.Setenv("CASEGRAPH_DATA_DIR", dataDir)
		t.Setenv("DATABASE_URL", "")
		err := run(context.Background(), []string{"report", "annual", "--year", "2025"}, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "no CaseGraph database") {
			t.Errorf("got %v, want a refusal naming the missing database", err)
		}
		if _, err := os.Stat(dataDir); err == nil {
			t.Error("the report created a data directory")
		}
	})
}
