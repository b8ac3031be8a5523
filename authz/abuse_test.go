package authz_test

// Regression tests of abuse paths found by a security review: an agency
// giving itself standing on a case it merely sees (or over a victim, by
// linking them into a case of its own), referrals forged in
// another agency's name, support an agency records for itself standing in
// for a referral, an age check that answered with data the caller may not
// read, emergency grants reaching victims linked after them, and one
// person's roles pooling their consent purposes. Same harness as
// access_test.go: real GraphQL over HTTP, on SQLite and PostgreSQL.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/casevictim"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/ent/supportservice"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

const (
	assignAgency        = `mutation ($c: ID!, $a: ID!, $p: CasePart!) { assignAgencyToCase(caseID: $c, agencyID: $a, part: $p) { id part } }`
	updateCase          = `mutation ($id: ID!, $v: Int!, $in: UpdateCaseInput!) { updateCase(id: $id, expectedVersion: $v, input: $in) { id version } }`
	moveCaseStage       = `mutation ($id: ID!, $v: Int!, $stage: ProceedingStage!) { moveCaseStage(id: $id, expectedVersion: $v, stage: $stage) { id version } }`
	updateSuspect       = `mutation ($id: ID!, $v: Int!, $in: UpdateSuspectInput!) { updateSuspect(id: $id, expectedVersion: $v, input: $in) { id version } }`
	recordSuspect       = `mutation ($in: CreateSuspectInput!) { recordSuspect(input: $in) { id } }`
	registerProsecution = `mutation ($in: CreateProsecutionInput!) { registerProsecution(input: $in) { id } }`
	createReferral      = `mutation ($in: CreateReferralInput!) { createReferral(input: $in) { id status } }`
	recordSupport       = `mutation ($in: CreateSupportServiceInput!) { recordSupportService(input: $in) { id } }`
	recordConsent       = `mutation ($in: CreateConsentInput!) { recordConsent(input: $in) { id } }`
	openOwnCase         = `mutation ($in: CreateCaseInput!) { openCase(input: $in) { id } }`
	linkVictim          = `mutation ($v: ID!, $c: ID!) { linkVictimToCase(victimID: $v, caseID: $c) { id } }`
	dateOfBirthQuery    = `query ($id: ID!) { node(id: $id) { ... on Victim { pseudonym dateOfBirth exactAge } } }`
)

// abuseVictim creates a victim like the fixture's (the same secrets, so
// readVictim can check it), with the given age data, linked to cases at
// linkedAt (now when zero).
func abuseVictim(t *testing.T, c *ent.Client, f *fixture, pseudonym string, age domain.AgeGroup, dob *time.Time, exactAge *int, linkedAt time.Time, cases ...int) int {
	t.Helper()
	ctx := sys()
	v := ok(c.Victim.Create().SetPseudonym(pseudonym).SetSex(domain.SexFemale).SetAgeGroup(age).
		SetIdentificationStatus(domain.IdentificationStatusPotentialVictim).SetIdentifiedBy(domain.IdentifyingBodyStatePolice).
		SetIdentifiedAt(past).SetRegion(domain.RegionDurres).SetFormsOfExploitation([]domain.Exploitation{domain.ExploitationSexual}).
		SetLegalName(secret(pseudonym, "legalName")).SetNillableDateOfBirth(dob).SetNillableExactAge(exactAge).
		SetPersonalNumber("J00101001A").SetNationality("AL").
		SetPhone(secret(pseudonym, "phone")).SetAddress(secret(pseudonym, "address")).
		SetHealthNotes(secret(pseudonym, "healthNotes")).SetTestimonySummary(secret(pseudonym, "testimonySummary")).
		SetShelterLocation(secret(pseudonym, "shelterLocation")).Save(ctx))(t)
	for _, cid := range cases {
		b := c.CaseVictim.Create().SetCaseID(cid).SetVictimID(v.ID)
		if !linkedAt.IsZero() {
			b.SetLinkedAt(linkedAt)
		}
		ok(b.Save(ctx))(t)
	}
	f.pseudonym[v.ID] = pseudonym
	return v.ID
}

// refuse sends a request that must be refused with code and field, and
// change nothing in the database.
func (e *env) refuse(t *testing.T, token, query string, vars map[string]any, code, field string) {
	t.Helper()
	before := counts(t, e.db.Client)
	wantRefusal(t, e.do(t, token, query, vars), code, field)
	unchanged(t, e.db.Client, before)
}

// ---------------------------------------------------------------------------
// 1. An agency that sees a case does not give itself standing on it
// ---------------------------------------------------------------------------

