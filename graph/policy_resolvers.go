package graph

import (
	"bytes"
	"context"
	"encoding/csv"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/policychange"
	"github.com/casegraph/casegraph/viewer"
)

// accessMatrix renders the matrix of the policy in force three ways, all
// from one computation.
func (r *Resolver) accessMatrix(ctx context.Context) (*AccessMatrix, error) {
	m := r.enforcer.Matrix()
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

func (r *Resolver) explainAccess(ctx context.Context, q AccessQuestion) (*authz.Explanation, error) {
	x, err := r.enforcer.Explain(authz.Question{Roles: q.Roles, Kind: q.AgencyKind,
		Field: valueOr(q.Field, ""), Mutation: valueOr(q.Mutation, ""), Object: valueOr(q.Object, ""), Action: valueOr(q.Action, "")})
	if err != nil {
		return nil, err
	}
	return &x, nil
}

func (r *Resolver) policyWhatIf(ctx context.Context, add, remove [][]string) ([]*authz.CellChange, error) {
	addLines, err := authz.ParseLines(add)
	if err != nil {
		return nil, err
	}
	removeLines, err := authz.ParseLines(remove)
	if err != nil {
		return nil, err
	}
	changes, err := r.enforcer.WhatIf(ctx, addLines, removeLines)
	if err != nil {
		return nil, err
	}
	out := make([]*authz.CellChange, len(changes))
	for i := range changes {
		out[i] = &changes[i]
	}
	return out, nil
}

func (r *Resolver) policyChanges(ctx context.Context, first *int) ([]*ent.PolicyChange, error) {
	limit, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	return r.client.PolicyChange.Query().Order(ent.Desc(policychange.FieldAt), ent.Desc(policychange.FieldID)).
		Limit(limit).All(viewer.SystemContext(ctx))
}
