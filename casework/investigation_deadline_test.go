package casework_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/internal/testserver"
)

// TestDeadlineMonthsAreTiranasCalendarMonths: an investigation's three
// months (its first deadline, and the most one extension adds) are
// calendar months of Tirana's calendar (docs/domain.md). A proceeding put
// under investigation at midnight on 1 March in Tirana
// (2025-03-01T00:00+01:00, 28 February 23:00 UTC) is due on 1 June at
// midnight in Tirana; and a deadline of 1 March may be extended by three
// months to 1 June. Until the seventeenth session the months were counted
// on the UTC calendar, where the day is 28 February: due on 28 May, read
// overdue days before the legal deadline, and the extension refused (a
// hunt over HTTP).
func TestDeadlineMonthsAreTiranasCalendarMonths(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		y := lastYear
		tirana := func(month time.Month, day int) string {
			// Midnight in Tirana: CET (+01:00) before the last Sunday of
			// March, CEST (+02:00) from then to the last Sunday of October.
			off := "+01:00"
			if month >= time.April && month <= time.September {
				off = "+02:00"
			}
			return fmt.Sprintf("%d-%02d-%02dT00:00:00%s", y, month, day, off)
		}
		instant := func(s string) time.Time {
			at, err := time.Parse(time.RFC3339, s)
			if err != nil {
				t.Fatal(err)
			}
			return at
		}

		t.Run("FirstDeadline", func(t *testing.T) {
			p := h.registerProsecution(t, c.ID, time.Date(y, time.February, 20, 9, 0, 0, 0, time.UTC))
			start := instant(tirana(time.March, 1))
			got := h.moveProsecution(t, p, "UNDER_INVESTIGATION", &start)
			want := instant(tirana(time.June, 1)) // 2025-05-31T22:00:00Z
			if got.InvestigationDeadline == nil || !got.InvestigationDeadline.Equal(want) {
				t.Errorf("under investigation from %s (1 March in Tirana): investigationDeadline = %v, want %s (1 June in Tirana, three months later)",
					tirana(time.March, 1), got.InvestigationDeadline, want.UTC().Format(time.RFC3339))
			}
		})

		t.Run("Extension", func(t *testing.T) {
			p := call[prosecutionT](t, h, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
				"registrationNumber": newRegistration(), "registeredAt": stamp(time.Date(y, time.January, 10, 9, 0, 0, 0, time.UTC)),
				"caseID": c.ID, "officeID": h.agency(t, "prosecution-tirane"), "investigationDeadline": tirana(time.March, 1),
			}})
			p = h.moveProsecution(t, p, "UNDER_INVESTIGATION", ptr(time.Date(y, time.January, 15, 9, 0, 0, 0, time.UTC)))
			until := tirana(time.June, 1)
			r := h.do(t, h.prosecutor, extendDeadlineMutation, map[string]any{"id": p.ID, "v": p.Version, "until": until})
			if len(r.Errors) != 0 {
				t.Fatalf("extending the deadline 1 March (%s) by three months to 1 June (%s), in Tirana: %s",
					tirana(time.March, 1), until, r.Body)
			}
			got := testserver.Data[struct{ ExtendInvestigationDeadline prosecutionT }](t, r).ExtendInvestigationDeadline
			if got.InvestigationDeadline == nil || !got.InvestigationDeadline.Equal(instant(until)) || got.DeadlineExtensions != 1 {
				t.Errorf("after the extension: deadline %v, extensions %d; want %s, 1", got.InvestigationDeadline, got.DeadlineExtensions, until)
			}
		})
	})
}

