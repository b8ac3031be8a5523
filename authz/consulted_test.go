package authz_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/viewer"
)

// TestConsultedFieldsWhenTheTrailFails: the date of birth that decides
// whether a victim consents alone is recorded as read by the caller
// (TestAbuseAgeOracle). When that record cannot be written, the answer
// does not tell the date either: consents given before and after the
// 16th birthday answer alike, AUDIT_UNAVAILABLE, and neither is made. When
// only the change's record fails (its transaction's write), the read is
// still written after the response.
func TestConsultedFieldsWhenTheTrailFails(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		today := time.Now().UTC().Truncate(24 * time.Hour)
		sixteen := today.AddDate(0, 0, -30)
		dob := sixteen.AddDate(-16, 0, 0)
		before, after := sixteen.AddDate(0, 0, -10), sixteen.AddDate(0, 0, 10)
		v := abuseVictim(t, e.db.Client, f, "V-2026-0191", domain.AgeGroupAdult, &dob, nil, time.Time{}, f.caseD)
		consentIn := func(at time.Time) map[string]any {
			return map[string]any{"agencyKinds": []string{"NGO_SHELTER"}, "purposes": []string{"SERVICES"},
				"givenBy": "VICTIM", "givenAt": at.Format(time.RFC3339), "victimID": gid(v)}
		}
		// prosecution-durres prosecutes caseD: it reads the date of birth.
		prosecutor := e.tok(t, "prosecution-durres", viewer.RoleProsecutor)

		t.Run("TrailDown", func(t *testing.T) {
			rows := counts(t, e.db.Client)
			mend := breakAuditWrites(t, e.db)
			var bodies []string
			for _, at := range []time.Time{before, after} {
				r := e.do(t, prosecutor, recordConsent, map[string]any{"in": consentIn(at)})
				body := strings.ReplaceAll(string(r.Body), r.Header.Get("X-Request-Id"), "ID")
				if !slices.Equal(r.Codes(), []string{"AUDIT_UNAVAILABLE"}) || strings.Contains(body, "16") {
					t.Errorf("givenAt %s: want only AUDIT_UNAVAILABLE and nothing about the age:\n%s", at.Format(time.DateOnly), body)
				}
				bodies = append(bodies, body)
			}
			mend()
			if bodies[0] != bodies[1] {
				t.Errorf("the answers before and after the birthday differ:\n%s\n%s", bodies[0], bodies[1])
			}
			unchanged(t, e.db.Client, rows)
		})

		t.Run("ChangeRecordFails", func(t *testing.T) {
			if e.db.Dialect != "postgres" {
				t.Skip("a trigger refusing only MUTATION events: written for PostgreSQL")
			}
			for _, s := range []string{
				`CREATE FUNCTION mutation_events_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.kind = 'MUTATION' THEN RAISE EXCEPTION 'mutation events fail'; END IF; RETURN NEW; END; $$`,
				`CREATE TRIGGER mutation_events_fail BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION mutation_events_fail()`,
			} {
				if _, err := e.db.SQL.ExecContext(t.Context(), s); err != nil {
					t.Fatal(err)
				}
			}
			r := e.do(t, prosecutor, recordConsent, map[string]any{"in": consentIn(after)})
			for _, s := range []string{`DROP TRIGGER mutation_events_fail ON audit_events`, `DROP FUNCTION mutation_events_fail()`} {
				if _, err := e.db.SQL.ExecContext(t.Context(), s); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(r.Codes(), []string{"AUDIT_UNAVAILABLE"}) {
				t.Fatalf("want AUDIT_UNAVAILABLE, the consent not made:\n%s", r.Body)
			}
			events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if _, ok := findEvent(events, func(ev audit.Event) bool {
				return ev.Kind == audit.FieldAccess && ev.Decision == audit.Allowed && ev.EntityID == v && slices.Contains(ev.Fields, "Victim.dateOfBirth")
			}); !ok {
				t.Errorf("the date of birth consulted is not recorded although reads could be written:\n%s", dump(events))
			}
		})
	})
}
