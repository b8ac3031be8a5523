package graph

import (
	"context"

	"github.com/casegraph/casegraph/internal/ctxvalue"
)

// UnsentAnswers is the HTTP server's bound on answers built and not yet
// sent (server.unsentAnswers): an operation gives its room back
// (Admission) once its answer is built, and the answer then waits in
// memory for as long as its client takes to read it. The server installs
// one per request with WithUnsentAnswers; without one nothing is bounded
// (a handler used outside the server).
type UnsentAnswers struct {
	// Check refuses an operation, once it has room to run and before
	// anything of it runs, while the answers not yet sent to its caller
	// (or to its address, or of the whole server) are over their budget:
	// it returns why, in a user's words, and the operation is answered
	// UNAVAILABLE with it; "" lets it run. The server checks them when
	// the request arrives too; this checks them again after its wait for
	// room, during which answers of the same caller may have been built.
	Check func() (refusal string)
	// Hold counts an answer of n bytes as not yet sent from the moment
	// its operation gives its room back until it is written: an operation
	// admitted meanwhile sees it (Check).
	Hold func(n int)
}

var unsentAnswersKey = &ctxvalue.Key[*UnsentAnswers]{}

// WithUnsentAnswers returns ctx whose operations are bounded by u.
func WithUnsentAnswers(ctx context.Context, u *UnsentAnswers) context.Context {
	return unsentAnswersKey.With(ctx, u)
}

// checkUnsentAnswers is UnsentAnswers.Check of ctx, or "" without one.
func checkUnsentAnswers(ctx context.Context) (refusal string) {
	if u := unsentAnswersKey.From(ctx); u != nil && u.Check != nil {
		return u.Check()
	}
	return ""
}

// holdUnsentAnswer is UnsentAnswers.Hold of ctx, if it has one.
func holdUnsentAnswer(ctx context.Context, n int) {
	if u := unsentAnswersKey.From(ctx); u != nil && u.Hold != nil && n > 0 {
		u.Hold(n)
	}
}
