package domain

import (
	"testing"
	"time"
)

// TestLaterStartIsNeverDueEarlier: an investigation started later is never
// due earlier. Across the spring-forward gap in Tirana (the last Sunday of
// March, 02:00 → 03:00) AddMonthsInTirana lets time.Date normalise the
// missing wall-clock time forward by the hour of the gap: a start at 02:30
// on 29 December 2025 is due at 03:30 CEST on 29 March 2026 (01:30 UTC),
// while a start forty minutes later, at 03:10, is due at 03:10 CEST
// (01:10 UTC), twenty minutes earlier. The same inversion bounds
// extensions: a deadline at 02:30 may be extended further than one at
// 03:10. The first instant after the gap (03:00 CEST) keeps the order.
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
