package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/cost"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/migrations"
	"github.com/casegraph/casegraph/policytools"
	"github.com/casegraph/casegraph/seed"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/statistics"
	"github.com/casegraph/casegraph/trusted"
	"github.com/casegraph/casegraph/viewer"
)

// serve starts the API. The embedded database is migrated at start; a
// PostgreSQL database must be migrated on purpose (casegraph migrate), and
// serve refuses to start on one with pending migrations.
func serve(ctx context.Context, cfg config, logger *slog.Logger, args []string, out, banner io.Writer) error {
	fs := newFlagSet("serve")
	seedIfEmpty := fs.Bool("seed-demo-if-empty", false, "load the demo data when the database has no cases")
	if err := parseArgs(fs, args, out); err != nil {
		return err
	}
	// The addresses are taken first: a port in use is said at once, not
	// after the database is migrated and the demo loaded (a new user's
	// run of README, 2026-12-07, waited for the demo to learn it).
	ln, err := listen("CASEGRAPH_ADDR", cfg.Addr, " (CASEGRAPH_ADDR=:8081 make run, say)")
	if err != nil {
		return err
	}
	defer ln.Close() // the server closes it too; a second Close does nothing
	var mln net.Listener
	if cfg.MetricsAddr != "" {
		if mln, err = listen("CASEGRAPH_METRICS_ADDR", cfg.MetricsAddr, ""); err != nil {
			return err
		}
		defer mln.Close()
	}
	scfg := server.Config{Logger: logger, RateLimit: cfg.RateLimit, TrustedProxies: cfg.TrustedProxies,
		MaxConns: cfg.MaxConns, MaxConnsPerAddress: cfg.MaxConnsPerAddress, MaxOperations: cfg.MaxOperations, MaxQueuedOperations: cfg.MaxQueued,
		MaxUnsentAnswerBytes: cfg.MaxUnsentBytes, RequestTimeout: cfg.RequestTimeout, CostPerMinute: cfg.CostLimit, Limits: limitsFrom(cfg),
		MetricsToken: cfg.MetricsToken, MetricsOnOwnListener: mln != nil}
	// Until the server is built, the addresses answer as a server that is
	// starting (server.Start): alive to /healthz, 503 to /readyz and 503
	// with Retry-After to /graphql. Until 2026-12-07 (twenty-third
	// session) a client's connection waited in the listen queue meanwhile,
	// and a probe timed out.
	front := server.Start(scfg, ln, mln)
	starting := []any{"addr", ln.Addr().String()}
	if mln != nil {
		starting = append(starting, "metrics_addr", mln.Addr().String())
	}
	logger.Info("starting", starting...)
	srv, db, dev, err := startUp(ctx, cfg, logger, scfg, *seedIfEmpty)
	if err != nil {
		front.Close()
		if ctx.Err() == nil {
			return err
		}
		// Stopped while starting (a signal): a stop, not a failure. What
		// was under way was undone or is finished by the next start (a
		// migration is one transaction, and so is the demo load).
		if errors.Is(err, errDemoInterrupted) {
			cfg.notice("%v", err)
		}
		logger.Info("shutting down", "cause", context.Cause(ctx).Error(), "while", "starting")
		return nil
	}
	defer db.Close()
	if mln != nil {
		logger.Info("serving /metrics", "addr", mln.Addr().String(), "token", cfg.MetricsToken != "")
	} else if cfg.MetricsToken == "" && dev == nil {
		logger.Warn("/metrics is open to anyone who reaches " + cfg.Addr +
			": set CASEGRAPH_METRICS_ADDR to an internal address or CASEGRAPH_METRICS_TOKEN (README: Configuration)")
	}
	logger.Info("serving", "addr", ln.Addr().String(), "database", db.Dialect, "location", db.Location, "dev_tokens", dev != nil)
	if dev != nil {
		printBanner(banner, ln.Addr(), dev)
	}
	return front.Serve(ctx, srv, 20*time.Second)
}

