package database

import "time"

// SetPingEvery makes Listen ping as often as d until restore is called.
func SetPingEvery(d time.Duration) (restore func()) {
	old := pingEvery
	pingEvery = d
	return func() { pingEvery = old }
}

// KeptPrepared is how many statements db keeps prepared.
func KeptPrepared(db *DB) int {
	db.prepared.mu.Lock()
	defer db.prepared.mu.Unlock()
	return len(db.prepared.byText)
}

// MaxPrepared is maxPrepared.
const MaxPrepared = maxPrepared

// PreparesDone is how many prepares db has sent.
func PreparesDone(db *DB) int64 { return db.prepared.prepared.Load() }

// SetPrepareHook makes f run before each of db's prepares.
func SetPrepareHook(db *DB, f func()) {
	if f == nil {
		db.prepared.testHookPrepare.Store(nil)
		return
	}
	db.prepared.testHookPrepare.Store(&f)
}
