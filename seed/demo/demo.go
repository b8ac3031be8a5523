package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/seed"

	// The schema's privacy policies and defaults are registered by the
	// runtime package; without it every query fails.
	_ "github.com/casegraph/casegraph/ent/runtime"
	"github.com/casegraph/casegraph/viewer"
)

// Options of Load.
type Options struct {
	// Scale multiplies the yearly volumes; 1 means real Albanian volumes. It
	// must be at least 1.
	Scale int
	// Seed seeds the generator: the same seed, scale and Today give the
	// same data.
	Seed int64
	// Today anchors the demo: it holds HistoryYears whole years before
	// Today's year and that year up to the day before Today (UTC; the time
	// of day does not matter). Zero means the current date, so the demo is
	// never out of date; pass a date to reproduce a demo exactly.
	Today time.Time
}

// Stats counts what Load wrote. Agencies is the number of agencies of
// seed.AgencyRegistry, all of which exist afterwards.
type Stats struct {
	Agencies, Cases, Victims, Suspects, Prosecutions, Charges, Decisions, Referrals, Services, Consents, Events int
}

// ErrNotEmpty is returned by Load when the database already holds cases.
var ErrNotEmpty = errors.New("seed: the database already holds cases")

// batchSize is the number of rows of one INSERT: the widest table (victims,
// 25 columns) stays far below SQLite's 32766 and PostgreSQL's 65535 bound
// parameters.
const batchSize = 500

// IsEmpty reports whether the database holds no case (`make run` seeds it
// once, when it is empty).
func IsEmpty(ctx context.Context, client *ent.Client) (bool, error) {
	exists, err := client.CaseFile.Query().Exist(viewer.SystemContext(ctx))
	if err != nil {
		return false, fmt.Errorf("seed: looking for cases: %w", err)
	}
	return !exists, nil
}