// TestDeadlineExtendedToTiranasDay: the case's timeline tells every
// agency on the case the day an investigation deadline was extended to,
// as an Albanian reads it (domain.DayInTirana). A prosecutor in Tirana
// extends it to 1 June (midnight in Tirana, 2025-06-01T00:00+02:00); the
// entry read "extended to 2025-05-31", the instant's UTC day, a day
// before the deadline the office set, until the seventeenth session.
func TestDeadlineExtendedToTiranasDay(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		y := lastYear
		p := call[prosecutionT](t, h, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
			"registrationNumber": newRegistration(), "registeredAt": stamp(time.Date(y, time.March, 10, 9, 0, 0, 0, time.UTC)),
			"caseID": c.ID, "officeID": h.agency(t, "prosecution-tirane"),
			"investigationDeadline": fmt.Sprintf("%d-04-15T00:00:00+02:00", y),
		}})
		p = h.moveProsecution(t, p, "UNDER_INVESTIGATION", ptr(time.Date(y, time.March, 12, 9, 0, 0, 0, time.UTC)))
		before := h.timeline(t, c.ID)
		until := fmt.Sprintf("%d-06-01T00:00:00+02:00", y) // 1 June in Tirana
		call[prosecutionT](t, h, h.prosecutor, extendDeadlineMutation, map[string]any{"id": p.ID, "v": p.Version, "until": until})
		h.expectEvents(t, c.ID, before, h.prosecutor.event("DEADLINE_EXTENDED",
			fmt.Sprintf("Investigation deadline of %s extended to %d-06-01.", p.RegistrationNumber, y)))
	})
}

// TestReopenedInvestigationGetsAFreshThreeMonths: a request to dismiss
// that the court sends back reopens the investigation (DISMISSAL_REQUESTED
// → UNDER_INVESTIGATION, docs/domain.md), which gets three months from its
// reopening. Until the seventeenth session the proceeding kept the
// deadline of its first investigation, months past, so the monitoring
// mechanism listed an investigation reopened today as overdue (600 days
// here), with a deadline before the investigationStartedAt the move just
// set; and the office could not give it a deadline ahead in one step
// (updateProsecution has no deadline, an extension adds at most three
// months to the past one and counts as an extension).
func TestReopenedInvestigationGetsAFreshThreeMonths(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		p := h.registerProsecution(t, c.ID, date(1, 10))
		p = h.moveProsecution(t, p, "UNDER_INVESTIGATION", ptr(date(1, 15))) // deadline 15 April
		p = h.moveProsecution(t, p, "INVESTIGATION_CLOSED", ptr(date(3, 1)))
		p = h.moveProsecution(t, p, "DISMISSAL_REQUESTED", ptr(date(3, 5)))
		// The court sends the request back; the investigation reopens now.
		p = h.moveProsecution(t, p, "UNDER_INVESTIGATION", nil)
		if p.InvestigationStartedAt == nil || p.InvestigationDeadline == nil || !p.InvestigationDeadline.After(*p.InvestigationStartedAt) {
			t.Errorf("reopened under investigation at %v: investigationDeadline = %v, before the investigation (re)started",
				p.InvestigationStartedAt, p.InvestigationDeadline)
		}
		var got struct {
			Node struct{ OverdueDays *int }
		}
		h.do(t, h.prosecutor, `query ($id: ID!) { node(id: $id) { ... on Prosecution { overdueDays } } }`,
			map[string]any{"id": p.ID}).MustOK(t).Decode(t, &got)
		if got.Node.OverdueDays != nil {
			t.Errorf("an investigation reopened a moment ago is overdue by %d days (deadline %v)", *got.Node.OverdueDays, p.InvestigationDeadline)
		}

		// Reopened on a given day, after an extension: three months from
		// that day on Tirana's clock, whatever the old deadline was; the
		// extension stays counted (prosecutionMeasures' "extended": ever).
		q := h.registerProsecution(t, c.ID, date(1, 10))
		q = h.moveProsecution(t, q, "UNDER_INVESTIGATION", ptr(date(1, 15)))
		q = call[prosecutionT](t, h, h.prosecutor, extendDeadlineMutation, map[string]any{"id": q.ID, "v": q.Version, "until": stamp(date(7, 1))})
		q = h.moveProsecution(t, q, "INVESTIGATION_CLOSED", ptr(date(3, 1)))
		q = h.moveProsecution(t, q, "DISMISSAL_REQUESTED", ptr(date(3, 5)))
		q = h.moveProsecution(t, q, "UNDER_INVESTIGATION", ptr(date(6, 1))) // 11:00 in Tirana
		sameTime(t, "investigationDeadline", q.InvestigationDeadline, tiranaDate(time.September, 1, 11))
		if q.DeadlineExtensions != 1 {
			t.Errorf("deadlineExtensions = %d after reopening, want the 1 extension of the first investigation", q.DeadlineExtensions)
		}
	})
}

