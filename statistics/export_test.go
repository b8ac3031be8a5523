package statistics

import "time"

// SetRefreshAfter sets how long after a change the Cache reads again what
// it made stale, and returns a function that restores it.
func SetRefreshAfter(d time.Duration) (restore func()) {
	was := refreshAfter.Swap(int64(d))
	return func() { refreshAfter.Store(was) }
}
