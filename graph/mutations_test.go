package graph_test

// End-to-end tests of the mutations of schema.graphqls: real GraphQL over
// HTTP to the real server, with real development tokens, on a fresh
// migrated SQLite and PostgreSQL database each. Every test asserts on data
// and on extensions.code (and extensions.field), never on log text; every
// refusal also checks that nothing changed in the database.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// GraphQL documents
// ---------------------------------------------------------------------------

const (
	caseFragment        = ` fragment CaseFields on Case { id version reference title stage region formsOfExploitation openedAt closedAt leadAgency { code } }`
	assignmentFragment  = ` fragment AssignmentFields on CaseAssignment { id version part case { id } agency { code } }`
	victimFragment      = ` fragment VictimFields on Victim { id version pseudonym sex ageGroup identificationStatus identifiedBy region formsOfExploitation cases { totalCount } }`
	consentFragment     = ` fragment ConsentFields on Consent { id version agencyKinds purposes givenBy givenAt withdrawnAt recordedBy recordedByAgency { code } victim { id } }`
	suspectFragment     = ` fragment SuspectFields on Suspect { id version pseudonym sex nationality role case { id } }`
	prosecutionFragment = ` fragment ProsecutionFields on Prosecution { id version registrationNumber stage registeredAt investigationDeadline deadlineExtensions investigationStartedAt investigationClosedAt trialRequestedAt dismissedAt firstInstanceDecidedAt appealDecidedAt closedAt office { code } case { id } defendants { id } }`
	chargeFragment      = ` fragment ChargeFields on Charge { id version article reclassifiedFrom reclassifiedAt prosecution { id } suspect { id } }`
	decisionFragment    = ` fragment DecisionFields on CourtDecision { id version instance decidedOn verdict sentenceKind sentenceMonths compensationOrderedLek compensationPaid court { code } prosecution { id } }`
	referralFragment    = ` fragment ReferralFields on Referral { id version serviceKind status referredAt statusHistory { status at actorSubject actorAgency } victim { id } referralCase: case { id } fromAgency { code } toAgency { code } }`
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
		GivenBy               string
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

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

// principal is a person with a token, acting for one agency.
type principal struct {
	token, subject, agency string
}

// event is the timeline entry p is expected to leave.
func (p principal) event(kind, summary string) eventT {
	return eventT{Kind: kind, Summary: summary, ActorSubject: p.subject, ActorAgency: agencyRef{p.agency}}
}

// harness is a running server over a fresh database, the ids of its
// agencies and a few principals.
type harness struct {
	s                                       *testserver.Server
	agencies                                map[string]string // agency code → global id
	police, prosecutor, judge, ngo, shelter principal
	// reader reads timelines and snapshots: a national investigator, who
	// sees every case and victim row once row scope applies.
	reader principal
}

func start(t *testing.T, db *database.DB) *harness {
	t.Helper()
	s := testserver.Start(t, db)
	h := &harness{s: s, agencies: map[string]string{}}
	all, err := s.DB.Client.Agency.Query().All(systemCtx())
	if err != nil {
		t.Fatalf("listing agencies: %v", err)
	}
	for _, a := range all {
		h.agencies[a.Code] = strconv.Itoa(a.ID)
	}
	h.police = h.principal(t, "police-tirane", viewer.RoleInvestigator)
	h.prosecutor = h.principal(t, "prosecution-tirane", viewer.RoleProsecutor)
	h.judge = h.principal(t, "court-tirane", viewer.RoleJudge)
	h.ngo = h.principal(t, "ngo-vatra", viewer.RoleCaseWorker)
	h.shelter = h.principal(t, "shelter-national", viewer.RoleCaseWorker)
	h.reader = h.principal(t, "police-gd", viewer.RoleInvestigator)
	return h
}

func systemCtx() context.Context { return viewer.SystemContext(context.Background()) }

func (h *harness) principal(t *testing.T, agencyCode string, role viewer.Role) principal {
	t.Helper()
	return principal{token: h.s.Token(t, agencyCode, role), subject: "test-" + string(role) + "@" + agencyCode, agency: agencyCode}
}

// colleague is another person at agencyCode with role: same rights, own
// subject (and so own idempotency keys).
func (h *harness) colleague(t *testing.T, agencyCode string, role viewer.Role) principal {
	t.Helper()
	subject := "colleague-" + string(role) + "@" + agencyCode
	tok, err := h.s.Issuer.Issue(subject, agencyCode, []viewer.Role{role}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return principal{token: tok, subject: subject, agency: agencyCode}
}

// agency returns the global id of the agency with code.
func (h *harness) agency(t *testing.T, code string) string {
	t.Helper()
	id, ok := h.agencies[code]
	if !ok {
		t.Fatalf("no agency %q in the registry", code)
	}
	return id
}

// do sends one operation as p and checks what every response of this file
// must satisfy: no server error, no stack trace or source location in the
// body, and a client code on every error.
func (h *harness) do(t *testing.T, p principal, query string, vars map[string]any) *testserver.Response {
	t.Helper()
	r := h.s.Do(t, p.token, query, vars)
	checkClean(t, r)
	if slices.Contains(r.Codes(), "INTERNAL") {
		t.Logf("server log (for diagnosis only):\n%s", h.s.Logs())
	}
	return r
}

func checkClean(t *testing.T, r *testserver.Response) {
	t.Helper()
	if r.Status >= 500 {
		t.Errorf("status %d:\n%s", r.Status, r.Body)
	}
	for _, leak := range []string{"goroutine", ".go:"} {
		if bytes.Contains(r.Body, []byte(leak)) {
			t.Errorf("response body contains %q:\n%s", leak, r.Body)
		}
	}
	for _, e := range r.Errors {
		if c := e.Code(); c == "" || c == "INTERNAL" {
			t.Errorf("error with code %q:\n%s", c, r.Body)
		}
	}
}

// call runs an operation that must succeed with status 200 and returns its
// one top-level field decoded into T.
func call[T any](t *testing.T, h *harness, p principal, query string, vars map[string]any) T {
	t.Helper()
	r := h.do(t, p, query, vars).MustOK(t)
	var data map[string]json.RawMessage
	r.Decode(t, &data)
	if len(data) != 1 {
		t.Fatalf("want one top-level field, got:\n%s", r.Body)
	}
	var out T
	for _, raw := range data {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("decoding %s: %v", raw, err)
		}
	}
	return out
}

// want is the refusal a test expects.
type want struct {
	code  string
	field string // extensions.field; "" when not checked
	// validation marks a refusal by GraphQL validation or variable
	// coercion, before any resolver runs.
	validation bool
}

var (
	badInput = want{code: "BAD_USER_INPUT"}
	conflict = want{code: "CONFLICT", field: "expectedVersion"}
	notFound = want{code: "NOT_FOUND"}
	invalid  = want{code: "BAD_USER_INPUT", validation: true}
)

func badField(field string) want { return want{code: "BAD_USER_INPUT", field: field} }

// refuse runs an operation that must be refused with one error as w says,
// status 200 and no data, and checks that nothing changed: no table gained
// or lost a row and none of the watched records changed.
func (h *harness) refuse(t *testing.T, p principal, query string, vars map[string]any, w want, watch ...string) testserver.Error {
	t.Helper()
	before := h.rows(t)
	snaps := make([]string, len(watch))
	for i, id := range watch {
		snaps[i] = h.snapshot(t, id)
	}
	r := h.do(t, p, query, vars)
	if len(r.Errors) != 1 {
		t.Fatalf("want exactly one %s error, got status %d:\n%s", w.code, r.Status, r.Body)
	}
	e := r.Errors[0]
	if e.Code() != w.code {
		t.Errorf("extensions.code = %q, want %q:\n%s", e.Code(), w.code, r.Body)
	}
	if w.field != "" {
		if f, _ := e.Extensions["field"].(string); f != w.field {
			t.Errorf("extensions.field = %q, want %q:\n%s", f, w.field, r.Body)
		}
	}
	if !nullData(r.Data) {
		t.Errorf("a refused mutation returned data: %s", r.Data)
	}
	if diff := diffCounts(before, h.rows(t)); diff != "" {
		t.Errorf("a refused mutation changed the database: %s", diff)
	}
	for i, id := range watch {
		if after := h.snapshot(t, id); after != snaps[i] {
			t.Errorf("a refused mutation changed %s:\nbefore %s\nafter  %s", id, snaps[i], after)
		}
	}
	switch {
	case r.Status == http.StatusOK:
	default:
		t.Errorf("status = %d, want 200:\n%s", r.Status, r.Body)
	}
	return e
}

// nullData reports whether data is null or an object of nulls.
func nullData(data json.RawMessage) bool {
	if len(data) == 0 || string(data) == "null" {
		return true
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return false
	}
	for _, v := range m {
		if v != nil {
			return false
		}
	}
	return true
}

// rows counts the rows of every table.
func (h *harness) rows(t *testing.T) map[string]int {
	t.Helper()
	return testdb.RowCounts(t, h.s.DB.Client)
}

func diffCounts(before, after map[string]int) string {
	var diffs []string
	for table, n := range before {
		if after[table] != n {
			diffs = append(diffs, fmt.Sprintf("%s %d → %d", table, n, after[table]))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, ", ")
}

// snapshot returns every field the tests read of the record id, as JSON.
func (h *harness) snapshot(t *testing.T, id string) string {
	t.Helper()
	return string(h.do(t, h.reader, snapshotQuery, map[string]any{"id": id}).MustOK(t).Data)
}

// timeline returns the events of a case.
func (h *harness) timeline(t *testing.T, caseID string) []eventT {
	t.Helper()
	var data struct {
		Node struct {
			Events struct {
				TotalCount int
				Edges      []struct{ Node eventT }
			}
		}
	}
	h.do(t, h.reader, timelineQuery, map[string]any{"id": caseID}).MustOK(t).Decode(t, &data)
	events := make([]eventT, 0, len(data.Node.Events.Edges))
	for _, e := range data.Node.Events.Edges {
		events = append(events, e.Node)
	}
	if data.Node.Events.TotalCount != len(events) {
		t.Errorf("events.totalCount = %d, but %d edges", data.Node.Events.TotalCount, len(events))
	}
	return events
}

// expectEvents checks that the timeline of caseID is before plus exactly
// the events added (in any order), and returns it.
func (h *harness) expectEvents(t *testing.T, caseID string, before []eventT, added ...eventT) []eventT {
	t.Helper()
	after := h.timeline(t, caseID)
	left := map[eventT]int{}
	for _, e := range before {
		left[e]++
	}
	var got []eventT
	for _, e := range after {
		if left[e] > 0 {
			left[e]--
		} else {
			got = append(got, e)
		}
	}
	for e, n := range left {
		if n > 0 {
			t.Errorf("case %s lost an event from its timeline: %+v", caseID, e)
		}
	}
	sortEvents(got)
	want := slices.Clone(added)
	sortEvents(want)
	if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
		t.Errorf("new events of case %s:\n got %+v\nwant %+v", caseID, got, want)
	}
	return after
}

func sortEvents(es []eventT) {
	slices.SortFunc(es, func(a, b eventT) int {
		return strings.Compare(a.Kind+a.Summary+a.ActorSubject, b.Kind+b.Summary+b.ActorSubject)
	})
}

// stored reads a victim straight from the database: sensitive fields are
// checked there, not in mutation responses, whose selections stay clear of
// fields an access policy may withhold.
func (h *harness) stored(t *testing.T, id string) *ent.Victim {
	t.Helper()
	v, err := h.s.DB.Client.Victim.Get(systemCtx(), atoi(t, id))
	if err != nil {
		t.Fatalf("reading victim %s: %v", id, err)
	}
	return v
}

// storedService reads a support service straight from the database.
func (h *harness) storedService(t *testing.T, id string) *ent.SupportService {
	t.Helper()
	s, err := h.s.DB.Client.SupportService.Get(systemCtx(), atoi(t, id))
	if err != nil {
		t.Fatalf("reading support service %s: %v", id, err)
	}
	return s
}

func atoi(t *testing.T, id string) int {
	t.Helper()
	n, err := strconv.Atoi(id)
	if err != nil {
		t.Fatalf("id %q: %v", id, err)
	}
	return n
}

// need stops a step whose earlier steps failed.
func need(t *testing.T, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if id == "" {
			t.Fatal("an earlier step failed")
		}
	}
}

