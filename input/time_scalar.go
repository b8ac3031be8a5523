package input

import (
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/casegraph/casegraph/apperr"
)

// MarshalTime and UnmarshalTime are the GraphQL Time scalar (gqlgen.yml):
// gqlgen's own, except that every time is in UTC once read. A client may
// send any offset (2026-03-01T10:30:00+01:00 is Albania's winter time), and
// what is stored must not depend on it: the SQLite driver stores a time as
// its text with the zone it carries, which it cannot read back for a bare
// offset, and which would compare as text out of order with the UTC times
// the server writes. The same instant sent with two offsets is then one
// input too (an idempotent retry matches). Fractions finer than a
// microsecond are kept as sent: PostgreSQL rounds them to microseconds and
// SQLite keeps them, as it keeps the times the server makes itself, which
// a client sends back as it read them (cutting them would date a stage
// before the one it read; docs/input.md).
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.MarshalTime(t.UTC())
}

// UnmarshalTime reads a Time argument as gqlgen does, in UTC.
func UnmarshalTime(v any) (time.Time, error) {
	if s, ok := v.(string); ok {
		v = rfc3339Letters(s)
	}
	t, err := graphql.UnmarshalTime(v)
	if err != nil {
		return time.Time{}, err
	}
	if !offsetInRange(t) {
		return time.Time{}, errOffset
	}
	return t.UTC(), nil
}

// ParseRFC3339 reads s as an RFC 3339 time ('t' and 'z' in either case);
// ok is false when it is not one.
func ParseRFC3339(s string) (t time.Time, ok bool) {
	t, err := time.Parse(time.RFC3339Nano, rfc3339Letters(s))
	return t, err == nil && offsetInRange(t)
}

// offsetInRange reports whether t's offset is one RFC 3339 can write: its
// hours run to 23 (time-numoffset), and Go read +24:00 and beyond (a hunt
// over HTTP).
func offsetInRange(t time.Time) bool {
	_, off := t.Zone()
	return off > -24*3600 && off < 24*3600
}

var errOffset = &apperr.Error{Code: apperr.BadUserInput, Message: "A Time's offset from UTC is at most 23:59 either way (RFC 3339), such as 2026-03-01T09:30:00+01:00."}

// rfc3339Letters writes the letters of an RFC 3339 time in upper case:
// the RFC allows 't' and 'z' (section 5.6), Go's time.Parse only 'T' and
// 'Z', and 2026-01-01t00:00:00z was refused (a hunt over HTTP). Only those
// two places are touched: any other letter is not RFC 3339 either way.
func rfc3339Letters(s string) string {
	b := []byte(s)
	if len(b) > 10 && b[10] == 't' {
		b[10] = 'T'
	}
	if n := len(b); n > 0 && b[n-1] == 'z' {
		b[n-1] = 'Z'
	}
	return string(b)
}
