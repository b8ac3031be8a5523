package graph

import (
	"context"
	"log/slog"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/cost"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/statistics"
	"github.com/casegraph/casegraph/trusted"
)

// Options configure the GraphQL handler.
type Options struct {
	Client *ent.Client
	Logger *slog.Logger
	// Enforcer is the access policy: it decides sensitive fields and
	// mutations, and changes the policy. Required.
	Enforcer *authz.Enforcer
	// Audit writes the audit trail (audit.Install). Required: a response
	// that carries sensitive values leaves only after its record is written.
	Audit *audit.Writer
	// Limits bound what one request may ask for (package cost); the zero
	// value means cost.DefaultLimits.
	Limits cost.Limits
	// MaxResponseBytes bounds an answer's data; 0 means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int
	// TrustedDocuments, when set, are the only documents the handler runs
	// (check them first with CheckTrustedDocuments); nil runs any.
	TrustedDocuments *trusted.Documents
	// StatisticsCache keeps statistics across requests for the callers who
	// see every row (statistics.Cache); nil keeps them for one request.
	StatisticsCache *statistics.Cache
	// StatisticsEditions are the fixed editions of closed years that
	// counts of people under disclosure control are served from
	// (statistics.Editions). Required.
	StatisticsEditions *statistics.Editions
	// Admission bounds the operations executed at once (one handler's
	// own); nil: DefaultOperations(0), DefaultQueued of them waiting.
	Admission *Admission
}

// DefaultMaxResponseBytes bounds an answer's data. The cost ceiling
// already bounds how many values an answer holds; this bounds their
// length (a page of long testimonies).
const DefaultMaxResponseBytes = 8 << 20

// NewHandler returns the GraphQL handler: GraphQL over HTTP (POST, and GET
// for queries; see overHTTP), introspection, the limits of package cost,
// one transaction per mutation (docs/mutations.md), the checks of every
// argument against package input's rules (docs/input.md), and the error
// presenter.
func NewHandler(opts Options) *handler.Server {
	if opts.Enforcer == nil {
		panic("graph.NewHandler: an Enforcer is required (deny by default)")
	}
	if opts.StatisticsEditions == nil {
		panic("graph.NewHandler: StatisticsEditions are required (counts of people are served from editions)")
	}
	if opts.Audit == nil {
		panic("graph.NewHandler: an audit Writer is required (audit is part of the read)")
	}
	return newHandler(opts, true)
}

