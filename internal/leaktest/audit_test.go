package leaktest_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/viewer"
)

// The audit trail is checked against the responses: every sensitive field
// of every row a response carried, allowed or refused, must be in the
// trail under the response's request id (X-Request-Id), with its decision,
// and the trail must hold no decision on a field the response did not
// carry. Types are not listed here: whatever type has a @sensitive field
// is checked, and each must have been seen both allowed and refused.

// auditKey is one decision on one field of one row.
type auditKey struct {
	typ     string
	id      int
	field   string // "Victim.legalName"
	allowed bool
}

func (k auditKey) String() string {
	d := "DENIED"
	if k.allowed {
		d = "ALLOWED"
	}
	return fmt.Sprintf("%s %d %s %s", k.typ, k.id, k.field, d)
}

// expectTrail notes a response to compare with the trail under its request
// id, named name: even one that carries no decision, for which the trail
// must then hold none (checkAudit).
func (r *leakRun) expectTrail(requestID, name string) {
	if requestID == "" {
		r.add("no request id", "%s: the response has no X-Request-Id", name)
		return
	}
	r.requestNames[requestID] = name
	if r.expectedEvents[requestID] == nil {
		r.expectedEvents[requestID] = map[auditKey]bool{}
	}
}

// expectEvent notes that the response of rc carried a decision.
func (r *leakRun) expectEvent(rc *responseChecks, typ string, id int, field string, allowed bool) {
	if rc.requestID == "" {
		return
	}
	m := r.expectedEvents[rc.requestID]
	if m == nil {
		m = map[auditKey]bool{}
		r.expectedEvents[rc.requestID] = m
	}
	m[auditKey{typ, id, typ + "." + field, allowed}] = true
}

// auditCoverage gathers, over every principal, the sensitive types whose
// allowed and refused reads were found in the trail.
type auditCoverage struct {
	mu   sync.Mutex
	seen map[string]bool // "Victim ALLOWED"
}

func (c *auditCoverage) add(typ string, allowed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	c.seen[auditKey{typ: typ, allowed: allowed}.decision()] = true
}

func (k auditKey) decision() string {
	if k.allowed {
		return k.typ + " ALLOWED"
	}
	return k.typ + " DENIED"
}

// check fails for a sensitive type whose allowed or refused reads were
// never checked against the trail.
func (c *auditCoverage) check(t *testing.T) {
	t.Helper()
	for _, typ := range sensitiveTypes() {
		for _, allowed := range []bool{true, false} {
			k := auditKey{typ: typ, allowed: allowed}.decision()
			if !c.seen[k] {
				t.Errorf("no FIELD_ACCESS event %s was checked against a response: the audit of this type is untested", k)
			}
		}
	}
}

// checkAudit compares the trail with the decisions the principal's
// responses carried, request by request (reading the events after
// r.trailAfter only, where the run's requests all came after it).
func (r *leakRun) checkAudit(db *database.DB, cov *auditCoverage) {
	ctx := viewer.SystemContext(context.Background())
	events, err := audit.Query(ctx, db.Client, audit.Scope{All: true},
		audit.Filter{Kind: audit.FieldAccess, ActorSubject: r.v.subject, AfterSeq: r.trailAfter}, false, 0)
	if err != nil {
		r.t.Fatalf("reading the audit trail: %v", err)
	}
	got := map[string]map[auditKey]bool{}
	for _, e := range events {
		if _, ours := r.expectedEvents[e.RequestID]; !ours {
			continue
		}
		if got[e.RequestID] == nil {
			got[e.RequestID] = map[auditKey]bool{}
		}
		// An event about several records names each of them.
		for _, id := range e.EntityIDs() {
			for _, f := range e.Fields {
				got[e.RequestID][auditKey{e.EntityType, id, f, e.Decision == audit.Allowed}] = true
			}
		}
	}
	checked := 0
	for _, id := range sortedNames(r.expectedEvents) {
		want, have := r.expectedEvents[id], got[id]
		var missing, extra []string
		for k := range want {
			if have[k] {
				cov.add(k.typ, k.allowed)
				checked++
			} else {
				missing = append(missing, k.String())
			}
		}
		for k := range have {
			if !want[k] {
				extra = append(extra, k.String())
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			r.addSig("audit event missing", r.requestNames[id],
				fmt.Sprintf("%s (request %s): %d decisions the response carried are not in the trail, e.g. %s",
					r.requestNames[id], id, len(missing), strings.Join(missing[:min(3, len(missing))], "; ")))
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			r.addSig("audit event without a decision in the response", r.requestNames[id],
				fmt.Sprintf("%s (request %s): %d decisions in the trail that the response did not carry, e.g. %s",
					r.requestNames[id], id, len(extra), strings.Join(extra[:min(3, len(extra))], "; ")))
		}
	}
	r.t.Logf("%s: %d decisions of %d responses found in the audit trail", r.v.p, checked, len(r.expectedEvents))
}

// trailHead is the sequence number of the trail's last event, 0 if none:
// the events of requests sent after it are all after it.
func trailHead(t *testing.T, db *database.DB) int64 {
	t.Helper()
	ids, err := db.Client.AuditEvent.Query().Order(ent.Desc(auditevent.FieldID)).Limit(1).IDs(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatalf("reading the audit trail's last event: %v", err)
	}
	if len(ids) == 0 {
		return 0
	}
	return ids[0]
}
