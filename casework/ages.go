package casework

import (
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

// agesAgree refuses a date of birth after the day of identification
// (domain.Age.BornAfterIdentified), naming dateOfBirth, and an age group
// that the exact age or the date of birth (each as at identification)
// contradicts, naming ageGroup.
func agesAgree(a domain.Age) error {
	// Checked first, so that a date of birth after the identification
	// (whose years to it are negative, a MINOR) is not blamed on the age
	// group.
	if a.BornAfterIdentified() {
		return apperr.InvalidField("dateOfBirth", "The date of birth is after the day the victim was identified (identifiedAt) in every time zone.")
	}
	// An exact age out of its range is the schema's to refuse, naming it
	// (a hunt over HTTP had exactAge: 200 blamed on ageGroup).
	if byExact, known := a.GroupByExactAge(); known && victim.ExactAgeValidator(*a.Exact) == nil && a.Group != byExact {
		return apperr.InvalidField("ageGroup", "The age group must agree with the exact age at identification: MINOR under %d, ADULT from %d.", domain.AdultAge, domain.AdultAge)
	}
	if byBirth, known := a.GroupByBirth(); known && a.Group != byBirth {
		return apperr.InvalidField("ageGroup", "The age group must agree with the date of birth: MINOR when under %d at identification, ADULT from %d.", domain.AdultAge, domain.AdultAge)
	}
	return nil
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
