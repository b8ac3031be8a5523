package graph

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/casework"
	"github.com/casegraph/casegraph/input"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// FieldGuard decides whether a principal may read a sensitive field, named
// as "Type.field" (e.g. "Victim.legalName"), of one object, and says what
// decided it. It is asked on every path that reaches the field.
type FieldGuard interface {
	CanReadField(ctx context.Context, p *viewer.Principal, field string, obj any) (audit.Access, error)
}

// MutationGuard decides whether the caller may call a mutation with the
// input it sent: calling the mutation at all (CheckCall), and writing
// each sensitive field the input writes (CheckWrites, fieldsWritten). Each
// returns a FORBIDDEN *apperr.Error when not.
type MutationGuard interface {
	CheckCall(ctx context.Context, mutation string) error
	CheckWrites(ctx context.Context, mutation, inputType string, written []string) error
}

// PowerGuard decides whether the caller holds a power of the policy: an
// action on an object that is neither a field nor a mutation (the table
// policies.Powers), which field ("Query.auditEvents") needs. An error
// refuses the field without deciding (a policy that may be stale).
type PowerGuard interface {
	HoldsPower(ctx context.Context, field, object, action string) (bool, error)
}

// allowedDirective implements @allowed: the field resolves only for a
// caller who holds the power it names; anyone else gets FORBIDDEN with the
// power's refusal and the resolver never runs. A power missing from the
// table is a mistake in the schema, which graph's schema test catches; it
// is refused too.
func allowedDirective(guard PowerGuard) func(ctx context.Context, obj any, next graphql.Resolver, object, action string) (any, error) {
	return func(ctx context.Context, _ any, next graphql.Resolver, object, action string) (any, error) {
		var field string
		fc := graphql.GetFieldContext(ctx)
		if fc != nil {
			field = fc.Object + "." + fc.Field.Name
		}
		power, known := policies.PowerOf(object, action)
		held := false
		if known && guard != nil {
			var err error
			// Refused undecided (UNAVAILABLE) while the policy may be
			// stale, as a sensitive field is: nothing is decided about
			// the caller, so nothing is recorded.
			if held, err = guard.HoldsPower(ctx, field, object, action); err != nil {
				return nil, err
			}
		}
		if !held {
			// Who tried to read the audit trail or the statistics without
			// the power is for a DPO to see, as a refused field is.
			if rec := audit.FromContext(ctx); rec != nil && fc != nil {
				rec.Refusal(audit.FieldAccess, []string{field}, "does not hold the power "+object+" "+action)
			}
			return nil, apperr.Errorf(apperr.Forbidden, "%s", power.Refusal)
		}
		return next(ctx)
	}
}

// checkMutations is a root-field middleware, inside the mutation's
// transaction (handler.go), that asks guard whether the caller may make
// the mutation, so that a refused mutation changes nothing:
//   - the call is asked of every request, a replay too, and refused before
//     the resolver runs;
//   - a sensitive field the input writes is refused before the resolver
//     runs, but for an idempotent create (sent with an idempotencyKey):
//     the replay of a write already made writes nothing, and is answered
//     (docs/mutations.md). casework tells a replay from a write under the
//     key's lock and refuses the write (casework.RefusedUnlessReplay).
//     Such a refusal is recorded as any refused write, also when the
//     create failed first on something else (its input); a create that
//     resolved without being told apart (not made through casework) is
//     refused after all, and rolls back.
func checkMutations(guard MutationGuard) graphql.RootFieldMiddleware {
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
			return next(ctx)
		}
		field := graphql.GetRootFieldContext(ctx).Field
		// What a mutation's justification argument says is on every event
		// the field records, its refusals included (audit.Recorder.Justify).
		// Only that argument is read: ArgumentMap would build every
		// argument of every mutation, input objects and all.
		if rec := audit.FromContext(ctx); rec != nil {
			if a := field.Arguments.ForName("justification"); a != nil {
				if v, err := a.Value.Value(oc.Variables); err == nil {
					if j, ok := v.(string); ok {
						rec.Justify(j)
						defer rec.Justify("")
					}
				}
			}
		}
		if err := guard.CheckCall(ctx, field.Name); err != nil {
			return refuseMutation(ctx, field, oc.Variables, err)
		}
		inputType, written := fieldsWritten(field, oc.Variables)
		err := guard.CheckWrites(ctx, field.Name, inputType, written)
		switch {
		case err == nil:
			return next(ctx)
		case !idempotencyKeyGiven(field, oc.Variables):
			return refuseMutation(ctx, field, oc.Variables, err)
		}
		ctx, replayed := casework.RefusedUnlessReplay(ctx, err)
		out := next(ctx)
		if replayed() {
			return out
		}
		if out == nil || out == graphql.Null {
			// Refused (casework returned the refusal) or failed before
			// it was told apart: its error is on the field already.
			recordPolicyRefusal(ctx, field, oc.Variables, err)
			return graphql.Null
		}
		return refuseMutation(ctx, field, oc.Variables, err)
	}
}

