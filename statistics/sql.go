package statistics

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/charge"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/internal/ctxvalue"
)

// month is the SQL of the month (YYYY-MM) of a time column on Tirana's
// calendar (domain.MonthInTirana), in a selector's dialect: a statement
// groups by group and selects text, a function of group. On PostgreSQL
// they differ: to_char costs about a microsecond a row (100 of the 145 ms
// of the cases by month and region at demo scale 400), date_trunc a tenth
// of that, so the rows are grouped by date_trunc of the time in Tirana
// (AT TIME ZONE, PostgreSQL's zone database) and to_char formats each
// group once. SQLite has no zone database: it calls domain.MonthInTirana,
// registered on its connections (database.SQLiteMonthInTirana).
type month struct{ group, text string }

func monthOf(s *sql.Selector, column string) month {
	if s.Dialect() == dialect.Postgres {
		trunc := "date_trunc('month', " + column + " AT TIME ZONE '" + domain.Tirana.String() + "')"
		return month{group: trunc, text: "to_char(" + trunc + ", 'YYYY-MM')"}
	}
	m := database.SQLiteMonthInTirana + "(" + column + ")"
	return month{group: m, text: m}
}

// countedFromKey bounds the rows a take of editions counts: from the end
// of the last edition stored on UTC's calendar (scopeEditions.countedFrom).
var countedFromKey = &ctxvalue.Key[time.Time]{}

// countFrom keeps in s only the rows whose time column is at or after the
// instant ctx bounds a take of editions by (countedFromKey), if any. The
// readers of the tables in the editions call it beside monthOf, on the
// column they count months of.
func countFrom(ctx context.Context, s *sql.Selector, column string) {
	if from := countedFromKey.From(ctx); !from.IsZero() {
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString(secondsOf(s, column) + " >= ").Arg(from.Unix())
		}))
	}
}

// sqliteTime is the SQL of a time column as SQLite's date functions read
// it: the date and time (the first 19 characters of what Go's driver
// writes) and the offset as +01:00.
func sqliteTime(column string) string {
	offset := func(sign string) string {
		at := "instr(" + column + ", ' " + sign + "')"
		return "substr(" + column + ", " + at + "+1, 3) || ':' || substr(" + column + ", " + at + "+4, 2)"
	}
	return "substr(" + column + ", 1, 19) || CASE WHEN instr(" + column + ", ' +') > 0 THEN " + offset("+") +
		" WHEN instr(" + column + ", ' -') > 0 THEN " + offset("-") + " ELSE '' END"
}

// secondsOf is the SQL of a time column as whole seconds since 1970 (UTC).
func secondsOf(s *sql.Selector, column string) string {
	if s.Dialect() == dialect.Postgres {
		return "FLOOR(EXTRACT(EPOCH FROM " + column + "))::bigint"
	}
	return "CAST(strftime('%s', " + sqliteTime(column) + ") AS INTEGER)"
}

// nanosecondsSince is the SQL of the time from a time column to the
// instant now in nanoseconds, as Go's now.Sub(column) counts it: whole
// seconds (secondsOf) and the fraction of the second each has, so that a
// figure in SQL agrees to the nanosecond with the same rule in Go. The
// fraction is read exactly: on PostgreSQL from the epoch, a numeric
// (microseconds are all a timestamptz keeps, and all Go reads back); on
// SQLite from the digits after the seconds in the text Go's driver writes
// ("2025-05-01 10:00:00.6 +0000 UTC"), which strftime would round to
// milliseconds. Within int64 for any two times CaseGraph accepts (1900 to
// a few years ahead: under 300 years of nanoseconds).
func nanosecondsSince(s *sql.Selector, column string, now time.Time) string {
	fraction := "CAST((EXTRACT(EPOCH FROM " + column + ") - FLOOR(EXTRACT(EPOCH FROM " + column + "))) * 1000000000 AS BIGINT)"
	if s.Dialect() != dialect.Postgres {
		digits := "substr(" + column + ", 21, instr(substr(" + column + ", 21) || ' ', ' ') - 1)"
		fraction = "CASE WHEN substr(" + column + ", 20, 1) = '.' THEN CAST(substr(" + digits + " || '000000000', 1, 9) AS INTEGER) ELSE 0 END"
	}
	return "((" + strconv.FormatInt(now.Unix(), 10) + " - " + secondsOf(s, column) + ") * 1000000000 + (" +
		strconv.Itoa(now.Nanosecond()) + " - " + fraction + "))"
}

