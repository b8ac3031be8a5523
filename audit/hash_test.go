package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/internal/testdb"
)

// hashVectors are events with their canonical form written out by hand
// from docs/audit.md, not by the code under test: a change of what the
// hash covers, or of how it is rendered, breaks them. The first has every
// value set and the characters whose escaping an outside implementation
// must match (quotes, a newline, <, > and &, a non-ASCII letter) and a
// time whose trailing zero goes; the second has the absent ids, empty
// lists and a whole second.
var hashVectors = []struct {
	event     audit.Event
	canonical string
}{
	{
		event: audit.Event{
			Seq:           1,
			OccurredAt:    time.Date(2026, time.March, 3, 9, 30, 15, 123450789, time.UTC),
			Kind:          audit.FieldAccess,
			RequestID:     "req-7f3a",
			Operation:     "query VictimFile",
			ClientAddress: "192.0.2.7",
			ActorSubject:  "officer.hoxha@police-tirane",
			ActorAgencyID: 4,
			ActorAgency:   "police-tirane",
			ActorRoles:    []string{"investigator", "dpo"},
			EntityType:    "Victim",
			EntityID:      51539607553,
			Fields:        []string{"Victim.legalName", "Victim.phone"},
			Decision:      audit.Allowed,
			Rule:          "p, investigator, police, Victim:IDENTITY, read, on_case",
			Reason:        "consent \"2026-01\" <ok> & signed\nby guardian, Tiranë",
			Emergency:     false,
			Justification: "",
			Detail:        `{"n":1}`,
			PrevHash:      audit.GenesisHash,
		},
		canonical: `{"seq":1,"occurredAt":"2026-03-03T09:30:15.12345Z","kind":"FIELD_ACCESS",` +
			`"requestId":"req-7f3a","operation":"query VictimFile","clientAddress":"192.0.2.7",` +
			`"actorSubject":"officer.hoxha@police-tirane","actorAgencyId":4,"actorAgency":"police-tirane",` +
			`"actorRoles":"investigator,dpo","entityType":"Victim","entityId":51539607553,` +
			`"fields":"Victim.legalName,Victim.phone","decision":"ALLOWED",` +
			`"rule":"p, investigator, police, Victim:IDENTITY, read, on_case",` +
			`"reason":"consent \"2026-01\" \u003cok\u003e \u0026 signed\nby guardian, Tiranë",` +
			`"emergency":false,"justification":"","detail":"{\"n\":1}",` +
			`"prevHash":"0000000000000000000000000000000000000000000000000000000000000000"}`,
	},
	{
		event: audit.Event{
			Seq:           2,
			OccurredAt:    time.Date(2026, time.March, 3, 9, 30, 16, 0, time.UTC),
			Kind:          audit.AuthenticationRefused,
			RequestID:     "req-7f3b",
			ClientAddress: "198.51.100.23",
			Reason:        "the token has expired",
			Emergency:     true,
		},
		canonical: `{"seq":2,"occurredAt":"2026-03-03T09:30:16Z","kind":"AUTHENTICATION_REFUSED",` +
			`"requestId":"req-7f3b","operation":"","clientAddress":"198.51.100.23",` +
			`"actorSubject":"","actorAgencyId":0,"actorAgency":"","actorRoles":"","entityType":"","entityId":0,` +
			`"fields":"","decision":"","rule":"","reason":"the token has expired",` +
			`"emergency":true,"justification":"","detail":"",` +
			`"prevHash":"PREV"}`,
	},
}

// vectorHashes returns each vector's hand-computed hash and canonical
// bytes, each event's prevHash being the hash of the one before.
func vectorHashes() (canonical []string, hashes []string) {
	prev := audit.GenesisHash
	for _, v := range hashVectors {
		c := strings.Replace(v.canonical, `"prevHash":"PREV"`, `"prevHash":"`+prev+`"`, 1)
		sum := sha256.Sum256([]byte(c))
		prev = hex.EncodeToString(sum[:])
		canonical, hashes = append(canonical, c), append(hashes, prev)
	}
	return canonical, hashes
}

