package casework_test

import (
	"fmt"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/casework"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/idempotencyrecord"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestIdempotentRetrySpellingOutADefault: a retry that spells out what the
// first request left out, meaning the same (foreignNational: false, an
// empty formsOfExploitation or caseIDs, a null), or leaves out what the
// first spelled out, is the same request: it returns the first record and
// writes nothing. A value that means something else is another request
// (CONFLICT), the zero of its type too (an exact age of 0 is not an
// unknown age). It was CONFLICT (found by a helper's hunt over HTTP).
func TestIdempotentRetrySpellingOutADefault(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		// The request as the first client sent it: no foreignNational, no
		// formsOfExploitation, no exactAge, no caseIDs.
		bare := func(name string) map[string]any {
			in := victimInput(name, 30)
			delete(in, "formsOfExploitation")
			delete(in, "exactAge")
			return in
		}
		// The same request as a client library that writes out defaults.
		spelled := func(name string) map[string]any {
			in := bare(name)
			in["foreignNational"] = false
			in["formsOfExploitation"] = []string{}
			in["legalName"] = nil
			return in
		}
		retry := func(t *testing.T, first, again map[string]any, cases []string) {
			t.Helper()
			key := fmt.Sprintf("defaults-%s", first["pseudonym"])
			v := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": first, "key": key})
			need(t, v.ID)
			before := h.rows(t)
			vars := map[string]any{"in": again, "key": key}
			if cases != nil {
				vars["cases"] = cases
			}
			if r := call[victimT](t, h, h.police, registerVictimMutation, vars); r.ID != v.ID {
				t.Errorf("the retry made victim %s, the first call %s", r.ID, v.ID)
			}
			testserver.WantUnchanged(t, h.s.DB.Client, before)
		}

		t.Run("OKOmittedThenSpelledOut", func(t *testing.T) {
			name := newVictimName()
			retry(t, bare(name), spelled(name), []string{})
		})
		t.Run("OKSpelledOutThenOmitted", func(t *testing.T) {
			name := newVictimName()
			retry(t, spelled(name), bare(name), nil)
		})

		t.Run("ErrOtherValue", func(t *testing.T) {
			name := newVictimName()
			key := "defaults-other-" + name
			v := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": bare(name), "key": key})
			need(t, v.ID)
			c := h.openCase(t)
			for what, in := range map[string]map[string]any{
				"foreignNational true": with(bare(name), "foreignNational", true),
				"a form":               with(bare(name), "formsOfExploitation", []string{"SEXUAL"}),
				"exactAge 0":           with(bare(name), "exactAge", 0),
			} {
				t.Run(what, func(t *testing.T) {
					h.refuse(t, h.police, registerVictimMutation, map[string]any{"in": in, "key": key},
						want{Code: "CONFLICT", Field: "idempotencyKey"}, v.ID)
				})
			}
			t.Run("a case", func(t *testing.T) {
				h.refuse(t, h.police, registerVictimMutation, map[string]any{"in": bare(name), "cases": []string{c.ID}, "key": key},
					want{Code: "CONFLICT", Field: "idempotencyKey"}, v.ID)
			})
		})
	})
}

// TestIdempotentRetrySpellingOutANullTheRoleMayNotWrite: a null writes
// nothing (docs/mutations.md: null is omission), so a retry that spells
// out a null for a sensitive field the role may not write (an
// investigator's healthNotes, testimonySummary or shelterLocation,
// policies/policy.csv), as a client library writing every optional field
// does, asks the role for nothing: it replays the first record, writes
// nothing, and the trail records no refused write. It was FORBIDDEN "Your
// role may not write Victim.healthNotes" (a hunt): the mutation guard
// read the keys sent, not what they write, and an integrator retrying
// after an unknown outcome was told the victim was not registered.
func TestIdempotentRetrySpellingOutANullTheRoleMayNotWrite(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		name := newVictimName()
		key := "null-unwritable-" + name
		v := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": victimInput(name, 30), "key": key})
		need(t, v.ID)
		for _, field := range []string{"healthNotes", "testimonySummary", "shelterLocation"} {
			t.Run(field, func(t *testing.T) {
				before, refusals := h.rows(t), h.refusedCalls(t, h.police, "registerVictim")
				again := with(victimInput(name, 30), field, nil)
				if r := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": again, "key": key}); r.ID != v.ID {
					t.Errorf("the retry spelling out %s: null made victim %s, the first call %s", field, r.ID, v.ID)
				}
				testserver.WantUnchanged(t, h.s.DB.Client, before)
				if n := h.refusedCalls(t, h.police, "registerVictim"); n != refusals {
					t.Errorf("the trail records %d refused registerVictim calls after a replay, want %d", n, refusals)
				}
			})
		}
	})
}