// grouped is one row of a finest-cell statement: the month and the values
// of the table's dimensions as one text (cellSeparator between them), and
// the count. One text column rather than one a dimension: ent scans rows
// by reflection, field by field, and at tens of thousands of cells a
// statement that was most of a dashboard's time (docs/statistics.md).
type grouped struct {
	Key string `sql:"k"`
	N   int    `sql:"n"`
}

// cellSeparator joins a cell's month and values in grouped.Key; no value
// of a dimension (enum names, months, agency ids) contains it.
const cellSeparator = "|"

func (g grouped) cell(dims int) fineCell {
	parts := strings.SplitN(g.Key, cellSeparator, dims+1)
	for len(parts) < dims+1 {
		parts = append(parts, "")
	}
	return fineCell{month: parts[0], values: parts[1:], count: g.N}
}

// groupFinest turns s into SELECT month|d0|.., count(*) ... GROUP BY
// month and the dimensions by groups: the finest cells (by nil), or the
// cells of a query's dimensions (Dataset.grouping). exprs are SQL
// expressions of text (or of ids), one a dimension; a dimension not
// grouped by is the empty text in every cell.
func groupFinest(s *sql.Selector, by grouping, m month, exprs ...string) {
	key := "COALESCE(" + m.text + ", '')"
	group := []string{m.group}
	for i, e := range exprs {
		if !by.groups(i) {
			key += " || '" + cellSeparator + "'"
			continue
		}
		key += " || '" + cellSeparator + "' || COALESCE(CAST((" + e + ") AS TEXT), '')"
		group = append(group, e)
	}
	s.Select(sql.As(key, "k"), sql.As(sql.Count("*"), "n")).GroupBy(group...)
}

// grouping says which dimensions of a table (by their place in its dims)
// a statement groups by; nil groups by every one.
type grouping []bool

func (by grouping) groups(dim int) bool { return by == nil || by[dim] }

// name tells by apart in the name a reading is kept under: "" for every
// dimension, else the places grouped by.
func (by grouping) name() string {
	if by == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("/by")
	for i, g := range by {
		if g {
			b.WriteString(" " + strconv.Itoa(i))
		}
	}
	return b.String()
}

func finest(rows []grouped, dims int) []fineCell {
	out := make([]fineCell, len(rows))
	for i, r := range rows {
		out[i] = r.cell(dims)
	}
	return out
}

// victimDims are the dimensions of victims' statistics, in the order of
// readVictims' columns.
var victimDims = []string{"REGION", "SEX", "AGE_GROUP", "FOREIGN_NATIONAL", "IDENTIFICATION_STATUS", "IDENTIFIED_BY", "EXPLOITATION"}

// victimGrids are the tables of victims published (Dataset.grids): sex
// with age group (GRETA's "by sex and age"), and every other dimension
// alone.
var victimGrids = [][]string{{"SEX", "AGE_GROUP"}, {"REGION"}, {"FOREIGN_NATIONAL"}, {"EXPLOITATION"}, {"IDENTIFIED_BY"}, {"IDENTIFICATION_STATUS"}}

func readVictims(ctx context.Context, client *ent.Client, by grouping) ([]fineCell, error) {
	var rows []grouped
	err := client.Victim.Query().Modify(func(s *sql.Selector) {
		countFrom(ctx, s, s.C(victim.FieldIdentifiedAt))
		groupFinest(s, by, monthOf(s, s.C(victim.FieldIdentifiedAt)),
			s.C(victim.FieldRegion), s.C(victim.FieldSex), s.C(victim.FieldAgeGroup),
			yesNo(s.C(victim.FieldForeignNational)),
			s.C(victim.FieldIdentificationStatus), s.C(victim.FieldIdentifiedBy),
			exploitationGroup(s, s.C(victim.FieldFormsOfExploitation)))
	}).Scan(ctx, &rows)
	return finest(rows, len(victimDims)), err
}

