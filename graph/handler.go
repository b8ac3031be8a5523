package graph

import (
	"context"
	"log/slog"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/ent"
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
	// ComplexityLimit bounds the cost of one operation (gqlgen's fixed
	// complexity: one point a field, times the page size of lists).
	ComplexityLimit int
}

// DefaultComplexityLimit lets a dashboard fetch a page of 50 cases with
// their victims, prosecutions and agencies, and refuses far bigger trees.
const DefaultComplexityLimit = 50_000

// NewHandler returns the GraphQL handler: POST and GET (queries only)
// transports, introspection, a complexity limit, one transaction per
// mutation, and the error presenter.
func NewHandler(opts Options) *handler.Server {
	if opts.Enforcer == nil {
		panic("graph.NewHandler: an Enforcer is required (deny by default)")
	}
	if opts.Audit == nil {
		panic("graph.NewHandler: an audit Writer is required (audit is part of the read)")
	}
	return newHandler(opts, true)
}

// newHandler builds the handler; only a benchmark of the audit's cost
// builds one without it.
func newHandler(opts Options, audited bool) *handler.Server {
	if opts.ComplexityLimit == 0 {
		opts.ComplexityLimit = DefaultComplexityLimit
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	schema := NewExecutableSchema(Config{
		Resolvers:  &Resolver{client: opts.Client, enforcer: opts.Enforcer},
		Directives: DirectiveRoot{Sensitive: sensitiveDirective(opts.Enforcer)},
	})
	srv := handler.New(schema)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.FixedComplexityLimit(opts.ComplexityLimit))
	srv.Use(connectionArguments{})
	// The audit trail wraps the transaction: it writes what the
	// transaction did not (reads of queries, refusals) after it ends.
	var opener entgql.TxOpener = opts.Client
	if audited {
		srv.Use(auditTrail{writer: opts.Audit, logger: opts.Logger})
		opener = auditedTxOpener{client: opts.Client, writer: opts.Audit, dialect: opts.Audit.Dialect()}
	}
	srv.Use(transactioner{Transactioner: entgql.Transactioner{TxOpener: outcomeWatch{TxOpener: opener, logger: opts.Logger}}, logger: opts.Logger})
	srv.AroundFields(markResolverErrors)
	srv.AroundRootFields(checkMutations(opts.Enforcer))
	p := errorPresenter{logger: opts.Logger}
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		out := p.present(ctx, err)
		if audited {
			recordNotFound(ctx, out)
		}
		return out
	})
	srv.SetRecoverFunc(p.recoverFunc)
	return srv
}
