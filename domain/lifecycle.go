package domain

import (
	"slices"
	"time"
)

// proceedingTransitions is the lifecycle of a criminal proceeding
// (docs/domain.md, Criminal proceedings). A case follows the same stages as the
// proceeding that leads it. Any stage that is not terminal may also exit
// sideways to TRANSFERRED (e.g. to SPAK) or MERGED.
var proceedingTransitions = map[ProceedingStage][]ProceedingStage{
	ProceedingStageNoticeReceived:     {ProceedingStageRegistered},
	ProceedingStageRegistered:         {ProceedingStageUnderInvestigation},
	ProceedingStageUnderInvestigation: {ProceedingStageInvestigationClosed},
	ProceedingStageInvestigationClosed: {
		ProceedingStageDismissed, ProceedingStageDismissalRequested, ProceedingStageTrialRequested,
	},
	// The court grants the dismissal request or sends the file back for
	// further investigation (Art. 329/a).
	ProceedingStageDismissalRequested:   {ProceedingStageDismissed, ProceedingStageUnderInvestigation},
	ProceedingStageTrialRequested:       {ProceedingStageFirstInstanceTrial},
	ProceedingStageFirstInstanceTrial:   {ProceedingStageFirstInstanceDecided},
	ProceedingStageFirstInstanceDecided: {ProceedingStageAppeal, ProceedingStageFinal},
	ProceedingStageAppeal:               {ProceedingStageAppealDecided},
	// An appeal decision becomes final, goes to the High Court, or quashes
	// the first decision and sends the case back to trial.
	ProceedingStageAppealDecided: {
		ProceedingStageHighCourtRecourse, ProceedingStageFinal, ProceedingStageFirstInstanceTrial,
	},
	// The High Court decides finally or sends the case back to an earlier
	// instance.
	ProceedingStageHighCourtRecourse: {
		ProceedingStageFinal, ProceedingStageAppeal, ProceedingStageFirstInstanceTrial,
	},
}

// Terminal reports whether no stage follows s.
func (s ProceedingStage) Terminal() bool {
	switch s {
	case ProceedingStageDismissed, ProceedingStageFinal, ProceedingStageTransferred, ProceedingStageMerged:
		return true
	}
	return false
}

// NextStages lists the stages a proceeding in stage s may move to.
func (s ProceedingStage) NextStages() []ProceedingStage {
	if s.Terminal() || !s.Valid() {
		return nil
	}
	next := slices.Clone(proceedingTransitions[s])
	return append(next, ProceedingStageTransferred, ProceedingStageMerged)
}

// BeforeCourt reports whether a proceeding in stage s waits on a court of
// kind k: a dismissal or a trial requested, and the trial, on a court of
// first instance; an appeal on a court of appeal; a recourse on the High
// Court; a decision that may still be appealed on the court that gave it
// and the one that would hear the appeal. A court of one level does not
// decide for another (a court of first instance on the case ended a
// proceeding before the High Court: a review).
func (s ProceedingStage) BeforeCourt(k AgencyKind) bool {
	first := k == AgencyKindCourtFirstInstance || k == AgencyKindSpecialCourtFirstInstance
	appeal := k == AgencyKindCourtOfAppeal || k == AgencyKindSpecialCourtOfAppeal
	switch s {
	case ProceedingStageDismissalRequested, ProceedingStageTrialRequested, ProceedingStageFirstInstanceTrial:
		return first
	case ProceedingStageFirstInstanceDecided:
		return first || appeal
	case ProceedingStageAppeal:
		return appeal
	case ProceedingStageAppealDecided:
		return appeal || k == AgencyKindHighCourt
	case ProceedingStageHighCourtRecourse:
		return k == AgencyKindHighCourt
	}
	return false
}

// CanMoveTo reports whether a proceeding in stage s may move to next.
func (s ProceedingStage) CanMoveTo(next ProceedingStage) bool {
	return slices.Contains(s.NextStages(), next)
}

