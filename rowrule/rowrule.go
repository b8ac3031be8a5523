// Package rowrule turns a request's row scope (package rowscope) into ent
// privacy policies: SQL predicates added to every query and every update of
// an entity, so that lists, totalCount, node, edges (many-to-many included)
// and counts all see the same rows. No principal and no system marker means
// no rows: deny by default.
package rowrule

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/casevictim"
	"github.com/casegraph/casegraph/ent/charge"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/emergencygrant"
	"github.com/casegraph/casegraph/ent/predicate"
	"github.com/casegraph/casegraph/ent/privacy"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/prosecutiondefendant"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/ent/supportservice"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// gate allows system work, refuses a request without a scope, and passes
// everything else on to the entity's filter.
var gate = privacy.ContextQueryMutationRule(func(ctx context.Context) error {
	if viewer.IsSystem(ctx) {
		return privacy.Allow
	}
	if rowscope.FromContext(ctx) == nil {
		return privacy.Denyf("no principal and no row scope")
	}
	return privacy.Skip
})

// narrows reports whether a mutation changes existing rows, which must then
// be in scope; creates are checked through the (scoped) look-ups of the
// records they refer to.
func narrows(op ent.Op) bool {
	return op.Is(ent.OpUpdate | ent.OpUpdateOne | ent.OpDelete | ent.OpDeleteOne)
}

// none is a predicate no row satisfies.
func none(s *sql.Selector) { s.Where(sql.False()) }

// caseAssigned: the agency leads the case, is assigned to it, or is the
// prosecution office of one of its proceedings. The agency's assignments
// and proceedings are uncorrelated subqueries on their indexed agency
// columns, computed once per query: correlated EXISTS made SQLite scan an
// agency's proceedings once per case (a second to count 2,700 cases).
func caseAssigned(agencyID int) func(*sql.Selector) {
	return func(s *sql.Selector) {
		ca := sql.Table(caseassignment.Table).As("scope_case_ca")
		pr := sql.Table(prosecution.Table).As("scope_case_pr")
		s.Where(sql.Or(
			sql.EQ(s.C(casefile.FieldLeadAgencyID), agencyID),
			sql.In(s.C(casefile.FieldID), sql.Select(ca.C(caseassignment.FieldCaseID)).From(ca).
				Where(sql.EQ(ca.C(caseassignment.FieldAgencyID), agencyID))),
			sql.In(s.C(casefile.FieldID), sql.Select(pr.C(prosecution.FieldCaseID)).From(pr).
				Where(sql.EQ(pr.C(prosecution.FieldOfficeID), agencyID))),
		))
	}
}

// casePredicate is the row predicate of cases for s, or nil for all.
func casePredicate(s *rowscope.Scope) func(*sql.Selector) {
	switch s.Cases {
	case rowscope.All:
		return nil
	case rowscope.Region:
		if s.Region != nil {
			return casefile.Or(casefile.RegionEQ(*s.Region), caseAssigned(s.AgencyID))
		}
		return caseAssigned(s.AgencyID)
	case rowscope.Assigned:
		return caseAssigned(s.AgencyID)
	}
	return none
}

// scopeOf returns the scope of ctx; the gate has made sure there is one.
func scopeOf(ctx context.Context) *rowscope.Scope { return rowscope.FromContext(ctx) }

// AllowPrincipalsPolicy lets any authenticated principal (and system work)
// read and write: for the agency registry and internal bookkeeping.
func AllowPrincipalsPolicy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{gate, privacy.AlwaysAllowRule()},
		Mutation: privacy.MutationPolicy{gate, privacy.AlwaysAllowRule()},
	}
}

// SystemOnlyPolicy allows system work only.
func SystemOnlyPolicy() ent.Policy {
	systemOnly := privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.IsSystem(ctx) {
			return privacy.Allow
		}
		return privacy.Denyf("system work only")
	})
	return privacy.Policy{
		Query:    privacy.QueryPolicy{systemOnly},
		Mutation: privacy.MutationPolicy{systemOnly},
	}
}

// viaCase narrows a row that hangs off a case to rows of visible cases.
func viaCase[P ~func(*sql.Selector)](s *rowscope.Scope, hasCaseWith func(...predicate.CaseFile) P) func(*sql.Selector) {
	cp := casePredicate(s)
	if cp == nil {
		return nil
	}
	return hasCaseWith(cp)
}

