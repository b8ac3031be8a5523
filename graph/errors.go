package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/requestid"
)

// resolverError marks an error that a resolver returned, as opposed to one
// gqlgen raised itself while reading the request (a malformed argument).
// The two are presented differently: the first may carry internal detail,
// the second is the client's own input.
type resolverError struct{ err error }

func (e resolverError) Error() string { return e.err.Error() }
func (e resolverError) Unwrap() error { return e.err }

// markResolverErrors is a field middleware that marks every error a
// resolver returns.
func markResolverErrors(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err != nil && !errors.As(err, new(resolverError)) {
		err = resolverError{err}
	}
	return res, err
}

// onRootField is ctx with the path of the root field being resolved, for
// the errors a root-field middleware adds (a refused input, a mutation the
// policy refuses, a transaction that failed): they have no field context
// of their own, so they carried no path, and in a document of several
// mutations the client could not tell which null each explained (a hunt
// over HTTP).
func onRootField(ctx context.Context) context.Context {
	return graphql.WithPathContext(ctx, graphql.NewPathWithField(graphql.GetRootFieldContext(ctx).Field.Alias))
}

// errorPresenter maps every error to one of the codes of apperr, with a
// message meant for a person. Anything not known to be safe becomes
// INTERNAL with the request id; the details go to the log only.
type errorPresenter struct {
	logger *slog.Logger
	schema *ast.Schema
}

// present is the error as the client gets it: its code and message
// (coded), and where it points in the request's document (locate).
func (p errorPresenter) present(ctx context.Context, err error) *gqlerror.Error {
	out := p.coded(ctx, err)
	locate(ctx, out, err)
	return out
}

