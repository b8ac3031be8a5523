package casework_test

import "time"

// End-to-end tests of the mutations of casework: real GraphQL over HTTP
// to the real server, with real development tokens, on a fresh migrated
// SQLite and PostgreSQL database each. Every test asserts on data and on
// extensions.code (and extensions.field), never on log text; every
// refusal also checks that nothing changed in the database.

// ---------------------------------------------------------------------------
// GraphQL documents
// ---------------------------------------------------------------------------

const (
	caseFragment        = ` fragment CaseFields on Case { id version reference title stage region formsOfExploitation openedAt closedAt leadAgency { code } }`
	assignmentFragment  = ` fragment AssignmentFields on CaseAssignment { id version part case { id } agency { code } }`
	victimFragment      = ` fragment VictimFields on Victim { id version pseudonym sex ageGroup identificationStatus identifiedBy region formsOfExploitation cases { totalCount } }`
	consentFragment     = ` fragment ConsentFields on Consent { id version agencyKinds purposes givenAt withdrawnAt recordedBy recordedByAgency { code } victim { id } }`
	suspectFragment     = ` fragment SuspectFields on Suspect { id version pseudonym sex nationality role case { id } }`
	prosecutionFragment = ` fragment ProsecutionFields on Prosecution { id version registrationNumber stage registeredAt investigationDeadline deadlineExtensions investigationStartedAt investigationClosedAt trialRequestedAt dismissedAt firstInstanceDecidedAt appealDecidedAt closedAt office { code } case { id } defendants { id } }`
	chargeFragment      = ` fragment ChargeFields on Charge { id version article reclassifiedFrom reclassifiedAt prosecution { id } suspect { id } }`
	decisionFragment    = ` fragment DecisionFields on CourtDecision { id version instance decidedOn verdict sentenceKind sentenceMonths compensationOrderedLek compensationPaid court { code } prosecution { id } }`
	referralFragment    = ` fragment ReferralFields on Referral { id version serviceKind status referredAt statusHistory { status at actorSubject actorAgency } victim { id } caseID referralCase: case { id } fromAgency { code } toAgency { code } }`
	serviceFragment     = ` fragment ServiceFields on SupportService { id version kind startedOn endedOn provider { code } victim { id } }`
)

