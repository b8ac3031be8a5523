// The enumerations of DOMAIN.md, in its order.

package domain

import "io"

// AgencyKind is the kind of an institution (DOMAIN.md, Institutions).
type AgencyKind string

// The values of AgencyKind.
const (
	AgencyKindStatePoliceGeneralDirectorate      AgencyKind = "STATE_POLICE_GENERAL_DIRECTORATE"
	AgencyKindLocalPoliceDirectorate             AgencyKind = "LOCAL_POLICE_DIRECTORATE"
	AgencyKindBorderAndMigrationPolice           AgencyKind = "BORDER_AND_MIGRATION_POLICE"
	AgencyKindProsecutionOffice                  AgencyKind = "PROSECUTION_OFFICE"
	AgencyKindGeneralProsecutionOffice           AgencyKind = "GENERAL_PROSECUTION_OFFICE"
	AgencyKindSpecialProsecutionOffice           AgencyKind = "SPECIAL_PROSECUTION_OFFICE"
	AgencyKindNationalBureauOfInvestigation      AgencyKind = "NATIONAL_BUREAU_OF_INVESTIGATION"
	AgencyKindCourtFirstInstance                 AgencyKind = "COURT_FIRST_INSTANCE"
	AgencyKindSpecialCourtFirstInstance          AgencyKind = "SPECIAL_COURT_FIRST_INSTANCE"
	AgencyKindCourtOfAppeal                      AgencyKind = "COURT_OF_APPEAL"
	AgencyKindSpecialCourtOfAppeal               AgencyKind = "SPECIAL_COURT_OF_APPEAL"
	AgencyKindHighCourt                          AgencyKind = "HIGH_COURT"
	AgencyKindHighProsecutorialCouncil           AgencyKind = "HIGH_PROSECUTORIAL_COUNCIL"
	AgencyKindMinistryOfInterior                 AgencyKind = "MINISTRY_OF_INTERIOR"
	AgencyKindNationalAntiTraffickingCoordinator AgencyKind = "NATIONAL_ANTI_TRAFFICKING_COORDINATOR"
	AgencyKindResponsibleAuthority               AgencyKind = "RESPONSIBLE_AUTHORITY"
	AgencyKindStateSocialService                 AgencyKind = "STATE_SOCIAL_SERVICE"
	AgencyKindStateAgencyForChildRights          AgencyKind = "STATE_AGENCY_FOR_CHILD_RIGHTS"
	AgencyKindLabourInspectorate                 AgencyKind = "LABOUR_INSPECTORATE"
	AgencyKindStateShelter                       AgencyKind = "STATE_SHELTER"
	AgencyKindNgoShelter                         AgencyKind = "NGO_SHELTER"
	AgencyKindNgoServiceProvider                 AgencyKind = "NGO_SERVICE_PROVIDER"
	AgencyKindMobileIdentificationUnit           AgencyKind = "MOBILE_IDENTIFICATION_UNIT"
)

// Values lists every AgencyKind; ent and GraphQL take their enums from it.
func (AgencyKind) Values() []string {
	return []string{"STATE_POLICE_GENERAL_DIRECTORATE", "LOCAL_POLICE_DIRECTORATE", "BORDER_AND_MIGRATION_POLICE", "PROSECUTION_OFFICE", "GENERAL_PROSECUTION_OFFICE", "SPECIAL_PROSECUTION_OFFICE", "NATIONAL_BUREAU_OF_INVESTIGATION", "COURT_FIRST_INSTANCE", "SPECIAL_COURT_FIRST_INSTANCE", "COURT_OF_APPEAL", "SPECIAL_COURT_OF_APPEAL", "HIGH_COURT", "HIGH_PROSECUTORIAL_COUNCIL", "MINISTRY_OF_INTERIOR", "NATIONAL_ANTI_TRAFFICKING_COORDINATOR", "RESPONSIBLE_AUTHORITY", "STATE_SOCIAL_SERVICE", "STATE_AGENCY_FOR_CHILD_RIGHTS", "LABOUR_INSPECTORATE", "STATE_SHELTER", "NGO_SHELTER", "NGO_SERVICE_PROVIDER", "MOBILE_IDENTIFICATION_UNIT"}
}

// Valid reports whether e is a known AgencyKind.
func (e AgencyKind) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e AgencyKind) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *AgencyKind) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// Region is one of Albania's twelve regions (qarqe).
type Region string

