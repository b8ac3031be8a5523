package casework_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// Harness: testserver's, with the principals and records these tests use
// ---------------------------------------------------------------------------

// principal is a person with a token, acting for one agency.
type principal struct{ testserver.Principal }

// event is the timeline entry p is expected to leave.
func (p principal) event(kind, summary string) eventT {
	return eventT{Kind: kind, Summary: summary, ActorSubject: p.Subject, ActorAgency: agencyRef{p.Agency}}
}

// harness is a running server over a fresh database, the ids of its
// agencies and a few principals.
type harness struct {
	s                                       *testserver.Server
	agencies                                map[string]int // agency code → row id
	police, prosecutor, judge, ngo, shelter principal
	// reader reads timelines and snapshots: a national investigator, who
	// sees every case and victim row once row scope applies.
	reader principal
}

func start(t *testing.T, db *database.DB) *harness {
	t.Helper()
	s := testserver.Start(t, db)
	h := &harness{s: s, agencies: s.AgencyIDs(t)}
	h.police = h.principal(t, "police-tirane", viewer.RoleInvestigator)
	h.prosecutor = h.principal(t, "prosecution-tirane", viewer.RoleProsecutor)
	h.judge = h.principal(t, "court-tirane", viewer.RoleJudge)
	h.ngo = h.principal(t, "ngo-vatra", viewer.RoleCaseWorker)
	h.shelter = h.principal(t, "shelter-national", viewer.RoleCaseWorker)
	h.reader = h.principal(t, "police-gd", viewer.RoleInvestigator)
	return h
}

// each runs f in parallel with the package's other tests, once on every
// test database backend, each time with a harness over a fresh database.
func each(t *testing.T, f func(t *testing.T, h *harness)) {
	t.Helper()
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) { f(t, start(t, db)) })
}

func systemCtx() context.Context { return viewer.SystemContext(context.Background()) }

func (h *harness) principal(t *testing.T, agencyCode string, role viewer.Role) principal {
	t.Helper()
	return principal{h.s.As(t, agencyCode, role)}
}

// colleague is another person at agencyCode with role: same rights, own
// subject (and so own idempotency keys).
func (h *harness) colleague(t *testing.T, agencyCode string, role viewer.Role) principal {
	t.Helper()
	return principal{h.s.Colleague(t, agencyCode, role)}
}

// agency returns the global id of the agency with code.
func (h *harness) agency(t *testing.T, code string) string {
	t.Helper()
	id, ok := h.agencies[code]
	if !ok {
		t.Fatalf("no agency %q in the registry", code)
	}
	return testserver.GlobalID(id)
}

// do sends one operation as p and checks what every response must
// satisfy (testserver.CheckClean).
func (h *harness) do(t *testing.T, p principal, query string, vars map[string]any) *testserver.Response {
	t.Helper()
	return h.s.Ask(t, p.Token, query, vars)
}

// checkClean checks what every response must satisfy (testserver.CheckClean).
func checkClean(t *testing.T, r *testserver.Response) {
	t.Helper()
	testserver.CheckClean(t, r)
}

// call runs an operation that must succeed with status 200 and returns its
// one top-level field decoded into T.
func call[T any](t *testing.T, h *harness, p principal, query string, vars map[string]any) T {
	t.Helper()
	return testserver.Call[T](t, h.s, p.Principal, query, vars)
}

// want is the refusal a test expects.
type want = testserver.Want

var (
	badInput = want{Code: "BAD_USER_INPUT"}
	conflict = want{Code: "CONFLICT", Field: "expectedVersion"}
	notFound = want{Code: "NOT_FOUND"}
	invalid  = want{Code: "BAD_USER_INPUT", Validation: true}
)

func badField(field string) want { return want{Code: "BAD_USER_INPUT", Field: field} }

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
	e := testserver.WantRefusal(t, r, w)
	if r.Status != http.StatusOK {
		t.Errorf("status = %d, want 200:\n%s", r.Status, r.Body)
	}
	if diff := testserver.RowChanges(before, h.rows(t)); diff != "" {
		t.Errorf("a refused mutation changed the database: %s", diff)
	}
	for i, id := range watch {
		if after := h.snapshot(t, id); after != snaps[i] {
			t.Errorf("a refused mutation changed %s:\nbefore %s\nafter  %s", id, snaps[i], after)
		}
	}
	return e
}

