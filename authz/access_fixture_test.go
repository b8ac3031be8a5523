package authz_test

// End-to-end tests of the access policy: row scope, field decisions,
// consent, emergency access, refused writes and run-time policy changes.
// Each test builds a small hand-made fixture (never the demo seed) in a
// fresh database through ent with system rights, then speaks real GraphQL
// over HTTP to the real server with real development tokens, on SQLite and
// PostgreSQL. Assertions are on data and on extensions.code /
// extensions.field, never on log text.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------

// fixture is a small world of two regions:
//
//	caseT  TIRANE, lead police-tirane; prosecution-tirane PROSECUTING,
//	       court-tirane ADJUDICATING. Victims vT and vBridge; suspect sT;
//	       prosecution pT (charge chT, decision decT by court-tirane);
//	       referral refT of vT police-tirane → ngo-vatra ACCEPTED;
//	       support svcT of vT by shelter-national; event evT.
//	caseT2 TIRANE, lead police-tirane only. Victim vT2.
//	caseD  DURRES, lead police-durres; prosecution-durres PROSECUTING,
//	       court-durres ADJUDICATING. Victims vD and vBridge; suspect sD;
//	       prosecution pD (chD, decD by court-durres); referral refD of vD
//	       police-durres → shelter-national ACCEPTED; support svcD of vD by
//	       shelter-national; consent conD of vD (NGO_SHELTER, SERVICES);
//	       event evD.
//	caseD2 DURRES, lead police-durres only. Victim vD2.
//	caseD3 DURRES, lead police-gd only. Victim vX, of region TIRANE.
//
// vBridge (region DURRES) is in caseD and caseT. vT has no consent.
type fixture struct {
	agency    map[string]int
	pseudonym map[int]string

	caseT, caseT2, caseD, caseD2, caseD3 int
	vT, vT2, vD, vD2, vBridge, vX        int
	sT, sD                               int
	pT, pD                               int
	chT, chD                             int
	decT, decD                           int
	refT, refD                           int
	svcT, svcD                           int
	conD                                 int
	evT, evD                             int
	asgT                                 int
}

func sys() context.Context { return viewer.SystemContext(context.Background()) }

// ok returns a check that fails the test on err and returns v; it is
// called as ok(query.Save(ctx))(t).
func ok[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("database: %v", err)
		}
		return v
	}
}

// secret is the value the fixture stores in a sensitive field of a victim.
func secret(pseudonym, field string) string { return field + " of " + pseudonym }

var past = time.Date(2025, time.March, 3, 9, 0, 0, 0, time.UTC)

type part struct {
	agency string
	part   domain.CasePart
}

func (f *fixture) id(t *testing.T, code string) int {
	t.Helper()
	id, found := f.agency[code]
	if !found {
		t.Fatalf("no agency %q in the registry", code)
	}
	return id
}

