package graph

import (
	"context"
	"regexp"
	"strings"

	"entgo.io/contrib/entgql"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/viewer"
)

// auditEvents reads the audit trail for a caller @allowed to: their
// agency's events, or every agency's for one the policy lets read all.
func (r *Resolver) auditEvents(ctx context.Context, first *int, after *entgql.Cursor[int], where *AuditTrailFilter, oldestFirst bool) (*AuditEventConnection, error) {
	q := audit.TrailQuery{Scope: auditScope(ctx), OldestFirst: oldestFirst, Where: where, Cursor: after}
	var err error
	if q.Limit, err = pageSize(first); err != nil {
		return nil, err
	}
	if q.Filter, err = r.auditFilter(ctx, where); err != nil {
		return nil, err
	}
	if after != nil {
		seq := int64(after.ID)
		q.After = &seq
	}
	page, err := audit.ReadTrail(ctx, r.client, q)
	if err != nil {
		return nil, err
	}
	return auditEventConnection(page), nil
}

// auditScope is the part of the trail the caller reads: every agency's
// for one the policy lets read all, else its own agency's.
func auditScope(ctx context.Context) audit.Scope {
	req := authz.FromContext(ctx)
	return audit.Scope{All: req.CanReadAllAudit(), AgencyID: req.Principal().AgencyID}
}

// auditEventConnection is a page of the trail as a Relay connection, each
// event's cursor its seq.
func auditEventConnection(page audit.TrailPage) *AuditEventConnection {
	conn := &AuditEventConnection{Edges: []*AuditEventEdge{},
		PageInfo: &entgql.PageInfo[int]{HasPreviousPage: page.HasPrevious, HasNextPage: page.HasNext}}
	for i := range page.Events {
		c := entgql.Cursor[int]{ID: int(page.Events[i].Seq)}
		conn.Edges = append(conn.Edges, &AuditEventEdge{Node: &page.Events[i], Cursor: c})
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn
}

// recordTypeName and fieldName are the forms of the names the audit trail
// holds: a type as GraphQL names it (ent's, CaseFile as Case), and a field
// of it ("Victim.legalName", "Case.victims", "Mutation.requestEmergencyAccess"),
// audit.Event's Fields.
var (
	recordTypeName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	fieldName      = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*\.[a-z][A-Za-z0-9]*$`)
)

// auditFilter turns the GraphQL filter into the trail's.
func (r *Resolver) auditFilter(ctx context.Context, w *AuditTrailFilter) (audit.Filter, error) {
	var f audit.Filter
	if w == nil {
		return f, nil
	}
	// audit.Filter takes a zero value for no filter: a filter given with
	// one (an empty subject, the year 1) would list every event instead of
	// the none it names.
	for _, given := range []struct { // in order: the first empty one is named, every time
		name  string
		empty bool
	}{
		{"actorSubject", w.ActorSubject != nil && *w.ActorSubject == ""},
		{"entityType", w.EntityType != nil && *w.EntityType == ""},
		{"field", w.Field != nil && *w.Field == ""},
		{"since", w.Since != nil && w.Since.IsZero()},
		{"until", w.Until != nil && w.Until.IsZero()},
	} {
		if given.empty {
			return f, apperr.InvalidField("where."+given.name, "where.%s is empty; leave it out to read events of every %s.", given.name, given.name)
		}
	}
	// The trail names types and fields as the schema spells them
	// (Victim, Victim.legalName, Query.auditEvents) and compares them
	// exactly, so a name spelt otherwise ("victim", "Victim.LegalName",
	// "legalName") matched no event and read as "nobody looked" (the data
	// protection officer's hunt, twenty-sixth session). Its form is
	// refused; a name of the right form that no event carries still
	// answers an empty page.
	if w.EntityType != nil && !recordTypeName.MatchString(*w.EntityType) {
		return f, apperr.InvalidField("where.entityType", "where.entityType names a type of record as the schema spells it, such as Victim or Case, and is compared exactly.")
	}
	if w.Field != nil && len(*w.Field) <= MaxFilterPatternBytes && !strings.Contains(*w.Field, ",") && !fieldName.MatchString(*w.Field) {
		return f, apperr.InvalidField("where.field", "where.field names one field as Type.field, spelt as the schema spells them, such as Victim.legalName, and is compared exactly.")
	}
	if w.Kind != nil {
		f.Kind = audit.Kind(*w.Kind)
	}
	if w.ActorSubject != nil {
		f.ActorSubject = *w.ActorSubject
	}
	if w.ActorAgency != nil {
		id, err := r.client.Agency.Query().Where(agency.Code(*w.ActorAgency)).OnlyID(viewer.SystemContext(ctx))
		if err != nil {
			return f, apperr.InvalidField("where.actorAgency", "No agency has the code %q.", *w.ActorAgency)
		}
		f.ActorAgencyID = id
	}
	if w.Entity != nil {
		if *w.Entity == 0 { // no record's id, and audit.Filter's "every record"
			return f, apperr.InvalidField("where.entity", "0 is not the id of a record.")
		}
		f.EntityID = *w.Entity
	}
	if w.EntityType != nil {
		f.EntityType = *w.EntityType
	}
	if w.Field != nil {
		// Matched as LIKE patterns on SQLite over every event's list of
		// fields: held to the filters' bound on patterns (a review), far
		// above any field's name ("SupportService.notes").
		if len(*w.Field) > MaxFilterPatternBytes {
			return f, apperr.InvalidField("where.field", "where.field is %d bytes long; no field's name is longer than %d.", len(*w.Field), MaxFilterPatternBytes)
		}
		// One name: the list "a,b" would match the events of both on
		// SQLite (LIKE) and of neither on PostgreSQL (an array's element).
		if strings.Contains(*w.Field, ",") {
			return f, apperr.InvalidField("where.field", "where.field names one field (Type.field), without a comma.")
		}
		f.Field = *w.Field
	}
	if w.Decision != nil {
		f.Decision = string(*w.Decision)
	}
	if w.Since != nil {
		f.Since = *w.Since
	}
	if w.Until != nil {
		f.Until = *w.Until
	}
	if w.Since != nil && w.Until != nil && !w.Until.After(*w.Since) {
		return f, apperr.InvalidField("where.until", "until must come after since.")
	}
	f.EmergencyOnly = w.EmergencyOnly != nil && *w.EmergencyOnly
	return f, nil
}

// verifyAuditTrail walks the chain for a caller @allowed to.
func (r *Resolver) verifyAuditTrail(ctx context.Context, anchors []*audit.Anchor) (*audit.Verification, error) {
	as := make([]audit.Anchor, len(anchors))
	for i, a := range anchors {
		var ok bool
		if as[i], ok = audit.NewAnchor(a.Seq, a.Hash); !ok {
			return nil, apperr.InvalidField("anchors", "An anchor is an event's seq (from 1) and its 64-character hash.")
		}
	}
	v, err := r.verifications.Verify(ctx, r.client, auditScope(ctx), as...)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func auditDecision(d string) *AuditDecision {
	if d == "" {
		return nil
	}
	out := AuditDecision(d)
	return &out
}

func optionalID(id int) *int {
	if id == 0 {
		return nil
	}
	return &id
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
