package graph

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/cost"
	"github.com/casegraph/casegraph/requestid"
	"github.com/casegraph/casegraph/viewer"
)

// requestLimits applies package cost to every operation: the document's
// shape before it is validated (validation's own work grows faster than
// the text), the operation's cost and page sizes before any resolver runs,
// the default page on connections that name none, and the caller's cost
// budget.
type requestLimits struct {
	limits cost.Limits
	schema cost.Schema
	// documents is the handler's cache of validated documents: a document
	// found there passed CheckText before.
	documents graphql.Cache[*ast.QueryDocument]
	// admission bounds the operations executing at once, and the heavy
	// ones by their costs.
	admission *Admission
	// maxAnswerBytes bounds the bytes a query's fields resolve: the
	// answer's limit (responseSizeLimit), reached while it is built.
	maxAnswerBytes int64
}

// cheapCost is the cost under which an operation needs no room among the
// heavy ones, only a slot (Admission): a page of a few dozen records.
const cheapCost = 2_000

func newRequestLimits(l cost.Limits, documents graphql.Cache[*ast.QueryDocument], maxResponseBytes int, admission *Admission) *requestLimits {
	return &requestLimits{limits: l, documents: documents, admission: admission.withCeiling(l.MaxCost),
		maxAnswerBytes: int64(maxResponseBytes)}
}

func (*requestLimits) ExtensionName() string { return "RequestLimits" }

func (l *requestLimits) Validate(es graphql.ExecutableSchema) error {
	l.schema = cost.NewSchema(es.Schema())
	return nil
}

// MutateOperationParameters implements graphql.OperationParameterMutator:
// it runs before the document is parsed and validated.
func (l *requestLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if _, ok := l.documents.Get(ctx, p.Query); ok {
		return nil
	}
	if err := cost.CheckText(p.Query, l.limits); err != nil {
		return requestError(err)
	}
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator: it
// runs after validation, with the variables, before execution.
func (l *requestLimits) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	report, err := cost.Measure(l.schema, oc.Doc, oc.Operation, oc.Variables, l.limits)
	if err != nil {
		return requestError(err)
	}
	if report.DefaultPages > 0 || report.OrderingTerms > 0 {
		oc.Doc, oc.Operation = cost.WithDefaultPages(oc.Doc, oc.Operation, oc.Variables, l.limits)
	}
	if budget, ok := CostBudgetOf(ctx); ok {
		if err := budget.Spend(report.Cost); err != nil {
			return requestError(err)
		}
	}
	oc.Stats.SetExtension(costStatsKey, report.Cost)
	b := newFieldBudget(report.Cost)
	// A mutation's answer is counted as a query's: the mutation whose
	// answer reaches the limit is not made (mutationTransactions), and
	// nothing after it is resolved. Until 2026-12-07 (twenty-third
	// session) it was not counted at all: a payload reading twenty aliases
	// of long testimonies through a case's victims and their cases (cost
	// about 20,000) was an answer of 385 MB, 2 GB of memory and 9 s of
	// CPU, its transaction open meanwhile.
	b.maxAnswerBytes = l.maxAnswerBytes
	oc.Stats.SetExtension(fieldBudgetKey, b)
	return nil
}

const (
	costStatsKey   = "cost"
	fieldBudgetKey = "fieldBudget"
)

// fieldBudget counts the fields an operation resolves. The cost model is an
// upper bound where it knows a list's size (a page), and an estimate where
// it cannot (a list without page arguments, such as a proceeding's
// defendants): lists that refer back to each other could make an answer
// far larger than its cost. An operation that resolves more fields than
// twice its cost, plus some slack, is stopped: each further field is an
// error, so the answer stops growing. Every field also stops once the
// request's context has ended (its deadline, or the client gone): gqlgen
// checks the context only where a resolver does.
//
// It also counts the bytes the fields' values take in the answer, up to
// maxAnswerBytes (0: not counted): the cost model counts values, not their
// length, so 20 pages of 100 victims' health notes of 80 KB built an
// answer of 160 MB, and half a gigabyte of memory, before
// responseSizeLimit refused it. Every value that can be long is counted
// (answerBytes): texts, and lists of ids or of any scalar. Past
// maxAnswerBytes each further field is an error, and responseSizeLimit
// refuses the answer as it would have.
type fieldBudget struct {
	resolved atomic.Int64
	limit    int64
	// introspected counts the fields of introspection past limit.
	introspected   atomic.Int64
	answerBytes    atomic.Int64
	maxAnswerBytes int64
}