// coded maps err to its code, message and extensions, at its path.
func (p errorPresenter) coded(ctx context.Context, err error) *gqlerror.Error {
	out := graphql.DefaultErrorPresenter(ctx, err)
	var ae *apperr.Error
	var ge *gqlerror.Error
	var re resolverError
	switch {
	case errors.As(err, &ae):
		if ae.Field == "" {
			// A scalar's refusal of an argument (an Int sent as a string)
			// comes at the field's path and the argument's, which is no
			// response key: it is said at the field's, naming the
			// argument in extensions.field as every other refusal of
			// input does (a hunt over HTTP).
			if path, arg, ok := argumentPath(ctx, out.Path); ok {
				copied := *ae
				copied.Field = arg
				ae = &copied
				out.Path = path
			}
		}
		if placed := p.whereItSits(ctx, ae.Field); placed != ae.Field {
			copied := *ae
			copied.Field = placed
			ae = &copied
		}
		return withCode(out, ae.Code, ae.Message, ae, requestid.FromContext(ctx))
	// The request's end (its deadline, or the client gone) reaches fields
	// that no resolver answers too: the field limits stop every field
	// once the context is done, and those errors are not a resolver's.
	// Either way it is the same answer, never the client's input.
	// PostgreSQL reports a statement stopped for the request's end, or
	// for its statement timeout, as an error of its own (57014).
	// The answer carries one of these (requestEndErrors finds them).
	case errors.Is(err, context.DeadlineExceeded), database.IsStatementCanceled(err) && !errors.Is(ctx.Err(), context.Canceled):
		out.Err = requestEnded{err}
		return withCode(out, apperr.Unavailable, deadlineMessage(ctx), nil, requestid.FromContext(ctx))
	case errors.Is(err, context.Canceled), database.IsStatementCanceled(err):
		out.Err = requestEnded{err}
		return withCode(out, apperr.Unavailable, "The request was cancelled.", nil, requestid.FromContext(ctx))
	case errors.As(err, &re):
		inner := re.err
		switch {
		// A resolver's not-found (a non-null edge to a row outside the
		// caller's rows, as a court's own decision's prosecution in a
		// proceeding it does not see) says what node(id:)'s says: it said
		// "Not found." until 2026-12-07 (twenty-second session).
		case errors.As(inner, &ge) && ge.Extensions["code"] == "NOT_FOUND", ent.IsNotFound(inner):
			return withCode(out, apperr.NotFound, apperr.RecordNotFoundMessage, nil, "")
		case database.IsUnavailable(inner):
			return p.databaseUnavailable(ctx, out, inner)
		case database.IsCollision(inner):
			return p.collision(ctx, out, inner)
		}
		return p.internal(ctx, out, inner)
	}
	// No operation at all: gqlgen could not read the request (malformed
	// JSON, a body cut off). Its message may quote the body, which can
	// carry a victim's data: neither the client nor the log gets it.
	if !graphql.HasOperationContext(ctx) {
		return withCode(out, apperr.BadUserInput, "The request could not be read: send a JSON GraphQL request (query, variables, operationName).", nil, "")
	}
	// Not from a resolver: gqlgen's own errors about the request (parse,
	// validation, argument coercion, entgql's node-not-found).
	if code, _ := out.Extensions["code"].(string); code == "NOT_FOUND" {
		// entgql's "Could not resolve to a node…" (nodes(ids:)), in
		// node(id:)'s words.
		return withCode(out, apperr.NotFound, apperr.RecordNotFoundMessage, nil, "")
	}
	if msg, ok := operationNotFound(ctx); ok {
		return withCode(out, apperr.BadUserInput, msg, nil, "")
	}
	if len(out.Path) > 1 && out.Path[0] == ast.PathName("variable") {
		if out.Message == "unknown field" && len(out.Path) > 2 {
			// The last step of the path is the key the client sent, which
			// may be anything (a review sent a name): the input object
			// is named instead.
			out.Path = out.Path[:len(out.Path)-1]
			return withCode(out, apperr.BadUserInput, "$"+out.Path[1:].String()+" has a field its type does not have.", nil, "")
		}
		return withCode(out, apperr.BadUserInput, variableMessage(out.Path, out.Message), nil, "")
	}
	if code, _ := out.Extensions["code"].(string); code == "GRAPHQL_VALIDATION_FAILED" || code == "GRAPHQL_PARSE_FAILED" || out.Rule != "" {
		// gqlparser's messages describe the document, never data.
		return withCode(out, apperr.BadUserInput, out.Message, nil, "")
	}
	if out.Err != nil || errors.As(err, &ge) && ge.Err != nil {
		// An argument that could not be read into its Go type (an id that
		// is not a number, a malformed time): say where, not Go's words.
		msg := "A value in the request is not valid"
		if len(out.Path) > 0 {
			msg += " (at " + out.Path.String() + ")"
		}
		return withCode(out, apperr.BadUserInput, msg+".", nil, "")
	}
	return p.internal(ctx, out, err)
}

// locate sets where out, err as presented, points in the request's
// document: the one rule of every error the client gets (docs/errors.md,
// "Where an error points"), here and nowhere else.
//
//   - An error at a field of the answer (one with a path, raised while
//     the operation runs) points at that field: the position of the
//     field its path names, as gqlgen's field context holds it (its own
//     position, under its alias, in the fragment that asks for it); an
//     error at an element of a list (nodes' second id) at the list's
//     field. gqlgen already gave a resolver's own error that location;
//     the errors a root field's middleware adds (a mutation the policy
//     refuses, an input the rules refuse, a transaction that could not
//     begin or commit) and those added at an element of a list had
//     none.
//   - A refusal of a variable's value points at the variable's
//     definition, and one made before any field runs that names a point
//     (apperr.Error.At: the field whose argument it refuses, a field
//     asked for twice) at that point; it has no path, there being no
//     answer.
//   - gqlparser's own errors (a document that does not parse or
//     validate) keep the locations gqlparser gave them.
//   - The rest, about the request as a whole (its cost, its size, an
//     operation not named), point nowhere.
func locate(ctx context.Context, out *gqlerror.Error, err error) {
	executing := graphql.GetFieldContext(ctx) != nil || graphql.GetRootFieldContext(ctx) != nil
	switch {
	case executing && len(out.Path) > 0:
		out.Locations = fieldLocations(ctx, out.Path)
	case executing:
	case len(out.Path) > 1 && out.Path[0] == ast.PathName("variable") && graphql.HasOperationContext(ctx):
		if op := graphql.GetOperationContext(ctx).Operation; op != nil {
			if name, ok := out.Path[1].(ast.PathName); ok {
				if def := op.VariableDefinitions.ForName(string(name)); def != nil {
					out.Locations = locations(def.Position)
				}
			}
		}
	default:
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.At.Line > 0 {
			out.Locations = []gqlerror.Location{{Line: ae.At.Line, Column: ae.At.Column}}
		}
	}
}