// exploitationGroup is the SQL of a JSON list of forms of exploitation as
// one group (the enum ExploitationGroup): the form when the list names one
// (however often), MULTIPLE when it names several, UNSPECIFIED when it is
// empty. One group per row keeps every victim and case in one finest cell,
// which disclosure control rests on. The list is looked into only when it
// has more than one element (a few per cent of rows).
func exploitationGroup(s *sql.Selector, column string) string {
	length, first, others := "json_array_length("+column+")", "json_extract("+column+", '$[0]')",
		"SELECT 1 FROM json_each("+column+") WHERE value <> json_extract("+column+", '$[0]')"
	if s.Dialect() == dialect.Postgres {
		length, first, others = "jsonb_array_length("+column+")", "("+column+" ->> 0)",
			"SELECT 1 FROM jsonb_array_elements_text("+column+") AS form WHERE form <> ("+column+" ->> 0)"
	}
	return "CASE WHEN " + length + " = 0 THEN 'UNSPECIFIED'" +
		" WHEN " + length + " = 1 OR NOT EXISTS (" + others + ") THEN " + first +
		" ELSE 'MULTIPLE' END"
}

// yesNo is the SQL of a boolean column as YES or NO (SQLite keeps
// booleans as integers).
func yesNo(column string) string {
	return "CASE WHEN " + column + " THEN 'YES' ELSE 'NO' END"
}

// caseDims are the dimensions of case statistics, in the order of
// readCases' columns.
var caseDims = []string{"REGION", "STAGE", "LEAD_AGENCY_KIND", "OPEN", "EXPLOITATION"}

func readCases(ctx context.Context, client *ent.Client, by grouping) ([]fineCell, error) {
	var rows []grouped
	err := client.CaseFile.Query().Modify(func(s *sql.Selector) {
		groupFinest(s, by, monthOf(s, s.C(casefile.FieldOpenedAt)),
			s.C(casefile.FieldRegion), s.C(casefile.FieldStage), s.C(casefile.FieldLeadAgencyID),
			"CASE WHEN "+s.C(casefile.FieldClosedAt)+" IS NULL THEN 'OPEN' ELSE 'CLOSED' END",
			exploitationGroup(s, s.C(casefile.FieldFormsOfExploitation)))
	}).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	return withAgencies(ctx, client, rows, by, len(caseDims), map[int]func(agencyFacts) string{2: agencyFacts.kind})
}

// prosecutionDims are the dimensions of prosecution statistics, in the
// order of readProsecutions' columns.
var prosecutionDims = []string{"OFFICE", "STAGE", "EXTENDED"}

func readProsecutions(ctx context.Context, client *ent.Client, by grouping) ([]fineCell, error) {
	return readProceedingsBy(ctx, client, by, prosecution.FieldRegisteredAt)
}

// readTrialRequests is readProsecutions of the proceedings sent to trial,
// by month of the request for trial.
func readTrialRequests(ctx context.Context, client *ent.Client, by grouping) ([]fineCell, error) {
	return readProceedingsBy(ctx, client, by, prosecution.FieldTrialRequestedAt)
}

// readProceedingsBy groups the proceedings with a time in column by its
// month and prosecutionDims.
func readProceedingsBy(ctx context.Context, client *ent.Client, by grouping, column string) ([]fineCell, error) {
	var rows []grouped
	err := client.Prosecution.Query().Modify(func(s *sql.Selector) {
		s.Where(sql.NotNull(s.C(column)))
		groupFinest(s, by, monthOf(s, s.C(column)),
			s.C(prosecution.FieldOfficeID), s.C(prosecution.FieldStage),
			"CASE WHEN "+s.C(prosecution.FieldDeadlineExtensions)+" > 0 THEN 'YES' ELSE 'NO' END")
	}).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	return withAgencies(ctx, client, rows, by, len(prosecutionDims), map[int]func(agencyFacts) string{0: agencyFacts.code})
}

// referralDims are the dimensions of referral statistics, in the order of
// readReferrals' columns.
var referralDims = []string{"SERVICE_KIND", "FROM_AGENCY_KIND", "TO_AGENCY_KIND", "STATUS"}