// The values of Region.
const (
	RegionBerat       Region = "BERAT"
	RegionDiber       Region = "DIBER"
	RegionDurres      Region = "DURRES"
	RegionElbasan     Region = "ELBASAN"
	RegionFier        Region = "FIER"
	RegionGjirokaster Region = "GJIROKASTER"
	RegionKorce       Region = "KORCE"
	RegionKukes       Region = "KUKES"
	RegionLezhe       Region = "LEZHE"
	RegionShkoder     Region = "SHKODER"
	RegionTirane      Region = "TIRANE"
	RegionVlore       Region = "VLORE"
)

// Values lists every Region; ent and GraphQL take their enums from it.
func (Region) Values() []string {
	return []string{"BERAT", "DIBER", "DURRES", "ELBASAN", "FIER", "GJIROKASTER", "KORCE", "KUKES", "LEZHE", "SHKODER", "TIRANE", "VLORE"}
}

// Valid reports whether e is a known Region.
func (e Region) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e Region) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *Region) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// Sex is a person's sex as recorded.
type Sex string

// The values of Sex.
const (
	SexFemale  Sex = "FEMALE"
	SexMale    Sex = "MALE"
	SexUnknown Sex = "UNKNOWN"
)

// Values lists every Sex; ent and GraphQL take their enums from it.
func (Sex) Values() []string {
	return []string{"FEMALE", "MALE", "UNKNOWN"}
}

// Valid reports whether e is a known Sex.
func (e Sex) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e Sex) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *Sex) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// AgeGroup is whether a person is a minor or an adult.
type AgeGroup string

// The values of AgeGroup.
const (
	AgeGroupMinor AgeGroup = "MINOR"
	AgeGroupAdult AgeGroup = "ADULT"
)

// Values lists every AgeGroup; ent and GraphQL take their enums from it.
func (AgeGroup) Values() []string {
	return []string{"MINOR", "ADULT"}
}

// Valid reports whether e is a known AgeGroup.
func (e AgeGroup) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e AgeGroup) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *AgeGroup) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// IdentificationStatus is a victim's identification status.
type IdentificationStatus string

// The values of IdentificationStatus.
const (
	IdentificationStatusAtRisk          IdentificationStatus = "AT_RISK"
	IdentificationStatusPotentialVictim IdentificationStatus = "POTENTIAL_VICTIM"
	IdentificationStatusOfficialVictim  IdentificationStatus = "OFFICIAL_VICTIM"
	IdentificationStatusNotConfirmed    IdentificationStatus = "NOT_CONFIRMED"
)

// Values lists every IdentificationStatus; ent and GraphQL take their enums from it.
func (IdentificationStatus) Values() []string {
	return []string{"AT_RISK", "POTENTIAL_VICTIM", "OFFICIAL_VICTIM", "NOT_CONFIRMED"}
}

// Valid reports whether e is a known IdentificationStatus.
func (e IdentificationStatus) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e IdentificationStatus) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *IdentificationStatus) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// IdentifyingBody is who identified a victim.
type IdentifyingBody string

// The values of IdentifyingBody.
const (
	IdentifyingBodyStatePolice              IdentifyingBody = "STATE_POLICE"
	IdentifyingBodyBorderPolice             IdentifyingBody = "BORDER_POLICE"
	IdentifyingBodyMobileIdentificationUnit IdentifyingBody = "MOBILE_IDENTIFICATION_UNIT"
	IdentifyingBodyNgo                      IdentifyingBody = "NGO"
	IdentifyingBodySocialServices           IdentifyingBody = "SOCIAL_SERVICES"
	IdentifyingBodyLabourInspectorate       IdentifyingBody = "LABOUR_INSPECTORATE"
	IdentifyingBodySelfReferral             IdentifyingBody = "SELF_REFERRAL"
	IdentifyingBodyConsularOrForeign        IdentifyingBody = "CONSULAR_OR_FOREIGN"
)

// Values lists every IdentifyingBody; ent and GraphQL take their enums from it.
func (IdentifyingBody) Values() []string {
	return []string{"STATE_POLICE", "BORDER_POLICE", "MOBILE_IDENTIFICATION_UNIT", "NGO", "SOCIAL_SERVICES", "LABOUR_INSPECTORATE", "SELF_REFERRAL", "CONSULAR_OR_FOREIGN"}
}

