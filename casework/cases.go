package casework

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/casevictim"
	"github.com/casegraph/casegraph/ent/predicate"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/viewer"
)

// OpenCase opens a case at NOTICE_RECEIVED and assigns its lead agency
// (and the caller's, when another) to it, in the part each one's kind plays. Returns CONFLICT when the
// reference is taken.
func OpenCase(ctx context.Context, c *ent.Client, in ent.CreateCaseInput, key *string) (*ent.CaseFile, error) {
	return idempotent(ctx, c, "openCase", key, in, c.CaseFile.Get, func() (int, error) {
		if err := validateExploitation(in.FormsOfExploitation); err != nil {
			return 0, err
		}
		lead, err := referenced(ctx, "leadAgencyID", "agency", c.Agency.Get, in.LeadAgencyID)
		if err != nil {
			return 0, err
		}
		// The lead takes its kind's part (partOf): a court or another
		// prosecution office as lead is given a legal basis.
		if err := requireMayGivePart(ctx, c, "openCase", "leadAgencyID", "Agency", lead.ID, 0, partOf(lead.Kind)); err != nil {
			return 0, err
		}
		cf, err := createUnique(ctx, "openCase", c.CaseFile.Create().SetInput(in).Save, "reference", in.Reference,
			"A case with reference %q already exists.")
		if err != nil {
			return 0, err
		}
		err = c.CaseAssignment.Create().SetCaseID(cf.ID).SetAgencyID(lead.ID).SetPart(partOf(lead.Kind)).Exec(ctx)
		if err != nil {
			return 0, err
		}
		// The agency that opens a case for another works on it too, so it
		// keeps seeing what it opened.
		if p := viewer.FromContext(ctx); p != nil && p.AgencyID != lead.ID {
			own, err := c.Agency.Get(ctx, p.AgencyID)
			if err != nil {
				return 0, err
			}
			err = c.CaseAssignment.Create().SetCaseID(cf.ID).SetAgencyID(own.ID).SetPart(partOf(own.Kind)).Exec(ctx)
			if err != nil {
				return 0, err
			}
			err = event(ctx, c, cf.ID, domain.CaseEventKindAgencyAssigned, own.ID, fmt.Sprintf("%s assigned as %s.", own.Code, partOf(own.Kind)))
			if err != nil {
				return 0, err
			}
		}
		return cf.ID, event(ctx, c, cf.ID, domain.CaseEventKindCaseOpened, cf.ID, fmt.Sprintf("Case %s opened; lead agency %s.", cf.Reference, lead.Code))
	})
}

