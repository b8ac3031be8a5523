package leaktest_test

// TestNoSensitiveValueLeaks is an end-to-end leak test. It seeds the demo
// data, then, for a principal of every role at several agencies, sends a
// battery of real GraphQL queries over HTTP (top-level lists paged both
// ways, nested edges in both directions, agencies → cases, node and nodes
// over every victim, suspect and support service in the database and over
// every case, proceeding, referral and consent, and over every review
// naming the decision it reviews, aliases, inline and named fragments,
// filters and orderings, one query over GET) asking for every
// sensitive field, and checks every response against an oracle written here
// from the rules of policies/policy.csv and the facts in the database (read
// with system rights, never through package authz):
//
//   - the raw bytes of every response (and of every cursor, decoded) hold no
//     value of a sensitive field the principal may not read, unless a row the
//     principal may read carries the same value;
//   - every returned victim, suspect, support service, case, referral,
//     proceeding, court decision, consent and emergency grant is within the
//     principal's rows, and every nested edge holds only the related rows
//     the principal sees (an edge to one row, such as a review's
//     reviewedDecision, holds it when the principal sees it, else is null);
//   - every sensitive field the oracle denies is null with exactly one
//     FORBIDDEN error on its path naming the field; every field it allows
//     holds the true value (so the test cannot pass by returning nothing);
//     no other error occurs;
//   - totalCount equals the rows reachable by paging and the rows the
//     oracle says the principal sees, for top-level lists and nested edges;
//   - node(id) and nodes(ids) of a row outside the principal's rows answer
//     exactly as for an id that names nothing;
//   - one principal holds an emergency grant, which must open that case's
//     victims and suspects and nothing else;
//   - the server's log holds no sensitive value at all.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

type principal struct {
	// roles the token names: the first is the one the subject is named
	// after; with several, the principal may do what any of them may.
	roles  []viewer.Role
	agency string
	// seesIdentity: the oracle must allow, and the response must show, at
	// least one victim's legal name.
	seesIdentity bool
	// emergency: the principal first asks for emergency access to a case of
	// its region (which opens every sensitive field of that case's victims
	// and suspects, and only theirs).
	emergency bool
}

func (p principal) String() string {
	names := make([]string, len(p.roles))
	for i, r := range p.roles {
		names[i] = string(r)
	}
	return strings.Join(names, "+") + "@" + p.agency
}

// has reports whether the principal holds role.
func (p principal) has(role viewer.Role) bool { return slices.Contains(p.roles, role) }

var principals = []principal{
	{[]viewer.Role{viewer.RoleInvestigator}, "police-tirane", true, false},
	{[]viewer.Role{viewer.RoleInvestigator}, "police-gd", false, false},
	{[]viewer.Role{viewer.RoleInvestigator}, "border-police", false, false},
	{[]viewer.Role{viewer.RoleProsecutor}, "prosecution-tirane", true, false},
	{[]viewer.Role{viewer.RoleProsecutor}, "spak", false, false},
	{[]viewer.Role{viewer.RoleProsecutor}, "prosecution-general", false, false},
	{[]viewer.Role{viewer.RoleJudge}, "court-tirane", true, false},
	// An appellate court, which also sees its own review of a proceeding
	// it does not see (addUnseenProceedingReview).
	{[]viewer.Role{viewer.RoleJudge}, "court-appeal", true, false},
	{[]viewer.Role{viewer.RoleCaseWorker}, "ngo-vatra", true, false},
	{[]viewer.Role{viewer.RoleCaseWorker}, "shelter-national", false, false},
	{[]viewer.Role{viewer.RoleCaseWorker}, "miu-durres", false, false},
	{[]viewer.Role{viewer.RoleCaseWorker}, "social-service", false, false},
	{[]viewer.Role{viewer.RoleCoordinator}, "onac", false, false},
	{[]viewer.Role{viewer.RoleAnalyst}, "onac", false, false},
	{[]viewer.Role{viewer.RoleDPO}, "police-tirane", false, false},
	{[]viewer.Role{viewer.RoleAdmin}, "onac", false, false},
	{[]viewer.Role{viewer.RoleInvestigator}, "police-durres", false, true},
	// The data protection officer of the agency that holds a grant.
	{[]viewer.Role{viewer.RoleDPO}, "police-durres", false, false},
	// A token with two roles: the analyst's rows (every one) must not
	// widen the investigator's fields (its cases, with consent).
	{[]viewer.Role{viewer.RoleInvestigator, viewer.RoleAnalyst}, "police-tirane", true, false},
}