// Load creates the agencies of seed.AgencyRegistry (see seed.Agencies) and
// HistoryYears whole years, and the current year so far, of synthetic
// cases, victims, suspects, proceedings, court decisions, referrals,
// services, consents and case events, at opts.Scale times the Albanian
// volumes of docs/domain.md, as of opts.Today (see Years and AsOf).
// It returns ErrNotEmpty when the database already holds cases, and an
// error when opts.Scale < 1.
//
// It writes all of it in one transaction: a load that fails or is
// interrupted (its context ended, the process killed) keeps nothing, so
// the database still holds no case and the next Load writes the whole
// demo. Written a year at a time, an interrupted load kept the years
// already committed, and every later start took that part for the demo.
func Load(ctx context.Context, client *ent.Client, opts Options) (st Stats, err error) {
	if opts.Scale < 1 {
		return st, fmt.Errorf("seed: scale must be at least 1, got %d", opts.Scale)
	}
	ctx = viewer.SystemContext(ctx)
	tx, err := client.Tx(ctx)
	if err != nil {
		return st, fmt.Errorf("seed: starting transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
			st = Stats{}
			if ent.IsConstraintError(err) {
				// Another load wrote the same keys (agency codes, case
				// references) first: on PostgreSQL two loads each read an
				// empty database in their own transaction, and the second
				// waits on the first's keys until it commits (a review).
				// If the first's demo is there, this one found it.
				if empty, _ := IsEmpty(ctx, client); !empty {
					err = ErrNotEmpty
				}
			}
		}
	}()
	empty, err := IsEmpty(ctx, tx.Client())
	if err != nil {
		return st, err
	}
	if !empty {
		return st, ErrNotEmpty
	}
	agencies, err := seed.AgencyIDs(ctx, tx)
	if err != nil {
		return st, err
	}
	st.Agencies = len(agencies)

	today := opts.Today
	if today.IsZero() {
		today = time.Now()
	}
	g := newGen(opts.Seed, opts.Scale, today)
	first, last := Years(today)
	for y := first; y <= last; y++ {
		plan := g.year(y)
		if len(plan.cases) == 0 {
			continue // the first day of a year: nothing yet
		}
		if err := writeYear(ctx, tx, plan, agencies, &st); err != nil {
			return st, fmt.Errorf("seed: year %d: %w", y, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("seed: committing the demo data: %w", err)
	}
	return st, nil
}

// insertBatches builds n rows with mk and saves them batchSize at a time;
// got receives each saved node with its index.
func insertBatches[B, N any](ctx context.Context, n int, mk func(i int) B,
	save func(context.Context, []B) ([]N, error), got func(i int, node N)) error {
	bs := make([]B, 0, min(n, batchSize))
	for start := 0; start < n; start += batchSize {
		end := min(start+batchSize, n)
		bs = bs[:0]
		for i := start; i < end; i++ {
			bs = append(bs, mk(i))
		}
		nodes, err := save(ctx, bs)
		if err != nil {
			return err
		}
		if got != nil {
			for k, node := range nodes {
				got(start+k, node)
			}
		}
	}
	return nil
}

// index pairs address a row that belongs to a case (or a victim).
type pair struct{ a, b int }

// pairsOf lists, for each of n parents in order, a pair (parent, child) for
// each of its count(parent) children in order.
func pairsOf(n int, count func(parent int) int) []pair {
	var ps []pair
	for a := range n {
		for b := range count(a) {
			ps = append(ps, pair{a, b})
		}
	}
	return ps
}

func writeYear(ctx context.Context, tx *ent.Tx, p *yearPlan, agencies map[string]int, st *Stats) error {
	id := func(code string) int {
		v, ok := agencies[code]
		if !ok {
			panic("seed: agency " + code + " is not in seed.AgencyRegistry")
		}
		return v
	}

	// Victims.
	victimIDs := make([]int, len(p.victims))
	err := insertBatches(ctx, len(p.victims), func(i int) *ent.VictimCreate {
		v := p.victims[p.victimOrder[i]]
		return tx.Victim.Create().
			SetCreatedAt(v.identifiedAt).SetUpdatedAt(v.updatedAt).
			SetPseudonym(v.pseudonym).SetSex(v.sex).SetAgeGroup(v.ageGroup).
			SetIdentificationStatus(v.status).SetIdentifiedBy(v.identifiedBy).SetIdentifiedAt(v.identifiedAt).
			SetFormsOfExploitation(v.forms).SetRegion(v.region).SetForeignNational(v.foreign).
			SetLegalName(v.legalName).SetDateOfBirth(v.dob).SetNillablePersonalNumber(v.personalNumber).
			SetNationality(v.nationality).SetExactAge(v.age).SetNillablePhone(v.phone).SetNillableAddress(v.address).
			SetNillableHealthNotes(v.health).SetNillableTestimonySummary(v.testimony).SetNillableShelterLocation(v.shelter)
	}, func(ctx context.Context, bs []*ent.VictimCreate) ([]*ent.Victim, error) {
		return tx.Victim.CreateBulk(bs...).Save(ctx)
	}, func(i int, v *ent.Victim) { victimIDs[p.victimOrder[i]] = v.ID })
	if err != nil {
		return fmt.Errorf("victims: %w", err)
	}
	st.Victims += len(p.victims)

	// Cases.
	caseIDs := make([]int, len(p.cases))
	err = insertBatches(ctx, len(p.cases), func(i int) *ent.CaseFileCreate {
		c := p.cases[i]
		return tx.CaseFile.Create().
			SetCreatedAt(c.openedAt).SetUpdatedAt(c.updatedAt).
			SetReference(c.reference).SetTitle(c.title).SetStage(c.stage).SetFormsOfExploitation(c.forms).
			SetRegion(c.region).SetOpenedAt(c.openedAt).SetNillableClosedAt(c.closedAt).SetLeadAgencyID(id(c.lead))
	}, func(ctx context.Context, bs []*ent.CaseFileCreate) ([]*ent.CaseFile, error) {
		return tx.CaseFile.CreateBulk(bs...).Save(ctx)
	}, func(i int, c *ent.CaseFile) { caseIDs[i] = c.ID })
	if err != nil {
		return fmt.Errorf("cases: %w", err)
	}
	st.Cases += len(p.cases)

	// Links of victims to cases.
	links := pairsOf(len(p.cases), func(ci int) int { return len(p.cases[ci].links) })
	err = insertBatches(ctx, len(links), func(i int) *ent.CaseVictimCreate {
		l := p.cases[links[i].a].links[links[i].b]
		return tx.CaseVictim.Create().SetCaseID(caseIDs[links[i].a]).SetVictimID(victimIDs[l.victim]).SetLinkedAt(l.at)
	}, func(ctx context.Context, bs []*ent.CaseVictimCreate) ([]*ent.CaseVictim, error) {
		return tx.CaseVictim.CreateBulk(bs...).Save(ctx)
	}, nil)
	if err != nil {
		return fmt.Errorf("case victims: %w", err)
	}

	// Assignments.
	assigns := pairsOf(len(p.cases), func(ci int) int { return len(p.cases[ci].assignments) })
	err = insertBatches(ctx, len(assigns), func(i int) *ent.CaseAssignmentCreate {
		a := p.cases[assigns[i].a].assignments[assigns[i].b]
		return tx.CaseAssignment.Create().SetCreatedAt(a.at).SetUpdatedAt(a.at).
			SetCaseID(caseIDs[assigns[i].a]).SetAgencyID(id(a.agency)).SetPart(a.part).SetAssignedAt(a.at)
	}, func(ctx context.Context, bs []*ent.CaseAssignmentCreate) ([]*ent.CaseAssignment, error) {
		return tx.CaseAssignment.CreateBulk(bs...).Save(ctx)
	}, nil)
	if err != nil {
		return fmt.Errorf("assignments: %w", err)
	}

	// Suspects.
	var suspects []pair
	suspectIDs := make([][]int, len(p.cases))
	for ci, c := range p.cases {
		suspectIDs[ci] = make([]int, len(c.suspects))
		for si := range c.suspects {
			suspects = append(suspects, pair{ci, si})
		}
	}
	err = insertBatches(ctx, len(suspects), func(i int) *ent.SuspectCreate {
		ci := suspects[i].a
		s := p.cases[ci].suspects[suspects[i].b]
		return tx.Suspect.Create().SetCreatedAt(s.createdAt).SetUpdatedAt(s.createdAt).
			SetPseudonym(s.pseudonym).SetSex(s.sex).SetNationality(s.nationality).SetRole(s.role).
			SetCaseID(caseIDs[ci]).SetLegalName(s.legalName).SetNillablePersonalNumber(s.personalNumber)
	}, func(ctx context.Context, bs []*ent.SuspectCreate) ([]*ent.Suspect, error) {
		return tx.Suspect.CreateBulk(bs...).Save(ctx)
	}, func(i int, s *ent.Suspect) { suspectIDs[suspects[i].a][suspects[i].b] = s.ID })
	if err != nil {
		return fmt.Errorf("suspects: %w", err)
	}
	st.Suspects += len(suspects)

	// Prosecutions, their defendants, charges and decisions.
	var pros []int // case indices
	for ci, c := range p.cases {
		if c.pros != nil {
			pros = append(pros, ci)
		}
	}
	prosIDs := make([]int, len(p.cases))
	err = insertBatches(ctx, len(pros), func(i int) *ent.ProsecutionCreate {
		ci := pros[i]
		r := p.cases[ci].pros
		return tx.Prosecution.Create().SetCreatedAt(r.registeredAt).SetUpdatedAt(r.updatedAt).
			SetRegistrationNumber(r.regNo).SetStage(r.stage).SetRegisteredAt(r.registeredAt).
			SetNillableInvestigationDeadline(r.deadline).SetDeadlineExtensions(r.extensions).
			SetNillableInvestigationStartedAt(r.invStart).SetNillableInvestigationClosedAt(r.invClosed).
			SetNillableDismissalRequestedAt(r.dismissalRequested).SetNillableTrialRequestedAt(r.trialRequested).SetNillableDismissedAt(r.dismissed).
			SetNillableFirstInstanceDecidedAt(r.fiDecided).SetNillableAppealDecidedAt(r.appealDecided).
			SetNillableClosedAt(r.closed).SetCaseID(caseIDs[ci]).SetOfficeID(id(r.office))
	}, func(ctx context.Context, bs []*ent.ProsecutionCreate) ([]*ent.Prosecution, error) {
		return tx.Prosecution.CreateBulk(bs...).Save(ctx)
	}, func(i int, r *ent.Prosecution) { prosIDs[pros[i]] = r.ID })
	if err != nil {
		return fmt.Errorf("prosecutions: %w", err)
	}
	st.Prosecutions += len(pros)

	var defendants []pair
	for _, ci := range pros {
		for si := range p.cases[ci].suspects {
			defendants = append(defendants, pair{ci, si})
		}
	}
	err = insertBatches(ctx, len(defendants), func(i int) *ent.ProsecutionDefendantCreate {
		d := defendants[i]
		return tx.ProsecutionDefendant.Create().SetProsecutionID(prosIDs[d.a]).SetSuspectID(suspectIDs[d.a][d.b])
	}, func(ctx context.Context, bs []*ent.ProsecutionDefendantCreate) ([]*ent.ProsecutionDefendant, error) {
		return tx.ProsecutionDefendant.CreateBulk(bs...).Save(ctx)
	}, nil)
	if err != nil {
		return fmt.Errorf("defendants: %w", err)
	}

	var charges, decisions []pair
	chargeIDs := make([][]int, len(p.cases))
	decisionIDs := make([][]int, len(p.cases))
	for _, ci := range pros {
		r := p.cases[ci].pros
		chargeIDs[ci] = make([]int, len(r.charges))
		decisionIDs[ci] = make([]int, len(r.decisions))
		for k := range r.charges {
			charges = append(charges, pair{ci, k})
		}
		for k := range r.decisions {
			decisions = append(decisions, pair{ci, k})
		}
	}
	err = insertBatches(ctx, len(charges), func(i int) *ent.ChargeCreate {
		ci := charges[i].a
		ch := p.cases[ci].pros.charges[charges[i].b]
		return tx.Charge.Create().SetCreatedAt(ch.created).SetUpdatedAt(ch.updated).
			SetArticle(ch.article).SetNillableReclassifiedFrom(ch.from).SetNillableReclassifiedAt(ch.at).
			SetProsecutionID(prosIDs[ci]).SetSuspectID(suspectIDs[ci][ch.suspect])
	}, func(ctx context.Context, bs []*ent.ChargeCreate) ([]*ent.Charge, error) {
		return tx.Charge.CreateBulk(bs...).Save(ctx)
	}, func(i int, ch *ent.Charge) { chargeIDs[charges[i].a][charges[i].b] = ch.ID })
	if err != nil {
		return fmt.Errorf("charges: %w", err)
	}
	st.Charges += len(charges)

	// A review names the decision it reviews by its id: the decisions are
	// written an instance at a time, first instance first, so that the
	// decision a review names is written before it (domain.Instance.Depth).
	// Within an instance they keep their order, which is the order of
	// recording the inferred rule reads among the decisions of one date.
	for depth := range domain.ReviewDepth() + 1 {
		atDepth := slices.DeleteFunc(slices.Clone(decisions), func(x pair) bool {
			return p.cases[x.a].pros.decisions[x.b].instance.Depth() != depth
		})
		err = insertBatches(ctx, len(atDepth), func(i int) *ent.CourtDecisionCreate {
			ci := atDepth[i].a
			d := p.cases[ci].pros.decisions[atDepth[i].b]
			b := tx.CourtDecision.Create().SetCreatedAt(d.decidedOn).SetUpdatedAt(d.decidedOn).
				SetInstance(d.instance).SetDecidedOn(d.decidedOn).SetVerdict(d.verdict).
				SetNillableSentenceKind(d.sentenceKind).SetNillableSentenceMonths(d.months).
				SetNillableCompensationOrderedLek(d.compensation).SetCompensationPaid(d.paid).
				SetProsecutionID(prosIDs[ci]).SetCourtID(id(d.court))
			if d.reviewed != nil {
				b.SetReviewedDecisionID(decisionIDs[ci][*d.reviewed])
			}
			return b
		}, func(ctx context.Context, bs []*ent.CourtDecisionCreate) ([]*ent.CourtDecision, error) {
			return tx.CourtDecision.CreateBulk(bs...).Save(ctx)
		}, func(i int, d *ent.CourtDecision) { decisionIDs[atDepth[i].a][atDepth[i].b] = d.ID })
		if err != nil {
			return fmt.Errorf("court decisions: %w", err)
		}
	}
	st.Decisions += len(decisions)

	// Referrals and the services that followed them.
	referrals := pairsOf(len(p.victims), func(vi int) int { return len(p.victims[vi].referrals) })
	slices.SortStableFunc(referrals, func(a, b pair) int {
		return p.victims[a.a].referrals[a.b].referredAt.Compare(p.victims[b.a].referrals[b.b].referredAt)
	})
	err = insertBatches(ctx, len(referrals), func(i int) *ent.ReferralCreate {
		v := p.victims[referrals[i].a]
		r := v.referrals[referrals[i].b]
		last := r.history[len(r.history)-1].At
		return tx.Referral.Create().SetCreatedAt(r.referredAt).SetUpdatedAt(last).
			SetServiceKind(r.kind).SetStatus(r.status).SetStatusHistory(r.history).SetReferredAt(r.referredAt).
			SetVictimID(victimIDs[referrals[i].a]).SetCaseID(caseIDs[v.primaryCase]).
			SetFromAgencyID(id(r.from)).SetToAgencyID(id(r.to))
	}, func(ctx context.Context, bs []*ent.ReferralCreate) ([]*ent.Referral, error) {
		return tx.Referral.CreateBulk(bs...).Save(ctx)
	}, nil)
	if err != nil {
		return fmt.Errorf("referrals: %w", err)
	}
	st.Referrals += len(referrals)

	var services []pair
	for _, rp := range referrals {
		if p.victims[rp.a].referrals[rp.b].service != nil {
			services = append(services, rp)
		}
	}
	slices.SortStableFunc(services, func(a, b pair) int {
		return p.victims[a.a].referrals[a.b].service.started.Compare(p.victims[b.a].referrals[b.b].service.started)
	})
	err = insertBatches(ctx, len(services), func(i int) *ent.SupportServiceCreate {
		r := p.victims[services[i].a].referrals[services[i].b]
		s := r.service
		updated := s.started
		if s.ended != nil {
			updated = *s.ended
		}
		return tx.SupportService.Create().SetCreatedAt(s.started).SetUpdatedAt(updated).
			SetKind(r.kind).SetStartedOn(s.started).SetNillableEndedOn(s.ended).SetNillableNotes(s.notes).
			SetVictimID(victimIDs[services[i].a]).SetProviderID(id(r.to))
	}, func(ctx context.Context, bs []*ent.SupportServiceCreate) ([]*ent.SupportService, error) {
		return tx.SupportService.CreateBulk(bs...).Save(ctx)
	}, nil)
	if err != nil {
		return fmt.Errorf("support services: %w", err)
	}
	st.Services += len(services)

	// Consents.
	var consents []int
	consentIDs := make([]int, len(p.victims))
	for _, vi := range p.victimOrder {
		if p.victims[vi].consent != nil {
			consents = append(consents, vi)
		}
	}
	slices.SortStableFunc(consents, func(a, b int) int {
		return p.victims[a].consent.givenAt.Compare(p.victims[b].consent.givenAt)
	})
	err = insertBatches(ctx, len(consents), func(i int) *ent.ConsentCreate {
		k := p.victims[consents[i]].consent
		updated := k.givenAt
		if k.withdrawnAt != nil {
			updated = *k.withdrawnAt
		}
		return tx.Consent.Create().SetCreatedAt(k.givenAt).SetUpdatedAt(updated).
			SetAgencyKinds(k.kinds).SetPurposes(k.purposes).SetGivenBy(k.givenBy).SetGivenAt(k.givenAt).
			SetNillableWithdrawnAt(k.withdrawnAt).SetRecordedBy(k.recordedBy).
			SetVictimID(victimIDs[consents[i]]).SetRecordedByAgencyID(id(k.agency))
	}, func(ctx context.Context, bs []*ent.ConsentCreate) ([]*ent.Consent, error) {
		return tx.Consent.CreateBulk(bs...).Save(ctx)
	}, func(i int, k *ent.Consent) { consentIDs[consents[i]] = k.ID })
	if err != nil {
		return fmt.Errorf("consents: %w", err)
	}
	st.Consents += len(consents)

	// Case events, last: they name the records they are about.
	events := pairsOf(len(p.cases), func(ci int) int { return len(p.cases[ci].events) })
	slices.SortStableFunc(events, func(a, b pair) int {
		return p.cases[a.a].events[a.b].at.Compare(p.cases[b.a].events[b.b].at)
	})
	err = insertBatches(ctx, len(events), func(i int) *ent.CaseEventCreate {
		ci := events[i].a
		e := p.cases[ci].events[events[i].b]
		b := tx.CaseEvent.Create().SetCreatedAt(e.at).SetUpdatedAt(e.at).
			SetKind(e.kind).SetAt(e.at).SetActorSubject(e.actor).SetSummary(e.summary).
			SetCaseID(caseIDs[ci]).SetActorAgencyID(id(e.agency))
		switch e.ref {
		case refProsecution:
			b.SetSubjectID(strconv.Itoa(prosIDs[ci]))
		case refCharge:
			b.SetSubjectID(strconv.Itoa(chargeIDs[ci][e.idx]))
		case refDecision:
			b.SetSubjectID(strconv.Itoa(decisionIDs[ci][e.idx]))
		case refConsent: // about the consent's victim: row scope hides it with them
			b.SetSubjectID(strconv.Itoa(consentIDs[e.idx])).SetSubjectVictimID(victimIDs[e.idx])
		default:
			b.SetSubjectID(strconv.Itoa(caseIDs[ci]))
		}
		return b
	}, func(ctx context.Context, bs []*ent.CaseEventCreate) ([]*ent.CaseEvent, error) {
		return tx.CaseEvent.CreateBulk(bs...).Save(ctx)
	}, nil)
	if err != nil {
		return fmt.Errorf("case events: %w", err)
	}
	st.Events += len(events)
	return nil
}
