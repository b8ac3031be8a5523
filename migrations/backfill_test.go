package migrations_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/pressly/goose/v3"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/consent"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/migrations"
	"github.com/casegraph/casegraph/viewer"
)

// subjectVictimMigration is the migration that added and filled
// case_events.subject_victim_id; the one before it is the version to go
// back to.
const subjectVictimMigration, beforeSubjectVictim = 20261208090000, 20261207090000

// TestSubjectVictimBackfill: the migration that adds the victim a timeline
// entry concerns fills it for the entries written before it. Over the demo
// data and entries about a victim, a referral, a support service and a
// subject that is no number, the column after migrating down and up again
// is the victim the test reads from the subject's own record.
func TestSubjectVictimBackfill(t *testing.T) {
	overDemo(t, func(t *testing.T, ctx context.Context, db *database.DB) {
		c := db.Client
		r := c.Referral.Query().FirstX(ctx)
		s := c.SupportService.Query().FirstX(ctx)
		caseID := c.CaseFile.Query().FirstIDX(ctx) // the case fixtureEntry writes on
		for _, subject := range []string{strconv.Itoa(r.VictimID), strconv.Itoa(r.ID), strconv.Itoa(s.ID), "case-7", strconv.Itoa(caseID)} {
			fixtureEntry(ctx, c).SetSubjectID(subject).ExecX(ctx)
		}

		againFrom(t, db, beforeSubjectVictim, subjectVictimMigration)

		concerns := map[string]int{} // the victim each subject concerns, read from its record
		for _, v := range c.Victim.Query().AllX(ctx) {
			concerns[strconv.Itoa(v.ID)] = v.ID
		}
		for _, x := range c.Referral.Query().AllX(ctx) {
			concerns[strconv.Itoa(x.ID)] = x.VictimID
		}
		for _, x := range c.SupportService.Query().AllX(ctx) {
			concerns[strconv.Itoa(x.ID)] = x.VictimID
		}
		for _, x := range c.Consent.Query().AllX(ctx) {
			concerns[strconv.Itoa(x.ID)] = x.VictimID
		}
		withVictim := 0
		for _, e := range c.CaseEvent.Query().AllX(ctx) {
			want, about := concerns[e.SubjectID]
			got := 0
			if e.SubjectVictimID != nil {
				got = *e.SubjectVictimID
				withVictim++
			}
			if !about {
				want = 0
			}
			if got != want {
				t.Errorf("entry %d (%s, subject %q): subject_victim_id %d, want %d", e.ID, e.Kind, e.SubjectID, got, want)
			}
		}
		if withVictim < 4 { // the three fixtures, and the demo's consents
			t.Errorf("%d entries concern a victim after the backfill, want the fixtures' three and the demo's consent entries", withVictim)
		}
	})
}

// dismissalRequestedMigration added and filled
// prosecutions.dismissal_requested_at.
const dismissalRequestedMigration, beforeDismissalRequested = 20261210090000, 20261209090000

// TestDismissalRequestedBackfill: the migration that dates a proceeding's
// dismissal request (a court had it) fills it for proceedings moved before
// it whose timeline records the request or that still wait on the court,
// with the earliest date it can have (the close of the investigation, else
// the registration: the timeline dates the recording, and a later date
// would refuse stages dated before it, a review), and leaves it empty for
// one the office dismissed alone.
func TestDismissalRequestedBackfill(t *testing.T) {
	overDemo(t, func(t *testing.T, ctx context.Context, db *database.DB) {
		c := db.Client
		ps := c.Prosecution.Query().Order(ent.Asc(prosecution.FieldID)).Limit(3).AllX(ctx)
		asked, waiting, alone := ps[0], ps[1], ps[2]
		closed := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
		c.CaseEvent.Create().SetCaseID(asked.CaseID).SetKind(domain.CaseEventKindProsecutionStageChanged).
			SetSummary("Proceeding " + asked.RegistrationNumber + " moved from INVESTIGATION_CLOSED to DISMISSAL_REQUESTED.").
			SetActorSubject("fixture").SetActorAgencyID(asked.OfficeID).SetSubjectID(strconv.Itoa(asked.ID)).ExecX(ctx)
		c.Prosecution.UpdateOne(asked).SetStage(domain.ProceedingStageDismissed).SetInvestigationClosedAt(closed).ExecX(ctx)
		waiting = c.Prosecution.UpdateOne(waiting).SetStage(domain.ProceedingStageDismissalRequested).ClearInvestigationClosedAt().SaveX(ctx)
		c.Prosecution.UpdateOne(alone).SetStage(domain.ProceedingStageDismissed).ExecX(ctx)

		againFrom(t, db, beforeDismissalRequested, dismissalRequestedMigration)
		for _, tc := range []struct {
			name string
			id   int
			want *time.Time
		}{
			{"recorded by its timeline: the close of its investigation", asked.ID, &closed},
			{"waiting on the court, its investigation not closed: its registration", waiting.ID, &waiting.RegisteredAt},
			{"dismissed by the office alone", alone.ID, nil},
		} {
			got := c.Prosecution.GetX(ctx, tc.id).DismissalRequestedAt
			if (got == nil) != (tc.want == nil) || got != nil && !got.Equal(*tc.want) {
				t.Errorf("%s: dismissal_requested_at %v, want %v", tc.name, got, tc.want)
			}
		}
	})
}

