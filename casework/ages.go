package casework

import (
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/victim"
)

// Ages. A victim's age group, exact age and date of birth are as at
// identification; the age group is what most agencies read, the other two
// are quasi-identifiers. The consent rule (under 16 never alone, Criminal
// Procedure Code Art. 58/a) rests on them, so they must agree: an age group
// changed to ADULT beside an exact age of 9 let a child's consent be
// recorded as given alone (an adversarial review).

// adultAge is the age from which a victim is not a MINOR.
const adultAge = 18

// victimAge is what the age rules read of a victim's record.
type victimAge struct {
	group        domain.AgeGroup
	exact        *int
	birth        *time.Time
	identifiedAt time.Time
}

func ageOf(v *ent.Victim) victimAge {
	return victimAge{v.AgeGroup, v.ExactAge, v.DateOfBirth, v.IdentifiedAt}
}

// agesAgree refuses an age group that the exact age or the date of birth
// (each as at identification) contradicts, naming ageGroup.
func agesAgree(a victimAge) error {
	minor := a.group == domain.AgeGroupMinor
	// An exact age out of its range is the schema's to refuse, naming it
	// (a hunt over HTTP had exactAge: 200 blamed on ageGroup).
	if a.exact != nil && victim.ExactAgeValidator(*a.exact) == nil && minor != (*a.exact < adultAge) {
		return apperr.InvalidField("ageGroup", "The age group must agree with the exact age at identification: MINOR under %d, ADULT from %d.", adultAge, adultAge)
	}
	if a.birth != nil && minor != (yearsBetween(*a.birth, a.identifiedAt) < adultAge) {
		return apperr.InvalidField("ageGroup", "The age group must agree with the date of birth: MINOR when under %d at identification, ADULT from %d.", adultAge, adultAge)
	}
	return nil
}

// updatedAge is a's values after an update sets or clears them.
func updatedAge(a victimAge, in ent.UpdateVictimInput) victimAge {
	if in.AgeGroup != nil {
		a.group = *in.AgeGroup
	}
	if in.ClearExactAge {
		a.exact = nil
	}
	if in.ExactAge != nil {
		a.exact = in.ExactAge
	}
	if in.ClearDateOfBirth {
		a.birth = nil
	}
	if in.DateOfBirth != nil {
		a.birth = in.DateOfBirth
	}
	if in.IdentifiedAt != nil {
		a.identifiedAt = *in.IdentifiedAt
	}
	return a
}

// touchesAge reports whether an update changes anything the age rules read.
func touchesAge(in ent.UpdateVictimInput) bool {
	return in.AgeGroup != nil || in.ExactAge != nil || in.ClearExactAge || in.DateOfBirth != nil || in.ClearDateOfBirth || in.IdentifiedAt != nil
}

// under16At reports whether the victim may have been under 16 at time t,
// from the exact age (the age at identification, plus the whole years
// since) or the date of birth; ok is false when neither is known.
func under16At(a victimAge, t time.Time) (under, ok bool) {
	switch {
	case a.birth != nil:
		return a.birth.AddDate(16, 0, 0).After(t), true
	case a.exact != nil:
		// At t the victim was at least exact + the whole years between
		// identification and t (fewer, or negative, when t comes first).
		return *a.exact+yearsBetween(a.identifiedAt, t) < 16, true
	}
	return false, false
}

// yearsBetween is the number of whole years from a to b (negative when b
// is before a): a person born at a is that old at b.
func yearsBetween(a, b time.Time) int {
	if b.Before(a) {
		return -yearsBetween(b, a) - 1
	}
	years := b.Year() - a.Year()
	if b.Month() < a.Month() || b.Month() == a.Month() && b.Day() < a.Day() {
		years-- // the anniversary has not come yet in b's year
	}
	return years
}
