package domain_test

import (
	"slices"
	"testing"

	"github.com/casegraph/casegraph/domain"
)

func TestProceedingTransitions(t *testing.T) {
	tests := []struct {
		from, to domain.ProceedingStage
		ok       bool
	}{
		{domain.ProceedingStageNoticeReceived, domain.ProceedingStageRegistered, true},
		{domain.ProceedingStageNoticeReceived, domain.ProceedingStageFinal, false},
		{domain.ProceedingStageRegistered, domain.ProceedingStageUnderInvestigation, true},
		{domain.ProceedingStageUnderInvestigation, domain.ProceedingStageTrialRequested, false},
		{domain.ProceedingStageInvestigationClosed, domain.ProceedingStageDismissed, true},
		{domain.ProceedingStageInvestigationClosed, domain.ProceedingStageDismissalRequested, true},
		{domain.ProceedingStageInvestigationClosed, domain.ProceedingStageTrialRequested, true},
		{domain.ProceedingStageDismissalRequested, domain.ProceedingStageUnderInvestigation, true},
		{domain.ProceedingStageFirstInstanceDecided, domain.ProceedingStageFinal, true},
		{domain.ProceedingStageAppealDecided, domain.ProceedingStageFirstInstanceTrial, true},
		{domain.ProceedingStageHighCourtRecourse, domain.ProceedingStageFinal, true},
		{domain.ProceedingStageUnderInvestigation, domain.ProceedingStageTransferred, true},
		{domain.ProceedingStageAppeal, domain.ProceedingStageMerged, true},
		{domain.ProceedingStageFinal, domain.ProceedingStageAppeal, false},
		{domain.ProceedingStageDismissed, domain.ProceedingStageTransferred, false},
		{domain.ProceedingStageRegistered, domain.ProceedingStageRegistered, false},
		{"BOGUS", domain.ProceedingStageRegistered, false},
	}
	for _, tt := range tests {
		if got := tt.from.CanMoveTo(tt.to); got != tt.ok {
			t.Errorf("%s → %s: got %v, want %v", tt.from, tt.to, got, tt.ok)
		}
	}
}

// TestEveryStageIsReachable walks the lifecycle from NOTICE_RECEIVED and
// checks every stage can be reached and every non-terminal stage has a way
// forward.
func TestEveryStageIsReachable(t *testing.T) {
	seen := map[domain.ProceedingStage]bool{domain.ProceedingStageNoticeReceived: true}
	queue := []domain.ProceedingStage{domain.ProceedingStageNoticeReceived}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if !s.Terminal() && len(s.NextStages()) == 0 {
			t.Errorf("%s is not terminal but leads nowhere", s)
		}
		for _, n := range s.NextStages() {
			if !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	for _, v := range domain.ProceedingStage("").Values() {
		if !seen[domain.ProceedingStage(v)] {
			t.Errorf("%s cannot be reached from NOTICE_RECEIVED", v)
		}
	}
}

func TestReferralTransitions(t *testing.T) {
	allowed := map[domain.ReferralStatus][]domain.ReferralStatus{
		domain.ReferralStatusPending:   {domain.ReferralStatusAccepted, domain.ReferralStatusRejected, domain.ReferralStatusRevoked},
		domain.ReferralStatusAccepted:  {domain.ReferralStatusCompleted, domain.ReferralStatusRevoked},
		domain.ReferralStatusRejected:  nil,
		domain.ReferralStatusCompleted: nil,
		domain.ReferralStatusRevoked:   nil,
	}
	for _, from := range domain.ReferralStatus("").Values() {
		for _, to := range domain.ReferralStatus("").Values() {
			f, tt := domain.ReferralStatus(from), domain.ReferralStatus(to)
			want := slices.Contains(allowed[f], tt)
			if got := f.CanMoveTo(tt); got != want {
				t.Errorf("%s → %s: got %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestEnumUnmarshalRejectsUnknownValues(t *testing.T) {
	var r domain.Region
	if err := r.UnmarshalGQL("ATLANTIS"); err == nil {
		t.Error("ATLANTIS accepted as a region")
	}
	if err := r.UnmarshalGQL(42); err == nil {
		t.Error("42 accepted as a region")
	}
	if err := r.UnmarshalGQL("TIRANE"); err != nil || r != domain.RegionTirane {
		t.Errorf("TIRANE: %v, %q", err, r)
	}
}

func TestCaseStageFollowing(t *testing.T) {
	type s = domain.ProceedingStage
	tests := []struct {
		name   string
		stages []s
		want   s
		ok     bool
	}{
		{"NoProceedings", nil, "", false},
		{"One", []s{domain.ProceedingStageRegistered}, domain.ProceedingStageRegistered, true},
		{"FurthestOpen", []s{domain.ProceedingStageRegistered, domain.ProceedingStageFirstInstanceTrial, domain.ProceedingStageUnderInvestigation},
			domain.ProceedingStageFirstInstanceTrial, true},
		{"EndedOnesDoNotLead", []s{domain.ProceedingStageFinal, domain.ProceedingStageRegistered}, domain.ProceedingStageRegistered, true},
		{"FinalOutranksDismissed", []s{domain.ProceedingStageDismissed, domain.ProceedingStageFinal}, domain.ProceedingStageFinal, true},
		{"DismissedOutranksTransferred", []s{domain.ProceedingStageTransferred, domain.ProceedingStageDismissed}, domain.ProceedingStageDismissed, true},
		{"TransferredOutranksMerged", []s{domain.ProceedingStageMerged, domain.ProceedingStageTransferred}, domain.ProceedingStageTransferred, true},
		{"Merged", []s{domain.ProceedingStageMerged}, domain.ProceedingStageMerged, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := domain.CaseStageFollowing(tc.stages)
			if got != tc.want || ok != tc.ok {
				t.Errorf("CaseStageFollowing(%v) = %s, %v; want %s, %v", tc.stages, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// All gives an enumeration's values as its own type, each valid, in the
// order of Values.
func TestAllIsValuesTyped(t *testing.T) {
	all := domain.All[domain.AgencyKind]()
	values := domain.AgencyKind("").Values()
	if len(all) != len(values) {
		t.Fatalf("All has %d kinds, Values %d", len(all), len(values))
	}
	for i, k := range all {
		if string(k) != values[i] || !k.Valid() {
			t.Errorf("All()[%d] = %q, Values()[%d] = %q", i, k, i, values[i])
		}
	}
}