func (r *leakRun) report(t *testing.T) {
	v := r.v
	names := 0
	for k := range r.allowedSeen {
		if k.typ == "Victim" && k.field == "legalName" {
			names++
		}
	}
	t.Logf("%s (rows: cases %s, victims %s): %d responses, %d bytes scanned; sees %d cases, %d victims, %d suspects, %d services; "+
		"allowed values seen %d (victims' legal names %d of the %d allowed), allowed fields checked %d, denied fields checked %d",
		v.p, v.caseLvl, v.victLvl, r.responses, r.bytes, len(v.rows["Case"]), len(v.rows["Victim"]), len(v.rows["Suspect"]), len(v.rows["SupportService"]),
		len(r.allowedSeen), names, v.nAllowed["Victim.legalName"], r.allowedChecked, r.deniedChecked)
	var fields []string
	for f, n := range v.nAllowed {
		fields = append(fields, fmt.Sprintf("%s=%d", f, n))
	}
	sort.Strings(fields)
	if len(fields) > 0 {
		t.Logf("%s: the oracle allows %s", v.p, strings.Join(fields, " "))
	}
	if v.p.seesIdentity {
		if v.nAllowed["Victim.legalName"] == 0 {
			t.Errorf("%s: the oracle allows no victim's legal name; the demo data no longer exercises this principal", v.p)
		}
		if names == 0 {
			t.Errorf("%s: no allowed victim's legal name appeared in any response", v.p)
		}
	}
	if v.nAllowed["Victim.legalName"] > 0 && names == 0 {
		r.add("allowed value withheld", "%s: the oracle allows %d legal names, none was returned", v.p, v.nAllowed["Victim.legalName"])
	}
	r.reportFindings(t)
}

// reportFindings fails the test with the findings of the run, grouped.
func (r *leakRun) reportFindings(t *testing.T) {
	v := r.v
	for _, cat := range r.order {
		list := r.findings[cat]
		count, example, sigs := map[string]int{}, map[string]string{}, []string(nil)
		for _, f := range list {
			if count[f.sig] == 0 {
				sigs = append(sigs, f.sig)
				example[f.sig] = f.msg
			}
			count[f.sig]++
		}
		var b strings.Builder
		for i, sig := range sigs {
			if i == 12 {
				fmt.Fprintf(&b, "\n  … and %d more kinds", len(sigs)-i)
				break
			}
			fmt.Fprintf(&b, "\n  [%d× %s] e.g. %s", count[sig], sig, example[sig])
		}
		t.Errorf("%s: %s: %d finding(s):%s", v.p, cat, len(list), b.String())
	}
}

// checkVocabulary fails if the schema has sensitive fields this test does
// not know.
func checkVocabulary(t *testing.T) {
	got := graph.Vocabulary().Fields
	for field, cat := range got {
		typ, name, _ := strings.Cut(field, ".")
		if want, ok := sensitive[typ][name]; !ok || typ+":"+want != cat {
			t.Errorf("sensitive field %s (%s) is not covered by this test (it knows %q)", field, cat, want)
		}
	}
	for typ, fields := range sensitive {
		for name := range fields {
			if _, ok := got[typ+"."+name]; !ok {
				t.Errorf("this test treats %s.%s as sensitive; the schema does not", typ, name)
			}
			rt, ok := rowTypes[typ]
			if !ok {
				t.Errorf("%s has sensitive fields and no entry in rowTypes (and world.row): the oracle cannot read its values", typ)
				continue
			}
			if _, ok := rt.FieldByName(goField(name)); !ok {
				t.Errorf("the oracle finds no field %s in ent.%s to read %s.%s from", goField(name), rt.Name(), typ, name)
			}
		}
	}
}

// leakWorldDay is the day the leak test's demo data ends on.
var leakWorldDay = time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC)

