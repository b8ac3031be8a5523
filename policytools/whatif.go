package policytools

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/policies"
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
// It refuses what Change refuses, with the same check (nextPolicy).
//
// What-ifs take one of the slots of policies built in memory
// (authz.InMemorySlot), one per CPU, each waiting until ctx is done: over
// a large policy the two matrices take seconds of CPU, and more at once
// than there are CPUs only slow every request down. The slots are shared
// with the policy tools' answers of an older version (authz.Enforcer.At).
// The change is checked before a slot is waited for: the check builds no
// policy, and a change it refuses is refused (BAD_USER_INPUT) on a busy
// server too, not answered UNAVAILABLE at its deadline (until 2026-12-07,
// twenty-second session, it was checked inside the slot).
func WhatIf(ctx context.Context, e *authz.Enforcer, add, remove []policies.Line) ([]CellChange, error) {
	current, err := e.Lines(ctx)
	if err != nil {
		return nil, err
	}
	return WhatIfFrom(ctx, e.Vocabulary(), current, add, remove)
}

// WhatIfFrom is WhatIf of a change to current, the policy's lines as the
// caller read them (a request, with their version: authz.StoredPolicy).
func WhatIfFrom(ctx context.Context, vocab policies.Vocabulary, current, add, remove []policies.Line) ([]CellChange, error) {
	next, err := nextPolicy(current, add, remove, vocab)
	if err != nil {
		return nil, err
	}
	var changes []CellChange
	err = authz.InMemorySlot(ctx, func() error {
		before, err := authz.NewInMemory(current, vocab)
		if err != nil {
			return err
		}
		after, err := authz.NewInMemory(next, vocab)
		if err != nil {
			return err
		}
		touched := touchedBy(slices.Concat(add, remove))
		was, err := matrixOf(ctx, before, touched)
		if err != nil {
			return err
		}
		will, err := matrixOf(ctx, after, touched)
		if err != nil {
			return err
		}
		changes = diffMatrices(was, will)
		return nil
	})
	return changes, err
}

// MaxChangeLines is the most lines one policy change (or what-if) may add
// and remove together: about the size of the whole policy. A larger one
// took a minute of CPU to check (the matrix is rebuilt over it).
const MaxChangeLines = 500

// maxProblemsTold is how many of an invalid change's problems its answer
// lists (the rest are counted): enough to mend a typo or two, while the
// answer to a change of 500 bad lines stays small.
const maxProblemsTold = 20

// nextPolicy is the policy current becomes when add is added and remove
// removed, checked as a whole. It refuses, with BAD_USER_INPUT, an empty
// change, removing a line not in the policy, adding a line already in it
// (unless it is also removed), and a change that leaves an invalid policy.
// Change and WhatIf both ask it, so what-if answers whether a change
// would go through.
func nextPolicy(current, add, remove []policies.Line, vocab policies.Vocabulary) ([]policies.Line, error) {
	if len(add)+len(remove) == 0 {
		return nil, apperr.InvalidField("add", "The change adds and removes nothing.")
	}
	// Checking a change rebuilds the matrix over the whole next policy:
	// a change is bounded like the policy it changes.
	if n := len(add) + len(remove); n > MaxChangeLines {
		return nil, &apperr.Error{Code: apperr.BadUserInput, Field: "add", Details: map[string]any{"maximum": MaxChangeLines},
			Message: fmt.Sprintf("A change adds and removes at most %d lines; this one has %d: make it in parts.", MaxChangeLines, n)}
	}
	key := func(l policies.Line) string { return strings.Join(l, "\x00") } // no line holds a control character
	inCurrent, removed := map[string]bool{}, map[string]bool{}
	for _, l := range current {
		inCurrent[key(l)] = true
	}
	for _, l := range remove {
		if removed[key(l)] {
			return nil, apperr.InvalidField("remove", "%q is named twice: name each line once.", l.String())
		}
		if !inCurrent[key(l)] {
			return nil, apperr.InvalidField("remove", "%q is not in the policy.", l.String())
		}
		removed[key(l)] = true
	}
	next := slices.DeleteFunc(slices.Clone(current), func(l policies.Line) bool { return removed[key(l)] })
	inNext := map[string]bool{}
	for _, l := range next {
		inNext[key(l)] = true
	}
	added := map[string]bool{}
	for _, l := range add {
		switch {
		case added[key(l)]:
			return nil, apperr.InvalidField("add", "%q is named twice: name each line once.", l.String())
		case inNext[key(l)]:
			return nil, apperr.InvalidField("add", "%q is already in the policy.", l.String())
		}
		added[key(l)] = true
		inNext[key(l)] = true
		next = append(next, l)
	}
	if err := policies.Validate(next, vocab); err != nil {
		message := err.Error()
		if invalid, ok := errors.AsType[*policies.InvalidPolicyError](err); ok {
			message = invalid.Summary(maxProblemsTold)
		}
		// The change made the policy invalid: named by what it adds, or
		// by what it removes when it adds nothing (a guardian's line
		// removed was refused on add, which the change did not send).
		field := "add"
		if len(add) == 0 {
			field = "remove"
		}
		return nil, apperr.InvalidField(field, "%s", message)
	}
	return next, nil
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

// value is a cell as CellChange writes it: "denied", the row level, the
// conditions of a field read ("on_case, proceedings"), the statistics
// threshold ("k = 5"), a role's consent purposes ("SERVICES,
// CRIMINAL_PROCEEDINGS"), or "allowed".
func (m Matrix) value(c Cell) string {
	switch sec := m.section(c.Object); {
	case !c.Allowed:
		return "denied"
	case sec == 0 || sec == 1 && c.Action == policies.Read || c.Object == policies.ConsentObject:
		return strings.Join(c.Conditions, ", ")
	case c.Object == policies.Statistics && c.Action == policies.Threshold:
		return "k = " + c.Conditions[0]
	}
	return "allowed"
}

// diffMatrices lists the cells whose value differs between before and
// after, which cover the same cells (same vocabulary), in before's order.
func diffMatrices(before, after Matrix) []CellChange {
	var out []CellChange
	for _, b := range before.Cells {
		a := after.cell(b.Role, b.Kind, b.Object, b.Action)
		if bv, av := before.value(b), after.value(a); bv != av {
			out = append(out, CellChange{Role: b.Role, Kind: b.Kind, Object: b.Object, Action: b.Action, Before: bv, After: av})
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
