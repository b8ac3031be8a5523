package rowscope

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	gen "github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/ent/caseevent"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/casevictim"
	"github.com/casegraph/casegraph/ent/charge"
	"github.com/casegraph/casegraph/ent/consent"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/emergencygrant"
	"github.com/casegraph/casegraph/ent/idempotencyrecord"
	"github.com/casegraph/casegraph/ent/intercept"
	"github.com/casegraph/casegraph/ent/policychange"
	"github.com/casegraph/casegraph/ent/policyrule"
	"github.com/casegraph/casegraph/ent/privacy"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/prosecutiondefendant"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/ent/supportservice"
	"github.com/casegraph/casegraph/ent/suspect"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/viewer"
)

// entity is one row of the table of row access: an ent entity and which of
// its rows a request may see and change.
type entity struct {
	typ   string // ent's name of the type (gen.TypeCaseFile)
	table string
	// record is the GraphQL name of a record an agency works on (see
	// WorkedOnBy and TypeOfID); "" for every other entity.
	record string
	// rows returns the predicate of the rows a scope may see, update and
	// delete, or nil for all of them. Nil rows: system work only, which is
	// also what an entity the table does not name gets.
	rows func(*Scope) func(*sql.Selector)
	// appendOnly refuses updates and deletes to everyone, system work
	// included.
	appendOnly bool
}

// entities is the table of row access, one row an entity. A new entity is
// denied to every principal until it has a row here (TestEverySchemaHasTheRowScope
// and TestEveryTableHasARow fail until then). The records an agency works on come first, in the
// order WorkedOnBy lists them.
var entities = []entity{
	{typ: gen.TypeCaseFile, table: casefile.Table, record: "Case", rows: caseRows},
	{typ: gen.TypeVictim, table: victim.Table, record: "Victim", rows: victimRows},
	{typ: gen.TypeSuspect, table: suspect.Table, record: "Suspect", rows: through(caseRows, suspect.HasCaseWith)},
	{typ: gen.TypeCaseAssignment, table: caseassignment.Table, record: "CaseAssignment", rows: through(caseRows, caseassignment.HasCaseWith)},
	{typ: gen.TypeCaseEvent, table: caseevent.Table, record: "CaseEvent", rows: caseEventRows},
	{typ: gen.TypeProsecution, table: prosecution.Table, record: "Prosecution", rows: prosecutionRows},
	{typ: gen.TypeCharge, table: charge.Table, record: "Charge", rows: through(prosecutionRows, charge.HasProsecutionWith)},
	{typ: gen.TypeCourtDecision, table: courtdecision.Table, record: "CourtDecision",
		rows: throughOrOwn(prosecutionRows, casesLevel, courtdecision.HasProsecutionWith, courtdecision.CourtID)},
	{typ: gen.TypeReferral, table: referral.Table, record: "Referral", rows: referralRows},
	{typ: gen.TypeSupportService, table: supportservice.Table, record: "SupportService", rows: supportRows},
	{typ: gen.TypeConsent, table: consent.Table, record: "Consent", rows: consentRows},

	// Links between records: seen through what they link.
	{typ: gen.TypeCaseVictim, table: casevictim.Table, rows: through(caseRows, casevictim.HasCaseWith)},
	{typ: gen.TypeProsecutionDefendant, table: prosecutiondefendant.Table, rows: through(prosecutionRows, prosecutiondefendant.HasProsecutionWith)},

	// Records of people's access rather than of casework.
	{typ: gen.TypeEmergencyGrant, table: emergencygrant.Table, rows: grantRows},

	// The agency registry and internal bookkeeping: every principal.
	{typ: gen.TypeAgency, table: agency.Table, rows: everyRow},
	{typ: gen.TypeIdempotencyRecord, table: idempotencyrecord.Table, rows: everyRow},

	// The access policy and its history: system work only.
	{typ: gen.TypePolicyRule, table: policyrule.Table},
	{typ: gen.TypePolicyChange, table: policychange.Table},

	// The audit trail: written by system work, never changed.
	{typ: gen.TypeAuditEvent, table: auditevent.Table, appendOnly: true},
}

// entityOf returns the table's row of the ent type typ; ok is false for a
// type the table does not name.
func entityOf(typ string) (e entity, ok bool) {
	for _, e := range entities {
		if e.typ == typ {
			return e, true
		}
	}
	return entity{typ: typ}, false
}

// Policy is the privacy policy of every entity, attached by the schema's
// mixin (ent/schema/mixin.go): system work passes, a request without a
// scope gets nothing, and every other request sees, updates and deletes
// only the rows its scope allows by the table above. Creates are not
// narrowed: what a new record refers to is looked up through the same
// rules first.
func Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{privacy.QueryRuleFunc(func(ctx context.Context, q ent.Query) error {
			gq, err := intercept.NewQuery(q)
			if err != nil {
				return privacy.Denyf("row scope: %v", err)
			}
			return decide(ctx, gq.Type(), nil, gq.WhereP)
		})},
		Mutation: privacy.MutationPolicy{privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
			wm, ok := m.(interface{ WhereP(...func(*sql.Selector)) })
			if !ok {
				return privacy.Denyf("row scope: %T cannot be narrowed", m)
			}
			return decide(ctx, m.Type(), m, wm.WhereP)
		})},
	}
}

// decide is the one rule: for a query (m nil) or a mutation of the ent type
// typ, it allows, denies, or narrows the statement through where to the
// rows the context's scope may touch.
func decide(ctx context.Context, typ string, m ent.Mutation, where func(...func(*sql.Selector))) error {
	e, named := entityOf(typ)
	if e.appendOnly && m != nil && !m.Op().Is(ent.OpCreate) {
		return privacy.Denyf("%s is append-only", typ)
	}
	if viewer.IsSystem(ctx) {
		return privacy.Allow
	}
	if !named {
		return privacy.Denyf("%s has no row in the row scope's table: system work only", typ)
	}
	if e.rows == nil {
		return privacy.Denyf("system work only")
	}
	s := FromContext(ctx)
	if s == nil {
		return privacy.Denyf("no principal and no row scope")
	}
	if m != nil && !narrows(m.Op()) {
		return privacy.Allow
	}
	if rowsOf(s, e) == nil {
		return privacy.Allow
	}
	if p := rowsOf(s, e); p != nil {
		where(p)
	}
	return privacy.Allow
}

// SeesEveryRow reports whether a query of the ent type typ (gen.TypeVictim,
// ...) under ctx's scope is narrowed by nothing: the scope's predicate for
// it is none, exactly as the policy above decides. Callers who see every
// row of a table read the same rows, so what they read can be shared
// between them (statistics.Cache). False for system work (not a scope)
// and for a type the table does not name.
func SeesEveryRow(ctx context.Context, typ string) bool {
	e, named := entityOf(typ)
	s := FromContext(ctx)
	if !named || e.rows == nil || s == nil || viewer.IsSystem(ctx) {
		return false
	}
	return rowsOf(s, e) == nil
}

// rowsOf is the predicate of the rows of e that s may see, or nil for all:
// the one place a scope becomes SQL.
func rowsOf(s *Scope, e entity) func(*sql.Selector) { return e.rows(s) }

// narrows reports whether a mutation changes existing rows, which must then
// be in scope; creates are checked through the (scoped) look-ups of the
// records they refer to.
func narrows(op ent.Op) bool {
	return op.Is(ent.OpUpdate | ent.OpUpdateOne | ent.OpDelete | ent.OpDeleteOne)
}
