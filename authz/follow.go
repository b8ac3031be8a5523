package authz

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
)

// Why a server cannot confirm that its policy is current. They are shown
// on /readyz, to operators: fixed phrases, never an error's text.
const (
	staleNotListening = "not yet listening for policy changes"
	staleLostListener = "lost the database connection that announces policy changes; reloading the policy once it is back"
	staleReloadFailed = "could not reload the policy from the database; retrying"
)

// Retrying a reload: soon at first, then no more than every few seconds.
const (
	reloadRetryFirst = 100 * time.Millisecond
	reloadRetryMax   = 5 * time.Second
)

// freshness is whether the policy in force is known to be the one in the
// database. It is, while the listener is connected and the last reload
// since it (re)connected succeeded: any change committed after that is
// announced on the connection. A change announced while the connection
// was down is lost, so losing it makes the policy unconfirmed until a
// reload that began after it came back has succeeded.
type freshness struct {
	mu sync.Mutex
	// epoch changes whenever the listener goes down or comes back, and when
	// a change this server committed could not be loaded: a reload begun
	// before either cannot confirm the policy.
	epoch     uint64
	following bool // Follow was called: only a listening server is current
	listening bool
	retrying  bool // reloadUntilLoaded's loop is running
	// stale is why the policy is unconfirmed; nil (or "") when current.
	// Read without the lock on every sensitive field.
	stale atomic.Pointer[string]
}

func (f *freshness) setStale(reason string) { f.stale.Store(&reason) }

func (f *freshness) lost() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.epoch++
	f.listening = false
	f.setStale(staleLostListener)
}

func (f *freshness) listeningAgain() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.epoch++
	f.listening = true
}

// reloadStarting returns the epoch a reload begins in.
func (f *freshness) reloadStarting() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.epoch
}

// reloaded confirms the policy current after a reload begun at epoch, if
// nothing since needs a later one, and, on a server that follows, the
// listener was up from before the reload began until now.
func (f *freshness) reloaded(epoch uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confirm(epoch)
}

// confirm is reloaded under f.mu; it says whether the reload begun at epoch
// was the last one needed.
func (f *freshness) confirm(epoch uint64) bool {
	if f.epoch != epoch {
		return false
	}
	if !f.following || f.listening {
		f.stale.Store(nil)
	}
	return true
}

func (f *freshness) reloadFailed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listening || !f.following {
		f.setStale(staleReloadFailed)
	}
}

// changeNotLoaded records that a change this server committed could not be
// loaded: the policy is unconfirmed, no reload begun before now can confirm
// it, and someone must retry. It says whether the caller is that someone
// (no retry loop is running).
func (f *freshness) changeNotLoaded() (retry bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.epoch++
	if f.listening || !f.following {
		f.setStale(staleReloadFailed)
	}
	retry, f.retrying = !f.retrying, true
	return retry
}

// retryReloaded ends the retry loop if its reload, begun at epoch, was the
// last one needed (as reloaded), in one step with the check, so that a
// change failing to load meanwhile finds the loop running or starts one.
func (f *freshness) retryReloaded(epoch uint64) (done bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.confirm(epoch) {
		f.retrying = false
		return true
	}
	return false
}

// reloadUntilLoaded follows a reload that failed after a change this server
// committed (Publish): the change is made, so the server answers as
// unconfirmed (a fixed phrase on /readyz; the error goes to the log, as the
// follower's reloads' do) and reloads, with backoff, until a reload begun
// after the last such failure succeeds. A server that follows would reload
// on the change's notification too, but that reload may have run before
// this one failed; a single server on SQLite has no other reload at all
// (it stayed unconfirmed until restarted, a review found).
func (e *Enforcer) reloadUntilLoaded(err error) {
	logger := e.logger()
	logger.Error("loading the access policy after a change; retrying", "error", err.Error())
	if !e.fresh.changeNotLoaded() {
		return
	}
	go func() {
		for wait := reloadRetryFirst; ; wait = min(2*wait, reloadRetryMax) {
			time.Sleep(wait)
			epoch := e.fresh.reloadStarting()
			err := e.Reload()
			if err == nil && e.fresh.retryReloaded(epoch) {
				return
			}
			if err != nil {
				e.fresh.reloadFailed()
				logger.Error("loading the access policy after a change; retrying", "error", err.Error())
			}
		}
	}()
}

