package domain

import (
	"testing"
	"time"
)

// tiranaClock is the instant Tirana's clock reads h:minute on day d of month m
// of year y.
func tiranaClock(y int, m time.Month, d, h, minute int) time.Time {
	return time.Date(y, m, d, h, minute, 0, 0, Tirana)
}

// arrivals are zones an instant may come in: the API's UTC, Tirana's
// offset, one behind UTC (a PostgreSQL session's TimeZone) and the zone
// furthest ahead.
var arrivals = []*time.Location{time.UTC, Tirana, time.FixedZone("UTC-1", -3600), time.FixedZone("UTC+14", 14*3600)}

// birthSentAs is a date of birth as clients send a day: its midnight in
// UTC and its midnight in Tirana (the UTC day before).
func birthSentAs(y int, m time.Month, d int) map[string]time.Time {
	return map[string]time.Time{
		"UTC midnight":    time.Date(y, m, d, 0, 0, 0, 0, time.UTC),
		"Tirana midnight": time.Date(y, m, d, 0, 0, 0, 0, Tirana),
	}
}

// TestAgeOfConsentOnTiranasCalendar: a victim turns 16 at the start of the
// 16th birthday on Tirana's calendar, the date of birth being the day in
// Tirana of the instant stored, so that its midnight sent in UTC and in
// Tirana are the same birthday; and a year since identification (for an
// exact age) is whole on Tirana's calendar too. Whatever offset either
// time came with. Until 2026-12-07 (twentieth session) the days were
// UTC's: a date of birth sent as UTC midnight turned 16 at 01:00 in Tirana
// (02:00 in summer), one sent as Tirana's midnight at 23:00 the evening
// before when the 16th birthday was in winter time and the birth in
// summer time, and a year since identification ended at 01:00 in Tirana.
func TestAgeOfConsentOnTiranasCalendar(t *testing.T) {
	fifteen := 15
	exactFrom := func(identified time.Time) map[string]Age {
		return map[string]Age{"exact age": {Group: AgeGroupMinor, Exact: &fifteen, IdentifiedAt: identified}}
	}
	byBirth := func(y int, m time.Month, d int) map[string]Age {
		ages := map[string]Age{}
		for sent, born := range birthSentAs(y, m, d) {
			ages["born "+sent] = Age{Group: AgeGroupMinor, Birth: &born, IdentifiedAt: born.AddDate(10, 0, 0)}
		}
		return ages
	}
	for _, tc := range []struct {
		name  string
		ages  map[string]Age
		at    time.Time
		under bool
	}{
		{"BirthdayAtHalfPastMidnight", byBirth(2010, time.March, 5), tiranaClock(2026, time.March, 5, 0, 30), false},
		{"BirthdayEveHalfPastEleven", byBirth(2010, time.March, 5), tiranaClock(2026, time.March, 4, 23, 30), true},
		{"SummerBirthdayAtHalfPastMidnight", byBirth(2010, time.July, 5), tiranaClock(2026, time.July, 5, 0, 30), false},
		{"SummerBirthdayAtOne", byBirth(2010, time.July, 5), tiranaClock(2026, time.July, 5, 1, 0), false},
		{"SummerBirthdayEveHalfPastEleven", byBirth(2010, time.July, 5), tiranaClock(2026, time.July, 4, 23, 30), true},
		// Born in summer time (it began on 28 March 2010), 16 in winter
		// time (it begins at 02:00 on 29 March 2026).
		{"BirthInSummerTimeBirthdayInWinterTimeEve", byBirth(2010, time.March, 29), tiranaClock(2026, time.March, 28, 23, 30), true},
		{"BirthInSummerTimeBirthdayInWinterTime", byBirth(2010, time.March, 29), tiranaClock(2026, time.March, 29, 0, 30), false},
		// Born on 29 February: 16 on 1 March of a year without one (2100
		// is not a leap year), 28 February being still the day before.
		{"LeapDayBirthOn28February", byBirth(2084, time.February, 29), tiranaClock(2100, time.February, 28, 23, 30), true},
		{"LeapDayBirthOn1March", byBirth(2084, time.February, 29), tiranaClock(2100, time.March, 1, 0, 30), false},
		// 15 when identified at noon in Tirana: 16 from the first
		// anniversary's start there (23:00 UTC the day before).
		{"ExactAgeAnniversaryAtHalfPastMidnight", exactFrom(tiranaClock(2024, time.March, 10, 12, 0)), tiranaClock(2025, time.March, 10, 0, 30), false},
		{"ExactAgeAnniversaryEve", exactFrom(tiranaClock(2024, time.March, 10, 12, 0)), tiranaClock(2025, time.March, 9, 23, 30), true},
		// Identified at 00:30 in Tirana, the UTC day before: the year is
		// not whole on the UTC day before the anniversary.
		{"ExactAgeIdentifiedAfterMidnightEve", exactFrom(tiranaClock(2024, time.March, 10, 0, 30)), tiranaClock(2025, time.March, 9, 23, 30), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, age := range tc.ages {
				for _, zone := range arrivals {
					at := tc.at.In(zone)
					if age.Birth != nil {
						born := age.Birth.In(zone)
						age.Birth = &born
					}
					age.IdentifiedAt = age.IdentifiedAt.In(zone)
					under, known := age.UnderConsentAgeAt(at)
					if !known || under != tc.under {
						t.Errorf("%s, at %s: under 16 %v (known %v), want %v", name, at.Format(time.RFC3339), under, known, tc.under)
					}
					if got := ConsentVoidedByAge(ConsentGivenByVictim, at, age); got != tc.under {
						t.Errorf("%s, at %s: a victim's own consent voided %v, want %v", name, at.Format(time.RFC3339), got, tc.under)
					}
				}
			}
		})
	}
	if ConsentVoidedByAge(ConsentGivenByParentOrGuardian, tiranaClock(2025, time.January, 1, 0, 0), exactFrom(tiranaClock(2024, time.March, 10, 12, 0))["exact age"]) {
		t.Error("a parent's consent voided by the victim's age")
	}
	identified := tiranaClock(2024, time.March, 10, 12, 0)
	unknownMinor := Age{Group: AgeGroupMinor, IdentifiedAt: identified}
	if !ConsentVoidedByAge(ConsentGivenByVictim, identified, unknownMinor) {
		t.Error("a minor of unknown age consenting alone: not voided")
	}
}

