package graph

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/ctxvalue"
	"github.com/casegraph/casegraph/requestid"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// auditTrail writes each operation's audit events before its response
// leaves. A mutation's events are written in its transaction (see
// auditedTxOpener); what is left (reads of a query, refusals, refusals of
// a mutation that rolled back) is written here, after the response is built
// and before it is sent. If that write fails, every sensitive value of the
// response is replaced by null, and every field's refusal by an
// AUDIT_UNAVAILABLE error: the rest of the response stands.
type auditTrail struct {
	writer *audit.Writer
	logger *slog.Logger
}

func (auditTrail) ExtensionName() string                   { return "AuditTrail" }
func (auditTrail) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements graphql.ResponseInterceptor. It runs
// outside the transaction of a mutation.
func (a auditTrail) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	rec := audit.FromContext(ctx)
	if rec == nil {
		// The HTTP server starts the record with the client's address;
		// this keeps any other way in audited too.
		rec = audit.NewRecorder(requestid.FromContext(ctx), "", viewer.FromContext(ctx))
		ctx = audit.NewContext(ctx, rec)
	}
	rec.SetOperation(operationLabel(graphql.GetOperationContext(ctx)))
	ctx = valuesAskedKey.With(ctx, &valuesAsked{})
	resp := next(ctx)
	if resp != nil && (len(resp.Data) == 0 || string(resp.Data) == "null") {
		// A mutation rolled back, or an error nulled the whole answer: the
		// values read were not sent.
		rec.NothingReleased()
	}
	events := rec.Take()
	if len(events) == 0 || resp == nil {
		return resp
	}
	// The answer leaves whether or not the request's deadline has passed
	// (its errors say which fields it did not finish), and what it read
	// and refused until then is in it: so the events are written even when
	// the request's context is done, within a time of their own. Written
	// with the request's context, a request that ran to its deadline sent
	// its refusals (which say which victims have not consented) with no
	// event at all.
	wctx, cancel := audit.DetachedContext(ctx)
	defer cancel()
	if err := a.writer.Write(wctx, events); err != nil {
		a.logger.ErrorContext(ctx, "audit trail unavailable: withholding sensitive values",
			"request_id", requestid.FromContext(ctx), "error", err.Error(), "events", len(events))
		withhold(ctx, resp, rec.Released())
		return resp
	}
	chargeAuditEvents(ctx, audit.Entries(events))
	return resp
}

// releaseNotedAnswers is a root-field middleware: a root field whose
// resolver recorded a note (a read of the audit trail or of statistics,
// answered as a whole rather than field by field) has its answer released
// under that record, so that it is withheld if the record cannot be
// written, as sensitive values are. A field that cannot be null takes the
// whole answer with it.
func releaseNotedAnswers(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	rec := audit.FromContext(ctx)
	if rec == nil {
		return next(ctx)
	}
	mark := rec.Mark()
	out := next(ctx)
	field := graphql.GetRootFieldContext(ctx).Field
	answer := ast.Path{ast.PathName(field.Alias)}
	if field.Definition != nil && field.Definition.Type.NonNull {
		answer = ast.Path{}
	}
	rec.ReleaseNoted(mark, answer)
	return out
}

// operationLabel names an operation for the audit trail: its type and
// name, or its root fields when it has no name ("query victims,cases").
func operationLabel(oc *graphql.OperationContext) string {
	if oc == nil || oc.Operation == nil {
		return ""
	}
	label := string(oc.Operation.Operation)
	if oc.Operation.Name != "" {
		return label + " " + oc.Operation.Name
	}
	var roots []string
	for _, s := range oc.Operation.SelectionSet {
		if f, ok := s.(*ast.Field); ok {
			roots = append(roots, f.Name)
		}
	}
	return label + " " + strings.Join(roots, ",")
}

