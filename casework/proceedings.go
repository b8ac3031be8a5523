package casework

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/charge"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/prosecutiondefendant"
	"github.com/casegraph/casegraph/ent/suspect"
	"github.com/casegraph/casegraph/viewer"
)

// RecordSuspect records a suspect in a case. Returns CONFLICT when the
// pseudonym is taken.
func RecordSuspect(ctx context.Context, c *ent.Client, in ent.CreateSuspectInput, key *string) (*ent.Suspect, error) {
	return idempotent(ctx, c, "recordSuspect", key, in, c.Suspect.Get, func() (int, error) {
		if err := reference(ctx, aCase(c, "caseID", in.CaseID)); err != nil {
			return 0, err
		}
		if err := requireWorksOnOrCoordinates(ctx, c, "recordSuspect", "caseID", in.CaseID); err != nil {
			return 0, err
		}
		s, err := createUnique(ctx, "recordSuspect", c.Suspect.Create().SetInput(in).Save, "pseudonym", in.Pseudonym,
			"A suspect with pseudonym %q already exists.")
		if err != nil {
			return 0, err
		}
		return s.ID, event(ctx, c, in.CaseID, domain.CaseEventKindSuspectRecorded, s.ID, fmt.Sprintf("Suspect %s recorded.", s.Pseudonym))
	})
}

// UpdateSuspect changes a suspect's record.
func UpdateSuspect(ctx context.Context, c *ent.Client, id, expectedVersion int, in ent.UpdateSuspectInput) (*ent.Suspect, error) {
	before, err := current(ctx, "suspect", c.Suspect.Get, id, expectedVersion, func(s *ent.Suspect) int { return s.Version })
	if err != nil {
		return nil, err
	}
	if err := requireWorksOnOrCoordinates(ctx, c, "updateSuspect", "id", before.CaseID); err != nil {
		return nil, err
	}
	u := c.Suspect.Update().Where(suspect.ID(id), suspect.Version(expectedVersion)).
		SetInput(in).AddVersion(1)
	s, err := saved(ctx, "suspect", u.Save, c.Suspect.Get, id)
	if err != nil {
		return nil, err
	}
	return s, event(ctx, c, s.CaseID, domain.CaseEventKindSuspectUpdated, id, fmt.Sprintf("Suspect %s updated.", s.Pseudonym))
}

// RegisterProsecution registers a criminal proceeding in a case, by a
// prosecution office, against suspects of that case. It starts at
// REGISTERED. Returns CONFLICT when the registration number is taken.
func RegisterProsecution(ctx context.Context, c *ent.Client, in ent.CreateProsecutionInput, key *string) (*ent.Prosecution, error) {
	return idempotent(ctx, c, "registerProsecution", key, in, c.Prosecution.Get, func() (int, error) {
		if err := reference(ctx, aCase(c, "caseID", in.CaseID)); err != nil {
			return 0, err
		}
		if _, err := agencyOfKind(ctx, c, "officeID", in.OfficeID, "a prosecution office", domain.AgencyKind.IsProsecution); err != nil {
			return 0, err
		}
		if err := defendantsOfCase(ctx, c, "defendantIDs", in.CaseID, in.DefendantIDs); err != nil {
			return 0, err
		}
		if err := happened("registeredAt", "The registration", in.RegisteredAt); err != nil {
			return 0, err
		}
		if in.InvestigationDeadline != nil && in.InvestigationDeadline.Before(in.RegisteredAt) {
			return 0, apperr.InvalidField("investigationDeadline", "The investigation deadline is before the registration.")
		}
		if err := requireWorksOnOrCoordinates(ctx, c, "registerProsecution", "officeID", in.CaseID); err != nil {
			return 0, err
		}
		// The office of a proceeding is in the case's proceedings, and is
		// given PROSECUTING (proceedingRegistered): only an office already
		// in them, or the district office competent for the case, names
		// it; an office the police or a coordinator put on the case in
		// another part does not name itself.
		if err := requireMayGivePart(ctx, c, "registerProsecution", "officeID", "Case", in.CaseID, in.CaseID, domain.CasePartProsecuting); err != nil {
			return 0, err
		}
		p, err := createUnique(ctx, "registerProsecution", c.Prosecution.Create().SetInput(in).Save, "registrationNumber", in.RegistrationNumber,
			"A prosecution with registration number %q already exists.")
		if err != nil {
			return 0, err
		}
		if err := event(ctx, c, in.CaseID, domain.CaseEventKindProsecutionRegistered, p.ID, fmt.Sprintf("Proceeding %s registered.", p.RegistrationNumber)); err != nil {
			return 0, err
		}
		return p.ID, proceedingRegistered(ctx, c, in.CaseID, in.OfficeID)
	})
}

// UpdateProsecution changes a proceeding's office, registration date or
// defendants.
func UpdateProsecution(ctx context.Context, c *ent.Client, id, expectedVersion int, in ent.UpdateProsecutionInput) (*ent.Prosecution, error) {
	// Locked first (lockedProsecution): a court decision recorded at the
	// same moment is either seen by registrationFits or waits for this
	// registration and is checked against it.
	p, err := current(ctx, "prosecution", lockedProsecution(c), id, expectedVersion, func(p *ent.Prosecution) int { return p.Version })
	if err != nil {
		return nil, err
	}
	if err := ownProceeding(ctx, c, p, "updateProsecution", "id", false); err != nil {
		return nil, err
	}
	if p.Stage.Terminal() {
		// An ended proceeding is a record of what was: moving it to
		// another office would give that office standing on its case.
		return nil, apperr.InvalidField("id", "This proceeding has ended (%s); it is not changed any more.", p.Stage)
	}
	if in.RegisteredAt != nil {
		if err := registrationFits(ctx, c, p, *in.RegisteredAt); err != nil {
			return nil, err
		}
	}
	if in.OfficeID != nil {
		err := agencyOnCase(ctx, c, "updateProsecution", "officeID", p.CaseID, *in.OfficeID, "a prosecution office", domain.AgencyKind.IsProsecution)
		if err != nil {
			return nil, err
		}
	}
	if err := defendantsOfCase(ctx, c, "addDefendantIDs", p.CaseID, in.AddDefendantIDs); err != nil {
		return nil, err
	}
	if err := chargedStay(ctx, c, p.ID, in); err != nil {
		return nil, err
	}
	u := c.Prosecution.Update().Where(prosecution.ID(id), prosecution.Version(expectedVersion)).
		SetInput(in).AddVersion(1)
	after, err := saved(ctx, "prosecution", u.Save, c.Prosecution.Get, id)
	if err != nil {
		return nil, err
	}
	if err := event(ctx, c, p.CaseID, domain.CaseEventKindCaseUpdated, id, fmt.Sprintf("Proceeding %s updated.", p.RegistrationNumber)); err != nil {
		return nil, err
	}
	if in.OfficeID != nil {
		if err := assignProsecutingOffice(ctx, c, p.CaseID, *in.OfficeID); err != nil {
			return nil, err
		}
	}
	return after, nil
}

