package casework

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/emergencygrant"
	"github.com/casegraph/casegraph/input"
	"github.com/casegraph/casegraph/viewer"
)

// Emergency access limits. Emergency access is casework: a person asks
// for it on one case, and the case's timeline records it; package authz
// honours the grants when it decides a field.
const (
	MaxEmergencyHours = 4
	// MaxEmergencyGrantsPerDay is how often one person may break the glass
	// in any 24 hours, on any cases, revoked grants counted. Each grant
	// opens every victim of a case; without a bound, one person could open
	// every case in their rows, one request after another, and the audit
	// trail would only say so afterwards. Five is far above what a real
	// emergency asks of one person in a day (a region registers a few
	// trafficking cases a month), and low enough that harvesting shows as
	// refusals. Raising it is this line.
	MaxEmergencyGrantsPerDay = 5
	emergencyWindow          = 24 * time.Hour
	MinJustificationLength   = 20
	maxJustificationLength   = 2000
	emergencyGrantedSummary  = "Emergency access granted to %s for %d h."
	emergencyRevokedSummary  = "Emergency access of %s revoked."
)

// RequestEmergencyAccess grants the caller, at once, access for hours to
// the sensitive fields of one case's victims and suspects. The case must be
// one the caller sees; the policy must let their role ask; the
// justification is required; one person is granted at most
// MaxEmergencyGrantsPerDay a day, and not on a case where a data
// protection officer revoked their grant before it ended (refuseAfterRevocation).
// A retry with the same key returns the grant the first call made (and
// counts once). Returns FORBIDDEN, BAD_USER_INPUT, NOT_FOUND, RATE_LIMITED
// or, for a key used for another request, CONFLICT.
func RequestEmergencyAccess(ctx context.Context, c *ent.Client, caseID int, justification string, hours int, key *string) (*ent.EmergencyGrant, error) {
	r := authz.FromContext(ctx)
	if r == nil {
		return nil, apperr.Errorf(apperr.Unauthenticated, "This operation needs an authenticated caller.")
	}
	// The mutation guard refused already whoever may not make this call
	// (its line and the power emergency request); asked again where the
	// grant is made, so that no other way in grants to them.
	if refusal := r.CallRefusal("requestEmergencyAccess"); refusal != nil {
		return nil, refusal
	}
	justification = strings.TrimSpace(justification)
	p := r.Principal()
	request := struct {
		CaseID        int    `json:"caseID"`
		Justification string `json:"justification"`
		Hours         int    `json:"hours"`
	}{caseID, justification, hours}
	return idempotent(ctx, c, "requestEmergencyAccess", key, request, c.EmergencyGrant.Get, func() (int, error) {
		// The request's own terms are checked here, where a grant is
		// made, as every create checks its input: a replay of a grant
		// made is answered with it whatever the case or the rules are
		// now (a hunt: checked before the key, a retry after the case had
		// left the caller's rows was NOT_FOUND, a "not made" for a grant
		// made and counted in the day's bound).
		if err := requestAllowed(ctx, c, caseID, justification, hours); err != nil {
			return 0, err
		}
		now := time.Now()
		if err := withinDailyGrants(ctx, c, p, now); err != nil {
			// The bound is there so that harvesting shows as refusals:
			// each is recorded about its case (a refusal survives the
			// rollback; the grant's own event would not).
			if rec := audit.FromContext(ctx); rec != nil && apperr.HasCode(err, apperr.RateLimited) {
				rec.RefusedRecord(audit.Mutation, "Case", caseID, []string{"Mutation.requestEmergencyAccess"},
					"over the emergency grants one person may be given in 24 hours")
			}
			return 0, err
		}
		if err := refuseAfterRevocation(ctx, c, p, caseID, now); err != nil {
			// Filed under the case like the day's bound: a refusal
			// survives the rollback.
			if rec := audit.FromContext(ctx); rec != nil && apperr.HasCode(err, apperr.Forbidden) {
				rec.RefusedRecord(audit.Mutation, "Case", caseID, []string{"Mutation.requestEmergencyAccess"},
					"emergency access to the case was revoked by a data protection officer")
			}
			return 0, err
		}
		g, err := c.EmergencyGrant.Create().
			SetSubject(p.Subject).SetAgencyID(p.AgencyID).SetCaseID(caseID).
			SetJustification(justification).SetGrantedAt(now).SetExpiresAt(now.Add(time.Duration(hours) * time.Hour)).
			Save(ctx)
		if err != nil {
			return 0, err
		}
		if rec := audit.FromContext(ctx); rec != nil {
			rec.Change(audit.EmergencyGranted, "Case", caseID, nil, func(ev *audit.Event) {
				ev.Emergency = true
				ev.Justification = justification
				ev.Detail = fmt.Sprintf(`{"grant":%d,"hours":%d,"expiresAt":%q}`, g.ID, hours, g.ExpiresAt.UTC().Format(time.RFC3339))
			})
		}
		return g.ID, event(ctx, c, caseID, domain.CaseEventKindEmergencyAccessGranted, g.ID, fmt.Sprintf(emergencyGrantedSummary, p.Subject, hours))
	})
}