// refuseMutation refuses the mutation field with err, on its path, and
// records the refusal (recordPolicyRefusal).
func refuseMutation(ctx context.Context, field graphql.CollectedField, vars map[string]any, err error) graphql.Marshaler {
	recordPolicyRefusal(ctx, field, vars, err)
	graphql.AddError(onRootField(ctx), err)
	return graphql.Null
}

// recordPolicyRefusal records, in the audit trail, the mutation field
// refused by the policy with err. A mutation of one record (its id
// argument) is refused about that record, so that who tried to change a
// victim is found by the victim's id; it named no record.
func recordPolicyRefusal(ctx context.Context, field graphql.CollectedField, vars map[string]any, err error) {
	rec := audit.FromContext(ctx)
	if rec == nil {
		return
	}
	fields, reason := []string{"Mutation." + field.Name}, refusalReason(err)
	if typ, id := recordArgument(field, vars); typ != "" {
		rec.RefusedRecord(audit.Mutation, typ, id, fields, reason)
	} else {
		rec.Refusal(audit.Mutation, fields, reason)
	}
}

// idempotencyKeyGiven reports whether the mutation field was sent with an
// idempotencyKey (a create casework makes once: casework.createOnce).
func idempotencyKeyGiven(field graphql.CollectedField, vars map[string]any) bool {
	arg := field.Arguments.ForName("idempotencyKey")
	if arg == nil {
		return false
	}
	v, err := arg.Value.Value(vars)
	return err == nil && v != nil
}

// recordArgumentNames are the arguments that name the record a mutation is
// about, in the order they are looked for: its id, or for a mutation about
// a case and no id (requestEmergencyAccess, assignAgencyToCase,
// linkVictimToCase) its caseID, so that a refused attempt is found under
// the case by the DPOs of the agencies on it.
var recordArgumentNames = []string{"id", "caseID"}

// namesItsType reports whether an id of record type typ, given in argument
// arg of field def, is of the type the argument asks for: an id argument
// the type the field returns (updateCase's id a Case), caseID a Case,
// victimID a Victim. A refusal is filed under the id only then: any id
// may be sent, and updateCase(id: <a victim's id>) refused was an event
// "about" the victim, noise in a person's trail that anyone could add (a
// review). A field returning an interface (node) takes any type.
func namesItsType(def *ast.FieldDefinition, arg, typ string) bool {
	if typ == "" || def == nil {
		return false
	}
	want := strings.TrimSuffix(arg, "ID")
	if arg == "id" {
		want = def.Type.Name()
		if want == "Node" {
			return true
		}
	}
	return strings.EqualFold(want, typ)
}

// recordArgument is the record a mutation names (recordArgumentNames), and
// its type; "" when it names none, or an id of no record type.
func recordArgument(field graphql.CollectedField, vars map[string]any) (string, int) {
	var arg *ast.Argument
	for _, name := range recordArgumentNames {
		if arg = field.Arguments.ForName(name); arg != nil {
			break
		}
	}
	if arg == nil {
		return "", 0
	}
	v, err := arg.Value.Value(vars)
	if err != nil {
		return "", 0
	}
	id, err := input.UnmarshalID(v)
	if err != nil {
		return "", 0
	}
	typ := rowscope.TypeOfID(id)
	if !namesItsType(field.Definition, arg.Name, typ) {
		return "", 0
	}
	return typ, id
}

