package database

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/casegraph/casegraph/domain"
)

// SQLiteMonthInTirana names the SQL function, on every SQLite connection
// this package opens, of the month (YYYY-MM) of a time column on Tirana's
// calendar: domain.MonthInTirana, the one definition, which PostgreSQL's
// statements reach with AT TIME ZONE 'Europe/Tirane'. SQLite has no zone
// database, so its own date functions can read a time in UTC and no
// other zone; computing Tirana's offset in SQL (the EU summer-time rule)
// would be a second definition, and wrong for the years Albania kept
// other rules (summer time ending in September until 1995, other days
// before 1985), which PostgreSQL's zone database and Go's both know.
const SQLiteMonthInTirana = "month_in_tirana"

func init() {
	sqlite.MustRegisterDeterministicScalarFunction(SQLiteMonthInTirana, 1, monthInTirana)
}

// monthInTirana is SQLiteMonthInTirana: NULL for NULL, an error for a
// value that is no time (a statement counting it fails rather than
// counting it in no month).
func monthInTirana(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	var s string
	switch v := args[0].(type) {
	case nil:
		return nil, nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return nil, fmt.Errorf("%s: a %T is not a time", SQLiteMonthInTirana, v)
	}
	t, ok := storedTime(s)
	if !ok {
		return nil, fmt.Errorf("%s: a text of %d bytes is not a time", SQLiteMonthInTirana, len(s))
	}
	return domain.MonthInTirana(t), nil
}

// storedTimeLayouts are the forms of a time SQLite may hold besides the
// driver's own (storedTime): those the driver reads back (SQLite's date
// functions' formats), after a trailing Z is taken off.
var storedTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// storedTime reads a time as SQLite holds it: the text the driver writes
// (time.Time.String: "2025-01-01 08:29:00.5 +0100 CET", perhaps with a
// monotonic reading after it), or one of storedTimeLayouts (without an
// offset: UTC, as SQLite's date functions read it).
func storedTime(s string) (time.Time, bool) {
	// The date, the clock and the offset are the text up to the end of
	// the offset; the zone's name after it says nothing more.
	if len(s) > 19 && s[10] == ' ' {
		if sp := strings.IndexByte(s[19:], ' '); sp >= 0 {
			if end := 19 + sp + 6; end <= len(s) {
				if t, err := time.Parse("2006-01-02 15:04:05.999999999 -0700", s[:end]); err == nil {
					return t, true
				}
			}
		}
	}
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range storedTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
