package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/viewer"
)

// victimsUsage is the usage of `casegraph victims`, for main's usage text.
const victimsUsage = `  casegraph victims age-conflicts          the victims whose ages no update changes until one mends them
                                           (by the rules on Tirana's calendar since 2026-12-07, UTC's before):
                                           CONFLICT, a stored age group their date of birth contradicts (at
                                           identification), and BORN-AFTER-IDENTIFICATION, a date of birth
                                           after the day of identification; each by GraphQL id (and the age
                                           groups), never a name or a date of birth; the dates of birth read
                                           are audited; exit 1 if there is one (docs/domain.md)
`

// errAgeConflicts makes `victims age-conflicts` exit 1: it found victims
// to mend (a finding, not a failure to run).
var errAgeConflicts = errors.New("victims' stored dates of birth contradict their age groups or their identification")

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
	found, err := listAgeConflicts(ctx, db, out)
	if err != nil {
		return err
	}
	if n := found.conflicts + found.bornAfter; n > 0 {
		fmt.Fprintf(out, "%d of %d victims with a date of birth to mend with updateVictim: %d with an age group it contradicts, %d born after the day of identification (docs/domain.md, Consent)\n",
			n, found.read, found.conflicts, found.bornAfter)
		return errAgeConflicts
	}
	fmt.Fprintf(out, "OK: %d victims with a date of birth, none born after the day of identification nor with an age group it contradicts\n", found.read)
	return nil
}

// ageFindings counts what listAgeConflicts read and listed.
type ageFindings struct {
	read      int // victims with a date of birth
	conflicts int // CONFLICT lines
	bornAfter int // BORN-AFTER-IDENTIFICATION lines
}

// ageFinding is the line listing the victim of age (its GraphQL id, the
// row id: docs/design.md), "" when nothing is to mend, and counts it in
// found. A date of birth after the day of identification is said first,
// as casework refuses it first (on dateOfBirth): the age group such a
// date of birth gives is no mend.
func ageFinding(id int, age domain.Age, found *ageFindings) string {
	if age.BornAfterIdentified() {
		found.bornAfter++
		return fmt.Sprintf("BORN-AFTER-IDENTIFICATION victim %d\n", id)
	}
	if byBirth, _ := age.GroupByBirth(); byBirth != age.Group {
		found.conflicts++
		return fmt.Sprintf("CONFLICT victim %d: age group %s stored, %s by the date of birth\n", id, age.Group, byBirth)
	}
	return ""
}

// listAgeConflicts prints a line for each victim whose ages an update may
// not keep (ageFinding: a date of birth after the day of identification,
// domain.Age.BornAfterIdentified, or a stored age group the date of birth
// contradicts, domain.Age.GroupByBirth: the rules casework refuses an
// update by), and returns how many victims with a date of birth it read
// and how many of each it printed. It reads them ageConflictsBatch at a
// time, in the order of their ids (keyset: the next batch starts after the
// last id read), only the columns the rules read, and records each batch's
// dates of birth as consulted (one FIELD_ACCESS event about its victims)
// before it prints any line of it: a batch whose reads cannot be recorded
// is not printed, and the command fails. So one read and one append to
// the trail for every 1,000 victims with a date of birth, and one read
// more to find the end when their number is a multiple of 1,000.
//
// A line names the victim by its GraphQL id alone, with the age groups:
// the command is run by administrators, who read no victim's identity,
// and its output goes to terminals and tickets.
func listAgeConflicts(ctx context.Context, db *database.DB, out io.Writer) (found ageFindings, err error) {
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
			return found, fmt.Errorf("reading victims with a date of birth after id %d: %w", after, err)
		}
		var lines []string
		withBatch := found // found counts what was printed, withBatch this batch too
		for _, v := range batch {
			rec.Consulted("Victim", v.ID, "Victim.dateOfBirth", ageConflictsRead)
			if l := ageFinding(v.ID, domain.Age{Group: v.AgeGroup, Birth: v.DateOfBirth, IdentifiedAt: v.IdentifiedAt}, &withBatch); l != "" {
				lines = append(lines, l)
			}
		}
		if err := w.Write(ctx, rec.Take()); err != nil {
			return found, fmt.Errorf("the reads of the dates of birth cannot be recorded in the audit trail, so no more victims are listed: %w", err)
		}
		for _, l := range lines {
			if _, err := io.WriteString(out, l); err != nil {
				return found, err
			}
		}
		found = withBatch
		found.read += len(batch)
		if len(batch) < ageConflictsBatch {
			return found, nil
		}
		after = batch[len(batch)-1].ID
	}
}
