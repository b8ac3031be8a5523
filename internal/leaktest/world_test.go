package leaktest_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/viewer"
)

// --- The truth, read from the database with system rights ---

type world struct {
	agencies          map[int]*ent.Agency
	byCode            map[string]*ent.Agency
	cases             map[int]*ent.CaseFile
	victimsOfCase     map[int][]int
	casesOfVictim     map[int][]int
	assignments       map[int][]*ent.CaseAssignment // by case
	prosecutions      map[int]*ent.Prosecution
	prosOfCase        map[int][]int
	decisions         map[int]*ent.CourtDecision
	decisionsOfPros   map[int][]*ent.CourtDecision
	defendantsOfPros  map[int][]int
	prosOfSuspect     map[int][]int
	victims           map[int]*ent.Victim
	suspects          map[int]*ent.Suspect
	suspectsOfCase    map[int][]int
	referrals         map[int]*ent.Referral
	referralsOfVictim map[int][]int
	referralsOfCase   map[int][]int
	services          map[int]*ent.SupportService
	servicesOfVictim  map[int][]int
	consentsOfVictim  map[int][]*ent.Consent
	consents          map[int]*ent.Consent
	casesOfAgency     map[int][]int // through assignments
	ledBy             map[int][]int
	grants            []*ent.EmergencyGrant

	charges map[int]*ent.Charge
	// nodeIDs are the ids of every row of each type implementing Node, by
	// GraphQL type name, sorted: the one list of, say, every victim's id.
	nodeIDs map[string][]int
}

// fatalOn returns a check that ends the test at an error, saying what the
// test was doing: the setup's many database calls each need one.
func fatalOn(t *testing.T, doing string) func(error) {
	return func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", doing, err)
		}
	}
}

// forEachRow reads every row of a table through all and hands each to add;
// an error reading it ends the test through must.
func forEachRow[T any](ctx context.Context, must func(error), all func(context.Context) ([]T, error), add func(T)) {
	rows, err := all(ctx)
	must(err)
	for _, r := range rows {
		add(r)
	}
}

func loadWorld(t *testing.T, c *ent.Client) *world {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	must := fatalOn(t, "reading the truth from the database")
	w := &world{
		agencies: map[int]*ent.Agency{}, byCode: map[string]*ent.Agency{}, cases: map[int]*ent.CaseFile{},
		victimsOfCase: map[int][]int{}, casesOfVictim: map[int][]int{}, assignments: map[int][]*ent.CaseAssignment{},
		prosecutions: map[int]*ent.Prosecution{}, prosOfCase: map[int][]int{}, decisions: map[int]*ent.CourtDecision{}, decisionsOfPros: map[int][]*ent.CourtDecision{},
		defendantsOfPros: map[int][]int{}, prosOfSuspect: map[int][]int{},
		victims: map[int]*ent.Victim{}, suspects: map[int]*ent.Suspect{}, suspectsOfCase: map[int][]int{},
		referrals: map[int]*ent.Referral{}, referralsOfVictim: map[int][]int{}, referralsOfCase: map[int][]int{},
		services: map[int]*ent.SupportService{}, servicesOfVictim: map[int][]int{}, consentsOfVictim: map[int][]*ent.Consent{},
		consents: map[int]*ent.Consent{}, casesOfAgency: map[int][]int{}, ledBy: map[int][]int{},
	}
	forEachRow(ctx, must, c.Agency.Query().All, func(a *ent.Agency) {
		w.agencies[a.ID], w.byCode[a.Code] = a, a
	})
	forEachRow(ctx, must, c.CaseFile.Query().All, func(x *ent.CaseFile) {
		w.cases[x.ID] = x
		w.ledBy[x.LeadAgencyID] = append(w.ledBy[x.LeadAgencyID], x.ID)
	})
	forEachRow(ctx, must, c.CaseVictim.Query().All, func(l *ent.CaseVictim) {
		w.victimsOfCase[l.CaseID] = append(w.victimsOfCase[l.CaseID], l.VictimID)
		w.casesOfVictim[l.VictimID] = append(w.casesOfVictim[l.VictimID], l.CaseID)
	})
	forEachRow(ctx, must, c.CaseAssignment.Query().All, func(a *ent.CaseAssignment) {
		w.assignments[a.CaseID] = append(w.assignments[a.CaseID], a)
		w.casesOfAgency[a.AgencyID] = append(w.casesOfAgency[a.AgencyID], a.CaseID)
	})
	forEachRow(ctx, must, c.Prosecution.Query().All, func(p *ent.Prosecution) {
		w.prosecutions[p.ID] = p
		w.prosOfCase[p.CaseID] = append(w.prosOfCase[p.CaseID], p.ID)
	})
	forEachRow(ctx, must, c.CourtDecision.Query().All, func(d *ent.CourtDecision) {
		w.decisions[d.ID] = d
		w.decisionsOfPros[d.ProsecutionID] = append(w.decisionsOfPros[d.ProsecutionID], d)
	})
	forEachRow(ctx, must, c.ProsecutionDefendant.Query().All, func(d *ent.ProsecutionDefendant) {
		w.defendantsOfPros[d.ProsecutionID] = append(w.defendantsOfPros[d.ProsecutionID], d.SuspectID)
		w.prosOfSuspect[d.SuspectID] = append(w.prosOfSuspect[d.SuspectID], d.ProsecutionID)
	})
	forEachRow(ctx, must, c.Victim.Query().All, func(v *ent.Victim) {
		w.victims[v.ID] = v
	})
	forEachRow(ctx, must, c.Suspect.Query().All, func(s *ent.Suspect) {
		w.suspects[s.ID] = s
		w.suspectsOfCase[s.CaseID] = append(w.suspectsOfCase[s.CaseID], s.ID)
	})
	forEachRow(ctx, must, c.Referral.Query().All, func(r *ent.Referral) {
		w.referrals[r.ID] = r
		w.referralsOfVictim[r.VictimID] = append(w.referralsOfVictim[r.VictimID], r.ID)
		if r.CaseID != nil {
			w.referralsOfCase[*r.CaseID] = append(w.referralsOfCase[*r.CaseID], r.ID)
		}
	})
	forEachRow(ctx, must, c.SupportService.Query().All, func(s *ent.SupportService) {
		w.services[s.ID] = s
		w.servicesOfVictim[s.VictimID] = append(w.servicesOfVictim[s.VictimID], s.ID)
	})
	forEachRow(ctx, must, c.Consent.Query().All, func(k *ent.Consent) {
		w.consentsOfVictim[k.VictimID] = append(w.consentsOfVictim[k.VictimID], k)
		w.consents[k.ID] = k
	})
	w.charges = map[int]*ent.Charge{}
	forEachRow(ctx, must, c.Charge.Query().All, func(ch *ent.Charge) {
		w.charges[ch.ID] = ch
	})
	var err error
	w.grants, err = c.EmergencyGrant.Query().All(ctx)
	must(err)
	w.nodeIDs = map[string][]int{}
	for _, typ := range walkSchema(servedSchema).implementations("Node") {
		list, ok := ent.NodeIDs[typ]
		if !ok {
			t.Fatalf("the schema's Node type %s has no entry in ent.NodeIDs: the leak test cannot ask nodes(ids:) for it", typ)
		}
		ids, err := list(ctx, c)
		must(err)
		slices.Sort(ids)
		w.nodeIDs[typ] = ids
	}
	for _, typ := range rowTypeNames {
		if n := len(w.nodeIDs[typ]); n < 100 {
			t.Fatalf("the demo data is too small for this test: %d rows of %s", n, typ)
		}
	}
	return w
}