// startUp is what serve does between binding its addresses and serving:
// it opens the database, migrates the embedded one or checks PostgreSQL's
// migrations, loads the demo data into an empty database if seedIfEmpty,
// and builds the server of scfg (which it completes). On an error it
// closes the database; otherwise the caller does.
func startUp(ctx context.Context, cfg config, logger *slog.Logger, scfg server.Config, seedIfEmpty bool) (_ *server.Server, _ *database.DB, _ *auth.DevIssuer, err error) {
	// A statement outlives its request by at most a second on PostgreSQL.
	dbCfg := cfg
	dbCfg.DatabaseURL = database.WithStatementTimeout(cfg.DatabaseURL, cfg.RequestTimeout+time.Second)
	db, err := openDatabase(ctx, dbCfg, true)
	if err != nil {
		return nil, nil, nil, err
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	// On PostgreSQL only: SQLite's page cache lives in the process, outside
	// the heap the memory limit counts (see gc.go).
	if db.Dialect == dialect.Postgres && tuneGC(os.Getenv) {
		logger.Info("garbage collector tuned for serving", "GOGC", serveGCPercent, "GOMEMLIMIT", fmt.Sprintf("%dMiB", serveMemoryLimit>>20))
	}
	if db.Dialect == dialect.SQLite {
		applied, err := migrations.Apply(ctx, db.SQL, db.Dialect)
		if err != nil {
			return nil, nil, nil, err
		}
		if len(applied) > 0 {
			logger.Info("migrated the embedded database", "versions", applied)
		}
		// Keep SQLite's planner statistics current (cheap when they are).
		if _, err := db.SQL.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
			return nil, nil, nil, err
		}
	} else {
		pending, err := migrations.Pending(ctx, db.SQL, db.Dialect)
		if err != nil {
			return nil, nil, nil, err
		}
		if pending > 0 {
			return nil, nil, nil, fmt.Errorf("the database has %d pending migrations: run `casegraph migrate` first", pending)
		}
		owns, err := audit.RoleOwnsTrail(ctx, db.SQL)
		if err != nil {
			return nil, nil, nil, err
		}
		if owns {
			logger.Warn("the server's database role owns audit_events, so it could disable the triggers that keep the audit trail append-only; " +
				"run `casegraph migrate` as the owner and `serve` as a role granted only SELECT, INSERT on it (README: The audit trail)")
		}
	}
	if seedIfEmpty {
		empty, err := demo.IsEmpty(ctx, db.Client)
		if err != nil {
			return nil, nil, nil, err
		}
		if empty {
			logger.Info("loading demo data into the empty database")
			stats, err := demo.Load(ctx, db.Client, demo.Options{Scale: 1, Seed: 1, Today: time.Now()})
			switch {
			case errors.Is(err, demo.ErrNotEmpty):
				// Another server started on the same empty database
				// loaded it meanwhile.
				logger.Info("another server loaded the demo data meanwhile")
			case err != nil:
				return nil, nil, nil, demoNotLoaded(ctx, err, "the next start with --seed-demo-if-empty loads all of it")
			default:
				logger.Info("demo data loaded", "cases", stats.Cases, "victims", stats.Victims)
				if err := db.Analyze(ctx); err != nil {
					return nil, nil, nil, err
				}
			}
		}
	}
	verifier, dev, err := verifierFor(ctx, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	enforcer, err := authz.New(ctx, db.Client, db.Dialect, graph.Vocabulary())
	if err != nil {
		return nil, nil, nil, err
	}
	// A policy line written into policy_rules by hand decides reads with
	// no trace (authz.Drift): said at every start, as the trail's owner
	// role is, and by `audit verify`. The server still starts: the lines
	// are valid, and refusing to serve would stop an agency's work for a
	// line a data protection officer must judge.
	if drift, err := authz.PolicyDrift(ctx, db.Client); err != nil {
		return nil, nil, nil, err
	} else if !drift.None() {
		logger.Error("the policy in force is not the one its history makes: lines written into or removed from policy_rules by hand decide reads with no history entry and no audit event; `casegraph audit verify` names them",
			"added_by_no_change", drift.Unexplained, "removed_by_no_change", drift.Missing)
	}
	if db.Dialect == dialect.Postgres {
		// Statistics are kept across requests only while every change to
		// their tables is heard; without it, each request reads its own.
		scfg.StatisticsCache = statistics.NewCache()
		if err := scfg.StatisticsCache.Follow(ctx, cfg.DatabaseURL, logger); err != nil {
			logger.Warn("statistics are read afresh by every request: cannot listen for changes", "error", err.Error())
			scfg.StatisticsCache = nil
		}
	}
	if cfg.TrustedDocuments != "" {
		if scfg.TrustedDocuments, err = trusted.Load(cfg.TrustedDocuments); err != nil {
			return nil, nil, nil, err
		}
		if err := graph.CheckTrustedDocuments(scfg.TrustedDocuments, scfg.Limits); err != nil {
			return nil, nil, nil, err
		}
		logger.Info("serving only trusted documents", "manifest", cfg.TrustedDocuments, "documents", scfg.TrustedDocuments.Len())
	}
	scfg.DB, scfg.Verifier, scfg.Enforcer = db, verifier, enforcer
	srv := server.New(scfg)
	if db.Dialect == dialect.Postgres {
		// Every server reloads the policy when any of them changes it.
		// Only once server.New has installed its interceptors on
		// db.Client, which the reloads read through: before it, the first
		// reload raced with their installation (the race detector's
		// finding, the review of 2026-12-07, twentieth session).
		if err := enforcer.Follow(ctx, cfg.DatabaseURL, logger); err != nil {
			return nil, nil, nil, fmt.Errorf("listening for policy changes: %w", err)
		}
	}
	return srv, db, dev, nil
}

// listen listens on addr, the value of variable. An address another
// program holds (make run's :8080, on a machine where something else
// serves there) is refused naming the variable that chooses another, and
// example, how; any other failure names the variable.
func listen(variable, addr, example string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("%s: %w: another program listens there; stop it, or set %s to another address%s", variable, err, variable, example)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", variable, err)
	}
	return ln, nil
}