func TestAbuseSelfAssignment(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		c := e.db.Client
		general := e.tok(t, "prosecution-general", viewer.RoleProsecutor)
		generalID := f.id(t, "prosecution-general")
		now := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		caseBefore := ok(c.CaseFile.Get(sys(), f.caseT))(t)

		checkNoStanding := func(t *testing.T) {
			t.Helper()
			n := ok(c.CaseAssignment.Query().Where(caseassignment.CaseID(f.caseT), caseassignment.AgencyID(generalID)).Count(sys()))(t)
			if n != 0 {
				t.Errorf("prosecution-general got %d assignments on caseT", n)
			}
			if n := ok(c.Prosecution.Query().Where(prosecution.CaseID(f.caseT), prosecution.OfficeID(generalID)).Count(sys()))(t); n != 0 {
				t.Errorf("prosecution-general got %d proceedings on caseT", n)
			}
			cf := ok(c.CaseFile.Get(sys(), f.caseT))(t)
			if cf.LeadAgencyID != caseBefore.LeadAgencyID || cf.Version != caseBefore.Version {
				t.Errorf("caseT changed: lead %d → %d, version %d → %d", caseBefore.LeadAgencyID, cf.LeadAgencyID, caseBefore.Version, cf.Version)
			}
			// It sees vT (rows: all) but reads none of its sensitive fields.
			e.readVictim(t, general, f.vT)
		}
		checkNoStanding(t)

		t.Run("ErrAssignSelf", func(t *testing.T) {
			e.refuse(t, general, assignAgency, map[string]any{"c": gid(f.caseT), "a": gid(generalID), "p": "PROSECUTING"}, "FORBIDDEN", "caseID")
			checkNoStanding(t)
		})
		// Nor may it hand the standing to another: a court put on caseT
		// by an office with no part in it would read its victims' names.
		t.Run("ErrAssignAnother", func(t *testing.T) {
			court := f.id(t, "court-durres")
			e.refuse(t, general, assignAgency, map[string]any{"c": gid(f.caseT), "a": gid(court), "p": "ADJUDICATING"}, "FORBIDDEN", "caseID")
			if n := ok(c.CaseAssignment.Query().Where(caseassignment.CaseID(f.caseT), caseassignment.AgencyID(court)).Count(sys()))(t); n != 0 {
				t.Errorf("court-durres was put on caseT by an office with no part in it")
			}
		})
		t.Run("ErrSelfLead", func(t *testing.T) {
			e.refuse(t, general, updateCase, map[string]any{"id": gid(f.caseT), "v": caseBefore.Version,
				"in": map[string]any{"leadAgencyID": gid(generalID)}}, "FORBIDDEN", "id")
			checkNoStanding(t)
		})
		// Nor does it change what it only sees (a review's hunt): the
		// case's region (which would move it into another district's
		// rows) or its opening date, its suspects, or a new suspect. Each
		// refusal is an audit event about the case.
		t.Run("ErrChangeTheCase", func(t *testing.T) {
			e.refuse(t, general, updateCase, map[string]any{"id": gid(f.caseT), "v": caseBefore.Version,
				"in": map[string]any{"region": "DURRES"}}, "FORBIDDEN", "id")
			e.refuse(t, general, moveCaseStage, map[string]any{"id": gid(f.caseT), "v": caseBefore.Version, "stage": "MERGED"}, "FORBIDDEN", "id")
			checkNoStanding(t)
		})
		t.Run("ErrChangeItsSuspects", func(t *testing.T) {
			s := ok(c.Suspect.Get(sys(), f.sT))(t)
			e.refuse(t, general, updateSuspect, map[string]any{"id": gid(f.sT), "v": s.Version,
				"in": map[string]any{"legalName": "Someone Else"}}, "FORBIDDEN", "id")
			if after := ok(c.Suspect.Get(sys(), f.sT))(t); after.Version != s.Version {
				t.Errorf("sT changed: version %d → %d", s.Version, after.Version)
			}
			e.refuse(t, general, recordSuspect, map[string]any{"in": map[string]any{"pseudonym": "S-GEN-0001", "sex": "MALE",
				"nationality": "AL", "role": "CLIENT", "caseID": gid(f.caseT)}}, "FORBIDDEN", "input.caseID")
		})
		t.Run("EachRefusalIsAnAuditEvent", func(t *testing.T) {
			// One event about caseT for each refused request: recordSuspect
			// names the case only in its input, updateSuspect names the
			// suspect, so the case's event is casework's own.
			for mutation, want := range map[string]int{"updateCase": 2, "moveCaseStage": 1, "recordSuspect": 1, "updateSuspect": 1} {
				n := ok(c.AuditEvent.Query().Where(auditevent.ActorSubject(subject("prosecution-general", viewer.RoleProsecutor)),
					auditevent.EntityType("Case"), auditevent.EntityID(f.caseT), auditevent.Decision("DENIED"),
					auditevent.Fields("Mutation."+mutation)).Count(sys()))(t)
				if n != want {
					t.Errorf("%d refusals of %s about caseT in the audit trail, want %d", n, mutation, want)
				}
			}
		})
		t.Run("ErrRegisterOwnProceeding", func(t *testing.T) {
			e.refuse(t, general, registerProsecution, map[string]any{"in": map[string]any{
				"registrationNumber": "PR-GEN-0001/2026", "registeredAt": now,
				"caseID": gid(f.caseT), "officeID": gid(generalID)}}, "FORBIDDEN", "input.officeID")
			checkNoStanding(t)
		})

		// Linking a victim into a case of one's own is standing taken too:
		// prosecution-general opens a case (and so works on it), then
		// tries to link vT into it.
		t.Run("ErrLinkVictimIntoOwnCase", func(t *testing.T) {
			var opened struct{ OpenCase struct{ ID string } }
			e.do(t, general, openOwnCase, map[string]any{"in": map[string]any{
				"reference": "GEN-2026-0001", "title": "A case of the general office's own", "region": "TIRANE",
				"leadAgencyID": gid(generalID)}}).MustOK(t).Decode(t, &opened)
			e.refuse(t, general, linkVictim, map[string]any{"v": gid(f.vT), "c": opened.OpenCase.ID}, "FORBIDDEN", "victimID")
			checkNoStanding(t)
			// Filed under the victim, the record the refusal is about, where
			// the DPOs of the agencies working with vT look (a review found
			// it under the case).
			n := ok(c.AuditEvent.Query().Where(auditevent.ActorSubject(subject("prosecution-general", viewer.RoleProsecutor)),
				auditevent.EntityType("Victim"), auditevent.EntityID(f.vT), auditevent.Decision("DENIED"),
				auditevent.Fields("Mutation.linkVictimToCase")).Count(sys()))(t)
			if n != 1 {
				t.Errorf("%d refusals of linkVictimToCase about vT in the audit trail, want 1", n)
			}
		})
		// Nor may it give the standing away: prosecution-general links vT
		// into caseD2, a case of police-durres it is not on.
		t.Run("ErrLinkVictimIntoAnothersCase", func(t *testing.T) {
			e.refuse(t, general, linkVictim, map[string]any{"v": gid(f.vT), "c": gid(f.caseD2)}, "FORBIDDEN", "victimID")
		})
		// An agency that works on one of the victim's cases gives the
		// standing it has: prosecution-tirane (on caseT) links vT into
		// caseT2, a case of its region.
		t.Run("OKLinkVictimOneWorksOn", func(t *testing.T) {
			prosecutor := e.tok(t, "prosecution-tirane", viewer.RoleProsecutor)
			e.do(t, prosecutor, linkVictim, map[string]any{"v": gid(f.vT), "c": gid(f.caseT2)}).MustOK(t)
			if n := ok(c.CaseVictim.Query().Where(casevictim.CaseID(f.caseT2), casevictim.VictimID(f.vT)).Count(sys()))(t); n != 1 {
				t.Errorf("want vT linked to caseT2 once, got %d", n)
			}
		})

		// A district office is competent for every case of its district:
		// caseD2 (DURRES, police-durres only) is not yet its, and becomes so.
		t.Run("OKDistrictOfficeOwnDistrict", func(t *testing.T) {
			durres := e.tok(t, "prosecution-durres", viewer.RoleProsecutor)
			durresID := f.id(t, "prosecution-durres")
			e.wantHidden(t, durres, "vD2", f.vD2)
			e.do(t, durres, registerProsecution, map[string]any{"in": map[string]any{
				"registrationNumber": "PR-DUR-0002/2026", "registeredAt": now,
				"caseID": gid(f.caseD2), "officeID": gid(durresID)}}).MustOK(t)
			if n := ok(c.Prosecution.Query().Where(prosecution.CaseID(f.caseD2), prosecution.OfficeID(durresID)).Count(sys()))(t); n != 1 {
				t.Errorf("want one proceeding of prosecution-durres on caseD2, got %d", n)
			}
			e.do(t, durres, assignAgency, map[string]any{"c": gid(f.caseD2), "a": gid(durresID), "p": "PROSECUTING"}).MustOK(t)
			a := ok(c.CaseAssignment.Query().Where(caseassignment.CaseID(f.caseD2), caseassignment.AgencyID(durresID)).Only(sys()))(t)
			if a.Part != domain.CasePartProsecuting {
				t.Errorf("assignment part = %s, want PROSECUTING", a.Part)
			}
			e.readVictim(t, durres, f.vD2, "legalName", "phone", "address", "testimonySummary")
		})
	})
}

