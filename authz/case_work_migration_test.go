package authz_test

// The standing table case_work while the migration that made it runs
// beside servers of the release before it.

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/migrations"
	"github.com/casegraph/casegraph/seed"
	"github.com/casegraph/casegraph/viewer"
)

// TestCaseWorkFollowsWritesDuringItsMigration: the migration that creates
// case_work (20261204100000) fills it with one INSERT … SELECT and only
// then creates the triggers that keep it. On PostgreSQL a write of a
// server still on the release before (a rolling deploy: `casegraph
// migrate` runs while the old servers serve) that commits after the
// INSERT's snapshot was neither in the rows filled nor seen by a trigger,
// and nothing mended it (a hunt, 2026-12-06): a court assigned to a case
// did not see it, and an agency that no longer led a case still saw it and
// read its victim's exact age. The migration after it
// (20261212090000_case_work_reconciled) reconciles the table under a lock
// that keeps writers out.
//
// The old server's transaction, begun before the migration, assigns
// court-durres to caseD2 (ADJUDICATING) and moves the lead of caseZ from
// border-police (its only tie to the case) to police-durres; it commits
// before the migration starts (the control) or while the migration waits
// for its locks.
func TestCaseWorkFollowsWritesDuringItsMigration(t *testing.T) {
	t.Run("CommittedBefore", func(t *testing.T) { caseWorkMigrationRace(t, false) })
	t.Run("CommittedDuring", func(t *testing.T) { caseWorkMigrationRace(t, true) })
}

