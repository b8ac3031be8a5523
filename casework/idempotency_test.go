package casework_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/idempotencyrecord"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// Idempotency and atomicity
// ---------------------------------------------------------------------------

// TestMutationIdempotency retries creates with an idempotency key: the same
// key and input return the first record; the same key with other input is a
// CONFLICT; another principal's key is its own.
func TestMutationIdempotency(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openAssigned(t, "ADJUDICATING", "court-tirane", "court-appeal")
		h.assign(t, c.ID, "SUPPORTING", "ngo-vatra", "shelter-national")
		v := h.registerVictim(t, 30, c.ID)
		p := h.bringToTrial(t, h.registerProsecution(t, c.ID, date(3, 2)))
		client := h.s.DB.Client
		base := serial.Add(1) // makes this test's values unique
		// Another judge of the same court: a court records its own decisions.
		otherJudge := h.colleague(t, "court-tirane", viewer.RoleJudge)

		ops := []struct {
			name, query string
			// vars returns the variables of the n-th distinct input.
			vars  func(n int) map[string]any
			count func(context.Context) (int, error)
			kind  string // the event each create adds to c; "" for openCase
			// by makes the creates; other is another person who may
			// call the mutation on the same case.
			by, other principal
		}{
			{"openCase", openCaseMutation, func(n int) map[string]any {
				return map[string]any{"in": caseInput(h, t, fmt.Sprintf("TIR-IDEM-%d-%d", base, n), "police-tirane")}
			}, client.CaseFile.Query().Count, "", h.police, h.prosecutor},
			{"registerVictim", registerVictimMutation, func(n int) map[string]any {
				return map[string]any{"in": victimInput(fmt.Sprintf("V-2027-%04d", base*10+int64(n)), 30), "cases": []string{c.ID}}
			}, client.Victim.Query().Count, "VICTIM_LINKED", h.police, h.reader},
			{"recordConsent", recordConsentMutation, func(n int) map[string]any {
				return map[string]any{"in": map[string]any{"victimID": v.ID, "givenBy": "VICTIM", "givenAt": stamp(date(5, n)),
					"agencyKinds": []string{"NGO_SHELTER"}, "purposes": []string{"SERVICES"}}}
			}, client.Consent.Query().Count, "CONSENT_RECORDED", h.police, h.reader},
			{"recordSuspect", recordSuspectMutation, func(n int) map[string]any {
				return map[string]any{"in": map[string]any{"pseudonym": fmt.Sprintf("S-IDEM-%d-%d", base, n), "sex": "MALE", "nationality": "AL",
					"role": "CLIENT", "caseID": c.ID}}
			}, client.Suspect.Query().Count, "SUSPECT_RECORDED", h.police, h.prosecutor},
			{"registerProsecution", registerProsMutation, func(n int) map[string]any {
				return map[string]any{"in": map[string]any{"registrationNumber": fmt.Sprintf("PR-IDEM-%d-%d", base, n), "registeredAt": stamp(date(3, 2)),
					"caseID": c.ID, "officeID": h.agency(t, "spak")}}
			}, client.Prosecution.Query().Count, "PROSECUTION_REGISTERED", h.prosecutor, h.colleague(t, "prosecution-tirane", viewer.RoleProsecutor)},
			{"addCharge", addChargeMutation, func(n int) map[string]any {
				return map[string]any{"in": map[string]any{"article": []string{"CC_110A", "CC_110B", "CC_110C", "CC_114"}[n%4], "prosecutionID": p.ID}}
			}, client.Charge.Query().Count, "CHARGE_ADDED", h.prosecutor, h.colleague(t, "prosecution-tirane", viewer.RoleProsecutor)},
			{"recordCourtDecision", recordDecisionMutation, func(n int) map[string]any {
				return map[string]any{"in": map[string]any{"instance": "FIRST_INSTANCE", "decidedOn": stamp(date(10, n)), "verdict": "ACQUITTED",
					"prosecutionID": p.ID, "courtID": h.agency(t, "court-tirane")}}
			}, client.CourtDecision.Query().Count, "COURT_DECISION_RECORDED", h.judge, otherJudge},
			{"createReferral", createReferralMutation, func(n int) map[string]any {
				in := h.referralInput(t, v.ID, c.ID)
				in["referredAt"] = stamp(date(5, n))
				return map[string]any{"in": in}
			}, client.Referral.Query().Count, "REFERRAL_CREATED", h.police, h.colleague(t, "police-tirane", viewer.RoleInvestigator)},
			{"recordSupportService", recordServiceMutation, func(n int) map[string]any {
				return map[string]any{"in": map[string]any{"kind": "MEDICAL", "startedOn": stamp(date(4, n)), "victimID": v.ID,
					"providerID": h.agency(t, "ngo-vatra")}}
			}, client.SupportService.Query().Count, "SUPPORT_RECORDED", h.ngo, h.colleague(t, "ngo-vatra", viewer.RoleCaseWorker)},
		}
		for _, op := range ops {
			t.Run(op.name, func(t *testing.T) {
				key := fmt.Sprintf("retry-%s-%d", op.name, base)
				withKey := func(vars map[string]any) map[string]any {
					vars["key"] = key
					return vars
				}
				count := func(t *testing.T) int {
					t.Helper()
					n, err := op.count(systemCtx())
					if err != nil {
						t.Fatal(err)
					}
					return n
				}
				countEvents := func(t *testing.T) int {
					t.Helper()
					n := 0
					for _, e := range h.timeline(t, c.ID) {
						if e.Kind == op.kind {
							n++
						}
					}
					return n
				}
				create := func(t *testing.T, p principal, n int) string {
					t.Helper()
					var data map[string]struct{ ID string }
					h.do(t, p, op.query, withKey(op.vars(n))).MustOK(t).Decode(t, &data)
					return data[op.name].ID
				}
				rows, events := count(t), countEvents(t)
				first := create(t, op.by, 1)

				t.Run("OKRetrySameInput", func(t *testing.T) {
					before := h.rows(t)
					if again := create(t, op.by, 1); again != first || first == "" {
						t.Errorf("the retry returned %q, the first call %q", again, first)
					}
					if diff := diffCounts(before, h.rows(t)); diff != "" {
						t.Errorf("the retry changed the database: %s", diff)
					}
					if n := count(t); n != rows+1 {
						t.Errorf("%d rows after a create and its retry, want %d", n, rows+1)
					}
					if op.kind == "" {
						if n := len(h.timeline(t, first)); n != 1 {
							t.Errorf("the new case has %d events after a create and its retry, want 1 (CASE_OPENED)", n)
						}
					} else if n := countEvents(t); n != events+1 {
						t.Errorf("%d %s events after a create and its retry, want %d", n, op.kind, events+1)
					}
				})

				t.Run("ErrSameKeyOtherInput", func(t *testing.T) {
					h.refuse(t, op.by, op.query, withKey(op.vars(2)), want{Code: "CONFLICT", Field: "idempotencyKey"})
				})

				t.Run("OKOtherPrincipalSameKey", func(t *testing.T) {
					if other := create(t, op.other, 3); other == "" || other == first {
						t.Errorf("another principal's create with the same key returned %q, the first %q", other, first)
					}
					if n := count(t); n != rows+2 {
						t.Errorf("%d rows, want %d", n, rows+2)
					}
				})
			})
		}

		t.Run("ErrEmptyKey", func(t *testing.T) {
			vars := map[string]any{"in": caseInput(h, t, newReference(), "police-tirane"), "key": ""}
			h.refuse(t, h.police, openCaseMutation, vars, badField("idempotencyKey"))
		})

		t.Run("ErrSameKeyOtherPrincipalSameReference", func(t *testing.T) {
			// Another principal's retry is not a retry: it is a new
			// create, refused because the reference is taken.
			vars := map[string]any{"in": caseInput(h, t, newReference(), "police-tirane"), "key": "shared"}
			call[caseT](t, h, h.police, openCaseMutation, vars)
			h.refuse(t, h.prosecutor, openCaseMutation, vars, want{Code: "CONFLICT", Field: "input.reference"})
		})
	})
}

