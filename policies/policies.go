// Package policies holds CaseGraph's access model and default policy
// (casbin), embedded in the binary, with the names that code uses to ask
// about them and the validation that refuses a policy line naming an
// unknown role, agency kind, object, action or condition.
package policies

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/viewer"
)

// Model is the casbin model (model.conf).
//
//go:embed model.conf
var Model string

// DefaultPolicy is the policy the database is seeded with (policy.csv).
//
//go:embed policy.csv
var DefaultPolicy string

// Objects that are not fields or mutations.
const (
	RowsCases   = "rows:cases"
	RowsVictims = "rows:victims"
	Emergency   = "emergency"
	Policy      = "policy"
	Audit       = "audit"
	Statistics  = "statistics"
)

// Actions.
const (
	Read    = "read"
	Write   = "write"
	See     = "see"
	Call    = "call"
	Request = "request"
	Review  = "review"
	Change  = "change"
	// ReadAll and Verify are actions on the audit trail: read the events of
	// every agency (read is the agency's own), and check its hash chain.
	ReadAll = "read_all"
	Verify  = "verify"
	// Exact and Threshold are about statistics: see exact counts of the
	// rows one sees, and the threshold k of counts of people (a line
	// whose condition is k; ThresholdLine).
	Exact     = "exact"
	Threshold = "threshold"
)

// Conditions on field reads (rows use rowscope's level names).
const (
	Any         = "any"
	OnCase      = "on_case"
	Proceedings = "proceedings"
	Referred    = "referred"
)

// FieldConditions lists the conditions a field read may carry, the
// cheapest to check first.
var FieldConditions = []string{Any, Proceedings, OnCase, Referred}

// Policy types.
const (
	PtypeP  = "p"
	PtypeG  = "g"
	PtypeG2 = "g2"
)

// AnyKind matches every kind of agency.
const AnyKind = "*"

// MutationObject is the object of calling a mutation.
func MutationObject(name string) string { return "Mutation." + name }

// CategoryObject is the object grouping every field of a type in a category,
// e.g. "Victim:IDENTITY".
func CategoryObject(typeName, category string) string { return typeName + ":" + category }

// Line is one policy line: its type ("p", "g2") and values.
type Line []string

// String renders l as in policy.csv.
func (l Line) String() string { return strings.Join(l, ", ") }

// Strings is lines as plain lists of strings: as the policy's history
// stores them and a change's audit event names them.
func Strings(lines []Line) [][]string {
	out := make([][]string, len(lines))
	for i, l := range lines {
		out[i] = []string(l)
	}
	return out
}

// Parse reads policy lines in casbin's CSV form; # starts a comment.
func Parse(text string) ([]Line, error) {
	var out []Line
	for i, raw := range strings.Split(text, "\n") {
		s := strings.TrimSpace(raw)
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		r := csv.NewReader(strings.NewReader(s))
		r.TrimLeadingSpace = true
		rec, err := r.Read()
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		for j := range rec {
			rec[j] = strings.TrimSpace(rec[j])
		}
		out = append(out, Line(rec))
	}
	return out, nil
}

// Vocabulary is what a policy may name besides the fixed objects: the
// sensitive fields (field → its category object) and the mutations, both
// read from the served GraphQL schema.
type Vocabulary struct {
	Fields    map[string]string
	Mutations []string
}

