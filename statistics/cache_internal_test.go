package statistics

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/rowscope"
)

// TestCacheGenerations: a value read before a notification is never kept
// after it, and nothing is kept while the listener is down.
func TestCacheGenerations(t *testing.T) {
	c := NewCache()
	_, _, g := c.load("t")
	c.store("t", 1, g)
	if _, ok, _ := c.load("t"); ok {
		t.Fatal("kept a value before listening")
	}
	c.set(true) // listening
	_, _, g = c.load("t")
	c.set(true) // a notification while the value was being read
	c.store("t", 1, g)
	if _, ok, _ := c.load("t"); ok {
		t.Fatal("kept a value read before a notification")
	}
	_, _, g = c.load("t")
	c.store("t", 2, g)
	if v, ok, _ := c.load("t"); !ok || v != 2 {
		t.Fatalf("did not keep a value read since the last notification: %v %v", v, ok)
	}
	c.set(false) // the listener lost its connection
	if _, ok, _ := c.load("t"); ok {
		t.Fatal("kept a value while not listening")
	}
	_, _, g = c.load("t")
	c.store("t", 3, g)
	if _, ok, _ := c.load("t"); ok {
		t.Fatal("stored a value while not listening")
	}
}

// TestCachedDisclosureFitsItsCells: a disclosure decision kept across
// requests may have been made on cells read before a change; it must not
// be applied to the cells read after it. Request A reads the referrals'
// cells, a change is notified, A decides disclosure on its old cells (a
// decision kept under the new generation), and request B, with the new
// cells (one more referral to the police, ordered differently), must still
// hide the police's count of 2 under k = 5.
func TestCachedDisclosureFitsItsCells(t *testing.T) {
	c := NewCache()
	c.set(true)
	national := rowscope.NewContext(context.Background(), &rowscope.Scope{AgencyID: 1, Cases: rowscope.All, Victims: rowscope.All})
	cell := func(to string, n int) fineCell {
		return fineCell{month: "2026-01", values: []string{"LEGAL_AID", "NGO", to, "ACCEPTED"}, count: n}
	}
	q := Query{GroupBy: []string{"TO_AGENCY_KIND"}}
	a := WithReadings(national, c)
	before, _ := readOnce(a, Referrals.name, ent.TypeReferral, func() ([]fineCell, error) {
		return []fineCell{cell("POLICE", 1), cell("NGO", 9), cell("SHELTER", 9)}, nil
	})
	c.set(true) // a change is notified while A answers
	Referrals.answer(a, before, q, Control{K: 5})

	b := WithReadings(national, c)
	after, _ := readOnce(b, Referrals.name, ent.TypeReferral, func() ([]fineCell, error) {
		return []fineCell{cell("NGO", 9), cell("SHELTER", 9), cell("POLICE", 2)}, nil
	})
	for _, x := range Referrals.answer(b, after, q, Control{K: 5}).Cells {
		if x.Values[0] == "POLICE" && !x.Suppressed {
			t.Errorf("the police's count of %d, under k = 5, is shown: disclosure was decided on other cells", *x.Count)
		}
	}
}
