package authz_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/ent/consent"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// 2. Field decisions and consent
// ---------------------------------------------------------------------------

func TestAccessFieldDecisions(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		if n := ok(e.db.Client.Consent.Query().Where(consent.VictimID(f.vT)).Count(sys()))(t); n != 0 {
			t.Fatalf("vT must have no consent, has %d", n)
		}
		prosecutor := e.tok(t, "prosecution-tirane", viewer.RoleProsecutor)
		judge := e.tok(t, "court-tirane", viewer.RoleJudge)

		for _, tc := range []struct {
			name    string
			token   string
			allowed []string
		}{
			{"ProsecutorProceedingsWithoutConsent", prosecutor, []string{"legalName", "phone", "address", "testimonySummary"}},
			{"JudgeIdentityAndTestimony", judge, []string{"legalName", "testimonySummary"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.readVictim(t, tc.token, f.vT, tc.allowed...)
			})
		}

		t.Run("ErrHealthNamesField", func(t *testing.T) {
			r := e.do(t, prosecutor, `query ($id: ID!) { node(id: $id) { ... on Victim { pseudonym healthNotes } } }`, map[string]any{"id": gid(f.vT)})
			if len(r.Errors) != 1 {
				t.Fatalf("want one error, got %s", r.Body)
			}
			er := r.Errors[0]
			if er.Code() != "FORBIDDEN" || er.Extensions["field"] != "Victim.healthNotes" || testserver.PathString(er.Path) != "node.healthNotes" {
				t.Errorf("want FORBIDDEN on Victim.healthNotes at node.healthNotes, got %s", r.Body)
			}
			if string(r.Data) != fmt.Sprintf(`{"node":{"pseudonym":%q,"healthNotes":null}}`, f.pseudonym[f.vT]) {
				t.Errorf("data = %s", r.Data)
			}
		})

		t.Run("ThroughListPath", func(t *testing.T) {
			r := e.do(t, prosecutor, `{ victims(where: {pseudonym: "V-2026-0001"}) { edges { node { id pseudonym region legalName phone address healthNotes testimonySummary shelterLocation } } } }`, nil)
			var data struct {
				Victims struct {
					Edges []struct{ Node map[string]any }
				}
			}
			r.Decode(t, &data)
			if len(data.Victims.Edges) != 1 {
				t.Fatalf("want vT, got %s", r.Body)
			}
			e.checkVictim(t, r, data.Victims.Edges[0].Node, "victims.edges.0.node", f.vT, "legalName", "phone", "address", "testimonySummary")
		})

		// A field decision must not depend on which other fields the client
		// selects: the suspect's identity is readable whether or not the
		// query also asks for caseID, through node, a list or an edge.
		t.Run("SuspectIdentity", func(t *testing.T) {
			want := `"pseudonym":"S-2026-0001","legalName":"Suspect S-2026-0001"`
			for _, who := range []struct {
				name  string
				token string
			}{
				{"Prosecutor", prosecutor}, {"Judge", judge}, {"Investigator", e.tok(t, "police-tirane", viewer.RoleInvestigator)},
			} {
				for _, q := range []struct {
					name, query string
				}{
					{"NodeWithCaseID", `query ($id: ID!) { node(id: $id) { ... on Suspect { caseID pseudonym legalName } } }`},
					{"CaseEdge", `query ($case: ID!) { node(id: $case) { ... on Case { suspects { edges { node { pseudonym legalName } } } } } }`},
					{"Node", `query ($id: ID!) { node(id: $id) { ... on Suspect { pseudonym legalName } } }`},
					{"List", `query ($id: ID!) { suspects(where: {id: $id}) { edges { node { pseudonym legalName } } } }`},
				} {
					t.Run(who.name+q.name, func(t *testing.T) {
						r := e.do(t, who.token, q.query, map[string]any{"id": gid(f.sT), "case": gid(f.caseT)})
						wantErrors(t, r)
						if !strings.Contains(string(r.Data), want) {
							t.Errorf("data = %s, want it to hold %s", r.Data, want)
						}
					})
				}
			}
		})

		t.Run("SupportServiceNotes", func(t *testing.T) {
			// shelter-national provides svcD; with a consent of vD naming
			// STATE_SHELTER for SERVICES it reads the notes, whatever else
			// the query selects.
			id := addConsent(t, e.db.Client, f, f.vD, []domain.AgencyKind{domain.AgencyKindStateShelter}, []domain.ConsentPurpose{domain.ConsentPurposeServices})
			t.Cleanup(func() { _ = e.db.Client.Consent.DeleteOneID(id).Exec(sys()) })
			shelter := e.tok(t, "shelter-national", viewer.RoleCaseWorker)
			for _, q := range []struct {
				name, query string
			}{
				{"NodeWithForeignKeys", `query ($id: ID!) { node(id: $id) { ... on SupportService { victimID providerID kind notes } } }`},
				{"VictimEdge", `query ($v: ID!) { node(id: $v) { ... on Victim { services { edges { node { kind notes } } } } } }`},
				{"Node", `query ($id: ID!) { node(id: $id) { ... on SupportService { kind notes } } }`},
			} {
				t.Run(q.name, func(t *testing.T) {
					r := e.do(t, shelter, q.query, map[string]any{"id": gid(f.svcD), "v": gid(f.vD)})
					wantErrors(t, r)
					if !strings.Contains(string(r.Data), `"notes":"Support notes"`) {
						t.Errorf("data = %s, want the notes", r.Data)
					}
				})
			}
		})
	})
}

