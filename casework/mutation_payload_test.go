package casework_test

// End-to-end tests of the rule of docs/mutations.md: a mutation that
// succeeds is committed, whatever its payload the caller may not read; the
// payload's field checks see what the mutation just did; mutations of one
// document commit one by one.

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// payloadSelection selects, on the payload type typ, its id and version,
// every sensitive field of typ, and every sensitive field reachable from
// it, each type by its shortest path (breadth first, through objects and
// connections), with __typename on every object.
func payloadSelection(schema *ast.Schema, typ string) string {
	type node struct {
		typ      string
		fields   []string
		children []*node
		names    []string // the field (with "edges { node" around it for a connection) leading to each child
	}
	root := &node{typ: typ}
	visited := map[string]bool{typ: true}
	queue := []*node{root}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		def := schema.Types[n.typ]
		n.fields = append(n.fields, "__typename")
		for _, f := range def.Fields {
			if (f.Name == "id" || f.Name == "version") && n == root || f.Directives.ForName("sensitive") != nil {
				n.fields = append(n.fields, f.Name)
			}
		}
		for _, f := range def.Fields {
			if required(f) {
				continue
			}
			target, wrap, call := f.Type.Name(), "%s", f.Name
			if conn := schema.Types[target]; conn != nil && conn.Kind == ast.Object && strings.HasSuffix(target, "Connection") {
				edge := schema.Types[conn.Fields.ForName("edges").Type.Name()]
				// A small page: what is checked is the payload's fields, and
				// the request must stay under the cost ceiling.
				target, wrap, call = edge.Fields.ForName("node").Type.Name(), "edges { node { %s } }", f.Name+"(first: 5)"
			}
			td := schema.Types[target]
			if td == nil || td.Kind != ast.Object || visited[target] || strings.HasPrefix(target, "__") {
				continue
			}
			visited[target] = true
			child := &node{typ: target}
			n.children = append(n.children, child)
			n.names = append(n.names, call+" { "+wrap+" }")
			queue = append(queue, child)
		}
	}
	// Keep only the branches that reach a sensitive field.
	var render func(n *node) (string, bool)
	render = func(n *node) (string, bool) {
		parts := slices.Clone(n.fields)
		sensitive := false
		for _, f := range n.fields {
			if d := schema.Types[n.typ].Fields.ForName(f); d != nil && d.Directives.ForName("sensitive") != nil {
				sensitive = true
			}
		}
		for i, c := range n.children {
			if sel, ok := render(c); ok {
				parts = append(parts, fmt.Sprintf(n.names[i], sel))
				sensitive = true
			}
		}
		return strings.Join(parts, " "), sensitive
	}
	sel, _ := render(root)
	return "{ " + sel + " }"
}

func required(f *ast.FieldDefinition) bool {
	for _, a := range f.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			return true
		}
	}
	return false
}

// sensitiveValues lists "Type.field" for every sensitive field that has a
// value in data (objects carry __typename).
func sensitiveValues(schema *ast.Schema, data any) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			typ, _ := x["__typename"].(string)
			for k, val := range x {
				if def := schema.Types[typ]; def != nil && val != nil {
					if f := def.Fields.ForName(k); f != nil && f.Directives.ForName("sensitive") != nil {
						out = append(out, typ+"."+k)
					}
				}
				walk(val)
			}
		case []any:
			for _, it := range x {
				walk(it)
			}
		}
	}
	walk(data)
	slices.Sort(out)
	return slices.Compact(out)
}

// payloadWorld is what a mutation needs to exist before it runs: a case led
// by police-tirane, worked on by court-tirane and the two support
// agencies, with a victim who has given no consent, a suspect and a
// proceeding of prosecution-tirane.
type payloadWorld struct {
	c           caseT
	v           victimT
	s           suspectT
	p           prosecutionT
	policeKind  string
	policeDPO   principal
	admin       principal
	justifyHelp string
}

