package authz

import (
	"context"
	"errors"
	"sort"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/policyrule"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/viewer"
)

// adapter is casbin's adapter for an enforcer: it loads lines held in
// memory, never the table, so that casbin loads exactly the lines the
// enforcer read and validated (Reload), or a policy it is asked about
// (NewInMemory). It read the table itself until 2026-12-07 (twentieth
// session), a second read after the one validated, and a change committed
// between the two was loaded unvalidated. On load it adds, in memory
// only, the grouping of each sensitive field under its category ("g,
// Victim.legalName, Victim:IDENTITY"), which comes from the ent schema and
// is never stored. Changes go through policytools.Change (Store), which
// writes rows itself; the auto-save methods refuse, so nothing writes
// behind its back.
type adapter struct {
	fields map[string]string
	// lines is the policy LoadPolicy loads, once (loadPolicy: each
	// policy loaded is a casbin enforcer of its own).
	lines []policies.Line
}

var errReadOnly = errors.New("policy changes go through policytools.Change")

// line is a stored row of the policy as a line: its type and its values
// up to the first empty one.
func line(ptype string, values ...string) policies.Line {
	l := policies.Line{ptype}
	for _, v := range values {
		if v == "" {
			break
		}
		l = append(l, v)
	}
	return l
}

// LoadPolicy implements persist.Adapter: it loads a.lines, with the
// grouping of each sensitive field under its category.
func (a *adapter) LoadPolicy(m model.Model) error {
	for _, l := range a.lines {
		if err := persist.LoadPolicyArray(l, m); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(a.fields))
	for f := range a.fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if err := persist.LoadPolicyArray([]string{policies.PtypeG, f, a.fields[f]}, m); err != nil {
			return err
		}
	}
	return nil
}

// SavePolicy implements persist.Adapter; see errReadOnly.
func (a *adapter) SavePolicy(model.Model) error { return errReadOnly }

// AddPolicy implements persist.Adapter; see errReadOnly.
func (a *adapter) AddPolicy(string, string, []string) error { return errReadOnly }

// RemovePolicy implements persist.Adapter; see errReadOnly.
func (a *adapter) RemovePolicy(string, string, []string) error { return errReadOnly }

// RemoveFilteredPolicy implements persist.Adapter; see errReadOnly.
func (a *adapter) RemoveFilteredPolicy(string, string, int, ...string) error { return errReadOnly }

// createRule inserts one policy line with client (a transaction's).
func createRule(ctx context.Context, client *ent.Client, l policies.Line) error {
	vals := make([]string, 6)
	copy(vals, l[1:])
	return client.PolicyRule.Create().SetPtype(l[0]).
		SetV0(vals[0]).SetV1(vals[1]).SetV2(vals[2]).SetV3(vals[3]).SetV4(vals[4]).SetV5(vals[5]).
		Exec(viewer.SystemContext(ctx))
}

// deleteRule removes one policy line; it reports whether it was there.
func deleteRule(ctx context.Context, client *ent.Client, l policies.Line) (bool, error) {
	vals := make([]string, 6)
	copy(vals, l[1:])
	n, err := client.PolicyRule.Delete().Where(
		policyrule.Ptype(l[0]), policyrule.V0(vals[0]), policyrule.V1(vals[1]), policyrule.V2(vals[2]),
		policyrule.V3(vals[3]), policyrule.V4(vals[4]), policyrule.V5(vals[5]),
	).Exec(viewer.SystemContext(ctx))
	return n > 0, err
}
