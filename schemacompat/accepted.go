package schemacompat

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// AcceptedHeading is the heading of docs/schema-changes.md under which the
// breaking changes published on purpose stand, a table of one row each:
//
//	| date | change | reason |
//	|---|---|---|
//	| 2026-12-07 | `Enum CaseStage.FINAL removed` | why, and what integrators do instead |
const AcceptedHeading = "## Breaking changes accepted"

// Accepted is one breaking change published on purpose.
type Accepted struct {
	Date   string // YYYY-MM-DD
	Change string // as Change.Text says it
	Reason string
}

// ReadAccepted reads the table under AcceptedHeading in the Markdown
// document doc (named name in errors). A row without a date, a change or
// a reason is refused, so that nothing is accepted without one.
func ReadAccepted(name string, doc []byte) ([]Accepted, error) {
	var out []Accepted
	in, found := false, false
	for i, line := range strings.Split(string(doc), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			in = line == AcceptedHeading
			found = found || in
			continue
		}
		if !in || !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.SplitN(strings.Trim(line, "|"), "|", 3)
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		if cells[0] == "date" || strings.Trim(cells[0], "-: ") == "" {
			continue // the header, the separator
		}
		if len(cells) < 3 {
			return nil, fmt.Errorf("%s:%d: a row is | date | change | reason |", name, i+1)
		}
		a := Accepted{Date: cells[0], Change: strings.Trim(cells[1], "` "), Reason: cells[2]}
		if _, err := time.Parse(time.DateOnly, a.Date); err != nil {
			return nil, fmt.Errorf("%s:%d: the date %q is not YYYY-MM-DD", name, i+1, a.Date)
		}
		if a.Change == "" {
			return nil, fmt.Errorf("%s:%d: no change", name, i+1)
		}
		if a.Reason == "" || strings.HasPrefix(a.Reason, "<") {
			return nil, fmt.Errorf("%s:%d: %s: say why it is accepted", name, i+1, a.Change)
		}
		out = append(out, a)
	}
	if !found {
		return nil, fmt.Errorf("%s has no heading %q", name, AcceptedHeading)
	}
	return out, nil
}

// Unaccepted is the breaking changes among changes that accepted does not
// list.
func Unaccepted(changes []Change, accepted []Accepted) []Change {
	var out []Change
	for _, c := range BreakingOf(changes) {
		if !slices.ContainsFunc(accepted, func(a Accepted) bool { return a.Change == c.Text() }) {
			out = append(out, c)
		}
	}
	return out
}
