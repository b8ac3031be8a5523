// Package authz decides, with casbin, what each principal may see and do:
// which rows (a scope that ent's privacy rules turn into SQL), which
// sensitive fields of each row (policy, then the conditions of relation,
// consent and emergency access checked on the row), which mutations, and
// which sensitive fields a mutation may write. The policy lives in the
// database, is seeded from package policies, and every change reaches every
// server (PostgreSQL LISTEN/NOTIFY); a server that cannot confirm its policy
// is current refuses sensitive fields, powers and mutations until it can
// (Follow, docs/policy-propagation.md).
package authz

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/policychange"
	"github.com/casegraph/casegraph/ent/policyrule"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// Enforcer is the policy of one server: casbin over the policy in the
// database, with decisions cached until the policy changes.
type Enforcer struct {
	// policy is the policy in force, with the decisions asked of it. A
	// reload puts a new one in its place and never changes one loaded, so
	// that whoever holds one (a decision, a policy tool's answer: At)
	// decides by it alone while the next is loaded, and nobody waits.
	policy atomic.Pointer[loadedPolicy]
	// replaced is the policy the last reload replaced: a policy tool
	// whose request read it just before that reload answers from it, its
	// decisions cached, with no policy built in memory (At).
	replaced atomic.Pointer[loadedPolicy]
	client   *ent.Client
	vocab    policies.Vocabulary

	// reloading takes reloads one at a time, so that the last to load
	// is the last to have read the policy.
	reloading sync.Mutex

	agencies sync.Map // agency id → *ent.Agency

	// dialect decides how a change is announced to other servers.
	dialect string

	// fresh says whether the policy is known to be current (see Follow).
	fresh freshness
	log   atomic.Pointer[slog.Logger] // Follow's logger (see logger)
}

// Decision is casbin's answer to one question, with the policy line that
// allowed it (empty when denied: nothing allows).
type Decision struct {
	Allowed bool
	Rule    []string
}

type decisionKey struct {
	role, kind, obj, act, cond string
}

// loadedPolicy is one policy as casbin loaded it, never changed after:
// its lines and the version they were read at, and the decisions asked of
// it so far.
type loadedPolicy struct {
	casbin *casbin.SyncedEnforcer
	stored StoredPolicy
	cache  sync.Map // decisionKey → Decision
}

// loadPolicy loads p's lines (as read, New and Reload, or held in memory,
// NewInMemory) into casbin, with the grouping of each of vocab's
// sensitive fields under its category.
func loadPolicy(p StoredPolicy, vocab policies.Vocabulary) (*loadedPolicy, error) {
	m, err := model.NewModelFromString(policies.Model)
	if err != nil {
		return nil, fmt.Errorf("policy model: %w", err)
	}
	ce, err := casbin.NewSyncedEnforcer(m, &adapter{fields: vocab.Fields, lines: p.Lines})
	if err != nil {
		return nil, fmt.Errorf("loading policy: %w", err)
	}
	ce.EnableAutoSave(false)
	return &loadedPolicy{casbin: ce, stored: p}, nil
}

// is reports whether lp is p: its version and its lines (a line edited in
// the table by hand changes no version).
func (lp *loadedPolicy) is(p StoredPolicy) bool {
	return lp.stored.Version == p.Version && slices.EqualFunc(lp.stored.Lines, p.Lines, slices.Equal)
}

// New builds the enforcer over client's policy table, seeding it from the
// default policy when it is empty, and validates the policy it loads: an
// unknown role, kind, object, action or condition is an error, not a
// silent deny.
func New(ctx context.Context, client *ent.Client, dialectName string, vocab policies.Vocabulary) (*Enforcer, error) {
	if err := seedDefault(ctx, client, dialectName, vocab); err != nil {
		return nil, err
	}
	if err := addDefaultPurposes(ctx, client, dialectName); err != nil {
		return nil, err
	}
	if err := dropUnplainThresholds(ctx, client, dialectName); err != nil {
		return nil, err
	}
	p, err := PolicyIn(ctx, client)
	if err != nil {
		return nil, err
	}
	if err := policies.Validate(p.Lines, vocab); err != nil {
		return nil, fmt.Errorf("the policy in the database: %w", err)
	}
	lp, err := loadPolicy(p, vocab)
	if err != nil {
		return nil, err
	}
	e := decidingBy(lp, vocab)
	e.client, e.dialect = client, dialectName
	client.Intercept(observe())
	return e, nil
}

