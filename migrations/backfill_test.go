package migrations_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/pressly/goose/v3"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
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
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := viewer.SystemContext(context.Background())
		testdb.Demo(t, db, 1)
		c := db.Client
		r := c.Referral.Query().FirstX(ctx)
		s := c.SupportService.Query().FirstX(ctx)
		caseID := c.CaseFile.Query().FirstIDX(ctx)
		agencyID := c.Agency.Query().FirstIDX(ctx)
		for _, subject := range []string{strconv.Itoa(r.VictimID), strconv.Itoa(r.ID), strconv.Itoa(s.ID), "case-7", strconv.Itoa(caseID)} {
			c.CaseEvent.Create().SetCaseID(caseID).SetKind(domain.CaseEventKindCaseUpdated).SetSummary("Fixture.").
				SetActorSubject("fixture").SetActorAgencyID(agencyID).SetSubjectID(subject).ExecX(ctx)
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
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := viewer.SystemContext(context.Background())
		testdb.Demo(t, db, 1)
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

// againFrom migrates db down to the version before migration, then up
// through migration alone: it runs again on the rows as they are.
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
}

func provider(t *testing.T, db *database.DB) *goose.Provider {
	t.Helper()
	fsys, err := migrations.FS(db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	gd := goose.DialectSQLite3
	if db.Dialect == dialect.Postgres {
		gd = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gd, db.SQL, fsys)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