// ---------------------------------------------------------------------------
// Inputs and fixtures
// ---------------------------------------------------------------------------

var serial atomic.Int64

func newReference() string    { return fmt.Sprintf("TIR-2026-%04d", serial.Add(1)) }
func newVictimName() string   { return fmt.Sprintf("V-2026-%04d", serial.Add(1)) }
func newSuspectName() string  { return fmt.Sprintf("S-2026-%04d", serial.Add(1)) }
func newRegistration() string { return fmt.Sprintf("PR-TIR-%04d/2026", serial.Add(1)) }

// lastYear is a year wholly in the past, so that every date the tests use
// is before now whenever they run.
var lastYear = time.Now().UTC().Year() - 1

func date(m time.Month, d int) time.Time { return time.Date(lastYear, m, d, 9, 0, 0, 0, time.UTC) }

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func sameTime(t *testing.T, name string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func caseInput(h *harness, t *testing.T, ref, lead string) map[string]any {
	return map[string]any{
		"reference": ref, "title": "Recruitment through false job offers", "region": "TIRANE",
		"formsOfExploitation": []string{"SEXUAL", "FORCED_LABOUR"}, "openedAt": stamp(date(2, 20)),
		"leadAgencyID": h.agency(t, lead),
	}
}

func victimInput(pseudonym string, age int) map[string]any {
	group := "ADULT"
	if age < 18 {
		group = "MINOR"
	}
	return map[string]any{
		"pseudonym": pseudonym, "sex": "FEMALE", "ageGroup": group, "identificationStatus": "POTENTIAL_VICTIM",
		"identifiedBy": "STATE_POLICE", "identifiedAt": stamp(date(2, 15)), "region": "TIRANE",
		"formsOfExploitation": []string{"SEXUAL"}, "exactAge": age,
	}
}

func (h *harness) openCase(t *testing.T) caseT {
	t.Helper()
	return call[caseT](t, h, h.police, openCaseMutation, map[string]any{"in": caseInput(h, t, newReference(), "police-tirane")})
}

// assign assigns agencies to a case in a part, as a case is worked on:
// an agency acts on the cases it is assigned to.
func (h *harness) assign(t *testing.T, caseID, part string, agencyCodes ...string) {
	t.Helper()
	for _, code := range agencyCodes {
		call[assignmentT](t, h, h.police, assignAgencyMutation, map[string]any{"case": caseID, "agency": h.agency(t, code), "part": part})
	}
}

func (h *harness) registerVictim(t *testing.T, age int, caseIDs ...string) victimT {
	t.Helper()
	return call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": victimInput(newVictimName(), age), "cases": caseIDs})
}

func (h *harness) recordSuspect(t *testing.T, caseID string) suspectT {
	t.Helper()
	return call[suspectT](t, h, h.police, recordSuspectMutation, map[string]any{"in": map[string]any{
		"pseudonym": newSuspectName(), "sex": "MALE", "nationality": "AL", "role": "RECRUITER", "caseID": caseID,
	}})
}

func (h *harness) registerProsecution(t *testing.T, caseID string, registeredAt time.Time, defendants ...string) prosecutionT {
	t.Helper()
	return call[prosecutionT](t, h, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
		"registrationNumber": newRegistration(), "registeredAt": stamp(registeredAt), "caseID": caseID,
		"officeID": h.agency(t, "prosecution-tirane"), "defendantIDs": defendants,
	}})
}

func (h *harness) moveProsecution(t *testing.T, p prosecutionT, stage string, at *time.Time) prosecutionT {
	t.Helper()
	vars := map[string]any{"id": p.ID, "v": p.Version, "stage": stage}
	if at != nil {
		vars["at"] = stamp(*at)
	}
	return call[prosecutionT](t, h, h.prosecutor, moveProsStageMutation, vars)
}

func (h *harness) referralInput(t *testing.T, victimID string, caseID any) map[string]any {
	return map[string]any{
		"serviceKind": "SHELTER", "referredAt": stamp(time.Now().Add(-2 * time.Hour)), "victimID": victimID,
		"caseID": caseID, "fromAgencyID": h.agency(t, "police-tirane"), "toAgencyID": h.agency(t, "ngo-vatra"),
	}
}

// ---------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------

func TestMutationUnauthenticated(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c := h.openCase(t)
		ops := []struct {
			name, query string
			vars        map[string]any
		}{
			{"openCase", openCaseMutation, map[string]any{"in": caseInput(h, t, newReference(), "police-tirane")}},
			{"updateCase", updateCaseMutation, map[string]any{"id": c.ID, "v": c.Version, "in": map[string]any{"title": "Changed"}}},
			{"registerVictim", registerVictimMutation, map[string]any{"in": victimInput(newVictimName(), 30), "cases": []string{c.ID}}},
		}
		tokens := []struct{ name, token string }{{"NoToken", ""}, {"GarbageToken", "not-a-jwt"}}
		for _, op := range ops {
			for _, tok := range tokens {
				t.Run(op.name+"/Err"+tok.name, func(t *testing.T) {
					before, snap := h.rows(t), h.snapshot(t, c.ID)
					r := h.s.Do(t, tok.token, op.query, op.vars)
					checkClean(t, r)
					if r.Status != http.StatusUnauthorized {
						t.Errorf("status = %d, want 401:\n%s", r.Status, r.Body)
					}
					if codes := r.Codes(); !slices.Equal(codes, []string{"UNAUTHENTICATED"}) {
						t.Errorf("codes = %v, want [UNAUTHENTICATED]:\n%s", codes, r.Body)
					}
					if !nullData(r.Data) {
						t.Errorf("data = %s, want none", r.Data)
					}
					if diff := diffCounts(before, h.rows(t)); diff != "" {
						t.Errorf("an unauthenticated request changed the database: %s", diff)
					}
					if after := h.snapshot(t, c.ID); after != snap {
						t.Errorf("an unauthenticated request changed the case:\n%s\n%s", snap, after)
					}
				})
			}
		}
	})
}

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

func TestMutationOpenCase(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)

		t.Run("OK", func(t *testing.T) {
			ref := newReference()
			c := call[caseT](t, h, h.police, openCaseMutation, map[string]any{"in": caseInput(h, t, ref, "police-tirane")})
			want := caseT{
				ID: c.ID, Version: 1, Reference: ref, Title: "Recruitment through false job offers",
				Stage: "NOTICE_RECEIVED", Region: "TIRANE", FormsOfExploitation: []string{"SEXUAL", "FORCED_LABOUR"},
				OpenedAt: c.OpenedAt, LeadAgency: agencyRef{"police-tirane"},
			}
			if c.ID == "" || !reflect.DeepEqual(c, want) {
				t.Errorf("openCase =\n%+v, want\n%+v", c, want)
			}
			if !c.OpenedAt.Equal(date(2, 20)) {
				t.Errorf("openedAt = %v, want %v", c.OpenedAt, date(2, 20))
			}
			h.expectEvents(t, c.ID, nil, h.police.event("CASE_OPENED", "Case "+ref+" opened; lead agency police-tirane."))
		})

		// The lead agency is assigned to the case in the part its kind plays.
		for _, tc := range []struct{ lead, part string }{
			{"police-tirane", "INVESTIGATING"},
			{"spak", "PROSECUTING"},
			{"court-tirane", "ADJUDICATING"},
			{"onac", "COORDINATING"},
			{"ngo-vatra", "SUPPORTING"},
		} {
			t.Run("OKLeadAssigned/"+tc.lead, func(t *testing.T) {
				c := call[caseT](t, h, h.police, openCaseMutation, map[string]any{"in": caseInput(h, t, newReference(), tc.lead)})
				var data struct {
					Node struct {
						Assignments struct {
							Edges []struct {
								Node struct {
									Part   string
									Agency agencyRef
								}
							}
						}
					}
				}
				h.do(t, h.reader, assignmentsQuery, map[string]any{"id": c.ID}).MustOK(t).Decode(t, &data)
				// The lead in its part; besides it, at most the opener's own
				// agency, in the part it plays (police-tirane investigates).
				got := map[string]string{}
				for _, e := range data.Node.Assignments.Edges {
					got[e.Node.Agency.Code] = e.Node.Part
				}
				want := map[string]string{tc.lead: tc.part}
				if _, ok := got["police-tirane"]; ok && tc.lead != "police-tirane" {
					want["police-tirane"] = "INVESTIGATING"
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("assignments = %v, want %v", got, want)
				}
			})
		}

		victim := h.registerVictim(t, 30)
		refusals := []struct {
			name string
			in   func() map[string]any
			want want
		}{
			{"ErrMissingReference", func() map[string]any {
				in := caseInput(h, t, "", "police-tirane")
				delete(in, "reference")
				return in
			}, invalid},
			{"ErrBadRegionEnum", func() map[string]any {
				in := caseInput(h, t, newReference(), "police-tirane")
				in["region"] = "NOPE"
				return in
			}, invalid},
			{"ErrBadExploitationEnum", func() map[string]any {
				in := caseInput(h, t, newReference(), "police-tirane")
				in["formsOfExploitation"] = []string{"SEXUAL", "NOPE"}
				return in
			}, invalid},
			{"ErrMalformedLeadAgencyID", func() map[string]any {
				in := caseInput(h, t, newReference(), "police-tirane")
				in["leadAgencyID"] = "abc"
				return in
			}, badInput},
			{"ErrUnknownLeadAgency", func() map[string]any {
				in := caseInput(h, t, newReference(), "police-tirane")
				in["leadAgencyID"] = missingAgencyID
				return in
			}, badField("leadAgencyID")},
			{"ErrLeadAgencyIsAVictim", func() map[string]any {
				in := caseInput(h, t, newReference(), "police-tirane")
				in["leadAgencyID"] = victim.ID
				return in
			}, badField("leadAgencyID")},
			{"ErrEmptyTitle", func() map[string]any {
				in := caseInput(h, t, newReference(), "police-tirane")
				in["title"] = ""
				return in
			}, badField("input.title")},
			{"ErrReferenceTooLong", func() map[string]any {
				return caseInput(h, t, strings.Repeat("R", 65), "police-tirane")
			}, badField("reference")},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				h.refuse(t, h.police, openCaseMutation, map[string]any{"in": tc.in()}, tc.want)
			})
		}

		t.Run("ErrMissingReferenceInline", func(t *testing.T) {
			q := fmt.Sprintf(`mutation { openCase(input: {title: "No reference", region: TIRANE, leadAgencyID: %q}) { id } }`, h.agency(t, "police-tirane"))
			h.refuse(t, h.police, q, nil, invalid)
		})

		t.Run("ErrDuplicateReference", func(t *testing.T) {
			ref := newReference()
			first := call[caseT](t, h, h.police, openCaseMutation, map[string]any{"in": caseInput(h, t, ref, "police-tirane")})
			// Another agency, another title: the reference alone decides.
			in := caseInput(h, t, ref, "spak")
			in["title"] = "Another title"
			h.refuse(t, h.prosecutor, openCaseMutation, map[string]any{"in": in}, want{code: "CONFLICT", field: "reference"}, first.ID)
			n, err := h.s.DB.Client.CaseFile.Query().Count(systemCtx())
			if err != nil {
				t.Fatal(err)
			}
			var refs struct{ Cases struct{ TotalCount int } }
			h.do(t, h.reader, `query($ref: String!) { cases(where: {reference: $ref}) { totalCount } }`, map[string]any{"ref": ref}).MustOK(t).Decode(t, &refs)
			if refs.Cases.TotalCount != 1 {
				t.Errorf("%d cases with reference %s (of %d), want 1", refs.Cases.TotalCount, ref, n)
			}
		})
	})
}

