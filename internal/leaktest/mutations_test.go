package leaktest_test

import (
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// Mutations answer with a payload too, and a payload can reach sensitive
// fields (registerVictim → Victim.legalName, addCharge → Charge.suspect →
// Suspect.personalNumber). Each mutation whose payload reaches one is
// called by a principal that may call it, selecting every path of its
// payload to sensitive fields (as the generated battery does), and the
// answer is checked for leaks against the database as the mutation left
// it. Whether a refused payload field nulls the whole payload (and rolls
// the mutation back) or only itself is not this test's business: it
// asserts that nothing the principal may not read is shown, that no field
// it may read is refused with its own FORBIDDEN, and that the
// trail holds, under the call's request id, exactly the decisions the
// answer carried (a field answered, allowed; one null with its FORBIDDEN,
// refused), as for a read. A call must do its work (didItsWork): one
// refused outright checks nothing. A create taking an idempotencyKey is
// called with one and replayed, its replays held to the full read oracle
// and the audit trail (replay_test.go).

// mutationDepth bounds the paths followed in a payload.
const mutationDepth = 2

// mutationCall is how the test calls one mutation: who, and the values of
// its arguments (by name; the operation is built from the schema).
type mutationCall struct {
	by   principal
	args map[string]any
}

// mutationValues is unique text the mutations write into sensitive fields,
// long enough for the byte scan to find wherever it appears.
const mutationValue = "Leaktest Mutation Value"

// mutationCalls name, for every mutation of the schema whose payload
// reaches sensitive fields, how to call it in the world w (the database
// as the previous mutation left it). A mutation added without an entry
// here fails the test.
var mutationCalls = map[string]func(w *world) mutationCall{
	"openCase": func(w *world) mutationCall {
		return mutationCall{investigatorTirane, map[string]any{"input": map[string]any{
			"reference": "LEAK-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10), "title": "Leak test case", "region": "TIRANE",
			"leadAgencyID": gid(w.byCode["police-tirane"].ID)}}}
	},
	"updateCase": func(w *world) mutationCall {
		c := w.cases[w.ledCase("police-tirane")]
		return mutationCall{investigatorTirane, map[string]any{"id": gid(c.ID), "expectedVersion": c.Version, "input": map[string]any{"title": "Leak test title"}}}
	},
	"moveCaseStage": func(w *world) mutationCall {
		c := w.cases[w.openLedCase("police-tirane")]
		if c == nil {
			panic("the fixtures hold no open case of police-tirane with victims and no proceedings to move")
		}
		stage := c.Stage
		if next := c.Stage.NextStages(); len(next) > 0 {
			stage = next[0]
		}
		return mutationCall{investigatorTirane, map[string]any{"id": gid(c.ID), "expectedVersion": c.Version, "stage": string(stage)}}
	},
	"assignAgencyToCase": func(w *world) mutationCall {
		return mutationCall{investigatorTirane, map[string]any{"caseID": gid(w.ledCase("police-tirane")), "agencyID": gid(w.byCode["ngo-vatra"].ID), "part": "SUPPORTING"}}
	},
	"registerVictim": func(w *world) mutationCall {
		return mutationCall{investigatorTirane, map[string]any{"caseIDs": []string{gid(w.ledCase("police-tirane"))}, "input": map[string]any{
			"pseudonym": "V-9999-90001", "sex": "FEMALE", "ageGroup": "ADULT", "identificationStatus": "POTENTIAL_VICTIM",
			"identifiedBy": "STATE_POLICE", "identifiedAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "region": "TIRANE",
			"legalName": mutationValue + " Name", "personalNumber": "LEAKPN0001", "phone": "+355 69 555 0101"}}}
	},
	"updateVictim": func(w *world) mutationCall {
		v := w.victims[w.victimOfCase(w.ledCase("police-tirane"))]
		return mutationCall{investigatorTirane, map[string]any{"id": gid(v.ID), "expectedVersion": v.Version, "input": map[string]any{"address": mutationValue + " Address"}}}
	},
	"linkVictimToCase": func(w *world) mutationCall {
		return mutationCall{investigatorTirane, map[string]any{"victimID": gid(w.victimOfCase(w.ledCase("police-tirane"))), "caseID": gid(w.ledCase("police-tirane"))}}
	},
	"recordConsent": func(w *world) mutationCall {
		return mutationCall{investigatorTirane, map[string]any{"input": map[string]any{
			"agencyKinds": []string{"NGO_SHELTER"}, "purposes": []string{"SERVICES"}, "givenBy": "LEGAL_REPRESENTATIVE",
			"givenAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "victimID": gid(w.victimOfCase(w.ledCase("police-tirane")))}}}
	},
	"withdrawConsent": func(w *world) mutationCall {
		for _, k := range w.consentsOfVictim[w.victimOfCase(w.ledCase("police-tirane"))] {
			if k.WithdrawnAt == nil {
				return mutationCall{investigatorTirane, map[string]any{"id": gid(k.ID), "expectedVersion": k.Version}}
			}
		}
		return mutationCall{}
	},
	"recordSuspect": func(w *world) mutationCall {
		return mutationCall{investigatorTirane, map[string]any{"input": map[string]any{
			"pseudonym": "LEAK-S1", "sex": "MALE", "nationality": "AL", "role": "RECRUITER", "caseID": gid(w.ledCase("police-tirane")),
			"legalName": mutationValue + " Suspect", "personalNumber": "LEAKPN0002"}}}
	},
	"updateSuspect": func(w *world) mutationCall {
		s := w.suspects[w.suspectsOfCase[w.ledCase("police-tirane")][0]]
		return mutationCall{investigatorTirane, map[string]any{"id": gid(s.ID), "expectedVersion": s.Version, "input": map[string]any{"nationality": "XK"}}}
	},
}

// prosecutionMutationCalls go on from mutationCalls, for the roles after
// the police.
var prosecutionMutationCalls = map[string]func(w *world) mutationCall{
	"registerProsecution": func(w *world) mutationCall {
		return mutationCall{prosecutorTirane, map[string]any{"input": map[string]any{
			"registrationNumber": "LEAK-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10), "registeredAt": rfc3339(time.Now().Add(-time.Hour)),
			"caseID": gid(w.ledCase("police-tirane")), "officeID": gid(w.byCode["prosecution-tirane"].ID)}}}
	},
	"updateProsecution": func(w *world) mutationCall {
		p := w.prosecutions[w.prosecutionOf("prosecution-tirane", "")]
		return mutationCall{prosecutorTirane, map[string]any{"id": gid(p.ID), "expectedVersion": p.Version, "input": map[string]any{"registeredAt": rfc3339(p.RegisteredAt)}}}
	},
	"moveProsecutionStage": func(w *world) mutationCall {
		p := w.prosecutions[w.prosecutionOf("prosecution-tirane", "")]
		return mutationCall{prosecutorTirane, map[string]any{"id": gid(p.ID), "expectedVersion": p.Version, "stage": string(p.Stage)}}
	},
	"extendInvestigationDeadline": func(w *world) mutationCall {
		p := w.prosecutions[w.prosecutionOf("prosecution-tirane", domain.ProceedingStageUnderInvestigation)]
		if p == nil || p.InvestigationDeadline == nil {
			return mutationCall{}
		}
		return mutationCall{prosecutorTirane, map[string]any{"id": gid(p.ID), "expectedVersion": p.Version, "until": rfc3339(p.InvestigationDeadline.AddDate(0, 1, 0))}}
	},
	"addCharge": func(w *world) mutationCall {
		p := w.prosecutions[w.prosecutionOf("prosecution-tirane", "")]
		in := map[string]any{"article": "CC_110A", "prosecutionID": gid(p.ID)}
		if ss := w.suspectsOfCase[p.CaseID]; len(ss) > 0 {
			in["suspectID"] = gid(ss[0])
		}
		return mutationCall{prosecutorTirane, map[string]any{"input": in}}
	},
	"reclassifyCharge": func(w *world) mutationCall {
		// A charge with a suspect (the payload's way to sensitive fields)
		// of a proceeding of the office that has not ended: the charges of
		// an ended one are not changed (BAD_USER_INPUT, casework).
		for _, id := range sortedKeys(w.charges) {
			c := w.charges[id]
			if p := w.prosecutions[c.ProsecutionID]; p != nil && p.OfficeID == w.byCode["prosecution-tirane"].ID && !p.Stage.Terminal() && c.SuspectID != nil {
				article := "CC_110B"
				if string(c.Article) == article {
					article = "CC_110A"
				}
				return mutationCall{prosecutorTirane, map[string]any{"id": gid(c.ID), "expectedVersion": c.Version, "article": article}}
			}
		}
		return mutationCall{}
	},
	"recordCourtDecision": func(w *world) mutationCall {
		court := w.byCode["court-tirane"].ID
		if d := w.decisionOfCourt(court); d != nil {
			return mutationCall{judgeTirane, map[string]any{"input": map[string]any{"instance": "FIRST_INSTANCE", "decidedOn": rfc3339(time.Now().Add(-time.Hour)),
				"verdict": "CONVICTED", "prosecutionID": gid(d.ProsecutionID), "courtID": gid(court)}}}
		}
		return mutationCall{}
	},
	"updateCourtDecision": func(w *world) mutationCall {
		if d := w.decisionOfCourt(w.byCode["court-tirane"].ID); d != nil {
			return mutationCall{judgeTirane, map[string]any{"id": gid(d.ID), "expectedVersion": d.Version, "input": map[string]any{"compensationPaid": !d.CompensationPaid}}}
		}
		return mutationCall{}
	},
	"createReferral": func(w *world) mutationCall {
		return mutationCall{caseWorkerVatra, map[string]any{"input": map[string]any{"serviceKind": "SHELTER", "referredAt": rfc3339(time.Now().Add(-time.Hour)),
			"victimID": gid(w.referredTo("ngo-vatra", "")), "fromAgencyID": gid(w.byCode["ngo-vatra"].ID), "toAgencyID": gid(w.byCode["shelter-national"].ID)}}}
	},
	"moveReferralStatus": func(w *world) mutationCall {
		r := w.referrals[w.referralTo("ngo-vatra", domain.ReferralStatusPending)]
		if r == nil {
			return mutationCall{}
		}
		return mutationCall{caseWorkerVatra, map[string]any{"id": gid(r.ID), "expectedVersion": r.Version, "status": "ACCEPTED"}}
	},
	"recordSupportService": func(w *world) mutationCall {
		return mutationCall{caseWorkerVatra, map[string]any{"input": map[string]any{"kind": "PSYCHOLOGICAL", "startedOn": rfc3339(time.Now().Add(-time.Hour)),
			"notes": mutationValue + " Notes", "victimID": gid(w.referredTo("ngo-vatra", "")), "providerID": gid(w.byCode["ngo-vatra"].ID)}}}
	},
	"updateSupportService": func(w *world) mutationCall {
		for _, id := range w.nodeIDs["SupportService"] {
			if s := w.services[id]; s.ProviderID == w.byCode["ngo-vatra"].ID {
				return mutationCall{caseWorkerVatra, map[string]any{"id": gid(id), "expectedVersion": s.Version, "input": map[string]any{"notes": mutationValue + " Update"}}}
			}
		}
		return mutationCall{}
	},
}

var (
	investigatorTirane = principal{roles: []viewer.Role{viewer.RoleInvestigator}, agency: "police-tirane"}
	prosecutorTirane   = principal{roles: []viewer.Role{viewer.RoleProsecutor}, agency: "prosecution-tirane"}
	judgeTirane        = principal{roles: []viewer.Role{viewer.RoleJudge}, agency: "court-tirane"}
	caseWorkerVatra    = principal{roles: []viewer.Role{viewer.RoleCaseWorker}, agency: "ngo-vatra"}
)

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// openLedCase is ledCase among the cases not closed.
func (w *world) openLedCase(agency string) int {
	for _, id := range sortedKeys(w.cases) {
		c := w.cases[id]
		// Without proceedings: a case's stage follows its proceedings, and
		// only one without any is moved by hand.
		if c.LeadAgencyID == w.byCode[agency].ID && c.ClosedAt == nil && len(w.victimsOfCase[id]) > 0 && len(w.prosOfCase[id]) == 0 {
			return id
		}
	}
	return 0
}

// prosecutionOf is the first open proceeding of office (in stage, if not
// empty) whose case has victims and suspects.
func (w *world) prosecutionOf(office string, stage domain.ProceedingStage) int {
	for _, id := range sortedKeys(w.prosecutions) {
		p := w.prosecutions[id]
		if p.OfficeID == w.byCode[office].ID && p.ClosedAt == nil && (stage == "" || p.Stage == stage) &&
			len(w.victimsOfCase[p.CaseID]) > 0 && len(w.suspectsOfCase[p.CaseID]) > 0 {
			return id
		}
	}
	return 0
}

// referralTo is the first referral to agency (with status, if not empty).
func (w *world) referralTo(agency string, status domain.ReferralStatus) int {
	for _, id := range sortedKeys(w.referrals) {
		r := w.referrals[id]
		if r.ToAgencyID == w.byCode[agency].ID && (status == "" || r.Status == status) {
			return id
		}
	}
	return 0
}

// referredTo is the victim of the first accepted referral to agency.
func (w *world) referredTo(agency string, _ domain.ReferralStatus) int {
	if r := w.referrals[w.referralTo(agency, domain.ReferralStatusAccepted)]; r != nil {
		return r.VictimID
	}
	return 0
}

func gid(id int) string { return strconv.Itoa(id) }

// ledCase is the first case (by id) agency leads that has a victim and a
// suspect.
func (w *world) ledCase(agency string) int {
	for _, id := range sortedKeys(w.cases) {
		if w.cases[id].LeadAgencyID == w.byCode[agency].ID && len(w.victimsOfCase[id]) > 0 && len(w.suspectsOfCase[id]) > 0 {
			return id
		}
	}
	return 0
}

func (w *world) victimOfCase(caseID int) int {
	if vs := w.victimsOfCase[caseID]; len(vs) > 0 {
		return vs[0]
	}
	return 0
}

// mutationOperation builds the operation calling mutation m with the
// arguments it is given, selecting every path of its payload to sensitive
// fields.
func mutationOperation(walk *schemaWalk, m *ast.FieldDefinition, args map[string]any) string {
	var decl, pass []string
	for _, a := range m.Arguments {
		if _, ok := args[a.Name]; !ok {
			continue
		}
		decl = append(decl, "$"+a.Name+": "+a.Type.String())
		pass = append(pass, a.Name+": $"+a.Name)
	}
	var b strings.Builder
	b.WriteString("mutation")
	if len(decl) > 0 {
		b.WriteString(" (" + strings.Join(decl, ", ") + ")")
	}
	b.WriteString(" { " + m.Name)
	if len(pass) > 0 {
		b.WriteString("(" + strings.Join(pass, ", ") + ")")
	}
	b.WriteString(" ")
	walk.selection(&b, m.Type.Name(), mutationDepth, "Mutation."+m.Name, map[string]string{})
	b.WriteString(" }")
	return b.String()
}

// runMutations calls every mutation whose payload reaches sensitive fields
// and checks each answer for leaks. It writes to the database: it runs
// after every read-only run is done.
func runMutations(t *testing.T, s *testserver.Server, db *database.DB) {
	walk := walkSchema(servedSchema)
	var names []string
	for _, m := range servedSchema.Mutation.Fields {
		if walk.reaches(m.Type.Name(), mutationDepth) {
			names = append(names, m.Name)
		}
	}
	sort.Strings(names)
	var missing []string
	// Keyed creates made, replayed again once every mutation is done, and
	// the decisions of their first replay.
	var made []keyedCreate
	replayed := map[string]map[auditKey]bool{}
	var replayTime, trailTime time.Duration
	// Every event of this phase comes after it: the trail is read from there.
	trailStart := trailHead(t, db)
	for _, name := range names {
		call, ok := mutationCalls[name]
		if !ok {
			call, ok = prosecutionMutationCalls[name]
		}
		if !ok {
			missing = append(missing, name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			w := loadWorld(t, db.Client)
			c := call(w)
			if c.args == nil {
				t.Fatalf("the data offers nothing to call %s on", name)
			}
			m := servedSchema.Mutation.Fields.ForName(name)
			keyed := m.Arguments.ForName(replayKeyArg) != nil
			if keyed {
				c.args[replayKeyArg] = "leaktest-" + name
			}
			op := mutationOperation(walk, m, c.args)
			token := s.Token(t, c.by.agency, c.by.roles...)
			resp := s.Do(t, token, op, c.args)
			// A stage or status that cannot follow is refused with the
			// ones that can: take the first.
			if len(resp.Errors) == 1 && resp.Errors[0].Code() == "BAD_USER_INPUT" {
				if allowed, _ := resp.Errors[0].Extensions["allowed"].([]any); len(allowed) > 0 {
					for _, key := range []string{"stage", "status"} {
						if _, ok := c.args[key]; ok {
							c.args[key] = allowed[0]
						}
					}
					resp = s.Do(t, token, op, c.args)
				}
			}
			if !didItsWork(name, resp) {
				t.Errorf("%s by %s did not do its work: its answer is a refusal of the call (%v), so its payload is never checked; "+
					"give it an input it takes in mutationCalls: %s", name, c.by, resp.Codes(), clip(resp.Body, 0, 400))
			}
			after := loadWorld(t, db.Client)
			r := newLeakRun(t, s, after, c.by, after.grants)
			r.trailAfter = trailStart
			r.checkResponse("mutation "+name, resp, nil, true)
			// A keyed create that made its record is replayed at once:
			// the same caller, key and input, answered with the record
			// and its fields decided afresh (replayOnce).
			if typ, id, ok := madeRecord(name, resp); ok && keyed {
				begin := time.Now()
				k := keyedCreate{name: name, op: op, token: token, by: c.by, args: c.args, typ: typ, id: id}
				replayed[name] = r.replayOnce(k, "right after").decisions
				made = append(made, k)
				replayTime += time.Since(begin)
			} else if keyed {
				t.Errorf("%s made no record, so its replay is not checked: %s", name, clip(resp.Body, 0, 400))
			}
			// The call and its replay, each under its own request id, are
			// held to the trail: exactly the decisions each carried.
			begin := time.Now()
			var cov auditCoverage
			r.checkAudit(db, &cov)
			trailTime += time.Since(begin)
			r.reportFindings(t)
			t.Logf("%s by %s: errors %v; %d values checked shown, %d denied shown", name, c.by, resp.Codes(), r.allowedChecked, r.deniedChecked)
			if len(resp.Errors) > 0 && !domainRefusal(resp) {
				t.Logf("%s: %s", name, resp.Body)
			}
		})
	}
	begin := time.Now()
	t.Run("replays", func(t *testing.T) { replayAfterChanges(t, s, db, made, replayed, trailStart) })
	t.Logf("replays of %d keyed creates: %s right after, %s after the world changed; the trail of every call and its replay compared in %s", len(made),
		replayTime.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond), trailTime.Round(time.Millisecond))
	if len(missing) > 0 {
		t.Errorf("mutations whose payload reaches sensitive fields have no entry in mutationCalls, so their payload is never checked for leaks: %s",
			strings.Join(missing, ", "))
	}
}

// didItsWork reports whether a mutation's answer shows it did its work:
// its field holds a payload, or an error inside the payload (a sensitive
// field refused FORBIDDEN, or a non-null edge refused, which nulled it)
// shows that the payload was being answered. A null field with errors on
// itself only (BAD_USER_INPUT, CONFLICT, NOT_FOUND, the call FORBIDDEN,
// UNAVAILABLE…), or a document refused whole, is a call that did nothing:
// a fixture that no longer fits the data.
func didItsWork(name string, resp *testserver.Response) bool {
	data, _ := decodeJSON(resp.Data).(map[string]any)
	if data[name] != nil {
		return true
	}
	for _, e := range resp.Errors {
		if len(e.Path) > 1 && e.Path[0] == name {
			return true
		}
	}
	return false
}

// domainRefusal: every error is a refusal of a sensitive field.
func domainRefusal(resp *testserver.Response) bool {
	for _, e := range resp.Errors {
		if e.Code() != "FORBIDDEN" {
			return false
		}
	}
	return true
}

// decisionOfCourt returns the first decision (by proceeding) of court, or
// nil.
func (w *world) decisionOfCourt(court int) *ent.CourtDecision {
	for _, id := range sortedKeys(w.decisionsOfPros) {
		for _, d := range w.decisionsOfPros[id] {
			if d.CourtID == court {
				return d
			}
		}
	}
	return nil
}
