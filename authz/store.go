package authz

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/policychange"
	"github.com/casegraph/casegraph/ent/policyrule"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/viewer"
)

// PolicyChannel is the PostgreSQL notification channel on which a policy
// change is announced to every server.
const PolicyChannel = "casegraph_policy"

// LinesIn returns the policy's lines as client (a transaction's) reads
// them (PolicyIn).
func LinesIn(ctx context.Context, client *ent.Client) ([]policies.Line, error) {
	p, err := PolicyIn(ctx, client)
	return p.Lines, err
}

// StoredPolicy is the policy as the database holds it: its lines, and its
// version, the number of changes in its history (policy_changes, which
// is only added to). Every change of the lines adds one entry to the
// history in its own transaction (Store, and the changes a server makes
// at start), so two reads of one version read the same lines.
type StoredPolicy struct {
	Lines   []policies.Line
	Version int
}

// PolicyIn reads the policy as client (a transaction's, or the server's)
// reads it: its lines and its version in one statement, so that they
// agree on every database, also while a change commits (two statements
// outside a transaction may read either side of it on PostgreSQL).
func PolicyIn(ctx context.Context, client *ent.Client) (StoredPolicy, error) {
	var rows []struct {
		ID      int    `json:"id"`
		Ptype   string `json:"ptype"`
		V0      string `json:"v0"`
		V1      string `json:"v1"`
		V2      string `json:"v2"`
		V3      string `json:"v3"`
		V4      string `json:"v4"`
		V5      string `json:"v5"`
		Version int    `json:"policy_version"`
	}
	sys := viewer.SystemContext(ctx)
	err := client.PolicyRule.Query().Order(ent.Asc(policyrule.FieldID)).Modify(func(s *sql.Selector) {
		s.AppendSelectExprAs(historyLength, "policy_version")
	}).Scan(sys, &rows)
	if err != nil {
		return StoredPolicy{}, err
	}
	if len(rows) == 0 {
		// No line to carry the version (no valid policy is empty).
		n, err := client.PolicyChange.Query().Count(sys)
		return StoredPolicy{Version: n}, err
	}
	out := StoredPolicy{Lines: make([]policies.Line, 0, len(rows)), Version: rows[0].Version}
	for _, r := range rows {
		out.Lines = append(out.Lines, line(r.Ptype, r.V0, r.V1, r.V2, r.V3, r.V4, r.V5))
	}
	return out, nil
}

// PolicyChangeMade is an entry of the policy's history with the version
// of the policy its change made: the policyVersion read right after it,
// which changePolicy answered.
type PolicyChangeMade struct {
	*ent.PolicyChange
	PolicyVersion int
}