func TestMutationUpdateCase(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c := h.openCase(t)
		events := h.timeline(t, c.ID)
		victim := h.registerVictim(t, 30)

		t.Run("OK", func(t *testing.T) {
			got := call[caseT](t, h, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": 1, "in": map[string]any{
				"title": "Forced begging network", "region": "TIRANE", "formsOfExploitation": []string{"FORCED_BEGGING"},
			}})
			if got.Version != 2 || got.Title != "Forced begging network" || got.Region != "TIRANE" ||
				!slices.Equal(got.FormsOfExploitation, []string{"FORCED_BEGGING"}) || got.Reference != c.Reference || got.Stage != "NOTICE_RECEIVED" {
				t.Errorf("updateCase = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.police.event("CASE_UPDATED", "Case details updated."))

			got = call[caseT](t, h, h.prosecutor, updateCaseMutation, map[string]any{"id": c.ID, "v": 2, "in": map[string]any{
				"leadAgencyID": h.agency(t, "spak"),
			}})
			if got.Version != 3 || got.LeadAgency.Code != "spak" || got.Title != "Forced begging network" {
				t.Errorf("second updateCase = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("CASE_UPDATED", "Case details updated."))
			c = got
		})

		t.Run("OKAppendFormsOfExploitation", func(t *testing.T) {
			need(t, c.ID)
			got := call[caseT](t, h, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": c.Version, "in": map[string]any{
				"appendFormsOfExploitation": []string{"SEXUAL"},
			}})
			if got.Version != c.Version+1 {
				t.Errorf("version = %d, want %d", got.Version, c.Version+1)
			}
			events = h.expectEvents(t, c.ID, events, h.police.event("CASE_UPDATED", "Case details updated."))
			before := c.FormsOfExploitation
			c = got
			if slices.Equal(got.FormsOfExploitation, before) {
				t.Errorf("BUG: updateCase with appendFormsOfExploitation [SEXUAL] leaves formsOfExploitation %v unchanged (generated UpdateCaseInput.Mutate appends FormsOfExploitation, not AppendFormsOfExploitation)", before)
			}
			if want := append(slices.Clone(before), "SEXUAL"); !slices.Equal(got.FormsOfExploitation, want) {
				t.Errorf("formsOfExploitation = %v, want %v", got.FormsOfExploitation, want)
			}
		})

		for _, tc := range []struct {
			name string
			vars func() map[string]any
			want want
		}{
			{"ErrStaleVersion", func() map[string]any {
				return map[string]any{"id": c.ID, "v": c.Version - 1, "in": map[string]any{"title": "Stale"}}
			}, conflict},
			{"ErrFutureVersion", func() map[string]any {
				return map[string]any{"id": c.ID, "v": c.Version + 1, "in": map[string]any{"title": "Future"}}
			}, conflict},
			{"ErrNotFound", func() map[string]any {
				return map[string]any{"id": missingCaseID, "v": 1, "in": map[string]any{"title": "Nobody"}}
			}, notFound},
			{"ErrNotFoundOtherType", func() map[string]any {
				return map[string]any{"id": victim.ID, "v": 1, "in": map[string]any{"title": "A victim"}}
			}, notFound},
			{"ErrUnknownLeadAgency", func() map[string]any {
				return map[string]any{"id": c.ID, "v": c.Version, "in": map[string]any{"leadAgencyID": victim.ID}}
			}, badField("input.leadAgencyID")},
			{"ErrEmptyTitle", func() map[string]any {
				return map[string]any{"id": c.ID, "v": c.Version, "in": map[string]any{"title": ""}}
			}, badField("input.title")},
			{"ErrBadRegionEnum", func() map[string]any {
				return map[string]any{"id": c.ID, "v": c.Version, "in": map[string]any{"region": "NOPE"}}
			}, invalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, c.ID)
				h.refuse(t, h.police, updateCaseMutation, tc.vars(), tc.want, c.ID)
			})
		}
	})
}

func TestMutationMoveCaseStage(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c := h.openCase(t)
		events := h.timeline(t, c.ID)

		t.Run("OK", func(t *testing.T) {
			for i, stage := range []string{"REGISTERED", "UNDER_INVESTIGATION", "INVESTIGATION_CLOSED"} {
				got := call[caseT](t, h, h.prosecutor, moveCaseStageMutation, map[string]any{"id": c.ID, "v": c.Version, "stage": stage})
				if got.Stage != stage || got.Version != i+2 || got.ClosedAt != nil {
					t.Errorf("moveCaseStage(%s) = %+v", stage, got)
				}
				events = h.expectEvents(t, c.ID, events, h.prosecutor.event("STAGE_CHANGED", "Stage changed from "+c.Stage+" to "+stage+"."))
				c = got
			}
		})

		t.Run("OKTerminalStageCloses", func(t *testing.T) {
			other := h.openCase(t)
			got := call[caseT](t, h, h.prosecutor, moveCaseStageMutation, map[string]any{"id": other.ID, "v": 1, "stage": "TRANSFERRED"})
			if got.Stage != "TRANSFERRED" || got.Version != 2 || got.ClosedAt == nil || time.Since(*got.ClosedAt).Abs() > time.Minute {
				t.Errorf("moveCaseStage(TRANSFERRED) = %+v, want closed now", got)
			}
			e := h.refuse(t, h.prosecutor, moveCaseStageMutation, map[string]any{"id": other.ID, "v": 2, "stage": "REGISTERED"}, badField("stage"), other.ID)
			if allowed, ok := e.Extensions["allowed"].([]any); !ok || len(allowed) != 0 {
				t.Errorf("extensions.allowed = %v, want [] after a terminal stage", e.Extensions["allowed"])
			}
		})

		t.Run("ErrImpossibleTransition", func(t *testing.T) {
			fresh := h.openCase(t)
			e := h.refuse(t, h.prosecutor, moveCaseStageMutation, map[string]any{"id": fresh.ID, "v": 1, "stage": "FINAL"}, badField("stage"), fresh.ID)
			if got := fmt.Sprint(e.Extensions["allowed"]); got != "[REGISTERED TRANSFERRED MERGED]" {
				t.Errorf("extensions.allowed = %s, want [REGISTERED TRANSFERRED MERGED]", got)
			}
		})

		for _, tc := range []struct {
			name string
			vars func() map[string]any
			want want
		}{
			{"ErrBadStageEnum", func() map[string]any { return map[string]any{"id": c.ID, "v": c.Version, "stage": "NOPE"} }, invalid},
			{"ErrStaleVersion", func() map[string]any {
				return map[string]any{"id": c.ID, "v": c.Version - 1, "stage": "TRIAL_REQUESTED"}
			}, conflict},
			{"ErrNotFound", func() map[string]any { return map[string]any{"id": missingCaseID, "v": 1, "stage": "REGISTERED"} }, notFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, c.ID)
				h.refuse(t, h.prosecutor, moveCaseStageMutation, tc.vars(), tc.want, c.ID)
			})
		}
	})
}

func TestMutationAssignAgency(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c := h.openCase(t)
		events := h.timeline(t, c.ID)
		vatra := h.agency(t, "ngo-vatra")
		var first assignmentT

		t.Run("OK", func(t *testing.T) {
			first = call[assignmentT](t, h, h.police, assignAgencyMutation, map[string]any{"case": c.ID, "agency": vatra, "part": "SUPPORTING"})
			want := assignmentT{ID: first.ID, Version: 1, Part: "SUPPORTING", Case: nodeRef{c.ID}, Agency: agencyRef{"ngo-vatra"}}
			if first.ID == "" || first != want {
				t.Errorf("assignAgencyToCase = %+v, want %+v", first, want)
			}
			events = h.expectEvents(t, c.ID, events, h.police.event("AGENCY_ASSIGNED", "ngo-vatra assigned as SUPPORTING."))
		})

		t.Run("OKSamePartChangesNothing", func(t *testing.T) {
			need(t, first.ID)
			before := h.rows(t)
			again := call[assignmentT](t, h, h.police, assignAgencyMutation, map[string]any{"case": c.ID, "agency": vatra, "part": "SUPPORTING"})
			if again != first {
				t.Errorf("assigning again = %+v, want %+v", again, first)
			}
			if diff := diffCounts(before, h.rows(t)); diff != "" {
				t.Errorf("assigning the same part again changed the database: %s", diff)
			}
			events = h.expectEvents(t, c.ID, events)
		})

		t.Run("OKChangePart", func(t *testing.T) {
			need(t, first.ID)
			got := call[assignmentT](t, h, h.prosecutor, assignAgencyMutation, map[string]any{"case": c.ID, "agency": vatra, "part": "COORDINATING"})
			if got.ID != first.ID || got.Version != 2 || got.Part != "COORDINATING" {
				t.Errorf("changing the part = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("AGENCY_ASSIGNED", "ngo-vatra assigned as COORDINATING."))
		})

		for _, tc := range []struct {
			name string
			vars map[string]any
			want want
		}{
			{"ErrUnknownAgency", map[string]any{"case": c.ID, "agency": missingAgencyID, "part": "SUPPORTING"}, badField("agencyID")},
			{"ErrAgencyIsACase", map[string]any{"case": c.ID, "agency": c.ID, "part": "SUPPORTING"}, badField("agencyID")},
			{"ErrUnknownCase", map[string]any{"case": missingCaseID, "agency": vatra, "part": "SUPPORTING"}, badField("caseID")},
			{"ErrBadPartEnum", map[string]any{"case": c.ID, "agency": vatra, "part": "NOPE"}, invalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.refuse(t, h.police, assignAgencyMutation, tc.vars, tc.want, c.ID)
			})
		}
	})
}

// ---------------------------------------------------------------------------
// Victims and consent
// ---------------------------------------------------------------------------

