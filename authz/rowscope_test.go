package authz_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// 1. Row scope
// ---------------------------------------------------------------------------

const topLevelQuery = `{
  cases { totalCount edges { node { id } } }
  victims { totalCount edges { node { id } } }
  suspects { totalCount edges { node { id } } }
  prosecutions { totalCount edges { node { id } } }
  referrals { totalCount edges { node { id } } }
  tiraneVictims: victims(where: {region: TIRANE}) { totalCount edges { node { id } } }
  tiraneCases: cases(where: {region: TIRANE}) { totalCount edges { node { id } } }
}`

type topLevel struct {
	Cases, Victims, Suspects, Prosecutions, Referrals conn
	TiraneVictims, TiraneCases                        conn
}

const nodeQuery = `query ($id: ID!) { node(id: $id) { id __typename ... on Case { reference } ... on Victim { pseudonym } } }`

// wantHidden checks that node(id) answers exactly as for an id that names
// nothing: null with NOT_FOUND, the whole response the same but for the id.
func (e *env) wantHidden(t *testing.T, token, name string, id int) {
	t.Helper()
	hidden, none := gid(id), gid(missing(id))
	r := e.do(t, token, nodeQuery, map[string]any{"id": hidden})
	m := e.do(t, token, nodeQuery, map[string]any{"id": none})
	if string(r.Data) != `{"node":null}` || len(r.Errors) != 1 || r.Errors[0].Code() != "NOT_FOUND" {
		t.Errorf("node(%s %s): want null with NOT_FOUND, got %s", name, hidden, r.Body)
	}
	if a, b := masked(r, hidden), masked(m, none); a != b || r.Status != m.Status {
		t.Errorf("node(%s) out of scope differs from a nonexistent id:\n hidden  %d %s\n missing %d %s", name, r.Status, a, m.Status, b)
	}
}

// wantVisible checks that node(id) resolves.
func (e *env) wantVisible(t *testing.T, token, name string, id int) {
	t.Helper()
	r := e.do(t, token, nodeQuery, map[string]any{"id": gid(id)})
	var data struct{ Node *struct{ ID string } }
	r.Decode(t, &data)
	if len(r.Errors) > 0 || data.Node == nil || data.Node.ID != gid(id) {
		t.Errorf("node(%s %d): want it visible, got %s", name, id, r.Body)
	}
}

