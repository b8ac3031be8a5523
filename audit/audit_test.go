package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/privacy"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/migrations"
	"github.com/casegraph/casegraph/viewer"
)

// base is when the sample events happen; its nanoseconds check that an
// event's hash covers its time as stored (microseconds).
var base = time.Date(2026, time.March, 3, 9, 30, 15, 123456789, time.UTC)

// sampleEvents returns n events of every kind in turn, with the characters
// a CSV or JSON writer must escape, lists of several items, and optional
// ids left out on some.
func sampleEvents(n int, at time.Time) []audit.Event {
	out := make([]audit.Event, n)
	for i := range out {
		k := audit.Kinds[i%len(audit.Kinds)]
		e := audit.Event{
			OccurredAt:    at.Add(time.Duration(i) * time.Second),
			Kind:          k,
			RequestID:     fmt.Sprintf("req-%d", i),
			Operation:     "query VictimFile",
			ClientAddress: "192.0.2.7",
			ActorSubject:  fmt.Sprintf("officer-%d@police-tirane", i),
			ActorAgencyID: 4,
			ActorAgency:   "police-tirane",
			ActorRoles:    []string{"investigator", "dpo"},
			EntityType:    "Victim",
			EntityID:      100 + i,
			Fields:        []string{"Victim.legalName", "Victim.dateOfBirth"},
			Decision:      audit.Allowed,
			Rule:          "p, investigator, police, Victim:IDENTITY, read, on_case",
			Reason:        fmt.Sprintf("reason %d, with \"quotes\", commas\nand a second line", i),
			// Characters JSON escapes, and some it does not, as the trail's
			// JSON insert must store them exactly.
			Justification: "Life at risk; \"urgent\", tonight\t<now> & back\\slash, Tiranë\u2028\U0001F6A8",
			Detail:        `{"op":"update","note":"a, b\nc"}`,
		}
		switch i % 3 {
		case 1:
			e.Decision, e.Rule = audit.Denied, ""
			e.Fields = []string{"Victim.healthNotes"}
			e.Emergency = true
		case 2:
			e.ActorAgencyID, e.EntityID = 0, 0
			e.ActorRoles, e.Fields = []string{}, []string{}
			e.Justification, e.Detail = "", ""
		}
		if i%4 == 3 {
			// An event about several records: no entity, its records under
			// the digest in its detail.
			e.EntityID = 0
			e.Records = []audit.Record{{ID: 100 + i, Nonce: fmt.Sprintf("%032x", i)}, {ID: 200 + i, Nonce: fmt.Sprintf("%032x", 1000+i)}}
			e.Detail = `{"recordsDigest":"` + audit.RecordsDigest(e.Records) + `"}`
		}
		out[i] = e
	}
	return out
}

func write(t *testing.T, w *audit.Writer, events []audit.Event) {
	t.Helper()
	if err := w.Write(context.Background(), events); err != nil {
		t.Fatalf("writing %d events: %v", len(events), err)
	}
}

func verify(t *testing.T, db *database.DB) audit.Verification {
	t.Helper()
	v, err := audit.Verify(context.Background(), db.Client)
	if err != nil {
		t.Fatalf("verifying: %v", err)
	}
	return v
}

