package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
)

// TestWriteDeadline: a response's events may be written until a second
// past the request's deadline, however late the answer was ready, and no
// longer: waiting five seconds from whenever the answer was ready let
// answers leave 13 s after a 5 s deadline under load (a hunt).
func TestWriteDeadline(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		deadline time.Time // zero: none
		want     time.Time
	}{
		{"AnsweredEarly", now.Add(3 * time.Second), now.Add(4 * time.Second)},
		{"AnsweredPastTheDeadline", now.Add(-2 * time.Second), now.Add(time.Second)},
		{"NoDeadline", time.Time{}, now.Add(5 * time.Second)},
	} {
		ctx := context.Background()
		if !tc.deadline.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, tc.deadline)
			defer cancel()
		}
		if got := audit.WriteDeadline(ctx, now); !got.Equal(tc.want) {
			t.Errorf("%s: the events' write gives up at %s, want %s", tc.name, got, tc.want)
		}
	}
}
