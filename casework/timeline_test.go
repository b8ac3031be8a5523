package casework_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/caseevent"
	"github.com/casegraph/casegraph/internal/testdb"
)

// TestTimelineEntriesKeepTheirVictim: every timeline entry about a victim
// or a record of theirs (a link, an update, a referral, a support service,
// a consent) keeps that victim, on every case of theirs, and the other
// entries keep none. Row scope hides an entry from whoever does not see
// its victim by that column alone (authz.TestTimelineHidesEntriesAboutHiddenVictims).
func TestTimelineEntriesKeepTheirVictim(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, other := h.openAssigned(t, "SUPPORTING", "ngo-vatra", "shelter-national"), h.openAssigned(t, "SUPPORTING", "ngo-vatra")
		v := h.registerVictim(t, 19, c.ID, other.ID)
		call[victimT](t, h, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version, "in": map[string]any{"region": "DURRES"}})
		r := call[referralT](t, h, h.police, createReferralMutation, map[string]any{"in": h.referralInput(t, v.ID, c.ID)})
		call[referralT](t, h, h.ngo, moveReferralMutation, map[string]any{"id": r.ID, "v": r.Version, "status": "ACCEPTED"})
		call[referralT](t, h, h.police, createReferralMutation, map[string]any{"in": h.referralInput(t, v.ID, nil)})
		sv := call[serviceT](t, h, h.shelter, recordServiceMutation, map[string]any{"in": map[string]any{
			"kind": "SHELTER", "startedOn": stamp(date(4, 1)), "victimID": v.ID, "providerID": h.agency(t, "shelter-national"),
		}})
		call[serviceT](t, h, h.shelter, updateServiceMutation, map[string]any{"id": sv.ID, "v": sv.Version, "in": map[string]any{"startedOn": stamp(date(5, 1))}})
		cs := call[consentT](t, h, h.ngo, recordConsentMutation, map[string]any{"in": map[string]any{
			"victimID": v.ID, "givenBy": "VICTIM", "givenAt": stamp(time.Now().Add(-time.Hour)),
			"agencyKinds": []string{"NGO_SHELTER"}, "purposes": []string{"SERVICES"},
		}})
		call[consentT](t, h, h.ngo, withdrawConsentMutation, map[string]any{"id": cs.ID, "v": cs.Version})

		victimID, err := strconv.Atoi(v.ID)
		if err != nil {
			t.Fatal(err)
		}
		aboutVictim := map[domain.CaseEventKind]bool{
			domain.CaseEventKindVictimLinked: true, domain.CaseEventKindVictimUpdated: true,
			domain.CaseEventKindReferralCreated: true, domain.CaseEventKindReferralStatusChanged: true,
			domain.CaseEventKindSupportRecorded: true, domain.CaseEventKindSupportUpdated: true,
			domain.CaseEventKindConsentRecorded: true, domain.CaseEventKindConsentWithdrawn: true,
		}
		seen := map[domain.CaseEventKind]int{}
		for _, id := range []string{c.ID, other.ID} {
			caseID, _ := strconv.Atoi(id)
			for _, e := range h.s.DB.Client.CaseEvent.Query().Where(caseevent.CaseID(caseID)).AllX(systemCtx()) {
				got := 0
				if e.SubjectVictimID != nil {
					got = *e.SubjectVictimID
				}
				want := 0
				if aboutVictim[e.Kind] {
					want = victimID
					seen[e.Kind]++
				}
				if got != want {
					t.Errorf("case %s, entry %s (%q): its victim is %d, want %d", id, e.Kind, e.Summary, got, want)
				}
			}
		}
		for kind := range aboutVictim {
			if seen[kind] == 0 {
				t.Errorf("no %s entry written: the test did not exercise it", kind)
			}
		}
	})
}