// referralTransitions is the lifecycle of a referral (docs/domain.md, Support):
// PENDING → ACCEPTED | REJECTED → COMPLETED, or REVOKED by the referring
// agency while it is still open.
var referralTransitions = map[ReferralStatus][]ReferralStatus{
	ReferralStatusPending:  {ReferralStatusAccepted, ReferralStatusRejected, ReferralStatusRevoked},
	ReferralStatusAccepted: {ReferralStatusCompleted, ReferralStatusRevoked},
}

// NextStatuses lists the statuses a referral in status s may move to.
func (s ReferralStatus) NextStatuses() []ReferralStatus {
	return slices.Clone(referralTransitions[s])
}

// CanMoveTo reports whether a referral in status s may move to next.
func (s ReferralStatus) CanMoveTo(next ReferralStatus) bool {
	return slices.Contains(referralTransitions[s], next)
}

// ReferralStatusChange is one step in a referral's history: the status it
// moved to, when, and who moved it. It holds no personal data of the victim.
type ReferralStatusChange struct {
	Status       ReferralStatus `json:"status"`
	At           time.Time      `json:"at"`
	ActorSubject string         `json:"actorSubject"`
	ActorAgency  string         `json:"actorAgency"`
}

// CaseStageFollowing is the stage of a case with proceedings in stages: a
// case follows its proceedings (docs/domain.md, "a case follows the same stages
// as the proceeding that leads it"). The proceeding that leads is the open
// one furthest along the lifecycle (the order of ProceedingStage.Values):
// a case is under investigation while any of its proceedings is, and at
// trial once one reaches trial. When every proceeding has ended, the case
// ends with the most conclusive outcome among them: FINAL (a court
// decided), else DISMISSED, else TRANSFERRED, else MERGED. ok is false for
// a case without proceedings, whose stage is moved by hand.
func CaseStageFollowing(stages []ProceedingStage) (stage ProceedingStage, ok bool) {
	if len(stages) == 0 {
		return "", false
	}
	order := ProceedingStage("").Values()
	rank := func(s ProceedingStage) int { return slices.Index(order, string(s)) }
	open := false
	for _, s := range stages {
		if s.Terminal() {
			continue
		}
		if !open || rank(s) > rank(stage) {
			stage, open = s, true
		}
	}
	if open {
		return stage, true
	}
	for _, outcome := range []ProceedingStage{ProceedingStageFinal, ProceedingStageDismissed, ProceedingStageTransferred, ProceedingStageMerged} {
		if slices.Contains(stages, outcome) {
			return outcome, true
		}
	}
	return "", false
}

// InvestigationOpen reports whether the investigation of a proceeding in
// stage s is still running, so that its deadline can pass: from
// registration until the investigation closes (Art. 323-324). A request to
// dismiss that the court sends back reopens it as UNDER_INVESTIGATION.
func (s ProceedingStage) InvestigationOpen() bool {
	return slices.Contains(InvestigationOpenStages, s)
}

// InvestigationOpenStages are the stages in which InvestigationOpen holds,
// for SQL filters.
var InvestigationOpenStages = []ProceedingStage{ProceedingStageRegistered, ProceedingStageUnderInvestigation}

// InvestigationDeadlineMonths is the length of an investigation's first
// period, of one reopened by the court, and the most one extension may
// add: calendar months of Tirana's calendar (AddMonthsInTirana).
const InvestigationDeadlineMonths = 3

// OverdueDays is how many whole days past its investigation deadline a
// proceeding in stage with deadline is at now; false when it is not
// overdue (no deadline, the investigation closed, or the deadline not yet
// passed). A deadline passed by less than a day is overdue by 0 days.
func OverdueDays(stage ProceedingStage, deadline *time.Time, now time.Time) (int, bool) {
	if deadline == nil || !stage.InvestigationOpen() || !now.After(*deadline) {
		return 0, false
	}
	return int(now.Sub(*deadline) / (24 * time.Hour)), true
}