// MoveProsecutionStage moves a proceeding along its lifecycle and records
// the date it reached the stage (at; by default now, or the proceeding's
// latest date if a client's clock put it a little ahead). Starting the
// investigation sets a three-month deadline if none was set; reopening it
// (a dismissal request the court sent back) sets three months from the
// reopening, whatever deadline the first investigation had.
func MoveProsecutionStage(ctx context.Context, c *ent.Client, id, expectedVersion int, stage domain.ProceedingStage, at *time.Time) (*ent.Prosecution, error) {
	p, err := current(ctx, "prosecution", c.Prosecution.Get, id, expectedVersion, func(p *ent.Prosecution) int { return p.Version })
	if err != nil {
		return nil, err
	}
	// A court moves a proceeding that is before it (ownProceeding);
	// transferring or merging it is the office's decision.
	courtMay := stage != domain.ProceedingStageTransferred && stage != domain.ProceedingStageMerged
	if err := ownProceeding(ctx, c, p, "moveProsecutionStage", "id", courtMay); err != nil {
		return nil, err
	}
	if !p.Stage.CanMoveTo(stage) {
		return nil, transitionError("stage", p.Stage, stage, p.Stage.NextStages())
	}
	when := time.Now()
	latest := latestStageDate(p)
	switch {
	case at != nil:
		when = *at
	case when.Before(latest.at):
		// The proceeding records a date a little ahead of the server's
		// clock (happened lets a client's clock be clockSlack ahead):
		// "now" would come before it, so the stage is dated with it.
		when = latest.at
	}
	if when.Before(latest.at) {
		return nil, apperr.InvalidField("at", "The date of a stage cannot be before the latest date of the proceeding: %s, when %s.",
			latest.at.Format(time.RFC3339), latest.what)
	}
	if err := happened("at", "The date of a stage", when); err != nil {
		return nil, err
	}
	u := c.Prosecution.Update().Where(prosecution.ID(id), prosecution.Version(expectedVersion)).
		SetStage(stage).AddVersion(1)
	switch stage {
	case domain.ProceedingStageUnderInvestigation:
		u.SetInvestigationStartedAt(when)
		// A reopened investigation's old deadline passed while the court
		// had the file: kept, the proceeding was overdue the moment it
		// reopened, with a deadline before its start (a hunt over HTTP).
		// A deadline the office set at registration stays, even one
		// already past: the investigation was open since then, and a
		// start that reset it would take an overdue proceeding off the
		// monitoring mechanism's list uncounted, where an extension is
		// counted (deadlineExtensions); the office extends it instead.
		reopened := p.Stage == domain.ProceedingStageDismissalRequested
		if p.InvestigationDeadline == nil || reopened {
			u.SetInvestigationDeadline(domain.AddMonthsInTirana(when, domain.InvestigationDeadlineMonths))
		}
	case domain.ProceedingStageInvestigationClosed:
		u.SetInvestigationClosedAt(when)
	case domain.ProceedingStageDismissalRequested:
		u.SetDismissalRequestedAt(when)
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
	after, err := saved(ctx, "prosecution", u.Save, c.Prosecution.Get, id)
	if err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("Proceeding %s moved from %s to %s.", p.RegistrationNumber, p.Stage, stage)
	if err := event(ctx, c, p.CaseID, domain.CaseEventKindProsecutionStageChanged, id, summary); err != nil {
		return nil, err
	}
	if err := followProceedings(ctx, c, p.CaseID); err != nil {
		return nil, err
	}
	return after, nil
}

// datedStage is a date a proceeding records, and what happened then.
type datedStage struct {
	at   time.Time
	what string
}

// stageDates are the dates p records of the stages it reached after its
// registration. They never come before the registration nor before each
// other (latestStageDate, UpdateProsecution): the durations between them
// that the monitoring statistics measure would come out negative.
func stageDates(p *ent.Prosecution) []datedStage {
	var dates []datedStage
	for _, d := range []struct {
		at   *time.Time
		what string
	}{
		{p.InvestigationStartedAt, "its investigation started"},
		{p.InvestigationClosedAt, "its investigation closed"},
		{p.DismissalRequestedAt, "its dismissal was requested"},
		{p.TrialRequestedAt, "trial was requested"},
		{p.DismissedAt, "it was dismissed"},
		{p.FirstInstanceDecidedAt, "the first instance decided"},
		{p.AppealDecidedAt, "the appeal was decided"},
	} {
		if d.at != nil {
			dates = append(dates, datedStage{*d.at, d.what})
		}
	}
	return dates
}

// registrationFits refuses to move p's registration to at when something
// recorded of p would then come before it: a stage it reached, its
// investigation deadline, or a court decision (dated by day, as
// decidedAfterRegistration compares them). Registering refuses the same.
func registrationFits(ctx context.Context, c *ent.Client, p *ent.Prosecution, at time.Time) error {
	if err := happened("registeredAt", "The registration", at); err != nil {
		return err
	}
	for _, d := range stageDates(p) {
		if at.After(d.at) {
			return apperr.InvalidField("registeredAt", "The registration cannot be dated after %s, when %s.",
				d.at.Format(time.RFC3339), d.what)
		}
	}
	if p.InvestigationDeadline != nil && p.InvestigationDeadline.Before(at) {
		return apperr.InvalidField("registeredAt", "The registration cannot be dated after the investigation deadline, %s.",
			p.InvestigationDeadline.Format(time.RFC3339))
	}
	first, err := c.CourtDecision.Query().Where(courtdecision.ProsecutionID(p.ID)).
		Order(ent.Asc(courtdecision.FieldDecidedOn)).First(viewer.SystemContext(ctx))
	if err != nil && !ent.IsNotFound(err) {
		return err
	}
	if first != nil && decidedBeforeRegistrationDay(first.DecidedOn, at) {
		return apperr.InvalidField("registeredAt", "The registration cannot be dated after a court decision of this proceeding, of %s.",
			first.DecidedOn.Format(time.DateOnly))
	}
	return nil
}

// latestStageDate is the latest date recorded on p, its registration or
// the date it reached a later stage: a new stage cannot be dated before it.
func latestStageDate(p *ent.Prosecution) datedStage {
	latest := datedStage{p.RegisteredAt, "it was registered"}
	for _, d := range stageDates(p) {
		if d.at.After(latest.at) {
			latest = d
		}
	}
	return latest
}

// ExtendInvestigationDeadline extends the deadline of a proceeding whose
// investigation is open (REGISTERED with a deadline set at registration,
// or UNDER_INVESTIGATION) to until, at most
// domain.InvestigationDeadlineMonths past the current one.
func ExtendInvestigationDeadline(ctx context.Context, c *ent.Client, id, expectedVersion int, until time.Time) (*ent.Prosecution, error) {
	p, err := current(ctx, "prosecution", c.Prosecution.Get, id, expectedVersion, func(p *ent.Prosecution) int { return p.Version })
	if err != nil {
		return nil, err
	}
	if err := ownProceeding(ctx, c, p, "extendInvestigationDeadline", "id", false); err != nil {
		return nil, err
	}
	// The investigation is open, and its deadline runs, from the
	// registration (ProceedingStage.InvestigationOpen): a REGISTERED
	// proceeding whose office set the deadline at registration is overdue
	// past it, so its deadline is extended too. Refused, it stayed on the
	// overdue list with a deadline nothing could change (a hunt over HTTP).
	if !p.Stage.InvestigationOpen() {
		return nil, apperr.InvalidField("id", "Only a proceeding whose investigation is open (REGISTERED or UNDER_INVESTIGATION) has a deadline to extend; this one is %s.", p.Stage)
	}
	if p.InvestigationDeadline == nil && p.Stage == domain.ProceedingStageRegistered {
		return nil, apperr.InvalidField("id", "This proceeding has no investigation deadline yet: starting the investigation sets one three months on.")
	}
	current := p.RegisteredAt
	if p.InvestigationDeadline != nil {
		current = *p.InvestigationDeadline
	}
	if !until.After(current) {
		return nil, apperr.InvalidField("until", "The new deadline must be later than the current one (%s).", domain.DayInTirana(current))
	}
	if until.After(domain.AddMonthsInTirana(current, domain.InvestigationDeadlineMonths)) {
		return nil, apperr.InvalidField("until", "One extension may add at most three months to the current deadline (%s).", domain.DayInTirana(current))
	}
	u := c.Prosecution.Update().Where(prosecution.ID(id), prosecution.Version(expectedVersion)).
		SetInvestigationDeadline(until).AddDeadlineExtensions(1).AddVersion(1)
	after, err := saved(ctx, "prosecution", u.Save, c.Prosecution.Get, id)
	if err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("Investigation deadline of %s extended to %s.", p.RegistrationNumber, domain.DayInTirana(until))
	return after, event(ctx, c, p.CaseID, domain.CaseEventKindDeadlineExtended, id, summary)
}

// AddCharge adds a charge to a proceeding, optionally against one of its
// defendants.
func AddCharge(ctx context.Context, c *ent.Client, in ent.CreateChargeInput, key *string) (*ent.Charge, error) {
	return idempotent(ctx, c, "addCharge", key, in, c.Charge.Get, func() (int, error) {
		// Locked, so that a proceeding being ended at the same moment
		// (moveProsecutionStage, whose UPDATE takes the same lock) is seen
		// ended: no charge is added to a closed proceeding.
		p, err := referenced(ctx, "prosecutionID", "prosecution", lockedProsecution(c), in.ProsecutionID)
		if err != nil {
			return 0, err
		}
		if err := ownProceeding(ctx, c, p, "addCharge", "prosecutionID", false); err != nil {
			return 0, err
		}
		if p.Stage.Terminal() {
			return 0, apperr.InvalidField("prosecutionID", "The proceeding is closed (%s); no charge can be added.", p.Stage)
		}
		if in.SuspectID != nil {
			// A proceeding charges its own defendants: a suspect of the case
			// whom it does not prosecute was taken (a hunt over HTTP).
			charged, err := c.ProsecutionDefendant.Query().Where(
				prosecutiondefendant.ProsecutionID(p.ID), prosecutiondefendant.SuspectID(*in.SuspectID)).Exist(ctx)
			if err != nil {
				return 0, err
			}
			if !charged {
				return 0, apperr.InvalidField("suspectID", "The suspect is not a defendant of this proceeding: a proceeding charges its own defendants (updateProsecution's addDefendantIDs adds one).")
			}
		}
		ch, err := c.Charge.Create().SetInput(in).Save(ctx)
		if err != nil {
			return 0, translate(err)
		}
		return ch.ID, event(ctx, c, p.CaseID, domain.CaseEventKindChargeAdded, ch.ID, fmt.Sprintf("Charge under %s added to %s.", ch.Article, p.RegistrationNumber))
	})
}

// ReclassifyCharge moves a charge to another article, keeping the article it
// was first brought under in reclassifiedFrom. The charges of an ended
// proceeding stay as they were, as addCharge and updateProsecution keep it.
func ReclassifyCharge(ctx context.Context, c *ent.Client, id, expectedVersion int, article domain.Article) (*ent.Charge, error) {
	ch, err := current(ctx, "charge", c.Charge.Get, id, expectedVersion, func(ch *ent.Charge) int { return ch.Version })
	if err != nil {
		return nil, err
	}
	// Locked, as addCharge does, so that a proceeding being ended at the
	// same moment is seen ended.
	p, err := lockedProsecution(c)(ctx, ch.ProsecutionID)
	if err != nil {
		return nil, err
	}
	if err := ownProceeding(ctx, c, p, "reclassifyCharge", "id", false); err != nil {
		return nil, err
	}
	if p.Stage.Terminal() {
		// A hunt reclassified a charge of a dismissed proceeding, which
		// moved the statistics' count of trafficking charges reclassified
		// to a lesser offence after the proceeding had ended.
		return nil, apperr.InvalidField("id", "The charge's proceeding has ended (%s); its charges are not changed any more.", p.Stage)
	}
	if ch.Article == article {
		return nil, apperr.InvalidField("article", "The charge is already under %s.", article)
	}
	u := c.Charge.Update().Where(charge.ID(id), charge.Version(expectedVersion)).
		SetArticle(article).SetReclassifiedAt(time.Now()).AddVersion(1)
	if ch.ReclassifiedFrom == nil {
		u.SetReclassifiedFrom(ch.Article)
	}
	after, err := saved(ctx, "charge", u.Save, c.Charge.Get, id)
	if err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("Charge in %s reclassified from %s to %s.", p.RegistrationNumber, ch.Article, article)
	return after, event(ctx, c, p.CaseID, domain.CaseEventKindChargeReclassified, id, summary)
}

// RecordCourtDecision records a court's decision in a proceeding. The court
// must be a court; a sentence and compensation need a decision that
// convicts someone (decisionOutcome), and a sentence kind needs a length
// unless it is a fine.
func RecordCourtDecision(ctx context.Context, c *ent.Client, in ent.CreateCourtDecisionInput, key *string) (*ent.CourtDecision, error) {
	return idempotent(ctx, c, "recordCourtDecision", key, in, c.CourtDecision.Get, func() (int, error) {
		// The registration the decision is checked against is the one that
		// stays (lockedProsecution).
		p, err := referenced(ctx, "prosecutionID", "prosecution", lockedProsecution(c), in.ProsecutionID)
		if err != nil {
			return 0, err
		}
		court, err := agencyOfKind(ctx, c, "courtID", in.CourtID, "a court", domain.AgencyKind.IsCourt)
		if err != nil {
			return 0, err
		}
		if err := ownCourt(ctx, c, in.CourtID); err != nil {
			return 0, err
		}
		// The court of a decision is in the case's proceedings: a court
		// records one only where it is in them already (it adjudicates the
		// case, or decided in it), as it would give itself ADJUDICATING; a
		// court the police or a coordinator put on the case in another
		// part, which sees its proceedings, does not.
		if err := requireMayGivePart(ctx, c, "recordCourtDecision", "courtID", "Case", p.CaseID, p.CaseID, domain.CasePartAdjudicating); err != nil {
			return 0, err
		}
		stored, err := decisionFits(ctx, c, p, court, in)
		if err != nil {
			return 0, err
		}
		if err := decidedAfterRegistration(in.DecidedOn, p); err != nil {
			return 0, err
		}
		// A review's outcome reads the decision it reviews, among those
		// decisionFits read; a first-instance decision's, its verdict.
		recorded := recordedFacts(in)
		o := decisionOutcome(recorded, decisionFacts(stored))
		if err := validateSentence(o, in.SentenceKind, in.SentenceMonths); err != nil {
			return 0, err
		}
		if err := validateCompensation(o, in.CompensationOrderedLek, in.CompensationPaid != nil && *in.CompensationPaid); err != nil {
			return 0, err
		}
		// Dated on or before a review of its instance, it may become the
		// decision that review upholds (the latest, the last recorded of
		// a date): the review must still convict, as when a decision is
		// moved under it by its date.
		if err := reviewsStillConvict(stored, recorded, "decidedOn"); err != nil {
			return 0, err
		}
		if err := atLeastAMonth(in.SentenceMonths); err != nil {
			return 0, err
		}
		d, err := c.CourtDecision.Create().SetInput(in).Save(ctx)
		if err != nil {
			return 0, translate(err)
		}
		summary := fmt.Sprintf("%s decision in %s: %s.", in.Instance, p.RegistrationNumber, in.Verdict)
		return d.ID, event(ctx, c, p.CaseID, domain.CaseEventKindCourtDecisionRecorded, d.ID, summary)
	})
}

// UpdateCourtDecision corrects a decision or records that compensation was
// paid.
func UpdateCourtDecision(ctx context.Context, c *ent.Client, id, expectedVersion int, in ent.UpdateCourtDecisionInput) (*ent.CourtDecision, error) {
	d, err := current(ctx, "court decision", c.CourtDecision.Get, id, expectedVersion, func(d *ent.CourtDecision) int { return d.Version })
	if err != nil {
		return nil, err
	}
	if err := ownCourt(ctx, c, d.CourtID); err != nil {
		return nil, err
	}
	p, err := lockedProsecution(c)(ctx, d.ProsecutionID)
	if err != nil {
		return nil, err
	}
	verdict := newValue(in.Verdict, d.Verdict)
	kind := newOptional(in.SentenceKind, in.ClearSentenceKind, d.SentenceKind)
	months := newOptional(in.SentenceMonths, in.ClearSentenceMonths, d.SentenceMonths)
	lek := newOptional(in.CompensationOrderedLek, in.ClearCompensationOrderedLek, d.CompensationOrderedLek)
	paid := newValue(in.CompensationPaid, d.CompensationPaid)
	named := newOptional(in.ReviewedDecisionID, in.ClearReviewedDecision, d.ReviewedDecisionID)
	changed := domain.Decision{ID: d.ID, Instance: d.Instance, DecidedOn: newValue(in.DecidedOn, d.DecidedOn),
		Verdict: verdict, Sentenced: kind != nil, ReviewedID: orNone(named)}
	// The proceeding's decisions, read once (its row is locked, so they
	// stay as read), only when a rule needs them: the order of reviews
	// when the date moves, the decision named when one is, what a review
	// of this one convicts when its verdict, its sentence, its date or the
	// decision it names moves, and what this one convicts when it upholds
	// another and carries a sentence or compensation.
	renames := in.ReviewedDecisionID != nil || in.ClearReviewedDecision && d.ReviewedDecisionID != nil
	moves := in.DecidedOn != nil || verdict != d.Verdict || (kind != nil) != (d.SentenceKind != nil) || renames
	upholds := verdict.Conviction() == domain.ConvictsAsReviewed && (kind != nil || lek != nil || paid)
	var stored []*ent.CourtDecision
	if moves || upholds {
		if stored, err = proceedingDecisions(ctx, c, d.ProsecutionID); err != nil {
			return nil, err
		}
	}
	all := decisionFacts(stored)
	if err := namedDecisionFits(domain.WithDecision(all, changed), changed, in.ReviewedDecisionID); err != nil {
		return nil, err
	}
	if in.DecidedOn != nil {
		if err := decidedAfterRegistration(*in.DecidedOn, p); err != nil {
			return nil, err
		}
		if err := reviewsInOrder(all, changed); err != nil {
			return nil, err
		}
	}
	if in.Verdict != nil {
		// Only a verdict given: a decision stored before the rule still
		// takes its payment or its sentence.
		if err := verdictFits(verdict, d.Instance, p); err != nil {
			return nil, err
		}
	}
	// Checked with what the decision keeps: a verdict made an acquittal
	// takes its sentence and its compensation away with it, and a
	// decision stored with either before the rule takes no other change
	// until it does.
	o := decisionOutcome(changed, domain.WithDecision(all, changed))
	if err := validateSentence(o, kind, months); err != nil {
		return nil, err
	}
	if err := validateCompensation(o, lek, paid); err != nil {
		return nil, err
	}
	if moves {
		if err := reviewsStillConvict(stored, changed, movedField(in, d)); err != nil {
			return nil, err
		}
	}
	if err := atLeastAMonth(in.SentenceMonths); err != nil {
		return nil, err
	}
	u := c.CourtDecision.Update().Where(courtdecision.ID(id), courtdecision.Version(expectedVersion)).
		SetInput(in).AddVersion(1)
	after, err := saved(ctx, "court decision", u.Save, c.CourtDecision.Get, id)
	if err != nil {
		return nil, err
	}
	return after, event(ctx, c, p.CaseID, domain.CaseEventKindCourtDecisionRecorded, id, fmt.Sprintf("Decision in %s updated.", p.RegistrationNumber))
}

// lockedProsecution loads a proceeding as the caller sees it, and locks its
// row for the transaction (forUpdate): what it returns stays so until the
// transaction ends. Its registration date and its
// court decisions' dates are checked against each other by the mutations
// that write them (updateProsecution, recordCourtDecision and
// updateCourtDecision), each reading what the other writes: without the
// lock, a registration moved after a decision's day and that decision,
// committed at the same moment, would each pass their check against the
// other's old state. addCharge and reclassifyCharge take it to see whether
// the proceeding has ended. A loader, for current and referenced.
func lockedProsecution(c *ent.Client) func(context.Context, int) (*ent.Prosecution, error) {
	return func(ctx context.Context, id int) (*ent.Prosecution, error) {
		return c.Prosecution.Query().Where(prosecution.ID(id), forUpdate).Only(ctx)
	}
}

// decidedAfterRegistration refuses a decision dated before the day its
// proceeding was registered.
func decidedAfterRegistration(decidedOn time.Time, p *ent.Prosecution) error {
	if decidedBeforeRegistrationDay(decidedOn, p.RegisteredAt) {
		return apperr.InvalidField("decidedOn", "A decision cannot be dated before its proceeding was registered.")
	}
	return nil
}

// decidedBeforeRegistrationDay says whether a decision dated decidedOn
// comes before the day, in Tirana, of a registration at registeredAt: a
// decision is dated by its day, which may be sent as that day's midnight
// in Tirana or in UTC. Until 2026-12-07 (nineteenth session) the day was
// UTC's: a decision dated as local midnight on the day of registration
// (23:00 UTC the day before) was refused, and one of the day before
// accepted under a registration in Tirana's first hour.
func decidedBeforeRegistrationDay(decidedOn, registeredAt time.Time) bool {
	return decidedOn.Before(domain.StartOfDayInTirana(registeredAt))
}

// ownCourt refuses a court's judge recording another court's decision: a
// court records its own decisions (an agency that is no court, such as a
// prosecution office transcribing one, may name any court).
func ownCourt(ctx context.Context, c *ent.Client, courtID int) error {
	own, err := ownAgency(ctx, c)
	if err != nil {
		return err
	}
	if own.Kind.IsCourt() && own.ID != courtID {
		return &apperr.Error{Code: apperr.Forbidden, Field: "courtID", Message: "A court records its own decisions; name your court in courtID."}
	}
	return nil
}

// decisionFits refuses a decision the proceeding's course does not allow:
// in a proceeding no court has had (its trial or its dismissal never
// requested: a first-instance court recorded an appeal's sentence in one
// still being registered, and in one merged before any court had it, a
// hunt over HTTP; and a conviction in one the office dismissed alone, a
// review), at an instance that is not the court's, a verdict on review
// at first instance, a conviction or an acquittal in a proceeding whose
// trial was never requested (verdictFits), or a review of a decision not
// recorded, or decided after it (an appeal needs the first instance's, a
// recourse the appeal's), or naming as the decision it reviews one it may
// not review (namedDecisionFits). A decision recorded late, after the
// proceeding moved on (merged or transferred too, once a court had it),
// is accepted.
// It returns the proceeding's decisions when it read them, else nil: for
// a review, and for a decision that convicts no one by its verdict, which
// a review already recorded may come to uphold (reviewsStillConvict); a
// first-instance conviction leaves any review that comes to uphold it
// convicting, and reads nothing more, unless it names a decision, which
// is refused.
func decisionFits(ctx context.Context, c *ent.Client, p *ent.Prosecution, court *ent.Agency, in ent.CreateCourtDecisionInput) ([]*ent.CourtDecision, error) {
	if p.TrialRequestedAt == nil && p.DismissalRequestedAt == nil {
		return nil, apperr.InvalidField("prosecutionID", "No court has had the proceeding (%s): neither its trial nor its dismissal was requested, so no court decision can be recorded in it.", p.Stage)
	}
	if at, _ := court.Kind.DecidesAt(); at != in.Instance {
		return nil, apperr.InvalidField("instance", "%s decides at %s; a decision at %s is another court's.", court.Code, at, in.Instance)
	}
	if err := verdictFits(in.Verdict, in.Instance, p); err != nil {
		return nil, err
	}
	reviewed, isReview := in.Instance.Reviews()
	if !isReview && in.Verdict.Conviction() == domain.ConvictsSomeone && in.ReviewedDecisionID == nil {
		return nil, nil
	}
	stored, err := proceedingDecisions(ctx, c, p.ID)
	if err != nil {
		return nil, err
	}
	recorded, all := recordedFacts(in), decisionFacts(stored)
	if err := namedDecisionFits(all, recorded, in.ReviewedDecisionID); err != nil || !isReview {
		return stored, err
	}
	if _, ok := recorded.Reviewed(all); !ok {
		return nil, apperr.InvalidField("instance", "A decision at %s reviews one at %s, and none decided on or before it is recorded in this proceeding: record that one first.", in.Instance, reviewed)
	}
	return stored, nil
}

// recordedFacts is the decision input in records, as the rules of
// reviews read it (domain.Decision): not yet recorded, so without an ID.
func recordedFacts(in ent.CreateCourtDecisionInput) domain.Decision {
	return domain.Decision{Instance: in.Instance, DecidedOn: in.DecidedOn, Verdict: in.Verdict,
		Sentenced: in.SentenceKind != nil, ReviewedID: orNone(in.ReviewedDecisionID)}
}

// orNone is the id of a record an optional reference names, 0 when it
// names none (no record has id 0).
func orNone(id *int) int {
	if id == nil {
		return 0
	}
	return *id
}

// namedDecisionFits refuses the decision a review, d, names as the one it
// reviews (named, the input's reviewedDecisionID; nil names none, and a
// name cleared is checked as none): BAD_USER_INPUT on reviewedDecisionID
// when d is no review (a decision at first instance), when named is no
// decision of d's proceeding (all, its decisions, d among them with what
// it will hold), or when it is not one d may review
// (domain.Decision.Reviewed: at the instance d reviews, decided on or
// before d). A decision of another proceeding, seen by the caller or not,
// is refused in the words an id of no decision is: the refusal tells
// nothing of it.
func namedDecisionFits(all []domain.Decision, d domain.Decision, named *int) error {
	if named == nil {
		return nil
	}
	reviewed, isReview := d.Instance.Reviews()
	if !isReview {
		return apperr.InvalidField("reviewedDecisionID", "A decision at %s reviews no other decision: leave reviewedDecisionID out.", d.Instance)
	}
	i := slices.IndexFunc(all, func(x domain.Decision) bool { return x.ID == *named })
	if i < 0 {
		return apperr.InvalidField("reviewedDecisionID", "reviewedDecisionID names no decision of this proceeding: a review names a decision of its own proceeding.")
	}
	if _, ok := d.Reviewed(all); ok {
		return nil
	}
	x := all[i]
	if x.Instance != reviewed {
		return apperr.InvalidField("reviewedDecisionID", "A decision at %s reviews one at %s; the decision named is at %s.", d.Instance, reviewed, x.Instance)
	}
	return apperr.InvalidField("reviewedDecisionID", "The decision named was decided on %s, after this one (%s): a review is of a decision decided on or before it.",
		x.DecidedOn.Format(time.DateOnly), d.DecidedOn.Format(time.DateOnly))
}

// proceedingDecisions reads the decisions of proceeding prosecutionID:
// one statement. The callers hold the proceeding's row locked
// (lockedProsecution), so they stay as read; a proceeding has a few.
func proceedingDecisions(ctx context.Context, c *ent.Client, prosecutionID int) ([]*ent.CourtDecision, error) {
	return c.CourtDecision.Query().Where(courtdecision.ProsecutionID(prosecutionID)).All(ctx)
}

// decisionFacts are decisions as the rules of reviews read them
// (domain.Decision).
func decisionFacts(decisions []*ent.CourtDecision) []domain.Decision {
	out := make([]domain.Decision, len(decisions))
	for i, d := range decisions {
		out[i] = domain.Decision{ID: d.ID, Instance: d.Instance, DecidedOn: d.DecidedOn, Verdict: d.Verdict,
			Sentenced: d.SentenceKind != nil, ReviewedID: orNone(d.ReviewedDecisionID)}
	}
	return out
}

// reviewsInOrder refuses moving a decision to d (its new date) when a
// review would then come before every decision it may review
// (domain.Decision.Reviewed): d itself, if it is a review, or a review of
// d's instance that no other decision there precedes (recordCourtDecision
// asks the same of a new review; moving the first instance's date past its
// appeal's was not refused, a review). A review that names the decision
// it reviews may review that one only: neither is moved past the other.
// all are the proceeding's decisions as stored.
func reviewsInOrder(all []domain.Decision, d domain.Decision) error {
	moved := domain.WithDecision(all, d)
	for _, x := range moved {
		reviewed, ok := x.Instance.Reviews()
		if !ok || x.ID != d.ID && reviewed != d.Instance {
			continue
		}
		if _, ok := x.Reviewed(moved); !ok {
			switch {
			case x.ID == d.ID && d.ReviewedID != 0:
				return apperr.InvalidField("decidedOn", "This decision names the one it reviews (reviewedDecisionID), decided after %s: it cannot be dated before it.", d.DecidedOn.Format(time.DateOnly))
			case x.ID == d.ID:
				return apperr.InvalidField("decidedOn", "A decision at %s reviews one at %s decided on or before it, and none is.", d.Instance, reviewed)
			}
			return apperr.InvalidField("decidedOn", "The decision at %s of %s reviews this one: this one cannot be dated after it.", x.Instance, x.DecidedOn.Format(time.DateOnly))
		}
	}
	return nil
}

// reviewsStillConvict refuses a change of a decision, to d, or a decision
// d recorded (ID 0), that would leave a review carrying a sentence or
// compensation on a decision that convicts no one: a review that upholds
// it (or upholds one that does) convicted before the change and would not
// after it (the first instance's conviction made an acquittal under an
// appeal upholding it with compensation, an amended conviction's sentence
// cleared under the High Court upholding it, a date moved so that the
// review upholds another decision, an appeal made to name another under
// the High Court upholding it, or an acquittal recorded under a review
// that names none, which it would then uphold). The review's court clears
// its sentence and compensation first. A review that convicted no one before
// the change (stored before the rule) does not hold the change back.
// stored are the proceeding's decisions as stored, field the input's
// field that made the change (movedField; decidedOn for one recorded,
// whose date puts it under the review).
func reviewsStillConvict(stored []*ent.CourtDecision, d domain.Decision, field string) error {
	all := decisionFacts(stored)
	changed := domain.WithDecision(all, d)
	for i, x := range all {
		s := stored[i]
		carries := s.SentenceKind != nil || s.CompensationOrderedLek != nil || s.CompensationPaid
		if x.ID == d.ID || !carries || !x.Convicts(all) || x.Convicts(changed) {
			continue
		}
		return apperr.InvalidField(field, "The %s decision at %s of %s upholds this one and carries a sentence or compensation: after this change it would uphold a decision that convicts no one. Its court clears them first.",
			x.Verdict, x.Instance, x.DecidedOn.Format(time.DateOnly))
	}
	return nil
}

// movedField is the field of update input in that changes what decision
// d, as stored, says of who it convicts: its verdict, else its sentence
// (set or cleared), else the decision it names as the one it reviews (set
// or cleared), else its date.
func movedField(in ent.UpdateCourtDecisionInput, d *ent.CourtDecision) string {
	switch {
	case in.Verdict != nil && *in.Verdict != d.Verdict:
		return "verdict"
	case in.ClearSentenceKind && d.SentenceKind != nil && in.SentenceKind == nil:
		return "clearSentenceKind"
	case in.SentenceKind != nil && d.SentenceKind == nil:
		return "sentenceKind"
	case in.ReviewedDecisionID != nil:
		return "reviewedDecisionID"
	case in.ClearReviewedDecision && d.ReviewedDecisionID != nil:
		return "clearReviewedDecision"
	}
	return "decidedOn"
}

// verdictFits refuses a verdict given only on review (upheld, amended,
// quashed) at first instance, and one given only at trial (a conviction,
// an acquittal: domain.Verdict.GivenAtTrial) in proceeding p whose trial
// was never requested. A request to dismiss lets the court dismiss or
// send the file back (DISMISSAL_REQUESTED → UNDER_INVESTIGATION, which
// keeps dismissalRequestedAt); after a send-back the office requests a
// trial before a court convicts, and no stage leads from a trial request
// back to the investigation, so trialRequestedAt set is a request made
// after any send-back. A court of first instance recorded a conviction in
// a proceeding whose dismissal request it had sent back, under
// investigation again (a hunt).
func verdictFits(v domain.Verdict, at domain.Instance, p *ent.Prosecution) error {
	if v.OnReviewOnly() && at == domain.InstanceFirstInstance {
		return apperr.InvalidField("verdict", "%s is a verdict on review (appeal or High Court), not at first instance.", v)
	}
	if v.GivenAtTrial() && p.TrialRequestedAt == nil {
		return apperr.InvalidField("verdict", "%s is given at trial, and this proceeding's trial was never requested (it is %s): a request to dismiss lets the court dismiss or send the file back, and after a send-back the office requests a trial first.", v, p.Stage)
	}
	return nil
}

// ownProceeding refuses a change to proceeding p (mutation, field naming
// what is refused) by anyone but its own prosecution office, or, where
// courtMay (a move that is no transfer or merger: moveProsecutionStage
// says), a court in its case's proceedings (inTheProceedings: it
// adjudicates the case, or decided in it) and that the proceeding is before
// (domain.ProceedingStage.BeforeCourt). Seeing a proceeding is not owning
// it: without this, an office that saw another office's proceeding (a
// district office those of its region, the General Prosecution Office every
// one) could end it for good, which closes its case, take it over (which
// opens its victims' identity and testimony), or charge in it (a helper's
// hunt, 2026-12-05). A refusal is an audit event about the proceeding.
func ownProceeding(ctx context.Context, c *ent.Client, p *ent.Prosecution, mutation, field string, courtMay bool) error {
	caller, err := actor(ctx)
	if err != nil {
		return err
	}
	if caller.AgencyID == p.OfficeID {
		return nil // the common case costs no statement
	}
	if courtMay {
		own, err := ownAgency(ctx, c)
		if err != nil {
			return err
		}
		if own.Kind.IsCourt() && p.Stage.BeforeCourt(own.Kind) {
			// In the case's proceedings (it adjudicates the case, or decided
			// in it), not merely on the case: a court the police or a
			// coordinator put on it as COORDINATING moved the proceeding
			// through trial (twenty-seventh session, 2026-12-08).
			in, err := inTheProceedings(ctx, c, own, p.CaseID)
			if err != nil || in {
				return err
			}
		}
	}
	return refused(ctx, "Prosecution", p.ID, mutation, "not the proceeding's office", field,
		"Only the proceeding's prosecution office changes it, its charges and its deadline; a court that adjudicates its case moves it through trial and appeal.")
}

// atLeastAMonth refuses a sentence length given as less than a month (a
// length stored before this rule is left alone until it is changed).
func atLeastAMonth(months *int) error {
	if months != nil && *months < 1 {
		return apperr.InvalidField("sentenceMonths", "A sentence lasts at least one month.")
	}
	return nil
}

// outcome is whether a decision convicts someone (domain.Decision.Convicts)
// and, when it does not, why, as a refusal says it.
type outcome struct {
	convicts bool
	why      string
}

// decisionOutcome is the outcome of decision d among all, its
// proceeding's decisions.
func decisionOutcome(d domain.Decision, all []domain.Decision) outcome {
	if d.Convicts(all) {
		return outcome{convicts: true}
	}
	switch x := d.Deciding(all); d.Verdict.Conviction() {
	case domain.ConvictsAsReviewed:
		return outcome{why: fmt.Sprintf("This %s decision upholds the %s decision at %s of %s, which convicts no one",
			d.Verdict, x.Verdict, x.Instance, x.DecidedOn.Format(time.DateOnly))}
	case domain.ConvictsWhenSentenced:
		return outcome{why: fmt.Sprintf("An %s decision without a sentence convicts no one (an amendment into a conviction states its sentence)", d.Verdict)}
	}
	return outcome{why: fmt.Sprintf("A %s decision convicts no one", d.Verdict)}
}

// validateSentence refuses a sentence on a decision that convicts no one
// (o), a length without a kind, and a kind other than a fine without a
// length.
func validateSentence(o outcome, kind *domain.SentenceKind, months *int) error {
	if kind != nil && !o.convicts {
		return apperr.InvalidField("sentenceKind", "%s: it carries no sentence.", o.why)
	}
	if months != nil && kind == nil {
		return apperr.InvalidField("sentenceKind", "A sentence length needs a sentence kind.")
	}
	if kind != nil && *kind != domain.SentenceKindFine && months == nil {
		return apperr.InvalidField("sentenceMonths", "A %s sentence needs its length in months.", *kind)
	}
	return nil
}

// validateCompensation refuses compensation (an amount, 0 included, or a
// payment) on a decision that convicts no one (o), as validateSentence
// refuses its sentence: compensation to the victim is ordered with a
// conviction (docs/domain.md). An ACQUITTED or DISMISSED decision
// ordering 500,000 lek, paid, was recorded and counted by
// prosecutionMeasures as compensation ordered and paid (a hunt), and so
// was an appeal upholding an acquittal (nineteenth session). lek and paid
// are what the decision would hold: an update is checked with what it
// keeps.
func validateCompensation(o outcome, lek *int64, paid bool) error {
	switch {
	case o.convicts:
		return nil
	case lek != nil:
		return apperr.InvalidField("compensationOrderedLek", "%s: it orders no compensation, as only a conviction does.", o.why)
	case paid:
		return apperr.InvalidField("compensationPaid", "%s: it orders no compensation, so none is paid.", o.why)
	}
	return nil
}

// chargedStay refuses taking out of a proceeding's defendants one it
// charges (removeDefendantIDs, clearDefendants): a charge is against a
// defendant of its proceeding (addCharge), and removing the defendant
// left it against someone the proceeding no longer prosecutes (a review).
func chargedStay(ctx context.Context, c *ent.Client, prosecutionID int, in ent.UpdateProsecutionInput) error {
	field, removed := "removeDefendantIDs", charge.SuspectIDIn(in.RemoveDefendantIDs...)
	switch {
	case in.ClearDefendants:
		field, removed = "clearDefendants", charge.SuspectIDNotNil()
	case len(in.RemoveDefendantIDs) == 0:
		return nil
	}
	charged, err := c.Charge.Query().Where(charge.ProsecutionID(prosecutionID), removed).Exist(ctx)
	if err != nil {
		return err
	}
	if charged {
		return apperr.InvalidField(field, "A defendant this proceeding charges stays its defendant: the charges against them are the proceeding's record.")
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

// proceedingRegistered keeps the case consistent with a proceeding of
// office registered in it (or moved to office): the office prosecutes the
// case, and the case's stage follows its proceedings.
func proceedingRegistered(ctx context.Context, c *ent.Client, caseID, officeID int) error {
	if err := assignProsecutingOffice(ctx, c, caseID, officeID); err != nil {
		return err
	}
	return followProceedings(ctx, c, caseID)
}

// assignProsecutingOffice gives office the part PROSECUTING on the case,
// unless it has it: an office that brings a proceeding prosecutes the
// case, whatever part it had before. An office that no longer has a
// proceeding keeps its part; assignAgencyToCase changes it.
func assignProsecutingOffice(ctx context.Context, c *ent.Client, caseID, officeID int) error {
	office, err := c.Agency.Get(ctx, officeID)
	if err != nil {
		return err
	}
	_, err = assign(ctx, c, caseID, office, domain.CasePartProsecuting, nil)
	return err
}

// followProceedings sets the case's stage and closedAt to what its
// proceedings and its opening date give it (followingProceedings), closing
// the case when they have all ended and reopening it when a new one
// starts. Whatever changes moves the case's version and is a timeline
// entry, so a client holding the old version gets CONFLICT on its next
// update. It is called whenever something the rule reads changes: a
// proceeding's stage, a new proceeding, the case's openedAt (UpdateCase).
// The case is locked first (lockCase): two proceedings ending at once
// would otherwise each read the other as still open.
func followProceedings(ctx context.Context, c *ent.Client, caseID int) error {
	cf, err := lockCase(ctx, c, caseID)
	if err != nil {
		return err
	}
	proceedings, err := proceedingEnds(ctx, c, caseID)
	if err != nil {
		return err
	}
	stage, closedAt, ok := followingProceedings(cf, proceedings)
	if !ok || cf.Stage == stage && sameInstant(cf.ClosedAt, closedAt) {
		return nil
	}
	u := cf.Update().SetStage(stage).SetNillableClosedAt(closedAt).AddVersion(1)
	if closedAt == nil {
		u.ClearClosedAt()
	}
	if err := u.Exec(viewer.SystemContext(ctx)); err != nil {
		return translate(err)
	}
	if cf.Stage == stage {
		return event(ctx, c, caseID, domain.CaseEventKindCaseUpdated, caseID,
			fmt.Sprintf("Closing date moved from %s to %s, following its proceedings.", closingDate(cf.ClosedAt), closingDate(closedAt)))
	}
	return event(ctx, c, caseID, domain.CaseEventKindStageChanged, caseID,
		fmt.Sprintf("Stage changed from %s to %s, following its proceedings.", cf.Stage, stage))
}

// proceedingEnds reads what followingProceedings reads of a case's
// proceedings, all of them whoever asks: their stages and the dates they
// ended.
func proceedingEnds(ctx context.Context, c *ent.Client, caseID int) ([]*ent.Prosecution, error) {
	return c.Prosecution.Query().Where(prosecution.CaseID(caseID)).
		Select(prosecution.FieldStage, prosecution.FieldClosedAt).All(viewer.SystemContext(ctx))
}

// followingProceedings is the one rule of a case with proceedings: its
// stage is domain.CaseStageFollowing of theirs, and once that is an
// outcome the case is closed (closedAt), else open (nil). ok is false for
// a case without proceedings, whose stage is moved by hand.
//
// The case closes when its last proceeding ended, on the date that
// proceeding records (a stage may be dated in the past), not when the
// server learnt of it. It is never closed before it was opened (a
// proceeding may be registered with an earlier date than the case's), so
// closedAt depends on openedAt too. A proceeding ended without a date
// (not one CaseGraph wrote) leaves the server's time when the case
// closes, and the closedAt it was given then while it stays closed: the
// server learnt of the end no later.
func followingProceedings(cf *ent.CaseFile, proceedings []*ent.Prosecution) (stage domain.ProceedingStage, closedAt *time.Time, ok bool) {
	ps := make([]domain.ProceedingStage, len(proceedings))
	lastEnded := cf.OpenedAt
	undated := false
	for i, p := range proceedings {
		ps[i] = p.Stage
		switch {
		case p.Stage.Terminal() && p.ClosedAt == nil:
			undated = true
		case p.ClosedAt != nil && p.ClosedAt.After(lastEnded):
			lastEnded = *p.ClosedAt
		}
	}
	stage, ok = domain.CaseStageFollowing(ps)
	switch {
	case !ok || !stage.Terminal():
		return stage, nil, ok
	case undated && cf.ClosedAt != nil && cf.Stage.Terminal():
		return stage, cf.ClosedAt, true
	case undated:
		now := time.Now()
		return stage, &now, true
	}
	return stage, &lastEnded, true
}

// closingDate is a case's closedAt as a timeline entry says it.
func closingDate(closedAt *time.Time) string {
	if closedAt == nil {
		return "none"
	}
	return closedAt.UTC().Format(time.RFC3339)
}

// sameInstant reports whether a and b are both unset or name the same
// instant.
func sameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// stageFollowsProceedings refuses to move by hand the stage of a case that
// has proceedings: it follows them.
func stageFollowsProceedings(ctx context.Context, c *ent.Client, caseID int) error {
	has, err := c.Prosecution.Query().Where(prosecution.CaseID(caseID)).Exist(viewer.SystemContext(ctx))
	if err != nil {
		return err
	}
	if has {
		return apperr.InvalidField("stage", "This case's stage follows its criminal proceedings; move the proceeding (moveProsecutionStage) instead.")
	}
	return nil
}
