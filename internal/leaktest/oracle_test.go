package leaktest_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/viewer"
)

// --- The oracle: policies/policy.csv, written out by hand ---

// noByteScan are fields whose values are too short or too common to look
// for in raw bytes (an age, a nationality, an enum's value that other
// enums share: VICTIM in POTENTIAL_VICTIM); they are checked structurally.
var noByteScan = map[string]bool{"Victim.exactAge": true, "Victim.nationality": true, "Consent.givenBy": true}

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
		"Suspect:IDENTITY": "on_case", "Consent:QUASI_IDENTIFIER": "on_case",
	}},
	viewer.RoleProsecutor: {"prosecution", map[string]string{
		"Victim:IDENTITY": "proceedings", "Victim:CONTACT": "proceedings", "Victim:TESTIMONY": "proceedings",
		"Victim:QUASI_IDENTIFIER": "proceedings", "Suspect:IDENTITY": "proceedings", "Consent:QUASI_IDENTIFIER": "proceedings",
	}},
	viewer.RoleJudge: {"court", map[string]string{
		"Victim:IDENTITY": "proceedings", "Victim:TESTIMONY": "proceedings", "Suspect:IDENTITY": "proceedings",
	}},
	viewer.RoleCaseWorker: {"support", map[string]string{
		"Victim:IDENTITY": "referred", "Victim:CONTACT": "referred", "Victim:HEALTH": "referred",
		"Victim:LOCATION": "referred", "Victim:QUASI_IDENTIFIER": "referred", "SupportService:HEALTH": "referred",
		"Consent:QUASI_IDENTIFIER": "referred",
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
	set("Victim", w.nodeIDs["Victim"], v.victimVisible)
	set("Suspect", w.nodeIDs["Suspect"], func(id int) bool { return v.caseLvl != "none" && v.rows["Case"][w.suspects[id].CaseID] })
	set("Prosecution", sortedKeys(w.prosecutions), func(id int) bool {
		p := w.prosecutions[id]
		return atLevel(v.caseLvl, v.rows["Case"][p.CaseID] || p.OfficeID == a.ID)
	})
	// A court decision: those of the proceedings seen, and, as rowscope's
	// throughOrOwn has it, those of the agency's own court, also where it
	// does not see the proceeding.
	set("CourtDecision", w.nodeIDs["CourtDecision"], func(id int) bool {
		d := w.decisions[id]
		return atLevel(v.caseLvl, v.rows["Prosecution"][d.ProsecutionID] || d.CourtID == a.ID)
	})
	set("Referral", sortedKeys(w.referrals), func(id int) bool {
		r := w.referrals[id]
		return atLevel(v.victLvl, v.rows["Victim"][r.VictimID] || r.FromAgencyID == a.ID || r.ToAgencyID == a.ID)
	})
	set("SupportService", w.nodeIDs["SupportService"], func(id int) bool {
		s := w.services[id]
		return atLevel(v.victLvl, v.rows["Victim"][s.VictimID] || s.ProviderID == a.ID)
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

// atLevel applies a row level to a row: every row at "all", none at
// "none", and at "assigned" or "region" those in scope.
func atLevel(level string, inScope bool) bool {
	switch level {
	case "all":
		return true
	case "none":
		return false
	}
	return inScope
}

func sortedKeys[V any](m map[int]V) []int { return slices.Sorted(maps.Keys(m)) }

// assigned: the agency leads the case, is assigned to it in any part, or
// is the office of one of its proceedings.
func (v *view) assigned(caseID int) bool {
	if c := v.w.cases[caseID]; c != nil && c.LeadAgencyID == v.a.ID {
		return true
	}
	return slices.ContainsFunc(v.w.assignments[caseID], func(x *ent.CaseAssignment) bool { return x.AgencyID == v.a.ID }) ||
		slices.ContainsFunc(v.w.prosOfCase[caseID], v.conducts)
}

// conducts: the agency is the office of the proceeding.
func (v *view) conducts(prosecutionID int) bool {
	return v.w.prosecutions[prosecutionID].OfficeID == v.a.ID
}

// proceedings: the agency prosecutes or adjudicates the case (an assignment
// as PROSECUTING or ADJUDICATING, a proceeding of its office, or a decision
// of its court).
func (v *view) proceedings(caseID int) bool {
	prosecutesOrAdjudicates := func(x *ent.CaseAssignment) bool {
		return x.AgencyID == v.a.ID && (x.Part == domain.CasePartProsecuting || x.Part == domain.CasePartAdjudicating)
	}
	conductsOrDecides := func(pid int) bool {
		return v.conducts(pid) ||
			slices.ContainsFunc(v.w.decisionsOfPros[pid], func(d *ent.CourtDecision) bool { return d.CourtID == v.a.ID })
	}
	return slices.ContainsFunc(v.w.assignments[caseID], prosecutesOrAdjudicates) ||
		slices.ContainsFunc(v.w.prosOfCase[caseID], conductsOrDecides)
}

// referred: the victim was referred to the agency, and it accepted (or
// completed) the referral. A support service the agency records itself
// does not count: it could record one for anybody.
func (v *view) referred(victimID int) bool {
	return slices.ContainsFunc(v.w.referralsOfVictim[victimID], func(rid int) bool {
		r := v.w.referrals[rid]
		return r.ToAgencyID == v.a.ID && (r.Status == domain.ReferralStatusAccepted || r.Status == domain.ReferralStatusCompleted)
	})
}

// consented: a current (not withdrawn) consent of the victim names the
// agency's kind and purpose.
func (v *view) consented(victimID int, purpose domain.ConsentPurpose) bool {
	return slices.ContainsFunc(v.w.consentsOfVictim[victimID], func(k *ent.Consent) bool {
		return k.WithdrawnAt == nil && slices.Contains(k.AgencyKinds, v.a.Kind) && slices.Contains(k.Purposes, purpose)
	})
}

func (v *view) caseVisible(id int) bool {
	return v.seesAt(v.caseLvl, v.w.cases[id].Region, func() bool { return v.assigned(id) })
}

// victimAssigned: the victim is in a case the agency works on, was referred
// to or by it, or receives its support.
func (v *view) victimAssigned(id int) bool {
	referredToOrBy := func(rid int) bool {
		r := v.w.referrals[rid]
		return r.FromAgencyID == v.a.ID || r.ToAgencyID == v.a.ID
	}
	provides := func(sid int) bool { return v.w.services[sid].ProviderID == v.a.ID }
	return slices.ContainsFunc(v.w.casesOfVictim[id], v.assigned) ||
		slices.ContainsFunc(v.w.referralsOfVictim[id], referredToOrBy) ||
		slices.ContainsFunc(v.w.servicesOfVictim[id], provides)
}

func (v *view) victimVisible(id int) bool {
	return v.seesAt(v.victLvl, v.w.victims[id].Region, func() bool { return v.victimAssigned(id) })
}

// seesAt applies a row level to a row of region: every row at "all"; at
// "region" those of the agency's region and those assigned; at "assigned"
// those assigned; none at "none".
func (v *view) seesAt(level string, region domain.Region, assigned func() bool) bool {
	switch level {
	case "all":
		return true
	case "region":
		return (v.a.Region != nil && region == *v.a.Region) || assigned()
	case "assigned":
		return assigned()
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

// exists reports whether the row is in the database (for the types of
// rows the oracle scopes; any other is taken to exist).
func (w *world) exists(typ string, id int) bool {
	switch typ {
	case "Case", "Victim", "Suspect", "Prosecution", "CourtDecision", "Referral", "SupportService", "Consent":
		_, found := slices.BinarySearch(w.nodeIDs[typ], id)
		return found
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
	case "Consent":
		victimID = v.w.consents[id].VictimID
		caseIDs = v.w.casesOfVictim[victimID]
	case "Suspect":
		caseIDs = []int{v.w.suspects[id].CaseID}
	}
	return slices.ContainsFunc(v.p.roles, func(role viewer.Role) bool {
		return v.roleMayRead(role, typ, id, cat, victimID, caseIDs)
	})
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
		case "SupportService", "Consent":
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

// edgeRule is what the oracle knows of one nested edge of a row: its
// shape ("connection", "list" or "object") and the related rows, of
// rowType. A connection or a list holds those the principal sees; an
// object edge holds its row when the principal sees it, and otherwise is
// null, or, when the schema declares it non-null, refuses with NOT_FOUND
// and nulls the row it leaves (refusedEdges): an edge never shows a row
// that node(id) would not.
type edgeRule struct {
	shape, rowType string
	related        func(w *world, id int) []int
}

// edgeRules are the nested edges the oracle checks, by "Type.edge".
var edgeRules = map[string]edgeRule{
	"Case.victims":                     {"connection", "Victim", func(w *world, id int) []int { return w.victimsOfCase[id] }},
	"Case.suspects":                    {"connection", "Suspect", func(w *world, id int) []int { return w.suspectsOfCase[id] }},
	"Case.prosecutions":                {"connection", "Prosecution", func(w *world, id int) []int { return w.prosOfCase[id] }},
	"Case.referrals":                   {"connection", "Referral", func(w *world, id int) []int { return w.referralsOfCase[id] }},
	"Victim.cases":                     {"connection", "Case", func(w *world, id int) []int { return w.casesOfVictim[id] }},
	"Victim.services":                  {"connection", "SupportService", func(w *world, id int) []int { return w.servicesOfVictim[id] }},
	"Victim.referrals":                 {"connection", "Referral", func(w *world, id int) []int { return w.referralsOfVictim[id] }},
	"Suspect.case":                     {"object", "Case", func(w *world, id int) []int { return []int{w.suspects[id].CaseID} }},
	"Suspect.prosecutions":             {"list", "Prosecution", func(w *world, id int) []int { return w.prosOfSuspect[id] }},
	"Suspect.prosecutionsConnection":   {"connection", "Prosecution", func(w *world, id int) []int { return w.prosOfSuspect[id] }},
	"Prosecution.case":                 {"object", "Case", func(w *world, id int) []int { return []int{w.prosecutions[id].CaseID} }},
	"Prosecution.defendants":           {"list", "Suspect", func(w *world, id int) []int { return w.defendantsOfPros[id] }},
	"Prosecution.defendantsConnection": {"connection", "Suspect", func(w *world, id int) []int { return w.defendantsOfPros[id] }},
	"Prosecution.decisions":            {"connection", "CourtDecision", func(w *world, id int) []int { return w.decisionIDsOfPros(id) }},
	"CourtDecision.prosecution":        {"object", "Prosecution", func(w *world, id int) []int { return []int{w.decisions[id].ProsecutionID} }},
	"CourtDecision.reviewedDecision":   {"object", "CourtDecision", func(w *world, id int) []int { return w.reviewedDecisionOf(id) }},
	"Referral.victim":                  {"object", "Victim", func(w *world, id int) []int { return []int{w.referrals[id].VictimID} }},
	"SupportService.victim":            {"object", "Victim", func(w *world, id int) []int { return []int{w.services[id].VictimID} }},
	"Consent.victim":                   {"object", "Victim", func(w *world, id int) []int { return []int{w.consents[id].VictimID} }},
	"Agency.cases":                     {"connection", "Case", func(w *world, id int) []int { return w.casesOfAgency[id] }},
	"Agency.ledCases":                  {"connection", "Case", func(w *world, id int) []int { return w.ledBy[id] }},
}

// edge returns the ids a nested edge of a row must hold (the related rows
// the principal sees), and whether the edge is a connection, a list or a
// single object; ok is false for edges the oracle does not check.
func (v *view) edge(typ string, id int, key string) (want map[int]bool, shape string, ok bool) {
	rule, ok := edgeRules[typ+"."+key]
	if !ok {
		return nil, "", false
	}
	want = map[int]bool{}
	for _, x := range rule.related(v.w, id) {
		if v.rows[rule.rowType][x] {
			want[x] = true
		}
	}
	return want, rule.shape, true
}

// refusedEdges are the object edges of a row that the schema declares
// non-null and that lead to a row outside the principal's rows: asked
// for, each refuses with NOT_FOUND, and the row that holds it is null. A
// court sees its own decision in a proceeding it does not see (rowscope's
// throughOrOwn): the decision's prosecution is refused.
func (v *view) refusedEdges(typ string, id int) []string {
	var out []string
	for key, rule := range edgeRules {
		from, edge, _ := strings.Cut(key, ".")
		if from != typ || rule.shape != "object" {
			continue
		}
		if f := servedSchema.Types[typ].Fields.ForName(edge); f == nil || !f.Type.NonNull {
			continue
		}
		if want, _, _ := v.edge(typ, id, edge); len(want) == 0 {
			out = append(out, edge)
		}
	}
	return out
}

// decisionIDsOfPros are the ids of a proceeding's court decisions.
func (w *world) decisionIDsOfPros(id int) []int {
	var ids []int
	for _, d := range w.decisionsOfPros[id] {
		ids = append(ids, d.ID)
	}
	return ids
}

// reviewedDecisionOf is the decision a court decision names as the one
// it reviews, if it names one.
func (w *world) reviewedDecisionOf(id int) []int {
	if named := w.decisions[id].ReviewedDecisionID; named != nil {
		return []int{*named}
	}
	return nil
}