func TestConsentInvestigator(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		police := e.tok(t, "police-tirane", viewer.RoleInvestigator)

		t.Run("ErrNoConsent", func(t *testing.T) {
			e.readVictim(t, police, f.vT)
		})

		t.Run("OKQuasiIdentifiersWithoutConsent", func(t *testing.T) {
			// Quasi-identifiers need their condition only (on_case), no
			// consent (policies/README.md, "Consent").
			r := e.do(t, police, `query ($id: ID!) { node(id: $id) { ... on Victim { pseudonym nationality exactAge } } }`, map[string]any{"id": gid(f.vT)})
			wantErrors(t, r)
			if want := `{"node":{"pseudonym":"V-2026-0001","nationality":"AL","exactAge":25}}`; string(r.Data) != want {
				t.Errorf("data = %s, want %s", r.Data, want)
			}
		})

		var consentID string
		var version int
		t.Run("OKRecordedByMutation", func(t *testing.T) {
			r := e.do(t, police, `mutation ($in: CreateConsentInput!) { recordConsent(input: $in) { id version withdrawnAt } }`,
				map[string]any{"in": map[string]any{
					"agencyKinds": []string{"LOCAL_POLICE_DIRECTORATE"}, "purposes": []string{"CRIMINAL_PROCEEDINGS"},
					"givenBy": "VICTIM", "givenAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "victimID": gid(f.vT),
				}}).MustOK(t)
			d := decode[struct {
				RecordConsent struct {
					ID      string
					Version int
				}
			}](t, r)
			consentID, version = d.RecordConsent.ID, d.RecordConsent.Version
			// Identity and contact now; never health, testimony or shelter.
			e.readVictim(t, police, f.vT, "legalName", "phone", "address")
		})

		t.Run("ErrWithdrawnByMutation", func(t *testing.T) {
			if consentID == "" {
				t.Fatal("an earlier step failed")
			}
			e.do(t, police, `mutation ($id: ID!, $v: Int!) { withdrawConsent(id: $id, expectedVersion: $v) { id withdrawnAt } }`,
				map[string]any{"id": consentID, "v": version}).MustOK(t)
			e.readVictim(t, police, f.vT)
		})

		for _, tc := range []struct {
			name      string
			kinds     []domain.AgencyKind
			purposes  []domain.ConsentPurpose
			withdrawn bool
			allowed   bool
		}{
			{"ErrPurposeServices", []domain.AgencyKind{domain.AgencyKindLocalPoliceDirectorate}, []domain.ConsentPurpose{domain.ConsentPurposeServices}, false, false},
			{"ErrPurposeStatistics", []domain.AgencyKind{domain.AgencyKindLocalPoliceDirectorate}, []domain.ConsentPurpose{domain.ConsentPurposeStatistics}, false, false},
			{"ErrOtherKind", []domain.AgencyKind{domain.AgencyKindProsecutionOffice}, []domain.ConsentPurpose{domain.ConsentPurposeCriminalProceedings}, false, false},
			{"ErrOtherPoliceKind", []domain.AgencyKind{domain.AgencyKindStatePoliceGeneralDirectorate}, []domain.ConsentPurpose{domain.ConsentPurposeCriminalProceedings}, false, false},
			{"ErrWithdrawn", []domain.AgencyKind{domain.AgencyKindLocalPoliceDirectorate}, []domain.ConsentPurpose{domain.ConsentPurposeCriminalProceedings}, true, false},
			{"OK", []domain.AgencyKind{domain.AgencyKindLocalPoliceDirectorate}, []domain.ConsentPurpose{domain.ConsentPurposeCriminalProceedings}, false, true},
			{"OKAmongOthers", []domain.AgencyKind{domain.AgencyKindNgoShelter, domain.AgencyKindLocalPoliceDirectorate},
				[]domain.ConsentPurpose{domain.ConsentPurposeServices, domain.ConsentPurposeCriminalProceedings}, false, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				id := addConsent(t, e.db.Client, f, f.vT, tc.kinds, tc.purposes)
				t.Cleanup(func() { _ = e.db.Client.Consent.DeleteOneID(id).Exec(sys()) })
				if tc.withdrawn {
					ok(e.db.Client.Consent.UpdateOneID(id).SetWithdrawnAt(time.Now().Add(-time.Minute)).Save(sys()))(t)
				}
				if tc.allowed {
					e.readVictim(t, police, f.vT, "legalName", "phone", "address")
				} else {
					e.readVictim(t, police, f.vT)
				}
			})
		}

		t.Run("ErrConsentOfAnotherVictim", func(t *testing.T) {
			id := addConsent(t, e.db.Client, f, f.vT2, []domain.AgencyKind{domain.AgencyKindLocalPoliceDirectorate},
				[]domain.ConsentPurpose{domain.ConsentPurposeCriminalProceedings})
			t.Cleanup(func() { _ = e.db.Client.Consent.DeleteOneID(id).Exec(sys()) })
			e.readVictim(t, police, f.vT)
			e.readVictim(t, police, f.vT2, "legalName", "phone", "address")
		})
	})
}

