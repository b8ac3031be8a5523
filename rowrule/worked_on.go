package rowrule

import (
	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/ent/caseevent"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/charge"
	"github.com/casegraph/casegraph/ent/consent"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/migrate"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/ent/supportservice"
	"github.com/casegraph/casegraph/ent/suspect"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/rowscope"
)

// recordTypes are the types of record an agency works on, by their GraphQL
// names, with their tables and the predicates that scope them.
var recordTypes = []struct {
	typ, table string
	scoped     func(*rowscope.Scope) func(*sql.Selector)
}{
	{"Case", casefile.Table, casePredicate},
	{"Victim", victim.Table, victimPredicate},
	{"Suspect", suspect.Table, func(s *rowscope.Scope) func(*sql.Selector) { return viaCase(s, suspect.HasCaseWith) }},
	{"CaseAssignment", caseassignment.Table, func(s *rowscope.Scope) func(*sql.Selector) { return viaCase(s, caseassignment.HasCaseWith) }},
	{"CaseEvent", caseevent.Table, func(s *rowscope.Scope) func(*sql.Selector) { return viaCase(s, caseevent.HasCaseWith) }},
	{"Prosecution", prosecution.Table, prosecutionPredicate},
	{"Charge", charge.Table, chargePredicate},
	{"CourtDecision", courtdecision.Table, courtDecisionPredicate},
	{"Referral", referral.Table, referralPredicate},
	{"SupportService", supportservice.Table, supportPredicate},
	{"Consent", consent.Table, func(s *rowscope.Scope) func(*sql.Selector) { return viaVictim(s, consent.HasVictimWith) }},
}

// WorkedOnBy returns subqueries of the ids of the records agencyID works
// on, one per type of record: the rows it would see at the assigned level,
// by the very predicates that scope its requests (cases it leads, is
// assigned to or prosecutes; their victims and everything hung off them;
// victims referred to or by it or supported by it). Ids are global (each
// table has its own range), so an id alone names the record. The audit
// trail uses it to show a data protection officer the events about their
// agency's records.
func WorkedOnBy(agencyID int) []*sql.Selector {
	s := &rowscope.Scope{AgencyID: agencyID, Cases: rowscope.Assigned, Victims: rowscope.Assigned}
	out := make([]*sql.Selector, len(recordTypes))
	for i, rt := range recordTypes {
		t := sql.Table(rt.table)
		out[i] = sql.Select(t.C("id")).From(t)
		rt.scoped(s)(out[i])
	}
	return out
}

// TypeOfID names the type of record id belongs to, from the id ranges of
// the tables (ent's global ids), without asking the database; "" for an
// id outside the types of recordTypes.
func TypeOfID(id int) string {
	for _, t := range migrate.Tables {
		if t.Annotation == nil || t.Annotation.IncrementStart == nil || id>>32 != *t.Annotation.IncrementStart>>32 {
			continue
		}
		for _, rt := range recordTypes {
			if rt.table == t.Name {
				return rt.typ
			}
		}
	}
	return ""
}
