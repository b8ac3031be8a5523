package domain

import "time"

// Ages. A victim's age group, exact age and date of birth are as at
// identification. The age of consent (a victim under 16 never consents
// alone, Criminal Procedure Code Art. 58/a) is decided from them here, once:
// by casework when a consent is recorded, and whenever the ages change, and
// by the migration that decided it for the consents recorded before it was
// kept (docs/domain.md, Consent).

// ConsentAge is the age from which a victim may consent alone.
const ConsentAge = 16

// Age is what the age rules read of a victim's record.
type Age struct {
	Group        AgeGroup
	Exact        *int       // the age at identification
	Birth        *time.Time // the date of birth
	IdentifiedAt time.Time
}

// UnderConsentAgeAt reports whether the victim was under ConsentAge at time
// t, from the date of birth, else the exact age at identification plus the
// whole years since; known is false when neither is recorded.
func (a Age) UnderConsentAgeAt(t time.Time) (under, known bool) {
	switch {
	case a.Birth != nil:
		return a.Birth.AddDate(ConsentAge, 0, 0).After(t), true
	case a.Exact != nil:
		// At t the victim was at least exact + the whole years between
		// identification and t (fewer, or negative, when t comes first).
		return *a.Exact+YearsBetween(a.IdentifiedAt, t) < ConsentAge, true
	}
	return false, false
}

// MayBeUnderConsentAgeAt reports whether the victim was, or may have been,
// under ConsentAge at time t: when neither the date of birth nor the exact
// age is recorded, every minor may have been.
func (a Age) MayBeUnderConsentAgeAt(t time.Time) bool {
	if under, known := a.UnderConsentAgeAt(t); known {
		return under
	}
	return a.Group == AgeGroupMinor
}

// ConsentVoidedByAge reports whether a consent given by by at time at opens
// nothing because of the victim's age: the victim's own consent while they
// were, or may have been, under ConsentAge.
func ConsentVoidedByAge(by ConsentGivenBy, at time.Time, a Age) bool {
	return by == ConsentGivenByVictim && a.MayBeUnderConsentAgeAt(at)
}

// YearsBetween is the number of whole years from a to b (negative when b is
// before a): a person born at a is that old at b. Both are read in UTC, as
// the databases give them back: the same instant sent with the client's
// offset falls on another day near midnight, and a consent's validity
// would then depend on how its time was written (a review).
func YearsBetween(a, b time.Time) int {
	a, b = a.UTC(), b.UTC()
	if b.Before(a) {
		return -YearsBetween(b, a) - 1
	}
	years := b.Year() - a.Year()
	if b.Month() < a.Month() || b.Month() == a.Month() && b.Day() < a.Day() {
		years-- // the anniversary has not come yet in b's year
	}
	return years
}
