package authz_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/casework"
	"github.com/casegraph/casegraph/viewer"
)

// TestEmergencyAccessPerDay: one person is granted emergency access at
// most casework.MaxEmergencyGrantsPerDay times in any 24 hours, on any
// cases; the next request is RATE_LIMITED, says when the next grant is
// possible, and writes nothing. Another person of the same agency is not
// held back, and a grant leaving the window makes room for one more.
func TestEmergencyAccessPerDay(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		police := e.tok(t, "police-durres", viewer.RoleInvestigator)
		ask := func(caseID int) map[string]any {
			return map[string]any{"case": gid(caseID), "j": justification, "h": 1}
		}
		// A retry with the same key is the first grant again, and counts
		// once; the same key for another request is CONFLICT.
		const keyed = `mutation ($case: ID!, $j: String!, $h: Int, $k: String) { requestEmergencyAccess(caseID: $case, justification: $j, hours: $h, idempotencyKey: $k) { id grantedAt } }`
		withKey := func(caseID int, key string) map[string]any {
			v := ask(caseID)
			v["k"] = key
			return v
		}
		var once, again struct{ RequestEmergencyAccess grantT }
		e.do(t, police, keyed, withKey(f.caseD, "break-glass-1")).MustOK(t).Decode(t, &once)
		e.do(t, police, keyed, withKey(f.caseD, "break-glass-1")).MustOK(t).Decode(t, &again)
		if once.RequestEmergencyAccess.ID == "" || again.RequestEmergencyAccess.ID != once.RequestEmergencyAccess.ID {
			t.Errorf("a retry with the same key granted %q, the first call %q", again.RequestEmergencyAccess.ID, once.RequestEmergencyAccess.ID)
		}
		wantRefusal(t, e.do(t, police, keyed, withKey(f.caseD2, "break-glass-1")), "CONFLICT", "")
		for i := range casework.MaxEmergencyGrantsPerDay - 1 {
			caseID := f.caseD
			if i%2 == 1 {
				caseID = f.caseD2
			}
			e.do(t, police, requestEmergency, ask(caseID)).MustOK(t)
		}

		before := counts(t, e.db.Client)
		r := e.do(t, police, requestEmergency, ask(f.caseD2))
		wantRefusal(t, r, "RATE_LIMITED", "")
		unchanged(t, e.db.Client, before)
		// The keyed grant, the first of the five, leaves the window first.
		retryAt, _ := r.Errors[0].Extensions["retryAt"].(string)
		keyedGrant := once.RequestEmergencyAccess
		// Said to the whole second after, never a fraction early.
		if want := keyedGrant.GrantedAt.Add(24 * time.Hour).Truncate(time.Second).Add(time.Second).UTC().Format(time.RFC3339); retryAt != want {
			t.Errorf("extensions.retryAt = %q, want %q (the first grant's time and a day, to the second after)", retryAt, want)
		}
		// The same person with a token of another agency is the same
		// person.
		elsewhere, err := e.s.Issuer.Issue(subject("police-durres", viewer.RoleInvestigator), "police-tirane",
			[]viewer.Role{viewer.RoleInvestigator}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		wantRefusal(t, e.do(t, elsewhere, requestEmergency, ask(f.caseT)), "RATE_LIMITED", "")
		// Its key still answers with it, within the bound.
		e.do(t, police, keyed, withKey(f.caseD, "break-glass-1")).MustOK(t)

		// Another person of the agency asks for their own.
		other := e.s.Colleague(t, "police-durres", viewer.RoleInvestigator)
		e.do(t, other.Token, requestEmergency, ask(f.caseD)).MustOK(t)

		// The first grant leaves the window: one more is granted.
		q := "UPDATE emergency_grants SET granted_at = ? WHERE id = ?"
		if e.db.Dialect == dialect.Postgres {
			q = "UPDATE emergency_grants SET granted_at = $1 WHERE id = $2"
		}
		id, err := strconv.Atoi(keyedGrant.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.SQL.ExecContext(context.Background(), q, time.Now().Add(-25*time.Hour), id); err != nil {
			t.Fatal(err)
		}
		e.do(t, police, requestEmergency, ask(f.caseD2)).MustOK(t)
		wantRefusal(t, e.do(t, police, requestEmergency, ask(f.caseD2)), "RATE_LIMITED", "")

		// Asked all at once, the bound still holds: the requests of one
		// person are taken one at a time.
		prosecutor := e.tok(t, "prosecution-durres", viewer.RoleProsecutor)
		const asks = casework.MaxEmergencyGrantsPerDay + 4
		codes := make([]string, asks)
		var wg sync.WaitGroup
		for i := range asks {
			wg.Go(func() {
				r := e.do(t, prosecutor, requestEmergency, ask(f.caseD))
				codes[i] = "OK"
				if len(r.Errors) > 0 {
					codes[i] = r.Errors[0].Code()
				}
			})
		}
		wg.Wait()
		granted, limited := 0, 0
		for _, c := range codes {
			switch c {
			case "OK":
				granted++
			case "RATE_LIMITED":
				limited++
			}
		}
		if granted != casework.MaxEmergencyGrantsPerDay || limited != asks-granted {
			t.Errorf("%d requests at once: %v; want %d granted and the rest RATE_LIMITED", asks, codes, casework.MaxEmergencyGrantsPerDay)
		}
	})
}