// UpdateCase changes a case's descriptive fields. Returns CONFLICT when
// expectedVersion is not the case's current version.
func UpdateCase(ctx context.Context, c *ent.Client, id, expectedVersion int, in ent.UpdateCaseInput) (*ent.CaseFile, error) {
	if err := validateExploitation(append(slices.Clone(in.FormsOfExploitation), in.AppendFormsOfExploitation...)); err != nil {
		return nil, err
	}
	cf, err := current(ctx, "case", c.CaseFile.Get, id, expectedVersion, func(cf *ent.CaseFile) int { return cf.Version })
	if err != nil {
		return nil, err
	}
	// Seeing a case is not working on it: a national body sees every case
	// and changed their region (which moves them into another district's
	// rows), opening date or lead (a review's hunt).
	if err := requireWorksOnOrCoordinates(ctx, c, "updateCase", "id", id); err != nil {
		return nil, err
	}
	// A case is never opened after it closed; a hunt moved openedAt past
	// closedAt, and the case then read as closed before it was opened.
	// closedAt changes only with the case's version, which the update
	// below requires unchanged.
	if in.OpenedAt != nil && cf.ClosedAt != nil && in.OpenedAt.After(*cf.ClosedAt) {
		if err := closesOnceOpened(ctx, c, cf, *in.OpenedAt); err != nil {
			return nil, err
		}
	}
	if in.AppendFormsOfExploitation != nil {
		in.FormsOfExploitation = appendForms(cf.FormsOfExploitation, in.FormsOfExploitation, in.AppendFormsOfExploitation)
		in.AppendFormsOfExploitation = nil
	}
	if in.LeadAgencyID != nil {
		// The caller works on the case (checked above). A court or a
		// prosecution office as lead is named as in OpenCase, where the
		// lead takes its kind's part; named here it is given no part, and
		// works on the case without being in its proceedings
		// (requireMayGivePart refuses it the part it would give itself).
		lead, err := agencyOfKind(ctx, c, "leadAgencyID", *in.LeadAgencyID, "", nil)
		if err != nil {
			return nil, err
		}
		if err := requireMayGivePart(ctx, c, "updateCase", "leadAgencyID", "Case", id, id, partOf(lead.Kind)); err != nil {
			return nil, err
		}
	}
	u := c.CaseFile.Update().Where(casefile.ID(id), casefile.Version(expectedVersion)).
		SetInput(in).AddVersion(1)
	after, err := saved(ctx, "case", u.Save, c.CaseFile.Get, id)
	if err != nil {
		return nil, err
	}
	if err := event(ctx, c, id, domain.CaseEventKindCaseUpdated, id, "Case details updated."); err != nil {
		return nil, err
	}
	// openedAt is the one field of the input that the rule of a case with
	// proceedings reads (followingProceedings: the case never closes
	// before it opened); the others (title, region, forms, lead) it does
	// not. Without this a closed case kept the closedAt clamped to the
	// opening date it no longer had (a hunt).
	if in.OpenedAt == nil {
		return after, nil
	}
	if err := followProceedings(ctx, c, id); err != nil {
		return nil, err
	}
	return c.CaseFile.Get(ctx, id)
}

