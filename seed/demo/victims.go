package demo

import (
	"fmt"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/seed"
)

func (g *gen) newVictim(y int, c *casePlan) *victimPlan {
	form := c.forms[0]
	v := &victimPlan{region: c.region, forms: []domain.Exploitation{form}, staff: staff{}}
	if len(c.forms) > 1 && g.chance(0.7) {
		v.forms = append(v.forms, c.forms[1])
	}
	v.foreign = g.chance(0.03)
	labour := form == domain.ExploitationForcedLabour

	female, minor := 0.7, 0.6
	if sh, ok := victimShares[form]; ok {
		female, minor = sh.female, sh.minor
	}
	if v.foreign {
		minor = 0.15
		if labour {
			female = 0.2
		}
	}
	switch {
	case g.chance(0.01):
		v.sex = domain.SexUnknown
	case g.chance(female):
		v.sex = domain.SexFemale
	default:
		v.sex = domain.SexMale
	}
	if g.chance(minor) {
		v.ageGroup = domain.AgeGroupMinor
		if form == domain.ExploitationForcedBegging {
			v.age = g.between(5, 15)
		} else {
			v.age = pickW(g, minorAges)
		}
	} else {
		v.ageGroup = domain.AgeGroupAdult
		u := g.r.Float64()
		v.age = 18 + int(33*u*u)
	}

	// Identified around the time the case was opened, within the year.
	yearStart := time.Date(y, 1, 1, 8, 0, 0, 0, time.UTC)
	yearEnd := time.Date(y, 12, 31, 17, 0, 0, 0, time.UTC)
	if last := g.asOf.Add(-7 * time.Hour); last.Before(yearEnd) {
		yearEnd = last // the current year ends at the demo's clock
	}
	at := c.openedAt.AddDate(0, 0, g.between(-20, 45))
	if at.Before(yearStart) {
		at = yearStart.Add(time.Duration(g.r.IntN(8*60)) * time.Minute)
	}
	if at.After(yearEnd) {
		at = yearEnd.Add(-time.Duration(g.r.IntN(8*60)) * time.Minute)
	}
	v.identifiedAt = at
	v.updatedAt = at

	v.status = pickW(g, []weighted[domain.IdentificationStatus]{
		{domain.IdentificationStatusPotentialVictim, 64}, {domain.IdentificationStatusOfficialVictim, 26},
		{domain.IdentificationStatusAtRisk, 6}, {domain.IdentificationStatusNotConfirmed, 4},
	})
	v.identifiedBy = g.identifyingBody(form, v.foreign)
	v.identifyingAgency = identifyingAgency(v.identifiedBy, c.region)

	// Synthetic personal data.
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	v.dob = day.AddDate(-v.age, 0, -g.between(1, 363))
	isFemale := v.sex == domain.SexFemale || (v.sex == domain.SexUnknown && g.chance(0.5))
	if v.foreign {
		o := g.foreignOrigin(labour)
		v.nationality = o.nationality
		if isFemale {
			v.legalName = pick(g, o.female) + " " + pick(g, o.surname)
		} else {
			v.legalName = pick(g, o.male) + " " + pick(g, o.surname)
		}
		if g.chance(0.6) {
			v.phone = ptr(g.phone())
		}
	} else {
		v.nationality = "Albanian"
		if isFemale {
			v.legalName = pick(g, femaleNames) + " " + pick(g, surnames)
		} else {
			v.legalName = pick(g, maleNames) + " " + pick(g, surnames)
		}
		if g.chance(0.9) {
			v.personalNumber = ptr(g.nid(v.dob, isFemale))
		}
		if g.chance(0.65) {
			v.phone = ptr(g.phone())
		}
	}
	if g.chance(0.7) {
		v.address = ptr(fmt.Sprintf("%s %d, %s", pick(g, streets), g.between(1, 150), pick(g, towns[c.region])))
	}
	if g.chance(0.55) {
		v.health = ptr(pick(g, healthNotes))
	}
	pt := 0.35
	if v.status == domain.IdentificationStatusOfficialVictim {
		pt = 0.75
	}
	if g.chance(pt) {
		if phrases := testimonies[form]; len(phrases) > 0 && g.chance(0.7) {
			v.testimony = ptr(pick(g, phrases))
		} else {
			v.testimony = ptr(pick(g, commonTestimonies))
		}
	}
	return v
}

// victimShares is, by form of exploitation, the share of its victims who
// are female and who are minors; other forms have 0.7 and 0.6.
var victimShares = map[domain.Exploitation]struct{ female, minor float64 }{
	domain.ExploitationSexual: {0.93, 0.72}, domain.ExploitationForcedLabour: {0.35, 0.4},
	domain.ExploitationForcedBegging: {0.5, 0.92}, domain.ExploitationForcedCriminality: {0.3, 0.8},
	domain.ExploitationForcedMarriageDomesticServitude: {0.96, 0.75}, domain.ExploitationSlaveryServitude: {0.6, 0.5},
}

