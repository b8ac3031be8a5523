package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
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
