package casework_test

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------

func TestMutationUnauthenticated(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		ops := []struct {
			name, query string
			vars        map[string]any
		}{
			{"openCase", openCaseMutation, map[string]any{"in": caseInput(h, t, newReference(), "police-tirane")}},
			{"updateCase", updateCaseMutation, map[string]any{"id": c.ID, "v": c.Version, "in": map[string]any{"title": "Changed"}}},
			{"registerVictim", registerVictimMutation, map[string]any{"in": victimInput(newVictimName(), 30), "cases": []string{c.ID}}},
		}
		tokens := []struct{ name, token string }{{"NoToken", ""}, {"GarbageToken", "not-a-jwt"}}
		for _, op := range ops {
			for _, tok := range tokens {
				t.Run(op.name+"/Err"+tok.name, func(t *testing.T) {
					before, snap := h.rows(t), h.snapshot(t, c.ID)
					r := h.s.Do(t, tok.token, op.query, op.vars)
					checkClean(t, r)
					if r.Status != http.StatusUnauthorized {
						t.Errorf("status = %d, want 401:\n%s", r.Status, r.Body)
					}
					if codes := r.Codes(); !slices.Equal(codes, []string{"UNAUTHENTICATED"}) {
						t.Errorf("codes = %v, want [UNAUTHENTICATED]:\n%s", codes, r.Body)
					}
					if !nullData(r.Data) {
						t.Errorf("data = %s, want none", r.Data)
					}
					if diff := diffCounts(before, h.rows(t)); diff != "" {
						t.Errorf("an unauthenticated request changed the database: %s", diff)
					}
					if after := h.snapshot(t, c.ID); after != snap {
						t.Errorf("an unauthenticated request changed the case:\n%s\n%s", snap, after)
					}
				})
			}
		}
	})
}

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

