package leaktest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/viewer"
)

// --- The oracle: policies/policy.csv, written out by hand ---

// noByteScan are fields whose values are too short or too common to look
// for in raw bytes (an age, a nationality); they are checked structurally.
var noByteScan = map[string]bool{"Victim.exactAge": true, "Victim.nationality": true}

// aliases are the aliases the queries below use, and the field each names.
var aliases = map[string]string{"a": "legalName", "b": "legalName", "x": "legalName", "pn": "personalNumber", "secret": "healthNotes", "n2": "notes"}

// familyOf is the g2 section of the policy: agency kind → family.
var familyOf = map[string]string{
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

// rowLevels is the "Rows" section of the policy: the level (all, region,
// assigned, none) at which a role at an agency of kind sees cases and
// victims.
func rowLevels(role viewer.Role, kind string) (cases, victims string) {
	fam := familyOf[kind]
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

// readRules is the "Sensitive fields: read" section: per role, the family
// the rules name and the condition under which each category may be read.
var readRules = map[viewer.Role]struct {
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

// consentCategories need a current consent of the victim naming the
// agency's kind and the role's purpose, unless the criminal proceeding is
// the basis (proceedings).
var consentCategories = map[string]bool{"IDENTITY": true, "CONTACT": true, "HEALTH": true, "TESTIMONY": true}

var purposeOf = map[viewer.Role]domain.ConsentPurpose{
	viewer.RoleInvestigator: domain.ConsentPurposeCriminalProceedings,
	viewer.RoleProsecutor:   domain.ConsentPurposeCriminalProceedings,
	viewer.RoleJudge:        domain.ConsentPurposeCriminalProceedings,
	viewer.RoleCaseWorker:   domain.ConsentPurposeServices,
}

// --- What one principal may see, per the oracle ---

type fieldKey struct {
	typ   string
	id    int
	field string
}

type view struct {
	w        *world
	p        principal
	a        *ent.Agency
	kind     string
	subject  string
	caseLvl  string
	victLvl  string
	rows     map[string]map[int]bool // type → visible ids
	grants   map[int]bool            // cases under an active emergency grant
	allowed  map[fieldKey]bool
	nAllowed map[string]int // "Victim.legalName" → allowed rows with a value
}

func newView(t *testing.T, w *world, p principal, grants []*ent.EmergencyGrant) *view {
	a := w.byCode[p.agency]
	if a == nil {
		t.Fatalf("no agency %s in the database", p.agency)
	}
	v := &view{w: w, p: p, a: a, kind: string(a.Kind), subject: "test-" + string(p.roles[0]) + "@" + p.agency,
		rows: map[string]map[int]bool{}, grants: map[int]bool{}, allowed: map[fieldKey]bool{}, nAllowed: map[string]int{}}
	// Rows: the widest level any of the roles sees.
	v.caseLvl, v.victLvl = "none", "none"
	for _, role := range p.roles {
		c, vl := rowLevels(role, v.kind)
		v.caseLvl, v.victLvl = widerLevel(v.caseLvl, c), widerLevel(v.victLvl, vl)
	}
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
	set("Case", sortedKeys(w.cases), v.caseVisible)
	set("Victim", w.victimIDs, v.victimVisible)
	set("Suspect", w.suspectIDs, func(id int) bool { return v.caseLvl != "none" && v.rows["Case"][w.suspects[id].CaseID] })
	set("Prosecution", sortedKeys(w.prosecutions), func(id int) bool {
		p := w.prosecutions[id]
		switch v.caseLvl {
		case "all":
			return true
		case "none":
			return false
		}
		return v.rows["Case"][p.CaseID] || p.OfficeID == a.ID
	})
	set("Referral", sortedKeys(w.referrals), func(id int) bool {
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
		if g.AgencyID == a.ID && (p.has(viewer.RoleDPO) || g.Subject == v.subject) {
			grantRows[g.ID] = true
		}
	}
	v.rows["EmergencyGrant"] = grantRows
	set("Consent", sortedKeys(w.consents), func(id int) bool {
		switch v.victLvl {
		case "all":
			return true
		case "none":
			return false
		}
		return v.rows["Victim"][w.consents[id].VictimID]
	})
	for typ, fields := range sensitive {
		for id := range v.rows[typ] {
			for field := range fields {
				if v.decide(typ, id, field) {
					v.allowed[fieldKey{typ, id, field}] = true
					if w.value(typ, id, field) != nil {
						v.nAllowed[typ+"."+field]++
					}
				}
			}
		}
	}
	return v
}

func sortedKeys[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// assigned: the agency leads the case, is assigned to it in any part, or
// is the office of one of its proceedings.
func (v *view) assigned(caseID int) bool {
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
func (v *view) proceedings(caseID int) bool {
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
func (v *view) referred(victimID int) bool {
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
func (v *view) consented(victimID int, purpose domain.ConsentPurpose) bool {
	for _, k := range v.w.consentsOfVictim[victimID] {
		if k.WithdrawnAt == nil && slices.Contains(k.AgencyKinds, v.a.Kind) && slices.Contains(k.Purposes, purpose) {
			return true
		}
	}
	return false
}

func (v *view) caseVisible(id int) bool {
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
func (v *view) victimAssigned(id int) bool {
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

func (v *view) victimVisible(id int) bool {
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
func (v *view) visible(typ string, id int) (vis, known bool) {
	m, ok := v.rows[typ]
	if !ok {
		return false, false
	}
	return m[id], true
}

// exists reports whether the row is in the database.
func (w *world) exists(typ string, id int) bool {
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
func (v *view) decide(typ string, id int, field string) bool {
	cat := sensitive[typ][field]
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
	for _, role := range v.p.roles {
		if v.roleMayRead(role, typ, id, cat, victimID, caseIDs) {
			return true
		}
	}
	return false
}

// roleMayRead is the field rule of one role: its line for the category
// and the condition (and consent, for the role's purpose) on the row; or
// an active emergency grant of the principal on a case of the row, for a
// category the role may read at all under some condition.
func (v *view) roleMayRead(role viewer.Role, typ string, id int, cat string, victimID int, caseIDs []int) bool {
	rules, ok := readRules[role]
	if !ok || familyOf[v.kind] != rules.family {
		return false
	}
	cond, ok := rules.cats[typ+":"+cat]
	if !ok {
		return false
	}
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
	needsConsent := (typ == "Victim" || typ == "SupportService") && consentCategories[cat] && cond != "proceedings"
	if holds && (!needsConsent || v.consented(victimID, purposeOf[role])) {
		return true
	}
	return slices.ContainsFunc(caseIDs, func(c int) bool { return v.grants[c] })
}

// widerLevel is the wider of two row levels (none ⊂ assigned ⊂ region ⊂
// all).
func widerLevel(a, b string) string {
	order := []string{"none", "assigned", "region", "all"}
	if slices.Index(order, b) > slices.Index(order, a) {
		return b
	}
	return a
}

func (v *view) may(typ string, id int, field string) bool {
	return v.allowed[fieldKey{typ, id, field}]
}

// edge returns the ids a nested edge of a row must hold (the related rows
// the principal sees), and whether the edge is a connection, a list or a
// single object; ok is false for edges the oracle does not check.
func (v *view) edge(typ string, id int, key string) (want map[int]bool, shape string, ok bool) {
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
