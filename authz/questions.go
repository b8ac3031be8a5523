package authz

import (
	"context"
	"runtime"

	"golang.org/x/sync/semaphore"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// The questions below are those the policy tools (package policytools:
// the matrix, explain, what-if) ask of the policy about a person who holds
// roles at an agency of a kind. They are answered by the same functions a
// request's decisions use, so the tools cannot disagree with a request.

// RowLevel is the widest level of rows of obj (policies.RowsCases or
// policies.RowsVictims) that any of roles may see.
func (e *Enforcer) RowLevel(roles []viewer.Role, kind domain.AgencyKind, obj string) rowscope.Level {
	return e.rowLevel(&viewer.Principal{Roles: roles}, string(kind), obj)
}

// Allows reports whether any of roles has a line letting it act on obj
// without condition (a field write, statistics read). Whether they may
// make a call or use a power is MayCall's and MayUsePower's to say: a
// call may need a power besides its line.
func (e *Enforcer) Allows(roles []viewer.Role, kind domain.AgencyKind, obj, act string) bool {
	return e.allows(&viewer.Principal{Roles: roles}, string(kind), obj, act)
}

// MayCall reports whether a person holding roles at kind may call
// mutation: its call line and, for a mutation that needs one, the power
// (the check the mutation guard makes, callRefusal).
func (e *Enforcer) MayCall(roles []viewer.Role, kind domain.AgencyKind, mutation string) bool {
	return e.callRefusal(&viewer.Principal{Roles: roles}, string(kind), mutation) == nil
}

// MayUsePower reports whether a person holding roles at kind may use the
// power of act on obj: holds it, and, for a power a mutation needs, may
// make that call (usesPower, as @allowed and the mutations ask it).
func (e *Enforcer) MayUsePower(roles []viewer.Role, kind domain.AgencyKind, obj, act string) bool {
	return e.usesPower(&viewer.Principal{Roles: roles}, string(kind), obj, act)
}

// ReadConditions lists the conditions under which any of roles may read
// field, with the roles that may read it under each, their lines and
// purposes (readers: the model a request decides by).
func (e *Enforcer) ReadConditions(roles []viewer.Role, kind domain.AgencyKind, field string) map[string][]Reader {
	return e.readers(&viewer.Principal{Roles: roles}, string(kind), field)
}

// MayRequestEmergency reports whether a person holding roles may ask for
// emergency access at kind: the check Request.CanRequestEmergency makes,
// which also decides whether a grant already given still opens anything.
func (e *Enforcer) MayRequestEmergency(roles []viewer.Role, kind domain.AgencyKind) bool {
	return e.mayRequestEmergency(&viewer.Principal{Roles: roles}, string(kind))
}

// StatisticsControlOf is how statistics protect counts of people from a
// person holding roles at kind, as a request's statistics are protected
// (Enforcer.StatisticsControl): exact, or the threshold k a line gives, 0
// when none does (statistics.DefaultThreshold then applies). Whether the
// roles read statistics at all is for the caller to ask.
func (e *Enforcer) StatisticsControlOf(roles []viewer.Role, kind domain.AgencyKind) (k int, exact bool) {
	return e.statisticsControl(&viewer.Principal{Roles: roles}, string(kind))
}

// Families returns the policy's families of agency kinds (its g2 lines):
// family name → the kinds in it, in the order of the lines.
func (e *Enforcer) Families() map[string][]domain.AgencyKind {
	lines, _ := e.policy.Load().casbin.GetNamedGroupingPolicy(policies.PtypeG2)
	out := map[string][]domain.AgencyKind{}
	for _, l := range lines {
		if len(l) == 2 {
			out[l[1]] = append(out[l[1]], domain.AgencyKind(l[0]))
		}
	}
	return out
}

// ConsentRequired reports whether reading a field of category (e.g.
// "Victim:HEALTH") under condition cond also needs a current consent of the
// victim naming the caller's agency kind and purpose: for the identity,
// contact, health and testimony of victims (and of their support
// services), except under the proceedings condition, where the criminal
// proceeding is the legal basis. It is the rule ReadField applies.
func ConsentRequired(category, cond string) bool { return policies.ConsentRequired(category, cond) }

// NewInMemory builds an enforcer over lines held in memory, with the
// vocabulary's grouping of fields under categories, as New does over the
// database: what a policy would decide, without touching the one in force.
// It has no client: it only answers Decide and the questions above.
func NewInMemory(lines []policies.Line, vocab policies.Vocabulary) (*Enforcer, error) {
	lp, err := loadPolicy(StoredPolicy{Lines: lines}, vocab)
	if err != nil {
		return nil, err
	}
	return decidingBy(lp, vocab), nil
}

// InMemorySlot runs work holding one of the slots of the policies built
// in memory that are not the server's own: what-if's, before and after
// its change (package policytools), and the version a policy tool's
// request read when this server has loaded a newer one since (At). Such
// a build is casbin over a whole policy, and a matrix asked of it a pass
// of casbin a cell (a what-if of 500 lines, two matrices, took 7 s of
// CPU): more at once than there are CPUs only slow every request down, and
// each holds its policies' memory. Work waits for a slot until ctx is
// done and then returns ctx's error (UNAVAILABLE over GraphQL, as any
// request's end), so a busy server answers as its deadline does and a
// request whose client left stops waiting. One rule for both since
// 2026-12-07 (twenty-first session): until then only what-ifs took a
// slot, and At built its version in memory however many were building.
func InMemorySlot(ctx context.Context, work func() error) error {
	if err := inMemoryBuilds.Acquire(ctx, 1); err != nil {
		return err
	}
	defer inMemoryBuilds.Release(1)
	return work()
}

// inMemoryBuilds holds a slot for each work over policies built in
// memory (InMemorySlot): one per CPU.
var inMemoryBuilds = semaphore.NewWeighted(int64(runtime.GOMAXPROCS(0)))