func TestMutationOpenCase(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {

		t.Run("OK", func(t *testing.T) {
			ref := newReference()
			c := call[caseT](t, h, h.police, openCaseMutation, map[string]any{"in": caseInput(h, t, ref, "police-tirane")})
			want := caseT{
				ID: c.ID, Version: 1, Reference: ref, Title: "Recruitment through false job offers",
				Stage: "NOTICE_RECEIVED", Region: "TIRANE", FormsOfExploitation: []string{"SEXUAL", "FORCED_LABOUR"},
				OpenedAt: c.OpenedAt, LeadAgency: agencyRef{"police-tirane"},
			}
			if c.ID == "" || !reflect.DeepEqual(c, want) {
				t.Errorf("openCase =\n%+v, want\n%+v", c, want)
			}
			if !c.OpenedAt.Equal(date(2, 20)) {
				t.Errorf("openedAt = %v, want %v", c.OpenedAt, date(2, 20))
			}
			h.expectEvents(t, c.ID, nil, h.police.event("CASE_OPENED", "Case "+ref+" opened; lead agency police-tirane."))
		})

		// The lead agency is assigned to the case in the part its kind
		// plays; a part that is a legal basis only by a prosecution office
		// (TestMutationLegalBasisPartsComeFromTheProceedings).
		for _, tc := range []struct {
			lead, part string
			by         principal
		}{
			{"police-tirane", "INVESTIGATING", h.police},
			{"spak", "PROSECUTING", h.prosecutor},
			{"court-tirane", "ADJUDICATING", h.prosecutor},
			{"onac", "COORDINATING", h.police},
			{"ngo-vatra", "SUPPORTING", h.police},
		} {
			t.Run("OKLeadAssigned/"+tc.lead, func(t *testing.T) {
				c := call[caseT](t, h, tc.by, openCaseMutation, map[string]any{"in": caseInput(h, t, newReference(), tc.lead)})
				var data struct {
					Node struct {
						Assignments struct {
							Edges []struct {
								Node struct {
									Part   string
									Agency agencyRef
								}
							}
						}
					}
				}
				h.do(t, h.reader, assignmentsQuery, map[string]any{"id": c.ID}).MustOK(t).Decode(t, &data)
				// The lead in its part; besides it, at most the opener's own
				// agency, in the part it plays (police-tirane investigates).
				got := map[string]string{}
				for _, e := range data.Node.Assignments.Edges {
					got[e.Node.Agency.Code] = e.Node.Part
				}
				want := map[string]string{tc.lead: tc.part}
				// The opener is on the case too, in its own kind's part.
				if opener := tc.by.Agency; opener != tc.lead {
					want[opener] = map[string]string{"police-tirane": "INVESTIGATING", "prosecution-tirane": "PROSECUTING"}[opener]
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("assignments = %v, want %v", got, want)
				}
			})
		}

		victim := h.registerVictim(t, 30)
		validCase := func() map[string]any { return caseInput(h, t, newReference(), "police-tirane") }
		h.refuseEachInput(t, h.police, openCaseMutation, []inputRefusal{
			{"ErrMissingReference", withoutField(validCase, "reference"), invalid},
			{"ErrBadRegionEnum", withField(validCase, "region", "NOPE"), invalid},
			{"ErrBadExploitationEnum", withField(validCase, "formsOfExploitation", []string{"SEXUAL", "NOPE"}), invalid},
			{"ErrMalformedLeadAgencyID", withField(validCase, "leadAgencyID", "abc"), badInput},
			{"ErrUnknownLeadAgency", withField(validCase, "leadAgencyID", missingAgencyID), badField("input.leadAgencyID")},
			{"ErrLeadAgencyIsAVictim", withField(validCase, "leadAgencyID", victim.ID), badField("input.leadAgencyID")},
			{"ErrEmptyTitle", withField(validCase, "title", ""), badField("input.title")},
			{"ErrReferenceTooLong", func() map[string]any {
				return caseInput(h, t, strings.Repeat("R", 65), "police-tirane")
			}, badField("input.reference")},
		})

		t.Run("ErrMissingReferenceInline", func(t *testing.T) {
			q := fmt.Sprintf(`mutation { openCase(input: {title: "No reference", region: TIRANE, leadAgencyID: %q}) { id } }`, h.agency(t, "police-tirane"))
			h.refuse(t, h.police, q, nil, invalid)
		})

		t.Run("ErrDuplicateReference", func(t *testing.T) {
			ref := newReference()
			first := call[caseT](t, h, h.police, openCaseMutation, map[string]any{"in": caseInput(h, t, ref, "police-tirane")})
			// Another agency, another title: the reference alone decides.
			in := caseInput(h, t, ref, "spak")
			in["title"] = "Another title"
			h.refuse(t, h.prosecutor, openCaseMutation, map[string]any{"in": in}, want{Code: "CONFLICT", Field: "input.reference"}, first.ID)
			n, err := h.s.DB.Client.CaseFile.Query().Count(systemCtx())
			if err != nil {
				t.Fatal(err)
			}
			var refs struct{ Cases struct{ TotalCount int } }
			h.do(t, h.reader, `query($ref: String!) { cases(where: {reference: $ref}) { totalCount } }`, map[string]any{"ref": ref}).MustOK(t).Decode(t, &refs)
			if refs.Cases.TotalCount != 1 {
				t.Errorf("%d cases with reference %s (of %d), want 1", refs.Cases.TotalCount, ref, n)
			}
		})
	})
}

