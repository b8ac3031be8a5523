package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/migrations"
)

// auditUsage is the usage of `casegraph audit`, for main's usage text.
const auditUsage = `  casegraph audit verify [--anchor SEQ:HASH]... [--file EXPORT.jsonl]
                                           walk the audit trail's hash chain (or an export's, without
                                           the database) to its end, print every broken link, and the
                                           policy's lines its history does not make; exit 1 if any
  casegraph audit export --since TIME [--format jsonl|csv]
                                           write the events since TIME (RFC 3339 or YYYY-MM-DD, UTC),
                                           for the Commissioner
`

// errChainBroken makes `audit verify` exit non-zero.
var errChainBroken = errors.New("the audit trail does not verify")

// auditCmd reads the audit trail for the data protection officer and the
// Commissioner: it needs the database, not a token.
func auditCmd(ctx context.Context, cfg config, args []string, out io.Writer) error {
	return dispatch("audit", args, out, map[string]func([]string) error{
		"verify": func(args []string) error { return auditVerify(ctx, cfg, args, out) },
		"export": func(args []string) error { return auditExport(ctx, cfg, args, out) },
	})
}

// openMigrated opens the database and checks it is migrated: reading the
// trail of an older schema would mislead.
func openMigrated(ctx context.Context, cfg config) (*database.DB, error) {
	db, err := openDatabase(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	n, err := migrations.Pending(ctx, db.SQL, db.Dialect)
	if err == nil && n > 0 {
		err = fmt.Errorf("%d migrations are pending: run `casegraph migrate` first", n)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func auditVerify(ctx context.Context, cfg config, args []string, out io.Writer) error {
	fs := newFlagSet("audit verify")
	var anchors anchorFlags
	fs.Var(&anchors, "anchor", "SEQ:HASH of an event kept from an earlier verification (repeatable): shows a removed tail or a rewritten chain")
	file := fs.String("file", "", "check a JSON-lines export (audit export --format jsonl) instead of the database; - for stdin")
	if err := parseArgs(fs, args, out); err != nil {
		return err
	}
	// Every break is printed as the walk finds it, however many, with its
	// kind as verifyAuditTrail names it.
	var rewrittenTo int64
	each := func(b audit.Break) {
		fmt.Fprintf(out, "BROKEN at event %d: %s (%s)\n", b.Seq, b.Problem, b.Kind)
		if b.Kind == audit.BreakAnchor {
			rewrittenTo = max(rewrittenTo, b.Seq)
		}
	}
	var v audit.Verification
	var drift authz.Drift // of the database's policy; none for an export
	if *file != "" {
		in := io.Reader(os.Stdin)
		if *file != "-" {
			f, err := os.Open(*file)
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		var err error
		if v, err = audit.VerifyExportEach(in, each, anchors...); err != nil {
			return err
		}
	} else {
		db, err := openMigrated(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		if v, err = audit.VerifyEach(ctx, db.Client, each, anchors...); err != nil {
			return err
		}
		if drift, err = authz.PolicyDrift(ctx, db.Client); err != nil {
			return err
		}
	}
	if !v.Valid {
		fmt.Fprintln(out, brokenSummary(v, rewrittenTo))
		printDrift(out, drift)
		return errChainBroken
	}
	fmt.Fprintf(out, "OK: %d events verify; the chain ends at event %d with hash %s\n", v.Checked, v.LastSeq, v.LastHash)
	fmt.Fprintf(out, "Keep the anchor %d:%s elsewhere and pass it with --anchor next time.\n", v.LastSeq, v.LastHash)
	if *file != "" && len(anchors) == 0 {
		fmt.Fprint(out, unanchoredRun(v))
	}
	if printDrift(out, drift) {
		return errPolicyDrift
	}
	return nil
}

// errPolicyDrift makes `audit verify` exit non-zero when the policy in
// force is not the one its history makes.
var errPolicyDrift = errors.New("the policy in force is not the one its history makes")

// printDrift says each line by which the policy in force differs from
// its history (authz.Drift), and reports whether there was one. The
// trail's events name the line that decided each read, so a line in
// force that no change added is a read decided by a rule no one is
// recorded to have made (the DPO's hunt, twenty-sixth session).
func printDrift(out io.Writer, d authz.Drift) bool {
	for _, l := range d.Unexplained {
		fmt.Fprintf(out, "POLICY: in force, and added by no change of its history (written into policy_rules by hand?): %s\n", l)
	}
	for _, l := range d.Missing {
		fmt.Fprintf(out, "POLICY: made by its history, and not in force (removed from policy_rules by hand?): %s\n", l)
	}
	if d.None() {
		return false
	}
	fmt.Fprintf(out, "The policy in force is not the one its history makes: %d lines no change added, %d lines no change removed. "+
		"Compare `casegraph policy history` with the lines in force; a change belongs in changePolicy, which records it.\n",
		len(d.Unexplained), len(d.Missing))
	return true
}

// unanchoredRun says, of an export that verified with no anchor, what
// ties it to the chain: nothing, when it starts past the chain's first
// event. Its first prevHash is taken as given, so a run rewritten whole,
// hashes and all, verifies alike; the Commissioner, who has the file
// alone, was told "OK" and nothing of that (the DPO's hunt, twenty-sixth
// session). A run starting at event 1 links to the 64 zeros every chain
// starts from; an empty one says nothing.
func unanchoredRun(v audit.Verification) string {
	first := v.WalkedTo - v.Walked + 1 // a valid run has no gap
	if v.Walked == 0 || first <= 1 {
		return ""
	}
	return fmt.Sprintf("The export starts at event %d: nothing in it shows that it follows event %d of the chain (its first prevHash is taken as given). "+
		"Pass --anchor %d:HASH with the hash of event %d kept from an earlier verification or export to check it.\n", first, first-1, first-1, first-1)
}

// brokenSummary is the last line of a verification that found breaks,
// given the furthest event at which an anchor did not match (0: none).
// The chain's own checks vouch for the events before the first break, and
// count as intact each event that agrees with the one before it; an
// anchor's mismatch says the chain up to it was rewritten, hashes and all,
// which those checks cannot see: no event up to it is known to be intact
// (the summary said all of them were, under the break that said they were
// not).
func brokenSummary(v audit.Verification, rewrittenTo int64) string {
	s := fmt.Sprintf("%d breaks in %d events walked to event %d, the first at event %d", v.BreakCount, v.Walked, v.WalkedTo, v.BrokenAt)
	if rewrittenTo == 0 {
		return s + fmt.Sprintf(" (%d events before it verify); %d events are intact, each checked against the stored hash of the event before it",
			v.Checked, v.Intact)
	}
	return s + fmt.Sprintf("; an anchor does not match at event %d: the chain up to there was rewritten, or the anchor is not this chain's, "+
		"so no event up to event %d is known to be intact; %d events agree with the stored hash of the event before them, "+
		"as the events of a chain rewritten with fresh hashes do", rewrittenTo, rewrittenTo, v.Intact)
}

// anchorFlags are repeated --anchor SEQ:HASH flags.
type anchorFlags []audit.Anchor

func (a *anchorFlags) String() string { return fmt.Sprint(*a) }

func (a *anchorFlags) Set(v string) error {
	seq, hash, ok := strings.Cut(v, ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	anchor, valid := audit.NewAnchor(n, hash)
	if !ok || err != nil || !valid {
		return fmt.Errorf("an anchor is SEQ:HASH as audit verify prints it, the hash whole (%d hexadecimal digits)", len(audit.GenesisHash))
	}
	*a = append(*a, anchor)
	return nil
}

func auditExport(ctx context.Context, cfg config, args []string, out io.Writer) error {
	fs := newFlagSet("audit export")
	sinceFlag := fs.String("since", "", "first time to export (RFC 3339, or YYYY-MM-DD in UTC)")
	format := fs.String("format", audit.FormatJSONL, "jsonl or csv")
	if err := parseArgs(fs, args, out); err != nil {
		return err
	}
	if *sinceFlag == "" {
		return errors.New("audit export needs --since (e.g. --since 2026-01-01)")
	}
	since, err := parseSince(*sinceFlag)
	if err != nil {
		return err
	}
	if *format != audit.FormatJSONL && *format != audit.FormatCSV {
		return fmt.Errorf("--format must be jsonl or csv, not %q", *format)
	}
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = audit.Export(ctx, db.Client, since, *format, out)
	return err
}

func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q is neither RFC 3339 (2026-01-31T00:00:00Z) nor a date (2026-01-31)", s)
}
