package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/seed"
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
	// keep them within docs/domain.md's 0–11 a year (times scale).
	convictions map[int]int
	// regSeq numbers registrations by office and year.
	regSeq map[string]int
	kinds  map[string]domain.AgencyKind
}

// newGen returns the generator of the demo with random seed randSeed.
func newGen(randSeed int64, scale int, today time.Time) *gen {
	kinds := make(map[string]domain.AgencyKind, len(seed.AgencyRegistry))
	for _, d := range seed.AgencyRegistry {
		kinds[d.Code] = d.Kind
	}
	return &gen{
		r:           rand.New(rand.NewPCG(uint64(randSeed), uint64(randSeed)^seedMix)),
		scale:       scale,
		asOf:        AsOf(today),
		convictions: map[int]int{},
		regSeq:      map[string]int{},
		kinds:       kinds,
	}
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

// below is a step of a distribution drawn from a uniform number u: v when
// u is below until and not below the step before.
type below[T any] struct {
	until float64
	v     T
}

// drawn is the value of the first step u is below, else otherwise.
func drawn[T any](u float64, otherwise T, steps []below[T]) T {
	for _, s := range steps {
		if u < s.until {
			return s.v
		}
	}
	return otherwise
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
