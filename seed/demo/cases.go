package demo

import (
	"fmt"
	"slices"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/seed"
)

// year draws one year of cases and victims.
func (g *gen) year(y int) *yearPlan {
	s := g.scale
	nCases := 50*s + g.r.IntN(10*s+1)   // prosecution: 50–60 a year
	nVictims := 81*s + g.r.IntN(78*s+1) // 81–159 a year
	nSpak := 2*s + g.r.IntN(2*s+1)      // SPAK: 2–4 a year
	if elapsed, days := g.daysOf(y); elapsed < days {
		// The current year, so far: its share of the year's volumes, at
		// least one case once a day has passed.
		share := func(n int) int { return n * elapsed / days }
		nCases = share(nCases)
		if elapsed > 0 {
			nCases = max(nCases, s)
		}
		nVictims, nSpak = max(share(nVictims), nCases), min(share(nSpak), nCases)
	}

	p := &yearPlan{year: y, cases: make([]*casePlan, nCases)}
	for i := range p.cases {
		p.cases[i] = g.newCase(y)
	}
	slices.SortStableFunc(p.cases, func(a, b *casePlan) int { return a.openedAt.Compare(b.openedAt) })
	seq := make([]int, len(seed.Regions))
	for _, c := range p.cases {
		ri := regionIndex(c.region)
		seq[ri]++
		c.reference = fmt.Sprintf("%s-%d-%04d", seed.Regions[ri].Abbr, y, seq[ri])
	}
	for _, i := range g.r.Perm(nCases)[:nSpak] {
		p.cases[i].spak = true
	}

	// Victims per case: one each, a structured group's more, the rest at
	// random (begging and labour rings a little more likely).
	counts := make([]int, nCases)
	remaining := nVictims - nCases
	for i, c := range p.cases {
		counts[i] = 1
		if c.spak && remaining > 0 {
			extra := min(remaining, g.between(2, 5))
			counts[i] += extra
			remaining -= extra
		}
	}
	cumulative := make([]int, nCases) // cumulative weights, searched per draw
	total := 0
	for i, c := range p.cases {
		switch c.forms[0] {
		case domain.ExploitationForcedBegging, domain.ExploitationForcedLabour:
			total += 3
		default:
			total += 2
		}
		cumulative[i] = total
	}
	for ; remaining > 0; remaining-- {
		n := g.r.IntN(total)
		i, _ := slices.BinarySearch(cumulative, n+1)
		counts[i]++
	}
	for i, c := range p.cases {
		for range counts[i] {
			v := g.newVictim(y, c)
			v.primaryCase = i
			c.links = append(c.links, victimLink{victim: len(p.victims), at: laterOf(c.openedAt, v.identifiedAt)})
			p.victims = append(p.victims, v)
			if v.ageGroup == domain.AgeGroupMinor {
				c.minors = true
			} else {
				c.adults = true
			}
			if v.foreign {
				c.foreign = true
			}
		}
	}
	// A few victims appear in a second case of the same year.
	for vi, v := range p.victims {
		if nCases < 2 || !g.chance(0.04) {
			continue
		}
		j := g.r.IntN(nCases - 1)
		if j >= v.primaryCase {
			j++
		}
		at := g.after(laterOf(p.cases[j].openedAt, v.identifiedAt), 10, 200)
		if at.After(g.asOf) {
			continue
		}
		p.cases[j].links = append(p.cases[j].links, victimLink{victim: vi, at: at})
	}

	for _, c := range p.cases {
		c.title = titleOf(c.forms[0], c.minors, c.foreign) + ", " + c.town
		if c.spak {
			c.title += " (organised group)"
		}
		g.suspects(c)
		g.event(c, domain.CaseEventKindCaseOpened, c.openedAt, c.police, "Case opened", refNone, 0)
		g.assign(c, c.police, domain.CasePartInvestigating, c.openedAt)
		g.proceed(c)
		if g.chance(0.15) {
			g.assign(c, "responsible-authority", domain.CasePartCoordinating, g.after(c.openedAt, 1, 20))
		}
	}
	for vi, v := range p.victims {
		c := p.cases[v.primaryCase]
		if v.identifiedBy == domain.IdentifyingBodyBorderPolice {
			g.assign(c, "border-police", domain.CasePartInvestigating, laterOf(c.openedAt, v.identifiedAt))
		}
		g.referrals(v, c)
		g.consent(vi, v, c)
	}
	for _, c := range p.cases {
		slices.SortStableFunc(c.events, func(a, b eventPlan) int { return a.at.Compare(b.at) })
		c.assignments = slices.DeleteFunc(c.assignments, func(a assignPlan) bool { return a.at.After(g.asOf) })
		if c.pros != nil {
			c.lead = c.pros.office
		} else {
			c.lead = c.police
		}
	}

	// Pseudonyms follow the order of identification.
	order := make([]int, len(p.victims))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return p.victims[a].identifiedAt.Compare(p.victims[b].identifiedAt) })
	for n, i := range order {
		p.victims[i].pseudonym = fmt.Sprintf("V-%d-%04d", y, n+1)
	}
	p.victimOrder = order
	n := 0
	for _, c := range p.cases {
		for _, sp := range c.suspects {
			n++
			sp.pseudonym = fmt.Sprintf("S-%d-%04d", y, n)
		}
	}
	return p
}