// TestConsentAgesBackfill: the migration that decides consents.given_under_16
// voids the victims' own consents recorded before it was kept that the
// victim's ages place under 16 when given (as recordConsent could not
// always see: an age recorded after the consent, a date of birth the
// recorder could not read), and no other: not a parent's, not an adult's
// of unknown age. Over the demo data (whose own consents are all of 16 and
// over) and fixtures for each way of knowing an age.
func TestConsentAgesBackfill(t *testing.T) {
	overDemo(t, func(t *testing.T, ctx context.Context, db *database.DB) {
		c := db.Client
		identified := time.Date(2024, 3, 10, 9, 0, 0, 0, time.UTC)
		given := identified.AddDate(0, 1, 0)
		victims := 0
		victim := func(group domain.AgeGroup, exact *int, birth *time.Time) *ent.Victim {
			victims++
			return ages{group, exact, birth, identified}.victim(ctx, c, fmt.Sprintf("V-1999-%04d", victims))
		}
		agencyID := c.Agency.Query().FirstIDX(ctx)
		consentOf := func(v *ent.Victim, by domain.ConsentGivenBy, at time.Time) int {
			return ownConsent(c, agencyID, v.ID, at).SetGivenBy(by).SaveX(ctx).ID
		}
		twelve, fifteen, seventeen := 12, 15, 17
		born := func(y, m, d int) *time.Time { b := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC); return &b }
		child := victim(domain.AgeGroupMinor, &twelve, nil)
		turning := victim(domain.AgeGroupMinor, &fifteen, nil)
		older := victim(domain.AgeGroupMinor, &seventeen, nil)
		adult := victim(domain.AgeGroupAdult, nil, born(2000, 5, 1))
		unknownAdult := victim(domain.AgeGroupAdult, nil, nil)
		unknownMinor := victim(domain.AgeGroupMinor, nil, nil)
		want := map[int]bool{
			consentOf(child, domain.ConsentGivenByVictim, given):                                        true,
			consentOf(child, domain.ConsentGivenByParentOrGuardian, given):                              false,
			consentOf(turning, domain.ConsentGivenByVictim, given):                                      true,
			consentOf(turning, domain.ConsentGivenByVictim, identified.AddDate(1, 0, 1)):                false, // 16 by then
			consentOf(older, domain.ConsentGivenByVictim, given):                                        false,
			consentOf(adult, domain.ConsentGivenByVictim, time.Date(2016, 4, 30, 0, 0, 0, 0, time.UTC)): true,  // backdated: 15
			consentOf(adult, domain.ConsentGivenByVictim, time.Date(2016, 5, 1, 0, 0, 0, 0, time.UTC)):  false, // the 16th birthday
			consentOf(unknownAdult, domain.ConsentGivenByVictim, given):                                 false,
			consentOf(unknownMinor, domain.ConsentGivenByVictim, given):                                 true,
		}
		// As the rows stood before the column was kept.
		c.Consent.Update().SetGivenUnder16(false).ExecX(ctx)

		againFrom(t, db, migrations.ConsentAgesVersion-1, migrations.ConsentAgesVersion)

		voidedInDemo := 0
		for _, k := range c.Consent.Query().WithVictim().AllX(ctx) {
			w, fixture := want[k.ID]
			if !fixture {
				// The demo's own consents are of victims 16 and over,
				// its others a parent's: none is voided.
				if k.GivenUnder16 {
					voidedInDemo++
				}
				continue
			}
			if k.GivenUnder16 != w {
				t.Errorf("consent %d of %s given by %s at %s: given_under_16 %v, want %v",
					k.ID, k.Edges.Victim.Pseudonym, k.GivenBy, k.GivenAt.Format(time.DateOnly), k.GivenUnder16, w)
			}
		}
		if voidedInDemo != 0 {
			t.Errorf("%d of the demo's consents voided, want none", voidedInDemo)
		}
	})
}