func TestMutationVictim(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c1, c2, c3 := h.openCase(t), h.openCase(t), h.openCase(t)
		h.assign(t, c1.ID, "SUPPORTING", "ngo-vatra")
		ev1, ev2, ev3 := h.timeline(t, c1.ID), h.timeline(t, c2.ID), h.timeline(t, c3.ID)
		var v victimT
		linked := h.police.event("VICTIM_LINKED", "Victim linked to the case.")

		t.Run("RegisterOK", func(t *testing.T) {
			name := newVictimName()
			v = call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": victimInput(name, 17), "cases": []string{c1.ID, c2.ID}})
			if v.ID == "" || v.Version != 1 || v.Pseudonym != name || v.AgeGroup != "MINOR" || v.IdentificationStatus != "POTENTIAL_VICTIM" ||
				v.IdentifiedBy != "STATE_POLICE" || v.Sex != "FEMALE" || v.Cases.TotalCount != 2 {
				t.Errorf("registerVictim = %+v", v)
			}
			if age := h.stored(t, v.ID).ExactAge; age == nil || *age != 17 {
				t.Errorf("stored exactAge = %v, want 17", age)
			}
			ev1 = h.expectEvents(t, c1.ID, ev1, linked)
			ev2 = h.expectEvents(t, c2.ID, ev2, linked)
			ev3 = h.expectEvents(t, c3.ID, ev3)
		})

		t.Run("RegisterOKWithoutCases", func(t *testing.T) {
			got := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": victimInput(newVictimName(), 30)})
			if got.Version != 1 || got.Cases.TotalCount != 0 || got.AgeGroup != "ADULT" {
				t.Errorf("registerVictim without cases = %+v", got)
			}
		})

		for _, tc := range []struct {
			name  string
			in    func() map[string]any
			cases []string
			want  want
		}{
			{"RegisterErrInvalidPseudonym", func() map[string]any { return victimInput("bad", 30) }, nil, badField("pseudonym")},
			{"RegisterErrExactAgeOutOfRange", func() map[string]any { return victimInput(newVictimName(), 200) }, nil, badField("exactAge")},
			{"RegisterErrDuplicatePseudonym", func() map[string]any { return victimInput(v.Pseudonym, 30) }, nil, want{code: "CONFLICT", field: "pseudonym"}},
			{"RegisterErrBadSexEnum", func() map[string]any {
				in := victimInput(newVictimName(), 30)
				in["sex"] = "NOPE"
				return in
			}, nil, invalid},
			{"RegisterErrUnknownCase", func() map[string]any { return victimInput(newVictimName(), 30) }, []string{missingCaseID}, badField("caseIDs")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, v.ID)
				h.refuse(t, h.police, registerVictimMutation, map[string]any{"in": tc.in(), "cases": tc.cases}, tc.want)
			})
		}

		t.Run("UpdateOK", func(t *testing.T) {
			need(t, v.ID)
			got := call[victimT](t, h, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": 1, "in": map[string]any{
				"identificationStatus": "OFFICIAL_VICTIM", "exactAge": 18, "ageGroup": "ADULT",
			}})
			if age := h.stored(t, v.ID).ExactAge; age == nil || *age != 18 {
				t.Errorf("stored exactAge = %v, want 18", age)
			}
			if got.Version != 2 || got.IdentificationStatus != "OFFICIAL_VICTIM" ||
				got.AgeGroup != "ADULT" || got.Pseudonym != v.Pseudonym {
				t.Errorf("updateVictim = %+v", got)
			}
			updated := h.police.event("VICTIM_UPDATED", "Victim record updated.")
			ev1 = h.expectEvents(t, c1.ID, ev1, updated)
			ev2 = h.expectEvents(t, c2.ID, ev2, updated)

			got = call[victimT](t, h, h.ngo, updateVictimMutation, map[string]any{"id": v.ID, "v": 2, "in": map[string]any{
				"formsOfExploitation": []string{"SEXUAL", "FORCED_BEGGING"},
			}})
			if got.Version != 3 || !slices.Equal(got.FormsOfExploitation, []string{"SEXUAL", "FORCED_BEGGING"}) {
				t.Errorf("second updateVictim = %+v", got)
			}
			ev1 = h.expectEvents(t, c1.ID, ev1, h.ngo.event("VICTIM_UPDATED", "Victim record updated."))
			ev2 = h.expectEvents(t, c2.ID, ev2, h.ngo.event("VICTIM_UPDATED", "Victim record updated."))
			v = got
		})

		t.Run("UpdateOKAppendFormsOfExploitation", func(t *testing.T) {
			need(t, v.ID)
			got := call[victimT](t, h, h.ngo, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version, "in": map[string]any{
				"appendFormsOfExploitation": []string{"FORCED_LABOUR"},
			}})
			if got.Version != v.Version+1 {
				t.Errorf("version = %d, want %d", got.Version, v.Version+1)
			}
			ev1 = h.expectEvents(t, c1.ID, ev1, h.ngo.event("VICTIM_UPDATED", "Victim record updated."))
			ev2 = h.expectEvents(t, c2.ID, ev2, h.ngo.event("VICTIM_UPDATED", "Victim record updated."))
			before := v.FormsOfExploitation
			v = got
			if slices.Equal(got.FormsOfExploitation, before) {
				t.Errorf("BUG: updateVictim with appendFormsOfExploitation [FORCED_LABOUR] leaves formsOfExploitation %v unchanged (generated UpdateVictimInput.Mutate appends FormsOfExploitation, not AppendFormsOfExploitation)", before)
			}
			if want := append(slices.Clone(before), "FORCED_LABOUR"); !slices.Equal(got.FormsOfExploitation, want) {
				t.Errorf("formsOfExploitation = %v, want %v", got.FormsOfExploitation, want)
			}
		})

		for _, tc := range []struct {
			name string
			vars func() map[string]any
			want want
		}{
			{"UpdateErrStaleVersion", func() map[string]any {
				return map[string]any{"id": v.ID, "v": 1, "in": map[string]any{"identificationStatus": "NOT_CONFIRMED"}}
			}, conflict},
			{"UpdateErrExactAgeNegative", func() map[string]any {
				return map[string]any{"id": v.ID, "v": v.Version, "in": map[string]any{"exactAge": -1}}
			}, badField("exactAge")},
			{"UpdateErrNotFound", func() map[string]any {
				return map[string]any{"id": missingVictimID, "v": 1, "in": map[string]any{"exactAge": 20}}
			}, notFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, v.ID)
				h.refuse(t, h.police, updateVictimMutation, tc.vars(), tc.want, v.ID)
			})
		}

		t.Run("LinkOK", func(t *testing.T) {
			need(t, v.ID)
			got := call[linkedCaseT](t, h, h.police, linkVictimMutation, map[string]any{"victim": v.ID, "case": c3.ID})
			if got.ID != c3.ID || got.Victims.TotalCount != 1 || got.Victims.Edges[0].Node.ID != v.ID {
				t.Errorf("linkVictimToCase = %+v", got)
			}
			ev3 = h.expectEvents(t, c3.ID, ev3, linked)
		})

		t.Run("LinkTwiceChangesNothing", func(t *testing.T) {
			need(t, v.ID)
			before := h.rows(t)
			got := call[linkedCaseT](t, h, h.police, linkVictimMutation, map[string]any{"victim": v.ID, "case": c3.ID})
			if got.Victims.TotalCount != 1 {
				t.Errorf("linking twice: victims = %+v", got.Victims)
			}
			if diff := diffCounts(before, h.rows(t)); diff != "" {
				t.Errorf("linking twice changed the database: %s", diff)
			}
			ev3 = h.expectEvents(t, c3.ID, ev3)
		})

		for _, tc := range []struct {
			name string
			vars func() map[string]any
			want want
		}{
			{"LinkErrUnknownVictim", func() map[string]any { return map[string]any{"victim": missingVictimID, "case": c3.ID} }, badField("victimID")},
			{"LinkErrVictimIsACase", func() map[string]any { return map[string]any{"victim": c1.ID, "case": c3.ID} }, badField("victimID")},
			{"LinkErrUnknownCase", func() map[string]any { return map[string]any{"victim": v.ID, "case": missingCaseID} }, badField("caseID")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, v.ID)
				h.refuse(t, h.police, linkVictimMutation, tc.vars(), tc.want, c3.ID)
			})
		}
	})
}

func TestMutationConsent(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c := h.openCase(t)
		h.assign(t, c.ID, "SUPPORTING", "ngo-vatra")
		adult, child := h.registerVictim(t, 25, c.ID), h.registerVictim(t, 14, c.ID)
		events := h.timeline(t, c.ID)
		givenAt := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		input := func(victimID, givenBy string) map[string]any {
			return map[string]any{
				"victimID": victimID, "givenBy": givenBy, "givenAt": stamp(givenAt),
				"agencyKinds": []string{"PROSECUTION_OFFICE", "NGO_SHELTER"}, "purposes": []string{"SERVICES", "CRIMINAL_PROCEEDINGS"},
			}
		}
		var cs consentT

		t.Run("RecordOK", func(t *testing.T) {
			cs = call[consentT](t, h, h.ngo, recordConsentMutation, map[string]any{"in": input(adult.ID, "VICTIM")})
			want := consentT{
				ID: cs.ID, Version: 1, AgencyKinds: []string{"PROSECUTION_OFFICE", "NGO_SHELTER"}, Purposes: []string{"SERVICES", "CRIMINAL_PROCEEDINGS"},
				GivenBy: "VICTIM", GivenAt: cs.GivenAt, RecordedBy: h.ngo.subject, RecordedByAgency: agencyRef{"ngo-vatra"}, Victim: nodeRef{adult.ID},
			}
			if cs.ID == "" || !reflect.DeepEqual(cs, want) || !cs.GivenAt.Equal(givenAt) {
				t.Errorf("recordConsent =\n%+v, want\n%+v", cs, want)
			}
			events = h.expectEvents(t, c.ID, events, h.ngo.event("CONSENT_RECORDED", "Consent recorded."))
		})

		t.Run("RecordOKUnder16ByGuardian", func(t *testing.T) {
			got := call[consentT](t, h, h.ngo, recordConsentMutation, map[string]any{"in": input(child.ID, "PARENT_OR_GUARDIAN")})
			if got.Version != 1 || got.GivenBy != "PARENT_OR_GUARDIAN" || got.Victim.ID != child.ID {
				t.Errorf("recordConsent by a guardian = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.ngo.event("CONSENT_RECORDED", "Consent recorded."))
		})

		for _, tc := range []struct {
			name string
			in   func() map[string]any
			want want
		}{
			{"RecordErrUnder16Alone", func() map[string]any { return input(child.ID, "VICTIM") }, badField("givenBy")},
			{"RecordErrNoPurpose", func() map[string]any {
				in := input(adult.ID, "VICTIM")
				in["purposes"] = []string{}
				return in
			}, badField("purposes")},
			{"RecordErrNoAgencyKind", func() map[string]any {
				in := input(adult.ID, "VICTIM")
				in["agencyKinds"] = []string{}
				return in
			}, badField("agencyKinds")},
			{"RecordErrGivenInTheFuture", func() map[string]any {
				in := input(adult.ID, "VICTIM")
				in["givenAt"] = stamp(time.Now().Add(time.Hour))
				return in
			}, badField("givenAt")},
			{"RecordErrUnknownVictim", func() map[string]any { return input(c.ID, "VICTIM") }, badField("victimID")},
			{"RecordErrBadPurposeEnum", func() map[string]any {
				in := input(adult.ID, "VICTIM")
				in["purposes"] = []string{"NOPE"}
				return in
			}, invalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.refuse(t, h.ngo, recordConsentMutation, map[string]any{"in": tc.in()}, tc.want)
			})
		}

		t.Run("WithdrawErrStaleVersion", func(t *testing.T) {
			need(t, cs.ID)
			h.refuse(t, h.ngo, withdrawConsentMutation, map[string]any{"id": cs.ID, "v": 2}, conflict, cs.ID)
		})

		t.Run("WithdrawOK", func(t *testing.T) {
			need(t, cs.ID)
			got := call[consentT](t, h, h.police, withdrawConsentMutation, map[string]any{"id": cs.ID, "v": 1})
			if got.Version != 2 || got.WithdrawnAt == nil || time.Since(*got.WithdrawnAt).Abs() > time.Minute ||
				got.RecordedBy != h.ngo.subject || got.GivenBy != "VICTIM" {
				t.Errorf("withdrawConsent = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.police.event("CONSENT_WITHDRAWN", "Consent withdrawn."))
		})

		t.Run("WithdrawErrAlreadyWithdrawn", func(t *testing.T) {
			need(t, cs.ID)
			h.refuse(t, h.police, withdrawConsentMutation, map[string]any{"id": cs.ID, "v": 2}, badField("id"), cs.ID)
		})

		t.Run("WithdrawErrNotFound", func(t *testing.T) {
			h.refuse(t, h.police, withdrawConsentMutation, map[string]any{"id": adult.ID, "v": 1}, notFound)
		})
	})
}

// ---------------------------------------------------------------------------
// Suspects, prosecutions, charges, court decisions
// ---------------------------------------------------------------------------

func TestMutationSuspect(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c := h.openCase(t)
		events := h.timeline(t, c.ID)
		var s suspectT

		t.Run("RecordOK", func(t *testing.T) {
			name := newSuspectName()
			s = call[suspectT](t, h, h.police, recordSuspectMutation, map[string]any{"in": map[string]any{
				"pseudonym": name, "sex": "MALE", "nationality": "AL", "role": "RECRUITER", "caseID": c.ID, "legalName": "Made Up",
			}})
			want := suspectT{ID: s.ID, Version: 1, Pseudonym: name, Sex: "MALE", Nationality: "AL", Role: "RECRUITER", Case: nodeRef{c.ID}}
			if s.ID == "" || s != want {
				t.Errorf("recordSuspect = %+v, want %+v", s, want)
			}
			events = h.expectEvents(t, c.ID, events, h.police.event("SUSPECT_RECORDED", "Suspect "+name+" recorded."))
		})

		for _, tc := range []struct {
			name string
			in   func() map[string]any
			want want
		}{
			{"RecordErrDuplicatePseudonym", func() map[string]any {
				return map[string]any{"pseudonym": s.Pseudonym, "sex": "MALE", "nationality": "AL", "role": "CLIENT", "caseID": c.ID}
			}, want{code: "CONFLICT", field: "pseudonym"}},
			{"RecordErrUnknownCase", func() map[string]any {
				return map[string]any{"pseudonym": newSuspectName(), "sex": "MALE", "nationality": "AL", "role": "CLIENT", "caseID": missingCaseID}
			}, badField("caseID")},
			{"RecordErrEmptyPseudonym", func() map[string]any {
				return map[string]any{"pseudonym": "", "sex": "MALE", "nationality": "AL", "role": "CLIENT", "caseID": c.ID}
			}, badField("input.pseudonym")},
			{"RecordErrBadRoleEnum", func() map[string]any {
				return map[string]any{"pseudonym": newSuspectName(), "sex": "MALE", "nationality": "AL", "role": "NOPE", "caseID": c.ID}
			}, invalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, s.ID)
				h.refuse(t, h.police, recordSuspectMutation, map[string]any{"in": tc.in()}, tc.want)
			})
		}

		t.Run("UpdateOK", func(t *testing.T) {
			need(t, s.ID)
			got := call[suspectT](t, h, h.prosecutor, updateSuspectMutation, map[string]any{"id": s.ID, "v": 1, "in": map[string]any{
				"role": "ORGANISER", "nationality": "XK", "clearLegalName": true,
			}})
			if got.Version != 2 || got.Role != "ORGANISER" || got.Nationality != "XK" || got.Pseudonym != s.Pseudonym {
				t.Errorf("updateSuspect = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("SUSPECT_UPDATED", "Suspect "+s.Pseudonym+" updated."))
			s = got
		})

		for _, tc := range []struct {
			name string
			vars func() map[string]any
			want want
		}{
			{"UpdateErrStaleVersion", func() map[string]any {
				return map[string]any{"id": s.ID, "v": 1, "in": map[string]any{"role": "CLIENT"}}
			}, conflict},
			{"UpdateErrNationalityTooLong", func() map[string]any {
				return map[string]any{"id": s.ID, "v": s.Version, "in": map[string]any{"nationality": strings.Repeat("X", 65)}}
			}, badField("nationality")},
			{"UpdateErrNotFound", func() map[string]any {
				return map[string]any{"id": c.ID, "v": 1, "in": map[string]any{"role": "CLIENT"}}
			}, notFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, s.ID)
				h.refuse(t, h.police, updateSuspectMutation, tc.vars(), tc.want, s.ID)
			})
		}
	})
}

