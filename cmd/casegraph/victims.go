package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/viewer"
)

// victimsUsage is the usage of `casegraph victims`, for main's usage text.
const victimsUsage = `  casegraph victims age-conflicts          the victims whose stored age group their date of birth
                                           contradicts (at identification; on Tirana's calendar since
                                           2026-12-07, UTC's before), whose ages no update changes until one
                                           mends the age group: GraphQL id, age group stored, age group by
                                           the date of birth, never a name or a date of birth; the dates of
                                           birth read are audited; exit 1 if there is one (docs/domain.md)
`

// errAgeConflicts makes `victims age-conflicts` exit 1: it found victims
// to mend (a finding, not a failure to run).
var errAgeConflicts = errors.New("victims' stored age groups contradict their dates of birth")

// ageConflictsBatch is how many victims with a date of birth
// `victims age-conflicts` reads at a time: what it holds in memory, and
// the records of one audit event.
const ageConflictsBatch = 1000

// ageConflictsRead is how the audit trail says the command's reads were
// allowed: by no line of the access policy, which decides principals'
// requests, but as system work an administrator ran (commandRecorder).
var ageConflictsRead = audit.Access{Allowed: true, Rule: "system work"}

// victimsCmd checks stored victims for administrators. It reads the
// database as system work and changes nothing but the audit trail.
func victimsCmd(ctx context.Context, cfg config, args []string, out io.Writer) error {
	return dispatch("victims", args, out, map[string]func([]string) error{
		"age-conflicts": func(args []string) error { return victimsAgeConflicts(ctx, cfg, args, out) },
	})
}

func victimsAgeConflicts(ctx context.Context, cfg config, args []string, out io.Writer) error {
	fs := newFlagSet("victims age-conflicts")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	read, found, err := listAgeConflicts(ctx, db, out)
	if err != nil {
		return err
	}
	if found > 0 {
		fmt.Fprintf(out, "%d of %d victims with a date of birth have an age group it contradicts: mend each with updateVictim (docs/domain.md, Consent)\n", found, read)
		return errAgeConflicts
	}
	fmt.Fprintf(out, "OK: the age groups of %d victims with a date of birth agree with it\n", read)
	return nil
}

// listAgeConflicts prints a line for each victim whose stored age group
// the date of birth contradicts (domain.Age.GroupByBirth, the rule
// casework refuses an update by), and returns how many victims with a date
// of birth it read and how many it printed. It reads them ageConflictsBatch
// at a time, in the order of their ids (keyset: the next batch starts
// after the last id read), only the columns the rule reads, and records
// each batch's dates of birth as consulted (one FIELD_ACCESS event about
// its victims) before it prints any line of it: a batch whose reads cannot
// be recorded is not printed, and the command fails. So one read and one
// append to the trail for every 1,000 victims with a date of birth, and
// one read more to find the end when their number is a multiple of 1,000.
//
// A line names the victim by its GraphQL id alone, with the two age
// groups: the command is run by administrators, who read no victim's
// identity, and its output goes to terminals and tickets.
func listAgeConflicts(ctx context.Context, db *database.DB, out io.Writer) (read, found int, err error) {
	rec := commandRecorder("victims age-conflicts")
	w := audit.NewWriter(db.Client, db.Dialect)
	defer func() { _ = w.Close(context.WithoutCancel(ctx)) }()
	sys := viewer.SystemContext(ctx)
	after := 0
	for {
		batch, err := db.Client.Victim.Query().Where(victim.IDGT(after), victim.DateOfBirthNotNil()).
			Order(victim.ByID()).Limit(ageConflictsBatch).
			Select(victim.FieldAgeGroup, victim.FieldDateOfBirth, victim.FieldIdentifiedAt).All(sys)
		if err != nil {
			return read, found, fmt.Errorf("reading victims with a date of birth after id %d: %w", after, err)
		}
		var lines []string
		for _, v := range batch {
			rec.Consulted("Victim", v.ID, "Victim.dateOfBirth", ageConflictsRead)
			age := domain.Age{Group: v.AgeGroup, Birth: v.DateOfBirth, IdentifiedAt: v.IdentifiedAt}
			if byBirth, _ := age.GroupByBirth(); byBirth != v.AgeGroup {
				// The GraphQL id is the row id (docs/design.md).
				lines = append(lines, fmt.Sprintf("CONFLICT victim %s: age group %s stored, %s by the date of birth\n", strconv.Itoa(v.ID), v.AgeGroup, byBirth))
			}
		}
		if err := w.Write(ctx, rec.Take()); err != nil {
			return read, found, fmt.Errorf("the reads of the dates of birth cannot be recorded in the audit trail, so no more victims are listed: %w", err)
		}
		for _, l := range lines {
			if _, err := io.WriteString(out, l); err != nil {
				return read, found, err
			}
		}
		read, found = read+len(batch), found+len(lines)
		if len(batch) < ageConflictsBatch {
			return read, found, nil
		}
		after = batch[len(batch)-1].ID
	}
}