// sameEvent reports whether a and b are equal, times compared as instants.
func sameEvent(a, b audit.Event) bool {
	if !a.OccurredAt.Equal(b.OccurredAt) {
		return false
	}
	a.OccurredAt, b.OccurredAt = time.Time{}, time.Time{}
	norm := func(xs []string) []string {
		if xs == nil {
			return []string{}
		}
		return xs
	}
	a.ActorRoles, b.ActorRoles = norm(a.ActorRoles), norm(b.ActorRoles)
	a.Fields, b.Fields = norm(a.Fields), norm(b.Fields)
	return reflect.DeepEqual(a, b)
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// exec runs a statement through the application's own connection, with
// PostgreSQL's $n placeholders turned into SQLite's ? there.
func exec(db *database.DB, query string, args ...any) error {
	_, err := db.SQL.ExecContext(context.Background(), rebind(db, query), args...)
	return err
}

// rebind turns PostgreSQL's $n placeholders into SQLite's ? there.
func rebind(db *database.DB, query string) string {
	if db.Dialect == dialect.SQLite {
		return regexp.MustCompile(`\$\d+`).ReplaceAllString(query, "?")
	}
	return query
}

// bypassTriggers does what only someone with the table owner's rights can:
// switch off the triggers that keep the trail append-only.
func bypassTriggers(t *testing.T, db *database.DB) {
	t.Helper()
	var stmts []string
	switch db.Dialect {
	case dialect.SQLite:
		stmts = []string{"DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete",
			"DROP TRIGGER audit_event_records_no_update", "DROP TRIGGER audit_event_records_no_delete",
			"DROP TRIGGER audit_events_numbered", "DROP TRIGGER audit_events_follow_the_chain"}
	case dialect.Postgres:
		stmts = []string{"ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change",
			"ALTER TABLE audit_event_records DISABLE TRIGGER audit_event_records_no_change",
			"ALTER TABLE audit_event_records DISABLE TRIGGER audit_event_records_of_new_events",
			"ALTER TABLE audit_events DISABLE TRIGGER audit_events_numbered",
			"ALTER TABLE audit_events DISABLE TRIGGER audit_events_follow_the_chain"}
	}
	for _, s := range stmts {
		if err := exec(db, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func mustExec(t *testing.T, db *database.DB, query string, args ...any) {
	t.Helper()
	if err := exec(db, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// TestChainNumbersAndLinksEvents: events are numbered from 1 without gaps,
// each links to the one before (the first to GenesisHash), each hash is its
// content's, what is read back is what was written, and a second write
// continues the chain.
func TestChainNumbersAndLinksEvents(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := audit.Install(db.Client, db.Dialect)
		if v := verify(t, db); !v.Valid || v.Checked != 0 || v.LastSeq != 0 || v.LastHash != audit.GenesisHash {
			t.Errorf("empty trail: %+v, want valid, nothing checked, ending at the genesis hash", v)
		}

		first := sampleEvents(5, base)
		write(t, w, first)
		second := sampleEvents(3, base.Add(time.Hour))
		write(t, w, second)
		written := append(slices.Clone(first), second...)

		got := testdb.AuditTrail(t, db)
		if len(got) != len(written) {
			t.Fatalf("read %d events, wrote %d:\n%s", len(got), len(written), dump(got))
		}
		prev := audit.GenesisHash
		for i, e := range got {
			if want := int64(i + 1); e.Seq != want {
				t.Errorf("event %d has seq %d, want %d", i, e.Seq, want)
			}
			if e.PrevHash != prev {
				t.Errorf("event %d: prevHash %s, want %s (the hash of the event before)", e.Seq, e.PrevHash, prev)
			}
			if h := e.ComputeHash(); e.Hash != h || len(h) != 64 {
				t.Errorf("event %d: hash %s, its content hashes to %s", e.Seq, e.Hash, h)
			}
			if !sameEvent(e, written[i]) {
				t.Errorf("event %d read back differs from the one written:\n got %s\nwant %s", e.Seq, dump(e), dump(written[i]))
			}
			if !e.OccurredAt.Equal(written[i].OccurredAt) || e.OccurredAt.Nanosecond()%1000 != 0 {
				t.Errorf("event %d: occurredAt %v, want it truncated to microseconds", e.Seq, e.OccurredAt)
			}
			prev = e.Hash
		}
		if second[0].Seq != 6 || second[0].PrevHash != first[4].Hash {
			t.Errorf("the second write starts at seq %d after %s, want 6 after %s", second[0].Seq, second[0].PrevHash, first[4].Hash)
		}

		v := verify(t, db)
		want := audit.Verification{Valid: true, Checked: 8, LastSeq: 8, LastHash: got[7].Hash, Walked: 8, WalkedTo: 8, Intact: 8}
		if !reflect.DeepEqual(v, want) {
			t.Errorf("verify = %+v, want %+v", v, want)
		}
	})
}

// TestAppendOnly: neither the application's connection nor ent may change
// or remove an event, on either database.
func TestAppendOnly(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := audit.Install(db.Client, db.Dialect)
		write(t, w, sampleEvents(4, base))
		before := testdb.AuditTrail(t, db)
		sys := viewer.SystemContext(context.Background())

		// Event 4 is about several records (sampleEvents).
		refused := map[string]error{
			"SQL UPDATE":           exec(db, "UPDATE audit_events SET reason = 'x' WHERE id = 1"),
			"SQL DELETE":           exec(db, "DELETE FROM audit_events WHERE id = 1"),
			"SQL UPDATE of record": exec(db, "UPDATE audit_event_records SET entity_id = 1 WHERE event_id = 4"),
			"SQL DELETE of record": exec(db, "DELETE FROM audit_event_records WHERE event_id = 4"),
		}
		// An event outside the chain, or naming id 0 (which hashes as none).
		insert := "INSERT INTO audit_events (id, occurred_at, kind, actor_subject, entity_id, actor_agency_id, prev_hash, hash) VALUES ($1, $2, 'FIELD_ACCESS', 'ghost', $3, $4, '', '')"
		for what, args := range map[string][]any{
			"SQL INSERT numbered 0":        {0, base, nil, nil},
			"SQL INSERT numbered -1":       {-1, base, nil, nil},
			"SQL INSERT of entity 0":       {5, base, 0, nil},
			"SQL INSERT of actor agency 0": {5, base, nil, 0},
		} {
			refused[what] = exec(db, insert, args...)
		}
		if db.Dialect == dialect.Postgres {
			refused["SQL TRUNCATE"] = exec(db, "TRUNCATE audit_events")
			refused["SQL TRUNCATE of records"] = exec(db, "TRUNCATE audit_event_records")
		}
		for what, err := range refused {
			if err == nil {
				t.Errorf("%s of the audit trail succeeded", what)
			}
		}

		// Through ent, even with system rights. The fields are immutable,
		// so no builder sets them: set them on the mutation.
		upd := db.Client.AuditEvent.UpdateOneID(1)
		upd.Mutation().SetReason("x")
		updMany := db.Client.AuditEvent.Update().Where(auditevent.ID(2))
		updMany.Mutation().SetHash(strings.Repeat("0", 64))
		for what, err := range map[string]error{
			"ent UpdateOneID": upd.Exec(sys),
			"ent Update":      updMany.Exec(sys),
			"ent DeleteOneID": db.Client.AuditEvent.DeleteOneID(1).Exec(sys),
			"ent Delete":      func() error { _, err := db.Client.AuditEvent.Delete().Exec(sys); return err }(),
			"ent Create (not system work)": db.Client.AuditEvent.Create().SetID(5).SetKind(string(audit.Mutation)).
				SetOccurredAt(base).SetPrevHash(before[3].Hash).SetHash("forged").Exec(context.Background()),
		} {
			if !errors.Is(err, privacy.Deny) {
				t.Errorf("%s: err = %v, want a privacy denial", what, err)
			}
		}

		after := testdb.AuditTrail(t, db)
		if len(after) != len(before) {
			t.Fatalf("the trail had %d events, now %d", len(before), len(after))
		}
		for i := range before {
			if !sameEvent(before[i], after[i]) {
				t.Errorf("event %d changed:\n got %s\nwant %s", before[i].Seq, dump(after[i]), dump(before[i]))
			}
		}
		if len(after[3].Records) != 2 {
			t.Errorf("event 4's records are %+v, want its two", after[3].Records)
		}
		if v := verify(t, db); !v.Valid || v.Checked != 4 {
			t.Errorf("verify after the refused changes = %+v", v)
		}
	})
}

// TestTamperedChainIsDetected gets round the triggers as the table's owner
// could, then changes the trail in three ways; Verify must point at the
// first event that no longer verifies.
func TestTamperedChainIsDetected(t *testing.T) {
	t.Parallel()
	const n, k = 7, 4 // k is in the middle of the chain
	cases := []struct {
		name    string
		tamper  func(t *testing.T, db *database.DB, events []audit.Event)
		broken  int64    // the first event that must not verify
		checked int64    // the events that verify before it
		problem []string // words the problem must hold
	}{
		{
			name: "FieldsAltered",
			tamper: func(t *testing.T, db *database.DB, _ []audit.Event) {
				mustExec(t, db, "UPDATE audit_events SET fields = $1 WHERE id = $2", "Victim.pseudonym", k)
			},
			broken: k, checked: k - 1, problem: []string{"altered"},
		},
		{
			name: "ReasonAltered",
			tamper: func(t *testing.T, db *database.DB, _ []audit.Event) {
				mustExec(t, db, "UPDATE audit_events SET reason = $1 WHERE id = $2", "nothing to see", k)
			},
			broken: k, checked: k - 1, problem: []string{"altered"},
		},
		{
			name: "Deleted",
			tamper: func(t *testing.T, db *database.DB, _ []audit.Event) {
				mustExec(t, db, "DELETE FROM audit_events WHERE id = $1", k)
			},
			broken: k + 1, checked: k - 1, problem: []string{"missing", strconv.Itoa(k)},
		},
		{
			// Event k is about several records (sampleEvents).
			name: "RecordRemoved",
			tamper: func(t *testing.T, db *database.DB, events []audit.Event) {
				mustExec(t, db, "DELETE FROM audit_event_records WHERE event_id = $1 AND entity_id = $2", k, events[k-1].Records[1].ID)
			},
			broken: k, checked: k - 1, problem: []string{"records", "removed"},
		},
		{
			name: "RecordAdded",
			tamper: func(t *testing.T, db *database.DB, _ []audit.Event) {
				mustExec(t, db, "INSERT INTO audit_event_records (event_id, entity_id, nonce) VALUES ($1, $2, $3)", k, 42, strings.Repeat("0", 32))
			},
			broken: k, checked: k - 1, problem: []string{"records", "added"},
		},
		{
			name: "RecordAddedToAnEventOfOne",
			tamper: func(t *testing.T, db *database.DB, _ []audit.Event) {
				mustExec(t, db, "INSERT INTO audit_event_records (event_id, entity_id, nonce) VALUES ($1, $2, $3)", 2, 42, strings.Repeat("0", 32))
			},
			broken: 2, checked: 1, problem: []string{"records"},
		},
		{
			name: "RecordRetargeted",
			tamper: func(t *testing.T, db *database.DB, events []audit.Event) {
				mustExec(t, db, "UPDATE audit_event_records SET entity_id = $1 WHERE event_id = $2 AND entity_id = $3", 42, k, events[k-1].Records[0].ID)
			},
			broken: k, checked: k - 1, problem: []string{"records"},
		},
		{
			// A record planted ahead of the chain, for the event that will
			// take its number.
			name: "RecordPlantedAhead",
			tamper: func(t *testing.T, db *database.DB, _ []audit.Event) {
				mustExec(t, db, "INSERT INTO audit_event_records (event_id, entity_id, nonce) VALUES ($1, $2, $3)", n+5, 42, strings.Repeat("0", 32))
			},
			broken: n + 1, checked: n, problem: []string{"no event", strconv.Itoa(n + 5)},
		},
		{
			// An event numbered below the chain, which the walk from 1
			// never reads, about a victim: the DPO's queries list it.
			name: "EventPlantedBelowTheChain",
			tamper: func(t *testing.T, db *database.DB, events []audit.Event) {
				mustExec(t, db, "INSERT INTO audit_events (id, occurred_at, kind, actor_subject, fields, prev_hash, hash) VALUES ($1, $2, 'FIELD_ACCESS', 'innocent', 'Victim.legalName', '', '')", 0, base)
				mustExec(t, db, "INSERT INTO audit_event_records (event_id, entity_id, nonce) VALUES ($1, $2, $3)", 0, 42, strings.Repeat("0", 32))
			},
			broken: n + 1, checked: n, problem: []string{"numbered 0 or below", "added"},
		},
		{
			// The same instant with another offset hashes alike, but SQLite
			// compares the text: a search by time would pass it over.
			name: "TimeRewrittenWithAnotherOffset",
			tamper: func(t *testing.T, db *database.DB, events []audit.Event) {
				if db.Dialect != dialect.SQLite {
					t.Skip("PostgreSQL stores the instant alone")
				}
				at := events[k-1].OccurredAt.In(time.FixedZone("", -12*3600)).Format("2006-01-02 15:04:05.999999999-07:00")
				mustExec(t, db, "UPDATE audit_events SET occurred_at = $1 WHERE id = $2", at, k)
			},
			broken: k, checked: k - 1, problem: []string{"UTC"},
		},
		// A value stored as another type reads back alike, so its hash
		// holds, but SQLite compares what is stored: the DPO's filters
		// passed over such events while verify said OK (a hunt).
		{name: "ValuesRetyped", tamper: onSQLite("UPDATE audit_events SET actor_subject = CAST(actor_subject AS BLOB), actor_agency_id = CAST(CAST(actor_agency_id AS TEXT) AS BLOB) WHERE id = $1", k),
			broken: k, checked: k - 1, problem: []string{"another type", "altered"}},
		{name: "EmergencyAsText", tamper: onSQLite("UPDATE audit_events SET emergency = 'true' WHERE id = $1", k),
			broken: k, checked: k - 1, problem: []string{"altered"}},
		// A time stored as a blob does not read back as a time: the walk
		// once stopped with the driver's error instead of naming it.
		{name: "TimeAsBlob", tamper: onSQLite("UPDATE audit_events SET occurred_at = CAST(occurred_at AS BLOB) WHERE id = $1", k),
			broken: k, checked: k - 1, problem: []string{"another type", "altered"}},
		// SQLite compares the text of a time: one that the driver reads
		// back as the same instant, so its hash holds, but stored with a
		// space or a newline before it, or an hour of one digit, sorts
		// apart from the others and fell out of the DPO's time ranges and
		// of an export's --since, while verify said OK (a hunt).
		{name: "TimeWithLeadingSpace", tamper: onSQLite("UPDATE audit_events SET occurred_at = ' ' || occurred_at WHERE id = $1", k),
			broken: k, checked: k - 1, problem: []string{"UTC", "altered"}},
		{name: "TimeWithLeadingNewline", tamper: onSQLite("UPDATE audit_events SET occurred_at = char(10) || occurred_at WHERE id = $1", k),
			broken: k, checked: k - 1, problem: []string{"UTC", "altered"}},
		{name: "TimeWithHourOfOneDigit", tamper: onSQLite("UPDATE audit_events SET occurred_at = substr(occurred_at, 1, 11) || ltrim(substr(occurred_at, 12, 2), '0') || substr(occurred_at, 14) WHERE id = $1", k),
			broken: k, checked: k - 1, problem: []string{"UTC", "altered"}},
		// Text ending as the writer's times do, which the driver cannot
		// read: the walk stopped with its error instead of naming it.
		{name: "TimeUnreadable", tamper: onSQLite("UPDATE audit_events SET occurred_at = 'tampered +0000 UTC' WHERE id = $1", k),
			broken: k, checked: k - 1, problem: []string{"UTC", "altered"}},
		// The writers store a time to the microsecond, which is what the
		// hash covers: digits past it were read back and shown to the DPO
		// as the event's time, and sorted by, while verify said OK (the
		// DPO's hunt, twenty-sixth session).
		{
			name: "TimeMovedWithinItsMicrosecond",
			tamper: func(t *testing.T, db *database.DB, events []audit.Event) {
				if db.Dialect != dialect.SQLite {
					t.Skip("PostgreSQL keeps a time to the microsecond")
				}
				at := events[k-1].OccurredAt.UTC().Add(999 * time.Nanosecond).String()
				mustExec(t, db, "UPDATE audit_events SET occurred_at = $1 WHERE id = $2", at, k)
			},
			broken: k, checked: k - 1, problem: []string{"microsecond", "altered"},
		},
		// Event k is about several records (sampleEvents).
		{name: "RecordRetyped", tamper: onSQLite("UPDATE audit_event_records SET entity_id = CAST(CAST(entity_id AS TEXT) AS BLOB) WHERE event_id = $1", k),
			broken: k, checked: k - 1, problem: []string{"another type", "altered"}},
		{
			// NULL and 0 hash alike; the DPO's scope reads them otherwise.
			name: "EntityNoneMadeZero",
			tamper: func(t *testing.T, db *database.DB, events []audit.Event) {
				mustExec(t, db, "UPDATE audit_events SET entity_id = 0 WHERE id = $1 AND entity_id IS NULL", k)
			},
			broken: k, checked: k - 1, problem: []string{"0", "altered"},
		},
		{
			// Appended with its hashes computed as docs/audit.md says (the
			// hash has no key), dated among older events.
			name: "BackdatedEventAppended",
			tamper: func(t *testing.T, db *database.DB, events []audit.Event) {
				e := events[n-1]
				forged := audit.Event{Seq: n + 1, OccurredAt: events[0].OccurredAt, Kind: e.Kind, ActorSubject: "innocent",
					ActorRoles: []string{}, Fields: []string{"Victim.legalName"}, PrevHash: e.Hash}
				forged.Hash = forged.ComputeHash()
				at := any(forged.OccurredAt)
				if db.Dialect == dialect.SQLite {
					at = forged.OccurredAt.UTC().String() // as the writer stores it there
				}
				mustExec(t, db, "INSERT INTO audit_events (id, occurred_at, kind, actor_subject, fields, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
					forged.Seq, at, string(forged.Kind), forged.ActorSubject, "Victim.legalName", forged.PrevHash, forged.Hash)
			},
			broken: n + 1, checked: n, problem: []string{"dated before"},
		},
		{
			name: "AlteredAndRehashed",
			tamper: func(t *testing.T, db *database.DB, events []audit.Event) {
				e := events[k-1]
				e.Reason = "rewritten, consistently"
				e.Fields = []string{"Victim.pseudonym"}
				mustExec(t, db, "UPDATE audit_events SET reason = $1, fields = $2, hash = $3 WHERE id = $4",
					e.Reason, strings.Join(e.Fields, ","), e.ComputeHash(), k)
			},
			// Event k now verifies on its own; its successor's link does
			// not, so k is not vouched for: its hash, kept as an anchor,
			// would let a later rewrite verify (a review).
			broken: k + 1, checked: k - 1, problem: []string{"previous hash"},
		},
	}
	for _, d := range testdb.Backends {
		t.Run(d, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					db := testdb.Open(t, d)
					write(t, audit.Install(db.Client, db.Dialect), sampleEvents(n, base))
					if v := verify(t, db); !v.Valid || v.Checked != n {
						t.Fatalf("before tampering: %+v", v)
					}
					events := testdb.AuditTrail(t, db)
					bypassTriggers(t, db)
					tc.tamper(t, db, events)

					v := verify(t, db)
					if v.Valid || v.BrokenAt != tc.broken {
						t.Fatalf("verify = %+v, want invalid, broken at %d", v, tc.broken)
					}
					if v.Checked != tc.checked || v.LastSeq != tc.checked {
						t.Errorf("verify = %+v, want %d events checked before the break", v, tc.checked)
					}
					for _, word := range tc.problem {
						if !strings.Contains(v.Problem, word) {
							t.Errorf("problem %q does not say %q", v.Problem, word)
						}
					}
				})
			}
		})
	}
}

