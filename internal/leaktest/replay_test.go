package leaktest_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// Idempotent replays. A create retried with the idempotencyKey, the input
// and the caller of a create already made writes nothing and answers the
// record the first call made (casework.idempotent): as it was, read as the
// system, while it is unchanged (even outside the caller's rows), and read
// as the caller once it has changed (NOT_FOUND if it has left the caller's
// rows). Its payload's sensitive fields are decided afresh, for the
// replaying request, and recorded in the trail under its own request id.
// The mutation phase calls every keyed create with a key and replays it
// right after, then replays every one again twice after the world changed
// in ways that move field decisions: once after a consent naming every
// agency kind and purpose is added to the victims around the records made
// (a field refused for want of consent is then allowed), once after the
// case the police's records were made on is moved to another region and
// another police (the investigator's rows and its on_case rule lose it).
// Two records the keys made are changed over GraphQL on the way (the
// registered victim by its maker, the recorded suspect by the police that
// took its case), so that replays meet a changed record both in the
// caller's rows and out of them.
// Each replay is held to the read oracle in full, not only for what it
// shows: every denied field null with its FORBIDDEN, every allowed field
// the stored value, the trail holding exactly the decisions it carried.

// replayKeyArg is the argument naming a create's idempotency key.
const replayKeyArg = "idempotencyKey"

// keyedCreate is a create the mutation phase made under a key.
type keyedCreate struct {
	name, op, token string
	by              principal
	args            map[string]any
	typ             string
	id              int
}

// madeRecord is the record a keyed create's answer names (its typename and
// id at the root), or ok false when it made none.
func madeRecord(name string, resp *testserver.Response) (typ string, id int, ok bool) {
	data, _ := decodeJSON(resp.Data).(map[string]any)
	obj, _ := data[name].(map[string]any)
	typ, _ = obj["__typename"].(string)
	idStr, _ := obj["id"].(string)
	id, err := strconv.Atoi(idStr)
	return typ, id, err == nil && typ != ""
}

// version is the stored version of a record of a type the mutations
// create, and whether the world holds the record.
func (w *world) version(typ string, id int) (int, bool) {
	var row any
	switch typ {
	case "Case":
		row = stored(w.cases, id)
	case "Prosecution":
		row = stored(w.prosecutions, id)
	case "CourtDecision":
		row = stored(w.decisions, id)
	case "Charge":
		row = stored(w.charges, id)
	case "Referral":
		row = stored(w.referrals, id)
	default:
		row = w.row(typ, id)
	}
	if row == nil {
		return 0, false
	}
	return int(reflect.Indirect(reflect.ValueOf(row)).FieldByName("Version").Int()), true
}

// replayResult is what one replay met: the decisions its answer carried
// (which checkAudit compares with the trail under its request id), and
// how it answered: "unchanged, answered", "unchanged, refused through an
// edge", "changed, answered", "changed, refused through an edge" or
// "changed, NOT_FOUND" (changed: version > 1), "" for a finding.
type replayResult struct {
	decisions map[auditKey]bool
	outcome   string
}

// replayOnce sends k again and checks its answer with r (whose world is the
// database as it is now): the record k made, or NOT_FOUND where the record
// has changed and left the caller's rows, held to the full read oracle.
func (r *leakRun) replayOnce(k keyedCreate, label string) replayResult {
	resp := r.s.Do(r.t, k.token, k.op, k.args)
	name := "replay of " + k.name + " " + label
	rc := r.newChecks(name, resp, false)
	ver, stored := r.w.version(k.typ, k.id)
	vis, modelled := r.v.visible(k.typ, k.id)
	unchanged := stored && ver == 1
	state := "changed"
	if unchanged {
		state = "unchanged"
	}
	data, _ := decodeJSON(resp.Data).(map[string]any)
	root, _ := data[k.name].(map[string]any)
	errs := rc.errs[k.name]
	var res replayResult
	switch {
	case !stored:
		r.add("replay of a record gone", "%s: %s %d is no longer in the database", name, k.typ, k.id)
	case root != nil && (root["id"] != strconv.Itoa(k.id) || root["__typename"] != k.typ):
		r.add("replay answered another record", "%s: answered %v %v, the key made %s %d", name, root["__typename"], root["id"], k.typ, k.id)
	case root != nil && !unchanged && modelled && !vis:
		r.add("LEAK of a changed record outside the rows by a replay", "%s: %s %d (version %d) is outside the caller's rows, the replay showed it", name, k.typ, k.id, ver)
	case root != nil:
		// Answered as it was made, in the caller's rows or not, while
		// unchanged; once changed, as the caller reads it now.
		if unchanged {
			rc.replayRoot, rc.replayID = k.name, k.id
		}
		res.outcome = state + ", answered"
	case (unchanged || !modelled || vis) && r.refusedThrough(rc, k.name, nodeWant{typ: k.typ, id: k.id, single: true}):
		// Null for a non-null edge of it to a row outside the rows (not
		// for a changed record outside them, which is one NOT_FOUND: it
		// is read as the caller, and its fields are never decided).
		res.outcome = state + ", refused through an edge"
	case unchanged || (modelled && vis):
		r.add("replay withheld its record", "%s: %s %d (version %d) is null, errors %v", name, k.typ, k.id, ver, resp.Codes())
	case len(errs) != 1 || errs[0].e.Code() != "NOT_FOUND":
		r.add("replay of a record that left the rows", "%s: %s %d changed and left the caller's rows: want null and one NOT_FOUND, got errors %v", name, k.typ, k.id, resp.Codes())
	default:
		errs[0].used = true
		res.outcome = state + ", NOT_FOUND"
	}
	r.checkWith(rc, resp, nil)
	res.decisions = r.expectedEvents[rc.requestID]
	allowed := 0
	for d := range res.decisions {
		if d.allowed {
			allowed++
		}
	}
	r.t.Logf("%s by %s: %s %d (version %d, in the rows %v): errors %v; %d decisions allowed, %d refused",
		name, k.by, k.typ, k.id, ver, vis || !modelled, resp.Codes(), allowed, len(res.decisions)-allowed)
	return res
}

