package rowscope

// The row predicates of cases and victims at each level, and of the
// records that hang off them. Each is a function of the Scope alone: the
// table in policy.go names, for every entity, which of them it uses.

import (
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/caseevent"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/casevictim"
	"github.com/casegraph/casegraph/ent/consent"
	"github.com/casegraph/casegraph/ent/emergencygrant"
	"github.com/casegraph/casegraph/ent/migrate"
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
	return func(s *sql.Selector) { s.Where(CaseIDWorkedOnBy(agencyID, s.C(casefile.FieldID))) }
}

// CaseWorkedOnTable is the standing table of the cases each agency works
// on: one row (agency_id, case_id, via, source_id) for each reason, kept
// by database triggers in the transaction of the write that gives or takes
// the reason (migrations/*/20261204100000_case_work.sql). Its rows are the
// three reasons of CaseWorkedOnBy; TestCaseWorkFollowsEveryWrite holds it
// to them.
const CaseWorkedOnTable = "case_work"

// CaseIDWorkedOnBy is CaseWorkedOnBy over the column of a case's id,
// wherever the case's table stands in a statement: the agency has a row
// for the case in the standing table, a correlated EXISTS, one probe of
// the table's (agency_id, case_id) index for each row tested.
//
// On PostgreSQL the probe is fenced with OFFSET 0 so that the planner
// keeps it a probe: without the fence it hashes every case of the agency
// first, once per statement, or (nested in a proceeding's or a charge's
// "is its case visible") every visible case, and a page of 50 cases of a
// large agency took 4 to 7 ms a level instead of under one. On SQLite an
// uncorrelated IN, read once per statement, took 5 to 20 ms a level where
// the probe takes under one (docs/performance.md).
func CaseIDWorkedOnBy(agencyID int, caseID string) *sql.Predicate {
	return sql.P(func(b *sql.Builder) {
		d := sql.Dialect(b.Dialect())
		w := d.Table(CaseWorkedOnTable).As("scope_work")
		probe := d.Select(w.C("case_id")).From(w).Where(sql.And(
			sql.EQ(w.C("agency_id"), agencyID), sql.ColumnsEQ(w.C("case_id"), caseID)))
		b.WriteString("EXISTS (").Join(probe)
		if b.Dialect() == dialect.Postgres {
			b.WriteString(" OFFSET 0")
		}
		b.WriteString(")")
	})
}