func caseWorkMigrationRace(t *testing.T, during bool) {
	url := testdb.CreatePostgres(t)
	ctx := context.Background()
	db, err := database.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
		t.Fatal(err)
	}
	if err := seed.Agencies(ctx, db.Client); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, db.Client)
	c := db.Client
	sysctx := viewer.SystemContext(ctx)

	// caseZ: led by border-police, which has no assignment on it (as a
	// case whose lead was given to it by updateCase); victim vZ on it.
	caseZ := ok(c.CaseFile.Create().SetReference("DUR-2026-0099").SetTitle("Forced begging at the port").
		SetRegion(domain.RegionDurres).SetLeadAgencyID(f.id(t, "border-police")).SetOpenedAt(past).
		SetFormsOfExploitation([]domain.Exploitation{domain.ExploitationForcedBegging}).Save(sysctx))(t).ID
	vZ := ok(c.Victim.Create().SetPseudonym("V-2026-0099").SetSex(domain.SexFemale).SetAgeGroup(domain.AgeGroupAdult).
		SetIdentificationStatus(domain.IdentificationStatusPotentialVictim).SetIdentifiedBy(domain.IdentifyingBodyBorderPolice).
		SetIdentifiedAt(past).SetRegion(domain.RegionDurres).SetFormsOfExploitation([]domain.Exploitation{domain.ExploitationForcedBegging}).
		SetLegalName("legalName of V-2026-0099").SetExactAge(31).SetNationality("XK").Save(sysctx))(t).ID
	ok(c.CaseVictim.Create().SetCaseID(caseZ).SetVictimID(vZ).Save(sysctx))(t)

	// Back to the release before case_work.
	p, err := migrations.Provider(db.SQL, db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	const caseWorkMigration, beforeCaseWork = 20261204100000, 20261127132028
	if _, err := p.DownTo(ctx, beforeCaseWork); err != nil {
		t.Fatalf("migrating down: %v", err)
	}

	// A server of that release, in the middle of two mutations.
	old, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = old.Close() })
	tx, err := old.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_assignments (created_at, updated_at, part, assigned_at, case_id, agency_id)
		VALUES (now(), now(), 'ADJUDICATING', now(), $1, $2)`, f.caseD2, f.id(t, "court-durres")); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE case_files SET lead_agency_id = $1, version = version + 1, updated_at = now() WHERE id = $2`,
		f.id(t, "police-durres"), caseZ); err != nil {
		t.Fatal(err)
	}

	if !during {
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// `casegraph migrate` meanwhile.
	migrated := make(chan error, 1)
	go func() {
		_, err := p.UpTo(ctx, caseWorkMigration)
		migrated <- err
	}()
	// It fills case_work, then waits for the old server's locks to create
	// its triggers.
	if during {
		waitForLockWait(t, old)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-migrated; err != nil {
		t.Fatalf("migrating up to case_work: %v", err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("migrating up: %v", err)
	}

	// What case_work should hold and does not, and what it holds and
	// should not.
	for _, q := range []struct{ what, query string }{
		{"lacks", `SELECT via, agency_id, case_id FROM (
			SELECT 'lead' AS via, lead_agency_id AS agency_id, id AS case_id, id AS source_id FROM case_files
			UNION ALL SELECT 'assignment', agency_id, case_id, id FROM case_assignments
			UNION ALL SELECT 'prosecution', office_id, case_id, id FROM prosecutions) d
			WHERE NOT EXISTS (SELECT 1 FROM case_work w WHERE w.via = d.via AND w.source_id = d.source_id AND w.agency_id = d.agency_id AND w.case_id = d.case_id)`},
		{"keeps", `SELECT via, agency_id, case_id FROM case_work w WHERE NOT EXISTS (SELECT 1 FROM (
			SELECT 'lead' AS via, lead_agency_id AS agency_id, id AS case_id, id AS source_id FROM case_files
			UNION ALL SELECT 'assignment', agency_id, case_id, id FROM case_assignments
			UNION ALL SELECT 'prosecution', office_id, case_id, id FROM prosecutions) d
			WHERE w.via = d.via AND w.source_id = d.source_id AND w.agency_id = d.agency_id AND w.case_id = d.case_id)`},
	} {
		rows, err := old.QueryContext(ctx, q.query)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var via string
			var agency, cs int
			if err := rows.Scan(&via, &agency, &cs); err != nil {
				t.Fatal(err)
			}
			t.Errorf("after the migration case_work %s: %s, agency %d, case %d", q.what, via, agency, cs)
		}
		_ = rows.Close()
	}

	// Over HTTP, on the server of the new release.
	s := testserver.Start(t, db)
	judge := s.Token(t, "court-durres", viewer.RoleJudge)
	border := s.Token(t, "border-police", viewer.RoleInvestigator)
	const caseQ = `query ($id: ID!) { node(id: $id) { id ... on Case { reference } } }`
	seen := func(token string, id int) bool {
		t.Helper()
		r := s.Do(t, token, caseQ, map[string]any{"id": gid(id)})
		var d struct{ Node *struct{ ID string } }
		r.Decode(t, &d)
		return d.Node != nil
	}
	if !seen(judge, f.caseD2) {
		t.Errorf("court-durres is assigned to caseD2 (ADJUDICATING) and its judge does not see it")
	}
	if !seen(judge, f.vD2) {
		t.Errorf("court-durres is assigned to caseD2 and its judge does not see vD2, the case's victim")
	}
	if seen(border, caseZ) {
		t.Errorf("border-police no longer leads caseZ (nor is assigned to it), and its investigator still sees it")
	}
	r := s.Do(t, border, `query ($id: ID!) { node(id: $id) { ... on Victim { pseudonym exactAge nationality } } }`, map[string]any{"id": gid(vZ)})
	var d struct {
		Node *struct {
			ExactAge    *int
			Nationality *string
		}
	}
	r.Decode(t, &d)
	if d.Node != nil && (d.Node.ExactAge != nil || d.Node.Nationality != nil) {
		t.Errorf("border-police, no longer on caseZ, reads vZ's exact age and nationality: %s", r.Body)
	}
}

// waitForLockWait waits until a session of db's database waits for a lock.
func waitForLockWait(t *testing.T, db *sql.DB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the migration never waited for the old server's locks")
}
