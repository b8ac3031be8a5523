package database

import (
	"context"
	"log/slog"
	"time"

	"github.com/lib/pq"
)

// Listen calls onEvent for every notification on channel of the PostgreSQL
// database at databaseURL, and once after each reconnection (a
// notification may have been missed while the connection was down), until
// ctx is done. It returns once the first connection is listening.
func Listen(ctx context.Context, databaseURL, channel string, onEvent func(), logger *slog.Logger) error {
	l := pq.NewListener(databaseURL, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventReconnected:
			logger.Info("policy listener reconnected", "channel", channel)
			onEvent()
		case pq.ListenerEventConnectionAttemptFailed, pq.ListenerEventDisconnected:
			if err != nil {
				logger.Warn("policy listener lost its connection", "channel", channel, "error", err.Error())
			}
		}
	})
	if err := l.Listen(channel); err != nil {
		_ = l.Close()
		return err
	}
	go func() {
		defer l.Close()
		ping := time.NewTicker(30 * time.Second)
		defer ping.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-l.Notify:
				if n != nil {
					onEvent()
				}
			case <-ping.C:
				_ = l.Ping()
			}
		}
	}()
	return nil
}