func TestMutationUpdateCase(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		events := h.timeline(t, c.ID)
		victim := h.registerVictim(t, 30)

		t.Run("OK", func(t *testing.T) {
			got := call[caseT](t, h, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": 1, "in": map[string]any{
				"title": "Forced begging network", "region": "TIRANE", "formsOfExploitation": []string{"FORCED_BEGGING"},
			}})
			if got.Version != 2 || got.Title != "Forced begging network" || got.Region != "TIRANE" ||
				!slices.Equal(got.FormsOfExploitation, []string{"FORCED_BEGGING"}) || got.Reference != c.Reference || got.Stage != "NOTICE_RECEIVED" {
				t.Errorf("updateCase = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.police.event("CASE_UPDATED", "Case details updated."))

			got = call[caseT](t, h, h.prosecutor, updateCaseMutation, map[string]any{"id": c.ID, "v": 2, "in": map[string]any{
				"leadAgencyID": h.agency(t, "spak"),
			}})
			if got.Version != 3 || got.LeadAgency.Code != "spak" || got.Title != "Forced begging network" {
				t.Errorf("second updateCase = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("CASE_UPDATED", "Case details updated."))
			c = got
		})

		t.Run("OKAppendFormsOfExploitation", func(t *testing.T) {
			need(t, c.ID)
			got := call[caseT](t, h, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": c.Version, "in": map[string]any{
				"appendFormsOfExploitation": []string{"SEXUAL"},
			}})
			checkAppended(t, "updateCase", c.Version, got.Version, c.FormsOfExploitation, got.FormsOfExploitation, "SEXUAL")
			events = h.expectEvents(t, c.ID, events, h.police.event("CASE_UPDATED", "Case details updated."))
			c = got
		})

		h.refuseEach(t, h.police, updateCaseMutation, c.ID, []refusal{
			{"ErrStaleVersion", func() map[string]any {
				return map[string]any{"id": c.ID, "v": c.Version - 1, "in": map[string]any{"title": "Stale"}}
			}, conflict},
			{"ErrFutureVersion", func() map[string]any {
				return map[string]any{"id": c.ID, "v": c.Version + 1, "in": map[string]any{"title": "Future"}}
			}, conflict},
			{"ErrNotFound", func() map[string]any {
				return map[string]any{"id": missingCaseID, "v": 1, "in": map[string]any{"title": "Nobody"}}
			}, notFound},
			{"ErrNotFoundOtherType", func() map[string]any {
				return map[string]any{"id": victim.ID, "v": 1, "in": map[string]any{"title": "A victim"}}
			}, notFound},
			{"ErrUnknownLeadAgency", func() map[string]any {
				return map[string]any{"id": c.ID, "v": c.Version, "in": map[string]any{"leadAgencyID": victim.ID}}
			}, badField("input.leadAgencyID")},
			{"ErrEmptyTitle", func() map[string]any {
				return map[string]any{"id": c.ID, "v": c.Version, "in": map[string]any{"title": ""}}
			}, badField("input.title")},
			{"ErrBadRegionEnum", func() map[string]any {
				return map[string]any{"id": c.ID, "v": c.Version, "in": map[string]any{"region": "NOPE"}}
			}, invalid},
		})

		// A case is never opened after it closed: updateCase moved openedAt
		// past closedAt (a hunt). A case closed by hand was closed on the
		// day it was, which no rule moves with openedAt; before it,
		// openedAt may move. (A case whose closedAt follows dated
		// proceedings takes any openedAt, and closes on it if that is
		// later: TestOpenedAtMovedPastTheLastEndClosesTheCaseInEitherOrder.)
		t.Run("ErrOpenedAfterItClosed", func(t *testing.T) {
			closed := h.openCase(t) // opened on 2/20
			moved := call[caseT](t, h, h.prosecutor, moveCaseStageMutation, map[string]any{"id": closed.ID, "v": closed.Version, "stage": "TRANSFERRED"})
			if moved.ClosedAt == nil {
				t.Fatalf("case not closed: %+v", moved)
			}
			h.refuse(t, h.police, updateCaseMutation, map[string]any{"id": closed.ID, "v": moved.Version,
				"in": map[string]any{"openedAt": stamp(moved.ClosedAt.Add(time.Hour))}}, badField("input.openedAt"), closed.ID)
			got := call[caseT](t, h, h.police, updateCaseMutation, map[string]any{"id": closed.ID, "v": moved.Version,
				"in": map[string]any{"openedAt": stamp(date(2, 25))}})
			sameTime(t, "openedAt", &got.OpenedAt, date(2, 25))
		})
	})
}

