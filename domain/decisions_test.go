package domain_test

import (
	"testing"
	"time"

	"github.com/casegraph/casegraph/domain"
)

// TestDecisionConvicts: who a decision convicts, by its verdict, an
// AMENDED decision by its sentence, an UPHELD one by the decision it
// upholds (at the instance it reviews decided on or before it, the one it
// names, else the latest, the last recorded of a date), through two
// reviews.
func TestDecisionConvicts(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 6, d, 0, 0, 0, 0, time.UTC) }
	first, appeal, high := domain.InstanceFirstInstance, domain.InstanceAppeal, domain.InstanceHighCourt
	d := func(id int, i domain.Instance, on int, v domain.Verdict, sentenced bool) domain.Decision {
		return domain.Decision{ID: id, Instance: i, DecidedOn: day(on), Verdict: v, Sentenced: sentenced}
	}
	named := func(x domain.Decision, reviewed int) domain.Decision { x.ReviewedID = reviewed; return x }
	convicted, acquitted := d(1, first, 1, domain.VerdictConvicted, true), d(2, first, 3, domain.VerdictAcquitted, false)
	for _, tc := range []struct {
		name string
		d    domain.Decision
		all  []domain.Decision
		want bool
	}{
		{"Convicted", convicted, nil, true},
		{"ConvictedOfALesserOffenceWithoutSentence", d(9, first, 1, domain.VerdictConvictedOfLesserOffence, false), nil, true},
		{"Acquitted", acquitted, nil, false},
		{"DismissedSentenced", d(9, first, 1, domain.VerdictDismissed, true), nil, false},
		{"QuashedRetrial", d(9, appeal, 9, domain.VerdictQuashedRetrial, true), []domain.Decision{convicted}, false},
		{"AmendedWithASentence", d(9, appeal, 9, domain.VerdictAmended, true), []domain.Decision{acquitted}, true},
		{"AmendedWithoutASentence", d(9, appeal, 9, domain.VerdictAmended, false), []domain.Decision{convicted}, false},
		{"UpheldConviction", d(9, appeal, 2, domain.VerdictUpheld, false), []domain.Decision{convicted, acquitted}, true},
		// The latest decided on or before the review: the acquittal of
		// the 3rd, not the conviction of the 1st nor a retrial's after.
		{"UpheldTheLatestBefore", d(9, appeal, 5, domain.VerdictUpheld, true),
			[]domain.Decision{convicted, acquitted, d(3, first, 7, domain.VerdictConvicted, true)}, false},
		// Of one date, the last recorded.
		{"UpheldTheLastRecordedOfADate", d(9, appeal, 5, domain.VerdictUpheld, true),
			[]domain.Decision{d(4, first, 3, domain.VerdictConvicted, true), acquitted}, true},
		// A decision being recorded (ID 0) is the last recorded of its
		// date: the acquittal recorded now, not the conviction stored.
		{"UpheldTheOneBeingRecordedOfADate", d(9, appeal, 5, domain.VerdictUpheld, true),
			[]domain.Decision{d(4, first, 3, domain.VerdictConvicted, true), d(0, first, 3, domain.VerdictAcquitted, false)}, false},
		// Named (ReviewedID): the one named, of whatever date and order
		// of recording, when it is at the instance reviewed and decided on
		// or before the review; a name of none of those upholds none.
		{"UpheldTheNamedOfADate", named(d(9, appeal, 5, domain.VerdictUpheld, true), 4),
			[]domain.Decision{acquitted, d(4, first, 3, domain.VerdictConvicted, true), d(6, first, 3, domain.VerdictAcquitted, false)}, true},
		{"UpheldTheNamedNotTheLatest", named(d(9, appeal, 5, domain.VerdictUpheld, true), 1),
			[]domain.Decision{convicted, acquitted}, true},
		{"UpheldTheNamedAcquittal", named(d(9, appeal, 5, domain.VerdictUpheld, true), 2),
			[]domain.Decision{d(4, first, 3, domain.VerdictConvicted, true), acquitted}, false},
		{"UpheldANamedDecisionAfterIt", named(d(9, appeal, 2, domain.VerdictUpheld, true), 2),
			[]domain.Decision{convicted, acquitted}, true},
		{"UpheldANamedDecisionAtItsOwnInstance", named(d(9, appeal, 9, domain.VerdictUpheld, true), 5),
			[]domain.Decision{acquitted, d(5, appeal, 5, domain.VerdictAmended, false)}, true},
		{"UpheldAtTheHighCourtThroughAnAppeal", d(9, high, 9, domain.VerdictUpheld, true),
			[]domain.Decision{acquitted, d(5, appeal, 5, domain.VerdictUpheld, false)}, false},
		{"UpheldAtTheHighCourtAnAmendedConviction", d(9, high, 9, domain.VerdictUpheld, false),
			[]domain.Decision{acquitted, d(5, appeal, 5, domain.VerdictAmended, true)}, true},
		// Stored before a review needed a decision to review: read as
		// before the rule.
		{"UpheldNothingRecorded", d(9, appeal, 9, domain.VerdictUpheld, true), nil, true},
		{"UpheldAtFirstInstance", d(9, first, 9, domain.VerdictUpheld, true), []domain.Decision{acquitted}, true},
	} {
		if got := tc.d.Convicts(tc.all); got != tc.want {
			t.Errorf("%s: Convicts = %t, want %t", tc.name, got, tc.want)
		}
	}
	if got := domain.ReviewDepth(); got != 2 {
		t.Errorf("ReviewDepth = %d, want 2 (the High Court's review of an appeal's of a first instance's)", got)
	}
	for i, want := range map[domain.Instance]int{first: 0, appeal: 1, high: 2} {
		if got := i.Depth(); got != want {
			t.Errorf("%s.Depth() = %d, want %d", i, got, want)
		}
	}
}