// ---------------------------------------------------------------------------
// 2. Referrals in another's name; support recorded for oneself
// ---------------------------------------------------------------------------

func TestAbuseForgedReferral(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		c := e.db.Client
		ngo := e.tok(t, "ngo-different-equal", viewer.RoleCaseWorker)
		ngoID := f.id(t, "ngo-different-equal")
		policeDurres := f.id(t, "police-durres")
		now := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

		// A PENDING referral of vD to ngo-different-equal makes the row
		// visible to it, and opens no field.
		pending := ok(c.Referral.Create().SetServiceKind(domain.ServiceKindLegalAid).SetStatus(domain.ReferralStatusPending).
			SetReferredAt(past).SetVictimID(f.vD).SetCaseID(f.caseD).
			SetFromAgencyID(policeDurres).SetToAgencyID(ngoID).Save(sys()))(t).ID
		e.wantVisible(t, ngo, "vD", f.vD)
		e.readVictim(t, ngo, f.vD)
		toNGO := func(t *testing.T) int {
			t.Helper()
			return ok(c.Referral.Query().Where(referral.ToAgencyID(ngoID)).Count(sys()))(t)
		}

		t.Run("ErrFromAnotherAgency", func(t *testing.T) {
			for _, caseID := range []any{nil, gid(f.caseD)} {
				e.refuse(t, ngo, createReferral, map[string]any{"in": map[string]any{
					"serviceKind": "LEGAL_AID", "referredAt": now, "victimID": gid(f.vD), "caseID": caseID,
					"fromAgencyID": gid(policeDurres), "toAgencyID": gid(ngoID)}}, "FORBIDDEN", "input.fromAgencyID")
				if n := toNGO(t); n != 1 {
					t.Errorf("%d referrals to ngo-different-equal, want the fixture's one", n)
				}
				e.readVictim(t, ngo, f.vD)
			}
		})

		t.Run("ErrSupportOfAnotherProvider", func(t *testing.T) {
			e.refuse(t, ngo, recordSupport, map[string]any{"in": map[string]any{
				"kind": "LEGAL_AID", "startedOn": now, "victimID": gid(f.vD),
				"providerID": gid(f.id(t, "shelter-national"))}}, "FORBIDDEN", "input.providerID")
		})

		// The coordinator's exception is the policy's, at the agency's
		// kind: the role named in a token at an NGO gives nothing there.
		t.Run("ErrCoordinatorRoleAtAnNGO", func(t *testing.T) {
			both := e.s.Token(t, "ngo-different-equal", viewer.RoleCaseWorker, viewer.RoleCoordinator)
			e.refuse(t, both, createReferral, map[string]any{"in": map[string]any{
				"serviceKind": "LEGAL_AID", "referredAt": now, "victimID": gid(f.vD), "caseID": gid(f.caseD),
				"fromAgencyID": gid(policeDurres), "toAgencyID": gid(ngoID)}}, "FORBIDDEN", "input.fromAgencyID")
		})

		// A provider's support is the provider's to change.
		t.Run("ErrChangeAnotherProvidersSupport", func(t *testing.T) {
			shelter := f.id(t, "shelter-national")
			other := ok(c.SupportService.Create().SetKind(domain.ServiceKindShelter).SetStartedOn(past).
				SetVictimID(f.vD).SetProviderID(shelter).Save(sys()))(t)
			e.refuse(t, ngo, `mutation ($id: ID!) { updateSupportService(id: $id, expectedVersion: 1, input: {notes: "Overwritten"}) { id } }`,
				map[string]any{"id": gid(other.ID)}, "FORBIDDEN", "id")
		})

		t.Run("OKCoordinatorBetweenOthers", func(t *testing.T) {
			coordinator := e.tok(t, "responsible-authority", viewer.RoleCoordinator)
			r := e.do(t, coordinator, createReferral, map[string]any{"in": map[string]any{
				"serviceKind": "LEGAL_AID", "referredAt": now, "victimID": gid(f.vD), "caseID": gid(f.caseD),
				"fromAgencyID": gid(policeDurres), "toAgencyID": gid(ngoID)}}).MustOK(t)
			id := atoi(t, decode[struct{ CreateReferral struct{ ID, Status string } }](t, r).CreateReferral.ID)
			got := ok(c.Referral.Get(sys(), id))(t)
			if got.FromAgencyID != policeDurres || got.ToAgencyID != ngoID || got.Status != domain.ReferralStatusPending {
				t.Errorf("referral = from %d to %d %s; want from police-durres to ngo-different-equal PENDING", got.FromAgencyID, got.ToAgencyID, got.Status)
			}
			// Pending: it opens nothing yet.
			e.readVictim(t, ngo, f.vD)
		})

		t.Run("ErrOwnSupportIsNoReferral", func(t *testing.T) {
			// A pending referral gives no standing to write: not even the
			// agency's own support, which would be standing of its own.
			e.refuse(t, ngo, recordSupport, map[string]any{"in": map[string]any{
				"kind": "LEGAL_AID", "startedOn": now, "victimID": gid(f.vD), "providerID": gid(ngoID)}}, "FORBIDDEN", "input.victimID")
			// Support recorded all the same (before the rule, or once the
			// referral was accepted and later completed) opens no field
			// either.
			ok(c.SupportService.Create().SetKind(domain.ServiceKindLegalAid).SetStartedOn(past).
				SetVictimID(f.vD).SetProviderID(ngoID).Save(sys()))(t)
			if n := ok(c.SupportService.Query().Where(supportservice.VictimID(f.vD), supportservice.ProviderID(ngoID)).Count(sys()))(t); n != 1 {
				t.Fatalf("want one support service of vD by ngo-different-equal, got %d", n)
			}
			addConsent(t, c, f, f.vD, []domain.AgencyKind{domain.AgencyKindNgoServiceProvider}, []domain.ConsentPurpose{domain.ConsentPurposeServices})
			// Support it records itself plus a consent naming its kind for
			// SERVICES: still no referral accepted, so nothing opens.
			e.readVictim(t, ngo, f.vD)
			r := e.do(t, ngo, `query ($id: ID!) { node(id: $id) { ... on Victim { pseudonym healthNotes } } }`, map[string]any{"id": gid(f.vD)})
			wantErrors(t, r, forbidden("Victim.healthNotes", "node.healthNotes"))

			// The control: once the referral is accepted, the same consent
			// opens what a case worker reads.
			ok(c.Referral.UpdateOneID(pending).SetStatus(domain.ReferralStatusAccepted).Save(sys()))(t)
			e.readVictim(t, ngo, f.vD, "legalName", "phone", "address", "healthNotes", "shelterLocation")
		})
	})
}

