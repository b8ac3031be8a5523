package authz_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// breakAuditWrites makes every insert into the audit trail fail, as a full
// disk or a lost table would; the returned function mends it.
func breakAuditWrites(t *testing.T, db *database.DB) (mend func()) {
	t.Helper()
	stmts, undo := testdb.AuditBreakage(db.Dialect)
	execEach(t, db.SQL, "breaking the audit trail", stmts)
	return func() { execEach(t, db.SQL, "mending the audit trail", undo) }
}

// execEach runs stmts in order on db (a database or a transaction), and
// fails the test at the first that fails, saying what they were doing.
func execEach(t *testing.T, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, doing string, stmts []string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s (%s): %v", doing, s, err)
		}
	}
}

// TestAuditBeforeAnswer breaks the audit write: sensitive values are
// withheld with AUDIT_UNAVAILABLE while the rest of the answer stands, and
// a mutation does not happen.
func TestAuditBeforeAnswer(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		prosecutor := e.tok(t, "prosecution-tirane", viewer.RoleProsecutor)
		const read = `query ($id: ID!) { node(id: $id) { ... on Victim { pseudonym legalName healthNotes version nationality } } agencies(first: 1) { totalCount } }`
		const readAllowed = `query ($id: ID!) { node(id: $id) { ... on Victim { pseudonym legalName version nationality } } }`
		legalName := secret(f.pseudonym[f.vT], "legalName")
		type victim struct {
			Pseudonym, Nationality string
			LegalName, HealthNotes *string
			Version                int
		}
		var before struct{ Node victim }
		e.do(t, prosecutor, read, map[string]any{"id": gid(f.vT)}).Decode(t, &before)
		if before.Node.LegalName == nil || *before.Node.LegalName != legalName {
			t.Fatalf("the prosecutor should read the legal name before the break: %+v", before)
		}
		var brokenRequests []string
		mend := breakAuditWrites(t, e.db)
		t.Run("QueryWithholds", func(t *testing.T) {
			r := e.do(t, prosecutor, read, map[string]any{"id": gid(f.vT)})
			if r.Status != 200 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if strings.Contains(string(r.Body), legalName) {
				t.Fatalf("the legal name left without its audit record: %s", r.Body)
			}
			var got struct {
				Node     victim
				Agencies struct{ TotalCount int }
			}
			r.Decode(t, &got)
			if got.Node.Pseudonym != f.pseudonym[f.vT] || got.Node.LegalName != nil || got.Node.HealthNotes != nil || got.Agencies.TotalCount == 0 {
				t.Errorf("want the pseudonym and agencies kept and sensitive fields null: %s", r.Body)
			}
			brokenRequests = append(brokenRequests, r.Header.Get("X-Request-Id"))
			// nationality is a quasi-identifier: sensitive too. The
			// refusal of healthNotes is an event as a read is: without it,
			// the refusal is withheld too.
			wantErrors(t, r, "AUDIT_UNAVAILABLE  node.legalName", "AUDIT_UNAVAILABLE  node.nationality", "AUDIT_UNAVAILABLE  node.healthNotes")
			if strings.Contains(string(r.Body), `"reason"`) {
				t.Errorf("a refusal's reason left without its event: %s", r.Body)
			}
			for _, er := range r.Errors {
				if er.Code() == "AUDIT_UNAVAILABLE" && (er.Extensions["requestId"] != r.Header.Get("X-Request-Id") || strings.Contains(er.Message, "storage failed")) {
					t.Errorf("AUDIT_UNAVAILABLE should carry the request id and no internal detail: %+v", er)
				}
			}
		})
		t.Run("NotedReadsWithheld", func(t *testing.T) {
			// Reads of the audit trail and of statistics are recorded as a
			// whole (a note), not field by field: without their record,
			// their answers are not sent either. Both fields are non-null,
			// so the whole answer goes.
			for _, x := range []struct{ token, query, leak string }{
				{e.tok(t, "onac", viewer.RoleDPO), `{ auditEvents(first: 3) { edges { node { seq kind } } } }`, `"seq"`},
				{e.tok(t, "onac", viewer.RoleCoordinator), `{ caseStatistics(groupBy: [REGION]) { total { count } } }`, `"count"`},
			} {
				r := e.do(t, x.token, x.query, nil)
				brokenRequests = append(brokenRequests, r.Header.Get("X-Request-Id"))
				if r.Status != 200 || string(r.Data) != "null" || strings.Contains(string(r.Body), x.leak) || !slices.Contains(r.Codes(), "AUDIT_UNAVAILABLE") {
					t.Errorf("%s: want data null and AUDIT_UNAVAILABLE, got %d:\n%s", x.query, r.Status, r.Body)
				}
			}
		})
		t.Run("MutationDoesNotHappen", func(t *testing.T) {
			rows := counts(t, e.db.Client)
			r := e.do(t, prosecutor, `mutation ($id: ID!, $v: Int!) { updateVictim(id: $id, expectedVersion: $v, input: {nationality: "IT"}) { id version } }`,
				map[string]any{"id": gid(f.vT), "v": before.Node.Version})
			brokenRequests = append(brokenRequests, r.Header.Get("X-Request-Id"))
			// A mutation not made is null, with its own error (docs/mutations.md).
			if codes := r.Codes(); !slices.Equal(codes, []string{"AUDIT_UNAVAILABLE"}) || string(r.Data) != `{"updateVictim":null}` {
				t.Errorf("want only AUDIT_UNAVAILABLE and the mutation null, got %s", r.Body)
			}
			unchanged(t, e.db.Client, rows)
			mend()
			var after struct{ Node victim }
			e.do(t, prosecutor, readAllowed, map[string]any{"id": gid(f.vT)}).MustOK(t).Decode(t, &after)
			if after.Node.Version != before.Node.Version || after.Node.Nationality != before.Node.Nationality {
				t.Errorf("the victim changed although its audit record could not be written: %+v → %+v", before.Node, after.Node)
			}
			if after.Node.LegalName == nil || *after.Node.LegalName != legalName {
				t.Errorf("once mended, the value is served again: %+v", after.Node)
			}
		})
		// Nothing of the requests made while broken was written, and the
		// chain holds.
		if len(brokenRequests) != 4 {
			t.Fatalf("requests made while broken: %v", brokenRequests)
		}
		for _, id := range brokenRequests {
			if ev := eventsOf(t, e.db, id); len(ev) != 0 {
				t.Errorf("request %s, made while the trail was broken, has events: %s", id, dump(ev))
			}
		}
		if v, err := audit.Verify(context.Background(), e.db.Client); err != nil || !v.Valid {
			t.Errorf("the chain does not verify: %+v %v", v, err)
		}
	})
}

