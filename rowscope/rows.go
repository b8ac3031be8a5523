package rowscope

// The row predicates of cases and victims at each level, and of the
// records that hang off them. Each is a function of the Scope alone: the
// table in policy.go names, for every entity, which of them it uses.

import (
	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/casevictim"
	"github.com/casegraph/casegraph/ent/emergencygrant"
	"github.com/casegraph/casegraph/ent/predicate"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/ent/supportservice"
	"github.com/casegraph/casegraph/ent/victim"
)

// none is a predicate no row satisfies.
func none(s *sql.Selector) { s.Where(sql.False()) }

// CaseWorkedOnBy is the one definition of "agencyID works on this case": it
// leads the case, is assigned to it, or is the prosecution office of one of
// its proceedings. The row rules, the access conditions of sensitive
// fields, casework's checks and the audit scope of a data protection
// officer all use it.
func CaseWorkedOnBy(agencyID int) predicate.CaseFile {
	return func(s *sql.Selector) {
		s.Where(workedOn(agencyID, s.C(casefile.FieldID), s.C(casefile.FieldLeadAgencyID)))
	}
}

// workedOn is CaseWorkedOnBy over the columns of a case's id and lead
// agency, wherever the case's table stands in a statement. The agency's
// assignments and proceedings are uncorrelated subqueries on their indexed
// agency columns, computed once per statement: correlated EXISTS made
// SQLite scan an agency's proceedings once per case (a second to count
// 2,700 cases).
func workedOn(agencyID int, caseID, leadAgencyID string) *sql.Predicate {
	ca := sql.Table(caseassignment.Table).As("scope_case_ca")
	pr := sql.Table(prosecution.Table).As("scope_case_pr")
	return sql.Or(
		sql.EQ(leadAgencyID, agencyID),
		sql.In(caseID, sql.Select(ca.C(caseassignment.FieldCaseID)).From(ca).
			Where(sql.EQ(ca.C(caseassignment.FieldAgencyID), agencyID))),
		sql.In(caseID, sql.Select(pr.C(prosecution.FieldCaseID)).From(pr).
			Where(sql.EQ(pr.C(prosecution.FieldOfficeID), agencyID))),
	)
}

// caseWorkedOn is CaseWorkedOnBy for s: the set read once for the request
// when the statement may use it, the subqueries otherwise.
func (s *Scope) caseWorkedOn(caseID, leadAgencyID string) *sql.Predicate {
	if s.caseIDs != nil {
		return InIDs(caseID, *s.caseIDs)
	}
	return workedOn(s.AgencyID, caseID, leadAgencyID)
}

// caseRows is the row predicate of cases for s, or nil for all.
func caseRows(s *Scope) func(*sql.Selector) {
	worked := func(sel *sql.Selector) {
		sel.Where(s.caseWorkedOn(sel.C(casefile.FieldID), sel.C(casefile.FieldLeadAgencyID)))
	}
	switch s.Cases {
	case All:
		return nil
	case Region:
		if s.Region != nil {
			return casefile.Or(casefile.RegionEQ(*s.Region), worked)
		}
		return worked
	case Assigned:
		return worked
	}
	return none
}

// victimInCaseWorkedOnBy: the victim is in a case agencyID works on.
// Written as a correlated EXISTS over case_victims (indexed by victim)
// rather than ent's IN over every such victim, which PostgreSQL cannot
// combine well with the OR of a regional scope. Inside it, the case is
// tested by workedOn's uncorrelated subqueries: counting the victims of
// each of the 70 demo agencies at scale 10 took 29.6 s on SQLite and 3.6 s
// on PostgreSQL, against 34.1 s and 4.2 s with correlated EXISTS there.
//
// With the set read once for the request, the case is tested on the link
// alone, without joining the case.
func victimInCaseWorkedOnBy(sc *Scope) func(*sql.Selector) {
	return func(s *sql.Selector) {
		cv := sql.Table(casevictim.Table).As("scope_cv")
		inCase := sql.Select(cv.C(casevictim.FieldCaseID)).From(cv)
		var worked *sql.Predicate
		if sc.caseIDs != nil {
			worked = InIDs(cv.C(casevictim.FieldCaseID), *sc.caseIDs)
		} else {
			cf := sql.Table(casefile.Table).As("scope_cf")
			inCase.Join(cf).On(cv.C(casevictim.FieldCaseID), cf.C(casefile.FieldID))
			worked = workedOn(sc.AgencyID, cf.C(casefile.FieldID), cf.C(casefile.FieldLeadAgencyID))
		}
		inCase.Where(sql.And(sql.ColumnsEQ(cv.C(casevictim.FieldVictimID), s.C(victim.FieldID)), worked))
		s.Where(sql.Exists(inCase))
	}
}

