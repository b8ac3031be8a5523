package casework

import (
	"context"
	"maps"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/consent"
	"github.com/casegraph/casegraph/ent/predicate"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// registerVictimRequest is what an idempotent registerVictim is keyed on.
type registerVictimRequest struct {
	Input   ent.CreateVictimInput
	CaseIDs []int
}

// RegisterVictim registers a victim and links them to caseIDs. Returns
// CONFLICT when the pseudonym is taken, BAD_USER_INPUT for an unknown case.
func RegisterVictim(ctx context.Context, c *ent.Client, in ent.CreateVictimInput, caseIDs []int, key *string) (*ent.Victim, error) {
	return idempotent(ctx, c, "registerVictim", key, registerVictimRequest{in, caseIDs}, c.Victim.Get, func() (int, error) {
		if err := validateExploitation(in.FormsOfExploitation); err != nil {
			return 0, err
		}
		if err := agesAgree(domain.Age{Group: in.AgeGroup, Exact: in.ExactAge, Birth: in.DateOfBirth, IdentifiedAt: in.IdentifiedAt}); err != nil {
			return 0, err
		}
		for _, cid := range caseIDs {
			if err := reference(ctx, aCase(c, "caseIDs", cid)); err != nil {
				return 0, err
			}
		}
		v, err := createUnique(ctx, "registerVictim", c.Victim.Create().SetInput(in).Save, "pseudonym", in.Pseudonym,
			"A victim with pseudonym %q already exists.")
		if err != nil {
			return 0, err
		}
		// In one order, since each link locks its case (lockCase): two
		// requests linking the same cases in other orders would deadlock.
		for _, cid := range slices.Sorted(maps.Keys(uniq(caseIDs))) {
			if err := linkVictim(ctx, c, v.ID, cid); err != nil {
				return 0, err
			}
		}
		return v.ID, nil
	})
}

// UpdateVictim changes a victim's record. The timeline of each of the
// victim's cases says that it changed, never what.
func UpdateVictim(ctx context.Context, c *ent.Client, id, expectedVersion int, in ent.UpdateVictimInput) (*ent.Victim, error) {
	if err := validateExploitation(append(slices.Clone(in.FormsOfExploitation), in.AppendFormsOfExploitation...)); err != nil {
		return nil, err
	}
	if err := standsWith(ctx, c, "id", id); err != nil {
		return nil, err
	}
	if in.AppendFormsOfExploitation != nil || touchesAge(in) {
		// The appended forms extend what the client last saw; on a
		// newer record they would extend something else. The ages must
		// agree as the update leaves them, with what it does not change.
		v, err := current(ctx, "victim", c.Victim.Get, id, expectedVersion, func(v *ent.Victim) int { return v.Version })
		if err != nil {
			return nil, err
		}
		if touchesAge(in) {
			if err := agesAgreeAsTheCallerMayRead(ctx, v, in); err != nil {
				return nil, err
			}
		}
		if in.AppendFormsOfExploitation != nil {
			in.FormsOfExploitation = appendForms(v.FormsOfExploitation, in.FormsOfExploitation, in.AppendFormsOfExploitation)
			in.AppendFormsOfExploitation = nil
		}
	}
	u := c.Victim.Update().Where(victim.ID(id), victim.Version(expectedVersion)).
		SetInput(in).AddVersion(1)
	after, err := saved(ctx, "victim", u.Save, c.Victim.Get, id)
	if err != nil {
		return nil, err
	}
	if touchesAge(in) {
		if err := keepConsentAges(ctx, c, after); err != nil {
			return nil, err
		}
	}
	return after, victimEvent(ctx, c, id, domain.CaseEventKindVictimUpdated, id, "Victim record updated.")
}

// RecordConsent records a consent for the caller's agency. A consent must
// name at least one kind of agency and one purpose; for a minor it is given
// by a parent, guardian or legal representative unless the victim gives it
// (over 16, Criminal Procedure Code Art. 58/a).
func RecordConsent(ctx context.Context, c *ent.Client, in ent.CreateConsentInput, key *string) (*ent.Consent, error) {
	p, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	return idempotent(ctx, c, "recordConsent", key, in, c.Consent.Get, func() (int, error) {
		// Locked: the ages read here decide the consent's given_under_16,
		// and an updateVictim committing other ages meanwhile would not see
		// this consent to decide it again (a review, on PostgreSQL).
		v, err := referenced(ctx, "victimID", "victim", lockedVictim(c), in.VictimID)
		if err != nil {
			return 0, err
		}
		if err := standsWith(ctx, c, "victimID", v.ID); err != nil {
			return 0, err
		}
		if len(in.AgencyKinds) == 0 {
			return 0, apperr.InvalidField("agencyKinds", "A consent must name at least one kind of agency.")
		}
		if len(in.Purposes) == 0 {
			return 0, apperr.InvalidField("purposes", "A consent must name at least one purpose.")
		}
		for _, k := range in.AgencyKinds {
			if !k.Valid() {
				return 0, apperr.InvalidField("agencyKinds", "%q is not a kind of agency.", k)
			}
		}
		for _, pu := range in.Purposes {
			if !pu.Valid() {
				return 0, apperr.InvalidField("purposes", "%q is not a purpose.", pu)
			}
		}
		if err := happened("givenAt", "A consent", in.GivenAt); err != nil {
			return 0, err
		}
		// The victim's own consent dated back past the identification
		// would let a recorder who may not read the date of birth learn
		// it, by which of the dates tried opened the data (a review: to the
		// day in 14 tries). From the identification on, an ADULT (by ages
		// that agree with the group) is 18 or more and never under 16, and
		// a MINOR whose age the recorder may not read is refused above. A
		// parent's or guardian's consent, which no age voids, may come
		// first (at the first contact).
		if in.GivenBy == domain.ConsentGivenByVictim && in.GivenAt.Before(v.IdentifiedAt) {
			return 0, apperr.InvalidField("givenAt", "A victim's own consent cannot be dated before the victim was identified (identifiedAt); a parent's or guardian's can.")
		}
		if in.GivenBy == domain.ConsentGivenByVictim && mayBeUnder16(ctx, v, in.GivenAt) {
			return 0, apperr.InvalidField("givenBy", "A victim under 16 (or a minor of unknown age) cannot consent alone; a parent, guardian or legal representative gives consent.")
		}
		// Past the refusal, which reads only what the caller may, the
		// stored ages decide whether the consent opens anything: a consent
		// backdated to when an ADULT of hidden birth date was 10 is kept,
		// and opens nothing. The caller's consent then rests on an age
		// they may not read, and the trail says so.
		voided := domain.ConsentVoidedByAge(in.GivenBy, in.GivenAt, ageOf(v))
		if voided {
			consultedAge(ctx, v)
		}
		cs, err := c.Consent.Create().SetInput(in).SetGivenUnder16(voided).
			SetRecordedBy(p.Subject).SetRecordedByAgencyID(p.AgencyID).Save(ctx)
		if err != nil {
			return 0, translate(err)
		}
		return cs.ID, victimEvent(ctx, c, in.VictimID, domain.CaseEventKindConsentRecorded, cs.ID, "Consent recorded.")
	})
}

// mayBeUnder16 reports whether the victim was, or may have been, under 16
// at time at (domain.Age: the date of birth, else the exact age at
// identification and the years since). It looks at them only when the
// caller may read both: otherwise the answer (refused or not) would tell
// them what they may not read. Without them, every minor counts. The one
// it decides by is recorded as read by the caller, refused or not: a
// caller trying consents given at times a minute apart would otherwise
// learn a date of birth with no trace of having looked.
func mayBeUnder16(ctx context.Context, v *ent.Victim, at time.Time) bool {
	_, ageOK := readable(ctx, "Victim.exactAge", v)
	_, birthOK := readable(ctx, "Victim.dateOfBirth", v)
	if ageOK && birthOK {
		if under, known := ageOf(v).UnderConsentAgeAt(at); known {
			consultedAge(ctx, v)
			return under
		}
	}
	return v.AgeGroup == domain.AgeGroupMinor
}

// consultedAge records the field the age of consent is decided by (the date
// of birth, else the exact age) as read by the caller, with the caller's
// decision on reading it.
func consultedAge(ctx context.Context, v *ent.Victim) {
	field := "Victim.exactAge"
	if v.DateOfBirth != nil {
		field = "Victim.dateOfBirth"
	}
	a, _ := readable(ctx, field, v)
	consulted(ctx, v, field, a)
}

// keepConsentAges decides anew, from v's ages as they now stand, whether
// each of v's own consents was given under the age of consent: an age
// recorded after a consent voids it (or lifts the doubt of a minor of
// unknown age) as if it had been known then. The flag is derived from the
// victim's record, so it is kept whoever changes the ages; the consents'
// versions do not move (nothing an integrator wrote changed).
func keepConsentAges(ctx context.Context, c *ent.Client, v *ent.Victim) error {
	sys := viewer.SystemContext(ctx)
	var dialectName string
	own, err := c.Consent.Query().Where(consent.VictimID(v.ID), consent.GivenByEQ(domain.ConsentGivenByVictim),
		func(s *sql.Selector) { dialectName = s.Dialect() }).All(sys)
	if err != nil {
		return err
	}
	changed := map[bool][]any{}
	for _, cs := range own {
		if voided := domain.ConsentVoidedByAge(cs.GivenBy, cs.GivenAt, ageOf(v)); voided != cs.GivenUnder16 {
			changed[voided] = append(changed[voided], cs.ID)
		}
	}
	// Written beside ent's hooks, which would move the consents'
	// updatedAt and file a change of them in the audit trail: either
	// would tell whoever sees the consent, but not the ages, that the ages
	// moved across 16 (a review). The victim's update is the change, and
	// is recorded as one.
	for voided, ids := range changed {
		query, args := sql.Dialect(dialectName).Update(consent.Table).
			Set(consent.FieldGivenUnder16, voided).Where(sql.In(consent.FieldID, ids...)).Query()
		if _, err := c.ExecContext(sys, query, args...); err != nil {
			return err
		}
	}
	return nil
}

// lockedVictim loads a victim as the caller sees it and locks its row for
// the transaction (forUpdate). A loader, for referenced.
func lockedVictim(c *ent.Client) func(context.Context, int) (*ent.Victim, error) {
	return func(ctx context.Context, id int) (*ent.Victim, error) {
		return c.Victim.Query().Where(victim.ID(id), forUpdate).Only(ctx)
	}
}

// agesAgreeAsTheCallerMayRead applies agesAgree to the victim as the update
// leaves it, with the stored exact age and date of birth the update does
// not replace only if the caller may read them: the rule's answer told a
// caller who may not (refused for want of consent, or of the row) whether
// the victim was a minor at a date of their choosing, and so the date of
// birth to the day in a dozen failed updates, with nothing in the audit
// trail. Such a caller may not change what the rule checks against a
// stored value they may not read (FORBIDDEN, and the refused look is
// recorded: that the value exists is all the refusal tells, and the trail
// shows it). The values the rule reads are recorded as consulted, as
// mayBeUnder16 does.
func agesAgreeAsTheCallerMayRead(ctx context.Context, v *ent.Victim, in ent.UpdateVictimInput) error {
	for _, f := range []struct {
		field   string
		checked bool // stored, and not replaced by the update
	}{
		{"Victim.exactAge", v.ExactAge != nil && in.ExactAge == nil && !in.ClearExactAge},
		{"Victim.dateOfBirth", v.DateOfBirth != nil && in.DateOfBirth == nil && !in.ClearDateOfBirth},
	} {
		if !f.checked {
			continue
		}
		a, ok := readable(ctx, f.field, v)
		consulted(ctx, v, f.field, a)
		if !ok {
			return apperr.Errorf(apperr.Forbidden, "This change is checked against the victim's exact age and date of birth, which you may not read; an agency that may read them can make it.")
		}
	}
	return agesAgree(updatedAge(ageOf(v), in))
}

// readable returns the decision on the caller reading field of obj under
// the request's access policy, and whether it allows it (false without a
// policy).
func readable(ctx context.Context, field string, obj any) (audit.Access, bool) {
	r := authz.FromContext(ctx)
	if r == nil {
		return audit.Access{}, false
	}
	v, err := r.ReadField(ctx, field, obj)
	return v.Access(), err == nil && v.Allowed
}

// consulted records the caller's look at field of victim v, which a rule
// decided by (audit.Recorder.Consulted).
func consulted(ctx context.Context, v *ent.Victim, field string, a audit.Access) {
	if rec := audit.FromContext(ctx); rec != nil {
		rec.Consulted("Victim", v.ID, field, a)
	}
}

// WithdrawConsent withdraws a consent. Withdrawing one that is already
// withdrawn is BAD_USER_INPUT.
func WithdrawConsent(ctx context.Context, c *ent.Client, id, expectedVersion int) (*ent.Consent, error) {
	cs, err := current(ctx, "consent", c.Consent.Get, id, expectedVersion, func(cs *ent.Consent) int { return cs.Version })
	if err != nil {
		return nil, err
	}
	if err := standsWith(ctx, c, "id", cs.VictimID); err != nil {
		return nil, err
	}
	if cs.WithdrawnAt != nil {
		return nil, apperr.InvalidField("id", "This consent was already withdrawn.")
	}
	u := c.Consent.Update().Where(consent.ID(id), consent.Version(expectedVersion)).
		SetWithdrawnAt(time.Now()).AddVersion(1)
	after, err := saved(ctx, "consent", u.Save, c.Consent.Get, id)
	if err != nil {
		return nil, err
	}
	return after, victimEvent(ctx, c, cs.VictimID, domain.CaseEventKindConsentWithdrawn, id, "Consent withdrawn.")
}

// standsWith refuses a write about a victim whom the caller's agency sees
// without standing (rowscope.VictimStanding): only through a referral to
// it that it has not accepted, which lets it see the victim to decide the
// referral, and nothing more. A hunt over HTTP found an agency that had
// rejected such a referral renaming the victim and withdrawing another
// agency's consent. A victim the caller does not see is left to the write
// itself, which answers as for any record it cannot see.
func standsWith(ctx context.Context, c *ent.Client, field string, victimID int) error {
	r := authz.FromContext(ctx)
	if r == nil || r.Scope() == nil {
		return nil // the system's own writes
	}
	standing := rowscope.VictimStanding(r.Scope())
	if standing == nil {
		return nil // every victim
	}
	stands, err := c.Victim.Query().Where(victim.ID(victimID), predicate.Victim(standing)).Exist(viewer.SystemContext(ctx))
	if err != nil || stands {
		return err
	}
	if seen, err := c.Victim.Query().Where(victim.ID(victimID)).Exist(ctx); err != nil || !seen {
		return err
	}
	return &apperr.Error{Code: apperr.Forbidden, Field: field,
		Message: "Your agency has no standing with this victim: a referral to it gives standing once the agency accepts it."}
}
