package statistics_test

import (
	"testing"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestUnknownAgencyCodeRefused: a filter by office or court names agencies
// by their registry code. A code the registry does not have (a typo, a
// code in capitals) matched no row, and a dashboard drew a believable 0
// proceedings for an office that has dozens (twenty-seventh session,
// 2026-12-08). It is BAD_USER_INPUT naming the filter and the code; the
// registry is every caller's to list (agencies), so the refusal tells
// nothing a caller could not read.
func TestUnknownAgencyCodeRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		coordinator := s.Token(t, "onac", viewer.RoleCoordinator)
		for _, tc := range []struct{ name, doc, field string }{
			{"office in capitals", `{ prosecutionStatistics(where: {office: ["Prosecution-Tirane"]}) { total { count } } }`, "where.office"},
			{"one of two unknown", `{ prosecutionMeasures(where: {office: ["prosecution-tirane", "prosecution-nowhere"]}) { total { registered } } }`, "where.office"},
			{"trial requests", `{ trialRequestStatistics(where: {office: [" prosecution-tirane"]}) { total { count } } }`, "where.office"},
			{"court", `{ decisionStatistics(where: {court: ["court-tiranee"]}) { total { count } } }`, "where.court"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				testserver.WantRefusal(t, s.Do(t, coordinator, tc.doc, nil), testserver.Want{Code: string(apperr.BadUserInput), Field: tc.field})
			})
		}
		t.Run("known codes answer", func(t *testing.T) {
			s.Do(t, coordinator, `{ prosecutionStatistics(where: {office: ["prosecution-tirane", "spak"]}) { total { count } }
				decisionStatistics(where: {court: ["court-tirane"]}) { total { count } } }`, nil).MustOK(t)
		})
	})
}
