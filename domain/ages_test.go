package domain

import (
	"testing"
	"time"
)

// TestAgeOfConsentByInstant: the age of consent is decided by the instant,
// whatever offset a time was written with. A consent's time comes from a
// client with its offset and back from the database in UTC; near midnight
// the two fall on different days, and the consent was 15 when recorded and
// 16 when decided again (a review).
func TestAgeOfConsentByInstant(t *testing.T) {
	fifteen := 15
	identified := time.Date(2024, 3, 10, 9, 0, 0, 0, time.UTC)
	byExact := Age{Group: AgeGroupMinor, Exact: &fifteen, IdentifiedAt: identified}
	born := time.Date(2000, 5, 1, 0, 0, 0, 0, time.UTC)
	byBirth := Age{Group: AgeGroupAdult, Birth: &born, IdentifiedAt: identified}
	west := time.FixedZone("UTC-1", -3600)
	for _, tc := range []struct {
		name  string
		age   Age
		at    time.Time // in UTC
		under bool
	}{
		{"ExactAgeAnniversaryJustPast", byExact, time.Date(2025, 3, 10, 0, 30, 0, 0, time.UTC), false},
		{"ExactAgeAnniversaryNotYet", byExact, time.Date(2025, 3, 9, 23, 30, 0, 0, time.UTC), true},
		{"BirthdayJustPast", byBirth, time.Date(2016, 5, 1, 0, 30, 0, 0, time.UTC), false},
		{"BirthdayNotYet", byBirth, time.Date(2016, 4, 30, 23, 30, 0, 0, time.UTC), true},
	} {
		for _, at := range []time.Time{tc.at, tc.at.In(west)} {
			under, known := tc.age.UnderConsentAgeAt(at)
			if !known || under != tc.under {
				t.Errorf("%s at %s: under 16 %v (known %v), want %v", tc.name, at.Format(time.RFC3339), under, known, tc.under)
			}
			if got := ConsentVoidedByAge(ConsentGivenByVictim, at, tc.age); got != tc.under {
				t.Errorf("%s at %s: a victim's own consent voided %v, want %v", tc.name, at.Format(time.RFC3339), got, tc.under)
			}
		}
	}
	if ConsentVoidedByAge(ConsentGivenByParentOrGuardian, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), byExact) {
		t.Error("a parent's consent voided by the victim's age")
	}
	unknownMinor := Age{Group: AgeGroupMinor, IdentifiedAt: identified}
	if !ConsentVoidedByAge(ConsentGivenByVictim, identified, unknownMinor) {
		t.Error("a minor of unknown age consenting alone: not voided")
	}
}
