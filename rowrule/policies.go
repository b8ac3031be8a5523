package rowrule

// Code below is one policy an entity, each the same shape: the gate, then
// the entity's row predicate on queries and on updates and deletes.

import (
	"context"

	"entgo.io/ent"

	gen "github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/ent/caseevent"
	"github.com/casegraph/casegraph/ent/casevictim"
	"github.com/casegraph/casegraph/ent/consent"
	"github.com/casegraph/casegraph/ent/predicate"
	"github.com/casegraph/casegraph/ent/privacy"
	"github.com/casegraph/casegraph/ent/suspect"
)

// CaseFilePolicy limits cases to the request's scope.
func CaseFilePolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.CaseFileQueryRuleFunc(func(ctx context.Context, q *gen.CaseFileQuery) error {
			if p := casePredicate(scopeOf(ctx)); p != nil {
				q.Where(predicate.CaseFile(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.CaseFileMutationRuleFunc(func(ctx context.Context, m *gen.CaseFileMutation) error {
			if p := casePredicate(scopeOf(ctx)); p != nil && narrows(m.Op()) {
				m.Where(predicate.CaseFile(p))
			}
			return privacy.Allow
		})},
	}
}

// CaseAssignmentPolicy limits the assignments of visible cases to the request's scope.
func CaseAssignmentPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.CaseAssignmentQueryRuleFunc(func(ctx context.Context, q *gen.CaseAssignmentQuery) error {
			if p := viaCase(scopeOf(ctx), caseassignment.HasCaseWith); p != nil {
				q.Where(predicate.CaseAssignment(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.CaseAssignmentMutationRuleFunc(func(ctx context.Context, m *gen.CaseAssignmentMutation) error {
			if p := viaCase(scopeOf(ctx), caseassignment.HasCaseWith); p != nil && narrows(m.Op()) {
				m.Where(predicate.CaseAssignment(p))
			}
			return privacy.Allow
		})},
	}
}

// CaseEventPolicy limits the timeline of visible cases to the request's scope.
func CaseEventPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.CaseEventQueryRuleFunc(func(ctx context.Context, q *gen.CaseEventQuery) error {
			if p := viaCase(scopeOf(ctx), caseevent.HasCaseWith); p != nil {
				q.Where(predicate.CaseEvent(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.CaseEventMutationRuleFunc(func(ctx context.Context, m *gen.CaseEventMutation) error {
			if p := viaCase(scopeOf(ctx), caseevent.HasCaseWith); p != nil && narrows(m.Op()) {
				m.Where(predicate.CaseEvent(p))
			}
			return privacy.Allow
		})},
	}
}

// CaseVictimPolicy limits links of visible cases to the request's scope.
func CaseVictimPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.CaseVictimQueryRuleFunc(func(ctx context.Context, q *gen.CaseVictimQuery) error {
			if p := viaCase(scopeOf(ctx), casevictim.HasCaseWith); p != nil {
				q.Where(predicate.CaseVictim(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.CaseVictimMutationRuleFunc(func(ctx context.Context, m *gen.CaseVictimMutation) error {
			if p := viaCase(scopeOf(ctx), casevictim.HasCaseWith); p != nil && narrows(m.Op()) {
				m.Where(predicate.CaseVictim(p))
			}
			return privacy.Allow
		})},
	}
}

// SuspectPolicy limits suspects of visible cases to the request's scope.
func SuspectPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.SuspectQueryRuleFunc(func(ctx context.Context, q *gen.SuspectQuery) error {
			if p := viaCase(scopeOf(ctx), suspect.HasCaseWith); p != nil {
				q.Where(predicate.Suspect(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.SuspectMutationRuleFunc(func(ctx context.Context, m *gen.SuspectMutation) error {
			if p := viaCase(scopeOf(ctx), suspect.HasCaseWith); p != nil && narrows(m.Op()) {
				m.Where(predicate.Suspect(p))
			}
			return privacy.Allow
		})},
	}
}

// ProsecutionDefendantPolicy limits defendant links of visible proceedings to the request's scope.
func ProsecutionDefendantPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.ProsecutionDefendantQueryRuleFunc(func(ctx context.Context, q *gen.ProsecutionDefendantQuery) error {
			if p := prosecutionDefendantPredicate(scopeOf(ctx)); p != nil {
				q.Where(predicate.ProsecutionDefendant(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.ProsecutionDefendantMutationRuleFunc(func(ctx context.Context, m *gen.ProsecutionDefendantMutation) error {
			if p := prosecutionDefendantPredicate(scopeOf(ctx)); p != nil && narrows(m.Op()) {
				m.Where(predicate.ProsecutionDefendant(p))
			}
			return privacy.Allow
		})},
	}
}

// ProsecutionPolicy limits proceedings of visible cases, and those the agency's office registered to the request's scope.
func ProsecutionPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.ProsecutionQueryRuleFunc(func(ctx context.Context, q *gen.ProsecutionQuery) error {
			if p := prosecutionPredicate(scopeOf(ctx)); p != nil {
				q.Where(predicate.Prosecution(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.ProsecutionMutationRuleFunc(func(ctx context.Context, m *gen.ProsecutionMutation) error {
			if p := prosecutionPredicate(scopeOf(ctx)); p != nil && narrows(m.Op()) {
				m.Where(predicate.Prosecution(p))
			}
			return privacy.Allow
		})},
	}
}

// ChargePolicy limits charges of visible proceedings to the request's scope.
func ChargePolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.ChargeQueryRuleFunc(func(ctx context.Context, q *gen.ChargeQuery) error {
			if p := chargePredicate(scopeOf(ctx)); p != nil {
				q.Where(predicate.Charge(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.ChargeMutationRuleFunc(func(ctx context.Context, m *gen.ChargeMutation) error {
			if p := chargePredicate(scopeOf(ctx)); p != nil && narrows(m.Op()) {
				m.Where(predicate.Charge(p))
			}
			return privacy.Allow
		})},
	}
}

// CourtDecisionPolicy limits decisions in visible proceedings, and those of the agency's court to the request's scope.
func CourtDecisionPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.CourtDecisionQueryRuleFunc(func(ctx context.Context, q *gen.CourtDecisionQuery) error {
			if p := courtDecisionPredicate(scopeOf(ctx)); p != nil {
				q.Where(predicate.CourtDecision(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.CourtDecisionMutationRuleFunc(func(ctx context.Context, m *gen.CourtDecisionMutation) error {
			if p := courtDecisionPredicate(scopeOf(ctx)); p != nil && narrows(m.Op()) {
				m.Where(predicate.CourtDecision(p))
			}
			return privacy.Allow
		})},
	}
}

// VictimPolicy limits victims to the request's scope.
func VictimPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.VictimQueryRuleFunc(func(ctx context.Context, q *gen.VictimQuery) error {
			if p := victimPredicate(scopeOf(ctx)); p != nil {
				q.Where(predicate.Victim(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.VictimMutationRuleFunc(func(ctx context.Context, m *gen.VictimMutation) error {
			if p := victimPredicate(scopeOf(ctx)); p != nil && narrows(m.Op()) {
				m.Where(predicate.Victim(p))
			}
			return privacy.Allow
		})},
	}
}

// ReferralPolicy limits referrals of visible victims, and those from or to the agency to the request's scope.
func ReferralPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.ReferralQueryRuleFunc(func(ctx context.Context, q *gen.ReferralQuery) error {
			if p := referralPredicate(scopeOf(ctx)); p != nil {
				q.Where(predicate.Referral(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.ReferralMutationRuleFunc(func(ctx context.Context, m *gen.ReferralMutation) error {
			if p := referralPredicate(scopeOf(ctx)); p != nil && narrows(m.Op()) {
				m.Where(predicate.Referral(p))
			}
			return privacy.Allow
		})},
	}
}

// SupportServicePolicy limits support of visible victims, and that the agency provides to the request's scope.
func SupportServicePolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.SupportServiceQueryRuleFunc(func(ctx context.Context, q *gen.SupportServiceQuery) error {
			if p := supportPredicate(scopeOf(ctx)); p != nil {
				q.Where(predicate.SupportService(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.SupportServiceMutationRuleFunc(func(ctx context.Context, m *gen.SupportServiceMutation) error {
			if p := supportPredicate(scopeOf(ctx)); p != nil && narrows(m.Op()) {
				m.Where(predicate.SupportService(p))
			}
			return privacy.Allow
		})},
	}
}

// ConsentPolicy limits consents of visible victims to the request's scope.
func ConsentPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.ConsentQueryRuleFunc(func(ctx context.Context, q *gen.ConsentQuery) error {
			if p := viaVictim(scopeOf(ctx), consent.HasVictimWith); p != nil {
				q.Where(predicate.Consent(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.ConsentMutationRuleFunc(func(ctx context.Context, m *gen.ConsentMutation) error {
			if p := viaVictim(scopeOf(ctx), consent.HasVictimWith); p != nil && narrows(m.Op()) {
				m.Where(predicate.Consent(p))
			}
			return privacy.Allow
		})},
	}
}

// EmergencyGrantPolicy limits the principal's own emergency grants, or their agency's for data protection officers to the request's scope.
func EmergencyGrantPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{gate, privacy.EmergencyGrantQueryRuleFunc(func(ctx context.Context, q *gen.EmergencyGrantQuery) error {
			if p := grantPredicate(scopeOf(ctx)); p != nil {
				q.Where(predicate.EmergencyGrant(p))
			}
			return privacy.Allow
		})},
		Mutation: privacy.MutationPolicy{gate, privacy.EmergencyGrantMutationRuleFunc(func(ctx context.Context, m *gen.EmergencyGrantMutation) error {
			if p := grantPredicate(scopeOf(ctx)); p != nil && narrows(m.Op()) {
				m.Where(predicate.EmergencyGrant(p))
			}
			return privacy.Allow
		})},
	}
}
