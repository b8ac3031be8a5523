package seed

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/casegraph/casegraph/domain"
)

// HistoryYears is how many whole calendar years the demo holds before the
// current one, which it holds up to the day before its "today" (see
// Options.Today): so that open investigations are a mix of ones within
// their deadline and overdue ones, and the current year has cases.
const HistoryYears = 5

// Years returns the first and last calendar year of the demo as of today.
func Years(today time.Time) (first, last int) {
	last = today.UTC().Year()
	return last - HistoryYears, last
}

// AsOf is the clock of the demo data as of today: the start of that day,
// UTC. Nothing happens after it; stages still open at that time stay open,
// and investigation deadlines fall before or after it.
func AsOf(today time.Time) time.Time {
	t := today.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// seedMix is xor-ed with the seed to make the second PCG word.
const seedMix = 0x9e3779b97f4a7c15

// gen draws the demo data. All randomness comes from r, consumed in a fixed
// order; maps are only looked up, never iterated.
type gen struct {
	r     *rand.Rand
	scale int
	asOf  time.Time
	// convictions counts first-instance convictions by year of decision, to
	// keep them within DOMAIN.md's 0–11 a year (times scale).
	convictions map[int]int
	// regSeq numbers registrations by office and year.
	regSeq map[string]int
	kinds  map[string]domain.AgencyKind
}

func newGen(seed int64, scale int, today time.Time) *gen {
	kinds := make(map[string]domain.AgencyKind, len(AgencyRegistry))
	for _, d := range AgencyRegistry {
		kinds[d.Code] = d.Kind
	}
	return &gen{
		r:           rand.New(rand.NewPCG(uint64(seed), uint64(seed)^seedMix)),
		scale:       scale,
		asOf:        AsOf(today),
		convictions: map[int]int{},
		regSeq:      map[string]int{},
		kinds:       kinds,
	}
}

// Plans: what one year of demo data holds, before it gets database ids.

type yearPlan struct {
	year    int
	cases   []*casePlan
	victims []*victimPlan
	// victimOrder lists the victims in the order of their pseudonyms.
	victimOrder []int
}

type casePlan struct {
	reference, title string
	region           domain.Region
	district         district
	town             string
	forms            []domain.Exploitation
	openedAt         time.Time
	updatedAt        time.Time
	stage            domain.ProceedingStage
	closedAt         *time.Time
	lead             string
	police           string
	spak             bool
	minors, adults   bool
	foreign          bool
	staff            staff
	links            []victimLink
	suspects         []*suspectPlan
	pros             *prosPlan
	assignments      []assignPlan
	events           []eventPlan
}

type victimLink struct {
	victim int
	at     time.Time
}

type assignPlan struct {
	agency string
	part   domain.CasePart
	at     time.Time
}

// refKind names the record an event is about.
type refKind int

const (
	refNone refKind = iota
	refProsecution
	refCharge   // idx: charge of the case's prosecution
	refDecision // idx: decision of the case's prosecution
	refConsent  // idx: victim of the year, whose consent it is
)

type eventPlan struct {
	kind                   domain.CaseEventKind
	at                     time.Time
	agency, actor, summary string
	ref                    refKind
	idx                    int
}

type suspectPlan struct {
	pseudonym      string
	sex            domain.Sex
	nationality    string
	role           domain.SuspectRole
	legalName      string
	personalNumber *string
	createdAt      time.Time
}

type prosPlan struct {
	office, regNo    string
	stage            domain.ProceedingStage
	registeredAt     time.Time
	updatedAt        time.Time
	deadline         *time.Time
	extensions       int
	invStart         *time.Time
	invClosed        *time.Time
	trialRequested   *time.Time
	dismissed        *time.Time
	fiDecided        *time.Time
	appealDecided    *time.Time
	closed           *time.Time
	charges          []*chargePlan
	decisions        []*decisionPlan
	fiCourt, apCourt string
}

type chargePlan struct {
	article domain.Article
	from    *domain.Article
	at      *time.Time
	suspect int // index in the case's suspects
	created time.Time
	updated time.Time
}

type decisionPlan struct {
	instance     domain.Instance
	decidedOn    time.Time
	verdict      domain.Verdict
	sentenceKind *domain.SentenceKind
	months       *int
	compensation *int64
	paid         bool
	court        string
	article      domain.Article // the article the sentence is measured against
}

type victimPlan struct {
	pseudonym         string
	sex               domain.Sex
	ageGroup          domain.AgeGroup
	age               int
	status            domain.IdentificationStatus
	identifiedBy      domain.IdentifyingBody
	identifyingAgency string
	identifiedAt      time.Time
	updatedAt         time.Time
	forms             []domain.Exploitation
	region            domain.Region
	foreign           bool
	legalName         string
	dob               time.Time
	personalNumber    *string
	nationality       string
	phone, address    *string
	health, testimony *string
	shelter           *string
	primaryCase       int
	staff             staff
	referrals         []*referralPlan
	consent           *consentPlan
}

type referralPlan struct {
	kind       domain.ServiceKind
	status     domain.ReferralStatus
	history    []domain.ReferralStatusChange
	referredAt time.Time
	from, to   string
	acceptedAt *time.Time
	service    *servicePlan
}

type servicePlan struct {
	started time.Time
	ended   *time.Time
	notes   *string
}

type consentPlan struct {
	kinds       []domain.AgencyKind
	purposes    []domain.ConsentPurpose
	givenBy     domain.ConsentGivenBy
	givenAt     time.Time
	withdrawnAt *time.Time
	agency      string
	recordedBy  string
}

// Random helpers.

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

// between returns an int in [lo, hi].
func (g *gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

func pick[T any](g *gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

type weighted[T any] struct {
	v T
	w int
}

func pickW[T any](g *gen, xs []weighted[T]) T {
	total := 0
	for _, x := range xs {
		total += x.w
	}
	n := g.r.IntN(total)
	for _, x := range xs {
		if n < x.w {
			return x.v
		}
		n -= x.w
	}
	return xs[len(xs)-1].v
}

// after returns a time in office hours (08:00–17:00 UTC) lo–hi days after
// t, and always after t.
func (g *gen) after(t time.Time, lo, hi int) time.Time {
	d := t.AddDate(0, 0, g.between(lo, hi))
	at := time.Date(d.Year(), d.Month(), d.Day(), 8, 0, 0, 0, time.UTC).Add(time.Duration(g.r.IntN(9*60)) * time.Minute)
	if !at.After(t) {
		at = t.Add(time.Duration(1+g.r.IntN(60)) * time.Minute)
	}
	return at
}

func ptr[T any](v T) *T { return &v }

// staff remembers who at each agency works on one case or victim, so that
// the same person acts at every step.
type staff map[string]string

// actorFor returns the person at agency code who works on the record whose
// staff s is, drawing one the first time.
func (g *gen) actorFor(s staff, code string) string {
	if a, ok := s[code]; ok {
		return a
	}
	a := g.actor(code)
	s[code] = a
	return a
}

// actor is the subject of a synthetic person working at agency code.
func (g *gen) actor(code string) string {
	var role string
	switch g.kinds[code] {
	case domain.AgencyKindStatePoliceGeneralDirectorate, domain.AgencyKindLocalPoliceDirectorate,
		domain.AgencyKindBorderAndMigrationPolice, domain.AgencyKindNationalBureauOfInvestigation:
		role = "officer"
	case domain.AgencyKindProsecutionOffice, domain.AgencyKindGeneralProsecutionOffice, domain.AgencyKindSpecialProsecutionOffice:
		role = "prosecutor"
	case domain.AgencyKindCourtFirstInstance, domain.AgencyKindSpecialCourtFirstInstance, domain.AgencyKindCourtOfAppeal,
		domain.AgencyKindSpecialCourtOfAppeal, domain.AgencyKindHighCourt:
		role = "judge"
	case domain.AgencyKindHighProsecutorialCouncil, domain.AgencyKindMinistryOfInterior,
		domain.AgencyKindNationalAntiTraffickingCoordinator, domain.AgencyKindResponsibleAuthority:
		role = "coordinator"
	default:
		role = "case-worker"
	}
	return fmt.Sprintf("%s-%d@%s", role, g.between(1, 12), code)
}

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
	seq := make([]int, len(regions))
	for _, c := range p.cases {
		ri := regionIndex(c.region)
		seq[ri]++
		c.reference = fmt.Sprintf("%s-%d-%04d", regions[ri].abbr, y, seq[ri])
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
	for i, ri := range regions {
		if ri.region == r {
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
	ri := regions[regionIndex(c.region)]
	c.district = districtBySlug(ri.district)
	if slices.Contains(sarandeTowns, c.town) {
		c.district = districtBySlug("sarande")
	}
	c.police = "police-" + RegionSlug(c.region)
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

func districtBySlug(slug string) district {
	for _, d := range districts {
		if d.slug == slug {
			return d
		}
	}
	panic("seed: unknown district " + slug)
}

// Victims.

func (g *gen) newVictim(y int, c *casePlan) *victimPlan {
	form := c.forms[0]
	v := &victimPlan{region: c.region, forms: []domain.Exploitation{form}, staff: staff{}}
	if len(c.forms) > 1 && g.chance(0.7) {
		v.forms = append(v.forms, c.forms[1])
	}
	v.foreign = g.chance(0.03)
	labour := form == domain.ExploitationForcedLabour

	female, minor := 0.7, 0.6
	switch form {
	case domain.ExploitationSexual:
		female, minor = 0.93, 0.72
	case domain.ExploitationForcedLabour:
		female, minor = 0.35, 0.4
	case domain.ExploitationForcedBegging:
		female, minor = 0.5, 0.92
	case domain.ExploitationForcedCriminality:
		female, minor = 0.3, 0.8
	case domain.ExploitationForcedMarriageDomesticServitude:
		female, minor = 0.96, 0.75
	case domain.ExploitationSlaveryServitude:
		female, minor = 0.6, 0.5
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
		return "police-" + RegionSlug(r)
	case domain.IdentifyingBodyBorderPolice:
		return "border-police"
	case domain.IdentifyingBodyMobileIdentificationUnit:
		return "miu-" + RegionSlug(r)
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

// Proceedings.

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
func (g *gen) proceed(c *casePlan) {
	if !c.spak && g.chance(0.025) {
		// Merged into another case before a proceeding was registered.
		if at := g.after(c.openedAt, 10, 90); !at.After(g.asOf) {
			g.move(c, domain.ProceedingStageMerged, at, c.police)
		}
		return
	}
	regAt := g.after(c.openedAt, 1, 25)
	if regAt.After(g.asOf) {
		return
	}
	p := &prosPlan{office: "prosecution-" + c.district.slug, registeredAt: regAt, updatedAt: regAt,
		fiCourt: "court-" + c.district.slug, apCourt: "court-appeal"}
	abbr := c.district.abbr
	if c.spak {
		p.office, p.fiCourt, p.apCourt, abbr = "spak", "special-court", "special-court-appeal", "SPAK"
	}
	key := fmt.Sprintf("%s-%d", abbr, regAt.Year())
	g.regSeq[key]++
	p.regNo = fmt.Sprintf("PR-%s-%04d", key, g.regSeq[key])
	c.pros = p
	g.charges(c)
	g.assign(c, p.office, domain.CasePartProsecuting, regAt)
	if c.spak {
		g.assign(c, "nbi", domain.CasePartInvestigating, regAt)
	}
	g.event(c, domain.CaseEventKindProsecutionRegistered, regAt, p.office, "Proceeding "+p.regNo+" registered", refProsecution, 0)
	g.move(c, domain.ProceedingStageRegistered, regAt, p.office)

	start := g.after(regAt, 0, 7)
	if start.After(g.asOf) {
		return
	}
	p.invStart = ptr(start)
	g.move(c, domain.ProceedingStageUnderInvestigation, start, p.office)
	end, ok := g.investigate(c, start)
	if !ok {
		return
	}
	g.afterInvestigation(c, end, true)
}

// investigationDays draws how long an investigation takes.
func (g *gen) investigationDays(spak bool) int {
	b := pickW(g, []weighted[[2]int]{{[2]int{60, 180}, 40}, {[2]int{181, 365}, 35}, {[2]int{366, 730}, 20}, {[2]int{731, 900}, 5}})
	d := g.between(b[0], b[1])
	if spak {
		d += 90
	}
	return d
}

// investigate runs an investigation phase that starts (or restarts) at
// start: deadline extensions, a sideways exit, the closing notice. It
// returns the closing time and whether the investigation closed.
func (g *gen) investigate(c *casePlan, start time.Time) (time.Time, bool) {
	p := c.pros
	dur := g.investigationDays(c.spak)
	end := start.AddDate(0, 0, dur).Add(time.Duration(g.r.IntN(8*60)) * time.Minute)
	plan := 0
	if dur > 90 {
		plan = min((dur-90+89)/90, 3)
	}
	if plan > 0 && g.chance(0.15) {
		plan-- // an extension not asked for in time
	}
	plan = min(plan, 3-p.extensions)
	// A sideways exit (transfer to another office, merger) ends it early.
	var exit time.Time
	exitStage := domain.ProceedingStageTransferred
	if g.chance(0.06) {
		if at := start.AddDate(0, 0, g.between(20, dur)); !at.After(g.asOf) {
			exit = at
			if g.chance(0.5) {
				exitStage = domain.ProceedingStageMerged
			}
		}
	}
	limit := end
	if g.asOf.Before(limit) {
		limit = g.asOf
	}
	if !exit.IsZero() {
		limit = exit
	}
	deadline := start.AddDate(0, 3, 0)
	for k := 0; k < plan && !deadline.After(limit); k++ {
		extAt := deadline.AddDate(0, 0, -g.between(1, 10))
		p.extensions++
		deadline = deadline.AddDate(0, 3, 0)
		g.event(c, domain.CaseEventKindDeadlineExtended, extAt, p.office,
			"Investigation deadline extended to "+deadline.Format(time.DateOnly), refProsecution, 0)
	}
	p.deadline = ptr(deadline)

	if !exit.IsZero() {
		g.move(c, exitStage, exit, p.office)
		return exit, false
	}
	if end.After(g.asOf) {
		g.reclassifyDuring(c, start, g.asOf, 0.08)
		return end, false
	}
	g.reclassifyDuring(c, start, end, 0.25)
	p.invClosed = ptr(end)
	g.move(c, domain.ProceedingStageInvestigationClosed, end, p.office)
	return end, true
}

// afterInvestigation decides what the prosecutor does with a closed
// investigation: dismiss (Art. 328), ask the court to dismiss (Art. 329/a)
// or ask for trial.
func (g *gen) afterInvestigation(c *casePlan, closed time.Time, first bool) {
	p := c.pros
	at := g.after(closed, 1, 20)
	if at.After(g.asOf) {
		return
	}
	// Calibrated so that first-instance convictions stay near 7 a year
	// (DOMAIN.md: 0–11), with most investigations dismissed.
	pTrial := 0.2
	if c.spak {
		pTrial = 0.6
	}
	if !first {
		pTrial = 0.45
	}
	u := g.r.Float64()
	switch {
	case u < pTrial:
		p.trialRequested = ptr(at)
		g.move(c, domain.ProceedingStageTrialRequested, at, p.office)
		g.trial(c, at)
	case first && u < pTrial+(1-pTrial)*0.3:
		g.move(c, domain.ProceedingStageDismissalRequested, at, p.office)
		courtAt := g.after(at, 30, 150)
		if courtAt.After(g.asOf) {
			return
		}
		if g.chance(0.85) {
			p.dismissed = ptr(courtAt)
			g.move(c, domain.ProceedingStageDismissed, courtAt, p.fiCourt)
			return
		}
		// The court sends the file back for further investigation.
		p.invClosed = nil
		g.move(c, domain.ProceedingStageUnderInvestigation, courtAt, p.fiCourt)
		end, ok := g.investigate(c, courtAt)
		if ok {
			g.afterInvestigation(c, end, false)
		}
	default:
		p.dismissed = ptr(at)
		g.move(c, domain.ProceedingStageDismissed, at, p.office)
	}
}

// trial runs the trial from the request at from: first instance, appeal,
// High Court, with at most one retrial.
func (g *gen) trial(c *casePlan, from time.Time) {
	p := c.pros
	at := from
	for round := 0; ; round++ {
		trialAt := g.after(at, 20, 90)
		if trialAt.After(g.asOf) {
			return
		}
		g.assign(c, p.fiCourt, domain.CasePartAdjudicating, trialAt)
		g.move(c, domain.ProceedingStageFirstInstanceTrial, trialAt, p.fiCourt)
		decAt := g.after(trialAt, 120, 540)
		if decAt.After(g.asOf) {
			return
		}
		fi := g.firstInstance(c, decAt)
		p.fiDecided = ptr(decAt)
		g.move(c, domain.ProceedingStageFirstInstanceDecided, decAt, p.fiCourt)
		if fi.verdict == domain.VerdictDismissed || !g.chance(0.55) {
			if fin := g.after(decAt, 30, 60); !fin.After(g.asOf) {
				g.move(c, domain.ProceedingStageFinal, fin, p.fiCourt)
			}
			return
		}
		apAt := g.after(decAt, 15, 45)
		if apAt.After(g.asOf) {
			return
		}
		g.assign(c, p.apCourt, domain.CasePartAdjudicating, apAt)
		g.move(c, domain.ProceedingStageAppeal, apAt, p.apCourt)
		apDec := g.after(apAt, 180, 540)
		if apDec.After(g.asOf) {
			return
		}
		ad := g.review(c, fi, domain.InstanceAppeal, apDec, p.apCourt, round == 0)
		p.appealDecided = ptr(apDec)
		g.move(c, domain.ProceedingStageAppealDecided, apDec, p.apCourt)
		if ad.verdict == domain.VerdictQuashedRetrial {
			// Back to trial: the stage dates describe the current round; the
			// quashing decision stays among the decisions.
			at = apDec
			p.appealDecided = nil
			continue
		}
		if g.chance(0.25) {
			hcAt := g.after(apDec, 30, 60)
			if hcAt.After(g.asOf) {
				return
			}
			g.assign(c, "high-court", domain.CasePartAdjudicating, hcAt)
			g.move(c, domain.ProceedingStageHighCourtRecourse, hcAt, "high-court")
			hcDec := g.after(hcAt, 300, 720)
			if hcDec.After(g.asOf) {
				return
			}
			g.review(c, ad, domain.InstanceHighCourt, hcDec, "high-court", false)
			g.move(c, domain.ProceedingStageFinal, hcDec, "high-court")
			return
		}
		if fin := g.after(apDec, 30, 60); !fin.After(g.asOf) {
			g.move(c, domain.ProceedingStageFinal, fin, p.apCourt)
		}
		return
	}
}

// charges brings the initial charges against every defendant.
func (g *gen) charges(c *casePlan) {
	p := c.pros
	main := domain.ArticleCc110a
	if c.minors {
		main = domain.ArticleCc128b
	}
	for j, s := range c.suspects {
		art := main
		switch s.role {
		case domain.SuspectRoleClient:
			art = domain.ArticleCc110b
		case domain.SuspectRoleFacilitator, domain.SuspectRoleTransporter:
			if g.chance(0.5) {
				art = domain.ArticleCc110c
			}
		}
		p.charges = append(p.charges, &chargePlan{article: art, suspect: j, created: p.registeredAt, updated: p.registeredAt})
		if j == 0 && c.minors && c.adults && g.chance(0.5) {
			p.charges = append(p.charges, &chargePlan{article: domain.ArticleCc110a, suspect: j, created: p.registeredAt, updated: p.registeredAt})
		}
	}
}

// reclassifyDuring reclassifies each trafficking charge (110/a, 128/b) with
// probability prob at a time between from and to.
func (g *gen) reclassifyDuring(c *casePlan, from, to time.Time, prob float64) {
	for i, ch := range c.pros.charges {
		if ch.from != nil || (ch.article != domain.ArticleCc110a && ch.article != domain.ArticleCc128b) || !g.chance(prob) {
			continue
		}
		span := to.Sub(from)
		at := from.Add(time.Duration(g.r.Int64N(int64(span) + 1)))
		g.reclassify(c, i, at, c.pros.office)
	}
}

func (g *gen) reclassify(c *casePlan, i int, at time.Time, agency string) {
	ch := c.pros.charges[i]
	from := ch.article
	var to domain.Article
	switch from {
	case domain.ArticleCc110a:
		to = pickW(g, []weighted[domain.Article]{{domain.ArticleCc114, 40}, {domain.ArticleCc114a, 40}, {domain.ArticleCc115, 20}})
	case domain.ArticleCc128b:
		to = pickW(g, []weighted[domain.Article]{{domain.ArticleCc124b, 60}, {domain.ArticleCc114a, 40}})
	default:
		to = pickW(g, []weighted[domain.Article]{{domain.ArticleCc114, 70}, {domain.ArticleOther, 30}})
	}
	ch.from, ch.article, ch.at, ch.updated = ptr(from), to, ptr(at), at
	g.event(c, domain.CaseEventKindChargeReclassified, at, agency,
		fmt.Sprintf("Charge reclassified from %s to %s", from, to), refCharge, i)
}

// statutory is the range of imprisonment, in months, of each article.
func statutory(a domain.Article) (lo, hi int) {
	switch a {
	case domain.ArticleCc110a:
		return 96, 180
	case domain.ArticleCc128b:
		return 120, 240
	case domain.ArticleCc110b:
		return 36, 84
	case domain.ArticleCc110c:
		return 60, 120
	case domain.ArticleCc114:
		return 24, 60
	case domain.ArticleCc114a:
		return 60, 150
	case domain.ArticleCc115:
		return 36, 120
	case domain.ArticleCc124b:
		return 6, 36
	}
	return 12, 60
}

// severity orders the trafficking articles for picking the main charge.
var severity = []domain.Article{domain.ArticleCc128b, domain.ArticleCc110a, domain.ArticleCc110c, domain.ArticleCc110b}

func (g *gen) firstInstance(c *casePlan, at time.Time) *decisionPlan {
	p := c.pros
	reclassified := slices.ContainsFunc(p.charges, func(ch *chargePlan) bool { return ch.from != nil })
	var v domain.Verdict
	u := g.r.Float64()
	if reclassified {
		v = domain.VerdictConvictedOfLesserOffence
		if u >= 0.9 {
			v = domain.VerdictConvicted
		} else if u >= 0.7 {
			v = domain.VerdictAcquitted
		}
	} else {
		switch {
		case u < 0.5:
			v = domain.VerdictConvicted
		case u < 0.68:
			v = domain.VerdictConvictedOfLesserOffence
		case u < 0.95:
			v = domain.VerdictAcquitted
		default:
			v = domain.VerdictDismissed
		}
	}
	convicting := v == domain.VerdictConvicted || v == domain.VerdictConvictedOfLesserOffence
	if convicting && g.convictions[at.Year()] >= 11*g.scale {
		v, convicting = domain.VerdictAcquitted, false
	}
	d := &decisionPlan{instance: domain.InstanceFirstInstance, decidedOn: at, verdict: v, court: p.fiCourt}
	if convicting {
		g.convictions[at.Year()]++
		if v == domain.VerdictConvictedOfLesserOffence && !reclassified {
			// The court requalifies the main charge.
			g.reclassify(c, 0, at, p.fiCourt)
		}
		d.article = mainArticle(p, v)
		g.sentence(d, v)
	}
	p.decisions = append(p.decisions, d)
	g.event(c, domain.CaseEventKindCourtDecisionRecorded, at, p.fiCourt,
		"First-instance decision recorded: "+string(v), refDecision, len(p.decisions)-1)
	return d
}

// mainArticle is the article a sentence is measured against: the lesser
// offence for a conviction of it, else the most serious trafficking charge.
func mainArticle(p *prosPlan, v domain.Verdict) domain.Article {
	if v == domain.VerdictConvictedOfLesserOffence {
		for _, ch := range p.charges {
			if ch.from != nil {
				return ch.article
			}
		}
	}
	for _, a := range severity {
		for _, ch := range p.charges {
			if ch.article == a {
				return a
			}
		}
	}
	return p.charges[0].article
}

func (g *gen) sentence(d *decisionPlan, v domain.Verdict) {
	lo, hi := statutory(d.article)
	kind := domain.SentenceKindImprisonment
	u := g.r.Float64()
	if v == domain.VerdictConvicted {
		if u < 0.08 {
			kind = domain.SentenceKindSuspendedOrProbation
		}
	} else {
		switch {
		case u < 0.3:
			kind = domain.SentenceKindSuspendedOrProbation
		case u < 0.4:
			kind = domain.SentenceKindFine
		}
	}
	d.sentenceKind = ptr(kind)
	switch kind {
	case domain.SentenceKindImprisonment:
		x := g.r.Float64()
		d.months = ptr(lo + int(float64(hi-lo)*x*x))
	case domain.SentenceKindSuspendedOrProbation:
		d.months = ptr(lo + g.r.IntN((hi-lo)/4+1))
	}
	if g.chance(0.25) {
		d.compensation = ptr(int64(g.between(30, 300)) * 10_000)
		d.paid = g.chance(0.12)
	}
}

// review is an appeal or High Court decision on decision prev.
func (g *gen) review(c *casePlan, prev *decisionPlan, inst domain.Instance, at time.Time, court string, mayQuash bool) *decisionPlan {
	p := c.pros
	d := &decisionPlan{instance: inst, decidedOn: at, court: court, article: prev.article}
	ws := []weighted[domain.Verdict]{{domain.VerdictUpheld, 60}, {domain.VerdictAmended, 25}}
	if inst == domain.InstanceHighCourt {
		ws = []weighted[domain.Verdict]{{domain.VerdictUpheld, 85}, {domain.VerdictAmended, 15}}
	}
	if mayQuash {
		ws = append(ws, weighted[domain.Verdict]{domain.VerdictQuashedRetrial, 15})
	}
	d.verdict = pickW(g, ws)
	switch {
	case d.verdict == domain.VerdictUpheld:
		d.sentenceKind, d.months, d.compensation, d.paid = prev.sentenceKind, prev.months, prev.compensation, prev.paid
	case d.verdict == domain.VerdictAmended && prev.sentenceKind != nil:
		d.sentenceKind, d.compensation, d.paid = prev.sentenceKind, prev.compensation, prev.paid
		if prev.months != nil {
			lo, _ := statutory(prev.article)
			d.months = ptr(max(lo, *prev.months*g.between(70, 90)/100))
		}
	case d.verdict == domain.VerdictAmended:
		// An acquittal amended into a conviction.
		d.article = mainArticle(p, domain.VerdictConvicted)
		g.sentence(d, domain.VerdictConvicted)
	}
	p.decisions = append(p.decisions, d)
	label := "Appeal"
	if inst == domain.InstanceHighCourt {
		label = "High Court"
	}
	g.event(c, domain.CaseEventKindCourtDecisionRecorded, at, court,
		label+" decision recorded: "+string(d.verdict), refDecision, len(p.decisions)-1)
	return d
}

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

// serviceDays is how long a kind of service lasts.
func serviceDays(k domain.ServiceKind) (lo, hi int) {
	switch k {
	case domain.ServiceKindShelter:
		return 30, 300
	case domain.ServiceKindMedical:
		return 7, 90
	case domain.ServiceKindLegalAid, domain.ServiceKindCompensationSupport, domain.ServiceKindWitnessProtection:
		return 90, 540
	case domain.ServiceKindInterpretation, domain.ServiceKindRepatriation, domain.ServiceKindFamilyAssessment:
		return 7, 60
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
	for _, s := range domain.AgencyKind("").Values() {
		ak := domain.AgencyKind(s)
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