// TestVictimTimelineCostsNoStatementPerCase: a mutation that tells every
// case of a victim (updateVictim, recordConsent, withdrawConsent,
// createReferral and moveReferralStatus of a referral on no case,
// recordSupportService, updateSupportService) sends as many SQL
// statements for a victim on twenty cases as for a victim on one, and
// still writes its entry on each case. docs/limits.md prices a mutation by
// its payload and the items of its input lists; the victim's cases are in
// neither (a victim linked to 1,000 cases once, by a registerVictim priced
// for them, made every later update 1,000 INSERTs for a few points). Until
// 2026-12-06 each entry was an INSERT of its own: updateVictim sent 11
// statements for a victim on one case and 30 on twenty (SQLite), each of
// the others as many more.
func TestVictimTimelineCostsNoStatementPerCase(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		counted, n := testdb.CountingByKind(db)
		h := start(t, counted)
		cases := make([]string, 20)
		for i := range cases {
			cases[i] = h.openAssigned(t, "SUPPORTING", "ngo-vatra", "shelter-national").ID
		}
		// statements registers a victim on cases, runs each mutation that
		// tells every case of the victim, and returns the victim and the
		// statements each mutation sent.
		statements := func(cases []string) (victimT, map[string]int64) {
			v := h.registerVictim(t, 30, cases...)
			sent := map[string]int64{}
			count := func(mutation string, run func()) {
				n.Reset()
				run()
				sent[mutation] = n.All.Load()
			}
			count("updateVictim", func() {
				call[victimT](t, h, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version, "in": map[string]any{"identificationStatus": "OFFICIAL_VICTIM"}})
			})
			var r referralT
			count("createReferral", func() {
				r = call[referralT](t, h, h.police, createReferralMutation, map[string]any{"in": h.referralInput(t, v.ID, nil)})
			})
			count("moveReferralStatus", func() {
				call[referralT](t, h, h.ngo, moveReferralMutation, map[string]any{"id": r.ID, "v": r.Version, "status": "ACCEPTED"})
			})
			var sv serviceT
			count("recordSupportService", func() {
				sv = call[serviceT](t, h, h.shelter, recordServiceMutation, map[string]any{"in": map[string]any{
					"kind": "SHELTER", "startedOn": stamp(date(4, 1)), "victimID": v.ID, "providerID": h.agency(t, "shelter-national"),
				}})
			})
			count("updateSupportService", func() {
				call[serviceT](t, h, h.shelter, updateServiceMutation, map[string]any{"id": sv.ID, "v": sv.Version, "in": map[string]any{"startedOn": stamp(date(5, 1))}})
			})
			var cs consentT
			count("recordConsent", func() {
				cs = call[consentT](t, h, h.ngo, recordConsentMutation, map[string]any{"in": map[string]any{
					"victimID": v.ID, "givenBy": "VICTIM", "givenAt": stamp(time.Now().Add(-time.Hour)),
					"agencyKinds": []string{"NGO_SHELTER"}, "purposes": []string{"SERVICES"},
				}})
			})
			count("withdrawConsent", func() {
				call[consentT](t, h, h.ngo, withdrawConsentMutation, map[string]any{"id": cs.ID, "v": cs.Version})
			})
			return v, sent
		}
		statements(cases[:1]) // the first requests of each principal fill the server's caches
		_, one := statements(cases[:1])
		v, twenty := statements(cases)
		t.Logf("%s: statements on 1 case %v, on 20 %v", db.Dialect, one, twenty)
		for mutation, want := range one {
			if twenty[mutation] != want {
				t.Errorf("%s's statements grow with the victim's cases: %d for a victim on 1 case, %d on 20", mutation, want, twenty[mutation])
			}
		}
		// Every case has the entry of each mutation, besides its link.
		for _, id := range cases {
			entries, err := h.s.DB.Client.CaseEvent.Query().
				Where(caseevent.CaseID(atoi(t, id)), caseevent.SubjectVictimID(atoi(t, v.ID))).Count(systemCtx())
			if err != nil {
				t.Fatal(err)
			}
			if entries != 1+len(one) {
				t.Errorf("case %s has %d entries about the victim, want %d (its link and one a mutation)", id, entries, 1+len(one))
			}
		}
	})
}