// TestLaterStartInTheRepeatedHourIsNeverDueEarlier: a later start is
// never due earlier, in the hour Tirana lives twice too (the last Sunday
// of October, 03:00 CEST → 02:00 CET). Until 2026-12-07 (eighteenth
// session) AddMonthsInTirana kept the wall-clock time and dropped which
// pass of the hour it was: a proceeding put under investigation at 02:50
// CEST (00:50 UTC) was due at 02:50 CET three months on, one started
// twenty minutes later at 02:10 CET (01:10 UTC) at 02:10 CET, forty
// minutes earlier (a hunt). A start in the second pass is now due when
// the hour ends, 03:00. Over HTTP with moveProsecutionStage(at:).
func TestLaterStartInTheRepeatedHourIsNeverDueEarlier(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		y := lastYear
		// The last Sunday of October: summer time ends at 01:00 UTC.
		sunday := time.Date(y, time.October, 31, 0, 0, 0, 0, time.UTC)
		for sunday.Weekday() != time.Sunday {
			sunday = sunday.AddDate(0, 0, -1)
		}
		earlier := sunday.Add(50 * time.Minute) // 02:50 CEST, the hour's first pass
		later := sunday.Add(70 * time.Minute)   // 02:10 CET, its second pass
		registered := sunday.AddDate(0, 0, -6)
		a := h.moveProsecution(t, h.registerProsecution(t, c.ID, registered), "UNDER_INVESTIGATION", &earlier)
		b := h.moveProsecution(t, h.registerProsecution(t, c.ID, registered), "UNDER_INVESTIGATION", &later)
		if a.InvestigationDeadline == nil || b.InvestigationDeadline == nil {
			t.Fatalf("deadlines %v, %v", a.InvestigationDeadline, b.InvestigationDeadline)
		}
		if b.InvestigationDeadline.Before(*a.InvestigationDeadline) {
			t.Errorf("under investigation from %s is due %s, but the later start %s is due earlier, %s",
				earlier.Format(time.RFC3339), a.InvestigationDeadline.UTC().Format(time.RFC3339),
				later.Format(time.RFC3339), b.InvestigationDeadline.UTC().Format(time.RFC3339))
		}
	})
}

