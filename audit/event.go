// Package audit keeps CaseGraph's audit trail: who read or was refused
// which sensitive fields of which record, who changed what, who changed the
// policy, whose token was refused, who was granted emergency access. Events
// of one request are collected in a Recorder and written together, in one
// transaction, before the response leaves; the trail is append-only and
// hash-chained so that an altered, inserted or removed event shows.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// Kind is what an event records.
type Kind string

// Kinds of events.
const (
	// FieldAccess: sensitive fields of one record were read or refused.
	FieldAccess Kind = "FIELD_ACCESS"
	// Mutation: one record was created, updated or deleted (or a mutation
	// was refused before it ran).
	Mutation Kind = "MUTATION"
	// RecordRefused: a record asked for by id was not shown (outside the
	// caller's rows, or not existing).
	RecordRefused Kind = "RECORD_REFUSED"
	// PolicyChange: the access policy changed; detail holds it before and after.
	PolicyChange Kind = "POLICY_CHANGE"
	// AuthenticationRefused: a request's token was refused.
	AuthenticationRefused Kind = "AUTHENTICATION_REFUSED"
	// EmergencyGranted and EmergencyRevoked: emergency access to a case.
	EmergencyGranted Kind = "EMERGENCY_ACCESS_GRANTED"
	EmergencyRevoked Kind = "EMERGENCY_ACCESS_REVOKED"
	// TrailRead: someone read the audit trail; detail holds what they
	// asked for and how many events they got.
	TrailRead Kind = "AUDIT_TRAIL_READ"
	// StatisticsRead: someone read a statistics table; detail holds the
	// table, its grouping and filter, never a value.
	StatisticsRead Kind = "STATISTICS_READ"
)

// Kinds lists every kind, in the order above.
var Kinds = []Kind{FieldAccess, RecordRefused, Mutation, PolicyChange, AuthenticationRefused, EmergencyGranted, EmergencyRevoked, TrailRead, StatisticsRead}

// Decisions on a field access or a mutation.
const (
	Allowed = "ALLOWED"
	Denied  = "DENIED"
)

// GenesisHash is the previous hash of the first event.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Event is one entry of the trail. Its Seq and hashes are set when it is
// written.
type Event struct {
	Seq           int64     `json:"seq"`
	OccurredAt    time.Time `json:"occurredAt"`
	Kind          Kind      `json:"kind"`
	RequestID     string    `json:"requestId"`
	Operation     string    `json:"operation"`
	ClientAddress string    `json:"clientAddress"`
	ActorSubject  string    `json:"actorSubject"`
	ActorAgencyID int       `json:"actorAgencyId"`
	ActorAgency   string    `json:"actorAgency"`
	ActorRoles    []string  `json:"actorRoles"`
	EntityType    string    `json:"entityType"`
	EntityID      int       `json:"entityId"`
	Fields        []string  `json:"fields"`
	Decision      string    `json:"decision"`
	Rule          string    `json:"rule"`
	Reason        string    `json:"reason"`
	Emergency     bool      `json:"emergency"`
	Justification string    `json:"justification"`
	Detail        string    `json:"detail"`
	PrevHash      string    `json:"prevHash"`
	Hash          string    `json:"hash"`
	// Records are the records of an event about several (EntityID is then
	// 0 and Detail holds their digest, see Record); nil otherwise. Not
	// part of the canonical form: the digest is.
	Records []Record `json:"records,omitempty"`

	// altered is set by Query for an event read with content that does
	// not hash to its stored hash; not part of the event (HashMatches).
	altered bool
}

// HashMatches reports whether the event, as Query read it from the
// database, hashed to its stored hash: false marks an event altered
// after it was written, so that a reader of the trail is not shown an
// altered event as if it were sound. It covers the event's own content
// (its records through their digest, which the content holds), not its
// place in the chain: an event removed, or one inserted with hashes
// computed anew, shows only to Verify, which walks the whole chain.
// True for an event not read by Query.
func (e Event) HashMatches() bool { return !e.altered }

// timePrecision is what both databases keep of a time (PostgreSQL keeps
// microseconds): an event's hash covers its time as stored.
const timePrecision = time.Microsecond

// ComputeHash returns the hash of e's content and e.PrevHash: SHA-256 over
// a canonical JSON rendering, hex-encoded. The rendering (version 1) is the
// object below, keys in this order, no spaces, as Go's encoding/json writes
// it (which escapes <, > and & as \u003c, \u003e, \u0026): the time in
// UTC, RFC 3339 with up to 6 fractional digits and no trailing zeros;
// absent ids as 0; the roles and fields joined with "," (role and field
// names never contain one: they are enumerations and GraphQL names). An
// exported JSON line holds every value needed. docs/audit.md defines it
// for independent checkers, with a worked example; changing it breaks
// every chain already written.
func (e Event) ComputeHash() string {
	c := struct {
		Seq           int64  `json:"seq"`
		OccurredAt    string `json:"occurredAt"`
		Kind          Kind   `json:"kind"`
		RequestID     string `json:"requestId"`
		Operation     string `json:"operation"`
		ClientAddress string `json:"clientAddress"`
		ActorSubject  string `json:"actorSubject"`
		ActorAgencyID int    `json:"actorAgencyId"`
		ActorAgency   string `json:"actorAgency"`
		ActorRoles    string `json:"actorRoles"`
		EntityType    string `json:"entityType"`
		EntityID      int    `json:"entityId"`
		Fields        string `json:"fields"`
		Decision      string `json:"decision"`
		Rule          string `json:"rule"`
		Reason        string `json:"reason"`
		Emergency     bool   `json:"emergency"`
		Justification string `json:"justification"`
		Detail        string `json:"detail"`
		PrevHash      string `json:"prevHash"`
	}{
		e.Seq, e.OccurredAt.UTC().Truncate(timePrecision).Format(time.RFC3339Nano), e.Kind,
		e.RequestID, e.Operation, e.ClientAddress, e.ActorSubject, e.ActorAgencyID, e.ActorAgency,
		strings.Join(e.ActorRoles, ","), e.EntityType, e.EntityID, strings.Join(e.Fields, ","),
		e.Decision, e.Rule, e.Reason, e.Emergency, e.Justification, e.Detail, e.PrevHash,
	}
	b, _ := json.Marshal(c) // a struct of strings, ints and bools always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