// Valid reports whether e is a known IdentifyingBody.
func (e IdentifyingBody) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e IdentifyingBody) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *IdentifyingBody) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// Exploitation is a form of exploitation.
type Exploitation string

// The values of Exploitation.
const (
	ExploitationSexual                          Exploitation = "SEXUAL"
	ExploitationForcedLabour                    Exploitation = "FORCED_LABOUR"
	ExploitationForcedBegging                   Exploitation = "FORCED_BEGGING"
	ExploitationForcedCriminality               Exploitation = "FORCED_CRIMINALITY"
	ExploitationForcedMarriageDomesticServitude Exploitation = "FORCED_MARRIAGE_DOMESTIC_SERVITUDE"
	ExploitationSlaveryServitude                Exploitation = "SLAVERY_SERVITUDE"
	ExploitationOrganRemoval                    Exploitation = "ORGAN_REMOVAL"
	ExploitationOther                           Exploitation = "OTHER"
	ExploitationUnspecified                     Exploitation = "UNSPECIFIED"
)

// Values lists every Exploitation; ent and GraphQL take their enums from it.
func (Exploitation) Values() []string {
	return []string{"SEXUAL", "FORCED_LABOUR", "FORCED_BEGGING", "FORCED_CRIMINALITY", "FORCED_MARRIAGE_DOMESTIC_SERVITUDE", "SLAVERY_SERVITUDE", "ORGAN_REMOVAL", "OTHER", "UNSPECIFIED"}
}

// Valid reports whether e is a known Exploitation.
func (e Exploitation) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e Exploitation) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *Exploitation) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// ReferralStatus is the status of a referral in the National Referral Mechanism.
type ReferralStatus string

// The values of ReferralStatus.
const (
	ReferralStatusPending   ReferralStatus = "PENDING"
	ReferralStatusAccepted  ReferralStatus = "ACCEPTED"
	ReferralStatusRejected  ReferralStatus = "REJECTED"
	ReferralStatusCompleted ReferralStatus = "COMPLETED"
	ReferralStatusRevoked   ReferralStatus = "REVOKED"
)

// Values lists every ReferralStatus; ent and GraphQL take their enums from it.
func (ReferralStatus) Values() []string {
	return []string{"PENDING", "ACCEPTED", "REJECTED", "COMPLETED", "REVOKED"}
}

// Valid reports whether e is a known ReferralStatus.
func (e ReferralStatus) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e ReferralStatus) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *ReferralStatus) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// ServiceKind is a kind of support service.
type ServiceKind string

// The values of ServiceKind.
const (
	ServiceKindShelter                  ServiceKind = "SHELTER"
	ServiceKindMedical                  ServiceKind = "MEDICAL"
	ServiceKindPsychological            ServiceKind = "PSYCHOLOGICAL"
	ServiceKindLegalAid                 ServiceKind = "LEGAL_AID"
	ServiceKindInterpretation           ServiceKind = "INTERPRETATION"
	ServiceKindEducation                ServiceKind = "EDUCATION"
	ServiceKindVocationalTraining       ServiceKind = "VOCATIONAL_TRAINING"
	ServiceKindEmployment               ServiceKind = "EMPLOYMENT"
	ServiceKindFamilyAssessment         ServiceKind = "FAMILY_ASSESSMENT"
	ServiceKindReintegration            ServiceKind = "REINTEGRATION"
	ServiceKindRepatriation             ServiceKind = "REPATRIATION"
	ServiceKindTemporaryResidencePermit ServiceKind = "TEMPORARY_RESIDENCE_PERMIT"
	ServiceKindWitnessProtection        ServiceKind = "WITNESS_PROTECTION"
	ServiceKindCompensationSupport      ServiceKind = "COMPENSATION_SUPPORT"
)

// Values lists every ServiceKind; ent and GraphQL take their enums from it.
func (ServiceKind) Values() []string {
	return []string{"SHELTER", "MEDICAL", "PSYCHOLOGICAL", "LEGAL_AID", "INTERPRETATION", "EDUCATION", "VOCATIONAL_TRAINING", "EMPLOYMENT", "FAMILY_ASSESSMENT", "REINTEGRATION", "REPATRIATION", "TEMPORARY_RESIDENCE_PERMIT", "WITNESS_PROTECTION", "COMPENSATION_SUPPORT"}
}

