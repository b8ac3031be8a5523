package policytools

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// CellChange is one cell of the Matrix that a policy change would change.
// Object is a field, "Mutation.name", "rows:cases", "rows:victims" or a
// power's object. Before and After read "denied", "allowed", a row level
// ("assigned") or, for a field read, its conditions ("on_case,
// proceedings").
type CellChange struct {
	Role          viewer.Role
	Kind          domain.AgencyKind
	Object        string
	Action        string
	Before, After string
}

// WhatIf reports the cells of the Matrix that adding add and removing
// remove would change, in matrix order (by role, then kind, then rows,
// fields, mutations and powers). It changes nothing: both matrices come
// from enforcers over the lines in memory, so neither the database nor the
// enforcer in force is touched, and the diff shows this change alone even
// if another server changed the policy since e last reloaded.
//
// It refuses what Change would refuse, with BAD_USER_INPUT: an empty
// change, removing a line not in the policy, adding a line already in it
// (unless it is also removed), and a change that leaves an invalid policy.
func WhatIf(ctx context.Context, e *authz.Enforcer, add, remove []policies.Line) ([]CellChange, error) {
	if len(add)+len(remove) == 0 {
		return nil, apperr.InvalidField("add", "The change adds and removes nothing.")
	}
	current, err := e.Lines(ctx)
	if err != nil {
		return nil, err
	}
	has := func(ls []policies.Line, l policies.Line) bool {
		return slices.ContainsFunc(ls, func(c policies.Line) bool { return slices.Equal(c, l) })
	}
	for _, l := range remove {
		if !has(current, l) {
			return nil, apperr.InvalidField("remove", "%q is not in the policy.", l.String())
		}
	}
	next := applyLines(current, nil, remove)
	for _, l := range add {
		if has(next, l) {
			return nil, apperr.InvalidField("add", "%q is already in the policy.", l.String())
		}
		next = append(next, l)
	}
	if err := policies.Validate(next, e.Vocabulary()); err != nil {
		return nil, apperr.InvalidField("add", "%s", err.Error())
	}
	before, err := authz.NewInMemory(current, e.Vocabulary())
	if err != nil {
		return nil, err
	}
	after, err := authz.NewInMemory(next, e.Vocabulary())
	if err != nil {
		return nil, err
	}
	touched := touchedBy(slices.Concat(add, remove))
	return diffMatrices(matrixOf(before, touched), matrixOf(after, touched)), nil
}

// touchedBy reports the cells lines can change: the model's matcher lets
// a p line decide only for its own role, and a g2 line only at its own
// kind (Validate refuses families of families, so a g2 line reaches no
// further).
func touchedBy(lines []policies.Line) func(viewer.Role, domain.AgencyKind) bool {
	roles := map[viewer.Role]bool{}
	kinds := map[domain.AgencyKind]bool{}
	for _, l := range lines {
		switch {
		case len(l) > 1 && l[0] == policies.PtypeP:
			roles[viewer.Role(l[1])] = true
		case len(l) > 1 && l[0] == policies.PtypeG2:
			kinds[domain.AgencyKind(l[1])] = true
		}
	}
	return func(r viewer.Role, k domain.AgencyKind) bool { return roles[r] || kinds[k] }
}

// matrixCell is one cell of a matrix, its value as CellChange writes it.
type matrixCell struct {
	role           viewer.Role
	kind           domain.AgencyKind
	object, action string
	value          string
}

// cells lists every cell of m, grouped by role and kind in the matrix's
// order, and within a group rows, fields (read, write), mutations, powers.
func (m Matrix) cells() []matrixCell {
	var out []matrixCell
	add := func(role viewer.Role, kind domain.AgencyKind, obj, act, value string) {
		out = append(out, matrixCell{role, kind, obj, act, value})
	}
	level := func(l rowscope.Level) string {
		if l == rowscope.None {
			return "denied"
		}
		return l.Name()
	}
	allowed := func(ok bool) string {
		if ok {
			return "allowed"
		}
		return "denied"
	}
	for _, r := range m.Rows {
		add(r.Role, r.Kind, policies.RowsCases, policies.See, level(r.Cases))
		add(r.Role, r.Kind, policies.RowsVictims, policies.See, level(r.Victims))
	}
	for _, f := range m.Fields {
		read := "denied"
		if len(f.Read) > 0 {
			read = strings.Join(f.Read, ", ")
		}
		add(f.Role, f.Kind, f.Field, policies.Read, read)
		add(f.Role, f.Kind, f.Field, policies.Write, allowed(f.Write))
	}
	for _, mu := range m.Mutations {
		add(mu.Role, mu.Kind, policies.MutationObject(mu.Mutation), policies.Call, allowed(mu.Allowed))
	}
	for _, p := range m.Powers {
		add(p.Role, p.Kind, p.Object, p.Action, allowed(p.Allowed))
	}
	kinds := agencyKinds()
	slices.SortStableFunc(out, func(a, b matrixCell) int {
		if d := slices.Index(viewer.Roles, a.role) - slices.Index(viewer.Roles, b.role); d != 0 {
			return d
		}
		return slices.Index(kinds, a.kind) - slices.Index(kinds, b.kind)
	})
	return out
}

// diffMatrices lists the cells whose value differs between before and
// after, which cover the same cells (same vocabulary).
func diffMatrices(before, after Matrix) []CellChange {
	type key struct {
		role           viewer.Role
		kind           domain.AgencyKind
		object, action string
	}
	next := map[key]string{}
	for _, c := range after.cells() {
		next[key{c.role, c.kind, c.object, c.action}] = c.value
	}
	var out []CellChange
	for _, c := range before.cells() {
		if v := next[key{c.role, c.kind, c.object, c.action}]; v != c.value {
			out = append(out, CellChange{Role: c.role, Kind: c.kind, Object: c.object, Action: c.action, Before: c.value, After: v})
		}
	}
	return out
}

// RenderChanges writes changes as a plain-text table for people, or says
// that nothing changes.
func RenderChanges(changes []CellChange) string {
	if len(changes) == 0 {
		return "No cell of the matrix changes.\n"
	}
	var b strings.Builder
	noun := "cells change"
	if len(changes) == 1 {
		noun = "cell changes"
	}
	fmt.Fprintf(&b, "%d %s:\n\n", len(changes), noun)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tKIND\tOBJECT\tACTION\tBEFORE\tAFTER")
	for _, c := range changes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Role, c.Kind, c.Object, c.Action, c.Before, c.After)
	}
	_ = tw.Flush()
	return b.String()
}