// newHandler builds the handler; only a benchmark of the audit's cost
// builds one without it.
func newHandler(opts Options, audited bool) *handler.Server {
	if opts.Limits.MaxCost == 0 {
		opts.Limits = cost.DefaultLimits()
	}
	if opts.MaxResponseBytes == 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	schema := NewExecutableSchema(Config{
		Resolvers:  &Resolver{client: opts.Client, enforcer: opts.Enforcer},
		Directives: DirectiveRoot{Sensitive: sensitiveDirective(opts.Enforcer), Allowed: allowedDirective(opts.Enforcer)},
	})
	srv := handler.New(schema)
	srv.AddTransport(overHTTP{})
	documents := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(documents)
	srv.SetParserTokenLimit(opts.Limits.MaxTokens)
	srv.SetValidationRulesFn(validationRules)
	srv.SetDisableSuggestion(true)
	srv.Use(extension.Introspection{})
	// Registered documents are looked up first, then costed like others.
	srv.Use(trustedDocuments{docs: opts.TrustedDocuments})
	if opts.Admission == nil {
		opts.Admission = NewAdmission(DefaultOperations(0), DefaultQueued(DefaultOperations(0)))
	}
	// A variable's enum value in another case is refused as gqlparser
	// refuses a value of no enum, before the request is costed or charged.
	srv.Use(enumVariables{schema: schema.Schema()})
	limits := newRequestLimits(opts.Limits, documents, opts.MaxResponseBytes, opts.Admission)
	srv.Use(limits)
	srv.Use(connectionArguments{})
	// The panels of a dashboard that ask the same statistics table share
	// its one statement within the request (statistics.Readings); counts
	// of people are the server's editions'; a page's cursors, the key of
	// its ordering (pageOrderings). The fields that need a fact about
	// their record's case look up the cases of the records loaded
	// together (case_lookup.go); a where naming ids, looked up once for
	// the field of the document however many parents it has (askedByID).
	installCaseLookups(opts.Client)
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		return next(withAskedByID(withPageOrderings(withCaseLookups(statistics.WithEditions(statistics.WithReadings(ctx, opts.StatisticsCache), opts.StatisticsEditions)))))
	})
	// The audit trail writes what no mutation's transaction did (reads of
	// queries, refusals) after the operation ends. checkMutations is added
	// after the transactions, so it runs inside a mutation's (gqlgen runs
	// the first registered outermost; this said "first, opens none"): a
	// mutation it refuses, before its resolver or after it (a write
	// refused unless a replay), is null, and its transaction rolls back.
	var opener entgql.TxOpener = opts.Client
	if audited {
		srv.Use(auditTrail{writer: opts.Audit, logger: opts.Logger})
		opener = auditedTxOpener{client: opts.Client, writer: opts.Audit, dialect: opts.Audit.Dialect()}
	}
	// Registered after the audit trail, so it runs inside it: an answer
	// dropped for its size disclosed nothing, and no read is recorded.
	srv.Use(responseSizeLimit{maxBytes: opts.MaxResponseBytes})
	// Inside the audit trail too: one error for the request's end, and
	// the trail's own (AUDIT_UNAVAILABLE) added after, untouched.
	srv.Use(requestEndErrors{})
	if audited {
		// Before the transactions, so around them (gqlgen runs the first
		// registered outermost): what a rolled-back mutation's rule
		// consulted is still to be written once its transaction ends.
		srv.AroundRootFields(releaseNotedAnswers)
	}
	srv.Use(mutationTransactions{opener: opener, logger: opts.Logger})
	var lookup *ent.Client
	if audited {
		lookup = opts.Client
	}
	srv.AroundFields(fieldMiddleware(limits, lookup))
	// The policy first: a caller who may not call a mutation is refused
	// for that, and audited, whatever its input holds.
	srv.AroundRootFields(checkMutations(opts.Enforcer))
	srv.AroundRootFields(checkInput(schema.Schema()))
	p := errorPresenter{logger: opts.Logger, schema: schema.Schema()}
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		out := p.present(ctx, err)
		if audited {
			recordNotFound(ctx, out)
			recordRefusedMutation(ctx, out)
		}
		return out
	})
	srv.SetRecoverFunc(p.recoverFunc)
	return srv
}

// fieldMiddleware is the handler's one field middleware. gqlgen runs each
// field middleware on every field of an answer (about 1,500 on the
// dashboard page), each costing a closure and a few stack frames there, so
// the steps every field needs share one: the field budget and the
// request's end (requestLimits.admitField), the records a list's where
// asks for by id and does not show, when the trail is kept
// (recordIDsAsked, with lookup; nil otherwise), the marking of a
// resolver's errors (markResolverErrors), then the count of its value
// against the answer's size (fieldBudget.countAnswer).
func fieldMiddleware(limits *requestLimits, lookup *ent.Client) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		budget, err := limits.admitField(ctx)
		if err != nil {
			return nil, err
		}
		if lookup != nil {
			if err := recordIDsAsked(ctx, lookup); err != nil {
				// A failed look-up is the list's own failure (UNAVAILABLE
				// when the database is gone, INTERNAL and logged else), as
				// a resolver's is: returned bare, the presenter took it
				// for an argument that could not be read, BAD_USER_INPUT
				// (a review).
				return nil, resolverError{err}
			}
		}
		res, err := markResolverErrors(ctx, next)
		if err == nil && !budget.countAnswer(ctx, res) {
			return nil, answerOverflow
		}
		return res, err
	}
}
