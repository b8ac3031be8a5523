package testserver

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
)

// LogRecord is one line of the server's JSON log, decoded: tests assert on
// its message and keys, never on the text of the line.
type LogRecord map[string]any

// Msg returns the record's message.
func (r LogRecord) Msg() string { s, _ := r["msg"].(string); return s }

// Level returns the record's level (INFO, WARN, ERROR).
func (r LogRecord) Level() string { s, _ := r["level"].(string); return s }

// String returns the value of key when it is a string, else "".
func (r LogRecord) String(key string) string { s, _ := r[key].(string); return s }

// DecodeLog decodes JSON log lines, failing the test on a line that is not
// a JSON object (the server logs nothing else).
func DecodeLog(tb testing.TB, text string) []LogRecord {
	tb.Helper()
	var out []LogRecord
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var rec LogRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			tb.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		out = append(out, rec)
	}
	return out
}

// LogRecords returns what the server has logged so far, decoded.
func (s *Server) LogRecords(tb testing.TB) []LogRecord {
	tb.Helper()
	return DecodeLog(tb, s.Logs())
}

// LogRecordsWith returns the records whose key holds value (a request's
// records by its request_id, say).
func (s *Server) LogRecordsWith(tb testing.TB, key, value string) []LogRecord {
	tb.Helper()
	var out []LogRecord
	for _, r := range s.LogRecords(tb) {
		if r.String(key) == value {
			out = append(out, r)
		}
	}
	return out
}

// LogOfRequest returns the log lines of request id as text, for a failing
// test to show (diagnosis only, never asserted on).
func (s *Server) LogOfRequest(id string) string {
	var out []string
	for _, l := range strings.Split(s.Logs(), "\n") {
		if strings.Contains(l, id) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
