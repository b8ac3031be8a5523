package demo

import (
	"slices"
	"time"

	"github.com/casegraph/casegraph/domain"
)

// Support.

var shelterAgencies = []string{"shelter-national", "ngo-vatra", "ngo-tjeter-vizion"}

func (g *gen) shelterFor(v *victimPlan) string {
	switch regionalNGO(v.region) {
	case "ngo-vatra":
		if g.chance(0.55) {
			return "ngo-vatra"
		}
	case "ngo-tjeter-vizion":
		if g.chance(0.55) {
			return "ngo-tjeter-vizion"
		}
	}
	return pickW(g, []weighted[string]{{"shelter-national", 60}, {"ngo-vatra", 20}, {"ngo-tjeter-vizion", 20}})
}

func (g *gen) provider(kind domain.ServiceKind, v *victimPlan, shelter string) string {
	switch kind {
	case domain.ServiceKindShelter:
		return g.shelterFor(v)
	case domain.ServiceKindPsychological, domain.ServiceKindMedical:
		if shelter != "" && g.chance(0.7) {
			return shelter
		}
		return pick(g, []string{"ngo-different-equal", "ngo-tjeter-vizion", "ngo-vatra", "shelter-national"})
	case domain.ServiceKindLegalAid, domain.ServiceKindCompensationSupport, domain.ServiceKindInterpretation:
		return pickW(g, []weighted[string]{{"ngo-different-equal", 60}, {"ngo-tjeter-vizion", 20}, {"ngo-vatra", 20}})
	case domain.ServiceKindEducation, domain.ServiceKindFamilyAssessment:
		return pick(g, []string{"child-rights", "social-service"})
	case domain.ServiceKindVocationalTraining, domain.ServiceKindEmployment, domain.ServiceKindReintegration:
		return pickW(g, []weighted[string]{{"ngo-different-equal", 50}, {"social-service", 30}, {"ngo-tjeter-vizion", 20}})
	case domain.ServiceKindRepatriation:
		return "responsible-authority"
	case domain.ServiceKindTemporaryResidencePermit:
		return "moi"
	case domain.ServiceKindWitnessProtection:
		return "police-gd"
	}
	return "social-service"
}

// serviceDaysByKind is how long, in days, the kinds of service that do not
// last the default two months to a year last.
var serviceDaysByKind = map[domain.ServiceKind][2]int{
	domain.ServiceKindShelter: {30, 300}, domain.ServiceKindMedical: {7, 90},
	domain.ServiceKindLegalAid: {90, 540}, domain.ServiceKindCompensationSupport: {90, 540}, domain.ServiceKindWitnessProtection: {90, 540},
	domain.ServiceKindInterpretation: {7, 60}, domain.ServiceKindRepatriation: {7, 60}, domain.ServiceKindFamilyAssessment: {7, 60},
}

// serviceDays is how long a kind of service lasts, in days.
func serviceDays(k domain.ServiceKind) (lo, hi int) {
	if r, ok := serviceDaysByKind[k]; ok {
		return r[0], r[1]
	}
	return 60, 365
}

func (g *gen) referrals(v *victimPlan, c *casePlan) {
	if g.chance(0.12) || (v.status == domain.IdentificationStatusNotConfirmed && g.chance(0.5)) {
		return
	}
	n := pickW(g, []weighted[int]{{1, 35}, {2, 30}, {3, 20}, {4, 15}})
	minor := v.ageGroup == domain.AgeGroupMinor
	first := domain.ServiceKindPsychological
	if minor || v.foreign || g.chance(0.45) {
		first = domain.ServiceKindShelter
	}
	var pool []domain.ServiceKind
	if minor {
		pool = []domain.ServiceKind{domain.ServiceKindPsychological, domain.ServiceKindMedical, domain.ServiceKindEducation,
			domain.ServiceKindFamilyAssessment, domain.ServiceKindLegalAid, domain.ServiceKindReintegration}
	} else {
		pool = []domain.ServiceKind{domain.ServiceKindPsychological, domain.ServiceKindMedical, domain.ServiceKindLegalAid,
			domain.ServiceKindVocationalTraining, domain.ServiceKindEmployment, domain.ServiceKindReintegration,
			domain.ServiceKindCompensationSupport}
	}
	if v.foreign {
		pool = append(pool, domain.ServiceKindInterpretation, domain.ServiceKindRepatriation, domain.ServiceKindTemporaryResidencePermit)
	}
	if c.pros != nil && c.pros.trialRequested != nil && g.chance(0.1) {
		pool = append(pool, domain.ServiceKindWitnessProtection)
	}
	pool = slices.DeleteFunc(pool, func(k domain.ServiceKind) bool { return k == first })
	kinds := []domain.ServiceKind{first}
	for _, i := range g.r.Perm(len(pool))[:min(n-1, len(pool))] {
		kinds = append(kinds, pool[i])
	}

	firstAt := g.after(v.identifiedAt, 0, 5)
	shelter := ""
	for k, kind := range kinds {
		at := firstAt
		from := v.identifyingAgency
		if k > 0 {
			at = g.after(firstAt, 5, 120)
			if g.chance(0.4) {
				from = "responsible-authority"
			}
		}
		to := g.provider(kind, v, shelter)
		if to == from {
			to = "social-service"
			if from == "social-service" {
				to = "ngo-different-equal"
			}
		}
		if at.After(g.asOf) {
			continue
		}
		r := g.referral(v.staff, kind, at, from, to)
		v.referrals = append(v.referrals, r)
		if r.service != nil {
			if kind == domain.ServiceKindShelter && slices.Contains(shelterAgencies, to) {
				shelter = to
				if v.shelter == nil {
					v.shelter = ptr(shelterLocations[to])
				}
			}
			switch g.kinds[to] {
			case domain.AgencyKindStateShelter, domain.AgencyKindNgoShelter, domain.AgencyKindNgoServiceProvider:
				g.assign(c, to, domain.CasePartSupporting, *r.acceptedAt)
			}
		}
	}
}

