package authz

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/casevictim"
	"github.com/casegraph/casegraph/ent/consent"
	"github.com/casegraph/casegraph/ent/emergencygrant"
	"github.com/casegraph/casegraph/ent/referral"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// victimFacts is what field conditions and consent ask about one victim.
type victimFacts struct {
	onCase      bool // in a case the agency works on
	proceedings bool // in a case whose criminal proceedings the agency is part of
	referred    bool // referred to the agency by another, and accepted
	// inGrantedCase: in the case of one of the principal's active
	// emergency grants (whether the grant covers them is decided then).
	inGrantedCase bool
	consents      []consentTerms // current consents: not withdrawn, not given under 16
}

// consentTerms is what a consent allows: which kinds of agency, for which
// purposes.
type consentTerms struct {
	AgencyKinds []domain.AgencyKind
	Purposes    []domain.ConsentPurpose
}

// The kinds of row victimFactsOf's statement returns.
const (
	factOnCase      = "on_case"
	factProceedings = "proceedings"
	factReferred    = "referred"
	factGranted     = "granted"
	factConsent     = "consent"
)

// victimFactsOf fetches every fact about the victims ids in one statement,
// a UNION ALL with one branch a kind of fact, each row (kind, victim, and
// for a consent its agency kinds and purposes as JSON): the facts of a page
// cost one round trip, however many conditions its fields ask.
func (f *facts) victimFactsOf(ctx context.Context, ids []int) (map[int]victimFacts, error) {
	query, args := f.victimFactsQuery(ids)
	// The text is the same for every request (the ids are one parameter):
	// prepared once, it is not planned again for each page.
	rows, err := f.db(ctx).QueryContext(database.WithPrepared(viewer.SystemContext(ctx)), query, args...)
	if err != nil {
		return nil, fmt.Errorf("fetching the victims' facts: %w", err)
	}
	defer rows.Close()
	return readVictimFacts(rows, len(ids))
}

// victimFactsQuery is victimFactsOf's statement and its arguments. Its
// text depends on the dialect alone (the ids are one argument), so it is
// built once a dialect (factsTemplateFor) and each request fills in its
// arguments: built for each page it took some 850 allocations and 0.3 ms
// of a dashboard page's CPU.
func (f *facts) victimFactsQuery(ids []int) (string, []any) {
	t := factsTemplateFor(f.dialect)
	return t.text, t.fill(f.dialect, factsInputs{agency: f.agency.ID, subject: f.p.Subject,
		principalAgency: f.p.AgencyID, now: time.Now(), ids: ids})
}

// factsInputs is what victimFactsOf's statement changes with: the
// principal, its agency, the time, the page's victims.
type factsInputs struct {
	agency, principalAgency int
	subject                 string
	now                     time.Time
	ids                     []int
}

// buildVictimFactsQuery writes victimFactsOf's statement: the one
// definition of it, which factsTemplateFor builds once a dialect.
func buildVictimFactsQuery(d string, in factsInputs) (string, []any) {
	a := in.agency
	b := sql.Dialect(d)
	branch := func(fact, table string) *sql.Selector {
		t := sql.Table(table)
		sel := b.Select().From(t)
		kinds, purposes := "NULL", "NULL"
		if fact == factConsent {
			kinds = "CAST(" + sel.C(consent.FieldAgencyKinds) + " AS TEXT)"
			purposes = "CAST(" + sel.C(consent.FieldPurposes) + " AS TEXT)"
		}
		return sel.SelectExpr(sql.Expr("'"+fact+"'"), sql.Expr(sel.C("victim_id")), sql.Expr(kinds), sql.Expr(purposes)).
			Where(rowscope.InIDs(sel.C("victim_id"), in.ids))
	}

	onCase := branch(factOnCase, casevictim.Table)
	onCase.Where(rowscope.CaseIDWorkedOnBy(a, onCase.C(casevictim.FieldCaseID)))
	proceedings := branch(factProceedings, casevictim.Table)
	casevictim.HasCaseWith(InProceedingsOf(a))(proceedings)
	// Only a referral another agency made, and this one accepted, opens
	// the victim's data: a support service the agency records itself does
	// not.
	referred := branch(factReferred, referral.Table)
	referral.And(referral.ToAgencyID(a),
		referral.StatusIn(domain.ReferralStatusAccepted, domain.ReferralStatusCompleted))(referred)
	granted := branch(factGranted, casevictim.Table)
	g := sql.Table(emergencygrant.Table)
	granted.Where(sql.In(granted.C(casevictim.FieldCaseID), b.Select(g.C(emergencygrant.FieldCaseID)).From(g).Where(sql.And(
		sql.EQ(g.C(emergencygrant.FieldSubject), in.subject),
		sql.EQ(g.C(emergencygrant.FieldAgencyID), in.principalAgency),
		sql.GT(g.C(emergencygrant.FieldExpiresAt), in.now),
		sql.IsNull(g.C(emergencygrant.FieldRevokedAt)),
	))))
	// A victim's own consent given under 16 (by the stored ages,
	// casework.keepConsentAges) opens nothing, however it was recorded.
	consents := branch(factConsent, consent.Table)
	consent.And(consent.WithdrawnAtIsNil(), consent.GivenUnder16(false))(consents)

	return onCase.UnionAll(proceedings).UnionAll(referred).UnionAll(granted).UnionAll(consents).Query()
}

