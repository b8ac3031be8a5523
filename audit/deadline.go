package audit

import (
	"context"
	"time"
)

// The write of a request's events is bounded once the request's own
// context no longer is (DetachedContext): it may run writeGrace past the
// request's deadline, or writeTimeout for a request without one (a caller
// in process). Past it the trail is unavailable (the sensitive values are
// withheld; a refused authentication goes unrecorded, logged). It was 5 s
// from whenever the answer was ready, and answers left up to 13 s after a
// 5 s deadline under load (a hunt).
const (
	writeGrace   = time.Second
	writeTimeout = 5 * time.Second
)

// WriteDeadline is when the write of a request's events, ready at now,
// gives up (see writeGrace).
func WriteDeadline(ctx context.Context, now time.Time) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return now.Add(writeTimeout)
	}
	if d.Before(now) {
		d = now
	}
	return d.Add(writeGrace)
}

// DetachedContext returns the context in which to write the events of the
// request whose context is ctx: not cancelled with it, since what was
// answered or refused until then is recorded all the same (a request that
// ran to its deadline sent its refusals with no event at all; a refused
// token whose client left was not recorded: two hunts), and ended at
// WriteDeadline. Its values are ctx's.
func DetachedContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithDeadline(context.WithoutCancel(ctx), WriteDeadline(ctx, time.Now()))
}
