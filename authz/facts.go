package authz

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/casevictim"
	"github.com/casegraph/casegraph/ent/courtdecision"
	"github.com/casegraph/casegraph/ent/predicate"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/supportservice"
	"github.com/casegraph/casegraph/ent/suspect"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// facts answers, for one request, the questions field conditions ask about
// rows: is this victim in one of the agency's cases, in its criminal
// proceedings, referred to it; what did they consent to; is there an
// emergency grant. Each question is one query per batch of rows, asked
// only when a condition needs it, with system rights (the facts are about
// rows the principal already sees).
type facts struct {
	client  *ent.Client
	dialect string
	p       *viewer.Principal
	agency  *ent.Agency

	seen seen

	// victims is every fact about a victim, fetched for all the victims
	// seen so far in one statement (victimFactsOf).
	victims                     *prefetch[victimFacts]
	caseOnCase, caseProceedings *prefetch[bool]
	victimEmergency             *prefetch[*ent.EmergencyGrant]
	// suspectCase and serviceRow find the columns a row was loaded
	// without (ent loads a shared-table edge such as
	// Prosecution.defendants under its parent's selection).
	suspectCase *prefetch[int]
	serviceRow  *prefetch[row]

	grantsOnce sync.Once
	grants     []*ent.EmergencyGrant
	grantsErr  error
}

// row is what the conditions need to know of the object a field belongs to.
type row struct {
	victimID   int // 0 for a suspect
	caseID     int // a suspect's case
	providerID int // a support service's provider
}

func (f *facts) rowOf(ctx context.Context, obj any) (row, error) {
	switch o := obj.(type) {
	case *ent.Victim:
		return row{victimID: o.ID}, nil
	case *ent.SupportService:
		if o.VictimID == 0 {
			return f.serviceRow.Load(ctx, o.ID)
		}
		return row{victimID: o.VictimID, providerID: o.ProviderID}, nil
	case *ent.Consent:
		// Every query of consents selects their victim (observe), and no
		// edge loads them under another table's selection.
		if o.VictimID == 0 {
			return row{}, fmt.Errorf("consent %d was loaded without its victim", o.ID)
		}
		return row{victimID: o.VictimID}, nil
	case *ent.Suspect:
		if o.CaseID == 0 {
			caseID, err := f.suspectCase.Load(ctx, o.ID)
			return row{caseID: caseID}, err
		}
		return row{caseID: o.CaseID}, nil
	}
	return row{}, fmt.Errorf("no access conditions for %T", obj)
}

func newFacts(client *ent.Client, dialectName string, p *viewer.Principal, agency *ent.Agency) *facts {
	f := &facts{client: client, dialect: dialectName, p: p, agency: agency}
	db := f.db
	a := agency.ID
	assigned := rowscope.CaseWorkedOnBy(a)
	proceedings := InProceedingsOf(a)
	casesIn := func(cases predicate.CaseFile) func(context.Context, []int) (map[int]bool, error) {
		return func(ctx context.Context, ids []int) (map[int]bool, error) {
			found, err := db(ctx).CaseFile.Query().Where(casefile.IDIn(ids...), cases).IDs(viewer.SystemContext(ctx))
			return set(found), err
		}
	}
	victims, cases := f.seen.victimIDs, f.seen.caseIDs
	f.victims = newPrefetch(victims, f.victimFactsOf)
	f.caseOnCase = newPrefetch(cases, casesIn(assigned))
	f.caseProceedings = newPrefetch(cases, casesIn(proceedings))
	f.suspectCase = newPrefetch(f.seen.suspectIDs, func(ctx context.Context, ids []int) (map[int]int, error) {
		rows, err := db(ctx).Suspect.Query().Where(suspect.IDIn(ids...)).
			Select(suspect.FieldID, suspect.FieldCaseID).All(viewer.SystemContext(ctx))
		out := make(map[int]int, len(rows))
		for _, r := range rows {
			out[r.ID] = r.CaseID
			f.seen.addCase(r.CaseID)
		}
		return out, err
	})
	f.serviceRow = newPrefetch(f.seen.serviceIDs, func(ctx context.Context, ids []int) (map[int]row, error) {
		rows, err := db(ctx).SupportService.Query().Where(supportservice.IDIn(ids...)).
			Select(supportservice.FieldID, supportservice.FieldVictimID, supportservice.FieldProviderID).
			All(viewer.SystemContext(ctx))
		out := make(map[int]row, len(rows))
		for _, r := range rows {
			out[r.ID] = row{victimID: r.VictimID, providerID: r.ProviderID}
			f.seen.addVictim(r.VictimID)
		}
		return out, err
	})
	f.victimEmergency = newPrefetch(victims, func(ctx context.Context, ids []int) (map[int]*ent.EmergencyGrant, error) {
		grants, err := f.activeGrants(ctx)
		if err != nil || len(grants) == 0 {
			return map[int]*ent.EmergencyGrant{}, err
		}
		// A grant covers the victims that were in its case when it was
		// granted, not those linked to the case afterwards.
		covered := make([]predicate.CaseVictim, len(grants))
		for i, g := range grants {
			covered[i] = casevictim.And(casevictim.CaseID(g.CaseID), casevictim.LinkedAtLTE(g.GrantedAt))
		}
		links, err := db(ctx).CaseVictim.Query().
			Where(casevictim.VictimIDIn(ids...), casevictim.Or(covered...)).
			Select(casevictim.FieldVictimID, casevictim.FieldCaseID, casevictim.FieldLinkedAt).All(viewer.SystemContext(ctx))
		out := map[int]*ent.EmergencyGrant{}
		for _, l := range links {
			for _, g := range grants {
				if g.CaseID == l.CaseID && !l.LinkedAt.After(g.GrantedAt) {
					out[l.VictimID] = g
					break
				}
			}
		}
		return out, err
	})
	return f
}

