package authz

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/emergencygrant"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// Request is the policy applied to one request: the principal, their
// agency's kind and region, their row scope, and the facts about rows that
// field conditions need, loaded in batches.
type Request struct {
	e        *Enforcer
	p        *viewer.Principal
	kind     domain.AgencyKind
	scope    *rowscope.Scope
	facts    *facts
	fields   sync.Map // field → *fieldRule
	verdicts sync.Map // verdictKey → Verdict

	// stored is the policy as stored, read once a request (StoredPolicy).
	storedMu sync.Mutex
	stored   *StoredPolicy
}

// fieldRule is what the policy says about reading one field, for this
// request's principal.
type fieldRule struct {
	field string
	// conds: for each condition under which the field may be read, the
	// principal's roles that may read it so, in the token's order
	// (Enforcer.readers).
	conds        map[string][]Reader
	needsConsent bool
	// signature identifies fields that are decided alike (the same
	// readers with the same lines and purposes under the same conditions,
	// the same consent rule), so a row's verdict serves all of them. It is
	// written from everything decide reads of the rule: a hunt found two
	// fields of one category sharing a verdict though their readers'
	// purposes differed (a person with two roles read an address under the
	// consent that opened the phone).
	signature string
}

type verdictKey struct {
	signature string
	row       row
}

type requestKey struct{}

// NewRequest prepares the policy for one request of p.
func (e *Enforcer) NewRequest(ctx context.Context, p *viewer.Principal) (*Request, error) {
	a, err := e.agency(ctx, p.AgencyID)
	if err != nil {
		return nil, err
	}
	r := &Request{e: e, p: p, kind: a.Kind, scope: &rowscope.Scope{Subject: p.Subject, AgencyID: a.ID, Region: a.Region}}
	r.applyPolicy()
	r.facts = newFacts(e.client, e.dialect, p, a)
	return r, nil
}

// applyPolicy sets what the policy in force says of the principal's rows
// (the levels of its scope, which the context shares, so they are changed
// in place) and forgets the field rules read under an earlier policy.
func (r *Request) applyPolicy() {
	kind := string(r.kind)
	r.scope.Cases = r.e.rowLevel(r.p, kind, policies.RowsCases)
	r.scope.Victims = r.e.rowLevel(r.p, kind, policies.RowsVictims)
	r.scope.GrantsOfAgency = r.e.holds(r.p, kind, policies.Emergency, policies.Review)
	r.fields.Clear()
}

// agency returns the agency with id, from a cache: an agency's kind and
// region decide every request of its people, and nothing in CaseGraph
// changes them once the agency exists (the registry only grows, through
// `casegraph seed --agencies`), so they need not be read per request.
func (e *Enforcer) agency(ctx context.Context, id int) (*ent.Agency, error) {
	if a, ok := e.agencies.Load(id); ok {
		return a.(*ent.Agency), nil
	}
	a, err := e.client.Agency.Get(viewer.SystemContext(ctx), id)
	if err != nil {
		return nil, fmt.Errorf("loading the principal's agency: %w", err)
	}
	e.agencies.Store(id, a)
	return a, nil
}

// NewContext returns ctx carrying r and its row scope.
func NewContext(ctx context.Context, r *Request) context.Context {
	return rowscope.NewContext(context.WithValue(ctx, requestKey{}, r), r.scope)
}