// victimWorkedWithBy: the victim is in a case agencyID works on, was
// referred to or by the agency, or is supported by it.
func victimWorkedWithBy(s *Scope) func(*sql.Selector) {
	agencyID := s.AgencyID
	return victim.Or(
		victimInCaseWorkedOnBy(s),
		victim.HasReferralsWith(referral.Or(referral.FromAgencyID(agencyID), referral.ToAgencyID(agencyID))),
		victim.HasServicesWith(supportservice.ProviderID(agencyID)),
	)
}

// victimRows is the row predicate of victims for s, or nil for all.
func victimRows(s *Scope) func(*sql.Selector) {
	switch s.Victims {
	case All:
		return nil
	case Region:
		if s.Region != nil {
			return victim.Or(victim.RegionEQ(*s.Region), victimWorkedWithBy(s))
		}
		return victimWorkedWithBy(s)
	case Assigned:
		return victimWorkedWithBy(s)
	}
	return none
}

// through narrows a record to those whose parent (a case, a victim, a
// proceeding) is in the parent's rows: hasParentWith is the record's
// generated Has<Parent>With.
func through[Parent, P ~func(*sql.Selector)](parentRows func(*Scope) func(*sql.Selector), hasParentWith func(...Parent) P) func(*Scope) func(*sql.Selector) {
	return func(s *Scope) func(*sql.Selector) {
		pp := parentRows(s)
		if pp == nil {
			return nil
		}
		return hasParentWith(Parent(pp))
	}
}

// throughOrOwn is through, widened to the records the agency itself is
// party to (own): a proceeding its office registered, a decision of its
// court, a referral from or to it, support it provides. A level of None on
// the parent's side (level) still sees none of them.
func throughOrOwn[Parent, P ~func(*sql.Selector)](parentRows func(*Scope) func(*sql.Selector), level func(*Scope) Level, hasParentWith func(...Parent) P, own ...func(agencyID int) P) func(*Scope) func(*sql.Selector) {
	return func(s *Scope) func(*sql.Selector) {
		pp := parentRows(s)
		if pp == nil {
			return nil
		}
		if level(s) == None {
			return none
		}
		or := []P{hasParentWith(Parent(pp))}
		for _, o := range own {
			or = append(or, o(s.AgencyID))
		}
		return sql.OrPredicates(or...)
	}
}

func casesLevel(s *Scope) Level   { return s.Cases }
func victimsLevel(s *Scope) Level { return s.Victims }

// prosecutionRows: proceedings of visible cases, and those the agency's
// office registered.
var prosecutionRows = throughOrOwn(caseRows, casesLevel, prosecution.HasCaseWith, prosecution.OfficeID)

// grantRows: a principal sees their own emergency grants; a data
// protection officer sees their agency's.
func grantRows(s *Scope) func(*sql.Selector) {
	if s.GrantsOfAgency {
		return emergencygrant.AgencyID(s.AgencyID)
	}
	return emergencygrant.And(emergencygrant.AgencyID(s.AgencyID), emergencygrant.Subject(s.Subject))
}

// everyRow lets every principal see and change every row.
func everyRow(*Scope) func(*sql.Selector) { return nil }