func TestMutationMoveCaseStage(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		events := h.timeline(t, c.ID)

		t.Run("OK", func(t *testing.T) {
			for i, stage := range []string{"REGISTERED", "UNDER_INVESTIGATION", "INVESTIGATION_CLOSED"} {
				got := call[caseT](t, h, h.prosecutor, moveCaseStageMutation, map[string]any{"id": c.ID, "v": c.Version, "stage": stage})
				if got.Stage != stage || got.Version != i+2 || got.ClosedAt != nil {
					t.Errorf("moveCaseStage(%s) = %+v", stage, got)
				}
				events = h.expectEvents(t, c.ID, events, h.prosecutor.event("STAGE_CHANGED", "Stage changed from "+c.Stage+" to "+stage+"."))
				c = got
			}
		})

		t.Run("OKTerminalStageCloses", func(t *testing.T) {
			other := h.openCase(t)
			got := call[caseT](t, h, h.prosecutor, moveCaseStageMutation, map[string]any{"id": other.ID, "v": 1, "stage": "TRANSFERRED"})
			if got.Stage != "TRANSFERRED" || got.Version != 2 || got.ClosedAt == nil || time.Since(*got.ClosedAt).Abs() > time.Minute {
				t.Errorf("moveCaseStage(TRANSFERRED) = %+v, want closed now", got)
			}
			e := h.refuse(t, h.prosecutor, moveCaseStageMutation, map[string]any{"id": other.ID, "v": 2, "stage": "REGISTERED"}, badField("stage"), other.ID)
			wantNoMoveAllowed(t, e)
		})

		t.Run("ErrImpossibleTransition", func(t *testing.T) {
			fresh := h.openCase(t)
			e := h.refuse(t, h.prosecutor, moveCaseStageMutation, map[string]any{"id": fresh.ID, "v": 1, "stage": "FINAL"}, badField("stage"), fresh.ID)
			if got := fmt.Sprint(e.Extensions["allowed"]); got != "[REGISTERED TRANSFERRED MERGED]" {
				t.Errorf("extensions.allowed = %s, want [REGISTERED TRANSFERRED MERGED]", got)
			}
		})

		h.refuseEach(t, h.prosecutor, moveCaseStageMutation, c.ID, []refusal{
			{"ErrBadStageEnum", func() map[string]any { return map[string]any{"id": c.ID, "v": c.Version, "stage": "NOPE"} }, invalid},
			{"ErrStaleVersion", func() map[string]any {
				return map[string]any{"id": c.ID, "v": c.Version - 1, "stage": "TRIAL_REQUESTED"}
			}, conflict},
			{"ErrNotFound", func() map[string]any { return map[string]any{"id": missingCaseID, "v": 1, "stage": "REGISTERED"} }, notFound},
		})
	})
}