// fieldLocations are the locations of an error at path in the answer of
// the operation of ctx: the position of the field at path (an element of
// a list: of the list's field), from the field context of ctx when it or
// one of its parents is that field's, the root field's context for the
// errors of a root field's middleware, and else (once the answer is
// built: a value withheld, audit.go) from the operation's document. None
// when no field of the operation is at path.
func fieldLocations(ctx context.Context, path ast.Path) []gqlerror.Location {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if fc.Field.Field != nil && atOrInList(path, fc.Path()) {
			return locations(fc.Field.Position)
		}
	}
	if rc := graphql.GetRootFieldContext(ctx); rc != nil && rc.Field.Field != nil && atOrInList(path, ast.Path{ast.PathName(rc.Field.Alias)}) {
		return locations(rc.Field.Position)
	}
	if !graphql.HasOperationContext(ctx) {
		return nil
	}
	if op := graphql.GetOperationContext(ctx).Operation; op != nil {
		if f := fieldAt(op.SelectionSet, path); f != nil {
			return locations(f.Position)
		}
	}
	return nil
}

// atOrInList reports whether path is field's own, or that of an element
// of its list (of a list of lists).
func atOrInList(path, field ast.Path) bool {
	if len(field) == 0 || len(path) < len(field) || !slices.Equal(path[:len(field)], field) {
		return false
	}
	for _, el := range path[len(field):] {
		if _, index := el.(ast.PathIndex); !index {
			return false
		}
	}
	return true
}

// fieldAt is the field of set (an operation's selections) answered at
// path: at each step the first field of that response key in the
// document's order, through fragments, and below it the selections of
// every field answered under that key, as gqlgen collects them. Under an
// interface or union two fragments may answer one key with different
// fields; the first is taken.
func fieldAt(set ast.SelectionSet, path ast.Path) *ast.Field {
	sets := []ast.SelectionSet{set}
	var found *ast.Field
	for _, el := range path {
		key, named := el.(ast.PathName)
		if !named {
			continue // an element of the list found last
		}
		found = nil
		var under []ast.SelectionSet
		for _, s := range sets {
			eachField(s, func(f *ast.Field) {
				if responseKey(f) == string(key) {
					if found == nil {
						found = f
					}
					under = append(under, f.SelectionSet)
				}
			})
		}
		if found == nil {
			return nil
		}
		sets = under
	}
	return found
}

// locations is pos as an error's locations; none for nil.
func locations(pos *ast.Position) []gqlerror.Location {
	if pos == nil || pos.Line == 0 {
		return nil
	}
	return []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
}

// argumentPath splits path, an error's, into the path of the field being
// resolved and what follows it ("expectedVersion", "input.sentenceMonths"):
// an argument of that field. ok is false when path is the field's own or
// not under it.
func argumentPath(ctx context.Context, path ast.Path) (field ast.Path, arg string, ok bool) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return nil, "", false // not a field's context (an error of the whole request)
	}
	field = fc.Path()
	if len(field) == 0 || len(path) <= len(field) || !slices.Equal(path[:len(field)], field) {
		return nil, "", false
	}
	// Only one of the field's own arguments: an error the field's answer
	// holds under it (a withheld value) keeps its path.
	name, named := path[len(field)].(ast.PathName)
	if !named || fc.Field.Definition.Arguments.ForName(string(name)) == nil {
		return nil, "", false
	}
	return field, strings.TrimPrefix(path[len(field):].String(), "."), true
}