func newFixture(t *testing.T, c *ent.Client) *fixture {
	t.Helper()
	ctx := sys()
	f := &fixture{agency: map[string]int{}, pseudonym: map[int]string{}}
	for _, a := range ok(c.Agency.Query().All(ctx))(t) {
		f.agency[a.Code] = a.ID
	}
	openCase := func(ref string, region domain.Region, lead string, parts ...part) int {
		t.Helper()
		cf := ok(c.CaseFile.Create().SetReference(ref).SetTitle("Recruitment through false job offers").
			SetRegion(region).SetLeadAgencyID(f.id(t, lead)).SetOpenedAt(past).
			SetFormsOfExploitation([]domain.Exploitation{domain.ExploitationSexual}).Save(ctx))(t)
		for _, p := range parts {
			ok(c.CaseAssignment.Create().SetCaseID(cf.ID).SetAgencyID(f.id(t, p.agency)).SetPart(p.part).Save(ctx))(t)
		}
		return cf.ID
	}
	victim := func(pseudonym string, region domain.Region, cases ...int) int {
		t.Helper()
		v := ok(c.Victim.Create().SetPseudonym(pseudonym).SetSex(domain.SexFemale).SetAgeGroup(domain.AgeGroupAdult).
			SetIdentificationStatus(domain.IdentificationStatusPotentialVictim).SetIdentifiedBy(domain.IdentifyingBodyStatePolice).
			SetIdentifiedAt(past).SetRegion(region).SetFormsOfExploitation([]domain.Exploitation{domain.ExploitationSexual}).
			SetLegalName(secret(pseudonym, "legalName")).SetDateOfBirth(time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)).
			SetPersonalNumber("J00101001A").SetNationality("AL").SetExactAge(25).
			SetPhone(secret(pseudonym, "phone")).SetAddress(secret(pseudonym, "address")).
			SetHealthNotes(secret(pseudonym, "healthNotes")).SetTestimonySummary(secret(pseudonym, "testimonySummary")).
			SetShelterLocation(secret(pseudonym, "shelterLocation")).Save(ctx))(t)
		for _, cid := range cases {
			ok(c.CaseVictim.Create().SetCaseID(cid).SetVictimID(v.ID).Save(ctx))(t)
		}
		f.pseudonym[v.ID] = pseudonym
		return v.ID
	}
	suspect := func(pseudonym string, caseID int) int {
		t.Helper()
		return ok(c.Suspect.Create().SetPseudonym(pseudonym).SetSex(domain.SexMale).SetNationality("AL").
			SetRole(domain.SuspectRoleRecruiter).SetCaseID(caseID).SetLegalName("Suspect " + pseudonym).
			SetPersonalNumber("K00101001B").Save(ctx))(t).ID
	}
	event := func(caseID int, actor string) int {
		t.Helper()
		return ok(c.CaseEvent.Create().SetCaseID(caseID).SetKind(domain.CaseEventKindCaseOpened).
			SetActorSubject("fixture@" + actor).SetActorAgencyID(f.id(t, actor)).SetSummary("Case opened.").Save(ctx))(t).ID
	}
	proceedings := func(reg string, caseID, suspectID int, office, court string) (p, ch, dec int) {
		t.Helper()
		p = ok(c.Prosecution.Create().SetRegistrationNumber(reg).SetRegisteredAt(past).SetCaseID(caseID).
			SetOfficeID(f.id(t, office)).AddDefendantIDs(suspectID).Save(ctx))(t).ID
		ch = ok(c.Charge.Create().SetArticle(domain.ArticleCc110a).SetProsecutionID(p).SetSuspectID(suspectID).Save(ctx))(t).ID
		dec = ok(c.CourtDecision.Create().SetInstance(domain.InstanceFirstInstance).SetDecidedOn(past.Add(24 * time.Hour)).
			SetVerdict(domain.VerdictAcquitted).SetProsecutionID(p).SetCourtID(f.id(t, court)).Save(ctx))(t).ID
		return p, ch, dec
	}
	referral := func(victimID, caseID int, from, to string) int {
		t.Helper()
		return ok(c.Referral.Create().SetServiceKind(domain.ServiceKindShelter).SetStatus(domain.ReferralStatusAccepted).
			SetReferredAt(past).SetVictimID(victimID).SetCaseID(caseID).
			SetFromAgencyID(f.id(t, from)).SetToAgencyID(f.id(t, to)).Save(ctx))(t).ID
	}
	service := func(victimID int, provider string) int {
		t.Helper()
		return ok(c.SupportService.Create().SetKind(domain.ServiceKindMedical).SetStartedOn(past).
			SetNotes("Support notes").SetVictimID(victimID).SetProviderID(f.id(t, provider)).Save(ctx))(t).ID
	}

	f.caseT = openCase("TIR-2026-0001", domain.RegionTirane, "police-tirane",
		part{"police-tirane", domain.CasePartInvestigating},
		part{"prosecution-tirane", domain.CasePartProsecuting},
		part{"court-tirane", domain.CasePartAdjudicating})
	f.caseT2 = openCase("TIR-2026-0002", domain.RegionTirane, "police-tirane", part{"police-tirane", domain.CasePartInvestigating})
	f.caseD = openCase("DUR-2026-0001", domain.RegionDurres, "police-durres",
		part{"police-durres", domain.CasePartInvestigating},
		part{"prosecution-durres", domain.CasePartProsecuting},
		part{"court-durres", domain.CasePartAdjudicating})
	f.caseD2 = openCase("DUR-2026-0002", domain.RegionDurres, "police-durres", part{"police-durres", domain.CasePartInvestigating})
	f.caseD3 = openCase("DUR-2026-0003", domain.RegionDurres, "police-gd", part{"police-gd", domain.CasePartInvestigating})
	f.asgT = ok(c.CaseAssignment.Query().Where(caseassignment.CaseID(f.caseT)).FirstID(ctx))(t)

	f.vT = victim("V-2026-0001", domain.RegionTirane, f.caseT)
	f.vT2 = victim("V-2026-0002", domain.RegionTirane, f.caseT2)
	f.vD = victim("V-2026-0003", domain.RegionDurres, f.caseD)
	f.vD2 = victim("V-2026-0004", domain.RegionDurres, f.caseD2)
	f.vBridge = victim("V-2026-0005", domain.RegionDurres, f.caseD, f.caseT)
	f.vX = victim("V-2026-0006", domain.RegionTirane, f.caseD3)

	f.sT = suspect("S-2026-0001", f.caseT)
	f.sD = suspect("S-2026-0002", f.caseD)
	f.pT, f.chT, f.decT = proceedings("PR-TIR-0001/2026", f.caseT, f.sT, "prosecution-tirane", "court-tirane")
	f.pD, f.chD, f.decD = proceedings("PR-DUR-0001/2026", f.caseD, f.sD, "prosecution-durres", "court-durres")
	f.refT = referral(f.vT, f.caseT, "police-tirane", "ngo-vatra")
	f.refD = referral(f.vD, f.caseD, "police-durres", "shelter-national")
	f.svcT = service(f.vT, "shelter-national")
	f.svcD = service(f.vD, "shelter-national")
	f.conD = ok(c.Consent.Create().SetAgencyKinds([]domain.AgencyKind{domain.AgencyKindNgoShelter}).
		SetPurposes([]domain.ConsentPurpose{domain.ConsentPurposeServices}).SetGivenBy(domain.ConsentGivenByVictim).
		SetGivenAt(past).SetRecordedBy("fixture@ngo-vatra").SetRecordedByAgencyID(f.id(t, "ngo-vatra")).
		SetVictimID(f.vD).Save(ctx))(t).ID
	f.evT = event(f.caseT, "police-tirane")
	f.evD = event(f.caseD, "police-durres")
	return f
}

