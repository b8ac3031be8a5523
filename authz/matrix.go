package authz

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// Matrix is the access the policy in force gives each role at each kind of
// agency, for every question the code asks of it: which rows, which
// sensitive fields under which condition, which mutations, and the powers
// over emergency access and the policy itself. It shows what the policy
// allows before the conditions on the row (relation, consent, emergency
// grants) are checked; see ReadField.
//
// Every slice holds the full cross product, in a fixed order: roles as in
// viewer.Roles, agency kinds as in domain.AgencyKind.Values, then fields by
// name, mutations in the order the schema declares them, powers as in
// MatrixPowers.
type Matrix struct {
	Rows      []RowCell
	Fields    []MatrixCell
	Mutations []MutationCell
	Powers    []PowerCell
	// Families are the policy's families of agency kinds (its g2 lines),
	// by name.
	Families []Family
	// Categories maps each sensitive field to its category object, e.g.
	// "Victim.legalName" → "Victim:IDENTITY".
	Categories map[string]string
}

// RowCell is how far one role at one kind of agency sees cases and victims.
type RowCell struct {
	Role    viewer.Role
	Kind    domain.AgencyKind
	Cases   rowscope.Level
	Victims rowscope.Level
}

// MatrixCell is what one role at one kind of agency may do with one
// sensitive field: the conditions under which it may read it (sorted; none
// means never) and whether it may write it.
type MatrixCell struct {
	Role     viewer.Role
	Kind     domain.AgencyKind
	Field    string // e.g. "Victim.legalName"
	Category string // e.g. "Victim:IDENTITY"
	Read     []string
	Write    bool
}

// MutationCell is whether one role at one kind of agency may call one
// mutation.
type MutationCell struct {
	Role     viewer.Role
	Kind     domain.AgencyKind
	Mutation string // e.g. "openCase"
	Allowed  bool
}

// PowerCell is whether one role at one kind of agency holds one power that
// is neither a field nor a mutation (see MatrixPowers).
type PowerCell struct {
	Role    viewer.Role
	Kind    domain.AgencyKind
	Object  string // policies.Emergency or policies.Policy
	Action  string
	Allowed bool
}

// Family is a named family of agency kinds (a g2 line groups a kind in it).
type Family struct {
	Name  string
	Kinds []domain.AgencyKind
}

// Power is an object and action of the policy that is neither a field nor a
// mutation.
type Power struct{ Object, Action string }

// MatrixPowers are the powers the matrix lists, in its order.
var MatrixPowers = []Power{
	{policies.Emergency, policies.Request},
	{policies.Emergency, policies.Review},
	{policies.Policy, policies.Read},
	{policies.Policy, policies.Change},
	{policies.Audit, policies.Read},
	{policies.Audit, policies.ReadAll},
	{policies.Audit, policies.Verify},
}

// Matrix computes the access matrix of the policy e holds now: for every
// role (viewer.Roles) at every kind of agency, asked as a principal holding
// that role alone, exactly as a request asks (rowLevel, readConditions,
// allows).
func (e *Enforcer) Matrix() Matrix {
	return e.matrix(func(viewer.Role, domain.AgencyKind) bool { return true })
}

// matrix computes the cells of the roles at the kinds that include
// accepts, in Matrix's order; WhatIf asks only for those a change can
// touch, since every cell costs casbin a pass over the whole policy.
func (e *Enforcer) matrix(include func(viewer.Role, domain.AgencyKind) bool) Matrix {
	kinds := agencyKinds()
	fields := make([]string, 0, len(e.vocab.Fields))
	categories := make(map[string]string, len(e.vocab.Fields))
	for f, c := range e.vocab.Fields {
		fields = append(fields, f)
		categories[f] = c
	}
	slices.Sort(fields)
	m := Matrix{Families: e.families(), Categories: categories}
	for _, role := range viewer.Roles {
		p := &viewer.Principal{Roles: []viewer.Role{role}}
		for _, kind := range kinds {
			if !include(role, kind) {
				continue
			}
			k := string(kind)
			m.Rows = append(m.Rows, RowCell{Role: role, Kind: kind,
				Cases:   e.rowLevel(p, k, policies.RowsCases),
				Victims: e.rowLevel(p, k, policies.RowsVictims),
			})
			for _, f := range fields {
				var read []string
				for c := range e.readConditions(p, k, f) {
					read = append(read, c)
				}
				slices.Sort(read)
				m.Fields = append(m.Fields, MatrixCell{Role: role, Kind: kind, Field: f, Category: categories[f],
					Read: read, Write: e.allows(p, k, f, policies.Write)})
			}
			for _, mu := range e.vocab.Mutations {
				m.Mutations = append(m.Mutations, MutationCell{Role: role, Kind: kind, Mutation: mu,
					Allowed: e.allows(p, k, policies.MutationObject(mu), policies.Call)})
			}
			for _, pw := range MatrixPowers {
				m.Powers = append(m.Powers, PowerCell{Role: role, Kind: kind, Object: pw.Object, Action: pw.Action,
					Allowed: e.allows(p, k, pw.Object, pw.Action)})
			}
		}
	}
	return m
}