// withhold nulls the values at paths in resp and adds an
// AUDIT_UNAVAILABLE error for each. A response that cannot be rewritten
// loses its data altogether. A field's refusal is withheld too: a refused
// look is an event like a read, and a refusal whose event was not written
// would be an attempt on a victim's data that no DPO can find (and its
// reason, ROW or CONSENT, is a fact about the record).
func withhold(ctx context.Context, resp *graphql.Response, paths []ast.Path) {
	id := requestid.FromContext(ctx)
	// Built as the presenter builds every error at a field (withCode), at
	// the field's locations (locate): a refusal's own, which the presenter
	// gave it; a value's found in the document, the answer being built.
	// Until 2026-12-07 (twenty-fifth session) these were written here by
	// hand, without locations.
	unavailable := func(p ast.Path, at []gqlerror.Location) *gqlerror.Error {
		out := &gqlerror.Error{Path: p, Locations: at}
		return withCode(out, apperr.AuditUnavailable, "The audit trail is unavailable, so this value is withheld; try again later. Quote the request id "+id+" if it persists.", nil, id)
	}
	for i, e := range resp.Errors {
		if isFieldRefusal(e) {
			resp.Errors[i] = unavailable(e.Path, e.Locations)
		}
	}
	if len(paths) == 0 {
		return
	}
	data, err := nullPaths(resp.Data, paths)
	if err != nil || slices.ContainsFunc(paths, func(p ast.Path) bool { return len(p) == 0 }) {
		// Fail closed: a value that cannot be found to withhold is not
		// sent either.
		data = json.RawMessage("null")
	}
	resp.Data = data
	// An error under a withheld answer goes with it: a refusal decided by
	// a consulted field (a consent refused for the victim's age) tells as
	// much as a value would.
	resp.Errors = slices.DeleteFunc(resp.Errors, func(e *gqlerror.Error) bool {
		return slices.ContainsFunc(paths, func(p ast.Path) bool { return hasPrefix(e.Path, p) })
	})
	asked := valuesAskedKey.From(ctx).byPath()
	for _, p := range paths {
		at := locations(asked[p.String()])
		if at == nil {
			at = fieldLocations(ctx, p)
		}
		resp.Errors = append(resp.Errors, unavailable(p, at))
	}
}

// valuesAsked is where the request's document asks for each sensitive
// value the request read, by the value's path in the answer: the
// position of the field that answered it, from its field context as it
// was read (sensitiveDirective). withhold points each value's
// AUDIT_UNAVAILABLE there. The document alone cannot say which field
// answered a path when fragments on two types answer one response key
// (nodes(ids:) with ... on Victim { name: legalName } and ... on
// Suspect { name: legalName }) or a field left out by @skip or @include
// shares its key: until the twenty-sixth session (2026-12-07) the
// suspect's value pointed at the victim's field, and a value at the
// field left out (TestWhereErrorsPoint).
//
// A read notes its path and position only (the path is the one the
// audit trail keeps already); they are keyed by path only when values are
// withheld, so that the answers that are not pay for no string or map
// entry a value (about 1,200 allocations on the dashboard page of
// BenchmarkAuditOverhead when keyed as read).
type valuesAsked struct {
	mu    sync.Mutex
	asked []valueAsked
}

type valueAsked struct {
	path ast.Path
	pos  *ast.Position
}

var valuesAskedKey = &ctxvalue.Key[*valuesAsked]{}

// note records that the value at path was asked for at pos; nothing
// outside a request's answer (v nil).
func (v *valuesAsked) note(path ast.Path, pos *ast.Position) {
	if v == nil || pos == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.asked = append(v.asked, valueAsked{path, pos})
}

// byPath is where each value noted was asked for, by its path's string.
func (v *valuesAsked) byPath() map[string]*ast.Position {
	if v == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	at := make(map[string]*ast.Position, len(v.asked))
	for _, a := range v.asked {
		at[a.path.String()] = a.pos
	}
	return at
}

// isFieldRefusal reports whether e is a sensitive field's refusal
// (fieldRefused): FORBIDDEN at a path, with the kind of rule that refused.
func isFieldRefusal(e *gqlerror.Error) bool {
	code, _ := e.Extensions["code"].(string)
	_, reason := e.Extensions["reason"]
	return code == string(apperr.Forbidden) && reason && len(e.Path) > 0
}

// hasPrefix reports whether path lies under (or at) prefix.
func hasPrefix(path, prefix ast.Path) bool {
	if len(path) < len(prefix) {
		return false
	}
	for i, el := range prefix {
		if path[i] != el {
			return false
		}
	}
	return true
}

