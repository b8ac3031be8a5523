package graph_test

// TestNoSensitiveValueLeaks is an end-to-end leak test. It seeds the demo
// data, then, for a principal of every role at several agencies, sends a
// battery of real GraphQL queries over HTTP (top-level lists paged both
// ways, nested edges in both directions, agencies → cases, node and nodes
// over every victim, suspect and support service in the database and over
// every case, proceeding, referral and consent, aliases, inline and named
// fragments, filters and orderings, one query over GET) asking for every
// sensitive field, and checks every response against an oracle written here
// from the rules of policies/policy.csv and the facts in the database (read
// with system rights, never through package authz):
//
//   - the raw bytes of every response (and of every cursor, decoded) hold no
//     value of a sensitive field the principal may not read, unless a row the
//     principal may read carries the same value;
//   - every returned victim, suspect, support service, case, referral,
//     proceeding, consent and emergency grant is within the principal's rows,
//     and every nested edge holds only the related rows the principal sees;
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
//
// Identifiers are prefixed with lk to stay out of the way of the package's
// other tests.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/seed"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// lkPrincipal is one person the test acts as.
type lkPrincipal struct {
	role   viewer.Role
	agency string
	// seesIdentity: the oracle must allow, and the response must show, at
	// least one victim's legal name.
	seesIdentity bool
	// emergency: the principal first asks for emergency access to a case of
	// its region (which opens every sensitive field of that case's victims
	// and suspects, and only theirs).
	emergency bool
}

func (p lkPrincipal) String() string { return string(p.role) + "@" + p.agency }

var lkPrincipals = []lkPrincipal{
	{viewer.RoleInvestigator, "police-tirane", true, false},
	{viewer.RoleInvestigator, "police-gd", false, false},
	{viewer.RoleInvestigator, "border-police", false, false},
	{viewer.RoleProsecutor, "prosecution-tirane", true, false},
	{viewer.RoleProsecutor, "spak", false, false},
	{viewer.RoleProsecutor, "prosecution-general", false, false},
	{viewer.RoleJudge, "court-tirane", true, false},
	{viewer.RoleCaseWorker, "ngo-vatra", true, false},
	{viewer.RoleCaseWorker, "shelter-national", false, false},
	{viewer.RoleCaseWorker, "miu-durres", false, false},
	{viewer.RoleCaseWorker, "social-service", false, false},
	{viewer.RoleCoordinator, "onac", false, false},
	{viewer.RoleAnalyst, "onac", false, false},
	{viewer.RoleDPO, "police-tirane", false, false},
	{viewer.RoleAdmin, "onac", false, false},
	{viewer.RoleInvestigator, "police-durres", false, true},
	// The data protection officer of the agency that holds a grant.
	{viewer.RoleDPO, "police-durres", false, false},
}

// --- The oracle: policies/policy.csv, written out by hand ---

// lkSensitive lists every sensitive field and its category (the @sensitive
// directives of graph/ent.graphqls).
var lkSensitive = map[string]map[string]string{
	"Victim": {
		"legalName": "IDENTITY", "dateOfBirth": "IDENTITY", "personalNumber": "IDENTITY",
		"nationality": "QUASI_IDENTIFIER", "exactAge": "QUASI_IDENTIFIER",
		"phone": "CONTACT", "address": "CONTACT",
		"healthNotes":      "HEALTH",
		"testimonySummary": "TESTIMONY",
		"shelterLocation":  "LOCATION",
	},
	"Suspect":        {"legalName": "IDENTITY", "personalNumber": "IDENTITY"},
	"SupportService": {"notes": "HEALTH"},
}

// lkNoByteScan are fields whose values are too short or too common to look
// for in raw bytes (an age, a nationality); they are checked structurally.
var lkNoByteScan = map[string]bool{"Victim.exactAge": true, "Victim.nationality": true}

// lkAliases are the aliases the queries below use, and the field each names.
var lkAliases = map[string]string{"a": "legalName", "b": "legalName", "x": "legalName", "pn": "personalNumber", "secret": "healthNotes", "n2": "notes"}

// lkFamily is the g2 section of the policy: agency kind → family.
var lkFamily = map[string]string{
	"STATE_POLICE_GENERAL_DIRECTORATE":      "investigation",
	"LOCAL_POLICE_DIRECTORATE":              "investigation",
	"BORDER_AND_MIGRATION_POLICE":           "investigation",
	"NATIONAL_BUREAU_OF_INVESTIGATION":      "investigation",
	"PROSECUTION_OFFICE":                    "prosecution",
	"SPECIAL_PROSECUTION_OFFICE":            "prosecution",
	"GENERAL_PROSECUTION_OFFICE":            "prosecution",
	"COURT_FIRST_INSTANCE":                  "court",
	"SPECIAL_COURT_FIRST_INSTANCE":          "court",
	"COURT_OF_APPEAL":                       "court",
	"SPECIAL_COURT_OF_APPEAL":               "court",
	"HIGH_COURT":                            "court",
	"HIGH_PROSECUTORIAL_COUNCIL":            "governance",
	"MINISTRY_OF_INTERIOR":                  "governance",
	"NATIONAL_ANTI_TRAFFICKING_COORDINATOR": "governance",
	"RESPONSIBLE_AUTHORITY":                 "governance",
	"STATE_SOCIAL_SERVICE":                  "support",
	"STATE_AGENCY_FOR_CHILD_RIGHTS":         "support",
	"LABOUR_INSPECTORATE":                   "support",
	"STATE_SHELTER":                         "support",
	"NGO_SHELTER":                           "support",
	"NGO_SERVICE_PROVIDER":                  "support",
	"MOBILE_IDENTIFICATION_UNIT":            "support",
}

// lkRowLevels is the "Rows" section of the policy: the level (all, region,
// assigned, none) at which a role at an agency of kind sees cases and
// victims.
func lkRowLevels(role viewer.Role, kind string) (cases, victims string) {
	fam := lkFamily[kind]
	switch role {
	case viewer.RoleInvestigator:
		switch kind {
		case "STATE_POLICE_GENERAL_DIRECTORATE":
			return "all", "all"
		case "LOCAL_POLICE_DIRECTORATE":
			return "region", "region"
		case "BORDER_AND_MIGRATION_POLICE", "NATIONAL_BUREAU_OF_INVESTIGATION":
			return "assigned", "assigned"
		}
	case viewer.RoleProsecutor:
		switch kind {
		case "PROSECUTION_OFFICE":
			return "region", "assigned"
		case "SPECIAL_PROSECUTION_OFFICE":
			return "assigned", "assigned"
		case "GENERAL_PROSECUTION_OFFICE":
			return "all", "all"
		}
	case viewer.RoleJudge:
		if fam == "court" {
			return "assigned", "assigned"
		}
	case viewer.RoleCaseWorker:
		if fam == "support" {
			return "assigned", "assigned"
		}
	case viewer.RoleCoordinator:
		if fam == "governance" {
			return "all", "all"
		}
	case viewer.RoleAnalyst:
		return "all", "all"
	}
	return "none", "none"
}

// lkReadRules is the "Sensitive fields: read" section: per role, the family
// the rules name and the condition under which each category may be read.
var lkReadRules = map[viewer.Role]struct {
	family string
	cats   map[string]string
}{
	viewer.RoleInvestigator: {"investigation", map[string]string{
		"Victim:IDENTITY": "on_case", "Victim:CONTACT": "on_case", "Victim:QUASI_IDENTIFIER": "on_case",
		"Suspect:IDENTITY": "on_case",
	}},
	viewer.RoleProsecutor: {"prosecution", map[string]string{
		"Victim:IDENTITY": "proceedings", "Victim:CONTACT": "proceedings", "Victim:TESTIMONY": "proceedings",
		"Victim:QUASI_IDENTIFIER": "proceedings", "Suspect:IDENTITY": "proceedings",
	}},
	viewer.RoleJudge: {"court", map[string]string{
		"Victim:IDENTITY": "proceedings", "Victim:TESTIMONY": "proceedings", "Suspect:IDENTITY": "proceedings",
	}},
	viewer.RoleCaseWorker: {"support", map[string]string{
		"Victim:IDENTITY": "referred", "Victim:CONTACT": "referred", "Victim:HEALTH": "referred",
		"Victim:LOCATION": "referred", "Victim:QUASI_IDENTIFIER": "referred", "SupportService:HEALTH": "referred",
	}},
}

// lkConsentCategories need a current consent of the victim naming the
// agency's kind and the role's purpose, unless the criminal proceeding is
// the basis (proceedings).
var lkConsentCategories = map[string]bool{"IDENTITY": true, "CONTACT": true, "HEALTH": true, "TESTIMONY": true}

var lkPurpose = map[viewer.Role]domain.ConsentPurpose{
	viewer.RoleInvestigator: domain.ConsentPurposeCriminalProceedings,
	viewer.RoleProsecutor:   domain.ConsentPurposeCriminalProceedings,
	viewer.RoleJudge:        domain.ConsentPurposeCriminalProceedings,
	viewer.RoleCaseWorker:   domain.ConsentPurposeServices,
}

// --- The truth, read from the database with system rights ---

type lkWorld struct {
	agencies          map[int]*ent.Agency
	byCode            map[string]*ent.Agency
	cases             map[int]*ent.CaseFile
	victimsOfCase     map[int][]int
	casesOfVictim     map[int][]int
	assignments       map[int][]*ent.CaseAssignment // by case
	prosecutions      map[int]*ent.Prosecution
	prosOfCase        map[int][]int
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

	victimIDs, suspectIDs, serviceIDs []int
}

