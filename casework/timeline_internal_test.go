package casework

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/domain"
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