// InProceedingsOf is "agencyID takes part in the case's criminal
// proceedings": it prosecutes or adjudicates it as an assigned party, its
// office registered one of its proceedings, or its court decided in one.
// It is the policy's "proceedings" condition, and casework asks it of an
// agency that would give that standing to another (requireMayGivePart):
// the one definition of both.
func InProceedingsOf(agencyID int) predicate.CaseFile {
	return casefile.Or(
		casefile.HasAssignmentsWith(caseassignment.AgencyID(agencyID),
			caseassignment.PartIn(domain.LegalBasisParts()...)),
		casefile.HasProsecutionsWith(prosecution.Or(
			prosecution.OfficeID(agencyID),
			prosecution.HasDecisionsWith(courtdecision.CourtID(agencyID)),
		)),
	)
}

// db is the client facts are read with: in a mutation, its transaction,
// so that the checks of its payload see what it just did (a victim linked
// to the caller's case in the same mutation); otherwise the server's.
func (f *facts) db(ctx context.Context) *ent.Client {
	if tx := ent.TxFromContext(ctx); tx != nil {
		return tx.Client()
	}
	return f.client
}

func set(ids []int) map[int]bool {
	m := make(map[int]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// load returns the answer for id.
func load(ctx context.Context, l *prefetch[bool], id int) (bool, error) {
	return l.Load(ctx, id)
}

// holds reports whether condition c holds for r.
func (f *facts) holds(ctx context.Context, c string, r row) (bool, error) {
	switch c {
	case policies.Any:
		return true, nil
	case policies.OnCase:
		if r.victimID == 0 {
			return load(ctx, f.caseOnCase, r.caseID)
		}
		v, err := f.victims.Load(ctx, r.victimID)
		return v.onCase, err
	case policies.Proceedings:
		if r.victimID == 0 {
			return load(ctx, f.caseProceedings, r.caseID)
		}
		v, err := f.victims.Load(ctx, r.victimID)
		return v.proceedings, err
	case policies.Referred:
		if r.victimID == 0 {
			return false, nil
		}
		v, err := f.victims.Load(ctx, r.victimID)
		return v.referred, err
	}
	return false, nil
}

// consented reports whether a current consent of r's victim covers
// agencies of kind for one of purposes.
func (f *facts) consented(ctx context.Context, r row, kind domain.AgencyKind, purposes []domain.ConsentPurpose) (bool, error) {
	if r.victimID == 0 {
		return true, nil
	}
	v, err := f.victims.Load(ctx, r.victimID)
	if err != nil {
		return false, err
	}
	for _, c := range v.consents {
		if !slices.Contains(c.AgencyKinds, kind) {
			continue
		}
		for _, pu := range purposes {
			if slices.Contains(c.Purposes, pu) {
				return true, nil
			}
		}
	}
	return false, nil
}

func (f *facts) activeGrants(ctx context.Context) ([]*ent.EmergencyGrant, error) {
	f.grantsOnce.Do(func() { f.grants, f.grantsErr = activeGrantCases(ctx, f.db(ctx), f.p) })
	return f.grants, f.grantsErr
}

// emergency returns the principal's active emergency grant that covers r,
// or nil.
func (f *facts) emergency(ctx context.Context, r row) (*ent.EmergencyGrant, error) {
	if r.victimID != 0 {
		// The victim's facts say whether they are in a case of an active
		// grant; which grant covers them (and whether they were linked to
		// the case before it was granted) is asked only then.
		v, err := f.victims.Load(ctx, r.victimID)
		if err != nil || !v.inGrantedCase {
			return nil, err
		}
		return f.victimEmergency.Load(ctx, r.victimID)
	}
	grants, err := f.activeGrants(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		if g.CaseID == r.caseID {
			return g, nil
		}
	}
	return nil, nil
}
