package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/graph"
)

// migratedEmbedded is a fresh embedded database, migrated, and the
// configuration that names it, for the audit commands' tests.
func migratedEmbedded(t *testing.T) (config, *database.DB) {
	t.Helper()
	cfg := config{DataDir: t.TempDir()}
	if err := migrate(context.Background(), cfg, nil, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	db, err := database.Open(context.Background(), "", cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return cfg, db
}

// TestAuditCommand runs `casegraph audit …` in-process on a fresh embedded
// database holding events written as the server writes them.
func TestAuditCommand(t *testing.T) {
	ctx := context.Background()
	cfg, db := migratedEmbedded(t)

	// Two events of 1999, before every --since below but one, then four.
	old := time.Date(1999, time.December, 31, 23, 59, 59, 0, time.UTC)
	var events []audit.Event
	for i := range 6 {
		at := time.Now()
		if i < 2 {
			at = old
		}
		events = append(events, audit.Event{
			OccurredAt: at, Kind: audit.Kinds[i%len(audit.Kinds)], RequestID: fmt.Sprintf("req-%d", i),
			ActorSubject: "dpo@police-tirane", ActorAgency: "police-tirane", ActorRoles: []string{"dpo", "investigator"},
			EntityType: "Victim", EntityID: 10 + i, Fields: []string{"Victim.legalName", "Victim.phone"},
			Decision: audit.Denied, Reason: "not on the case, \"closed\"\nsince March",
		})
	}
	if err := audit.NewWriter(db.Client, db.Dialect).Write(ctx, events); err != nil {
		t.Fatalf("writing events: %v", err)
	}

	auditRun := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := auditCmd(ctx, cfg, args, &out)
		return out.String(), err
	}

	t.Run("VerifyOK", func(t *testing.T) {
		out, err := auditRun("verify")
		if err != nil {
			t.Fatalf("verify: %v\n%s", err, out)
		}
		if want := fmt.Sprintf("OK: %d events verify; the chain ends at event %d with hash %s\n", 6, 6, events[5].Hash); !strings.HasPrefix(out, want) {
			t.Errorf("verify printed %q, want it to start %q", out, want)
		}
		// The anchor it prints verifies; an anchor past the end or with
		// another hash does not.
		anchor := fmt.Sprintf("6:%s", events[5].Hash)
		if !strings.Contains(out, "anchor "+anchor) {
			t.Errorf("verify does not print the anchor %s: %q", anchor, out)
		}
		if out, err := auditRun("verify", "--anchor", anchor, "--anchor", fmt.Sprintf("2:%s", events[1].Hash)); err != nil {
			t.Errorf("verify with its own anchors: %v\n%s", err, out)
		}
		if out, err := auditRun("verify", "--anchor", fmt.Sprintf("9:%s", events[5].Hash)); !errors.Is(err, errChainBroken) || !strings.HasPrefix(out, "BROKEN at event 7: ") {
			t.Errorf("an anchor past the end (a removed tail): %v\n%s", err, out)
		}
		if out, err := auditRun("verify", "--anchor", fmt.Sprintf("3:%s", events[5].Hash)); !errors.Is(err, errChainBroken) || !strings.HasPrefix(out, "BROKEN at event 3: ") {
			t.Errorf("an anchor with another hash (a rewritten chain): %v\n%s", err, out)
		}
		// Under an anchor's mismatch, the summary vouches for no event up
		// to it: the chain up to there was rewritten, hashes and all (it
		// said all six events were intact, five verifying before it).
		for _, seq := range []int{3, 6} {
			out, err := auditRun("verify", "--anchor", fmt.Sprintf("%d:%s", seq, strings.Repeat("0", 63)+"1"))
			want := fmt.Sprintf("BROKEN at event %d: its hash is not the anchor's: the chain was rewritten up to here (ANCHOR_MISMATCH)\n"+
				"1 breaks in 6 events walked to event 6, the first at event %d; an anchor does not match at event %d: "+
				"the chain up to there was rewritten, or the anchor is not this chain's, so no event up to event %d is known to be intact; "+
				"6 events agree with the stored hash of the event before them, as the events of a chain rewritten with fresh hashes do\n", seq, seq, seq, seq)
			if !errors.Is(err, errChainBroken) || out != want {
				t.Errorf("an anchor of event %d with another hash: %v\n%s\nwant\n%s", seq, err, out, want)
			}
		}
		if _, err := auditRun("verify", "--anchor", "six:abc"); err == nil || errors.Is(err, errChainBroken) {
			t.Errorf("a malformed anchor: %v", err)
		}
	})

	t.Run("ExportCSV", func(t *testing.T) {
		out, err := auditRun("export", "--since", "2000-01-01", "--format", "csv")
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("parsing the CSV: %v\n%s", err, out)
		}
		if len(records) != 1+4 {
			t.Fatalf("%d records, want a header and the 4 events since 2000:\n%s", len(records), out)
		}
		if strings.Join(records[0], ",") != strings.Join(audit.CSVHeader, ",") {
			t.Errorf("header = %q", records[0])
		}
		col := func(r []string, name string) string {
			for i, h := range audit.CSVHeader {
				if h == name {
					return r[i]
				}
			}
			t.Fatalf("no column %q", name)
			return ""
		}
		for i, r := range records[1:] {
			e := events[2+i]
			if col(r, "seq") != fmt.Sprint(e.Seq) || col(r, "hash") != e.Hash || col(r, "reason") != e.Reason ||
				col(r, "fields") != "Victim.legalName;Victim.phone" || col(r, "actor_roles") != "dpo;investigator" {
				t.Errorf("record %d = %q, want event %d", i+1, r, e.Seq)
			}
		}
	})

	t.Run("ExportJSONL", func(t *testing.T) {
		for _, tc := range []struct {
			since string
			from  int // the index of the first event exported
		}{
			{"2000-01-01", 2},
			{"2000-01-01T00:00:00Z", 2},
			// 1999-12-31T23:00:00Z: the events of 1999 are after it.
			{"2000-01-01T01:00:00+02:00", 0},
		} {
			out, err := auditRun("export", "--since", tc.since, "--format", "jsonl")
			if err != nil {
				t.Fatalf("export --since %s: %v", tc.since, err)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if want := len(events) - tc.from; len(lines) != want {
				t.Errorf("export --since %s: %d lines, want %d:\n%s", tc.since, len(lines), want, out)
				continue
			}
			for i, l := range lines {
				var e audit.Event
				if err := json.Unmarshal([]byte(l), &e); err != nil {
					t.Fatalf("line %d: %v\n%s", i+1, err, l)
				}
				want := events[tc.from+i]
				if e.Seq != want.Seq || e.Hash != want.Hash || e.ComputeHash() != e.Hash || e.Reason != want.Reason {
					t.Errorf("export --since %s, line %d = %s, want event %d", tc.since, i+1, l, want.Seq)
				}
			}
		}
	})

	t.Run("VerifyAnExport", func(t *testing.T) {
		// The Commissioner checks a file, without the database.
		out, err := auditRun("export", "--since", "2000-01-01", "--format", "jsonl")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "export.jsonl")
		if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		// The run starts at event 3: its first prevHash, event 2's hash, is
		// taken as given, so a run rewritten whole, hashes and all,
		// verifies alike. The Commissioner, who has the file alone, was
		// told "OK" and nothing of it (the DPO's hunt, twenty-sixth
		// session): the verdict says what ties the run to the chain.
		unanchored := "The export starts at event 3: nothing in it shows that it follows event 2 of the chain"
		if got, err := auditRun("verify", "--file", path); err != nil || !strings.HasPrefix(got, "OK: 4 events verify") ||
			!strings.Contains(got, unanchored) || !strings.Contains(got, "--anchor 2:") {
			t.Errorf("verify --file of a good export starting at event 3: %v\n%s", err, got)
		}
		if got, err := auditRun("verify", "--file", path, "--anchor", fmt.Sprintf("6:%s", events[5].Hash)); err != nil || strings.Contains(got, unanchored) {
			t.Errorf("verify --file with the chain's anchor: %v\n%s", err, got)
		}
		if got, err := auditRun("verify", "--file", path, "--anchor", fmt.Sprintf("2:%s", events[1].Hash)); err != nil || strings.Contains(got, unanchored) {
			t.Errorf("verify --file with the anchor before the run: %v\n%s", err, got)
		}
		lines := strings.SplitAfter(out, "\n")
		lines[1] = strings.Replace(lines[1], `"decision":"`, `"decision":"X`, 1) // event 4
		if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := auditRun("verify", "--file", path); !errors.Is(err, errChainBroken) || !strings.HasPrefix(got, "BROKEN at event 4: ") {
			t.Errorf("verify --file of an altered export: %v\n%s", err, got)
		}
		// A second line altered, apart from the first: both are printed,
		// each once, and the run walked to its end.
		lines[3] = strings.Replace(lines[3], `"decision":"`, `"decision":"X`, 1) // event 6
		if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := auditRun("verify", "--file", path)
		if broken := regexp.MustCompile(`(?m)^BROKEN at event (\d+): .*\((\w+)\)$`).FindAllStringSubmatch(got, -1); !errors.Is(err, errChainBroken) ||
			len(broken) != 2 || broken[0][1] != "4" || broken[1][1] != "6" || broken[0][2] != "HASH_MISMATCH" || broken[1][2] != "HASH_MISMATCH" ||
			!strings.Contains(got, "2 breaks in 4 events walked to event 6") {
			t.Errorf("verify --file of an export altered at events 4 and 6: %v\n%s", err, got)
		}
		lines[3] = strings.Replace(lines[3], `"decision":"X`, `"decision":"`, 1)
		lines[1] = "" // event 4 removed
		if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := auditRun("verify", "--file", path); !errors.Is(err, errChainBroken) || !strings.HasPrefix(got, "BROKEN at event 5: ") {
			t.Errorf("verify --file of an export missing a line: %v\n%s", err, got)
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		for _, args := range [][]string{
			{"export"},
			{"export", "--format", "csv"},
			{"export", "--since", "yesterday"},
			{"export", "--since", "2026-13-01"},
			{"export", "--since", "2000-01-01", "--format", "xml"},
			{"verify", "--quick"},
			{"prune"},
		} {
			out, err := auditRun(args...)
			if err == nil || errors.Is(err, errChainBroken) {
				t.Errorf("audit %s: err = %v, want a usage error", strings.Join(args, " "), err)
			}
			if strings.Contains(out, "seq") || strings.Contains(out, "OK:") {
				t.Errorf("audit %s printed events or a verdict:\n%s", strings.Join(args, " "), out)
			}
		}
		if _, err := auditRun(); err == nil || !strings.Contains(err.Error(), "audit needs a command") {
			t.Errorf("audit with no command: err = %v, want a refusal with the usage", err)
		}
	})

	// Last: the tampering cannot be undone.
	t.Run("VerifyBroken", func(t *testing.T) {
		// Two events altered: each is printed, once, and the events
		// between and after them verify against each other (the walk
		// stopped at the first).
		for _, s := range []string{
			"DROP TRIGGER audit_events_no_update",
			"UPDATE audit_events SET reason = 'nothing happened' WHERE id IN (3, 5)",
		} {
			if _, err := db.SQL.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		out, err := auditRun("verify")
		if !errors.Is(err, errChainBroken) {
			t.Errorf("verify of a tampered chain: err = %v, want errChainBroken", err)
		}
		altered := "its content does not match its hash: it was altered (HASH_MISMATCH)"
		want := "BROKEN at event 3: " + altered + "\nBROKEN at event 5: " + altered + "\n" +
			"2 breaks in 6 events walked to event 6, the first at event 3 (2 events before it verify); 4 events are intact, each checked against the stored hash of the event before it\n"
		if out != want {
			t.Errorf("verify printed\n%s\nwant\n%s", out, want)
		}
	})
}

// TestAuditVerifySaysWhenThePolicyIsNotItsHistory: `audit verify` names a
// line in force that no change of the policy's history added (written
// into policy_rules by hand) and exits 1, a finding, with the chain
// itself intact: the trail's events name the rule that decided each read,
// and the data protection officer's hunt (twenty-sixth session) had an
// analyst read shelters under a line added by SQL, `audit verify` OK.
func TestAuditVerifySaysWhenThePolicyIsNotItsHistory(t *testing.T) {
	ctx := context.Background()
	cfg, db := migratedEmbedded(t)
	if _, err := authz.New(ctx, db.Client, db.Dialect, graph.Vocabulary()); err != nil { // the default policy, as serve loads it
		t.Fatal(err)
	}
	verify := func() (string, error) {
		var out bytes.Buffer
		err := auditCmd(ctx, cfg, []string{"verify"}, &out)
		return out.String(), err
	}
	if out, err := verify(); err != nil || strings.Contains(out, "POLICY") {
		t.Fatalf("the default policy as loaded: %v\n%s", err, out)
	}
	if _, err := db.SQL.ExecContext(ctx, `INSERT INTO policy_rules (ptype, v0, v1, v2, v3, v4, v5) VALUES ('p', 'analyst', '*', 'Victim:LOCATION', 'read', 'any', '')`); err != nil {
		t.Fatal(err)
	}
	out, err := verify()
	if !errors.Is(err, errPolicyDrift) || exitStatus(err) != 1 {
		t.Errorf("a line written by hand: err %v (exit %d), want errPolicyDrift (exit 1)", err, exitStatus(err))
	}
	if !strings.Contains(out, "OK: 0 events verify") || !strings.Contains(out, "POLICY: in force, and added by no change of its history (written into policy_rules by hand?): p, analyst, *, Victim:LOCATION, read, any\n") {
		t.Errorf("a line written by hand is not named:\n%s", out)
	}
}
