// Package policytools reads the access policy for people and tools: the
// matrix of what each role may do at each kind of agency (CSV, Markdown,
// GraphQL), why the policy allows or denies one thing (explain), what a
// change would change (what-if), and the change itself (Change). It only
// asks package authz, which decides; see docs/policy-tools.md.
package policytools

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/casework"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/statistics"
	"github.com/casegraph/casegraph/viewer"
)

// Matrix is the access the policy in force gives each role at each kind of
// agency, for every question the code asks of it: which rows, which
// sensitive fields under which condition, which mutations, and the powers
// over emergency access, the policy and the audit trail. It shows what the
// policy allows before the conditions on the row (relation, consent,
// emergency grants) are checked; see authz.Request.ReadField.
//
// Its cells are the one model every rendering reads: the CSV and the
// GraphQL API list them a condition a line (Lines), the Markdown tables and
// what-if compare them whole.
type Matrix struct {
	// Cells hold the full cross product, in a fixed order: roles as in
	// viewer.Roles, agency kinds as in domain.AgencyKind.Values, then rows
	// (cases, victims), fields by name (read, write), mutations in the
	// order the schema declares them, powers as in MatrixPowers, then the
	// statistics threshold (allowed, its condition k, for a role that
	// reads statistics with counts of people withheld), then the consent
	// purposes (allowed, its purposes, for a role that has one).
	Cells []Cell
	// Families are the policy's families of agency kinds (its g2 lines),
	// by name.
	Families []Family
	// Categories maps each sensitive field to its category object, e.g.
	// "Victim.legalName" → "Victim:IDENTITY".
	Categories map[string]string

	index map[question]int // where each question's cell is in Cells
}

// question is what a cell answers.
type question struct {
	role           viewer.Role
	kind           domain.AgencyKind
	object, action string
}

// Cell is the policy's answer to one question: may Role, at an agency of
// Kind, act on Object (a sensitive field, "rows:cases" or "rows:victims",
// "Mutation.name", or a power's object) by Action?
type Cell struct {
	Role    viewer.Role
	Kind    domain.AgencyKind
	Object  string
	Action  string
	Allowed bool
	// Conditions are, when allowed, the row level (rows, e.g. "region"),
	// the conditions a field may be read under (sorted), or policies.Any.
	Conditions []string
}

// CellLine is a cell under one of its conditions: one line of the CSV and
// one AccessCell of the GraphQL API. A denied cell is one line without
// condition.
type CellLine struct {
	Role      viewer.Role
	Kind      domain.AgencyKind
	Object    string
	Action    string
	Allowed   bool
	Condition string
}

// NullableCondition is the line's condition, nil for a denied line: how
// GraphQL's AccessCell writes it (a field, not a resolver, so that the
// thousands of lines of the matrix resolve without a goroutine each).
func (l CellLine) NullableCondition() *string {
	if l.Condition == "" {
		return nil
	}
	return &l.Condition
}

// Family is a named family of agency kinds (a g2 line groups a kind in it).
type Family struct {
	Name  string
	Kinds []domain.AgencyKind
}

// Power is an object and action of the policy that is neither a field nor a
// mutation.
type Power struct{ Object, Action string }

// MatrixPowers are the powers the matrix lists, in its order: the table of
// powers (policies.Powers).
var MatrixPowers = matrixPowers()

func matrixPowers() []Power {
	out := make([]Power, len(policies.Powers))
	for i, p := range policies.Powers {
		out[i] = Power{p.Object, p.Action}
	}
	return out
}

// MatrixOf computes the access matrix of the policy e holds now: for every
// role (viewer.Roles) at every kind of agency, asked as a principal holding
// that role alone, exactly as a request asks (RowLevel, ReadConditions,
// Allows, MayCall, MayUsePower).
func MatrixOf(e *authz.Enforcer) Matrix {
	m, _ := MatrixWithin(context.Background(), e) // a context never done: no error
	return m
}

// MatrixWithin is MatrixOf for a request: it stops with ctx's error once
// ctx is done (its deadline, its client gone), as what-if's matrices do,
// so that accessMatrix over a policy built in memory (authz.Enforcer.At)
// holds its slot no longer than its request.
func MatrixWithin(ctx context.Context, e *authz.Enforcer) (Matrix, error) {
	return matrixOf(ctx, e, func(viewer.Role, domain.AgencyKind) bool { return true })
}

