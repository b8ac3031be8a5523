package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// Ages stored while the age rules read UTC's days (until 2026-12-07,
// twentieth session), which Tirana's calendar contradicts.
var (
	// identifiedByDay is identified at 10:00 in Tirana, on 10 March 2024
	// in Tirana and in UTC alike.
	identifiedByDay = time.Date(2024, time.March, 10, 9, 0, 0, 0, time.UTC)
	// bornTheDayAfter turns 18 the day after identifiedByDay, sent as
	// Tirana's midnight (23:00 UTC on the day of identification): ADULT by
	// UTC's days, MINOR by Tirana's.
	bornTheDayAfter = time.Date(2006, time.March, 11, 0, 0, 0, 0, domain.Tirana)
	// identifiedAfterMidnight is identified at 00:30 in Tirana on 10
	// March 2024, 23:30 UTC on the 9th.
	identifiedAfterMidnight = time.Date(2024, time.March, 9, 23, 30, 0, 0, time.UTC)
	// bornThatDay turns 18 on 10 March 2024, sent as UTC's midnight:
	// identified at identifiedAfterMidnight, MINOR by UTC's days (the 9th),
	// ADULT by Tirana's.
	bornThatDay = time.Date(2006, time.March, 10, 0, 0, 0, 0, time.UTC)
	// bornTwoDaysAfter is born two days after identifiedByDay, sent as
	// Tirana's midnight (23:00 UTC the day after the identification): the
	// day of identification nowhere (UTC+14 is a day ahead at most), so
	// after it by Tirana's days, not by UTC's.
	bornTwoDaysAfter = time.Date(2024, time.March, 12, 0, 0, 0, 0, domain.Tirana)
	// newbornThatDay is born on the day in Tirana of
	// identifiedAfterMidnight, sent as Tirana's midnight: not after it.
	newbornThatDay = time.Date(2024, time.March, 10, 0, 0, 0, 0, domain.Tirana)
)

// storedVictim is a victim of age group group, born at birth (nil: no
// date of birth recorded), identified at identified, named pseudonym, to
// be created through ent directly: the API refuses an age group the date
// of birth contradicts.
func storedVictim(c *ent.Client, pseudonym string, group domain.AgeGroup, birth *time.Time, identified time.Time) *ent.VictimCreate {
	return c.Victim.Create().SetPseudonym(pseudonym).SetSex(domain.SexFemale).SetAgeGroup(group).
		SetIdentificationStatus(domain.IdentificationStatusPotentialVictim).SetIdentifiedBy(domain.IdentifyingBodyStatePolice).
		SetIdentifiedAt(identified).SetRegion(domain.RegionTirane).SetNillableDateOfBirth(birth).
		SetFormsOfExploitation([]domain.Exploitation{domain.ExploitationSexual})
}

// runAgeConflicts runs `casegraph victims age-conflicts args…` in-process,
// through run as main does, and returns its stdout and error.
func runAgeConflicts(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errs bytes.Buffer
	err := run(context.Background(), append([]string{"victims", "age-conflicts"}, args...), &out, &errs)
	return out.String(), err
}

// commandReadsOfBirth are the events recording the dates of birth the
// command read, in chain order.
func commandReadsOfBirth(t *testing.T, db *database.DB, f audit.Filter) []audit.Event {
	t.Helper()
	return commandReads(t, db, "Victim.dateOfBirth", f)
}