// decidingBy is an enforcer deciding by lp, without a client: until a
// reload, for New's; for good, for NewInMemory's and At's.
func decidingBy(lp *loadedPolicy, vocab policies.Vocabulary) *Enforcer {
	e := &Enforcer{vocab: vocab}
	e.policy.Store(lp)
	return e
}

// DefaultPolicyActor is the actor of the changes CaseGraph makes to the
// policy itself: the first entry of its history (loading the default
// policy), and bringing a policy stored by an older version up to date.
const DefaultPolicyActor = "casegraph"

// seedDefault loads the default policy into an empty policy table.
func seedDefault(ctx context.Context, client *ent.Client, dialectName string, vocab policies.Vocabulary) error {
	sys := viewer.SystemContext(ctx)
	n, err := client.PolicyRule.Query().Count(sys)
	if err != nil || n > 0 {
		return err
	}
	lines, err := policies.Parse(policies.DefaultPolicy)
	if err != nil {
		return err
	}
	if err := policies.Validate(lines, vocab); err != nil {
		return fmt.Errorf("the default policy: %w", err)
	}
	// The history starts with the policy as loaded, so that every line in
	// force can be traced to the change that brought it.
	return insertLines(sys, client, dialectName, lines, "The default policy (policies/policy.csv) was loaded into an empty policy table.")
}

// addDefaultPurposes brings a policy stored before the roles' consent
// purposes were policy lines up to date: when it names no purpose at all
// and its history never held one, the default policy's purpose lines are
// added, as a recorded change, so that every role keeps the purpose it
// had. A policy whose history holds a purpose line was stored since (the
// default policy loaded with them, or this upgrade made): one without
// purposes is what an admin left, and a start re-added the purposes an
// admin removed, at every start, with no audit event (a hunt).
func addDefaultPurposes(ctx context.Context, client *ent.Client, dialectName string) error {
	sys := viewer.SystemContext(ctx)
	n, err := client.PolicyRule.Query().Where(policyrule.Ptype(policies.PtypeP), policyrule.V2(policies.ConsentObject)).Count(sys)
	if err != nil || n > 0 {
		return err
	}
	// Read only when the policy has no purpose, which is rare: a whole
	// history is a few hundred short rows.
	history, err := client.PolicyChange.Query().Select(policychange.FieldAdded).All(sys)
	if err != nil {
		return err
	}
	for _, c := range history {
		if slices.ContainsFunc(c.Added, isPurposeLine) {
			return nil
		}
	}
	defaults, err := policies.Parse(policies.DefaultPolicy)
	if err != nil {
		return err
	}
	var lines []policies.Line
	for _, l := range defaults {
		if isPurposeLine(l) {
			lines = append(lines, l)
		}
	}
	return insertLines(sys, client, dialectName, lines, "The roles' consent purposes, until then fixed in the code, became policy lines.")
}

