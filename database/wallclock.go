package database

import "time"

// wallClock is args (ent's statement arguments, a []any) with the
// monotonic clock reading stripped from every time among them
// (time.Round(0)). The SQLite driver stores a time as its String(), which
// carries that reading ("… +0000 UTC m=+66.47"): a time the server wrote
// with time.Now() then compared, as text, unequal to the same instant
// sent back by a client, and after it (a filter's bound excluded it).
// PostgreSQL ignores the reading; stripping it there changes nothing.
// Every statement of the server passes here (sharedDriver, countingTx).
func wallClock(args any) any {
	list, ok := args.([]any)
	if !ok {
		return args
	}
	return wallClockList(list)
}

// wallClockList is wallClock of a list; it copies the list only when a
// time in it carries a monotonic reading.
func wallClockList(args []any) []any {
	var out []any
	for i, a := range args {
		t, ok := a.(time.Time)
		if !ok || t == t.Round(0) { // == tells the reading apart; Equal does not
			continue
		}
		if out == nil {
			out = append([]any(nil), args...)
		}
		out[i] = t.Round(0)
	}
	if out == nil {
		return args
	}
	return out
}