// TestIdempotentRetryOfARecordHashedBefore: an idempotency record written
// before 2026-12-06 keeps the hash of its request with nulls and defaults
// as sent (and, before 2026-12-05, its lists as sent too); a retry sent as
// the first request was still returns the first record.
func TestIdempotentRetryOfARecordHashedBefore(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		name := newVictimName()
		vars := map[string]any{"in": victimInput(name, 30), "key": "before-" + name}
		first := call[victimT](t, h, h.police, registerVictimMutation, vars)
		need(t, first.ID)
		// The request as the server decodes it (victimInput).
		identified := date(2, 15)
		in := ent.CreateVictimInput{Pseudonym: name, Sex: domain.SexFemale, AgeGroup: domain.AgeGroupAdult,
			IdentificationStatus: domain.IdentificationStatusPotentialVictim, IdentifiedBy: domain.IdentifyingBodyStatePolice,
			IdentifiedAt: identified, Region: domain.RegionTirane,
			FormsOfExploitation: []domain.Exploitation{domain.ExploitationSexual}, ExactAge: ptr(30)}
		listsInOrder, asSent := casework.RegisterVictimHashesBefore(in, nil)
		record := h.s.DB.Client.IdempotencyRecord.Query().Where(idempotencyrecord.Key("before-" + name)).OnlyX(systemCtx())
		// A record written now keeps, beside its canonical hash, the form
		// the previous release compares, so that a retry reaching a server
		// of that release (a rolling deploy, a rollback) replays there too
		// (a review: it kept the canonical hash alone, and such a retry was
		// a CONFLICT).
		if record.RequestHash != listsInOrder {
			t.Errorf("request_hash is not the previous release's form of the same request: a retry there is a CONFLICT")
		}
		if record.CanonicalHash == nil || *record.CanonicalHash == listsInOrder {
			t.Fatalf("the record keeps no canonical hash of its own (%v), so this test shows nothing", record.CanonicalHash)
		}
		for what, hash := range map[string]string{"lists in order": listsInOrder, "as sent": asSent} {
			t.Run(what, func(t *testing.T) {
				// As the record was written then (the hash is immutable to ent).
				update := `UPDATE idempotency_records SET request_hash = ?, canonical_hash = NULL WHERE id = ?`
				if h.s.DB.Dialect == dialect.Postgres {
					update = `UPDATE idempotency_records SET request_hash = $1, canonical_hash = NULL WHERE id = $2`
				}
				if _, err := h.s.DB.SQL.Exec(update, hash, record.ID); err != nil {
					t.Fatal(err)
				}
				before := h.rows(t)
				if again := call[victimT](t, h, h.police, registerVictimMutation, vars); again.ID != first.ID {
					t.Errorf("the retry made victim %s, the first call %s", again.ID, first.ID)
				}
				testserver.WantUnchanged(t, h.s.DB.Client, before)
				h.refuse(t, h.police, registerVictimMutation, map[string]any{"in": with(victimInput(name, 30), "foreignNational", true), "key": "before-" + name},
					want{Code: "CONFLICT", Field: "idempotencyKey"}, first.ID)
			})
		}
	})
}