// factsTemplate is victimFactsOf's statement built once for a dialect:
// its text, its arguments, and which of them a request fills in.
type factsTemplate struct {
	text string
	args []any
	// inputs[i] says which of factsInputs argument i is, or factsConstant.
	inputs []factsInput
}

// factsInput names one of factsInputs.
type factsInput int

const (
	factsConstant factsInput = iota
	factsAgency
	factsPrincipalAgency
	factsSubject
	factsNow
	factsIDs
)

var factsTemplates sync.Map // dialect → *factsTemplate

// factsTemplateFor returns the dialect's template, building it the first
// time.
func factsTemplateFor(d string) *factsTemplate {
	if t, ok := factsTemplates.Load(d); ok {
		return t.(*factsTemplate)
	}
	t, _ := factsTemplates.LoadOrStore(d, newFactsTemplate(d))
	return t.(*factsTemplate)
}

// The stand-ins a template is built with: values no real input takes, so
// that each argument equal to one is that input. A second set checks the
// template (newFactsTemplate).
var factsStandIns = [2]factsInputs{
	{agency: -1_000_000_001, principalAgency: -1_000_000_002, subject: "\x00stand-in subject 1",
		now: time.Date(1901, 1, 1, 0, 0, 1, 0, time.UTC), ids: []int{-1_000_000_003, -1_000_000_004}},
	{agency: -2_000_000_001, principalAgency: -2_000_000_002, subject: "\x00stand-in subject 2",
		now: time.Date(1902, 1, 1, 0, 0, 2, 0, time.UTC), ids: []int{-2_000_000_003}},
}

// newFactsTemplate builds the statement with stand-ins for the inputs and
// marks the arguments that are them. It panics if the statement filled in
// from the template differs from the one built with other inputs (an
// argument that is a function of an input, not the input, such as a
// time's truncation): a programming error every test that reads a
// victim's facts meets.
func newFactsTemplate(d string) *factsTemplate {
	in := factsStandIns[0]
	text, args := buildVictimFactsQuery(d, in)
	t := &factsTemplate{text: text, args: args, inputs: make([]factsInput, len(args))}
	ids := rowscope.IDsArg(d, in.ids)
	for i, arg := range args {
		switch {
		case arg == any(in.agency):
			t.inputs[i] = factsAgency
		case arg == any(in.principalAgency):
			t.inputs[i] = factsPrincipalAgency
		case arg == any(in.subject):
			t.inputs[i] = factsSubject
		case arg == any(in.now):
			t.inputs[i] = factsNow
		case arg == ids:
			t.inputs[i] = factsIDs
		}
	}
	check := factsStandIns[1]
	wantText, wantArgs := buildVictimFactsQuery(d, check)
	if gotArgs := t.fill(d, check); wantText != text || !reflect.DeepEqual(gotArgs, wantArgs) {
		panic(fmt.Sprintf("authz: the victims' facts statement is not a template of its inputs:\n%s\n%v\nagainst\n%s\n%v", text, gotArgs, wantText, wantArgs))
	}
	return t
}

