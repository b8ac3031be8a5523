package audit

// BeforeEachBatch makes w call f as each of its batches starts, before its
// transaction begins, with the batch's numbers of requests and events: a
// test holds a batch there to choose what the next one gathers. Set it
// before w's first Write.
func BeforeEachBatch(w *Writer, f func(requests, events int)) { w.group.beforeBatch = f }

// Closed reports whether w refuses new writes.
func Closed(w *Writer) bool {
	w.group.mu.Lock()
	defer w.group.mu.Unlock()
	return w.group.closed
}
