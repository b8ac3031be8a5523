package leaktest_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// The demo data's consents name the kinds of agency that ask for consent
// today (social services, shelters, local police, prosecution offices…).
// A policy line for any other kind, say the national coordinator's, could
// then never be reached at run time: widening it would change no answer
// and the leak test would not notice. The fixtures below close that gap.

// reachabilityConsentEvery: one victim in this many (by id) gets the
// fixture consent; the others keep only the demo's, so that reads refused
// for want of consent are still exercised.
const reachabilityConsentEvery = 3

// reachabilityCoordinated is how many cases the national coordinator is
// assigned to (COORDINATING), so that a line opening a field to it on_case
// would reach rows.
const reachabilityCoordinated = 5

// addReachabilityFixtures gives one victim in reachabilityConsentEvery a
// current consent naming every agency kind and every purpose, and assigns
// the national coordinator (onac) to a few cases. With them, every line of
// the policy that can allow a sensitive read — and any line a change could
// add for a role at an agency kind the leak test acts as — meets a row
// where its condition and consent hold.
func addReachabilityFixtures(t *testing.T, c *ent.Client) {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	must := fatalOn(t, "adding the reachability fixtures")
	onac := agencyOf(ctx, c, must, "onac")
	kinds := domain.All[domain.AgencyKind]()
	purposes := domain.All[domain.ConsentPurpose]()
	victims, err := c.Victim.Query().Order(ent.Asc(victim.FieldID)).All(ctx)
	must(err)
	var consents []*ent.ConsentCreate
	for i, v := range victims {
		if i%reachabilityConsentEvery != 0 {
			continue
		}
		givenBy := domain.ConsentGivenByVictim
		if v.AgeGroup == domain.AgeGroupMinor {
			givenBy = domain.ConsentGivenByParentOrGuardian
		}
		consents = append(consents, c.Consent.Create().SetVictimID(v.ID).SetAgencyKinds(kinds).SetPurposes(purposes).
			SetGivenBy(givenBy).SetGivenAt(time.Now().Add(-24*time.Hour)).SetRecordedBy("leak-test-fixture").
			SetRecordedByAgencyID(onac.ID))
	}
	for i := 0; i < len(consents); i += 100 {
		_, err := c.Consent.CreateBulk(consents[i:min(i+100, len(consents))]...).Save(ctx)
		must(err)
	}
	cases, err := c.CaseFile.Query().
		Where(casefile.Not(casefile.HasAssignmentsWith(caseassignment.AgencyID(onac.ID)))).
		Order(ent.Asc(casefile.FieldID)).Limit(reachabilityCoordinated).All(ctx)
	must(err)
	for _, cf := range cases {
		must(c.CaseAssignment.Create().SetCaseID(cf.ID).SetAgencyID(onac.ID).SetPart(domain.CasePartCoordinating).Exec(ctx))
	}
	// A notice the police still work on, with a victim and no proceedings:
	// the only kind of case whose stage is moved by hand (moveCaseStage).
	police := agencyOf(ctx, c, must, "police-tirane")
	led, err := c.CaseFile.Query().Where(casefile.LeadAgencyID(police.ID), casefile.HasVictims()).
		Order(ent.Asc(casefile.FieldID)).First(ctx)
	must(err)
	victimID, err := led.QueryVictims().FirstID(ctx)
	must(err)
	must(c.CaseFile.Create().SetReference("TIR-NOTICE-LEAK").SetTitle("A notice without proceedings").
		SetRegion(domain.RegionTirane).SetLeadAgencyID(police.ID).SetOpenedAt(time.Now().Add(-48 * time.Hour)).
		AddVictimIDs(victimID).Exec(ctx))
}

// agencyOf is the agency of the registry with code; an error reading it
// ends the test through must.
func agencyOf(ctx context.Context, c *ent.Client, must func(error), code string) *ent.Agency {
	a, err := c.Agency.Query().Where(agency.Code(code)).Only(ctx)
	must(err)
	return a
}

// readsSensitive reports whether a policy line can allow reading a
// sensitive field: p, role, kind, object, read, condition, where the
// object is a sensitive field (Victim.legalName) or a category of a type
// with sensitive fields (Victim:IDENTITY).
func readsSensitive(line []string) bool {
	if len(line) != 6 || line[0] != "p" || line[4] != "read" {
		return false
	}
	obj := line[3]
	if typ, cat, ok := strings.Cut(obj, ":"); ok {
		for _, c := range sensitive[typ] {
			if c == cat {
				return true
			}
		}
		return false
	}
	typ, field, ok := strings.Cut(obj, ".")
	_, known := sensitive[typ][field]
	return ok && known
}

// checkPolicyLinesExercised fails for a line of the policy in force that
// can allow a sensitive read and allowed none during the leak run: the
// audit trail records, for every allowed read, the line casbin's EnforceEx
// returned. Such a line could be widened, or dropped, and no test would
// notice.
func checkPolicyLinesExercised(t *testing.T, s *testserver.Server, db *database.DB) {
	t.Helper()
	var data struct{ PolicyLines [][]string }
	s.Do(t, s.Token(t, "onac", viewer.RoleAdmin), `{ policyLines }`, nil).MustOK(t).Decode(t, &data)
	ctx := viewer.SystemContext(context.Background())
	events, err := audit.Query(ctx, db.Client, audit.Scope{All: true}, audit.Filter{Kind: audit.FieldAccess, Decision: audit.Allowed}, false, 0)
	if err != nil {
		t.Fatalf("reading the audit trail: %v", err)
	}
	hit := map[string]int{}
	for _, e := range events {
		if !e.Emergency {
			hit[e.Rule]++
		}
	}
	var lines, missed []string
	for _, l := range data.PolicyLines {
		if !readsSensitive(l) {
			continue
		}
		line := strings.Join(l, ", ")
		lines = append(lines, line)
		if hit[line] == 0 {
			missed = append(missed, line)
		}
	}
	slices.Sort(missed)
	if len(lines) == 0 {
		t.Fatalf("the policy in force has no line allowing a sensitive read: %v", data.PolicyLines)
	}
	if len(missed) > 0 {
		t.Errorf("%d of %d policy lines that can allow a sensitive read allowed none in the leak run (give the fixtures or the principals what reaches them):\n  %s",
			len(missed), len(lines), strings.Join(missed, "\n  "))
	}
	t.Logf("policy lines allowing sensitive reads: %d (allowed reads per line: %v)", len(lines), hit)
}