// onSQLite tampers with the trail by query (with args), on SQLite: on
// PostgreSQL each value is stored as its column's type.
func onSQLite(query string, args ...any) func(*testing.T, *database.DB, []audit.Event) {
	return func(t *testing.T, db *database.DB, _ []audit.Event) {
		if db.Dialect != dialect.SQLite {
			t.Skip("PostgreSQL stores each value as its column's type")
		}
		mustExec(t, db, query, args...)
	}
}

// TestConcurrentWriters: writers on two connection pools to one database
// (two servers) append at once; the chain stays whole, no event is lost
// and none numbered twice.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run(dialect.Postgres, func(t *testing.T) {
		t.Parallel()
		url := testdb.CreatePostgres(t)
		one, two := openPool(t, database.OpenPostgres, url), openPool(t, database.OpenPostgres, url)
		migrate(t, one)
		concurrentWriters(t, one, two)
	})
	// A database whose default isolation is REPEATABLE READ: the writers'
	// transactions ask for READ COMMITTED, so each sees the chain's end as
	// committed once it holds the lock.
	t.Run("postgres-repeatable-read", func(t *testing.T) {
		t.Parallel()
		url := testdb.CreatePostgres(t)
		admin, err := database.OpenPostgres(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		var name string
		if err := admin.SQL.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.SQL.ExecContext(ctx, "ALTER DATABASE "+name+" SET default_transaction_isolation = 'repeatable read'"); err != nil {
			t.Fatal(err)
		}
		migrate(t, admin)
		_ = admin.Close()
		open := func() *database.DB {
			db := openPool(t, database.OpenPostgres, url)
			var iso string
			if err := db.SQL.QueryRowContext(ctx, "SHOW default_transaction_isolation").Scan(&iso); err != nil || iso != "repeatable read" {
				t.Fatalf("default isolation %q, %v", iso, err)
			}
			return db
		}
		concurrentWriters(t, open(), open())
	})
	t.Run("sqlite-file", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/casegraph.db"
		one := openPool(t, database.OpenSQLite, path)
		migrate(t, one)
		concurrentWriters(t, one, openPool(t, database.OpenSQLite, path))
	})
}

