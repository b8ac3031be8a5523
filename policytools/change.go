package policytools

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/input"
	"github.com/casegraph/casegraph/policies"
)

// MinReasonLength is the letters or digits a policy change's reason holds
// at the least.
const MinReasonLength = 10

// Change applies a policy change made by the caller, in the transaction of
// client (the mutation's): removes and adds lines, records who and why, and
// announces it. The local enforcer reloads when the transaction commits;
// other servers reload on the announcement. Returns FORBIDDEN for a caller
// who may not change the policy and BAD_USER_INPUT for an invalid change.
func Change(ctx context.Context, e *authz.Enforcer, client *ent.Client, add, remove []policies.Line, reason string) (added, removed int, err error) {
	r := authz.FromContext(ctx)
	if r == nil {
		return 0, 0, apperr.Errorf(apperr.Unauthenticated, "This operation needs an authenticated caller.")
	}
	// Asked first of the policy in force here, so that a caller without
	// the power does not wait for the lock; asked again under it.
	if refusal := r.CallRefusal(changePolicy); refusal != nil {
		return 0, 0, refuseChange(ctx, refusal)
	}
	reason = strings.TrimSpace(reason)
	if err := input.CheckWritten("reason", "A policy change needs a written reason", reason, MinReasonLength); err != nil {
		return 0, 0, err
	}
	if err := e.LockPolicy(ctx, client); err != nil {
		return 0, 0, err
	}
	current, err := authz.LinesIn(ctx, client)
	if err != nil {
		return 0, 0, err
	}
	// Who may change the policy is decided, like the change, on the
	// policy the changes before it left.
	refusal, err := r.CallRefusalUnder(current, changePolicy)
	if err != nil {
		return 0, 0, err
	}
	if refusal != nil {
		return 0, 0, refuseChange(ctx, refusal)
	}
	next, err := nextPolicy(current, add, remove, e.Vocabulary())
	if err != nil {
		return 0, 0, err
	}
	if err := authz.Store(ctx, client, r.Principal(), reason, add, remove); err != nil {
		return 0, 0, err
	}
	if rec := audit.FromContext(ctx); rec != nil {
		detail, err := json.Marshal(map[string]any{
			"reason": reason, "added": policies.Strings(add), "removed": policies.Strings(remove),
			"before": policies.Strings(current), "after": policies.Strings(next),
		})
		if err != nil {
			return 0, 0, err
		}
		rec.Change(audit.PolicyChange, "", 0, nil, func(ev *audit.Event) {
			ev.Reason = reason
			ev.Detail = string(detail)
		})
	}
	if err := e.Publish(ctx, client); err != nil {
		return 0, 0, err
	}
	return len(add), len(remove), nil
}

// changePolicy is the mutation Change is the work of.
const changePolicy = "changePolicy"

// refuseChange records a change refused for want of the call or the power
// (refusal, the mutation guard's own: authz.Request.CallRefusal), as the
// guard records a refused call, and returns it: a change ahead may have
// taken either since the guard asked (CallRefusalUnder).
func refuseChange(ctx context.Context, refusal *apperr.Error) error {
	if rec := audit.FromContext(ctx); rec != nil {
		rec.Refusal(audit.Mutation, []string{"Mutation." + changePolicy}, refusal.Message)
	}
	return refusal
}

// ParseLines turns the lists a client sent, the lines to add and to
// remove, into policy lines, trimming spaces.
func ParseLines(add, remove [][]string) (addLines, removeLines []policies.Line, err error) {
	if addLines, err = parseLines("add", add); err != nil {
		return nil, nil, err
	}
	removeLines, err = parseLines("remove", remove)
	return addLines, removeLines, err
}

// parseLines reads the lines of field (add or remove). Each value is one
// line of text (input.CheckText): a what-if, which is a query, refused what
// a change refuses only where the mutations' input check ran. A value
// holding a comma is a line, or part of one, written as policy.csv and the
// command line write it: no field of a valid line holds one, and the
// refusal was "unknown policy type" naming the whole line; it says now
// that over GraphQL a line is a list of its fields, and shows this one so.
func parseLines(field string, raw [][]string) ([]policies.Line, error) {
	out := make([]policies.Line, len(raw))
	for i, r := range raw {
		if len(r) == 0 {
			return nil, apperr.InvalidField(field, "Line %d is empty.", i+1)
		}
		l := make(policies.Line, len(r))
		for j, v := range r {
			if err := input.CheckText(field, field, v); err != nil {
				return nil, err
			}
			l[j] = strings.TrimSpace(v)
		}
		for _, v := range l {
			if strings.Contains(v, ",") {
				return nil, apperr.InvalidField(field, "A value of line %d holds a comma (%q): over GraphQL a line is a list of its fields, each a string of its own, e.g. %s.",
					i+1, v, fieldsList(l))
			}
		}
		out[i] = l
	}
	return out, nil
}

// fieldsList writes l, a line with commas in its values, as GraphQL takes
// it: ["p", "judge", …], its values split at their commas.
func fieldsList(l policies.Line) string {
	var fields []string
	for _, v := range l {
		for f := range strings.SplitSeq(v, ",") {
			fields = append(fields, strconv.Quote(strings.TrimSpace(f)))
		}
	}
	return "[" + strings.Join(fields, ", ") + "]"
}
