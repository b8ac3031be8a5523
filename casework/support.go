package casework

import (
	"context"
	"fmt"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/casevictim"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/ent/supportservice"
)

// CreateReferral refers a victim from one agency to another for a service,
// PENDING. When a case is named, the victim must appear in it.
func CreateReferral(ctx context.Context, c *ent.Client, in ent.CreateReferralInput, key *string) (*ent.Referral, error) {
	p, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	return idempotent(ctx, c, "createReferral", key, in, c.Referral.Get, func() (int, error) {
		err := reference(ctx, aVictim(c, "victimID", in.VictimID),
			anAgency(c, "fromAgencyID", in.FromAgencyID), anAgency(c, "toAgencyID", in.ToAgencyID))
		if err != nil {
			return 0, err
		}
		// An agency refers from itself; only coordinators (the National
		// Referral Mechanism's responsible authority) record referrals
		// between others. An accepted referral opens the victim's data to
		// its receiver, so nobody may make one up in another's name.
		if in.FromAgencyID != p.AgencyID && !coordinates(ctx, "createReferral") {
			return 0, &apperr.Error{Code: apperr.Forbidden, Field: "fromAgencyID", Message: "You may refer a victim only from your own agency."}
		}
		if in.FromAgencyID == in.ToAgencyID {
			return 0, apperr.InvalidField("toAgencyID", "An agency cannot refer a victim to itself.")
		}
		if err := standsWith(ctx, c, "victimID", in.VictimID); err != nil {
			return 0, err
		}
		if in.CaseID != nil {
			if err := reference(ctx, aCase(c, "caseID", *in.CaseID)); err != nil {
				return 0, err
			}
			linked, err := c.CaseVictim.Query().Where(casevictim.CaseID(*in.CaseID), casevictim.VictimID(in.VictimID)).Exist(ctx)
			if err != nil {
				return 0, err
			}
			if !linked {
				return 0, apperr.InvalidField("caseID", "The victim does not appear in the case given in caseID.")
			}
		}
		history := []domain.ReferralStatusChange{{
			Status: domain.ReferralStatusPending, At: time.Now().UTC(), ActorSubject: p.Subject, ActorAgency: p.AgencyCode,
		}}
		r, err := c.Referral.Create().SetInput(in).SetStatusHistory(history).Save(ctx)
		if err != nil {
			return 0, translate(err)
		}
		return r.ID, referralEvent(ctx, c, r, domain.CaseEventKindReferralCreated, fmt.Sprintf("Referral for %s created.", r.ServiceKind))
	})
}

// MoveReferralStatus moves a referral along PENDING → ACCEPTED | REJECTED →
// COMPLETED, or REVOKED, appending to its history.
func MoveReferralStatus(ctx context.Context, c *ent.Client, id, expectedVersion int, status domain.ReferralStatus) (*ent.Referral, error) {
	p, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	r, err := current(ctx, "referral", c.Referral.Get, id, expectedVersion, func(r *ent.Referral) int { return r.Version })
	if err != nil {
		return nil, err
	}
	if !r.Status.CanMoveTo(status) {
		return nil, transitionError("status", r.Status, status, r.Status.NextStatuses())
	}
	// The receiving agency accepts, rejects and completes; the referring
	// agency revokes. Nobody accepts a referral on another's behalf (an
	// accepted referral opens the victim's data to the receiver).
	switch {
	case status == domain.ReferralStatusRevoked && p.AgencyID != r.FromAgencyID:
		return nil, apperr.Errorf(apperr.Forbidden, "Only the referring agency may revoke a referral.")
	case status != domain.ReferralStatusRevoked && p.AgencyID != r.ToAgencyID:
		return nil, apperr.Errorf(apperr.Forbidden, "Only the agency the victim was referred to may accept, reject or complete the referral.")
	}
	history := append(r.StatusHistory, domain.ReferralStatusChange{
		Status: status, At: time.Now().UTC(), ActorSubject: p.Subject, ActorAgency: p.AgencyCode,
	})
	u := c.Referral.Update().Where(referral.ID(id), referral.Version(expectedVersion)).
		SetStatus(status).SetStatusHistory(history).AddVersion(1)
	after, err := saved(ctx, "referral", u.Save, c.Referral.Get, id)
	if err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("Referral for %s moved from %s to %s.", r.ServiceKind, r.Status, status)
	return after, referralEvent(ctx, c, r, domain.CaseEventKindReferralStatusChanged, summary)
}