// TestMutationLegalBasisPartsComeFromTheProceedings: PROSECUTING and
// ADJUDICATING open a case's victims' data without consent, so only a
// prosecution office (both) or a court (ADJUDICATING) that works on the
// case gives them or takes them away; the police on the case and a
// coordinator may not, though both may assign other parts. Each refusal
// changes nothing and is an audit event about the case.
func TestMutationLegalBasisPartsComeFromTheProceedings(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		coordinator := h.principal(t, "responsible-authority", viewer.RoleCoordinator)
		court, appeal := h.agency(t, "court-tirane"), h.agency(t, "court-appeal")
		give := func(agency, part string) map[string]any {
			return map[string]any{"case": c.ID, "agency": agency, "part": part}
		}
		// refused is query refused as forbidden says, changing nothing,
		// and one more refusal of p about the case in the trail.
		refused := func(t *testing.T, p principal, query string, vars map[string]any, forbidden want) {
			t.Helper()
			before := h.refusalsAbout(t, p, "Case", c.ID)
			h.refuse(t, p, query, vars, forbidden, c.ID)
			if after := h.refusalsAbout(t, p, "Case", c.ID); after != before+1 {
				t.Errorf("refusals of %s about the case: %d → %d, want one more", p.Subject, before, after)
			}
		}
		// refusedPart is assignAgencyToCase refused as FORBIDDEN on part.
		refusedPart := func(t *testing.T, p principal, vars map[string]any) {
			t.Helper()
			refused(t, p, assignAgencyMutation, vars, want{Code: "FORBIDDEN", Field: "part"})
		}

		t.Run("ErrPoliceGivesAdjudicating", func(t *testing.T) { refusedPart(t, h.police, give(court, "ADJUDICATING")) })
		t.Run("ErrCoordinatorGivesAdjudicating", func(t *testing.T) { refusedPart(t, coordinator, give(court, "ADJUDICATING")) })
		t.Run("ErrPoliceGivesProsecuting", func(t *testing.T) {
			refusedPart(t, h.police, give(h.agency(t, "prosecution-durres"), "PROSECUTING"))
		})
		t.Run("OKCoordinatorGivesSupporting", func(t *testing.T) {
			call[assignmentT](t, h, coordinator, assignAgencyMutation, give(h.agency(t, "shelter-national"), "SUPPORTING"))
		})

		t.Run("OKProsecutionGivesAdjudicating", func(t *testing.T) {
			got := call[assignmentT](t, h, h.prosecutor, assignAgencyMutation, give(court, "ADJUDICATING"))
			if got.Part != "ADJUDICATING" || got.Agency.Code != "court-tirane" {
				t.Errorf("assignAgencyToCase = %+v, want court-tirane ADJUDICATING", got)
			}
		})
		// Taking the part away is giving another: the police may not
		// demote the court to COORDINATING, nor may a court hand out
		// PROSECUTING, but it hands the case on to the court of appeal.
		t.Run("ErrPoliceTakesAdjudicatingAway", func(t *testing.T) { refusedPart(t, h.police, give(court, "COORDINATING")) })
		t.Run("ErrCourtGivesProsecuting", func(t *testing.T) {
			refusedPart(t, h.judge, give(h.agency(t, "prosecution-durres"), "PROSECUTING"))
		})
		t.Run("OKCourtGivesAdjudicating", func(t *testing.T) {
			got := call[assignmentT](t, h, h.judge, assignAgencyMutation, give(appeal, "ADJUDICATING"))
			if got.Part != "ADJUDICATING" || got.Agency.Code != "court-appeal" {
				t.Errorf("assignAgencyToCase = %+v, want court-appeal ADJUDICATING", got)
			}
		})

		// A case's lead takes its kind's part, or may give it to itself:
		// the police may not open a case led by a court or by a
		// prosecution office (SPAK here), nor make one the lead, whose
		// judges or prosecutors would read every victim linked into it.
		for _, lead := range []string{"court-tirane", "spak"} {
			leadID := func() string { return h.agency(t, lead) }
			t.Run("ErrPoliceOpensCaseLedBy/"+lead, func(t *testing.T) {
				before := h.refusalsAbout(t, h.police, "Agency", leadID())
				h.refuse(t, h.police, openCaseMutation, map[string]any{"in": caseInput(h, t, newReference(), lead)},
					want{Code: "FORBIDDEN", Field: "input.leadAgencyID"})
				if after := h.refusalsAbout(t, h.police, "Agency", leadID()); after != before+1 {
					t.Errorf("refusals of the police about %s: %d → %d, want one more", lead, before, after)
				}
			})
			t.Run("ErrPoliceMakesLead/"+lead, func(t *testing.T) {
				var now struct{ Node struct{ Version int } }
				h.do(t, h.reader, `query($id: ID!) { node(id: $id) { ... on Case { version } } }`, map[string]any{"id": c.ID}).MustOK(t).Decode(t, &now)
				refused(t, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": now.Node.Version, "in": map[string]any{"leadAgencyID": leadID()}},
					want{Code: "FORBIDDEN", Field: "input.leadAgencyID"})
			})
		}
	})
}

