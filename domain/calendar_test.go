package domain

import (
	"testing"
	"time"
)

// TestMonthsInTiranaWhateverTheZone: an investigation's months are
// Tirana's calendar months, and the same instant gives the same deadline
// whatever zone it arrived in (a client's offset; lib/pq reads a time in
// the PostgreSQL session's TimeZone). Until the seventeenth session the
// months were added on the calendar of the zone the time came in: UTC
// from the API, the session's zone from PostgreSQL.
func TestMonthsInTiranaWhateverTheZone(t *testing.T) {
	tirana := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, Tirana) }
	for _, c := range []struct {
		name     string
		from     time.Time
		months   int
		want     time.Time
		wantDay  string
		fromDay  string
		reasonIs string
	}{
		{"MidnightFirstOfMarchAcrossSummerTime", tirana(2025, time.March, 1, 0), 3, tirana(2025, time.June, 1, 0), "2025-06-01", "2025-03-01",
			"28 February 23:00 UTC is 1 March in Tirana: three months later is 1 June at midnight (CEST)"},
		{"MonthEnd", tirana(2025, time.August, 31, 9), 3, tirana(2025, time.November, 30, 9), "2025-11-30", "2025-08-31",
			"30 November, the last day of the shorter month, not 1 December"},
		{"MonthEndIntoFebruary", tirana(2024, time.November, 30, 0), 3, tirana(2025, time.February, 28, 0), "2025-02-28", "2024-11-30",
			"28 February, the last day of a February of 28 days"},
		{"LastHourOfTheYear", tirana(2025, time.December, 31, 23), 3, tirana(2026, time.March, 31, 23), "2026-03-31", "2025-12-31",
			"31 March, though the start is already 2026 in some zones"},
		{"BackOutOfSummerTime", tirana(2025, time.August, 15, 0), 3, tirana(2025, time.November, 15, 0), "2025-11-15", "2025-08-15",
			"midnight in Tirana again, an hour later in UTC"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, zone := range []*time.Location{time.UTC, Tirana, time.FixedZone("session", -10*3600), time.FixedZone("session", 14*3600)} {
				from := c.from.In(zone)
				got := AddMonthsInTirana(from, c.months)
				if !got.Equal(c.want) || got.Location() != time.UTC {
					t.Errorf("%s + %d months = %s, want %s in UTC (%s)", from.Format(time.RFC3339), c.months,
						got.Format(time.RFC3339), c.want.UTC().Format(time.RFC3339), c.reasonIs)
				}
				if day := DayInTirana(got); day != c.wantDay {
					t.Errorf("DayInTirana(%s) = %s, want %s", got.Format(time.RFC3339), day, c.wantDay)
				}
				if day := DayInTirana(from); day != c.fromDay {
					t.Errorf("DayInTirana(%s) = %s, want %s", from.Format(time.RFC3339), day, c.fromDay)
				}
			}
		})
	}
}
