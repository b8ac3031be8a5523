package statistics

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/input"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/seed"
	"github.com/casegraph/casegraph/viewer"
)

// TestEditionsOnUTCsMonthsStay: editions taken before 2026-12-07, when
// the months were UTC's, are never taken again, and the first take after
// them counts only the rows they did not: a victim identified, referred
// and sheltered in the first hour of 2025 in Tirana (23:30 UTC on 31
// December 2024) is in the stored December 2024, and is not counted again
// in January 2025. The take after that one is Tirana's alone: the first
// hour of 2026 in Tirana is January 2026's, and no longer 2025's.
func TestEditionsOnUTCsMonthsStay(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := viewer.SystemContext(context.Background())
		if err := seed.Agencies(ctx, db.Client); err != nil {
			t.Fatal(err)
		}
		police := db.Client.Agency.Query().Where(agency.CodeEQ("police-tirane")).OnlyIDX(ctx)
		shelter := db.Client.Agency.Query().Where(agency.CodeEQ("shelter-national")).OnlyIDX(ctx)
		for i, at := range []string{
			"2025-01-01T00:30:00+01:00", // 2024-12-31T23:30Z: in the stored 2024, on UTC's calendar
			"2025-01-01T01:30:00+01:00", // 2025-01-01T00:30Z: after it
			"2026-01-01T00:30:00+01:00", // 2025-12-31T23:30Z: 2026 on Tirana's calendar
		} {
			when, err := input.UnmarshalTime(at)
			if err != nil {
				t.Fatal(err)
			}
			v := db.Client.Victim.Create().SetPseudonym(fmt.Sprintf("V-2025-770%d", i)).SetSex(domain.SexFemale).
				SetAgeGroup(domain.AgeGroupAdult).SetIdentificationStatus(domain.IdentificationStatusOfficialVictim).
				SetIdentifiedBy(domain.IdentifyingBodyStatePolice).SetIdentifiedAt(when).SetRegion(domain.RegionTirane).SaveX(ctx)
			accepted := when.Add(time.Hour)
			db.Client.Referral.Create().SetServiceKind(domain.ServiceKindShelter).SetReferredAt(when).SetVictimID(v.ID).
				SetFromAgencyID(police).SetToAgencyID(shelter).SetStatus(domain.ReferralStatusAccepted).
				SetStatusHistory([]domain.ReferralStatusChange{{Status: domain.ReferralStatusAccepted, At: accepted}}).ExecX(ctx)
			db.Client.SupportService.Create().SetKind(domain.ServiceKindShelter).SetStartedOn(accepted).SetVictimID(v.ID).
				SetProviderID(shelter).ExecX(ctx)
		}
		// The editions of 1900 to 2024 as taken before: no calendar
		// named. What they hold does not matter here; that they are
		// stored, and UTC's, does.
		insert := sql.Dialect(db.Dialect).Insert(editionsTable).Columns("scope", "year", "taken_at", "content")
		for y := 1900; y <= 2024; y++ {
			insert.Values(publishedScope, y, time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC),
				`{"victims":[],"referrals":[],"support":[],"daysToAccept":[]}`)
		}
		query, args := insert.Query()
		if _, err := db.Client.ExecContext(ctx, query, args...); err != nil {
			t.Fatal(err)
		}

		e := NewEditions(db.Client, db.Dialect)
		for _, c := range []struct {
			year  string
			now   time.Time
			month string
		}{
			{"2025", time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC), "2025-01"},
			{"2026", time.Date(2027, time.March, 1, 12, 0, 0, 0, time.UTC), "2026-01"},
		} {
			e.now = func() time.Time { return c.now }
			if err := e.Prepare(ctx); err != nil {
				t.Fatal(err)
			}
			ed := e.scopes[publishedScope].years[c.year]
			if ed.Months != domain.Tirana.String() {
				t.Errorf("the edition of %s names the calendar %q, want %q", c.year, ed.Months, domain.Tirana.String())
			}
			counts := map[string]int{}
			for _, v := range ed.Victims {
				counts["victims "+v.Month] += v.Count
			}
			for _, r := range ed.Referrals {
				counts["referrals "+r.Month] += r.Count
			}
			for _, r := range ed.Support {
				if r.Kind == AnyService {
					counts["supported "+r.Month] += r.N
				}
			}
			for _, r := range ed.Days {
				counts["accepted "+r.Month] += r.N
			}
			want := map[string]int{}
			for _, what := range []string{"victims", "referrals", "supported", "accepted"} {
				want[what+" "+c.month] = 1
			}
			if !maps.Equal(counts, want) {
				t.Errorf("the edition of %s counts %v, want %v", c.year, counts, want)
			}
		}
	})
}