// FromContext returns the request policy of ctx, or nil.
func FromContext(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// Refresh forgets the facts, verdicts and policy read so far. A mutation
// calls it before and after it runs: what it changes (a case link, a
// consent, an emergency grant, the policy itself) decides the fields of its
// payload and of what follows, and a policy change committed while a
// document of several mutations waits (on a lock, by another server) holds
// for its later mutations, as it would for a new request.
// It must not run while fields of the request are being resolved.
func (r *Request) Refresh() {
	r.applyPolicy()
	r.facts = newFacts(r.e.client, r.e.dialect, r.p, r.facts.agency)
	r.verdicts.Clear()
	r.storedMu.Lock()
	r.stored = nil
	r.storedMu.Unlock()
}

// StoredPolicy is the policy as stored (PolicyIn), read once a request:
// policyLines and policyVersion asked in one request answer the same
// version, whichever comes first, however many aliases ask them, and
// whatever change commits in between, so that a client who edits the
// lines it read and sends their version as expectedVersion sends the
// version of those lines.
func (r *Request) StoredPolicy(ctx context.Context) (StoredPolicy, error) {
	r.storedMu.Lock()
	defer r.storedMu.Unlock()
	if r.stored == nil {
		p, err := PolicyIn(ctx, r.e.client)
		if err != nil {
			return StoredPolicy{}, err
		}
		r.stored = &p
	}
	return *r.stored, nil
}

// Scope returns the request's row scope.
func (r *Request) Scope() *rowscope.Scope { return r.scope }

func (r *Request) rule(field string) *fieldRule {
	if c, ok := r.fields.Load(field); ok {
		return c.(*fieldRule)
	}
	category := r.e.vocab.Fields[field]
	// Consent is asked for under every condition but proceedings (see
	// decide); ConsentRequired is the one statement of that rule.
	fr := &fieldRule{field: field, conds: r.e.readers(r.p, string(r.kind), field), needsConsent: ConsentRequired(category, policies.Any)}
	typ, _, _ := strings.Cut(category, ":")
	var sig strings.Builder
	sig.WriteString(typ)
	for _, c := range policies.FieldConditions {
		for _, rd := range fr.conds[c] {
			fmt.Fprintf(&sig, "|%s=%s%v", c, RuleString(rd.Rule), rd.Purposes)
		}
	}
	if fr.needsConsent {
		sig.WriteString("|consent")
	}
	fr.signature = sig.String()
	r.fields.Store(field, fr)
	return fr
}

// Verdict is the outcome of one field check, with what decided it.
type Verdict struct {
	Allowed   bool
	Rule      string // the policy line that allowed it
	Emergency bool   // allowed by an emergency grant
	Reason    string // why it was denied
	// Refusal is the kind of rule that denied it (the client is told).
	Refusal apperr.Refusal
	// Grant is the emergency grant that allowed it.
	Grant *ent.EmergencyGrant
}

// Access is the verdict as the audit trail records it.
func (v Verdict) Access() audit.Access {
	a := audit.Access{Allowed: v.Allowed, Rule: v.Rule, Reason: v.Reason, Refusal: v.Refusal, Emergency: v.Emergency}
	if v.Grant != nil {
		a.Rule = fmt.Sprintf("emergency access (grant %d, until %s)", v.Grant.ID, v.Grant.ExpiresAt.UTC().Format(time.RFC3339))
		a.Justification = v.Grant.Justification
	}
	return a
}

// ReadField decides whether the principal may read field (e.g.
// "Victim.legalName") of obj (an *ent.Victim, *ent.Suspect,
// *ent.SupportService or *ent.Consent).
func (r *Request) ReadField(ctx context.Context, field string, obj any) (Verdict, error) {
	fr := r.rule(field)
	row, err := r.facts.rowOf(ctx, obj)
	if err != nil {
		return Verdict{}, err
	}
	key := verdictKey{fr.signature, row}
	if v, ok := r.verdicts.Load(key); ok {
		return v.(Verdict), nil
	}
	v, err := r.decide(ctx, fr, row)
	if err == nil {
		r.verdicts.Store(key, v)
	}
	return v, err
}

func (r *Request) decide(ctx context.Context, fr *fieldRule, row row) (Verdict, error) {
	conds, needsConsent := fr.conds, fr.needsConsent
	reason, refusal := "no policy rule lets your role read it", apperr.RefusedByRole
	rowHeld := false // some condition held on the row: then consent refused it
	for _, c := range policies.FieldConditions {
		readers, ok := conds[c]
		if !ok {
			continue
		}
		holds, err := r.facts.holds(ctx, c, row)
		if err != nil {
			return Verdict{}, err
		}
		if !holds {
			if !rowHeld {
				reason, refusal = "the record is not in your agency's "+conditionPhrase(c), apperr.RefusedByRow
			}
			continue
		}
		rowHeld = true
		if !(needsConsent && ConsentRequired(r.e.vocab.Fields[fr.field], c)) {
			return Verdict{Allowed: true, Rule: RuleString(readers[0].Rule)}, nil
		}
		// Each role reads for its own purposes: the read is the line's of
		// the first role whose purpose the victim's consent names.
		for _, rd := range readers {
			covered, err := r.facts.consented(ctx, row, r.kind, rd.Purposes)
			if err != nil {
				return Verdict{}, err
			}
			if covered {
				return Verdict{Allowed: true, Rule: RuleString(rd.Rule)}, nil
			}
		}
		reason, refusal = "the victim's consent does not cover your agency for your purpose", apperr.RefusedByConsent
	}
	// Emergency access opens only fields the role may read at all (an
	// investigator still never reads health notes), and only for victims
	// in the case when it was granted.
	if len(conds) == 0 {
		return Verdict{Reason: reason, Refusal: refusal}, nil
	}
	grant, err := r.facts.emergency(ctx, row)
	if err != nil {
		return Verdict{}, err
	}
	// A grant is honoured while the policy still lets the role ask for
	// one: a power removed (the police's emergency access suspended) ended
	// no grant given before, which ran on for up to four hours (a hunt).
	// Asked only when there is a grant, so the refusals of a page pay
	// nothing for it.
	if grant != nil && r.CanRequestEmergency() {
		return Verdict{Allowed: true, Emergency: true, Rule: "emergency access", Grant: grant}, nil
	}
	return Verdict{Reason: reason, Refusal: refusal}, nil
}

// conditionPhrase names what a condition requires the record to be in, for
// a refusal: "the record is not in your agency's cases".
func conditionPhrase(c string) string {
	if p, ok := conditionPhrases[c]; ok {
		return p
	}
	return "scope"
}

var conditionPhrases = map[string]string{
	policies.OnCase:      "cases",
	policies.Proceedings: "criminal proceedings",
	policies.Referred:    "referrals or support",
}

// CanReadField implements graph.FieldGuard for the request in ctx: the
// decision and what decided it, for the audit trail.
func (e *Enforcer) CanReadField(ctx context.Context, _ *viewer.Principal, field string, obj any) (audit.Access, error) {
	r := FromContext(ctx)
	if r == nil {
		return audit.Access{Reason: "no authenticated caller"}, nil
	}
	if e.StaleReason() != "" {
		return audit.Access{}, errPolicyUnconfirmed(field)
	}
	v, err := r.ReadField(ctx, field, obj)
	return v.Access(), err
}

// CheckCall implements graph.MutationGuard: the principal must be one who
// may make the call (callRefusal: its line, and the power it needs). It
// holds for every request, a replay too: taking the call from a role is
// the policy owner's cut-off.
func (e *Enforcer) CheckCall(ctx context.Context, mutation string) error {
	r, err := e.deciding(ctx, mutation)
	if err != nil {
		return err
	}
	if refusal := e.callRefusal(r.p, string(r.kind), mutation); refusal != nil {
		return refusal
	}
	return nil
}

// CheckWrites implements graph.MutationGuard: the principal's roles must
// allow writing every sensitive field the mutation's input writes.
// inputType is the GraphQL type of its input argument ("" if none) and
// written the fields of it the input writes (graph.fieldsWritten: a
// clearX flag that is true clears field x).
func (e *Enforcer) CheckWrites(ctx context.Context, mutation, inputType string, written []string) error {
	r, err := e.deciding(ctx, mutation)
	if err != nil {
		return err
	}
	typ := entityOfInput(inputType)
	for _, k := range written {
		name := strings.TrimPrefix(k, "clear")
		if name != k {
			name = strings.ToLower(name[:1]) + name[1:]
		}
		field := typ + "." + name
		if _, sensitive := e.vocab.Fields[field]; !sensitive {
			continue
		}
		if !e.allows(r.p, string(r.kind), field, policies.Write) {
			return &apperr.Error{Code: apperr.Forbidden, Field: field,
				Message: fmt.Sprintf("Your role may not write %s.", field)}
		}
	}
	return nil
}

// deciding is the request in ctx, for which the policy decides mutation:
// UNAUTHENTICATED without a caller, UNAVAILABLE while the policy may be
// stale.
func (e *Enforcer) deciding(ctx context.Context, mutation string) (*Request, error) {
	r := FromContext(ctx)
	if r == nil {
		return nil, apperr.Errorf(apperr.Unauthenticated, "This operation needs an authenticated caller.")
	}
	if e.StaleReason() != "" {
		return nil, errPolicyUnconfirmed("Mutation." + mutation)
	}
	return r, nil
}

// MayNotCall is the refusal of a mutation the caller's roles may not call
// (FORBIDDEN, on the field Mutation.NAME), for want of its call line.
func MayNotCall(mutation string) *apperr.Error {
	return &apperr.Error{Code: apperr.Forbidden, Field: "Mutation." + mutation,
		Message: fmt.Sprintf("Your role may not call %s.", mutation)}
}

// callRefusal is the refusal of a call of mutation to p at kind, nil when
// p may make it: one of p's roles has the mutation's call line and, for a
// mutation that needs a power besides (policies.PowerNeededBy:
// requestEmergencyAccess needs emergency request, changePolicy policy
// change), one of them holds the power, else the power's own refusal. It
// is the one statement of who may make a call: the mutation guard asks it,
// so do the mutations that ask again (Request.CallRefusal,
// CallRefusalUnder), a grant's life (mayRequestEmergency) and the policy
// tools (MayCall, MayUsePower). The tools answered from the call line
// alone, or the power alone, and told an admin that investigators whose
// break-glass was suspended could still ask (a hunt).
func (e *Enforcer) callRefusal(p *viewer.Principal, kind, mutation string) *apperr.Error {
	if !e.allows(p, kind, policies.MutationObject(mutation), policies.Call) {
		return MayNotCall(mutation)
	}
	if pw, ok := policies.PowerNeededBy(mutation); ok && !e.holds(p, kind, pw.Object, pw.Action) {
		return &apperr.Error{Code: apperr.Forbidden, Field: "Mutation." + mutation, Message: pw.Refusal}
	}
	return nil
}

// usesPower reports whether p may use the power of act on obj at kind: p
// holds it (holds), and, for a power a mutation needs (Power.NeededBy),
// may make that call, the only way to use it (callRefusal).
func (e *Enforcer) usesPower(p *viewer.Principal, kind, obj, act string) bool {
	if pw, ok := policies.PowerOf(obj, act); ok {
		if mutation, ok := pw.NeededBy(); ok {
			return e.callRefusal(p, kind, mutation) == nil
		}
	}
	return e.holds(p, kind, obj, act)
}

// entityOfInput maps CreateVictimInput or UpdateVictimInput to Victim.
func entityOfInput(inputType string) string {
	t := strings.TrimSuffix(inputType, "Input")
	for _, p := range []string{"Create", "Update"} {
		if s, ok := strings.CutPrefix(t, p); ok {
			return s
		}
	}
	return t
}

// CanRequestEmergency reports whether the principal may ask for emergency
// access; a grant is honoured only while they may (decide).
func (r *Request) CanRequestEmergency() bool {
	return r.e.mayRequestEmergency(r.p, string(r.kind))
}

// mayRequestEmergency is the one statement of who may ask for emergency
// access, for a request and for explainAccess alike: who may use the power
// emergency request, through its mutation.
func (e *Enforcer) mayRequestEmergency(p *viewer.Principal, kind string) bool {
	return e.usesPower(p, kind, policies.Emergency, policies.Request)
}

// CallRefusal is the refusal of a call of mutation to the principal under
// the policy in force, nil when they may make it (callRefusal): what a
// mutation asks again after the guard, of the policy as it is when it
// runs.
func (r *Request) CallRefusal(mutation string) *apperr.Error {
	return r.e.callRefusal(r.p, string(r.kind), mutation)
}

// CallRefusalUnder is CallRefusal under lines, the policy as a change
// reads it under the policy lock (LockPolicy). The guard asked the policy
// in memory, which a change committed while this one waited for the lock
// may have taken the power or the call from: an admin whose power the
// change ahead removed still changed the policy (a hunt).
func (r *Request) CallRefusalUnder(lines []policies.Line, mutation string) (*apperr.Error, error) {
	e, err := NewInMemory(lines, r.e.vocab)
	if err != nil {
		return nil, err
	}
	return e.callRefusal(r.p, string(r.kind), mutation), nil
}

// Coordinates reports whether the principal acts as a coordinator for
// mutation: they hold the coordinator role, and the policy lets that role,
// at their agency's kind, call it. Casework lets a coordinator do what
// others do only for their own agency or cases (refer from another agency,
// link a victim, assign an agency); the role named in a token at an agency
// whose kind the policy gives it nothing (an NGO's case worker who is also
// "coordinator") does not.
func (r *Request) Coordinates(mutation string) bool {
	if !r.p.HasRole(viewer.RoleCoordinator) {
		return false
	}
	return r.e.Decide(viewer.RoleCoordinator, string(r.kind), policies.MutationObject(mutation), policies.Call, policies.Any).Allowed
}

// Principal returns the request's principal.
func (r *Request) Principal() *viewer.Principal { return r.p }

// activeGrantCases lists the cases for which the principal holds emergency
// access now.
func activeGrantCases(ctx context.Context, client *ent.Client, p *viewer.Principal) ([]*ent.EmergencyGrant, error) {
	return client.EmergencyGrant.Query().Where(
		emergencygrant.Subject(p.Subject), emergencygrant.AgencyID(p.AgencyID),
		emergencygrant.ExpiresAtGT(time.Now()), emergencygrant.RevokedAtIsNil(),
	).All(viewer.SystemContext(ctx))
}

// CanReadAllAudit reports whether the principal may read every agency's
// audit events (whether they may read any is for @allowed to say).
func (r *Request) CanReadAllAudit() bool {
	return r.e.holds(r.p, string(r.kind), policies.Audit, policies.ReadAll)
}
