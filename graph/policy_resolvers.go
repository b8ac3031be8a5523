package graph

import (
	"context"
	"errors"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/policytools"
)

// accessMatrix is the matrix of the policy in force, computed once for
// its Markdown, CSV and cells.
func (r *Resolver) accessMatrix(ctx context.Context) (*policytools.Matrix, error) {
	m := policytools.MatrixOf(r.enforcer)
	return &m, nil
}

func (r *Resolver) explainAccess(ctx context.Context, q AccessQuestion) (*policytools.Explanation, error) {
	x, err := policytools.Explain(r.enforcer, policytools.Question{Roles: q.Roles, Kind: q.AgencyKind,
		Field: valueOr(q.Field, ""), Mutation: valueOr(q.Mutation, ""), Object: valueOr(q.Object, ""), Action: valueOr(q.Action, "")})
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

func (r *Resolver) policyWhatIf(ctx context.Context, add, remove [][]string) ([]*policytools.CellChange, error) {
	addLines, removeLines, err := policytools.ParseLines(add, remove)
	if err != nil {
		return nil, err
	}
	changes, err := policytools.WhatIf(ctx, r.enforcer, addLines, removeLines)
	out := make([]*policytools.CellChange, len(changes))
	for i := range changes {
		out[i] = &changes[i]
	}
	return out, err
}

func (r *Resolver) policyChanges(ctx context.Context, first *int) ([]*authz.PolicyChangeMade, error) {
	limit, err := pageSize(first)
	if err != nil || limit == 0 {
		// ent's Limit(0) is no limit at all: first: 0 listed every change.
		return nil, err
	}
	return authz.History(ctx, r.client, limit)
}
