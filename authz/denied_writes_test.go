package authz_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// 4. Denied writes change nothing
// ---------------------------------------------------------------------------

func TestDeniedWrites(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		c := e.db.Client
		analyst := e.tok(t, "onac", viewer.RoleAnalyst)
		police := e.tok(t, "police-tirane", viewer.RoleInvestigator)
		durres := e.tok(t, "police-durres", viewer.RoleInvestigator)
		judge := e.tok(t, "court-tirane", viewer.RoleJudge)

		victimBefore := ok(c.Victim.Get(sys(), f.vT))(t)
		caseBefore := ok(c.CaseFile.Get(sys(), f.caseT))(t)
		checkVictim := func(t *testing.T) {
			t.Helper()
			v := ok(c.Victim.Get(sys(), f.vT))(t)
			if v.Version != victimBefore.Version || v.HealthNotes == nil || *v.HealthNotes != *victimBefore.HealthNotes ||
				v.LegalName == nil || *v.LegalName != *victimBefore.LegalName || !v.UpdatedAt.Equal(victimBefore.UpdatedAt) {
				t.Errorf("vT changed: version %d → %d, healthNotes %v, legalName %v", victimBefore.Version, v.Version, v.HealthNotes, v.LegalName)
			}
		}
		checkCase := func(t *testing.T) {
			t.Helper()
			cf := ok(c.CaseFile.Get(sys(), f.caseT))(t)
			if cf.Version != caseBefore.Version || cf.Title != caseBefore.Title || cf.Stage != caseBefore.Stage || !cf.UpdatedAt.Equal(caseBefore.UpdatedAt) {
				t.Errorf("caseT changed: version %d → %d, title %q, stage %s", caseBefore.Version, cf.Version, cf.Title, cf.Stage)
			}
		}
		now := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

		for _, tc := range []struct {
			name  string
			token string
			query string
			vars  map[string]any
			code  string
			field string
			// missingVars, when set, is the same request naming ids that
			// do not exist: the answer must be the same but for the ids.
			missingVars map[string]any
			masks       [2][]string
		}{
			{
				name: "ErrAnalystOpensCase", token: analyst,
				query: `mutation ($in: CreateCaseInput!) { openCase(input: $in) { id } }`,
				vars: map[string]any{"in": map[string]any{"reference": "TIR-2026-0099", "title": "Should not exist",
					"region": "TIRANE", "leadAgencyID": gid(f.id(t, "police-tirane"))}},
				code: "FORBIDDEN", field: "Mutation.openCase",
			},
			{
				name: "ErrInvestigatorWritesHealth", token: police,
				query: `mutation ($id: ID!, $v: Int!, $in: UpdateVictimInput!) { updateVictim(id: $id, expectedVersion: $v, input: $in) { id version } }`,
				vars:  map[string]any{"id": gid(f.vT), "v": victimBefore.Version, "in": map[string]any{"healthNotes": "x"}},
				code:  "FORBIDDEN", field: "Victim.healthNotes",
			},
			{
				name: "ErrInvestigatorClearsHealth", token: police,
				query: `mutation ($id: ID!, $v: Int!, $in: UpdateVictimInput!) { updateVictim(id: $id, expectedVersion: $v, input: $in) { id version } }`,
				vars:  map[string]any{"id": gid(f.vT), "v": victimBefore.Version, "in": map[string]any{"legalName": "New name", "clearHealthNotes": true}},
				code:  "FORBIDDEN", field: "Victim.healthNotes",
			},
			{
				name: "ErrInvestigatorWritesTestimonyInline", token: police,
				query: `mutation ($id: ID!, $v: Int!) { updateVictim(id: $id, expectedVersion: $v, input: {testimonySummary: "x"}) { id version } }`,
				vars:  map[string]any{"id": gid(f.vT), "v": victimBefore.Version},
				code:  "FORBIDDEN", field: "Victim.testimonySummary",
			},
			{
				name: "ErrInvestigatorWritesShelterInNestedVariable", token: police,
				query: `mutation ($id: ID!, $v: Int!, $s: String) { updateVictim(id: $id, expectedVersion: $v, input: {shelterLocation: $s}) { id version } }`,
				vars:  map[string]any{"id": gid(f.vT), "v": victimBefore.Version, "s": "x"},
				code:  "FORBIDDEN", field: "Victim.shelterLocation",
			},
			{
				name: "ErrJudgeRegistersProsecution", token: judge,
				query: `mutation ($in: CreateProsecutionInput!) { registerProsecution(input: $in) { id } }`,
				vars: map[string]any{"in": map[string]any{"registrationNumber": "PR-TIR-0099/2026", "registeredAt": now,
					"caseID": gid(f.caseT), "officeID": gid(f.id(t, "prosecution-tirane"))}},
				code: "FORBIDDEN", field: "Mutation.registerProsecution",
			},
			{
				name: "ErrOutOfScopeUpdateCase", token: durres,
				query:       `mutation ($id: ID!, $v: Int!, $in: UpdateCaseInput!) { updateCase(id: $id, expectedVersion: $v, input: $in) { id version title } }`,
				vars:        map[string]any{"id": gid(f.caseT), "v": caseBefore.Version, "in": map[string]any{"title": "Taken over"}},
				missingVars: map[string]any{"id": gid(missing(f.caseT)), "v": caseBefore.Version, "in": map[string]any{"title": "Taken over"}},
				masks:       [2][]string{{gid(f.caseT)}, {gid(missing(f.caseT))}},
				code:        "NOT_FOUND",
			},
			{
				name: "ErrOutOfScopeMoveCaseStage", token: durres,
				query:       `mutation ($id: ID!, $v: Int!) { moveCaseStage(id: $id, expectedVersion: $v, stage: REGISTERED) { id stage } }`,
				vars:        map[string]any{"id": gid(f.caseT), "v": caseBefore.Version},
				missingVars: map[string]any{"id": gid(missing(f.caseT)), "v": caseBefore.Version},
				masks:       [2][]string{{gid(f.caseT)}, {gid(missing(f.caseT))}},
				code:        "NOT_FOUND",
			},
			{
				name: "ErrOutOfScopeUpdateVictim", token: durres,
				query:       `mutation ($id: ID!, $v: Int!, $in: UpdateVictimInput!) { updateVictim(id: $id, expectedVersion: $v, input: $in) { id version } }`,
				vars:        map[string]any{"id": gid(f.vT), "v": victimBefore.Version, "in": map[string]any{"legalName": "x"}},
				missingVars: map[string]any{"id": gid(missing(f.vT)), "v": victimBefore.Version, "in": map[string]any{"legalName": "x"}},
				masks:       [2][]string{{gid(f.vT)}, {gid(missing(f.vT))}},
				code:        "NOT_FOUND",
			},
			{
				name: "ErrOutOfScopeLinkVictim", token: durres,
				query:       `mutation ($v: ID!, $c: ID!) { linkVictimToCase(victimID: $v, caseID: $c) { id } }`,
				vars:        map[string]any{"v": gid(f.vD), "c": gid(f.caseT)},
				missingVars: map[string]any{"v": gid(f.vD), "c": gid(missing(f.caseT))},
				masks:       [2][]string{{gid(f.caseT)}, {gid(missing(f.caseT))}},
				code:        "BAD_USER_INPUT", field: "caseID",
			},
			{
				name: "ErrOutOfScopeAssignSelf", token: durres,
				query:       `mutation ($c: ID!, $a: ID!) { assignAgencyToCase(caseID: $c, agencyID: $a, part: INVESTIGATING) { id } }`,
				vars:        map[string]any{"c": gid(f.caseT), "a": gid(f.id(t, "police-durres"))},
				missingVars: map[string]any{"c": gid(missing(f.caseT)), "a": gid(f.id(t, "police-durres"))},
				masks:       [2][]string{{gid(f.caseT)}, {gid(missing(f.caseT))}},
				code:        "BAD_USER_INPUT", field: "caseID",
			},
			{
				name: "ErrOutOfScopeRecordSuspect", token: durres,
				query: `mutation ($in: CreateSuspectInput!) { recordSuspect(input: $in) { id } }`,
				vars: map[string]any{"in": map[string]any{"pseudonym": "S-2026-0099", "sex": "MALE", "nationality": "AL",
					"role": "RECRUITER", "caseID": gid(f.caseT)}},
				code: "BAD_USER_INPUT", field: "input.caseID",
			},
			{
				name: "ErrOutOfScopeRecordConsent", token: durres,
				query: `mutation ($in: CreateConsentInput!) { recordConsent(input: $in) { id } }`,
				vars: map[string]any{"in": map[string]any{"agencyKinds": []string{"LOCAL_POLICE_DIRECTORATE"},
					"purposes": []string{"CRIMINAL_PROCEEDINGS"}, "givenBy": "VICTIM", "givenAt": now, "victimID": gid(f.vT)}},
				code: "BAD_USER_INPUT", field: "input.victimID",
			},
			{
				name: "ErrOutOfScopeEmergency", token: durres,
				query: requestEmergency,
				vars:  map[string]any{"case": gid(f.caseT), "j": justification, "h": 1},
				code:  "NOT_FOUND",
			},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := counts(t, c)
				r := e.do(t, tc.token, tc.query, tc.vars)
				wantRefusal(t, r, tc.code, tc.field)
				if r.Status != http.StatusOK {
					t.Errorf("status %d, want 200", r.Status)
				}
				unchanged(t, c, before)
				checkVictim(t)
				checkCase(t)
				if n := ok(c.CaseFile.Query().Where(casefile.ReferenceIn("TIR-2026-0099")).Count(sys()))(t); n != 0 {
					t.Errorf("a refused openCase created the case")
				}
				if tc.missingVars != nil {
					m := e.do(t, tc.token, tc.query, tc.missingVars)
					if a, b := masked(r, tc.masks[0]...), masked(m, tc.masks[1]...); a != b {
						t.Errorf("out of scope answers unlike nonexistent:\n hidden  %s\n missing %s", a, b)
					}
				}
			})
		}
	})
}
