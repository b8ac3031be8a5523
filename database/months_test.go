package database_test

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
)

// TestSQLiteMonthInTirana: the SQL function reads every form of a time
// SQLite may hold (the driver's, with a fraction, a monotonic reading, any
// zone; SQLite's own, without an offset read as UTC) and names its month
// in Tirana; NULL is NULL, and a text that is no time fails the statement
// rather than being counted in no month.
func TestSQLiteMonthInTirana(t *testing.T) {
	db := testdb.SQLite(t)
	ctx := context.Background()
	for stored, want := range map[string]string{
		"2024-12-31 23:30:00 +0000 UTC":                   "2025-01", // 00:30 in Tirana
		"2024-12-31 22:59:59.999999999 +0000 UTC":         "2024-12",
		"2025-06-30 22:00:00.5 +0000 UTC m=+66.470000001": "2025-07", // summer time: 00:00:00.5
		"2025-01-01 00:30:00 +0100 CET":                   "2025-01",
		"2025-01-31 23:30:00 +0100 +0100":                 "2025-01",
		"2025-01-31 18:30:00 -0500 -0500":                 "2025-02", // 00:30 on 1 February in Tirana
		"2024-12-31 23:30:00":                             "2025-01",
		"2024-12-31T23:30:00Z":                            "2025-01",
		"2024-12-31T22:30:00-01:00":                       "2025-01",
		"2025-03-01":                                      "2025-03",
	} {
		var got string
		if err := db.SQL.QueryRowContext(ctx, "SELECT "+database.SQLiteMonthInTirana+"(?)", stored).Scan(&got); err != nil || got != want {
			t.Errorf("%s(%q) = %q, %v; want %q", database.SQLiteMonthInTirana, stored, got, err, want)
		}
	}
	var null *string
	if err := db.SQL.QueryRowContext(ctx, "SELECT "+database.SQLiteMonthInTirana+"(NULL)").Scan(&null); err != nil || null != nil {
		t.Errorf("%s(NULL) = %v, %v; want NULL", database.SQLiteMonthInTirana, null, err)
	}
	for _, bad := range []string{"yesterday", "2025-13-01 00:00:00 +0000 UTC", ""} {
		var got *string
		if err := db.SQL.QueryRowContext(ctx, "SELECT "+database.SQLiteMonthInTirana+"(?)", bad).Scan(&got); err == nil {
			t.Errorf("%s(%q) = %v; want the statement to fail", database.SQLiteMonthInTirana, bad, got)
		}
	}
}
