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
                                           CONFLICT, a stored age group their exact age or their date of
                                           birth contradicts (at identification; the line says which), and
                                           BORN-AFTER-IDENTIFICATION, a date of birth after the day of
                                           identification; each by GraphQL id (and the age groups), never a
                                           name, an exact age or a date of birth; the exact ages and dates
                                           of birth read are audited; exit 1 if there is one (docs/domain.md)
`

// errAgeConflicts makes `victims age-conflicts` exit 1: it found victims
// to mend (a finding, not a failure to run).
var errAgeConflicts = errors.New("victims' stored exact ages or dates of birth contradict their age groups, or dates of birth their identification")

// ageConflictsBatch is how many victims with an exact age or a date of
// birth `victims age-conflicts` reads at a time: what it holds in memory, and
// the records of one audit event.
const ageConflictsBatch = 1000

// ageConflictsRead is how the audit trail says the command's reads were
// allowed: by no line of the access policy, which decides principals'
// requests, but as system work an administrator ran (commandRecorder).
var ageConflictsRead = audit.Access{Allowed: true, Rule: "system work"}

// ageConflictsFields are the quasi-identifiers the command reads of each
// victim and the audit trail records it read (listAgeConflicts).
var ageConflictsFields = []string{"Victim.exactAge", "Victim.dateOfBirth"}

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
	if n := found.byExactAge + found.byBirth + found.bornAfter; n > 0 {
		fmt.Fprintf(out, "%d of %d victims with an exact age or a date of birth to mend with updateVictim: %d with an age group the exact age contradicts, %d with one the date of birth contradicts, %d born after the day of identification (docs/domain.md, Consent)\n",
			n, found.read, found.byExactAge, found.byBirth, found.bornAfter)
		return errAgeConflicts
	}
	fmt.Fprintf(out, "OK: %d victims with an exact age or a date of birth, none born after the day of identification nor with an age group either contradicts\n", found.read)
	return nil
}

// ageFindings counts what listAgeConflicts read and listed.
type ageFindings struct {
	read       int // victims with an exact age or a date of birth
	byExactAge int // CONFLICT lines by the exact age
	byBirth    int // CONFLICT lines by the date of birth
	bornAfter  int // BORN-AFTER-IDENTIFICATION lines
}

// ageFinding is the line listing the victim of age (its GraphQL id, the
// row id: docs/design.md), "" when nothing is to mend, and counts it in
// found. It asks in casework's order (agesAgree), so that the line names
// the rule an update is refused by: a date of birth after the day of
// identification first (on dateOfBirth; the age group such a date of
// birth gives is no mend), then an age group the exact age contradicts,
// then one the date of birth contradicts.
func ageFinding(id int, age domain.Age, found *ageFindings) string {
	if age.BornAfterIdentified() {
		found.bornAfter++
		return fmt.Sprintf("BORN-AFTER-IDENTIFICATION victim %d\n", id)
	}
	if byExact, known := age.GroupByExactAge(); known && byExact != age.Group {
		found.byExactAge++
		return fmt.Sprintf("CONFLICT victim %d: age group %s stored, %s by the exact age\n", id, age.Group, byExact)
	}
	if byBirth, known := age.GroupByBirth(); known && byBirth != age.Group {
		found.byBirth++
		return fmt.Sprintf("CONFLICT victim %d: age group %s stored, %s by the date of birth\n", id, age.Group, byBirth)
	}
	return ""
}

// listAgeConflicts prints a line for each victim whose ages an update may
// not keep (ageFinding: a date of birth after the day of identification,
// domain.Age.BornAfterIdentified, or a stored age group the exact age or
// the date of birth contradicts, domain.Age.GroupByExactAge and
// GroupByBirth: the rules casework refuses an update by), and returns how
// many victims with an exact age or a date of birth it read and how many
// of each it printed. It reads them ageConflictsBatch at a
// time, in the order of their ids (keyset: the next batch starts after the
// last id read), only the columns the rules read, and records each batch's
// exact ages and dates of birth as consulted (one FIELD_ACCESS event about
// its victims) before it prints any line of it: a batch whose reads cannot
// be recorded is not printed, and the command fails. So one read and one
// append to the trail for every 1,000 victims with an exact age or a date
// of birth, and one read more to find the end when their number is a
// multiple of 1,000.
//
// Both fields are recorded for every victim read, stored or not: the
// statement read both columns of each, and whether a victim is listed
// tells of both, an absent one too. So a batch's reads share their fields
// and are one event (audit.Recorder.Take groups reads by their fields).
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
		batch, err := db.Client.Victim.Query().Where(victim.IDGT(after), victim.Or(victim.ExactAgeNotNil(), victim.DateOfBirthNotNil())).
			Order(victim.ByID()).Limit(ageConflictsBatch).
			Select(victim.FieldAgeGroup, victim.FieldExactAge, victim.FieldDateOfBirth, victim.FieldIdentifiedAt).All(sys)
		if err != nil {
			return found, fmt.Errorf("reading victims with an exact age or a date of birth after id %d: %w", after, err)
		}
		var lines []string
		withBatch := found // found counts what was printed, withBatch this batch too
		for _, v := range batch {
			for _, field := range ageConflictsFields {
				rec.Consulted("Victim", v.ID, field, ageConflictsRead)
			}
			if l := ageFinding(v.ID, domain.Age{Group: v.AgeGroup, Exact: v.ExactAge, Birth: v.DateOfBirth, IdentifiedAt: v.IdentifiedAt}, &withBatch); l != "" {
				lines = append(lines, l)
			}
		}
		if err := w.Write(ctx, rec.Take()); err != nil {
			return found, fmt.Errorf("the reads of the exact ages and dates of birth cannot be recorded in the audit trail, so no more victims are listed: %w", err)
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