// Valid reports whether e is a known ServiceKind.
func (e ServiceKind) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e ServiceKind) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *ServiceKind) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// Article is an article of the Criminal Code a charge is brought under.
type Article string

// The values of Article.
const (
	ArticleCc110a Article = "CC_110A"
	ArticleCc110b Article = "CC_110B"
	ArticleCc110c Article = "CC_110C"
	ArticleCc128b Article = "CC_128B"
	ArticleCc114  Article = "CC_114"
	ArticleCc114a Article = "CC_114A"
	ArticleCc115  Article = "CC_115"
	ArticleCc124b Article = "CC_124B"
	ArticleOther  Article = "OTHER"
)

// Values lists every Article; ent and GraphQL take their enums from it.
func (Article) Values() []string {
	return []string{"CC_110A", "CC_110B", "CC_110C", "CC_128B", "CC_114", "CC_114A", "CC_115", "CC_124B", "OTHER"}
}

// Valid reports whether e is a known Article.
func (e Article) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e Article) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *Article) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// ProceedingStage is the stage of a criminal proceeding (and of the case it belongs to).
type ProceedingStage string

// The values of ProceedingStage.
const (
	ProceedingStageNoticeReceived       ProceedingStage = "NOTICE_RECEIVED"
	ProceedingStageRegistered           ProceedingStage = "REGISTERED"
	ProceedingStageUnderInvestigation   ProceedingStage = "UNDER_INVESTIGATION"
	ProceedingStageInvestigationClosed  ProceedingStage = "INVESTIGATION_CLOSED"
	ProceedingStageDismissed            ProceedingStage = "DISMISSED"
	ProceedingStageDismissalRequested   ProceedingStage = "DISMISSAL_REQUESTED"
	ProceedingStageTrialRequested       ProceedingStage = "TRIAL_REQUESTED"
	ProceedingStageFirstInstanceTrial   ProceedingStage = "FIRST_INSTANCE_TRIAL"
	ProceedingStageFirstInstanceDecided ProceedingStage = "FIRST_INSTANCE_DECIDED"
	ProceedingStageAppeal               ProceedingStage = "APPEAL"
	ProceedingStageAppealDecided        ProceedingStage = "APPEAL_DECIDED"
	ProceedingStageHighCourtRecourse    ProceedingStage = "HIGH_COURT_RECOURSE"
	ProceedingStageFinal                ProceedingStage = "FINAL"
	ProceedingStageTransferred          ProceedingStage = "TRANSFERRED"
	ProceedingStageMerged               ProceedingStage = "MERGED"
)

// Values lists every ProceedingStage; ent and GraphQL take their enums from it.
func (ProceedingStage) Values() []string {
	return []string{"NOTICE_RECEIVED", "REGISTERED", "UNDER_INVESTIGATION", "INVESTIGATION_CLOSED", "DISMISSED", "DISMISSAL_REQUESTED", "TRIAL_REQUESTED", "FIRST_INSTANCE_TRIAL", "FIRST_INSTANCE_DECIDED", "APPEAL", "APPEAL_DECIDED", "HIGH_COURT_RECOURSE", "FINAL", "TRANSFERRED", "MERGED"}
}

// Valid reports whether e is a known ProceedingStage.
func (e ProceedingStage) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e ProceedingStage) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *ProceedingStage) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// Verdict is the outcome of a court decision.
type Verdict string

// The values of Verdict.
const (
	VerdictConvicted                Verdict = "CONVICTED"
	VerdictConvictedOfLesserOffence Verdict = "CONVICTED_OF_LESSER_OFFENCE"
	VerdictAcquitted                Verdict = "ACQUITTED"
	VerdictDismissed                Verdict = "DISMISSED"
	VerdictUpheld                   Verdict = "UPHELD"
	VerdictAmended                  Verdict = "AMENDED"
	VerdictQuashedRetrial           Verdict = "QUASHED_RETRIAL"
)

// Values lists every Verdict; ent and GraphQL take their enums from it.
func (Verdict) Values() []string {
	return []string{"CONVICTED", "CONVICTED_OF_LESSER_OFFENCE", "ACQUITTED", "DISMISSED", "UPHELD", "AMENDED", "QUASHED_RETRIAL"}
}