// TestMutationLegalBasisGiverIsInTheProceedings: working on a case is not
// enough to give PROSECUTING or ADJUDICATING, nor to take on what they
// give (a proceeding's office, a decision's court): the police and a
// coordinator may put a court or an office on a case in another part
// (COORDINATING), and until the twenty-seventh session (2026-12-08) it then
// gave itself the part, registered a proceeding of its own or recorded a
// decision, and its judges or prosecutors read every victim's name. Only
// an agency in the case's criminal proceedings (or the district office
// competent for it) gives them; a court demoted by the office does not
// take the part back. Each refusal changes nothing and is an audit event
// about the case; the court so refused still reads no victim's name.
func TestMutationLegalBasisGiverIsInTheProceedings(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		coordinator := h.principal(t, "responsible-authority", viewer.RoleCoordinator)
		durres := h.principal(t, "court-durres", viewer.RoleJudge)
		spak := h.principal(t, "spak", viewer.RoleProsecutor)
		courtDurres, spakID := h.agency(t, "court-durres"), h.agency(t, "spak")
		named := victimInput(newVictimName(), 30)
		named["legalName"] = "Named Only In Proceedings"
		c := h.openCase(t)
		v := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": named, "cases": []string{c.ID}})
		p := h.bringToTrial(t, h.registerProsecution(t, c.ID, date(3, 2)))

		// refused is query refused as FORBIDDEN on field, changing nothing,
		// and one more refusal of who about the case in the trail.
		refused := func(t *testing.T, who principal, query, field string, vars map[string]any) {
			t.Helper()
			before := h.refusalsAbout(t, who, "Case", c.ID)
			h.refuse(t, who, query, vars, want{Code: "FORBIDDEN", Field: field}, c.ID)
			if after := h.refusalsAbout(t, who, "Case", c.ID); after != before+1 {
				t.Errorf("refusals of %s about the case: %d → %d, want one more", who.Subject, before, after)
			}
		}
		give := func(agency, part string) map[string]any {
			return map[string]any{"case": c.ID, "agency": agency, "part": part}
		}
		readsName := func(t *testing.T, who principal) bool {
			t.Helper()
			var data struct{ Node struct{ LegalName *string } }
			h.do(t, who, `query($id: ID!) { node(id: $id) { ... on Victim { legalName } } }`, map[string]any{"id": v.ID}).Decode(t, &data)
			return data.Node.LegalName != nil
		}

		t.Run("OKPolicePutCourtOnAsCoordinating", func(t *testing.T) {
			call[assignmentT](t, h, h.police, assignAgencyMutation, give(courtDurres, "COORDINATING"))
		})
		t.Run("ErrCourtGivesItselfAdjudicating", func(t *testing.T) {
			refused(t, durres, assignAgencyMutation, "part", give(courtDurres, "ADJUDICATING"))
		})
		t.Run("ErrCourtRecordsADecisionWhereItDoesNotAdjudicate", func(t *testing.T) {
			refused(t, durres, recordDecisionMutation, "input.courtID",
				map[string]any{"in": h.decisionIn(t, p, "FIRST_INSTANCE", "court-durres", "ACQUITTED", date(6, 1), nil)})
		})
		t.Run("CourtStillReadsNoName", func(t *testing.T) {
			if readsName(t, durres) {
				t.Error("court-durres, on the case as COORDINATING, reads the victim's legal name")
			}
		})

		t.Run("OKCoordinatorPutsSpakOnAsCoordinating", func(t *testing.T) {
			call[assignmentT](t, h, coordinator, assignAgencyMutation, give(spakID, "COORDINATING"))
		})
		t.Run("ErrOfficeGivesItselfProsecuting", func(t *testing.T) {
			refused(t, spak, assignAgencyMutation, "part", give(spakID, "PROSECUTING"))
		})
		t.Run("ErrOfficeRegistersAProceedingOfItsOwn", func(t *testing.T) {
			refused(t, spak, registerProsMutation, "input.officeID", map[string]any{"in": map[string]any{
				"registrationNumber": newRegistration(), "registeredAt": stamp(date(3, 2)), "caseID": c.ID, "officeID": spakID}})
		})
		t.Run("ErrOfficeGivesACourtAdjudicating", func(t *testing.T) {
			refused(t, spak, assignAgencyMutation, "part", give(courtDurres, "ADJUDICATING"))
		})

		// The office in the proceedings gives the court its part, and may
		// take it away: the court does not take it back.
		t.Run("OKOfficeGivesAndTakesAway", func(t *testing.T) {
			call[assignmentT](t, h, h.prosecutor, assignAgencyMutation, give(courtDurres, "ADJUDICATING"))
			if !readsName(t, durres) {
				t.Error("court-durres, ADJUDICATING, does not read the victim's legal name")
			}
			call[assignmentT](t, h, h.prosecutor, assignAgencyMutation, give(courtDurres, "COORDINATING"))
		})
		t.Run("ErrDemotedCourtTakesItsPartBack", func(t *testing.T) {
			refused(t, durres, assignAgencyMutation, "part", give(courtDurres, "ADJUDICATING"))
		})
		t.Run("DemotedCourtReadsNoName", func(t *testing.T) {
			if readsName(t, durres) {
				t.Error("court-durres, demoted to COORDINATING, reads the victim's legal name")
			}
		})
	})
}