// logger is where the enforcer reports what it retries: Follow's, or the
// default before (or without) it.
func (e *Enforcer) logger() *slog.Logger {
	if l := e.log.Load(); l != nil {
		return l
	}
	return slog.Default()
}

// StaleReason says why this server cannot confirm that the policy it
// enforces is the one in the database, or "" when it can. An enforcer that
// does not Follow (a single server on SQLite, whose own changes reload it
// when they commit) is always current.
func (e *Enforcer) StaleReason() string {
	if r := e.fresh.stale.Load(); r != nil {
		return *r
	}
	return ""
}

// errPolicyUnconfirmed refuses what depends on the policy while it may be
// stale: answering under a policy another server has already changed
// could show a field just revoked, or refuse one just granted.
func errPolicyUnconfirmed(what string) *apperr.Error {
	return &apperr.Error{Code: apperr.Unavailable, Field: what,
		Message: "This server cannot confirm that its access policy is current, so it refuses " + what +
			" until it has reloaded the policy; retry in a few seconds."}
}

// Follow keeps the policy current with the database at databaseURL
// (PostgreSQL): it listens for the changes other servers announce and
// reloads on each. Whenever the listener's connection is lost, the policy
// is unconfirmed (StaleReason; /readyz answers 503, sensitive fields,
// powers and mutations UNAVAILABLE) until the connection is back and a reload begun
// after that has succeeded; a failed reload is retried, with backoff,
// until one succeeds, and until then the policy is unconfirmed too. It
// returns once listening, or the error of the first connection.
func (e *Enforcer) Follow(ctx context.Context, databaseURL string, logger *slog.Logger) error {
	e.log.Store(logger)
	e.fresh.mu.Lock()
	e.fresh.following = true
	e.fresh.mu.Unlock()
	// The policy was loaded before anything listened: a change made in
	// between would be missed without a reload once listening.
	e.fresh.setStale(staleNotListening)
	due := make(chan struct{}, 1)
	reloadSoon := func() {
		select {
		case due <- struct{}{}:
		default: // one is due already, and will read every change so far
		}
	}
	err := database.Listen(ctx, databaseURL, PolicyChannel, database.ListenEvents{
		Notified: func(string) { reloadSoon() },
		Lost:     func(error) { e.fresh.lost() },
		Listening: func() {
			e.fresh.listeningAgain()
			reloadSoon()
		},
	}, logger)
	if err != nil {
		return err
	}
	// The first reload before returning, so that a server is ready when it
	// starts serving; if it fails, the loop retries it.
	epoch := e.fresh.reloadStarting()
	if err := e.Reload(); err == nil {
		e.fresh.reloaded(epoch)
	}
	go e.reloadWhenDue(ctx, due, logger)
	return nil
}

// reloadWhenDue reloads the policy each time one is due, retrying a failed
// reload (a dead pooled connection after an outage, the database still
// restarting) until it succeeds.
func (e *Enforcer) reloadWhenDue(ctx context.Context, due <-chan struct{}, logger *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-due:
		}
		for wait := reloadRetryFirst; ; wait = min(2*wait, reloadRetryMax) {
			epoch := e.fresh.reloadStarting()
			err := e.Reload()
			if err == nil {
				e.fresh.reloaded(epoch)
				break
			}
			e.fresh.reloadFailed()
			logger.Error("reloading the access policy; retrying", "error", err.Error(), "retry_in", wait.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
}
