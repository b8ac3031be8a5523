// Package apperr defines the errors a client of CaseGraph can see: a small set
// of stable codes (docs/design.md, decision 7) and a message meant for a person.
// Any error that is not an *Error is internal: the client sees only INTERNAL
// and a request id, and the details go to the log (graph's error presenter).
package apperr

import (
	"errors"
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
)

// Code is a stable error code, sent to clients as extensions.code.
type Code string

// The codes of docs/design.md.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	BadUserInput    Code = "BAD_USER_INPUT"
	NotFound        Code = "NOT_FOUND"
	Conflict        Code = "CONFLICT"
	RateLimited     Code = "RATE_LIMITED"
	// Unavailable: a dependency (the database) cannot be used right now,
	// or the request ran out of time; retrying later is safe. When a
	// mutation's commit got no answer, extensions.outcome is "UNKNOWN":
	// retry with the same idempotencyKey or expectedVersion
	// (docs/errors.md).
	Unavailable Code = "UNAVAILABLE"
	Internal    Code = "INTERNAL"
	// AuditUnavailable: the audit trail could not be written, so the
	// sensitive values of a response are withheld and a mutation is not
	// made. Retrying later is safe.
	AuditUnavailable Code = "AUDIT_UNAVAILABLE"
	// TooComplex: the request is over one of the limits on what one
	// request may cost (its cost, depth, size, aliases, fragments or
	// answer); extensions say which limit, the value and the maximum.
	// Nothing ran. Ask for less.
	TooComplex Code = "TOO_COMPLEX"
	// PersistedQueryNotFound: the server runs only registered documents
	// and the request named none it knows (by hash, or by its text).
	PersistedQueryNotFound Code = "PERSISTED_QUERY_NOT_FOUND"
	// UnsupportedMediaType: the request's body is of a kind CaseGraph does
	// not read (HTTP 415): a POST to /graphql must be application/json in
	// UTF-8. Its own code rather than BAD_USER_INPUT because the fix is in
	// the client's HTTP set-up (a header), not in the GraphQL it sends.
	UnsupportedMediaType Code = "UNSUPPORTED_MEDIA_TYPE"
)

// Refusal says which kind of rule refused a sensitive field, sent as
// extensions.reason next to FORBIDDEN. Each kind tells the caller only what
// they may know already (policies/README.md, "Why a field is refused"), and
// what to do: ROLE, nothing (the role never reads the field); ROW, work on
// the record (be assigned to its case, accept a referral); CONSENT, ask
// for the victim's consent.
type Refusal string

// The kinds of refusal of a sensitive field.
const (
	// RefusedByRole: no policy line lets any of the caller's roles read
	// the field, whatever the record.
	RefusedByRole Refusal = "ROLE"
	// RefusedByRow: a line would, but the record is not in the caller's
	// agency's cases, proceedings or referrals, as the line requires.
	RefusedByRow Refusal = "ROW"
	// RefusedByConsent: the record is the caller's agency's, but the
	// victim's current consent does not name its kind of agency and
	// purpose.
	RefusedByConsent Refusal = "CONSENT"
)

// Error is an error meant for the client.
type Error struct {
	Code    Code
	Message string
	// Field, when set, names the input field or schema field the error is
	// about (e.g. "input.stage" or "Victim.legalName").
	Field string
	// Details are extra, client-safe facts (e.g. the allowed transitions).
	Details map[string]any
	// At is the point of the request's document that a refusal made
	// before any field runs is about: the field whose argument it
	// refuses, or a field asked for twice. The error presenter sends it
	// as the error's locations; an error at a field of the answer takes
	// that field's position there instead (docs/errors.md, "Where an
	// error points"). The zero Location is none.
	At Location
}

// Location is a point of a GraphQL document: its line and column,
// counted from 1.
type Location struct{ Line, Column int }

// LocationOf is the point pos marks (a field's or an argument's position
// in the parsed document); none for nil.
func LocationOf(pos *ast.Position) Location {
	if pos == nil {
		return Location{}
	}
	return Location{Line: pos.Line, Column: pos.Column}
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidField returns a BAD_USER_INPUT error about one input field.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// HasCode reports whether err is, or wraps, an *Error with code.
func HasCode(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// RecordNotFoundMessage is what every NOT_FOUND of a record says, however
// it arose: node(id:) and nodes(ids:), a non-null edge to a row outside
// the caller's rows, a mutation's id. One wording, so that a client
// handles one not-found; and the same bytes for an id that names nothing
// and one the caller may not see. It names no id: node's is in the
// request (and in the error's path, for nodes), and an edge's belongs to
// a row the caller may not see. Until 2026-12-07 (twenty-second session)
// node and nodes said "No node with id N exists.", an edge "Not found."
// and the mutations "No case with that id exists." (or victim, …).
const RecordNotFoundMessage = "No record with that id exists."

// RecordNotFound is NOT_FOUND for a record that does not exist or is
// outside the caller's rows, in RecordNotFoundMessage's words. Set Field
// to name the argument that holds the id, where it is not the field's
// own "id".
func RecordNotFound() *Error {
	return &Error{Code: NotFound, Message: RecordNotFoundMessage}
}
