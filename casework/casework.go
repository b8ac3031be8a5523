// Package casework is the everyday work of the agencies: opening and moving
// cases, registering victims and their consents, recording suspects,
// prosecutions, charges and decisions, referring victims and recording the
// support they get. GraphQL mutations call it with the transactional ent
// client of the request, so each call is all or nothing.
//
// The case follows its criminal proceedings: registering one assigns its
// office to the case as PROSECUTING (moving an existing part of that office
// to it), and the case's stage is the one domain.CaseStageFollowing gives
// its proceedings, set at every registration and stage move of one (a
// timeline entry, a new version). A case without proceedings is moved by
// hand (moveCaseStage); one with proceedings is not.
//
// Every function returns *apperr.Error for anything the client can fix:
// BAD_USER_INPUT (invalid or unknown input, impossible transition),
// NOT_FOUND, CONFLICT (stale version, duplicate key, reused idempotency key).
// Any other error is internal.
//
// An update checks the expectedVersion first, before any rule that reads
// the record's current state: two clients racing on one record both pass
// every rule against what they read, and the loser must hear CONFLICT
// (read again, then decide), not a lifecycle error about a state it never
// saw.
package casework

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqlgraph"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/caseassignment"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/casevictim"
	"github.com/casegraph/casegraph/ent/idempotencyrecord"
	"github.com/casegraph/casegraph/ent/migrate"
	"github.com/casegraph/casegraph/ent/predicate"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/input"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/viewer"
)

// actor returns the principal on whose behalf the work is done.
func actor(ctx context.Context) (*viewer.Principal, error) {
	p := viewer.FromContext(ctx)
	if p == nil {
		return nil, apperr.Errorf(apperr.Unauthenticated, "This operation needs an authenticated caller.")
	}
	return p, nil
}

// event adds an entry to a case's timeline, on behalf of the caller, about
// a record that concerns no victim (the case, a proceeding, a suspect).
func event(ctx context.Context, c *ent.Client, caseID int, kind domain.CaseEventKind, subjectID int, summary string) error {
	return victimCaseEvent(ctx, c, caseID, 0, kind, subjectID, summary)
}

// victimCaseEvent adds an entry to a case's timeline about victimID's
// record subjectID (the victim itself, or a referral, support service or
// consent of theirs). The entry keeps the victim, so that whoever does not
// see the victim does not see the entry (rowscope.caseEventRows); victimID
// 0 is an entry about no victim.
func victimCaseEvent(ctx context.Context, c *ent.Client, caseID, victimID int, kind domain.CaseEventKind, subjectID int, summary string) error {
	return victimCaseEvents(ctx, c, []int{caseID}, victimID, kind, subjectID, summary)
}

// entriesAtOnce bounds the timeline entries of one INSERT: eleven columns
// a row, so 11,000 parameters, below SQLite's 32,766 and PostgreSQL's
// 65,535.
const entriesAtOnce = 1000