// countAnswer adds the bytes a field's value takes in the answer, when it
// can be long (answerBytes), and reports whether the answer is still
// within maxAnswerBytes.
func (b *fieldBudget) countAnswer(ctx context.Context, value any) bool {
	if b == nil || b.maxAnswerBytes == 0 {
		return true
	}
	n := answerBytes(ctx, value)
	if n == 0 {
		return true
	}
	return b.answerBytes.Add(int64(n)) <= b.maxAnswerBytes
}

// overAnswerLimit reports whether the values counted went past the
// answer's limit: the answer will be refused (responseSizeLimit).
func (b *fieldBudget) overAnswerLimit() bool {
	return b.maxAnswerBytes > 0 && b.answerBytes.Load() > b.maxAnswerBytes
}

// answerOverflow is the error of a field past the answer's limit; the
// answer is then refused whole (responseSizeLimit).
var answerOverflow = &apperr.Error{Code: apperr.TooComplex, Message: "The answer grew past its size limit."}

// fieldSlack lets small operations resolve a few more fields than they cost.
const fieldSlack = 1_000

func newFieldBudget(cost int) *fieldBudget {
	return &fieldBudget{limit: 2*int64(cost) + fieldSlack}
}

// admitField counts one more field against the operation's field budget
// and refuses it once the budget is spent or the request has ended. It is
// a step of the one field middleware (fieldMiddleware), which counts the
// field's value against the budget it returns (nil when there is none).
func (l *requestLimits) admitField(ctx context.Context) (*fieldBudget, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A field is always resolved within an operation.
	oc := graphql.GetOperationContext(ctx)
	b, ok := oc.Stats.GetExtension(fieldBudgetKey).(*fieldBudget)
	if !ok {
		return nil, nil
	}
	if b.overAnswerLimit() {
		// The answer will be refused: nothing more of it is resolved
		// (no resolver, no statement).
		return nil, answerOverflow
	}
	if n := b.resolved.Add(1); n > b.limit {
		switch l.rootOf(ctx, oc) {
		case rootFixedCost:
			// Under a field of fixed cost (the access matrix), computed
			// whole in memory: its fields were paid for, each once
			// (cost.Measure refuses one asked for under a second name).
			b.resolved.Add(-1)
			return b, nil
		case rootIntrospection:
			if b.introspected.Add(1) <= introspectionFields {
				b.resolved.Add(-1)
				return b, nil
			}
		}
		return nil, tooLarge(n, b.limit)
	}
	return b, nil
}

// rootOf reports what kind of root field the field of ctx lies under. It
// is asked only of an operation over its fields budget.
func (l *requestLimits) rootOf(ctx context.Context, oc *graphql.OperationContext) rootKind {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return rootPriced
	}
	path := fc.Path()
	if len(path) == 0 {
		return rootPriced
	}
	root, ok := path[0].(ast.PathName)
	if !ok {
		return rootPriced
	}
	for _, sel := range oc.Operation.SelectionSet {
		if f, ok := sel.(*ast.Field); ok && f.Alias == string(root) && f.ObjectDefinition != nil {
			if cost.IsIntrospection(f) {
				return rootIntrospection
			}
			if _, fixed := l.limits.FixedCosts[f.ObjectDefinition.Name+"."+f.Name]; fixed {
				return rootFixedCost
			}
			return rootPriced
		}
	}
	return rootPriced
}