// fill returns the template's arguments for in.
func (t *factsTemplate) fill(d string, in factsInputs) []any {
	args := slices.Clone(t.args)
	var ids any
	for i, input := range t.inputs {
		switch input {
		case factsAgency:
			args[i] = in.agency
		case factsPrincipalAgency:
			args[i] = in.principalAgency
		case factsSubject:
			args[i] = in.subject
		case factsNow:
			args[i] = in.now
		case factsIDs:
			if ids == nil {
				ids = rowscope.IDsArg(d, in.ids) // encoded once for every branch
			}
			args[i] = ids
		}
	}
	return args
}

// readVictimFacts reads the rows of victimFactsOf's statement.
func readVictimFacts(rows *stdsql.Rows, n int) (map[int]victimFacts, error) {
	out := make(map[int]victimFacts, n)
	for rows.Next() {
		var (
			fact            string
			victimID        int
			kinds, purposes sql.NullString
		)
		if err := rows.Scan(&fact, &victimID, &kinds, &purposes); err != nil {
			return nil, fmt.Errorf("reading the victims' facts: %w", err)
		}
		v := out[victimID]
		switch fact {
		case factOnCase:
			v.onCase = true
		case factProceedings:
			v.proceedings = true
		case factReferred:
			v.referred = true
		case factGranted:
			v.inGrantedCase = true
		case factConsent:
			var c consentTerms
			var err error
			if c.AgencyKinds, err = agencyKindTexts.decode(kinds.String); err != nil {
				return nil, fmt.Errorf("reading a consent's agency kinds: %w", err)
			}
			if c.Purposes, err = purposeTexts.decode(purposes.String); err != nil {
				return nil, fmt.Errorf("reading a consent's purposes: %w", err)
			}
			v.consents = append(v.consents, c)
		}
		out[victimID] = v
	}
	return out, rows.Err()
}

// Consents repeat a few sets of agency kinds and purposes, as JSON texts:
// each text is decoded once a server, not once a consent of every page
// (about 600 allocations a dashboard page before). The decoded slices
// are shared by every request, and only read (facts.consented).
var (
	agencyKindTexts = decodedTexts[[]domain.AgencyKind]{seen: map[string][]domain.AgencyKind{}}
	purposeTexts    = decodedTexts[[]domain.ConsentPurpose]{seen: map[string][]domain.ConsentPurpose{}}
)

// What decodedTexts keeps: at most maxDecodedTexts texts of at most
// maxDecodedTextBytes each. A consent's terms are a few values of an
// enumeration, so a real database has a few dozen such texts of tens of
// bytes; but a consent may repeat a value, and the bounds keep a client
// that records many long or distinct lists from holding the server's
// memory (about 2 MiB at the most). Other texts are decoded each time.
const (
	maxDecodedTexts     = 4096
	maxDecodedTextBytes = 512
)

// decodedTexts keeps what JSON texts decoded to.
type decodedTexts[T any] struct {
	mu   sync.RWMutex
	seen map[string]T
	full atomic.Bool // maxDecodedTexts are kept: no more are
}

// decode decodes the JSON text, or returns what it decoded to before.
func (d *decodedTexts[T]) decode(text string) (T, error) {
	d.mu.RLock()
	v, ok := d.seen[text]
	d.mu.RUnlock()
	if ok {
		return v, nil
	}
	return d.decodeNew(text)
}

// decodeNew decodes a text not seen before and keeps what it decoded to.
// It is a function of its own so that decode, for a text it finds, does
// not allocate: the value json.Unmarshal decodes into escapes to the heap.
func (d *decodedTexts[T]) decodeNew(text string) (T, error) {
	var v T
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return v, err
	}
	if len(text) > maxDecodedTextBytes || d.full.Load() {
		return v, nil
	}
	d.mu.Lock()
	if len(d.seen) < maxDecodedTexts {
		d.seen[text] = v
	} else {
		d.full.Store(true)
	}
	d.mu.Unlock()
	return v, nil
}
