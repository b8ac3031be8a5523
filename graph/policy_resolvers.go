package graph

import (
	"context"
	"errors"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/policytools"
)

// The policy tools answer of the policy as the request reads it once
// (storedPolicy), the version policyVersion answers beside them, not of
// one this server has not loaded yet (authz.Enforcer.At).

// accessMatrix is the matrix of the policy in force, computed once for
// its Markdown, CSV and cells.
func (r *queryResolver) accessMatrix(ctx context.Context) (*policytools.Matrix, error) {
	p, err := r.storedPolicy(ctx)
	if err != nil {
		return nil, err
	}
	var m policytools.Matrix
	err = r.enforcer.At(ctx, p, func(e *authz.Enforcer) error {
		var err error
		m, err = policytools.MatrixWithin(ctx, e)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func (r *queryResolver) explainAccess(ctx context.Context, q AccessQuestion) (*policytools.Explanation, error) {
	p, err := r.storedPolicy(ctx)
	if err != nil {
		return nil, err
	}
	var x policytools.Explanation
	err = r.enforcer.At(ctx, p, func(e *authz.Enforcer) error {
		var err error
		x, err = policytools.Explain(e, policytools.Question{Roles: q.Roles, Kind: q.AgencyKind,
			Field: valueOr(q.Field, ""), Mutation: valueOr(q.Mutation, ""), Object: valueOr(q.Object, ""), Action: valueOr(q.Action, "")})
		return err
	})
	if ae, ok := errors.AsType[*apperr.Error](err); ok && ae.Field != "" {
		// policytools names the question's parts as the command line does
		// (--role, --kind); the error names where they sit in the request.
		placed := *ae
		placed.Field = "question." + map[string]string{"role": "roles", "kind": "agencyKind"}[ae.Field]
		if placed.Field == "question." {
			placed.Field += ae.Field
		}
		return nil, &placed
	}
	if err != nil {
		return nil, err
	}
	return &x, nil
}

func (r *queryResolver) policyWhatIf(ctx context.Context, add, remove [][]string) ([]*policytools.CellChange, error) {
	addLines, removeLines, err := policytools.ParseLines(add, remove)
	if err != nil {
		return nil, err
	}
	p, err := r.storedPolicy(ctx)
	if err != nil {
		return nil, err
	}
	changes, err := policytools.WhatIfFrom(ctx, r.enforcer.Vocabulary(), p.Lines, addLines, removeLines)
	out := make([]*policytools.CellChange, len(changes))
	for i := range changes {
		out[i] = &changes[i]
	}
	return out, err
}

func (r *Resolver) policyChanges(ctx context.Context, first, beforeVersion *int) ([]*authz.PolicyChangeMade, error) {
	limit, err := pageSize(first)
	if err != nil || limit == 0 {
		// ent's Limit(0) is no limit at all: first: 0 listed every change.
		return nil, err
	}
	bound := 0
	if beforeVersion != nil {
		if *beforeVersion < 1 {
			return nil, apperr.InvalidField("beforeVersion", "beforeVersion is a policy version, 1 or more.")
		}
		bound = *beforeVersion
	}
	return authz.History(ctx, r.client, limit, bound)
}

// policyDrift compares the policy in force with its history, as `audit
// verify` does: two statements, those of the history and of the lines.
func (r *Resolver) policyDrift(ctx context.Context) (*authz.Drift, error) {
	d, err := authz.PolicyDrift(ctx, r.client)
	if err != nil {
		return nil, err
	}
	return &d, nil
}
