package server

import (
	"context"
	"math"
	"net/http"
	"time"

	"github.com/go-chi/httprate"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/viewer"
)

// DefaultRequestTimeout is how long one GraphQL request may run: its
// resolvers and statements are cancelled then (and PostgreSQL cancels a
// statement still running: statement_timeout).
const DefaultRequestTimeout = 5 * time.Second

// DefaultCostPerMinute is the cost (package cost) one principal may spend a
// minute: about seventy of README's dashboard pages. One client address may
// spend addressCostFactor times as much, since an office's people may share
// one address.
const (
	DefaultCostPerMinute = 1_000_000
	addressCostFactor    = 4
)

// withDeadline bounds a request's work: its context ends at the deadline,
// or as soon as the client goes away (net/http cancels it), and every
// resolver and statement under it stops.
func withDeadline(timeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// withPoolShare gives each request its share of the connection pool.
func withPoolShare(db *database.DB) func(http.Handler) http.Handler {
	share := db.RequestShare()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(database.WithRequestShare(r.Context(), share)))
		})
	}
}

// costBudgets charges each operation's cost to its principal and to its
// client address, over a sliding minute; an operation that would go over
// either is refused with RATE_LIMITED (429, Retry-After) before it runs.
type costBudgets struct {
	perPrincipal, perAddress *httprate.RateLimiter
}

func newCostBudgets(perMinute int) *costBudgets {
	return &costBudgets{
		perPrincipal: httprate.NewRateLimiter(perMinute, time.Minute),
		perAddress:   httprate.NewRateLimiter(perMinute*addressCostFactor, time.Minute),
	}
}

// middleware installs the request's budget (graph.WithCostBudget); it runs
// after authentication, which names the principal.
func (b *costBudgets) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lw := &limitedWriter{ResponseWriter: w}
		address, _ := addressKey(r)
		principal := viewer.FromContext(r.Context()).Key()
		// The windows the last spend fell in, by limiter, for a refund.
		var spentIn struct{ principal, address string }
		spend := func(cost int) error {
			n := max(cost, 1)
			refused := false
			if principal != "" {
				spentIn.principal, refused = take(w, r, b.perPrincipal, principal, n)
			}
			if !refused {
				spentIn.address, refused = take(w, r, b.perAddress, address, n)
				if refused && principal != "" {
					// Refused at its address after its principal was
					// charged: the principal gets it back, or colleagues
					// behind one office address would pay for refusals
					// (a review).
					giveBack(r, b.perPrincipal, principal, n, spentIn.principal)
				}
			}
			if refused {
				lw.limited = true
				return apperr.Errorf(apperr.RateLimited,
					"This request (cost %d) would take you over your budget of requests a minute; retry after the time in Retry-After.", cost)
			}
			return nil
		}
		// After the answer: always counted, past the limit if need be,
		// so the caller's next requests are refused until it has paid
		// (keep). Through OnLimit a charge larger than the room left was
		// dropped whole, and a caller keeping its budget nearly spent
		// never paid for its events (a hunt).
		charge := func(cost int) {
			if principal != "" {
				keep(r, b.perPrincipal, principal, max(cost, 1))
			}
			keep(r, b.perAddress, address, max(cost, 1))
		}
		// An operation spent, then refused for want of room before it ran.
		refund := func(cost int) {
			if principal != "" {
				giveBack(r, b.perPrincipal, principal, max(cost, 1), spentIn.principal)
			}
			giveBack(r, b.perAddress, address, max(cost, 1), spentIn.address)
		}
		budget := graph.CostBudget{Spend: spend, Charge: charge, Refund: refund}
		next.ServeHTTP(lw, r.WithContext(graph.WithCostBudget(r.Context(), budget)))
	})
}

// take charges n to l under key, setting l's headers on w, and returns
// the end of the window the charge fell in (X-RateLimit-Reset, which
// OnLimit sets whatever its verdict) and whether l refused it.
func take(w http.ResponseWriter, r *http.Request, l *httprate.RateLimiter, key string, n int) (window string, refused bool) {
	refused = l.OnLimit(w, r.WithContext(httprate.WithIncrement(r.Context(), n)), key)
	return w.Header().Get("X-RateLimit-Reset"), refused
}

// giveBack takes back n that take charged to l under key in window, if
// window is still l's current one: a refund is a negative increment, and
// one in a later window would leave the charge weighing there through the
// previous window while taking it out of the current one whole, a budget
// the caller never had, at a moment it can choose by leaving while queued
// (a review). A refund that comes too late is not made.
//
// It is kept whatever the count (keep): a charge after the fact may have
// taken the caller past its limit, and OnLimit would drop the refund then.
func giveBack(r *http.Request, l *httprate.RateLimiter, key string, n int, window string) {
	if now := keep(r, l, key, 0); window == "" || now != window {
		return
	}
	keep(r, l, key, -n)
}

// noLimit is a limit no count reaches (a count is a minute or two of
// costs), with room above it for one so that none overflows.
const noLimit = math.MaxInt / 2

// keep adds n to l under key whatever its count, and returns the end of
// the window it fell in (as take): a charge made after the answer may take
// the caller past its limit. Its spends are then refused while the charge
// weighs: through the rest of the window it fell in, and, fading, through
// the next, two minutes at most. It is OnLimit with a limit of its own for
// this one call (httprate.WithRequestLimit), so it counts in l's current
// window under l's lock as a spend does; the headers it sets go nowhere
// (the answer has left, or is refused anyway).
func keep(r *http.Request, l *httprate.RateLimiter, key string, n int) (window string) {
	window, _ = take(headersOnly(), r.WithContext(httprate.WithRequestLimit(r.Context(), noLimit)), l, key, n)
	return window
}

// headerRecorder keeps the headers a limiter sets, and nothing else: for
// what keep counts (a charge made after the answer has left, a refund and
// its probe).
type headerRecorder struct{ h http.Header }

func headersOnly() headerRecorder { return headerRecorder{http.Header{}} }

func (w headerRecorder) Header() http.Header       { return w.h }
func (headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (headerRecorder) WriteHeader(int)             {}

// limitedWriter answers 429 for a request its budget refused: the GraphQL
// handler writes the status itself, and knows nothing of HTTP's.
type limitedWriter struct {
	http.ResponseWriter
	limited, wroteHeader bool
}

func (w *limitedWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if w.limited {
		code = http.StatusTooManyRequests
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *limitedWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *limitedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// addressKey keys a rate limit by the address the request came from
// (clientAddress; IPv6 by its /64, so one host cannot spread itself over
// many buckets). It is httprate's KeyByIP, which httprate deprecates only to
// make the choice of key explicit.
func addressKey(r *http.Request) (string, error) {
	return httprate.CanonicalizeIP(clientAddress(r)), nil
}
