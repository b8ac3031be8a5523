package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
)

// TestVerifyExportIsStrict: an export verifies only as written. A line
// with a key that encoding/json would read into a hashed field under
// another spelling (a case variant, a repeat) or an unknown key is
// refused: other readers of the file would see the other value. An anchor
// of the event just before the export is checked against its first
// prevHash, and one further back, which the file cannot check, is refused
// rather than passed over.
func TestVerifyExportIsStrict(t *testing.T) {
	db := testdb.SQLite(t)
	write(t, audit.NewWriter(db.Client, db.Dialect), sampleEvents(12, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)))
	var out bytes.Buffer
	if _, err := audit.Export(context.Background(), db.Client, time.Time{}, audit.FormatJSONL, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	hashOf := func(seq int) string { // the hash of event seq, from the export
		var e struct{ Hash string }
		if err := json.Unmarshal([]byte(lines[seq-1]), &e); err != nil {
			t.Fatal(err)
		}
		return e.Hash
	}
	run := strings.Join(lines[4:], "\n") // events 5 to 12
	if v, err := audit.VerifyExport(strings.NewReader(run)); err != nil || !v.Valid || v.Checked != 8 {
		t.Fatalf("events 5 to 12 as exported: %+v, %v; want valid over 8", v, err)
	}

	t.Run("KeysAsWritten", func(t *testing.T) {
		sixth := lines[5]
		for name, forged := range map[string]string{
			"case variant": strings.Replace(sixth, `"actorSubject":`, `"actorSubject":"someone.else","ACTORSUBJECT":`, 1),
			"repeated":     strings.Replace(sixth, `"actorSubject":`, `"actorSubject":"someone.else","actorSubject":`, 1),
			"unknown":      strings.Replace(sixth, `"fields":`, `"Fieldz":["Victim.legalName"],"fields":`, 1),
			"second value": sixth + ` {"seq":1}`,
		} {
			if forged == sixth {
				t.Fatalf("%s: the forgery changed nothing", name)
			}
			if _, err := audit.VerifyExport(strings.NewReader(strings.Join([]string{lines[4], forged}, "\n"))); err == nil || !strings.Contains(err.Error(), "line 2") {
				t.Errorf("%s: verify error %v, want line 2 refused", name, err)
			}
		}
	})

	// The hash joins a list with commas, so two names made one verified
	// alike; a reader of the file looking for the second passed it over.
	t.Run("ListsAsWritten", func(t *testing.T) {
		// Event 7 names two fields and two roles (sampleEvents).
		seventh := lines[6]
		for name, forged := range map[string]string{
			"fields joined": strings.Replace(seventh, `"Victim.legalName","Victim.dateOfBirth"`, `"Victim.legalName,Victim.dateOfBirth"`, 1),
			"roles joined":  strings.Replace(seventh, `"investigator","dpo"`, `"investigator,dpo"`, 1),
		} {
			if forged == seventh {
				t.Fatalf("%s: the forgery changed nothing: %s", name, seventh)
			}
			v, err := audit.VerifyExport(strings.NewReader(strings.Join([]string{lines[5], forged}, "\n")))
			if err != nil || v.Valid || v.BrokenAt != 7 || !strings.Contains(v.Problem, "comma") {
				t.Errorf("%s: %+v, %v; want broken at 7, saying why", name, v, err)
			}
		}
	})

	// The same instant with another offset hashes alike; a reader
	// selecting events by the text of their date passed it over.
	t.Run("TimeAsWritten", func(t *testing.T) {
		seventh := lines[6]
		var e audit.Event
		if err := json.Unmarshal([]byte(seventh), &e); err != nil {
			t.Fatal(err)
		}
		written := e.OccurredAt.UTC().Format(time.RFC3339Nano)
		other := e.OccurredAt.In(time.FixedZone("", -12*3600)).Format(time.RFC3339Nano)
		forged := strings.Replace(seventh, `"occurredAt":"`+written+`"`, `"occurredAt":"`+other+`"`, 1)
		if forged == seventh {
			t.Fatalf("the forgery changed nothing: %s", seventh)
		}
		v, err := audit.VerifyExport(strings.NewReader(strings.Join([]string{lines[5], forged}, "\n")))
		if err != nil || v.Valid || v.BrokenAt != 7 || !strings.Contains(v.Problem, "UTC") {
			t.Errorf("%+v, %v; want broken at 7, saying why", v, err)
		}
	})

	// The hash covers a time to the microsecond: digits past it changed
	// nothing it covers, and verified, while a reader of the file read
	// (and sorted by) another time (the DPO's hunt, twenty-sixth session).
	t.Run("TimeToTheMicrosecond", func(t *testing.T) {
		seventh := lines[6]
		var e audit.Event
		if err := json.Unmarshal([]byte(seventh), &e); err != nil {
			t.Fatal(err)
		}
		written := e.OccurredAt.UTC().Format(time.RFC3339Nano)
		moved := e.OccurredAt.UTC().Add(999 * time.Nanosecond).Format(time.RFC3339Nano)
		forged := strings.Replace(seventh, `"occurredAt":"`+written+`"`, `"occurredAt":"`+moved+`"`, 1)
		if forged == seventh {
			t.Fatalf("the forgery changed nothing: %s", seventh)
		}
		v, err := audit.VerifyExport(strings.NewReader(strings.Join([]string{lines[5], forged}, "\n")))
		if err != nil || v.Valid || v.BrokenAt != 7 || !strings.Contains(v.Problem, "microsecond") {
			t.Errorf("%+v, %v; want broken at 7, saying why", v, err)
		}
	})

	// Every chain starts from 64 zeros: an export from event 1 rewritten
	// whole from another start verified, where the same chain in the
	// database breaks at event 1 (the DPO's hunt, twenty-sixth session).
	t.Run("FromTheChainsStart", func(t *testing.T) {
		prev := strings.Repeat("f", len(audit.GenesisHash))
		var rewritten []string
		for _, l := range lines {
			var e audit.Event
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatal(err)
			}
			e.PrevHash = prev
			e.Hash = e.ComputeHash()
			prev = e.Hash
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			rewritten = append(rewritten, string(b))
		}
		v, err := audit.VerifyExport(strings.NewReader(strings.Join(rewritten, "\n")))
		if err != nil || v.Valid || v.BrokenAt != 1 || len(v.Breaks) != 1 || v.Breaks[0].Kind != audit.BreakPreviousHash {
			t.Errorf("an export from event 1 linked to another start: %+v, %v; want one break at event 1, its previous hash", v, err)
		}
	})

	t.Run("AnchorBeforeTheRun", func(t *testing.T) {
		anchor := func(seq int, hash string) audit.Anchor {
			a, ok := audit.NewAnchor(int64(seq), hash)
			if !ok {
				t.Fatalf("anchor %d:%s refused", seq, hash)
			}
			return a
		}
		if v, err := audit.VerifyExport(strings.NewReader(run), anchor(4, hashOf(4))); err != nil || !v.Valid {
			t.Errorf("with the true anchor of event 4: %+v, %v; want valid", v, err)
		}
		zeros := strings.Repeat("0", len(audit.GenesisHash))
		if v, err := audit.VerifyExport(strings.NewReader(run), anchor(4, zeros)); err != nil || v.Valid || v.BrokenAt != 5 {
			t.Errorf("with a false anchor of event 4: %+v, %v; want broken at 5", v, err)
		}
		if _, err := audit.VerifyExport(strings.NewReader(run), anchor(3, hashOf(3))); err == nil {
			t.Error("an anchor of event 3, before the export's first link: no error, want it refused")
		}
	})
}