// nullPaths rewrites a JSON document with null at each path, keeping the
// order of object keys (GraphQL's response order).
func nullPaths(doc json.RawMessage, paths []ast.Path) (json.RawMessage, error) {
	var root jsonNode
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := root.decode(dec); err != nil {
		return nil, err
	}
	for _, p := range paths {
		if !root.null(p) {
			return nil, fmt.Errorf("no value at %v to withhold", p)
		}
	}
	var buf bytes.Buffer
	root.encode(&buf)
	return buf.Bytes(), nil
}

// jsonNode is a JSON value that keeps its object keys in order.
type jsonNode struct {
	keys   []string
	fields []*jsonNode // object members, in keys' order
	items  []*jsonNode // array items
	kind   byte        // '{', '[' or 0 for a scalar
	scalar json.RawMessage
}

func (n *jsonNode) decode(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		n.kind = byte(t)
		for dec.More() {
			if n.kind == '{' {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				n.keys = append(n.keys, k.(string))
			}
			child := &jsonNode{}
			if err := child.decode(dec); err != nil {
				return err
			}
			if n.kind == '{' {
				n.fields = append(n.fields, child)
			} else {
				n.items = append(n.items, child)
			}
		}
		_, err = dec.Token() // the closing delimiter
		return err
	default:
		n.scalar, err = json.Marshal(t)
		return err
	}
}

// null sets the value at p to null; false if p is not in the document
// (nor under a null parent, which holds nothing to withhold).
func (n *jsonNode) null(p ast.Path) bool {
	cur := n
	for i, el := range p {
		var next *jsonNode
		switch e := el.(type) {
		case ast.PathName:
			for j, k := range cur.keys {
				if k == string(e) {
					next = cur.fields[j]
				}
			}
		case ast.PathIndex:
			if int(e) < len(cur.items) {
				next = cur.items[e]
			}
		}
		if next == nil {
			return cur.kind == 0 && string(cur.scalar) == "null" // a null parent
		}
		if i == len(p)-1 {
			*next = jsonNode{scalar: json.RawMessage("null")}
			return true
		}
		cur = next
	}
	return false
}

func (n *jsonNode) encode(buf *bytes.Buffer) {
	switch n.kind {
	case '{':
		buf.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			buf.Write(kb)
			buf.WriteByte(':')
			n.fields[i].encode(buf)
		}
		buf.WriteByte('}')
	case '[':
		buf.WriteByte('[')
		for i, it := range n.items {
			if i > 0 {
				buf.WriteByte(',')
			}
			it.encode(buf)
		}
		buf.WriteByte(']')
	default:
		buf.Write(n.scalar)
	}
}

// auditedTxOpener opens the transaction of a mutation (see
// mutationTransactions) so that committing it first writes the request's
// pending audit events in it: the change, the reads of its payload and
// their record stand or fall together, and a change whose record cannot
// be written is not made.
type auditedTxOpener struct {
	client  *ent.Client
	writer  *audit.Writer
	dialect string
}

func (o auditedTxOpener) OpenTx(ctx context.Context) (context.Context, driver.Tx, error) {
	tx, err := o.client.BeginTx(ctx, audit.TxOptions(o.dialect))
	if err != nil {
		return nil, nil, err
	}
	txCtx := ent.NewContext(ent.NewTxContext(ctx, tx), tx.Client())
	t := &auditedTx{tx: tx, ctx: txCtx, writer: o.writer, rec: audit.FromContext(ctx)}
	if t.rec != nil {
		t.mark = t.rec.Mark()
	}
	return txCtx, t, nil
}

type auditedTx struct {
	tx     *ent.Tx
	ctx    context.Context
	writer *audit.Writer
	rec    *audit.Recorder
	mark   audit.Mark // where this transaction's events begin
}

func (t *auditedTx) Commit() error {
	if t.rec == nil {
		return t.tx.Commit()
	}
	events, failed := t.rec.TakeForCommit()
	if err := t.writer.WriteTx(t.ctx, t.tx, events); err != nil {
		// AUDIT_UNAVAILABLE: the change is not made without its record.
		_ = t.tx.Rollback()
		failed()
		return err
	}
	if err := t.tx.Commit(); err != nil {
		// Its refusals and consulted fields are written after the response
		// is built (or the answer withheld): if this commit took effect
		// after all, they are written twice, never lost.
		failed()
		return err
	}
	t.rec.Committed()
	return nil
}

