package statistics_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/ent/supportservice"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/input"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/statistics"
	"github.com/casegraph/casegraph/viewer"
)

// editionLooks are what a dashboard under disclosure control reads of
// people: every table the editions serve (victims by the time series and
// by grids, support by month, referrals and their measures).
var editionLooks = []string{
	`{ victimStatistics(period: MONTH) { total { count } cells { period count suppressed } } }`,
	`{ victimStatistics(groupBy: [REGION], period: YEAR) { total { count } cells { period values count suppressed } } }`,
	`{ victimStatistics(groupBy: [SEX, AGE_GROUP], period: YEAR) { cells { period values count suppressed } } }`,
	`{ victimSupport(service: SHELTER, period: MONTH) { cells { period victims received suppressed daysToFirstService { median p90 withheld } } } }`,
	`{ victimSupport(period: YEAR) { cells { period victims received suppressed } } }`,
	`{ referralStatistics(groupBy: [SERVICE_KIND, STATUS], period: YEAR) { cells { period values count suppressed } } }`,
	`{ referralMeasures(groupBy: [SERVICE_KIND], period: YEAR) { cells { period values acceptanceRate suppressed daysToAccept { median p90 withheld } } } }`,
}

// look answers every editionLooks as p, the bodies as they came.
func look(t *testing.T, s *testserver.Server, p testserver.Principal) []string {
	t.Helper()
	out := make([]string, len(editionLooks))
	for i, q := range editionLooks {
		out[i] = string(s.Do(t, p.Token, q, nil).MustOK(t).Body)
	}
	return out
}

// TestEditionsDoNotMove: changes to a closed year after a look (a victim's
// region corrected, a referral's decision changed, a service recorded as another
// kind) change no figure a caller under disclosure control reads, on this
// server or on another over the same database; a caller with exact counts
// sees them. Live figures would tell each change between two looks: the
// region that lost one and the one that gained it, down to one person
// (docs/statistics.md, "Editions").
func TestEditionsDoNotMove(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, coordinator := seededServer(t, db)
		before := look(t, s, coordinator)

		// The change: in the last closed year, one victim from TIRANE is
		// recorded as from KUKES, one accepted referral is rejected, one
		// service becomes legal aid.
		sys := viewer.SystemContext(context.Background())
		year := closedYear(t)
		from, to := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC)
		moved := db.Client.Victim.Query().Where(victim.IdentifiedAtGTE(from), victim.IdentifiedAtLT(to), victim.RegionEQ(domain.RegionTirane)).FirstX(sys)
		db.Client.Victim.UpdateOne(moved).SetRegion(domain.RegionKukes).ExecX(sys)
		accepted := db.Client.Referral.Query().Where(referral.ReferredAtGTE(from), referral.ReferredAtLT(to), referral.StatusEQ(domain.ReferralStatusAccepted)).FirstX(sys)
		if moved == nil || accepted == nil {
			t.Fatalf("the demo data of %d has no victim from Tirane or no accepted referral", year)
		}
		db.Client.Referral.UpdateOne(accepted).SetStatus(domain.ReferralStatusRejected).ExecX(sys)
		service := db.Client.SupportService.Query().Where(supportservice.HasVictimWith(victim.IdentifiedAtGTE(from), victim.IdentifiedAtLT(to)),
			supportservice.KindNEQ(domain.ServiceKindLegalAid)).FirstX(sys)
		db.Client.SupportService.UpdateOne(service).SetKind(domain.ServiceKindLegalAid).ExecX(sys)

		// The change is real: exact counts, read live, show it.
		analyst := exactForAnalysts(t, s)
		byRegion := request{groupBy: []string{"REGION"}, period: "YEAR", where: map[string]any{"from": fmt.Sprintf("%d-01", year), "to": fmt.Sprintf("%d-12", year)}}
		exact := map[string]int{}
		for _, c := range ask(t, s, analyst, victimQuery, byRegion).Cells {
			exact[c.Values[0]] = *c.Count
		}
		want := map[string]int{}
		for _, x := range victimRows(t, db.Client) {
			if x.month[:4] == fmt.Sprint(year) {
				want[x.values["REGION"]]++
			}
		}
		if fmt.Sprint(exact) != fmt.Sprint(want) {
			t.Errorf("exact counts by region of %d: %v, want %v (live)", year, exact, want)
		}

		after := look(t, s, coordinator)
		other := testserver.Start(t, db)
		elsewhere := look(t, other, other.As(t, "onac", viewer.RoleCoordinator))
		for i, q := range editionLooks {
			if after[i] != before[i] {
				t.Errorf("%s changed after a change to %d:\n%s\n%s", q, year, before[i], after[i])
			}
			if elsewhere[i] != before[i] {
				t.Errorf("%s on another server:\n%s\nwant\n%s", q, elsewhere[i], before[i])
			}
		}

		// Written once: an edition cannot be changed or removed.
		statements := []string{`UPDATE statistics_editions SET content = '{}'`, `DELETE FROM statistics_editions`}
		if db.Dialect == dialect.Postgres {
			statements = append(statements, `TRUNCATE statistics_editions`)
		}
		for _, statement := range statements {
			if _, err := db.SQL.Exec(statement); err == nil {
				t.Errorf("%s: accepted", statement)
			}
		}
	})
}

// closedYear is the last year closed today, which the demo data (ending
// today) holds.
func closedYear(t *testing.T) int {
	t.Helper()
	year := time.Now().UTC().Year()
	for !statistics.Closed(year, time.Now()) {
		year--
	}
	return year
}

// TestEditionsTakenOnce: two servers whose first looks at the closed years
// come at once store one edition of each year and scope, and answer alike.
func TestEditionsTakenOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		seed(t, db)
		servers := []*testserver.Server{testserver.Start(t, db), testserver.Start(t, db)}
		const q = `{ victimStatistics(groupBy: [REGION], period: YEAR) { cells { period values count suppressed } } }`
		var mu sync.Mutex
		bodies := map[string]int{}
		var wg sync.WaitGroup
		for i := range 8 {
			s := servers[i%2]
			token := s.As(t, "onac", viewer.RoleCoordinator).Token
			wg.Go(func() {
				// A look may end before the take does (slow machines, -race):
				// it is tried again, as a dashboard does.
				for deadline := time.Now().Add(2 * time.Minute); ; {
					r := s.Ask(t, token, q, nil)
					if len(r.Errors) == 0 || time.Now().After(deadline) {
						mu.Lock()
						defer mu.Unlock()
						bodies[string(r.Body)]++
						return
					}
				}
			})
		}
		wg.Wait()
		if len(bodies) != 1 {
			t.Errorf("concurrent first looks answered %d ways: %v", len(bodies), bodies)
		}
		var rows, years int
		if err := db.SQL.QueryRow(`SELECT count(*), count(DISTINCT year) FROM statistics_editions WHERE scope LIKE 'all (shape %)'`).Scan(&rows, &years); err != nil {
			t.Fatal(err)
		}
		// Every closed year has one, from the earliest a record may name:
		// which years have editions is the clock's, not the data's.
		firstYear := input.Earliest.Year()
		if rows != years || years != closedYear(t)-firstYear+1 {
			t.Errorf("%d editions of %d years stored for the country; want one a closed year, %d to %d", rows, years, firstYear, closedYear(t))
		}
	})
}