func TestMutationProsecution(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c, other := h.openCase(t), h.openCase(t)
		s1, s2, stranger := h.recordSuspect(t, c.ID), h.recordSuspect(t, c.ID), h.recordSuspect(t, other.ID)
		events := h.timeline(t, c.ID)
		registeredAt := date(3, 2)
		var p prosecutionT
		moved := func(from, to string) eventT {
			return h.prosecutor.event("PROSECUTION_STAGE_CHANGED", fmt.Sprintf("Proceeding %s moved from %s to %s.", p.RegistrationNumber, from, to))
		}

		t.Run("RegisterOK", func(t *testing.T) {
			number := newRegistration()
			p = call[prosecutionT](t, h, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
				"registrationNumber": number, "registeredAt": stamp(registeredAt), "caseID": c.ID,
				"officeID": h.agency(t, "prosecution-tirane"), "defendantIDs": []string{s1.ID, s2.ID},
			}})
			if p.ID == "" || p.Version != 1 || p.RegistrationNumber != number || p.Stage != "REGISTERED" || !p.RegisteredAt.Equal(registeredAt) ||
				p.InvestigationDeadline != nil || p.DeadlineExtensions != 0 || p.ClosedAt != nil || p.Office.Code != "prosecution-tirane" ||
				p.Case.ID != c.ID || len(p.Defendants) != 2 {
				t.Errorf("registerProsecution = %+v", p)
			}
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("PROSECUTION_REGISTERED", "Proceeding "+number+" registered."))
		})

		for _, tc := range []struct {
			name string
			in   func() map[string]any
			want want
		}{
			{"RegisterErrOfficeIsPolice", func() map[string]any {
				return map[string]any{"registrationNumber": newRegistration(), "registeredAt": stamp(registeredAt), "caseID": c.ID, "officeID": h.agency(t, "police-tirane")}
			}, badField("officeID")},
			{"RegisterErrUnknownOffice", func() map[string]any {
				return map[string]any{"registrationNumber": newRegistration(), "registeredAt": stamp(registeredAt), "caseID": c.ID, "officeID": missingAgencyID}
			}, badField("officeID")},
			{"RegisterErrDefendantOfOtherCase", func() map[string]any {
				return map[string]any{"registrationNumber": newRegistration(), "registeredAt": stamp(registeredAt), "caseID": c.ID,
					"officeID": h.agency(t, "spak"), "defendantIDs": []string{s1.ID, stranger.ID}}
			}, badField("defendantIDs")},
			{"RegisterErrDuplicateNumber", func() map[string]any {
				return map[string]any{"registrationNumber": p.RegistrationNumber, "registeredAt": stamp(registeredAt), "caseID": c.ID, "officeID": h.agency(t, "spak")}
			}, want{code: "CONFLICT", field: "registrationNumber"}},
			{"RegisterErrDeadlineBeforeRegistration", func() map[string]any {
				return map[string]any{"registrationNumber": newRegistration(), "registeredAt": stamp(registeredAt), "caseID": c.ID,
					"officeID": h.agency(t, "spak"), "investigationDeadline": stamp(registeredAt.AddDate(0, 0, -1))}
			}, badField("investigationDeadline")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, p.ID)
				h.refuse(t, h.prosecutor, registerProsMutation, map[string]any{"in": tc.in()}, tc.want)
			})
		}

		t.Run("UpdateOK", func(t *testing.T) {
			need(t, p.ID)
			got := call[prosecutionT](t, h, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": 1, "in": map[string]any{
				"officeID": h.agency(t, "spak"), "removeDefendantIDs": []string{s2.ID},
			}})
			if got.Version != 2 || got.Office.Code != "spak" || len(got.Defendants) != 1 || got.Defendants[0].ID != s1.ID || got.Stage != "REGISTERED" {
				t.Errorf("updateProsecution = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("CASE_UPDATED", "Proceeding "+p.RegistrationNumber+" updated."))
			p = got
		})

		for _, tc := range []struct {
			name string
			vars func() map[string]any
			want want
		}{
			{"UpdateErrStaleVersion", func() map[string]any {
				return map[string]any{"id": p.ID, "v": 1, "in": map[string]any{"officeID": h.agency(t, "prosecution-tirane")}}
			}, conflict},
			{"UpdateErrOfficeIsCourt", func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version, "in": map[string]any{"officeID": h.agency(t, "court-tirane")}}
			}, badField("input.officeID")},
			{"UpdateErrNotFound", func() map[string]any {
				return map[string]any{"id": missingProsecutionID, "v": 1, "in": map[string]any{"officeID": h.agency(t, "spak")}}
			}, notFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, p.ID)
				h.refuse(t, h.prosecutor, updateProsMutation, tc.vars(), tc.want, p.ID)
			})
		}

		for _, tc := range []struct {
			name, query string
			vars        func() map[string]any
			want        want
			allowed     string // extensions.allowed, when checked
		}{
			{"MoveErrImpossibleTransition", moveProsStageMutation, func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version, "stage": "FINAL"}
			}, badField("stage"), "[UNDER_INVESTIGATION TRANSFERRED MERGED]"},
			{"MoveErrBadStageEnum", moveProsStageMutation, func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version, "stage": "NOPE"}
			}, invalid, ""},
			{"MoveErrBeforeRegistration", moveProsStageMutation, func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version, "stage": "UNDER_INVESTIGATION", "at": stamp(registeredAt.Add(-time.Hour))}
			}, badField("at"), ""},
			{"MoveErrInTheFuture", moveProsStageMutation, func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version, "stage": "UNDER_INVESTIGATION", "at": stamp(time.Now().Add(time.Hour))}
			}, badField("at"), ""},
			{"MoveErrStaleVersion", moveProsStageMutation, func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version - 1, "stage": "UNDER_INVESTIGATION", "at": stamp(date(3, 10))}
			}, conflict, ""},
			{"MoveErrNotFound", moveProsStageMutation, func() map[string]any {
				return map[string]any{"id": missingProsecutionID, "v": 1, "stage": "UNDER_INVESTIGATION"}
			}, notFound, ""},
			{"ExtendErrNotUnderInvestigation", extendDeadlineMutation, func() map[string]any {
				return map[string]any{"id": p.ID, "v": p.Version, "until": stamp(date(9, 1))}
			}, badField("id"), ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, p.ID)
				e := h.refuse(t, h.prosecutor, tc.query, tc.vars(), tc.want, p.ID)
				if got := fmt.Sprint(e.Extensions["allowed"]); tc.allowed != "" && got != tc.allowed {
					t.Errorf("extensions.allowed = %s, want %s", got, tc.allowed)
				}
			})
		}

		startedAt := date(3, 10)
		t.Run("MoveToUnderInvestigationSetsDeadline", func(t *testing.T) {
			need(t, p.ID)
			got := h.moveProsecution(t, p, "UNDER_INVESTIGATION", &startedAt)
			if got.Stage != "UNDER_INVESTIGATION" || got.Version != 3 {
				t.Errorf("moveProsecutionStage = %+v", got)
			}
			sameTime(t, "investigationStartedAt", got.InvestigationStartedAt, startedAt)
			sameTime(t, "investigationDeadline", got.InvestigationDeadline, date(6, 10)) // three months later
			events = h.expectEvents(t, c.ID, events, moved("REGISTERED", "UNDER_INVESTIGATION"))
			p = got
		})

		extended := date(8, 10)
		t.Run("ExtendDeadlineOK", func(t *testing.T) {
			need(t, p.ID)
			got := call[prosecutionT](t, h, h.prosecutor, extendDeadlineMutation, map[string]any{"id": p.ID, "v": p.Version, "until": stamp(extended)})
			if got.Version != 4 || got.DeadlineExtensions != 1 || got.Stage != "UNDER_INVESTIGATION" {
				t.Errorf("extendInvestigationDeadline = %+v", got)
			}
			sameTime(t, "investigationDeadline", got.InvestigationDeadline, extended)
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("DEADLINE_EXTENDED",
				fmt.Sprintf("Investigation deadline of %s extended to %s.", p.RegistrationNumber, extended.Format(time.DateOnly))))
			p = got
		})

		for _, tc := range []struct {
			name  string
			v     func() int
			until time.Time
			want  want
		}{
			{"ExtendErrMoreThanThreeMonths", func() int { return p.Version }, extended.AddDate(0, 4, 0), badField("until")},
			{"ExtendErrNotLater", func() int { return p.Version }, extended.AddDate(0, 0, -1), badField("until")},
			{"ExtendErrStaleVersion", func() int { return p.Version - 1 }, extended.AddDate(0, 1, 0), conflict},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, p.ID)
				h.refuse(t, h.prosecutor, extendDeadlineMutation, map[string]any{"id": p.ID, "v": tc.v(), "until": stamp(tc.until)}, tc.want, p.ID)
			})
		}

		t.Run("MoveThroughTrialToFinal", func(t *testing.T) {
			need(t, p.ID)
			type step struct {
				stage string
				at    *time.Time
				field func(prosecutionT) *time.Time // the date the stage sets
			}
			steps := []step{
				{"INVESTIGATION_CLOSED", ptr(date(7, 1)), func(p prosecutionT) *time.Time { return p.InvestigationClosedAt }},
				{"TRIAL_REQUESTED", ptr(date(7, 15)), func(p prosecutionT) *time.Time { return p.TrialRequestedAt }},
				{"FIRST_INSTANCE_TRIAL", ptr(date(9, 1)), nil},
				{"FIRST_INSTANCE_DECIDED", ptr(date(10, 1)), func(p prosecutionT) *time.Time { return p.FirstInstanceDecidedAt }},
				{"APPEAL", ptr(date(10, 20)), nil},
				{"APPEAL_DECIDED", ptr(date(12, 1)), func(p prosecutionT) *time.Time { return p.AppealDecidedAt }},
				{"FINAL", nil, func(p prosecutionT) *time.Time { return p.ClosedAt }},
			}
			for _, st := range steps {
				got := h.moveProsecution(t, p, st.stage, st.at)
				if got.Stage != st.stage || got.Version != p.Version+1 {
					t.Fatalf("moveProsecutionStage(%s) = %+v", st.stage, got)
				}
				switch {
				case st.field == nil:
				case st.at != nil:
					sameTime(t, st.stage+" date", st.field(got), *st.at)
				default:
					if d := st.field(got); d == nil || time.Since(*d).Abs() > time.Minute {
						t.Errorf("%s date = %v, want now", st.stage, d)
					}
				}
				if (got.ClosedAt != nil) != (st.stage == "FINAL") {
					t.Errorf("after %s closedAt = %v", st.stage, got.ClosedAt)
				}
				events = h.expectEvents(t, c.ID, events, moved(p.Stage, st.stage))
				p = got
			}
			// Earlier dates stay as they were.
			sameTime(t, "investigationStartedAt", p.InvestigationStartedAt, startedAt)
			sameTime(t, "investigationDeadline", p.InvestigationDeadline, extended)
			if p.DismissedAt != nil {
				t.Errorf("dismissedAt = %v, want null", p.DismissedAt)
			}
		})

		t.Run("MoveErrAfterFinal", func(t *testing.T) {
			need(t, p.ID)
			e := h.refuse(t, h.prosecutor, moveProsStageMutation, map[string]any{"id": p.ID, "v": p.Version, "stage": "APPEAL"}, badField("stage"), p.ID)
			if allowed, ok := e.Extensions["allowed"].([]any); !ok || len(allowed) != 0 {
				t.Errorf("extensions.allowed = %v, want []", e.Extensions["allowed"])
			}
		})

		t.Run("MoveToDismissed", func(t *testing.T) {
			q := h.registerProsecution(t, c.ID, registeredAt)
			q = h.moveProsecution(t, q, "UNDER_INVESTIGATION", ptr(date(3, 5)))
			q = h.moveProsecution(t, q, "INVESTIGATION_CLOSED", ptr(date(4, 1)))
			q = h.moveProsecution(t, q, "DISMISSED", ptr(date(4, 20)))
			if q.Stage != "DISMISSED" || q.Version != 4 {
				t.Errorf("after DISMISSED: %+v", q)
			}
			sameTime(t, "dismissedAt", q.DismissedAt, date(4, 20))
			sameTime(t, "closedAt", q.ClosedAt, date(4, 20))
			if q.TrialRequestedAt != nil {
				t.Errorf("trialRequestedAt = %v, want null", q.TrialRequestedAt)
			}
		})

		// A deadline three months after 31 August is 30 November: a month
		// has no 31st day to roll over into December.
		var q prosecutionT
		t.Run("MoveToUnderInvestigationDeadlineAtMonthEnd", func(t *testing.T) {
			q = h.registerProsecution(t, c.ID, date(8, 1))
			q = h.moveProsecution(t, q, "UNDER_INVESTIGATION", ptr(date(8, 31)))
			if q.InvestigationDeadline != nil && q.InvestigationDeadline.Equal(date(8, 31).AddDate(0, 3, 0)) {
				t.Errorf("BUG: a proceeding under investigation from %s gets the deadline %s, three months and a day; want %s",
					date(8, 31).Format(time.DateOnly), q.InvestigationDeadline.Format(time.DateOnly), date(11, 30).Format(time.DateOnly))
			}
			sameTime(t, "investigationDeadline", q.InvestigationDeadline, date(11, 30))
		})

		t.Run("ExtendErrThreeMonthsAndADay", func(t *testing.T) {
			need(t, q.ID)
			if q.InvestigationDeadline == nil {
				t.Fatal("no deadline")
			}
			until := q.InvestigationDeadline.AddDate(0, 3, 1)
			r := h.do(t, h.prosecutor, extendDeadlineMutation, map[string]any{"id": q.ID, "v": q.Version, "until": stamp(until)})
			if len(r.Errors) == 0 {
				t.Errorf("BUG: extending the deadline %s to %s (three months and a day) is accepted; want BAD_USER_INPUT on until",
					q.InvestigationDeadline.Format(time.DateOnly), until.Format(time.DateOnly))
			}
			if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) || r.Errors[0].Extensions["field"] != "until" {
				t.Errorf("got %s", r.Body)
			}
		})
	})
}