func TestRowScopeOtherRegion(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		durres := e.tok(t, "police-durres", viewer.RoleInvestigator)

		t.Run("TopLevelConnections", func(t *testing.T) {
			d := decode[topLevel](t, e.do(t, durres, topLevelQuery, nil).MustOK(t))
			wantConn(t, "cases", d.Cases, gids(f.caseD, f.caseD2, f.caseD3)...)
			wantConn(t, "victims", d.Victims, gids(f.vD, f.vD2, f.vBridge)...)
			wantConn(t, "suspects", d.Suspects, gid(f.sD))
			wantConn(t, "prosecutions", d.Prosecutions, gid(f.pD))
			wantConn(t, "referrals", d.Referrals, gid(f.refD))
			wantConn(t, "victims(where: {region: TIRANE})", d.TiraneVictims)
			wantConn(t, "cases(where: {region: TIRANE})", d.TiraneCases)
		})

		t.Run("NodeLikeNonexistent", func(t *testing.T) {
			consentT := addConsent(t, e.db.Client, f, f.vT, []domain.AgencyKind{domain.AgencyKindProsecutionOffice},
				[]domain.ConsentPurpose{domain.ConsentPurposeCriminalProceedings})
			for _, h := range []struct {
				name string
				id   int
			}{
				{"caseT", f.caseT}, {"caseT2", f.caseT2}, {"vT", f.vT}, {"vT2", f.vT2}, {"vX", f.vX},
				{"sT", f.sT}, {"pT", f.pT}, {"chT", f.chT}, {"decT", f.decT}, {"refT", f.refT},
				{"svcT", f.svcT}, {"consentT", consentT}, {"evT", f.evT}, {"assignmentT", f.asgT},
			} {
				e.wantHidden(t, durres, h.name, h.id)
			}
			for _, v := range []struct {
				name string
				id   int
			}{
				{"caseD", f.caseD}, {"caseD3", f.caseD3}, {"vD", f.vD}, {"vBridge", f.vBridge}, {"sD", f.sD},
				{"pD", f.pD}, {"chD", f.chD}, {"decD", f.decD}, {"refD", f.refD}, {"svcD", f.svcD},
				{"conD", f.conD}, {"evD", f.evD},
			} {
				e.wantVisible(t, durres, v.name, v.id)
			}
		})

		t.Run("NodesLikeNonexistent", func(t *testing.T) {
			const q = `query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`
			hidden := gids(f.caseT, f.vT, f.sT)
			none := gids(missing(f.caseT), missing(f.vT), missing(f.sT))
			ids := func(h []string) []string { return []string{gid(f.caseD), h[0], gid(f.vD), h[1], h[2]} }
			r := e.do(t, durres, q, map[string]any{"ids": ids(hidden)})
			m := e.do(t, durres, q, map[string]any{"ids": ids(none)})
			var data struct{ Nodes []*struct{ ID string } }
			r.Decode(t, &data)
			if len(data.Nodes) != 5 || data.Nodes[0] == nil || data.Nodes[0].ID != gid(f.caseD) ||
				data.Nodes[1] != nil || data.Nodes[2] == nil || data.Nodes[2].ID != gid(f.vD) ||
				data.Nodes[3] != nil || data.Nodes[4] != nil {
				t.Errorf("nodes: want [caseD, null, vD, null, null], got %s", r.Body)
			}
			wantErrors(t, r, "NOT_FOUND  nodes.1", "NOT_FOUND  nodes.3", "NOT_FOUND  nodes.4")
			// In node(id:)'s words: a client handles one not-found, not
			// two (until 2026-12-07, nineteenth session, nodes answered
			// entgql's "Could not resolve to a node…", quoting the id).
			for k, got := range r.Errors {
				one := e.do(t, durres, nodeQuery, map[string]any{"id": hidden[k]})
				if len(one.Errors) != 1 || got.Message != one.Errors[0].Message {
					t.Errorf("nodes' not-found says %q, node(id:)'s %s", got.Message, one.Body)
				}
			}
			if a, b := masked(r, hidden...), masked(m, none...); a != b {
				t.Errorf("nodes out of scope differ from nonexistent ids:\n hidden  %s\n missing %s", a, b)
			}
		})

		t.Run("Edges", func(t *testing.T) {
			const q = `query ($bridge: ID!, $caseD: ID!, $caseD3: ID!, $vD: ID!, $policeTirane: ID!, $courtTirane: ID!, $prosecutionTirane: ID!, $policeDurres: ID!) {
  bridge: node(id: $bridge) { ... on Victim { cases { totalCount edges { node { id } } } } }
  bridgeInList: victims(where: {pseudonym: "V-2026-0005"}) { edges { node { cases { totalCount edges { node { id } } } } } }
  caseD: node(id: $caseD) { ... on Case {
    victims { totalCount edges { node { id } } }
    suspects { totalCount edges { node { id } } }
    events { totalCount edges { node { id } } }
    referrals { totalCount edges { node { id } } }
    agencies { totalCount edges { node { id } } }
    assignments { totalCount edges { node { id } } }
    prosecutions(first: 10) { totalCount edges { node { id
      charges { totalCount edges { node { id } } }
      decisions { totalCount edges { node { id } } } } } }
  } }
  caseD3: node(id: $caseD3) { ... on Case { victims { totalCount edges { node { id } } } } }
  casesInList: cases { edges { node { id victims { totalCount edges { node { id } } } } } }
  vD: node(id: $vD) { ... on Victim {
    cases { totalCount edges { node { id } } }
    referrals { totalCount edges { node { id } } }
    services { totalCount edges { node { id } } }
    consents { totalCount edges { node { id } } }
  } }
  policeTirane: node(id: $policeTirane) { ... on Agency { cases { totalCount edges { node { id } } } ledCases { totalCount edges { node { id } } } } }
  courtTirane: node(id: $courtTirane) { ... on Agency { cases { totalCount edges { node { id } } } } }
  prosecutionTirane: node(id: $prosecutionTirane) { ... on Agency { cases { totalCount edges { node { id } } } } }
  policeDurres: node(id: $policeDurres) { ... on Agency { cases { totalCount edges { node { id } } } ledCases { totalCount edges { node { id } } } } }
  agencies(first: 3, where: {codeIn: ["police-tirane", "court-tirane", "prosecution-tirane"]}) { edges { node { code cases { totalCount edges { node { id } } } ledCases { totalCount edges { node { id } } } } } }
}`
			r := e.do(t, durres, q, map[string]any{
				"bridge": gid(f.vBridge), "caseD": gid(f.caseD), "caseD3": gid(f.caseD3), "vD": gid(f.vD),
				"policeTirane": gid(f.id(t, "police-tirane")), "courtTirane": gid(f.id(t, "court-tirane")),
				"prosecutionTirane": gid(f.id(t, "prosecution-tirane")), "policeDurres": gid(f.id(t, "police-durres")),
			}).MustOK(t)
			type prosecution struct {
				ID                 string
				Charges, Decisions conn
			}
			d := decode[struct {
				Bridge       struct{ Cases conn }
				BridgeInList struct {
					Edges []struct{ Node struct{ Cases conn } }
				}
				CaseD struct {
					Victims, Suspects, Events, Referrals, Agencies, Assignments conn
					Prosecutions                                                struct {
						TotalCount int
						Edges      []struct{ Node prosecution }
					}
				}
				CaseD3      struct{ Victims conn }
				CasesInList struct {
					Edges []struct {
						Node struct {
							ID      string
							Victims conn
						}
					}
				}
				VD                             struct{ Cases, Referrals, Services, Consents conn }
				PoliceTirane, PoliceDurres     struct{ Cases, LedCases conn }
				CourtTirane, ProsecutionTirane struct{ Cases conn }
				Agencies                       struct {
					Edges []struct {
						Node struct {
							Code            string
							Cases, LedCases conn
						}
					}
				}
			}](t, r)
			// Many-to-many: vBridge is in caseD and caseT; only caseD shows.
			wantConn(t, "vBridge.cases", d.Bridge.Cases, gid(f.caseD))
			if len(d.BridgeInList.Edges) != 1 {
				t.Fatalf("victims(pseudonym: vBridge): want 1 edge, got %s", r.Body)
			}
			wantConn(t, "victims[vBridge].cases", d.BridgeInList.Edges[0].Node.Cases, gid(f.caseD))
			wantConn(t, "caseD.victims", d.CaseD.Victims, gids(f.vD, f.vBridge)...)
			wantConn(t, "caseD.suspects", d.CaseD.Suspects, gid(f.sD))
			wantConn(t, "caseD.events", d.CaseD.Events, gid(f.evD))
			wantConn(t, "caseD.referrals", d.CaseD.Referrals, gid(f.refD))
			wantConn(t, "caseD.agencies", d.CaseD.Agencies, gids(f.id(t, "police-durres"), f.id(t, "prosecution-durres"), f.id(t, "court-durres"))...)
			if d.CaseD.Assignments.TotalCount != 3 {
				t.Errorf("caseD.assignments.totalCount = %d, want 3", d.CaseD.Assignments.TotalCount)
			}
			if d.CaseD.Prosecutions.TotalCount != 1 || len(d.CaseD.Prosecutions.Edges) != 1 {
				t.Fatalf("caseD.prosecutions: want pD only, got %s", r.Body)
			}
			pd := d.CaseD.Prosecutions.Edges[0].Node
			wantConn(t, "pD.charges", pd.Charges, gid(f.chD))
			wantConn(t, "pD.decisions", pd.Decisions, gid(f.decD))
			// caseD3 (DURRES, led by police-gd) is visible; its victim vX,
			// of region TIRANE, is not.
			wantConn(t, "caseD3.victims", d.CaseD3.Victims)
			for _, edge := range d.CasesInList.Edges {
				switch edge.Node.ID {
				case gid(f.caseD):
					wantConn(t, "cases[caseD].victims", edge.Node.Victims, gids(f.vD, f.vBridge)...)
				case gid(f.caseD3):
					wantConn(t, "cases[caseD3].victims", edge.Node.Victims)
				}
			}
			wantConn(t, "vD.cases", d.VD.Cases, gid(f.caseD))
			wantConn(t, "vD.referrals", d.VD.Referrals, gid(f.refD))
			wantConn(t, "vD.services", d.VD.Services, gid(f.svcD))
			wantConn(t, "vD.consents", d.VD.Consents, gid(f.conD))
			// Many-to-many through assignments, and the lead edge.
			wantConn(t, "police-tirane.cases", d.PoliceTirane.Cases)
			wantConn(t, "police-tirane.ledCases", d.PoliceTirane.LedCases)
			wantConn(t, "court-tirane.cases", d.CourtTirane.Cases)
			wantConn(t, "prosecution-tirane.cases", d.ProsecutionTirane.Cases)
			wantConn(t, "police-durres.cases", d.PoliceDurres.Cases, gids(f.caseD, f.caseD2)...)
			wantConn(t, "police-durres.ledCases", d.PoliceDurres.LedCases, gids(f.caseD, f.caseD2)...)
			if len(d.Agencies.Edges) != 3 {
				t.Errorf("agencies(codeIn: 3 codes): got %d", len(d.Agencies.Edges))
			}
			for _, a := range d.Agencies.Edges {
				wantConn(t, a.Node.Code+".cases (in a list)", a.Node.Cases)
				wantConn(t, a.Node.Code+".ledCases (in a list)", a.Node.LedCases)
			}
		})

		// Filters on edges must not see through the row scope either: a
		// visible row must not match a condition that only a hidden row
		// satisfies, or the filter tells what the hidden rows are.
		t.Run("ErrFilterThroughHiddenRows", func(t *testing.T) {
			// Filters through edges would match visible rows by the
			// attributes of hidden ones (an oracle): the schema has none.
			for _, q := range []string{
				`{ victims(where: {hasCasesWith: [{region: TIRANE}]}) { totalCount } }`,
				`{ victims(where: {hasCasesWith: [{reference: "TIR-2026-0001"}]}) { totalCount } }`,
				`{ cases(where: {hasVictimsWith: [{region: TIRANE}]}) { totalCount } }`,
				`{ agencies(where: {hasLedCasesWith: [{region: TIRANE}]}) { totalCount } }`,
				`{ cases(where: {hasVictims: true}) { totalCount } }`,
				// A case's prosecutions take a where of their own (eighteenth
				// session); the cases' filter still has no edge into them.
				`{ cases(where: {hasProsecutionsWith: [{stage: FINAL}]}) { totalCount } }`,
				`{ cases(where: {hasProsecutions: true}) { totalCount } }`,
			} {
				r := e.do(t, durres, q, nil)
				if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "is not defined") || !nullData(r.Data) {
					t.Errorf("%s: want a BAD_USER_INPUT refusal of the undefined edge filter, got %s", q, r.Body)
				}
			}
		})
	})
}