// TestExport: both formats carry every event since a time, as Query reads
// it, and survive the characters each format escapes.
func TestExport(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		w := audit.Install(db.Client, db.Dialect)
		// Two events the day before, then six from base on.
		write(t, w, sampleEvents(2, base.Add(-24*time.Hour)))
		write(t, w, sampleEvents(6, base))
		since := base.Truncate(time.Second) // before base by its fraction
		want, err := audit.Query(ctx, db.Client, audit.Scope{All: true}, audit.Filter{Since: since}, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != 6 || want[0].Seq != 3 {
			t.Fatalf("Query since %v read %d events from seq %d, want 6 from seq 3", since, len(want), want[0].Seq)
		}

		export := func(t *testing.T, since time.Time, format string) string {
			t.Helper()
			var out bytes.Buffer
			n, err := audit.Export(ctx, db.Client, since, format, &out)
			if err != nil {
				t.Fatalf("export %s: %v", format, err)
			}
			if n != len(want) {
				t.Errorf("export %s says it wrote %d events, want %d", format, n, len(want))
			}
			return out.String()
		}

		t.Run("JSONL", func(t *testing.T) {
			out := export(t, since, audit.FormatJSONL)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != len(want) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
			}
			for i, l := range lines {
				var e audit.Event
				if err := json.Unmarshal([]byte(l), &e); err != nil {
					t.Fatalf("line %d: %v\n%s", i+1, err, l)
				}
				if !sameEvent(e, want[i]) {
					t.Errorf("line %d:\n got %s\nwant %s", i+1, dump(e), dump(want[i]))
				}
				if e.ComputeHash() != e.Hash {
					t.Errorf("line %d: the exported event does not hash to its hash", i+1)
				}
			}
		})

		t.Run("JSONLVerifiesWithItsRecords", func(t *testing.T) {
			out := export(t, since, audit.FormatJSONL)
			if v, err := audit.VerifyExport(strings.NewReader(out)); err != nil || !v.Valid || v.Checked != int64(len(want)) {
				t.Fatalf("the export: verify = %+v, %v; want all %d events valid", v, err, len(want))
			}
			// Drop a record from the first event about several.
			var lines []string
			var cut float64
			for l := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
				var e map[string]any
				if err := json.Unmarshal([]byte(l), &e); err != nil {
					t.Fatal(err)
				}
				if records, ok := e["records"].([]any); ok && cut == 0 {
					e["records"], cut = records[:1], e["seq"].(float64)
				}
				b, _ := json.Marshal(e)
				lines = append(lines, string(b))
			}
			v, err := audit.VerifyExport(strings.NewReader(strings.Join(lines, "\n")))
			if err != nil || cut == 0 || v.Valid || v.BrokenAt != int64(cut) || !strings.Contains(v.Problem, "records") {
				t.Errorf("an export with a record left out of event %v: verify = %+v, %v; want broken there for its records", cut, v, err)
			}
			// The record left out hidden in the nonce of the one kept: the
			// digest's lines are the same, the nonce is not one.
			var stuffed []string
			for l := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
				var e audit.Event
				if err := json.Unmarshal([]byte(l), &e); err != nil {
					t.Fatal(err)
				}
				if float64(e.Seq) == cut {
					first, second := e.Records[0], e.Records[1]
					e.Records = []audit.Record{{ID: first.ID, Nonce: first.Nonce + "\n" + strconv.Itoa(second.ID) + ":" + second.Nonce}}
					if audit.RecordsDigest(e.Records) != audit.RecordsDigest([]audit.Record{first, second}) {
						t.Fatal("the stuffed nonce does not reproduce the digest: the test does not test what it says")
					}
				}
				b, _ := json.Marshal(e)
				stuffed = append(stuffed, string(b))
			}
			v, err = audit.VerifyExport(strings.NewReader(strings.Join(stuffed, "\n")))
			if err != nil || v.Valid || v.BrokenAt != int64(cut) {
				t.Errorf("an export with a record hidden in another's nonce: verify = %+v, %v; want broken at %v", v, err, cut)
			}
		})

		t.Run("CSV", func(t *testing.T) {
			out := export(t, since, audit.FormatCSV)
			records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatalf("parsing: %v\n%s", err, out)
			}
			if len(records) != len(want)+1 {
				t.Fatalf("%d records, want a header and %d events", len(records), len(want))
			}
			if !slices.Equal(records[0], audit.CSVHeader) {
				t.Errorf("header = %q, want %q", records[0], audit.CSVHeader)
			}
			for i, r := range records[1:] {
				e := fromCSV(t, r)
				if !sameEvent(e, want[i]) {
					t.Errorf("record %d:\n got %s\nwant %s", i+1, dump(e), dump(want[i]))
				}
			}
		})

		t.Run("SinceExcludesEarlier", func(t *testing.T) {
			out := export(t, since, audit.FormatJSONL)
			for _, early := range []string{`"seq":1,`, `"seq":2,`} {
				if strings.Contains(out, early) {
					t.Errorf("the export since %v holds an earlier event (%s)", since, early)
				}
			}
		})

		t.Run("SinceInAnotherZone", func(t *testing.T) {
			// The same instant, written in another zone, selects the same events.
			zoned := since.In(time.FixedZone("UTC+2", 2*60*60))
			var out bytes.Buffer
			n, err := audit.Export(ctx, db.Client, zoned, audit.FormatJSONL, &out)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(want) {
				t.Errorf("export since %v wrote %d events, since %v %d", zoned, n, since, len(want))
			}
		})

		t.Run("UnknownFormat", func(t *testing.T) {
			var out bytes.Buffer
			if _, err := audit.Export(ctx, db.Client, since, "xml", &out); err == nil {
				t.Error("export to xml: no error")
			}
			if out.Len() != 0 {
				t.Errorf("export to xml wrote %q", out.String())
			}
		})
	})
}