// Valid reports whether e is a known Verdict.
func (e Verdict) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e Verdict) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *Verdict) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// SentenceKind is the kind of a sentence.
type SentenceKind string

// The values of SentenceKind.
const (
	SentenceKindImprisonment         SentenceKind = "IMPRISONMENT"
	SentenceKindSuspendedOrProbation SentenceKind = "SUSPENDED_OR_PROBATION"
	SentenceKindFine                 SentenceKind = "FINE"
)

// Values lists every SentenceKind; ent and GraphQL take their enums from it.
func (SentenceKind) Values() []string {
	return []string{"IMPRISONMENT", "SUSPENDED_OR_PROBATION", "FINE"}
}

// Valid reports whether e is a known SentenceKind.
func (e SentenceKind) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e SentenceKind) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *SentenceKind) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// Instance is the instance of a court decision.
type Instance string

// The values of Instance.
const (
	InstanceFirstInstance Instance = "FIRST_INSTANCE"
	InstanceAppeal        Instance = "APPEAL"
	InstanceHighCourt     Instance = "HIGH_COURT"
)

// Values lists every Instance; ent and GraphQL take their enums from it.
func (Instance) Values() []string {
	return []string{"FIRST_INSTANCE", "APPEAL", "HIGH_COURT"}
}

// Valid reports whether e is a known Instance.
func (e Instance) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e Instance) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *Instance) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// CasePart is the part an agency plays in a case.
type CasePart string

// The values of CasePart.
const (
	CasePartInvestigating CasePart = "INVESTIGATING"
	CasePartProsecuting   CasePart = "PROSECUTING"
	CasePartAdjudicating  CasePart = "ADJUDICATING"
	CasePartSupporting    CasePart = "SUPPORTING"
	CasePartCoordinating  CasePart = "COORDINATING"
)

// Values lists every CasePart; ent and GraphQL take their enums from it.
func (CasePart) Values() []string {
	return []string{"INVESTIGATING", "PROSECUTING", "ADJUDICATING", "SUPPORTING", "COORDINATING"}
}

// Valid reports whether e is a known CasePart.
func (e CasePart) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e CasePart) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *CasePart) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// ConsentPurpose is a purpose a victim consents to share data for.
type ConsentPurpose string

// The values of ConsentPurpose.
const (
	ConsentPurposeServices            ConsentPurpose = "SERVICES"
	ConsentPurposeCriminalProceedings ConsentPurpose = "CRIMINAL_PROCEEDINGS"
	ConsentPurposeStatistics          ConsentPurpose = "STATISTICS"
)

// Values lists every ConsentPurpose; ent and GraphQL take their enums from it.
func (ConsentPurpose) Values() []string {
	return []string{"SERVICES", "CRIMINAL_PROCEEDINGS", "STATISTICS"}
}

// Valid reports whether e is a known ConsentPurpose.
func (e ConsentPurpose) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e ConsentPurpose) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *ConsentPurpose) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// ConsentGivenBy is who gave a consent.
type ConsentGivenBy string

// The values of ConsentGivenBy.
const (
	ConsentGivenByVictim              ConsentGivenBy = "VICTIM"
	ConsentGivenByParentOrGuardian    ConsentGivenBy = "PARENT_OR_GUARDIAN"
	ConsentGivenByLegalRepresentative ConsentGivenBy = "LEGAL_REPRESENTATIVE"
)

// Values lists every ConsentGivenBy; ent and GraphQL take their enums from it.
func (ConsentGivenBy) Values() []string {
	return []string{"VICTIM", "PARENT_OR_GUARDIAN", "LEGAL_REPRESENTATIVE"}
}

// Valid reports whether e is a known ConsentGivenBy.
func (e ConsentGivenBy) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e ConsentGivenBy) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *ConsentGivenBy) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// SuspectRole is the role a suspect is alleged to have played.
type SuspectRole string

// The values of SuspectRole.
const (
	SuspectRoleOrganiser   SuspectRole = "ORGANISER"
	SuspectRoleRecruiter   SuspectRole = "RECRUITER"
	SuspectRoleTransporter SuspectRole = "TRANSPORTER"
	SuspectRoleExploiter   SuspectRole = "EXPLOITER"
	SuspectRoleFacilitator SuspectRole = "FACILITATOR"
	SuspectRoleClient      SuspectRole = "CLIENT"
	SuspectRoleOther       SuspectRole = "OTHER"
)

