package casework_test

// End-to-end tests of how a case follows its criminal proceedings (README,
// "The case follows its proceedings"; domain.CaseStageFollowing).

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testserver"
)

// caseState is what a case says of its stage and who prosecutes it.
type caseState struct {
	stage    string
	closed   bool
	closedAt string // as answered; "" while open
	version  int
	partsOf  map[string][]string // agency code → parts
}

func (h *harness) caseState(t *testing.T, id string) caseState {
	t.Helper()
	var data struct {
		Node struct {
			Stage       string
			Version     int
			ClosedAt    *string
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
	h.do(t, h.reader, `query($id: ID!) { node(id: $id) { ... on Case { stage version closedAt assignments(first: 500) { edges { node { part agency { code } } } } } } }`,
		map[string]any{"id": id}).MustOK(t).Decode(t, &data)
	st := caseState{stage: data.Node.Stage, closed: data.Node.ClosedAt != nil, version: data.Node.Version, partsOf: map[string][]string{}}
	if data.Node.ClosedAt != nil {
		st.closedAt = *data.Node.ClosedAt
	}
	for _, e := range data.Node.Assignments.Edges {
		st.partsOf[e.Node.Agency.Code] = append(st.partsOf[e.Node.Agency.Code], e.Node.Part)
	}
	return st
}

func TestCaseFollowsProceedings(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {

		t.Run("RegisterAssignsOfficeAndMovesCase", func(t *testing.T) {
			c := h.openCase(t)
			before := h.caseState(t, c.ID)
			if before.stage != "NOTICE_RECEIVED" || len(before.partsOf["prosecution-tirane"]) != 0 {
				t.Fatalf("a new case: %+v", before)
			}
			h.registerProsecution(t, c.ID, date(3, 2))
			after := h.caseState(t, c.ID)
			if after.stage != "REGISTERED" || after.closed || after.version <= before.version {
				t.Errorf("after registering a proceeding the case is %+v, want REGISTERED with a new version", after)
			}
			if parts := after.partsOf["prosecution-tirane"]; !slices.Equal(parts, []string{"PROSECUTING"}) {
				t.Errorf("prosecution-tirane's parts = %v, want [PROSECUTING]", parts)
			}
		})

		t.Run("OfficeWithAnotherPartNowProsecutes", func(t *testing.T) {
			c := h.openAssigned(t, "COORDINATING", "prosecution-tirane")
			h.registerProsecution(t, c.ID, date(3, 2))
			if parts := h.caseState(t, c.ID).partsOf["prosecution-tirane"]; !slices.Equal(parts, []string{"PROSECUTING"}) {
				t.Errorf("prosecution-tirane's parts = %v, want [PROSECUTING] (one assignment)", parts)
			}
		})

		t.Run("OfficeAlreadyProsecutingIsLeftAlone", func(t *testing.T) {
			c := h.openAssigned(t, "PROSECUTING", "prosecution-tirane")
			events := h.timeline(t, c.ID)
			p := h.registerProsecution(t, c.ID, date(3, 2))
			h.expectEvents(t, c.ID, events,
				h.prosecutor.event("PROSECUTION_REGISTERED", "Proceeding "+p.RegistrationNumber+" registered."),
				h.prosecutor.event("STAGE_CHANGED", "Stage changed from NOTICE_RECEIVED to REGISTERED, following its proceedings."))
			if parts := h.caseState(t, c.ID).partsOf["prosecution-tirane"]; !slices.Equal(parts, []string{"PROSECUTING"}) {
				t.Errorf("prosecution-tirane's parts = %v, want [PROSECUTING]", parts)
			}
		})

		t.Run("StageOfFurthestOpenProceedingThenOutcome", func(t *testing.T) {
			c := h.openCase(t)
			started, closed := date(3, 10), date(4, 1)
			p1 := h.registerProsecution(t, c.ID, date(3, 2))
			p2 := h.registerProsecution(t, c.ID, date(3, 5))
			p1 = h.moveProsecution(t, p1, "UNDER_INVESTIGATION", &started)
			if st := h.caseState(t, c.ID); st.stage != "UNDER_INVESTIGATION" {
				t.Errorf("one proceeding under investigation, one registered: case %s, want UNDER_INVESTIGATION", st.stage)
			}
			p1 = h.moveProsecution(t, p1, "INVESTIGATION_CLOSED", &closed)
			h.moveProsecution(t, p1, "DISMISSED", &closed)
			if st := h.caseState(t, c.ID); st.stage != "REGISTERED" || st.closed {
				t.Errorf("one dismissed, one registered: case %+v, want REGISTERED and open (it follows the open one)", st)
			}
			transferred := date(4, 3)
			h.moveProsecution(t, p2, "TRANSFERRED", &transferred)
			// Closed when the last proceeding ended, on its date: not when
			// the server was told.
			if st := h.caseState(t, c.ID); st.stage != "DISMISSED" || st.closedAt != stamp(transferred) {
				t.Errorf("dismissed and transferred: case %+v, want DISMISSED and closed at %s", st, stamp(transferred))
			}
			h.registerProsecution(t, c.ID, date(4, 2))
			if st := h.caseState(t, c.ID); st.stage != "REGISTERED" || st.closed {
				t.Errorf("a new proceeding after all ended: case %+v, want REGISTERED and reopened", st)
			}
		})

		// A proceeding may be dated before the case was opened in
		// CaseGraph; the case is not closed before it was opened.
		t.Run("ClosedNotBeforeOpened", func(t *testing.T) {
			c := h.openCase(t) // opened on date(2, 20)
			p := h.registerProsecution(t, c.ID, date(1, 5))
			merged := date(1, 10)
			h.moveProsecution(t, p, "MERGED", &merged)
			if st := h.caseState(t, c.ID); st.closedAt != stamp(c.OpenedAt) {
				t.Errorf("a case opened %s, its proceeding ended %s: closed at %q, want when it was opened", c.OpenedAt, stamp(merged), st.closedAt)
			}
		})

		t.Run("ErrMoveByHand", func(t *testing.T) {
			c := h.openCase(t)
			h.registerProsecution(t, c.ID, date(3, 2))
			st := h.caseState(t, c.ID)
			h.refuse(t, h.police, moveCaseStageMutation, map[string]any{"id": c.ID, "v": st.version, "stage": "UNDER_INVESTIGATION"},
				badField("stage"), c.ID)
		})
	})
}

// TestCaseClosesWhenProceedingsEndAtOnce: the two proceedings of a case
// end in two requests at the same moment; each request's transaction must
// see the other's proceeding as ended once it commits, or the case stays
// open after both ended (PostgreSQL's READ COMMITTED, before the case's
// row was locked: 8 times in 20).
func TestCaseClosesWhenProceedingsEndAtOnce(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		const cases = 12
		ended := date(4, 1)
		type pair struct {
			caseID string
			ps     [2]prosecutionT
		}
		pairs := make([]pair, cases)
		for i := range pairs {
			c := h.openCase(t)
			pairs[i] = pair{c.ID, [2]prosecutionT{h.registerProsecution(t, c.ID, date(3, 2)), h.registerProsecution(t, c.ID, date(3, 5))}}
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, pr := range pairs {
			for _, p := range pr.ps {
				wg.Go(func() {
					<-start
					h.do(t, h.prosecutor, moveProsStageMutation, map[string]any{"id": p.ID, "v": p.Version,
						"stage": "TRANSFERRED", "at": stamp(ended)}).MustOK(t)
				})
			}
		}
		close(start)
		wg.Wait()
		for _, pr := range pairs {
			if st := h.caseState(t, pr.caseID); st.stage != "TRANSFERRED" || !st.closed {
				t.Errorf("both proceedings transferred at once: case %s is %+v, want TRANSFERRED and closed", pr.caseID, st)
			}
		}
	})
}