// referralGrids are the tables of referrals published (Dataset.grids):
// the service with the status (what the acceptance of each kind of service
// is computed from), and who referred to whom.
var referralGrids = [][]string{{"SERVICE_KIND", "STATUS"}, {"FROM_AGENCY_KIND", "TO_AGENCY_KIND"}}

func readReferrals(ctx context.Context, client *ent.Client, by grouping) ([]fineCell, error) {
	var rows []grouped
	err := client.Referral.Query().Modify(func(s *sql.Selector) {
		from, to := joinReferralAgencies(s)
		countFrom(ctx, s, s.C(referral.FieldReferredAt))
		groupFinest(s, by, monthOf(s, s.C(referral.FieldReferredAt)),
			s.C(referral.FieldServiceKind), from.C(agency.FieldKind), to.C(agency.FieldKind), s.C(referral.FieldStatus))
	}).Scan(ctx, &rows)
	return finest(rows, len(referralDims)), err
}

// decisionDims are the dimensions of court decision statistics, in the
// order of readDecisions' columns.
var decisionDims = []string{"COURT", "INSTANCE", "VERDICT", "SENTENCE", "COMPENSATION", "SENTENCE_RANGE"}

func readDecisions(ctx context.Context, client *ent.Client, by grouping) ([]fineCell, error) {
	var rows []grouped
	err := client.CourtDecision.Query().Modify(func(s *sql.Selector) {
		lek := compensationOrdered(s)
		groupFinest(s, by, monthOf(s, s.C(courtdecision.FieldDecidedOn)),
			s.C(courtdecision.FieldCourtID), s.C(courtdecision.FieldInstance), s.C(courtdecision.FieldVerdict),
			"COALESCE("+s.C(courtdecision.FieldSentenceKind)+", 'NONE')",
			// As prosecutionMeasures counts it: ordered when more than
			// nothing was; paid only when ordered.
			"CASE WHEN "+lek+" > 0 THEN CASE WHEN "+s.C(courtdecision.FieldCompensationPaid)+
				" THEN 'ORDERED_PAID' ELSE 'ORDERED_UNPAID' END ELSE 'NOT_ORDERED' END",
			sentenceRange(s, s))
	}).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	return withAgencies(ctx, client, rows, by, len(decisionDims), map[int]func(agencyFacts) string{0: agencyFacts.code})
}

// compensationOrdered is the SQL of the compensation court decision s
// (the statement's own table) ordered, in lek: its amount when it
// convicts someone (convicts), else NULL. A decision that convicts no one
// orders none, and casework refuses one that does (an acquittal's or a
// dismissal's from 2026-12-07, eighteenth session; a review's that
// upholds or amends into no conviction from the nineteenth); an amount
// stored on one before that is not counted as ordered, nor paid, nor
// summed, by prosecutionMeasures and decisionStatistics alike: the
// decision keeps it as the court recorded it, and the court may correct
// either.
func compensationOrdered(s *sql.Selector) string {
	return "CASE WHEN " + convicts(s, s.C, domain.ReviewDepth()) + " = 1 THEN " +
		s.C(courtdecision.FieldCompensationOrderedLek) + " END"
}