// RolesWithAccessAt lists, in viewer.Roles' order, the roles to which the
// policy e holds now gives anything at an agency of kind: an allowed cell
// of the matrix, consent purposes aside (a purpose opens nothing by itself,
// and every role has one at every kind). A person holding none of them at
// such an agency is answered empty pages and refusals, without a word of
// why: `casegraph token` warns of it.
func RolesWithAccessAt(e *authz.Enforcer, kind domain.AgencyKind) []viewer.Role {
	m, _ := matrixOf(context.Background(), e, func(_ viewer.Role, k domain.AgencyKind) bool { return k == kind }) // a context never done: no error
	var out []viewer.Role
	for _, c := range m.Cells {
		if c.Allowed && c.Object != policies.ConsentObject && !slices.Contains(out, c.Role) {
			out = append(out, c.Role)
		}
	}
	return out
}

// matrixOf computes the cells of the roles at the kinds that include
// accepts, in Matrix's order; WhatIf asks only for those a change can
// touch, since every cell costs casbin a pass over the whole policy. It
// stops with ctx's error once ctx is done: over a policy of a thousand
// lines (a what-if of 500 added to it) the two matrices took seconds of
// CPU, and ran on past the request's deadline.
func matrixOf(ctx context.Context, e *authz.Enforcer, include func(viewer.Role, domain.AgencyKind) bool) (Matrix, error) {
	vocab := e.Vocabulary()
	fields := slices.Sorted(maps.Keys(vocab.Fields))
	m := Matrix{Families: families(e), Categories: maps.Clone(vocab.Fields), index: map[question]int{}}
	for _, role := range viewer.Roles {
		roles := []viewer.Role{role}
		for _, kind := range domain.All[domain.AgencyKind]() {
			if !include(role, kind) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return Matrix{}, err
			}
			cell := func(obj, act string, conds ...string) {
				m.index[question{role, kind, obj, act}] = len(m.Cells)
				m.Cells = append(m.Cells, Cell{Role: role, Kind: kind, Object: obj, Action: act, Allowed: len(conds) > 0, Conditions: conds})
			}
			cellIf := func(obj, act string, allowed bool) {
				if allowed {
					cell(obj, act, policies.Any)
				} else {
					cell(obj, act)
				}
			}
			for _, rows := range []string{policies.RowsCases, policies.RowsVictims} {
				if l := e.RowLevel(roles, kind, rows); l != rowscope.None {
					cell(rows, policies.See, l.Name())
				} else {
					cell(rows, policies.See)
				}
			}
			for _, f := range fields {
				cell(f, policies.Read, slices.Sorted(maps.Keys(e.ReadConditions(roles, kind, f)))...)
				cellIf(f, policies.Write, e.Allows(roles, kind, f, policies.Write))
			}
			// A call is allowed with its line and the power it needs, and
			// a power a mutation needs only with the call: the cells said
			// either alone was enough, where the server refuses (a hunt).
			for _, mu := range vocab.Mutations {
				cellIf(policies.MutationObject(mu), policies.Call, e.MayCall(roles, kind, mu))
			}
			for _, pw := range MatrixPowers {
				cellIf(pw.Object, pw.Action, e.MayUsePower(roles, kind, pw.Object, pw.Action))
			}
			if k := statisticsThreshold(e, roles, kind); k > 0 {
				cell(policies.Statistics, policies.Threshold, strconv.Itoa(k))
			} else {
				cell(policies.Statistics, policies.Threshold)
			}
			// The purposes a consent must name to open a field to the
			// role: a change of them opens or closes fields as surely as
			// a field's line, and the what-if saw none (a hunt over HTTP).
			var purposes []string
			for _, pu := range e.Purposes(roles, string(kind)) {
				purposes = append(purposes, string(pu))
			}
			cell(policies.ConsentObject, policies.PurposeAction, purposes...)
		}
	}
	return m, nil
}

// statisticsThreshold is the k under which statistics withhold counts of
// people from roles at kind: the policy's line, or the default when it
// has none; 0 (no threshold) when they read no statistics or see exact
// counts. Exact or k is the server's own answer (StatisticsControlOf), so
// the matrix and explainAccess cannot say other than what it applies.
func statisticsThreshold(e *authz.Enforcer, roles []viewer.Role, kind domain.AgencyKind) int {
	if !e.Allows(roles, kind, policies.Statistics, policies.Read) {
		return 0
	}
	k, exact := e.StatisticsControlOf(roles, kind)
	switch {
	case exact:
		return 0
	case k > 0:
		return k
	}
	return statistics.DefaultThreshold
}

