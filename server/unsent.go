package server

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/requestid"
	"github.com/casegraph/casegraph/viewer"
)

// Answers not yet sent (docs/limits.md, "Answers waiting for their
// clients").
//
// An operation gives its room back (graph.Admission) once its answer is
// built, and the answer, up to 8 MiB, then waits in memory until its
// client has read it, for up to http.Server's WriteTimeout (60 s): a
// prosecutor's token on one address, with connections each asking an
// 8 MB page and reading nothing, held 1.5 GB of a server whose memory
// target is 72 MiB (a review). So the bytes of /graphql answers built
// and not yet written are counted, for the whole server, for each
// principal and for each client address (the keys of the cost budgets),
// from the moment their operation gives its room back until their write
// returns or fails. A request is refused (UNAVAILABLE, 503, Retry-After)
// before anything of it runs while its principal's bytes are over a
// quarter of the server's budget, its address's over half of it, or the
// server's over it: when it arrives (the server's and the address's
// before its body is read, its principal's once its token is read), and
// again once it has room to run (graph.UnsentAnswers.Check), since it
// may have waited for room while answers of its caller were built.
//
// And an answer is written 64 KiB at a time, each within answerStall
// (within WriteTimeout as before): a client that stops reading is cut off
// then, not at the end of WriteTimeout, and the memory its answer held is
// free again.

// DefaultMaxUnsentAnswerBytes is the server's budget of answers built and
// not yet sent: four answers at the answer's limit
// (graph.DefaultMaxResponseBytes). A byte waiting is about a byte of heap
// (47 answers of 8 MB waiting held 381 MiB), the heap of a server at rest
// is 13 MiB, and serve's memory target (GOMEMLIMIT) is 72 MiB: 32 MiB
// waiting leaves the rest to the operations running.
const DefaultMaxUnsentAnswerBytes = 32 << 20

// A principal's share of the budget is a quarter of it (one answer at the
// limit: a refusal comes when two are waiting), an address's half of it
// (several people behind one office's address), as an address's cost
// budget is larger than a principal's.
const (
	principalUnsentShare = 4
	addressUnsentShare   = 2
)

// answerChunk is what an answer is written in: each chunk must leave
// within the stall time.
const answerChunk = 64 << 10

// DefaultAnswerStall is how long a client may take to read each 64 KiB of
// an answer (answerChunk): at least 6.4 KiB a second, slower than any
// link a client works over, and a client that reads nothing is cut off
// after it. The whole answer is still bounded by WriteTimeout (60 s).
const DefaultAnswerStall = 10 * time.Second

// unsentRetryAfter is the Retry-After of a refusal for answers not yet
// sent, in seconds, as a refusal for want of room says: an answer read
// at a client's usual speed leaves in well under a second.
const unsentRetryAfter = "1"

// The messages of a refusal, by whose answers are waiting.
const (
	unsentPrincipalMessage = "Answers to your earlier requests are still waiting for your client to read them; nothing of this request was done. Read those answers (or close their connections), then retry after the time in Retry-After."
	unsentAddressMessage   = "Answers to earlier requests from your network address are still waiting for their clients to read them; nothing of this request was done. Retry after the time in Retry-After."
	unsentServerMessage    = "The server is busy sending answers that their clients have not read yet; nothing of this request was done. Retry after the time in Retry-After."
)

// unsentAnswers counts the bytes of answers built and not yet sent, and
// refuses requests past their budgets.
type unsentAnswers struct {
	limit, perPrincipal, perAddress int64
	stall                           time.Duration

	mu          sync.Mutex
	total       int64
	byPrincipal map[string]int64
	byAddress   map[string]int64

	refused atomic.Uint64
}

func newUnsentAnswers(limit int, stall time.Duration) *unsentAnswers {
	if limit <= 0 {
		limit = DefaultMaxUnsentAnswerBytes
	}
	if stall <= 0 {
		stall = DefaultAnswerStall
	}
	l := int64(limit)
	return &unsentAnswers{limit: l, perPrincipal: l / principalUnsentShare, perAddress: l / addressUnsentShare, stall: stall,
		byPrincipal: map[string]int64{}, byAddress: map[string]int64{}}
}

// unsentStats are the figures /metrics shows.
type unsentStats struct {
	Bytes, Limit int64
	Refused      uint64
}

func (u *unsentAnswers) stats() unsentStats {
	u.mu.Lock()
	defer u.mu.Unlock()
	return unsentStats{Bytes: u.total, Limit: u.limit, Refused: u.refused.Load()}
}

// refusal is why a request of principal (empty: not known yet) from
// address may not run now, or "" when it may.
func (u *unsentAnswers) refusal(principal, address string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case principal != "" && u.byPrincipal[principal] > u.perPrincipal:
		return unsentPrincipalMessage
	case u.byAddress[address] > u.perAddress:
		return unsentAddressMessage
	case u.total > u.limit:
		return unsentServerMessage
	}
	return ""
}