const (
	openCaseMutation        = `mutation OpenCase($in: CreateCaseInput!, $key: String) { openCase(input: $in, idempotencyKey: $key) { ...CaseFields } }` + caseFragment
	updateCaseMutation      = `mutation UpdateCase($id: ID!, $v: Int!, $in: UpdateCaseInput!) { updateCase(id: $id, expectedVersion: $v, input: $in) { ...CaseFields } }` + caseFragment
	moveCaseStageMutation   = `mutation MoveCaseStage($id: ID!, $v: Int!, $stage: ProceedingStage!) { moveCaseStage(id: $id, expectedVersion: $v, stage: $stage) { ...CaseFields } }` + caseFragment
	assignAgencyMutation    = `mutation Assign($case: ID!, $agency: ID!, $part: CasePart!) { assignAgencyToCase(caseID: $case, agencyID: $agency, part: $part) { ...AssignmentFields } }` + assignmentFragment
	registerVictimMutation  = `mutation RegisterVictim($in: CreateVictimInput!, $cases: [ID!], $key: String) { registerVictim(input: $in, caseIDs: $cases, idempotencyKey: $key) { ...VictimFields } }` + victimFragment
	updateVictimMutation    = `mutation UpdateVictim($id: ID!, $v: Int!, $in: UpdateVictimInput!) { updateVictim(id: $id, expectedVersion: $v, input: $in) { ...VictimFields } }` + victimFragment
	linkVictimMutation      = `mutation Link($victim: ID!, $case: ID!) { linkVictimToCase(victimID: $victim, caseID: $case) { id version victims { totalCount edges { node { id } } } } }`
	recordConsentMutation   = `mutation RecordConsent($in: CreateConsentInput!, $key: String) { recordConsent(input: $in, idempotencyKey: $key) { ...ConsentFields } }` + consentFragment
	withdrawConsentMutation = `mutation Withdraw($id: ID!, $v: Int!) { withdrawConsent(id: $id, expectedVersion: $v) { ...ConsentFields } }` + consentFragment
	recordSuspectMutation   = `mutation RecordSuspect($in: CreateSuspectInput!, $key: String) { recordSuspect(input: $in, idempotencyKey: $key) { ...SuspectFields } }` + suspectFragment
	updateSuspectMutation   = `mutation UpdateSuspect($id: ID!, $v: Int!, $in: UpdateSuspectInput!) { updateSuspect(id: $id, expectedVersion: $v, input: $in) { ...SuspectFields } }` + suspectFragment
	registerProsMutation    = `mutation RegisterProsecution($in: CreateProsecutionInput!, $key: String) { registerProsecution(input: $in, idempotencyKey: $key) { ...ProsecutionFields } }` + prosecutionFragment
	updateProsMutation      = `mutation UpdateProsecution($id: ID!, $v: Int!, $in: UpdateProsecutionInput!) { updateProsecution(id: $id, expectedVersion: $v, input: $in) { ...ProsecutionFields } }` + prosecutionFragment
	moveProsStageMutation   = `mutation MoveProsecution($id: ID!, $v: Int!, $stage: ProceedingStage!, $at: Time) { moveProsecutionStage(id: $id, expectedVersion: $v, stage: $stage, at: $at) { ...ProsecutionFields } }` + prosecutionFragment
	extendDeadlineMutation  = `mutation Extend($id: ID!, $v: Int!, $until: Time!) { extendInvestigationDeadline(id: $id, expectedVersion: $v, until: $until) { ...ProsecutionFields } }` + prosecutionFragment
	addChargeMutation       = `mutation AddCharge($in: CreateChargeInput!, $key: String) { addCharge(input: $in, idempotencyKey: $key) { ...ChargeFields } }` + chargeFragment
	reclassifyMutation      = `mutation Reclassify($id: ID!, $v: Int!, $article: Article!) { reclassifyCharge(id: $id, expectedVersion: $v, article: $article) { ...ChargeFields } }` + chargeFragment
	recordDecisionMutation  = `mutation RecordDecision($in: CreateCourtDecisionInput!, $key: String) { recordCourtDecision(input: $in, idempotencyKey: $key) { ...DecisionFields } }` + decisionFragment
	updateDecisionMutation  = `mutation UpdateDecision($id: ID!, $v: Int!, $in: UpdateCourtDecisionInput!) { updateCourtDecision(id: $id, expectedVersion: $v, input: $in) { ...DecisionFields } }` + decisionFragment
	createReferralMutation  = `mutation CreateReferral($in: CreateReferralInput!, $key: String) { createReferral(input: $in, idempotencyKey: $key) { ...ReferralFields } }` + referralFragment
	moveReferralMutation    = `mutation MoveReferral($id: ID!, $v: Int!, $status: ReferralStatus!) { moveReferralStatus(id: $id, expectedVersion: $v, status: $status) { ...ReferralFields } }` + referralFragment
	recordServiceMutation   = `mutation RecordService($in: CreateSupportServiceInput!, $key: String) { recordSupportService(input: $in, idempotencyKey: $key) { ...ServiceFields } }` + serviceFragment
	updateServiceMutation   = `mutation UpdateService($id: ID!, $v: Int!, $in: UpdateSupportServiceInput!) { updateSupportService(id: $id, expectedVersion: $v, input: $in) { ...ServiceFields } }` + serviceFragment
)

const (
	timelineQuery    = `query Timeline($id: ID!) { node(id: $id) { ... on Case { events(first: 500) { totalCount edges { node { kind summary actorSubject actorAgency { code } } } } } } }`
	assignmentsQuery = `query Assignments($id: ID!) { node(id: $id) { ... on Case { assignments(first: 500) { edges { node { part agency { code } } } } } } }`
	// snapshotQuery reads every field the tests look at of any record, so
	// that two snapshots differ whenever the record changed.
	snapshotQuery = `query Snapshot($id: ID!) { node(id: $id) { __typename ... on Case { updatedAt } ...CaseFields ...VictimFields ...ConsentFields ...SuspectFields ...ProsecutionFields ...ChargeFields ...DecisionFields ...ReferralFields ...ServiceFields } }` +
		caseFragment + victimFragment + consentFragment + suspectFragment + prosecutionFragment + chargeFragment + decisionFragment + referralFragment + serviceFragment
)