// replayAfterChanges replays every keyed create made twice more, each time
// after changing the world in a way that moves field decisions, and fails
// unless each change moved some decision of some replay: a consent added
// (some field refused before is allowed), then the police's case moved
// away (some field or row allowed before is refused). Records the keys
// made are changed over GraphQL too (changeKeyedRecord): the victim of
// registerVictim by its maker before both, the suspect of recordSuspect,
// once its case has moved away, by the police that took the case, after
// which it is replayed once more. The run fails unless the replays met
// every outcome of replayOutcomes.
func replayAfterChanges(t *testing.T, s *testserver.Server, db *database.DB, made []keyedCreate, before map[string]map[auditKey]bool, trailStart int64) {
	if len(made) == 0 {
		t.Fatal("no keyed create made a record: nothing was replayed")
	}
	met := map[string]int{}
	// run replays the keyed creates (those named in only, if any) in the
	// world as it is, and returns their decisions and that world.
	run := func(label string, only ...string) (map[string]map[auditKey]bool, *world) {
		w := loadWorld(t, db.Client)
		runs := map[string]*leakRun{}
		got := map[string]map[auditKey]bool{}
		for _, k := range made {
			if len(only) > 0 && !slices.Contains(only, k.name) {
				continue
			}
			r := runs[k.by.String()]
			if r == nil {
				r = newLeakRun(t, s, w, k.by, w.grants)
				r.trailAfter = trailStart
				runs[k.by.String()] = r
			}
			res := r.replayOnce(k, label)
			got[k.name] = res.decisions
			met[res.outcome]++
		}
		for _, r := range runs {
			var cov auditCoverage
			r.checkAudit(db, &cov)
			r.reportFindings(t)
		}
		return got, w
	}
	w := loadWorld(t, db.Client)
	changeKeyedRecord(t, s, w, made, "registerVictim", investigatorTirane, map[string]any{"address": mutationValue + " Changed Address"})
	addReplayConsents(t, db.Client, w, made)
	consented, _ := run("after a consent was added")
	if n := flipped(before, consented, false, true); n == 0 {
		t.Errorf("no replay's decision moved from refused to allowed after the consents were added: the change exercises nothing")
	} else {
		t.Logf("replays after a consent was added: %d decisions refused before are allowed", n)
	}
	moveCaseAway(t, db.Client, w, "police-tirane", "police-durres")
	moved, w := run("after the case moved away")
	if n := flipped(consented, moved, true, false); n == 0 {
		t.Errorf("no replay's decision moved from allowed to refused after the case moved away: the change exercises nothing")
	} else {
		t.Logf("replays after the case moved away: %d decisions allowed before are refused", n)
	}
	changeKeyedRecord(t, s, w, made, "recordSuspect",
		principal{roles: []viewer.Role{viewer.RoleInvestigator}, agency: "police-durres"}, map[string]any{"legalName": mutationValue + " Changed Suspect"})
	run("after another agency changed it", "recordSuspect")
	for _, want := range replayOutcomes {
		if met[want] == 0 {
			t.Errorf("no replay met a record %s (met: %v): that branch of the replays is not exercised", want, met)
		}
	}
	t.Logf("replays met: %v", met)
}

// replayOutcomes are the ways a replay must have answered in every run:
// an unchanged record nulled through a non-null edge out of the caller's
// rows, a changed one read as the caller, and a changed one out of the
// caller's rows.
var replayOutcomes = []string{"unchanged, refused through an edge", "changed, answered", "changed, NOT_FOUND"}