func TestRowScopeByRole(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f

		t.Run("JudgeSeesAssignedCasesOnly", func(t *testing.T) {
			judge := e.tok(t, "court-tirane", viewer.RoleJudge)
			d := decode[topLevel](t, e.do(t, judge, topLevelQuery, nil).MustOK(t))
			// caseT2 is in the court's region but not before it.
			wantConn(t, "cases", d.Cases, gid(f.caseT))
			wantConn(t, "victims", d.Victims, gids(f.vT, f.vBridge)...)
			wantConn(t, "suspects", d.Suspects, gid(f.sT))
			wantConn(t, "prosecutions", d.Prosecutions, gid(f.pT))
			wantConn(t, "referrals", d.Referrals, gid(f.refT))
			wantConn(t, "cases(where: {region: TIRANE})", d.TiraneCases, gid(f.caseT))
			e.wantHidden(t, judge, "caseT2", f.caseT2)
			e.wantHidden(t, judge, "vT2", f.vT2)
			e.wantHidden(t, judge, "caseD", f.caseD)
		})

		t.Run("ProsecutorSeesRegionCasesButAssignedVictims", func(t *testing.T) {
			prosecutor := e.tok(t, "prosecution-tirane", viewer.RoleProsecutor)
			d := decode[topLevel](t, e.do(t, prosecutor, topLevelQuery, nil).MustOK(t))
			wantConn(t, "cases", d.Cases, gids(f.caseT, f.caseT2)...)
			wantConn(t, "victims", d.Victims, gids(f.vT, f.vBridge)...)
			c2 := decode[struct{ Node struct{ Victims conn } }](t, e.do(t, prosecutor,
				`query ($id: ID!) { node(id: $id) { ... on Case { victims { totalCount edges { node { id } } } } } }`,
				map[string]any{"id": gid(f.caseT2)}).MustOK(t))
			wantConn(t, "caseT2.victims", c2.Node.Victims)
		})

		t.Run("AnalystSeesAllRowsNoField", func(t *testing.T) {
			analyst := e.tok(t, "onac", viewer.RoleAnalyst)
			d := decode[topLevel](t, e.do(t, analyst, topLevelQuery, nil).MustOK(t))
			wantConn(t, "cases", d.Cases, gids(f.caseT, f.caseT2, f.caseD, f.caseD2, f.caseD3)...)
			wantConn(t, "victims", d.Victims, gids(f.vT, f.vT2, f.vD, f.vD2, f.vBridge, f.vX)...)
			wantConn(t, "suspects", d.Suspects, gids(f.sT, f.sD)...)
			wantConn(t, "prosecutions", d.Prosecutions, gids(f.pT, f.pD)...)
			wantConn(t, "referrals", d.Referrals, gids(f.refT, f.refD)...)

			const q = `{
  victims { edges { node { id pseudonym legalName dateOfBirth personalNumber nationality exactAge phone address healthNotes testimonySummary shelterLocation
    services { edges { node { id kind notes } } } } } }
  suspects { edges { node { id pseudonym legalName personalNumber } } }
}`
			r := e.do(t, analyst, q, nil)
			var data struct {
				Victims struct {
					Edges []struct {
						Node struct {
							Services struct {
								Edges []struct{ Node map[string]any }
							}
						}
					}
				}
			}
			r.Decode(t, &data)
			var raw struct {
				Victims struct {
					Edges []struct{ Node map[string]any }
				}
				Suspects struct {
					Edges []struct{ Node map[string]any }
				}
			}
			r.Decode(t, &raw)
			victimSensitive := []string{"legalName", "dateOfBirth", "personalNumber", "nationality", "exactAge", "phone", "address", "healthNotes", "testimonySummary", "shelterLocation"}
			var want []string
			if len(raw.Victims.Edges) != 6 || len(raw.Suspects.Edges) != 2 {
				t.Fatalf("want 6 victims and 2 suspects, got:\n%s", r.Body)
			}
			for i, edge := range raw.Victims.Edges {
				if p, _ := edge.Node["pseudonym"].(string); p == "" {
					t.Errorf("victims[%d] lost its pseudonym", i)
				}
				for _, field := range victimSensitive {
					if edge.Node[field] != nil {
						t.Errorf("analyst read victims[%d].%s = %v", i, field, edge.Node[field])
					}
					want = append(want, forbidden("Victim."+field, fmt.Sprintf("victims.edges.%d.node.%s", i, field)))
				}
				for j, s := range data.Victims.Edges[i].Node.Services.Edges {
					if s.Node["notes"] != nil || s.Node["kind"] == nil {
						t.Errorf("analyst: victims[%d].services[%d] = %v", i, j, s.Node)
					}
					want = append(want, forbidden("SupportService.notes", fmt.Sprintf("victims.edges.%d.node.services.edges.%d.node.notes", i, j)))
				}
			}
			for i, edge := range raw.Suspects.Edges {
				for _, field := range []string{"legalName", "personalNumber"} {
					if edge.Node[field] != nil {
						t.Errorf("analyst read suspects[%d].%s = %v", i, field, edge.Node[field])
					}
					want = append(want, forbidden("Suspect."+field, fmt.Sprintf("suspects.edges.%d.node.%s", i, field)))
				}
			}
			if n := len(want); n != 6*10+2+2*2 {
				t.Errorf("expected %d denied fields, built %d", 6*10+2+2*2, n)
			}
			wantErrors(t, r, want...)
		})

		t.Run("DPOSeesNoCaseOrVictim", func(t *testing.T) {
			dpo := e.tok(t, "police-tirane", viewer.RoleDPO)
			d := decode[topLevel](t, e.do(t, dpo, topLevelQuery, nil).MustOK(t))
			for name, c := range map[string]conn{"cases": d.Cases, "victims": d.Victims, "suspects": d.Suspects,
				"prosecutions": d.Prosecutions, "referrals": d.Referrals} {
				wantConn(t, name, c)
			}
			e.wantHidden(t, dpo, "caseT", f.caseT)
			e.wantHidden(t, dpo, "vT", f.vT)
		})
	})
}