// TestHashOfFixedEvents pins what an event's hash covers and how: the hash
// ComputeHash gives, and the one the trail stores when the events are
// written, is SHA-256 over the canonical form docs/audit.md describes,
// written out by hand; and the worked example in docs/audit.md is this
// one.
func TestHashOfFixedEvents(t *testing.T) {
	t.Parallel()
	canonical, want := vectorHashes()
	for i, v := range hashVectors {
		e := v.event
		if i > 0 {
			e.PrevHash = want[i-1]
		}
		if got := e.ComputeHash(); got != want[i] {
			t.Errorf("event %d: ComputeHash = %s, want %s, the SHA-256 of\n%s", e.Seq, got, want[i], canonical[i])
		}
	}

	t.Run("as stored", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, db *database.DB) {
			events := make([]audit.Event, len(hashVectors))
			for i, v := range hashVectors {
				events[i] = v.event
				events[i].Seq, events[i].PrevHash = 0, "" // the writer sets them
			}
			write(t, audit.NewWriter(db.Client, db.Dialect), events)
			for i, e := range testdb.AuditTrail(t, db) {
				if e.Hash != want[i] {
					t.Errorf("event %d is stored with hash %s, want %s", e.Seq, e.Hash, want[i])
				}
			}
		})
	})

	t.Run("docs/audit.md", func(t *testing.T) {
		doc, err := os.ReadFile("../docs/audit.md")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{canonical[0], want[0]} {
			if !bytes.Contains(doc, []byte(s)) {
				t.Errorf("docs/audit.md's worked example is not current; it must show\n%s", s)
			}
		}
	})
}

// TestRecordsDigest pins the digest of an event's records to the worked
// example of docs/audit.md, computed apart from the code: the records are
// taken in ascending order of id whatever their order.
func TestRecordsDigest(t *testing.T) {
	t.Parallel()
	const want = "48e0de38642f3f519a96cf165bec3d5caf0a2ddb1afd9caebb2091f5a9bdcee9"
	records := []audit.Record{{ID: 51539607560, Nonce: "ffeeddccbbaa99887766554433221100"},
		{ID: 51539607553, Nonce: "00112233445566778899aabbccddeeff"}}
	if got := audit.RecordsDigest(records); got != want {
		t.Errorf("RecordsDigest = %s, want %s", got, want)
	}
	doc, err := os.ReadFile("../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte(want)) {
		t.Errorf("docs/audit.md's digest example is not current; it must show %s", want)
	}
}

// TestKindsAreDocumented: the kind row of docs/audit.md's canonical form,
// which exports and outside verifiers read, names every kind the trail
// records (audit.Kinds), in its order, and no other.
func TestKindsAreDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	var row string
	for line := range strings.Lines(string(doc)) {
		if strings.HasPrefix(line, "| 3 | `kind` |") {
			row = line
		}
	}
	if row == "" {
		t.Fatal("docs/audit.md has no row | 3 | `kind` | in its canonical form")
	}
	var named []string
	for _, m := range regexp.MustCompile("`([A-Z_]+)`").FindAllStringSubmatch(row, -1) {
		named = append(named, m[1])
	}
	var want []string
	for _, k := range audit.Kinds {
		want = append(want, string(k))
	}
	if !slices.Equal(named, want) {
		t.Errorf("docs/audit.md's kind row names %v; audit.Kinds is %v", named, want)
	}
}