// commandReads are the events recording the command's reads of field, in
// chain order.
func commandReads(t *testing.T, db *database.DB, field string, f audit.Filter) []audit.Event {
	t.Helper()
	f.Kind, f.ActorSubject, f.Field = audit.FieldAccess, commandActor, field
	events, err := audit.Query(context.Background(), db.Client, audit.Scope{All: true}, f, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// TestVictimsAgeConflicts: `casegraph victims age-conflicts` lists the
// victims whose ages an update may not keep by today's rules: a stored age
// group the date of birth contradicts (domain.Age.GroupByBirth), either
// way, or the exact age does (domain.Age.GroupByExactAge, since
// 2026-12-07, twenty-first session: ADULT beside an exact age of 9, which
// casework refused with no migration naming such victims), with their
// GraphQL id and the two age groups, and a date of birth
// after the day of identification (domain.Age.BornAfterIdentified), with
// the id alone, that line only even when the age group is contradicted
// too (casework refuses the date of birth first); a newborn identified on
// its day of birth in Tirana is not listed. Nothing that identifies them;
// it exits 1 then (exitStatus), 0 once they are mended, 2 when it cannot
// run. Every exact age and date of birth it read is in the audit trail,
// found by the victim's id.
func TestVictimsAgeConflicts(t *testing.T) {
	commandBackends(t, func(t *testing.T, db *database.DB) {
		ctx := viewer.SystemContext(context.Background())
		c := db.Client
		adultByUTC := storedVictim(c, "V-2024-0001", domain.AgeGroupAdult, &bornTheDayAfter, identifiedByDay).SaveX(ctx)
		minorByUTC := storedVictim(c, "V-2024-0002", domain.AgeGroupMinor, &bornThatDay, identifiedAfterMidnight).SaveX(ctx)
		agrees := storedVictim(c, "V-2024-0003", domain.AgeGroupMinor, &bornTheDayAfter, identifiedByDay).SaveX(ctx)
		noBirth := storedVictim(c, "V-2024-0004", domain.AgeGroupAdult, nil, identifiedByDay).SetExactAge(30).SaveX(ctx)
		bornAfter := storedVictim(c, "V-2024-0005", domain.AgeGroupMinor, &bornTwoDaysAfter, identifiedByDay).SaveX(ctx)
		// Stored ADULT too, which no rule let: said born after alone.
		bornAfterAdult := storedVictim(c, "V-2024-0006", domain.AgeGroupAdult, &bornTwoDaysAfter, identifiedByDay).SaveX(ctx)
		newborn := storedVictim(c, "V-2024-0007", domain.AgeGroupMinor, &newbornThatDay, identifiedAfterMidnight).SaveX(ctx)
		// Stored ADULT beside an exact age of 9, with no date of birth.
		adultAtNine := storedVictim(c, "V-2024-0008", domain.AgeGroupAdult, nil, identifiedByDay).SetExactAge(9).SaveX(ctx)
		// Neither an exact age nor a date of birth: not read.
		noAges := storedVictim(c, "V-2024-0009", domain.AgeGroupAdult, nil, identifiedByDay).SaveX(ctx)

		out, err := runAgeConflicts(t)
		want := fmt.Sprintf("CONFLICT victim %d: age group ADULT stored, MINOR by the date of birth\n", adultByUTC.ID) +
			fmt.Sprintf("CONFLICT victim %d: age group MINOR stored, ADULT by the date of birth\n", minorByUTC.ID) +
			fmt.Sprintf("BORN-AFTER-IDENTIFICATION victim %d\n", bornAfter.ID) +
			fmt.Sprintf("BORN-AFTER-IDENTIFICATION victim %d\n", bornAfterAdult.ID) +
			fmt.Sprintf("CONFLICT victim %d: age group ADULT stored, MINOR by the exact age\n", adultAtNine.ID) +
			"5 of 8 victims with an exact age or a date of birth to mend with updateVictim: 1 with an age group the exact age contradicts, 2 with one the date of birth contradicts, 2 born after the day of identification (docs/domain.md, Consent)\n"
		if out != want || !errors.Is(err, errAgeConflicts) || exitStatus(err) != 1 {
			t.Errorf("victims age-conflicts: exit %d (%v)\n%s\nwant exit 1\n%s", exitStatus(err), err, out, want)
		}
		stored := []*ent.Victim{adultByUTC, minorByUTC, agrees, noBirth, bornAfter, bornAfterAdult, newborn, adultAtNine, noAges}
		for _, v := range stored {
			if strings.Contains(out, v.Pseudonym) {
				t.Errorf("the output names the victim %d by its pseudonym %s", v.ID, v.Pseudonym)
			}
		}
		for _, born := range []time.Time{bornTheDayAfter, bornThatDay, bornTwoDaysAfter, newbornThatDay} {
			for _, layout := range []string{time.DateOnly, "02.01.2006", "02/01/2006", "Jan 2"} {
				if s := born.Format(layout); strings.Contains(out, s) || strings.Contains(out, born.UTC().Format(layout)) {
					t.Errorf("the output holds a date of birth (%s)", s)
				}
			}
		}

		// One event about the eight victims read, naming both fields: the
		// exact ages are quasi-identifiers read as the dates of birth are.
		reads := commandReadsOfBirth(t, db, audit.Filter{})
		if len(reads) != 1 {
			t.Fatalf("%d events of the dates of birth read, want 1 about the eight victims with an exact age or one: %+v", len(reads), reads)
		}
		e := reads[0]
		if got, want := e.EntityIDs(), []int{adultByUTC.ID, minorByUTC.ID, agrees.ID, noBirth.ID, bornAfter.ID, bornAfterAdult.ID, newborn.ID, adultAtNine.ID}; !slices.Equal(got, want) || e.EntityType != "Victim" ||
			!slices.Equal(e.Fields, []string{"Victim.dateOfBirth", "Victim.exactAge"}) ||
			e.Decision != audit.Allowed || e.Rule != "system work" || !strings.HasPrefix(e.Operation, "victims age-conflicts") || e.ActorAgency != commandActor {
			t.Errorf("the event of the reads: records %v (want %v), %+v", got, want, e)
		}
		// A DPO asking who looked at a victim's exact age or date of birth
		// finds it; at one with neither, nothing.
		for _, field := range []string{"Victim.exactAge", "Victim.dateOfBirth"} {
			for _, v := range []*ent.Victim{minorByUTC, adultAtNine} {
				if n := len(commandReads(t, db, field, audit.Filter{EntityType: "Victim", EntityID: v.ID})); n != 1 {
					t.Errorf("%d events found of %s about victim %d, want 1", n, field, v.ID)
				}
			}
			if n := len(commandReads(t, db, field, audit.Filter{EntityType: "Victim", EntityID: noAges.ID})); n != 0 {
				t.Errorf("%d events found of %s about victim %d, who has no exact age nor date of birth, want 0", n, field, noAges.ID)
			}
		}

		if db.Dialect == dialect.SQLite {
			// A batch whose reads cannot be recorded is not printed: the
			// event is written before its lines, and the command fails.
			t.Run("nothing listed when its reads cannot be recorded", func(t *testing.T) {
				refuseAuditAppends(t, db)
				out, err := runAgeConflicts(t)
				if err == nil || errors.Is(err, errAgeConflicts) || exitStatus(err) != 2 || !strings.Contains(err.Error(), "audit trail") || out != "" {
					t.Errorf("the trail refuses the events, yet: exit %d (%v), printed:\n%s", exitStatus(err), err, out)
				}
			})
		}

		// Mended: the age groups their exact ages and dates of birth give,
		// and dates of birth on the day of identification.
		c.Victim.UpdateOne(adultAtNine).SetAgeGroup(domain.AgeGroupMinor).ExecX(ctx)
		c.Victim.UpdateOne(adultByUTC).SetAgeGroup(domain.AgeGroupMinor).ExecX(ctx)
		c.Victim.UpdateOne(minorByUTC).SetAgeGroup(domain.AgeGroupAdult).ExecX(ctx)
		c.Victim.UpdateOne(bornAfter).SetDateOfBirth(time.Date(2024, time.March, 10, 0, 0, 0, 0, domain.Tirana)).ExecX(ctx)
		c.Victim.UpdateOne(bornAfterAdult).SetDateOfBirth(time.Date(2006, time.March, 10, 0, 0, 0, 0, domain.Tirana)).ExecX(ctx)
		out, err = runAgeConflicts(t)
		if want := "OK: 8 victims with an exact age or a date of birth, none born after the day of identification nor with an age group either contradicts\n"; out != want || err != nil {
			t.Errorf("victims age-conflicts once mended: %v\n%s\nwant exit 0\n%s", err, out, want)
		}
		if n := len(commandReadsOfBirth(t, db, audit.Filter{})); n != 2 {
			t.Errorf("%d events of the dates of birth read after two runs, want 2", n)
		}

		// A failure to run is not a finding.
		if _, err := runAgeConflicts(t, "--format", "csv"); err == nil || exitStatus(err) != 2 {
			t.Errorf("victims age-conflicts --format csv: %v, exit %d, want a refusal, exit 2", err, exitStatus(err))
		}
	})
}

// TestVictimsAgeConflictsInBatches: the command reads the victims with a
// date of birth 1,000 at a time in the order of their ids, each batch with
// one read and one append to the audit trail (an event about its victims),
// and one read more to find the end when their number is a multiple of
// 1,000: a victim at either side of a batch's end is listed, once, and
// counted by its kind.
func TestVictimsAgeConflictsInBatches(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := viewer.SystemContext(context.Background())
		const withBirth = 2*ageConflictsBatch + 1
		conflicting := []int{0, ageConflictsBatch - 1, ageConflictsBatch, withBirth - 1} // the first and last of each batch but the last's only
		// Of them, the first of the second batch is born after its
		// identification.
		const bornAfter = ageConflictsBatch
		line := func(i, id int) string {
			if i == bornAfter {
				return fmt.Sprintf("BORN-AFTER-IDENTIFICATION victim %d\n", id)
			}
			return fmt.Sprintf("CONFLICT victim %d: age group ADULT stored, MINOR by the date of birth\n", id)
		}
		var builders []*ent.VictimCreate
		for i := range withBirth {
			group, born := domain.AgeGroupMinor, &bornTheDayAfter
			switch {
			case i == bornAfter:
				born = &bornTwoDaysAfter
			case slices.Contains(conflicting, i):
				group = domain.AgeGroupAdult
			}
			builders = append(builders, storedVictim(db.Client, fmt.Sprintf("V-2024-%05d", len(builders)), group, born, identifiedByDay))
			if i%700 == 0 { // victims without a date of birth among them, which it does not read
				builders = append(builders, storedVictim(db.Client, fmt.Sprintf("V-2024-%05d", len(builders)), domain.AgeGroupAdult, nil, identifiedByDay))
			}
		}
		var victims []*ent.Victim
		for chunk := range slices.Chunk(builders, 500) {
			victims = append(victims, db.Client.Victim.CreateBulk(chunk...).SaveX(ctx)...)
		}
		var want strings.Builder
		var dated []*ent.Victim // the victims with a date of birth, in the order of their ids
		for _, v := range victims {
			if v.DateOfBirth == nil {
				continue
			}
			if slices.Contains(conflicting, len(dated)) {
				want.WriteString(line(len(dated), v.ID))
			}
			dated = append(dated, v)
		}

		// An append to the trail: begin, the chain's lock (PostgreSQL's
		// advisory lock; SQLite's transaction excludes other writers), its
		// last event, the events, their records, commit.
		appendStatements := map[string]int{dialect.SQLite: 5, dialect.Postgres: 6}[db.Dialect]
		counted, statements := testdb.CountingStatements(db)
		for _, tc := range []struct {
			name             string
			read, statements int
			batches          []int
		}{
			// The last batch's one victim is an event's own record: no
			// records to insert.
			{"2,001 with a date of birth: 3 batches", withBirth, 3*(1+appendStatements) - 1, []int{1000, 1000, 1}},
			{"2,000: 2 batches and a read that finds the end", withBirth - 1, 3 + 2*appendStatements, []int{1000, 1000}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dated = dated[:tc.read]
				if tc.read < withBirth {
					db.Client.Victim.UpdateOneID(victims[len(victims)-1].ID).ClearDateOfBirth().ExecX(ctx)
					want.Reset()
					for _, i := range conflicting[:len(conflicting)-1] {
						want.WriteString(line(i, dated[i].ID))
					}
				}
				before := len(commandReadsOfBirth(t, db, audit.Filter{}))
				statements.Store(0)
				var out bytes.Buffer
				found, err := listAgeConflicts(ctx, counted, &out)
				if err != nil {
					t.Fatal(err)
				}
				wantFound := ageFindings{read: tc.read, byBirth: strings.Count(want.String(), "CONFLICT"), bornAfter: 1}
				if found != wantFound || out.String() != want.String() {
					t.Errorf("%+v:\n%s\nwant %+v:\n%s", found, out.String(), wantFound, want.String())
				}
				if n := statements.Load(); int(n) != tc.statements {
					t.Errorf("%d statements, want %d", n, tc.statements)
				}
				var ids []int
				var sizes []int
				for _, e := range commandReadsOfBirth(t, db, audit.Filter{})[before:] {
					ids = append(ids, e.EntityIDs()...)
					sizes = append(sizes, len(e.EntityIDs()))
				}
				wantIDs := make([]int, len(dated))
				for i, v := range dated {
					wantIDs[i] = v.ID
				}
				if !slices.Equal(sizes, tc.batches) || !slices.Equal(ids, wantIDs) {
					t.Errorf("events about %v victims, want %v; every victim with a date of birth once: %v", sizes, tc.batches, slices.Equal(ids, wantIDs))
				}
			})
		}
	})
}
