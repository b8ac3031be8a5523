package authz_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// eventsOf returns the events of the request whose response is r.
func eventsOf(t *testing.T, db *database.DB, requestID string) []audit.Event {
	t.Helper()
	var out []audit.Event
	for _, e := range testdb.AuditTrail(t, db) {
		if e.RequestID == requestID {
			out = append(out, e)
		}
	}
	return out
}

func findEvent(events []audit.Event, match func(audit.Event) bool) (audit.Event, bool) {
	i := slices.IndexFunc(events, match)
	if i < 0 {
		return audit.Event{}, false
	}
	return events[i], true
}

func dump(events []audit.Event) string {
	b, _ := json.MarshalIndent(events, "", "  ")
	return string(b)
}

// TestAuditEventContent checks what each kind of event records, from the
// outside: real requests, then the rows the trail holds.
func TestAuditEventContent(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		prosecutor := e.tok(t, "prosecution-tirane", viewer.RoleProsecutor)
		prosecutorSubject := subject("prosecution-tirane", viewer.RoleProsecutor)

		t.Run("ReadAndRefusal", func(t *testing.T) {
			r := e.do(t, prosecutor, `query VictimFile($id: ID!) { node(id: $id) { ... on Victim { pseudonym legalName dateOfBirth healthNotes } } }`,
				map[string]any{"id": gid(f.vT)})
			id := r.Header.Get("X-Request-Id")
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q: no cache may serve a disclosure again without its audit", cc)
			}
			events := eventsOf(t, e.db, id)
			read, ok := findEvent(events, func(ev audit.Event) bool { return ev.Decision == audit.Allowed })
			if !ok {
				t.Fatalf("no ALLOWED event for request %s:\n%s", id, dump(testdb.AuditTrail(t, e.db)))
			}
			if read.Kind != audit.FieldAccess || read.EntityType != "Victim" || read.EntityID != f.vT ||
				!slices.Equal(read.Fields, []string{"Victim.legalName", "Victim.dateOfBirth"}) {
				t.Errorf("read event = %s", dump([]audit.Event{read}))
			}
			if read.ActorSubject != prosecutorSubject || read.ActorAgency != "prosecution-tirane" ||
				read.ActorAgencyID != f.id(t, "prosecution-tirane") || !slices.Equal(read.ActorRoles, []string{"prosecutor"}) {
				t.Errorf("read event's actor = %q %q %d %v", read.ActorSubject, read.ActorAgency, read.ActorAgencyID, read.ActorRoles)
			}
			if read.Operation != "query VictimFile" || read.ClientAddress != "127.0.0.1" || read.OccurredAt.IsZero() {
				t.Errorf("read event's request = %q %q %v", read.Operation, read.ClientAddress, read.OccurredAt)
			}
			if !strings.HasPrefix(read.Rule, "p, prosecutor, ") || !strings.HasSuffix(read.Rule, ", read, proceedings") {
				t.Errorf("read event's rule = %q, want the casbin line that allowed it", read.Rule)
			}
			refused, ok := findEvent(events, func(ev audit.Event) bool { return ev.Decision == audit.Denied })
			if !ok || refused.EntityID != f.vT || !slices.Equal(refused.Fields, []string{"Victim.healthNotes"}) ||
				refused.Reason == "" || refused.Rule != "" {
				t.Errorf("refusal event = %s", dump(events))
			}
			if len(events) != 2 {
				t.Errorf("want 2 events (one per decision on the record), got %s", dump(events))
			}
		})

		t.Run("Mutation", func(t *testing.T) {
			const newPhone = "+355 69 000 1234"
			var v struct{ Node struct{ Version int } }
			e.do(t, prosecutor, `query ($id: ID!) { node(id: $id) { ... on Victim { version } } }`, map[string]any{"id": gid(f.vT)}).MustOK(t).Decode(t, &v)
			r := e.do(t, prosecutor, `mutation ($id: ID!, $v: Int!) { updateVictim(id: $id, expectedVersion: $v, input: {phone: "`+newPhone+`", nationality: "IT"}) { id } }`,
				map[string]any{"id": gid(f.vT), "v": v.Node.Version}).MustOK(t)
			events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			m, ok := findEvent(events, func(ev audit.Event) bool { return ev.Kind == audit.Mutation })
			if !ok || m.EntityType != "Victim" || m.EntityID != f.vT || m.Decision != audit.Allowed ||
				!slices.Contains(m.Fields, "Victim.phone") || !slices.Contains(m.Fields, "Victim.nationality") ||
				m.Operation != "mutation updateVictim" || m.ActorSubject != prosecutorSubject {
				t.Errorf("mutation event = %s", dump(events))
			}
			if all := dump(testdb.AuditTrail(t, e.db)); strings.Contains(all, newPhone) || strings.Contains(all, secret(f.pseudonym[f.vT], "legalName")) {
				t.Errorf("the trail holds a sensitive value")
			}
		})

		t.Run("Link", func(t *testing.T) {
			police := e.tok(t, "police-tirane", viewer.RoleInvestigator)
			r := e.do(t, police, `mutation ($v: ID!, $c: ID!) { linkVictimToCase(victimID: $v, caseID: $c) { id } }`,
				map[string]any{"v": gid(f.vT2), "c": gid(f.caseT)}).MustOK(t)
			events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			onVictim, ok1 := findEvent(events, func(ev audit.Event) bool { return ev.EntityType == "Victim" && ev.EntityID == f.vT2 })
			onCase, ok2 := findEvent(events, func(ev audit.Event) bool { return ev.EntityType == "Case" && ev.EntityID == f.caseT })
			if !ok1 || !ok2 || !slices.Equal(onVictim.Fields, []string{"Victim.cases"}) || !slices.Equal(onCase.Fields, []string{"Case.victims"}) ||
				!strings.Contains(onVictim.Detail, gid(f.caseT)) || !strings.Contains(onCase.Detail, gid(f.vT2)) {
				t.Errorf("a link is recorded on both records: %s", dump(events))
			}
		})

		t.Run("RecordsOutsideRows", func(t *testing.T) {
			durres := e.tok(t, "police-durres", viewer.RoleInvestigator)
			r := e.do(t, durres, `query ($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": gid(f.vT)})
			if !slices.Equal(r.Codes(), []string{"NOT_FOUND"}) {
				t.Fatalf("want NOT_FOUND: %s", r.Body)
			}
			events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if len(events) != 1 || events[0].Kind != audit.RecordRefused || events[0].EntityType != "Victim" || events[0].EntityID != f.vT ||
				events[0].Decision != audit.Denied || events[0].ActorAgency != "police-durres" {
				t.Errorf("node outside the rows: %s", dump(events))
			}
			r = e.do(t, durres, `query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": gids(f.vD, f.vT)})
			events = eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if len(events) != 1 || events[0].Kind != audit.RecordRefused || events[0].EntityID != f.vT {
				t.Errorf("nodes, one outside the rows: %s\n%s", dump(events), r.Body)
			}
			// An id that names nothing is recorded alike, typed by its range.
			r = e.do(t, durres, `query ($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": gid(missing(f.vT))})
			events = eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if len(events) != 1 || events[0].Kind != audit.RecordRefused || events[0].EntityType != "Victim" || events[0].EntityID != missing(f.vT) {
				t.Errorf("an id that names nothing: %s", dump(events))
			}
			// The DPOs of the victim's agencies see who probed for it; the
			// prober's own agency's DPO sees it too.
			for _, agency := range []string{"police-tirane", "police-durres"} {
				var p auditPage
				e.do(t, e.tok(t, agency, viewer.RoleDPO), auditQuery, map[string]any{"where": map[string]any{"kind": "RECORD_REFUSED", "entity": gid(f.vT)}}).MustOK(t).Decode(t, &p)
				if len(p.AuditEvents.Edges) != 2 {
					t.Errorf("%s's DPO sees %d refusals of vT, want 2 (node, nodes)", agency, len(p.AuditEvents.Edges))
				}
			}
			// Under an alias, the ids and the mutation are still the
			// field's: the alias is the client's name for it.
			r = e.do(t, durres, `query ($ids: [ID!]!) { x: nodes(ids: $ids) { id } }`, map[string]any{"ids": gids(f.vD, f.vT)})
			events = eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if len(events) != 1 || events[0].Kind != audit.RecordRefused || events[0].EntityType != "Victim" || events[0].EntityID != f.vT {
				t.Errorf("aliased nodes, one outside the rows: %s\n%s", dump(events), r.Body)
			}
			r = e.do(t, durres, `mutation ($id: ID!) { u: updateVictim(id: $id, expectedVersion: 1, input: {nationality: "IT"}) { id } }`, map[string]any{"id": gid(f.vT)})
			events = eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if !slices.Equal(r.Codes(), []string{"NOT_FOUND"}) || len(events) != 1 || events[0].Kind != audit.Mutation || events[0].Decision != audit.Denied ||
				events[0].EntityType != "Victim" || events[0].EntityID != f.vT || !slices.Equal(events[0].Fields, []string{"Mutation.updateVictim"}) {
				t.Errorf("a mutation of a record outside the rows: %s\n%s", dump(events), r.Body)
			}
		})

		t.Run("CommittedMutationWithRefusedPayload", func(t *testing.T) {
			// The payload asks for a field the prosecutor may not read: the
			// mutation is still made (docs/mutations.md), and the trail
			// holds its change, the legal name read in its payload and the
			// refusal of the health notes.
			var v struct{ Node struct{ Version int } }
			e.do(t, prosecutor, `query ($id: ID!) { node(id: $id) { ... on Victim { version } } }`, map[string]any{"id": gid(f.vT)}).MustOK(t).Decode(t, &v)
			r := e.do(t, prosecutor, `mutation ($id: ID!, $v: Int!) { updateVictim(id: $id, expectedVersion: $v, input: {nationality: "FR"}) { version legalName healthNotes } }`,
				map[string]any{"id": gid(f.vT), "v": v.Node.Version})
			var data struct{ UpdateVictim *struct{ Version int } }
			if err := json.Unmarshal(r.Data, &data); err != nil || data.UpdateVictim == nil || data.UpdateVictim.Version != v.Node.Version+1 ||
				!slices.Equal(r.Codes(), []string{"FORBIDDEN"}) {
				t.Fatalf("want the mutation made and healthNotes refused: %s", r.Body)
			}
			events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			_, changed := findEvent(events, func(e audit.Event) bool {
				return e.Kind == audit.Mutation && e.Decision == audit.Allowed && e.EntityID == f.vT
			})
			_, read := findEvent(events, func(e audit.Event) bool {
				return e.Kind == audit.FieldAccess && e.Decision == audit.Allowed && slices.Equal(e.Fields, []string{"Victim.legalName"})
			})
			_, refused := findEvent(events, func(e audit.Event) bool {
				return e.Kind == audit.FieldAccess && e.Decision == audit.Denied && slices.Equal(e.Fields, []string{"Victim.healthNotes"})
			})
			if !changed || !read || !refused || len(events) != 3 {
				t.Errorf("want the change, the read and the refusal: %s", dump(events))
			}
		})

		t.Run("RefusedMutation", func(t *testing.T) {
			judge := e.tok(t, "court-tirane", viewer.RoleJudge)
			r := e.do(t, judge, `mutation { changePolicy(add: [["p","judge","court","Victim.phone","read","any"]], reason: "judges want phones") { added } }`, nil)
			events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if len(events) != 1 || events[0].Kind != audit.Mutation || events[0].Decision != audit.Denied ||
				!slices.Equal(events[0].Fields, []string{"Mutation.changePolicy"}) || events[0].Reason == "" {
				t.Errorf("refused mutation events = %s", dump(events))
			}
		})

		t.Run("PolicyChange", func(t *testing.T) {
			admin := e.tok(t, "onac", viewer.RoleAdmin)
			line := []string{"p", "judge", "court", "Victim.phone", "read", "on_case"}
			const reason = "Judges call victims to schedule hearings."
			r := e.do(t, admin, `mutation ($add: [[String!]!]) { changePolicy(add: $add, reason: "`+reason+`") { added } }`,
				map[string]any{"add": [][]string{line}}).MustOK(t)
			events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			pc, ok := findEvent(events, func(ev audit.Event) bool { return ev.Kind == audit.PolicyChange })
			if !ok {
				t.Fatalf("no POLICY_CHANGE event: %s", dump(events))
			}
			var detail struct {
				Reason        string
				Added         [][]string
				Before, After [][]string
			}
			if err := json.Unmarshal([]byte(pc.Detail), &detail); err != nil {
				t.Fatalf("detail %q: %v", pc.Detail, err)
			}
			has := func(ls [][]string) bool {
				return slices.ContainsFunc(ls, func(l []string) bool { return slices.Equal(l, line) })
			}
			if pc.Reason != reason || detail.Reason != reason || !has(detail.Added) || has(detail.Before) || !has(detail.After) ||
				len(detail.After) != len(detail.Before)+1 || pc.ActorAgency != "onac" {
				t.Errorf("policy change event = %s", dump([]audit.Event{pc}))
			}
		})

		t.Run("Emergency", func(t *testing.T) {
			police := e.tok(t, "police-durres", viewer.RoleInvestigator)
			const why = "Victim missing from shelter, life at risk tonight."
			r := e.do(t, police, `mutation ($c: ID!) { requestEmergencyAccess(caseID: $c, justification: "`+why+`", hours: 1) { id } }`,
				map[string]any{"c": gid(f.caseD)}).MustOK(t)
			var g struct{ RequestEmergencyAccess struct{ ID string } }
			r.Decode(t, &g)
			events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if ev, ok := findEvent(events, func(ev audit.Event) bool { return ev.Kind == audit.EmergencyGranted }); !ok ||
				ev.Justification != why || ev.EntityType != "Case" || ev.EntityID != f.caseD || !ev.Emergency ||
				!strings.Contains(ev.Detail, `"grant":`+g.RequestEmergencyAccess.ID) {
				t.Errorf("grant events = %s", dump(events))
			}
			r = e.do(t, police, `query ($id: ID!) { node(id: $id) { ... on Victim { legalName } } }`, map[string]any{"id": gid(f.vD)}).MustOK(t)
			events = eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if len(events) != 1 || !events[0].Emergency || events[0].Justification != why || events[0].Decision != audit.Allowed ||
				!strings.Contains(events[0].Rule, "emergency access (grant "+g.RequestEmergencyAccess.ID) {
				t.Errorf("emergency read events = %s", dump(events))
			}
			dpo := e.tok(t, "police-durres", viewer.RoleDPO)
			r = e.do(t, dpo, `mutation ($id: ID!) { revokeEmergencyAccess(id: $id) { id } }`, map[string]any{"id": g.RequestEmergencyAccess.ID}).MustOK(t)
			events = eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if ev, ok := findEvent(events, func(ev audit.Event) bool { return ev.Kind == audit.EmergencyRevoked }); !ok ||
				ev.ActorSubject != subject("police-durres", viewer.RoleDPO) || ev.EntityID != f.caseD || !ev.Emergency {
				t.Errorf("revoke events = %s", dump(events))
			}
		})

		t.Run("NoCredentialsNotRecorded", func(t *testing.T) {
			// A request with no credentials tried nothing: it is logged,
			// not added to the append-only trail (anyone could fill it).
			before := len(testdb.AuditTrail(t, e.db))
			// (OPTIONS needs none: it is answered, 204, before any check.)
			for method, status := range map[string]int{http.MethodPost: http.StatusUnauthorized, http.MethodOptions: http.StatusNoContent} {
				req, err := http.NewRequest(method, e.s.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { subject } }"}`))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				if r := e.s.Send(t, req); r.Status != status {
					t.Fatalf("%s without credentials: status %d, want %d", method, r.Status, status)
				}
			}
			if after := len(testdb.AuditTrail(t, e.db)); after != before {
				t.Errorf("requests without credentials added %d events to the trail", after-before)
			}
		})

		// A token a trusted key signed, refused for its claims: someone
		// who holds one tried it. (A forged or malformed token, which
		// anyone can send, is logged, not recorded:
		// TestAuthenticationRefusals.)
		t.Run("RefusedToken", func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, e.s.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { subject } }"}`))
			if err != nil {
				t.Fatal(err)
			}
			expired := testserver.DevClaims("police-tirane", "investigator")
			expired["iat"] = time.Now().Add(-3 * time.Hour).Unix()
			expired["nbf"] = time.Now().Add(-3 * time.Hour).Unix()
			expired["exp"] = time.Now().Add(-2 * time.Hour).Unix()
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+testserver.Sign(t, e.s.Key, expired))
			r := e.s.Send(t, req)
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("status %d", r.Status)
			}
			events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if len(events) != 1 || events[0].Kind != audit.AuthenticationRefused || events[0].Decision != audit.Denied ||
				events[0].ClientAddress != "127.0.0.1" || events[0].Reason == "" || events[0].ActorSubject != "" {
				t.Errorf("refused token events = %s", dump(events))
			}
		})

		if v, err := audit.Verify(context.Background(), e.db.Client); err != nil || !v.Valid || v.Checked != int64(len(testdb.AuditTrail(t, e.db))) {
			t.Errorf("the chain does not verify: %+v %v", v, err)
		}
	})
}