// fieldsWritten returns the type of the mutation's "input" argument and
// the fields of it the client's input writes (writes): a field sent as
// null, or a clearX flag sent as false, writes nothing, so it asks the
// role for nothing. Until 2026-12-06 every key sent was asked for, and an
// investigator's retry spelling out healthNotes: null was refused
// "Your role may not write Victim.healthNotes" instead of replayed.
func fieldsWritten(field graphql.CollectedField, vars map[string]any) (string, []string) {
	arg := field.Arguments.ForName("input")
	if arg == nil || field.Definition == nil {
		return "", nil
	}
	def := field.Definition.Arguments.ForName("input")
	if def == nil {
		return "", nil
	}
	val, err := arg.Value.Value(vars)
	if err != nil {
		return def.Type.Name(), nil
	}
	m, _ := val.(map[string]any)
	written := make([]string, 0, len(m))
	for name, v := range m {
		if writes(name, v) {
			written = append(written, name)
		}
	}
	return def.Type.Name(), written
}

// refusalReason is the message of a refusal, for the audit trail.
func refusalReason(err error) string {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return "refused"
}

// sensitiveDirective implements @sensitive: the field's value is resolved
// only when the guard allows it; otherwise the field is null with a
// FORBIDDEN error naming it, and the rest of the response stands. Either
// way the decision goes to the request's audit record, with the path of
// an allowed value so that it can be withheld if the record cannot be
// written.
func sensitiveDirective(guard FieldGuard) func(ctx context.Context, obj any, next graphql.Resolver, category SensitivityCategory) (any, error) {
	var names sync.Map // *ast.FieldDefinition → "Type.field"
	return func(ctx context.Context, obj any, next graphql.Resolver, _ SensitivityCategory) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		var field string
		if n, ok := names.Load(fc.Field.Definition); ok {
			field = n.(string)
		} else {
			field = fc.Object + "." + fc.Field.Name
			names.Store(fc.Field.Definition, field)
		}
		access, err := guard.CanReadField(ctx, viewer.FromContext(ctx), field, obj)
		if err != nil {
			return nil, err
		}
		if rec := audit.FromContext(ctx); rec != nil {
			var path ast.Path
			if access.Allowed {
				path = fc.Path()
				// Where the document asks for it, should it be withheld.
				valuesAskedKey.From(ctx).note(path, fc.Field.Position)
			}
			rec.FieldRead(fc.Object, entityID(obj), field, access, path)
		}
		if !access.Allowed {
			return nil, fieldRefused(field, access.Refusal)
		}
		return next(ctx)
	}
}

// fieldRefused is the FORBIDDEN error of a sensitive field, saying which
// kind of rule refused it (extensions.reason) and what the caller can do.
// Every kind is something the caller may know already: the policy is
// theirs to read, their agency's cases are theirs to list, and the
// consents of a victim they see are theirs to read (policies/README.md).
func fieldRefused(field string, why apperr.Refusal) error {
	var msg string
	switch why {
	case apperr.RefusedByRole:
		msg = "Your role may not read " + field + "."
	case apperr.RefusedByRow:
		msg = "You may not read " + field + " of this record: it is not in your agency's cases, proceedings or accepted referrals."
	case apperr.RefusedByConsent:
		msg = "You may not read " + field + " of this record: the victim's current consent does not cover your agency for this purpose."
	default:
		return &apperr.Error{Code: apperr.Forbidden, Field: field, Message: "You may not read " + field + "."}
	}
	return &apperr.Error{Code: apperr.Forbidden, Field: field, Message: msg, Details: map[string]any{"reason": string(why)}}
}

// entityID is the id of an ent entity (every one has an int ID field).
func entityID(obj any) int {
	v := reflect.ValueOf(obj)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		if f := v.Elem().FieldByName("ID"); f.IsValid() && f.CanInt() {
			return int(f.Int())
		}
	}
	return 0
}