// rowTypeNames are the GraphQL types with sensitive fields, in the order
// the checks visit them.
var rowTypeNames = []string{"Victim", "Suspect", "SupportService", "Consent"}

// rowTypes are the ent types of the GraphQL types with sensitive fields.
var rowTypes = map[string]reflect.Type{
	"Victim":         reflect.TypeFor[ent.Victim](),
	"Suspect":        reflect.TypeFor[ent.Suspect](),
	"SupportService": reflect.TypeFor[ent.SupportService](),
	"Consent":        reflect.TypeFor[ent.Consent](),
}

// row is the stored row of a type with sensitive fields, or nil.
func (w *world) row(typ string, id int) any {
	switch typ {
	case "Victim":
		return stored(w.victims, id)
	case "Suspect":
		return stored(w.suspects, id)
	case "SupportService":
		return stored(w.services, id)
	case "Consent":
		return stored(w.consents, id)
	}
	return nil
}

// stored is rows[id] as a row, or nil (not a nil pointer in an interface)
// when there is none.
func stored[T any](rows map[int]*T, id int) any {
	if r := rows[id]; r != nil {
		return r
	}
	return nil
}

// goField is the ent struct field holding a GraphQL field (legalName →
// LegalName).
func goField(field string) string { return strings.ToUpper(field[:1]) + field[1:] }

// value is the true value of a sensitive field: string, time.Time, int, or
// nil when the row has none. It reads the ent struct field of the same
// name, so a sensitive field added to the schema needs nothing here
// (checkVocabulary fails if its struct field cannot be found).
func (w *world) value(typ string, id int, field string) any {
	row := w.row(typ, id)
	if row == nil {
		return nil
	}
	f := reflect.ValueOf(row).Elem().FieldByName(goField(field))
	if !f.IsValid() {
		return nil
	}
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return nil
		}
		f = f.Elem()
	}
	if f.Kind() == reflect.String {
		return f.String() // an enum (domain.ConsentGivenBy) as JSON writes it
	}
	return f.Interface()
}

// jsonForms are the ways a value can be written in a JSON response.
func jsonForms(v any) []string {
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	switch x := v.(type) {
	case string:
		add(x)
		b, _ := json.Marshal(x)
		add(string(b[1 : len(b)-1]))
	case time.Time:
		add(x.Format(time.RFC3339Nano))
		add(x.UTC().Format(time.RFC3339Nano))
		add(x.UTC().Format(time.RFC3339))
	case int:
		add(strconv.Itoa(x))
	}
	return out
}
