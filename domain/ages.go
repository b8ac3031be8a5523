package domain

import "time"

// Ages. A victim's age group, exact age and date of birth are as at
// identification. The age of consent (a victim under 16 never consents
// alone, Criminal Procedure Code Art. 58/a) is decided from them here, once:
// by casework when a consent is recorded, and whenever the ages change, and
// by the migrations that decided it for the consents recorded before it was
// kept, and again when these rules moved to Tirana's calendar
// (docs/domain.md, Consent).

// ConsentAge is the age from which a victim may consent alone.
const ConsentAge = 16

// AdultAge is the age from which a person is not a MINOR.
const AdultAge = 18

// AgeGroupOf is the age group of a person years old: MINOR under
// AdultAge, ADULT from it.
func AgeGroupOf(years int) AgeGroup {
	if years < AdultAge {
		return AgeGroupMinor
	}
	return AgeGroupAdult
}

// Age is what the age rules read of a victim's record.
type Age struct {
	Group        AgeGroup
	Exact        *int       // the age at identification
	Birth        *time.Time // the date of birth
	IdentifiedAt time.Time
}

// UnderConsentAgeAt reports whether the victim was under ConsentAge at time
// t, from the date of birth, else the exact age at identification plus the
// whole years since; known is false when neither is recorded. Both are read
// on Tirana's calendar (YearsBetween): the victim turns 16 at the start of
// the 16th birthday in Tirana, whatever offset t or the date of birth came
// with.
func (a Age) UnderConsentAgeAt(t time.Time) (under, known bool) {
	switch {
	case a.Birth != nil:
		return YearsBetween(*a.Birth, t) < ConsentAge, true
	case a.Exact != nil:
		// At t the victim was at least exact + the whole years between
		// identification and t (fewer, or negative, when t comes first).
		return *a.Exact+YearsBetween(a.IdentifiedAt, t) < ConsentAge, true
	}
	return false, false
}

// GroupByExactAge is the age group the exact age gives: the victim's at
// identification, as both are; known is false without an exact age.
// casework refuses an age group it contradicts, and `casegraph victims
// age-conflicts` lists the victims stored with one (docs/domain.md,
// Consent). Since 2026-12-07 (twenty-first session) the rule is here, not
// in casework, so that the command lists by the rule an update is refused
// by: casework refused such an age group without a migration naming the
// victims stored with one.
func (a Age) GroupByExactAge() (group AgeGroup, known bool) {
	if a.Exact == nil {
		return "", false
	}
	return AgeGroupOf(*a.Exact), true
}

// GroupByBirth is the age group the date of birth gives: the victim's at
// identification (the age group is as at identification, as the date of
// birth is), by the whole years between them on Tirana's calendar
// (YearsBetween); known is false without a date of birth. casework refuses
// an age group it contradicts, and `casegraph victims age-conflicts` lists
// the victims stored with one (docs/domain.md, Consent).
func (a Age) GroupByBirth() (group AgeGroup, known bool) {
	if a.Birth == nil {
		return "", false
	}
	return AgeGroupOf(YearsBetween(*a.Birth, a.IdentifiedAt)), true
}

// BornAfterIdentified reports whether the date of birth is after the day
// of identification: its day (a calendar day, sent as some time of it: its
// day in Tirana, BirthDay) after the calendar day of IdentifiedAt in every
// time zone in use; false without a date of birth. Nobody is identified
// before they are born (a hunt registered a victim born a month after, a
// MINOR since the years between were negative). The day of an instant
// depends on where it is read: a newborn identified at 00:30 in Tirana on
// the day of birth was identified at 23:30 UTC the day before, and was
// refused as born after (a review). No zone is more than a day ahead of
// UTC (UTC+14 is the furthest), so a date of birth up to the day after
// IdentifiedAt's UTC day is the day of identification somewhere; zones
// behind UTC only make that day earlier. casework refuses a date of birth
// after it, and `casegraph victims age-conflicts` lists the victims stored
// with one (docs/domain.md, Consent). Until 2026-12-07 (twentieth session)
// the day of birth was read in UTC too, and one sent as Tirana's midnight
// (the UTC day before) was let a day later. Since 2026-12-07 (twenty-first
// session) the rule is here, not in casework, so that the command lists by
// the rule an update is refused by.
func (a Age) BornAfterIdentified() bool {
	if a.Birth == nil {
		return false
	}
	latestDayOfIdentification := a.IdentifiedAt.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	return BirthDay(*a.Birth).After(latestDayOfIdentification)
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

// BirthDay is the calendar day a date of birth names, its day in Tirana
// (as YearsBetween reads it), as that day's midnight in UTC: calendar days
// to compare, whatever offset the date of birth came with.
func BirthDay(birth time.Time) time.Time {
	y, m, d := birth.In(Tirana).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// YearsBetween is the number of whole years from a's day to b's day on
// Tirana's calendar (negative when b's day is before a's): a person born
// at a is that old at b. Days are read in Tirana, as the law reads them
// (docs/domain.md, Consent), whatever offset a and b came with: a date of
// birth is the day in Tirana of the instant stored, so its midnight sent
// in UTC (01:00 in Tirana, 02:00 in summer) and in Tirana (23:00 UTC the
// day before) are the same day, and the birthday begins at midnight in
// Tirana. Born on 29 February, a person is a year older on 1 March of a
// year without one (28 February is still the day before), as Go's
// time.Date reads 29 February of such a year. Until 2026-12-07 (twentieth
// session) the days were UTC's, and a date of birth sent as Tirana's
// midnight was a day earlier than one sent as UTC's.
func YearsBetween(a, b time.Time) int {
	ay, am, ad := a.In(Tirana).Date()
	by, bm, bd := b.In(Tirana).Date()
	years := by - ay
	if bm < am || bm == am && bd < ad {
		years-- // the anniversary has not come yet in b's year
	}
	return years
}