// victimCaseEvents adds the entry victimCaseEvent describes to the
// timelines of caseIDs, with one INSERT for up to entriesAtOnce cases:
// the statements of a mutation that tells every case of a victim do not
// grow with the victim's cases, which its input and its price do not show
// (docs/limits.md). ent's bulk create runs each entry's hooks (the row
// scope, the audit hook) as a create of its own would.
func victimCaseEvents(ctx context.Context, c *ent.Client, caseIDs []int, victimID int, kind domain.CaseEventKind, subjectID int, summary string) error {
	if kind.AboutAVictim() != (victimID != 0) {
		// Row scope hides an entry about a victim by the victim it keeps:
		// one written without it would be hidden from nearly everyone, and
		// one kept on another kind is a mistake here.
		return fmt.Errorf("casework: a %s timeline entry with victim %d", kind, victimID)
	}
	p, err := actor(ctx)
	if err != nil {
		return err
	}
	entries := make([]*ent.CaseEventCreate, len(caseIDs))
	for i, caseID := range caseIDs {
		b := c.CaseEvent.Create().
			SetCaseID(caseID).SetKind(kind).SetSummary(summary).
			SetActorSubject(p.Subject).SetActorAgencyID(p.AgencyID)
		if subjectID != 0 {
			b.SetSubjectID(fmt.Sprint(subjectID))
		}
		if victimID != 0 {
			b.SetSubjectVictimID(victimID)
		}
		entries[i] = b
	}
	for batch := range slices.Chunk(entries, entriesAtOnce) {
		if err := c.CaseEvent.CreateBulk(batch...).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// victimEvent adds an entry about victimID's record subjectID to every case
// the victim appears in, including cases the caller does not see: each
// case's timeline is complete.
func victimEvent(ctx context.Context, c *ent.Client, victimID int, kind domain.CaseEventKind, subjectID int, summary string) error {
	caseIDs, err := c.CaseVictim.Query().Where(casevictim.VictimID(victimID)).
		Select(casevictim.FieldCaseID).Ints(viewer.SystemContext(ctx))
	if err != nil {
		return err
	}
	return victimCaseEvents(ctx, c, caseIDs, victimID, kind, subjectID, summary)
}

// idempotent runs create unless the caller already made the same operation
// with the same key, in which case the first call's record is the answer
// (see createOnce), and returns the record, loaded with load. A record just
// made is read as the system: it is the answer even when it lies outside
// the caller's rows (an NGO registering a victim on no case). A replay
// answers the same while the record is unchanged (its version is the
// first); once it has changed, it is read as the caller, so that a record
// since moved out of the caller's rows is NOT_FOUND, not its new state.
func idempotent[T any](ctx context.Context, c *ent.Client, operation string, key *string, input any,
	load func(context.Context, int) (T, error), create func() (int, error)) (T, error) {
	id, replayed, err := createOnce(ctx, c, operation, key, input, create)
	if err != nil {
		var none T
		return none, err
	}
	v, err := load(viewer.SystemContext(ctx), id)
	if err != nil || !replayed || versionOf(v) == 1 {
		return v, err
	}
	v, err = load(ctx, id)
	if ent.IsNotFound(err) {
		return v, apperr.Errorf(apperr.NotFound, "The record this idempotency key made has changed since, and is no longer one you may see.")
	}
	return v, err
}

// Once is createOnce for a write made outside casework under an
// idempotency key (a policy change, policytools.Change): write runs
// unless the caller already made operation with key and the same input,
// and returns the id of what it made, which a replay returns instead,
// with replayed. The key's rules, its lock, its record and its CONFLICT
// are the creates' own, so a key behaves alike on every mutation
// (docs/mutations.md).
func Once(ctx context.Context, c *ent.Client, operation string, key *string, input any, write func() (int, error)) (id int, replayed bool, err error) {
	return createOnce(ctx, c, operation, key, input, write)
}

// versionOf is the version of a record (ent's entities, all of which
// casework creates have one: the Record mixin), 0 for a value without one.
func versionOf(v any) int {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return 0
	}
	if f := rv.FieldByName("Version"); f.IsValid() && f.CanInt() {
		return int(f.Int())
	}
	return 0
}

// sameRequest tells whether a request whose canonical hash is hash, and
// older forms older (requestHashes), is the one prior keeps: by its
// canonical hash where prior has one; otherwise, or as well, by the form
// in request_hash, which the previous release also compares. Records keep
// the previous release's form in request_hash so that a retry reaching a
// server of that release (a rolling deploy, a rollback) replays too. The
// builds of 2026-12-06 before canonical_hash stored the canonical hash in
// request_hash, so it is compared there too (a review: their records
// refused their exact retry); no two requests differ in one form and
// meet in another (the canonical form only merges what the older forms
// already would, less the omitted values).
func sameRequest(prior *ent.IdempotencyRecord, hash string, older [2]string) bool {
	if prior.CanonicalHash != nil && *prior.CanonicalHash == hash {
		return true
	}
	return prior.RequestHash == hash || slices.Contains(older[:], prior.RequestHash)
}

// createOnce runs create unless the caller already made the same operation
// with the same key, in which case it returns the id the first call made
// and replayed. The same key with a different input is a CONFLICT:
// different by its canonical form, or by every older form a record may
// keep (requestHashes). A nil key always creates.
//
// A replay writes nothing, so the policy's refusal of a field the request
// would write (RefusedUnlessReplay) does not refuse it; any other request
// with that refusal is refused by it, before it is compared or made.
//
// Requests with the same key are taken one at a time (lockKey): two sent
// at once would otherwise both find none, and the second fail on what the
// first made. Retrying after a timeout is what keys are for. A replay is
// told from a write under that lock too, so a write the policy refuses
// is never let through as the replay of a first call still running.
func createOnce(ctx context.Context, c *ent.Client, operation string, key *string, request any, create func() (int, error)) (int, bool, error) {
	refusal, _ := ctx.Value(writeRefusalKey{}).(*writeRefusal)
	if key == nil {
		if refusal != nil {
			return 0, false, refusal.err
		}
		id, err := create()
		return id, false, err
	}
	if *key == "" || len(*key) > 200 {
		return 0, false, apperr.InvalidField("idempotencyKey", "The idempotency key must be 1 to 200 bytes long (a letter outside ASCII takes two to four).")
	}
	spelling := input.CheckKey("idempotencyKey", *key)
	p, err := actor(ctx)
	if err != nil {
		return 0, false, err
	}
	hash, older, err := requestHashes(request)
	if err != nil {
		return 0, false, err
	}
	if err := lockKey(ctx, c, p, operation, *key); err != nil {
		return 0, false, err
	}
	prior, err := c.IdempotencyRecord.Query().Where(
		idempotencyrecord.AgencyCode(p.AgencyCode), idempotencyrecord.Subject(p.Subject),
		idempotencyrecord.Operation(operation), idempotencyrecord.Key(*key),
	).Only(ctx)
	switch {
	case err == nil && sameRequest(prior, hash, older):
		for r := refusal; r != nil; r = r.outer {
			r.replayed = true
		}
		return prior.ResultID, true, nil
	case err != nil && !ent.IsNotFound(err):
		return 0, false, err
	case refusal != nil:
		return 0, false, refusal.err
	case err != nil && spelling != nil: // err is not found here
		// A new key has one spelling, as a business key has (docs/input.md):
		// the database compares keys byte for byte, and a retry sent
		// decomposed, or with a space trimmed, was another key and made a
		// second record (a hunt, twenty-fourth session). Only a key no
		// record holds is refused, so that a key an earlier release took
		// still replays, or is CONFLICT; a request refused already (above)
		// keeps its refusal and its audit event.
		return 0, false, spelling
	case err == nil:
		return 0, false, &apperr.Error{Code: apperr.Conflict, Field: "idempotencyKey",
			Message: fmt.Sprintf("This idempotency key was already used for a different %s request.", operation)}
	}
	id, err := create()
	if err != nil {
		return 0, false, err
	}
	err = c.IdempotencyRecord.Create().
		SetAgencyCode(p.AgencyCode).SetSubject(p.Subject).SetOperation(operation).
		SetKey(*key).SetRequestHash(older[0]).SetCanonicalHash(hash).SetResultID(id).Exec(ctx)
	if ent.IsConstraintError(err) {
		return 0, false, &apperr.Error{Code: apperr.Conflict, Field: "idempotencyKey",
			Message: "A request with the same idempotency key is being processed; retry it."}
	}
	return id, false, err
}

// writeRefusal is a refusal of what a create's input writes (the policy's,
// of a sensitive field; the input rules', of a value), which stands unless
// the create is a replay (createOnce), and whether it was. A request
// refused both ways carries both, the later (inner) one answered: the
// input's, as when the input rules refused it before the resolver.
type writeRefusal struct {
	err      error
	replayed bool
	outer    *writeRefusal
}

type writeRefusalKey struct{}

// RefusedUnlessReplay returns ctx carrying refusal, a refusal of what the
// input of an idempotent create writes made before the create runs (the
// mutation guard's of a sensitive field, the input rules' of a value),
// for createOnce to answer unless the request is the replay of a write
// already made: the same caller, operation, key and canonical request as
// an idempotency record. A replay writes nothing, so a role since refused
// a field its first call set (the policy changed between a call and its
// retry), or a request whose value a rule added since refuses, is told
// the record was made, which it was, instead of FORBIDDEN or
// BAD_USER_INPUT. replayed reports, once the create has run, whether it
// was a replay; until it is, the refusal stands (docs/mutations.md).
func RefusedUnlessReplay(ctx context.Context, refusal error) (_ context.Context, replayed func() bool) {
	outer, _ := ctx.Value(writeRefusalKey{}).(*writeRefusal)
	w := &writeRefusal{err: refusal, outer: outer}
	return context.WithValue(ctx, writeRefusalKey{}, w), func() bool { return w.replayed }
}

// RefusalPending reports whether a refusal made before the create
// (RefusedUnlessReplay) waits for createOnce, which answers the request as
// the replay of a write already made or refuses it: nothing else of it is
// to be checked or looked up before, its input may be one the rules refuse.
func RefusalPending(ctx context.Context) bool {
	_, pending := ctx.Value(writeRefusalKey{}).(*writeRefusal)
	return pending
}

// idempotencyLocks is the first half of the two-key advisory locks
// lockKey takes (PostgreSQL's other lock space from the audit chain's
// one-key lock): "CGIK".
const idempotencyLocks = 0x4347494b

// clockSlack is how far ahead of the server's clock the time of something
// that happened may be: a client's clock a little ahead.
const clockSlack = time.Minute

// happened refuses a time of something that happened (what, for the
// message) that lies in the future, naming field. The input layer lets
// such times be up to a day ahead (docs/input.md); the domain's own dates
// are held closer: a proceeding's stages, its registration and a consent
// are recorded when they have happened, and a stage must not be dated
// before the registration, so a registration dated later today would
// leave its proceeding stuck until then. A client sending local time as
// UTC is told so here, rather than stored hours off.
func happened(field, what string, at time.Time) error {
	if now := time.Now(); at.After(now.Add(clockSlack)) {
		return apperr.InvalidField(field, "%s cannot be dated in the future: %s is after the server's time, %s (a time is an instant; is its zone right?).",
			what, at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// lockKey takes, on PostgreSQL, a lock for the transaction on one
// idempotency key (the agency, the subject, the operation and the key, as
// idempotency records are keyed), so that requests with the same key are
// taken one at a time and requests with other keys, of the same agency
// too, are not held up. Two keys whose 32-bit hashes meet only wait for
// each other. SQLite's write transactions are one at a time already
// (database.Open begins them IMMEDIATE). The lock is read from the
// agency's row, which exists, so that the statement returns one row on
// either database.
func lockKey(ctx context.Context, c *ent.Client, p *viewer.Principal, operation, key string) error {
	sum := sha256.Sum256([]byte(strings.Join([]string{p.AgencyCode, p.Subject, operation, key}, "\x00")))
	k := int32(binary.BigEndian.Uint32(sum[:4]))
	var got []struct {
		Locked string `json:"locked"`
	}
	return c.Agency.Query().Where(agency.ID(p.AgencyID)).Modify(func(s *sql.Selector) {
		expr := "lower('unlocked')" // an expression, which ent does not quote as a column
		if s.Dialect() == dialect.Postgres {
			expr = fmt.Sprintf("pg_advisory_xact_lock(%d, %d)::text", idempotencyLocks, k)
		}
		s.Select(sql.As(expr, "locked"))
	}).Scan(viewer.SystemContext(ctx), &got)
}

// saved runs a versioned update (save: UPDATE … WHERE id = ? AND
// version = ?) and returns the record as it left it, loaded with load.
// When no row changed, the record is gone (NOT_FOUND) or its version moved
// (CONFLICT); when the caller no longer sees the record it saved, the
// change is refused (FORBIDDEN).
func saved[T any](ctx context.Context, entity string, save func(context.Context) (int, error), load func(context.Context, int) (T, error), id int) (T, error) {
	n, err := save(ctx)
	if err != nil {
		var none T
		return none, translate(err)
	}
	v, err := load(ctx, id)
	switch {
	case n > 0 && ent.IsNotFound(err):
		// Saved, and then not among the caller's rows: the change moved
		// the record out of them (a victim's region, a case's lead). The
		// transaction ends with this error, so nothing is changed; the
		// record exists and the caller saw it, so NOT_FOUND would lie.
		return v, apperr.Errorf(apperr.Forbidden,
			"This change would take the %s out of the records your agency may see, so it was not made.", entity)
	case n > 0:
		return v, err
	case ent.IsNotFound(err):
		return v, apperr.RecordNotFound()
	case err != nil:
		return v, err
	}
	return v, staleVersion(entity)
}

// checkVersion refuses a stale expectedVersion before any rule that reads
// the record's current state (its stage, status, article, withdrawal) is
// applied: the loser of a race must learn that the record changed
// (CONFLICT, read it again), not that a move from the winner's new state is
// impossible. The versioned UPDATE still guards the write itself, for a
// change made between this read and it.
//
// The refusal says the version now (extensions.currentVersion, as
// changePolicy's does): the caller may read the record, and an integrator
// whose answer was lost learns from it whether its update was made
// (docs/errors.md) without another request. A version the record never
// had (ahead of its own) is said as that, not as a change since.
func checkVersion(entity string, current, expected int) error {
	if current == expected {
		return nil
	}
	err := staleVersion(entity)
	if expected > current {
		err.Message = fmt.Sprintf("The %s has no version %d: its version is %d. Read it, and retry with the version you read.", entity, expected, current)
	}
	err.Details = map[string]any{"currentVersion": current}
	return err
}

func staleVersion(entity string) *apperr.Error {
	return &apperr.Error{
		Code:    apperr.Conflict,
		Field:   "expectedVersion",
		Message: fmt.Sprintf("The %s was changed since you read it; read it again and retry with its current version.", entity),
	}
}

// current loads the record an update starts from (NOT_FOUND when there is
// none) and refuses a stale expectedVersion (CONFLICT, see checkVersion);
// version reads the record's version.
func current[T any](ctx context.Context, entity string, load func(context.Context, int) (T, error), id, expectedVersion int, version func(T) int) (T, error) {
	v, err := load(ctx, id)
	switch {
	case ent.IsNotFound(err):
		return v, apperr.RecordNotFound()
	case err != nil:
		return v, err
	}
	return v, checkVersion(entity, version(v), expectedVersion)
}

// reference checks, in order, that each id given in input names an
// existing record of its type, so that a wrong id is BAD_USER_INPUT naming
// its field rather than a foreign-key failure.
func reference(ctx context.Context, ids ...givenID) error {
	for _, id := range ids {
		ok, err := id.exists(ctx)
		if err != nil {
			return err
		}
		if !ok {
			refusedReference(ctx, id.id)
			return apperr.InvalidField(id.field, "No %s with the id given in %s exists.", id.entity, id.field)
		}
	}
	return nil
}

// givenID is an id that input field gives for a record of entity, and how
// to tell that the record exists.
type givenID struct {
	field, entity string
	id            int
	exists        func(context.Context) (bool, error)
}

// aCase, aVictim and anAgency are the ids input gives for a case, a victim
// or an agency, as reference checks them.
func aCase(c *ent.Client, field string, id int) givenID {
	return givenID{field, "case", id, c.CaseFile.Query().Where(casefile.ID(id)).Exist}
}

func aVictim(c *ent.Client, field string, id int) givenID {
	return givenID{field, "victim", id, c.Victim.Query().Where(victim.ID(id)).Exist}
}

func anAgency(c *ent.Client, field string, id int) givenID {
	return givenID{field, "agency", id, c.Agency.Query().Where(agency.ID(id)).Exist}
}

// referenced loads the record an id given in input names; a wrong id is
// BAD_USER_INPUT naming the field, as in reference.
func referenced[T any](ctx context.Context, field, entity string, load func(context.Context, int) (T, error), id int) (T, error) {
	v, err := load(ctx, id)
	if ent.IsNotFound(err) {
		refusedReference(ctx, id)
		return v, apperr.InvalidField(field, "No %s with the id given in %s exists.", entity, field)
	}
	return v, err
}

// refusedReference records, for the audit trail, a record a mutation's
// input names and the caller may not see (or that does not exist: the
// answer is the same), as node(id:) records one it may not read: a
// consent recorded for a victim of another region's case was refused
// with no event, so a data protection officer could not see the attempt
// on the victim. Records of a type no agency works on (the agency
// registry, open to all) are not recorded.
func refusedReference(ctx context.Context, id int) {
	rec := audit.FromContext(ctx)
	typ := rowscope.TypeOfID(id)
	if rec == nil || typ == "" {
		return
	}
	rec.RefusedRecord(audit.Mutation, typ, id, nil, "not found in the caller's rows")
}

// agencyOfKind checks that field names an existing agency for which ok
// holds, and returns it.
func agencyOfKind(ctx context.Context, c *ent.Client, field string, id int, what string, ok func(domain.AgencyKind) bool) (*ent.Agency, error) {
	a, err := referenced(ctx, field, "agency", c.Agency.Get, id)
	if err != nil {
		return nil, err
	}
	if ok != nil && !ok(a.Kind) {
		return nil, apperr.InvalidField(field, "The agency given in %s must be %s; %s is a %s.", field, what, a.Code, a.Kind)
	}
	return a, nil
}

// agencyOnCase checks an agency that input field of mutation puts on a
// case (a new lead, another office): it exists, it is what ok requires (any
// agency when ok is nil), and the caller may put an agency there
// (requireWorksOnOrCoordinates).
func agencyOnCase(ctx context.Context, c *ent.Client, mutation, field string, caseID, agencyID int, what string, ok func(domain.AgencyKind) bool) error {
	if _, err := agencyOfKind(ctx, c, field, agencyID, what, ok); err != nil {
		return err
	}
	return requireWorksOnOrCoordinates(ctx, c, mutation, field, caseID)
}

// worksOn reports whether the caller's agency already works on the case
// (leads it, is assigned to it, or prosecutes it), or is competent for it by
// territory (a regional agency, for a case of its region, as a district
// prosecution office is for every notice of its district). A write that
// puts an agency on a case (an assignment, the lead, a proceeding's office)
// needs it: otherwise an agency that merely sees a case (a national body
// sees them all) could give itself, or another, the standing that opens
// its victims' data.
func worksOn(ctx context.Context, c *ent.Client, caseID int) (bool, error) {
	own, err := ownAgency(ctx, c)
	if err != nil {
		return false, err
	}
	return anyCaseWorkedOn(ctx, c, own, casefile.ID(caseID))
}

// anyCaseWorkedOn reports whether a case for which which holds is one the
// agency own works on, or is competent for by territory (worksOn).
func anyCaseWorkedOn(ctx context.Context, c *ent.Client, own *ent.Agency, which predicate.CaseFile) (bool, error) {
	standing := []predicate.CaseFile{rowscope.CaseWorkedOnBy(own.ID)}
	if own.Region != nil {
		standing = append(standing, casefile.RegionEQ(*own.Region))
	}
	return c.CaseFile.Query().Where(which, casefile.Or(standing...)).Exist(viewer.SystemContext(ctx))
}

// forUpdate locks the rows a query selects against other writers until the
// transaction ends, on PostgreSQL: FOR NO KEY UPDATE, the lock an UPDATE of
// the row takes, which a transaction that has only inserted a row pointing
// at it (a timeline entry: FOR KEY SHARE) does not wait for, so that two
// writers that each did so do not deadlock. SQLite's write transactions
// already exclude each other (database.Open begins them IMMEDIATE), and it
// has no such clause.
func forUpdate(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.For(sql.LockNoKeyUpdate)
	}
}

// lockCase locks the case's row for the transaction (forUpdate) and
// returns it. A write that reads what the case holds before adding to it
// (is the agency assigned yet, the victim linked, every proceeding ended)
// takes it first: two such writes at once would otherwise both read the
// case as it was, and the second fail on the first's row (CONFLICT) or
// miss it (a case left open).
func lockCase(ctx context.Context, c *ent.Client, caseID int) (*ent.CaseFile, error) {
	return c.CaseFile.Query().Where(casefile.ID(caseID), forUpdate).Only(viewer.SystemContext(ctx))
}

// lockedCase loads a case as the caller sees it and locks its row for the
// transaction (forUpdate), as lockCase does as the system. A loader, for
// current.
func lockedCase(c *ent.Client) func(context.Context, int) (*ent.CaseFile, error) {
	return func(ctx context.Context, id int) (*ent.CaseFile, error) {
		return c.CaseFile.Query().Where(casefile.ID(id), forUpdate).Only(ctx)
	}
}

// ownAgency is the caller's agency.
func ownAgency(ctx context.Context, c *ent.Client) (*ent.Agency, error) {
	p, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	return c.Agency.Get(viewer.SystemContext(ctx), p.AgencyID)
}

// requireWorksOnOrCoordinates refuses mutation of caseID (field names
// what is refused) unless the caller's agency works on the case, or the
// caller acts as a coordinator for it (coordinates). Assigning an agency to
// a case gives it standing over the case's victims, so it is given by
// those on the case, not taken, nor handed out by an agency that sees the
// case without working on it (a review had the General Prosecution Office
// put a court on a case it had no part in, whose judge then read the
// victims' names).
func requireWorksOnOrCoordinates(ctx context.Context, c *ent.Client, mutation, field string, caseID int) error {
	if coordinates(ctx, mutation) {
		return nil
	}
	ok, err := worksOn(ctx, c, caseID)
	if err != nil {
		return err
	}
	if !ok {
		return refused(ctx, "Case", caseID, mutation, "does not work on the case", field,
			"Your agency does not work on this case; an agency that does, or a coordinator, does this.")
	}
	return nil
}

// refused is FORBIDDEN naming field, for a mutation the caller may not
// make (reason says why, for the trail); the refusal is an audit event
// about the record of entityType and id it touched (a case: where its
// agencies' DPOs find who tried).
func refused(ctx context.Context, entityType string, id int, mutation, reason, field, message string) error {
	if rec := audit.FromContext(ctx); rec != nil {
		rec.RefusedRecord(audit.Mutation, entityType, id, []string{"Mutation." + mutation}, reason)
	}
	return &apperr.Error{Code: apperr.Forbidden, Field: field, Message: message}
}

// coordinates reports whether the caller acts as a coordinator for
// mutation (authz.Request.Coordinates): the coordinator role, where the
// policy lets that role call it.
func coordinates(ctx context.Context, mutation string) bool {
	r := authz.FromContext(ctx)
	return r != nil && r.Coordinates(mutation)
}

// createUnique creates a record of mutation through save, whose business
// key (key, input field, the record's only unique column besides its id)
// may be in use: then the key's unique index refuses the insert, and the request
// is refused (CONFLICT naming field, the message format with key)
// and recorded as a refusal in the audit trail. Every row counts, seen or
// not, so that the answer does not depend on the caller's rows. The key is
// tried last, by the insert, after the input's own checks (ent's
// validators run at save): when it was looked up first, a create with a
// taken key and a field out of range answered CONFLICT, and with a free
// key BAD_USER_INPUT, so a caller counted the hidden cases of a region and
// year by their sequential references without creating anything, and
// without a trace (a hunt over HTTP). A create whose key is free and whose
// later checks refuse it still answers by them; the refusals are the
// DPO's to see. Any other error of save is translated.
func createUnique[T any](ctx context.Context, mutation string, save func(context.Context) (T, error), field, key, format string) (T, error) {
	var none T
	v, err := save(ctx)
	if sqlgraph.IsUniqueConstraintError(err) {
		if rec := audit.FromContext(ctx); rec != nil {
			// The key in the reason: one event a key, so that five keys
			// tried in one request are five refusals the DPO can read,
			// not one (a review). Keys are codes, not personal data.
			rec.Refusal(audit.Mutation, []string{"Mutation." + mutation}, fmt.Sprintf("its %s %q is in use", field, key))
		}
		return none, &apperr.Error{Code: apperr.Conflict, Field: field, Message: fmt.Sprintf(format, key)}
	}
	if err != nil {
		return none, translate(err)
	}
	return v, nil
}

// newValue is what a required field becomes under an update input: the
// value set, or else the current one.
func newValue[T any](set *T, current T) T {
	if set != nil {
		return *set
	}
	return current
}

// newOptional is what an optional field becomes under an update input: the
// value set, or else none when the input clears it, or else the current
// one (the generated Mutate clears before it sets).
func newOptional[T any](set *T, clear bool, current *T) *T {
	switch {
	case set != nil:
		return set
	case clear:
		return nil
	}
	return current
}

// assign gives agency a the part on the case, unless it has it already (a
// retry changes nothing), and tells the case's timeline. Returns the
// assignment. may, when given, is asked with the part the agency has
// ("" for none) once the case is locked, so that what it allows is what
// the change replaces; its error refuses the change.
func assign(ctx context.Context, c *ent.Client, caseID int, a *ent.Agency, part domain.CasePart, may func(had domain.CasePart) error) (*ent.CaseAssignment, error) {
	if _, err := lockCase(ctx, c, caseID); err != nil {
		return nil, err
	}
	existing, err := c.CaseAssignment.Query().
		Where(caseassignment.CaseID(caseID), caseassignment.AgencyID(a.ID)).Only(ctx)
	if may != nil && (err == nil || ent.IsNotFound(err)) {
		var had domain.CasePart
		if err == nil {
			had = existing.Part
		}
		if merr := may(had); merr != nil {
			return nil, merr
		}
	}
	switch {
	case err == nil && existing.Part == part:
		return existing, nil
	case err == nil:
		existing, err = existing.Update().SetPart(part).AddVersion(1).Save(ctx)
	case ent.IsNotFound(err):
		existing, err = c.CaseAssignment.Create().SetCaseID(caseID).SetAgencyID(a.ID).SetPart(part).Save(ctx)
	}
	if err != nil {
		return nil, translate(err)
	}
	if err := event(ctx, c, caseID, domain.CaseEventKindAgencyAssigned, a.ID, fmt.Sprintf("%s assigned as %s.", a.Code, part)); err != nil {
		return nil, err
	}
	return existing, nil
}

// translate maps ent's validation and constraint errors to client errors.
// Other errors pass through unchanged (and are internal).
func translate(err error) error {
	var ve *ent.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*apperr.Error)):
		return err
	case errors.As(err, &ve):
		field := inputName(ve.Name)
		return apperr.InvalidField(field, "%s is not valid: %s.", field, validationReason(ve))
	case ent.IsConstraintError(err):
		return apperr.Errorf(apperr.Conflict, "The change conflicts with an existing record.")
	case ent.IsNotFound(err):
		return apperr.RecordNotFound()
	}
	return err
}