// gqlparser's refusals of a variable's value that quote the value or name
// Go's types: "Maria Hoxha born 1990-02-03 is not a valid Sex" (a value
// sent in the wrong field: a victim's name in the log of every proxy that
// keeps answers), "cannot use map as ID", "cannot use string as Int" (a
// JSON 24.0, read as a json.Number), "must be a UpdateCaseInput, not a
// slice". Each keeps the GraphQL type it wanted and nothing else.
var (
	cannotUseAs = regexp.MustCompile(`^cannot use .* as (\w+)`)
	notAValid   = regexp.MustCompile(` is not a valid (\w+)$`)
	mustBeNotA  = regexp.MustCompile(`^must be a (\w+), not a \w+$`)
	enumsMustBe = "enums must be ints or strings"
)

// variableMessage is gqlparser's refusal of a variable's value (path
// variable.<name>…) as a person reads it, naming where it sits ($in.sex)
// and the type wanted, never the value sent (a hunt over HTTP).
func variableMessage(path ast.Path, msg string) string {
	where := "$" + path[1:].String()
	if m := cannotUseAs.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s must be a value of type %s.", where, m[1])
	}
	if m := notAValid.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s is not a value of the enum %s.", where, m[1])
	}
	if m := mustBeNotA.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s must be a %s object.", where, m[1])
	}
	if msg == enumsMustBe {
		return where + " must be a name of its enum."
	}
	// The rest name no value: "must be defined", "cannot be null".
	return where + " " + msg + "."
}

// whereItSits names a resolver's error field where it sits in the request
// (docs/input.md), as the input check names the fields it refuses. The
// rules of casework name the field of a mutation's input they refuse
// ("officeID"), whatever the mutation's arguments; in a mutation that
// takes them in an input object ("registerProsecution(input:)",
// "updateProsecution(id:, expectedVersion:, input:)") that field sits at
// "input.officeID"; likewise a statistics filter's month sits at
// "where.from". A name that is an argument of the field itself
// ("id", a stage's "at"), a path already ("input.x", "Victim.legalName"),
// an error of a nested field, or a name the input object does not have,
// is left as it is.
func (p errorPresenter) whereItSits(ctx context.Context, field string) string {
	if field == "" || strings.ContainsAny(field, ".[") || p.schema == nil {
		return field
	}
	// The root field's: its parent, if any, is the operation's object
	// (Mutation), which gqlgen gives a context without a field. A root
	// field middleware's error has no field context of its own.
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil || fc.Parent != nil && fc.Parent.Field.Field != nil {
		return field
	}
	args := fc.Field.Definition.Arguments
	if args.ForName(field) != nil {
		return field
	}
	for _, object := range []string{"input", "where"} {
		arg := args.ForName(object)
		if arg == nil {
			continue
		}
		if def := p.schema.Types[arg.Type.Name()]; def != nil && def.Kind == ast.InputObject && def.Fields.ForName(field) != nil {
			return object + "." + field
		}
	}
	return field
}

// databaseUnavailable answers a resolver that could not reach the
// database (database.IsUnavailable): the client did nothing wrong and
// should retry shortly, so UNAVAILABLE with the request id, not INTERNAL.
// database/sql has already tried a fresh connection where that was safe.
func (p errorPresenter) databaseUnavailable(ctx context.Context, out *gqlerror.Error, err error) *gqlerror.Error {
	id := requestid.FromContext(ctx)
	p.logger.ErrorContext(ctx, "database unavailable", "request_id", id, "path", out.Path.String(), "error", err.Error())
	return withCode(out, apperr.Unavailable, "The database cannot be reached right now; try again in a few seconds. Quote the request id "+id+" if it persists.", nil, id)
}

