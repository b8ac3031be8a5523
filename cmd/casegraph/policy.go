package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/migrations"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/policytools"
	"github.com/casegraph/casegraph/viewer"
)

// policyUsage is the usage of `casegraph policy`, for main's usage text.
const policyUsage = `  casegraph policy matrix [--format md|csv]
                                           the access matrix of the policy in force
  casegraph policy explain --role ROLE [--role ROLE2] (--kind KIND | --agency CODE)
                           (--field F [--action read|write] | --mutation M | --object O --action A)
                                           what the policy lets those roles do, and why
  casegraph policy what-if [--add "p, …"]... [--remove "p, …"]...
                                           the cells of the matrix a change would change
  casegraph policy history                 the changes of the policy, newest first, each with the version it made
`

// policyCmd reads the policy in force for data protection officers and
// admins: its matrix, why it allows or denies one thing, what a change
// would change, and its history. It changes nothing but what opening the
// database does (migrating the embedded one, seeding an empty policy), and
// creates no database (datadir.go).
func policyCmd(ctx context.Context, cfg config, args []string, out io.Writer) error {
	return dispatch("policy", args, out, map[string]func([]string) error{
		"matrix":  func(args []string) error { return policyMatrix(ctx, cfg, args, out) },
		"explain": func(args []string) error { return policyExplain(ctx, cfg, args, out) },
		"what-if": func(args []string) error { return policyWhatIf(ctx, cfg, args, out) },
		"history": func(args []string) error { return policyHistory(ctx, cfg, args, out) },
	})
}

func policyMatrix(ctx context.Context, cfg config, args []string, out io.Writer) error {
	fs := newFlagSet("policy matrix")
	format := fs.String("format", "md", "md (tables for people) or csv (one line per cell)")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	if *format != "md" && *format != "csv" {
		return fmt.Errorf("--format is md or csv, not %q", *format)
	}
	db, e, err := openPolicy(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	m := policytools.MatrixOf(e)
	if *format == "csv" {
		return m.WriteCSV(out)
	}
	_, err = io.WriteString(out, m.Markdown())
	return err
}

func policyExplain(ctx context.Context, cfg config, args []string, out io.Writer) error {
	fs := newFlagSet("policy explain")
	var q policytools.Question
	var roles roleFlags
	fs.Var(&roles, "role", "a role (repeatable): "+strings.Join(roleNames(), ", "))
	kind := fs.String("kind", "", "the agency's kind, e.g. NGO_SHELTER")
	agencyCode := fs.String("agency", "", "an agency's code, e.g. ngo-vatra (instead of --kind)")
	fs.StringVar(&q.Field, "field", "", "a sensitive field, e.g. Victim.legalName")
	fs.StringVar(&q.Mutation, "mutation", "", "a mutation, e.g. openCase")
	fs.StringVar(&q.Object, "object", "", "rows:cases, rows:victims, emergency, policy or audit")
	fs.StringVar(&q.Action, "action", "", "read or write (a field; default read), or the object's action")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	if (*kind == "") == (*agencyCode == "") {
		return errors.New("policy explain needs exactly one of --kind or --agency")
	}
	db, e, err := openPolicy(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	q.Roles, q.Kind = roles, domain.AgencyKind(*kind)
	if *agencyCode != "" {
		a, err := agencyByCode(ctx, db, *agencyCode)
		if err != nil {
			return err
		}
		q.Kind = a.Kind
	}
	x, err := policytools.Explain(e, q)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, x.Text())
	return err
}

func policyWhatIf(ctx context.Context, cfg config, args []string, out io.Writer) error {
	fs := newFlagSet("policy what-if")
	var add, remove policyLineFlags
	fs.Var(&add, "add", `a policy line to add (repeatable), e.g. "p, judge, court, Victim:CONTACT, read, proceedings"`)
	fs.Var(&remove, "remove", "a policy line to remove (repeatable)")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	db, e, err := openPolicy(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	changes, err := policytools.WhatIf(ctx, e, add, remove)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, policytools.RenderChanges(changes))
	return err
}

func policyHistory(ctx context.Context, cfg config, args []string, out io.Writer) error {
	fs := newFlagSet("policy history")
	if err := parseFlags(fs, args, out); err != nil {
		return err
	}
	// Not the enforcer: the history is wanted most when the policy in
	// the database does not load.
	db, err := openForPolicy(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	changes, err := authz.History(ctx, db.Client, math.MaxInt32, 0) // every entry
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		_, err := io.WriteString(out, "No change since the default policy was loaded.\n")
		return err
	}
	for i, c := range changes {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "%s  %s (%s)  version %d\n  Reason: %s\n", c.At.UTC().Format(time.RFC3339), c.ActorSubject, c.ActorAgency, c.PolicyVersion, c.Reason)
		if c.ActorSubject == authz.DefaultPolicyActor {
			fmt.Fprintf(out, "  + the %d lines of the default policy (casegraph policy matrix shows what they allow)\n", len(c.Added))
			continue
		}
		for _, l := range c.Added {
			fmt.Fprintf(out, "  + %s\n", policies.Line(l))
		}
		for _, l := range c.Removed {
			fmt.Fprintf(out, "  - %s\n", policies.Line(l))
		}
	}
	return nil
}

// agencyByCode returns the agency of the registry whose code is code, or
// an error naming the code when none has it: the server refuses a token of
// such an agency (401 "unknown agency"), and a question about one has no
// answer.
func agencyByCode(ctx context.Context, db *database.DB, code string) (*ent.Agency, error) {
	a, err := db.Client.Agency.Query().Where(agency.Code(code)).Only(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("no agency has the code %q", code)
	}
	return a, err
}

// openPolicy opens the database (see openForPolicy) and builds the enforcer
// over the policy in it, seeding the default into an empty one as serve
// does.
func openPolicy(ctx context.Context, cfg config) (*database.DB, *authz.Enforcer, error) {
	db, err := openForPolicy(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	e, err := authz.New(ctx, db.Client, db.Dialect, graph.Vocabulary())
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return db, e, nil
}

// openForPolicy opens the database as serve does: it migrates the embedded
// one and refuses a PostgreSQL one with pending migrations.
func openForPolicy(ctx context.Context, cfg config) (*database.DB, error) {
	db, err := openDatabase(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	if db.Dialect == dialect.SQLite {
		_, err = migrations.Apply(ctx, db.SQL, db.Dialect)
	} else if n, perr := migrations.Pending(ctx, db.SQL, db.Dialect); perr != nil {
		err = perr
	} else if n > 0 {
		err = fmt.Errorf("the database has %d pending migrations: run `casegraph migrate` first", n)
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// parseFlags parses args (parseArgs) and refuses anything left over.
func parseFlags(fs *flag.FlagSet, args []string, out io.Writer) error {
	if err := parseArgs(fs, args, out); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// policyLineFlags collects repeated flags, each one policy line in
// policy.csv's form.
type policyLineFlags []policies.Line

func (p *policyLineFlags) String() string {
	s := make([]string, len(*p))
	for i, l := range *p {
		s[i] = l.String()
	}
	return strings.Join(s, "; ")
}

func (p *policyLineFlags) Set(v string) error {
	lines, err := policies.Parse(v)
	if err != nil {
		return err
	}
	if len(lines) != 1 {
		return fmt.Errorf("give one policy line per flag, not %d", len(lines))
	}
	*p = append(*p, lines[0])
	return nil
}