// refuse answers a request that may not run now, and reports whether it
// did.
func (u *unsentAnswers) refuse(w http.ResponseWriter, r *http.Request, principal, address string) bool {
	msg := u.refusal(principal, address)
	if msg == "" {
		return false
	}
	u.refused.Add(1)
	w.Header().Set("Retry-After", unsentRetryAfter)
	apperr.WriteHTTP(w, http.StatusServiceUnavailable, apperr.Unavailable, msg, requestid.FromContext(r.Context()))
	return true
}

// watch checks a request's address and the server when it arrives,
// before its body is read, and counts what is written of its answer.
func (u *unsentAnswers) watch(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		address, _ := addressKey(r)
		if u.refuse(w, r, "", address) {
			return
		}
		aw := &answerWriter{ResponseWriter: w, u: u, rc: http.NewResponseController(w), address: address}
		if hs, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && hs.WriteTimeout > 0 {
			// The deadline http.Server set as it read the headers, which
			// the stall's never pass.
			aw.writeBy = time.Now().Add(hs.WriteTimeout)
		}
		defer aw.done()
		next.ServeHTTP(aw, r.WithContext(context.WithValue(r.Context(), answerWriterKey{}, aw)))
	})
}

// admitCaller checks a request's principal once its token is read (and
// its address and the server again: its body may have taken a while),
// counts its answer under its principal too, and has GraphQL check them
// again once its operation has room to run (graph.UnsentAnswers).
func (u *unsentAnswers) admitCaller(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		aw, ok := r.Context().Value(answerWriterKey{}).(*answerWriter)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		principal := viewer.FromContext(r.Context()).Key()
		if u.refuse(w, r, principal, aw.address) {
			return
		}
		u.setPrincipal(aw, principal)
		ctx := graph.WithUnsentAnswers(r.Context(), &graph.UnsentAnswers{
			Check: func() string {
				msg := u.refusal(principal, aw.address)
				if msg != "" {
					u.refused.Add(1)
				}
				return msg
			},
			Hold: func(n int) { u.holdAtLeast(aw, int64(n)) },
		})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type answerWriterKey struct{}

// setPrincipal counts what aw holds under principal too.
func (u *unsentAnswers) setPrincipal(aw *answerWriter, principal string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if principal != "" {
		addTo(u.byPrincipal, principal, aw.held)
	}
	aw.principal = principal
}

// holdAtLeast counts aw as holding at least n bytes.
func (u *unsentAnswers) holdAtLeast(aw *answerWriter, n int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if n > aw.held {
		u.add(aw, n-aw.held)
	}
}

// release counts aw as holding nothing.
func (u *unsentAnswers) release(aw *answerWriter) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.add(aw, -aw.held)
}

// add counts n more bytes held by aw; the caller holds mu.
func (u *unsentAnswers) add(aw *answerWriter, n int64) {
	aw.held += n
	u.total += n
	addTo(u.byAddress, aw.address, n)
	if aw.principal != "" {
		addTo(u.byPrincipal, aw.principal, n)
	}
}

// addTo adds n to m[key], forgetting a key at zero: the maps hold only
// the callers with answers waiting.
func addTo(m map[string]int64, key string, n int64) {
	if v := m[key] + n; v != 0 {
		m[key] = v
	} else {
		delete(m, key)
	}
}

// answerWriter counts the bytes of an answer as not yet sent while a
// write of them is under way (and from when GraphQL hands them over:
// holdAtLeast), and writes them answerChunk at a time, each within the
// stall time.
type answerWriter struct {
	http.ResponseWriter
	u                  *unsentAnswers
	rc                 *http.ResponseController
	address, principal string
	// held is what this answer counts for; under u.mu.
	held int64
	// writeBy is http.Server's WriteTimeout from the request's start,
	// which no stall deadline passes; zero: none.
	writeBy     time.Time
	deadlineSet bool
}

func (w *answerWriter) Write(b []byte) (int, error) {
	w.u.holdAtLeast(w, int64(len(b)))
	// Written or failed, the answer is no longer waiting in memory.
	defer w.u.release(w)
	written := 0
	for written < len(b) {
		end := min(len(b), written+answerChunk)
		w.stallDeadline()
		n, err := w.ResponseWriter.Write(b[written:end])
		written += n
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// stallDeadline gives the next chunk the stall time to leave, within
// writeBy.
func (w *answerWriter) stallDeadline() {
	d := time.Now().Add(w.u.stall)
	if !w.writeBy.IsZero() && d.After(w.writeBy) {
		d = w.writeBy
	}
	if w.rc.SetWriteDeadline(d) == nil {
		w.deadlineSet = true
	}
}

// done forgets what the answer held (a hand-over never written), and puts
// back the deadline http.Server had set, for what net/http writes after
// the handler (the end of a chunked body) and, without a WriteTimeout,
// for the next request on the connection, which would otherwise find the
// stall's deadline passed.
func (w *answerWriter) done() {
	w.u.release(w)
	if w.deadlineSet {
		_ = w.rc.SetWriteDeadline(w.writeBy)
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *answerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