// referral simulates one referral's statuses from PENDING on.
func (g *gen) referral(people staff, kind domain.ServiceKind, at time.Time, from, to string) *referralPlan {
	r := &referralPlan{kind: kind, status: domain.ReferralStatusPending, referredAt: at, from: from, to: to}
	step := func(s domain.ReferralStatus, when time.Time, by string) {
		r.status = s
		r.history = append(r.history, domain.ReferralStatusChange{Status: s, At: when, ActorSubject: g.actorFor(people, by), ActorAgency: by})
	}
	step(domain.ReferralStatusPending, at, from)
	decAt := g.after(at, 0, 10)
	if decAt.After(g.asOf) {
		return r
	}
	u := g.r.Float64()
	switch {
	case u < 0.82:
		step(domain.ReferralStatusAccepted, decAt, to)
		r.acceptedAt = ptr(decAt)
	case u < 0.92:
		step(domain.ReferralStatusRejected, decAt, to)
		return r
	default:
		step(domain.ReferralStatusRevoked, decAt, from)
		return r
	}
	started := g.after(decAt, 0, 3)
	if started.After(g.asOf) {
		started = decAt
	}
	r.service = &servicePlan{started: started}
	if g.chance(0.7) {
		r.service.notes = ptr(pick(g, serviceNotes[kind]))
	}
	lo, hi := serviceDays(kind)
	endAt := g.after(started, lo, hi)
	if endAt.After(g.asOf) {
		return r
	}
	if g.chance(0.94) {
		step(domain.ReferralStatusCompleted, endAt, to)
		r.service.ended = ptr(endAt)
	} else {
		step(domain.ReferralStatusRevoked, endAt, from)
		r.service = nil
	}
	return r
}

func (g *gen) consent(vi int, v *victimPlan, c *casePlan) {
	if !g.chance(0.88) {
		return
	}
	at := g.after(v.identifiedAt, 0, 7)
	if at.After(g.asOf) {
		return
	}
	k := &consentPlan{givenAt: at, givenBy: domain.ConsentGivenByVictim, agency: v.identifyingAgency}
	k.recordedBy = g.actorFor(v.staff, k.agency)
	if v.age < 16 {
		k.givenBy = domain.ConsentGivenByParentOrGuardian
		if g.chance(0.15) {
			k.givenBy = domain.ConsentGivenByLegalRepresentative
		}
	}
	if g.chance(0.95) {
		k.purposes = append(k.purposes, domain.ConsentPurposeServices)
	}
	criminal := g.chance(0.65)
	if criminal {
		k.purposes = append(k.purposes, domain.ConsentPurposeCriminalProceedings)
	}
	if g.chance(0.55) {
		k.purposes = append(k.purposes, domain.ConsentPurposeStatistics)
	}
	if len(k.purposes) == 0 {
		k.purposes = []domain.ConsentPurpose{domain.ConsentPurposeServices}
	}
	minor := v.ageGroup == domain.AgeGroupMinor
	for _, ak := range domain.All[domain.AgencyKind]() {
		var p float64
		switch ak {
		case domain.AgencyKindStateSocialService:
			p = 0.9
		case domain.AgencyKindStateShelter, domain.AgencyKindNgoShelter:
			p = 0.7
		case domain.AgencyKindNgoServiceProvider:
			p = 0.6
		case domain.AgencyKindMobileIdentificationUnit, domain.AgencyKindResponsibleAuthority:
			p = 0.4
		case domain.AgencyKindStateAgencyForChildRights:
			if minor {
				p = 0.9
			}
		case domain.AgencyKindLocalPoliceDirectorate, domain.AgencyKindProsecutionOffice:
			if criminal {
				p = 0.85
			}
		}
		if p > 0 && g.chance(p) {
			k.kinds = append(k.kinds, ak)
		}
	}
	if len(k.kinds) == 0 {
		k.kinds = []domain.AgencyKind{domain.AgencyKindStateSocialService}
	}
	if g.chance(0.12) {
		if w := g.after(at, 30, 400); !w.After(g.asOf) {
			k.withdrawnAt = ptr(w)
			g.event(c, domain.CaseEventKindConsentWithdrawn, w, k.agency, "Consent withdrawn", refConsent, vi)
		}
	}
	v.consent = k
}