// TestYearsBetweenOnTiranasCalendar: whole years between the days in
// Tirana of two instants, whatever offsets they came with (the age group
// agrees with a date of birth by them: 18 at identification is ADULT).
func TestYearsBetweenOnTiranasCalendar(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b time.Time
		want int
	}{
		{"EighteenthBirthdayStarts", tiranaClock(2008, time.March, 5, 0, 0), tiranaClock(2026, time.March, 5, 0, 0), 18},
		{"EighteenthBirthdayEve", tiranaClock(2008, time.March, 5, 0, 0), tiranaClock(2026, time.March, 4, 23, 59), 17},
		{"BornAtUTCMidnightBirthdayStarts", time.Date(2008, time.March, 5, 0, 0, 0, 0, time.UTC), tiranaClock(2026, time.March, 5, 0, 0), 18},
		{"LeapDayOn28February", tiranaClock(2008, time.February, 29, 0, 0), tiranaClock(2026, time.February, 28, 23, 59), 17},
		{"LeapDayOn1March", tiranaClock(2008, time.February, 29, 0, 0), tiranaClock(2026, time.March, 1, 0, 0), 18},
		{"SameDayEarlierHour", tiranaClock(2024, time.March, 10, 12, 0), tiranaClock(2024, time.March, 10, 0, 30), 0},
		{"DayBefore", tiranaClock(2024, time.March, 10, 0, 30), tiranaClock(2024, time.March, 9, 23, 30), -1},
		{"AYearBeforeToTheDay", tiranaClock(2024, time.March, 10, 12, 0), tiranaClock(2023, time.March, 10, 0, 30), -1},
		{"AYearAndADayBefore", tiranaClock(2024, time.March, 10, 12, 0), tiranaClock(2023, time.March, 9, 23, 30), -2},
	} {
		for _, za := range arrivals {
			for _, zb := range arrivals {
				a, b := tc.a.In(za), tc.b.In(zb)
				if got := YearsBetween(a, b); got != tc.want {
					t.Errorf("%s: YearsBetween(%s, %s) = %d, want %d", tc.name, a.Format(time.RFC3339), b.Format(time.RFC3339), got, tc.want)
				}
			}
		}
	}
}

// TestBirthDayWhateverTheEncoding: a date of birth sent as its midnight in
// UTC or in Tirana, in winter or in summer time, in whatever zone it comes
// back, is the same calendar day.
func TestBirthDayWhateverTheEncoding(t *testing.T) {
	for _, day := range []time.Time{time.Date(2010, time.March, 5, 0, 0, 0, 0, time.UTC), time.Date(2010, time.July, 5, 0, 0, 0, 0, time.UTC)} {
		for sent, born := range birthSentAs(day.Date()) {
			for _, zone := range arrivals {
				if got := BirthDay(born.In(zone)); !got.Equal(day) || got.Location() != time.UTC {
					t.Errorf("born %s (%s): BirthDay %s, want %s", born.In(zone).Format(time.RFC3339), sent, got.Format(time.RFC3339), day.Format(time.RFC3339))
				}
			}
		}
	}
}