func TestMutationCharge(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c, other := h.openCase(t), h.openCase(t)
		s, stranger := h.recordSuspect(t, c.ID), h.recordSuspect(t, other.ID)
		p := h.registerProsecution(t, c.ID, date(3, 2), s.ID)
		closed := h.moveProsecution(t, h.registerProsecution(t, c.ID, date(3, 2)), "TRANSFERRED", ptr(date(3, 3)))
		events := h.timeline(t, c.ID)
		var ch chargeT

		t.Run("AddOK", func(t *testing.T) {
			ch = call[chargeT](t, h, h.prosecutor, addChargeMutation, map[string]any{"in": map[string]any{
				"article": "CC_110A", "prosecutionID": p.ID, "suspectID": s.ID,
			}})
			if ch.ID == "" || ch.Version != 1 || ch.Article != "CC_110A" || ch.ReclassifiedFrom != nil || ch.ReclassifiedAt != nil ||
				ch.Prosecution.ID != p.ID || ch.Suspect == nil || ch.Suspect.ID != s.ID {
				t.Errorf("addCharge = %+v", ch)
			}
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("CHARGE_ADDED", "Charge under CC_110A added to "+p.RegistrationNumber+"."))
		})

		t.Run("ReclassifyTwiceKeepsFirstArticle", func(t *testing.T) {
			need(t, ch.ID)
			for i, step := range []struct{ from, to string }{{"CC_110A", "CC_128B"}, {"CC_128B", "CC_114"}} {
				got := call[chargeT](t, h, h.prosecutor, reclassifyMutation, map[string]any{"id": ch.ID, "v": ch.Version, "article": step.to})
				if got.Article != step.to || got.Version != i+2 || got.ReclassifiedFrom == nil || *got.ReclassifiedFrom != "CC_110A" ||
					got.ReclassifiedAt == nil || time.Since(*got.ReclassifiedAt).Abs() > time.Minute {
					t.Errorf("reclassifyCharge(%s) = %+v, want reclassifiedFrom CC_110A", step.to, got)
				}
				events = h.expectEvents(t, c.ID, events, h.prosecutor.event("CHARGE_RECLASSIFIED",
					fmt.Sprintf("Charge in %s reclassified from %s to %s.", p.RegistrationNumber, step.from, step.to)))
				ch = got
			}
		})

		for _, tc := range []struct {
			name string
			vars func() map[string]any
			want want
		}{
			{"ReclassifyErrSameArticle", func() map[string]any { return map[string]any{"id": ch.ID, "v": ch.Version, "article": ch.Article} }, badField("article")},
			{"ReclassifyErrStaleVersion", func() map[string]any { return map[string]any{"id": ch.ID, "v": 1, "article": "CC_115"} }, conflict},
			{"ReclassifyErrBadArticleEnum", func() map[string]any { return map[string]any{"id": ch.ID, "v": ch.Version, "article": "NOPE"} }, invalid},
			{"ReclassifyErrNotFound", func() map[string]any { return map[string]any{"id": p.ID, "v": 1, "article": "CC_115"} }, notFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, ch.ID)
				h.refuse(t, h.prosecutor, reclassifyMutation, tc.vars(), tc.want, ch.ID)
			})
		}

		for _, tc := range []struct {
			name string
			in   map[string]any
			want want
		}{
			{"AddErrProsecutionClosed", map[string]any{"article": "CC_110A", "prosecutionID": closed.ID}, badField("prosecutionID")},
			{"AddErrUnknownProsecution", map[string]any{"article": "CC_110A", "prosecutionID": missingProsecutionID}, badField("prosecutionID")},
			{"AddErrSuspectOfOtherCase", map[string]any{"article": "CC_110A", "prosecutionID": p.ID, "suspectID": stranger.ID}, badInput},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := h.refuse(t, h.prosecutor, addChargeMutation, map[string]any{"in": tc.in}, tc.want)
				if tc.name == "AddErrSuspectOfOtherCase" {
					if f := e.Extensions["field"]; f != "suspectID" {
						t.Errorf("BUG: addCharge with a suspectID of another case names extensions.field %q, which is not an argument of addCharge; want \"suspectID\"", f)
					}
				}
			})
		}
	})
}