// families reads the g2 lines in force, by family name.
func families(e *authz.Enforcer) []Family {
	byName := e.Families()
	names := slices.Sorted(maps.Keys(byName))
	out := make([]Family, len(names))
	for i, n := range names {
		out[i] = Family{Name: n, Kinds: inOrder(byName[n])}
	}
	return out
}

// inOrder returns ks in docs/domain.md's order, without duplicates.
func inOrder(ks []domain.AgencyKind) []domain.AgencyKind {
	var out []domain.AgencyKind
	for _, k := range domain.All[domain.AgencyKind]() {
		if slices.Contains(ks, k) {
			out = append(out, k)
		}
	}
	return out
}

// section orders the kinds of object in the CSV: rows, fields, mutations,
// powers.
func (m Matrix) section(obj string) int {
	switch {
	case obj == policies.RowsCases || obj == policies.RowsVictims:
		return 0
	case m.Categories[obj] != "":
		return 1
	case strings.HasPrefix(obj, "Mutation."):
		return 2
	}
	return 3
}

// Lines lists the cells a condition a line, as the CSV writes them: rows
// of every role and kind first, then fields (read, write), mutations and
// powers; a field read has one line per condition it may be read under.
func (m Matrix) Lines() []CellLine {
	cells := slices.Clone(m.Cells)
	slices.SortStableFunc(cells, func(a, b Cell) int { return m.section(a.Object) - m.section(b.Object) })
	var out []CellLine
	for _, c := range cells {
		line := CellLine{Role: c.Role, Kind: c.Kind, Object: c.Object, Action: c.Action, Allowed: c.Allowed}
		if !c.Allowed {
			out = append(out, line)
		}
		for _, cond := range c.Conditions {
			line.Condition = cond
			out = append(out, line)
		}
	}
	return out
}

// WriteCSV writes Lines as CSV with the columns role, kind, object, action,
// allowed, condition. Denied lines have an empty condition.
func (m Matrix) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"role", "kind", "object", "action", "allowed", "condition"})
	for _, l := range m.Lines() {
		_ = cw.Write([]string{string(l.Role), string(l.Kind), l.Object, l.Action, fmt.Sprint(l.Allowed), l.Condition})
	}
	cw.Flush()
	return cw.Error()
}

// CSV is WriteCSV's text.
func (m Matrix) CSV() (string, error) {
	var b strings.Builder
	err := m.WriteCSV(&b)
	return b.String(), err
}

// cell returns the answer to one question ("denied" when m lacks it).
func (m Matrix) cell(role viewer.Role, kind domain.AgencyKind, obj, act string) Cell {
	if i, ok := m.index[question{role, kind, obj, act}]; ok {
		return m.Cells[i]
	}
	return Cell{Role: role, Kind: kind, Object: obj, Action: act}
}