// TestTimelineHidesEntriesAboutHiddenVictims: a case's timeline names the
// subject of each entry and says what happened to it ("Referral for
// MEDICAL created."). An agency that sees the case but not one of its
// victims does not see the entries about that victim: police-durres sees
// caseD3 (of its region) but not vX (of Tirana, in a case it does not work
// on); police-gd, which leads caseD3, sees them all. The entries are
// written as casework writes them, with the victim they concern
// (TestTimelineEntriesKeepTheirVictim checks that casework does).
func TestTimelineHidesEntriesAboutHiddenVictims(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		c := e.db.Client
		linked := ok(c.CaseEvent.Create().SetCaseID(f.caseD3).SetKind(domain.CaseEventKindVictimLinked).
			SetActorSubject("fixture@police-gd").SetActorAgencyID(f.id(t, "police-gd")).
			SetSubjectID(fmt.Sprint(f.vX)).SetSubjectVictimID(f.vX).SetSummary("Victim linked to the case.").Save(sys()))(t).ID
		// A referral of vX's, which police-durres is not party to: the
		// entry about it concerns vX too.
		ref := ok(c.Referral.Create().SetVictimID(f.vX).SetCaseID(f.caseD3).SetFromAgencyID(f.id(t, "police-gd")).
			SetToAgencyID(f.id(t, "shelter-national")).SetServiceKind(domain.ServiceKindMedical).SetReferredAt(past).Save(sys()))(t).ID
		referred := ok(c.CaseEvent.Create().SetCaseID(f.caseD3).SetKind(domain.CaseEventKindReferralCreated).
			SetActorSubject("fixture@police-gd").SetActorAgencyID(f.id(t, "police-gd")).
			SetSubjectID(fmt.Sprint(ref)).SetSubjectVictimID(f.vX).SetSummary("Referral for MEDICAL created.").Save(sys()))(t).ID
		// An entry about a victim that lacks its victim (as a binary older
		// than the column wrote them) is hidden from whoever does not see
		// every victim.
		unknown := ok(c.CaseEvent.Create().SetCaseID(f.caseD3).SetKind(domain.CaseEventKindVictimUpdated).
			SetActorSubject("fixture@police-gd").SetActorAgencyID(f.id(t, "police-gd")).
			SetSubjectID(fmt.Sprint(f.vX)).SetSummary("Victim record updated.").Save(sys()))(t).ID
		opened := ok(c.CaseEvent.Create().SetCaseID(f.caseD3).SetKind(domain.CaseEventKindCaseOpened).
			SetActorSubject("fixture@police-gd").SetActorAgencyID(f.id(t, "police-gd")).
			SetSubjectID(fmt.Sprint(f.caseD3)).SetSummary("Case opened.").Save(sys()))(t).ID
		timeline := func(token string) []string {
			t.Helper()
			var data struct {
				Node struct {
					Events struct {
						Edges []struct{ Node struct{ ID string } }
					}
				}
			}
			r := e.do(t, token, `query ($id: ID!) { node(id: $id) { ... on Case { events(first: 100) { edges { node { id subjectID summary } } } } } }`,
				map[string]any{"id": gid(f.caseD3)}).MustOK(t)
			r.Decode(t, &data)
			var ids []string
			for _, edge := range data.Node.Events.Edges {
				ids = append(ids, edge.Node.ID)
			}
			if token == e.tok(t, "police-durres", viewer.RoleInvestigator) && strings.Contains(string(r.Body), gid(f.vX)) {
				t.Errorf("police-durres's answer names vX:\n%s", r.Body)
			}
			return ids
		}
		durres := timeline(e.tok(t, "police-durres", viewer.RoleInvestigator))
		if !slices.Contains(durres, gid(opened)) || slices.Contains(durres, gid(linked)) || slices.Contains(durres, gid(referred)) || slices.Contains(durres, gid(unknown)) {
			t.Errorf("police-durres sees entries %v of caseD3, want the opening %s and not vX's link %s, referral %s nor update %s",
				durres, gid(opened), gid(linked), gid(referred), gid(unknown))
		}
		lead := timeline(e.tok(t, "police-gd", viewer.RoleInvestigator))
		if !slices.Contains(lead, gid(opened)) || !slices.Contains(lead, gid(linked)) || !slices.Contains(lead, gid(referred)) {
			t.Errorf("police-gd sees entries %v of caseD3, want %s, %s and %s", lead, gid(opened), gid(linked), gid(referred))
		}
	})
}