// openPool opens one more connection pool to the database at dsn, as
// another server would, and closes it when the test ends.
func openPool(t *testing.T, open func(context.Context, string) (*database.DB, error), dsn string) *database.DB {
	t.Helper()
	db, err := open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// migrate brings db's schema up to date.
func migrate(t *testing.T, db *database.DB) {
	t.Helper()
	if _, err := migrations.Apply(context.Background(), db.SQL, db.Dialect); err != nil {
		t.Fatal(err)
	}
}

func concurrentWriters(t *testing.T, dbs ...*database.DB) {
	t.Helper()
	const goroutines, batches = 8, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	written := map[string]bool{}
	for h, db := range dbs {
		w := audit.NewWriter(db.Client, db.Dialect)
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range batches {
					// Up to four events: the fourth is about several records.
					events := sampleEvents(1+(g+b)%4, time.Now())
					for i := range events {
						events[i].RequestID = fmt.Sprintf("h%d-g%d-b%d-e%d", h, g, b, i)
					}
					if err := w.Write(context.Background(), events); err != nil {
						t.Errorf("handle %d, goroutine %d, batch %d: %v", h, g, b, err)
						return
					}
					mu.Lock()
					for _, e := range events {
						written[e.RequestID] = true
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	v := verify(t, dbs[0])
	total := int64(len(written))
	if !v.Valid || v.Checked != total || v.LastSeq != total {
		t.Errorf("verify = %+v, want valid with %d events", v, total)
	}
	got := testdb.AuditTrail(t, dbs[0])
	if int64(len(got)) != total {
		t.Errorf("the trail holds %d events, %d were written", len(got), total)
	}
	seen := map[string]bool{}
	for i, e := range got {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: the numbering has a gap or a repeat", i+1, e.Seq)
		}
		if seen[e.RequestID] || !written[e.RequestID] {
			t.Errorf("event %d (%s) is a repeat or was never written", e.Seq, e.RequestID)
		}
		seen[e.RequestID] = true
	}
}

// TestTimesFollowTheChain writes an event dated before the one ahead of it
// in the chain (a request that waited for the lock, or another server's
// clock): it is dated like the one before, so time ranges are runs of the
// chain, and an export from a time is contiguous.
func TestTimesFollowTheChain(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := audit.NewWriter(db.Client, db.Dialect)
		t0 := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
		evs := sampleEvents(3, t0)
		evs[0].OccurredAt = t0.Add(time.Second)
		evs[1].OccurredAt = t0
		evs[2].OccurredAt = t0.Add(2 * time.Second)
		write(t, w, evs[:1])
		write(t, w, evs[1:])
		got := testdb.AuditTrail(t, db)
		if len(got) != 3 || !got[1].OccurredAt.Equal(t0.Add(time.Second)) || !got[2].OccurredAt.Equal(t0.Add(2*time.Second)) {
			t.Fatalf("times along the chain: %v", []time.Time{got[0].OccurredAt, got[1].OccurredAt, got[2].OccurredAt})
		}
		if v := verify(t, db); !v.Valid {
			t.Fatalf("chain: %+v", v)
		}
		var buf bytes.Buffer
		n, err := audit.Export(context.Background(), db.Client, t0.Add(500*time.Millisecond), audit.FormatJSONL, &buf)
		if err != nil || n != 3 {
			t.Errorf("export since t0+0.5s: %d events, %v; want all 3, contiguous", n, err)
		}
		buf.Reset()
		if n, err := audit.Export(context.Background(), db.Client, t0.Add(time.Hour), audit.FormatJSONL, &buf); err != nil || n != 0 || buf.Len() != 0 {
			t.Errorf("export since after the end: %d events, %q, %v", n, buf.String(), err)
		}
	})
}

// TestClockAheadDoesNotDateTheChain: a server whose clock runs a year
// ahead writes an event, then an honest one writes another. Both are dated
// no later than the clock the writers share (PostgreSQL's, on SQLite this
// server's), so the honest event keeps its own time and time ranges stay
// true; the chain verifies.
func TestClockAheadDoesNotDateTheChain(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := audit.NewWriter(db.Client, db.Dialect)
		now := time.Now().UTC()
		ahead, honest := sampleEvents(1, now.AddDate(1, 0, 0)), sampleEvents(1, now)
		write(t, w, ahead)
		write(t, w, honest)
		after := time.Now().UTC()
		got := testdb.AuditTrail(t, db)
		if len(got) != 2 {
			t.Fatalf("%d events, want 2", len(got))
		}
		for i, e := range got {
			if e.OccurredAt.After(after) {
				t.Errorf("event %d dated %s, after the write ended (%s): a clock ahead dated the chain", i+1, e.OccurredAt, after)
			}
		}
		if d := got[1].OccurredAt.Sub(now); d < -time.Second || d > time.Second {
			t.Errorf("the honest event is dated %s, want its own time %s", got[1].OccurredAt, now)
		}
		if v := verify(t, db); !v.Valid {
			t.Fatalf("chain: %+v", v)
		}
	})
}

