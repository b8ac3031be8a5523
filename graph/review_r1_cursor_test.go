package graph_test

// Review R1 (2026-12-06): a forged cursor reaching the database driver.
// Fails on main when written; fixes nothing.

import (
	"encoding/base64"
	"math"
	"slices"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// forgedCursor is a cursor as graph's codec writes it (servedCursor): the
// record's id, the ordering's values, the key of the page's ordering.
type forgedCursor struct {
	ID       int    `msgpack:"i"`
	Value    any    `msgpack:"v,omitempty"`
	Ordering string `msgpack:"o,omitempty"`
}

func forge(t *testing.T, c forgedCursor) string {
	t.Helper()
	b, err := msgpack.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawStdEncoding.EncodeToString(b)
}

// TestReviewCursorIntegerBeyondInt64: a cursor carrying the key of the
// page's ordering (cursor_codec.go) and, for an integer field, a msgpack
// uint64 above 2^63-1 passes connectionArguments (fits takes any integer
// kind for an integer field) and reaches the database driver, which
// refuses a uint64 with its high bit set: INTERNAL on SQLite and
// PostgreSQL, where docs/errors.md promises BAD_USER_INPUT for a cursor
// the server did not give out.
func TestReviewCursorIntegerBeyondInt64(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		tok := s.Token(t, "prosecution-tirane", viewer.RoleProsecutor)
		for _, v := range []any{uint64(math.MaxUint64), uint64(1<<63 + 1)} {
			cursor := forge(t, forgedCursor{ID: 1, Value: []any{v}, Ordering: "Query.prosecutions:DEADLINE_EXTENSIONS ASC"})
			r := s.Do(t, tok, `query ($a: Cursor) { prosecutions(first: 5, after: $a, orderBy: [{field: DEADLINE_EXTENSIONS}]) {
  totalCount edges { cursor node { id } } } }`, map[string]any{"a": cursor})
			if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) {
				t.Errorf("a forged cursor holding %d for DEADLINE_EXTENSIONS: codes %v, want [BAD_USER_INPUT]\n%s", v, codes, r.Body)
			}
		}
	})
}
