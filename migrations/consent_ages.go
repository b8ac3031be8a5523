package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
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

// goMigrations are the migrations written in Go, for dialectName.
func goMigrations(dialectName string) []*goose.Migration {
	return []*goose.Migration{
		goose.NewGoMigration(ConsentAgesVersion,
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return decideConsentAges(ctx, tx, dialectName) }},
			// Going down, the column it filled goes with the migration before.
			&goose.GoFunc{RunTx: func(context.Context, *sql.Tx) error { return nil }}),
	}
}

// decideConsentAges sets given_under_16 on each victim's own consent given
// while the victim was, or may have been, under 16, by the ages stored now.
// Its cost is one read of the victims' own consents (a few per victim) and
// one update per consent it voids (none, where recordConsent refused them).
func decideConsentAges(ctx context.Context, tx *sql.Tx, dialectName string) error {
	rows, err := tx.QueryContext(ctx, `SELECT c.id, c.given_by, c.given_at, v.age_group, v.exact_age, v.date_of_birth, v.identified_at
FROM consents c JOIN victims v ON v.id = c.victim_id WHERE c.given_by = 'VICTIM'`)
	if err != nil {
		return fmt.Errorf("reading the victims' own consents: %w", err)
	}
	var voided []int64
	for rows.Next() {
		var (
			id         int64
			by, group  string
			givenAt    time.Time
			exact      sql.NullInt64
			birth      sql.NullTime
			identified time.Time
		)
		if err := rows.Scan(&id, &by, &givenAt, &group, &exact, &birth, &identified); err != nil {
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
		if domain.ConsentVoidedByAge(domain.ConsentGivenBy(by), givenAt, age) {
			voided = append(voided, id)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	update := "UPDATE consents SET given_under_16 = TRUE WHERE id = ?"
	if dialectName == dialect.Postgres {
		update = "UPDATE consents SET given_under_16 = TRUE WHERE id = $1"
	}
	for _, id := range voided {
		if _, err := tx.ExecContext(ctx, update, id); err != nil {
			return fmt.Errorf("voiding consent %d: %w", id, err)
		}
	}
	return nil
}
