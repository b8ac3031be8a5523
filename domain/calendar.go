package domain

import (
	"time"
	// Tirana's rules travel with the binary: a server on a machine without
	// a zone database (a scratch container) counts the same months.
	_ "time/tzdata"
)

// Tirana is Albania's time (Europe/Tirane, with its summer time): the
// calendar the law's months and days are read on, whatever zone an
// instant arrived in (a client's offset, a PostgreSQL session's TimeZone).
var Tirana = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Tirane")
	if err != nil {
		panic("domain: the zone database has no Europe/Tirane: " + err.Error())
	}
	return loc
}()

// AddMonthsInTirana adds n calendar months to the instant t as Tirana's
// calendar reads it, keeping the wall-clock time and, when the day does
// not exist in the later month, keeping to that month's last day (31
// August + 3 months is 30 November, not 1 December). The result is in UTC,
// as every time the server stores (cmd/casegraph sets time.Local so).
func AddMonthsInTirana(t time.Time, n int) time.Time {
	t = t.In(Tirana)
	y, m, d := t.Date()
	lastDay := time.Date(y, m+time.Month(n)+1, 0, 12, 0, 0, 0, Tirana).Day()
	due := time.Date(y, m+time.Month(n), min(d, lastDay), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), Tirana)
	if due.Hour() != t.Hour() || due.Minute() != t.Minute() {
		// The clock time does not exist that day (the hour skipped when
		// summer time starts), and Go moves it on by the hour skipped: a
		// start at 02:30 was due at 03:30, later than one at 03:10 (a
		// review). It is due when that hour ends, the first moment after
		// the gap, as every start within it is.
		due = time.Date(due.Year(), due.Month(), due.Day(), due.Hour(), 0, 0, 0, Tirana)
	}
	return due.UTC()
}

// DayInTirana is the day of the instant t as an Albanian reads it
// (2006-01-02), for what the server tells people: a deadline at midnight
// in Tirana is that day, not the UTC day before it.
func DayInTirana(t time.Time) string {
	return t.In(Tirana).Format(time.DateOnly)
}