// TestMutationAtomicity checks that a mutation that fails part-way writes
// nothing.
func TestMutationAtomicity(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		events := h.timeline(t, c.ID)

		t.Run("ErrRegisterVictimOneUnknownCase", func(t *testing.T) {
			name := newVictimName()
			h.refuse(t, h.police, registerVictimMutation, map[string]any{"in": victimInput(name, 30), "cases": []string{c.ID, missingCaseID}},
				badField("caseIDs"), c.ID)
			var data struct{ Victims struct{ TotalCount int } }
			h.do(t, h.reader, `query($p: String!) { victims(where: {pseudonym: $p}) { totalCount } }`, map[string]any{"p": name}).MustOK(t).Decode(t, &data)
			if data.Victims.TotalCount != 0 {
				t.Errorf("%d victims named %s after a refused registration", data.Victims.TotalCount, name)
			}
			events = h.expectEvents(t, c.ID, events)
		})

		// Several mutations of one document commit one by one: see
		// TestMutationsOfOneDocumentCommitEach (docs/mutations.md).
	})
}

// TestIdempotentRetriesAtOnce: a client that retries a create after a
// timeout may send the same key while its first request still runs. Sent
// twenty times at once, the same key and input answer the same record
// every time, and make it once (on PostgreSQL, before requests with the
// same key were taken one at a time, some answered CONFLICT).
func TestIdempotentRetriesAtOnce(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		const rounds, retries = 5, 20
		for range rounds {
			ref := newReference()
			vars := map[string]any{"in": caseInput(h, t, ref, "police-tirane"), "key": "retry-" + ref}
			ids := make([]string, retries)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range ids {
				wg.Go(func() {
					<-start
					var data struct{ OpenCase struct{ ID string } }
					h.do(t, h.police, openCaseMutation, vars).MustOK(t).Decode(t, &data)
					ids[i] = data.OpenCase.ID
				})
			}
			close(start)
			wg.Wait()
			for i, id := range ids {
				if id == "" || id != ids[0] {
					t.Errorf("answer %d is case %q, want every answer to be %q", i, id, ids[0])
				}
			}
			if n, err := h.s.DB.Client.CaseFile.Query().Where(casefile.Reference(ref)).Count(systemCtx()); err != nil || n != 1 {
				t.Errorf("%d cases with reference %s (%v), want 1", n, ref, err)
			}
		}
	})
}

