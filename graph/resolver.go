// Package graph is CaseGraph's GraphQL layer: the gqlgen executor generated
// from schema.graphqls and graph/ent.graphqls, thin resolvers that hand work
// to ent and casework, the @sensitive directive, and the error presenter
// that turns every error into a stable code.
package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/policytools"
	"github.com/casegraph/casegraph/viewer"
)

// Resolver is the root resolver; it holds what every resolver needs.
type Resolver struct {
	client   *ent.Client
	enforcer *authz.Enforcer
	// verifications lets concurrent verifications of the audit trail
	// share one walk of it.
	verifications audit.Verifier
}

// pageSize is the page a list resolver was asked for. The request limits
// (package cost) checked every page size and gave every list asked for
// without one the default page, before any resolver ran: nil means they
// did not run, a fault of the handler's assembly.
func pageSize(first *int) (int, error) {
	if first == nil {
		return 0, errors.New("no page size: the request limits did not run")
	}
	return *first, nil
}

func (r *queryResolver) viewer(ctx context.Context) (*Viewer, error) {
	p := viewer.FromContext(ctx)
	if p == nil {
		return nil, apperr.Errorf(apperr.Unauthenticated, "No caller.")
	}
	a, err := r.client.Agency.Get(ctx, p.AgencyID)
	if err != nil {
		return nil, err
	}
	return &Viewer{Subject: p.Subject, Agency: a, Roles: p.Roles}, nil
}

// node resolves a global id. An id that names nothing is null with a
// NOT_FOUND error, the same answer whatever the id looks like.
func (r *queryResolver) node(ctx context.Context, id int) (ent.Noder, error) {
	n, err := r.client.Noder(ctx, id)
	if ent.IsNotFound(err) {
		// The words of every NOT_FOUND of a record, nodes(ids:)'s too.
		return nil, apperr.RecordNotFound()
	}
	return n, err
}

// nodes resolves global ids in order; an id that names nothing is null with
// a NOT_FOUND error on its index.
func (r *queryResolver) nodes(ctx context.Context, ids []int) ([]ent.Noder, error) {
	if len(ids) == 1 {
		n, err := r.node(ctx, ids[0])
		if err != nil {
			graphql.AddError(graphql.WithPathContext(ctx, graphql.NewPathWithIndex(0)), err)
		}
		return []ent.Noder{n}, nil
	}
	return r.client.Noders(ctx, ids)
}

func valueOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// changePolicy applies a policy change through the enforcer.
func (r *mutationResolver) changePolicy(ctx context.Context, req policytools.ChangeRequest) (*PolicyChangeResult, error) {
	if r.enforcer == nil {
		return nil, apperr.Errorf(apperr.Unavailable, "This server has no access policy to change.")
	}
	made, err := policytools.Change(ctx, r.enforcer, ent.FromContext(ctx), req)
	if err != nil {
		return nil, err
	}
	return &PolicyChangeResult{Added: made.Added, Removed: made.Removed, PolicyVersion: made.Version}, nil
}

// storedPolicy is the policy as stored, read once a request
// (authz.Request.StoredPolicy), so that policyLines and policyVersion
// agree.
func (r *queryResolver) storedPolicy(ctx context.Context) (authz.StoredPolicy, error) {
	if req := authz.FromContext(ctx); req != nil {
		return req.StoredPolicy(ctx)
	}
	return authz.PolicyIn(ctx, r.client)
}

// policyLines lists the policy in force for those @allowed to read it.
func (r *queryResolver) policyLines(ctx context.Context) ([][]string, error) {
	p, err := r.storedPolicy(ctx)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(p.Lines))
	for i, l := range p.Lines {
		out[i] = []string(l)
	}
	return out, nil
}

// policyVersion is the version of the policy in force, that of the lines
// policyLines lists in the same request.
func (r *queryResolver) policyVersion(ctx context.Context) (int, error) {
	p, err := r.storedPolicy(ctx)
	return p.Version, err
}
