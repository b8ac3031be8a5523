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
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/viewer"
)

// TestE2EVictimsAgeConflicts: the binary's exit status says whether
// `victims age-conflicts` found a victim to mend: 1 while one is stored
// with an age group its date of birth contradicts or with a date of birth
// after the day of identification (put there through ent, as UTC's days
// decided it until 2026-12-07), 0 once both are mended, 2 when it cannot
// run; the victims are listed on stdout, the finding said on stderr.
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
	// Each identified at 10:00 in Tirana on 10 March 2024.
	stored := func(pseudonym string, group domain.AgeGroup, born time.Time) *ent.Victim {
		return db.Client.Victim.Create().SetPseudonym(pseudonym).SetSex(domain.SexFemale).SetAgeGroup(group).
			SetIdentificationStatus(domain.IdentificationStatusPotentialVictim).SetIdentifiedBy(domain.IdentifyingBodyStatePolice).
			SetIdentifiedAt(time.Date(2024, time.March, 10, 9, 0, 0, 0, time.UTC)).SetRegion(domain.RegionTirane).SetDateOfBirth(born).
			SetFormsOfExploitation([]domain.Exploitation{domain.ExploitationSexual}).SaveX(ctx)
	}
	// 18 the day after the identification, sent as Tirana's midnight:
	// ADULT by UTC's days, MINOR by Tirana's.
	v := stored("V-2024-0001", domain.AgeGroupAdult, time.Date(2006, time.March, 11, 0, 0, 0, 0, domain.Tirana))
	// Born two days after the day of the identification, sent as Tirana's
	// midnight: the day after by UTC's days, let then.
	newborn := stored("V-2024-0002", domain.AgeGroupMinor, time.Date(2024, time.March, 12, 0, 0, 0, 0, domain.Tirana))

	r := run(t, env, "victims", "age-conflicts")
	want := fmt.Sprintf("CONFLICT victim %d: age group ADULT stored, MINOR by the date of birth\n", v.ID) +
		fmt.Sprintf("BORN-AFTER-IDENTIFICATION victim %d\n", newborn.ID) +
		"2 of 2 victims with an exact age or a date of birth to mend with updateVictim: 0 with an age group the exact age contradicts, 1 with one the date of birth contradicts, 1 born after the day of identification (docs/domain.md, Consent)\n"
	if r.code != 1 || r.stdout != want || !strings.Contains(r.stderr, "casegraph: victims' stored exact ages or dates of birth contradict their age groups, or dates of birth their identification\n") {
		t.Errorf("want exit 1, the victims listed and the finding on stderr:\n%s", r)
	}

	db.Client.Victim.UpdateOne(v).SetAgeGroup(domain.AgeGroupMinor).ExecX(ctx)
	if r := run(t, env, "victims", "age-conflicts"); r.code != 1 {
		t.Errorf("one victim born after its identification left: want exit 1:\n%s", r)
	}
	db.Client.Victim.UpdateOne(newborn).SetDateOfBirth(time.Date(2024, time.March, 10, 0, 0, 0, 0, domain.Tirana)).ExecX(ctx)
	if r := mustRun(t, env, "victims", "age-conflicts"); r.stdout != "OK: 2 victims with an exact age or a date of birth, none born after the day of identification nor with an age group either contradicts\n" {
		t.Errorf("once mended:\n%s", r)
	}

	r = mustRefuse(t, env, []string{`unexpected argument "now"`}, "victims", "age-conflicts", "now")
	if r.code != 2 || r.stdout != "" {
		t.Errorf("want exit 2 and nothing on stdout:\n%s", r)
	}
}
