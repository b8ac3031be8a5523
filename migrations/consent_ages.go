package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/pressly/goose/v3"

	"github.com/casegraph/casegraph/domain"
)

// ConsentAgesVersion is the migration that decides consents.given_under_16
// for the consents recorded before the column (added by the SQL migration
// just before it). It is written in Go because the rule is: the age of
// consent from a date of birth, or an exact age and the years since
// identification (domain.ConsentVoidedByAge), with times SQLite keeps as
// Go's text; one definition, here and in casework, instead of a second in
// each dialect's SQL date arithmetic.
const ConsentAgesVersion = 20261211090001

// ConsentAgesOnTiranasCalendarVersion decides given_under_16 again, the
// same way, for the consents decided before the age rules read Tirana's
// calendar (2026-12-07, twentieth session; UTC's until then): near a
// birthday, or an anniversary of the identification, a consent's flag may
// change either way.
const ConsentAgesOnTiranasCalendarVersion = 20261215090001

// goMigrations are the migrations written in Go, for dialectName.
func goMigrations(dialectName string) []*goose.Migration {
	decide := &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return decideConsentAges(ctx, tx, dialectName) }}
	return []*goose.Migration{
		// Going down, the column it filled goes with the migration before.
		goose.NewGoMigration(ConsentAgesVersion, decide, &goose.GoFunc{RunTx: func(context.Context, *sql.Tx) error { return nil }}),
		// Going down, the flags stay as the rule of now decided them:
		// the old rule read a date of birth's day by the offset it was
		// sent with, which it is not worth keeping to restore.
		goose.NewGoMigration(ConsentAgesOnTiranasCalendarVersion, decide, &goose.GoFunc{RunTx: func(context.Context, *sql.Tx) error { return nil }}),
	}
}

// decidedPerStatement bounds the consents one UPDATE names (its
// parameters: SQLite takes 32,766, PostgreSQL 65,535).
const decidedPerStatement = 1000

// decideConsentAges sets given_under_16 on each victim's own consent to
// whether the victim was, or may have been, under 16 when giving it, by
// the ages stored now (domain.ConsentVoidedByAge), where it says otherwise:
// either way, as casework.keepConsentAges does for one victim. Its cost is
// one read of the victims' own consents (a few per victim) and one update
// for every 1,000 consents whose flag changes, each way (none, where every
// flag stands: the demo's; where recordConsent refused the voided ones).
// The migration's transaction is tx (a test counts what it sends).
func decideConsentAges(ctx context.Context, tx entsql.ExecQuerier, dialectName string) error {
	rows, err := tx.QueryContext(ctx, `SELECT c.id, c.given_by, c.given_at, c.given_under_16, v.age_group, v.exact_age, v.date_of_birth, v.identified_at
FROM consents c JOIN victims v ON v.id = c.victim_id WHERE c.given_by = 'VICTIM'`)
	if err != nil {
		return fmt.Errorf("reading the victims' own consents: %w", err)
	}
	changed := map[bool][]any{} // the flag decided → the consents it changes
	for rows.Next() {
		var (
			id         int64
			by, group  string
			givenAt    time.Time
			stored     bool
			exact      sql.NullInt64
			birth      sql.NullTime
			identified time.Time
		)
		if err := rows.Scan(&id, &by, &givenAt, &stored, &group, &exact, &birth, &identified); err != nil {
			rows.Close()
			return fmt.Errorf("reading a consent and its victim's ages: %w", err)
		}
		age := domain.Age{Group: domain.AgeGroup(group), IdentifiedAt: identified}
		if exact.Valid {
			n := int(exact.Int64)
			age.Exact = &n
		}
		if birth.Valid {
			age.Birth = &birth.Time
		}
		if voided := domain.ConsentVoidedByAge(domain.ConsentGivenBy(by), givenAt, age); voided != stored {
			changed[voided] = append(changed[voided], id)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for voided, ids := range changed {
		for chunk := range slices.Chunk(ids, decidedPerStatement) {
			query, args := entsql.Dialect(dialectName).Update("consents").
				Set("given_under_16", voided).Where(entsql.In("id", chunk...)).Query()
			if _, err := tx.ExecContext(ctx, query, args...); err != nil {
				return fmt.Errorf("setting given_under_16 to %v on %d consents: %w", voided, len(chunk), err)
			}
		}
	}
	return nil
}
