package domain

import (
	"testing"
	"time"
)

// TestLaterStartIsNeverDueEarlier: an investigation started later is never
// due earlier. Across the spring-forward gap in Tirana (the last Sunday of
// March, 02:00 → 03:00) AddMonthsInTirana let time.Date move the missing
// wall-clock time on by the hour of the gap: a start at 02:30 on 29
// December 2025 was due at 03:30 CEST on 29 March 2026, a start forty
// minutes later, at 03:10, twenty minutes earlier, and extensions were
// bounded alike (a review). Every time in the gap is now due when the gap
// ends, 03:00 CEST.
func TestLaterStartIsNeverDueEarlier(t *testing.T) {
	for _, c := range []struct {
		name           string
		earlier, later time.Time
	}{
		{"IntoTheMarchGap", time.Date(2025, time.December, 29, 2, 30, 0, 0, Tirana), time.Date(2025, time.December, 29, 3, 10, 0, 0, Tirana)},
		{"OneMinuteApart", time.Date(2025, time.December, 29, 2, 59, 0, 0, Tirana), time.Date(2025, time.December, 29, 3, 0, 0, 0, Tirana)},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := AddMonthsInTirana(c.earlier, InvestigationDeadlineMonths), AddMonthsInTirana(c.later, InvestigationDeadlineMonths)
			if b.Before(a) {
				t.Errorf("start %s is due %s, but the later start %s is due earlier, %s",
					c.earlier.Format(time.RFC3339), a.In(Tirana).Format(time.RFC3339),
					c.later.Format(time.RFC3339), b.In(Tirana).Format(time.RFC3339))
			}
		})
	}
}

// TestNoLaterStartOfADayIsDueEarlier walks four years of starts, five
// minutes apart in UTC (so both passes of the autumn hour Tirana lives
// twice, and the spring gap on the later days), and checks that within a
// day of Tirana's calendar a later start is never due earlier, for the
// months an investigation and its extensions add and for a year. Across
// days it is not asked: 30 and 31 August are both due on 30 November, at
// their clock times, as the month-end rule says (docs/domain.md).
func TestNoLaterStartOfADayIsDueEarlier(t *testing.T) {
	from := time.Date(2024, time.January, 1, 0, 0, 0, 0, Tirana)
	until := from.AddDate(4, 0, 0)
	for _, months := range []int{1, InvestigationDeadlineMonths, 12} {
		var prevStart, prevDue time.Time
		for start := from; start.Before(until); start = start.Add(5 * time.Minute) {
			due := AddMonthsInTirana(start, months)
			if DayInTirana(start) == DayInTirana(prevStart) && due.Before(prevDue) {
				t.Fatalf("+%d months: start %s is due %s, but the later start %s is due earlier, %s", months,
					prevStart.In(Tirana).Format(time.RFC3339), prevDue.In(Tirana).Format(time.RFC3339),
					start.In(Tirana).Format(time.RFC3339), due.In(Tirana).Format(time.RFC3339))
			}
			prevStart, prevDue = start, due
		}
	}
}