// TestConsentAgesOnTiranasCalendar: the migration that decides
// consents.given_under_16 again once the age rules read Tirana's calendar
// changes the flags the UTC rule had set on the victims' own consents near
// a 16th birthday or an anniversary of the identification, both ways, and
// no other: not a parent's, nor the demo's, nor a consent's version or
// updatedAt (the ages are what changed). Each fixture's flag is first set
// as the UTC rule decided it.
func TestConsentAgesOnTiranasCalendar(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := viewer.SystemContext(context.Background())
		testdb.Demo(t, db, 1)
		c := db.Client
		tirana := func(y int, m time.Month, d, h, minute int) time.Time {
			return time.Date(y, m, d, h, minute, 0, 0, domain.Tirana)
		}
		victims := 0
		victim := func(exact *int, birth *time.Time, identified time.Time) *ent.Victim {
			victims++
			return ages{domain.AgeGroupMinor, exact, birth, identified}.victim(ctx, c, fmt.Sprintf("V-1998-%04d", victims))
		}
		agencyID := c.Agency.Query().FirstIDX(ctx)
		type fixture struct{ utc, tirana bool } // given_under_16 by UTC's calendar, and by Tirana's
		fixtures := map[int]fixture{}
		consentOf := func(v *ent.Victim, by domain.ConsentGivenBy, at time.Time, f fixture) {
			fixtures[ownConsent(c, agencyID, v.ID, at).SetGivenBy(by).SetGivenUnder16(f.utc).SaveX(ctx).ID] = f
		}
		fifteen := 15
		bornAtUTCMidnight := time.Date(2008, time.March, 5, 0, 0, 0, 0, time.UTC)
		// Born in summer time (from 30 March 2008), 16 in winter time
		// (until 02:00 on 31 March 2024), sent as Tirana's midnight: 16
		// at 23:00 the evening before by UTC's calendar.
		bornInSummerTime := tirana(2008, time.March, 31, 0, 0)
		byUTCBirth := victim(nil, &bornAtUTCMidnight, tirana(2023, time.June, 1, 12, 0))
		bySummerBirth := victim(nil, &bornInSummerTime, tirana(2023, time.June, 1, 12, 0))
		identifiedAtNoon := victim(&fifteen, nil, tirana(2024, time.March, 10, 12, 0))
		identifiedAfterMidnight := victim(&fifteen, nil, tirana(2024, time.March, 10, 0, 30))

		consentOf(byUTCBirth, domain.ConsentGivenByVictim, tirana(2024, time.March, 5, 0, 30), fixture{utc: true, tirana: false})
		consentOf(byUTCBirth, domain.ConsentGivenByVictim, tirana(2024, time.March, 4, 23, 30), fixture{utc: true, tirana: true})
		consentOf(byUTCBirth, domain.ConsentGivenByParentOrGuardian, tirana(2024, time.March, 4, 23, 30), fixture{utc: false, tirana: false})
		consentOf(bySummerBirth, domain.ConsentGivenByVictim, tirana(2024, time.March, 30, 23, 30), fixture{utc: false, tirana: true})
		consentOf(bySummerBirth, domain.ConsentGivenByVictim, tirana(2024, time.March, 31, 0, 30), fixture{utc: false, tirana: false})
		consentOf(identifiedAtNoon, domain.ConsentGivenByVictim, tirana(2025, time.March, 10, 0, 30), fixture{utc: true, tirana: false})
		consentOf(identifiedAfterMidnight, domain.ConsentGivenByVictim, tirana(2025, time.March, 9, 23, 30), fixture{utc: false, tirana: true})
		before := map[int]*ent.Consent{}
		for _, k := range c.Consent.Query().AllX(ctx) {
			before[k.ID] = k
		}

		againFrom(t, db, migrations.ConsentAgesOnTiranasCalendarVersion-1, migrations.ConsentAgesOnTiranasCalendarVersion)

		for _, k := range c.Consent.Query().WithVictim().AllX(ctx) {
			was := before[k.ID]
			want := was.GivenUnder16 // the demo's: of victims 16 and over, or a parent's
			if f, fixture := fixtures[k.ID]; fixture {
				want = f.tirana
			}
			if k.GivenUnder16 != want {
				t.Errorf("consent %d of %s given by %s at %s: given_under_16 %v, want %v",
					k.ID, k.Edges.Victim.Pseudonym, k.GivenBy, k.GivenAt.In(domain.Tirana).Format(time.RFC3339), k.GivenUnder16, want)
			}
			if k.Version != was.Version || !k.UpdatedAt.Equal(was.UpdatedAt) {
				t.Errorf("consent %d moved: version %d → %d, updatedAt %s → %s", k.ID, was.Version, k.Version, was.UpdatedAt, k.UpdatedAt)
			}
		}
	})
}

