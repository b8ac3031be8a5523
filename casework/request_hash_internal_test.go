package casework

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"slices"
	"testing"
	"time"

	"entgo.io/ent/entc/load"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
)

// TestRequestHashes: the hash kept of a request has its lists in order
// (a set sent in another order is the same request); the older hashes are
// those idempotency records written before keep, so that retrying one
// still matches: the JSON with its lists in order, nulls as sent
// (2026-12-05 to 2026-12-06), and the JSON as it came (before).
func TestRequestHashes(t *testing.T) {
	of := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }
	type request struct {
		Forms []string       `json:"forms"`
		IDs   []int          `json:"ids"`
		None  *int           `json:"none"`
		Terms map[string]any `json:"terms"`
	}
	in := request{Forms: []string{"SEXUAL", "FORCED_BEGGING"}, IDs: []int{51539607553, 12884901888},
		Terms: map[string]any{"kinds": []string{"NGO", "COURT"}}}
	hash, older, err := requestHashes(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := of(`{"forms":["SEXUAL","FORCED_BEGGING"],"ids":[51539607553,12884901888],"none":null,"terms":{"kinds":["NGO","COURT"]}}`); older[1] != want {
		t.Errorf("older[1] is not the hash of the JSON as sent")
	}
	if want := of(`{"forms":["FORCED_BEGGING","SEXUAL"],"ids":[12884901888,51539607553],"none":null,"terms":{"kinds":["COURT","NGO"]}}`); older[0] != want {
		t.Errorf("older[0] is not the hash of the JSON with its lists in order")
	}
	if want := of(`{"forms":["FORCED_BEGGING","SEXUAL"],"ids":[12884901888,51539607553],"terms":{"kinds":["COURT","NGO"]}}`); hash != want {
		t.Errorf("hash is not the hash of the JSON with its lists in order and its nulls left out")
	}
}

// TestRequestHashesOmitted: a value that stores what leaving it out
// stores hashes as leaving it out; any other value, the zero of its type
// too, is another request.
func TestRequestHashesOmitted(t *testing.T) {
	at := time.Date(2026, 2, 15, 9, 0, 0, 0, time.UTC)
	victim := func(change func(*ent.CreateVictimInput)) ent.CreateVictimInput {
		in := ent.CreateVictimInput{Pseudonym: "V-1", Sex: domain.SexFemale, AgeGroup: domain.AgeGroupAdult,
			IdentificationStatus: domain.IdentificationStatusPotentialVictim, IdentifiedBy: domain.IdentifyingBodyStatePolice,
			IdentifiedAt: at, Region: domain.RegionTirane}
		if change != nil {
			change(&in)
		}
		return in
	}
	ptr := func(v any) any {
		p := reflect.New(reflect.TypeOf(v))
		p.Elem().Set(reflect.ValueOf(v))
		return p.Interface()
	}
	decision := ent.CreateCourtDecisionInput{Instance: domain.InstanceFirstInstance, DecidedOn: at, Verdict: domain.VerdictAcquitted, ProsecutionID: 1, CourtID: 2}
	cases := []struct {
		name     string
		omitted  any
		sent     any
		sameAsIs bool
	}{
		{"foreignNational false", victim(nil), victim(func(in *ent.CreateVictimInput) { in.ForeignNational = ptr(false).(*bool) }), true},
		{"foreignNational true", victim(nil), victim(func(in *ent.CreateVictimInput) { in.ForeignNational = ptr(true).(*bool) }), false},
		{"formsOfExploitation []", victim(nil), victim(func(in *ent.CreateVictimInput) { in.FormsOfExploitation = []domain.Exploitation{} }), true},
		{"formsOfExploitation [SEXUAL]", victim(nil), victim(func(in *ent.CreateVictimInput) {
			in.FormsOfExploitation = []domain.Exploitation{domain.ExploitationSexual}
		}), false},
		{"exactAge 0", victim(nil), victim(func(in *ent.CreateVictimInput) { in.ExactAge = ptr(0).(*int) }), false},
		{"legalName empty", victim(nil), victim(func(in *ent.CreateVictimInput) { in.LegalName = ptr("").(*string) }), false},
		{"caseIDs []", registerVictimRequest{victim(nil), nil}, registerVictimRequest{victim(nil), []int{}}, true},
		{"caseIDs [1]", registerVictimRequest{victim(nil), nil}, registerVictimRequest{victim(nil), []int{1}}, false},
		{"registerVictim's foreignNational false", registerVictimRequest{victim(nil), nil},
			registerVictimRequest{victim(func(in *ent.CreateVictimInput) { in.ForeignNational = ptr(false).(*bool) }), []int{}}, true},
		{"case formsOfExploitation []", ent.CreateCaseInput{Reference: "R"}, ent.CreateCaseInput{Reference: "R", FormsOfExploitation: []domain.Exploitation{}}, true},
		{"case openedAt", ent.CreateCaseInput{Reference: "R"}, ent.CreateCaseInput{Reference: "R", OpenedAt: &at}, false},
		{"compensationPaid false", decision, func() any { d := decision; d.CompensationPaid = ptr(false).(*bool); return d }(), true},
		{"compensationOrderedLek 0", decision, func() any { d := decision; d.CompensationOrderedLek = ptr(int64(0)).(*int64); return d }(), false},
		{"defendantIDs []", ent.CreateProsecutionInput{RegistrationNumber: "P"}, ent.CreateProsecutionInput{RegistrationNumber: "P", DefendantIDs: []int{}}, true},
		{"suspectID null", ent.CreateChargeInput{ProsecutionID: 1}, ent.CreateChargeInput{ProsecutionID: 1, SuspectID: nil}, true},
		// An ent field without a default: [] stores [], omission nothing.
		{"consent purposes []", ent.CreateConsentInput{VictimID: 1}, ent.CreateConsentInput{VictimID: 1, Purposes: []domain.ConsentPurpose{}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, _, err := requestHashes(c.omitted)
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := requestHashes(c.sent)
			if err != nil {
				t.Fatal(err)
			}
			if (a == b) != c.sameAsIs {
				t.Errorf("same hash: %v, want %v", a == b, c.sameAsIs)
			}
		})
	}
}

// TestEntSchemasAreAll: entSchemas names every ent schema, so that every
// create input finds the defaults of the fields it sets.
func TestEntSchemasAreAll(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the schema package")
	}
	spec, err := (&load.Config{Path: "../ent/schema"}).Load()
	if err != nil {
		t.Fatal(err)
	}
	var loaded, listed []string
	for _, s := range spec.Schemas {
		loaded = append(loaded, s.Name)
	}
	for _, s := range entSchemas {
		listed = append(listed, reflect.TypeOf(s).Name())
	}
	slices.Sort(loaded)
	slices.Sort(listed)
	if !slices.Equal(loaded, listed) {
		t.Errorf("entSchemas lists %v, entc loads %v", listed, loaded)
	}
}
