package authz

import (
	"context"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/viewer"
)

// PolicyChannel is the PostgreSQL notification channel on which a policy
// change is announced to every server.
const PolicyChannel = "casegraph_policy"

// LinesIn returns the policy as client (a transaction's) reads it.
func LinesIn(ctx context.Context, client *ent.Client) ([]policies.Line, error) {
	return (&adapter{client: client}).rules(ctx)
}

// Store removes remove and adds add to the policy table with client (the
// transaction of a change, which policytools.Change has validated), and
// records in the policy's history who made the change and why. A line to
// remove that is not there, or to add that is there already (another
// change came first), is BAD_USER_INPUT.
func Store(ctx context.Context, client *ent.Client, actor *viewer.Principal, reason string, add, remove []policies.Line) error {
	for _, l := range remove {
		found, err := deleteRule(ctx, client, l)
		if err != nil {
			return err
		}
		if !found {
			return apperr.InvalidField("remove", "%q is not in the policy.", l.String())
		}
	}
	for _, l := range add {
		if err := createRule(ctx, client, l); err != nil {
			if ent.IsConstraintError(err) {
				return apperr.InvalidField("add", "%q is already in the policy.", l.String())
			}
			return err
		}
	}
	return client.PolicyChange.Create().
		SetActorSubject(actor.Subject).SetActorAgency(actor.AgencyCode).SetReason(reason).
		SetAdded(policies.Strings(add)).SetRemoved(policies.Strings(remove)).Exec(viewer.SystemContext(ctx))
}

// Publish makes a change stored with client take effect: it is announced
// to every server, and this enforcer reloads when the change's transaction
// commits (at once, without one).
func (e *Enforcer) Publish(ctx context.Context, client *ent.Client) error {
	if err := e.announce(ctx, client); err != nil {
		return err
	}
	if tx := ent.TxFromContext(ctx); tx != nil {
		tx.OnCommit(func(next ent.Committer) ent.Committer {
			return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
				if err := next.Commit(ctx, tx); err != nil {
					return err
				}
				// The change is made: a reload that fails now must not
				// report it as not made. This server answers as unconfirmed
				// until it has loaded the policy.
				if err := e.Reload(); err != nil {
					e.reloadUntilLoaded(err)
				}
				return nil
			})
		})
		return nil
	}
	return e.Reload()
}

// PolicyLockKey is the PostgreSQL advisory lock that takes policy changes
// one at a time across every server on one database ("CGPOLICY").
const PolicyLockKey = 0x4347504f4c494359

// LockPolicy takes, for the transaction of a change (client), the lock
// that orders policy changes, on PostgreSQL: a change validates the policy
// it reads under it, so that two changes each valid alone cannot both
// commit into a policy that is not (a review made two at once leave an
// invalid policy that no server would load). SQLite's write transactions
// are one at a time already.
func (e *Enforcer) LockPolicy(ctx context.Context, client *ent.Client) error {
	return lockPolicy(ctx, client, e.dialect)
}

// lockPolicy is LockPolicy for every change of the policy, those a server
// makes at start (loading the default policy, bringing an old one up to
// date) too: each adds an entry to the history, and the history's order
// is then the order in which the changes committed.
func lockPolicy(ctx context.Context, client *ent.Client, dialectName string) error {
	if dialectName != dialect.Postgres {
		return nil
	}
	_, err := client.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(PolicyLockKey))
	return err
}

// announce sends the change notification inside the transaction, so that
// PostgreSQL delivers it only if the change commits.
func (e *Enforcer) announce(ctx context.Context, client *ent.Client) error {
	if e.dialect != dialect.Postgres {
		return nil
	}
	_, err := client.ExecContext(ctx, "SELECT pg_notify($1, '')", PolicyChannel)
	return err
}