// Categories returns the category objects of the vocabulary.
func (v Vocabulary) Categories() []string {
	var out []string
	for _, c := range v.Fields {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// Validate checks every line; it returns an error naming each line that
// names something unknown. Families are the g2 lines' second values.
func Validate(lines []Line, v Vocabulary) error {
	families := map[string]bool{}
	for _, l := range lines {
		if len(l) == 3 && l[0] == PtypeG2 {
			families[l[2]] = true
		}
	}
	var problems []string
	invalid := map[int]bool{}
	for i, l := range lines {
		if err := validateLine(l, v, families); err != nil {
			problems = append(problems, fmt.Sprintf("%q: %v", l.String(), err))
			invalid[i] = true
		}
	}
	valid := func(i int) bool { return !invalid[i] }
	problems = append(problems, purposesCovered(lines, v, valid)...)
	problems = append(problems, guardiansKept(lines, v, valid)...)
	if len(problems) > 0 {
		return &InvalidPolicyError{Problems: problems}
	}
	return nil
}

// InvalidPolicyError is Validate's answer: one problem a line or rule.
// Its Error lists them all (for `casegraph policy check` and the server's
// log); a caller over the API is told at most a few (Summary).
type InvalidPolicyError struct{ Problems []string }

func (e *InvalidPolicyError) Error() string {
	return "invalid policy:\n  " + strings.Join(e.Problems, "\n  ")
}

// Summary lists the first most problems, each cut to at most 300
// characters, and how many more there are: the answer to a change of 500
// lines naming a role of 400 characters quoted each line twice, twice the
// size of the request (a review's finding, 2026-12-07).
func (e *InvalidPolicyError) Summary(most int) string {
	shown := e.Problems[:min(most, len(e.Problems))]
	var b strings.Builder
	b.WriteString("invalid policy:")
	for _, p := range shown {
		if r := []rune(p); len(r) > 300 {
			p = string(r[:299]) + "…"
		}
		b.WriteString("\n  " + p)
	}
	if more := len(e.Problems) - len(shown); more > 0 {
		fmt.Fprintf(&b, "\n  and %d more problems", more)
	}
	return b.String()
}

// familyName is what a family of agency kinds may be called.
var familyName = regexp.MustCompile(`^[a-z][a-z_]{0,39}$`)

func validateLine(l Line, v Vocabulary, families map[string]bool) error {
	if len(l) == 0 {
		return fmt.Errorf("empty line")
	}
	switch l[0] {
	case PtypeG2:
		if len(l) != 3 {
			return fmt.Errorf("a g2 line is: g2, KIND, family")
		}
		if !domain.AgencyKind(l[1]).Valid() {
			return fmt.Errorf("unknown agency kind %q", l[1])
		}
		if domain.AgencyKind(l[2]).Valid() || l[2] == AnyKind || !familyName.MatchString(l[2]) {
			// A name of lower-case ASCII letters: a lookalike letter or a
			// comma would make the history show another line than the
			// one in force (a review's finding).
			return fmt.Errorf("a family needs a name of its own, of lower-case letters a to z and _, not %q", l[2])
		}
		return nil
	case PtypeP:
	default:
		return fmt.Errorf("unknown policy type %q (p or g2)", l[0])
	}
	if len(l) != 6 {
		return fmt.Errorf("a p line is: p, role, kind, object, action, condition")
	}
	role, kind, obj, act, cond := l[1], l[2], l[3], l[4], l[5]
	if !viewer.Role(role).Valid() {
		return fmt.Errorf("unknown role %q", role)
	}
	if kind != AnyKind && !domain.AgencyKind(kind).Valid() && !families[kind] {
		return fmt.Errorf("unknown agency kind or family %q", kind)
	}
	power, isPower := PowerObjectOf(obj)
	switch {
	case obj == RowsCases || obj == RowsVictims:
		return expect(act, cond, See, "all", "region", "assigned")
	case obj == ConsentObject:
		return validatePurpose(kind, act, cond)
	case obj == Statistics && act == Threshold:
		_, err := ParseThreshold(cond)
		return err
	case isPower:
		return validatePower(power, role, act, cond)
	case strings.HasPrefix(obj, "Mutation."):
		if !slices.Contains(v.Mutations, strings.TrimPrefix(obj, "Mutation.")) {
			return fmt.Errorf("unknown mutation %q", obj)
		}
		return expect(act, cond, Call, Any)
	}
	_, isField := v.Fields[obj]
	if !isField && !slices.Contains(v.Categories(), obj) {
		return fmt.Errorf("unknown object %q (a sensitive field, a category such as Victim:IDENTITY, rows:cases, rows:victims, a Mutation.name, consent or a power: %s)", obj, strings.Join(powerObjectNames(), ", "))
	}
	switch act {
	case Read:
		if !slices.Contains(FieldConditions, cond) {
			return fmt.Errorf("unknown condition %q (any, on_case, proceedings, referred)", cond)
		}
		return nil
	case Write:
		return expect(act, cond, Write, Any)
	}
	return fmt.Errorf("a field takes read or write, not %q", act)
}

func powerObjectNames() []string {
	out := make([]string, len(PowerObjects))
	for i, o := range PowerObjects {
		out[i] = o.Name
	}
	return out
}

func expect(act, cond, wantAct string, conds ...string) error {
	if act != wantAct {
		return fmt.Errorf("action must be %s, not %q", wantAct, act)
	}
	if !slices.Contains(conds, cond) {
		return fmt.Errorf("condition must be one of %s, not %q", strings.Join(conds, ", "), cond)
	}
	return nil
}