type auditPage struct {
	AuditEvents struct {
		Edges []struct {
			Cursor string
			Node   struct {
				Seq                     int
				Kind                    string
				ActorAgency, EntityType string
				Entity                  *string
				Entities                []string
				Fields                  []string
				Decision                *string
				Emergency               bool
			}
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
}

const auditQuery = `query ($where: AuditTrailFilter, $first: Int, $after: Cursor, $oldest: Boolean) {
  auditEvents(where: $where, first: $first, after: $after, oldestFirst: $oldest) {
    edges { cursor node { seq kind actorAgency entityType entity entities fields decision emergency } }
    pageInfo { hasNextPage endCursor }
  }
}`

// TestAuditTrailReading checks who reads the trail and what each DPO sees,
// and the filters.
func TestAuditTrailReading(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		const readVictim = `query ($id: ID!) { node(id: $id) { ... on Victim { legalName healthNotes } } }`
		start := time.Now().Add(-time.Second)
		// A Tirana prosecutor reads a victim of a Tirana case; a Durrës
		// prosecutor one of a Durrës case; a Durrës investigator reads a
		// Tirana victim they may not see (no event: no row, no field).
		e.do(t, e.tok(t, "prosecution-tirane", viewer.RoleProsecutor), readVictim, map[string]any{"id": gid(f.vT)}).Decode(t, &struct{}{})
		e.do(t, e.tok(t, "prosecution-durres", viewer.RoleProsecutor), readVictim, map[string]any{"id": gid(f.vD)}).Decode(t, &struct{}{})

		list := func(t *testing.T, token string, where map[string]any) auditPage {
			t.Helper()
			var p auditPage
			e.do(t, token, auditQuery, map[string]any{"where": where, "first": 100}).MustOK(t).Decode(t, &p)
			return p
		}
		about := func(p auditPage) (entities []string) {
			for _, ed := range p.AuditEvents.Edges {
				for _, id := range ed.Node.Entities {
					if !slices.Contains(entities, id) {
						entities = append(entities, id)
					}
				}
				if ed.Node.Entity != nil && !slices.Equal(ed.Node.Entities, []string{*ed.Node.Entity}) {
					t.Errorf("event %d: entity %s, entities %v", ed.Node.Seq, *ed.Node.Entity, ed.Node.Entities)
				}
			}
			slices.Sort(entities)
			return entities
		}
		want := func(ids ...int) []string { s := gids(ids...); slices.Sort(s); return s }

		t.Run("AgencyScope", func(t *testing.T) {
			// police-tirane works on the Tirana case: it sees who read vT,
			// not who read vD.
			if got := about(list(t, e.tok(t, "police-tirane", viewer.RoleDPO), nil)); !slices.Equal(got, want(f.vT)) {
				t.Errorf("police-tirane's DPO sees events about %v, want %v", got, want(f.vT))
			}
			if got := about(list(t, e.tok(t, "prosecution-durres", viewer.RoleDPO), nil)); !slices.Equal(got, want(f.vD)) {
				t.Errorf("prosecution-durres's DPO sees events about %v, want %v", got, want(f.vD))
			}
			// Agencies that work on a victim without a part in the case: a
			// referral to ngo-vatra (vT), services of shelter-national (vT
			// and vD).
			if got := about(list(t, e.tok(t, "ngo-vatra", viewer.RoleDPO), nil)); !slices.Equal(got, want(f.vT)) {
				t.Errorf("ngo-vatra's DPO (vT referred to it) sees events about %v, want %v", got, want(f.vT))
			}
			if got := about(list(t, e.tok(t, "shelter-national", viewer.RoleDPO), nil)); !slices.Equal(got, want(f.vT, f.vD)) {
				t.Errorf("shelter-national's DPO (supports vT and vD) sees events about %v, want %v", got, want(f.vT, f.vD))
			}
			// An agency with no part in either case sees neither.
			if got := about(list(t, e.tok(t, "police-kukes", viewer.RoleDPO), nil)); len(got) != 0 {
				t.Errorf("police-kukes's DPO sees events about %v, want none", got)
			}
			// The national coordinator's DPO sees every agency's.
			if got := about(list(t, e.tok(t, "onac", viewer.RoleDPO), nil)); !slices.Equal(got, want(f.vT, f.vD)) {
				t.Errorf("the national DPO sees events about %v, want %v", got, want(f.vT, f.vD))
			}
		})
		national := e.tok(t, "onac", viewer.RoleDPO)
		t.Run("Filters", func(t *testing.T) {
			cases := []struct {
				name  string
				where map[string]any
				check func(auditPage) bool
			}{
				{"entity", map[string]any{"entity": gid(f.vT)}, func(p auditPage) bool { return slices.Equal(about(p), want(f.vT)) }},
				{"actorAgency", map[string]any{"actorAgency": "prosecution-durres"}, func(p auditPage) bool { return slices.Equal(about(p), want(f.vD)) }},
				{"fieldAndDecision", map[string]any{"field": "Victim.healthNotes", "decision": "DENIED"}, func(p auditPage) bool {
					return len(p.AuditEvents.Edges) == 2 && slices.Equal(p.AuditEvents.Edges[0].Node.Fields, []string{"Victim.healthNotes"})
				}},
				{"fieldIsWhole", map[string]any{"field": "Victim.legal"}, func(p auditPage) bool { return len(p.AuditEvents.Edges) == 0 }},
				{"kind", map[string]any{"kind": "POLICY_CHANGE"}, func(p auditPage) bool { return len(p.AuditEvents.Edges) == 0 }},
				{"emergencyOnly", map[string]any{"emergencyOnly": true}, func(p auditPage) bool { return len(p.AuditEvents.Edges) == 0 }},
				{"timeRange", map[string]any{"kind": "FIELD_ACCESS", "since": start.Format(time.RFC3339Nano), "until": time.Now().Add(time.Minute).Format(time.RFC3339Nano)},
					func(p auditPage) bool { return len(p.AuditEvents.Edges) == 4 }},
				{"future", map[string]any{"since": time.Now().Add(time.Hour).Format(time.RFC3339)}, func(p auditPage) bool { return len(p.AuditEvents.Edges) == 0 }},
			}
			for _, c := range cases {
				if p := list(t, national, c.where); !c.check(p) {
					t.Errorf("%s: unexpected events %+v", c.name, p.AuditEvents.Edges)
				}
			}
			r := e.do(t, national, auditQuery, map[string]any{"where": map[string]any{"actorAgency": "no-such-agency"}})
			if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) {
				t.Errorf("an unknown agency code: %s", r.Body)
			}
			// Entity 0 names no record: it is refused, not taken for no
			// filter (it listed every event).
			// So are the zero values of the other filters (the empty subject,
			// the year 1), which listed every event too.
			for field, zero := range map[string]any{"entity": "0", "actorSubject": "", "entityType": "", "field": "",
				"since": "0001-01-01T00:00:00Z", "until": "0001-01-01T00:00:00Z"} {
				r = e.do(t, national, auditQuery, map[string]any{"where": map[string]any{field: zero}})
				if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) || r.Errors[0].Field() != "where."+field {
					t.Errorf("%s %q: %s", field, zero, r.Body)
				}
			}
			// A field's name is matched as LIKE patterns: held to the
			// filters' bound on them.
			r = e.do(t, national, auditQuery, map[string]any{"where": map[string]any{"field": strings.Repeat("x", 257)}})
			if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) || r.Errors[0].Field() != "where.field" {
				t.Errorf("a field of 257 bytes: %s", r.Body)
			}
			// A type or field spelt otherwise than the trail spells it
			// matched no event, which read as "nobody looked": its form
			// is refused (twenty-sixth session). A name of the right form
			// is taken, whether or not any event carries it.
			for field, name := range map[string]string{"entityType": "victim", "field": "victim.legalName"} {
				r = e.do(t, national, auditQuery, map[string]any{"where": map[string]any{field: name}})
				if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) || r.Errors[0].Field() != "where."+field {
					t.Errorf("%s %q: %s", field, name, r.Body)
				}
			}
			for _, name := range []string{"Victim.LegalName", "legalName", "Victim.legal_name", "Victim. legalName"} {
				r = e.do(t, national, auditQuery, map[string]any{"where": map[string]any{"field": name}})
				if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) || r.Errors[0].Field() != "where.field" {
					t.Errorf("field %q: %s", name, r.Body)
				}
			}
			if p := list(t, national, map[string]any{"entityType": "Victim", "field": "Victim.healthNotes"}); len(p.AuditEvents.Edges) == 0 {
				t.Error("entityType Victim and field Victim.healthNotes, as the trail spells them, found no event")
			}
			for _, name := range []string{"Query.auditEvents", "Mutation.requestEmergencyAccess", "Victim.caseID", "Victim.givenUnder16"} {
				e.do(t, national, auditQuery, map[string]any{"where": map[string]any{"field": name}}).MustOK(t)
			}
			// One field: a list matched the events of both fields on SQLite
			// and of neither on PostgreSQL.
			r = e.do(t, national, auditQuery, map[string]any{"where": map[string]any{"field": "Victim.legalName,Victim.phone"}})
			if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) || r.Errors[0].Field() != "where.field" {
				t.Errorf("two fields in one: %s", r.Body)
			}
		})
		t.Run("ReadingIsRecorded", func(t *testing.T) {
			p := list(t, national, map[string]any{"kind": "AUDIT_TRAIL_READ", "actorAgency": "police-tirane"})
			if len(p.AuditEvents.Edges) == 0 || p.AuditEvents.Edges[0].Node.ActorAgency != "police-tirane" {
				t.Errorf("police-tirane's DPO read the trail, and it does not show: %+v", p.AuditEvents.Edges)
			}
		})
		t.Run("Pages", func(t *testing.T) {
			var seqs []int
			var after any
			for range 10 {
				var p auditPage
				e.do(t, national, auditQuery, map[string]any{"first": 1, "after": after, "oldest": true,
					"where": map[string]any{"kind": "FIELD_ACCESS"}}).MustOK(t).Decode(t, &p)
				for _, ed := range p.AuditEvents.Edges {
					seqs = append(seqs, ed.Node.Seq)
				}
				if !p.AuditEvents.PageInfo.HasNextPage {
					break
				}
				after = *p.AuditEvents.PageInfo.EndCursor
			}
			if !slices.Equal(seqs, []int{1, 2, 3, 4}) {
				t.Errorf("paging oldest first gave %v, want 1..4", seqs)
			}
		})
		t.Run("EventAboutSeveralRecords", func(t *testing.T) {
			// The national coordinator reads both victims in one request and
			// is refused both alike: one event about the two.
			e.do(t, e.tok(t, "onac", viewer.RoleCoordinator), `query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Victim { legalName healthNotes } } }`,
				map[string]any{"ids": gids(f.vT, f.vD)}).Decode(t, &struct{}{})
			where := map[string]any{"kind": "FIELD_ACCESS", "actorAgency": "onac"}
			p := list(t, national, where)
			if len(p.AuditEvents.Edges) != 1 {
				t.Fatalf("want one event about both victims, got %+v", p.AuditEvents.Edges)
			}
			if n := p.AuditEvents.Edges[0].Node; n.Entity != nil || !slices.Equal(about(p), want(f.vT, f.vD)) ||
				!slices.Equal(n.Fields, []string{"Victim.healthNotes", "Victim.legalName"}) {
				t.Errorf("the national DPO sees %+v, want no entity, entities %v, both fields", n, want(f.vT, f.vD))
			}
			// Each agency's DPO sees the event, with the records it works on
			// only: not a byte of the other victim's id.
			for _, c := range []struct {
				agency string
				sees   int
			}{{"police-tirane", f.vT}, {"prosecution-durres", f.vD}, {"ngo-vatra", f.vT}} {
				r := e.do(t, e.tok(t, c.agency, viewer.RoleDPO), auditQuery, map[string]any{"where": where, "first": 100}).MustOK(t)
				other := gid(f.vD)
				if c.sees == f.vD {
					other = gid(f.vT)
				}
				if strings.Contains(string(r.Body), other) {
					t.Errorf("%s's DPO is shown a victim it does not work on: %s", c.agency, r.Body)
				}
				var got auditPage
				r.Decode(t, &got)
				if len(got.AuditEvents.Edges) != 1 || !slices.Equal(about(got), want(c.sees)) {
					t.Errorf("%s's DPO sees %+v, want the event about %s only", c.agency, got.AuditEvents.Edges, gid(c.sees))
				}
			}
			// Nor can a DPO tell the other records by asking for events about
			// them: police-tirane finds the event by vT, not by vD.
			tirane := e.tok(t, "police-tirane", viewer.RoleDPO)
			if p := list(t, tirane, map[string]any{"entity": gid(f.vT), "actorAgency": "onac"}); len(p.AuditEvents.Edges) != 1 {
				t.Errorf("police-tirane's DPO asking for events about vT: %+v, want the one about both", p.AuditEvents.Edges)
			}
			if p := list(t, tirane, map[string]any{"entity": gid(f.vD), "actorAgency": "onac"}); len(p.AuditEvents.Edges) != 0 {
				t.Errorf("police-tirane's DPO asking for events about vD, a victim it does not work on, finds %+v", p.AuditEvents.Edges)
			}
			if p := list(t, e.tok(t, "police-kukes", viewer.RoleDPO), where); len(p.AuditEvents.Edges) != 0 {
				t.Errorf("police-kukes's DPO works on neither victim and sees %+v", p.AuditEvents.Edges)
			}
			// Who looked at vD: the event is found by either of its records.
			for _, id := range []int{f.vT, f.vD} {
				p := list(t, national, map[string]any{"entity": gid(id), "actorAgency": "onac"})
				if len(p.AuditEvents.Edges) != 1 {
					t.Errorf("events about %s read by onac: %+v, want the one about both", gid(id), p.AuditEvents.Edges)
				}
			}
			if v, err := audit.Verify(context.Background(), e.db.Client); err != nil || !v.Valid {
				t.Errorf("the chain does not verify: %+v, %v", v, err)
			}
		})
		// A victim's support notes (HEALTH) are their data on a record of
		// its own: who looked at them is found by the victim's id too, not
		// by the service's alone (a helper's DPO hunt).
		t.Run("ServiceNotesFoundByTheVictim", func(t *testing.T) {
			e.do(t, e.tok(t, "shelter-national", viewer.RoleCaseWorker), `query ($id: ID!) { node(id: $id) { ... on SupportService { notes } } }`,
				map[string]any{"id": gid(f.svcT)}).Decode(t, &struct{}{}) // refused or not, the look is an event
			found := map[string][]string{}
			for _, who := range []string{"onac", "shelter-national"} {
				p := list(t, e.tok(t, who, viewer.RoleDPO), map[string]any{"entity": gid(f.vT), "actorAgency": "shelter-national"})
				found[who] = about(p)
				if !slices.Contains(found[who], gid(f.svcT)) {
					t.Errorf("%s's DPO asking who looked at vT does not find the read of its support notes: %v", who, found[who])
				}
			}
			// Asking about the other victim finds none of it.
			if p := list(t, national, map[string]any{"entity": gid(f.vD), "actorAgency": "shelter-national"}); slices.Contains(about(p), gid(f.svcT)) {
				t.Errorf("asking who looked at vD finds the read of vT's support notes")
			}
		})
		// The same when the notes were read with another victim's in one
		// event: the DPO of an agency that works on vT (and not on vD)
		// finds it by vT, shown svcT alone. The agency's victims were
		// matched against the event's records, which are services, so it
		// found none (a hunt over HTTP).
		t.Run("GroupedServiceNotesFoundByTheVictim", func(t *testing.T) {
			e.do(t, e.tok(t, "onac", viewer.RoleCoordinator), `query ($ids: [ID!]!) { nodes(ids: $ids) { ... on SupportService { notes } } }`,
				map[string]any{"ids": gids(f.svcT, f.svcD)}).Decode(t, &struct{}{})
			where := map[string]any{"entity": gid(f.vT), "actorAgency": "onac", "field": "SupportService.notes"}
			if p := list(t, national, where); len(p.AuditEvents.Edges) != 1 || !slices.Equal(about(p), want(f.svcT, f.svcD)) {
				t.Fatalf("the national DPO asking who read vT's support notes: %+v, want the one event about svcT and svcD", p.AuditEvents.Edges)
			}
			if p := list(t, e.tok(t, "police-tirane", viewer.RoleDPO), where); len(p.AuditEvents.Edges) != 1 || !slices.Equal(about(p), want(f.svcT)) {
				t.Errorf("police-tirane's DPO asking who read vT's support notes: %+v, want the event, about svcT alone", p.AuditEvents.Edges)
			}
			where["entity"] = gid(f.vD)
			if p := list(t, e.tok(t, "police-tirane", viewer.RoleDPO), where); len(p.AuditEvents.Edges) != 0 {
				t.Errorf("police-tirane's DPO finds the event by vD, a victim it does not work on: %+v", p.AuditEvents.Edges)
			}
		})
		// A probe of one victim behind 20 ids that name nothing: the
		// records past the 20 recorded one by one are the summary's
		// records, so the victim's id finds it (it named no record).
		t.Run("ProbeBehindDecoys", func(t *testing.T) {
			ids := make([]string, 0, 21)
			for i := range 20 {
				ids = append(ids, gid(missing(f.vD)+i))
			}
			ids = append(ids, gid(f.vT))
			e.do(t, e.tok(t, "police-kukes", viewer.RoleInvestigator), `query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Victim { legalName } } }`,
				map[string]any{"ids": ids}).Decode(t, &struct{}{})
			p := list(t, national, map[string]any{"entity": gid(f.vT), "actorAgency": "police-kukes", "kind": "RECORD_REFUSED"})
			if len(p.AuditEvents.Edges) != 1 || !slices.Contains(about(p), gid(f.vT)) {
				t.Errorf("who probed vT behind 20 unknown ids: %+v, want the summary event naming vT", p.AuditEvents.Edges)
			}
			if v, err := audit.Verify(context.Background(), e.db.Client); err != nil || !v.Valid {
				t.Errorf("the chain does not verify: %+v, %v", v, err)
			}
		})
		// A mutation whose input names a victim the caller may not see is
		// refused as if the victim did not exist, and the attempt on the
		// victim is recorded (it left no event).
		t.Run("RefusedReferenceInAMutation", func(t *testing.T) {
			r := e.do(t, e.tok(t, "police-kukes", viewer.RoleInvestigator), `mutation ($in: CreateConsentInput!) { recordConsent(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"victimID": gid(f.vT), "givenBy": "VICTIM", "givenAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
					"agencyKinds": []string{"LOCAL_POLICE_DIRECTORATE"}, "purposes": []string{"CRIMINAL_PROCEEDINGS"}}})
			if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) {
				t.Fatalf("recordConsent for a victim police-kukes does not see: %s", r.Body)
			}
			p := list(t, national, map[string]any{"entity": gid(f.vT), "actorAgency": "police-kukes", "kind": "MUTATION"})
			if len(p.AuditEvents.Edges) != 1 || p.AuditEvents.Edges[0].Node.Decision == nil || *p.AuditEvents.Edges[0].Node.Decision != "DENIED" {
				t.Errorf("who tried to write about vT: %+v, want the refused mutation", p.AuditEvents.Edges)
			}
		})
		// A change of one record that the policy refuses (an investigator
		// writing health notes) is refused about that record, found by its
		// id (it named no record).
		t.Run("PolicyRefusedMutationOfARecord", func(t *testing.T) {
			r := e.do(t, e.tok(t, "police-durres", viewer.RoleInvestigator), `mutation ($id: ID!) { updateVictim(id: $id, expectedVersion: 1, input: {healthNotes: "x"}) { id } }`,
				map[string]any{"id": gid(f.vD)})
			if codes := r.Codes(); !slices.Equal(codes, []string{"FORBIDDEN"}) {
				t.Fatalf("an investigator writing health notes: %s", r.Body)
			}
			p := list(t, national, map[string]any{"entity": gid(f.vD), "actorAgency": "police-durres", "kind": "MUTATION"})
			if len(p.AuditEvents.Edges) != 1 || !slices.Equal(p.AuditEvents.Edges[0].Node.Fields, []string{"Mutation.updateVictim"}) {
				t.Errorf("who tried to change vD: %+v, want the refused updateVictim", p.AuditEvents.Edges)
			}
		})
		// A link names the other record in its detail: shown to the DPO of
		// an agency that works on the victim only when it works on that
		// case too (ngo-vatra, which vT was referred to, and caseT2, which
		// only police-tirane works on), or when its own people linked it.
		t.Run("LinkDetailNamesOnlyRecordsWorkedOn", func(t *testing.T) {
			e.do(t, e.tok(t, "police-tirane", viewer.RoleInvestigator), `mutation ($v: ID!, $c: ID!) { linkVictimToCase(victimID: $v, caseID: $c) { id } }`,
				map[string]any{"v": gid(f.vT), "c": gid(f.caseT2)}).MustOK(t)
			const details = `query ($where: AuditTrailFilter) { auditEvents(where: $where, first: 10) { edges { node { entity detail hash prevHash } } } }`
			where := map[string]any{"where": map[string]any{"entity": gid(f.vT), "kind": "MUTATION", "actorAgency": "police-tirane"}}
			caseT2 := gid(f.caseT2) // the detail holds the case's id as a number, as its global id
			for _, c := range []struct {
				agency string
				shown  bool
			}{{"ngo-vatra", false}, {"police-tirane", true}, {"onac", true}} {
				r := e.do(t, e.tok(t, c.agency, viewer.RoleDPO), details, where).MustOK(t)
				if !strings.Contains(string(r.Body), `\"op\":\"link\"`) {
					t.Errorf("%s's DPO does not see the link of vT: %s", c.agency, r.Body)
				}
				if strings.Contains(string(r.Body), caseT2) != c.shown {
					t.Errorf("%s's DPO, shown caseT2 (%s): want %v: %s", c.agency, caseT2, c.shown, r.Body)
				}
				// Nor may the hash give it back: it covers the detail, and
				// every other field is shown, so trying the few case ids
				// against it found caseT2 (a review). A DPO of one agency
				// is shown the hash of its own people's events alone, and
				// no prevHash (the hash of an event it may not see).
				var got struct {
					AuditEvents struct {
						Edges []struct {
							Node struct{ Hash, PrevHash string }
						}
					}
				}
				r.Decode(t, &got)
				for _, ed := range got.AuditEvents.Edges {
					national, own := c.agency == "onac", c.agency == "police-tirane"
					if (ed.Node.Hash != "") != (national || own) || (ed.Node.PrevHash != "") != national {
						t.Errorf("%s's DPO is shown hash %q, prevHash %q", c.agency, ed.Node.Hash, ed.Node.PrevHash)
					}
				}
			}
		})
		// A consent's givenBy is the victim's (a quasi-identifier: it tells
		// a minor's age, docs/leak-test.md), held on a record of its own like
		// a service's notes: who looked at the victim finds its reads, of one
		// consent or of several in one event. Filed under the consents' ids,
		// they were found only by those (a hunt over HTTP). After the
		// subtests that count vD's events: it adds a consent and reads.
		t.Run("ConsentGiverFoundByTheVictim", func(t *testing.T) {
			con2 := addConsent(t, e.db.Client, f, f.vD, []domain.AgencyKind{domain.AgencyKindNgoShelter}, []domain.ConsentPurpose{domain.ConsentPurposeServices})
			e.do(t, e.tok(t, "police-durres", viewer.RoleInvestigator), `query ($id: ID!) { node(id: $id) { ... on Victim { consents(first: 10) { edges { node { givenBy } } } } } }`,
				map[string]any{"id": gid(f.vD)}).MustOK(t)
			where := map[string]any{"entity": gid(f.vD), "actorAgency": "police-durres", "field": "Consent.givenBy"}
			for _, dpo := range []string{"onac", "police-durres"} {
				if p := list(t, e.tok(t, dpo, viewer.RoleDPO), where); !slices.Equal(about(p), want(f.conD, con2)) {
					t.Errorf("%s's DPO asking who read the giver of vD's consents finds events about %v, want conD and the second consent", dpo, about(p))
				}
			}
		})
		// Last: the refusals are recorded, and would be among the events the
		// subtests above count.
		t.Run("OnlyDPOs", func(t *testing.T) {
			for _, tok := range []string{
				e.tok(t, "police-tirane", viewer.RoleInvestigator), e.tok(t, "onac", viewer.RoleAdmin),
				e.tok(t, "onac", viewer.RoleCoordinator), e.tok(t, "onac", viewer.RoleAnalyst),
			} {
				r := e.do(t, tok, auditQuery, nil)
				if codes := r.Codes(); !slices.Equal(codes, []string{"FORBIDDEN"}) || !nullData(r.Data) {
					t.Errorf("want FORBIDDEN and no data, got %s", r.Body)
				}
			}
		})
	})
}
