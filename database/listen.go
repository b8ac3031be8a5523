package database

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/lib/pq"
)

// ListenEvents are what Listen reports about one channel. Each is called
// from the listener's own goroutine and must not block.
type ListenEvents struct {
	// Notified: a notification arrived on the channel, with its payload.
	Notified func(payload string)
	// Lost: the connection was lost, or an attempt to restore it failed;
	// notifications sent from now until Listening are missed.
	Lost func(err error)
	// Listening: the connection is up and listening on the channel (the
	// first time, and after each reconnection): anything committed from now
	// on is notified, but what was committed while it was down was not.
	Listening func()
}

// Listen reports the notifications on channel of the PostgreSQL database
// at databaseURL, and the state of its connection, until ctx is done. It
// returns once the first connection is listening (and has called
// Listening). The connection carries the application name
// "casegraph-listen-<channel>" unless databaseURL names one, so that an
// operator finds it in pg_stat_activity.
func Listen(ctx context.Context, databaseURL, channel string, events ListenEvents, logger *slog.Logger) error {
	// A lost listener leaves the server unable to confirm its policy (see
	// authz.Enforcer.Follow): try again soon rather than back off to minutes.
	l := pq.NewListener(withApplicationName(databaseURL, "casegraph-listen-"+channel), 100*time.Millisecond, 2*time.Second,
		func(ev pq.ListenerEventType, err error) {
			switch ev {
			case pq.ListenerEventReconnected:
				logger.Info("listener reconnected", "channel", channel)
				events.Listening()
			case pq.ListenerEventConnectionAttemptFailed, pq.ListenerEventDisconnected:
				attrs := []any{"channel", channel}
				if err != nil {
					attrs = append(attrs, "error", err.Error())
				}
				logger.Warn("listener lost its connection", attrs...)
				events.Lost(err)
			}
		})
	if err := l.Listen(channel); err != nil {
		_ = l.Close()
		return err
	}
	events.Listening()
	go func() {
		defer l.Close()
		// A connection that died without a word (a partition, no reset) is
		// found by pinging it: its failure then shows as Lost. The ping
		// runs beside this loop, never in it: lib/pq reads the ping's
		// answer only after handing over the notifications before it, so
		// a loop waiting for the answer while many were pending would wait
		// for ever, hearing nothing and reporting nothing.
		ping := time.NewTicker(pingEvery)
		defer ping.Stop()
		pinging := make(chan struct{}, 1)
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-l.Notify:
				// nil follows a reconnection, which Listening reported.
				if n != nil {
					events.Notified(n.Extra)
				}
			case <-ping.C:
				select {
				case pinging <- struct{}{}:
					go func() {
						defer func() { <-pinging }()
						_ = l.Ping()
					}()
				default: // the last ping is still waiting for its answer
				}
			}
		}
	}()
	return nil
}

// pingEvery is how often Listen pings its connection (a test shortens it).
var pingEvery = 10 * time.Second

// withApplicationName adds application_name=name to a postgres:// URL that
// names none; other forms are returned as they are.
func withApplicationName(databaseURL, name string) string {
	if !strings.HasPrefix(databaseURL, "postgres://") && !strings.HasPrefix(databaseURL, "postgresql://") {
		return databaseURL
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return databaseURL
	}
	q := u.Query()
	if q.Get("application_name") != "" {
		return databaseURL
	}
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}