func (t *auditedTx) Rollback() error {
	if t.rec != nil {
		t.rec.RolledBack(t.mark)
	}
	return t.tx.Rollback()
}

// errorRecord is the id of the record a root field's error is about: the
// argument its extensions.field names, when the field has that argument
// (requestEmergencyAccess's caseID not found, linkVictimToCase refused over
// its victimID), else the first of recordArgumentNames the field has; 0
// for none, or for an id of another type than the argument asks for
// (namesItsType).
func errorRecord(root *graphql.FieldContext, e *gqlerror.Error) int {
	named := func(arg string) (int, bool) {
		id, ok := root.Args[arg].(int)
		return id, ok && namesItsType(root.Field.Definition, arg, rowscope.TypeOfID(id))
	}
	if f, ok := e.Extensions["field"].(string); ok {
		if id, ok := named(f); ok {
			return id
		}
	}
	for _, name := range recordArgumentNames {
		if _, given := root.Args[name]; given {
			if id, ok := named(name); ok {
				return id
			}
			return 0
		}
	}
	return 0
}

// recordNotFound records a record asked for by id and not shown (NOT_FOUND:
// outside the caller's rows, or not existing; the caller cannot tell
// which, nor does the trail): probing ids is what a DPO looks for. A
// mutation so refused is a refused mutation of that record.
func recordNotFound(ctx context.Context, e *gqlerror.Error) {
	rec := audit.FromContext(ctx)
	if rec == nil || e == nil || e.Extensions["code"] != string(apperr.NotFound) || len(e.Path) == 0 {
		return
	}
	root := rootField(ctx)
	if root == nil {
		return
	}
	// By the field's name, not the path's: an alias (x: nodes(ids: …))
	// would otherwise lose which ids were refused.
	name := root.Field.Name
	id, ok := nodesID(root, e)
	if !ok && name != "nodes" {
		id = errorRecord(root, e)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
		// The type comes from the id's range, as for a read (recordRefusedReads).
		rec.RefusedRecord(audit.Mutation, rowscope.TypeOfID(id), id, []string{"Mutation." + name}, "not found in the caller's rows")
		return
	}
	// node's null, or nodes' at the id's index, is withheld with the
	// event (until 2026-12-07, eighteenth session, NOT_FOUND left without it).
	refusedReads(rec, []int{id}, e.Path)
}

// recordRefusedMutation records a mutation refused as a whole (FORBIDDEN
// on its root field: another court's decision, another office's
// proceeding, support another provider gives) about the record it names
// (errorRecord), so that the DPOs of the agencies on that record
// find who tried. A refusal casework or the policy guard already recorded
// about the same record is one event (the recorder counts each record
// once). A refusal naming no record is left to those who raised it.
func recordRefusedMutation(ctx context.Context, e *gqlerror.Error) {
	rec := audit.FromContext(ctx)
	if rec == nil || e == nil || e.Extensions["code"] != string(apperr.Forbidden) || len(e.Path) != 1 {
		return
	}
	oc := graphql.GetOperationContext(ctx)
	root := rootField(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation || root == nil {
		return
	}
	id := errorRecord(root, e)
	if typ := rowscope.TypeOfID(id); typ != "" {
		rec.RefusedRecord(audit.Mutation, typ, id, []string{"Mutation." + root.Field.Name}, "refused: "+e.Message)
	}
}

// rootField returns the context of the root field ctx is under.
func rootField(ctx context.Context) *graphql.FieldContext {
	fc := graphql.GetFieldContext(ctx)
	for fc != nil && fc.Parent != nil && fc.Parent.Field.Field != nil {
		fc = fc.Parent
	}
	return fc
}

// nodesID is the id a NOT_FOUND of nodes(ids:) is about: the one at its
// index in the list asked for, when root is nodes.
func nodesID(root *graphql.FieldContext, e *gqlerror.Error) (int, bool) {
	if root == nil || root.Field.Name != "nodes" {
		return 0, false
	}
	i, ok := pathIndex(e.Path)
	ids, listed := root.Args["ids"].([]int)
	if !ok || !listed || i >= len(ids) {
		return 0, false
	}
	return ids[i], true
}

func pathIndex(p ast.Path) (int, bool) {
	if len(p) > 1 {
		if i, ok := p[1].(ast.PathIndex); ok {
			return int(i), true
		}
	}
	return 0, false
}