// History lists the policy's history newest first, at most limit (> 0)
// entries, each with its version, in one statement. Newest first is the
// history's own order, that of the versions, not that of "at", which
// each server reads on its own clock. The page starts at the newest
// entry, so the i-th entry's version (the entries up to it, changesMade's
// rule) is the history's length less i: one count for the page, read by
// the statement once, where counting each entry's predecessors cost a
// count a row (a page of 500 of 10,001 entries took 0.28 s on PostgreSQL,
// the whole history 5.2 s, the review of 2026-12-07, twentieth session).
//
// before (0 for none) pages on: only the entries that made a version
// before it, so a client reads the whole history by passing the smallest
// version of each page to the next. The entries up to version before-1
// are those up to the id at that place (the history is append-only, so a
// place keeps its entry), found in the same statement; a before past the
// newest version is the whole history.
func History(ctx context.Context, client *ent.Client, limit, before int) ([]*PolicyChangeMade, error) {
	if before == 1 {
		return []*PolicyChangeMade{}, nil // nothing comes before the first version
	}
	q := client.PolicyChange.Query().Order(ent.Desc(policychange.FieldID)).Limit(limit)
	if before > 1 {
		q = q.Where(func(s *sql.Selector) {
			s.Where(sql.ExprP(fmt.Sprintf("%s <= COALESCE((SELECT %s FROM %s ORDER BY %s LIMIT 1 OFFSET %d), (SELECT MAX(%s) FROM %s))",
				s.C(policychange.FieldID), policychange.FieldID, policychange.Table, policychange.FieldID, before-2,
				policychange.FieldID, policychange.Table)))
		})
	}
	rows, err := q.Modify(func(s *sql.Selector) { s.AppendSelectExprAs(historyLength, versionMade) }).All(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	return withVersions(rows, func(i int, length int64) int {
		newest := int(length)
		if before > 1 {
			newest = min(newest, before-1)
		}
		return newest - i
	})
}

// ChangeMade is the entry changeID of the policy's history with its
// version, in one statement: what a change's replay answers.
func ChangeMade(ctx context.Context, client *ent.Client, changeID int) (*PolicyChangeMade, error) {
	made, err := changesMade(ctx, client.PolicyChange.Query().Where(policychange.ID(changeID)))
	if err != nil {
		return nil, err
	}
	if len(made) == 0 {
		return nil, fmt.Errorf("no policy change %d in the history", changeID)
	}
	return made[0], nil
}

// historyLength is the number of entries in the policy's history, the
// policy's version, as a column of a statement that reads it with what it
// is the version of.
var historyLength = sql.Raw("(SELECT COUNT(*) FROM " + policychange.Table + ")")

// versionMade names the column changesMade selects the version in.
const versionMade = "policy_version_made"

// changesMade reads the entries q selects, each with the version of the
// policy its change made (a count a row: for one entry; History reads a
// page with one count): the entries of the history up to it, in the
// order of their ids. Every change is made under the policy lock
// (lockPolicy), the ones a server makes as it starts too, so the ids
// follow the order in which the changes committed, and an entry's place
// is the version read right after it. It is the one statement of that
// rule, for every entry, those recorded before the version was shown
// included (docs/policy-tools.md, "Versions and retries").
func changesMade(ctx context.Context, q *ent.PolicyChangeQuery) ([]*PolicyChangeMade, error) {
	rows, err := q.Modify(func(s *sql.Selector) {
		earlier := sql.Table(policychange.Table).As("earlier")
		upTo := sql.Dialect(s.Dialect()).Select(sql.Count("*")).From(earlier).
			Where(sql.ColumnsLTE(earlier.C(policychange.FieldID), s.C(policychange.FieldID)))
		s.AppendSelectExprAs(upTo, versionMade)
	}).All(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	return withVersions(rows, func(_ int, upTo int64) int { return int(upTo) })
}

// withVersions gives each of rows (read with a count in the column
// versionMade) its version, version(i, count).
func withVersions(rows []*ent.PolicyChange, version func(i int, count int64) int) ([]*PolicyChangeMade, error) {
	out := make([]*PolicyChangeMade, len(rows))
	for i, c := range rows {
		v, err := c.Value(versionMade)
		if err != nil {
			return nil, err
		}
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("policy change %d: version read as %T", c.ID, v)
		}
		out[i] = &PolicyChangeMade{PolicyChange: c, PolicyVersion: version(i, n)}
	}
	return out, nil
}

// Store removes remove and adds add to the policy table with client (the
// transaction of a change, which policytools.Change has validated), and
// records in the policy's history who made the change and why. It returns
// the history entry's id. A line to remove that is not there, or to add
// that is there already (another change came first), is BAD_USER_INPUT.
func Store(ctx context.Context, client *ent.Client, actor *viewer.Principal, reason string, add, remove []policies.Line) (int, error) {
	for _, l := range remove {
		found, err := deleteRule(ctx, client, l)
		if err != nil {
			return 0, err
		}
		if !found {
			return 0, apperr.InvalidField("remove", "%q is not in the policy.", l.String())
		}
	}
	for _, l := range add {
		if err := createRule(ctx, client, l); err != nil {
			if ent.IsConstraintError(err) {
				return 0, apperr.InvalidField("add", "%q is already in the policy.", l.String())
			}
			return 0, err
		}
	}
	c, err := client.PolicyChange.Create().
		SetActorSubject(actor.Subject).SetActorAgency(actor.AgencyCode).SetReason(reason).
		SetAdded(policies.Strings(add)).SetRemoved(policies.Strings(remove)).Save(viewer.SystemContext(ctx))
	if err != nil {
		return 0, err
	}
	return c.ID, nil
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
// invalid policy that no server would load), and checks the version its
// client expects under it, so that two changes made from one version
// cannot both commit. SQLite's write transactions are one at a time
// already.
func (e *Enforcer) LockPolicy(ctx context.Context, client *ent.Client) error {
	return lockPolicy(ctx, client, e.dialect)
}

// lockPolicy is LockPolicy for every change of the policy, those a server
// makes at start (loading the default policy, bringing an old one up to
// date) too: each adds an entry to the history, and the history's order
// is the order of the versions (changesMade).
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