func lkLoadWorld(t *testing.T, c *ent.Client) *lkWorld {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("reading the truth from the database: %v", err)
		}
	}
	w := &lkWorld{
		agencies: map[int]*ent.Agency{}, byCode: map[string]*ent.Agency{}, cases: map[int]*ent.CaseFile{},
		victimsOfCase: map[int][]int{}, casesOfVictim: map[int][]int{}, assignments: map[int][]*ent.CaseAssignment{},
		prosecutions: map[int]*ent.Prosecution{}, prosOfCase: map[int][]int{}, decisionsOfPros: map[int][]*ent.CourtDecision{},
		defendantsOfPros: map[int][]int{}, prosOfSuspect: map[int][]int{},
		victims: map[int]*ent.Victim{}, suspects: map[int]*ent.Suspect{}, suspectsOfCase: map[int][]int{},
		referrals: map[int]*ent.Referral{}, referralsOfVictim: map[int][]int{}, referralsOfCase: map[int][]int{},
		services: map[int]*ent.SupportService{}, servicesOfVictim: map[int][]int{}, consentsOfVictim: map[int][]*ent.Consent{},
		consents: map[int]*ent.Consent{}, casesOfAgency: map[int][]int{}, ledBy: map[int][]int{},
	}
	agencies, err := c.Agency.Query().All(ctx)
	must(err)
	for _, a := range agencies {
		w.agencies[a.ID], w.byCode[a.Code] = a, a
	}
	cases, err := c.CaseFile.Query().All(ctx)
	must(err)
	for _, x := range cases {
		w.cases[x.ID] = x
		w.ledBy[x.LeadAgencyID] = append(w.ledBy[x.LeadAgencyID], x.ID)
	}
	links, err := c.CaseVictim.Query().All(ctx)
	must(err)
	for _, l := range links {
		w.victimsOfCase[l.CaseID] = append(w.victimsOfCase[l.CaseID], l.VictimID)
		w.casesOfVictim[l.VictimID] = append(w.casesOfVictim[l.VictimID], l.CaseID)
	}
	assignments, err := c.CaseAssignment.Query().All(ctx)
	must(err)
	for _, a := range assignments {
		w.assignments[a.CaseID] = append(w.assignments[a.CaseID], a)
		w.casesOfAgency[a.AgencyID] = append(w.casesOfAgency[a.AgencyID], a.CaseID)
	}
	pros, err := c.Prosecution.Query().All(ctx)
	must(err)
	for _, p := range pros {
		w.prosecutions[p.ID] = p
		w.prosOfCase[p.CaseID] = append(w.prosOfCase[p.CaseID], p.ID)
	}
	decisions, err := c.CourtDecision.Query().All(ctx)
	must(err)
	for _, d := range decisions {
		w.decisionsOfPros[d.ProsecutionID] = append(w.decisionsOfPros[d.ProsecutionID], d)
	}
	defendants, err := c.ProsecutionDefendant.Query().All(ctx)
	must(err)
	for _, d := range defendants {
		w.defendantsOfPros[d.ProsecutionID] = append(w.defendantsOfPros[d.ProsecutionID], d.SuspectID)
		w.prosOfSuspect[d.SuspectID] = append(w.prosOfSuspect[d.SuspectID], d.ProsecutionID)
	}
	victims, err := c.Victim.Query().All(ctx)
	must(err)
	for _, v := range victims {
		w.victims[v.ID] = v
		w.victimIDs = append(w.victimIDs, v.ID)
	}
	suspects, err := c.Suspect.Query().All(ctx)
	must(err)
	for _, s := range suspects {
		w.suspects[s.ID] = s
		w.suspectIDs = append(w.suspectIDs, s.ID)
		w.suspectsOfCase[s.CaseID] = append(w.suspectsOfCase[s.CaseID], s.ID)
	}
	referrals, err := c.Referral.Query().All(ctx)
	must(err)
	for _, r := range referrals {
		w.referrals[r.ID] = r
		w.referralsOfVictim[r.VictimID] = append(w.referralsOfVictim[r.VictimID], r.ID)
		if r.CaseID != nil {
			w.referralsOfCase[*r.CaseID] = append(w.referralsOfCase[*r.CaseID], r.ID)
		}
	}
	services, err := c.SupportService.Query().All(ctx)
	must(err)
	for _, s := range services {
		w.services[s.ID] = s
		w.serviceIDs = append(w.serviceIDs, s.ID)
		w.servicesOfVictim[s.VictimID] = append(w.servicesOfVictim[s.VictimID], s.ID)
	}
	consents, err := c.Consent.Query().All(ctx)
	must(err)
	for _, k := range consents {
		w.consentsOfVictim[k.VictimID] = append(w.consentsOfVictim[k.VictimID], k)
		w.consents[k.ID] = k
	}
	w.grants, err = c.EmergencyGrant.Query().All(ctx)
	must(err)
	slices.Sort(w.victimIDs)
	slices.Sort(w.suspectIDs)
	slices.Sort(w.serviceIDs)
	if len(w.victimIDs) < 100 || len(w.suspectIDs) < 100 || len(w.serviceIDs) < 100 {
		t.Fatalf("the demo data is too small for this test: %d victims, %d suspects, %d services",
			len(w.victimIDs), len(w.suspectIDs), len(w.serviceIDs))
	}
	return w
}

func lkStr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// value is the true value of a sensitive field: string, time.Time, int, or
// nil when the row has none.
func (w *lkWorld) value(typ string, id int, field string) any {
	switch typ {
	case "Victim":
		v := w.victims[id]
		if v == nil {
			return nil
		}
		switch field {
		case "legalName":
			return lkStr(v.LegalName)
		case "dateOfBirth":
			if v.DateOfBirth == nil {
				return nil
			}
			return *v.DateOfBirth
		case "personalNumber":
			return lkStr(v.PersonalNumber)
		case "nationality":
			return lkStr(v.Nationality)
		case "exactAge":
			if v.ExactAge == nil {
				return nil
			}
			return *v.ExactAge
		case "phone":
			return lkStr(v.Phone)
		case "address":
			return lkStr(v.Address)
		case "healthNotes":
			return lkStr(v.HealthNotes)
		case "testimonySummary":
			return lkStr(v.TestimonySummary)
		case "shelterLocation":
			return lkStr(v.ShelterLocation)
		}
	case "Suspect":
		s := w.suspects[id]
		if s == nil {
			return nil
		}
		switch field {
		case "legalName":
			return lkStr(s.LegalName)
		case "personalNumber":
			return lkStr(s.PersonalNumber)
		}
	case "SupportService":
		if s := w.services[id]; s != nil && field == "notes" {
			return lkStr(s.Notes)
		}
	}
	return nil
}