// TestRepeatedWritesAtOnce: writes that change nothing the second time
// (assigning an agency in the part it has, linking a linked victim, two
// proceedings each putting their office on the case) sent at once all
// succeed, and make one row (on PostgreSQL some answered CONFLICT before
// the case was locked for them: a review's finding).
func TestRepeatedWritesAtOnce(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		const writers = 10
		atOnce := func(send func(i int)) {
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range writers {
				wg.Go(func() { <-start; send(i) })
			}
			close(start)
			wg.Wait()
		}
		c := h.openCase(t)
		v := h.registerVictim(t, 30, c.ID)
		other := h.openCase(t)
		spak := h.agency(t, "spak")
		atOnce(func(int) {
			h.do(t, h.police, assignAgencyMutation, map[string]any{"case": other.ID, "agency": spak, "part": "COORDINATING"}).MustOK(t)
			h.do(t, h.police, linkVictimMutation, map[string]any{"victim": v.ID, "case": other.ID}).MustOK(t)
		})
		fresh := h.openCase(t)
		atOnce(func(int) { h.registerProsecution(t, fresh.ID, date(3, 2)) })
		if parts := h.caseState(t, other.ID).partsOf["spak"]; !slices.Equal(parts, []string{"COORDINATING"}) {
			t.Errorf("spak's parts = %v, want one COORDINATING", parts)
		}
		if parts := h.caseState(t, fresh.ID).partsOf["prosecution-tirane"]; !slices.Equal(parts, []string{"PROSECUTING"}) {
			t.Errorf("prosecution-tirane's parts = %v, want one PROSECUTING", parts)
		}
		var data struct {
			Node struct{ Victims struct{ TotalCount int } }
		}
		h.do(t, h.reader, `query($id: ID!) { node(id: $id) { ... on Case { victims { totalCount } } } }`, map[string]any{"id": other.ID}).MustOK(t).Decode(t, &data)
		if n := data.Node.Victims.TotalCount; n != 1 {
			t.Errorf("the case has %d victims, want the one linked", n)
		}
	})
}

