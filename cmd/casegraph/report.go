package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/statistics"
	"github.com/casegraph/casegraph/viewer"
)

// reportUsage is the usage of `casegraph report`, for main's usage text.
const reportUsage = `  casegraph report annual --year Y [--format md|csv|json] [--threshold K]
                                           the year's tables for GRETA and the trafficking-in-persons
                                           report, national, with disclosure control (docs/statistics.md)
`

// Report formats.
const (
	reportMD   = "md"
	reportCSV  = "csv"
	reportJSON = "json"
)

// suppressedMark is what md and csv print instead of a suppressed count.
const suppressedMark = "suppressed"

// reportCmd writes published statistics. It reads the database as system
// work, over every row (national scope), and never bypasses disclosure
// control: each table is statistics.Compute under an explicit Control.
func reportCmd(ctx context.Context, cfg config, args []string, out io.Writer) error {
	return dispatch("report", args, out, map[string]func([]string) error{
		"annual": func(args []string) error { return reportAnnual(ctx, cfg, args, out) },
	})
}

// annualTable is one table of the annual report: a statistics query of
// the year.
type annualTable struct {
	title   string
	dataset statistics.Dataset
	groupBy []string
	// where keeps some rows only (first-instance decisions, convictions).
	where map[string][]string
}

// supportByKind is the dataset of the report's table of victims who
// received support: one cell per kind of service, each victimSupport's
// total of the year for that kind, and the total for any service.
var supportByKind = statistics.VictimSupport

// annualTables are the tables of the annual report for year, in order.
// Each is one statistics.Query of the year's months, grouped by one
// dimension (court decisions: the first-instance ones, or the convictions
// among them): the same code, and the same answer, as the GraphQL field
// asked the same question.
func annualTables(year int) []annualTable {
	y := strconv.Itoa(year)
	firstInstance := map[string][]string{"INSTANCE": {string(domain.InstanceFirstInstance)}}
	return []annualTable{
		{"Victims identified in " + y + ", by sex", statistics.Victims, []string{"SEX"}, nil},
		{"Victims identified in " + y + ", by age group", statistics.Victims, []string{"AGE_GROUP"}, nil},
		{"Victims identified in " + y + ", foreign nationals (YES/NO; never the nationality)", statistics.Victims, []string{"FOREIGN_NATIONAL"}, nil},
		{"Victims identified in " + y + ", by region", statistics.Victims, []string{"REGION"}, nil},
		{"Victims identified in " + y + ", by form of exploitation (MULTIPLE: more than one form)", statistics.Victims, []string{"EXPLOITATION"}, nil},
		{"Victims identified in " + y + " who received support, by kind of service (a victim may receive several; the total is those who received any)",
			supportByKind, []string{"SERVICE_KIND"}, nil},
		{"Cases opened in " + y + ", by region", statistics.Cases, []string{"REGION"}, nil},
		{"Cases opened in " + y + ", by stage (the stage when the report was made)", statistics.Cases, []string{"STAGE"}, nil},
		{"Criminal proceedings registered in " + y + ", by prosecution office", statistics.Prosecutions, []string{"OFFICE"}, nil},
		{"Criminal proceedings registered in " + y + ", by stage (the stage when the report was made)", statistics.Prosecutions, []string{"STAGE"}, nil},
		{"Criminal proceedings sent to trial in " + y + " (requests for trial), by prosecution office", statistics.TrialRequests, []string{"OFFICE"}, nil},
		{"First-instance court decisions in " + y + ", by verdict", statistics.Decisions, []string{"VERDICT"}, firstInstance},
		{"First-instance court decisions in " + y + ", by sentence (NONE: no sentence)", statistics.Decisions, []string{"SENTENCE"}, firstInstance},
		{"First-instance court decisions in " + y + ", compensation to the victim ordered and paid", statistics.Decisions, []string{"COMPENSATION"}, firstInstance},
		{"First-instance convictions of the offence charged in " + y + ", by sentence against the statutory range (110/a: 8 to 15 years; 128/b: 10 to 20, the more severe when both are charged;" +
			" NO_RANGE: no article whose range is kept; NO_IMPRISONMENT: suspended, probation or fine)",
			statistics.Decisions, []string{"SENTENCE_RANGE"}, map[string][]string{"INSTANCE": {string(domain.InstanceFirstInstance)}, "VERDICT": {string(domain.VerdictConvicted)}}},
	}
}

// notAvailable is a table GRETA's questionnaire or the trafficking-in-
// persons report asks for that the statistics package does not count
// yet, and why: the report says so rather than computing it elsewhere.
type notAvailable struct {
	Title  string `json:"title"`
	Reason string `json:"reason"`
}

var notAvailableYet = []notAvailable{
	{"Victims by nationality or nationality group", "nationality is a quasi-identifier and never a dimension; the report gives foreign nationals YES/NO instead"},
}

// reportCell is a cell as published: count null when suppressed.
type reportCell struct {
	Values     []string `json:"values"`
	Count      *int     `json:"count"`
	Suppressed bool     `json:"suppressed"`
}