func TestNoSensitiveValueLeaks(t *testing.T) {
	checkVocabulary(t)
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		start := time.Now()
		// A fixed day, not today: the mutations need records in given
		// states (a referral still pending at ngo-vatra, for one), and which
		// records are in which state depends on the day the demo ends.
		if _, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: 1, Seed: 7, Today: leakWorldDay}); err != nil {
			t.Fatalf("seeding: %v", err)
		}
		// Wide limits and a long deadline: this test reads every row in
		// few, large requests; the limits themselves are package abuse's.
		s := testserver.Start(t, db, testserver.Options{Config: server.Config{
			Limits: testserver.SweepLimits(), RequestTimeout: 5 * time.Minute}})
		addReachabilityFixtures(t, db.Client)
		addUnseenProceedingReview(t, db.Client)
		w := loadWorld(t, db.Client)
		t.Logf("%s: seeded in %s: %d cases, %d victims, %d suspects, %d services, %d referrals, %d proceedings, %d consents",
			db.Dialect, time.Since(start).Round(time.Millisecond), len(w.cases), len(w.victims), len(w.suspects), len(w.services),
			len(w.referrals), len(w.prosecutions), len(w.consents))
		// The server's log must hold no sensitive value at all; looked at
		// once every run of this backend is done.
		t.Cleanup(func() { scanLogs(t, s, w) })
		// Emergency grants are asked for before the parallel runs start, so
		// that every run reads a database nobody writes to.
		for _, p := range principals {
			if p.emergency {
				w.grants = requestEmergency(t, s, w, p)
			}
		}
		walk := walkSchema(servedSchema)
		paths := map[string]string{}
		queries := walk.generatedQueries(paths)
		var mu sync.Mutex
		var audited auditCoverage
		var reviews reviewsCoverage
		reached := map[string]bool{}
		t.Run("principals", func(t *testing.T) {
			for _, p := range principals {
				t.Run(p.String(), func(t *testing.T) {
					t.Parallel()
					begin := time.Now()
					r := newLeakRun(t, s, w, p, w.grants)
					r.battery()
					r.generated(queries)
					r.checkAudit(db, &audited)
					r.report(t)
					mu.Lock()
					for k := range r.reached {
						reached[k] = true
					}
					reviews.add(r.reviews)
					mu.Unlock()
					t.Logf("%s: %s", p, time.Since(begin).Round(time.Millisecond))
				})
			}
		})
		checkPathsReached(t, walk, paths, reached)
		reviews.check(t)
		audited.check(t)
		checkPolicyLinesExercised(t, s, db)
		// Mutations write: they come once every read-only run is done.
		t.Run("mutations", func(t *testing.T) { runMutations(t, s, db) })
	})
}

// checkPathsReached fails for a generated path to sensitive fields that no
// principal's response reached (the data never exercises it, so the test
// would pass whatever the server did there), and for a field the walk
// cannot call that leads to sensitive fields.
func checkPathsReached(t *testing.T, walk *schemaWalk, paths map[string]string, reached map[string]bool) {
	t.Helper()
	// Every path is asked; some cannot hold data (a court leads no case),
	// so what must be reached is every edge into a type with sensitive
	// fields, on some path, and every root field that leads to one.
	lastEdge := func(p string) string { return p[strings.LastIndex(p, "/")+1:] }
	want, got := map[string]bool{}, map[string]bool{}
	unreached := 0
	for p := range paths {
		want[lastEdge(p)] = true
		if reached[p] {
			got[lastEdge(p)] = true
		} else {
			unreached++
		}
	}
	var missing []string
	for _, e := range sortedNames(want) {
		if !got[e] {
			missing = append(missing, e)
		}
	}
	if len(missing) > 0 {
		t.Errorf("no principal's response held a row at the end of any generated path through %s: the fixtures do not exercise it, and a leak there would pass",
			strings.Join(missing, ", "))
	}
	t.Logf("generated paths to sensitive fields: %d (%d reached a row); edges into sensitive types: %d (%d reached)",
		len(paths), len(paths)-unreached, len(want), len(got))
	for _, e := range walk.uncallable {
		if e.String() == "Query.node" || e.String() == "Query.nodes" {
			continue // asked with ids of every Node type
		}
		if walk.reaches(e.to, pathDepth) {
			t.Errorf("%s takes a required argument the generated battery has no value for, and leads to sensitive fields: teach the battery to call it", e)
		}
	}
}

