//go:build unix

package main_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/viewer"
)

// TestE2EVictimsAgeConflicts: the binary's exit status says whether
// `victims age-conflicts` found a victim to mend: 1 while one is stored
// with an age group its date of birth contradicts (put there through ent,
// as UTC's days decided it until 2026-12-07), 0 once mended, 2 when it
// cannot run; the victims are listed on stdout, the finding said on
// stderr.
func TestE2EVictimsAgeConflicts(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	env := childEnv("CASEGRAPH_DATA_DIR=" + dataDir)
	mustRun(t, env, "migrate")
	ctx := viewer.SystemContext(context.Background())
	db, err := database.Open(ctx, "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// 18 the day after the identification, sent as Tirana's midnight:
	// ADULT by UTC's days, MINOR by Tirana's.
	born := time.Date(2006, time.March, 11, 0, 0, 0, 0, domain.Tirana)
	v := db.Client.Victim.Create().SetPseudonym("V-2024-0001").SetSex(domain.SexFemale).SetAgeGroup(domain.AgeGroupAdult).
		SetIdentificationStatus(domain.IdentificationStatusPotentialVictim).SetIdentifiedBy(domain.IdentifyingBodyStatePolice).
		SetIdentifiedAt(time.Date(2024, time.March, 10, 9, 0, 0, 0, time.UTC)).SetRegion(domain.RegionTirane).SetDateOfBirth(born).
		SetFormsOfExploitation([]domain.Exploitation{domain.ExploitationSexual}).SaveX(ctx)

	r := run(t, env, "victims", "age-conflicts")
	want := fmt.Sprintf("CONFLICT victim %d: age group ADULT stored, MINOR by the date of birth\n", v.ID) +
		"1 of 1 victims with a date of birth have an age group it contradicts: mend each with updateVictim (docs/domain.md, Consent)\n"
	if r.code != 1 || r.stdout != want || !strings.Contains(r.stderr, "casegraph: victims' stored age groups contradict their dates of birth\n") {
		t.Errorf("want exit 1, the victim listed and the finding on stderr:\n%s", r)
	}

	db.Client.Victim.UpdateOne(v).SetAgeGroup(domain.AgeGroupMinor).ExecX(ctx)
	if r := mustRun(t, env, "victims", "age-conflicts"); r.stdout != "OK: the age groups of 1 victims with a date of birth agree with it\n" {
		t.Errorf("once mended:\n%s", r)
	}

	r = mustRefuse(t, env, []string{`unexpected argument "now"`}, "victims", "age-conflicts", "now")
	if r.code != 2 || r.stdout != "" {
		t.Errorf("want exit 2 and nothing on stdout:\n%s", r)
	}
}
