package demo

import (
	"fmt"
	"slices"
	"time"

	"github.com/casegraph/casegraph/domain"
)

// Proceedings.

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
	p := &prosPlan{office: "prosecution-" + c.district.Slug, registeredAt: regAt, updatedAt: regAt,
		fiCourt: "court-" + c.district.Slug, apCourt: "court-appeal"}
	abbr := c.district.Abbr
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
	deadline := domain.AddMonthsInTirana(start, domain.InvestigationDeadlineMonths)
	for k := 0; k < plan && !deadline.After(limit); k++ {
		extAt := deadline.AddDate(0, 0, -g.between(1, 10))
		p.extensions++
		deadline = domain.AddMonthsInTirana(deadline, domain.InvestigationDeadlineMonths)
		g.event(c, domain.CaseEventKindDeadlineExtended, extAt, p.office,
			"Investigation deadline extended to "+domain.DayInTirana(deadline), refProsecution, 0)
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
	// (docs/domain.md: 0–11), with most investigations dismissed.
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
		p.dismissalRequested = ptr(at)
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
		decAt, ok := g.hearing(c, p.fiCourt, domain.ProceedingStageFirstInstanceTrial, at, 20, 90, 120, 540)
		if !ok {
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
		apDec, ok := g.hearing(c, p.apCourt, domain.ProceedingStageAppeal, decAt, 15, 45, 180, 540)
		if !ok {
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
			hcDec, ok := g.hearing(c, "high-court", domain.ProceedingStageHighCourtRecourse, apDec, 30, 60, 300, 720)
			if !ok {
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

// hearing: court takes the case up (it is assigned as adjudicating and the
// proceeding moves to stage) between lo and hi days after from, and decides
// between dlo and dhi days after that. ok is false, the decision not yet
// come, when either date falls after the day the simulation ends.
func (g *gen) hearing(c *casePlan, court string, stage domain.ProceedingStage, from time.Time, lo, hi, dlo, dhi int) (decided time.Time, ok bool) {
	at := g.after(from, lo, hi)
	if at.After(g.asOf) {
		return time.Time{}, false
	}
	g.assign(c, court, domain.CasePartAdjudicating, at)
	g.move(c, stage, at, court)
	decided = g.after(at, dlo, dhi)
	return decided, !decided.After(g.asOf)
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
		// To the minute, as every other time of the demo: PostgreSQL
		// keeps microseconds and SQLite nanoseconds, and the same demo
		// must be the same rows on both (TestDemoSameOnBothDatabases).
		at := from.Add(time.Duration(g.r.Int64N(int64(span) + 1))).Truncate(time.Minute)
		if at.Before(from) {
			at = from
		}
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

// statutoryMonths is the range of imprisonment, in months, of each article
// (a lesser offence's, and the trafficking articles': docs/domain.md).
var statutoryMonths = map[domain.Article][2]int{
	domain.ArticleCc110a: {96, 180}, domain.ArticleCc128b: {120, 240}, domain.ArticleCc110b: {36, 84},
	domain.ArticleCc110c: {60, 120}, domain.ArticleCc114: {24, 60}, domain.ArticleCc114a: {60, 150},
	domain.ArticleCc115: {36, 120}, domain.ArticleCc124b: {6, 36},
}

// statutory is the range of imprisonment, in months, of article a; one to
// five years for any other.
func statutory(a domain.Article) (lo, hi int) {
	if r, ok := statutoryMonths[a]; ok {
		return r[0], r[1]
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
		v = drawn(u, domain.VerdictConvicted, []below[domain.Verdict]{
			{0.7, domain.VerdictConvictedOfLesserOffence}, {0.9, domain.VerdictAcquitted}})
	} else {
		v = drawn(u, domain.VerdictDismissed, []below[domain.Verdict]{
			{0.5, domain.VerdictConvicted}, {0.68, domain.VerdictConvictedOfLesserOffence}, {0.95, domain.VerdictAcquitted}})
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
	suspendedOrFine := []below[domain.SentenceKind]{{0.3, domain.SentenceKindSuspendedOrProbation}, {0.4, domain.SentenceKindFine}}
	if v == domain.VerdictConvicted {
		suspendedOrFine = []below[domain.SentenceKind]{{0.08, domain.SentenceKindSuspendedOrProbation}}
	}
	kind := drawn(g.r.Float64(), domain.SentenceKindImprisonment, suspendedOrFine)
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

// reviewsNamedYears is how many years before the demo's end reviews
// begin to name the decision they review (reviewedDecisionID,
// docs/domain.md): the later ones name it, as courts' decisions say what
// they review, and the older ones name none, as records stored before a
// review could name one do, so that the demo holds reviews read both
// ways.
const reviewsNamedYears = 2

// namesReviewed reports whether a review decided at names the decision it
// reviews. It draws nothing: the rest of the demo is what it was before
// reviews named one.
func (g *gen) namesReviewed(at time.Time) bool {
	return !at.Before(g.asOf.AddDate(-reviewsNamedYears, 0, 0))
}

// review is an appeal or High Court decision on decision prev, which it
// names as the one it reviews when namesReviewed says so (prev is always
// the decision the inferred rule would take: the latest of the reviewed
// instance, a retrial's after the review that quashed the first).
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
	if g.namesReviewed(at) {
		d.reviewed = ptr(slices.Index(p.decisions, prev))
	}
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