// Markdown renders the matrix as tables for people: the categories of
// sensitive fields, row scope, field reads, field writes, and mutations
// and powers. Each table has one line per role and group of agency kinds
// for which that role gets the same answers; a group that gets nothing is
// written "any other kind".
func (m Matrix) Markdown() string {
	var b strings.Builder
	cols := m.columns()

	b.WriteString("### Sensitive fields\n\n")
	b.WriteString("| Category | Fields |\n|---|---|\n")
	for _, c := range m.categoryOrder() {
		fmt.Fprintf(&b, "| %s | %s |\n", c, strings.Join(fieldsIn(m.Categories, c), ", "))
	}

	b.WriteString("\n### Which cases and victims each role sees\n\n")
	b.WriteString("| Role | Agency kinds | Cases | Victims |\n|---|---|---|---|\n")
	m.groups(&b, func(role viewer.Role, kind domain.AgencyKind) []string {
		return []string{
			orDash(strings.Join(m.cell(role, kind, policies.RowsCases, policies.See).Conditions, "")),
			orDash(strings.Join(m.cell(role, kind, policies.RowsVictims, policies.See).Conditions, "")),
		}
	}, []string{"—", "—"})
	b.WriteString("\nall: every one in the country. " +
		"region: those of the agency's region, and those it works on (an agency without a region: only those it works on). " +
		"assigned: cases the agency leads, is assigned to or prosecutes; victims in such cases, referred to or by the agency, or supported by it. " +
		"A row shows only what is always safe to show (pseudonym, sex, age group, identification status, forms of exploitation, region); " +
		"its sensitive fields follow the tables below.\n")

	header := func(title string) {
		fmt.Fprintf(&b, "\n### %s\n\n| Role | Agency kinds |", title)
		for _, c := range cols {
			fmt.Fprintf(&b, " %s |", c.label)
		}
		b.WriteString("\n|---|---|" + strings.Repeat("---|", len(cols)) + "\n")
	}
	nothing := slices.Repeat([]string{"—"}, len(cols))

	header("Which sensitive fields each role may read, and when")
	m.groups(&b, func(role viewer.Role, kind domain.AgencyKind) []string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = readPhrase(c.category, m.cell(role, kind, c.fields[0], policies.Read).Conditions)
		}
		return out
	}, nothing)
	b.WriteString("\non case: the victim is in a case the agency leads, is assigned to or prosecutes (for a suspect: the suspect's case). " +
		"proceedings: the agency prosecutes or adjudicates a case of the victim (for a suspect: the suspect's case). " +
		"referred: the victim was referred to the agency by another, and the agency accepted (or completed) the referral. " +
		"any: every row the role sees. " +
		"consent: also needs a current consent of the victim naming the agency's kind and the role's purpose. " +
		fmt.Sprintf("An emergency grant opens, for at most %d hours, the fields its holder's role reads under some condition, of the victims in one case when it was granted and of its suspects, whatever the condition and consent say.\n", casework.MaxEmergencyHours))

	header("Which sensitive fields each role may write")
	m.groups(&b, func(role viewer.Role, kind domain.AgencyKind) []string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = "—"
			if m.cell(role, kind, c.fields[0], policies.Write).Allowed {
				out[i] = "write"
			}
		}
		return out
	}, nothing)
	b.WriteString("\nA write is always limited to the rows the role sees.\n")

	b.WriteString("\n### What each role may do\n\n")
	b.WriteString("| Role | Agency kinds | Mutations |")
	nothingDone := []string{"—"}
	for _, o := range policies.PowerObjects {
		b.WriteString(" " + o.Title + " |")
		nothingDone = append(nothingDone, "—")
	}
	b.WriteString("\n|---|---|---|" + strings.Repeat("---|", len(policies.PowerObjects)) + "\n")
	m.groups(&b, func(role viewer.Role, kind domain.AgencyKind) []string {
		var mus []string
		held := make([][]string, len(policies.PowerObjects))
		for _, c := range m.Cells {
			if c.Role != role || c.Kind != kind || !c.Allowed {
				continue
			}
			if mu, ok := strings.CutPrefix(c.Object, "Mutation."); ok {
				mus = append(mus, mu)
			}
			i := slices.IndexFunc(policies.PowerObjects, func(o policies.PowerObject) bool { return o.Name == c.Object })
			if pw, ok := policies.PowerOf(c.Object, c.Action); ok {
				held[i] = append(held[i], pw.Cell)
			}
			if c.Object == policies.Statistics && c.Action == policies.Threshold {
				held[i] = append(held[i], "k = "+c.Conditions[0])
			}
		}
		out := []string{orDash(strings.Join(mus, ", "))}
		for _, h := range held {
			out = append(out, orDash(strings.Join(h, ", ")))
		}
		return out
	}, nothingDone)
	b.WriteString("\nk: statistics withhold counts of people below k (a line `statistics, threshold, k`, or the default); " +
		"exact counts: none withheld, for the rows the role sees (docs/statistics.md).\n")
	return b.String()
}

// column is one column of the field tables: a whole category when all its
// fields get the same answers everywhere, else one field.
type column struct {
	label, category string
	fields          []string
}

func (m Matrix) columns() []column {
	var out []column
	for _, c := range m.categoryOrder() {
		fields := fieldsIn(m.Categories, c)
		uniform := true
		for _, cell := range m.Cells {
			if m.Categories[cell.Object] == c && cell.Object != fields[0] {
				first := m.cell(cell.Role, cell.Kind, fields[0], cell.Action)
				if cell.Allowed != first.Allowed || !slices.Equal(cell.Conditions, first.Conditions) {
					uniform = false
					break
				}
			}
		}
		if uniform {
			out = append(out, column{label: c, category: c, fields: fields})
			continue
		}
		for _, f := range fields {
			out = append(out, column{label: f, category: c, fields: []string{f}})
		}
	}
	return out
}

