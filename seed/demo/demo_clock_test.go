package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/seed/demo"
)

// age is a person's age in whole years on day at.
func age(dob, at time.Time) int {
	y := at.Year() - dob.Year()
	if at.Month() < dob.Month() || (at.Month() == dob.Month() && at.Day() < dob.Day()) {
		y--
	}
	return y
}

// dump is a canonical JSON form of every row Load wrote (agencies without
// their timestamps, which are real time).
func dump(t *testing.T, client *ent.Client) []byte {
	t.Helper()
	w := load(t, client)
	type agencyRow struct {
		ID                 int
		Code, Name, Parent string
		Kind               domain.AgencyKind
	}
	var agencies []agencyRow
	for _, a := range w.agencies {
		r := agencyRow{ID: a.ID, Code: a.Code, Name: a.Name, Kind: a.Kind}
		if a.ParentID != nil {
			r.Parent = w.agencies[*a.ParentID].Code
		}
		agencies = append(agencies, r)
	}
	slices.SortFunc(agencies, func(a, b agencyRow) int { return a.ID - b.ID })
	for _, e := range w.events {
		// The transaction that wrote the entry, PostgreSQL's (0 on
		// SQLite): the database's, not the demo's.
		e.CommitTxid = 0
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, v := range []any{agencies, w.cases, w.victims, w.suspects, w.pros, w.charges, w.decisions, w.referrals,
		w.services, w.consents, w.events, w.assignments, w.links, w.defendants} {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestDemoDeterministic: the same seed and date give the same data, byte
// for byte; another seed, or another date, other data.
func TestDemoDeterministic(t *testing.T) {
	ctx := context.Background()
	run := func(s int64, today time.Time) []byte {
		client := testdb.SQLite(t).Client
		if _, err := demo.Load(ctx, client, demo.Options{Scale: 1, Seed: s, Today: today}); err != nil {
			t.Fatalf("Load(seed %d, %v): %v", s, today, err)
		}
		return dump(t, client)
	}
	// The same day at another hour is the same date.
	a, b := run(42, demoToday), run(42, demoToday.Add(5*time.Hour))
	sameDump(t, "same seed and date, different data", "one day", a, "an hour later", b)
	if bytes.Equal(a, run(43, demoToday)) {
		t.Fatal("different seeds, same data")
	}
	if bytes.Equal(a, run(42, demoToday.AddDate(0, 0, 1))) {
		t.Fatal("different dates, same data")
	}
}

// TestDemoEndsWhereTheClockIs seeds as of several dates: the current year
// has cases, nothing happens on or after the date, and the investigations
// still open are a mix of ones within their deadline and overdue ones, as
// in a live system, not all overdue because the demo stopped years ago.
func TestDemoEndsWhereTheClockIs(t *testing.T) {
	for _, today := range []time.Time{
		time.Date(2026, time.December, 3, 17, 0, 0, 0, time.UTC),
		time.Date(2027, time.March, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2028, time.February, 29, 23, 59, 0, 0, time.UTC), // a leap day
	} {
		t.Run(today.Format(time.DateOnly), func(t *testing.T) {
			client := testdb.SQLite(t).Client
			if _, err := demo.Load(context.Background(), client, demo.Options{Scale: 1, Seed: 1, Today: today}); err != nil {
				t.Fatalf("Load: %v", err)
			}
			w := load(t, client)
			// Worked out here, not asked of the package under test.
			asOf := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
			currentYear := today.Year()
			thisYear, latest := 0, time.Time{}
			for _, c := range w.cases {
				if c.OpenedAt.Year() == currentYear {
					thisYear++
				}
				if c.OpenedAt.After(latest) {
					latest = c.OpenedAt
				}
			}
			for _, e := range w.events {
				if e.At.After(latest) {
					latest = e.At
				}
			}
			if thisYear == 0 {
				t.Errorf("no case opened in %d", currentYear)
			}
			if !latest.Before(asOf) {
				t.Errorf("something happens at %v, on or after the demo's date %v", latest, asOf)
			}
			if asOf.Sub(latest) > 7*24*time.Hour {
				t.Errorf("the last thing happens at %v, more than a week before %v", latest, asOf)
			}
			within, overdue := 0, 0
			for _, p := range w.pros {
				if p.Stage != domain.ProceedingStageUnderInvestigation {
					continue
				}
				if p.InvestigationDeadline.Before(asOf) {
					overdue++
				} else {
					within++
				}
			}
			open := within + overdue
			t.Logf("%d cases in %d; open investigations: %d within their deadline, %d overdue", thisYear, currentYear, within, overdue)
			if open == 0 || within < open/4 || overdue == 0 {
				t.Errorf("open investigations: %d within their deadline, %d overdue; want at least a quarter within and some overdue", within, overdue)
			}
		})
	}
}

func TestDemoScaled(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const scale = 4
	client := testdb.SQLite(t).Client
	st, err := demo.Load(context.Background(), client, demo.Options{Scale: scale, Seed: 3, Today: demoToday})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Logf("scale %d: %+v", scale, st)
	// Five years, and the current one up to 14 September (256 days).
	share := 256.0 / 365
	if st.Cases < (250+int(50*share))*scale || st.Cases > (300+int(60*share)+1)*scale ||
		st.Victims < (405+int(81*share))*scale || st.Victims > (795+int(159*share)+1)*scale {
		t.Errorf("scale %d: %d cases, %d victims", scale, st.Cases, st.Victims)
	}
}

// TestDemoLargeScale loads SEED_TEST_SCALE times the Albanian volumes and
// reports the time, e.g. SEED_TEST_SCALE=100 go test -run TestDemoLargeScale -v ./seed/demo/
func TestDemoLargeScale(t *testing.T) {
	scale, _ := strconv.Atoi(os.Getenv("SEED_TEST_SCALE"))
	if scale < 1 {
		t.Skip("set SEED_TEST_SCALE to run")
	}
	client := testdb.SQLite(t).Client
	start := time.Now()
	st, err := demo.Load(context.Background(), client, demo.Options{Scale: scale, Seed: 1})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Logf("scale %d on SQLite in %v: %+v", scale, time.Since(start).Round(time.Millisecond), st)
}

func BenchmarkDemoScale10(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		client := testdb.SQLite(b).Client
		b.StartTimer()
		if _, err := demo.Load(context.Background(), client, demo.Options{Scale: 10, Seed: int64(i)}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = client.Close()
		b.StartTimer()
	}
}

// TestDemoSameOnBothDatabases: the same seed and date give the same rows,
// ids included, on SQLite and on PostgreSQL, so that an id in an example
// (README, docs/) is the demo's on either database. Until 2026-12-07
// (nineteenth session) SQLite's ids were one above PostgreSQL's: its
// sequences stood at the first id of each type's range, where
// PostgreSQL's identities start.
func TestDemoSameOnBothDatabases(t *testing.T) {
	ctx := context.Background()
	run := func(db *database.DB) []byte {
		if _, err := demo.Load(ctx, db.Client, demo.Options{Scale: 1, Seed: 42, Today: demoToday}); err != nil {
			t.Fatalf("Load on %s: %v", db.Dialect, err)
		}
		return dump(t, db.Client)
	}
	a, b := run(testdb.SQLite(t)), run(testdb.Postgres(t))
	sameDump(t, "the same seed and date, other rows", "SQLite", a, "PostgreSQL", b)
}

// sameDump fails t when two dumps differ, showing where they first do.
func sameDump(t *testing.T, what, nameA string, a []byte, nameB string, b []byte) {
	t.Helper()
	if bytes.Equal(a, b) {
		return
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	t.Fatalf("%s at byte %d:\n%s: %s\n%s: %s", what, i, nameA, a[lo:min(len(a), i+200)], nameB, b[lo:min(len(b), i+200)])
}