// agencyKinds lists every kind of agency, in docs/domain.md's order.
func agencyKinds() []domain.AgencyKind {
	var out []domain.AgencyKind
	for _, k := range domain.AgencyKind("").Values() {
		out = append(out, domain.AgencyKind(k))
	}
	return out
}

// families reads the g2 lines in force.
func (e *Enforcer) families() []Family {
	lines, _ := e.casbin.GetNamedGroupingPolicy(policies.PtypeG2)
	byName := map[string][]domain.AgencyKind{}
	var names []string
	for _, l := range lines {
		if len(l) != 2 {
			continue
		}
		if _, ok := byName[l[1]]; !ok {
			names = append(names, l[1])
		}
		byName[l[1]] = append(byName[l[1]], domain.AgencyKind(l[0]))
	}
	slices.Sort(names)
	out := make([]Family, len(names))
	for i, n := range names {
		out[i] = Family{Name: n, Kinds: inOrder(byName[n])}
	}
	return out
}

// inOrder returns ks in docs/domain.md's order, without duplicates.
func inOrder(ks []domain.AgencyKind) []domain.AgencyKind {
	var out []domain.AgencyKind
	for _, k := range agencyKinds() {
		if slices.Contains(ks, k) {
			out = append(out, k)
		}
	}
	return out
}

// ConsentRequired reports whether reading a field of category (e.g.
// "Victim:HEALTH") under condition cond also needs a current consent of the
// victim naming the caller's agency kind and purpose: for the identity,
// contact, health and testimony of victims (and of their support
// services), except under the proceedings condition, where the criminal
// proceeding is the legal basis. It is the rule ReadField applies.
func ConsentRequired(category, cond string) bool {
	typ, cat, ok := strings.Cut(category, ":")
	if !ok || (typ != "Victim" && typ != "SupportService") {
		return false
	}
	return cond != policies.Proceedings && slices.Contains(consentCategories, cat)
}

