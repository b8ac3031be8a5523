// Package viewer carries the authenticated principal of a request through its
// context. Only the HTTP authentication middleware (and explicit system work,
// such as migrations and seeding) puts a principal or a system marker there;
// everything below reads it.
package viewer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/casegraph/casegraph/internal/ctxvalue"
)

// Role is one of the roles a person can hold at an agency (docs/domain.md).
type Role string

// The roles of docs/domain.md.
const (
	RoleInvestigator Role = "investigator"
	RoleProsecutor   Role = "prosecutor"
	RoleJudge        Role = "judge"
	RoleCaseWorker   Role = "case_worker"
	RoleCoordinator  Role = "coordinator"
	RoleAnalyst      Role = "analyst"
	RoleDPO          Role = "dpo"
	RoleAdmin        Role = "admin"
)

// Roles lists every known role, in a stable order.
var Roles = []Role{RoleInvestigator, RoleProsecutor, RoleJudge, RoleCaseWorker, RoleCoordinator, RoleAnalyst, RoleDPO, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Principal is the caller of a request: a person (the token's subject) acting
// for one agency with one or more roles.
type Principal struct {
	Subject    string
	AgencyCode string
	// AgencyID is the database id of the agency named by AgencyCode, resolved
	// once by the authentication middleware.
	AgencyID int
	Roles    []Role
}

// Key names the principal in maps of what each caller is given (its cost
// budget, its share of the room to run): its agency and subject, which
// together name one caller. NUL cannot occur in a token's claims, so no
// two principals share a key. Nil (no principal) has the key "".
func (p *Principal) Key() string {
	if p == nil {
		return ""
	}
	return p.AgencyCode + "\x00" + p.Subject
}

// HasRole reports whether the principal holds role r.
func (p *Principal) HasRole(r Role) bool { return p != nil && slices.Contains(p.Roles, r) }

var principalKey = &ctxvalue.Key[*Principal]{}

type systemKey struct{}

// NewContext returns a copy of ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context { return principalKey.With(ctx, p) }

// FromContext returns the principal of ctx, or nil when there is none.
func FromContext(ctx context.Context) *Principal { return principalKey.From(ctx) }

// SystemContext marks ctx as system work (migration, seeding, the
// authentication middleware's own look-ups) that is not done on behalf of a
// principal. It is the one greppable bypass of row rules.
func SystemContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, systemKey{}, true)
}

// IsSystem reports whether ctx was marked by SystemContext.
func IsSystem(ctx context.Context) bool {
	v, _ := ctx.Value(systemKey{}).(bool)
	return v
}

// MarshalGQL writes r as a GraphQL enum value.
func (r Role) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL reads a GraphQL enum value into r.
func (r *Role) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !Role(s).Valid() {
		return fmt.Errorf("%v is not a valid role", v)
	}
	*r = Role(s)
	return nil
}
