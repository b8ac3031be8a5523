package migrations_test

import (
	"context"
	"strconv"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/pressly/goose/v3"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
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

		p := provider(t, db)
		if _, err := p.DownTo(ctx, beforeSubjectVictim); err != nil {
			t.Fatalf("migrating down: %v", err)
		}
		if res, err := p.UpTo(ctx, subjectVictimMigration); err != nil || len(res) != 1 {
			t.Fatalf("migrating up: %v, %v", res, err)
		}

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