// What a root field's fields cost against the fields budget.
type rootKind int

const (
	rootPriced        rootKind = iota // each field counts
	rootFixedCost                     // paid for whole (FixedCosts)
	rootIntrospection                 // within introspectionFields
)

// introspectionFields bounds the fields an operation's introspection
// resolves past its budget. The cost model prices introspection at one
// point for each type, field, argument and value the schema can list
// (about 2,300), but GraphiQL's query reads a dozen fields of each (22,455
// in all), and was stopped past its budget: GraphiQL's documentation
// explorer never loaded. Its fields are finite only as far as a query
// stops nesting them (types of fields of types …), so they are bounded
// too.
const introspectionFields = 25_000

func tooLarge(n, limit int64) error {
	return &apperr.Error{Code: apperr.TooComplex,
		Message: fmt.Sprintf("The answer grew past %d fields, more than its cost foretold: ask for smaller pages or fewer nested lists.", limit),
		Details: map[string]any{"limit": "fields resolved", "value": n, "maximum": limit}}
}

// InterceptResponse implements graphql.ResponseInterceptor: it admits an
// operation once there is room for it (Admission) and for its answer
// (UnsentAnswers), before anything of it runs, or refuses it with
// UNAVAILABLE; the transport adds Retry-After (busyStatsKey). The answer
// built is counted as not yet sent before the room is given back.
func (l *requestLimits) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx) // a request that could not be read: nothing runs
	}
	oc := graphql.GetOperationContext(ctx)
	if dispatched, _ := oc.Stats.GetExtension(dispatchedStatsKey).(bool); !dispatched {
		// A request refused before it runs (unparsable, invalid, too
		// costly, over its budget) passes here too, with its errors: it
		// needs no room, and its own error is its answer (a review: it
		// queued, and was told to retry something that never succeeds).
		return next(ctx)
	}
	c, _ := oc.Stats.GetExtension(costStatsKey).(int)
	release, ok := l.admission.admit(ctx, c, viewer.FromContext(ctx).Key())
	if !ok {
		// Nothing of it ran: the caller's budget gets its cost back, or a
		// client retrying as Retry-After says through a busy spell would
		// spend its budget on refusals (a review).
		refundCost(ctx, c)
		id := requestid.FromContext(ctx)
		return busy(oc, id, "The server is busy; nothing of this request was done. Retry after the time in Retry-After, or ask for less. Quote the request id "+id+" if it persists.")
	}
	// Room to run, but its caller's answers built before may still be
	// waiting for its client to read them (they were built while it
	// waited): then it does not run either (UnsentAnswers).
	if refusal := checkUnsentAnswers(ctx); refusal != "" {
		release()
		refundCost(ctx, c)
		return busy(oc, requestid.FromContext(ctx), refusal)
	}
	defer release()
	resp := next(ctx)
	if resp != nil {
		// The answer is built, and waits to be sent from the moment the
		// room is given back (deferred): counted from before, so that an
		// operation given this room sees it.
		holdUnsentAnswer(ctx, len(resp.Data))
	}
	return resp
}

// busy is the answer of an operation refused before anything of it ran,
// for want of room (or of room for its answer): UNAVAILABLE with the
// request id, which the transport answers 503 with Retry-After
// (busyStatsKey).
func busy(oc *graphql.OperationContext, id, message string) *graphql.Response {
	oc.Stats.SetExtension(busyStatsKey, true)
	return &graphql.Response{Errors: gqlerror.List{{
		Message:    message,
		Extensions: map[string]any{"code": string(apperr.Unavailable), "requestId": id},
	}}}
}

// InterceptOperation implements graphql.OperationInterceptor, which gqlgen
// runs for an operation that will execute and not for a request refused
// before (DispatchError): it marks the operation for InterceptResponse.
func (l *requestLimits) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	graphql.GetOperationContext(ctx).Stats.SetExtension(dispatchedStatsKey, true)
	return next(ctx)
}

