package audit

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/ent/predicate"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// Filter narrows the events read; zero values do not filter.
type Filter struct {
	Kind          Kind
	ActorSubject  string
	ActorAgencyID int
	EntityType    string
	EntityID      int
	Field         string // e.g. "Victim.legalName"
	Decision      string // Allowed or Denied
	Since, Until  time.Time
	EmergencyOnly bool
	// AfterSeq and BeforeSeq page through the chain (exclusive).
	AfterSeq, BeforeSeq int64
}

// Scope is whose events a reader may see: all, or those of one agency —
// events of its people, and events about the records it works on (see
// rowscope.WorkedOnBy), as they stand when the trail is read.
type Scope struct {
	All      bool
	AgencyID int
}

// Query returns the events scope may see that match f, in chain order
// (ascending or, with newestFirst, descending), at most limit of them.
func Query(ctx context.Context, client *ent.Client, scope Scope, f Filter, newestFirst bool, limit int) ([]Event, error) {
	q := client.AuditEvent.Query().Where(predicates(scope, f)...)
	if newestFirst {
		q = q.Order(ent.Desc(auditevent.FieldID))
	} else {
		q = q.Order(ent.Asc(auditevent.FieldID))
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	rows, err := q.All(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = FromRow(r)
	}
	return out, nil
}

func predicates(scope Scope, f Filter) []predicate.AuditEvent {
	var ps []predicate.AuditEvent
	if !scope.All {
		ps = append(ps, ofAgency(scope.AgencyID))
	}
	if f.Kind != "" {
		ps = append(ps, auditevent.Kind(string(f.Kind)))
	}
	if f.ActorSubject != "" {
		ps = append(ps, auditevent.ActorSubject(f.ActorSubject))
	}
	if f.ActorAgencyID != 0 {
		ps = append(ps, auditevent.ActorAgencyID(f.ActorAgencyID))
	}
	if f.EntityType != "" {
		ps = append(ps, auditevent.EntityType(f.EntityType))
	}
	if f.EntityID != 0 {
		ps = append(ps, auditevent.EntityID(f.EntityID))
	}
	if f.Field != "" {
		// fields is a comma-separated list: match a whole name.
		ps = append(ps, auditevent.Or(auditevent.Fields(f.Field),
			auditevent.FieldsHasPrefix(f.Field+","), auditevent.FieldsHasSuffix(","+f.Field),
			auditevent.FieldsContains(","+f.Field+",")))
	}
	if f.Decision != "" {
		ps = append(ps, auditevent.Decision(f.Decision))
	}
	// Times are stored in UTC; SQLite compares them as text, so a bound
	// in another zone must be turned into UTC to compare as an instant.
	if !f.Since.IsZero() {
		ps = append(ps, auditevent.OccurredAtGTE(f.Since.UTC()))
	}
	if !f.Until.IsZero() {
		ps = append(ps, auditevent.OccurredAtLT(f.Until.UTC()))
	}
	if f.EmergencyOnly {
		ps = append(ps, auditevent.Emergency(true))
	}
	if f.AfterSeq != 0 {
		ps = append(ps, auditevent.IDGT(f.AfterSeq))
	}
	if f.BeforeSeq != 0 {
		ps = append(ps, auditevent.IDLT(f.BeforeSeq))
	}
	return ps
}

// ofAgency keeps the events of agency's people and those about the records
// it works on (rowscope.WorkedOnBy), as they stand when the trail is read.
func ofAgency(agencyID int) predicate.AuditEvent {
	return func(s *sql.Selector) {
		or := []*sql.Predicate{sql.EQ(s.C(auditevent.FieldActorAgencyID), agencyID)}
		for _, ids := range rowscope.WorkedOnBy(agencyID) {
			or = append(or, sql.In(s.C(auditevent.FieldEntityID), ids))
		}
		s.Where(sql.Or(or...))
	}
}