// TestClosedAtFollowsOpenedAt: a case with proceedings closes on the date
// the last of them ended, never before it was opened (followProceedings
// clamps closedAt to openedAt), so its closedAt depends on its openedAt,
// and updateCase moving openedAt recomputes it by the same rule. It kept
// the clamp to the old opening date (a hunt): the case read as closed 41
// days after its only proceeding ended, and a closedAtLTE filter of that
// day missed it.
func TestClosedAtFollowsOpenedAt(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		// mergedBeforeOpened is a case opened on date(2, 20) whose only
		// proceeding merged on date(1, 10): closed when it was opened.
		mergedBeforeOpened := func(t *testing.T) (caseT, caseState, prosecutionT) {
			c := h.openCase(t)
			p := h.registerProsecution(t, c.ID, date(1, 5))
			p = h.moveProsecution(t, p, "MERGED", ptr(date(1, 10)))
			st := h.caseState(t, c.ID)
			if st.stage != "MERGED" || st.closedAt != stamp(c.OpenedAt) {
				t.Fatalf("setup: case %+v, want MERGED and closed when it was opened (%s)", st, stamp(c.OpenedAt))
			}
			return c, st, p
		}
		updateOpenedAt := func(t *testing.T, id string, version int, opened time.Time) caseT {
			got := call[caseT](t, h, h.police, updateCaseMutation, map[string]any{"id": id, "v": version,
				"in": map[string]any{"openedAt": stamp(opened)}})
			sameTime(t, "openedAt", &got.OpenedAt, opened)
			return got
		}
		// wantClosed checks the payload and the case as read afterwards
		// (closedAt as answered; "" while open).
		wantClosed := func(t *testing.T, got caseT, stage, closedAt string) {
			t.Helper()
			answered := ""
			if got.ClosedAt != nil {
				answered = got.ClosedAt.UTC().Format(time.RFC3339Nano)
			}
			if got.Stage != stage || answered != closedAt {
				t.Errorf("the payload says %s closed at %q, want %s closed at %q", got.Stage, answered, stage, closedAt)
			}
			if after := h.caseState(t, got.ID); after.stage != stage || after.closedAt != closedAt || after.version != got.Version {
				t.Errorf("case %+v, want %s closed at %q, version %d as the payload said", after, stage, closedAt, got.Version)
			}
		}

		t.Run("BeforeTheLastEndClosesWhenItEnded", func(t *testing.T) {
			c, st, _ := mergedBeforeOpened(t)
			events := h.timeline(t, c.ID)
			got := updateOpenedAt(t, c.ID, st.version, date(1, 1))
			wantClosed(t, got, "MERGED", stamp(date(1, 10)))
			// As any change of the case: a new version and a timeline entry.
			if got.Version <= st.version+1 {
				t.Errorf("version %d after %d, want the update's and the closing date's", got.Version, st.version)
			}
			h.expectEvents(t, c.ID, events,
				h.police.event("CASE_UPDATED", "Case details updated."),
				h.police.event("CASE_UPDATED", "Closing date moved from "+stamp(c.OpenedAt)+" to "+stamp(date(1, 10))+", following its proceedings."))
		})

		t.Run("AfterTheLastEndClosesWhenOpened", func(t *testing.T) {
			c, st, _ := mergedBeforeOpened(t)
			got := updateOpenedAt(t, c.ID, st.version, date(2, 1))
			wantClosed(t, got, "MERGED", stamp(date(2, 1)))
		})

		// A proceeding ended without a date (not one CaseGraph wrote)
		// closed the case at the server's time: it ended no later, and
		// stays so when openedAt moves.
		t.Run("UndatedEndKeepsTheDateItClosed", func(t *testing.T) {
			c, st, p := mergedBeforeOpened(t)
			if err := h.s.DB.Client.Prosecution.UpdateOneID(atoi(t, p.ID)).ClearClosedAt().Exec(systemCtx()); err != nil {
				t.Fatal(err)
			}
			got := updateOpenedAt(t, c.ID, st.version, date(1, 1))
			wantClosed(t, got, "MERGED", stamp(c.OpenedAt))
		})

		t.Run("OpenStaysOpen", func(t *testing.T) {
			c := h.openCase(t)
			h.registerProsecution(t, c.ID, date(3, 2))
			st := h.caseState(t, c.ID)
			events := h.timeline(t, c.ID)
			got := updateOpenedAt(t, c.ID, st.version, date(1, 1))
			wantClosed(t, got, "REGISTERED", "")
			h.expectEvents(t, c.ID, events, h.police.event("CASE_UPDATED", "Case details updated."))
		})

		// A case without proceedings is closed by hand, on the day it was:
		// no rule derives its closedAt from openedAt.
		t.Run("ClosedByHandKeepsItsDate", func(t *testing.T) {
			c := h.openCase(t)
			closed := call[caseT](t, h, h.prosecutor, moveCaseStageMutation, map[string]any{"id": c.ID, "v": c.Version, "stage": "TRANSFERRED"})
			events := h.timeline(t, c.ID)
			got := updateOpenedAt(t, c.ID, closed.Version, date(1, 1))
			wantClosed(t, got, "TRANSFERRED", closed.ClosedAt.UTC().Format(time.RFC3339Nano))
			h.expectEvents(t, c.ID, events, h.police.event("CASE_UPDATED", "Case details updated."))
		})
	})
}