// referralEvent writes to the referral's case, or to every case of its
// victim when it names none.
func referralEvent(ctx context.Context, c *ent.Client, r *ent.Referral, kind domain.CaseEventKind, summary string) error {
	if r.CaseID != nil {
		return victimCaseEvent(ctx, c, *r.CaseID, r.VictimID, kind, r.ID, summary)
	}
	return victimEvent(ctx, c, r.VictimID, kind, r.ID, summary)
}

// RecordSupportService records support a victim received from a provider.
func RecordSupportService(ctx context.Context, c *ent.Client, in ent.CreateSupportServiceInput, key *string) (*ent.SupportService, error) {
	p, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	return idempotent(ctx, c, "recordSupportService", key, in, c.SupportService.Get, func() (int, error) {
		if err := reference(ctx, aVictim(c, "victimID", in.VictimID), anAgency(c, "providerID", in.ProviderID)); err != nil {
			return 0, err
		}
		if in.ProviderID != p.AgencyID {
			return 0, &apperr.Error{Code: apperr.Forbidden, Field: "providerID", Message: "You may record only the support your own agency gives."}
		}
		// Support recorded would itself be standing (the provider's).
		if err := standsWith(ctx, c, "victimID", in.VictimID); err != nil {
			return 0, err
		}
		if in.EndedOn != nil && in.EndedOn.Before(in.StartedOn) {
			return 0, apperr.InvalidField("endedOn", "The support cannot end before it started.")
		}
		s, err := c.SupportService.Create().SetInput(in).Save(ctx)
		if err != nil {
			return 0, translate(err)
		}
		return s.ID, victimEvent(ctx, c, in.VictimID, domain.CaseEventKindSupportRecorded, s.ID, fmt.Sprintf("%s support recorded.", s.Kind))
	})
}

// UpdateSupportService changes the dates or notes of support given.
func UpdateSupportService(ctx context.Context, c *ent.Client, id, expectedVersion int, in ent.UpdateSupportServiceInput) (*ent.SupportService, error) {
	s, err := current(ctx, "support service", c.SupportService.Get, id, expectedVersion, func(s *ent.SupportService) int { return s.Version })
	if err != nil {
		return nil, err
	}
	// As on record: the provider speaks for the support it gives; another
	// agency that sees the victim does not rewrite it.
	p, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if s.ProviderID != p.AgencyID {
		return nil, &apperr.Error{Code: apperr.Forbidden, Field: "id", Message: "You may change only the support your own agency gives."}
	}
	start := newValue(in.StartedOn, s.StartedOn)
	end := newOptional(in.EndedOn, in.ClearEndedOn, s.EndedOn)
	if end != nil && end.Before(start) {
		// Named for the date the update moves: a start moved past the
		// stored end was blamed on endedOn (a hunt over HTTP).
		if in.EndedOn == nil {
			return nil, apperr.InvalidField("startedOn", "The support cannot start after it ended.")
		}
		return nil, apperr.InvalidField("endedOn", "The support cannot end before it started.")
	}
	u := c.SupportService.Update().Where(supportservice.ID(id), supportservice.Version(expectedVersion)).
		SetInput(in).AddVersion(1)
	after, err := saved(ctx, "support service", u.Save, c.SupportService.Get, id)
	if err != nil {
		return nil, err
	}
	return after, victimEvent(ctx, c, s.VictimID, domain.CaseEventKindSupportUpdated, id, fmt.Sprintf("%s support updated.", s.Kind))
}