// ---------------------------------------------------------------------------
// 3. The age check of recordConsent is no oracle
// ---------------------------------------------------------------------------

func TestAbuseAgeOracle(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		c := e.db.Client

		// The victim turned 16 thirty days ago; D1 is ten days before that
		// birthday, D2 ten days after it, both in the past. Its age group
		// says ADULT and it has no exact age: only the date of birth tells.
		today := time.Now().UTC().Truncate(24 * time.Hour)
		sixteen := today.AddDate(0, 0, -30)
		dob := sixteen.AddDate(-16, 0, 0)
		d1, d2 := sixteen.AddDate(0, 0, -10), sixteen.AddDate(0, 0, 10)
		vAge := abuseVictim(t, c, f, "V-2026-0101", domain.AgeGroupAdult, &dob, nil, time.Time{}, f.caseD)
		age25 := 25
		old := time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)
		vMinor := abuseVictim(t, c, f, "V-2026-0102", domain.AgeGroupMinor, &old, &age25, time.Time{}, f.caseD)
		age15 := 15 // at identification, on the fixture's day (past)
		vTeen := abuseVictim(t, c, f, "V-2026-0103", domain.AgeGroupMinor, nil, &age15, time.Time{}, f.caseD)

		consentIn := func(victimID int, at time.Time) map[string]any {
			return map[string]any{"agencyKinds": []string{"NGO_SHELTER"}, "purposes": []string{"SERVICES"},
				"givenBy": "VICTIM", "givenAt": at.Format(time.RFC3339), "victimID": gid(victimID)}
		}
		const twice = `mutation ($a: CreateConsentInput!, $b: CreateConsentInput!) { a: recordConsent(input: $a) { id } b: recordConsent(input: $b) { id } }`
		// readsDOB checks whether token reads the victim's date of birth.
		readsDOB := func(t *testing.T, token string, victimID int, want bool) {
			t.Helper()
			r := e.do(t, token, dateOfBirthQuery, map[string]any{"id": gid(victimID)})
			d := decode[struct {
				Node struct{ DateOfBirth *time.Time }
			}](t, r)
			if got := d.Node.DateOfBirth != nil && len(r.Errors) == 0; got != want {
				t.Fatalf("reads dateOfBirth of %s: %v, want %v:\n%s", f.pseudonym[victimID], got, want, r.Body)
			}
		}

		// investigator@police-durres leads caseD but, without a consent, may
		// not read the date of birth (IDENTITY); investigator@police-gd sees
		// every case but is not on caseD. Neither may use the date of birth,
		// so both dates must answer alike: accepted, since all they may use
		// is the age group, ADULT.
		for _, agency := range []string{"police-durres", "police-gd"} {
			t.Run("NonReaderSameAnswer/"+agency, func(t *testing.T) {
				token := e.tok(t, agency, viewer.RoleInvestigator)
				readsDOB(t, token, vAge, false)
				r := e.do(t, token, twice, map[string]any{"a": consentIn(vAge, d1), "b": consentIn(vAge, d2)})
				d := decode[struct{ A, B *struct{ ID string } }](t, r)
				if len(r.Errors) != 0 || d.A == nil || d.B == nil {
					t.Errorf("want both consents accepted, got %s", r.Body)
				}
				// And one at a time, each answer the same code.
				for _, at := range []time.Time{d1, d2} {
					r := e.do(t, token, recordConsent, map[string]any{"in": consentIn(vAge, at)})
					if codes := r.Codes(); len(codes) != 0 {
						t.Errorf("givenAt %s: codes %v, want none:\n%s", at.Format(time.DateOnly), codes, r.Body)
					}
				}
			})
		}

		// prosecutor@prosecution-durres prosecutes caseD and reads the date
		// of birth under proceedings: the real age decides.
		t.Run("ReaderRealAge", func(t *testing.T) {
			prosecutor := e.tok(t, "prosecution-durres", viewer.RoleProsecutor)
			readsDOB(t, prosecutor, vAge, true)
			refused := e.do(t, prosecutor, recordConsent, map[string]any{"in": consentIn(vAge, d1)})
			wantRefusal(t, refused, "BAD_USER_INPUT", "input.givenBy")
			made := e.do(t, prosecutor, recordConsent, map[string]any{"in": consentIn(vAge, d2)}).MustOK(t)
			// Its date of birth (2000) decides for vMinor, whatever its group.
			byBirth := e.do(t, prosecutor, recordConsent, map[string]any{"in": consentIn(vMinor, d1)}).MustOK(t)
			// vTeen has no date of birth: its exact age at identification
			// (15, on the fixture's day in 2025) and the whole years since
			// decide. 16 now, it consents alone; a consent dated back to
			// the summer it was identified is refused.
			refusedThen := e.do(t, prosecutor, recordConsent, map[string]any{"in": consentIn(vTeen, past.AddDate(0, 3, 0))})
			wantRefusal(t, refusedThen, "BAD_USER_INPUT", "input.givenBy")
			byAge := e.do(t, prosecutor, recordConsent, map[string]any{"in": consentIn(vTeen, past.AddDate(1, 1, 0))}).MustOK(t)
			// The field that decided is recorded as read, refused or not:
			// consents tried a minute apart would tell the date of birth.
			for _, x := range []struct {
				r      *testserver.Response
				victim int
				field  string
			}{{refused, vAge, "Victim.dateOfBirth"}, {made, vAge, "Victim.dateOfBirth"}, {byBirth, vMinor, "Victim.dateOfBirth"},
				{refusedThen, vTeen, "Victim.exactAge"}, {byAge, vTeen, "Victim.exactAge"}} {
				events := eventsOf(t, e.db, x.r.Header.Get("X-Request-Id"))
				if _, ok := findEvent(events, func(ev audit.Event) bool {
					return ev.Kind == audit.FieldAccess && ev.Decision == audit.Allowed && ev.EntityID == x.victim && slices.Contains(ev.Fields, x.field)
				}); !ok {
					t.Errorf("no read of %s recorded for the consent check:\n%s", x.field, dump(events))
				}
			}
		})

		// A MINOR whose age the caller may not read never consents alone.
		t.Run("ErrMinorWithoutReadableAge", func(t *testing.T) {
			gd := e.tok(t, "police-gd", viewer.RoleInvestigator)
			readsDOB(t, gd, vMinor, false)
			for _, at := range []time.Time{d1, d2} {
				r := e.do(t, gd, recordConsent, map[string]any{"in": consentIn(vMinor, at)})
				wantRefusal(t, r, "BAD_USER_INPUT", "input.givenBy")
				// Nothing but the age group decided: no read to record.
				if ev, ok := findEvent(eventsOf(t, e.db, r.Header.Get("X-Request-Id")), func(ev audit.Event) bool { return ev.Kind == audit.FieldAccess }); ok {
					t.Errorf("a read recorded for a caller who may not read the age: %s", dump([]audit.Event{ev}))
				}
			}
			in := consentIn(vMinor, d2)
			in["givenBy"] = "PARENT_OR_GUARDIAN"
			e.do(t, gd, recordConsent, map[string]any{"in": in}).MustOK(t)
		})

		// The control: with a consent naming its kind for CRIMINAL_PROCEEDINGS,
		// police-durres reads the date of birth, and the real age decides.
		t.Run("ReaderOnceConsented", func(t *testing.T) {
			police := e.tok(t, "police-durres", viewer.RoleInvestigator)
			addConsent(t, c, f, vAge, []domain.AgencyKind{domain.AgencyKindLocalPoliceDirectorate},
				[]domain.ConsentPurpose{domain.ConsentPurposeCriminalProceedings})
			readsDOB(t, police, vAge, true)
			e.refuse(t, police, recordConsent, map[string]any{"in": consentIn(vAge, d1)}, "BAD_USER_INPUT", "input.givenBy")
			e.do(t, police, recordConsent, map[string]any{"in": consentIn(vAge, d2)}).MustOK(t)
		})

		// The date of birth that decided is recorded as read (ReaderRealAge).
		// When that record cannot be written, the answer does not tell the
		// date either: before and after the birthday answer alike,
		// AUDIT_UNAVAILABLE, and neither consent is made.
		prosecutor := e.tok(t, "prosecution-durres", viewer.RoleProsecutor)
		t.Run("TrailDownSameAnswer", func(t *testing.T) {
			rows := counts(t, c)
			mend := breakAuditWrites(t, e.db)
			var bodies []string
			for _, at := range []time.Time{d1, d2} {
				r := e.do(t, prosecutor, recordConsent, map[string]any{"in": consentIn(vAge, at)})
				body := strings.ReplaceAll(string(r.Body), r.Header.Get("X-Request-Id"), "ID")
				if !slices.Equal(r.Codes(), []string{"AUDIT_UNAVAILABLE"}) || strings.Contains(body, "16") {
					t.Errorf("givenAt %s: want only AUDIT_UNAVAILABLE and nothing about the age:\n%s", at.Format(time.DateOnly), body)
				}
				bodies = append(bodies, body)
			}
			mend()
			if bodies[0] != bodies[1] {
				t.Errorf("the answers before and after the birthday differ:\n%s\n%s", bodies[0], bodies[1])
			}
			unchanged(t, c, rows)
		})
		// When only the change's record fails (its transaction's write), the
		// read is still written, after the response.
		t.Run("ChangeRecordFailsReadKept", func(t *testing.T) {
			if e.db.Dialect != "postgres" {
				t.Skip("a trigger refusing only MUTATION events: written for PostgreSQL")
			}
			exec := func(stmts ...string) {
				for _, s := range stmts {
					if _, err := e.db.SQL.ExecContext(t.Context(), s); err != nil {
						t.Fatal(err)
					}
				}
			}
			exec(`CREATE FUNCTION mutation_events_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.kind = 'MUTATION' THEN RAISE EXCEPTION 'mutation events fail'; END IF; RETURN NEW; END; $$`,
				`CREATE TRIGGER mutation_events_fail BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION mutation_events_fail()`)
			r := e.do(t, prosecutor, recordConsent, map[string]any{"in": consentIn(vAge, d2)})
			exec(`DROP TRIGGER mutation_events_fail ON audit_events`, `DROP FUNCTION mutation_events_fail()`)
			if !slices.Equal(r.Codes(), []string{"AUDIT_UNAVAILABLE"}) {
				t.Fatalf("want AUDIT_UNAVAILABLE, the consent not made:\n%s", r.Body)
			}
			events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if _, ok := findEvent(events, func(ev audit.Event) bool {
				return ev.Kind == audit.FieldAccess && ev.Decision == audit.Allowed && ev.EntityID == vAge && slices.Contains(ev.Fields, "Victim.dateOfBirth")
			}); !ok {
				t.Errorf("the date of birth consulted is not recorded although reads could be written:\n%s", dump(events))
			}
		})
	})
}