// TestEventDatedAheadDoesNotDateTheChain: whoever may INSERT into the
// trail (on PostgreSQL the server's own role) appends an event hashed as
// docs/audit.md says, dated years ahead. PostgreSQL refuses it. Appended
// anyway (on SQLite, or by the tables' owner), it must not date the events
// written after it: the writers dated every later event no earlier than
// it, so genuine reads fell out of every DPO time range, hashed so for
// good, and verify said the chain was valid (a hunt). They are dated now,
// and verify names the event dated past its clock.
func TestEventDatedAheadDoesNotDateTheChain(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := audit.Install(db.Client, db.Dialect)
		start := time.Now().UTC()
		write(t, w, sampleEvents(3, start))
		trail := testdb.AuditTrail(t, db)
		last := trail[len(trail)-1]
		forged := audit.Event{Seq: last.Seq + 1, OccurredAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
			Kind: audit.TrailRead, ActorSubject: "nobody", ActorRoles: []string{}, Fields: []string{}, PrevHash: last.Hash}
		forged.Hash = forged.ComputeHash()
		when := any(forged.OccurredAt)
		if db.Dialect == dialect.SQLite {
			when = forged.OccurredAt.String() // as the writer stores it there
		}
		insert := "INSERT INTO audit_events (id, occurred_at, kind, actor_subject, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6)"
		args := []any{forged.Seq, when, string(forged.Kind), forged.ActorSubject, forged.PrevHash, forged.Hash}
		if db.Dialect == dialect.Postgres {
			if err := exec(db, insert, args...); err == nil {
				t.Fatal("PostgreSQL took an event dated 2099")
			}
			bypassTriggers(t, db) // as the tables' owner could
		}
		mustExec(t, db, insert, args...)

		write(t, w, sampleEvents(4, time.Now()))
		end := time.Now().UTC()
		for _, e := range testdb.AuditTrail(t, db)[len(trail)+1:] {
			if e.OccurredAt.Before(start.Truncate(time.Microsecond)) || e.OccurredAt.After(end) {
				t.Errorf("event %d, written after the forgery, is dated %s, not between %s and %s", e.Seq, e.OccurredAt, start, end)
			}
		}
		v := verify(t, db)
		want := []at{{forged.Seq, audit.BreakDatedInFuture}}
		if got := places(v.Breaks); v.Valid || v.BrokenAt != forged.Seq || !reflect.DeepEqual(got, want) {
			t.Errorf("verify = %+v, breaks %v; want one break, at event %d dated 2099: %v", v, got, forged.Seq, want)
		}
	})
}