// addConsent records a consent of victimID directly in the database.
func addConsent(t *testing.T, c *ent.Client, f *fixture, victimID int, kinds []domain.AgencyKind, purposes []domain.ConsentPurpose) int {
	t.Helper()
	return ok(c.Consent.Create().SetAgencyKinds(kinds).SetPurposes(purposes).SetGivenBy(domain.ConsentGivenByVictim).
		SetGivenAt(past).SetRecordedBy("fixture").SetRecordedByAgencyID(f.id(t, "police-tirane")).
		SetVictimID(victimID).Save(sys()))(t).ID
}

// ---------------------------------------------------------------------------
// Harness: testserver's, with the fixture these tests share
// ---------------------------------------------------------------------------

// env is a running server over a fresh database with the fixture loaded.
type env struct {
	s  *testserver.Server
	db *database.DB
	f  *fixture
}

func start(t *testing.T, db *database.DB, opts ...testserver.Options) *env {
	t.Helper()
	s := testserver.Start(t, db, opts...)
	return &env{s: s, db: db, f: newFixture(t, db.Client)}
}

// each runs body in parallel with the other tests, once per database
// (SQLite, and PostgreSQL when configured), each time against a fresh
// server with the fixture loaded.
func each(t *testing.T, body func(t *testing.T, e *env)) {
	t.Helper()
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		body(t, start(t, db))
	})
}

// tok returns a token of role at agency; its subject is
// test-<role>@<agency>.
func (e *env) tok(t *testing.T, agency string, role viewer.Role) string {
	t.Helper()
	return e.s.Token(t, agency, role)
}

func subject(agency string, role viewer.Role) string { return testserver.Subject(agency, role) }

// do sends one operation and checks what every response must satisfy
// (testserver.CheckClean).
func (e *env) do(t *testing.T, token, query string, vars map[string]any) *testserver.Response {
	t.Helper()
	return e.s.Ask(t, token, query, vars)
}

// decode unmarshals the response's data into a T.
func decode[T any](t *testing.T, r *testserver.Response) T {
	t.Helper()
	return testserver.Data[T](t, r)
}

func gid(id int) string { return testserver.GlobalID(id) }

func gids(ids ...int) []string { return testserver.GlobalIDs(ids...) }