func newPayloadWorld(t *testing.T, h *harness) *payloadWorld {
	t.Helper()
	w := &payloadWorld{c: h.openCase(t)}
	h.assign(t, w.c.ID, "ADJUDICATING", "court-tirane")
	h.assign(t, w.c.ID, "SUPPORTING", "ngo-vatra", "shelter-national")
	w.v, w.s = namedVictimAndSuspect(t, h, w.c.ID)
	w.p = h.registerProsecution(t, w.c.ID, date(3, 2), w.s.ID)
	a, err := h.s.DB.Client.Agency.Query().Where(agency.Code("police-tirane")).Only(systemCtx())
	if err != nil {
		t.Fatal(err)
	}
	w.policeKind = string(a.Kind)
	w.policeDPO = h.principal(t, "police-tirane", viewer.RoleDPO)
	w.admin = h.principal(t, "police-gd", viewer.RoleAdmin)
	w.justifyHelp = "A victim is missing; the family must be reached now."
	return w
}

// namedVictimAndSuspect adds to a case a victim and a suspect whose names
// are stored, so that a name the caller may read carries a value.
func namedVictimAndSuspect(t *testing.T, h *harness, caseID string) (victimT, suspectT) {
	t.Helper()
	in := victimInput(newVictimName(), 25)
	in["legalName"] = "Victim Named"
	v := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": in, "cases": []string{caseID}})
	s := call[suspectT](t, h, h.police, recordSuspectMutation, map[string]any{"in": map[string]any{
		"pseudonym": newSuspectName(), "sex": "MALE", "nationality": "AL", "role": "RECRUITER", "caseID": caseID, "legalName": "Suspect Named",
	}})
	return v, s
}

// payloadCase is one mutation called by a role that may make it, whose
// payload selects every sensitive field reachable from it.
type payloadCase struct {
	who func(h *harness, w *payloadWorld) principal
	// op is the operation with %s where the payload's selection goes.
	op   string
	vars func(t *testing.T, h *harness, w *payloadWorld) map[string]any
	// allowed and refused are sensitive fields ("Type.field") the payload
	// must carry, and must answer null with FORBIDDEN: allowed ones often
	// only because the checks see what the mutation did.
	allowed, refused []string
	// stored checks the write in the database, beyond the row being there.
	stored func(t *testing.T, h *harness, w *payloadWorld, payload map[string]any)
}

func police(h *harness, _ *payloadWorld) principal     { return h.police }
func prosecutor(h *harness, _ *payloadWorld) principal { return h.prosecutor }
func judge(h *harness, _ *payloadWorld) principal      { return h.judge }