func TestMutationCourtDecision(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c := h.openCase(t)
		h.assign(t, c.ID, "ADJUDICATING", "court-tirane")
		p := h.registerProsecution(t, c.ID, date(3, 2))
		events := h.timeline(t, c.ID)
		decidedOn := date(10, 1)
		input := func(verdict string, kind any, months any) map[string]any {
			return map[string]any{
				"instance": "FIRST_INSTANCE", "decidedOn": stamp(decidedOn), "verdict": verdict, "sentenceKind": kind,
				"sentenceMonths": months, "compensationOrderedLek": 500000, "prosecutionID": p.ID, "courtID": h.agency(t, "court-tirane"),
			}
		}
		var d decisionT

		t.Run("RecordOK", func(t *testing.T) {
			d = call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": input("CONVICTED", "IMPRISONMENT", 96)})
			want := decisionT{
				ID: d.ID, Version: 1, Instance: "FIRST_INSTANCE", Verdict: "CONVICTED", DecidedOn: d.DecidedOn, SentenceKind: ptr("IMPRISONMENT"),
				SentenceMonths: ptr(96), CompensationOrderedLek: ptr[int64](500000), Court: agencyRef{"court-tirane"}, Prosecution: nodeRef{p.ID},
			}
			if d.ID == "" || !reflect.DeepEqual(d, want) || !d.DecidedOn.Equal(decidedOn) {
				t.Errorf("recordCourtDecision =\n%+v, want\n%+v", d, want)
			}
			events = h.expectEvents(t, c.ID, events, h.judge.event("COURT_DECISION_RECORDED", "FIRST_INSTANCE decision in "+p.RegistrationNumber+": CONVICTED."))
		})

		for _, tc := range []struct {
			name string
			in   func() map[string]any
			want want
		}{
			{"RecordErrSentenceOnAcquittal", func() map[string]any { return input("ACQUITTED", "IMPRISONMENT", 12) }, badField("sentenceKind")},
			{"RecordErrImprisonmentWithoutLength", func() map[string]any { return input("CONVICTED", "IMPRISONMENT", nil) }, badField("sentenceMonths")},
			{"RecordErrLengthWithoutKind", func() map[string]any { return input("CONVICTED", nil, 12) }, badField("sentenceKind")},
			{"RecordErrCourtIsProsecution", func() map[string]any {
				in := input("CONVICTED", "FINE", nil)
				in["courtID"] = h.agency(t, "prosecution-tirane")
				return in
			}, badField("courtID")},
			{"RecordErrUnknownProsecution", func() map[string]any {
				in := input("ACQUITTED", nil, nil)
				in["prosecutionID"] = c.ID
				return in
			}, badField("prosecutionID")},
			{"RecordErrNegativeCompensation", func() map[string]any {
				in := input("CONVICTED", "FINE", nil)
				in["compensationOrderedLek"] = -1
				return in
			}, badField("compensationOrderedLek")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.refuse(t, h.judge, recordDecisionMutation, map[string]any{"in": tc.in()}, tc.want)
			})
		}

		t.Run("UpdateOKCompensationPaid", func(t *testing.T) {
			need(t, d.ID)
			got := call[decisionT](t, h, h.judge, updateDecisionMutation, map[string]any{"id": d.ID, "v": 1, "in": map[string]any{"compensationPaid": true}})
			if got.Version != 2 || !got.CompensationPaid || got.Verdict != "CONVICTED" || got.SentenceMonths == nil || *got.SentenceMonths != 96 {
				t.Errorf("updateCourtDecision = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.judge.event("COURT_DECISION_RECORDED", "Decision in "+p.RegistrationNumber+" updated."))
			d = got
		})

		for _, tc := range []struct {
			name string
			vars func() map[string]any
			want want
		}{
			{"UpdateErrAcquittalKeepingSentence", func() map[string]any {
				return map[string]any{"id": d.ID, "v": d.Version, "in": map[string]any{"verdict": "ACQUITTED"}}
			}, badField("sentenceKind")},
			{"UpdateErrStaleVersion", func() map[string]any {
				return map[string]any{"id": d.ID, "v": 1, "in": map[string]any{"compensationPaid": false}}
			}, conflict},
			{"UpdateErrNotFound", func() map[string]any {
				return map[string]any{"id": p.ID, "v": 1, "in": map[string]any{"compensationPaid": false}}
			}, notFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, d.ID)
				h.refuse(t, h.judge, updateDecisionMutation, tc.vars(), tc.want, d.ID)
			})
		}

		t.Run("UpdateOKAcquittalClearingSentence", func(t *testing.T) {
			need(t, d.ID)
			got := call[decisionT](t, h, h.judge, updateDecisionMutation, map[string]any{"id": d.ID, "v": d.Version, "in": map[string]any{
				"verdict": "ACQUITTED", "clearSentenceKind": true, "clearSentenceMonths": true,
			}})
			if got.Version != 3 || got.Verdict != "ACQUITTED" || got.SentenceKind != nil || got.SentenceMonths != nil {
				t.Errorf("updateCourtDecision = %+v", got)
			}
		})
	})
}

// ---------------------------------------------------------------------------
// Referrals and support
// ---------------------------------------------------------------------------

func TestMutationReferral(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c := h.openCase(t)
		h.assign(t, c.ID, "SUPPORTING", "ngo-vatra")
		v, unlinked := h.registerVictim(t, 19, c.ID), h.registerVictim(t, 22)
		events := h.timeline(t, c.ID)
		var r referralT
		type step struct{ status, subject, agency string }
		checkHistory := func(t *testing.T, got referralT, want []step) {
			t.Helper()
			if len(got.StatusHistory) != len(want) {
				t.Fatalf("statusHistory = %+v, want %d steps", got.StatusHistory, len(want))
			}
			for i, w := range want {
				g := got.StatusHistory[i]
				if g.Status != w.status || g.ActorSubject != w.subject || g.ActorAgency != w.agency || time.Since(g.At).Abs() > time.Minute {
					t.Errorf("statusHistory[%d] = %+v, want %+v now", i, g, w)
				}
			}
		}

		t.Run("CreateOK", func(t *testing.T) {
			r = call[referralT](t, h, h.police, createReferralMutation, map[string]any{"in": h.referralInput(t, v.ID, c.ID)})
			if r.ID == "" || r.Version != 1 || r.Status != "PENDING" || r.ServiceKind != "SHELTER" || r.Victim.ID != v.ID ||
				r.ReferralCase == nil || r.ReferralCase.ID != c.ID || r.FromAgency.Code != "police-tirane" || r.ToAgency.Code != "ngo-vatra" {
				t.Errorf("createReferral = %+v", r)
			}
			checkHistory(t, r, []step{{"PENDING", h.police.subject, "police-tirane"}})
			events = h.expectEvents(t, c.ID, events, h.police.event("REFERRAL_CREATED", "Referral for SHELTER created."))
		})

		t.Run("CreateOKWithoutCase", func(t *testing.T) {
			// Without a case the event goes to every case of the victim.
			got := call[referralT](t, h, h.police, createReferralMutation, map[string]any{"in": h.referralInput(t, v.ID, nil)})
			if got.Status != "PENDING" || got.ReferralCase != nil {
				t.Errorf("createReferral without a case = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.police.event("REFERRAL_CREATED", "Referral for SHELTER created."))
		})

		t.Run("MoveOK", func(t *testing.T) {
			need(t, r.ID)
			history := []step{{"PENDING", h.police.subject, "police-tirane"}}
			for i, to := range []string{"ACCEPTED", "COMPLETED"} {
				got := call[referralT](t, h, h.ngo, moveReferralMutation, map[string]any{"id": r.ID, "v": r.Version, "status": to})
				if got.Status != to || got.Version != i+2 {
					t.Errorf("moveReferralStatus(%s) = %+v", to, got)
				}
				history = append(history, step{to, h.ngo.subject, "ngo-vatra"})
				checkHistory(t, got, history)
				events = h.expectEvents(t, c.ID, events, h.ngo.event("REFERRAL_STATUS_CHANGED", "Referral for SHELTER moved from "+r.Status+" to "+to+"."))
				r = got
			}
		})

		t.Run("MoveErrFromFinal", func(t *testing.T) {
			need(t, r.ID)
			e := h.refuse(t, h.ngo, moveReferralMutation, map[string]any{"id": r.ID, "v": r.Version, "status": "REVOKED"}, badField("status"), r.ID)
			if allowed, ok := e.Extensions["allowed"].([]any); !ok || len(allowed) != 0 {
				t.Errorf("extensions.allowed = %v, want []", e.Extensions["allowed"])
			}
		})

		t.Run("MoveErrCompletedFromPending", func(t *testing.T) {
			fresh := call[referralT](t, h, h.police, createReferralMutation, map[string]any{"in": h.referralInput(t, v.ID, c.ID)})
			e := h.refuse(t, h.ngo, moveReferralMutation, map[string]any{"id": fresh.ID, "v": 1, "status": "COMPLETED"}, badField("status"), fresh.ID)
			if got := fmt.Sprint(e.Extensions["allowed"]); got != "[ACCEPTED REJECTED REVOKED]" {
				t.Errorf("extensions.allowed = %s, want [ACCEPTED REJECTED REVOKED]", got)
			}
			h.refuse(t, h.ngo, moveReferralMutation, map[string]any{"id": fresh.ID, "v": 2, "status": "ACCEPTED"}, conflict, fresh.ID)
		})

		for _, tc := range []struct {
			name string
			in   func() map[string]any
			want want
		}{
			{"CreateErrSelfReferral", func() map[string]any {
				in := h.referralInput(t, v.ID, c.ID)
				in["toAgencyID"] = in["fromAgencyID"]
				return in
			}, badField("toAgencyID")},
			{"CreateErrVictimNotInCase", func() map[string]any { return h.referralInput(t, unlinked.ID, c.ID) }, badField("caseID")},
			{"CreateErrUnknownVictim", func() map[string]any { return h.referralInput(t, missingVictimID, nil) }, badField("victimID")},
			{"CreateErrUnknownToAgency", func() map[string]any {
				in := h.referralInput(t, v.ID, c.ID)
				in["toAgencyID"] = missingAgencyID
				return in
			}, badField("toAgencyID")},
			{"CreateErrBadServiceKindEnum", func() map[string]any {
				in := h.referralInput(t, v.ID, c.ID)
				in["serviceKind"] = "NOPE"
				return in
			}, invalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.refuse(t, h.police, createReferralMutation, map[string]any{"in": tc.in()}, tc.want)
			})
		}

		t.Run("MoveErrBadStatusEnum", func(t *testing.T) {
			need(t, r.ID)
			h.refuse(t, h.ngo, moveReferralMutation, map[string]any{"id": r.ID, "v": r.Version, "status": "NOPE"}, invalid, r.ID)
		})
	})
}

func TestMutationSupportService(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c1, c2 := h.openCase(t), h.openCase(t)
		h.assign(t, c1.ID, "SUPPORTING", "shelter-national")
		v := h.registerVictim(t, 20, c1.ID, c2.ID)
		ev1, ev2 := h.timeline(t, c1.ID), h.timeline(t, c2.ID)
		started := date(4, 1)
		input := func() map[string]any {
			return map[string]any{"kind": "SHELTER", "startedOn": stamp(started), "notes": "Placed after identification.",
				"victimID": v.ID, "providerID": h.agency(t, "shelter-national")}
		}
		var s serviceT

		t.Run("RecordOK", func(t *testing.T) {
			s = call[serviceT](t, h, h.shelter, recordServiceMutation, map[string]any{"in": input()})
			want := serviceT{ID: s.ID, Version: 1, Kind: "SHELTER", StartedOn: s.StartedOn,
				Provider: agencyRef{"shelter-national"}, Victim: nodeRef{v.ID}}
			if s.ID == "" || !reflect.DeepEqual(s, want) || !s.StartedOn.Equal(started) {
				t.Errorf("recordSupportService =\n%+v, want\n%+v", s, want)
			}
			if notes := h.storedService(t, s.ID).Notes; notes == nil || *notes != "Placed after identification." {
				t.Errorf("stored notes = %v", notes)
			}
			recorded := h.shelter.event("SUPPORT_RECORDED", "SHELTER support recorded.")
			ev1 = h.expectEvents(t, c1.ID, ev1, recorded)
			ev2 = h.expectEvents(t, c2.ID, ev2, recorded)
		})

		for _, tc := range []struct {
			name string
			in   func() map[string]any
			want want
		}{
			{"RecordErrEndBeforeStart", func() map[string]any {
				in := input()
				in["endedOn"] = stamp(started.AddDate(0, 0, -1))
				return in
			}, badField("endedOn")},
			{"RecordErrProviderIsAVictim", func() map[string]any {
				in := input()
				in["providerID"] = v.ID
				return in
			}, badField("providerID")},
			{"RecordErrUnknownVictim", func() map[string]any {
				in := input()
				in["victimID"] = missingVictimID
				return in
			}, badField("victimID")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.refuse(t, h.shelter, recordServiceMutation, map[string]any{"in": tc.in()}, tc.want)
			})
		}

		ended := date(6, 30)
		t.Run("UpdateOK", func(t *testing.T) {
			need(t, s.ID)
			got := call[serviceT](t, h, h.shelter, updateServiceMutation, map[string]any{"id": s.ID, "v": 1, "in": map[string]any{
				"endedOn": stamp(ended), "notes": "Moved to reintegration.",
			}})
			if notes := h.storedService(t, s.ID).Notes; notes == nil || *notes != "Moved to reintegration." {
				t.Errorf("stored notes = %v", notes)
			}
			if got.Version != 2 || !got.StartedOn.Equal(started) {
				t.Errorf("updateSupportService = %+v", got)
			}
			sameTime(t, "endedOn", got.EndedOn, ended)
			updated := h.shelter.event("SUPPORT_UPDATED", "SHELTER support updated.")
			ev1 = h.expectEvents(t, c1.ID, ev1, updated)
			ev2 = h.expectEvents(t, c2.ID, ev2, updated)
			s = got
		})

		for _, tc := range []struct {
			name string
			vars func() map[string]any
			want want
		}{
			{"UpdateErrStartAfterEnd", func() map[string]any {
				return map[string]any{"id": s.ID, "v": s.Version, "in": map[string]any{"startedOn": stamp(ended.AddDate(0, 0, 1))}}
			}, badField("endedOn")},
			{"UpdateErrStaleVersion", func() map[string]any {
				return map[string]any{"id": s.ID, "v": 1, "in": map[string]any{"clearNotes": true}}
			}, conflict},
			{"UpdateErrNotFound", func() map[string]any {
				return map[string]any{"id": v.ID, "v": 1, "in": map[string]any{"clearNotes": true}}
			}, notFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				need(t, s.ID)
				h.refuse(t, h.shelter, updateServiceMutation, tc.vars(), tc.want, s.ID)
			})
		}
	})
}