// verifierFor returns the development issuer or the OIDC verifier.
func verifierFor(ctx context.Context, cfg config) (auth.Verifier, *auth.DevIssuer, error) {
	if cfg.Dev {
		dev, err := prepareDevKey(cfg)
		return dev, dev, err
	}
	if cfg.OIDCIssuer == "" || cfg.OIDCAudience == "" {
		return nil, nil, errors.New("production mode needs CASEGRAPH_OIDC_ISSUER and CASEGRAPH_OIDC_AUDIENCE (or CASEGRAPH_DEV=1 for development tokens)")
	}
	v, err := auth.NewOIDCVerifier(ctx, cfg.OIDCIssuer, cfg.OIDCAudience)
	return v, nil, err
}

// demoPrincipals are the people the banner prints tokens for.
var demoPrincipals = []struct {
	subject, agency string
	role            viewer.Role
}{
	{"investigator.demo", "police-tirane", viewer.RoleInvestigator},
	{"prosecutor.demo", "prosecution-tirane", viewer.RoleProsecutor},
	{"judge.demo", "court-tirane", viewer.RoleJudge},
	{"caseworker.demo", "ngo-vatra", viewer.RoleCaseWorker},
	{"coordinator.demo", "onac", viewer.RoleCoordinator},
	{"analyst.demo", "onac", viewer.RoleAnalyst},
	{"admin.demo", "onac", viewer.RoleAdmin},
	// The national coordinator's DPO reads every agency's audit trail.
	{"dpo.demo", "onac", viewer.RoleDPO},
}