// reportTable is one table as published.
type reportTable struct {
	Title string `json:"title"`
	// Table is the statistics table it is computed from.
	Table   string   `json:"table"`
	GroupBy []string `json:"groupBy"`
	// Where keeps some rows only, by the values of dimensions.
	Where        map[string][]string `json:"where,omitempty"`
	CountsPeople bool                `json:"countsPeople"`
	Threshold    int                 `json:"threshold"`
	Cells        []reportCell        `json:"cells"`
	Total        reportCell          `json:"total"`
}

// annualReport is the report as the json format writes it.
type annualReport struct {
	Report string `json:"report"`
	Year   int    `json:"year"`
	// From and To are the months counted, both included.
	From string `json:"from"`
	To   string `json:"to"`
	// Threshold is the k of every table of people.
	Threshold    int            `json:"threshold"`
	GeneratedAt  string         `json:"generatedAt"`
	Tables       []reportTable  `json:"tables"`
	NotAvailable []notAvailable `json:"notAvailable"`
}

func reportAnnual(ctx context.Context, cfg config, args []string, out io.Writer) error {
	fs := newFlagSet("report annual")
	year := fs.Int("year", 0, "the calendar year to report (on Tirana's calendar), e.g. 2025")
	format := fs.String("format", reportMD, "md (a Markdown document), csv (one table after another) or json")
	threshold := fs.Int("threshold", statistics.DefaultThreshold,
		fmt.Sprintf("k: counts of people below it are suppressed (%d to %d)", statistics.DefaultThreshold, policies.MaxThreshold))
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	now := time.Now().UTC()
	thisYear := now.In(domain.Tirana).Year()
	switch {
	case *year == 0:
		return errors.New("report annual needs --year (e.g. --year 2025)")
	case *year < 1990 || *year > thisYear:
		return fmt.Errorf("--year must be a year from 1990 to %d, not %d", thisYear, *year)
	}
	if *format != reportMD && *format != reportCSV && *format != reportJSON {
		return fmt.Errorf("--format is md, csv or json, not %q", *format)
	}
	if *threshold < statistics.DefaultThreshold || *threshold > policies.MaxThreshold {
		return fmt.Errorf("--threshold must be from %d (the default) to %d, not %d: a published report never shows smaller counts of people",
			statistics.DefaultThreshold, policies.MaxThreshold, *threshold)
	}
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := annual(ctx, db, *year, *threshold, now)
	if err != nil {
		return err
	}
	switch *format {
	case reportJSON:
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case reportCSV:
		return writeReportCSV(out, r)
	}
	_, err = io.WriteString(out, reportMarkdown(r))
	return err
}

// annual computes the report of year under threshold k, as system work over
// every row, in one read-only snapshot, and writes one STATISTICS_READ
// event per table to the audit trail before it returns: a report whose
// reads cannot be recorded is not made.
func annual(ctx context.Context, db *database.DB, year, k int, now time.Time) (*annualReport, error) {
	rec := commandRecorder(fmt.Sprintf("report annual --year %d --threshold %d", year, k))
	// System work: the whole country's rows. Disclosure control is not
	// bypassed by it: every table is computed under ctl.
	ctx = audit.NewContext(viewer.SystemContext(ctx), rec)
	ctl := statistics.Control{K: k}

	// Counts of people are the editions' (docs/statistics.md, "Editions"),
	// taken before the snapshot below if they are not yet.
	editions := statistics.NewEditions(db.Client, db.Dialect)
	editions.SetClock(func() time.Time { return now })
	ctx = statistics.WithEditions(ctx, editions)
	if err := editions.Prepare(ctx); err != nil {
		return nil, err
	}

	// One snapshot, so that the tables of the report agree with each
	// other (docs/statistics.md, Residual risk).
	tx, err := db.Client.BeginTx(ctx, database.SnapshotOptions(db.Dialect))
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	r := &annualReport{Report: "annual", Year: year, From: fmt.Sprintf("%04d-01", year), To: fmt.Sprintf("%04d-12", year),
		Threshold: k, GeneratedAt: now.Format(time.RFC3339), NotAvailable: notAvailableYet}
	for _, a := range annualTables(year) {
		if a.dataset.Name() == supportByKind.Name() {
			rt, err := supportTable(ctx, tx.Client(), a.title, r.From, r.To, ctl)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", a.title, err)
			}
			r.Tables = append(r.Tables, *rt)
			continue
		}
		t, err := statistics.Compute(ctx, tx.Client(), a.dataset, statistics.Query{GroupBy: a.groupBy, Where: a.where, From: r.From, To: r.To}, ctl)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.title, err)
		}
		rt := reportTable{Title: a.title, Table: t.Name, GroupBy: t.GroupBy, Where: a.where, CountsPeople: t.CountsPeople, Threshold: t.Threshold,
			Cells: make([]reportCell, len(t.Cells)), Total: reportCell{Values: []string{}, Count: t.Total.Count, Suppressed: t.Total.Suppressed}}
		for i, c := range t.Cells {
			rt.Cells[i] = reportCell{Values: c.Values, Count: c.Count, Suppressed: c.Suppressed}
		}
		r.Tables = append(r.Tables, rt)
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	w := audit.NewWriter(db.Client, db.Dialect)
	defer func() { _ = w.Close(context.WithoutCancel(ctx)) }()
	if err := w.Write(ctx, rec.Take()); err != nil {
		return nil, fmt.Errorf("the report's reads cannot be recorded in the audit trail, so no report is written: %w", err)
	}
	return r, nil
}