// Ids that name nothing, shaped like ent's global ids of an agency, a case,
// a victim and a prosecution (each type has its own range of ids).
const (
	missingAgencyID      = "999999"
	missingCaseID        = "12884999999"
	missingVictimID      = "51539999999"
	missingProsecutionID = "34359999999"
)

// ---------------------------------------------------------------------------
// Response shapes (encoding/json matches field names case-insensitively)
// ---------------------------------------------------------------------------

type (
	agencyRef struct{ Code string }
	nodeRef   struct{ ID string }

	caseT struct {
		ID                  string
		Version             int
		Reference, Title    string
		Stage, Region       string
		FormsOfExploitation []string
		OpenedAt            time.Time
		ClosedAt            *time.Time
		LeadAgency          agencyRef
	}
	assignmentT struct {
		ID      string
		Version int
		Part    string
		Case    nodeRef
		Agency  agencyRef
	}
	victimT struct {
		ID                                                     string
		Version                                                int
		Pseudonym, Sex, AgeGroup, IdentificationStatus, Region string
		IdentifiedBy                                           string
		FormsOfExploitation                                    []string
		Cases                                                  struct{ TotalCount int }
	}
	linkedCaseT struct {
		ID      string
		Version int
		Victims struct {
			TotalCount int
			Edges      []struct{ Node nodeRef }
		}
	}
	consentT struct {
		ID                    string
		Version               int
		AgencyKinds, Purposes []string
		GivenAt               time.Time
		WithdrawnAt           *time.Time
		RecordedBy            string
		RecordedByAgency      agencyRef
		Victim                nodeRef
	}
	suspectT struct {
		ID                                string
		Version                           int
		Pseudonym, Sex, Nationality, Role string
		Case                              nodeRef
	}
	prosecutionT struct {
		ID                     string
		Version                int
		RegistrationNumber     string
		Stage                  string
		RegisteredAt           time.Time
		InvestigationDeadline  *time.Time
		DeadlineExtensions     int
		InvestigationStartedAt *time.Time
		InvestigationClosedAt  *time.Time
		TrialRequestedAt       *time.Time
		DismissedAt            *time.Time
		FirstInstanceDecidedAt *time.Time
		AppealDecidedAt        *time.Time
		ClosedAt               *time.Time
		Office                 agencyRef
		Case                   nodeRef
		Defendants             []nodeRef
	}
	chargeT struct {
		ID               string
		Version          int
		Article          string
		ReclassifiedFrom *string
		ReclassifiedAt   *time.Time
		Prosecution      nodeRef
		Suspect          *nodeRef
	}
	decisionT struct {
		ID                     string
		Version                int
		Instance, Verdict      string
		DecidedOn              time.Time
		SentenceKind           *string
		SentenceMonths         *int
		CompensationOrderedLek *int64
		CompensationPaid       bool
		Court                  agencyRef
		Prosecution            nodeRef
	}
	statusChangeT struct {
		Status       string
		At           time.Time
		ActorSubject string
		ActorAgency  string
	}
	referralT struct {
		ID                   string
		Version              int
		ServiceKind, Status  string
		ReferredAt           time.Time
		StatusHistory        []statusChangeT
		Victim               nodeRef
		CaseID               *string  // read in the mutation's transaction (graph/referral_case.go)
		ReferralCase         *nodeRef // aliased: Referral.case is nullable, Suspect.case is not
		FromAgency, ToAgency agencyRef
	}
	serviceT struct {
		ID        string
		Version   int
		Kind      string
		StartedOn time.Time
		EndedOn   *time.Time
		Provider  agencyRef
		Victim    nodeRef
	}
	eventT struct {
		Kind, Summary, ActorSubject string
		ActorAgency                 agencyRef
	}
)