func printBanner(w io.Writer, addr net.Addr, dev *auth.DevIssuer) {
	host := addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && (tcp.IP.IsUnspecified() || tcp.IP == nil) {
		host = fmt.Sprintf("localhost:%d", tcp.Port)
	}
	fmt.Fprintf(w, "\nCaseGraph is running.\n  GraphiQL: http://%s/\n  GraphQL:  http://%s/graphql\n\n", host, host)
	fmt.Fprintln(w, "Paste one of these into GraphiQL's Headers tab (valid 8 hours):")
	for _, p := range demoPrincipals {
		tok, err := dev.Issue(p.subject, p.agency, []viewer.Role{p.role}, auth.DefaultTokenTTL)
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "\n  %s at %s:\n  {\"Authorization\": \"Bearer %s\"}\n", p.role, p.agency, tok)
	}
	fmt.Fprintln(w, "\nMore: bin/casegraph token --subject you --agency police-tirane --role investigator")
	fmt.Fprintln(w)
}

// migrate applies pending migrations, or reports how many are pending.
func migrate(ctx context.Context, cfg config, args []string, out io.Writer) error {
	fs := newFlagSet("migrate")
	status := fs.Bool("status", false, "only report how many migrations are pending")
	if err := parseArgs(fs, args, out); err != nil {
		return err
	}
	// Asking for the status of a database creates none.
	db, err := openDatabase(ctx, cfg, !*status)
	if err != nil {
		return err
	}
	defer db.Close()
	if *status {
		n, err := migrations.Pending(ctx, db.SQL, db.Dialect)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%d pending migrations\n", n)
		return nil
	}
	applied, err := migrations.Apply(ctx, db.SQL, db.Dialect)
	if err != nil {
		return err
	}
	if _, err := prepareDevKey(cfg); err != nil {
		return err
	}
	fmt.Fprintf(out, "applied %d migrations to %s\n", len(applied), db.Location)
	return nil
}

// seedCmd loads the agency registry or the demo data into a migrated
// database.
func seedCmd(ctx context.Context, cfg config, args []string, out io.Writer) error {
	fs := newFlagSet("seed")
	loadDemo := fs.Bool("demo", false, "load the agencies, five years of synthetic cases and the current year up to --today")
	agencies := fs.Bool("agencies", false, "load only the agency registry")
	scale := fs.Int("scale", 1, "multiply the demo volumes (for benchmarks)")
	seedValue := fs.Int64("seed", 1, "random seed: the same seed and --today make the same data")
	todayFlag := fs.String("today", "", "the demo's date, YYYY-MM-DD (default: today, UTC); the demo ends the day before")
	if err := parseArgs(fs, args, out); err != nil {
		return err
	}
	today := time.Now().UTC()
	if *todayFlag != "" {
		t, err := time.Parse(time.DateOnly, *todayFlag)
		if err != nil {
			return fmt.Errorf("--today must be a date like 2026-03-01, got %q", *todayFlag)
		}
		today = t
	}
	if *loadDemo == *agencies {
		return errors.New("seed needs exactly one of --demo or --agencies")
	}
	if *scale < 1 {
		return errors.New("--scale must be at least 1")
	}
	db, err := openDatabase(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if db.Dialect == dialect.SQLite {
		if _, err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
			return err
		}
	} else if n, err := migrations.Pending(ctx, db.SQL, db.Dialect); err != nil || n > 0 {
		if err != nil {
			return err
		}
		return fmt.Errorf("the database has %d pending migrations: run `casegraph migrate` first", n)
	}
	if _, err := prepareDevKey(cfg); err != nil {
		return err
	}
	if *agencies {
		if err := seed.Agencies(ctx, db.Client); err != nil {
			return err
		}
		fmt.Fprintln(out, "agency registry loaded")
		return nil
	}
	empty, err := demo.IsEmpty(ctx, db.Client)
	if err != nil {
		return err
	}
	if !empty {
		return errors.New("the database already has cases; demo data goes into an empty database")
	}
	// Minutes at the scale of benchmarks, with nothing to show until the end.
	cfg.notice("loading the demo data (all of it or, if stopped, none)")
	stats, err := demo.Load(ctx, db.Client, demo.Options{Scale: *scale, Seed: *seedValue, Today: today})
	if errors.Is(err, demo.ErrNotEmpty) {
		return errors.New("the database already has cases (loaded meanwhile by another command or server); demo data goes into an empty database")
	}
	if err != nil {
		return demoNotLoaded(ctx, err, "run seed --demo again")
	}
	if err := db.Analyze(ctx); err != nil {
		return err
	}
	first, _ := demo.Years(today)
	fmt.Fprintf(out, "demo data loaded: %d agencies, %d cases, %d victims, %d suspects, %d prosecutions, %d decisions, %d referrals (January %d to %s)\n",
		stats.Agencies, stats.Cases, stats.Victims, stats.Suspects, stats.Prosecutions, stats.Decisions, stats.Referrals,
		first, demo.AsOf(today).AddDate(0, 0, -1).Format(time.DateOnly))
	return nil
}