// forbidden is the error a denied sensitive field gives.
func forbidden(field, path string) string { return "FORBIDDEN " + field + " " + path }

// wantErrors checks that r carries exactly the errors want (in any order).
func wantErrors(t *testing.T, r *testserver.Response, want ...string) {
	t.Helper()
	testserver.WantErrors(t, r, want...)
}

// wantRefusal checks that r is one error with code (and field, unless
// empty), and that its data is null.
func wantRefusal(t *testing.T, r *testserver.Response, code, field string) {
	t.Helper()
	testserver.WantRefusal(t, r, testserver.Want{Code: code, Field: field})
}

// masked returns the body of r with each id replaced by a placeholder, so
// that responses about different ids can be compared.
func masked(r *testserver.Response, ids ...string) string {
	b := string(r.Body)
	for i, id := range ids {
		b = strings.ReplaceAll(b, id, fmt.Sprintf("<id%d>", i))
	}
	return b
}

// missing returns an id of the same type as id that names nothing: ent
// gives every type a range of 1<<32 ids, and the fixture is tiny.
func missing(id int) int { return id + 1_000_000 }

// counts counts the rows of every table.
func counts(t *testing.T, c *ent.Client) map[string]int {
	t.Helper()
	return testdb.RowCounts(t, c)
}

// unchanged fails the test if any table gained or lost rows since before.
func unchanged(t *testing.T, c *ent.Client, before map[string]int) {
	t.Helper()
	testserver.WantUnchanged(t, c, before)
}

type conn struct {
	TotalCount int
	Edges      []struct{ Node struct{ ID string } }
}

func (c conn) ids() []string {
	out := make([]string, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node.ID
	}
	slices.Sort(out)
	return out
}

// wantConn checks a connection's totalCount and ids (in any order).
func wantConn(t *testing.T, name string, c conn, ids ...string) {
	t.Helper()
	want := slices.Clone(ids)
	slices.Sort(want)
	if got := c.ids(); !slices.Equal(got, want) || c.TotalCount != len(want) {
		t.Errorf("%s: got totalCount %d, ids %v; want %d, %v", name, c.TotalCount, got, len(want), want)
	}
}

// ---------------------------------------------------------------------------
// Victim fields
// ---------------------------------------------------------------------------

// victimFields are the string-valued sensitive fields of a victim.
var victimFields = []string{"legalName", "phone", "address", "healthNotes", "testimonySummary", "shelterLocation"}

const victimNodeQuery = `query ($id: ID!) { node(id: $id) { ... on Victim { id pseudonym region legalName phone address healthNotes testimonySummary shelterLocation } } }`

// readVictim reads victimID's fields as token and checks that exactly the
// fields in allowed carry the fixture's values; every other one must be
// null with a FORBIDDEN error naming it on its path, the rest of the
// object standing.
func (e *env) readVictim(t *testing.T, token string, victimID int, allowed ...string) {
	t.Helper()
	r := e.do(t, token, victimNodeQuery, map[string]any{"id": gid(victimID)})
	var data struct{ Node map[string]any }
	r.Decode(t, &data)
	e.checkVictim(t, r, data.Node, "node", victimID, allowed...)
}

func (e *env) checkVictim(t *testing.T, r *testserver.Response, node map[string]any, path string, victimID int, allowed ...string) {
	t.Helper()
	pseudonym := e.f.pseudonym[victimID]
	if node == nil {
		t.Fatalf("victim %s is null:\n%s", pseudonym, r.Body)
	}
	if node["pseudonym"] != pseudonym || node["id"] != gid(victimID) {
		t.Errorf("the rest of the object does not stand: pseudonym %v id %v, want %s %d", node["pseudonym"], node["id"], pseudonym, victimID)
	}
	var want []string
	for _, f := range victimFields {
		v := node[f]
		if slices.Contains(allowed, f) {
			if v != secret(pseudonym, f) {
				t.Errorf("%s.%s = %v, want %q (allowed)", pseudonym, f, v, secret(pseudonym, f))
			}
			continue
		}
		if v != nil {
			t.Errorf("%s.%s = %v, want null (denied)", pseudonym, f, v)
		}
		want = append(want, forbidden("Victim."+f, path+"."+f))
	}
	wantErrors(t, r, want...)
}