// closesOnceOpened refuses moving the opening date of closed case cf to
// openedAt, past its closedAt, when the case would then have closed
// before it opened: when its closing date is not one the rule of its
// proceedings moves with openedAt. A case closed by hand (no proceedings)
// closed on the day it was, and one whose proceeding ended without a date
// keeps the server's time it closed at (followingProceedings): those
// bound openedAt. A case whose proceedings all ended on dates they record
// closes on the latest of them or on its openedAt if that is later
// (README, "The case follows its proceedings"), so openedAt moves past
// the stored closedAt, the clamp to the old opening date, and closedAt
// follows it (followProceedings, after the update). Comparing with the
// clamp refused that move, which the same facts typed in the other order
// (openedAt first, the proceeding ended after) made: the case ended in two
// states by the order of its clerks (a hunt over HTTP). Asked only when
// openedAt passes closedAt: one statement more then, none otherwise.
func closesOnceOpened(ctx context.Context, c *ent.Client, cf *ent.CaseFile, openedAt time.Time) error {
	proceedings, err := proceedingEnds(ctx, c, cf.ID)
	if err != nil {
		return err
	}
	closedAt := cf.ClosedAt
	if len(proceedings) > 0 {
		moved := *cf
		moved.OpenedAt = openedAt
		_, closedAt, _ = followingProceedings(&moved, proceedings)
	}
	if closedAt != nil && closedAt.Before(openedAt) {
		return apperr.InvalidField("openedAt", "The case closed on %s; it cannot have been opened after that.", closedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// MoveCaseStage moves a case along the proceeding lifecycle; reaching a
// terminal stage closes it. An impossible move is BAD_USER_INPUT listing the
// allowed stages; so is moving a case that has proceedings, whose stage
// follows them (followProceedings).
func MoveCaseStage(ctx context.Context, c *ent.Client, id, expectedVersion int, stage domain.ProceedingStage) (*ent.CaseFile, error) {
	// Locked first: a proceeding registered at the same moment (which
	// locks the case before it commits) is then seen by the check below;
	// read before it committed, the case was moved by hand and no longer
	// followed its proceedings.
	cf, err := current(ctx, "case", lockedCase(c), id, expectedVersion, func(cf *ent.CaseFile) int { return cf.Version })
	if err != nil {
		return nil, err
	}
	if err := requireWorksOnOrCoordinates(ctx, c, "moveCaseStage", "id", id); err != nil {
		return nil, err
	}
	if err := stageFollowsProceedings(ctx, c, id); err != nil {
		return nil, err
	}
	if !cf.Stage.CanMoveTo(stage) {
		return nil, transitionError("stage", cf.Stage, stage, cf.Stage.NextStages())
	}
	u := c.CaseFile.Update().Where(casefile.ID(id), casefile.Version(expectedVersion)).
		SetStage(stage).AddVersion(1)
	if stage.Terminal() {
		u.SetClosedAt(time.Now())
	}
	after, err := saved(ctx, "case", u.Save, c.CaseFile.Get, id)
	if err != nil {
		return nil, err
	}
	return after, event(ctx, c, id, domain.CaseEventKindStageChanged, id, fmt.Sprintf("Stage changed from %s to %s.", cf.Stage, stage))
}

// AssignAgency assigns an agency to a case in a part, or changes the part it
// has there. Assigning the part it already has changes nothing, so a retry
// is harmless.
func AssignAgency(ctx context.Context, c *ent.Client, caseID, agencyID int, part domain.CasePart) (*ent.CaseAssignment, error) {
	if err := reference(ctx, aCase(c, "caseID", caseID)); err != nil {
		return nil, err
	}
	a, err := referenced(ctx, "agencyID", "agency", c.Agency.Get, agencyID)
	if err != nil {
		return nil, err
	}
	if err := requireWorksOnOrCoordinates(ctx, c, "assignAgencyToCase", "caseID", caseID); err != nil {
		return nil, err
	}
	if !partFits(a.Kind, part) {
		return nil, apperr.InvalidField("part", "%s is a %s; it cannot take the part %s in a case.", a.Code, a.Kind, part)
	}
	return assign(ctx, c, caseID, a, part, func(had domain.CasePart) error {
		return requireMayGivePart(ctx, c, "assignAgencyToCase", "part", "Case", caseID, caseID, had, part)
	})
}

// requireMayGivePart refuses mutation unless the caller's agency may give
// and take away each of parts that is a legal basis in the case caseID
// (0 for a case the caller is opening, in which it takes its own kind's
// part): an assignment's part before and after a change ("" for none), a
// lead's, a proceeding's office's, a decision's court's. PROSECUTING and
// ADJUDICATING let the agency read the case's victims' data without their
// consent (authz's "proceedings" condition), so they come from the
// criminal proceedings' own actors: an agency of a kind that gives the
// part (legalBasisGiver) that is itself in the case's proceedings
// (inTheProceedings). Before the twenty-seventh session (2026-12-08) a
// police directorate, or the Responsible Authority on any case, could put
// a court on a case with no proceeding (or open one led by a court) and
// its judges read every victim linked into it, or take a court's part
// away; and, once that was refused, still put a court or another office on
// the case as COORDINATING, after which it worked on the case and gave
// itself the part, registered a proceeding of its own or recorded a
// decision there. The refusal names field and is an audit event about the
// record of entityType and id.
func requireMayGivePart(ctx context.Context, c *ent.Client, mutation, field, entityType string, id, caseID int, parts ...domain.CasePart) error {
	var given []domain.CasePart
	for _, p := range parts {
		if p.IsLegalBasis() {
			given = append(given, p)
		}
	}
	if len(given) == 0 {
		return nil // no statement for the other parts, most writes' case
	}
	own, err := ownAgency(ctx, c)
	if err != nil {
		return err
	}
	for _, p := range given {
		if !legalBasisGiver(own.Kind, p) {
			return refused(ctx, entityType, id, mutation, "may not give or take away the part "+string(p), field,
				fmt.Sprintf("Only %s gives or takes away the part %s: it opens the case's victims' data without their consent.",
					legalBasisGivers(p), p))
		}
	}
	if caseID == 0 {
		return nil
	}
	in, err := inTheProceedings(ctx, c, own, caseID)
	if err != nil || in {
		return err
	}
	p := given[0]
	return refused(ctx, entityType, id, mutation, "not in the case's proceedings: may not give or take away the part "+string(p), field,
		fmt.Sprintf("Only %s gives or takes away the part %s: it opens the case's victims' data without their consent. Your agency works on this case, but not in its criminal proceedings.",
			legalBasisGivers(p), p))
}

// inTheProceedings reports whether agency own is in the criminal
// proceedings of case caseID (authz.InProceedingsOf: it prosecutes or
// adjudicates the case, registered one of its proceedings or decided in
// one) or, a prosecution office, is competent for the case by territory
// (the district office registers every notice of its district, and brings
// the first proceeding). Working on the case in another part is not
// enough: the police or a coordinator assign a court or an office as
// COORDINATING, and it would then give itself what they may not give it.
// A court is never competent by territory (docs/domain.md).
func inTheProceedings(ctx context.Context, c *ent.Client, own *ent.Agency, caseID int) (bool, error) {
	standing := []predicate.CaseFile{authz.InProceedingsOf(own.ID)}
	if own.Kind.IsProsecution() && own.Region != nil {
		standing = append(standing, casefile.RegionEQ(*own.Region))
	}
	return c.CaseFile.Query().Where(casefile.ID(caseID), casefile.Or(standing...)).Exist(viewer.SystemContext(ctx))
}

// legalBasisGiver reports whether an agency of kind k that is in a case's
// proceedings (inTheProceedings) may give another agency (or itself) the
// legal-basis part p, or take it away: a prosecution office PROSECUTING
// (it brings the case to court, or hands it to another office) and
// ADJUDICATING (it asks a court for trial, or for a measure in the
// investigation); a court ADJUDICATING (a court of first instance hands
// the case to the court of appeal).
func legalBasisGiver(k domain.AgencyKind, p domain.CasePart) bool {
	switch p {
	case domain.CasePartProsecuting:
		return k.IsProsecution()
	case domain.CasePartAdjudicating:
		return k.IsProsecution() || k.IsCourt()
	}
	return true
}

// legalBasisGivers names who requireMayGivePart lets give p, for the
// refusal.
func legalBasisGivers(p domain.CasePart) string {
	if p == domain.CasePartAdjudicating {
		return "a prosecution office or a court in the case's criminal proceedings"
	}
	return "a prosecution office in the case's criminal proceedings (or the district office competent for it)"
}

// LinkVictim links a victim to a case; linking twice changes nothing.
//
// A link gives every agency that works on the case standing over the
// victim (its sensitive fields open to them), so it is given, not taken:
// only an agency that already has standing over the victim links them
// (requireStandingOverVictim), or a coordinator (the National Referral
// Mechanism's responsible authority, which also records referrals between
// others). Without this an agency that sees every victim could open a
// case of its own, or pick another agency's, and link any victim into it.
func LinkVictim(ctx context.Context, c *ent.Client, victimID, caseID int) (*ent.CaseFile, error) {
	if err := reference(ctx, aVictim(c, "victimID", victimID), aCase(c, "caseID", caseID)); err != nil {
		return nil, err
	}
	if err := requireStandingOverVictim(ctx, c, victimID); err != nil {
		return nil, err
	}
	if err := linkVictim(ctx, c, victimID, caseID); err != nil {
		return nil, err
	}
	return c.CaseFile.Get(ctx, caseID)
}

// requireStandingOverVictim refuses a link of the victim by a caller who is
// no coordinator and whose agency does not already work with the victim:
// it works on (or is competent for, by territory) one of the victim's
// cases, or the victim is on no case yet and of the agency's region
// (registered first, linked after). An agency of no region that registers
// a victim links it by naming its cases when it registers it.
func requireStandingOverVictim(ctx context.Context, c *ent.Client, victimID int) error {
	if coordinates(ctx, "linkVictimToCase") {
		return nil
	}
	own, err := ownAgency(ctx, c)
	if err != nil {
		return err
	}
	withVictim, err := anyCaseWorkedOn(ctx, c, own, casefile.HasVictimLinksWith(casevictim.VictimID(victimID)))
	if err != nil || withVictim {
		return err
	}
	if own.Region != nil {
		sys := viewer.SystemContext(ctx)
		caseless, err := c.Victim.Query().Where(victim.ID(victimID), victim.RegionEQ(*own.Region), victim.Not(victim.HasCaseLinks())).Exist(sys)
		if err != nil || caseless {
			return err
		}
	}
	// The message does not say why: "your agency does not work on any case
	// of this victim" told an agency of the victim's region that the
	// victim is on a case it cannot see (a victim on no case it may link).
	return &apperr.Error{Code: apperr.Forbidden, Field: "victimID",
		Message: "Your agency may link a victim it already works with on a case, or one of its region on no case yet; a coordinator may link any victim."}
}

func linkVictim(ctx context.Context, c *ent.Client, victimID, caseID int) error {
	if _, err := lockCase(ctx, c, caseID); err != nil {
		return err
	}
	linked, err := c.CaseVictim.Query().Where(casevictim.CaseID(caseID), casevictim.VictimID(victimID)).Exist(ctx)
	if err != nil || linked {
		return err
	}
	if err := c.CaseVictim.Create().SetCaseID(caseID).SetVictimID(victimID).Exec(ctx); err != nil {
		return translate(err)
	}
	return victimCaseEvent(ctx, c, caseID, victimID, domain.CaseEventKindVictimLinked, victimID, "Victim linked to the case.")
}

// partOf is the part an agency of kind k plays in a case it leads.
func partOf(k domain.AgencyKind) domain.CasePart {
	switch {
	case k.IsProsecution():
		return domain.CasePartProsecuting
	case k.IsCourt():
		return domain.CasePartAdjudicating
	}
	switch k {
	case domain.AgencyKindStatePoliceGeneralDirectorate, domain.AgencyKindLocalPoliceDirectorate,
		domain.AgencyKindBorderAndMigrationPolice, domain.AgencyKindNationalBureauOfInvestigation:
		return domain.CasePartInvestigating
	case domain.AgencyKindNationalAntiTraffickingCoordinator, domain.AgencyKindResponsibleAuthority,
		domain.AgencyKindMinistryOfInterior, domain.AgencyKindHighProsecutorialCouncil:
		return domain.CasePartCoordinating
	}
	return domain.CasePartSupporting
}

// partFits reports whether an agency of kind k may take part p in a case:
// only prosecution offices prosecute and only courts adjudicate (these
// parts are the legal basis for reading victims' data without consent), and
// only police and investigation bodies investigate.
func partFits(k domain.AgencyKind, p domain.CasePart) bool {
	switch p {
	case domain.CasePartProsecuting:
		return k.IsProsecution()
	case domain.CasePartAdjudicating:
		return k.IsCourt()
	case domain.CasePartInvestigating:
		return partOf(k) == domain.CasePartInvestigating
	}
	return !k.IsProsecution() && !k.IsCourt() || p == domain.CasePartCoordinating
}

// appendForms is what appendFormsOfExploitation means: the forms set in the
// same input (or else the current ones) followed by the appended ones they
// do not name yet (the forms are a set: appending one already there leaves
// it once). The generated UpdateXInput.Mutate appends the wrong list
// (entgql bug, fixed upstream in ent/contrib#639), so callers do it here
// and clear the append.
func appendForms(current, set, add []domain.Exploitation) []domain.Exploitation {
	forms := slices.Clone(current)
	if set != nil {
		forms = slices.Clone(set)
	}
	for _, f := range add {
		if !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	return forms
}

func validateExploitation(forms []domain.Exploitation) error {
	for _, f := range forms {
		if !f.Valid() {
			return apperr.InvalidField("formsOfExploitation", "%q is not a form of exploitation.", f)
		}
	}
	return nil
}
