package casework

import (
	"context"
	"fmt"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/charge"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/suspect"
	"github.com/casegraph/casegraph/viewer"
)

// DeadlineMonths is the length of an investigation's first period and the
// most one extension may add, in calendar months.
const DeadlineMonths = 3

// addMonths adds n calendar months to t, keeping to the last day of a
// shorter month (31 August + 3 months is 30 November, not 1 December).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// RecordSuspect records a suspect in a case. Returns CONFLICT when the
// pseudonym is taken.
func RecordSuspect(ctx context.Context, c *ent.Client, in ent.CreateSuspectInput, key *string) (*ent.Suspect, error) {
	id, err := idempotent(ctx, c, "recordSuspect", key, in, func() (int, error) {
		if err := reference(ctx, "caseID", "case", c.CaseFile.Query().Where(casefile.ID(in.CaseID)).Exist); err != nil {
			return 0, err
		}
		inUse, err := taken(ctx, c.Suspect.Query().Where(suspect.Pseudonym(in.Pseudonym)).Exist)
		if err != nil {
			return 0, err
		}
		if inUse {
			return 0, &apperr.Error{Code: apperr.Conflict, Field: "pseudonym", Message: fmt.Sprintf("A suspect with pseudonym %q already exists.", in.Pseudonym)}
		}
		s, err := c.Suspect.Create().SetInput(in).Save(ctx)
		if err != nil {
			return 0, translate(err)
		}
		return s.ID, event(ctx, c, in.CaseID, domain.CaseEventKindSuspectRecorded, s.ID, fmt.Sprintf("Suspect %s recorded.", s.Pseudonym))
	})
	if err != nil {
		return nil, err
	}
	return c.Suspect.Get(viewer.SystemContext(ctx), id)
}

// UpdateSuspect changes a suspect's record.
func UpdateSuspect(ctx context.Context, c *ent.Client, id, expectedVersion int, in ent.UpdateSuspectInput) (*ent.Suspect, error) {
	n, err := c.Suspect.Update().Where(suspect.ID(id), suspect.Version(expectedVersion)).
		SetInput(in).AddVersion(1).Save(ctx)
	if err := updated(ctx, n, err, "suspect", c.Suspect.Query().Where(suspect.ID(id)).Exist); err != nil {
		return nil, err
	}
	s, err := c.Suspect.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return s, event(ctx, c, s.CaseID, domain.CaseEventKindSuspectUpdated, id, fmt.Sprintf("Suspect %s updated.", s.Pseudonym))
}

// RegisterProsecution registers a criminal proceeding in a case, by a
// prosecution office, against suspects of that case. It starts at
// REGISTERED. Returns CONFLICT when the registration number is taken.
func RegisterProsecution(ctx context.Context, c *ent.Client, in ent.CreateProsecutionInput, key *string) (*ent.Prosecution, error) {
	id, err := idempotent(ctx, c, "registerProsecution", key, in, func() (int, error) {
		if err := reference(ctx, "caseID", "case", c.CaseFile.Query().Where(casefile.ID(in.CaseID)).Exist); err != nil {
			return 0, err
		}
		if err := agencyOfKind(ctx, c, "officeID", in.OfficeID, "a prosecution office", domain.AgencyKind.IsProsecution); err != nil {
			return 0, err
		}
		if err := defendantsOfCase(ctx, c, "defendantIDs", in.CaseID, in.DefendantIDs); err != nil {
			return 0, err
		}
		if in.InvestigationDeadline != nil && in.InvestigationDeadline.Before(in.RegisteredAt) {
			return 0, apperr.InvalidField("investigationDeadline", "The investigation deadline is before the registration.")
		}
		if err := requireWorksOnIfSelf(ctx, c, "officeID", in.CaseID, in.OfficeID); err != nil {
			return 0, err
		}
		inUse, err := taken(ctx, c.Prosecution.Query().Where(prosecution.RegistrationNumber(in.RegistrationNumber)).Exist)
		if err != nil {
			return 0, err
		}
		if inUse {
			return 0, &apperr.Error{Code: apperr.Conflict, Field: "registrationNumber", Message: fmt.Sprintf("A prosecution with registration number %q already exists.", in.RegistrationNumber)}
		}
		p, err := c.Prosecution.Create().SetInput(in).Save(ctx)
		if err != nil {
			return 0, translate(err)
		}
		return p.ID, event(ctx, c, in.CaseID, domain.CaseEventKindProsecutionRegistered, p.ID, fmt.Sprintf("Proceeding %s registered.", p.RegistrationNumber))
	})
	if err != nil {
		return nil, err
	}
	return c.Prosecution.Get(viewer.SystemContext(ctx), id)
}