// dispatchedStatsKey marks an operation gqlgen dispatches to execute.
const dispatchedStatsKey = "dispatched"

// busyStatsKey marks an operation refused for want of room: the transport
// answers it 503 with Retry-After whatever the media type, as the rate
// limit answers 429.
const busyStatsKey = "busy"

// busyRetryAfter is the Retry-After of a refusal for want of room, in
// seconds: operations last tens of milliseconds, so a slot is soon free.
const busyRetryAfter = "1"

// CostBudget charges the cost of a request to its caller (per principal and
// per client address). The HTTP server installs one per request with
// WithCostBudget.
type CostBudget struct {
	// Spend charges an operation's cost before it runs; an error
	// (RATE_LIMITED) refuses it.
	Spend func(cost int) error
	// Charge adds what was only known once it ran (the audit events it
	// wrote), refusing nothing and kept whole, past the caller's limit if
	// need be: the caller's next requests pay for it.
	Charge func(cost int)
	// Refund gives back what Spend charged for an operation refused, for
	// want of room, before anything of it ran.
	Refund func(cost int)
}

// AuditEventCost is what each audit event a request writes adds to its
// caller's budget: a request is cheap to answer but its events stay in the
// append-only trail for good, so reading a page of victims' names one is
// refused writes a row each (and costs ten points each). An event about
// several records costs this for each of them (audit.Entries).
const AuditEventCost = 10

// chargeAuditEvents adds n written entries (audit.Entries) to the caller's
// budget.
func chargeAuditEvents(ctx context.Context, n int) {
	if budget, ok := CostBudgetOf(ctx); ok && budget.Charge != nil && n > 0 {
		budget.Charge(n * AuditEventCost)
	}
}

// refundCost gives cost back to the caller's budget (CostBudget.Refund).
func refundCost(ctx context.Context, cost int) {
	if budget, ok := CostBudgetOf(ctx); ok && budget.Refund != nil && cost > 0 {
		budget.Refund(cost)
	}
}

type costBudgetKey struct{}

// CostBudgetOf returns the budget ctx's operations are charged to.
func CostBudgetOf(ctx context.Context) (CostBudget, bool) {
	b, ok := ctx.Value(costBudgetKey{}).(CostBudget)
	return b, ok
}

// WithCostBudget returns ctx whose operations are charged to b.
func WithCostBudget(ctx context.Context, b CostBudget) context.Context {
	return context.WithValue(ctx, costBudgetKey{}, b)
}

// requestError turns an error about the request as a whole into the
// gqlerror gqlgen expects, with its code set already so that the transport
// picks the HTTP status from it (overHTTP); the error presenter completes
// it.
func requestError(err error) *gqlerror.Error {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		ae = apperr.Errorf(apperr.Internal, "%v", err)
	}
	return &gqlerror.Error{Message: ae.Message, Err: ae, Extensions: map[string]any{"code": string(ae.Code)}}
}

// responseSizeLimit drops the data of an answer over maxBytes, with a
// TOO_COMPLEX error: the cost model bounds the number of values, this
// bounds their size (long texts). It runs inside the audit trail, which
// then records no read as disclosed.
type responseSizeLimit struct{ maxBytes int }

func (responseSizeLimit) ExtensionName() string                   { return "ResponseSizeLimit" }
func (responseSizeLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l responseSizeLimit) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return resp
	}
	size := len(resp.Data)
	if graphql.HasOperationContext(ctx) {
		// The values resolved went past the limit: the answer was
		// stopped there, and is refused as one built whole would be.
		if b, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(fieldBudgetKey).(*fieldBudget); ok && b.overAnswerLimit() {
			size = max(size, int(b.answerBytes.Load()))
		}
	}
	if size <= l.maxBytes {
		return resp
	}
	if graphql.HasOperationContext(ctx) && isMutation(graphql.GetOperationContext(ctx)) {
		// The mutations of the answer before the one that reached the
		// limit are committed: dropping it would report as failed a
		// write that was made. That one and those after it are null and
		// were not made (mutationTransactions), and nothing was resolved
		// past it (fieldBudget): it is sent as it stands, with one error
		// for each root field stopped.
		resp.Errors = oneOverflowPerRootField(resp.Errors, size, l.maxBytes)
		return resp
	}
	resp.Data = nil
	resp.Errors = gqlerror.List{{
		Message: fmt.Sprintf("The answer would be at least %d bytes, over the limit of %d: ask for smaller pages or fewer fields.", size, l.maxBytes),
		Extensions: map[string]any{
			"code": string(apperr.TooComplex), "limit": "responseBytes", "value": size, "maximum": l.maxBytes,
		},
	}}
	return resp
}