// refuseAfterRevocation refuses a grant of caseID to p while one a data
// protection officer revoked would still have run (FORBIDDEN): revoking is
// the officer's brake on break-glass access, and the grantee undid it by
// asking again a second later (a hunt over HTTP). The brake holds for the
// person, whichever agency their token names, as the day's bound does
// (withinDailyGrants): keyed on the agency too, it let the grantee ask
// again at once through a token of a second agency that sees the case (a
// hunt, 2026-12-06). The officer's agency sees the refusal, filed under
// the case.
func refuseAfterRevocation(ctx context.Context, c *ent.Client, p *viewer.Principal, caseID int, now time.Time) error {
	revoked, err := c.EmergencyGrant.Query().
		Where(emergencygrant.Subject(p.Subject), emergencygrant.CaseID(caseID),
			emergencygrant.ExpiresAtGT(now), emergencygrant.RevokedAtNotNil()).
		Order(ent.Desc(emergencygrant.FieldExpiresAt)).First(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return apperr.Errorf(apperr.Forbidden, "Your emergency access to this case was revoked by a data protection officer; "+
		"it cannot be asked for again before %s, when the revoked grant would have ended. Ask your agency's data protection officer.",
		revoked.ExpiresAt.UTC().Format(time.RFC3339))
}

// withinDailyGrants refuses a grant to p beyond MaxEmergencyGrantsPerDay
// in the emergencyWindow before now: RATE_LIMITED, saying when the next is
// possible. A person is their subject (the identity provider's, unique
// to them), whichever agency a token names: one person holding tokens of
// two agencies has one bound. Requests of one person are taken one at a
// time (lockKey on the subject alone), so that two at once cannot both
// pass the count.
func withinDailyGrants(ctx context.Context, c *ent.Client, p *viewer.Principal, now time.Time) error {
	if err := lockPersonsGrants(ctx, c, p.Subject, p.AgencyID); err != nil {
		return err
	}
	// As the system: the count is of the person's own grants, whatever
	// the row scope of grants shows them.
	recent, err := c.EmergencyGrant.Query().
		Where(emergencygrant.Subject(p.Subject), emergencygrant.GrantedAtGT(now.Add(-emergencyWindow))).
		Order(ent.Desc(emergencygrant.FieldGrantedAt)).Limit(MaxEmergencyGrantsPerDay).
		Select(emergencygrant.FieldGrantedAt).All(viewer.SystemContext(ctx))
	if err != nil {
		return err
	}
	if len(recent) < MaxEmergencyGrantsPerDay {
		return nil
	}
	// The oldest of the last MaxEmergencyGrantsPerDay leaves the window
	// first; said to the whole second after, so that a client retrying at
	// the time said is not a fraction of a second early.
	next := recent[len(recent)-1].GrantedAt.Add(emergencyWindow).Truncate(time.Second).Add(time.Second)
	return &apperr.Error{
		Code: apperr.RateLimited,
		Message: fmt.Sprintf("You have been granted emergency access %d times in the last 24 hours, the most one person may be; "+
			"the next can be granted from %s. Your agency's data protection officer sees these grants.",
			MaxEmergencyGrantsPerDay, next.UTC().Format(time.RFC3339)),
		Details: map[string]any{"maxPerDay": MaxEmergencyGrantsPerDay, "retryAt": next.UTC().Format(time.RFC3339)},
	}
}

// lockPersonsGrants takes, for the transaction, the lock on one person's
// emergency grants (their subject, whichever agency: lockKey keys on the
// agency's code, left empty, and the subject; agencyID only names an
// agency row to lock through). Requests for a grant and revocations take
// it, so that a request's checks and a revocation's sweep of the running
// grants do not interleave.
func lockPersonsGrants(ctx context.Context, c *ent.Client, subject string, agencyID int) error {
	person := viewer.Principal{Subject: subject, AgencyID: agencyID}
	return lockKey(ctx, c, &person, "requestEmergencyAccess", "")
}

// RevokeEmergencyAccess ends a grant at once, and with it every other
// grant of the same person on the same case that still runs, whichever
// agency it was asked through: revoking ends the grantee's emergency
// access to the case, which a second grant asked for while the first ran
// kept open (a hunt over HTTP). Only grants the
// caller sees (a data protection officer sees their agency's) can be
// revoked.
//
// Revoking a grant already revoked changes nothing and answers the grant
// as it stands (its revokedAt and revokedBy the first revocation's), as
// linking twice does: the grant is where the caller asked it to be. Until
// the twenty-fourth session (2026-12-07) it was BAD_USER_INPUT ("already
// revoked"), so an officer's system retrying after an answer it never got
// was told its input was wrong for a revocation that had happened (an
// integrator's review).
//
// reason, when given, is why the grant is ended, written as a
// justification is (at least MinJustificationLength letters or digits,
// nothing invisible, at most maxJustificationLength bytes), and kept in
// the trail's EMERGENCY_ACCESS_REVOKED events: a data protection officer
// reading the trail saw who ended a break-glass grant and when, never why
// (the DPO's hunt, twenty-sixth session). A revocation already made keeps
// the reason it was made with.
func RevokeEmergencyAccess(ctx context.Context, c *ent.Client, id int, reason *string) (*ent.EmergencyGrant, error) {
	p, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	why := ""
	if reason != nil {
		if err := input.CheckWritten("reason", "A revocation's reason must be written out", *reason, MinJustificationLength); err != nil {
			return nil, err
		}
		if len(*reason) > maxJustificationLength {
			return nil, apperr.InvalidField("reason", "A reason holds at most %d bytes (a letter outside ASCII takes two to four).", maxJustificationLength)
		}
		why = *reason
	}
	g, err := c.EmergencyGrant.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.RecordNotFound()
	}
	if err != nil {
		return nil, err
	}
	if g.RevokedAt != nil {
		return g, nil
	}
	// A request of the grantee's in flight either commits before the
	// sweep below lists it, or finds this grant revoked (a review found a
	// second grant committed after the sweep, running on).
	if err := lockPersonsGrants(ctx, c, g.Subject, g.AgencyID); err != nil {
		return nil, err
	}
	now := time.Now()
	revoked, err := revokeGrant(ctx, c, p, g, now, why)
	if err != nil {
		return nil, err
	}
	if !revoked {
		// Revoked by another request since it was read (revoking is the
		// one change a grant takes): the same answer as revoking it after,
		// the grant as that revocation left it.
		return c.EmergencyGrant.Get(ctx, id)
	}
	running, err := c.EmergencyGrant.Query().
		Where(emergencygrant.Subject(g.Subject), emergencygrant.CaseID(g.CaseID),
			emergencygrant.ExpiresAtGT(now), emergencygrant.RevokedAtIsNil()).
		All(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	for _, other := range running {
		// One revoked by another request meanwhile is ended all the same.
		if _, err := revokeGrant(ctx, c, p, other, now, why); err != nil {
			return nil, err
		}
	}
	return c.EmergencyGrant.Get(ctx, id)
}

// revokeGrant ends g at now, recording it, with the reason given (if
// any), in the audit trail and on the case's timeline; false when g was
// revoked already. It writes as the
// system: the caller may revoke the grant it named (it sees it) and, with
// it, the grantee's other grants of the case, which another agency's row
// scope may hold.
func revokeGrant(ctx context.Context, c *ent.Client, p *viewer.Principal, g *ent.EmergencyGrant, now time.Time, reason string) (bool, error) {
	n, err := c.EmergencyGrant.Update().Where(emergencygrant.ID(g.ID), emergencygrant.RevokedAtIsNil()).
		SetRevokedAt(now).SetRevokedBy(p.Subject).AddVersion(1).Save(viewer.SystemContext(ctx))
	if err != nil || n == 0 {
		return false, err
	}
	if rec := audit.FromContext(ctx); rec != nil {
		rec.Change(audit.EmergencyRevoked, "Case", g.CaseID, nil, func(ev *audit.Event) {
			ev.Emergency = true
			ev.Justification = g.Justification
			ev.Reason = reason
			ev.Detail = fmt.Sprintf(`{"grant":%d,"grantedTo":%q}`, g.ID, g.Subject)
		})
	}
	return true, event(ctx, c, g.CaseID, domain.CaseEventKindEmergencyAccessRevoked, g.ID, fmt.Sprintf(emergencyRevokedSummary, g.Subject))
}

// requestAllowed checks an emergency request's own terms in its create:
// a written justification, its hours, a case the caller sees. It runs only
// for a request that is to make a grant (createOnce runs the create
// neither for a replay nor for a request the input rules refused,
// RefusedUnlessReplay): a replay is answered with its grant, and a refused
// request's unchecked justification is no case for NOT_FOUND and an audit
// event about the case (a review found both).
func requestAllowed(ctx context.Context, c *ent.Client, caseID int, justification string, hours int) error {
	if err := input.CheckWritten("justification", "Emergency access needs a written justification", justification, MinJustificationLength); err != nil {
		return err
	}
	if len(justification) > maxJustificationLength {
		return apperr.InvalidField("justification", "A justification holds at most %d bytes (a letter outside ASCII takes two to four).", maxJustificationLength)
	}
	if hours < 1 || hours > MaxEmergencyHours {
		return apperr.InvalidField("hours", "Emergency access lasts 1 to %d hours.", MaxEmergencyHours)
	}
	// A case outside the caller's rows answers like one that does not exist.
	ok, err := c.CaseFile.Query().Where(casefile.ID(caseID)).Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		// The field lets the refusal's audit event name the case
		// (graph's recordNotFound), so that the DPOs of the agencies on
		// it find the attempt by its id (the trail had it without one).
		refused := apperr.RecordNotFound()
		refused.Field = "caseID"
		return refused
	}
	return nil
}
