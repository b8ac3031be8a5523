package statistics_test

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestSentencesAgainstRange: decisionStatistics by SENTENCE_RANGE and
// prosecutionMeasures' imprisonmentAgainstRange agree with the test's own
// reading of the Criminal Code (sentenceAgainstRange) over every decision.
// The demo's courts sentence within the range, so the test first moves
// sentences out of it: a conviction under 128/b below ten years, one under
// 110/a alone above fifteen, and one under both 110/a and 128/b at
// sixteen years, within 128/b's range and above 110/a's (the range of the
// more severe article decides).
func TestSentencesAgainstRange(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, coordinator := seededServer(t, db)
		ctx := viewer.SystemContext(context.Background())
		convictions := db.Client.CourtDecision.Query().
			Where(courtdecision.VerdictEQ(domain.VerdictConvicted), courtdecision.SentenceKindEQ(domain.SentenceKindImprisonment),
				courtdecision.InstanceEQ(domain.InstanceFirstInstance)).
			WithProsecution(func(q *ent.ProsecutionQuery) { q.WithCharges() }).AllX(ctx)
		charged := func(d *ent.CourtDecision, a domain.Article) bool {
			for _, c := range d.Edges.Prosecution.Edges.Charges {
				if c.Article == a {
					return true
				}
			}
			return false
		}
		moves := []struct {
			name     string
			fits     func(*ent.CourtDecision) bool
			months   int
			expected string
		}{
			{"128/b below ten years", func(d *ent.CourtDecision) bool { return charged(d, domain.ArticleCc128b) }, 9 * 12, "BELOW_RANGE"},
			{"110/a alone above fifteen years", func(d *ent.CourtDecision) bool {
				return charged(d, domain.ArticleCc110a) && !charged(d, domain.ArticleCc128b)
			}, 16 * 12, "ABOVE_RANGE"},
			{"110/a and 128/b at sixteen years", func(d *ent.CourtDecision) bool {
				return charged(d, domain.ArticleCc110a) && charged(d, domain.ArticleCc128b)
			}, 16 * 12, "WITHIN_RANGE"},
		}
		moved := map[int]bool{}
		for _, m := range moves {
			var found *ent.CourtDecision
			for _, d := range convictions {
				if !moved[d.ID] && m.fits(d) {
					found = d
					break
				}
			}
			if found == nil {
				t.Fatalf("the demo data has no first-instance conviction to imprisonment for %s", m.name)
			}
			moved[found.ID] = true
			found = db.Client.CourtDecision.UpdateOne(found).SetSentenceMonths(m.months).SaveX(ctx)
			found.Edges.Prosecution = db.Client.CourtDecision.QueryProsecution(found).WithCharges().OnlyX(ctx)
			if got := sentenceAgainstRange(found, found.Edges.Prosecution.Edges.Charges); got != m.expected {
				t.Fatalf("the test's own reading puts %s at %s, want %s", m.name, got, m.expected)
			}
		}

		// An appeal's conviction to imprisonment below 128/b's range is
		// not compared with it: the range is of first-instance
		// convictions of the offence charged.
		appeal := db.Client.CourtDecision.Query().Where(courtdecision.InstanceEQ(domain.InstanceAppeal)).
			WithProsecution(func(q *ent.ProsecutionQuery) { q.WithCharges() }).AllX(ctx)
		var onAppeal *ent.CourtDecision
		for _, d := range appeal {
			if charged(d, domain.ArticleCc128b) {
				onAppeal = d
				break
			}
		}
		if onAppeal == nil {
			t.Fatal("the demo data has no appeal decision in a proceeding charged under 128/b")
		}
		db.Client.CourtDecision.UpdateOne(onAppeal).SetVerdict(domain.VerdictConvicted).
			SetSentenceKind(domain.SentenceKindImprisonment).SetSentenceMonths(9 * 12).ExecX(ctx)

		rows := decisionRows(t, db.Client)
		for _, r := range []request{{groupBy: []string{"SENTENCE_RANGE"}},
			{groupBy: []string{"COURT", "SENTENCE_RANGE"}, period: "YEAR", where: map[string]any{"instance": []string{"FIRST_INSTANCE"}}},
			{groupBy: []string{"VERDICT"}, where: map[string]any{"sentenceRange": []string{"BELOW_RANGE", "ABOVE_RANGE"}}}} {
			got := ask(t, s, coordinator, decisionQuery, r)
			want := expect(rows, r)
			if len(got.Cells) != len(want.members) {
				t.Errorf("%+v: %d cells, want %d", r, len(got.Cells), len(want.members))
			}
			checkExactCells(t, r, got, want)
		}
		seen := map[string]bool{}
		for _, c := range ask(t, s, coordinator, decisionQuery, request{groupBy: []string{"SENTENCE_RANGE"}}).Cells {
			seen[c.Values[0]] = *c.Count > 0
		}
		for _, v := range []string{"BELOW_RANGE", "WITHIN_RANGE", "ABOVE_RANGE", "NO_RANGE", "NO_IMPRISONMENT"} {
			if !seen[v] {
				t.Errorf("no decision is counted as %s: the test does not exercise it", v)
			}
		}

		// prosecutionMeasures: the first-instance sentences to
		// imprisonment of every proceeding (the coordinator sees them all).
		var want struct{ Below, Within, Above, NoRange int }
		for _, d := range db.Client.CourtDecision.Query().Where(courtdecision.InstanceEQ(domain.InstanceFirstInstance)).
			WithProsecution(func(q *ent.ProsecutionQuery) { q.WithCharges() }).AllX(ctx) {
			switch sentenceAgainstRange(d, d.Edges.Prosecution.Edges.Charges) {
			case "BELOW_RANGE":
				want.Below++
			case "WITHIN_RANGE":
				want.Within++
			case "ABOVE_RANGE":
				want.Above++
			case "NO_RANGE":
				want.NoRange++
			}
		}
		got := testserver.Call[measuresJSON](t, s, coordinator, measuresQuery, request{}.vars()).Total.ImprisonmentAgainstRange
		if got != want {
			t.Errorf("prosecutionMeasures' imprisonmentAgainstRange %+v, want %+v", got, want)
		}
	})
}