// TestIdempotentKeysDoNotHoldUpTheAgency: requests with the same key are
// taken one at a time (TestIdempotentRetriesAtOnce), requests with other
// keys are not held up, even of the same agency. With the agency's row
// held as an update holds it, on PostgreSQL, a keyed create by that
// agency completes (it locks its key alone; it used to lock the row).
func TestIdempotentKeysDoNotHoldUpTheAgency(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		if h.s.DB.Dialect != "postgres" {
			t.Skip("SQLite's write transactions are one at a time")
		}
		hold, err := h.s.DB.SQL.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = hold.Rollback() }()
		if _, err := hold.ExecContext(t.Context(), `SELECT 1 FROM agencies WHERE code = 'police-tirane' FOR NO KEY UPDATE`); err != nil {
			t.Fatal(err)
		}
		ref := newReference()
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.do(t, h.police, openCaseMutation, map[string]any{"in": caseInput(h, t, ref, "police-tirane"), "key": "unheld-" + ref}).MustOK(t)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("a keyed create waited 10 s for its agency's row, held by another transaction")
			_ = hold.Rollback()
			<-done
		}
	})
}

// TestIdempotentReplayOutOfRows: a replay answers the record as it is now,
// read as the caller: once another agency has moved it out of the
// caller's rows, the replay is NOT_FOUND, not the record's new state.
func TestIdempotentReplayOutOfRows(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		vars := map[string]any{"in": victimInput(newVictimName(), 30), "key": "replay-" + newReference()}
		v := call[victimT](t, h, h.police, registerVictimMutation, vars)
		national := h.principal(t, "police-gd", viewer.RoleInvestigator)
		call[victimT](t, h, national, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version, "in": map[string]any{"region": "DURRES", "sex": "MALE"}})
		r := h.do(t, h.police, registerVictimMutation, vars)
		if testserver.WantRefusal(t, r, notFound); strings.Contains(string(r.Body), "DURRES") || strings.Contains(string(r.Body), "MALE") {
			t.Errorf("the replay shows the record's new state:\n%s", r.Body)
		}
	})
}