// Values lists every SuspectRole; ent and GraphQL take their enums from it.
func (SuspectRole) Values() []string {
	return []string{"ORGANISER", "RECRUITER", "TRANSPORTER", "EXPLOITER", "FACILITATOR", "CLIENT", "OTHER"}
}

// Valid reports whether e is a known SuspectRole.
func (e SuspectRole) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e SuspectRole) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *SuspectRole) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }

// CaseEventKind is the kind of a case timeline entry.
type CaseEventKind string

// The values of CaseEventKind.
const (
	CaseEventKindCaseOpened              CaseEventKind = "CASE_OPENED"
	CaseEventKindCaseUpdated             CaseEventKind = "CASE_UPDATED"
	CaseEventKindStageChanged            CaseEventKind = "STAGE_CHANGED"
	CaseEventKindAgencyAssigned          CaseEventKind = "AGENCY_ASSIGNED"
	CaseEventKindVictimLinked            CaseEventKind = "VICTIM_LINKED"
	CaseEventKindVictimUpdated           CaseEventKind = "VICTIM_UPDATED"
	CaseEventKindConsentRecorded         CaseEventKind = "CONSENT_RECORDED"
	CaseEventKindConsentWithdrawn        CaseEventKind = "CONSENT_WITHDRAWN"
	CaseEventKindSuspectRecorded         CaseEventKind = "SUSPECT_RECORDED"
	CaseEventKindSuspectUpdated          CaseEventKind = "SUSPECT_UPDATED"
	CaseEventKindProsecutionRegistered   CaseEventKind = "PROSECUTION_REGISTERED"
	CaseEventKindProsecutionStageChanged CaseEventKind = "PROSECUTION_STAGE_CHANGED"
	CaseEventKindDeadlineExtended        CaseEventKind = "DEADLINE_EXTENDED"
	CaseEventKindChargeAdded             CaseEventKind = "CHARGE_ADDED"
	CaseEventKindChargeReclassified      CaseEventKind = "CHARGE_RECLASSIFIED"
	CaseEventKindCourtDecisionRecorded   CaseEventKind = "COURT_DECISION_RECORDED"
	CaseEventKindReferralCreated         CaseEventKind = "REFERRAL_CREATED"
	CaseEventKindReferralStatusChanged   CaseEventKind = "REFERRAL_STATUS_CHANGED"
	CaseEventKindSupportRecorded         CaseEventKind = "SUPPORT_RECORDED"
	CaseEventKindSupportUpdated          CaseEventKind = "SUPPORT_UPDATED"
	CaseEventKindEmergencyAccessGranted  CaseEventKind = "EMERGENCY_ACCESS_GRANTED"
	CaseEventKindEmergencyAccessRevoked  CaseEventKind = "EMERGENCY_ACCESS_REVOKED"
)

// Values lists every CaseEventKind; ent and GraphQL take their enums from it.
func (CaseEventKind) Values() []string {
	return []string{"CASE_OPENED", "CASE_UPDATED", "STAGE_CHANGED", "AGENCY_ASSIGNED", "VICTIM_LINKED", "VICTIM_UPDATED", "CONSENT_RECORDED", "CONSENT_WITHDRAWN", "SUSPECT_RECORDED", "SUSPECT_UPDATED", "PROSECUTION_REGISTERED", "PROSECUTION_STAGE_CHANGED", "DEADLINE_EXTENDED", "CHARGE_ADDED", "CHARGE_RECLASSIFIED", "COURT_DECISION_RECORDED", "REFERRAL_CREATED", "REFERRAL_STATUS_CHANGED", "SUPPORT_RECORDED", "SUPPORT_UPDATED", "EMERGENCY_ACCESS_GRANTED", "EMERGENCY_ACCESS_REVOKED"}
}

// Valid reports whether e is a known CaseEventKind.
func (e CaseEventKind) Valid() bool { return valid(e) }

// MarshalGQL writes e as a GraphQL enum value.
func (e CaseEventKind) MarshalGQL(w io.Writer) { marshalEnum(w, e) }

// UnmarshalGQL reads a GraphQL enum value into e.
func (e *CaseEventKind) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }
