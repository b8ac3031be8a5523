package statistics

import "testing"

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
