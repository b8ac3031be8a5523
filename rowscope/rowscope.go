// Package rowscope decides which rows a request may see and change. The
// access policy (package authz) computes a Scope once per request and puts
// it in the context; Policy, the one ent privacy policy every entity gets
// from the schema's mixin, turns it into SQL predicates added to every query
// and every update and delete, so that lists, totalCount, node, edges (many
// to many included) and counts all see the same rows. Which rows of which
// entity is one table (entities); an entity the table does not name gets no
// rows but for system work: deny by default. See docs/row-scope.md.
package rowscope

import (
	"context"

	"github.com/casegraph/casegraph/internal/ctxvalue"

	"github.com/casegraph/casegraph/domain"
)

// Level is how far a principal's view of rows reaches. Levels are ordered:
// each one includes the ones before it.
type Level int

// The levels, from nothing to everything.
const (
	// None: no rows at all.
	None Level = iota
	// Assigned: rows of cases the principal's agency works on (leads, is
	// assigned to, or prosecutes as the office of one of its proceedings),
	// and victims it works with (in such a case, referred to or by it, or
	// supported by it).
	Assigned
	// Region: Assigned, plus every row of the agency's region.
	Region
	// All: every row in the country.
	All
)

// Levels lists the levels from widest to narrowest, the order in which
// policy is asked.
var Levels = []Level{All, Region, Assigned}

// Name is the level's name in policy.
func (l Level) Name() string {
	switch l {
	case Assigned:
		return "assigned"
	case Region:
		return "region"
	case All:
		return "all"
	}
	return "none"
}

// Scope is what one principal may see.
type Scope struct {
	Subject  string
	AgencyID int
	// Region of the agency; nil for national bodies, for which Region
	// means Assigned.
	Region *domain.Region
	// Cases is the level for cases and what hangs off them (suspects,
	// prosecutions, charges, decisions, assignments, events).
	Cases Level
	// Victims is the level for victims and what hangs off them (referrals,
	// support services, consents).
	Victims Level
	// GrantsOfAgency lets the principal see the emergency grants of their
	// whole agency (data protection officers); others see their own.
	GrantsOfAgency bool
}

var scopeKey = &ctxvalue.Key[*Scope]{}

// NewContext returns a copy of ctx carrying s.
func NewContext(ctx context.Context, s *Scope) context.Context { return scopeKey.With(ctx, s) }

// FromContext returns the scope of ctx, or nil.
func FromContext(ctx context.Context) *Scope { return scopeKey.From(ctx) }