// TestOneInsertCannotStopTheTrail: whoever may INSERT into the trail (the
// server's own role on PostgreSQL) must not stop it for good with one row
// it cannot take back: an event numbered 9223372036854775807, after which
// the next number overflowed, or one past the chain's next number, is
// refused, and on PostgreSQL one dated 'infinity' too, which the writers
// could not read back as a time ("reading the chain's end" failed for
// every batch, a hunt). The trail goes on.
func TestOneInsertCannotStopTheTrail(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := audit.Install(db.Client, db.Dialect)
		write(t, w, sampleEvents(3, time.Now()))
		now := any(time.Now().UTC())
		if db.Dialect == dialect.SQLite {
			now = time.Now().UTC().String()
		}
		insert := "INSERT INTO audit_events (id, occurred_at, kind, prev_hash, hash) VALUES ($1, $2, 'FIELD_ACCESS', '', '')"
		refused := map[string][]any{
			"numbered 9223372036854775807": {int64(math.MaxInt64), now},
			"numbered past the next":       {5, now},
		}
		if db.Dialect == dialect.Postgres {
			refused["dated infinity"] = []any{4, "infinity"}
			refused["dated -infinity"] = []any{4, "-infinity"}
		}
		for what, args := range refused {
			if err := exec(db, insert, args...); err == nil {
				t.Errorf("an event %s was taken", what)
			}
		}
		if err := w.Write(context.Background(), sampleEvents(1, time.Now())); err != nil {
			t.Fatalf("the trail can no longer be written: %v", err)
		}
		if v := verify(t, db); !v.Valid || v.Checked != 4 || v.BreakCount != 0 {
			t.Errorf("verify = %+v, want 4 events and no break", v)
		}
	})
}