// lkForms are the ways a value can be written in a JSON response.
func lkForms(v any) []string {
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

// --- What one principal may see, per the oracle ---

type lkFieldKey struct {
	typ   string
	id    int
	field string
}

type lkView struct {
	w        *lkWorld
	p        lkPrincipal
	a        *ent.Agency
	kind     string
	subject  string
	caseLvl  string
	victLvl  string
	rows     map[string]map[int]bool // type → visible ids
	grants   map[int]bool            // cases under an active emergency grant
	allowed  map[lkFieldKey]bool
	nAllowed map[string]int // "Victim.legalName" → allowed rows with a value
}

func lkNewView(t *testing.T, w *lkWorld, p lkPrincipal, grants []*ent.EmergencyGrant) *lkView {
	a := w.byCode[p.agency]
	if a == nil {
		t.Fatalf("no agency %s in the database", p.agency)
	}
	v := &lkView{w: w, p: p, a: a, kind: string(a.Kind), subject: "test-" + string(p.role) + "@" + p.agency,
		rows: map[string]map[int]bool{}, grants: map[int]bool{}, allowed: map[lkFieldKey]bool{}, nAllowed: map[string]int{}}
	v.caseLvl, v.victLvl = lkRowLevels(p.role, v.kind)
	now := time.Now()
	for _, g := range grants {
		if g.Subject == v.subject && g.AgencyID == a.ID && g.RevokedAt == nil && g.ExpiresAt.After(now) {
			v.grants[g.CaseID] = true
		}
	}
	set := func(typ string, ids []int, f func(int) bool) {
		m := map[int]bool{}
		for _, id := range ids {
			if f(id) {
				m[id] = true
			}
		}
		v.rows[typ] = m
	}
	set("Case", lkKeys(w.cases), v.caseVisible)
	set("Victim", w.victimIDs, v.victimVisible)
	set("Suspect", w.suspectIDs, func(id int) bool { return v.caseLvl != "none" && v.rows["Case"][w.suspects[id].CaseID] })
	set("Prosecution", lkKeys(w.prosecutions), func(id int) bool {
		p := w.prosecutions[id]
		switch v.caseLvl {
		case "all":
			return true
		case "none":
			return false
		}
		return v.rows["Case"][p.CaseID] || p.OfficeID == a.ID
	})
	set("Referral", lkKeys(w.referrals), func(id int) bool {
		r := w.referrals[id]
		switch v.victLvl {
		case "all":
			return true
		case "none":
			return false
		}
		return v.rows["Victim"][r.VictimID] || r.FromAgencyID == a.ID || r.ToAgencyID == a.ID
	})
	set("SupportService", w.serviceIDs, func(id int) bool {
		s := w.services[id]
		switch v.victLvl {
		case "all":
			return true
		case "none":
			return false
		}
		return v.rows["Victim"][s.VictimID] || s.ProviderID == a.ID
	})
	// A person sees their own emergency grants; a data protection officer
	// (who may review them) the agency's.
	grantRows := map[int]bool{}
	for _, g := range grants {
		if g.AgencyID == a.ID && (p.role == viewer.RoleDPO || g.Subject == v.subject) {
			grantRows[g.ID] = true
		}
	}
	v.rows["EmergencyGrant"] = grantRows
	set("Consent", lkKeys(w.consents), func(id int) bool {
		switch v.victLvl {
		case "all":
			return true
		case "none":
			return false
		}
		return v.rows["Victim"][w.consents[id].VictimID]
	})
	for typ, fields := range lkSensitive {
		for id := range v.rows[typ] {
			for field := range fields {
				if v.decide(typ, id, field) {
					v.allowed[lkFieldKey{typ, id, field}] = true
					if w.value(typ, id, field) != nil {
						v.nAllowed[typ+"."+field]++
					}
				}
			}
		}
	}
	return v
}

func lkKeys[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// assigned: the agency leads the case, is assigned to it in any part, or
// is the office of one of its proceedings.
func (v *lkView) assigned(caseID int) bool {
	if c := v.w.cases[caseID]; c != nil && c.LeadAgencyID == v.a.ID {
		return true
	}
	for _, x := range v.w.assignments[caseID] {
		if x.AgencyID == v.a.ID {
			return true
		}
	}
	for _, pid := range v.w.prosOfCase[caseID] {
		if v.w.prosecutions[pid].OfficeID == v.a.ID {
			return true
		}
	}
	return false
}

// proceedings: the agency prosecutes or adjudicates the case (an assignment
// as PROSECUTING or ADJUDICATING, a proceeding of its office, or a decision
// of its court).
func (v *lkView) proceedings(caseID int) bool {
	for _, x := range v.w.assignments[caseID] {
		if x.AgencyID == v.a.ID && (x.Part == domain.CasePartProsecuting || x.Part == domain.CasePartAdjudicating) {
			return true
		}
	}
	for _, pid := range v.w.prosOfCase[caseID] {
		if v.w.prosecutions[pid].OfficeID == v.a.ID {
			return true
		}
		for _, d := range v.w.decisionsOfPros[pid] {
			if d.CourtID == v.a.ID {
				return true
			}
		}
	}
	return false
}

// referred: the victim was referred to the agency, and it accepted (or
// completed) the referral. A support service the agency records itself
// does not count: it could record one for anybody.
func (v *lkView) referred(victimID int) bool {
	for _, rid := range v.w.referralsOfVictim[victimID] {
		r := v.w.referrals[rid]
		if r.ToAgencyID == v.a.ID && (r.Status == domain.ReferralStatusAccepted || r.Status == domain.ReferralStatusCompleted) {
			return true
		}
	}
	return false
}

// consented: a current (not withdrawn) consent of the victim names the
// agency's kind and purpose.
func (v *lkView) consented(victimID int, purpose domain.ConsentPurpose) bool {
	for _, k := range v.w.consentsOfVictim[victimID] {
		if k.WithdrawnAt == nil && slices.Contains(k.AgencyKinds, v.a.Kind) && slices.Contains(k.Purposes, purpose) {
			return true
		}
	}
	return false
}

func (v *lkView) caseVisible(id int) bool {
	switch v.caseLvl {
	case "all":
		return true
	case "region":
		c := v.w.cases[id]
		return (v.a.Region != nil && c.Region == *v.a.Region) || v.assigned(id)
	case "assigned":
		return v.assigned(id)
	}
	return false
}

// victimAssigned: the victim is in a case the agency works on, was referred
// to or by it, or receives its support.
func (v *lkView) victimAssigned(id int) bool {
	for _, c := range v.w.casesOfVictim[id] {
		if v.assigned(c) {
			return true
		}
	}
	for _, rid := range v.w.referralsOfVictim[id] {
		if r := v.w.referrals[rid]; r.FromAgencyID == v.a.ID || r.ToAgencyID == v.a.ID {
			return true
		}
	}
	for _, sid := range v.w.servicesOfVictim[id] {
		if v.w.services[sid].ProviderID == v.a.ID {
			return true
		}
	}
	return false
}

func (v *lkView) victimVisible(id int) bool {
	switch v.victLvl {
	case "all":
		return true
	case "region":
		return (v.a.Region != nil && v.w.victims[id].Region == *v.a.Region) || v.victimAssigned(id)
	case "assigned":
		return v.victimAssigned(id)
	}
	return false
}

// visible reports whether a row of typ is within the principal's rows, and
// whether the oracle knows the type at all.
func (v *lkView) visible(typ string, id int) (vis, known bool) {
	m, ok := v.rows[typ]
	if !ok {
		return false, false
	}
	return m[id], true
}

// exists reports whether the row is in the database.
func (w *lkWorld) exists(typ string, id int) bool {
	switch typ {
	case "Case":
		return w.cases[id] != nil
	case "Victim":
		return w.victims[id] != nil
	case "Suspect":
		return w.suspects[id] != nil
	case "Prosecution":
		return w.prosecutions[id] != nil
	case "Referral":
		return w.referrals[id] != nil
	case "SupportService":
		return w.services[id] != nil
	case "Consent":
		return w.consents[id] != nil
	}
	return true
}

// decide is the field rule of the policy for a row already known to be
// visible.
func (v *lkView) decide(typ string, id int, field string) bool {
	cat := lkSensitive[typ][field]
	victimID, caseIDs := 0, []int(nil)
	switch typ {
	case "Victim":
		victimID, caseIDs = id, v.w.casesOfVictim[id]
	case "SupportService":
		victimID = v.w.services[id].VictimID
		caseIDs = v.w.casesOfVictim[victimID]
	case "Suspect":
		caseIDs = []int{v.w.suspects[id].CaseID}
	}
	if rules, ok := lkReadRules[v.p.role]; ok && lkFamily[v.kind] == rules.family {
		if cond, ok := rules.cats[typ+":"+cat]; ok {
			holds := false
			switch cond {
			case "on_case":
				holds = slices.ContainsFunc(caseIDs, v.assigned)
			case "proceedings":
				holds = slices.ContainsFunc(caseIDs, v.proceedings)
			case "referred":
				switch typ {
				case "Victim":
					holds = v.referred(id)
				case "SupportService":
					holds = v.referred(victimID)
				}
			}
			needsConsent := (typ == "Victim" || typ == "SupportService") && lkConsentCategories[cat] && cond != "proceedings"
			if holds && (!needsConsent || v.consented(victimID, lkPurpose[v.p.role])) {
				return true
			}
		}
	}
	// An active emergency grant of the principal on a case of the row, for
	// a field the role may read at all under some condition.
	rules, ok := lkReadRules[v.p.role]
	if !ok || lkFamily[v.kind] != rules.family {
		return false
	}
	if _, readable := rules.cats[typ+":"+cat]; !readable {
		return false
	}
	return slices.ContainsFunc(caseIDs, func(c int) bool { return v.grants[c] })
}

func (v *lkView) may(typ string, id int, field string) bool {
	return v.allowed[lkFieldKey{typ, id, field}]
}

// edge returns the ids a nested edge of a row must hold (the related rows
// the principal sees), and whether the edge is a connection, a list or a
// single object; ok is false for edges the oracle does not check.
func (v *lkView) edge(typ string, id int, key string) (want map[int]bool, shape string, ok bool) {
	w := v.w
	filter := func(rowType string, ids []int) map[int]bool {
		m := map[int]bool{}
		for _, x := range ids {
			if v.rows[rowType][x] {
				m[x] = true
			}
		}
		return m
	}
	one := func(x int) map[int]bool { return map[int]bool{x: true} }
	switch typ + "." + key {
	case "Case.victims":
		return filter("Victim", w.victimsOfCase[id]), "connection", true
	case "Case.suspects":
		return filter("Suspect", w.suspectsOfCase[id]), "connection", true
	case "Case.prosecutions":
		return filter("Prosecution", w.prosOfCase[id]), "connection", true
	case "Case.referrals":
		return filter("Referral", w.referralsOfCase[id]), "connection", true
	case "Victim.cases":
		return filter("Case", w.casesOfVictim[id]), "connection", true
	case "Victim.services":
		return filter("SupportService", w.servicesOfVictim[id]), "connection", true
	case "Victim.referrals":
		return filter("Referral", w.referralsOfVictim[id]), "connection", true
	case "Suspect.case":
		return one(w.suspects[id].CaseID), "object", true
	case "Suspect.prosecutions":
		return filter("Prosecution", w.prosOfSuspect[id]), "list", true
	case "Prosecution.case":
		return one(w.prosecutions[id].CaseID), "object", true
	case "Prosecution.defendants":
		return filter("Suspect", w.defendantsOfPros[id]), "list", true
	case "Referral.victim":
		return one(w.referrals[id].VictimID), "object", true
	case "SupportService.victim":
		return one(w.services[id].VictimID), "object", true
	case "Consent.victim":
		return one(w.consents[id].VictimID), "object", true
	case "Agency.cases":
		return filter("Case", w.casesOfAgency[id]), "connection", true
	case "Agency.ledCases":
		return filter("Case", w.ledBy[id]), "connection", true
	}
	return nil, "", false
}

// --- Scanning raw bytes ---

type lkNeedle struct {
	val    string
	b      []byte
	labels []string
}

// lkNeedles finds many strings in a byte slice at once: a filter on the
// first two bytes, then candidates by their first four.
type lkNeedles struct {
	filter   []bool
	byPrefix map[uint32][]*lkNeedle
	byVal    map[string]*lkNeedle
}

func lkNewNeedles() *lkNeedles {
	return &lkNeedles{filter: make([]bool, 1<<16), byPrefix: map[uint32][]*lkNeedle{}, byVal: map[string]*lkNeedle{}}
}

func (n *lkNeedles) add(val, label string) {
	if nd := n.byVal[val]; nd != nil {
		if len(nd.labels) < 3 {
			nd.labels = append(nd.labels, label)
		}
		return
	}
	nd := &lkNeedle{val: val, b: []byte(val), labels: []string{label}}
	n.byVal[val] = nd
	n.filter[binary.LittleEndian.Uint16(nd.b)] = true
	k := binary.LittleEndian.Uint32(nd.b)
	n.byPrefix[k] = append(n.byPrefix[k], nd)
}

func (n *lkNeedles) find(b []byte, fn func(i int, nd *lkNeedle)) {
	for i := 0; i+4 <= len(b); i++ {
		if !n.filter[binary.LittleEndian.Uint16(b[i:])] {
			continue
		}
		for _, nd := range n.byPrefix[binary.LittleEndian.Uint32(b[i:])] {
			if bytes.HasPrefix(b[i:], nd.b) {
				fn(i, nd)
			}
		}
	}
}

// --- One principal's run ---

type lkErr struct {
	e    testserver.Error
	used bool
}

// lkResp is what the checks of one response share.
type lkResp struct {
	name    string
	errs    map[string][]*lkErr
	cursors []string
}

// lkNodeWant is the row a node(id) or nodes(ids) position asks for.
type lkNodeWant struct {
	typ    string
	id     int
	single bool // node(id) or nodes with one id, not nodes with several
}

type lkRun struct {
	t     *testing.T
	s     *testserver.Server
	w     *lkWorld
	v     *lkView
	token string

	needles      *lkNeedles
	allowedForms map[string]bool
	allowedList  []string
	containers   map[*lkNeedle][]string

	// NOT_FOUND messages of an id that names nothing, the id replaced by <ID>.
	nfNode, nfNodes string

	responses, bytes, deniedChecked, allowedChecked int
	allowedSeen                                     map[lkFieldKey]bool
	findings                                        map[string][]lkFinding
	order                                           []string
}

func lkNewRun(t *testing.T, s *testserver.Server, w *lkWorld, p lkPrincipal, grants []*ent.EmergencyGrant) *lkRun {
	r := &lkRun{t: t, s: s, w: w, v: lkNewView(t, w, p, grants), token: s.Token(t, p.agency, p.role),
		needles: lkNewNeedles(), allowedForms: map[string]bool{}, containers: map[*lkNeedle][]string{},
		allowedSeen: map[lkFieldKey]bool{}, findings: map[string][]lkFinding{}}
	for k := range r.v.allowed {
		for _, f := range lkForms(w.value(k.typ, k.id, k.field)) {
			if !r.allowedForms[f] {
				r.allowedForms[f] = true
				r.allowedList = append(r.allowedList, f)
			}
		}
	}
	sort.Strings(r.allowedList)
	addRows := func(typ string, ids []int) {
		for _, id := range ids {
			for field := range lkSensitive[typ] {
				if lkNoByteScan[typ+"."+field] {
					continue
				}
				for _, f := range lkForms(w.value(typ, id, field)) {
					if len(f) >= 6 && !r.allowedForms[f] {
						r.needles.add(f, fmt.Sprintf("%s.%s of %s %d", typ, field, typ, id))
					}
				}
			}
		}
	}
	addRows("Victim", w.victimIDs)
	addRows("Suspect", w.suspectIDs)
	addRows("SupportService", w.serviceIDs)
	return r
}

// add records a finding; findings of a category are reported grouped by
// signature (the query and the shape of the path), one example each.
func (r *lkRun) add(category, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	name, _, _ := strings.Cut(msg, ": ")
	r.addSig(category, lkQueryBase(name), msg)
}

func (r *lkRun) addSig(category, sig, msg string) {
	if _, ok := r.findings[category]; !ok {
		r.order = append(r.order, category)
	}
	r.findings[category] = append(r.findings[category], lkFinding{sig, msg})
}

type lkFinding struct{ sig, msg string }

// lkQueryBase is a query's name without its page or batch.
func lkQueryBase(name string) string {
	base, _, _ := strings.Cut(name, " (page")
	base, _, _ = strings.Cut(base, " ×")
	return base
}

// lkShape is a path with its list indexes and node aliases generalised.
func lkShape(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if _, err := strconv.Atoi(p); err == nil {
			parts[i] = "#"
		} else if len(p) > 1 && p[0] == 'n' {
			if _, err := strconv.Atoi(p[1:]); err == nil {
				parts[i] = "n#"
			}
		}
	}
	return strings.Join(parts, "/")
}

func lkAppend(path []string, k string) []string {
	return append(path[:len(path):len(path)], k)
}

func lkPathKey(path []any) string {
	parts := make([]string, len(path))
	for i, p := range path {
		switch x := p.(type) {
		case float64:
			parts[i] = strconv.FormatFloat(x, 'f', -1, 64)
		case json.Number:
			parts[i] = x.String()
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(parts, "/")
}

func lkDecode(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	return v
}

func lkAt(v any, path string) any {
	for _, k := range strings.Split(path, "/") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func lkClip(b []byte, i, n int) string {
	lo, hi := max(0, i-n), min(len(b), i+n)
	return string(b[lo:hi])
}

// do sends one operation and checks its response; want names the node
// positions it asks for. It returns the decoded data.
func (r *lkRun) do(name, query string, vars map[string]any, want map[string]lkNodeWant) any {
	r.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		r.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, r.s.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.token)
	// Uncompressed: the bytes are the same, the server and the test spare
	// gzip (the GET request below keeps the default, compressed).
	req.Header.Set("Accept-Encoding", "identity")
	return r.check(name, r.s.Send(r.t, req), want)
}

// scan looks for denied values in raw bytes.
func (r *lkRun) scan(name string, b []byte) {
	reported := map[*lkNeedle]bool{}
	r.needles.find(b, func(i int, nd *lkNeedle) {
		if reported[nd] || r.covered(b, i, nd) {
			return
		}
		reported[nd] = true
		label, _, _ := strings.Cut(nd.labels[0], " of ")
		r.addSig("LEAK in raw bytes", lkQueryBase(name)+" "+label,
			fmt.Sprintf("%s: %s may not see %q (%s), yet it is in the response at byte %d: …%s…",
				name, r.v.p, nd.val, strings.Join(nd.labels, "; "), i, lkClip(b, i, 80)))
	})
}

// covered reports whether the occurrence of nd at i is part of an
// occurrence of a longer value the principal may see.
func (r *lkRun) covered(b []byte, i int, nd *lkNeedle) bool {
	cs, ok := r.containers[nd]
	if !ok {
		for _, a := range r.allowedList {
			if len(a) > len(nd.val) && strings.Contains(a, nd.val) {
				cs = append(cs, a)
			}
		}
		r.containers[nd] = cs
	}
	for _, a := range cs {
		for off := 0; ; {
			j := strings.Index(a[off:], nd.val)
			if j < 0 {
				break
			}
			start := i - (off + j)
			if start >= 0 && bytes.HasPrefix(b[start:], []byte(a)) {
				return true
			}
			off += j + 1
		}
	}
	return false
}

func (r *lkRun) walk(rc *lkResp, v any, path []string) {
	switch x := v.(type) {
	case map[string]any:
		typ, _ := x["__typename"].(string)
		if idStr, ok := x["id"].(string); ok && typ != "" {
			id, err := strconv.Atoi(idStr)
			if err != nil {
				r.add("malformed id", "%s: %s id %q at %s", rc.name, typ, idStr, strings.Join(path, "/"))
			} else {
				r.checkObject(rc, typ, id, x, path)
			}
		}
		for k, c := range x {
			if s, ok := c.(string); ok && (k == "cursor" || k == "startCursor" || k == "endCursor") {
				rc.cursors = append(rc.cursors, s)
			}
			r.walk(rc, c, lkAppend(path, k))
		}
	case []any:
		for i, c := range x {
			r.walk(rc, c, lkAppend(path, strconv.Itoa(i)))
		}
	}
}

func (r *lkRun) checkObject(rc *lkResp, typ string, id int, obj map[string]any, path []string) {
	at := strings.Join(path, "/")
	if !r.w.exists(typ, id) {
		r.add("unknown row", "%s: %s %d at %s is not in the database", rc.name, typ, id, at)
		return
	}
	if vis, known := r.v.visible(typ, id); known && !vis {
		r.addSig("LEAK of a row outside the principal's scope", lkQueryBase(rc.name)+" "+lkShape(at),
			fmt.Sprintf("%s: %s %d at %s", rc.name, typ, id, at))
	}
	if fields := lkSensitive[typ]; fields != nil {
		for key, val := range obj {
			field := key
			if f, ok := lkAliases[key]; ok {
				field = f
			}
			if _, ok := fields[field]; ok {
				r.checkField(rc, typ, id, field, val, lkAppend(path, key))
			}
		}
	}
	for key, val := range obj {
		want, shape, ok := r.v.edge(typ, id, key)
		if !ok || val == nil {
			continue
		}
		where := fmt.Sprintf("%s: %s %d .%s at %s", rc.name, typ, id, key, at)
		idOf := func(n any) int {
			m, _ := n.(map[string]any)
			s, _ := m["id"].(string)
			i, _ := strconv.Atoi(s)
			return i
		}
		switch shape {
		case "connection":
			conn, _ := val.(map[string]any)
			if tc, ok := conn["totalCount"].(json.Number); ok {
				if n, _ := tc.Int64(); int(n) != len(want) {
					r.add("totalCount of a nested edge", "%s: totalCount %d, the principal sees %d", where, n, len(want))
				}
			}
			edges, _ := conn["edges"].([]any)
			for _, e := range edges {
				em, _ := e.(map[string]any)
				if n, ok := em["node"]; ok {
					if i := idOf(n); !want[i] {
						r.add("wrong row in a nested edge", "%s: holds %d, want one of %v", where, i, lkKeys(want))
					}
				}
			}
		case "list":
			list, _ := val.([]any)
			for _, n := range list {
				if i := idOf(n); !want[i] {
					r.add("wrong row in a nested edge", "%s: holds %d, want one of %v", where, i, lkKeys(want))
				}
			}
			if len(list) != len(want) {
				r.add("count of a nested list", "%s: %d rows, the principal sees %d", where, len(list), len(want))
			}
		case "object":
			if i := idOf(val); !want[i] {
				r.add("wrong row in a nested edge", "%s: is %d, want %v", where, i, lkKeys(want))
			}
		}
	}
}

func lkSame(got, truth any) bool {
	switch x := truth.(type) {
	case nil:
		return got == nil
	case string:
		s, ok := got.(string)
		return ok && s == x
	case time.Time:
		s, ok := got.(string)
		if !ok {
			return false
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		return err == nil && tm.Equal(x)
	case int:
		n, ok := got.(json.Number)
		if !ok {
			return false
		}
		i, err := n.Int64()
		return err == nil && int(i) == x
	}
	return false
}

func (r *lkRun) checkField(rc *lkResp, typ string, id int, field string, got any, path []string) {
	pk := strings.Join(path, "/")
	errs := rc.errs[pk]
	for _, e := range errs {
		e.used = true
	}
	name := typ + "." + field
	truth := r.w.value(typ, id, field)
	key := lkFieldKey{typ, id, field}
	if r.v.may(typ, id, field) {
		r.allowedChecked++
		if len(errs) > 0 {
			b, _ := json.Marshal(errs[0].e)
			r.addSig("allowed value withheld", lkQueryBase(rc.name)+" "+lkShape(pk),
				fmt.Sprintf("%s: %s of %s %d at %s: the policy allows it, the server answered %s", rc.name, name, typ, id, pk, b))
			return
		}
		if !lkSame(got, truth) {
			r.addSig("wrong value", lkQueryBase(rc.name)+" "+lkShape(pk),
				fmt.Sprintf("%s: %s of %s %d at %s is %v, the database holds %v", rc.name, name, typ, id, pk, got, truth))
			return
		}
		if truth != nil {
			r.allowedSeen[key] = true
		}
		return
	}
	r.deniedChecked++
	if got != nil {
		r.addSig("LEAK of a denied field", lkQueryBase(rc.name)+" "+lkShape(pk),
			fmt.Sprintf("%s: %s got %s of %s %d = %v at %s; the policy denies it", rc.name, r.v.p, name, typ, id, got, pk))
	}
	if len(errs) != 1 || errs[0].e.Code() != "FORBIDDEN" || errs[0].e.Extensions["field"] != name {
		var bs []string
		for _, e := range errs {
			b, _ := json.Marshal(e.e)
			bs = append(bs, string(b))
		}
		r.addSig("denial without its FORBIDDEN error", lkQueryBase(rc.name)+" "+lkShape(pk),
			fmt.Sprintf("%s: %s of %s %d at %s: want null and one FORBIDDEN error with extensions.field %q, got value %v and errors %v",
				rc.name, name, typ, id, pk, name, got, bs))
	}
}

func (r *lkRun) checkNode(rc *lkResp, data any, pk string, nw lkNodeWant) {
	got := lkAt(data, pk)
	errs := rc.errs[pk]
	for _, e := range errs {
		e.used = true
	}
	idStr := strconv.Itoa(nw.id)
	if vis, _ := r.v.visible(nw.typ, nw.id); vis {
		obj, _ := got.(map[string]any)
		if obj == nil || obj["id"] != idStr || obj["__typename"] != nw.typ || len(errs) > 0 {
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.e.Code()+" "+e.e.Message)
			}
			r.add("node of a visible row", "%s: %s %s at %s: want the row, got %v, errors %v", rc.name, nw.typ, idStr, pk, got, msgs)
		}
		return
	}
	tmpl := r.nfNodes
	if nw.single {
		tmpl = r.nfNode
	}
	ok := got == nil && len(errs) == 1 && errs[0].e.Code() == "NOT_FOUND" &&
		strings.ReplaceAll(errs[0].e.Message, idStr, "<ID>") == tmpl && len(errs[0].e.Extensions) == 1
	if !ok {
		var msgs []string
		for _, e := range errs {
			b, _ := json.Marshal(e.e)
			msgs = append(msgs, string(b))
		}
		r.add("node of a row outside the scope differs from a missing id", "%s: %s %s at %s: got %v, errors %v; an id naming nothing gives null and NOT_FOUND %q",
			rc.name, nw.typ, idStr, pk, got, msgs, tmpl)
	}
}

// --- The queries ---

var lkFragments = map[string]string{
	"LkVictim":  `fragment LkVictim on Victim { __typename id pseudonym legalName dateOfBirth personalNumber nationality exactAge phone address healthNotes testimonySummary shelterLocation }`,
	"LkSuspect": `fragment LkSuspect on Suspect { __typename id pseudonym legalName personalNumber }`,
	"LkService": `fragment LkService on SupportService { __typename id kind notes }`,
	"LkNode": `fragment LkNode on Node { __typename id
  ... on Victim { ...LkVictim a: legalName }
  ... on Suspect { ...LkSuspect case { __typename id } }
  ... on SupportService { ...LkService victim { __typename id legalName healthNotes } }
}`,
}

// lkDoc appends the fragments an operation uses (and only those: GraphQL
// refuses unused fragments).
func lkDoc(op string) string {
	doc := op
	for changed := true; changed; {
		changed = false
		for name, frag := range lkFragments {
			if strings.Contains(doc, "..."+name) && !strings.Contains(doc, "fragment "+name+" ") {
				doc += "\n" + frag
				changed = true
			}
		}
	}
	return doc
}

const lkPageInfo = `pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`

var (
	lkVictimsForward = lkDoc(`query ($n: Int, $cursor: Cursor) {
  victims(first: $n, after: $cursor, orderBy: [{field: PSEUDONYM, direction: ASC}]) {
    totalCount ` + lkPageInfo + `
    edges { cursor node {
      ...LkVictim
      a: legalName
      b: legalName
      ... on Victim { legalName pn: personalNumber secret: healthNotes }
    } }
  }
}`)
	lkVictimsBackward = lkDoc(`query ($n: Int, $cursor: Cursor) {
  victims(last: $n, before: $cursor, orderBy: [{field: IDENTIFIED_AT, direction: DESC}, {field: PSEUDONYM}]) {
    totalCount ` + lkPageInfo + `
    edges { cursor node { ... on Node { __typename id } ... on Victim { x: legalName healthNotes } } }
  }
}`)
	lkVictimsMinorFemale = lkDoc(`query ($n: Int, $cursor: Cursor) {
  victims(first: $n, after: $cursor, where: {ageGroup: MINOR, sexIn: [FEMALE]}, orderBy: [{field: REGION, direction: DESC}, {field: PSEUDONYM}]) {
    totalCount ` + lkPageInfo + `
    edges { cursor node { __typename id pseudonym legalName phone shelterLocation } }
  }
}`)
	lkVictimsForeignOrOfficial = lkDoc(`query ($n: Int, $cursor: Cursor) {
  victims(first: $n, after: $cursor, where: {or: [{foreignNational: true}, {identificationStatus: OFFICIAL_VICTIM}]}, orderBy: [{field: IDENTIFIED_BY}]) {
    totalCount ` + lkPageInfo + `
    edges { cursor node { ...LkVictim } }
  }
}`)
	lkCasesNested = lkDoc(`query ($n: Int, $cursor: Cursor) {
  cases(first: $n, after: $cursor, orderBy: [{field: OPENED_AT, direction: DESC}]) {
    totalCount ` + lkPageInfo + `
    edges { cursor node {
      __typename id reference title
      victims(first: 5) { totalCount edges { node {
        ...LkVictim
        cases(first: 3) { totalCount edges { node {
          __typename id reference
          victims(first: 5) { totalCount edges { node { ...LkVictim } } }
        } } }
      } } }
      suspects(first: 5) { totalCount edges { node { ...LkSuspect } } }
      prosecutions(first: 3) { totalCount edges { node { __typename id registrationNumber defendants { ...LkSuspect } } } }
      referrals(first: 3) { totalCount edges { node { __typename id status victim { __typename id a: legalName } } } }
      events(first: 5) { totalCount edges { node { summary subjectID } } }
    } }
  }
}`)
	lkCasesFlat = lkDoc(`query ($n: Int, $cursor: Cursor) {
  cases(first: $n, after: $cursor, orderBy: [{field: REFERENCE}]) {
    totalCount ` + lkPageInfo + `
    edges { cursor node {
      __typename id reference
      victims(first: 3) { edges { node { __typename id legalName } } }
      suspects(first: 3) { edges { node { __typename id legalName } } }
    } }
  }
}`)
	lkProsecutionsFlat = lkDoc(`query ($n: Int, $cursor: Cursor) {
  prosecutions(first: $n, after: $cursor) {
    totalCount ` + lkPageInfo + `
    edges { cursor node { __typename id case { __typename id } defendants { __typename id caseID legalName } } }
  }
}`)
	lkReferralsFlat = lkDoc(`query ($n: Int, $cursor: Cursor) {
  referrals(first: $n, after: $cursor, orderBy: [{field: STATUS}, {field: REFERRED_AT, direction: DESC}]) {
    totalCount ` + lkPageInfo + `
    edges { cursor node { __typename id status victim { __typename id legalName } } }
  }
}`)
	lkCasesFiltered = lkDoc(`query ($n: Int, $cursor: Cursor) {
  cases(first: $n, after: $cursor, where: {regionIn: [TIRANE, VLORE], closedAtIsNil: true}, orderBy: [{field: STAGE}, {field: REFERENCE, direction: DESC}]) {
    totalCount ` + lkPageInfo + `
    edges { cursor node {
      __typename id stage
      victims(first: 5) { totalCount edges { node { __typename id ageGroup legalName address } } }
      referrals(first: 3) { totalCount edges { node { __typename id victim { __typename id phone } } } }
    } }
  }
}`)
	lkSuspects = lkDoc(`query ($n: Int, $cursor: Cursor) {
  suspects(first: $n, after: $cursor, orderBy: [{field: PSEUDONYM}]) {
    totalCount ` + lkPageInfo + `
    edges { cursor node {
      ...LkSuspect
      a: legalName
      case { __typename id reference }
      prosecutions { __typename id case { __typename id } }
    } }
  }
}`)
	lkProsecutions = lkDoc(`query ($n: Int, $cursor: Cursor) {
  prosecutions(first: $n, after: $cursor, orderBy: [{field: REGISTERED_AT, direction: DESC}]) {
    totalCount ` + lkPageInfo + `
    edges { cursor node {
      __typename id registrationNumber
      case {
        __typename id reference
        suspects(first: 5) { totalCount edges { node { ...LkSuspect } } }
        victims(first: 5) { totalCount edges { node { ...LkVictim } } }
      }
      defendants { ...LkSuspect b: legalName }
    } }
  }
}`)
	lkReferrals = lkDoc(`query ($n: Int, $cursor: Cursor) {
  referrals(first: $n, after: $cursor, orderBy: [{field: REFERRED_AT}]) {
    totalCount ` + lkPageInfo + `
    edges { cursor node {
      __typename id status
      victim {
        ...LkVictim
        referrals(first: 3) { totalCount edges { node { __typename id victim { __typename id legalName healthNotes shelterLocation } } } }
        services(first: 3) { totalCount edges { node { ...LkService } } }
      }
    } }
  }
}`)
	lkVictimServices = lkDoc(`query ($n: Int, $cursor: Cursor) {
  victims(first: $n, after: $cursor, where: {identificationStatusIn: [OFFICIAL_VICTIM, POTENTIAL_VICTIM], not: {region: TIRANE}}, orderBy: [{field: PSEUDONYM}]) {
    totalCount ` + lkPageInfo + `
    edges { cursor node {
      ...LkVictim
      services(first: 10) { totalCount edges { node { ...LkService n2: notes victim { __typename id legalName phone } } } }
      referrals(first: 10) { totalCount edges { node { __typename id victim { __typename id legalName } } } }
    } }
  }
}`)
	lkAgencies = lkDoc(`query {
  viewer { agency { __typename id code ledCases(first: 3) { totalCount edges { node { __typename id victims(first: 3) { totalCount edges { node { ...LkVictim } } } } } } } }
  agencies(first: 100, orderBy: [{field: CODE}]) {
    totalCount
    edges { node {
      __typename id code
      cases(first: 3) { totalCount edges { node {
        __typename id
        victims(first: 3) { totalCount edges { node { ...LkVictim consents(first: 2) { edges { node { __typename id victim { __typename id legalName } } } } } } }
        suspects(first: 3) { totalCount edges { node { ...LkSuspect } } }
      } } }
      ledCases(first: 2) { totalCount edges { node { __typename id suspects(first: 2) { totalCount edges { node { __typename id x: legalName } } } } } }
      assignments(first: 2) { edges { node { case { __typename id victims(first: 2) { totalCount edges { node { __typename id phone address } } } } } } }
    } }
  }
}`)
	lkOtherNodes = lkDoc(`query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id
  ... on Case { victims(first: 3) { totalCount edges { node { __typename id legalName healthNotes } } } suspects(first: 2) { totalCount edges { node { __typename id caseID legalName } } } }
  ... on Prosecution { case { __typename id } defendants { __typename id caseID personalNumber } }
  ... on Referral { victim { __typename id legalName phone testimonySummary } }
  ... on Consent { victim { __typename id legalName address shelterLocation services(first: 2) { totalCount edges { node { __typename id victim { __typename id } notes } } } } }
} }`)
	lkGrants = `query ($n: Int, $cursor: Cursor) {
  emergencyGrants(first: $n, after: $cursor) {
    totalCount ` + lkPageInfo + `
    edges { cursor node { __typename id caseID caseReference subject justification } }
  }
}`
	lkVictimsGET = lkDoc(`query { victims(first: 100, orderBy: [{field: UPDATED_AT, direction: DESC}]) { totalCount edges { node { ...LkVictim } } } }`)
	lkNodeLight  = `{ __typename id ... on Victim { legalName healthNotes } ... on Suspect { legalName } ... on SupportService { notes } }`
	lkNodeQuery  = lkDoc(`query ($id: ID!) { node(id: $id) { ...LkNode } }`)
	lkNodesQuery = lkDoc(`query ($ids: [ID!]!) { nodes(ids: $ids) { ...LkNode } }`)
)

// page walks a top-level connection forwards (first/after) or backwards
// (last/before), at most maxPages pages; it returns the ids in list order,
// the totalCount and whether it reached the end.
func (r *lkRun) page(name, query, field string, size int, forward bool, maxPages int) (ids []int, total int, complete bool) {
	var cursor any
	for n := 0; n < maxPages; n++ {
		data := r.do(fmt.Sprintf("%s (page %d)", name, n+1), query, map[string]any{"n": size, "cursor": cursor}, nil)
		conn, _ := lkAt(data, field).(map[string]any)
		if conn == nil {
			r.add("paging", "%s: no %s in the data", name, field)
			return ids, total, false
		}
		tc, _ := conn["totalCount"].(json.Number)
		t, _ := tc.Int64()
		if n == 0 {
			total = int(t)
		} else if int(t) != total {
			r.add("paging", "%s: totalCount %d on page %d, %d on page 1", name, t, n+1, total)
		}
		edges, _ := conn["edges"].([]any)
		var pageIDs []int
		for _, e := range edges {
			id, _ := strconv.Atoi(fmt.Sprint(lkAt(e, "node/id")))
			pageIDs = append(pageIDs, id)
		}
		if len(pageIDs) > size {
			r.add("paging", "%s: page %d has %d rows, asked for %d", name, n+1, len(pageIDs), size)
		}
		if forward {
			ids = append(ids, pageIDs...)
		} else {
			ids = append(pageIDs, ids...)
		}
		pi, _ := conn["pageInfo"].(map[string]any)
		more, key := pi["hasNextPage"], "endCursor"
		if !forward {
			more, key = pi["hasPreviousPage"], "startCursor"
		}
		if more != true {
			return ids, total, true
		}
		cursor = pi[key]
		if cursor == nil {
			r.add("paging", "%s: more pages but no cursor", name)
			return ids, total, false
		}
	}
	return ids, total, false
}

// expect compares a paged list with the rows the oracle says the principal
// sees.
func (r *lkRun) expect(name string, ids []int, total int, complete bool, want map[int]bool) {
	seen := map[int]bool{}
	for _, id := range ids {
		if seen[id] {
			r.add("paging", "%s: row %d comes twice", name, id)
		}
		seen[id] = true
	}
	if total != len(want) {
		r.add("totalCount differs from the principal's rows", "%s: totalCount %d, the oracle counts %d", name, total, len(want))
	}
	if !complete {
		return
	}
	if len(ids) != total {
		r.add("totalCount differs from paging", "%s: paging reached %d rows, totalCount says %d", name, len(ids), total)
	}
	var missing []int
	for id := range want {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		r.add("visible rows missing", "%s: %d rows the principal sees were not returned, e.g. %v", name, len(missing), missing[:min(5, len(missing))])
	}
}

func (r *lkRun) victimsWhere(f func(*ent.Victim) bool) map[int]bool {
	out := map[int]bool{}
	for id := range r.v.rows["Victim"] {
		if f(r.w.victims[id]) {
			out[id] = true
		}
	}
	return out
}

// canary makes sure the byte scan finds a denied value, so that a clean
// scan means something.
func (r *lkRun) canary() {
	if len(r.needles.byVal) == 0 {
		if len(r.v.rows["Victim"]) < len(r.w.victims) || len(r.v.allowed) == 0 {
			r.t.Fatalf("%s: no denied value to look for", r.v.p)
		}
		return
	}
	var nd *lkNeedle
	for _, x := range r.needles.byVal {
		if nd == nil || x.val < nd.val {
			nd = x
		}
	}
	body := []byte(`{"data":{"x":"` + nd.val + `"}}`)
	found := 0
	r.needles.find(body, func(i int, got *lkNeedle) {
		if got == nd && !r.covered(body, i, got) {
			found++
		}
	})
	if found != 1 {
		r.t.Fatalf("%s: the byte scan does not find %q in %s", r.v.p, nd.val, body)
	}
}

// notFoundTemplates learns the answer to an id that names nothing.
func (r *lkRun) notFoundTemplates() {
	missing := strconv.Itoa(r.w.victimIDs[len(r.w.victimIDs)-1] + 1000)
	missing2 := strconv.Itoa(r.w.victimIDs[len(r.w.victimIDs)-1] + 2000)
	resp := r.s.Do(r.t, r.token, lkNodeQuery, map[string]any{"id": missing})
	if string(resp.Data) != `{"node":null}` || len(resp.Errors) != 1 || resp.Errors[0].Code() != "NOT_FOUND" {
		r.t.Fatalf("node(%s) of an id that names nothing: want null and one NOT_FOUND, got %s", missing, resp.Body)
	}
	r.nfNode = strings.ReplaceAll(resp.Errors[0].Message, missing, "<ID>")
	resp = r.s.Do(r.t, r.token, lkNodesQuery, map[string]any{"ids": []string{missing, missing2}})
	if string(resp.Data) != `{"nodes":[null,null]}` || len(resp.Errors) != 2 || resp.Errors[0].Code() != "NOT_FOUND" {
		r.t.Fatalf("nodes([%s, %s]) of ids that name nothing: want two nulls with NOT_FOUND, got %s", missing, missing2, resp.Body)
	}
	r.nfNodes = strings.ReplaceAll(resp.Errors[0].Message, missing, "<ID>")
	if strings.Contains(r.nfNode, missing) || strings.Contains(r.nfNodes, missing) {
		r.t.Fatalf("the id is in the message twice: %q %q", r.nfNode, r.nfNodes)
	}
}

// nodeShapes compares, byte for byte (ids replaced), the answer to a row
// outside the principal's rows with the answer to an id that names nothing.
func (r *lkRun) nodeShapes() {
	for _, typ := range []string{"Victim", "Suspect", "SupportService"} {
		var all []int
		switch typ {
		case "Victim":
			all = r.w.victimIDs
		case "Suspect":
			all = r.w.suspectIDs
		case "SupportService":
			all = r.w.serviceIDs
		}
		out, in := 0, 0
		for _, id := range all {
			vis, _ := r.v.visible(typ, id)
			if !vis && out == 0 {
				out = id
			}
			if vis && in == 0 {
				in = id
			}
		}
		if out == 0 {
			continue
		}
		missing := all[len(all)-1] + 1000
		norm := func(b []byte, id int) string {
			return strings.ReplaceAll(string(b), strconv.Itoa(id), "<ID>")
		}
		compare := func(what, q string, vars func(id int) map[string]any, want map[string]lkNodeWant) {
			a := r.s.Do(r.t, r.token, q, vars(out))
			b := r.s.Do(r.t, r.token, q, vars(missing))
			if a.Status != b.Status || norm(a.Body, out) != norm(b.Body, missing) {
				r.add("node of a row outside the scope differs from a missing id", "%s %s: %s %d (outside the scope) gave %d %s; %d (no such row) gave %d %s",
					typ, what, typ, out, a.Status, a.Body, missing, b.Status, b.Body)
			}
			// Both responses go through the leak checks too.
			r.check(what+" of "+typ+" outside the scope", a, want)
		}
		one := map[string]lkNodeWant{"node": {typ, out, true}}
		compare("node(id)", lkNodeQuery, func(id int) map[string]any { return map[string]any{"id": strconv.Itoa(id)} }, one)
		compare("nodes([id])", lkNodesQuery, func(id int) map[string]any { return map[string]any{"ids": []string{strconv.Itoa(id)}} },
			map[string]lkNodeWant{"nodes/0": {typ, out, true}})
		if in != 0 {
			compare("nodes([visible, id])", lkNodesQuery, func(id int) map[string]any {
				return map[string]any{"ids": []string{strconv.Itoa(in), strconv.Itoa(id)}}
			}, map[string]lkNodeWant{"nodes/0": {typ, in, false}, "nodes/1": {typ, out, false}})
		}
	}
}

// check runs every check on a response: rows in scope, denied fields null
// with their FORBIDDEN error, allowed fields true, node positions, no other
// error, and no denied value in the raw bytes or in a decoded cursor.
func (r *lkRun) check(name string, resp *testserver.Response, want map[string]lkNodeWant) any {
	r.responses++
	r.bytes += len(resp.Body)
	if resp.Status != http.StatusOK {
		r.add("HTTP status", "%s: status %d: %s", name, resp.Status, lkClip(resp.Body, 0, 400))
	}
	rc := &lkResp{name: name, errs: map[string][]*lkErr{}}
	for _, e := range resp.Errors {
		k := lkPathKey(e.Path)
		rc.errs[k] = append(rc.errs[k], &lkErr{e: e})
	}
	data := lkDecode(resp.Data)
	r.walk(rc, data, nil)
	for pk, nw := range want {
		r.checkNode(rc, data, pk, nw)
	}
	for _, list := range rc.errs {
		for _, e := range list {
			if !e.used {
				b, _ := json.Marshal(e.e)
				r.addSig("unexpected error", lkQueryBase(name)+" "+lkShape(lkPathKey(e.e.Path))+" "+e.e.Code(), fmt.Sprintf("%s: %s", name, b))
			}
		}
	}
	r.scan(name, resp.Body)
	for _, c := range rc.cursors {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if dec, err := enc.DecodeString(c); err == nil {
				r.scan(name+" (decoded cursor)", dec)
				break
			}
		}
	}
	return data
}

// lkNodeSample bounds, per type and per side of the principal's scope, the
// rows asked one by one with node(id): each costs the server a query of its
// own (nodes(ids) asks for every row, in batches).
const lkNodeSample = 100

// everyNode asks nodes(ids) for every victim, suspect and support service
// in the database, and node(id) for up to lkNodeSample of each type inside
// the principal's rows and as many outside, spread over the ids.
func (r *lkRun) everyNode() {
	var refs, sample []lkNodeWant
	for _, typ := range []string{"Victim", "Suspect", "SupportService"} {
		var ids []int
		switch typ {
		case "Victim":
			ids = r.w.victimIDs
		case "Suspect":
			ids = r.w.suspectIDs
		case "SupportService":
			ids = r.w.serviceIDs
		}
		var in, out []lkNodeWant
		for _, id := range ids {
			ref := lkNodeWant{typ: typ, id: id}
			refs = append(refs, ref)
			if vis, _ := r.v.visible(typ, id); vis {
				in = append(in, ref)
			} else {
				out = append(out, ref)
			}
		}
		for _, side := range [][]lkNodeWant{in, out} {
			n := min(len(side), lkNodeSample)
			for i := range n {
				sample = append(sample, side[i*len(side)/n])
			}
		}
	}
	// node(id:), many times in one operation under aliases.
	const perOp = 250
	for i := 0; i < len(sample); i += perOp {
		chunk := sample[i:min(i+perOp, len(sample))]
		var b strings.Builder
		b.WriteString("query {")
		want := map[string]lkNodeWant{}
		for j, ref := range chunk {
			alias := fmt.Sprintf("n%d", j)
			fmt.Fprintf(&b, "\n  %s: node(id: %q) %s", alias, strconv.Itoa(ref.id), lkNodeLight)
			ref.single = true
			want[alias] = ref
		}
		b.WriteString("\n}")
		r.do(fmt.Sprintf("node(id) ×%d from #%d", len(chunk), i), lkDoc(b.String()), nil, want)
	}
	// nodes(ids:), in batches.
	const perBatch = 400
	for i := 0; i < len(refs); i += perBatch {
		chunk := refs[i:min(i+perBatch, len(refs))]
		if len(chunk) == 1 { // one id takes node's path; keep batches plural
			chunk = refs[i-1:]
		}
		ids := make([]string, len(chunk))
		want := map[string]lkNodeWant{}
		for j, ref := range chunk {
			ids[j] = strconv.Itoa(ref.id)
			want[fmt.Sprintf("nodes/%d", j)] = ref
		}
		r.do(fmt.Sprintf("nodes(ids) ×%d from #%d", len(chunk), i), lkNodesQuery, map[string]any{"ids": ids}, want)
	}
}

func (r *lkRun) battery() {
	v := r.v
	r.canary()
	r.notFoundTemplates()

	// Every victim, forwards with every sensitive field, aliases and
	// fragments, then backwards with a few.
	ids, total, done := r.page("victims forwards", lkVictimsForward, "victims", 200, true, 20)
	r.expect("victims forwards", ids, total, done, v.rows["Victim"])
	ids, total, done = r.page("victims backwards", lkVictimsBackward, "victims", 200, false, 20)
	r.expect("victims backwards", ids, total, done, v.rows["Victim"])

	// Filters and orderings on non-sensitive fields.
	ids, total, done = r.page("victims: female minors", lkVictimsMinorFemale, "victims", 250, true, 10)
	r.expect("victims: female minors", ids, total, done, r.victimsWhere(func(x *ent.Victim) bool {
		return x.AgeGroup == domain.AgeGroupMinor && x.Sex == domain.SexFemale
	}))
	ids, total, done = r.page("victims: foreign or official", lkVictimsForeignOrOfficial, "victims", 250, true, 10)
	r.expect("victims: foreign or official", ids, total, done, r.victimsWhere(func(x *ent.Victim) bool {
		return x.ForeignNational || x.IdentificationStatus == domain.IdentificationStatusOfficialVictim
	}))

	// Victim → services (notes) and referrals → victim: the first pages.
	ids, total, done = r.page("victims → services, referrals", lkVictimServices, "victims", 50, true, lkNestedPages)
	r.expect("victims → services, referrals", ids, total, done, r.victimsWhere(func(x *ent.Victim) bool {
		return (x.IdentificationStatus == domain.IdentificationStatusOfficialVictim ||
			x.IdentificationStatus == domain.IdentificationStatusPotentialVictim) && x.Region != domain.RegionTirane
	}))

	// Cases: every one with a nested count, the first pages deeply nested
	// (case → victims → cases → victims, suspects, proceedings, referrals).
	ids, total, done = r.page("cases", lkCasesFlat, "cases", 250, true, 20)
	r.expect("cases", ids, total, done, v.rows["Case"])
	ids, total, done = r.page("cases nested", lkCasesNested, "cases", 25, true, lkNestedPages)
	r.expect("cases nested", ids, total, done, v.rows["Case"])
	r.casesWhere()

	ids, total, done = r.page("suspects", lkSuspects, "suspects", 250, true, 20)
	r.expect("suspects", ids, total, done, v.rows["Suspect"])

	// Proceedings and referrals: every one, then the first pages nested.
	ids, total, done = r.page("prosecutions", lkProsecutionsFlat, "prosecutions", 250, true, 20)
	r.expect("prosecutions", ids, total, done, v.rows["Prosecution"])
	ids, total, done = r.page("prosecutions nested", lkProsecutions, "prosecutions", 50, true, 1)
	r.expect("prosecutions nested", ids, total, done, v.rows["Prosecution"])
	ids, total, done = r.page("referrals", lkReferralsFlat, "referrals", 250, true, 20)
	r.expect("referrals", ids, total, done, v.rows["Referral"])
	ids, total, done = r.page("referrals nested", lkReferrals, "referrals", 50, true, 1)
	r.expect("referrals nested", ids, total, done, v.rows["Referral"])

	// Agencies (every principal sees them all) → their cases → victims and
	// suspects; the viewer's own agency; consents → victim.
	r.do("agencies", lkAgencies, nil, nil)

	// Emergency grants: one's own, or the agency's for its data protection
	// officer.
	ids, total, done = r.page("emergency grants", lkGrants, "emergencyGrants", 100, true, 5)
	r.expect("emergency grants", ids, total, done, v.rows["EmergencyGrant"])

	r.everyNode()
	r.otherNodes()
	r.nodeShapes()
	r.overGET()
}

// otherNodes asks nodes(ids) for every case, proceeding, referral and
// consent, each with a path to victims or suspects.
func (r *lkRun) otherNodes() {
	var refs []lkNodeWant
	for _, typ := range []string{"Case", "Prosecution", "Referral", "Consent"} {
		var ids []int
		switch typ {
		case "Case":
			ids = lkKeys(r.w.cases)
		case "Prosecution":
			ids = lkKeys(r.w.prosecutions)
		case "Referral":
			ids = lkKeys(r.w.referrals)
		case "Consent":
			ids = lkKeys(r.w.consents)
		}
		for _, id := range ids {
			refs = append(refs, lkNodeWant{typ: typ, id: id})
		}
	}
	const perBatch = 500
	for i := 0; i < len(refs); i += perBatch {
		chunk := refs[i:min(i+perBatch, len(refs))]
		if len(chunk) == 1 {
			chunk = refs[i-1:]
		}
		ids := make([]string, len(chunk))
		want := map[string]lkNodeWant{}
		for j, ref := range chunk {
			ids[j] = strconv.Itoa(ref.id)
			want[fmt.Sprintf("nodes/%d", j)] = ref
		}
		r.do(fmt.Sprintf("nodes(ids) of other types ×%d from #%d", len(chunk), i), lkOtherNodes, map[string]any{"ids": ids}, want)
	}
}

// overGET sends a query with GET, the other transport.
func (r *lkRun) overGET() {
	req, err := http.NewRequest(http.MethodGet, r.s.URL+"/graphql?query="+url.QueryEscape(lkVictimsGET), nil)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	r.check("victims over GET", r.s.Send(r.t, req), nil)
}

// lkNestedPages caps the pages of the deeply nested queries (the flat
// lists page through everything).
const lkNestedPages = 2

// casesWhere filters cases on non-sensitive fields.
func (r *lkRun) casesWhere() {
	ids, total, done := r.page("cases: Tirana or Vlorë, open", lkCasesFiltered, "cases", 250, true, 10)
	want := map[int]bool{}
	for id := range r.v.rows["Case"] {
		c := r.w.cases[id]
		if (c.Region == domain.RegionTirane || c.Region == domain.RegionVlore) && c.ClosedAt == nil {
			want[id] = true
		}
	}
	r.expect("cases: Tirana or Vlorë, open", ids, total, done, want)
}

func (r *lkRun) report(t *testing.T) {
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

// lkCheckVocabulary fails if the schema has sensitive fields this test does
// not know.
func lkCheckVocabulary(t *testing.T) {
	got := graph.Vocabulary().Fields
	for field, cat := range got {
		typ, name, _ := strings.Cut(field, ".")
		if want, ok := lkSensitive[typ][name]; !ok || typ+":"+want != cat {
			t.Errorf("sensitive field %s (%s) is not covered by this test (it knows %q)", field, cat, want)
		}
	}
	for typ, fields := range lkSensitive {
		for name := range fields {
			if _, ok := got[typ+"."+name]; !ok {
				t.Errorf("this test treats %s.%s as sensitive; the schema does not", typ, name)
			}
		}
	}
}

func TestNoSensitiveValueLeaks(t *testing.T) {
	lkCheckVocabulary(t)
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		start := time.Now()
		if _, err := seed.Demo(context.Background(), db.Client, seed.Options{Scale: 1, Seed: 7}); err != nil {
			t.Fatalf("seeding: %v", err)
		}
		s := testserver.Start(t, db, testserver.Options{Config: server.Config{Limits: testserver.SweepLimits()}})
		w := lkLoadWorld(t, db.Client)
		t.Logf("%s: seeded in %s: %d cases, %d victims, %d suspects, %d services, %d referrals, %d proceedings, %d consents",
			db.Dialect, time.Since(start).Round(time.Millisecond), len(w.cases), len(w.victims), len(w.suspects), len(w.services),
			len(w.referrals), len(w.prosecutions), len(w.consents))
		// The server's log must hold no sensitive value at all; looked at
		// once every run of this backend is done.
		t.Cleanup(func() { lkScanLogs(t, s, w) })
		// Emergency grants are asked for before the parallel runs start, so
		// that every run reads a database nobody writes to.
		for _, p := range lkPrincipals {
			if p.emergency {
				w.grants = lkRequestEmergency(t, s, w, p)
			}
		}
		for _, p := range lkPrincipals {
			t.Run(p.String(), func(t *testing.T) {
				t.Parallel()
				begin := time.Now()
				r := lkNewRun(t, s, w, p, w.grants)
				r.battery()
				r.report(t)
				t.Logf("%s: %s", p, time.Since(begin).Round(time.Millisecond))
			})
		}
	})
}