// categoryOrder lists the category objects: victims first, then suspects,
// then other types by name; within a type, identity, contact, health,
// testimony, location, quasi-identifiers, then others by name.
func (m Matrix) categoryOrder() []string {
	var cats []string
	for _, c := range m.Categories {
		if !slices.Contains(cats, c) {
			cats = append(cats, c)
		}
	}
	typeRank := func(t string) int {
		if i := slices.Index([]string{"Victim", "Suspect"}, t); i >= 0 {
			return i
		}
		return 2
	}
	catRank := func(c string) int {
		if i := slices.Index([]string{"IDENTITY", "CONTACT", "HEALTH", "TESTIMONY", "LOCATION", "QUASI_IDENTIFIER"}, c); i >= 0 {
			return i
		}
		return 6
	}
	slices.SortFunc(cats, func(a, b string) int {
		ta, ca, _ := strings.Cut(a, ":")
		tb, cb, _ := strings.Cut(b, ":")
		if d := typeRank(ta) - typeRank(tb); d != 0 {
			return d
		}
		if ta != tb {
			return strings.Compare(ta, tb)
		}
		if d := catRank(ca) - catRank(cb); d != 0 {
			return d
		}
		return strings.Compare(ca, cb)
	})
	return cats
}

// groups writes one table line per role and group of kinds with the same
// cells (cells returns them), the group that gets only none last.
func (m Matrix) groups(b *strings.Builder, cells func(viewer.Role, domain.AgencyKind) []string, none []string) {
	kinds := domain.All[domain.AgencyKind]()
	for _, role := range viewer.Roles {
		type group struct {
			kinds []domain.AgencyKind
			cells []string
		}
		var gs []*group
		for _, k := range kinds {
			c := cells(role, k)
			i := slices.IndexFunc(gs, func(g *group) bool { return slices.Equal(g.cells, c) })
			if i < 0 {
				gs = append(gs, &group{cells: c})
				i = len(gs) - 1
			}
			gs[i].kinds = append(gs[i].kinds, k)
		}
		slices.SortStableFunc(gs, func(a, b *group) int {
			an, bn := slices.Equal(a.cells, none), slices.Equal(b.cells, none)
			switch {
			case an && !bn:
				return 1
			case bn && !an:
				return -1
			}
			return 0
		})
		for _, g := range gs {
			label := m.kindsLabel(g.kinds)
			if len(gs) > 1 && slices.Equal(g.cells, none) {
				label = "any other kind"
			}
			fmt.Fprintf(b, "| %s | %s | %s |\n", role, label, strings.Join(g.cells, " | "))
		}
	}
}

// kindsLabel names a group of kinds: "any kind", a family ("court: …"),
// or the kinds themselves.
func (m Matrix) kindsLabel(kinds []domain.AgencyKind) string {
	if len(kinds) == len(domain.All[domain.AgencyKind]()) {
		return "any kind"
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = kindName(k)
	}
	list := strings.Join(names, ", ")
	for _, f := range m.Families {
		if slices.Equal(f.Kinds, kinds) {
			return "*" + f.Name + "*: " + list
		}
	}
	return list
}

// kindName writes a kind for people: LOCAL_POLICE_DIRECTORATE → "local
// police directorate", NGO_SHELTER → "NGO shelter".
func kindName(k domain.AgencyKind) string {
	words := strings.Split(strings.ToLower(string(k)), "_")
	for i, w := range words {
		if w == "ngo" {
			words[i] = "NGO"
		}
	}
	return strings.ReplaceAll(strings.Join(words, " "), "anti trafficking", "anti-trafficking")
}

// conditionNames are the conditions as the tables write them; the others
// are written as the policy names them.
var conditionNames = map[string]string{policies.OnCase: "on case", policies.Any: "any"}

func conditionName(c string) string { return cmp.Or(conditionNames[c], c) }

// readPhrase is a field-table cell: "read (on case, consent)", "read
// (proceedings)", or "—".
func readPhrase(category string, conds []string) string {
	if len(conds) == 0 {
		return "—"
	}
	parts := make([]string, len(conds))
	for i, c := range conds {
		parts[i] = conditionName(c)
		if authz.ConsentRequired(category, c) {
			parts[i] += ", consent"
		}
	}
	return "read (" + strings.Join(parts, "; or ") + ")"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
