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
// are quasi-identifiers. The age of consent (domain.Age) rests on them, so
// they must agree: an age group changed to ADULT beside an exact age of 9
// let a child's consent be recorded as given alone (an adversarial review).

func ageOf(v *ent.Victim) domain.Age {
	return domain.Age{Group: v.AgeGroup, Exact: v.ExactAge, Birth: v.DateOfBirth, IdentifiedAt: v.IdentifiedAt}
}

// agesAgree refuses a date of birth after the day of identification,
// naming dateOfBirth, and an age group that the exact age or the date of
// birth (each as at identification) contradicts, naming ageGroup.
func agesAgree(a domain.Age) error {
	// Nobody is identified before they are born: a hunt registered a
	// victim born a month after, a MINOR since the years between were
	// negative. Checked first, so that it is not blamed on the age group.
	// By days, as a date of birth is a day (sent as some time of it).
	if a.Birth != nil && bornAfterIdentified(*a.Birth, a.IdentifiedAt) {
		return apperr.InvalidField("dateOfBirth", "The date of birth is after the day the victim was identified (identifiedAt) in every time zone.")
	}
	// An exact age out of its range is the schema's to refuse, naming it
	// (a hunt over HTTP had exactAge: 200 blamed on ageGroup).
	if a.Exact != nil && victim.ExactAgeValidator(*a.Exact) == nil && a.Group != domain.AgeGroupOf(*a.Exact) {
		return apperr.InvalidField("ageGroup", "The age group must agree with the exact age at identification: MINOR under %d, ADULT from %d.", domain.AdultAge, domain.AdultAge)
	}
	if byBirth, known := a.GroupByBirth(); known && a.Group != byBirth {
		return apperr.InvalidField("ageGroup", "The age group must agree with the date of birth: MINOR when under %d at identification, ADULT from %d.", domain.AdultAge, domain.AdultAge)
	}
	return nil
}

// bornAfterIdentified reports whether the day of birth (a calendar day,
// sent as some time of it: its day in Tirana, domain.BirthDay) is after the
// calendar day of the instant identified in every time zone in use. The
// day of an instant depends on where it is read: a newborn identified at
// 00:30 in Tirana on the day of birth was identified at 23:30 UTC the day
// before, and was refused as born after (a review). No zone is more than a
// day ahead of UTC (UTC+14 is the furthest), so a date of birth up to the
// day after identifiedAt's UTC day is the day of identification somewhere;
// zones behind UTC only make that day earlier. Until 2026-12-07 (twentieth
// session) the day of birth was read in UTC too, and one sent as Tirana's
// midnight (the UTC day before) was let a day later.
func bornAfterIdentified(birth, identified time.Time) bool {
	latestDayOfIdentification := identified.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	return domain.BirthDay(birth).After(latestDayOfIdentification)
}

// updatedAge is a's values after an update sets or clears them.
func updatedAge(a domain.Age, in ent.UpdateVictimInput) domain.Age {
	if in.AgeGroup != nil {
		a.Group = *in.AgeGroup
	}
	if in.ClearExactAge {
		a.Exact = nil
	}
	if in.ExactAge != nil {
		a.Exact = in.ExactAge
	}
	if in.ClearDateOfBirth {
		a.Birth = nil
	}
	if in.DateOfBirth != nil {
		a.Birth = in.DateOfBirth
	}
	if in.IdentifiedAt != nil {
		a.IdentifiedAt = *in.IdentifiedAt
	}
	return a
}

// touchesAge reports whether an update changes anything the age rules read.
func touchesAge(in ent.UpdateVictimInput) bool {
	return in.AgeGroup != nil || in.ExactAge != nil || in.ClearExactAge || in.DateOfBirth != nil || in.ClearDateOfBirth || in.IdentifiedAt != nil
}