// requestEmergency has p ask for emergency access to the case of its
// region whose victims have the most health notes (fields an investigator
// never reads otherwise), and returns the grants in the database after.
func requestEmergency(t *testing.T, s *testserver.Server, w *world, p principal) []*ent.EmergencyGrant {
	t.Helper()
	a := w.byCode[p.agency]
	best, bestN := 0, 0
	for _, id := range sortedKeys(w.cases) {
		if a.Region == nil || w.cases[id].Region != *a.Region {
			continue
		}
		n := 0
		for _, v := range w.victimsOfCase[id] {
			if w.victims[v].HealthNotes != nil {
				n++
			}
		}
		if n > bestN {
			best, bestN = id, n
		}
	}
	if best == 0 {
		t.Fatalf("%s: no case of the region with health notes to ask emergency access for", p)
	}
	var data struct{ RequestEmergencyAccess struct{ ID, CaseID string } }
	const justification = "Leak test: a victim is missing; the family must be reached now."
	before := trailHead(t, s.DB)
	resp := s.Do(t, s.Token(t, p.agency, p.roles...), `mutation ($c: ID!, $j: String!) {
  requestEmergencyAccess(caseID: $c, justification: $j, hours: 1) { id caseID }
}`, map[string]any{"c": strconv.Itoa(best), "j": justification}).MustOK(t)
	resp.Decode(t, &data)
	if data.RequestEmergencyAccess.CaseID != strconv.Itoa(best) {
		t.Fatalf("%s: emergency access granted for case %s, asked for %d", p, data.RequestEmergencyAccess.CaseID, best)
	}
	checkGrantTrail(t, s.DB, p, resp.Header.Get("X-Request-Id"), before, best, justification)
	grants, err := s.DB.Client.EmergencyGrant.Query().All(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: emergency access to case %d (%d victims with health notes)", p, best, bestN)
	return grants
}

// checkGrantTrail compares the emergency request's answer with the trail,
// as every response of the principals phase is: the answer selected no
// sensitive field, so the request's events are the grant's one
// EMERGENCY_ACCESS_GRANTED on the case, with the justification the
// person gave and flagged as emergency, and no decision on a field.
func checkGrantTrail(t *testing.T, db *database.DB, p principal, requestID string, after int64, caseID int, justification string) {
	t.Helper()
	if requestID == "" {
		t.Fatalf("%s: the emergency request's response has no X-Request-Id", p)
	}
	events, err := audit.Query(viewer.SystemContext(context.Background()), db.Client, audit.Scope{All: true},
		audit.Filter{AfterSeq: after}, false, 0)
	if err != nil {
		t.Fatalf("reading the audit trail: %v", err)
	}
	var ours []audit.Event
	for _, e := range events {
		if e.RequestID == requestID {
			ours = append(ours, e)
		}
	}
	if len(ours) != 1 {
		t.Fatalf("%s: the emergency request left %d events in the trail, want the grant's one: %+v", p, len(ours), ours)
	}
	e := ours[0]
	if e.Kind != audit.EmergencyGranted || e.EntityType != "Case" || e.EntityID != caseID || !e.Emergency ||
		e.Justification != justification || e.ActorAgency != p.agency {
		t.Errorf("%s: the grant's event is %s %s %d (emergency %v, agency %q, justification %q), want %s Case %d by %s with the justification given",
			p, e.Kind, e.EntityType, e.EntityID, e.Emergency, e.ActorAgency, e.Justification, audit.EmergencyGranted, caseID, p.agency)
	}
}

// scanLogs looks for every sensitive value in the server's log.
func scanLogs(t *testing.T, s *testserver.Server, w *world) {
	needles := newNeedles()
	for _, typ := range rowTypeNames {
		for _, id := range w.nodeIDs[typ] {
			for field := range sensitive[typ] {
				if noByteScan[typ+"."+field] {
					continue
				}
				for _, f := range jsonForms(w.value(typ, id, field)) {
					if len(f) >= 6 {
						needles.add(f, fmt.Sprintf("%s.%s of %s %d", typ, field, typ, id))
					}
				}
			}
		}
	}
	logs := []byte(s.Logs())
	seen := map[*needle]bool{}
	needles.find(logs, func(i int, nd *needle) {
		if !seen[nd] {
			seen[nd] = true
			t.Errorf("LEAK in the server log: %q (%s) at byte %d: …%s…", nd.val, strings.Join(nd.labels, "; "), i, clip(logs, i, 120))
		}
	})
	t.Logf("server log: %d bytes scanned, %d sensitive values found", len(logs), len(seen))
}