func TestMutationAssignAgency(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		events := h.timeline(t, c.ID)
		vatra := h.agency(t, "ngo-vatra")
		var first assignmentT

		t.Run("OK", func(t *testing.T) {
			first = call[assignmentT](t, h, h.police, assignAgencyMutation, map[string]any{"case": c.ID, "agency": vatra, "part": "SUPPORTING"})
			want := assignmentT{ID: first.ID, Version: 1, Part: "SUPPORTING", Case: nodeRef{c.ID}, Agency: agencyRef{"ngo-vatra"}}
			if first.ID == "" || first != want {
				t.Errorf("assignAgencyToCase = %+v, want %+v", first, want)
			}
			events = h.expectEvents(t, c.ID, events, h.police.event("AGENCY_ASSIGNED", "ngo-vatra assigned as SUPPORTING."))
		})

		t.Run("OKSamePartChangesNothing", func(t *testing.T) {
			need(t, first.ID)
			before := h.rows(t)
			again := call[assignmentT](t, h, h.police, assignAgencyMutation, map[string]any{"case": c.ID, "agency": vatra, "part": "SUPPORTING"})
			if again != first {
				t.Errorf("assigning again = %+v, want %+v", again, first)
			}
			if diff := diffCounts(before, h.rows(t)); diff != "" {
				t.Errorf("assigning the same part again changed the database: %s", diff)
			}
			events = h.expectEvents(t, c.ID, events)
		})

		t.Run("OKChangePart", func(t *testing.T) {
			need(t, first.ID)
			got := call[assignmentT](t, h, h.prosecutor, assignAgencyMutation, map[string]any{"case": c.ID, "agency": vatra, "part": "COORDINATING"})
			if got.ID != first.ID || got.Version != 2 || got.Part != "COORDINATING" {
				t.Errorf("changing the part = %+v", got)
			}
			events = h.expectEvents(t, c.ID, events, h.prosecutor.event("AGENCY_ASSIGNED", "ngo-vatra assigned as COORDINATING."))
		})

		for _, tc := range []struct {
			name string
			vars map[string]any
			want want
		}{
			{"ErrUnknownAgency", map[string]any{"case": c.ID, "agency": missingAgencyID, "part": "SUPPORTING"}, badField("agencyID")},
			{"ErrAgencyIsACase", map[string]any{"case": c.ID, "agency": c.ID, "part": "SUPPORTING"}, badField("agencyID")},
			{"ErrUnknownCase", map[string]any{"case": missingCaseID, "agency": vatra, "part": "SUPPORTING"}, badField("caseID")},
			{"ErrBadPartEnum", map[string]any{"case": c.ID, "agency": vatra, "part": "NOPE"}, invalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.refuse(t, h.police, assignAgencyMutation, tc.vars, tc.want, c.ID)
			})
		}
	})
}