// ---------------------------------------------------------------------------
// 4. Emergency access covers the case as it was when granted
// ---------------------------------------------------------------------------

func TestAbuseEmergencyScope(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		c := e.db.Client
		police := e.tok(t, "police-durres", viewer.RoleInvestigator)

		// Linked to caseD before the grant, no consent.
		vBefore := abuseVictim(t, c, f, "V-2026-0201", domain.AgeGroupAdult, nil, nil, time.Now().Add(-time.Hour), f.caseD)
		e.readVictim(t, police, vBefore)

		r := e.do(t, police, requestEmergency, map[string]any{"case": gid(f.caseD), "j": justification, "h": 1}).MustOK(t)
		grantID := atoi(t, decode[struct{ RequestEmergencyAccess grantT }](t, r).RequestEmergencyAccess.ID)
		grantedAt := ok(c.EmergencyGrant.Get(sys(), grantID))(t).GrantedAt

		// Linked to caseD after the grant, through the client with system
		// rights; no consent either.
		at := time.Now()
		if !at.After(grantedAt) {
			at = grantedAt.Add(time.Second)
		}
		vAfter := abuseVictim(t, c, f, "V-2026-0202", domain.AgeGroupAdult, nil, nil, at, f.caseD)

		t.Run("OKLinkedBefore", func(t *testing.T) {
			// Everything an investigator may read at all; never health,
			// testimony or shelter location (readVictim wants them FORBIDDEN).
			e.readVictim(t, police, vBefore, "legalName", "phone", "address")
			e.readVictim(t, police, f.vD, "legalName", "phone", "address")
		})
		t.Run("ErrLinkedAfter", func(t *testing.T) {
			e.readVictim(t, police, vAfter)
		})
		t.Run("BothInOneRequest", func(t *testing.T) {
			r := e.do(t, police, `query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Victim { pseudonym legalName healthNotes testimonySummary shelterLocation } } }`,
				map[string]any{"ids": gids(vBefore, vAfter)})
			d := decode[struct{ Nodes []map[string]any }](t, r)
			if len(d.Nodes) != 2 || d.Nodes[0] == nil || d.Nodes[1] == nil {
				t.Fatalf("want both victims, got %s", r.Body)
			}
			if d.Nodes[0]["legalName"] != secret(f.pseudonym[vBefore], "legalName") || d.Nodes[1]["legalName"] != nil {
				t.Errorf("legalName: before %v, after %v; want the first only", d.Nodes[0]["legalName"], d.Nodes[1]["legalName"])
			}
			wantErrors(t, r,
				forbidden("Victim.healthNotes", "nodes.0.healthNotes"), forbidden("Victim.testimonySummary", "nodes.0.testimonySummary"),
				forbidden("Victim.shelterLocation", "nodes.0.shelterLocation"),
				forbidden("Victim.legalName", "nodes.1.legalName"), forbidden("Victim.healthNotes", "nodes.1.healthNotes"),
				forbidden("Victim.testimonySummary", "nodes.1.testimonySummary"), forbidden("Victim.shelterLocation", "nodes.1.shelterLocation"))
		})
	})
}