// TestGroupByBirth: the age group a date of birth gives is the victim's
// at identification, on Tirana's calendar, whatever offset either time
// came with: MINOR until the start of the 18th birthday in Tirana. A date
// of birth sent as Tirana's midnight of the day after the identification
// (23:00 UTC on its day) gives MINOR, where UTC's days made it ADULT until
// 2026-12-07 (twentieth session): the victims stored so are those
// `casegraph victims age-conflicts` lists. Without a date of birth it
// gives nothing.
func TestGroupByBirth(t *testing.T) {
	identified := tiranaClock(2026, time.March, 5, 12, 0)
	for _, tc := range []struct {
		name string
		born map[string]time.Time
		want AgeGroup
	}{
		{"EighteenthBirthdayOnTheDay", birthSentAs(2008, time.March, 5), AgeGroupAdult},
		{"EighteenthBirthdayTheDayAfter", birthSentAs(2008, time.March, 6), AgeGroupMinor},
		{"SeventeenthBirthdayOnTheDay", birthSentAs(2009, time.March, 5), AgeGroupMinor},
	} {
		for sent, born := range tc.born {
			for _, zone := range arrivals {
				b := born.In(zone)
				got, known := Age{Group: AgeGroupAdult, Birth: &b, IdentifiedAt: identified.In(zone)}.GroupByBirth()
				if !known || got != tc.want {
					t.Errorf("%s, born %s (%s): GroupByBirth %q (known %v), want %q", tc.name, b.Format(time.RFC3339), sent, got, known, tc.want)
				}
			}
		}
	}
	if got, known := (Age{Group: AgeGroupMinor, IdentifiedAt: identified}).GroupByBirth(); known {
		t.Errorf("no date of birth: GroupByBirth %q, known", got)
	}
}

// TestGroupByExactAge: an exact age under 18 gives MINOR, 18 and over
// ADULT; without an exact age it gives nothing. casework refuses an age
// group it contradicts and `casegraph victims age-conflicts` lists the
// victims stored with one (since 2026-12-07, twenty-first session).
func TestGroupByExactAge(t *testing.T) {
	for exact, want := range map[int]AgeGroup{0: AgeGroupMinor, 9: AgeGroupMinor, AdultAge - 1: AgeGroupMinor, AdultAge: AgeGroupAdult, 30: AgeGroupAdult} {
		if got, known := (Age{Group: AgeGroupAdult, Exact: &exact}).GroupByExactAge(); !known || got != want {
			t.Errorf("exact age %d: GroupByExactAge %q (known %v), want %q", exact, got, known, want)
		}
	}
	if got, known := (Age{Group: AgeGroupMinor}).GroupByExactAge(); known {
		t.Errorf("no exact age: GroupByExactAge %q, known", got)
	}
}

// TestBornAfterIdentified: a date of birth is after the day of
// identification when its day in Tirana is after the identification's
// day in every zone, the day after its UTC day (UTC+14 is the furthest
// ahead), whatever offset either time came with. A date of birth sent as
// Tirana's midnight two days after the UTC day of identification (23:00
// UTC the day before) is after it, where UTC's days let it be until
// 2026-12-07 (twentieth session): the victims stored so are those
// `casegraph victims age-conflicts` lists as born after their
// identification. Without a date of birth, none is.
func TestBornAfterIdentified(t *testing.T) {
	for _, tc := range []struct {
		name       string
		identified time.Time
		born       map[string]time.Time
		after      bool
	}{
		{"OnTheDay", tiranaClock(2026, time.March, 5, 10, 0), birthSentAs(2026, time.March, 5), false},
		{"TheDayAfterTheDayOfIdentificationInUTC+14", tiranaClock(2026, time.March, 5, 10, 0), birthSentAs(2026, time.March, 6), false},
		{"TwoDaysAfter", tiranaClock(2026, time.March, 5, 10, 0), birthSentAs(2026, time.March, 7), true},
		// 00:30 in Tirana is the UTC day before: the day of birth is the
		// day of identification in Tirana, the day after it is after the
		// day in every zone.
		{"IdentifiedAfterMidnightOnTheDay", tiranaClock(2026, time.March, 5, 0, 30), birthSentAs(2026, time.March, 5), false},
		{"IdentifiedAfterMidnightBornTheDayAfter", tiranaClock(2026, time.March, 5, 0, 30), birthSentAs(2026, time.March, 6), true},
		{"YearsBefore", tiranaClock(2026, time.March, 5, 10, 0), birthSentAs(2008, time.March, 6), false},
	} {
		for sent, born := range tc.born {
			for _, zb := range arrivals {
				for _, zi := range arrivals {
					b := born.In(zb)
					age := Age{Group: AgeGroupMinor, Birth: &b, IdentifiedAt: tc.identified.In(zi)}
					if got := age.BornAfterIdentified(); got != tc.after {
						t.Errorf("%s, born %s (%s), identified %s: BornAfterIdentified %v, want %v", tc.name, b.Format(time.RFC3339), sent,
							age.IdentifiedAt.Format(time.RFC3339), got, tc.after)
					}
				}
			}
		}
	}
	if (Age{Group: AgeGroupMinor, IdentifiedAt: tiranaClock(2026, time.March, 5, 10, 0)}).BornAfterIdentified() {
		t.Error("no date of birth: born after the identification")
	}
}