// victimInAssignedCase: the victim is in a case the agency leads, is
// assigned to, or prosecutes. Written as a correlated EXISTS over case_victims (indexed by
// victim) rather than ent's IN over every such victim, which PostgreSQL
// cannot combine well with the OR of a regional scope.
func victimInAssignedCase(agencyID int) func(*sql.Selector) {
	return func(s *sql.Selector) {
		cv := sql.Table(casevictim.Table).As("scope_cv")
		cf := sql.Table(casefile.Table).As("scope_cf")
		ca := sql.Table(caseassignment.Table).As("scope_ca")
		pr := sql.Table(prosecution.Table).As("scope_pr")
		assigned := sql.Select(ca.C(caseassignment.FieldCaseID)).From(ca).Where(sql.And(
			sql.ColumnsEQ(ca.C(caseassignment.FieldCaseID), cf.C(casefile.FieldID)),
			sql.EQ(ca.C(caseassignment.FieldAgencyID), agencyID),
		))
		prosecutes := sql.Select(pr.C(prosecution.FieldCaseID)).From(pr).Where(sql.And(
			sql.ColumnsEQ(pr.C(prosecution.FieldCaseID), cf.C(casefile.FieldID)),
			sql.EQ(pr.C(prosecution.FieldOfficeID), agencyID),
		))
		inCase := sql.Select(cv.C(casevictim.FieldCaseID)).From(cv).
			Join(cf).On(cv.C(casevictim.FieldCaseID), cf.C(casefile.FieldID)).
			Where(sql.And(
				sql.ColumnsEQ(cv.C(casevictim.FieldVictimID), s.C(victim.FieldID)),
				sql.Or(sql.EQ(cf.C(casefile.FieldLeadAgencyID), agencyID), sql.Exists(assigned), sql.Exists(prosecutes)),
			))
		s.Where(sql.Exists(inCase))
	}
}

// victimAssigned: the victim is in a case the agency works on, was
// referred to or by the agency, or is supported by it.
func victimAssigned(agencyID int) func(*sql.Selector) {
	return victim.Or(
		victimInAssignedCase(agencyID),
		victim.HasReferralsWith(referral.Or(referral.FromAgencyID(agencyID), referral.ToAgencyID(agencyID))),
		victim.HasServicesWith(supportservice.ProviderID(agencyID)),
	)
}

// victimPredicate is the row predicate of victims for s, or nil for all.
func victimPredicate(s *rowscope.Scope) func(*sql.Selector) {
	switch s.Victims {
	case rowscope.All:
		return nil
	case rowscope.Region:
		if s.Region != nil {
			return victim.Or(victim.RegionEQ(*s.Region), victimAssigned(s.AgencyID))
		}
		return victimAssigned(s.AgencyID)
	case rowscope.Assigned:
		return victimAssigned(s.AgencyID)
	}
	return none
}

// viaVictim narrows a row that hangs off a victim to rows of visible victims.
func viaVictim[P ~func(*sql.Selector)](s *rowscope.Scope, hasVictimWith func(...predicate.Victim) P) func(*sql.Selector) {
	vp := victimPredicate(s)
	if vp == nil {
		return nil
	}
	return hasVictimWith(vp)
}

func prosecutionPredicate(s *rowscope.Scope) func(*sql.Selector) {
	cp := casePredicate(s)
	if cp == nil {
		return nil
	}
	if s.Cases == rowscope.None {
		return none
	}
	return prosecution.Or(prosecution.HasCaseWith(cp), prosecution.OfficeID(s.AgencyID))
}

func prosecutionDefendantPredicate(s *rowscope.Scope) func(*sql.Selector) {
	pp := prosecutionPredicate(s)
	if pp == nil {
		return nil
	}
	return prosecutiondefendant.HasProsecutionWith(pp)
}

func chargePredicate(s *rowscope.Scope) func(*sql.Selector) {
	pp := prosecutionPredicate(s)
	if pp == nil {
		return nil
	}
	return charge.HasProsecutionWith(pp)
}

func courtDecisionPredicate(s *rowscope.Scope) func(*sql.Selector) {
	pp := prosecutionPredicate(s)
	if pp == nil {
		return nil
	}
	if s.Cases == rowscope.None {
		return none
	}
	return courtdecision.Or(courtdecision.HasProsecutionWith(pp), courtdecision.CourtID(s.AgencyID))
}

func referralPredicate(s *rowscope.Scope) func(*sql.Selector) {
	vp := victimPredicate(s)
	if vp == nil {
		return nil
	}
	if s.Victims == rowscope.None {
		return none
	}
	return referral.Or(referral.HasVictimWith(vp), referral.FromAgencyID(s.AgencyID), referral.ToAgencyID(s.AgencyID))
}

func supportPredicate(s *rowscope.Scope) func(*sql.Selector) {
	vp := victimPredicate(s)
	if vp == nil {
		return nil
	}
	if s.Victims == rowscope.None {
		return none
	}
	return supportservice.Or(supportservice.HasVictimWith(vp), supportservice.ProviderID(s.AgencyID))
}

// grantPredicate: a principal sees their own emergency grants; a data
// protection officer sees their agency's.
func grantPredicate(s *rowscope.Scope) func(*sql.Selector) {
	if s.GrantsOfAgency {
		return emergencygrant.AgencyID(s.AgencyID)
	}
	return emergencygrant.And(emergencygrant.AgencyID(s.AgencyID), emergencygrant.Subject(s.Subject))
}

// AppendOnlyPolicy lets system work read and create, and nobody update or
// delete: for the audit trail.
func AppendOnlyPolicy() ent.Policy {
	appendOnly := privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !m.Op().Is(ent.OpCreate) {
			return privacy.Denyf("the audit trail is append-only")
		}
		if viewer.IsSystem(ctx) {
			return privacy.Allow
		}
		return privacy.Denyf("system work only")
	})
	systemOnly := privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.IsSystem(ctx) {
			return privacy.Allow
		}
		return privacy.Denyf("system work only")
	})
	return privacy.Policy{
		Query:    privacy.QueryPolicy{systemOnly},
		Mutation: privacy.MutationPolicy{appendOnly},
	}
}