func regionIndex(r domain.Region) int {
	for i, ri := range seed.Regions {
		if ri.Region == r {
			return i
		}
	}
	panic("seed: unknown region " + string(r))
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

var caseRegions = []weighted[domain.Region]{
	{domain.RegionTirane, 28}, {domain.RegionDurres, 11}, {domain.RegionVlore, 10}, {domain.RegionElbasan, 9},
	{domain.RegionFier, 9}, {domain.RegionShkoder, 8}, {domain.RegionKorce, 6}, {domain.RegionBerat, 5},
	{domain.RegionLezhe, 5}, {domain.RegionDiber, 3}, {domain.RegionKukes, 3}, {domain.RegionGjirokaster, 3},
}

var caseForms = []weighted[domain.Exploitation]{
	{domain.ExploitationSexual, 60}, {domain.ExploitationForcedLabour, 14}, {domain.ExploitationForcedBegging, 12},
	{domain.ExploitationForcedMarriageDomesticServitude, 5}, {domain.ExploitationForcedCriminality, 4},
	{domain.ExploitationSlaveryServitude, 1}, {domain.ExploitationOther, 1}, {domain.ExploitationUnspecified, 3},
}

func (g *gen) newCase(y int) *casePlan {
	c := &casePlan{region: pickW(g, caseRegions), staff: staff{}}
	c.town = pick(g, towns[c.region])
	ri := seed.Regions[regionIndex(c.region)]
	c.district = districtBySlug(ri.District)
	if slices.Contains(sarandeTowns, c.town) {
		c.district = districtBySlug("sarande")
	}
	c.police = "police-" + seed.RegionSlug(c.region)
	c.forms = []domain.Exploitation{pickW(g, caseForms)}
	if g.chance(0.15) {
		second := pickW(g, caseForms)
		if second != c.forms[0] && second != domain.ExploitationUnspecified && c.forms[0] != domain.ExploitationUnspecified {
			c.forms = append(c.forms, second)
		}
	}
	start := time.Date(y, 1, 1, 8, 0, 0, 0, time.UTC)
	elapsed, _ := g.daysOf(y)
	c.openedAt = start.AddDate(0, 0, g.r.IntN(elapsed)).Add(time.Duration(g.r.IntN(9*60)) * time.Minute)
	c.stage = domain.ProceedingStageNoticeReceived
	c.updatedAt = c.openedAt
	return c
}

// daysOf returns how many days of year y are before the demo's clock, and
// how many days it has: the same for a past year.
func (g *gen) daysOf(y int) (elapsed, days int) {
	first := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	days = int(first.AddDate(1, 0, 0).Sub(first).Hours() / 24)
	elapsed = min(days, max(0, int(g.asOf.Sub(first).Hours()/24)))
	return elapsed, days
}

func districtBySlug(slug string) seed.District {
	for _, d := range seed.Districts {
		if d.Slug == slug {
			return d
		}
	}
	panic("seed: unknown district " + slug)
}

// Victims.

// Suspects.

var suspectOrigins = []struct {
	nationality   string
	given, family []string
	weight        int
}{
	{"Albanian", maleNames, surnames, 93},
	{"Kosovo", maleNames, []string{"Krasniqi", "Gashi", "Morina", "Bytyqi", "Hoti"}, 3},
	{"Greece", []string{"Nikos", "Giorgos", "Dimitris", "Kostas"}, []string{"Papadopoulos", "Georgiou", "Nikolaou", "Oikonomou"}, 2},
	{"Italy", []string{"Marco", "Luca", "Giuseppe", "Andrea"}, []string{"Rossi", "Russo", "Ferrari", "Esposito"}, 1},
	{"North Macedonia", maleNames, []string{"Ademi", "Rexhepi", "Iseni"}, 1},
}

func (g *gen) suspects(c *casePlan) {
	n := pickW(g, []weighted[int]{{1, 45}, {2, 35}, {3, 20}})
	if c.spak {
		n = 3
	}
	for j := range n {
		s := &suspectPlan{}
		switch {
		case j == 0 && c.spak:
			s.role = domain.SuspectRoleOrganiser
		case j == 0:
			s.role = pickW(g, []weighted[domain.SuspectRole]{
				{domain.SuspectRoleExploiter, 60}, {domain.SuspectRoleOrganiser, 25}, {domain.SuspectRoleRecruiter, 15},
			})
		default:
			s.role = pickW(g, []weighted[domain.SuspectRole]{
				{domain.SuspectRoleRecruiter, 30}, {domain.SuspectRoleTransporter, 15}, {domain.SuspectRoleFacilitator, 20},
				{domain.SuspectRoleExploiter, 20}, {domain.SuspectRoleClient, 10}, {domain.SuspectRoleOther, 5},
			})
		}
		s.sex = domain.SexMale
		if g.chance(0.12) {
			s.sex = domain.SexFemale
		}
		ws := make([]weighted[int], len(suspectOrigins))
		for i, o := range suspectOrigins {
			ws[i] = weighted[int]{i, o.weight}
		}
		o := suspectOrigins[pickW(g, ws)]
		s.nationality = o.nationality
		given := pick(g, o.given)
		if s.sex == domain.SexFemale {
			given = pick(g, femaleNames)
			if o.nationality == "Greece" || o.nationality == "Italy" {
				given = pick(g, []string{"Maria", "Elena", "Anna"})
			}
		}
		s.legalName = given + " " + pick(g, o.family)
		if o.nationality == "Albanian" {
			age := g.between(20, 58)
			dob := time.Date(c.openedAt.Year()-age, time.Month(g.between(1, 12)), g.between(1, 28), 0, 0, 0, 0, time.UTC)
			s.personalNumber = ptr(g.nid(dob, s.sex == domain.SexFemale))
		}
		s.createdAt = g.after(c.openedAt, 0, 30)
		if s.createdAt.After(g.asOf) {
			s.createdAt = c.openedAt
		}
		c.suspects = append(c.suspects, s)
	}
}

// The case timeline.

func (g *gen) assign(c *casePlan, code string, part domain.CasePart, at time.Time) {
	for _, a := range c.assignments {
		if a.agency == code {
			return
		}
	}
	c.assignments = append(c.assignments, assignPlan{agency: code, part: part, at: at})
}

func (g *gen) event(c *casePlan, kind domain.CaseEventKind, at time.Time, agency, summary string, ref refKind, idx int) {
	c.events = append(c.events, eventPlan{kind: kind, at: at, agency: agency, actor: g.actorFor(c.staff, agency), summary: summary, ref: ref, idx: idx})
	if c.pros != nil && ref != refConsent && at.After(c.pros.updatedAt) {
		c.pros.updatedAt = at
	}
}

// move moves the case (and its prosecution) to stage s at time at, done by
// agency.
func (g *gen) move(c *casePlan, s domain.ProceedingStage, at time.Time, agency string) {
	c.stage = s
	c.updatedAt = at
	if c.pros != nil {
		c.pros.stage = s
	}
	if s.Terminal() {
		c.closedAt = ptr(at)
		if c.pros != nil {
			c.pros.closed = ptr(at)
		}
	}
	g.event(c, domain.CaseEventKindStageChanged, at, agency, "Stage changed to "+string(s), refNone, 0)
}

// proceed simulates the proceeding of case c from its notice until it ends
// or the demo's clock (AsOf) comes.
