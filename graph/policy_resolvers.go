package graph

import (
	"bytes"
	"context"
	"encoding/csv"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/policychange"
	"github.com/casegraph/casegraph/policytools"
	"github.com/casegraph/casegraph/viewer"
)

// mayReadPolicy refuses callers the policy does not let read it.
func mayReadPolicy(ctx context.Context) error {
	if req := authz.FromContext(ctx); req == nil || !req.CanReadPolicy() {
		return apperr.Errorf(apperr.Forbidden, "Your role may not read the access policy.")
	}
	return nil
}

// accessMatrix renders the matrix of the policy in force three ways, all
// from one computation.
func (r *Resolver) accessMatrix(ctx context.Context) (*AccessMatrix, error) {
	if err := mayReadPolicy(ctx); err != nil {
		return nil, err
	}
	m := policytools.MatrixOf(r.enforcer)
	var buf bytes.Buffer
	if err := m.CSV(&buf); err != nil {
		return nil, err
	}
	records, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		return nil, err
	}
	out := &AccessMatrix{Markdown: m.Markdown(), CSV: buf.String()}
	for _, rec := range records[1:] { // after the header
		c := &AccessCell{Role: viewer.Role(rec[0]), Kind: domain.AgencyKind(rec[1]), Object: rec[2], Action: rec[3], Allowed: rec[4] == "true"}
		if rec[5] != "" {
			c.Condition = &rec[5]
		}
		out.Cells = append(out.Cells, c)
	}
	return out, nil
}

func (r *Resolver) explainAccess(ctx context.Context, q AccessQuestion) (*policytools.Explanation, error) {
	if err := mayReadPolicy(ctx); err != nil {
		return nil, err
	}
	x, err := policytools.Explain(r.enforcer, policytools.Question{Roles: q.Roles, Kind: q.AgencyKind,
		Field: valueOr(q.Field, ""), Mutation: valueOr(q.Mutation, ""), Object: valueOr(q.Object, ""), Action: valueOr(q.Action, "")})
	if err != nil {
		return nil, err
	}
	return &x, nil
}

func (r *Resolver) policyWhatIf(ctx context.Context, add, remove [][]string) ([]*policytools.CellChange, error) {
	if err := mayReadPolicy(ctx); err != nil {
		return nil, err
	}
	addLines, err := policytools.ParseLines(add)
	if err != nil {
		return nil, err
	}
	removeLines, err := policytools.ParseLines(remove)
	if err != nil {
		return nil, err
	}
	changes, err := policytools.WhatIf(ctx, r.enforcer, addLines, removeLines)
	if err != nil {
		return nil, err
	}
	out := make([]*policytools.CellChange, len(changes))
	for i := range changes {
		out[i] = &changes[i]
	}
	return out, nil
}

func (r *Resolver) policyChanges(ctx context.Context, first *int) ([]*ent.PolicyChange, error) {
	if err := mayReadPolicy(ctx); err != nil {
		return nil, err
	}
	limit, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	return r.client.PolicyChange.Query().Order(ent.Desc(policychange.FieldAt), ent.Desc(policychange.FieldID)).
		Limit(limit).All(viewer.SystemContext(ctx))
}
