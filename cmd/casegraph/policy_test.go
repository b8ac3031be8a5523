package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// golden compares got with the file at path; -update rewrites it.
func golden(t *testing.T, path, got string) {
	t.Helper()
	testserver.Golden(t, path, got)
}

// TestPolicyCommand runs `casegraph policy …` in-process on a fresh
// embedded database, which it migrates and seeds with the default policy.
func TestPolicyCommand(t *testing.T) {
	ctx := context.Background()
	cfg := config{DataDir: t.TempDir()}
	if err := migrate(ctx, cfg, nil, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	policy := func(t *testing.T, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := policyCmd(ctx, cfg, args, &out); err != nil {
			t.Fatalf("policy %s: %v", strings.Join(args, " "), err)
		}
		return out.String()
	}
	// openDB opens the test's database for what the command does not do.
	openDB := func(t *testing.T) *database.DB {
		t.Helper()
		db, err := database.Open(ctx, "", cfg.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}

	t.Run("history of a new database", func(t *testing.T) {
		golden(t, "testdata/policy_history_empty.golden", policy(t, "history"))
	})

	t.Run("matrix", func(t *testing.T) {
		// The same matrix as authz's of the shipped policy: that package
		// owns (and rewrites) these files.
		for _, tc := range []struct {
			args []string
			file string
		}{
			{[]string{"matrix", "--format", "csv"}, "matrix.csv.golden"},
			{[]string{"matrix"}, "matrix.md.golden"},
		} {
			want, err := os.ReadFile(filepath.Join("..", "..", "policytools", "testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := policy(t, tc.args...); got != string(want) {
				t.Errorf("policy %s differs from policytools/testdata/%s:\n%s", strings.Join(tc.args, " "), tc.file, got)
			}
		}
	})

	t.Run("explain", func(t *testing.T) {
		byKind := policy(t, "explain", "--role", "case_worker", "--kind", "NGO_SHELTER", "--field", "Victim.legalName")
		golden(t, "testdata/policy_explain.golden", byKind)

		if err := seedCmd(ctx, cfg, []string{"--agencies"}, io.Discard); err != nil {
			t.Fatal(err)
		}
		if byAgency := policy(t, "explain", "--role", "case_worker", "--agency", "ngo-vatra", "--field", "Victim.legalName"); byAgency != byKind {
			t.Errorf("--agency ngo-vatra (an NGO shelter) explains differently from --kind NGO_SHELTER:\n%s", byAgency)
		}
		golden(t, "testdata/policy_explain_power.golden",
			policy(t, "explain", "--role", "dpo", "--role", "admin", "--kind", "NATIONAL_ANTI_TRAFFICKING_COORDINATOR", "--object", "audit", "--action", "read_all"))
	})

	t.Run("what-if", func(t *testing.T) {
		golden(t, "testdata/policy_what_if.golden", policy(t, "what-if",
			"--add", "p, judge, court, Victim.legalName, read, on_case",
			"--remove", "p, judge, court, Victim:TESTIMONY, read, proceedings"))
		same := "p, admin, *, policy, change, any"
		if got := policy(t, "what-if", "--add", same, "--remove", same); got != "No cell of the matrix changes.\n" {
			t.Errorf("removing and adding back a line: %q", got)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			// code is the apperr code of the error, "" for any other error.
			code apperr.Code
		}{
			{"no command", nil, ""},
			{"unknown command", []string{"edit"}, ""},
			{"unknown format", []string{"matrix", "--format", "xml"}, ""},
			{"an argument left over", []string{"history", "now"}, ""},
			{"unknown flag", []string{"history", "--since", "2024"}, ""},
			{"unknown role", []string{"explain", "--role", "sheriff", "--kind", "HIGH_COURT", "--field", "Victim.legalName"}, ""},
			{"no kind or agency", []string{"explain", "--role", "judge", "--field", "Victim.legalName"}, ""},
			{"both kind and agency", []string{"explain", "--role", "judge", "--kind", "HIGH_COURT", "--agency", "ngo-vatra", "--field", "Victim.legalName"}, ""},
			{"unknown agency", []string{"explain", "--role", "judge", "--agency", "moon-court", "--field", "Victim.legalName"}, ""},
			{"unknown kind", []string{"explain", "--role", "judge", "--kind", "MOON_COURT", "--field", "Victim.legalName"}, apperr.BadUserInput},
			{"unknown field", []string{"explain", "--role", "judge", "--kind", "HIGH_COURT", "--field", "Victim.shoeSize"}, apperr.BadUserInput},
			{"no role", []string{"explain", "--kind", "HIGH_COURT", "--field", "Victim.legalName"}, apperr.BadUserInput},
			{"what-if of nothing", []string{"what-if"}, apperr.BadUserInput},
			{"what-if of an existing line", []string{"what-if", "--add", "p, admin, *, policy, change, any"}, apperr.BadUserInput},
			{"what-if of an invalid line", []string{"what-if", "--add", "p, judge, court, Victim:SHOE_SIZE, read, any"}, apperr.BadUserInput},
			{"what-if of two lines in one flag", []string{"what-if", "--add", "p, admin, *, policy, read, any\np, dpo, *, policy, change, any"}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := policyCmd(ctx, cfg, tc.args, io.Discard)
				if err == nil {
					t.Fatal("no error")
				}
				var ae *apperr.Error
				if errors.As(err, &ae) != (tc.code != "") || (ae != nil && ae.Code != tc.code) {
					t.Errorf("got %v, want code %q", err, tc.code)
				}
			})
		}
	})

	// README's --kind COURT is no kind: the refusal lists those there are
	// (it named only the one given).
	t.Run("unknown kind lists the kinds", func(t *testing.T) {
		err := policyCmd(ctx, cfg, []string{"explain", "--role", "judge", "--kind", "COURT", "--field", "Victim.legalName"}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), `Unknown agency kind "COURT"`) {
			t.Fatalf("got %v, want a refusal of the kind COURT", err)
		}
		for _, k := range domain.All[domain.AgencyKind]() {
			if !strings.Contains(err.Error(), string(k)) {
				t.Errorf("the refusal does not list the kind %s: %v", k, err)
			}
		}
	})

	t.Run("history", func(t *testing.T) {
		db := openDB(t)
		sys := viewer.SystemContext(ctx)
		at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
		for i, c := range []struct {
			reason         string
			added, removed [][]string
		}{
			{"Judges need the victims' contact to summon them.", [][]string{{"p", "judge", "court", "Victim:CONTACT", "read", "proceedings"}}, nil},
			{"Summons go through the prosecution office instead.", nil, [][]string{{"p", "judge", "court", "Victim:CONTACT", "read", "proceedings"}}},
		} {
			err := db.Client.PolicyChange.Create().SetAt(at.Add(time.Duration(i) * time.Hour)).
				SetActorSubject("admin.demo").SetActorAgency("onac").SetReason(c.reason).
				SetAdded(c.added).SetRemoved(c.removed).Exec(sys)
			if err != nil {
				t.Fatal(err)
			}
		}
		// The first entry is the default policy, loaded when the database
		// was opened: its time is today's. The entries are listed by the
		// version each made, newest first, whatever their times say.
		out := regexp.MustCompile(`(?m)^\S+(  casegraph \(casegraph\)  version 1)$`).ReplaceAllString(policy(t, "history"), "<when loaded>$1")
		golden(t, "testdata/policy_history.golden", out)
	})

	t.Run("matrix reads the policy in the database", func(t *testing.T) {
		db := openDB(t)
		err := db.Client.PolicyRule.Create().SetPtype("p").SetV0("judge").SetV1("court").
			SetV2("Victim:CONTACT").SetV3("read").SetV4("proceedings").SetV5("").Exec(viewer.SystemContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		if got := policy(t, "matrix", "--format", "csv"); !strings.Contains(got, "\njudge,HIGH_COURT,Victim.phone,read,true,proceedings\n") {
			t.Error("the matrix does not show the line added to the database")
		}
	})
}