// fromCSV reads an event back from a CSV record in CSVHeader's order.
func fromCSV(t *testing.T, r []string) audit.Event {
	t.Helper()
	col := map[string]string{}
	for i, name := range audit.CSVHeader {
		col[name] = r[i]
	}
	num := func(name string) int64 {
		if col[name] == "" {
			return 0
		}
		n, err := strconv.ParseInt(col[name], 10, 64)
		if err != nil {
			t.Fatalf("%s = %q: %v", name, col[name], err)
		}
		return n
	}
	list := func(name string) []string {
		if col[name] == "" {
			return []string{}
		}
		return strings.Split(col[name], ";")
	}
	at, err := time.Parse(time.RFC3339Nano, col["occurred_at"])
	if err != nil {
		t.Fatalf("occurred_at = %q: %v", col["occurred_at"], err)
	}
	emergency, err := strconv.ParseBool(col["emergency"])
	if err != nil {
		t.Fatalf("emergency = %q: %v", col["emergency"], err)
	}
	return audit.Event{
		Seq: num("seq"), OccurredAt: at, Kind: audit.Kind(col["kind"]), RequestID: col["request_id"],
		Operation: col["operation"], ClientAddress: col["client_address"], ActorSubject: col["actor_subject"],
		ActorAgencyID: int(num("actor_agency_id")), ActorAgency: col["actor_agency"], ActorRoles: list("actor_roles"),
		EntityType: col["entity_type"], EntityID: int(num("entity_id")), Fields: list("fields"),
		Decision: col["decision"], Rule: col["rule"], Reason: col["reason"], Emergency: emergency,
		Justification: col["justification"], Detail: col["detail"], PrevHash: col["prev_hash"], Hash: col["hash"],
		Records: records(t, col["records"]),
	}
}

// records reads an event's records back from a CSV cell ("id:nonce;…").
func records(t *testing.T, cell string) []audit.Record {
	t.Helper()
	var out []audit.Record
	for item := range strings.SplitSeq(cell, ";") {
		if item == "" {
			continue
		}
		id, nonce, _ := strings.Cut(item, ":")
		n, err := strconv.Atoi(id)
		if err != nil {
			t.Fatalf("records = %q: %v", cell, err)
		}
		out = append(out, audit.Record{ID: n, Nonce: nonce})
	}
	return out
}