// CSV writes the matrix as CSV with the columns role, kind, object,
// action, allowed, condition: one line per row level (see, with the level),
// per field and read condition (or one denied read line), per field write,
// per mutation and per power. Denied lines have an empty condition.
func (m Matrix) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	line := func(role viewer.Role, kind domain.AgencyKind, obj, act string, allowed bool, cond string) {
		if !allowed {
			cond = ""
		}
		_ = cw.Write([]string{string(role), string(kind), obj, act, fmt.Sprint(allowed), cond})
	}
	_ = cw.Write([]string{"role", "kind", "object", "action", "allowed", "condition"})
	for _, r := range m.Rows {
		line(r.Role, r.Kind, policies.RowsCases, policies.See, r.Cases != rowscope.None, r.Cases.Name())
		line(r.Role, r.Kind, policies.RowsVictims, policies.See, r.Victims != rowscope.None, r.Victims.Name())
	}
	for _, f := range m.Fields {
		if len(f.Read) == 0 {
			line(f.Role, f.Kind, f.Field, policies.Read, false, "")
		}
		for _, c := range f.Read {
			line(f.Role, f.Kind, f.Field, policies.Read, true, c)
		}
		line(f.Role, f.Kind, f.Field, policies.Write, f.Write, policies.Any)
	}
	for _, mu := range m.Mutations {
		line(mu.Role, mu.Kind, policies.MutationObject(mu.Mutation), policies.Call, mu.Allowed, policies.Any)
	}
	for _, p := range m.Powers {
		line(p.Role, p.Kind, p.Object, p.Action, p.Allowed, policies.Any)
	}
	cw.Flush()
	return cw.Error()
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
		fmt.Fprintf(&b, "| %s | %s |\n", c, strings.Join(m.fieldsOf(c), ", "))
	}

	b.WriteString("\n### Which cases and victims each role sees\n\n")
	b.WriteString("| Role | Agency kinds | Cases | Victims |\n|---|---|---|---|\n")
	m.groups(&b, func(role viewer.Role, kind domain.AgencyKind) []string {
		r := m.rowCell(role, kind)
		return []string{levelPhrase(r.Cases), levelPhrase(r.Victims)}
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
			out[i] = readPhrase(c.category, m.fieldCell(role, kind, c.fields[0]).Read)
		}
		return out
	}, nothing)
	b.WriteString("\non case: the victim is in a case the agency leads, is assigned to or prosecutes (for a suspect: the suspect's case). " +
		"proceedings: the agency prosecutes or adjudicates a case of the victim (for a suspect: the suspect's case). " +
		"referred: the victim was referred to the agency by another, and the agency accepted (or completed) the referral. " +
		"any: every row the role sees. " +
		"consent: also needs a current consent of the victim naming the agency's kind and the role's purpose. " +
		fmt.Sprintf("An emergency grant opens, for at most %d hours, the fields its holder's role reads under some condition, of the victims in one case when it was granted and of its suspects, whatever the condition and consent say.\n", MaxEmergencyHours))

	header("Which sensitive fields each role may write")
	m.groups(&b, func(role viewer.Role, kind domain.AgencyKind) []string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = "—"
			if m.fieldCell(role, kind, c.fields[0]).Write {
				out[i] = "write"
			}
		}
		return out
	}, nothing)
	b.WriteString("\nA write is always limited to the rows the role sees.\n")

	b.WriteString("\n### What each role may do\n\n")
	b.WriteString("| Role | Agency kinds | Mutations | Emergency access | Policy | Audit trail |\n|---|---|---|---|---|---|\n")
	m.groups(&b, func(role viewer.Role, kind domain.AgencyKind) []string {
		var mus, em, po, au []string
		for _, c := range m.Mutations {
			if c.Role == role && c.Kind == kind && c.Allowed {
				mus = append(mus, c.Mutation)
			}
		}
		for _, c := range m.Powers {
			if c.Role != role || c.Kind != kind || !c.Allowed {
				continue
			}
			switch c.Object {
			case policies.Emergency:
				em = append(em, powerPhrase(c.Action))
			case policies.Policy:
				po = append(po, c.Action)
			case policies.Audit:
				au = append(au, powerPhrase(c.Action))
			}
		}
		return []string{orDash(strings.Join(mus, ", ")), orDash(strings.Join(em, ", ")), orDash(strings.Join(po, ", ")), orDash(strings.Join(au, ", "))}
	}, []string{"—", "—", "—", "—"})
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
		fields := m.fieldsOf(c)
		uniform := true
		for _, cell := range m.Fields {
			if cell.Category == c && cell.Field != fields[0] {
				first := m.fieldCell(cell.Role, cell.Kind, fields[0])
				if cell.Write != first.Write || !slices.Equal(cell.Read, first.Read) {
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

func (m Matrix) fieldsOf(category string) []string {
	var out []string
	for f, c := range m.Categories {
		if c == category {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

func (m Matrix) rowCell(role viewer.Role, kind domain.AgencyKind) RowCell {
	for _, r := range m.Rows {
		if r.Role == role && r.Kind == kind {
			return r
		}
	}
	return RowCell{Role: role, Kind: kind}
}

func (m Matrix) fieldCell(role viewer.Role, kind domain.AgencyKind, field string) MatrixCell {
	for _, c := range m.Fields {
		if c.Role == role && c.Kind == kind && c.Field == field {
			return c
		}
	}
	return MatrixCell{Role: role, Kind: kind, Field: field}
}

// groups writes one table line per role and group of kinds with the same
// cells (cells returns them), the group that gets only none last.
func (m Matrix) groups(b *strings.Builder, cells func(viewer.Role, domain.AgencyKind) []string, none []string) {
	kinds := agencyKinds()
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
	if len(kinds) == len(agencyKinds()) {
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

func levelPhrase(l rowscope.Level) string {
	if l == rowscope.None {
		return "—"
	}
	return l.Name()
}

func conditionName(c string) string {
	switch c {
	case policies.OnCase:
		return "on case"
	case policies.Any:
		return "any"
	}
	return c
}

// readPhrase is a field-table cell: "read (on case, consent)", "read
// (proceedings)", or "—".
func readPhrase(category string, conds []string) string {
	if len(conds) == 0 {
		return "—"
	}
	parts := make([]string, len(conds))
	for i, c := range conds {
		parts[i] = conditionName(c)
		if ConsentRequired(category, c) {
			parts[i] += ", consent"
		}
	}
	return "read (" + strings.Join(parts, "; or ") + ")"
}

func powerPhrase(action string) string {
	switch action {
	case policies.Request:
		return "request for one case"
	case policies.Review:
		return "list and revoke the agency's grants"
	case policies.ReadAll:
		return "read every agency's events"
	case policies.Verify:
		return "verify the hash chain"
	}
	return action
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
