package server

import (
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/httprate"

	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/viewer"
)

// budgetFor runs costBudgets.middleware once, as p, and returns the budget
// it gave the request.
func budgetFor(t *testing.T, b *costBudgets, p *viewer.Principal) graph.CostBudget {
	t.Helper()
	var got graph.CostBudget
	r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	r = r.WithContext(viewer.NewContext(r.Context(), p))
	b.middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		var ok bool
		if got, ok = graph.CostBudgetOf(r.Context()); !ok {
			t.Fatal("the middleware installed no budget")
		}
	})).ServeHTTP(httptest.NewRecorder(), r)
	return got
}

// untilInWindow sleeps until the clock is frac into a window of length w
// of a limiter made at origin (httprate aligns its windows to its making).
func untilInWindow(origin time.Time, w time.Duration, frac float64) {
	now := time.Now()
	target := origin.Add(now.Sub(origin).Truncate(w)).Add(time.Duration(float64(w) * frac))
	if !target.After(now) {
		target = target.Add(w)
	}
	time.Sleep(time.Until(target))
}

// TestRefundStaysInItsWindow: an operation refused for want of room gets
// its cost back only in the window it was charged in. A refund is a
// negative increment: spent late in one window and refunded early in the
// next, the spend still weighed there through the previous window while
// the refund took it out of the current one whole, and a caller who left
// while queued at a moment of its choosing had 160 of work run within one
// window against a budget of 100 (a review).
func TestRefundStaysInItsWindow(t *testing.T) {
	const window = time.Second
	origin := time.Now()
	b := &costBudgets{perPrincipal: httprate.NewRateLimiter(100, window), perAddress: httprate.NewRateLimiter(400, window)}
	p := &viewer.Principal{AgencyCode: "police-tirane", Subject: "u1"}
	queued := budgetFor(t, b, p)
	untilInWindow(origin, window, 0.90)
	if err := queued.Spend(100); err != nil {
		t.Fatal(err)
	}
	untilInWindow(origin, window, 0.02)
	queued.Refund(100)
	first, ran := time.Now(), 0
	if err := budgetFor(t, b, p).Spend(100); err == nil {
		ran += 100
	}
	untilInWindow(origin, window, 0.70)
	if err := budgetFor(t, b, p).Spend(60); err == nil {
		ran += 60
	}
	if elapsed := time.Since(first); elapsed < window && ran > 100 {
		t.Errorf("after a refund into a new window, %d of work ran within %v against a budget of 100 a window", ran, elapsed.Round(time.Millisecond))
	}
}

// TestRefusedAtItsAddressCostsThePrincipalNothing: a spend its client
// address refuses (429) gives the principal back what it was charged:
// colleagues behind one office address paid for refusals (a review).
func TestRefusedAtItsAddressCostsThePrincipalNothing(t *testing.T) {
	b := &costBudgets{perPrincipal: httprate.NewRateLimiter(100, time.Minute), perAddress: httprate.NewRateLimiter(100, time.Minute)}
	if err := budgetFor(t, b, &viewer.Principal{AgencyCode: "police-tirane", Subject: "colleague"}).Spend(100); err != nil {
		t.Fatal(err) // the office's address is used up
	}
	p := &viewer.Principal{AgencyCode: "police-tirane", Subject: "u1"}
	for range 3 {
		if err := budgetFor(t, b, p).Spend(30); err == nil {
			t.Fatal("the address's budget is spent, yet it took more")
		}
	}
	elsewhere := &costBudgets{perPrincipal: b.perPrincipal, perAddress: httprate.NewRateLimiter(1000, time.Minute)}
	if err := budgetFor(t, elsewhere, p).Spend(100); err != nil {
		t.Errorf("a principal refused three times at its address, having run nothing, is refused its own budget: %v", err)
	}
}

// TestChargePastTheLimitKeepsRefunds: a charge after the answer counts
// whole, past the caller's limit if need be, against the caller alone; and
// a refund made while its budget is past the limit still counts. OnLimit
// drops any increment, a negative one too, while the count stays over the
// limit: an operation refused for want of room beside another whose events
// took its caller past the limit was paid for all the same.
func TestChargePastTheLimitKeepsRefunds(t *testing.T) {
	b := &costBudgets{perPrincipal: httprate.NewRateLimiter(100, time.Minute), perAddress: httprate.NewRateLimiter(1000, time.Minute)}
	p := &viewer.Principal{AgencyCode: "police-tirane", Subject: "u1"}
	spent := func() int {
		_, rate, _ := b.perPrincipal.Status(p.Key())
		return int(math.Round(rate))
	}
	queued, answered := budgetFor(t, b, p), budgetFor(t, b, p)
	if err := queued.Spend(30); err != nil {
		t.Fatal(err)
	}
	if err := answered.Spend(70); err != nil {
		t.Fatal(err)
	}
	answered.Charge(200)
	if got := spent(); got != 300 {
		t.Fatalf("a charge of 200 after the answer on a spent budget of 100: %d counted, want 300", got)
	}
	queued.Refund(30)
	if got := spent(); got != 270 {
		t.Errorf("a refund of 30 on a budget 200 past its limit: %d counted, want 270", got)
	}
	colleague := &viewer.Principal{AgencyCode: "police-tirane", Subject: "u2"}
	if err := budgetFor(t, b, colleague).Spend(100); err != nil {
		t.Errorf("a colleague behind the same address is refused its own budget for another's events: %v", err)
	}
}