// ---------------------------------------------------------------------------
// Idempotency and atomicity
// ---------------------------------------------------------------------------

// TestMutationIdempotency retries creates with an idempotency key: the same
// key and input return the first record; the same key with other input is a
// CONFLICT; another principal's key is its own.
func TestMutationIdempotency(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c := h.openCase(t)
		h.assign(t, c.ID, "ADJUDICATING", "court-tirane", "court-appeal")
		h.assign(t, c.ID, "SUPPORTING", "ngo-vatra", "shelter-national")
		v := h.registerVictim(t, 30, c.ID)
		p := h.registerProsecution(t, c.ID, date(3, 2))
		client := h.s.DB.Client
		base := serial.Add(1) // makes this test's values unique
		general := h.principal(t, "prosecution-general", viewer.RoleProsecutor)
		appeal := h.principal(t, "court-appeal", viewer.RoleJudge)

		ops := []struct {
			name, query string
			// vars returns the variables of the n-th distinct input.
			vars  func(n int) map[string]any
			count func(context.Context) (int, error)
			kind  string // the event each create adds to c; "" for openCase
			// by makes the creates; other is another person who may
			// call the mutation on the same case.
			by, other principal
		}{
			{"openCase", openCaseMutation, func(n int) map[string]any {
				return map[string]any{"in": caseInput(h, t, fmt.Sprintf("TIR-IDEM-%d-%d", base, n), "police-tirane")}
			}, client.CaseFile.Query().Count, "", h.police, h.prosecutor},
			{"registerVictim", registerVictimMutation, func(n int) map[string]any {
				return map[string]any{"in": victimInput(fmt.Sprintf("V-2027-%04d", base*10+int64(n)), 30), "cases": []string{c.ID}}
			}, client.Victim.Query().Count, "VICTIM_LINKED", h.police, h.reader},
			{"recordConsent", recordConsentMutation, func(n int) map[string]any {
				return map[string]any{"in": map[string]any{"victimID": v.ID, "givenBy": "VICTIM", "givenAt": stamp(date(5, n)),
					"agencyKinds": []string{"NGO_SHELTER"}, "purposes": []string{"SERVICES"}}}
			}, client.Consent.Query().Count, "CONSENT_RECORDED", h.police, h.reader},
			{"recordSuspect", recordSuspectMutation, func(n int) map[string]any {
				return map[string]any{"in": map[string]any{"pseudonym": fmt.Sprintf("S-IDEM-%d-%d", base, n), "sex": "MALE", "nationality": "AL",
					"role": "CLIENT", "caseID": c.ID}}
			}, client.Suspect.Query().Count, "SUSPECT_RECORDED", h.police, h.prosecutor},
			{"registerProsecution", registerProsMutation, func(n int) map[string]any {
				return map[string]any{"in": map[string]any{"registrationNumber": fmt.Sprintf("PR-IDEM-%d-%d", base, n), "registeredAt": stamp(date(3, 2)),
					"caseID": c.ID, "officeID": h.agency(t, "spak")}}
			}, client.Prosecution.Query().Count, "PROSECUTION_REGISTERED", h.prosecutor, general},
			{"addCharge", addChargeMutation, func(n int) map[string]any {
				return map[string]any{"in": map[string]any{"article": []string{"CC_110A", "CC_110B", "CC_110C", "CC_114"}[n%4], "prosecutionID": p.ID}}
			}, client.Charge.Query().Count, "CHARGE_ADDED", h.prosecutor, general},
			{"recordCourtDecision", recordDecisionMutation, func(n int) map[string]any {
				return map[string]any{"in": map[string]any{"instance": "FIRST_INSTANCE", "decidedOn": stamp(date(10, n)), "verdict": "ACQUITTED",
					"prosecutionID": p.ID, "courtID": h.agency(t, "court-tirane")}}
			}, client.CourtDecision.Query().Count, "COURT_DECISION_RECORDED", h.judge, appeal},
			{"createReferral", createReferralMutation, func(n int) map[string]any {
				in := h.referralInput(t, v.ID, c.ID)
				in["referredAt"] = stamp(date(5, n))
				return map[string]any{"in": in}
			}, client.Referral.Query().Count, "REFERRAL_CREATED", h.police, h.colleague(t, "police-tirane", viewer.RoleInvestigator)},
			{"recordSupportService", recordServiceMutation, func(n int) map[string]any {
				return map[string]any{"in": map[string]any{"kind": "MEDICAL", "startedOn": stamp(date(4, n)), "victimID": v.ID,
					"providerID": h.agency(t, "ngo-vatra")}}
			}, client.SupportService.Query().Count, "SUPPORT_RECORDED", h.ngo, h.colleague(t, "ngo-vatra", viewer.RoleCaseWorker)},
		}
		for _, op := range ops {
			t.Run(op.name, func(t *testing.T) {
				key := fmt.Sprintf("retry-%s-%d", op.name, base)
				withKey := func(vars map[string]any) map[string]any {
					vars["key"] = key
					return vars
				}
				count := func(t *testing.T) int {
					t.Helper()
					n, err := op.count(systemCtx())
					if err != nil {
						t.Fatal(err)
					}
					return n
				}
				countEvents := func(t *testing.T) int {
					t.Helper()
					n := 0
					for _, e := range h.timeline(t, c.ID) {
						if e.Kind == op.kind {
							n++
						}
					}
					return n
				}
				create := func(t *testing.T, p principal, n int) string {
					t.Helper()
					var data map[string]struct{ ID string }
					h.do(t, p, op.query, withKey(op.vars(n))).MustOK(t).Decode(t, &data)
					return data[op.name].ID
				}
				rows, events := count(t), countEvents(t)
				first := create(t, op.by, 1)

				t.Run("OKRetrySameInput", func(t *testing.T) {
					before := h.rows(t)
					if again := create(t, op.by, 1); again != first || first == "" {
						t.Errorf("the retry returned %q, the first call %q", again, first)
					}
					if diff := diffCounts(before, h.rows(t)); diff != "" {
						t.Errorf("the retry changed the database: %s", diff)
					}
					if n := count(t); n != rows+1 {
						t.Errorf("%d rows after a create and its retry, want %d", n, rows+1)
					}
					if op.kind == "" {
						if n := len(h.timeline(t, first)); n != 1 {
							t.Errorf("the new case has %d events after a create and its retry, want 1 (CASE_OPENED)", n)
						}
					} else if n := countEvents(t); n != events+1 {
						t.Errorf("%d %s events after a create and its retry, want %d", n, op.kind, events+1)
					}
				})

				t.Run("ErrSameKeyOtherInput", func(t *testing.T) {
					h.refuse(t, op.by, op.query, withKey(op.vars(2)), want{code: "CONFLICT"})
				})

				t.Run("OKOtherPrincipalSameKey", func(t *testing.T) {
					if other := create(t, op.other, 3); other == "" || other == first {
						t.Errorf("another principal's create with the same key returned %q, the first %q", other, first)
					}
					if n := count(t); n != rows+2 {
						t.Errorf("%d rows, want %d", n, rows+2)
					}
				})
			})
		}

		t.Run("ErrEmptyKey", func(t *testing.T) {
			vars := map[string]any{"in": caseInput(h, t, newReference(), "police-tirane"), "key": ""}
			h.refuse(t, h.police, openCaseMutation, vars, badField("idempotencyKey"))
		})

		t.Run("ErrSameKeyOtherPrincipalSameReference", func(t *testing.T) {
			// Another principal's retry is not a retry: it is a new
			// create, refused because the reference is taken.
			vars := map[string]any{"in": caseInput(h, t, newReference(), "police-tirane"), "key": "shared"}
			call[caseT](t, h, h.police, openCaseMutation, vars)
			h.refuse(t, h.prosecutor, openCaseMutation, vars, want{code: "CONFLICT", field: "reference"})
		})
	})
}

// TestMutationAtomicity checks that a mutation that fails part-way, or an
// operation whose later mutation fails, writes nothing.
func TestMutationAtomicity(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		h := start(t, db)
		c := h.openCase(t)
		events := h.timeline(t, c.ID)

		t.Run("ErrRegisterVictimOneUnknownCase", func(t *testing.T) {
			name := newVictimName()
			h.refuse(t, h.police, registerVictimMutation, map[string]any{"in": victimInput(name, 30), "cases": []string{c.ID, missingCaseID}},
				badField("caseIDs"), c.ID)
			var data struct{ Victims struct{ TotalCount int } }
			h.do(t, h.reader, `query($p: String!) { victims(where: {pseudonym: $p}) { totalCount } }`, map[string]any{"p": name}).MustOK(t).Decode(t, &data)
			if data.Victims.TotalCount != 0 {
				t.Errorf("%d victims named %s after a refused registration", data.Victims.TotalCount, name)
			}
			events = h.expectEvents(t, c.ID, events)
		})

		t.Run("ErrSecondMutationRollsBackFirst", func(t *testing.T) {
			ref := newReference()
			q := `mutation($a: CreateCaseInput!, $b: CreateCaseInput!) { a: openCase(input: $a) { id } b: openCase(input: $b) { id } }`
			h.refuse(t, h.police, q, map[string]any{
				"a": caseInput(h, t, ref, "police-tirane"),
				"b": caseInput(h, t, ref, "police-tirane"),
			}, want{code: "CONFLICT", field: "reference"})
		})

		t.Run("ErrLinkAfterRegisterRollsBack", func(t *testing.T) {
			q := `mutation($in: CreateVictimInput!, $cases: [ID!], $other: ID!) {
				registerVictim(input: $in, caseIDs: $cases) { id }
				linkVictimToCase(victimID: $other, caseID: "` + missingCaseID + `") { id }
			}`
			h.refuse(t, h.police, q, map[string]any{"in": victimInput(newVictimName(), 30), "cases": []string{c.ID}, "other": missingVictimID},
				badField("victimID"), c.ID)
			events = h.expectEvents(t, c.ID, events)
		})
	})
}