// convicts is the SQL of domain.Decision.Convicts of the court decision
// whose columns col names (a table of s): 1 when it convicts someone,
// else 0, by its verdict's domain.Verdict.Conviction, the one table of
// it. An UPHELD decision convicts as the decision it upholds
// (domain.Decision.Reviewed: of its proceeding at the instance it
// reviews, decided on or before it, the one it names in
// reviewed_decision_id when it names one, else the latest, the last
// recorded of a date), read by a subquery, and an UPHELD one of those by
// a subquery in it: depth (domain.ReviewDepth) levels, after which no
// instance is left to review, and a review upholding no decision
// recorded convicts, as before the rule. The subqueries read the
// decisions of the same proceeding, which a caller who sees the decision
// sees too (row scope goes by the case); the name is one more condition
// of the same subquery, no statement more.
func convicts(s *sql.Selector, col func(string) string, depth int) string {
	verdict := col(courtdecision.FieldVerdict)
	var b strings.Builder
	b.WriteString("CASE")
	for _, v := range domain.All[domain.Verdict]() {
		switch v.Conviction() {
		case domain.ConvictsSomeone:
			fmt.Fprintf(&b, " WHEN %s = '%s' THEN 1", verdict, v)
		case domain.ConvictsWhenSentenced:
			fmt.Fprintf(&b, " WHEN %s = '%s' AND %s IS NOT NULL THEN 1", verdict, v, col(courtdecision.FieldSentenceKind))
		case domain.ConvictsAsReviewed:
			upheld := "1"
			if depth > 0 {
				alias := s.Quote(fmt.Sprintf("reviewed_%d", depth))
				r := func(c string) string { return alias + "." + s.Quote(c) }
				named := col(courtdecision.FieldReviewedDecisionID)
				upheld = fmt.Sprintf("COALESCE((SELECT %s FROM %s AS %s WHERE %s = %s AND %s = %s AND %s <= %s AND (%s IS NULL OR %s = %s) ORDER BY %s DESC, %s DESC LIMIT 1), 1)",
					convicts(s, r, depth-1), s.Quote(courtdecision.Table), alias,
					r(courtdecision.FieldProsecutionID), col(courtdecision.FieldProsecutionID),
					r(courtdecision.FieldInstance), reviewedInstance(col(courtdecision.FieldInstance)),
					r(courtdecision.FieldDecidedOn), col(courtdecision.FieldDecidedOn),
					named, r(courtdecision.FieldID), named,
					r(courtdecision.FieldDecidedOn), r(courtdecision.FieldID))
			}
			fmt.Fprintf(&b, " WHEN %s = '%s' THEN %s", verdict, v, upheld)
		}
	}
	b.WriteString(" ELSE 0 END")
	return b.String()
}

// reviewedInstance is the SQL of the instance a decision at the instance
// in column reviews (domain.Instance.Reviews), NULL at first instance.
func reviewedInstance(column string) string {
	var b strings.Builder
	b.WriteString("CASE " + column)
	for _, i := range domain.All[domain.Instance]() {
		if reviewed, ok := i.Reviews(); ok {
			fmt.Fprintf(&b, " WHEN '%s' THEN '%s'", i, reviewed)
		}
	}
	b.WriteString(" END")
	return b.String()
}

// The values of a court decision's sentence against the statutory range
// (sentenceRange): the decisions' SENTENCE_RANGE and prosecutionMeasures'
// imprisonmentAgainstRange.
const (
	BelowRange     = "BELOW_RANGE"
	WithinRange    = "WITHIN_RANGE"
	AboveRange     = "ABOVE_RANGE"
	NoRange        = "NO_RANGE"
	NoImprisonment = "NO_IMPRISONMENT"
)

// sentenceRange is the SQL of a court decision's sentence against the
// statutory range, d the decisions' table in s: NO_IMPRISONMENT unless it
// sentences to imprisonment; NO_RANGE unless it convicts of the offence
// charged at first instance (a conviction of a lesser offence, or a
// decision on appeal, whatever its verdict, says not which article) in a
// proceeding charged now under an article whose
// range is kept (domain.StatutoryImprisonment); else BELOW_RANGE,
// WITHIN_RANGE or ABOVE_RANGE of the most severe such article the
// proceeding is charged under (domain.RangedArticlesBySeverity). The
// charges are read as they are now: a charge reclassified to a lesser
// offence no longer sets the range.
func sentenceRange(s *sql.Selector, d interface{ C(string) string }) string {
	kind, months := d.C(courtdecision.FieldSentenceKind), d.C(courtdecision.FieldSentenceMonths)
	var b strings.Builder
	fmt.Fprintf(&b, "CASE WHEN %s IS NULL OR %s <> '%s' OR %s IS NULL THEN '%s' WHEN %s <> '%s' OR %s <> '%s' THEN '%s'",
		kind, kind, domain.SentenceKindImprisonment, months, NoImprisonment,
		d.C(courtdecision.FieldVerdict), domain.VerdictConvicted, d.C(courtdecision.FieldInstance), domain.InstanceFirstInstance, NoRange)
	c := s.Quote("ranged_charge")
	for _, a := range domain.RangedArticlesBySeverity() {
		r := domain.StatutoryImprisonment[a]
		fmt.Fprintf(&b, " WHEN EXISTS (SELECT 1 FROM %s AS %s WHERE %s.%s = %s AND %s.%s = '%s')"+
			" THEN CASE WHEN %s < %d THEN '%s' WHEN %s > %d THEN '%s' ELSE '%s' END",
			s.Quote(charge.Table), c, c, s.Quote(charge.FieldProsecutionID), d.C(courtdecision.FieldProsecutionID), c, s.Quote(charge.FieldArticle), a,
			months, r.Min, BelowRange, months, r.Max, AboveRange, WithinRange)
	}
	b.WriteString(" ELSE '" + NoRange + "' END")
	return b.String()
}