// TestEveryHashedColumnIsCovered changes, as the table's owner could, each
// column of one event in the middle of the chain, one at a time; Verify
// must find the break at that event. The list of columns is ent's, so a
// new column fails here until its tampering is decided.
func TestEveryHashedColumnIsCovered(t *testing.T) {
	t.Parallel()
	const n, k = 7, 4 // k is in the middle of the chain, with every value set
	// changed returns a value of the column other than event e's.
	changed := map[string]func(e audit.Event) any{
		auditevent.FieldOccurredAt: func(e audit.Event) any { return e.OccurredAt.Add(time.Millisecond) },
		auditevent.FieldKind: func(e audit.Event) any {
			if e.Kind == audit.Mutation {
				return string(audit.FieldAccess)
			}
			return string(audit.Mutation)
		},
		auditevent.FieldRequestID:     func(audit.Event) any { return "req-forged" },
		auditevent.FieldOperation:     func(audit.Event) any { return "query Harmless" },
		auditevent.FieldClientAddress: func(audit.Event) any { return "198.51.100.99" },
		auditevent.FieldActorSubject:  func(audit.Event) any { return "someone.else@police-tirane" },
		auditevent.FieldActorAgencyID: func(e audit.Event) any { return e.ActorAgencyID + 1 },
		auditevent.FieldActorAgency:   func(audit.Event) any { return "police-durres" },
		auditevent.FieldActorRoles:    func(audit.Event) any { return "analyst" },
		auditevent.FieldEntityType:    func(audit.Event) any { return "Suspect" },
		auditevent.FieldEntityID:      func(e audit.Event) any { return e.EntityID + 1 },
		auditevent.FieldFields:        func(audit.Event) any { return "Victim.pseudonym" },
		auditevent.FieldDecision:      func(audit.Event) any { return audit.Denied },
		auditevent.FieldRule:          func(audit.Event) any { return "p, analyst, any, Victim:IDENTITY, read, any" },
		auditevent.FieldReason:        func(audit.Event) any { return "nothing to see" },
		auditevent.FieldEmergency:     func(e audit.Event) any { return !e.Emergency },
		auditevent.FieldJustification: func(audit.Event) any { return "forged" },
		auditevent.FieldDetail:        func(audit.Event) any { return `{"forged":true}` },
		auditevent.FieldPrevHash:      func(audit.Event) any { return strings.Repeat("ab", 32) },
	}
	// Not changed in place: the hash itself, and the number, whose change
	// shows as a gap in the numbering before its hash is even read (its
	// place in the hash is pinned by the vectors and by an export
	// renumbered whole, below).
	notChanged := []string{auditevent.FieldID, auditevent.FieldHash}
	for _, c := range auditevent.Columns {
		if _, ok := changed[c]; !ok && !slices.Contains(notChanged, c) {
			t.Errorf("audit_events.%s: decide whether the hash covers it, and add its tampering here", c)
		}
	}

	testdb.Each(t, func(t *testing.T, db *database.DB) {
		write(t, audit.NewWriter(db.Client, db.Dialect), sampleEvents(n, base))
		original := testdb.AuditTrail(t, db)[k-1]
		bypassTriggers(t, db)
		for _, c := range auditevent.Columns {
			change, ok := changed[c]
			if !ok {
				continue
			}
			t.Run(c, func(t *testing.T) {
				var stored any
				if err := db.SQL.QueryRow(rebind(db, "SELECT "+c+" FROM audit_events WHERE id = $1"), k).Scan(&stored); err != nil {
					t.Fatal(err)
				}
				mustExec(t, db, "UPDATE audit_events SET "+c+" = $1 WHERE id = $2", change(original), k)
				if after := testdb.AuditTrail(t, db)[k-1]; sameEvent(after, original) {
					t.Fatalf("the update changed nothing of event %d", k)
				}
				// A broken link cannot say which of its two events was
				// altered, so the one before it is not vouched for either.
				checked := int64(k - 1)
				if c == auditevent.FieldPrevHash {
					checked = k - 2
				}
				v := verify(t, db)
				if v.Valid || v.BrokenAt != k || v.Checked != checked {
					t.Errorf("with %s changed, verify = %+v, want broken at %d after %d checked", c, v, k, checked)
				}
				// Put it back, so that the next column is the only change.
				mustExec(t, db, "UPDATE audit_events SET "+c+" = $1 WHERE id = $2", stored, k)
				if v := verify(t, db); !v.Valid {
					t.Fatalf("with %s restored, verify = %+v", c, v)
				}
			})
		}
	})

	t.Run("seq, in an export renumbered whole", func(t *testing.T) {
		db := testdb.SQLite(t)
		write(t, audit.NewWriter(db.Client, db.Dialect), sampleEvents(n, base))
		var out bytes.Buffer
		if _, err := audit.Export(context.Background(), db.Client, time.Time{}, audit.FormatJSONL, &out); err != nil {
			t.Fatal(err)
		}
		// Every number moved by 1000: links and numbering still hold, only
		// the hashes can tell.
		var renumbered bytes.Buffer
		for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
			var e map[string]any
			if err := json.Unmarshal(line, &e); err != nil {
				t.Fatal(err)
			}
			e["seq"] = e["seq"].(float64) + 1000
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			renumbered.Write(append(b, '\n'))
		}
		v, err := audit.VerifyExport(&renumbered)
		if err != nil {
			t.Fatal(err)
		}
		if v.Valid || v.BrokenAt != 1001 {
			t.Fatalf("a renumbered export: verify = %+v, want broken at its first event, 1001", v)
		}
	})
}