// TestIdempotentReplayOfWhatOneCannotSee: an agency may make a record it
// does not see afterwards (a shelter registering a victim on no case of
// its own). Its retry is answered as its first call was, while the record
// is unchanged: a NOT_FOUND would tell the client the write was not made.
func TestIdempotentReplayOfWhatOneCannotSee(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		shelter := h.principal(t, "shelter-national", viewer.RoleCaseWorker)
		vars := map[string]any{"in": victimInput(newVictimName(), 30), "key": "unseen-" + newReference()}
		first := call[victimT](t, h, shelter, registerVictimMutation, vars)
		if r := h.do(t, shelter, `query ($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": first.ID}); len(r.Errors) == 0 || r.Errors[0].Code() != "NOT_FOUND" {
			t.Fatalf("the shelter sees the victim it registered, so this test shows nothing:\n%s", r.Body)
		}
		if again := call[victimT](t, h, shelter, registerVictimMutation, vars); again.ID != first.ID {
			t.Errorf("the retry answered victim %q, want the first call's %q", again.ID, first.ID)
		}
	})
}

// TestIdempotentRetryOfASetInAnotherOrder: every list a create takes is a
// set, so a retry naming the same values in another order (a client that
// rebuilds the request from an unordered set) is the same request, and
// returns what the first made; other values are another request
// (CONFLICT). It was CONFLICT (found by a helper's hunt).
func TestIdempotentRetryOfASetInAnotherOrder(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c1, c2 := h.openCase(t), h.openCase(t)
		need(t, c1.ID, c2.ID)
		in := victimInput(newVictimName(), 30)
		register := func(forms []string, cases ...string) map[string]any {
			v := map[string]any{}
			for k, x := range in {
				v[k] = x
			}
			v["formsOfExploitation"] = forms
			return map[string]any{"in": v, "cases": cases, "key": "victim-" + c1.ID}
		}
		first := call[victimT](t, h, h.police, registerVictimMutation, register([]string{"SEXUAL", "FORCED_BEGGING"}, c1.ID, c2.ID))
		again := call[victimT](t, h, h.police, registerVictimMutation, register([]string{"FORCED_BEGGING", "SEXUAL"}, c2.ID, c1.ID))
		if again.ID != first.ID {
			t.Errorf("the retry in another order made %s, the first %s", again.ID, first.ID)
		}
		h.refuse(t, h.police, registerVictimMutation, register([]string{"SEXUAL"}, c1.ID, c2.ID), want{Code: "CONFLICT", Field: "idempotencyKey"})
		h.refuse(t, h.police, registerVictimMutation, register([]string{"SEXUAL", "FORCED_BEGGING"}, c1.ID), want{Code: "CONFLICT", Field: "idempotencyKey"})
	})
}

// TestIdempotentRetryAfterThePolicyChanged: a retry that matches the
// idempotency record of a write already made writes nothing, so the
// policy's rules for the fields it would write do not refuse it. After an
// admin took the investigator's right to write a victim's contact fields,
// the investigator's retry of a registration with a phone replays the
// first victim (its payload read under the rules of now, as every
// answer), and the trail records no refused write. It was FORBIDDEN "Your
// role may not write Victim.phone" (a hunt): an integrator retrying to
// learn an unknown outcome was told the victim was not registered. A
// request that is no replay (another key, or another request under the
// key) would write, and is refused and recorded. The call is the policy
// owner's cut-off: a role that may no longer call registerVictim is
// refused its replay too, and nothing is written (docs/mutations.md).
func TestIdempotentRetryAfterThePolicyChanged(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		admin := h.principal(t, "police-gd", viewer.RoleAdmin)
		const change = `mutation ($add: [[String!]!], $remove: [[String!]!], $r: String!) { changePolicy(add: $add, remove: $remove, reason: $r) { added removed } }`
		// registeredBefore registers a victim with a phone under a key,
		// then takes line out of the policy until the subtest ends.
		registeredBefore := func(t *testing.T, line []string) (victimT, map[string]any) {
			t.Helper()
			name := newVictimName()
			in := victimInput(name, 30)
			in["phone"] = "+355 69 000 0001"
			vars := map[string]any{"in": in, "key": "policy-" + name}
			v := call[victimT](t, h, h.police, registerVictimMutation, vars)
			need(t, v.ID)
			call[map[string]any](t, h, admin, change, map[string]any{"remove": [][]string{line}, "r": "A line taken out between a call and its retry"})
			t.Cleanup(func() {
				call[map[string]any](t, h, admin, change, map[string]any{"add": [][]string{line}, "r": "The line put back"})
			})
			return v, vars
		}
		// refused sends vars, which must be refused as w says, change
		// nothing, and be one more refused registerVictim in the trail.
		refused := func(t *testing.T, vars map[string]any, w want) {
			t.Helper()
			before := h.refusedCalls(t, h.police, "registerVictim")
			h.refuse(t, h.police, registerVictimMutation, vars, w)
			if n := h.refusedCalls(t, h.police, "registerVictim") - before; n != 1 {
				t.Errorf("the trail records %d more refused registerVictim calls, want 1", n)
			}
		}

		t.Run("WriteOfAFieldItSet", func(t *testing.T) {
			v, vars := registeredBefore(t, []string{"p", "investigator", "investigation", "Victim:CONTACT", "write", "any"})
			t.Run("OKTheRetryReplays", func(t *testing.T) {
				before, refusals := h.rows(t), h.refusedCalls(t, h.police, "registerVictim")
				if again := call[victimT](t, h, h.police, registerVictimMutation, vars); again.ID != v.ID {
					t.Errorf("the retry answered victim %s, want the first call's %s", again.ID, v.ID)
				}
				testserver.WantUnchanged(t, h.s.DB.Client, before)
				if n := h.refusedCalls(t, h.police, "registerVictim"); n != refusals {
					t.Errorf("the trail records %d refused registerVictim calls after a replay, want %d", n, refusals)
				}
			})
			mayNotWritePhone := want{Code: "FORBIDDEN", Field: "Victim.phone"}
			t.Run("ErrAnotherKey", func(t *testing.T) {
				other := maps.Clone(vars)
				other["key"] = "another-" + v.Pseudonym
				refused(t, other, mayNotWritePhone)
			})
			t.Run("ErrAnotherRequestUnderTheKey", func(t *testing.T) {
				other := maps.Clone(vars)
				other["in"] = with(maps.Clone(vars["in"].(map[string]any)), "phone", "+355 69 000 0002")
				refused(t, other, mayNotWritePhone)
			})
		})
		t.Run("ErrCallOfTheMutation", func(t *testing.T) {
			_, vars := registeredBefore(t, []string{"p", "investigator", "investigation", "Mutation.registerVictim", "call", "any"})
			refused(t, vars, want{Code: "FORBIDDEN", Field: "Mutation.registerVictim"})
		})
	})
}

// TestIdempotentEmergencyRetryAfterTheCaseLeftTheRows: a grant of
// emergency access is a create like any other; its retry is answered with
// the grant while it is unchanged, even once its case has left the
// caller's rows (another agency moved it to another region). Its own
// checks (the case seen, the justification, the hours) ran before the key
// was read, and the retry was NOT_FOUND: "not made" for a grant made and
// counted in the day's bound (a hunt over HTTP). Another request is
// refused as before.
func TestIdempotentEmergencyRetryAfterTheCaseLeftTheRows(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		// Led by the General Directorate, seen by police-tirane for its region.
		c := call[caseT](t, h, h.reader, openCaseMutation, map[string]any{"in": caseInput(h, t, newReference(), "police-gd")})
		const request = `mutation($c: ID!, $key: String) { requestEmergencyAccess(caseID: $c, justification: "Victim missing since last night; need her phone.", hours: 1, idempotencyKey: $key) { id version } }`
		type grant struct{ RequestEmergencyAccess struct{ ID string } }
		vars := map[string]any{"c": c.ID, "key": "emergency-" + newReference()}
		first := call[struct{ ID string }](t, h, h.police, request, vars).ID
		need(t, first)
		call[caseT](t, h, h.reader, updateCaseMutation, map[string]any{"id": c.ID, "v": c.Version, "in": map[string]any{"region": "DURRES"}})
		grants := h.s.DB.Client.EmergencyGrant.Query().CountX(systemCtx())

		r := h.do(t, h.police, request, vars)
		var again grant
		if len(r.Errors) == 0 {
			r.Decode(t, &again)
		}
		if again.RequestEmergencyAccess.ID != first {
			t.Errorf("the retry of grant %s after its case left the caller's rows answered:\n%s", first, r.Body)
		}
		h.refuse(t, h.police, request, map[string]any{"c": c.ID, "key": "emergency-" + newReference()}, want{Code: "NOT_FOUND", Field: "caseID"})
		if n := h.s.DB.Client.EmergencyGrant.Query().CountX(systemCtx()); n != grants {
			t.Errorf("%d grants after the retry and a refused request, want %d", n, grants)
		}
	})
}

// TestIdempotencyKeyHasOneSpelling: a new idempotency key is held to the
// rules of a key (docs/input.md): no white space before or after it, no
// invisible character, Unicode's composed form. The database compares
// keys byte for byte, so "intake-Zoë" sent composed and retried
// decomposed (a queue or client library that normalises), or with a
// trailing space trimmed on the retry, were two keys: the retry after a
// lost answer made a second consent, which no business key stops (a
// hunt, twenty-fourth session). A key an earlier release took keeps
// answering: its retry replays (and another request under it is
// CONFLICT), since a rule added since must not refuse a write made.
func TestIdempotencyKeyHasOneSpelling(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		v := h.registerVictim(t, 30)
		consent := func(day int, key string) map[string]any {
			return map[string]any{"key": key, "in": map[string]any{"victimID": v.ID, "givenBy": "VICTIM", "givenAt": stamp(date(5, day)),
				"agencyKinds": []string{"NGO_SHELTER"}, "purposes": []string{"SERVICES"}}}
		}
		composed := "intake-Zo\u00eb-" + newReference()
		decomposed := strings.Replace(composed, "\u00eb", "e\u0308", 1)
		first := call[consentT](t, h, h.police, recordConsentMutation, consent(1, composed))
		for _, key := range []string{decomposed, composed + " ", " " + composed, composed + "\u00a0", "intake\u2800" + composed} {
			h.refuse(t, h.police, recordConsentMutation, consent(1, key), badField("idempotencyKey"))
		}
		if again := call[consentT](t, h, h.police, recordConsentMutation, consent(1, composed)); again.ID != first.ID {
			t.Errorf("the retry under the key made %s, the first call %s", again.ID, first.ID)
		}

		// A record an earlier release made under a key spelt otherwise
		// (stored as it was sent) still replays, and another request
		// under it is CONFLICT, not a refusal of its spelling.
		placeholder := "old-intake-" + newReference()
		old := placeholder + " "
		made := call[consentT](t, h, h.police, recordConsentMutation, consent(2, placeholder))
		record := h.s.DB.Client.IdempotencyRecord.Query().Where(idempotencyrecord.Key(placeholder)).OnlyX(systemCtx())
		update := `UPDATE idempotency_records SET key = ? WHERE id = ?`
		if h.s.DB.Dialect == dialect.Postgres {
			update = `UPDATE idempotency_records SET key = $1 WHERE id = $2`
		}
		if _, err := h.s.DB.SQL.Exec(update, old, record.ID); err != nil {
			t.Fatal(err)
		}
		if again := call[consentT](t, h, h.police, recordConsentMutation, consent(2, old)); again.ID != made.ID {
			t.Errorf("the retry under an earlier release's key made %s, the first call %s", again.ID, made.ID)
		}
		h.refuse(t, h.police, recordConsentMutation, consent(3, old), want{Code: "CONFLICT", Field: "idempotencyKey"})
	})
}
