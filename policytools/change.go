package policytools

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/casework"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/input"
	"github.com/casegraph/casegraph/policies"
)

// MinReasonLength is the letters or digits a policy change's reason holds
// at the least.
const MinReasonLength = 10

// ChangeRequest is a policy change as a client sends it: the lines to add
// and to remove (each a list of its fields, ParseLines), the reason, and
// optionally the version of the policy the change was made from and an
// idempotency key.
type ChangeRequest struct {
	Add, Remove     [][]string
	Reason          string
	ExpectedVersion *int
	IdempotencyKey  *string
}

// ChangeResult is what a change did: the lines it added and removed, and
// the version of the policy it left.
type ChangeResult struct {
	Added, Removed, Version int
}

// Change applies a policy change made by the caller, in the transaction of
// client (the mutation's): removes and adds lines, records who and why, and
// announces it. The local enforcer reloads when the transaction commits;
// other servers reload on the announcement. Returns FORBIDDEN for a caller
// who may not change the policy, BAD_USER_INPUT for an invalid change, and
// CONFLICT for a change made from a version of the policy that is no
// longer the one stored (expectedVersion), or under an idempotency key
// used for another change.
//
// A change sent with an idempotency key is made once, as a create is
// (casework.Once): its retry, the same lines in any order with the same
// reason and expectedVersion, answers what the first call did and
// changes nothing, even when the policy has changed since (the version
// the first call checked has passed: a retry must not be told CONFLICT
// for the change it made itself).
func Change(ctx context.Context, e *authz.Enforcer, client *ent.Client, req ChangeRequest) (ChangeResult, error) {
	r := authz.FromContext(ctx)
	if r == nil {
		return ChangeResult{}, apperr.Errorf(apperr.Unauthenticated, "This operation needs an authenticated caller.")
	}
	// Asked first of the policy in force here, so that a caller without
	// the power does not wait for the lock; asked again under it.
	if refusal := r.CallRefusal(changePolicy); refusal != nil {
		return ChangeResult{}, refuseChange(ctx, refusal)
	}
	reason := strings.TrimSpace(req.Reason)
	var add, remove []policies.Line
	if !casework.RefusalPending(ctx) {
		// Otherwise the input rules refused the request already, and it
		// is answered only as the replay of a change made (casework.Once).
		var err error
		if add, remove, err = ParseLines(req.Add, req.Remove); err != nil {
			return ChangeResult{}, err
		}
		if err := input.CheckWritten("reason", "A policy change needs a written reason", reason, MinReasonLength); err != nil {
			return ChangeResult{}, err
		}
	}
	var made ChangeResult
	id, replayed, err := casework.Once(ctx, client, changePolicy, req.IdempotencyKey, changeKeyed(req, reason), func() (id int, err error) {
		made, id, err = change(ctx, e, client, r, add, remove, reason, req.ExpectedVersion)
		return id, err
	})
	if err != nil || !replayed {
		return made, err
	}
	return changeMade(ctx, client, id)
}

// changeKeyed is what an idempotency key keeps of a change, as
// casework.Once hashes it: each line as one string, its fields in their
// order (as JSON, which no value can spell otherwise), so that the lines
// are a set (the same lines in another order are the same change) and a
// line's fields are not; the reason as stored; and the version the
// change was made from, if any.
func changeKeyed(req ChangeRequest, reason string) any {
	return struct {
		Add             []string `json:"add"`
		Remove          []string `json:"remove"`
		Reason          string   `json:"reason"`
		ExpectedVersion *int     `json:"expectedVersion"`
	}{keyedLines(req.Add), keyedLines(req.Remove), reason, req.ExpectedVersion}
}

func keyedLines(raw [][]string) []string {
	if raw == nil {
		return nil
	}
	out := make([]string, len(raw))
	for i, l := range raw {
		fields := make([]string, len(l))
		for j, v := range l {
			fields[j] = strings.TrimSpace(v) // as parseLines reads it
		}
		b, _ := json.Marshal(fields) // a list of strings always marshals
		out[i] = string(b)
	}
	return out
}

// changeMade is what the change with history entry id did, for the
// replay of its idempotency key.
func changeMade(ctx context.Context, client *ent.Client, id int) (ChangeResult, error) {
	c, err := authz.ChangeMade(ctx, client, id)
	if err != nil {
		return ChangeResult{}, err
	}
	return ChangeResult{Added: len(c.Added), Removed: len(c.Removed), Version: c.PolicyVersion}, nil
}

// change makes the change under the policy lock, and returns what it did
// and the id of its entry in the policy's history (which an idempotency
// key keeps).
func change(ctx context.Context, e *authz.Enforcer, client *ent.Client, r *authz.Request, add, remove []policies.Line, reason string, expectedVersion *int) (ChangeResult, int, error) {
	if err := e.LockPolicy(ctx, client); err != nil {
		return ChangeResult{}, 0, err
	}
	stored, err := authz.PolicyIn(ctx, client)
	if err != nil {
		return ChangeResult{}, 0, err
	}
	current := stored.Lines
	// Who may change the policy is decided, like the change, on the
	// policy the changes before it left.
	refusal, err := r.CallRefusalUnder(current, changePolicy)
	if err != nil {
		return ChangeResult{}, 0, err
	}
	if refusal != nil {
		return ChangeResult{}, 0, refuseChange(ctx, refusal)
	}
	// Before the change is checked against the policy: a client that
	// read an older policy is told it changed, not that a line it
	// removes is gone (casework's updates check their version first too).
	if expectedVersion != nil && *expectedVersion != stored.Version {
		return ChangeResult{}, 0, &apperr.Error{Code: apperr.Conflict, Field: "expectedVersion",
			Details: map[string]any{"currentVersion": stored.Version},
			Message: fmt.Sprintf("The policy was changed since version %d, which you read (it is at version %d); read it again and make your change from there.", *expectedVersion, stored.Version)}
	}
	next, err := nextPolicy(current, add, remove, e.Vocabulary())
	if err != nil {
		return ChangeResult{}, 0, err
	}
	id, err := authz.Store(ctx, client, r.Principal(), reason, add, remove)
	if err != nil {
		return ChangeResult{}, 0, err
	}
	if rec := audit.FromContext(ctx); rec != nil {
		detail, err := json.Marshal(map[string]any{
			"reason": reason, "added": policies.Strings(add), "removed": policies.Strings(remove),
			"before": policies.Strings(current), "after": policies.Strings(next),
		})
		if err != nil {
			return ChangeResult{}, 0, err
		}
		rec.Change(audit.PolicyChange, "", 0, nil, func(ev *audit.Event) {
			ev.Reason = reason
			ev.Detail = string(detail)
		})
	}
	if err := e.Publish(ctx, client); err != nil {
		return ChangeResult{}, 0, err
	}
	return ChangeResult{Added: len(add), Removed: len(remove), Version: stored.Version + 1}, id, nil
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