// TestTrailPowersRecorded: a caller without the power who asks for the
// audit trail is refused and recorded (a refused field, named), and a
// verification of the trail is recorded as a read of it, with what the
// verifier was told.
func TestTrailPowersRecorded(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		// Twice under two aliases: one refusal, one event.
		r := e.do(t, e.tok(t, "police-tirane", viewer.RoleInvestigator), `{ a: auditEvents(first: 1) { edges { node { seq } } } b: auditEvents(first: 2) { edges { node { seq } } } }`, nil)
		if !slices.Contains(r.Codes(), "FORBIDDEN") {
			t.Fatalf("an investigator reading the trail: want FORBIDDEN, got %s", r.Body)
		}
		events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
		if len(events) != 1 || events[0].Kind != audit.FieldAccess || events[0].Decision != audit.Denied ||
			!slices.Equal(events[0].Fields, []string{"Query.auditEvents"}) || events[0].ActorAgency != "police-tirane" {
			t.Errorf("the refused read of the trail: %s", dump(events))
		}

		r = e.do(t, e.tok(t, "onac", viewer.RoleDPO), `{ verifyAuditTrail { valid checked } }`, nil).MustOK(t)
		events = eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
		if len(events) != 1 || events[0].Kind != audit.TrailRead || !strings.Contains(events[0].Detail, `"verify":true`) ||
			!strings.Contains(events[0].Detail, `"valid":true`) {
			t.Errorf("the verification of the trail: %s", dump(events))
		}
	})
}
