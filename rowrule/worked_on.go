package rowrule

import (
	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/ent/caseevent"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/charge"
	"github.com/casegraph/casegraph/ent/consent"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/ent/supportservice"
	"github.com/casegraph/casegraph/ent/suspect"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/rowscope"
)

// WorkedOnBy returns, for each GraphQL type of record, a subquery of the
// ids of the records agencyID works on: the rows it would see at the
// assigned level, by the very predicates that scope its requests (cases it
// leads, is assigned to or prosecutes; their victims and everything hung
// off them; victims referred to or by it or supported by it). The audit
// trail uses it to show a data protection officer the events about their
// agency's records.
func WorkedOnBy(agencyID int) map[string]*sql.Selector {
	s := &rowscope.Scope{AgencyID: agencyID, Cases: rowscope.Assigned, Victims: rowscope.Assigned}
	ids := func(table string, p func(*sql.Selector)) *sql.Selector {
		t := sql.Table(table)
		sel := sql.Select(t.C("id")).From(t)
		p(sel)
		return sel
	}
	return map[string]*sql.Selector{
		"Case":           ids(casefile.Table, casePredicate(s)),
		"Victim":         ids(victim.Table, victimPredicate(s)),
		"Suspect":        ids(suspect.Table, viaCase(s, suspect.HasCaseWith)),
		"CaseAssignment": ids(caseassignment.Table, viaCase(s, caseassignment.HasCaseWith)),
		"CaseEvent":      ids(caseevent.Table, viaCase(s, caseevent.HasCaseWith)),
		"Prosecution":    ids(prosecution.Table, prosecutionPredicate(s)),
		"Charge":         ids(charge.Table, chargePredicate(s)),
		"CourtDecision":  ids(courtdecision.Table, courtDecisionPredicate(s)),
		"Referral":       ids(referral.Table, referralPredicate(s)),
		"SupportService": ids(supportservice.Table, supportPredicate(s)),
		"Consent":        ids(consent.Table, viaVictim(s, consent.HasVictimWith)),
	}
}
