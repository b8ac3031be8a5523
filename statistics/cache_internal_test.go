package statistics

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/rowscope"
)

// TestCacheGenerations: a value read before a change to one of its
// tables is never kept after it; a change to another table keeps it; a
// notification naming no counted table, or a lost listener, forgets
// everything; nothing is kept while the listener is down.
func TestCacheGenerations(t *testing.T) {
	victims := []string{victim.Table}
	cases := []string{casefile.Table, agency.Table}
	c := NewCache()
	kept := func(name string, tables []string) (any, bool) {
		v, ok, _ := c.load(name, tables)
		return v, ok
	}
	_, _, g := c.load("v", victims)
	c.store("v", victims, 1, g)
	if _, ok := kept("v", victims); ok {
		t.Fatal("kept a value before listening")
	}
	c.set(true) // listening
	_, _, g = c.load("v", victims)
	c.changed(victim.Table) // a change to victims while the value was being read
	c.store("v", victims, 1, g)
	if _, ok := kept("v", victims); ok {
		t.Fatal("kept a value read before a change to its table")
	}
	_, _, g = c.load("v", victims)
	c.changed(casefile.Table) // a change to another table while it was read
	c.store("v", victims, 2, g)
	if v, ok := kept("v", victims); !ok || v != 2 {
		t.Fatalf("did not keep a value whose table did not change: %v %v", v, ok)
	}
	_, _, g = c.load("c", cases)
	c.store("c", cases, 3, g)
	c.changed(agency.Table) // the second of the cases' tables
	if _, ok := kept("c", cases); ok {
		t.Fatal("kept a value after a change to one of its tables")
	}
	if v, ok := kept("v", victims); !ok || v != 2 {
		t.Fatalf("a change to agencies made the victims' cells stale: %v %v", v, ok)
	}
	c.changed("charges") // a table no cached read reads: forget everything
	if _, ok := kept("v", victims); ok {
		t.Fatal("kept a value after a notification naming an unknown table")
	}
	_, _, g = c.load("v", victims)
	c.store("v", victims, 4, g)
	c.set(false) // the listener lost its connection
	if _, ok := kept("v", victims); ok {
		t.Fatal("kept a value while not listening")
	}
	_, _, g = c.load("v", victims)
	c.store("v", victims, 5, g)
	if _, ok := kept("v", victims); ok {
		t.Fatal("stored a value while not listening")
	}
	if c.Heard() != 4 {
		t.Errorf("heard %d notifications, want 4", c.Heard())
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
	before, _ := readOnce(a, Referrals.name, Referrals.from, func() ([]fineCell, error) {
		return []fineCell{cell("POLICE", 1), cell("NGO", 9), cell("SHELTER", 9)}, nil
	})
	c.changed(referral.Table) // a change is notified while A answers
	Referrals.answer(a, before, q, Control{K: 5})

	b := WithReadings(national, c)
	after, _ := readOnce(b, Referrals.name, Referrals.from, func() ([]fineCell, error) {
		return []fineCell{cell("NGO", 9), cell("SHELTER", 9), cell("POLICE", 2)}, nil
	})
	for _, x := range Referrals.answer(b, after, q, Control{K: 5}).Cells {
		if x.Values[0] == "POLICE" && !x.Suppressed {
			t.Errorf("the police's count of %d, under k = 5, is shown: disclosure was decided on other cells", *x.Count)
		}
	}
}
