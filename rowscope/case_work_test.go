package rowscope_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// workRow is one row of the standing table case_work.
type workRow struct {
	via                     string
	sourceID, agency, cases int
}

func (w workRow) String() string {
	return fmt.Sprintf("%s %d: agency %d works on case %d", w.via, w.sourceID, w.agency, w.cases)
}

// caseWorkRows reads the standing table as it is.
func caseWorkRows(t *testing.T, ctx context.Context, db *database.DB) map[workRow]bool {
	t.Helper()
	rows, err := db.SQL.QueryContext(ctx, "SELECT via, source_id, agency_id, case_id FROM "+rowscope.CaseWorkedOnTable)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[workRow]bool{}
	for rows.Next() {
		var w workRow
		if err := rows.Scan(&w.via, &w.sourceID, &w.agency, &w.cases); err != nil {
			t.Fatal(err)
		}
		if out[w] {
			t.Errorf("twice: %v", w)
		}
		out[w] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// definedWork computes from the cases, assignments and proceedings, in Go,
// what the standing table must hold: the three reasons of CaseWorkedOnBy.
func definedWork(t *testing.T, ctx context.Context, c *ent.Client) map[workRow]bool {
	t.Helper()
	out := map[workRow]bool{}
	cases, err := c.CaseFile.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, cf := range cases {
		out[workRow{"lead", cf.ID, cf.LeadAgencyID, cf.ID}] = true
	}
	assignments, err := c.CaseAssignment.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range assignments {
		out[workRow{"assignment", a.ID, a.AgencyID, a.CaseID}] = true
	}
	proceedings, err := c.Prosecution.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range proceedings {
		out[workRow{"prosecution", p.ID, p.OfficeID, p.CaseID}] = true
	}
	return out
}

// TestCaseWorkFollowsEveryWrite holds the standing table of the cases each
// agency works on to its definition after every kind of write that gives
// or takes a reason (a case created, its lead changed, an assignment made,
// moved, removed, a proceeding registered, moved to another office or
// case, deleted, a case deleted), and after a transaction that rolled
// back, on SQLite and PostgreSQL: the row scope reads the table, so a row
// it missed would hide a case, and a row it kept would show one.
func TestCaseWorkFollowsEveryWrite(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		testdb.Demo(t, db, 1)
		ctx := viewer.SystemContext(context.Background())
		c := db.Client
		check := func(step string) {
			t.Helper()
			got, want := caseWorkRows(t, ctx, db), definedWork(t, ctx, c)
			for w := range want {
				if !got[w] {
					t.Errorf("%s: case_work lacks %v", step, w)
				}
			}
			for w := range got {
				if !want[w] {
					t.Errorf("%s: case_work keeps %v", step, w)
				}
			}
		}
		check("the demo data")

		agencies, err := c.Agency.Query().Where(agency.KindEQ(domain.AgencyKindProsecutionOffice)).Limit(3).All(ctx)
		if err != nil || len(agencies) < 3 {
			t.Fatalf("three prosecution offices: %v (%d)", err, len(agencies))
		}
		a, b, o := agencies[0].ID, agencies[1].ID, agencies[2].ID
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

		cf, err := c.CaseFile.Create().SetReference("TEST-CW-1").SetTitle("case work").
			SetStage(domain.ProceedingStageRegistered).SetRegion(domain.RegionTirane).SetOpenedAt(now).
			SetLeadAgencyID(a).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check("a case created")
		other, err := c.CaseFile.Create().SetReference("TEST-CW-2").SetTitle("another").
			SetStage(domain.ProceedingStageRegistered).SetRegion(domain.RegionDurres).SetOpenedAt(now).
			SetLeadAgencyID(b).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CaseFile.UpdateOne(cf).SetLeadAgencyID(b).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		check("the lead changed")
		if err := c.CaseFile.UpdateOne(cf).SetTitle("renamed").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		check("a case changed otherwise")

		as, err := c.CaseAssignment.Create().SetCaseID(cf.ID).SetAgencyID(a).
			SetPart(domain.CasePartInvestigating).SetAssignedAt(now).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check("an assignment made")
		// ent never changes an assignment's case or agency, nor a
		// proceeding's case (immutable fields); the triggers follow such a
		// write all the same, made in SQL.
		exec := func(query string, args ...any) {
			t.Helper()
			if db.Dialect == dialect.Postgres {
				query = strings.NewReplacer("?1", "$1", "?2", "$2").Replace(query)
			}
			if _, err := db.SQL.ExecContext(ctx, query, args...); err != nil {
				t.Fatal(err)
			}
		}
		exec("UPDATE case_assignments SET agency_id = ?1 WHERE id = ?2", o, as.ID)
		check("an assignment given to another agency")
		exec("UPDATE case_assignments SET case_id = ?1 WHERE id = ?2", other.ID, as.ID)
		check("an assignment moved to another case")
		if _, err := c.CaseAssignment.Delete().Where(caseassignment.ID(as.ID)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		check("an assignment removed")

		p, err := c.Prosecution.Create().SetRegistrationNumber("PR-TEST-CW-1").
			SetStage(domain.ProceedingStageRegistered).SetRegisteredAt(now).
			SetCaseID(cf.ID).SetOfficeID(o).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check("a proceeding registered")
		if err := c.Prosecution.UpdateOne(p).SetOfficeID(a).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		check("a proceeding moved to another office")
		exec("UPDATE prosecutions SET case_id = ?1 WHERE id = ?2", other.ID, p.ID)
		check("a proceeding moved to another case")
		if err := c.Prosecution.DeleteOne(p).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		check("a proceeding deleted")

		// A transaction that rolls back leaves the table as it was.
		before := caseWorkRows(t, ctx, db)
		tx, err := c.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.CaseAssignment.Create().SetCaseID(other.ID).SetAgencyID(o).
			SetPart(domain.CasePartInvestigating).SetAssignedAt(now).Save(ctx); err != nil {
			t.Fatal(err)
		}
		if err := tx.CaseFile.UpdateOne(other).SetLeadAgencyID(a).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if after := caseWorkRows(t, ctx, db); !maps.Equal(before, after) {
			t.Errorf("a rolled back transaction changed case_work: %v", slices.Collect(maps.Keys(after)))
		}
		check("a transaction rolled back")

		if err := c.CaseFile.DeleteOne(cf).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		check("a case deleted")
	})
}