// TestConsentAgesStatements: deciding the consents' flags costs one read
// of the victims' own consents, and one update for every 1,000 consents
// whose flag changes, each way; nothing more however many consents there
// are. Over the demo data, 2,500 consents of a child stored as not voided
// and one of an adult stored as voided.
func TestConsentAgesStatements(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := viewer.SystemContext(context.Background())
		testdb.Demo(t, db, 1)
		c := db.Client
		twelve, thirty := 12, 30
		identified := time.Date(2024, 3, 10, 9, 0, 0, 0, time.UTC)
		child := ages{domain.AgeGroupMinor, &twelve, nil, identified}.victim(ctx, c, "V-1997-0001").ID
		adult := ages{domain.AgeGroupAdult, &thirty, nil, identified}.victim(ctx, c, "V-1997-0002").ID
		agencyID := c.Agency.Query().FirstIDX(ctx)
		given := identified.AddDate(0, 1, 0)
		const voiding = 2500
		for range voiding / 500 {
			builders := make([]*ent.ConsentCreate, 500)
			for i := range builders {
				builders[i] = ownConsent(c, agencyID, child, given)
			}
			c.Consent.CreateBulk(builders...).ExecX(ctx)
		}
		ownConsent(c, agencyID, adult, given).SetGivenUnder16(true).ExecX(ctx)

		for _, tc := range []struct {
			name       string
			statements int
		}{
			{"2,500 voided, 1 lifted: a read, 3 updates and 1", 1 + 3 + 1},
			{"again, nothing to change: the read", 1},
		} {
			tx, err := db.SQL.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			counted := &countingStatements{ExecQuerier: tx}
			if err := migrations.DecideConsentAges(ctx, counted, db.Dialect); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if counted.n != tc.statements {
				t.Errorf("%s: %d statements, want %d", tc.name, counted.n, tc.statements)
			}
		}
		if n := c.Consent.Query().Where(consent.VictimID(child), consent.GivenUnder16(true)).CountX(ctx); n != voiding {
			t.Errorf("%d of the child's consents voided, want %d", n, voiding)
		}
		if c.Consent.Query().Where(consent.VictimID(adult)).OnlyX(ctx).GivenUnder16 {
			t.Error("the adult's consent still voided")
		}
	})
}

// ages are a fixture victim's: its age group, exact age, date of birth
// and identification.
type ages struct {
	group      domain.AgeGroup
	exact      *int
	birth      *time.Time
	identified time.Time
}

// victim creates a victim of these ages, named pseudonym.
func (a ages) victim(ctx context.Context, c *ent.Client, pseudonym string) *ent.Victim {
	return c.Victim.Create().SetPseudonym(pseudonym).SetSex(domain.SexFemale).SetAgeGroup(a.group).
		SetIdentificationStatus(domain.IdentificationStatusPotentialVictim).SetIdentifiedBy(domain.IdentifyingBodyStatePolice).
		SetIdentifiedAt(a.identified).SetRegion(domain.RegionTirane).SetNillableExactAge(a.exact).SetNillableDateOfBirth(a.birth).
		SetFormsOfExploitation([]domain.Exploitation{domain.ExploitationSexual}).SaveX(ctx)
}

