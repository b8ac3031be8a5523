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

// adapter is a casbin adapter over the policy_rules table (ent's
// PolicyRule). On load it adds, in memory only, the grouping of each
// sensitive field under its category ("g, Victim.legalName,
// Victim:IDENTITY"), which comes from the ent schema and is never stored.
// Changes go through policytools.Change (Store), which writes rows itself; the
// auto-save methods refuse, so nothing writes behind its back.
type adapter struct {
	client *ent.Client
	fields map[string]string
}

var errReadOnly = errors.New("policy changes go through policytools.Change")

func (a *adapter) rules(ctx context.Context) ([]policies.Line, error) {
	rows, err := a.client.PolicyRule.Query().
		Order(ent.Asc(policyrule.FieldID)).All(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	out := make([]policies.Line, 0, len(rows))
	for _, r := range rows {
		out = append(out, line(r.Ptype, r.V0, r.V1, r.V2, r.V3, r.V4, r.V5))
	}
	return out, nil
}

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

// LoadPolicy implements persist.Adapter.
func (a *adapter) LoadPolicy(m model.Model) error {
	lines, err := a.rules(context.Background())
	if err != nil {
		return err
	}
	return loadLines(m, lines, a.fields)
}

// loadLines loads lines into m, with the grouping of each sensitive field
// under its category (fields: field → category object).
func loadLines(m model.Model, lines []policies.Line, fields map[string]string) error {
	for _, l := range lines {
		if err := persist.LoadPolicyArray(l, m); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if err := persist.LoadPolicyArray([]string{policies.PtypeG, f, fields[f]}, m); err != nil {
			return err
		}
	}
	return nil
}

// memoryAdapter loads a policy held in memory, not the one in force: what
// WhatIf asks about. Like adapter, it refuses every write.
type memoryAdapter struct {
	adapter
	lines []policies.Line
}

// LoadPolicy implements persist.Adapter.
func (a *memoryAdapter) LoadPolicy(m model.Model) error { return loadLines(m, a.lines, a.fields) }

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