// caseRows is the row predicate of cases for s, or nil for all.
func caseRows(s *Scope) func(*sql.Selector) {
	worked := CaseWorkedOnBy(s.AgencyID)
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

// victimInCaseWorkedOnBy: the victim is in a case agencyID works on, a
// correlated EXISTS over case_victims (indexed by victim) rather than
// ent's IN over every such victim, which PostgreSQL cannot combine well
// with the OR of a regional scope. The case is tested on the link alone.
func victimInCaseWorkedOnBy(sc *Scope) func(*sql.Selector) {
	return func(s *sql.Selector) {
		cv := sql.Table(casevictim.Table).As("scope_cv")
		s.Where(sql.Exists(sql.Select(cv.C(casevictim.FieldCaseID)).From(cv).Where(sql.And(
			sql.ColumnsEQ(cv.C(casevictim.FieldVictimID), s.C(victim.FieldID)),
			CaseIDWorkedOnBy(sc.AgencyID, cv.C(casevictim.FieldCaseID)),
		))))
	}
}

// victimWorkedWithBy: the victim is in a case agencyID works on, was
// referred to or by the agency, or is supported by it.
func victimWorkedWithBy(s *Scope) func(*sql.Selector) {
	return victimTiedTo(s, referral.ToAgencyID(s.AgencyID))
}

// victimTiedTo: the victim is in a case s's agency works on, was referred
// by it or (referredTo) to it, or is supported by it.
func victimTiedTo(s *Scope, referredTo predicate.Referral) func(*sql.Selector) {
	return victim.Or(
		victimInCaseWorkedOnBy(s),
		victim.HasReferralsWith(referral.Or(referral.FromAgencyID(s.AgencyID), referredTo)),
		victim.HasServicesWith(supportservice.ProviderID(s.AgencyID)),
	)
}

// victimRows is the row predicate of victims for s, or nil for all.
func victimRows(s *Scope) func(*sql.Selector) {
	return victimsAtLevel(s, victimWorkedWithBy(s))
}

// VictimStanding is the predicate of the victims s's agency may write
// about, or nil for all: its victim rows, but for a referral to the agency
// that it has not accepted (pending, rejected, revoked). The agency sees
// such a victim, to decide the referral, and wrote about them as well: a
// hunt over HTTP renamed a victim and withdrew another agency's consent
// after rejecting the referral. Standing is given, not taken.
func VictimStanding(s *Scope) func(*sql.Selector) {
	return victimsAtLevel(s, victimTiedTo(s, referral.And(referral.ToAgencyID(s.AgencyID),
		referral.StatusIn(domain.ReferralStatusAccepted, domain.ReferralStatusCompleted))))
}

// victimsAtLevel is the victims of s's level: all (nil), the region's and
// those tied to the agency, or those tied to it alone.
func victimsAtLevel(s *Scope, tied func(*sql.Selector)) func(*sql.Selector) {
	switch s.Victims {
	case All:
		return nil
	case Region:
		if s.Region != nil {
			return victim.Or(victim.RegionEQ(*s.Region), tied)
		}
		return tied
	case Assigned:
		return tied
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

// The records of a victim: those of visible victims, and a referral or
// support the agency itself is party to.
var (
	referralRows = throughOrOwn(victimRows, victimsLevel, referral.HasVictimWith, referral.FromAgencyID, referral.ToAgencyID)
	supportRows  = throughOrOwn(victimRows, victimsLevel, supportservice.HasVictimWith, supportservice.ProviderID)
	consentRows  = through(victimRows, consent.HasVictimWith)
)

// caseEventRows: the timeline of a visible case, without the entries about
// a victim the scope does not see (a victim linked, a referral of theirs
// for medical care created): an entry names its subject and says what
// happened to it.
func caseEventRows(s *Scope) func(*sql.Selector) {
	inCase := through(caseRows, caseevent.HasCaseWith)(s)
	victims := victimRows(s)
	if victims == nil {
		return inCase
	}
	return func(sel *sql.Selector) {
		if inCase != nil {
			inCase(sel)
		}
		victimSeen(victims)(sel)
	}
}

// victimSeen: the entry concerns no victim, or one in rows. Its writer
// (casework's timeline helper) stores the victim it concerns in
// subject_victim_id: the subject itself, or the victim of the referral,
// support service or consent that is the subject. The check is one probe of
// the victim's primary key; reading the victim from the subject's global
// id at read time instead cost PostgreSQL 3–5 ms of planning a timeline
// statement (docs/row-scope.md).
func victimSeen(rows func(*sql.Selector)) func(*sql.Selector) {
	return func(s *sql.Selector) {
		v := sql.Table(victim.Table).As("entry_victim")
		seen := sql.Select(v.C(victim.FieldID)).From(v).
			Where(sql.ColumnsEQ(v.C(victim.FieldID), s.C(caseevent.FieldSubjectVictimID)))
		rows(seen)
		// An entry of a kind about a victim that lacks its victim (written
		// by a binary older than the column, or by mistake) fails closed.
		aboutAVictim := make([]any, 0, 8)
		for _, k := range domain.CaseEventKindsAboutAVictim() {
			aboutAVictim = append(aboutAVictim, k)
		}
		s.Where(sql.Or(
			sql.And(sql.IsNull(s.C(caseevent.FieldSubjectVictimID)), sql.NotIn(s.C(caseevent.FieldKind), aboutAVictim...)),
			sql.Exists(seen),
		))
	}
}

// idStart is where table's range of global ids starts (ent's
// IncrementStart; each range is 2^32 ids).
func idStart(table string) (int64, bool) {
	for _, t := range migrate.Tables {
		if t.Name == table && t.Annotation != nil && t.Annotation.IncrementStart != nil {
			return int64(*t.Annotation.IncrementStart), true
		}
	}
	return 0, false
}

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
