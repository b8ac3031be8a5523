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
//
// A later start is never due earlier, where the clock is not monotone:
// the hour Tirana skips in spring (below), and the hour it lives twice in
// autumn (the last Sunday of October, 03:00 summer time → 02:00). A start
// in that hour's second pass is due when the hour ends (03:00 on the later
// day), as the spring gap's starts are: kept to its clock time, a start at
// 02:10 in the second pass was due forty minutes before one at 02:50 in
// the first, twenty minutes earlier (a hunt over HTTP).
func AddMonthsInTirana(t time.Time, n int) time.Time {
	t = t.In(Tirana)
	if inSecondPass(t) {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, Tirana)
	}
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

// inSecondPass reports whether t falls in the second pass of an hour
// Tirana's clock lives twice: an hour before, the clock read the same.
func inSecondPass(t time.Time) bool {
	before := t.Add(-time.Hour).In(Tirana)
	return before.Hour() == t.Hour() && before.Minute() == t.Minute() && before.Day() == t.Day()
}

// DayInTirana is the day of the instant t as an Albanian reads it
// (2006-01-02), for what the server tells people: a deadline at midnight
// in Tirana is that day, not the UTC day before it.
func DayInTirana(t time.Time) string {
	return t.In(Tirana).Format(time.DateOnly)
}

// StartOfDayInTirana is the first instant of t's day on Tirana's calendar
// (midnight there, which every day has: the clock changes at 02:00 and
// 03:00), in UTC. A record dated by its day may be sent as that day's
// local midnight (2025-03-02T00:00:00+01:00, the UTC day before) or UTC's:
// both are on or after it.
func StartOfDayInTirana(t time.Time) time.Time {
	y, m, d := t.In(Tirana).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Tirana).UTC()
}

// MonthInTirana is the month (2006-01) of the instant t on Tirana's
// calendar: the month the statistics count t in, whatever offset it came
// with (docs/statistics.md). A day sent as its local midnight
// (2025-01-01T00:00:00+01:00, which is 2024-12-31T23:00:00Z) is in
// January 2025, not in December 2024 as UTC's calendar has it. The one
// definition: PostgreSQL's statements name the same zone
// (Tirana.String()), and SQLite's call this (database.SQLiteMonthInTirana).
func MonthInTirana(t time.Time) string {
	return t.In(Tirana).Format("2006-01")
}