// inputName turns ent's "CaseFile.opened_at" or "opened_at" into "openedAt".
func inputName(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	up := false
	for _, r := range name {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// validationReason is the reason of an ent validation error without ent's
// prefix; ent's validators describe the rule, never other records. Two of
// their words name neither the form nor the limit ("value does not match
// validation", "value is greater than the required length"), which an
// integrator had to guess (a hunt over HTTP): those are said here.
func validationReason(ve *ent.ValidationError) string {
	msg := ve.Unwrap().Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	msg = strings.TrimSuffix(msg, ".")
	switch {
	case strings.Contains(msg, "does not match validation"):
		if form, ok := keyForms[ve.Name]; ok {
			return "it must look like " + form
		}
	case strings.Contains(msg, "greater than the required length"):
		if n := maxBytes(ve.Name); n > 0 {
			return fmt.Sprintf("it is longer than its %d bytes (a letter outside ASCII takes two or more)", n)
		}
	}
	return msg
}

// keyForms says, for each field whose schema holds it to a pattern, what a
// value looks like.
var keyForms = map[string]string{
	"pseudonym": "V-2024-0042: V-, the year, a hyphen and four or more digits",
	"code":      "police-tirane: lower-case letters and digits in words joined by hyphens",
}

// maxBytes is the most bytes a string field named name takes (its
// column's size in the schema), or 0 when the fields of that name differ.
func maxBytes(name string) int {
	size := 0
	for _, t := range migrate.Tables {
		for _, c := range t.Columns {
			if c.Name != name || c.Size == 0 {
				continue
			}
			if size != 0 && size != int(c.Size) {
				return 0
			}
			size = int(c.Size)
		}
	}
	return size
}

// transitionError refuses an impossible stage or status change, listing the
// possible ones.
func transitionError[S ~string](field string, from, to S, allowed []S) error {
	names := make([]string, len(allowed))
	for i, s := range allowed {
		names[i] = string(s)
	}
	msg := fmt.Sprintf("Cannot move from %s to %s.", from, to)
	if len(names) == 0 {
		msg += fmt.Sprintf(" %s is final.", from)
	} else {
		msg += " Allowed: " + strings.Join(names, ", ") + "."
	}
	return &apperr.Error{Code: apperr.BadUserInput, Field: field, Message: msg, Details: map[string]any{"allowed": names}}
}
