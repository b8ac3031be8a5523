package demo

import (
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/seed"
)

// Plans: what one year of demo data holds, before it gets database ids.

type yearPlan struct {
	year    int
	cases   []*casePlan
	victims []*victimPlan
	// victimOrder lists the victims in the order of their pseudonyms.
	victimOrder []int
}

type casePlan struct {
	reference, title string
	region           domain.Region
	district         seed.District
	town             string
	forms            []domain.Exploitation
	openedAt         time.Time
	updatedAt        time.Time
	stage            domain.ProceedingStage
	closedAt         *time.Time
	lead             string
	police           string
	spak             bool
	minors, adults   bool
	foreign          bool
	staff            staff
	links            []victimLink
	suspects         []*suspectPlan
	pros             *prosPlan
	assignments      []assignPlan
	events           []eventPlan
}

type victimLink struct {
	victim int
	at     time.Time
}

type assignPlan struct {
	agency string
	part   domain.CasePart
	at     time.Time
}

// refKind names the record an event is about.
type refKind int

const (
	refNone refKind = iota
	refProsecution
	refCharge   // idx: charge of the case's prosecution
	refDecision // idx: decision of the case's prosecution
	refConsent  // idx: victim of the year, whose consent it is
)

type eventPlan struct {
	kind                   domain.CaseEventKind
	at                     time.Time
	agency, actor, summary string
	ref                    refKind
	idx                    int
}

type suspectPlan struct {
	pseudonym      string
	sex            domain.Sex
	nationality    string
	role           domain.SuspectRole
	legalName      string
	personalNumber *string
	createdAt      time.Time
}

type prosPlan struct {
	office, regNo  string
	stage          domain.ProceedingStage
	registeredAt   time.Time
	updatedAt      time.Time
	deadline       *time.Time
	extensions     int
	invStart       *time.Time
	invClosed      *time.Time
	trialRequested *time.Time
	// dismissalRequested is when the office asked a court to dismiss.
	dismissalRequested *time.Time
	dismissed          *time.Time
	fiDecided          *time.Time
	appealDecided      *time.Time
	closed             *time.Time
	charges            []*chargePlan
	decisions          []*decisionPlan
	fiCourt, apCourt   string
}

type chargePlan struct {
	article domain.Article
	from    *domain.Article
	at      *time.Time
	suspect int // index in the case's suspects
	created time.Time
	updated time.Time
}

type decisionPlan struct {
	instance     domain.Instance
	decidedOn    time.Time
	verdict      domain.Verdict
	sentenceKind *domain.SentenceKind
	months       *int
	compensation *int64
	paid         bool
	court        string
	article      domain.Article // the article the sentence is measured against
	// reviewed is, for a review that names the decision it reviews, that
	// decision's index among its proceeding's decisions; nil when it
	// names none.
	reviewed *int
}

type victimPlan struct {
	pseudonym         string
	sex               domain.Sex
	ageGroup          domain.AgeGroup
	age               int
	status            domain.IdentificationStatus
	identifiedBy      domain.IdentifyingBody
	identifyingAgency string
	identifiedAt      time.Time
	updatedAt         time.Time
	forms             []domain.Exploitation
	region            domain.Region
	foreign           bool
	legalName         string
	dob               time.Time
	personalNumber    *string
	nationality       string
	phone, address    *string
	health, testimony *string
	shelter           *string
	primaryCase       int
	staff             staff
	referrals         []*referralPlan
	consent           *consentPlan
}

type referralPlan struct {
	kind       domain.ServiceKind
	status     domain.ReferralStatus
	history    []domain.ReferralStatusChange
	referredAt time.Time
	from, to   string
	acceptedAt *time.Time
	service    *servicePlan
}

type servicePlan struct {
	started time.Time
	ended   *time.Time
	notes   *string
}

type consentPlan struct {
	kinds       []domain.AgencyKind
	purposes    []domain.ConsentPurpose
	givenBy     domain.ConsentGivenBy
	givenAt     time.Time
	withdrawnAt *time.Time
	agency      string
	recordedBy  string
}
