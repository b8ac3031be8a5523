package casework

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/caseevent"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/seed"
	"github.com/casegraph/casegraph/viewer"
)

// TestTimelineEntryKeepsItsVictim: an entry of a kind about a victim is not
// written without its victim (row scope would hide it from nearly
// everyone), nor an entry of another kind with one.
func TestTimelineEntryKeepsItsVictim(t *testing.T) {
	for _, c := range []struct {
		kind   domain.CaseEventKind
		victim int
	}{{domain.CaseEventKindReferralCreated, 0}, {domain.CaseEventKindSupportUpdated, 0}, {domain.CaseEventKindChargeAdded, 42}} {
		if err := victimCaseEvent(context.Background(), nil, 1, c.victim, c.kind, 7, "x"); err == nil {
			t.Errorf("a %s entry with victim %d was let through", c.kind, c.victim)
		}
	}
}

// TestTimelineEntriesOfManyCasesFitTheirStatements: a victim on more
// cases than one INSERT takes gets its entry on every case, entriesAtOnce
// to a statement: 3,001 entries in one INSERT are 33,011 parameters, and
// SQLite refuses more than 32,766 ("too many SQL variables").
func TestTimelineEntriesOfManyCasesFitTheirStatements(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := viewer.SystemContext(context.Background())
		if err := seed.Agencies(ctx, db.Client); err != nil {
			t.Fatal(err)
		}
		lead := db.Client.Agency.Query().Where(agency.Code("police-tirane")).OnlyIDX(ctx)
		var caseIDs []int
		for batch := range slices.Chunk(make([]int, 3*entriesAtOnce+1), 500) {
			creates := make([]*ent.CaseFileCreate, len(batch))
			for i := range creates {
				creates[i] = db.Client.CaseFile.Create().SetReference(fmt.Sprintf("TIR-2026-%05d", len(caseIDs)+i+1)).
					SetTitle("A case").SetRegion(domain.RegionTirane).SetOpenedAt(time.Now()).
					SetFormsOfExploitation([]domain.Exploitation{domain.ExploitationSexual}).SetLeadAgencyID(lead)
			}
			for _, c := range db.Client.CaseFile.CreateBulk(creates...).SaveX(ctx) {
				caseIDs = append(caseIDs, c.ID)
			}
		}
		counted, n := testdb.CountingStatements(db)
		as := viewer.NewContext(ctx, &viewer.Principal{Subject: "someone@police-tirane", AgencyCode: "police-tirane", AgencyID: lead})
		if err := victimCaseEvents(as, counted.Client, caseIDs, 0, domain.CaseEventKindCaseUpdated, 0, "Case details updated."); err != nil {
			t.Fatal(err)
		}
		if got, want := n.Load(), int64(4); got != want {
			t.Errorf("%d entries took %d statements, want %d", len(caseIDs), got, want)
		}
		written, err := db.Client.CaseEvent.Query().Where(caseevent.KindEQ(domain.CaseEventKindCaseUpdated)).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if written != len(caseIDs) {
			t.Errorf("%d entries written for %d cases", written, len(caseIDs))
		}
	})
}
