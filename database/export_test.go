package database

import "time"

// SetPingEvery makes Listen ping as often as d until restore is called.
func SetPingEvery(d time.Duration) (restore func()) {
	old := pingEvery
	pingEvery = d
	return func() { pingEvery = old }
}