// changeKeyedRecord changes, over GraphQL and as by, the record the keyed
// create name made (update<Type> with input, a new sensitive value the
// byte scan then looks for where the caller may not read it): its version
// goes up, and every replay after it reads it as the caller, as it is now.
func changeKeyedRecord(t *testing.T, s *testserver.Server, w *world, made []keyedCreate, name string, by principal, input map[string]any) {
	t.Helper()
	i := slices.IndexFunc(made, func(k keyedCreate) bool { return k.name == name })
	if i < 0 {
		t.Fatalf("%s made no record under its key: there is no record of a key to change", name)
	}
	k := made[i]
	ver, ok := w.version(k.typ, k.id)
	if !ok {
		t.Fatalf("%s %d, made by %s, is not in the database", k.typ, k.id, name)
	}
	op := fmt.Sprintf(`mutation ($id: ID!, $v: Int!, $in: Update%[1]sInput!) { update%[1]s(id: $id, expectedVersion: $v, input: $in) { id version } }`, k.typ)
	resp := s.Do(t, s.Token(t, by.agency, by.roles...), op, map[string]any{"id": gid(k.id), "v": ver, "in": input}).MustOK(t)
	var data map[string]struct{ Version int }
	resp.Decode(t, &data)
	if got := data["update"+k.typ].Version; got != ver+1 {
		t.Fatalf("changing %s %d as %s: version %d, want %d: %s", k.typ, k.id, by, got, ver+1, resp.Body)
	}
	t.Logf("replays: %s %d (made by %s under its key) changed by %s over GraphQL", k.typ, k.id, name, by)
}

// flipped counts the decisions, over every replayed create, that were
// from before and are to after (the same field of the same row).
func flipped(before, after map[string]map[auditKey]bool, from, to bool) int {
	n := 0
	for name, got := range after {
		for k := range got {
			if k.allowed != to {
				continue
			}
			was := k
			was.allowed = from
			if before[name][was] {
				n++
			}
		}
	}
	return n
}

// addReplayConsents gives every victim around the records made (the
// record's own victim, or the victims of its case) a current consent
// naming every agency kind and every purpose.
func addReplayConsents(t *testing.T, c *ent.Client, w *world, made []keyedCreate) {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	must := fatalOn(t, "adding the replays' consents")
	victims := map[int]bool{}
	for _, k := range made {
		var vs []int
		switch k.typ {
		case "Victim":
			vs = []int{k.id}
		case "Consent":
			vs = []int{w.consents[k.id].VictimID}
		case "SupportService":
			vs = []int{w.services[k.id].VictimID}
		case "Referral":
			vs = []int{w.referrals[k.id].VictimID}
		case "Suspect":
			vs = w.victimsOfCase[w.suspects[k.id].CaseID]
		case "Case":
			vs = w.victimsOfCase[k.id]
		case "Prosecution":
			vs = w.victimsOfCase[w.prosecutions[k.id].CaseID]
		}
		for _, v := range vs {
			victims[v] = true
		}
	}
	onac := agencyOf(ctx, c, must, "onac")
	for _, id := range sortedKeys(victims) {
		givenBy := domain.ConsentGivenByVictim
		if w.victims[id].AgeGroup == domain.AgeGroupMinor {
			givenBy = domain.ConsentGivenByParentOrGuardian
		}
		must(c.Consent.Create().SetVictimID(id).SetAgencyKinds(domain.All[domain.AgencyKind]()).
			SetPurposes(domain.All[domain.ConsentPurpose]()).SetGivenBy(givenBy).SetGivenAt(time.Now().Add(-time.Hour)).
			SetRecordedBy("leak-test-replay").SetRecordedByAgencyID(onac.ID).Exec(ctx))
	}
	t.Logf("replays: a consent of every kind and purpose added to %d victims", len(victims))
}

// moveCaseAway moves the case from's records were made on (ledCase) to
// another region, led by to, and ends from's assignments to it: it leaves
// the rows of from's investigators (who see their region's cases) and
// their on_case rule.
func moveCaseAway(t *testing.T, c *ent.Client, w *world, from, to string) {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	must := fatalOn(t, "moving the replays' case away")
	id := w.ledCase(from)
	if id == 0 {
		t.Fatalf("%s leads no case to move", from)
	}
	other := w.byCode[to]
	if other == nil || other.Region == nil || *other.Region == w.cases[id].Region {
		t.Fatalf("%s is no agency of another region than case %d's", to, id)
	}
	_, err := c.CaseAssignment.Delete().Where(caseassignment.CaseID(id), caseassignment.AgencyID(w.byCode[from].ID)).Exec(ctx)
	must(err)
	must(c.CaseFile.UpdateOneID(id).SetRegion(*other.Region).SetLeadAgencyID(other.ID).Exec(ctx))
	t.Logf("replays: case %d moved from %s to %s (%s)", id, from, to, *other.Region)
}

// replayRootAllowed reports whether the object at path is the record an
// unchanged replay answers, which it answers as made even outside the
// caller's rows.
func (rc *responseChecks) replayRootAllowed(at string, id int) bool {
	return rc.replayRoot != "" && at == rc.replayRoot && id == rc.replayID
}