// UpdateProsecution changes a proceeding's office, registration date or
// defendants.
func UpdateProsecution(ctx context.Context, c *ent.Client, id, expectedVersion int, in ent.UpdateProsecutionInput) (*ent.Prosecution, error) {
	p, err := get(ctx, "prosecution", c.Prosecution.Get, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion("prosecution", p.Version, expectedVersion); err != nil {
		return nil, err
	}
	if in.OfficeID != nil {
		if err := agencyOfKind(ctx, c, "input.officeID", *in.OfficeID, "a prosecution office", domain.AgencyKind.IsProsecution); err != nil {
			return nil, err
		}
		if err := requireWorksOnIfSelf(ctx, c, "input.officeID", p.CaseID, *in.OfficeID); err != nil {
			return nil, err
		}
	}
	if err := defendantsOfCase(ctx, c, "input.addDefendantIDs", p.CaseID, in.AddDefendantIDs); err != nil {
		return nil, err
	}
	n, err := c.Prosecution.Update().Where(prosecution.ID(id), prosecution.Version(expectedVersion)).
		SetInput(in).AddVersion(1).Save(ctx)
	if err := updated(ctx, n, err, "prosecution", c.Prosecution.Query().Where(prosecution.ID(id)).Exist); err != nil {
		return nil, err
	}
	if err := event(ctx, c, p.CaseID, domain.CaseEventKindCaseUpdated, id, fmt.Sprintf("Proceeding %s updated.", p.RegistrationNumber)); err != nil {
		return nil, err
	}
	return c.Prosecution.Get(ctx, id)
}

// MoveProsecutionStage moves a proceeding along its lifecycle and records
// the date it reached the stage (at, default now). Starting the
// investigation sets a three-month deadline if none was set.
func MoveProsecutionStage(ctx context.Context, c *ent.Client, id, expectedVersion int, stage domain.ProceedingStage, at *time.Time) (*ent.Prosecution, error) {
	p, err := get(ctx, "prosecution", c.Prosecution.Get, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion("prosecution", p.Version, expectedVersion); err != nil {
		return nil, err
	}
	if !p.Stage.CanMoveTo(stage) {
		return nil, transitionError("stage", p.Stage, stage, p.Stage.NextStages())
	}
	when := time.Now()
	if at != nil {
		when = *at
	}
	if when.Before(p.RegisteredAt) {
		return nil, apperr.InvalidField("at", "The date of a stage cannot be before the registration of the proceeding.")
	}
	if when.After(time.Now().Add(time.Minute)) {
		return nil, apperr.InvalidField("at", "The date of a stage cannot be in the future.")
	}
	u := c.Prosecution.Update().Where(prosecution.ID(id), prosecution.Version(expectedVersion)).
		SetStage(stage).AddVersion(1)
	switch stage {
	case domain.ProceedingStageUnderInvestigation:
		u.SetInvestigationStartedAt(when)
		if p.InvestigationDeadline == nil {
			u.SetInvestigationDeadline(addMonths(when, DeadlineMonths))
		}
	case domain.ProceedingStageInvestigationClosed:
		u.SetInvestigationClosedAt(when)
	case domain.ProceedingStageTrialRequested:
		u.SetTrialRequestedAt(when)
	case domain.ProceedingStageDismissed:
		u.SetDismissedAt(when)
	case domain.ProceedingStageFirstInstanceDecided:
		u.SetFirstInstanceDecidedAt(when)
	case domain.ProceedingStageAppealDecided:
		u.SetAppealDecidedAt(when)
	}
	if stage.Terminal() {
		u.SetClosedAt(when)
	}
	n, err := u.Save(ctx)
	if err := updated(ctx, n, err, "prosecution", c.Prosecution.Query().Where(prosecution.ID(id)).Exist); err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("Proceeding %s moved from %s to %s.", p.RegistrationNumber, p.Stage, stage)
	if err := event(ctx, c, p.CaseID, domain.CaseEventKindProsecutionStageChanged, id, summary); err != nil {
		return nil, err
	}
	return c.Prosecution.Get(ctx, id)
}

// ExtendInvestigationDeadline extends the deadline of a proceeding under
// investigation to until, at most DeadlineMonths past the current one.
func ExtendInvestigationDeadline(ctx context.Context, c *ent.Client, id, expectedVersion int, until time.Time) (*ent.Prosecution, error) {
	p, err := get(ctx, "prosecution", c.Prosecution.Get, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion("prosecution", p.Version, expectedVersion); err != nil {
		return nil, err
	}
	if p.Stage != domain.ProceedingStageUnderInvestigation {
		return nil, apperr.InvalidField("id", "Only a proceeding under investigation has a deadline to extend; this one is %s.", p.Stage)
	}
	current := p.RegisteredAt
	if p.InvestigationDeadline != nil {
		current = *p.InvestigationDeadline
	}
	if !until.After(current) {
		return nil, apperr.InvalidField("until", "The new deadline must be later than the current one (%s).", current.Format(time.DateOnly))
	}
	if until.After(addMonths(current, DeadlineMonths)) {
		return nil, apperr.InvalidField("until", "One extension may add at most three months to the current deadline (%s).", current.Format(time.DateOnly))
	}
	n, err := c.Prosecution.Update().Where(prosecution.ID(id), prosecution.Version(expectedVersion)).
		SetInvestigationDeadline(until).AddDeadlineExtensions(1).AddVersion(1).Save(ctx)
	if err := updated(ctx, n, err, "prosecution", c.Prosecution.Query().Where(prosecution.ID(id)).Exist); err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("Investigation deadline of %s extended to %s.", p.RegistrationNumber, until.Format(time.DateOnly))
	if err := event(ctx, c, p.CaseID, domain.CaseEventKindDeadlineExtended, id, summary); err != nil {
		return nil, err
	}
	return c.Prosecution.Get(ctx, id)
}

// AddCharge adds a charge to a proceeding, optionally against one of its
// defendants.
func AddCharge(ctx context.Context, c *ent.Client, in ent.CreateChargeInput, key *string) (*ent.Charge, error) {
	id, err := idempotent(ctx, c, "addCharge", key, in, func() (int, error) {
		p, err := c.Prosecution.Query().Where(prosecution.ID(in.ProsecutionID)).Only(ctx)
		if ent.IsNotFound(err) {
			return 0, apperr.InvalidField("prosecutionID", "No prosecution with the id given in prosecutionID exists.")
		} else if err != nil {
			return 0, err
		}
		if p.Stage.Terminal() {
			return 0, apperr.InvalidField("prosecutionID", "The proceeding is closed (%s); no charge can be added.", p.Stage)
		}
		if in.SuspectID != nil {
			if err := defendantsOfCase(ctx, c, "suspectID", p.CaseID, []int{*in.SuspectID}); err != nil {
				return 0, err
			}
		}
		ch, err := c.Charge.Create().SetInput(in).Save(ctx)
		if err != nil {
			return 0, translate(err)
		}
		return ch.ID, event(ctx, c, p.CaseID, domain.CaseEventKindChargeAdded, ch.ID, fmt.Sprintf("Charge under %s added to %s.", ch.Article, p.RegistrationNumber))
	})
	if err != nil {
		return nil, err
	}
	return c.Charge.Get(viewer.SystemContext(ctx), id)
}

// ReclassifyCharge moves a charge to another article, keeping the article it
// was first brought under in reclassifiedFrom.
func ReclassifyCharge(ctx context.Context, c *ent.Client, id, expectedVersion int, article domain.Article) (*ent.Charge, error) {
	ch, err := get(ctx, "charge", c.Charge.Get, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion("charge", ch.Version, expectedVersion); err != nil {
		return nil, err
	}
	if ch.Article == article {
		return nil, apperr.InvalidField("article", "The charge is already under %s.", article)
	}
	u := c.Charge.Update().Where(charge.ID(id), charge.Version(expectedVersion)).
		SetArticle(article).SetReclassifiedAt(time.Now()).AddVersion(1)
	if ch.ReclassifiedFrom == nil {
		u.SetReclassifiedFrom(ch.Article)
	}
	n, err := u.Save(ctx)
	if err := updated(ctx, n, err, "charge", c.Charge.Query().Where(charge.ID(id)).Exist); err != nil {
		return nil, err
	}
	p, err := c.Prosecution.Get(ctx, ch.ProsecutionID)
	if err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("Charge in %s reclassified from %s to %s.", p.RegistrationNumber, ch.Article, article)
	if err := event(ctx, c, p.CaseID, domain.CaseEventKindChargeReclassified, id, summary); err != nil {
		return nil, err
	}
	return c.Charge.Get(ctx, id)
}

// RecordCourtDecision records a court's decision in a proceeding. The court
// must be a court; a sentence needs a conviction, and a sentence kind
// needs a length unless it is a fine.
func RecordCourtDecision(ctx context.Context, c *ent.Client, in ent.CreateCourtDecisionInput, key *string) (*ent.CourtDecision, error) {
	id, err := idempotent(ctx, c, "recordCourtDecision", key, in, func() (int, error) {
		p, err := c.Prosecution.Query().Where(prosecution.ID(in.ProsecutionID)).Only(ctx)
		if ent.IsNotFound(err) {
			return 0, apperr.InvalidField("prosecutionID", "No prosecution with the id given in prosecutionID exists.")
		} else if err != nil {
			return 0, err
		}
		if err := agencyOfKind(ctx, c, "courtID", in.CourtID, "a court", domain.AgencyKind.IsCourt); err != nil {
			return 0, err
		}
		if err := validateSentence(in.Verdict, in.SentenceKind, in.SentenceMonths); err != nil {
			return 0, err
		}
		d, err := c.CourtDecision.Create().SetInput(in).Save(ctx)
		if err != nil {
			return 0, translate(err)
		}
		summary := fmt.Sprintf("%s decision in %s: %s.", in.Instance, p.RegistrationNumber, in.Verdict)
		return d.ID, event(ctx, c, p.CaseID, domain.CaseEventKindCourtDecisionRecorded, d.ID, summary)
	})
	if err != nil {
		return nil, err
	}
	return c.CourtDecision.Get(viewer.SystemContext(ctx), id)
}

// UpdateCourtDecision corrects a decision or records that compensation was
// paid.
func UpdateCourtDecision(ctx context.Context, c *ent.Client, id, expectedVersion int, in ent.UpdateCourtDecisionInput) (*ent.CourtDecision, error) {
	d, err := get(ctx, "court decision", c.CourtDecision.Get, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion("court decision", d.Version, expectedVersion); err != nil {
		return nil, err
	}
	verdict, kind, months := d.Verdict, d.SentenceKind, d.SentenceMonths
	if in.Verdict != nil {
		verdict = *in.Verdict
	}
	if in.ClearSentenceKind {
		kind = nil
	}
	if in.SentenceKind != nil {
		kind = in.SentenceKind
	}
	if in.ClearSentenceMonths {
		months = nil
	}
	if in.SentenceMonths != nil {
		months = in.SentenceMonths
	}
	if err := validateSentence(verdict, kind, months); err != nil {
		return nil, err
	}
	n, err := c.CourtDecision.Update().Where(courtdecision.ID(id), courtdecision.Version(expectedVersion)).
		SetInput(in).AddVersion(1).Save(ctx)
	if err := updated(ctx, n, err, "court decision", c.CourtDecision.Query().Where(courtdecision.ID(id)).Exist); err != nil {
		return nil, err
	}
	p, err := c.Prosecution.Get(ctx, d.ProsecutionID)
	if err != nil {
		return nil, err
	}
	if err := event(ctx, c, p.CaseID, domain.CaseEventKindCourtDecisionRecorded, id, fmt.Sprintf("Decision in %s updated.", p.RegistrationNumber)); err != nil {
		return nil, err
	}
	return c.CourtDecision.Get(ctx, id)
}

func validateSentence(verdict domain.Verdict, kind *domain.SentenceKind, months *int) error {
	convicted := verdict == domain.VerdictConvicted || verdict == domain.VerdictConvictedOfLesserOffence ||
		verdict == domain.VerdictUpheld || verdict == domain.VerdictAmended
	if kind != nil && !convicted {
		return apperr.InvalidField("sentenceKind", "A %s decision carries no sentence.", verdict)
	}
	if months != nil && kind == nil {
		return apperr.InvalidField("sentenceKind", "A sentence length needs a sentence kind.")
	}
	if kind != nil && *kind != domain.SentenceKindFine && months == nil {
		return apperr.InvalidField("sentenceMonths", "A %s sentence needs its length in months.", *kind)
	}
	return nil
}

// defendantsOfCase checks that every suspect id belongs to the case.
func defendantsOfCase(ctx context.Context, c *ent.Client, field string, caseID int, suspectIDs []int) error {
	if len(suspectIDs) == 0 {
		return nil
	}
	n, err := c.Suspect.Query().Where(suspect.IDIn(suspectIDs...), suspect.CaseID(caseID)).Count(ctx)
	if err != nil {
		return err
	}
	if n != len(uniq(suspectIDs)) {
		return apperr.InvalidField(field, "Every defendant must be a suspect recorded in the same case.")
	}
	return nil
}

func uniq(ids []int) map[int]struct{} {
	m := make(map[int]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	return m
}