// refusal is a request a table expects refused as want says. vars builds
// the request's variables when its subtest runs.
type refusal struct {
	name string
	vars func() map[string]any
	want want
}

// refuseEach runs each refusal as a subtest of its name: p sends query,
// which must be refused as refuse checks, leaving the record id (set by
// earlier steps) unchanged.
func (h *harness) refuseEach(t *testing.T, p principal, query, id string, refusals []refusal) {
	t.Helper()
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			need(t, id)
			h.refuse(t, p, query, tc.vars(), tc.want, id)
		})
	}
}

// inputRefusal is a create request a table expects refused as want says.
// in builds the request's input when its subtest runs.
type inputRefusal struct {
	name string
	in   func() map[string]any
	want want
}

// withField returns a request that is valid's with key set to value: a
// refused input usually differs from a valid one in a single field. valid
// is called per request, so each gets fresh unique names; value is taken
// when the table is built.
func withField(valid func() map[string]any, key string, value any) func() map[string]any {
	return func() map[string]any {
		in := valid()
		in[key] = value
		return in
	}
}

// withoutField returns a request that is valid's without key.
func withoutField(valid func() map[string]any, key string) func() map[string]any {
	return func() map[string]any {
		in := valid()
		delete(in, key)
		return in
	}
}

// refuseEachInput runs each inputRefusal as a subtest of its name: p sends
// query with the input, which must be refused as refuse checks. needs are
// the ids of records that earlier steps must have made.
func (h *harness) refuseEachInput(t *testing.T, p principal, query string, refusals []inputRefusal, needs ...string) {
	t.Helper()
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			need(t, needs...)
			h.refuse(t, p, query, map[string]any{"in": tc.in()}, tc.want)
		})
	}
}

// nullData reports whether data is null or an object of nulls.
func nullData(data json.RawMessage) bool { return testserver.NullData(data) }

// rows counts the rows of every table.
func (h *harness) rows(t *testing.T) map[string]int {
	t.Helper()
	return testdb.RowCounts(t, h.s.DB.Client)
}

func diffCounts(before, after map[string]int) string { return testserver.RowChanges(before, after) }

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
	return storedRow(t, "victim", id, h.s.DB.Client.Victim.Get)
}

// storedService reads a support service straight from the database.
func (h *harness) storedService(t *testing.T, id string) *ent.SupportService {
	t.Helper()
	return storedRow(t, "support service", id, h.s.DB.Client.SupportService.Get)
}

// storedRow reads the record id with get, as the system.
func storedRow[T any](t *testing.T, what, id string, get func(context.Context, int) (T, error)) T {
	t.Helper()
	row, err := get(systemCtx(), atoi(t, id))
	if err != nil {
		t.Fatalf("reading %s %s: %v", what, id, err)
	}
	return row
}

// checkAppended checks the answer to mutation with
// appendFormsOfExploitation [added]: one version on, and the forms before
// with added at the end.
func checkAppended(t *testing.T, mutation string, version, gotVersion int, before, got []string, added string) {
	t.Helper()
	if gotVersion != version+1 {
		t.Errorf("version = %d, want %d", gotVersion, version+1)
	}
	if slices.Equal(got, before) {
		input := "U" + mutation[1:] + "Input"
		t.Errorf("BUG: %s with appendFormsOfExploitation [%s] leaves formsOfExploitation %v unchanged (generated %s.Mutate appends FormsOfExploitation, not AppendFormsOfExploitation)", mutation, added, before, input)
	}
	if want := append(slices.Clone(before), added); !slices.Equal(got, want) {
		t.Errorf("formsOfExploitation = %v, want %v", got, want)
	}
}

func atoi(t *testing.T, id string) int {
	t.Helper()
	return testserver.Atoi(t, id)
}