// TestDeadlineSetAtRegistrationIsExtendedWhileTheInvestigationIsOpen: the
// office may set the investigation deadline when it registers the
// proceeding, and the investigation is open from then on (REGISTERED and
// UNDER_INVESTIGATION, docs/domain.md), so the deadline is extended in
// either stage, by at most three months of Tirana's calendar at a time;
// and starting the investigation keeps the deadline the office set, even
// one already past: the proceeding stays overdue until the office extends
// it. Until 2026-12-07 (eighteenth session) extendInvestigationDeadline
// refused a REGISTERED proceeding ("Only a proceeding under investigation
// has a deadline to extend"), while overdueDays counted the days past the
// deadline set at registration: the office's proceeding stayed on the
// overdue list with a deadline nothing could extend (a hunt over HTTP).
func TestDeadlineSetAtRegistrationIsExtendedWhileTheInvestigationIsOpen(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		deadline := time.Now().UTC().Add(-10 * 24 * time.Hour).Truncate(time.Second)
		registerPastDeadline := func(t *testing.T) prosecutionT {
			return call[prosecutionT](t, h, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
				"registrationNumber": newRegistration(), "registeredAt": stamp(deadline.AddDate(0, -1, 0)), "caseID": c.ID,
				"investigationDeadline": stamp(deadline), "officeID": h.agency(t, "prosecution-tirane"),
			}})
		}
		overdueDays := func(t *testing.T, id string) *int {
			var got struct{ Node struct{ OverdueDays *int } }
			h.do(t, h.prosecutor, `query($id: ID!) { node(id: $id) { ... on Prosecution { overdueDays } } }`, map[string]any{"id": id}).
				MustOK(t).Decode(t, &got)
			return got.Node.OverdueDays
		}

		p := registerPastDeadline(t)
		if days := overdueDays(t, p.ID); p.Stage != "REGISTERED" || days == nil || *days < 9 {
			t.Fatalf("setup: %s, overdueDays %v, want REGISTERED and about 10 days overdue", p.Stage, days)
		}
		// The bound is the one of a proceeding under investigation.
		h.refuse(t, h.prosecutor, extendDeadlineMutation, map[string]any{"id": p.ID, "v": p.Version, "until": stamp(deadline.AddDate(0, 3, 1))},
			badField("until"), p.ID)
		h.refuse(t, h.prosecutor, extendDeadlineMutation, map[string]any{"id": p.ID, "v": p.Version, "until": stamp(deadline.Add(-time.Hour))},
			badField("until"), p.ID)

		events := h.timeline(t, c.ID)
		until := deadline.AddDate(0, 2, 0)
		r := h.do(t, h.prosecutor, extendDeadlineMutation, map[string]any{"id": p.ID, "v": p.Version, "until": stamp(until)})
		if len(r.Errors) > 0 {
			t.Fatalf("a proceeding %d days past the deadline its office set at registration (its investigation open, REGISTERED) cannot have that deadline extended: %s",
				*overdueDays(t, p.ID), r.Body)
		}
		var got struct{ ExtendInvestigationDeadline prosecutionT }
		r.Decode(t, &got)
		p = got.ExtendInvestigationDeadline
		sameTime(t, "investigationDeadline", p.InvestigationDeadline, until)
		if p.Stage != "REGISTERED" || p.DeadlineExtensions != 1 || p.Version != 2 {
			t.Errorf("extended: %s, %d extensions, version %d; want REGISTERED, 1, 2", p.Stage, p.DeadlineExtensions, p.Version)
		}
		if days := overdueDays(t, p.ID); days != nil {
			t.Errorf("overdue by %d days after its deadline was extended to %s", *days, stamp(until))
		}
		h.expectEvents(t, c.ID, events, h.prosecutor.event("DEADLINE_EXTENDED",
			fmt.Sprintf("Investigation deadline of %s extended to %s.", p.RegistrationNumber, domain.DayInTirana(until))))

		// Starting the investigation keeps the deadline extended, and the
		// extension stays counted.
		p = h.moveProsecution(t, p, "UNDER_INVESTIGATION", nil)
		sameTime(t, "investigationDeadline after the start", p.InvestigationDeadline, until)
		if p.DeadlineExtensions != 1 {
			t.Errorf("deadlineExtensions = %d after the start, want 1", p.DeadlineExtensions)
		}

		// Started past the deadline set at registration: the deadline
		// stays, and so does the proceeding on the overdue list, until the
		// office extends it (now under investigation).
		q := h.moveProsecution(t, registerPastDeadline(t), "UNDER_INVESTIGATION", nil)
		sameTime(t, "investigationDeadline of a proceeding started past it", q.InvestigationDeadline, deadline)
		if days := overdueDays(t, q.ID); days == nil || *days < 9 {
			t.Errorf("started 10 days past the deadline set at registration: overdueDays %v, want about 10", days)
		}
		q = call[prosecutionT](t, h, h.prosecutor, extendDeadlineMutation, map[string]any{"id": q.ID, "v": q.Version, "until": stamp(until)})
		sameTime(t, "investigationDeadline extended under investigation", q.InvestigationDeadline, until)
	})
}