// payloadCases has a case for every mutation of the schema; a mutation
// added without one fails TestMutationPayloadCommits.
func payloadCases() map[string]payloadCase {
	consentInput := func(w *payloadWorld) map[string]any {
		return map[string]any{"victimID": w.v.ID, "givenBy": "VICTIM", "givenAt": stamp(time.Now().Add(-time.Hour)),
			"agencyKinds": []string{w.policeKind}, "purposes": []string{"CRIMINAL_PROCEEDINGS"}}
	}
	decisionInput := func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
		w.p = h.bringToTrial(t, w.p)
		return map[string]any{"instance": "FIRST_INSTANCE", "decidedOn": stamp(date(10, 1)), "verdict": "CONVICTED",
			"sentenceKind": "IMPRISONMENT", "sentenceMonths": 96, "prosecutionID": w.p.ID, "courtID": h.agency(t, "court-tirane")}
	}
	serviceInput := func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
		return map[string]any{"kind": "SHELTER", "startedOn": stamp(date(4, 1)), "notes": "Placed after identification.",
			"victimID": w.v.ID, "providerID": h.agency(t, "shelter-national")}
	}
	shelter := func(h *harness, _ *payloadWorld) principal { return h.shelter }
	charge := func(t *testing.T, h *harness, w *payloadWorld) chargeT {
		return call[chargeT](t, h, h.prosecutor, addChargeMutation, map[string]any{"in": map[string]any{
			"article": "CC_110A", "prosecutionID": w.p.ID, "suspectID": w.s.ID}})
	}
	victimFields := []string{"Victim.healthNotes"}
	return map[string]payloadCase{
		"openCase": {who: police, op: `mutation($in: CreateCaseInput!) { openCase(input: $in) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"in": caseInput(h, t, newReference(), "police-tirane")}
			}},
		"updateCase": {who: police, op: `mutation($id: ID!, $v: Int!) { updateCase(id: $id, expectedVersion: $v, input: {title: "Renamed"}) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"id": w.c.ID, "v": currentVersion(t, h, w.c.ID)}
			},
			allowed: []string{"Victim.exactAge"}, refused: []string{"Victim.legalName", "Victim.healthNotes"}},
		"moveCaseStage": {who: police, op: `mutation($id: ID!, $v: Int!) { moveCaseStage(id: $id, expectedVersion: $v, stage: REGISTERED) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				c := h.openCase(t)
				h.registerVictim(t, 30, c.ID)
				return map[string]any{"id": c.ID, "v": currentVersion(t, h, c.ID)}
			},
			allowed: []string{"Victim.exactAge"}, refused: []string{"Victim.legalName"}},
		"assignAgencyToCase": {who: police, op: `mutation($c: ID!, $a: ID!) { assignAgencyToCase(caseID: $c, agencyID: $a, part: INVESTIGATING) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"c": w.c.ID, "a": h.agency(t, "police-durres")}
			},
			allowed: []string{"Victim.exactAge"}, refused: []string{"Victim.legalName"}},
		"registerVictim": {who: police, op: `mutation($in: CreateVictimInput!, $c: [ID!]) { registerVictim(input: $in, caseIDs: $c) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				in := victimInput(newVictimName(), 31)
				in["legalName"] = "Written Not Read"
				return map[string]any{"in": in, "c": []string{w.c.ID}}
			},
			// exactAge is read under on_case: allowed only because the
			// check sees the link to the case the mutation made.
			allowed: []string{"Victim.exactAge"}, refused: []string{"Victim.legalName", "Victim.healthNotes"},
			stored: func(t *testing.T, h *harness, _ *payloadWorld, payload map[string]any) {
				if v := h.stored(t, payload["id"].(string)); v.LegalName == nil || *v.LegalName != "Written Not Read" {
					t.Errorf("stored legalName = %v, want the one written", v.LegalName)
				}
			}},
		"updateVictim": {who: police, op: `mutation($id: ID!, $v: Int!) { updateVictim(id: $id, expectedVersion: $v, input: {phone: "+355690000001"}) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"id": w.v.ID, "v": currentVersion(t, h, w.v.ID)}
			},
			allowed: []string{"Victim.exactAge"}, refused: []string{"Victim.phone", "Victim.legalName"},
			stored: func(t *testing.T, h *harness, w *payloadWorld, _ map[string]any) {
				if v := h.stored(t, w.v.ID); v.Phone == nil || *v.Phone != "+355690000001" {
					t.Errorf("stored phone = %v, want the one written", v.Phone)
				}
			}},
		"linkVictimToCase": {who: police, op: `mutation($v: ID!, $c: ID!) { linkVictimToCase(victimID: $v, caseID: $c) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"v": h.registerVictim(t, 40).ID, "c": w.c.ID}
			},
			allowed: []string{"Victim.exactAge"}, refused: []string{"Victim.legalName"}},
		"recordConsent": {who: police, op: `mutation($in: CreateConsentInput!) { recordConsent(input: $in) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"in": consentInput(w)}
			},
			// The consent the mutation records opens the victim's identity.
			allowed: []string{"Victim.legalName"}, refused: victimFields},
		"withdrawConsent": {who: police, op: `mutation($id: ID!) { withdrawConsent(id: $id, expectedVersion: 1) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				cs := call[consentT](t, h, h.police, recordConsentMutation, map[string]any{"in": consentInput(w)})
				return map[string]any{"id": cs.ID}
			},
			// The withdrawal closes it again, in the same response.
			refused: []string{"Victim.legalName", "Victim.healthNotes"}},
		"recordSuspect": {who: police, op: `mutation($in: CreateSuspectInput!) { recordSuspect(input: $in) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"in": map[string]any{"pseudonym": newSuspectName(), "sex": "MALE", "nationality": "AL",
					"role": "RECRUITER", "caseID": w.c.ID, "legalName": "Suspect Written"}}
			},
			allowed: []string{"Suspect.legalName"}, refused: []string{"Victim.legalName"}},
		"updateSuspect": {who: police, op: `mutation($id: ID!, $v: Int!) { updateSuspect(id: $id, expectedVersion: $v, input: {role: ORGANISER}) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"id": w.s.ID, "v": currentVersion(t, h, w.s.ID)}
			},
			refused: []string{"Victim.legalName"}},
		"registerProsecution": {who: prosecutor, op: `mutation($in: CreateProsecutionInput!) { registerProsecution(input: $in) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				// A case prosecution-tirane has no standing on until the
				// proceeding this mutation registers.
				c := h.openCase(t)
				_, s := namedVictimAndSuspect(t, h, c.ID)
				return map[string]any{"in": map[string]any{"registrationNumber": newRegistration(), "registeredAt": stamp(date(3, 2)),
					"caseID": c.ID, "officeID": h.agency(t, "prosecution-tirane"), "defendantIDs": []string{s.ID}}}
			},
			// The proceeding it registers is the prosecutor's basis.
			allowed: []string{"Victim.legalName", "Suspect.legalName"}, refused: victimFields},
		"updateProsecution": {who: prosecutor, op: `mutation($id: ID!, $v: Int!, $at: Time) { updateProsecution(id: $id, expectedVersion: $v, input: {registeredAt: $at}) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"id": w.p.ID, "v": currentVersion(t, h, w.p.ID), "at": stamp(date(3, 3))}
			},
			allowed: []string{"Victim.legalName"}, refused: victimFields},
		"moveProsecutionStage": {who: prosecutor, op: `mutation($id: ID!, $v: Int!) { moveProsecutionStage(id: $id, expectedVersion: $v, stage: UNDER_INVESTIGATION) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"id": w.p.ID, "v": currentVersion(t, h, w.p.ID)}
			},
			allowed: []string{"Victim.legalName"}, refused: victimFields},
		"extendInvestigationDeadline": {who: prosecutor, op: `mutation($id: ID!, $v: Int!, $until: Time!) { extendInvestigationDeadline(id: $id, expectedVersion: $v, until: $until) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				started := date(3, 10)
				p := h.moveProsecution(t, w.p, "UNDER_INVESTIGATION", &started)
				return map[string]any{"id": p.ID, "v": p.Version, "until": stamp(date(8, 10))}
			},
			allowed: []string{"Victim.legalName"}, refused: victimFields},
		"addCharge": {who: prosecutor, op: `mutation($in: CreateChargeInput!) { addCharge(input: $in) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"in": map[string]any{"article": "CC_110A", "prosecutionID": w.p.ID, "suspectID": w.s.ID}}
			},
			allowed: []string{"Victim.legalName", "Suspect.legalName"}, refused: victimFields},
		"reclassifyCharge": {who: prosecutor, op: `mutation($id: ID!, $v: Int!) { reclassifyCharge(id: $id, expectedVersion: $v, article: CC_128B) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				ch := charge(t, h, w)
				return map[string]any{"id": ch.ID, "v": ch.Version}
			},
			allowed: []string{"Victim.legalName"}, refused: victimFields},
		"recordCourtDecision": {who: judge, op: `mutation($in: CreateCourtDecisionInput!) { recordCourtDecision(input: $in) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"in": decisionInput(t, h, w)}
			},
			allowed: []string{"Victim.legalName"}, refused: []string{"Victim.phone", "Victim.healthNotes"}},
		"updateCourtDecision": {who: judge, op: `mutation($id: ID!) { updateCourtDecision(id: $id, expectedVersion: 1, input: {compensationPaid: true}) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				d := call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": decisionInput(t, h, w)})
				return map[string]any{"id": d.ID}
			},
			allowed: []string{"Victim.legalName"}, refused: []string{"Victim.phone", "Victim.healthNotes"}},
		"createReferral": {who: police, op: `mutation($in: CreateReferralInput!) { createReferral(input: $in) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"in": h.referralInput(t, w.v.ID, w.c.ID)}
			},
			allowed: []string{"Victim.exactAge"}, refused: []string{"Victim.legalName", "Victim.healthNotes"}},
		"moveReferralStatus": {who: func(h *harness, _ *payloadWorld) principal { return h.ngo },
			op: `mutation($id: ID!, $v: Int!) { moveReferralStatus(id: $id, expectedVersion: $v, status: ACCEPTED) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				r := call[referralT](t, h, h.police, createReferralMutation, map[string]any{"in": h.referralInput(t, w.v.ID, w.c.ID)})
				return map[string]any{"id": r.ID, "v": r.Version}
			},
			// Accepting the referral opens what needs no consent.
			allowed: []string{"Victim.exactAge"}, refused: []string{"Victim.legalName", "Victim.healthNotes"}},
		"recordSupportService": {who: shelter, op: `mutation($in: CreateSupportServiceInput!) { recordSupportService(input: $in) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"in": serviceInput(t, h, w)}
			},
			refused: []string{"SupportService.notes", "Victim.legalName"},
			stored: func(t *testing.T, h *harness, _ *payloadWorld, payload map[string]any) {
				if s := h.storedService(t, payload["id"].(string)); s.Notes == nil || *s.Notes != "Placed after identification." {
					t.Errorf("stored notes = %v, want the ones written", s.Notes)
				}
			}},
		"updateSupportService": {who: shelter, op: `mutation($id: ID!) { updateSupportService(id: $id, expectedVersion: 1, input: {notes: "Moved to a safer place."}) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				s := call[serviceT](t, h, h.shelter, recordServiceMutation, map[string]any{"in": serviceInput(t, h, w)})
				return map[string]any{"id": s.ID}
			},
			refused: []string{"SupportService.notes", "Victim.legalName"},
			stored: func(t *testing.T, h *harness, _ *payloadWorld, payload map[string]any) {
				if s := h.storedService(t, payload["id"].(string)); s.Notes == nil || *s.Notes != "Moved to a safer place." {
					t.Errorf("stored notes = %v, want the ones written", s.Notes)
				}
			}},
		"requestEmergencyAccess": {who: police, op: `mutation($c: ID!, $j: String!) { requestEmergencyAccess(caseID: $c, justification: $j, hours: 1) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"c": w.c.ID, "j": w.justifyHelp}
			}},
		"revokeEmergencyAccess": {who: func(_ *harness, w *payloadWorld) principal { return w.policeDPO },
			op: `mutation($id: ID!) { revokeEmergencyAccess(id: $id) %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				var g struct{ RequestEmergencyAccess struct{ ID string } }
				h.do(t, h.police, `mutation($c: ID!, $j: String!) { requestEmergencyAccess(caseID: $c, justification: $j, hours: 1) { id } }`,
					map[string]any{"c": w.c.ID, "j": w.justifyHelp}).MustOK(t).Decode(t, &g)
				return map[string]any{"id": g.RequestEmergencyAccess.ID}
			}},
		"changePolicy": {who: func(_ *harness, w *payloadWorld) principal { return w.admin },
			op: `mutation($add: [[String!]!]) { changePolicy(add: $add, reason: "Coordinators record suspects in the pilot.") %s }`,
			vars: func(t *testing.T, h *harness, w *payloadWorld) map[string]any {
				return map[string]any{"add": [][]string{{"p", "coordinator", "governance", "Mutation.recordSuspect", "call", "any"}}}
			},
			stored: func(t *testing.T, h *harness, w *payloadWorld, _ map[string]any) {
				var data struct{ PolicyLines [][]string }
				h.do(t, w.admin, `{ policyLines }`, nil).MustOK(t).Decode(t, &data)
				if !slices.ContainsFunc(data.PolicyLines, func(l []string) bool {
					return slices.Equal(l, []string{"p", "coordinator", "governance", "Mutation.recordSuspect", "call", "any"})
				}) {
					t.Errorf("the added line is not in the policy: %v", data.PolicyLines)
				}
			}},
	}
}

// currentVersion reads the version of a record from the database.
func currentVersion(t *testing.T, h *harness, id string) int {
	t.Helper()
	n, err := h.s.DB.Client.Noder(systemCtx(), atoi(t, id))
	if err != nil {
		t.Fatalf("loading %s: %v", id, err)
	}
	return int(reflect.ValueOf(n).Elem().FieldByName("Version").Int())
}

// TestMutationPayloadCommits calls every mutation of the schema with a
// payload selecting every sensitive field reachable from it, as a role that
// may make the mutation but not read some of those fields: the mutation is
// committed, its payload says so (id, version), the fields the role may not
// read are null with FORBIDDEN on their paths and nothing else is refused,
// and the fields it may read (sometimes only thanks to what the mutation
// just did) carry their values.
func TestMutationPayloadCommits(t *testing.T) {
	schema := servedSchema()
	cases := payloadCases()
	var names []string
	for _, f := range schema.Mutation.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		names = append(names, f.Name)
		if _, ok := cases[f.Name]; !ok {
			t.Errorf("mutation %s has no payload test: add it to payloadCases", f.Name)
		}
	}
	for name := range cases {
		if schema.Mutation.Fields.ForName(name) == nil {
			t.Errorf("payloadCases tests %s, which the schema does not have", name)
		}
	}
	sort.Strings(names)
	each(t, func(t *testing.T, h *harness) {
		for _, name := range names {
			tc, ok := cases[name]
			if !ok {
				continue
			}
			t.Run(name, func(t *testing.T) {
				w := newPayloadWorld(t, h)
				def := schema.Mutation.Fields.ForName(name)
				query := fmt.Sprintf(tc.op, payloadSelection(schema, def.Type.Name()))
				vars := tc.vars(t, h, w)
				r := h.do(t, tc.who(h, w), query, vars)
				var data map[string]any
				r.Decode(t, &data)
				payload, _ := data[name].(map[string]any)
				if payload == nil {
					t.Fatalf("%s answered no payload:\n%s", name, r.Body)
				}
				var refused []string
				for _, e := range r.Errors {
					field, _ := e.Extensions["field"].(string)
					if e.Code() != "FORBIDDEN" || len(e.Path) < 2 || e.Path[0] != name || !isSensitive(schema, field) ||
						e.Path[len(e.Path)-1] != field[strings.Index(field, ".")+1:] {
						t.Errorf("unexpected error %+v in:\n%s", e, r.Body)
						continue
					}
					if v := valueAt(data, e.Path); v != nil {
						t.Errorf("%v is refused but has a value: %v", e.Path, v)
					}
					refused = append(refused, field)
				}
				for _, f := range tc.refused {
					if !slices.Contains(refused, f) {
						t.Errorf("%s is not refused in the payload:\n%s", f, r.Body)
					}
				}
				got := sensitiveValues(schema, data)
				for _, f := range tc.allowed {
					if !slices.Contains(got, f) {
						t.Errorf("%s has no value in the payload (refused: %v):\n%s", f, refused, r.Body)
					}
				}
				if id, ok := payload["id"].(string); ok {
					n, err := h.s.DB.Client.Noder(systemCtx(), atoi(t, id))
					if err != nil {
						t.Fatalf("the %s the payload names (%s) is not in the database: %v", def.Type.Name(), id, err)
					}
					stored := int(reflect.ValueOf(n).Elem().FieldByName("Version").Int())
					if v, _ := payload["version"].(float64); int(v) != stored {
						t.Errorf("payload version %v, stored %d: the payload reports a write that is not there", payload["version"], stored)
					}
				}
				if tc.stored != nil {
					tc.stored(t, h, w, payload)
				}
			})
		}
	})
}

func isSensitive(schema *ast.Schema, field string) bool {
	typ, name, ok := strings.Cut(field, ".")
	if !ok || schema.Types[typ] == nil {
		return false
	}
	f := schema.Types[typ].Fields.ForName(name)
	return f != nil && f.Directives.ForName("sensitive") != nil
}

// valueAt is the value at a response path.
func valueAt(data any, path []any) any {
	cur := data
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := cur.(map[string]any)
			cur = m[k]
		case float64:
			l, _ := cur.([]any)
			if int(k) >= len(l) {
				return nil
			}
			cur = l[int(k)]
		}
	}
	return cur
}

// TestMutationsOfOneDocumentCommitEach: mutations of one document run one
// after another and each commits on its own; one that fails is null with
// its own error and writes nothing, and neither undoes an earlier success
// nor stops a later mutation.
func TestMutationsOfOneDocumentCommitEach(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		first, third := newReference(), newReference()
		q := `mutation($a: CreateCaseInput!, $b: CreateCaseInput!, $c: CreateCaseInput!) {
			a: openCase(input: $a) { id reference }
			b: openCase(input: $b) { id reference }
			c: openCase(input: $c) { id reference }
		}`
		before := h.rows(t)
		r := h.do(t, h.police, q, map[string]any{
			"a": caseInput(h, t, first, "police-tirane"),
			"b": caseInput(h, t, first, "police-tirane"), // the same reference: CONFLICT
			"c": caseInput(h, t, third, "police-tirane"),
		})
		var data map[string]*struct{ ID, Reference string }
		r.Decode(t, &data)
		if len(r.Errors) != 1 || r.Errors[0].Code() != "CONFLICT" || len(r.Errors[0].Path) != 1 || r.Errors[0].Path[0] != "b" {
			t.Errorf("want one CONFLICT on b:\n%s", r.Body)
		}
		if data["a"] == nil || data["a"].Reference != first || data["b"] != nil || data["c"] == nil || data["c"].Reference != third {
			t.Fatalf("want a and c reported, b null:\n%s", r.Body)
		}
		for _, alias := range []string{"a", "c"} {
			if _, err := h.s.DB.Client.Noder(systemCtx(), atoi(t, data[alias].ID)); err != nil {
				t.Errorf("%s is reported but not in the database: %v", alias, err)
			}
		}
		after := h.rows(t)
		if n := after["case_files"] - before["case_files"]; n != 2 {
			t.Errorf("%d cases were opened, want 2 (a and c): %s", n, diffCounts(before, after))
		}
	})
}

// TestMutationPayloadAudit: the reads of a committed mutation's payload are
// in the audit trail with its change, when the response has left.
func TestMutationPayloadAudit(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		r := h.do(t, h.police, `mutation($in: CreateVictimInput!, $c: [ID!]) { registerVictim(input: $in, caseIDs: $c) { id pseudonym legalName exactAge } }`,
			map[string]any{"in": victimInput(newVictimName(), 29), "c": []string{c.ID}})
		var data struct{ RegisterVictim struct{ ID string } }
		r.Decode(t, &data)
		if data.RegisterVictim.ID == "" || !slices.Equal(r.Codes(), []string{"FORBIDDEN"}) {
			t.Fatalf("want the victim registered and legalName refused:\n%s", r.Body)
		}
		id := atoi(t, data.RegisterVictim.ID)
		events := auditEventsOf(t, h.s, r.Header.Get("X-Request-Id"))
		var kinds []string
		for _, e := range events {
			if e.EntityID != id || e.EntityType != "Victim" {
				continue
			}
			switch {
			case e.Kind == audit.Mutation && e.Decision == audit.Allowed:
				kinds = append(kinds, "change")
			case e.Kind == audit.FieldAccess && e.Decision == audit.Allowed && slices.Equal(e.Fields, []string{"Victim.exactAge"}):
				kinds = append(kinds, "read exactAge")
			case e.Kind == audit.FieldAccess && e.Decision == audit.Denied && slices.Equal(e.Fields, []string{"Victim.legalName"}):
				if strings.Contains(e.Reason, "not in your agency's cases") {
					t.Errorf("the refusal did not see the case link the mutation made: %q", e.Reason)
				}
				kinds = append(kinds, "refused legalName")
			}
		}
		slices.Sort(kinds)
		if want := []string{"change", "read exactAge", "refused legalName"}; !slices.Equal(slices.Compact(kinds), want) {
			t.Errorf("audit events of the victim = %v, want %v", kinds, want)
		}
	})
}

// auditEventsOf reads the audit events of one request from the database.
func auditEventsOf(t *testing.T, s *testserver.Server, requestID string) []audit.Event {
	t.Helper()
	var out []audit.Event
	for _, e := range testdb.AuditTrail(t, s.DB) {
		if e.RequestID == requestID {
			out = append(out, e)
		}
	}
	return out
}

// servedSchema is the schema the GraphQL handler serves.
func servedSchema() *ast.Schema {
	return graph.NewExecutableSchema(graph.Config{}).Schema()
}