// ownConsent is the victim's own consent given at, recorded by the agency
// agencyID, stored as not voided: what to change before saving it.
func ownConsent(c *ent.Client, agencyID, victimID int, at time.Time) *ent.ConsentCreate {
	return c.Consent.Create().SetAgencyKinds([]domain.AgencyKind{domain.AgencyKindNgoShelter}).
		SetPurposes([]domain.ConsentPurpose{domain.ConsentPurposeServices}).SetGivenBy(domain.ConsentGivenByVictim).SetGivenAt(at).
		SetRecordedBy("fixture").SetRecordedByAgencyID(agencyID).SetVictimID(victimID)
}

// countingStatements counts the statements sent through it.
type countingStatements struct {
	entsql.ExecQuerier
	n int
}

func (c *countingStatements) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	c.n++
	return c.ExecQuerier.ExecContext(ctx, query, args...)
}

func (c *countingStatements) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	c.n++
	return c.ExecQuerier.QueryContext(ctx, query, args...)
}

// commitOrderMigration added case_events.commit_txid, the order of the
// timeline's feed (docs/mutations.md).
const commitOrderMigration, beforeCommitOrder = 20261213090000, 20261212090001

// TestCommitOrderOfEntriesBeforeIt: the entries written before the column
// (the demo's, in one transaction, and three more, one a transaction) all
// get one value, the migration's transaction on PostgreSQL and 0 on
// SQLite, so that the feed orders them by id, before every entry written
// after it, which gets its own writing transaction's (the column's
// default, whatever the writer: here ent, which never sets it).
func TestCommitOrderOfEntriesBeforeIt(t *testing.T) {
	overDemo(t, func(t *testing.T, ctx context.Context, db *database.DB) {
		c := db.Client
		entry := func() int { return fixtureEntry(ctx, c).SaveX(ctx).ID }
		for range 3 {
			entry()
		}

		againFrom(t, db, beforeCommitOrder, commitOrderMigration)

		values := map[int64]int{}
		for _, e := range c.CaseEvent.Query().AllX(ctx) {
			values[e.CommitTxid]++
		}
		if len(values) != 1 {
			t.Fatalf("the entries before the migration have %d values of commit_txid (%v), want one", len(values), values)
		}
		var before int64
		for v := range values {
			before = v
		}
		after := c.CaseEvent.GetX(ctx, entry()).CommitTxid
		switch db.Dialect {
		case dialect.Postgres:
			if before <= 0 || after <= before {
				t.Errorf("commit_txid %d before the migration, %d for an entry written after it; want a transaction id, then a greater one", before, after)
			}
		default:
			if before != 0 || after != 0 {
				t.Errorf("commit_txid %d before the migration, %d after it; want 0 on SQLite, whose ids are in commit order", before, after)
			}
		}
	})
}

// overDemo runs test on SQLite and on PostgreSQL over a year of the demo
// data, as the system: the fixtures and the checks write and read every
// row.
func overDemo(t *testing.T, test func(t *testing.T, ctx context.Context, db *database.DB)) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		testdb.Demo(t, db, 1)
		test(t, viewer.SystemContext(context.Background()), db)
	})
}

// fixtureEntry is an entry on the timeline of the first case, by the
// first agency, as the tests write one before running a migration again.
func fixtureEntry(ctx context.Context, c *ent.Client) *ent.CaseEventCreate {
	return c.CaseEvent.Create().SetCaseID(c.CaseFile.Query().FirstIDX(ctx)).SetKind(domain.CaseEventKindCaseUpdated).
		SetSummary("Fixture.").SetActorSubject("fixture").SetActorAgencyID(c.Agency.Query().FirstIDX(ctx))
}

// againFrom migrates db down to the version before migration, then up
// through migration (it runs again on the rows as they are) and the ones
// after it.
func againFrom(t *testing.T, db *database.DB, before, migration int64) {
	t.Helper()
	ctx := context.Background()
	p := provider(t, db)
	if _, err := p.DownTo(ctx, before); err != nil {
		t.Fatalf("migrating down: %v", err)
	}
	if res, err := p.UpTo(ctx, migration); err != nil || len(res) != 1 {
		t.Fatalf("migrating up: %v, %v", res, err)
	}
	// The later ones again too: ent reads the schema of the last.
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("migrating up to the last: %v", err)
	}
}

func provider(t *testing.T, db *database.DB) *goose.Provider {
	t.Helper()
	p, err := migrations.Provider(db.SQL, db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