func TestConsentCaseWorkerReferral(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		ngo := e.tok(t, "ngo-vatra", viewer.RoleCaseWorker)
		// ngo-vatra is an NGO_SHELTER (seed/agencies.go).
		okKinds := []domain.AgencyKind{domain.AgencyKindNgoShelter}
		services := []domain.ConsentPurpose{domain.ConsentPurposeServices}
		// With the referral and consent: identity, contact, health and the
		// shelter's location; never testimony.
		readable := []string{"legalName", "phone", "address", "healthNotes", "shelterLocation"}
		// The shelter's location needs the referral but no consent
		// (policies/README.md, "Consent").
		noConsent := []string{"shelterLocation"}

		for _, tc := range []struct {
			name     string
			status   domain.ReferralStatus
			kinds    []domain.AgencyKind
			purposes []domain.ConsentPurpose
			allowed  []string
		}{
			{"ErrPending", domain.ReferralStatusPending, okKinds, services, nil},
			{"OKAccepted", domain.ReferralStatusAccepted, okKinds, services, readable},
			{"OKCompleted", domain.ReferralStatusCompleted, okKinds, services, readable},
			{"ErrRejected", domain.ReferralStatusRejected, okKinds, services, nil},
			{"ErrRevoked", domain.ReferralStatusRevoked, okKinds, services, nil},
			{"ErrNoConsent", domain.ReferralStatusAccepted, nil, nil, noConsent},
			{"ErrPurposeCriminalProceedings", domain.ReferralStatusAccepted, okKinds, []domain.ConsentPurpose{domain.ConsentPurposeCriminalProceedings}, noConsent},
			{"ErrOtherKind", domain.ReferralStatusAccepted, []domain.AgencyKind{domain.AgencyKindStateShelter}, services, noConsent},
			{"ErrServiceProviderKind", domain.ReferralStatusAccepted, []domain.AgencyKind{domain.AgencyKindNgoServiceProvider}, services, noConsent},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ok(e.db.Client.Referral.UpdateOneID(f.refT).SetStatus(tc.status).Save(sys()))(t)
				if tc.kinds != nil {
					id := addConsent(t, e.db.Client, f, f.vT, tc.kinds, tc.purposes)
					t.Cleanup(func() { _ = e.db.Client.Consent.DeleteOneID(id).Exec(sys()) })
				}
				// The row stays visible whatever the referral's status.
				e.readVictim(t, ngo, f.vT, tc.allowed...)
			})
		}

		t.Run("ErrNotReferred", func(t *testing.T) {
			// vD is referred to shelter-national, not to ngo-vatra: not even
			// the row is visible to ngo-vatra.
			e.wantHidden(t, ngo, "vD", f.vD)
			shelter := e.tok(t, "shelter-national", viewer.RoleCaseWorker)
			// shelter-national supports vD (svcD); conD names NGO_SHELTER
			// and shelter-national is a STATE_SHELTER.
			e.readVictim(t, shelter, f.vD, noConsent...)
			id := addConsent(t, e.db.Client, f, f.vD, []domain.AgencyKind{domain.AgencyKindStateShelter}, services)
			t.Cleanup(func() { _ = e.db.Client.Consent.DeleteOneID(id).Exec(sys()) })
			e.readVictim(t, shelter, f.vD, readable...)
		})
	})
}