// TestIdempotentRetryRefusedByARuleAddedSince: the input rules grow (an
// invisible character in a key is refused since 2026-12-06). A create an
// earlier release made, whose answer was lost, retried after the rule
// came, was made: the retry is answered with the first record and writes
// nothing. It was BAD_USER_INPUT, the input rules running before anything
// looked for the key (a hunt), so the integrator was told a write it had
// made was not. Any request that is not that replay keeps the refusal: the
// same input under another key, another input under the key. A retry
// the policy refuses too (the role may no longer write the victim's
// phone, which the first call set) is answered as well.
func TestIdempotentRetryRefusedByARuleAddedSince(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		name := newVictimName()
		key := "rule-" + name
		const phone = "+355 69 000 0003"
		first := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": with(victimInput(name, 30), "phone", phone), "key": key})
		need(t, first.ID)
		// As an earlier release stored it: the pseudonym with a zero-width
		// space, and the key's record of that request.
		hidden := name + "\u200b"
		in := ent.CreateVictimInput{Pseudonym: hidden, Sex: domain.SexFemale, AgeGroup: domain.AgeGroupAdult,
			IdentificationStatus: domain.IdentificationStatusPotentialVictim, IdentifiedBy: domain.IdentifyingBodyStatePolice,
			IdentifiedAt: date(2, 15), Region: domain.RegionTirane,
			FormsOfExploitation: []domain.Exploitation{domain.ExploitationSexual}, ExactAge: ptr(30), Phone: ptr(phone)}
		canonical, previous := casework.RegisterVictimHashes(in, nil)
		for _, q := range []struct {
			sqlite, postgres string
			args             []any
		}{
			{`UPDATE victims SET pseudonym = ? WHERE pseudonym = ?`, `UPDATE victims SET pseudonym = $1 WHERE pseudonym = $2`, []any{hidden, name}},
			{`UPDATE idempotency_records SET canonical_hash = ?, request_hash = ? WHERE key = ?`,
				`UPDATE idempotency_records SET canonical_hash = $1, request_hash = $2 WHERE key = $3`, []any{canonical, previous, key}},
		} {
			stmt := q.sqlite
			if h.s.DB.Dialect == dialect.Postgres {
				stmt = q.postgres
			}
			if res, err := h.s.DB.SQL.Exec(stmt, q.args...); err != nil {
				t.Fatal(err)
			} else if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("%s changed %d rows, want 1", stmt, n)
			}
		}
		refused := badField("input.pseudonym")
		sent := func(key string) map[string]any {
			return map[string]any{"in": with(victimInput(hidden, 30), "phone", phone), "key": key}
		}
		h.refuse(t, h.police, registerVictimMutation, sent("another-"+key), refused, first.ID)
		replays := func(t *testing.T) {
			t.Helper()
			before := h.rows(t)
			again := call[victimT](t, h, h.police, registerVictimMutation, sent(key))
			if again.ID != first.ID || again.Pseudonym != hidden {
				t.Errorf("the retry answered victim %s %q, want the first call's %s %q", again.ID, again.Pseudonym, first.ID, hidden)
			}
			testserver.WantUnchanged(t, h.s.DB.Client, before)
		}
		replays(t)
		t.Run("AndThePolicyRefusesItsWrite", func(t *testing.T) {
			admin := h.principal(t, "police-gd", viewer.RoleAdmin)
			const change = `mutation ($add: [[String!]!], $remove: [[String!]!], $r: String!) { changePolicy(add: $add, remove: $remove, reason: $r) { added removed } }`
			line := []string{"p", "investigator", "investigation", "Victim:CONTACT", "write", "any"}
			call[map[string]any](t, h, admin, change, map[string]any{"remove": [][]string{line}, "r": "A line taken out between a call and its retry"})
			t.Cleanup(func() {
				call[map[string]any](t, h, admin, change, map[string]any{"add": [][]string{line}, "r": "The line put back"})
			})
			replays(t)
			h.refuse(t, h.police, registerVictimMutation, sent("third-"+key), refused, first.ID)
		})
		other := sent(key)
		other["in"] = with(other["in"].(map[string]any), "pseudonym", hidden+"x")
		h.refuse(t, h.police, registerVictimMutation, other, refused, first.ID)
		// A key the rules refuse is no key to look for: PostgreSQL cannot
		// even compare one holding NUL (it was INTERNAL).
		h.refuse(t, h.police, registerVictimMutation, sent(key+"\x00"), refused, first.ID)
	})
}

// with is in with key set to value.
func with(in map[string]any, key string, value any) map[string]any {
	in[key] = value
	return in
}