// errDemoInterrupted is the error of a demo.Load its context ended.
var errDemoInterrupted = errors.New("loading the demo data was interrupted and none of it was kept")

// demoNotLoaded is the error of a demo.Load that failed or was interrupted
// (ctx ended: Ctrl-C, SIGTERM; errDemoInterrupted), telling the user that
// the database holds none of the demo (Load writes it in one transaction)
// and what loads it.
func demoNotLoaded(ctx context.Context, err error, retry string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %s", errDemoInterrupted, retry)
	}
	return fmt.Errorf("loading the demo data: %w; none of it was kept: %s", err, retry)
}

// roleFlags collects repeated --role flags.
type roleFlags []viewer.Role

func (r *roleFlags) String() string {
	s := make([]string, len(*r))
	for i, v := range *r {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

func (r *roleFlags) Set(v string) error {
	role := viewer.Role(v)
	if !role.Valid() {
		return fmt.Errorf("unknown role %q (known: %s)", v, strings.Join(roleNames(), ", "))
	}
	*r = append(*r, role)
	return nil
}

func roleNames() []string {
	names := make([]string, len(viewer.Roles))
	for i, r := range viewer.Roles {
		names[i] = string(r)
	}
	return names
}

// token prints a development token signed with the key under the data
// directory, which the server in development mode accepts. It never makes
// a key: one that no server uses would sign tokens every server refuses.
// For the same reason it refuses an agency code the registry does not
// have (the server refused such a token, 401 "unknown agency", and token
// had signed it without a word), and it warns of a role the policy gives
// nothing at the agency's kind, which the server answers with empty pages
// and refusals, naming the roles the policy gives something there.
func token(ctx context.Context, cfg config, args []string, out io.Writer) error {
	fs := newFlagSet("token")
	subject := fs.String("subject", "", "who the token is for")
	agencyCode := fs.String("agency", "", "the agency code they act for, e.g. police-tirane")
	ttl := fs.Duration("ttl", auth.DefaultTokenTTL, "how long the token is valid")
	var roles roleFlags
	fs.Var(&roles, "role", "a role (repeatable): "+strings.Join(roleNames(), ", "))
	if err := parseArgs(fs, args, out); err != nil {
		return err
	}
	dev, err := existingDevKey(cfg)
	if err != nil {
		return err
	}
	tok, err := dev.Issue(*subject, *agencyCode, roles, *ttl)
	if err != nil {
		return err
	}
	db, e, err := openPolicy(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := agencyByCode(ctx, db, *agencyCode)
	if err != nil {
		return err
	}
	given := policytools.RolesWithAccessAt(e, a.Kind)
	for _, r := range roles {
		if slices.Contains(given, r) {
			continue
		}
		names := make([]string, len(given))
		for i, g := range given {
			names[i] = string(g)
		}
		cfg.notice("warning: the policy gives the role %s nothing at %s, an agency of kind %s, so the server will answer this token with empty pages and refusals; "+
			"the roles it gives something at %s: %s (casegraph policy matrix shows what)", r, a.Code, a.Kind, a.Kind, cmp.Or(strings.Join(names, ", "), "none"))
	}
	fmt.Fprintln(out, tok)
	return nil
}

// limitsFrom returns the default request limits with the configured cost
// ceiling.
func limitsFrom(cfg config) cost.Limits {
	l := cost.DefaultLimits()
	l.MaxCost = cfg.MaxCost
	return l
}