var minorAges = []weighted[int]{
	{8, 1}, {9, 1}, {10, 2}, {11, 3}, {12, 4}, {13, 6}, {14, 9}, {15, 11}, {16, 13}, {17, 13},
}

func (g *gen) identifyingBody(form domain.Exploitation, foreign bool) domain.IdentifyingBody {
	if foreign {
		ws := []weighted[domain.IdentifyingBody]{
			{domain.IdentifyingBodyBorderPolice, 35}, {domain.IdentifyingBodyConsularOrForeign, 20},
			{domain.IdentifyingBodyStatePolice, 25}, {domain.IdentifyingBodyNgo, 10},
		}
		if form == domain.ExploitationForcedLabour {
			ws = append(ws, weighted[domain.IdentifyingBody]{domain.IdentifyingBodyLabourInspectorate, 25})
		}
		return pickW(g, ws)
	}
	switch form {
	case domain.ExploitationForcedBegging:
		return pickW(g, []weighted[domain.IdentifyingBody]{
			{domain.IdentifyingBodyMobileIdentificationUnit, 40}, {domain.IdentifyingBodySocialServices, 20},
			{domain.IdentifyingBodyStatePolice, 30}, {domain.IdentifyingBodyNgo, 10},
		})
	case domain.ExploitationForcedLabour:
		return pickW(g, []weighted[domain.IdentifyingBody]{
			{domain.IdentifyingBodyStatePolice, 40}, {domain.IdentifyingBodyLabourInspectorate, 20},
			{domain.IdentifyingBodyMobileIdentificationUnit, 15}, {domain.IdentifyingBodyNgo, 15},
			{domain.IdentifyingBodySelfReferral, 10},
		})
	}
	return pickW(g, []weighted[domain.IdentifyingBody]{
		{domain.IdentifyingBodyStatePolice, 48}, {domain.IdentifyingBodyMobileIdentificationUnit, 15},
		{domain.IdentifyingBodyNgo, 12}, {domain.IdentifyingBodySocialServices, 10},
		{domain.IdentifyingBodyBorderPolice, 8}, {domain.IdentifyingBodySelfReferral, 5},
		{domain.IdentifyingBodyLabourInspectorate, 1}, {domain.IdentifyingBodyConsularOrForeign, 1},
	})
}

// regionalNGO is the NGO that works in region r.
func regionalNGO(r domain.Region) string {
	switch r {
	case domain.RegionVlore, domain.RegionFier, domain.RegionGjirokaster:
		return "ngo-vatra"
	case domain.RegionElbasan, domain.RegionKorce, domain.RegionBerat:
		return "ngo-tjeter-vizion"
	}
	return "ngo-different-equal"
}

func identifyingAgency(b domain.IdentifyingBody, r domain.Region) string {
	switch b {
	case domain.IdentifyingBodyStatePolice:
		return "police-" + seed.RegionSlug(r)
	case domain.IdentifyingBodyBorderPolice:
		return "border-police"
	case domain.IdentifyingBodyMobileIdentificationUnit:
		return "miu-" + seed.RegionSlug(r)
	case domain.IdentifyingBodyNgo:
		return regionalNGO(r)
	case domain.IdentifyingBodySocialServices:
		return "social-service"
	case domain.IdentifyingBodyLabourInspectorate:
		return "labour-inspectorate"
	}
	return "responsible-authority" // self-referral, consular or foreign
}

func (g *gen) foreignOrigin(labour bool) foreignOrigin {
	var ws []weighted[int]
	for i, o := range foreignOrigins {
		if o.labour == labour {
			ws = append(ws, weighted[int]{i, o.weight})
		}
	}
	return foreignOrigins[pickW(g, ws)]
}

// nid makes a synthetic personal number in the shape of an Albanian one:
// a letter for the decade of birth, the last digit of the year, the month
// (plus 50 for women), the day, three digits and a letter. The last letter
// is made up here, not the real check character.
func (g *gen) nid(dob time.Time, female bool) string {
	y := dob.Year()
	month := int(dob.Month())
	if female {
		month += 50
	}
	body := fmt.Sprintf("%c%d%02d%02d%03d", rune('A'+(y-1900)/10), y%10, month, dob.Day(), g.r.IntN(1000))
	sum := 0
	for i, ch := range body {
		sum += (i + 1) * int(ch)
	}
	return body + string(rune('A'+sum%23))
}

func (g *gen) phone() string {
	return fmt.Sprintf("+355 6%d %03d %04d", g.between(7, 9), g.r.IntN(1000), g.r.IntN(10000))
}
