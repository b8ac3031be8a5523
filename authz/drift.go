package authz

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/policychange"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/viewer"
)

// Drift is how the policy in force differs from the one its history
// makes: Unexplained are lines in force that no change of the history
// added (or that one removed since), Missing lines the history holds and
// the table does not. Both empty: every line in force is traced to the
// change that brought it.
//
// The history is every change made through changePolicy and every change
// CaseGraph makes itself as it starts (the default policy loaded, the
// purposes added, unplain thresholds dropped), each in the same
// transaction as its lines. A line written into policy_rules by hand
// (SQL) is in force from the next start or reload that validates it,
// with no entry in the history, no audit event and the same
// policyVersion, so that the trail's `rule` names a line no change added:
// a data protection officer's hunt (twenty-sixth session) gave an analyst
// victims' shelters that way, `audit verify` OK. The history is not
// hash-chained, so someone who writes both tables by hand is not caught
// here; the changes made through changePolicy are in the trail too.
type Drift struct {
	Unexplained, Missing []policies.Line
}

// None reports whether the policy in force is the one its history makes.
func (d Drift) None() bool { return len(d.Unexplained) == 0 && len(d.Missing) == 0 }

// UnexplainedLines and MissingLines are the lines as lists of their fields,
// as GraphQL gives a policy line (policyDrift).
func (d Drift) UnexplainedLines() [][]string { return linesAsLists(d.Unexplained) }

// MissingLines: see UnexplainedLines.
func (d Drift) MissingLines() [][]string { return linesAsLists(d.Missing) }

func linesAsLists(lines []policies.Line) [][]string {
	out := make([][]string, len(lines))
	for i, l := range lines {
		out[i] = l
	}
	return out
}

// PolicyDrift compares the lines in force with those the history makes,
// replaying its changes from none in the order they were made. The two
// are read in two statements; a change committed between them (it adds a
// history entry with its lines) is seen as the history being longer than
// the version the lines were read at, and the reading is taken again.
func PolicyDrift(ctx context.Context, client *ent.Client) (Drift, error) {
	sys := viewer.SystemContext(ctx)
	for range 5 {
		history, err := client.PolicyChange.Query().Order(ent.Asc(policychange.FieldID)).
			Select(policychange.FieldAdded, policychange.FieldRemoved).All(sys)
		if err != nil {
			return Drift{}, err
		}
		inForce, err := PolicyIn(ctx, client)
		if err != nil {
			return Drift{}, err
		}
		if inForce.Version != len(history) {
			continue // a change between the two readings
		}
		made := map[string]policies.Line{}
		for _, c := range history {
			for _, l := range c.Removed {
				delete(made, policies.Line(l).String())
			}
			for _, l := range c.Added {
				made[policies.Line(l).String()] = l
			}
		}
		var d Drift
		for _, l := range inForce.Lines {
			if _, ok := made[l.String()]; ok {
				delete(made, l.String())
			} else {
				d.Unexplained = append(d.Unexplained, l)
			}
		}
		for _, l := range made {
			d.Missing = append(d.Missing, l)
		}
		slices.SortFunc(d.Missing, func(a, b policies.Line) int { return strings.Compare(a.String(), b.String()) })
		return d, nil
	}
	return Drift{}, fmt.Errorf("the policy kept changing while it was compared with its history; try again")
}
