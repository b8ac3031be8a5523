package statistics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/viewer"
)

// TestYearClosesInMarch: a year is withheld whole until the first of March
// of the next year in Tirana (two months for late registrations), and
// shown from then on, from its edition; a caller without editions gets an
// error, not live counts. Until 2026-12-07 (nineteenth session) it closed
// on the first of March in UTC, an hour after Tirana's, whose calendar the
// months are now counted on; the clocks of this test were UTC's.
func TestYearClosesInMarch(t *testing.T) {
	db := testdb.SQLite(t)
	if _, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: 1, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	year := time.Now().UTC().Year() - 1 // the demo data ends today
	yearOf := func(when time.Time) *Table {
		t.Helper()
		e := NewEditions(db.Client, db.Dialect)
		e.now = func() time.Time { return when }
		ctx := WithEditions(viewer.SystemContext(context.Background()), e)
		got, err := Compute(ctx, db.Client, Victims, Query{Period: Year}, Control{K: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got.Cells {
			if c.Period == strconv.Itoa(year) {
				return &Table{Cells: []Cell{c}}
			}
		}
		t.Fatalf("no cell of %d: %+v", year, got.Cells)
		return nil
	}
	march := time.Date(year+1, time.March, 1, 0, 0, 0, 0, domain.Tirana) // 23:00 UTC on the last of February
	february := march.Add(-time.Minute)
	if c := yearOf(february).Cells[0]; !c.Suppressed || c.Count != nil {
		t.Errorf("%d on %s: %+v, want it withheld", year, february.Format(time.DateOnly), c)
	}
	if n, err := db.Client.QueryContext(context.Background(), "SELECT 1 FROM statistics_editions WHERE year = ?", year); err != nil {
		t.Fatal(err)
	} else if stored := n.Next(); n.Close() != nil || stored {
		t.Errorf("an edition was taken before %d closed", year)
	}
	if c := yearOf(march).Cells[0]; c.Suppressed || c.Count == nil || *c.Count == 0 {
		t.Errorf("%d on %s: %+v, want its count", year, march.Format(time.DateOnly), c)
	}

	if _, err := Compute(viewer.SystemContext(context.Background()), db.Client, Victims, Query{Period: Year}, Control{K: 5}); err == nil {
		t.Error("counts of people under disclosure control were computed without editions")
	}
}

// lookAll is what a national caller under k = 5 sees: victims by year,
// and the total and sexes of a range of closed years.
func lookAll(t *testing.T, e *Editions, c *ent.Client, from, to string) string {
	t.Helper()
	ctx := WithEditions(viewer.SystemContext(context.Background()), e)
	var out []any
	for _, q := range []Query{{Period: Year}, {Period: Year, From: from, To: to}, {GroupBy: []string{"SEX"}, From: from, To: to}} {
		tb, err := Compute(ctx, c, Victims, q, Control{K: 5})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tb)
	}
	return jsonOf(t, out)
}

// addVictim records a victim identified at at.
func addVictim(t *testing.T, c *ent.Client, at time.Time) *ent.Victim {
	t.Helper()
	return c.Victim.Create().SetPseudonym(fmt.Sprintf("V-%04d-9%06d", at.Year(), at.UnixNano()%1000000)).SetSex(domain.SexFemale).
		SetAgeGroup(domain.AgeGroupAdult).SetIdentificationStatus(domain.IdentificationStatusOfficialVictim).
		SetIdentifiedBy(domain.IdentifyingBodyStatePolice).SetIdentifiedAt(at).SetRegion(domain.RegionTirane).
		SaveX(viewer.SystemContext(context.Background()))
}

// firstVictimYear is the year of the earliest victim.
func firstVictimYear(t *testing.T, c *ent.Client) int {
	t.Helper()
	return c.Victim.Query().Order(ent.Asc(victim.FieldIdentifiedAt)).FirstX(viewer.SystemContext(context.Background())).IdentifiedAt.UTC().Year()
}

// TestLateRegistrationInAYearWithoutData: a victim registered late in a
// closed year that had no victims changes nothing a caller under
// disclosure control sees, and two servers over one database answer
// alike whatever was added and removed between their looks. When the
// years with editions were those of the live data, the year appeared
// (dark) at the next look and the numbers spanning it went from shown to
// suppressed: someone was registered in it (a review's finding); and a
// server that had read its editions before another took such a year never
// read it.
func TestLateRegistrationInAYearWithoutData(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		if _, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: 1, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		old := firstVictimYear(t, db.Client) - 2
		from, to := strconv.Itoa(old)+"-01", strconv.Itoa(old+3)+"-12"
		a := NewEditions(db.Client, db.Dialect)
		before := lookAll(t, a, db.Client, from, to)

		late := addVictim(t, db.Client, time.Date(old, 6, 15, 10, 0, 0, 0, time.UTC))
		if after := lookAll(t, a, db.Client, from, to); after != before {
			t.Errorf("one late registration in %d changed what a caller under k = 5 sees:\nbefore %s\nafter  %s", old, before, after)
		}
		b := NewEditions(db.Client, db.Dialect)
		onB := lookAll(t, b, db.Client, from, to)
		db.Client.Victim.DeleteOne(late).ExecX(viewer.SystemContext(context.Background()))
		if onA, restarted := lookAll(t, a, db.Client, from, to), lookAll(t, NewEditions(db.Client, db.Dialect), db.Client, from, to); onA != onB || onA != restarted || onA != before {
			t.Errorf("servers over one database disagree:\nA         %s\nB         %s\nrestarted %s", onA, onB, restarted)
		}
	})
}

