package graph

import (
	"context"
	"encoding/json"
	"fmt"
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
	req := authz.FromContext(ctx)
	limit, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	p := req.Principal()
	scope := audit.Scope{All: req.CanReadAllAudit(), AgencyID: p.AgencyID}
	f, err := r.auditFilter(ctx, where)
	if err != nil {
		return nil, err
	}
	if after != nil {
		if oldestFirst {
			f.AfterSeq = int64(after.ID)
		} else {
			f.BeforeSeq = int64(after.ID)
		}
	}
	events, err := audit.Query(ctx, r.client, scope, f, !oldestFirst, limit+1)
	if err != nil {
		return nil, err
	}
	conn := &AuditEventConnection{Edges: []*AuditEventEdge{}, PageInfo: &entgql.PageInfo[int]{}}
	conn.PageInfo.HasPreviousPage = after != nil
	if len(events) > limit {
		events = events[:limit]
		conn.PageInfo.HasNextPage = true
	}
	for i := range events {
		c := entgql.Cursor[int]{ID: int(events[i].Seq)}
		conn.Edges = append(conn.Edges, &AuditEventEdge{Node: &events[i], Cursor: c})
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	// Who looked at who looked: the reading is itself recorded.
	if rec := audit.FromContext(ctx); rec != nil {
		detail, err := json.Marshal(map[string]any{"where": where, "after": after, "oldestFirst": oldestFirst,
			"allAgencies": scope.All, "returned": len(conn.Edges)})
		if err != nil {
			return nil, err
		}
		rec.Note(audit.TrailRead, string(detail))
	}
	return conn, nil
}

// auditFilter turns the GraphQL filter into the trail's.
func (r *Resolver) auditFilter(ctx context.Context, w *AuditTrailFilter) (audit.Filter, error) {
	var f audit.Filter
	if w == nil {
		return f, nil
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
		f.EntityID = *w.Entity
	}
	if w.EntityType != nil {
		f.EntityType = *w.EntityType
	}
	if w.Field != nil {
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
func (r *Resolver) verifyAuditTrail(ctx context.Context, anchors []*AuditAnchor) (*audit.Verification, error) {
	as := make([]audit.Anchor, len(anchors))
	for i, a := range anchors {
		if a.Seq < 1 || len(a.Hash) != len(audit.GenesisHash) {
			return nil, apperr.InvalidField("anchors", "An anchor is an event's seq (from 1) and its 64-character hash.")
		}
		as[i] = audit.Anchor{Seq: int64(a.Seq), Hash: strings.ToLower(a.Hash)}
	}
	// A walk reads the whole trail: callers asking at the same time (with
	// the same anchors) share one.
	key := fmt.Sprint(as)
	res, err, _ := r.verifications.Do(key, func() (any, error) {
		return audit.Verify(context.WithoutCancel(ctx), r.client, as...)
	})
	v, _ := res.(audit.Verification)
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
