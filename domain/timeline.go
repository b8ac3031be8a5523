package domain

import "slices"

// caseEventKindsAboutAVictim are the timeline entries about a victim or a
// record of theirs (a consent, a referral, a support service). Such an
// entry names its subject and says what happened to it, so it keeps the
// victim it concerns (casework writes it), and row scope shows it only to
// whoever sees that victim (rowscope.caseEventRows).
var caseEventKindsAboutAVictim = []CaseEventKind{
	CaseEventKindVictimLinked, CaseEventKindVictimUpdated,
	CaseEventKindConsentRecorded, CaseEventKindConsentWithdrawn,
	CaseEventKindReferralCreated, CaseEventKindReferralStatusChanged,
	CaseEventKindSupportRecorded, CaseEventKindSupportUpdated,
}

// AboutAVictim reports whether a timeline entry of kind k concerns a
// victim (see caseEventKindsAboutAVictim).
func (k CaseEventKind) AboutAVictim() bool { return slices.Contains(caseEventKindsAboutAVictim, k) }

// CaseEventKindsAboutAVictim lists the kinds of timeline entry about a
// victim.
func CaseEventKindsAboutAVictim() []CaseEventKind { return slices.Clone(caseEventKindsAboutAVictim) }