// TestReportTakesNothingInsideItsSnapshot: the report prepares its
// editions, with its clock fixed, before it opens its transaction; a
// victim recorded in between, in a year that had none, makes no edition to
// take inside it (on SQLite a take there waits out the lock the
// transaction holds: a review's finding).
func TestReportTakesNothingInsideItsSnapshot(t *testing.T) {
	db := testdb.SQLiteFile(t)
	if _, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: 1, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	e := NewEditions(db.Client, db.Dialect)
	e.SetClock(func() time.Time { return now })
	ctx := WithEditions(viewer.SystemContext(context.Background()), e)
	if err := e.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	addVictim(t, db.Client, time.Date(firstVictimYear(t, db.Client)-1, 6, 15, 10, 0, 0, 0, time.UTC))
	tx, err := db.Client.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	taken := make(chan error, 1)
	go func() {
		_, err := Compute(ctx, tx.Client(), Victims, Query{Period: Year}, Control{K: 5})
		taken <- err
	}()
	select {
	case err := <-taken:
		if err != nil {
			t.Errorf("the report's table inside its snapshot: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the report's table waits inside its snapshot: an edition is being taken there")
	}
}

// TestTakeOutlivesItsRequest: a request whose deadline passes while the
// editions it needs are being taken ends then, with its context's error;
// the take goes on and stores them, and the next look is answered from
// them. PostgreSQL: another transaction holds statistics_editions in SHARE
// mode, so reads go on and the take's insert waits until it lets go.
func TestTakeOutlivesItsRequest(t *testing.T) {
	db := testdb.Postgres(t)
	if _, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: 1, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	holder, err := db.SQL.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback() }()
	if _, err := holder.Exec("LOCK TABLE statistics_editions IN SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	// Let go in any case, so that a request that waited for the take
	// (the fault this test is for) ends, and the test fails rather than hangs.
	letGo := time.AfterFunc(8*time.Second, func() { _ = holder.Rollback() })
	defer letGo.Stop()
	e := NewEditions(db.Client, db.Dialect)
	national := WithEditions(viewer.SystemContext(context.Background()), e)
	request, cancel := context.WithTimeout(national, 2*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := Compute(request, db.Client, Victims, Query{Period: Year}, Control{K: 5}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a look while the take waits: %v, want its deadline", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("the request ended %v after it began, long past its deadline", waited)
	}
	_ = holder.Rollback() // ErrTxDone if letGo did
	got, err := Compute(national, db.Client, Victims, Query{Period: Year}, Control{K: 5})
	if err != nil {
		t.Fatal(err)
	}
	var stored int
	if err := db.SQL.QueryRow("SELECT count(*) FROM statistics_editions").Scan(&stored); err != nil || stored == 0 {
		t.Fatalf("editions stored after the take: %d (%v)", stored, err)
	}
	shown := slices.ContainsFunc(got.Cells, func(c Cell) bool { return c.Count != nil })
	if !shown {
		t.Errorf("the look after the take shows no year: %+v", got.Cells)
	}
}

// TestAnswersKeptWithEditions: a scope's editions keep each answer asked
// of them once, a panel's size at most, and no more than
// maxAnsweredCells cells of answers in all.
func TestAnswersKeptWithEditions(t *testing.T) {
	var j joined
	sums := 0
	table := func(cells int) func() *Table {
		return func() *Table {
			sums++
			return &Table{Cells: make([]Cell, cells)}
		}
	}
	first := j.answered("victims by sex", table(10))
	if again := j.answered("victims by sex", table(10)); again != first || sums != 1 {
		t.Fatalf("asked twice, summed %d times (the same table: %v)", sums, again == first)
	}
	j.answered("too fine", table(maxKeptAnswerCells+1))
	j.answered("too fine", table(maxKeptAnswerCells+1))
	if sums != 3 {
		t.Errorf("an answer larger than a panel was kept (%d sums, want 3)", sums)
	}
	for i := 0; j.answerCells+maxKeptAnswerCells+1 <= maxAnsweredCells; i++ {
		j.answered(fmt.Sprint("panel ", i), table(maxKeptAnswerCells))
	}
	before := sums
	j.answered("one panel too many", table(maxKeptAnswerCells))
	if j.answerCells > maxAnsweredCells || len(j.answers) != 1 {
		t.Errorf("past the bound: %d cells in %d answers kept, want the answers started again (1 answer, at most %d cells)", j.answerCells, len(j.answers), maxAnsweredCells)
	}
	j.answered("one panel too many", table(maxKeptAnswerCells))
	if sums != before+1 {
		t.Errorf("the answer asked after the bound was not kept (%d sums, want %d)", sums, before+1)
	}
	// A name weighs: ten thousand answers of one cell under names of 10 KB
	// are not all kept.
	for i := range 10_000 {
		j.answered(fmt.Sprintf("%d %s", i, strings.Repeat("x", 10_000)), table(1))
	}
	if j.answerCells > maxAnsweredCells || len(j.answers) > maxAnsweredCells/100 {
		t.Errorf("%d answers under long names kept, %d cells", len(j.answers), j.answerCells)
	}
}

// TestTakeReadsOneSnapshot: the reads of a take agree with each other.
// On PostgreSQL they run side by side in transactions that import one
// snapshot; an agency registered after they began is seen by none of
// them, even by a read that starts after its commit. (SQLite's take reads
// in one transaction.)
func TestTakeReadsOneSnapshot(t *testing.T) {
	db := testdb.Postgres(t)
	ctx := viewer.SystemContext(context.Background())
	e := NewEditions(db.Client, db.Dialect)
	count := func(c *ent.Client) (int, error) { return c.Agency.Query().Count(ctx) }
	committed := make(chan struct{})
	var first, second int
	err := e.inSnapshot(ctx,
		func(_ context.Context, c *ent.Client) error {
			defer close(committed)
			var err error
			if first, err = count(c); err != nil {
				return err
			}
			return db.Client.Agency.Create().SetCode("registered-meanwhile").SetName("Registered meanwhile").
				SetKind(domain.AgencyKindNgoShelter).Exec(ctx)
		},
		func(_ context.Context, c *ent.Client) error {
			<-committed
			var err error
			second, err = count(c)
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	now, err := count(db.Client)
	if err != nil {
		t.Fatal(err)
	}
	if second != first || now != first+1 {
		t.Errorf("the take's reads counted %d and %d agencies, %d after it: want one snapshot (the same count twice) and the agency registered in between after it", first, second, now)
	}
}

// TestConcurrentTakesKeepThePool: takes of many scopes at once (after a
// year closes, every agency's first look) all finish. When each read side
// by side in four connections, taken one after another, more takes than a
// quarter of the pool held it all, each waiting for a connection another
// held, until the takes' five-minute bound (a review's finding).
func TestConcurrentTakesKeepThePool(t *testing.T) {
	db := testdb.Postgres(t)
	ctx, cancel := context.WithTimeout(viewer.SystemContext(context.Background()), 30*time.Second)
	defer cancel()
	e := NewEditions(db.Client, db.Dialect)
	takes := db.SQL.Stats().MaxOpenConnections/2 + 1
	errs := make(chan error, takes)
	for i := range takes {
		go func() { errs <- e.take(ctx, fmt.Sprintf("scope %d", i), []string{"2020"}, time.Time{}) }()
	}
	for range takes {
		if err := <-errs; err != nil {
			t.Fatalf("%d takes at once (a pool of %d connections): %v", takes, db.SQL.Stats().MaxOpenConnections, err)
		}
	}
}

// TestQueryNamedOnce: a query's filters name it sorted, once each, and
// without empty lists, so the same question asked with its values in
// another order, repeated, or with an empty filter is kept once
// (joined.answered) and cannot fill the scope's answers with copies.
func TestQueryNamedOnce(t *testing.T) {
	a := Query{GroupBy: []string{"SEX"}, Where: map[string][]string{"REGION": {"TIRANE", "DURRES", "TIRANE"}, "SEX": {}}}
	b := Query{GroupBy: []string{"SEX"}, Where: map[string][]string{"REGION": {"DURRES", "TIRANE"}}}
	na, err := json.Marshal(a.normalised())
	if err != nil {
		t.Fatal(err)
	}
	nb, err := json.Marshal(b.normalised())
	if err != nil {
		t.Fatal(err)
	}
	if string(na) != string(nb) {
		t.Errorf("one question named twice: %s and %s", na, nb)
	}
	if len(a.Where["REGION"]) != 3 {
		t.Errorf("normalised changed the query it was given: %v", a.Where)
	}
}