// ---------------------------------------------------------------------------
// 5. One person's roles do not pool their consent purposes
// ---------------------------------------------------------------------------

func TestAbusePooledPurposes(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		c := e.db.Client
		token, err := e.s.Issuer.Issue("pooled@police-durres", "police-durres",
			[]viewer.Role{viewer.RoleInvestigator, viewer.RoleAnalyst}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		// vD2 is in caseD2, led by police-durres, and has no consent.
		if n := ok(c.CaseFile.Query().Where(casefile.ID(f.caseD2), casefile.LeadAgencyID(f.id(t, "police-durres"))).Count(sys()))(t); n != 1 {
			t.Fatalf("caseD2 must be led by police-durres")
		}
		e.readVictim(t, token, f.vD2)

		t.Run("ErrStatisticsConsent", func(t *testing.T) {
			// STATISTICS is the analyst's purpose, and the analyst role
			// reads no sensitive field: it opens nothing to the investigator.
			id := addConsent(t, c, f, f.vD2, []domain.AgencyKind{domain.AgencyKindLocalPoliceDirectorate},
				[]domain.ConsentPurpose{domain.ConsentPurposeStatistics})
			t.Cleanup(func() { _ = c.Consent.DeleteOneID(id).Exec(sys()) })
			e.readVictim(t, token, f.vD2)
		})
		t.Run("OKCriminalProceedingsConsent", func(t *testing.T) {
			id := addConsent(t, c, f, f.vD2, []domain.AgencyKind{domain.AgencyKindLocalPoliceDirectorate},
				[]domain.ConsentPurpose{domain.ConsentPurposeCriminalProceedings})
			t.Cleanup(func() { _ = c.Consent.DeleteOneID(id).Exec(sys()) })
			e.readVictim(t, token, f.vD2, "legalName", "phone", "address")
		})
	})
}