// joinReferralAgencies joins a referral's referring and receiving
// agencies to s, whose kinds are dimensions of referrals.
func joinReferralAgencies(s *sql.Selector) (from, to *sql.SelectTable) {
	from, to = sql.Table(agency.Table).As("from_agency"), sql.Table(agency.Table).As("to_agency")
	s.Join(from).On(s.C(referral.FieldFromAgencyID), from.C(agency.FieldID)).
		Join(to).On(s.C(referral.FieldToAgencyID), to.C(agency.FieldID))
	return from, to
}

// agencyFacts is what statistics name an agency by: its code and kind.
type agencyFacts struct{ Code, Kind string }

func (a agencyFacts) code() string { return a.Code }
func (a agencyFacts) kind() string { return a.Kind }

// withAgencies turns rows grouped by agency ids (the columns named in
// names) into finest cells of the agencies' codes or kinds, adding up the
// rows of agencies of one kind. Cases and proceedings are grouped by the
// id of their agency rather than joined to it: as many cells, and less
// work in SQL (the proceedings' statement at scale 40 fell from about 43
// to 16 ms). Referrals keep the join: by two agency ids their cells are
// 70% more than by two kinds, and scanning them cost more than the join
// saved (docs/statistics.md). The agency registry (every agency is every
// caller's to see) is read once per request, and only for rows grouped by
// an agency.
func withAgencies(ctx context.Context, client *ent.Client, rows []grouped, by grouping, dims int, names map[int]func(agencyFacts) string) ([]fineCell, error) {
	registry := func(ctx context.Context) (map[string]agencyFacts, error) {
		var all []struct {
			ID   int    `sql:"id"`
			Code string `sql:"code"`
			Kind string `sql:"kind"`
		}
		err := client.Agency.Query().Select(agency.FieldID, agency.FieldCode, agency.FieldKind).Scan(ctx, &all)
		out := make(map[string]agencyFacts, len(all))
		for _, a := range all {
			out[strconv.Itoa(a.ID)] = agencyFacts{Code: a.Code, Kind: a.Kind}
		}
		return out, err
	}
	// A dimension not grouped by is '' in every cell: nothing to name.
	names = maps.Clone(names)
	maps.DeleteFunc(names, func(dim int, _ func(agencyFacts) string) bool { return !by.groups(dim) })
	if len(names) == 0 {
		return finest(rows, dims), nil
	}
	agencies, err := readInside(ctx, "agencies", agencySource, registry)
	if err != nil {
		return nil, err
	}
	merged := map[string]int{}
	var out []fineCell
	for _, r := range rows {
		c := r.cell(dims)
		for i, name := range names {
			a, ok := agencies[c.values[i]]
			if !ok {
				// An agency registered since this request read the registry
				// (it only grows): read it again.
				if agencies, err = registry(ctx); err != nil {
					return nil, err
				}
				if a, ok = agencies[c.values[i]]; !ok {
					return nil, fmt.Errorf("statistics: agency %s is not in the registry", c.values[i])
				}
			}
			c.values[i] = name(a)
		}
		key := c.month + "\x00" + strings.Join(c.values, "\x00")
		if at, ok := merged[key]; ok {
			out[at].count += c.count
			continue
		}
		merged[key] = len(out)
		out = append(out, c)
	}
	return out, nil
}