// TestWriterNumbersNothingPastTheLargest: once the chain's last event is
// numbered 9223372036854775807 (appended by the tables' owner, round the
// triggers), the writer refuses to write rather than number the next
// event -9223372036854775808, outside the chain.
func TestWriterNumbersNothingPastTheLargest(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := audit.Install(db.Client, db.Dialect)
		write(t, w, sampleEvents(3, time.Now()))
		bypassTriggers(t, db)
		now := any(time.Now().UTC())
		if db.Dialect == dialect.SQLite {
			now = time.Now().UTC().String()
		}
		mustExec(t, db, "INSERT INTO audit_events (id, occurred_at, kind, prev_hash, hash) VALUES ($1, $2, 'FIELD_ACCESS', '', '')", int64(math.MaxInt64), now)
		err := w.Write(context.Background(), sampleEvents(1, time.Now()))
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.AuditUnavailable {
			t.Errorf("writing after event 9223372036854775807: %v, want AUDIT_UNAVAILABLE", err)
		}
		var below int
		if err := db.SQL.QueryRowContext(context.Background(), "SELECT count(*) FROM audit_events WHERE id <= 0").Scan(&below); err != nil {
			t.Fatal(err)
		}
		if below != 0 {
			t.Errorf("%d events are numbered 0 or below", below)
		}
	})
}
