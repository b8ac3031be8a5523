package statistics_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestHuntMeasuresAgreeWithOverdueDays: docs/statistics.md promises that
// prosecutionMeasures' pastDeadline and daysPastDeadline follow "the rule
// of domain.OverdueDays, as of the operation's start, the same as
// Prosecution.overdueDays". The SQL cuts both the deadline and "now" to
// whole seconds before comparing and subtracting (statistics.readMeasures),
// where OverdueDays compares the instants: a deadline with a fraction of a
// second (every first deadline the server sets itself, three months after
// a move made "now") is, in the second after it passes, overdue by
// overdueDays and not past it by the measures; and in the last second of
// each day past it, one day more overdue by the measures than by
// overdueDays. "Now" is fixed through gqlgen's clock (graphql.Now), which
// the operation's start is read from.
func TestHuntMeasuresAgreeWithOverdueDays(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		ids := s.AgencyIDs(t)
		police := s.As(t, "police-tirane", viewer.RoleInvestigator)
		prosecutor := s.As(t, "prosecution-tirane", viewer.RoleProsecutor)
		year := time.Now().UTC().Year() - 1
		c := testserver.Call[struct{ ID string }](t, s, police,
			`mutation ($in: CreateCaseInput!) { openCase(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"reference": "TIR-HUNT-1", "title": "Recruitment through false job offers", "region": "TIRANE",
				"formsOfExploitation": []string{"SEXUAL"}, "openedAt": fmt.Sprintf("%d-03-01T09:00:00Z", year),
				"leadAgencyID": testserver.GlobalID(ids["police-tirane"]),
			}})
		deadline := time.Date(year, time.May, 1, 10, 0, 0, 600_000_000, time.UTC) // 10:00:00.6
		testserver.Call[struct{ ID string }](t, s, prosecutor,
			`mutation ($in: CreateProsecutionInput!) { registerProsecution(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"registrationNumber": "PR-TIR-HUNT/1", "registeredAt": fmt.Sprintf("%d-04-01T09:00:00Z", year),
				"investigationDeadline": deadline.Format(time.RFC3339Nano), "caseID": c.ID,
				"officeID": testserver.GlobalID(ids["prosecution-tirane"]),
			}})

		const query = `{
  prosecutions(first: 10) { edges { node { registrationNumber overdueDays } } }
  prosecutionMeasures { threshold total { underInvestigation pastDeadline daysPastDeadline { count max withheld } } }
}`
		type answer struct {
			Prosecutions struct {
				Edges []struct{ Node struct{ OverdueDays *int } }
			}
			ProsecutionMeasures struct {
				Threshold int
				Total     struct {
					UnderInvestigation, PastDeadline int
					DaysPastDeadline                 struct {
						Count    int
						Max      *int
						Withheld bool
					}
				}
			}
		}
		for _, at := range []struct {
			name string
			now  time.Time
		}{
			{"InTheSecondAfterTheDeadline", deadline.Add(200 * time.Millisecond)},               // 10:00:00.8, the same day
			{"InTheLastSecondOfTheFirstDay", deadline.Add(24*time.Hour - 300*time.Millisecond)}, // next day 10:00:00.3
		} {
			t.Run(at.name, func(t *testing.T) {
				graphql.Now = func() time.Time { return at.now }
				defer func() { graphql.Now = time.Now }()
				r := s.Ask(t, prosecutor.Token, query, nil).MustOK(t)
				graphql.Now = time.Now
				got := testserver.Data[answer](t, r)
				if len(got.Prosecutions.Edges) != 1 {
					t.Fatalf("want the one proceeding: %s", r.Body)
				}
				days := got.Prosecutions.Edges[0].Node.OverdueDays
				if days == nil || *days != 0 {
					t.Fatalf("deadline %s, now %s: overdueDays = %v, want 0 (OverdueDays)", deadline.Format(time.RFC3339Nano),
						at.now.Format(time.RFC3339Nano), days)
				}
				m := got.ProsecutionMeasures
				if m.Threshold != 0 {
					t.Fatalf("the office's prosecutor reads at threshold %d, want exact durations (0)", m.Threshold)
				}
				tot := m.Total
				if tot.UnderInvestigation != 1 || tot.PastDeadline != 1 || tot.DaysPastDeadline.Count != 1 ||
					tot.DaysPastDeadline.Max == nil || *tot.DaysPastDeadline.Max != *days {
					t.Errorf("deadline %s, now %s: overdueDays %d, but prosecutionMeasures' total: %s",
						deadline.Format(time.RFC3339Nano), at.now.Format(time.RFC3339Nano), *days, r.Body)
				}
			})
		}
	})
}