// supportTable is the report's table of victims who received support:
// for each kind of service, victimSupport's count of the months from to
// to, withheld as it withholds it; the total is those who received any.
func supportTable(ctx context.Context, client *ent.Client, title, from, to string, ctl statistics.Control) (*reportTable, error) {
	kinds := append(domain.ServiceKind("").Values(), statistics.AnyService)
	ts, err := statistics.ComputeSupportKinds(ctx, client, kinds, statistics.Query{From: from, To: to}, ctl)
	if err != nil {
		return nil, err
	}
	rt := &reportTable{Title: title, Table: supportByKind.Name(), GroupBy: []string{"SERVICE_KIND"}, CountsPeople: true}
	for i, t := range ts {
		c := reportCell{Values: []string{kinds[i]}, Count: t.Total.Received, Suppressed: t.Total.Suppressed}
		rt.Threshold = t.Threshold
		if kinds[i] == statistics.AnyService {
			c.Values = []string{}
			rt.Total = c
			continue
		}
		rt.Cells = append(rt.Cells, c)
	}
	return rt, nil
}

// shownCount is a cell's count as md and csv print it.
func shownCount(c reportCell) string {
	if c.Suppressed || c.Count == nil {
		return suppressedMark
	}
	return strconv.Itoa(*c.Count)
}

// dimensionTitle is a dimension's name for a column heading.
func dimensionTitle(d string) string {
	s := strings.ToLower(strings.ReplaceAll(d, "_", " "))
	return strings.ToUpper(s[:1]) + s[1:]
}

func (t reportTable) control() string {
	if !t.CountsPeople {
		return "Exact counts: cases, proceedings and court decisions are records, not people, and are not suppressed."
	}
	return fmt.Sprintf("Counts of people: a count that could single someone out (fewer than %d, or one that would reveal such a count) is shown as `%s`.",
		t.Threshold, suppressedMark)
}

// reportMarkdown is the report as a Markdown document, a heading per table.
func reportMarkdown(r *annualReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# CaseGraph annual report %d\n\n", r.Year)
	fmt.Fprintf(&b, "Months %s to %s (Tirana), the whole country, generated %s from one snapshot of the database. "+
		"Counts of people below %d are suppressed, and so are the cells that would reveal them (docs/statistics.md).\n",
		r.From, r.To, r.GeneratedAt, r.Threshold)
	for _, t := range r.Tables {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n|", t.Title, t.control())
		for _, g := range t.GroupBy {
			fmt.Fprintf(&b, " %s |", dimensionTitle(g))
		}
		b.WriteString(" Count |\n|")
		for range t.GroupBy {
			b.WriteString("---|")
		}
		b.WriteString("---:|\n")
		for _, c := range t.Cells {
			b.WriteString("|")
			for _, v := range c.Values {
				fmt.Fprintf(&b, " %s |", v)
			}
			fmt.Fprintf(&b, " %s |\n", shownCount(c))
		}
		b.WriteString("| **Total** |")
		for i := 1; i < len(t.GroupBy); i++ {
			b.WriteString(" |")
		}
		fmt.Fprintf(&b, " %s |\n", shownCount(t.Total))
	}
	b.WriteString("\n## Not available yet\n\nAsked for by GRETA's questionnaire or the trafficking-in-persons report, and not counted by CaseGraph's statistics yet:\n\n| Table | Why |\n|---|---|\n")
	for _, n := range r.NotAvailable {
		fmt.Fprintf(&b, "| %s | %s |\n", n.Title, n.Reason)
	}
	return b.String()
}

// writeReportCSV writes one table after another: a line naming the table
// (table, title, threshold), the heading, the cells, the total; a blank
// line between tables; then a line per table not available yet.
func writeReportCSV(out io.Writer, r *annualReport) error {
	w := csv.NewWriter(out)
	for i, t := range r.Tables {
		if i > 0 {
			w.Flush()
			if _, err := io.WriteString(out, "\n"); err != nil {
				return err
			}
		}
		_ = w.Write([]string{"table", t.Title, "threshold", strconv.Itoa(t.Threshold)})
		_ = w.Write(append(append([]string{}, t.GroupBy...), "count"))
		for _, c := range t.Cells {
			_ = w.Write(append(append([]string{}, c.Values...), shownCount(c)))
		}
		total := make([]string, len(t.GroupBy)+1)
		total[0], total[len(total)-1] = "TOTAL", shownCount(t.Total)
		_ = w.Write(total)
	}
	w.Flush()
	if _, err := io.WriteString(out, "\n"); err != nil {
		return err
	}
	for _, n := range r.NotAvailable {
		_ = w.Write([]string{"not available yet", n.Title, n.Reason})
	}
	w.Flush()
	return w.Error()
}