// collision answers a statement PostgreSQL aborted because another
// transaction held what it needed (database.IsCollision): its whole
// transaction was undone, so the mutation wrote nothing, and sending it
// again normally succeeds. Each mutation of a document has a transaction
// of its own: the message speaks of this one only. UNAVAILABLE, as for any failure that is
// neither the client's nor a bug.
func (p errorPresenter) collision(ctx context.Context, out *gqlerror.Error, err error) *gqlerror.Error {
	id := requestid.FromContext(ctx)
	p.logger.WarnContext(ctx, "transaction collided with another and was undone", "request_id", id, "path", out.Path.String(), "error", err.Error())
	return withCode(out, apperr.Unavailable, "This change collided with another one on the same records at the same moment and was undone, so it was not saved (the request's other changes, if any, stand). Send this one again.", nil, id)
}

// internal logs err (never the request's variables) and hides it.
func (p errorPresenter) internal(ctx context.Context, out *gqlerror.Error, err error) *gqlerror.Error {
	id := requestid.FromContext(ctx)
	p.logger.ErrorContext(ctx, "internal error", "request_id", id, "path", out.Path.String(), "error", err.Error())
	return withCode(out, apperr.Internal, "Internal error. Quote the request id "+id+" when you report it.", nil, id)
}

func withCode(out *gqlerror.Error, code apperr.Code, message string, ae *apperr.Error, reqID string) *gqlerror.Error {
	out.Message = message
	out.Extensions = map[string]any{"code": string(code)}
	if ae != nil {
		if ae.Field != "" {
			out.Extensions["field"] = ae.Field
		}
		for k, v := range ae.Details {
			out.Extensions[k] = v
		}
	}
	if reqID != "" && (code == apperr.Internal || code == apperr.Unavailable || code == apperr.AuditUnavailable) {
		out.Extensions["requestId"] = reqID
	}
	out.Rule = ""
	return out
}

// recoverFunc turns a panic in a resolver into INTERNAL, logging the stack.
func (p errorPresenter) recoverFunc(ctx context.Context, v any) error {
	p.logger.ErrorContext(ctx, "panic while resolving", "request_id", requestid.FromContext(ctx),
		"panic", v, "stack", string(debug.Stack()))
	return resolverError{errors.New("panic while resolving")}
}

// operationNotFound says why a document's operation was not found, when
// that is the request's error: gqlgen's "operation %s not found" read
// "operation  not found" for a document of several operations sent
// without an operationName, and did not say what to do.
func operationNotFound(ctx context.Context) (string, bool) {
	if !graphql.HasOperationContext(ctx) {
		return "", false
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation != nil || oc.Doc == nil {
		return "", false
	}
	// (A document without operations fails gqlgen's parse before this.)
	if oc.OperationName == "" {
		return fmt.Sprintf("The document has %d operations: name the one to run in operationName.", len(oc.Doc.Operations)), true
	}
	return fmt.Sprintf("The document has no operation named %q.", truncate(oc.OperationName, 60)), true
}

// deadlineMessage is what a field stopped by the request's deadline says.
// In a mutation it says the change was not made: a mutation commits only
// when it and its payload finished in time (mutationTransactions), and an
// integrator must know whether to retry (a hunt over HTTP: one stopped in
// its resolver said only that the request took too long, one stopped at
// its commit that the change was not made).
func deadlineMessage(ctx context.Context) string {
	if graphql.HasOperationContext(ctx) && isMutation(graphql.GetOperationContext(ctx)) {
		return changeNotMadeInTime
	}
	return "The request took too long; try again or ask for less."
}

// changeNotMadeInTime is the error of a mutation the deadline stopped.
const changeNotMadeInTime = "The request took too long, so the change was not made; try again."