// lkRequestEmergency has p ask for emergency access to the case of its
// region whose victims have the most health notes (fields an investigator
// never reads otherwise), and returns the grants in the database after.
func lkRequestEmergency(t *testing.T, s *testserver.Server, w *lkWorld, p lkPrincipal) []*ent.EmergencyGrant {
	t.Helper()
	a := w.byCode[p.agency]
	best, bestN := 0, 0
	for _, id := range lkKeys(w.cases) {
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
	s.Do(t, s.Token(t, p.agency, p.role), `mutation ($c: ID!) {
  requestEmergencyAccess(caseID: $c, justification: "Leak test: a victim is missing; the family must be reached now.", hours: 1) { id caseID }
}`, map[string]any{"c": strconv.Itoa(best)}).MustOK(t).Decode(t, &data)
	if data.RequestEmergencyAccess.CaseID != strconv.Itoa(best) {
		t.Fatalf("%s: emergency access granted for case %s, asked for %d", p, data.RequestEmergencyAccess.CaseID, best)
	}
	grants, err := s.DB.Client.EmergencyGrant.Query().All(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: emergency access to case %d (%d victims with health notes)", p, best, bestN)
	return grants
}

// lkScanLogs looks for every sensitive value in the server's log.
func lkScanLogs(t *testing.T, s *testserver.Server, w *lkWorld) {
	needles := lkNewNeedles()
	for typ, ids := range map[string][]int{"Victim": w.victimIDs, "Suspect": w.suspectIDs, "SupportService": w.serviceIDs} {
		for _, id := range ids {
			for field := range lkSensitive[typ] {
				if lkNoByteScan[typ+"."+field] {
					continue
				}
				for _, f := range lkForms(w.value(typ, id, field)) {
					if len(f) >= 6 {
						needles.add(f, fmt.Sprintf("%s.%s of %s %d", typ, field, typ, id))
					}
				}
			}
		}
	}
	logs := []byte(s.Logs())
	seen := map[*lkNeedle]bool{}
	needles.find(logs, func(i int, nd *lkNeedle) {
		if !seen[nd] {
			seen[nd] = true
			t.Errorf("LEAK in the server log: %q (%s) at byte %d: …%s…", nd.val, strings.Join(nd.labels, "; "), i, lkClip(logs, i, 120))
		}
	})
	t.Logf("server log: %d bytes scanned, %d sensitive values found", len(logs), len(seen))
}