// TestConsentPurposeOfEachRole: a person with two roles reads each field
// for the purposes of the roles whose lines open it, and the trail names
// the line that did. With the police's case workers allowed the victim's
// phone (purpose SERVICES) and its investigators the category (purpose
// CRIMINAL_PROCEEDINGS), a consent naming the police for SERVICES opens the
// phone to an investigator–case worker, not the address: a hunt found the
// address shown beside the phone, the phone's verdict (the purposes of
// both roles) served to the address (the investigator's alone), and the
// read filed under the investigator's line.
func TestConsentPurposeOfEachRole(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		e.do(t, e.tok(t, "onac", viewer.RoleAdmin), changePolicy, map[string]any{
			"add":    [][]string{{"p", "case_worker", "investigation", "Victim.phone", "read", "on_case"}},
			"reason": "Victim liaison officers at the police phone the victims of their cases",
		}).MustOK(t)
		addConsent(t, e.db.Client, f, f.vT, []domain.AgencyKind{domain.AgencyKindLocalPoliceDirectorate},
			[]domain.ConsentPurpose{domain.ConsentPurposeServices})
		liaison := e.s.Token(t, "police-tirane", viewer.RoleInvestigator, viewer.RoleCaseWorker)
		const query = `query ($id: ID!) { node(id: $id) { ... on Victim { pseudonym %s } } }`
		vars := map[string]any{"id": gid(f.vT)}
		for _, fields := range []string{"address", "phone address", "address phone"} {
			r := e.do(t, liaison, strings.ReplaceAll(query, "%s", fields), vars)
			wantErrors(t, r, forbidden("Victim.address", "node.address"))
			var d struct {
				Node struct{ Phone, Address *string }
			}
			r.Decode(t, &d)
			if d.Node.Address != nil {
				t.Errorf("%s: the address, which no consent for the investigator's purpose opens, is shown", fields)
			}
			if strings.Contains(fields, "phone") && (d.Node.Phone == nil || *d.Node.Phone != secret(f.pseudonym[f.vT], "phone")) {
				t.Errorf("%s: the phone, which the case worker's line and the consent open, is %v", fields, d.Node.Phone)
			}
		}
		rules, err := e.db.Client.AuditEvent.Query().Where(auditevent.Decision("ALLOWED"), auditevent.FieldsContains("Victim.phone")).
			Select(auditevent.FieldRule).Strings(sys())
		if err != nil || len(rules) != 2 {
			t.Fatalf("%d reads of the phone recorded (%v), want 2", len(rules), err)
		}
		for _, rule := range rules {
			if rule != "p, case_worker, investigation, Victim.phone, read, on_case" {
				t.Errorf("the phone's read is filed under %q, not the case worker's line that opened it", rule)
			}
		}
	})
}