// wantNoMoveAllowed checks that a refused move from a final stage or
// status says so: extensions.allowed is present and an empty list.
func wantNoMoveAllowed(t *testing.T, e testserver.Error) {
	t.Helper()
	if allowed, ok := e.Extensions["allowed"].([]any); !ok || len(allowed) != 0 {
		t.Errorf("extensions.allowed = %v, want [] from a final stage or status", e.Extensions["allowed"])
	}
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

// tiranaDate is day d of month m of lastYear at hour on Tirana's clock,
// whose calendar an investigation's months are counted on.
func tiranaDate(m time.Month, d, hour int) time.Time {
	return time.Date(lastYear, m, d, hour, 0, 0, 0, domain.Tirana)
}

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

// openAssigned opens a case as the police and assigns agencyCodes to it in
// part: the start of most tests, which then act as one of those agencies.
func (h *harness) openAssigned(t *testing.T, part string, agencyCodes ...string) caseT {
	t.Helper()
	c := h.openCase(t)
	h.assign(t, c.ID, part, agencyCodes...)
	return c
}

// assign assigns agencies to a case in a part, as a case is worked on:
// an agency acts on the cases it is assigned to. The police assign, but
// a part that is a legal basis (PROSECUTING, ADJUDICATING) comes from the
// prosecution office competent for the case (casework.requireMayGivePart).
func (h *harness) assign(t *testing.T, caseID, part string, agencyCodes ...string) {
	t.Helper()
	by := h.police
	if domain.CasePart(part).IsLegalBasis() {
		by = h.prosecutor
	}
	for _, code := range agencyCodes {
		call[assignmentT](t, h, by, assignAgencyMutation, map[string]any{"case": caseID, "agency": h.agency(t, code), "part": part})
	}
}

// refusalsAbout counts the audit trail's refusals of who about the record
// id of type typ (a refused mutation is one, filed under its record).
func (h *harness) refusalsAbout(t *testing.T, who principal, typ, id string) int {
	t.Helper()
	n, err := h.s.DB.Client.AuditEvent.Query().Where(auditevent.ActorSubject(who.Subject), auditevent.EntityType(typ),
		auditevent.EntityID(atoi(t, id)), auditevent.Decision("DENIED")).Count(systemCtx())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// refusedCalls counts the audit trail's refusals of who's calls of
// mutation (the call, or a field its input writes), about any record or
// none.
func (h *harness) refusedCalls(t *testing.T, who principal, mutation string) int {
	t.Helper()
	n, err := h.s.DB.Client.AuditEvent.Query().Where(auditevent.ActorSubject(who.Subject), auditevent.Decision("DENIED"),
		auditevent.FieldsContains("Mutation."+mutation)).Count(systemCtx())
	if err != nil {
		t.Fatal(err)
	}
	return n
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

// bringToTrial moves p, a month after its registration, to a trial
// requested: a court's decision is recorded only in a proceeding a court
// has had (casework.decisionFits).
func (h *harness) bringToTrial(t *testing.T, p prosecutionT) prosecutionT {
	t.Helper()
	at := p.RegisteredAt.AddDate(0, 1, 0)
	for _, stage := range []string{"UNDER_INVESTIGATION", "INVESTIGATION_CLOSED", "TRIAL_REQUESTED"} {
		p = h.moveProsecution(t, p, stage, &at)
	}
	return p
}

func (h *harness) moveProsecution(t *testing.T, p prosecutionT, stage string, at *time.Time) prosecutionT {
	t.Helper()
	return h.moveProsecutionAs(t, h.prosecutor, p, stage, at)
}

// moveProsecutionAs moves p as who, its office (or a court on its case).
func (h *harness) moveProsecutionAs(t *testing.T, who principal, p prosecutionT, stage string, at *time.Time) prosecutionT {
	t.Helper()
	vars := map[string]any{"id": p.ID, "v": p.Version, "stage": stage}
	if at != nil {
		vars["at"] = stamp(*at)
	}
	return call[prosecutionT](t, h, who, moveProsStageMutation, vars)
}

func (h *harness) referralInput(t *testing.T, victimID string, caseID any) map[string]any {
	return map[string]any{
		"serviceKind": "SHELTER", "referredAt": stamp(time.Now().Add(-2 * time.Hour)), "victimID": victimID,
		"caseID": caseID, "fromAgencyID": h.agency(t, "police-tirane"), "toAgencyID": h.agency(t, "ngo-vatra"),
	}
}