// TestCommitOrderKeepsTheRowScope: the feed of the timeline
// (caseEvents in COMMIT_ORDER, docs/mutations.md) pages the rows the
// row scope leaves, as caseEvents in any order does: police-durres, which
// does not see caseT, gets none of its entries, nor the entry of caseD3
// (which it sees) about vX (whom it does not see); police-tirane gets
// caseT's and none of Durrës's. Its totalCount counts the same rows. On
// PostgreSQL the feed answers an entry once every write transaction older
// than it has ended, so the test waits for the entries it wants.
func TestCommitOrderKeepsTheRowScope(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		linked := ok(e.db.Client.CaseEvent.Create().SetCaseID(f.caseD3).SetKind(domain.CaseEventKindVictimLinked).
			SetActorSubject("fixture@police-gd").SetActorAgencyID(f.id(t, "police-gd")).
			SetSubjectID(fmt.Sprint(f.vX)).SetSubjectVictimID(f.vX).SetSummary("Victim linked to the case.").Save(sys()))(t).ID
		feed := func(token string) conn {
			t.Helper()
			var all conn
			var after any
			for page := 0; ; page++ {
				var data struct {
					CaseEvents struct {
						conn
						PageInfo struct {
							HasNextPage bool
							EndCursor   *string
						}
					}
				}
				e.do(t, token, `query ($after: Cursor) { caseEvents(first: 2, after: $after, orderBy: [{field: COMMIT_ORDER}]) {
  totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after}).MustOK(t).Decode(t, &data)
				if page == 0 {
					all.TotalCount = data.CaseEvents.TotalCount
				}
				all.Edges = append(all.Edges, data.CaseEvents.Edges...)
				if !data.CaseEvents.PageInfo.HasNextPage {
					return all
				}
				after = *data.CaseEvents.PageInfo.EndCursor
			}
		}
		for _, c := range []struct {
			agency string
			want   []string
		}{
			{"police-durres", []string{gid(f.evD)}},
			{"police-tirane", []string{gid(f.evT)}},
		} {
			token := e.tok(t, c.agency, viewer.RoleInvestigator)
			var got conn
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				got = feed(token)
				if ids := got.ids(); time.Now().After(deadline) || !slices.ContainsFunc(c.want, func(id string) bool { return !slices.Contains(ids, id) }) {
					break
				}
			}
			wantConn(t, c.agency+"'s caseEvents in COMMIT_ORDER", got, c.want...)
			if slices.Contains(got.ids(), gid(linked)) {
				t.Errorf("%s got the entry %d about vX", c.agency, linked)
			}
		}
	})
}

// TestNotFoundSaysOneThing: every NOT_FOUND of a record says the same
// words, however it arises: node(id:) and nodes(ids:) of an id that
// names nothing or a row outside the caller's rows, a non-null edge to
// such a row (a court's own decision in a proceeding it does not see,
// asked for its prosecution), and a mutation of a record the caller
// does not see. Until 2026-12-07 (twenty-second session) node and nodes
// said "No node with id N exists.", the edge "Not found." and casework
// "No case with that id exists."; now one message (apperr.RecordNotFound),
// which names no id, so a hidden row and a missing id answer the same
// bytes, not the same bytes once the ids are masked.
func TestNotFoundSaysOneThing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		// A decision court-tirane made in Durrës's proceeding, which
		// court-tirane does not see: it sees its own decisions.
		own := ok(e.db.Client.CourtDecision.Create().SetInstance(domain.InstanceFirstInstance).SetDecidedOn(past.Add(48 * time.Hour)).
			SetVerdict(domain.VerdictAcquitted).SetProsecutionID(f.pD).SetCourtID(f.id(t, "court-tirane")).Save(sys()))(t).ID
		judge := e.tok(t, "court-tirane", viewer.RoleJudge)
		var messages []string
		say := func(name string, r *testserver.Response, want ...string) {
			t.Helper()
			wantErrors(t, r, want...)
			for _, err := range r.Errors {
				messages = append(messages, name+": "+err.Message)
			}
		}

		node := e.do(t, judge, nodeQuery, map[string]any{"id": gid(missing(f.pD))})
		say("node(id:) of an id that names nothing", node, "NOT_FOUND  node")
		hidden := e.do(t, judge, nodeQuery, map[string]any{"id": gid(f.pD)})
		say("node(id:) of a row outside the caller's rows", hidden, "NOT_FOUND  node")
		if string(hidden.Body) != string(node.Body) {
			t.Errorf("a hidden row and a missing id answer different bytes:\n hidden  %s\n missing %s", hidden.Body, node.Body)
		}
		say("nodes(ids:)", e.do(t, judge, `query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			map[string]any{"ids": gids(f.pD, own, missing(f.pD))}), "NOT_FOUND  nodes.0", "NOT_FOUND  nodes.2")
		edge := e.do(t, judge, `query ($id: ID!) { node(id: $id) { ... on CourtDecision { id prosecution { id } } } }`, map[string]any{"id": gid(own)})
		say("CourtDecision.prosecution", edge, "NOT_FOUND  node.prosecution")
		if string(edge.Data) != `{"node":null}` {
			t.Errorf("the decision whose prosecution is refused: %s", edge.Data)
		}
		say("moveCaseStage", e.do(t, judge, `mutation ($id: ID!) { moveCaseStage(id: $id, expectedVersion: 1, stage: APPEAL) { id } }`,
			map[string]any{"id": gid(f.caseD)}), "NOT_FOUND  moveCaseStage")

		for _, m := range messages[1:] {
			if _, got, _ := strings.Cut(m, ": "); got != strings.SplitN(messages[0], ": ", 2)[1] {
				t.Errorf("NOT_FOUND says more than one thing:\n  %s", strings.Join(messages, "\n  "))
				break
			}
		}
	})
}