// TestExplainNamesTheLineTheServerReadsUnder: explainAccess names, under
// each condition, the line of each role that reads under it with that
// role's purposes, as the server keeps them (docs/powers.md, "Consent
// purposes": the read is filed under the line of the role whose purpose
// the victim's consent names). A person is investigator and case worker
// at the police, both reading names on their cases; the victim's consent
// names only the case worker's purpose (SERVICES), so the server opens the
// name by the case worker's line and the audit trail files the read under
// it. explainAccess named only the first role's line, in its rules and
// for the condition, beside the purposes of both: a DPO checking an audit
// event's rule against explain was told that line does not allow the
// read, and the investigator's line was paired with a purpose (SERVICES)
// under which it opens nothing (a hunt).
func TestExplainNamesTheLineTheServerReadsUnder(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		caseWorkerLine := []string{"p", "case_worker", "investigation", "Victim:IDENTITY", "read", "on_case"}
		e.do(t, e.tok(t, "onac", viewer.RoleAdmin), `mutation ($a: [[String!]!]) { changePolicy(add: $a, reason: "Victim support officers inside police directorates read names on their cases") { __typename } }`,
			map[string]any{"a": [][]string{caseWorkerLine}}).MustOK(t)
		addConsent(t, e.db.Client, f, f.vT, []domain.AgencyKind{domain.AgencyKindLocalPoliceDirectorate}, []domain.ConsentPurpose{domain.ConsentPurposeServices})

		roles := []viewer.Role{viewer.RoleInvestigator, viewer.RoleCaseWorker}
		tok, err := e.s.Issuer.Issue("two-roles@police-tirane", "police-tirane", roles, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ Node struct{ LegalName *string } }
		e.do(t, tok, `query ($id: ID!) { node(id: $id) { ... on Victim { legalName } } }`, map[string]any{"id": gid(f.vT)}).MustOK(t).Decode(t, &d)
		if d.Node.LegalName == nil {
			t.Fatalf("the two-role person should read vT's name under the case worker's line and the consent for services")
		}
		var rule string
		for _, ev := range testdb.AuditTrail(t, e.db) {
			if ev.ActorSubject == "two-roles@police-tirane" && slices.Contains(ev.Fields, "Victim.legalName") && ev.Decision == "ALLOWED" {
				rule = ev.Rule
			}
		}
		if rule != "p, case_worker, investigation, Victim:IDENTITY, read, on_case" {
			t.Fatalf("the read is filed under %q, want the case worker's line", rule)
		}

		var a struct {
			ExplainAccess struct {
				Rules      []string
				Conditions []struct {
					Condition, Rule string
					Purposes        []string
				}
			}
		}
		e.do(t, e.tok(t, "onac", viewer.RoleDPO), `query ($q: AccessQuestion!) { explainAccess(question: $q) { rules conditions { condition rule purposes } } }`,
			map[string]any{"q": map[string]any{"roles": roles, "agencyKind": "LOCAL_POLICE_DIRECTORATE", "field": "Victim.legalName"}}).MustOK(t).Decode(t, &a)
		if !slices.Contains(a.ExplainAccess.Rules, rule) {
			t.Errorf("explainAccess's rules %q do not name %q, the line the server read the name under and the audit trail names", a.ExplainAccess.Rules, rule)
		}
		for _, c := range a.ExplainAccess.Conditions {
			if c.Condition == "on_case" && c.Rule != rule && slices.Contains(c.Purposes, "SERVICES") {
				t.Errorf("explainAccess pairs on_case's line %q with the purposes %v; that line opens nothing under a consent for SERVICES (the server reads under %q)", c.Rule, c.Purposes, rule)
			}
		}
	})
}