// TestRefusalsFiledOnlyUnderTheirOwnType: a refused mutation is filed
// under the id it names only when the id is of the type the argument asks
// for: updateCase(id: <a victim's id>) is no event "about" that victim
// (anyone could add such noise to a person's trail: a review), while
// updateCase(id: <a case's id>) refused is one about the case.
func TestRefusalsFiledOnlyUnderTheirOwnType(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		c := e.db.Client
		about := func(who string, id int) int {
			return ok(c.AuditEvent.Query().Where(auditevent.ActorSubject(who), auditevent.EntityID(id), auditevent.Decision("DENIED")).Count(sys()))(t)
		}
		cf := ok(c.CaseFile.Get(sys(), f.caseT))(t)
		in := map[string]any{"title": "Renamed by a probe"}
		// A role that may not update cases (the policy guard refuses it).
		worker := e.tok(t, "ngo-vatra", viewer.RoleCaseWorker)
		wantRefusal(t, e.do(t, worker, updateCase, map[string]any{"id": gid(f.vT), "v": 1, "in": in}), "FORBIDDEN", "")
		wantRefusal(t, e.do(t, worker, updateCase, map[string]any{"id": gid(f.caseT), "v": cf.Version, "in": in}), "FORBIDDEN", "")
		// A role that may (casework answers NOT_FOUND: no case has that id).
		police := e.tok(t, "police-tirane", viewer.RoleInvestigator)
		wantRefusal(t, e.do(t, police, updateCase, map[string]any{"id": gid(f.vT), "v": 1, "in": in}), "NOT_FOUND", "")
		for _, who := range []string{subject("ngo-vatra", viewer.RoleCaseWorker), subject("police-tirane", viewer.RoleInvestigator)} {
			if n := about(who, f.vT); n != 0 {
				t.Errorf("%d refusals of %s filed about the victim vT for updateCase given its id, want 0", n, who)
			}
		}
		if n := about(subject("ngo-vatra", viewer.RoleCaseWorker), f.caseT); n != 1 {
			t.Errorf("%d refusals of updateCase about caseT, want 1", n)
		}
	})
}