// oneOverflowPerRootField keeps, of the errors of a mutation's answer
// stopped at its size limit (answerOverflow), the first of each root
// field, saying the limit: each field refused past it had one, hundreds in
// an answer. Each of those root fields is null, and its mutation was not
// made (mutationTransactions).
func oneOverflowPerRootField(errs gqlerror.List, size, maxBytes int) gqlerror.List {
	isOverflow := func(e *gqlerror.Error) bool { return errors.Is(e.Err, answerOverflow) }
	kept := firstPerRootField(errs, isOverflow)
	for _, e := range kept {
		if isOverflow(e) {
			e.Message = fmt.Sprintf("The answer reached its size limit of %d bytes here: this mutation and those after it were not made. Ask for fewer or shorter fields in its answer.", maxBytes)
			e.Extensions = map[string]any{
				"code": string(apperr.TooComplex), "limit": "responseBytes", "value": size, "maximum": maxBytes,
			}
		}
	}
	return kept
}

// maxErrorsPerRule bounds the errors each validation rule reports about
// one document: a client fixing a document reads the first few, and a
// document of 2,000 fields could otherwise answer with millions.
const maxErrorsPerRule = 10

// validationRules are gqlparser's rules with two bounds on what validating
// a document costs the server. No rule suggests names ("Did you mean"):
// each suggestion compares the unknown name with every name of its type
// letter by letter, so 2,000 unknown input fields of 480 letters in a
// where filter took 2 s of CPU; a client finds the names in the schema.
// And each rule reports at most maxErrorsPerRule errors. The rules keep
// the names gqlgen looks for (it adds its own suggesting rules only where
// none of that name is set: handler.SetDisableSuggestion(true) too).
func validationRules() *rules.Rules {
	withoutSuggestions := map[string]core.Rule{
		rules.FieldsOnCorrectTypeRule.Name: rules.FieldsOnCorrectTypeRuleWithoutSuggestions,
		rules.KnownArgumentNamesRule.Name:  rules.KnownArgumentNamesRuleWithoutSuggestions,
		rules.KnownTypeNamesRule.Name:      rules.KnownTypeNamesRuleWithoutSuggestions,
		rules.ScalarLeafsRule.Name:         rules.ScalarLeafsRuleWithoutSuggestions,
		rules.ValuesOfCorrectTypeRule.Name: rules.ValuesOfCorrectTypeRuleWithoutSuggestions,
	}
	var bounded []core.Rule
	for name, fn := range rules.NewDefaultRules().GetInner() {
		rule := core.Rule{Name: name, RuleFunc: fn}
		if quiet, ok := withoutSuggestions[name]; ok {
			rule = quiet
		}
		bounded = append(bounded, core.Rule{Name: rule.Name, RuleFunc: reportingAtMost(maxErrorsPerRule, rule.RuleFunc)})
	}
	return rules.NewRules(bounded...)
}

// reportingAtMost is rule reporting at most n errors a document: gqlparser
// calls a rule's function once for each document it validates.
func reportingAtMost(n int, rule core.RuleFunc) core.RuleFunc {
	return func(observers *core.Events, addError core.AddErrFunc) {
		reported := 0
		rule(observers, func(options ...core.ErrorOption) {
			if reported++; reported <= n {
				addError(options...)
			}
		})
	}
}