// TestOpenedAtMovedPastTheLastEndClosesTheCaseInEitherOrder: a case with
// proceedings is closed on the date the last of them ended, or on its
// openedAt if that is later (README, "The case follows its proceedings"),
// so the same facts leave the case in the same state whatever order they
// were typed in: its opening date corrected (20 → 25 February), then its
// only proceeding merged on 10 January; or the proceeding merged first,
// then the opening date corrected. Either way it is closed on 25
// February. Only a closing date that is not its openedAt's bounds the
// opening date (docs/input.md): a case closed by hand, and one whose
// proceeding ended without a date. Until 2026-12-07 (eighteenth session)
// updateCase compared the new openedAt with the closedAt the rule had
// clamped to the old one: with the proceeding merged first, moving
// openedAt to 25 February was refused, BAD_USER_INPUT on input.openedAt
// "The case closed on …; it cannot have been opened after that", and the
// case stayed closed on 20 February (a hunt over HTTP).
func TestOpenedAtMovedPastTheLastEndClosesTheCaseInEitherOrder(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		corrected := date(2, 25) // the opening date as corrected; the case was opened on 2/20
		updateOpenedAt := func(t *testing.T, id string, version int) *testserver.Response {
			return h.do(t, h.police, updateCaseMutation, map[string]any{"id": id, "v": version,
				"in": map[string]any{"openedAt": stamp(corrected)}})
		}

		// The opening date corrected first, the proceeding ended after.
		first := h.openCase(t)
		p := h.registerProsecution(t, first.ID, date(1, 5))
		st := h.caseState(t, first.ID)
		if r := updateOpenedAt(t, first.ID, st.version); len(r.Errors) > 0 {
			t.Fatalf("moving openedAt of an open case: %s", r.Body)
		}
		h.moveProsecution(t, p, "MERGED", ptr(date(1, 10)))
		want := h.caseState(t, first.ID)
		if want.stage != "MERGED" || want.closedAt != stamp(corrected) {
			t.Fatalf("openedAt first: case %+v, want MERGED closed on %s (README: the case's openedAt if that is later)", want, stamp(corrected))
		}

		// The same facts, the proceeding ended first.
		second := h.openCase(t)
		p = h.registerProsecution(t, second.ID, date(1, 5))
		h.moveProsecution(t, p, "MERGED", ptr(date(1, 10)))
		st = h.caseState(t, second.ID)
		if st.closedAt != stamp(second.OpenedAt) {
			t.Fatalf("setup: case %+v, want closed when it was opened (%s)", st, stamp(second.OpenedAt))
		}
		events := h.timeline(t, second.ID)
		r := updateOpenedAt(t, second.ID, st.version)
		if len(r.Errors) > 0 {
			t.Errorf("the proceeding ended first, moving the case's openedAt from %s to %s is refused, where the other order took it and closed the case on %s: %s",
				stamp(second.OpenedAt), stamp(corrected), stamp(corrected), r.Body)
		}
		if got := h.caseState(t, second.ID); got.stage != want.stage || got.closedAt != want.closedAt {
			t.Errorf("proceeding ended first: case %s closed %q, the other order %s closed %q", got.stage, got.closedAt, want.stage, want.closedAt)
		}
		h.expectEvents(t, second.ID, events,
			h.police.event("CASE_UPDATED", "Case details updated."),
			h.police.event("CASE_UPDATED", "Closing date moved from "+stamp(second.OpenedAt)+" to "+stamp(corrected)+", following its proceedings."))

		// A proceeding ended without a date (not one CaseGraph wrote)
		// closed the case at the server's time, which it keeps: no rule
		// moves it with openedAt, so openedAt is not moved past it.
		t.Run("ErrPastAnUndatedEnd", func(t *testing.T) {
			c := h.openCase(t)
			p := h.moveProsecution(t, h.registerProsecution(t, c.ID, date(1, 5)), "MERGED", ptr(date(1, 10)))
			if err := h.s.DB.Client.Prosecution.UpdateOneID(atoi(t, p.ID)).ClearClosedAt().Exec(systemCtx()); err != nil {
				t.Fatal(err)
			}
			st := h.caseState(t, c.ID)
			h.refuse(t, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": st.version,
				"in": map[string]any{"openedAt": stamp(corrected)}}, badField("input.openedAt"), c.ID)
		})
	})
}