// dropUnplainThresholds removes, as a recorded change, the statistics
// threshold lines written otherwise than the enforcer asks for them ("020"
// for 20): releases before 2026-12-06 stored such lines, which never took
// effect (the default threshold applied), and validation now refuses
// them, so that a database holding one no longer started a server (a
// review). Dropping them leaves every threshold in force as it was; an
// admin who meant one adds it again, written plainly.
func dropUnplainThresholds(ctx context.Context, client *ent.Client, dialectName string) error {
	sys := viewer.SystemContext(ctx)
	rules, err := client.PolicyRule.Query().
		Where(policyrule.Ptype(policies.PtypeP), policyrule.V2(policies.Statistics), policyrule.V3(policies.Threshold)).All(sys)
	if err != nil {
		return err
	}
	var unplain []policies.Line
	for _, r := range rules {
		if _, err := strconv.Atoi(r.V4); err == nil {
			if _, err := policies.ParseThreshold(r.V4); err != nil {
				unplain = append(unplain, policies.Line{r.Ptype, r.V0, r.V1, r.V2, r.V3, r.V4})
			}
		}
	}
	if len(unplain) == 0 {
		return nil
	}
	tx, err := client.Tx(sys)
	if err != nil {
		return err
	}
	if err := lockPolicy(sys, tx.Client(), dialectName); err != nil {
		_ = tx.Rollback()
		return err
	}
	var removed []policies.Line // another server starting at once may have dropped some
	for _, l := range unplain {
		gone, err := deleteRule(sys, tx.Client(), l)
		if err != nil {
			_ = tx.Rollback()
			return err
		}
		if gone {
			removed = append(removed, l)
		}
	}
	if len(removed) == 0 {
		return tx.Rollback()
	}
	err = tx.PolicyChange.Create().SetActorSubject(DefaultPolicyActor).SetActorAgency(DefaultPolicyActor).
		SetReason("Statistics thresholds not written as plain whole numbers (\"020\") never took effect and are refused since 2026-12-06: dropped; the thresholds in force are unchanged.").
		SetAdded([][]string{}).SetRemoved(policies.Strings(removed)).Exec(sys)
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// isPurposeLine reports whether l is a consent purpose line.
func isPurposeLine(l []string) bool {
	return len(l) > 3 && l[0] == policies.PtypeP && l[3] == policies.ConsentObject
}

// insertLines adds lines to the policy table in one transaction, recorded
// in the policy's history as a change by CaseGraph itself. Another server
// adding the same lines first is not an error.
func insertLines(sys context.Context, client *ent.Client, dialectName string, lines []policies.Line, reason string) error {
	tx, err := client.Tx(sys)
	if err != nil {
		return err
	}
	if err := lockPolicy(sys, tx.Client(), dialectName); err != nil {
		_ = tx.Rollback()
		return err
	}
	for _, l := range lines {
		if err := createRule(sys, tx.Client(), l); err != nil {
			_ = tx.Rollback()
			if ent.IsConstraintError(err) {
				return nil
			}
			return err
		}
	}
	err = tx.PolicyChange.Create().SetActorSubject(DefaultPolicyActor).SetActorAgency(DefaultPolicyActor).
		SetReason(reason).SetAdded(policies.Strings(lines)).SetRemoved([][]string{}).Exec(sys)
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil && !ent.IsConstraintError(err) {
		return err
	}
	return nil
}

// Vocabulary returns what the policy may name.
func (e *Enforcer) Vocabulary() policies.Vocabulary { return e.vocab }

// Reload reads the policy from the database again, its lines and their
// version in one statement (PolicyIn), and loads exactly those lines, so
// that a change committed meanwhile is never loaded unvalidated, with none
// of the decisions cached of the one before. A policy that does not
// validate (edited in the database by hand) is refused and the one in
// force stays. The policy in force read again (a notice of a change this
// server has loaded already, policy tools' requests catching up at once:
// At) stays as it is, its decisions cached: each of those reloads built
// a policy anew and dropped the cache every request decides from.
func (e *Enforcer) Reload() error {
	e.reloading.Lock()
	defer e.reloading.Unlock()
	p, err := PolicyIn(context.Background(), e.client)
	if err != nil {
		return err
	}
	if e.policy.Load().is(p) {
		return nil
	}
	if err := policies.Validate(p.Lines, e.vocab); err != nil {
		return fmt.Errorf("not reloading an invalid policy: %w", err)
	}
	lp, err := loadPolicy(p, e.vocab)
	if err != nil {
		return err
	}
	e.replaced.Store(e.policy.Load())
	e.policy.Store(lp)
	return nil
}

// At calls answer with an enforcer that decides by exactly p, the
// policy as a request read it (PolicyIn, lines and version in one
// statement): the policy tools answer of the version policyVersion reads
// in the same request, not of one this server has not loaded yet. It is
// the policy this server has loaded when that is p (its decisions
// cached), first reloading when the server is not ahead of p (another
// server's change not yet announced: a request after the answer decides
// as the answer says). When the server is ahead of p (a change loaded
// since the request read it) it is the policy the last reload replaced
// when that is p (one change during the request, the common case), else
// p's lines loaded in memory, as what-if's are, in one of what-if's
// slots (InMemorySlot), waited for until ctx is done. Either way the
// enforcer decides by p alone while answer runs, and a reload meanwhile
// neither waits nor moves it: until 2026-12-07 (twentieth session, its
// review) the answer held the server's policy and a reload waited for
// it, so that while a matrix was computed the server enforced a
// superseded policy as current. Until the twenty-first session the same
// day every version the server was past was loaded in memory, with no
// slot, however many tools were building one.
func (e *Enforcer) At(ctx context.Context, p StoredPolicy, answer func(*Enforcer) error) error {
	lp := e.policy.Load()
	if !lp.is(p) && lp.stored.Version <= p.Version {
		if err := e.Reload(); err != nil {
			return err
		}
		lp = e.policy.Load()
	}
	for _, loaded := range []*loadedPolicy{lp, e.replaced.Load()} {
		if loaded != nil && loaded.is(p) {
			return answer(decidingBy(loaded, e.vocab))
		}
	}
	return InMemorySlot(ctx, func() error {
		lp, err := loadPolicy(p, e.vocab)
		if err != nil {
			return err
		}
		return answer(decidingBy(lp, e.vocab))
	})
}

// Decide asks the policy in force one question, cached with it.
func (e *Enforcer) Decide(role viewer.Role, kind, obj, act, cond string) Decision {
	return e.policy.Load().decide(decisionKey{string(role), kind, obj, act, cond})
}

// decide answers k of lp, once.
func (lp *loadedPolicy) decide(k decisionKey) Decision {
	if d, ok := lp.cache.Load(k); ok {
		return d.(Decision)
	}
	ok, rule, err := lp.casbin.EnforceEx(k.role, k.kind, k.obj, k.act, k.cond)
	d := Decision{Allowed: ok && err == nil, Rule: rule}
	lp.cache.Store(k, d)
	return d
}

// Lines returns the policy in force, as stored.
func (e *Enforcer) Lines(ctx context.Context) ([]policies.Line, error) {
	return LinesIn(ctx, e.client)
}

// rowLevel is the widest level of rows any of p's roles may see of obj.
func (e *Enforcer) rowLevel(p *viewer.Principal, kind, obj string) rowscope.Level {
	for _, l := range rowscope.Levels {
		for _, r := range p.Roles {
			if e.Decide(r, kind, obj, policies.See, l.Name()).Allowed {
				return l
			}
		}
	}
	return rowscope.None
}

// holds reports whether any of p's roles holds the power of act on obj,
// itself or through a power that implies it (policies.Power.Implies).
func (e *Enforcer) holds(p *viewer.Principal, kind, obj, act string) bool {
	for _, a := range policies.ImpliedBy(obj, act) {
		if e.allows(p, kind, obj, a) {
			return true
		}
	}
	return false
}

// HoldsPower implements graph.PowerGuard for the request in ctx. While
// the policy is unconfirmed it refuses field with UNAVAILABLE, as
// CanReadField does: a stale server served a prosecutor exact statistics
// under a power another server had revoked (a hunt).
func (e *Enforcer) HoldsPower(ctx context.Context, field, obj, act string) (bool, error) {
	r := FromContext(ctx)
	if r == nil {
		return false, nil
	}
	if e.StaleReason() != "" {
		return false, errPolicyUnconfirmed(field)
	}
	return e.usesPower(r.p, string(r.kind), obj, act), nil
}

// ConsentPurposes lists the purposes of those of roles that may read field
// at kind under condition c (their readers): a consent must name one of
// them. A consent given for one role's purpose does not open a field to
// another role of the same person: each reader opens it for its own
// (Reader).
func (e *Enforcer) ConsentPurposes(roles []viewer.Role, kind, field, c string) []domain.ConsentPurpose {
	var readers []viewer.Role
	for _, rd := range e.readers(&viewer.Principal{Roles: roles}, kind, field)[c] {
		readers = append(readers, rd.Role)
	}
	return e.Purposes(readers, kind)
}

// Purposes lists the consent purposes the policy gives any of roles at
// kind ("p, ROLE, *, consent, purpose, PURPOSE"), in the enum's order.
func (e *Enforcer) Purposes(roles []viewer.Role, kind string) []domain.ConsentPurpose {
	var out []domain.ConsentPurpose
	for _, pu := range domain.ConsentPurpose("").Values() {
		if slices.ContainsFunc(roles, func(r viewer.Role) bool {
			return e.Decide(r, kind, policies.ConsentObject, policies.PurposeAction, pu).Allowed
		}) {
			out = append(out, domain.ConsentPurpose(pu))
		}
	}
	return out
}

// allows reports whether any of p's roles may act on obj without condition.
func (e *Enforcer) allows(p *viewer.Principal, kind, obj, act string) bool {
	for _, r := range p.Roles {
		if e.Decide(r, kind, obj, act, policies.Any).Allowed {
			return true
		}
	}
	return false
}

// Reader is one of a person's roles that may read a field under a
// condition: the policy line that lets it, and, where the condition asks
// for the victim's consent, the purposes the role reads for.
type Reader struct {
	Role     viewer.Role
	Rule     []string
	Purposes []domain.ConsentPurpose
}

// readers lists, for each condition under which any of p's roles may read
// field at kind, those roles, in p's order, each with its line and
// purposes. It is the one model of a field's reading: a request decides
// by it (Request.rule; decide opens the field by the first reader whose
// purposes the victim's consent names, and files the read under that
// reader's line), and explainAccess and the matrix say it
// (ReadConditions). Until 2026-12-06 the tools read a model of their own,
// one line a condition (the first role's) beside the purposes of every
// role, and named a line the server did not read under (a hunt).
func (e *Enforcer) readers(p *viewer.Principal, kind, field string) map[string][]Reader {
	category := e.vocab.Fields[field]
	out := map[string][]Reader{}
	for _, c := range policies.FieldConditions {
		consent := ConsentRequired(category, c)
		for _, role := range p.Roles {
			d := e.Decide(role, kind, field, policies.Read, c)
			if !d.Allowed {
				continue
			}
			rd := Reader{Role: role, Rule: d.Rule}
			if consent {
				rd.Purposes = e.Purposes([]viewer.Role{role}, kind)
			}
			out[c] = append(out[c], rd)
		}
	}
	return out
}

// RuleString renders a casbin rule as its policy line.
func RuleString(rule []string) string {
	if len(rule) == 0 {
		return ""
	}
	return "p, " + strings.Join(rule, ", ")
}

// Client returns the ent client the enforcer reads its facts with.
func (e *Enforcer) Client() *ent.Client { return e.client }

// StatisticsControl is how statistics protect counts of people from the
// caller of ctx (statisticsControl).
func (e *Enforcer) StatisticsControl(ctx context.Context) (k int, exact bool) {
	r := FromContext(ctx)
	if r == nil {
		return 0, false
	}
	return e.statisticsControl(r.p, string(r.kind))
}

// statisticsControl is how statistics protect counts of people from p at
// kind: exact when one of their roles holds statistics exact there and
// sees, alone, every row the person sees (the rows counted); otherwise k,
// the smallest threshold a line gives any of their roles there
// (statisticsThreshold), 0 when none does. A prosecutor holds exact counts
// over their district's records; with an analyst's role beside it, the
// person counts the nation's, which are not the prosecutor's to see
// exactly (a review read live national counts so). It is the one
// statement of the rule: a request's statistics, explainAccess and the
// matrix ask it (explainAccess had its own, and told a prosecutor-analyst
// every count was exact where the server withheld those below 10).
func (e *Enforcer) statisticsControl(p *viewer.Principal, kind string) (k int, exact bool) {
	for _, role := range p.Roles {
		alone := &viewer.Principal{Roles: []viewer.Role{role}}
		if e.holds(alone, kind, policies.Statistics, policies.Exact) &&
			e.rowLevel(alone, kind, policies.RowsCases) == e.rowLevel(p, kind, policies.RowsCases) &&
			e.rowLevel(alone, kind, policies.RowsVictims) == e.rowLevel(p, kind, policies.RowsVictims) {
			return 0, true
		}
	}
	return e.statisticsThreshold(p, kind), false
}

// statisticsThreshold is the smallest k of a threshold line
// (policies.ParseThreshold) that applies to one of p's roles at kind, 0
// when none does. The smallest wins because a person's grants are the
// union of their roles'. Only the values the policy's threshold lines
// name are asked, smallest first.
func (e *Enforcer) statisticsThreshold(p *viewer.Principal, kind string) int {
	lines, _ := e.policy.Load().casbin.GetFilteredPolicy(2, policies.Statistics, policies.Threshold)
	var ks []int
	for _, l := range lines {
		if len(l) > 4 {
			if k, err := policies.ParseThreshold(l[4]); err == nil {
				ks = append(ks, k)
			}
		}
	}
	slices.Sort(ks)
	for _, k := range slices.Compact(ks) {
		for _, role := range p.Roles {
			if e.Decide(role, kind, policies.Statistics, policies.Threshold, strconv.Itoa(k)).Allowed {
				return k
			}
		}
	}
	return 0
}
