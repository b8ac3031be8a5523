// Command casegraph runs CaseGraph: `casegraph serve` starts the API,
// `migrate` applies the schema migrations, `seed` loads agencies and demo
// data, `token` prints a development token, `policy` reads the access
// policy, `audit` verifies and exports the audit trail, `report annual`
// writes the year's published statistics, `victims age-conflicts` lists
// the victims whose stored age group their exact age or date of birth
// contradicts or whose date of birth is after their identification.
// Configuration comes from the
// environment (see README.md): DATABASE_URL, CASEGRAPH_ADDR,
// CASEGRAPH_DATA_DIR, CASEGRAPH_DEV, CASEGRAPH_OIDC_ISSUER,
// CASEGRAPH_OIDC_AUDIENCE, CASEGRAPH_RATE_LIMIT, CASEGRAPH_COST_LIMIT,
// CASEGRAPH_MAX_COST, CASEGRAPH_MAX_OPERATIONS, CASEGRAPH_MAX_QUEUED,
// CASEGRAPH_MAX_UNSENT_BYTES,
// CASEGRAPH_REQUEST_TIMEOUT, CASEGRAPH_TRUSTED_DOCUMENTS,
// CASEGRAPH_TRUSTED_PROXIES, CASEGRAPH_METRICS_ADDR, CASEGRAPH_METRICS_TOKEN,
// CASEGRAPH_LOG_LEVEL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/casegraph/casegraph/cost"
	"github.com/casegraph/casegraph/server"
)

const usage = `casegraph: one GraphQL API over trafficking cases, per-agency access to victim data.

Usage:
  casegraph serve [--seed-demo-if-empty]   start the API (GraphiQL at /)
  casegraph migrate [--status]             apply pending schema migrations
  casegraph seed --agencies | --demo [--scale N] [--seed S] [--today YYYY-MM-DD]
                                           load the agency registry, or demo data
  casegraph token --subject S --agency CODE --role ROLE [--role ROLE2] [--ttl 8h]
                                           print a development token, signed with the key
                                           serve made in the data directory (never a new one)
` + policyUsage + auditUsage + reportUsage + victimsUsage + documentsUsage

const usageEnvironment = `Environment: DATABASE_URL (empty: embedded SQLite under CASEGRAPH_DATA_DIR,
default ./data; every command says on stderr which files there it uses), CASEGRAPH_ADDR (default :8080), CASEGRAPH_DEV (1 or 0),
CASEGRAPH_OIDC_ISSUER and CASEGRAPH_OIDC_AUDIENCE (production tokens),
CASEGRAPH_RATE_LIMIT (requests a minute per client address, default 1200;
0 turns every rate limit off), CASEGRAPH_COST_LIMIT (cost a minute per
principal, default 1000000; four times that per address),
CASEGRAPH_MAX_COST (cost ceiling of one operation, default 25000),
CASEGRAPH_MAX_CONNS and CASEGRAPH_MAX_CONNS_PER_ADDRESS (connections held
open at once, in all and per client address; default 8192 and 256),
CASEGRAPH_MAX_OPERATIONS and CASEGRAPH_MAX_QUEUED (GraphQL operations
executed at once, and waiting; default 4 a CPU, at most the database pool's
connections, and 8 times that),
CASEGRAPH_MAX_UNSENT_BYTES (bytes of answers built and not yet sent to
their clients; a principal a quarter, an address half; default 33554432),
CASEGRAPH_REQUEST_TIMEOUT (default 5s), CASEGRAPH_TRUSTED_DOCUMENTS (a
manifest of the only GraphQL documents served; default: any),
CASEGRAPH_TRUSTED_PROXIES (load balancers whose X-Forwarded-For names the
client: addresses or CIDR prefixes, comma-separated; default none),
CASEGRAPH_METRICS_ADDR (serve /metrics there only, e.g. 127.0.0.1:9090;
default: next to /graphql), CASEGRAPH_METRICS_TOKEN (/metrics needs
"Authorization: Bearer <token>"; default: open),
CASEGRAPH_LOG_LEVEL (debug, info, warn, error).
`

func main() {
	// Every time the server makes is in UTC, whatever the machine's TZ: the
	// SQLite driver stores a time as text with its zone, and times of two
	// zones compare as text out of order (under TZ=Europe/Tirane a case
	// opened at 07:04Z sorted after one opened at 07:30Z). Times a client
	// sends are read in UTC too (input.UnmarshalTime).
	time.Local = time.UTC
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "casegraph:", err)
		}
		os.Exit(exitStatus(err))
	}
}

// findings are the errors of a command that ran and found what it looks
// for: a broken audit trail or a policy its history does not make (audit
// verify), victims whose exact ages or dates of birth contradict their age
// groups, or dates of birth their identification (victims age-conflicts).
var findings = []error{errChainBroken, errPolicyDrift, errAgeConflicts}

// exitStatus is the status casegraph exits with after err: 1 for a
// finding, 2 for a failure to run (a wrong flag, no database, the audit
// trail unavailable), so that a script tells them apart.
func exitStatus(err error) int {
	for _, f := range findings {
		if errors.Is(err, f) {
			return 1
		}
	}
	return 2
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage+"\n"+usageEnvironment)
		return flag.ErrHelp
	}
	cfg, err := configFromEnv()
	if err != nil {
		return err
	}
	cfg.Notices = stderr
	if err := runCommand(ctx, cfg, args, stdout, stderr); !errors.Is(err, errHelpShown) {
		return err
	}
	return nil
}

// runCommand runs the command args name.
func runCommand(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, logger, args[1:], stdout, stderr)
	case "migrate":
		return migrate(ctx, cfg, args[1:], stdout)
	case "seed":
		return seedCmd(ctx, cfg, args[1:], stdout)
	case "token":
		return token(ctx, cfg, args[1:], stdout)
	case "policy":
		return policyCmd(ctx, cfg, args[1:], stdout)
	case "audit":
		return auditCmd(ctx, cfg, args[1:], stdout)
	case "report":
		return reportCmd(ctx, cfg, args[1:], stdout)
	case "victims":
		return victimsCmd(ctx, cfg, args[1:], stdout)
	case "documents":
		return documentsCmd(cfg, args[1:], stdout)
	}
	if args[0] == "help" || askedForHelp(args[0]) {
		fmt.Fprint(stdout, usage+"\n"+usageEnvironment)
		return nil
	}
	fmt.Fprint(stderr, usage+"\n"+usageEnvironment)
	return fmt.Errorf("unknown command %q", args[0])
}

// errHelpShown ends a command whose usage was asked for (--help or -h,
// wherever a flag may be) once it is printed on stdout: run answers nil, so
// the command exits 0 with no error line. Every command's flags are parsed
// by parseArgs and every group of commands (policy, audit, report,
// victims, documents) is dispatched by dispatch, so that all answer help alike (they
// exited 2, and a group took --help for an unknown command).
var errHelpShown = errors.New("usage shown")

// askedForHelp reports whether arg asks for a command's usage, as the flag
// package reads it.
func askedForHelp(arg string) bool {
	switch arg {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}

// newFlagSet returns the flag set of command ("token", "policy explain"),
// for parseArgs. The flag package prints nothing of its own: it printed a
// wrong flag's error, then the usage, and main printed the error again.
func newFlagSet(command string) *flag.FlagSet {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses the arguments of the command of fs (newFlagSet). Asked
// for help, it prints the command's usage on out and returns errHelpShown;
// a wrong flag is one error, which says where the flags are listed.
func parseArgs(fs *flag.FlagSet, args []string, out io.Writer) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return showUsage(out, fs.Name(), fs)
	case err != nil:
		return fmt.Errorf("%w (casegraph %s --help lists its flags)", err, fs.Name())
	}
	return nil
}

// dispatch runs the command of group (policy, audit, report, victims,
// documents)
// that args name, with the arguments after it. With none, or one the group
// has not, it refuses with the group's usage; asked for help, it prints it.
func dispatch(group string, args []string, out io.Writer, commands map[string]func(args []string) error) error {
	if len(args) == 0 {
		return fmt.Errorf("%s needs a command:\n%s", group, usageOf(group))
	}
	if askedForHelp(args[0]) {
		return showUsage(out, group, nil)
	}
	command, ok := commands[args[0]]
	if !ok {
		return fmt.Errorf("unknown %s command %q:\n%s", group, args[0], usageOf(group))
	}
	return command(args[1:])
}

// showUsage prints the usage of command on out: its lines of the usage
// text, then the flags of fs, if any (nil: a group of commands). It returns
// errHelpShown.
func showUsage(out io.Writer, command string, fs *flag.FlagSet) error {
	fmt.Fprintf(out, "Usage:\n%s", usageOf(command))
	flags := 0
	if fs != nil {
		fs.VisitAll(func(*flag.Flag) { flags++ })
	}
	if flags > 0 {
		fmt.Fprintln(out, "\nFlags:")
		fs.SetOutput(out)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return errHelpShown
}

// usageOf returns the lines of the usage text about command ("token",
// "policy", "policy explain"): each line naming it, with the lines that
// continue it. The usage text is the one description of every command.
func usageOf(command string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.SplitAfter(usage, "\n") {
		if rest, ok := strings.CutPrefix(line, "  casegraph "); ok {
			in = strings.HasPrefix(rest+" ", command+" ") || strings.HasPrefix(rest, command+"\n")
		} else if !strings.HasPrefix(line, "   ") {
			in = false
		}
		if in {
			b.WriteString(line)
		}
	}
	return b.String()
}

// config is what the environment says.
type config struct {
	DatabaseURL  string
	Addr         string
	DataDir      string
	Dev          bool
	OIDCIssuer   string
	OIDCAudience string
	RateLimit    int
	// MaxConns and MaxConnsPerAddress bound the connections held open
	// (CASEGRAPH_MAX_CONNS, CASEGRAPH_MAX_CONNS_PER_ADDRESS); 0: the
	// server's defaults.
	MaxConns, MaxConnsPerAddress int
	// MaxOperations and MaxQueued bound the GraphQL operations executed
	// at once and those waiting (CASEGRAPH_MAX_OPERATIONS,
	// CASEGRAPH_MAX_QUEUED); 0: the server's defaults.
	MaxOperations, MaxQueued int
	// MaxUnsentBytes bounds the bytes of answers built and not yet sent
	// (CASEGRAPH_MAX_UNSENT_BYTES); 0: the server's default.
	MaxUnsentBytes int
	// CostLimit is the cost a principal may spend a minute
	// (CASEGRAPH_COST_LIMIT); off when RateLimit is 0.
	CostLimit int
	// MaxCost is the ceiling of one operation's cost (CASEGRAPH_MAX_COST).
	MaxCost int
	// RequestTimeout bounds one request (CASEGRAPH_REQUEST_TIMEOUT).
	RequestTimeout time.Duration
	// TrustedDocuments is the manifest of the only documents served
	// (CASEGRAPH_TRUSTED_DOCUMENTS); empty serves any.
	TrustedDocuments string
	// TrustedProxies: CASEGRAPH_TRUSTED_PROXIES, comma-separated.
	TrustedProxies []netip.Prefix
	// MetricsAddr: CASEGRAPH_METRICS_ADDR, where /metrics is served
	// instead of Addr; empty: at Addr.
	MetricsAddr string
	// MetricsToken: CASEGRAPH_METRICS_TOKEN, the bearer token /metrics
	// needs; empty: none.
	MetricsToken string
	LogLevel     slog.Level
	// Notices is where commands say which data directory they use, and
	// what a long step is doing (the command's stderr); nil discards.
	Notices io.Writer
}

func configFromEnv() (config, error) {
	c := config{
		DatabaseURL:    os.Getenv("DATABASE_URL"),
		Addr:           envOr("CASEGRAPH_ADDR", ":8080"),
		DataDir:        envOr("CASEGRAPH_DATA_DIR", "data"),
		OIDCIssuer:     os.Getenv("CASEGRAPH_OIDC_ISSUER"),
		OIDCAudience:   os.Getenv("CASEGRAPH_OIDC_AUDIENCE"),
		RateLimit:      1200,
		CostLimit:      server.DefaultCostPerMinute,
		MaxCost:        cost.DefaultLimits().MaxCost,
		RequestTimeout: server.DefaultRequestTimeout,
		MetricsAddr:    os.Getenv("CASEGRAPH_METRICS_ADDR"),
		MetricsToken:   os.Getenv("CASEGRAPH_METRICS_TOKEN"),
		// Read here like every other setting: it used to be documented and
		// never read, so a production server ran any document.
		TrustedDocuments: os.Getenv("CASEGRAPH_TRUSTED_DOCUMENTS"),
	}
	// Development tokens are on by default only for the embedded database,
	// and never beside an identity provider: a server given both used to
	// take development tokens and ignore the provider without a word.
	oidc := c.OIDCIssuer != "" || c.OIDCAudience != ""
	c.Dev = c.DatabaseURL == "" && !oidc
	switch v := os.Getenv("CASEGRAPH_DEV"); v {
	case "":
	case "1", "true":
		if oidc {
			return c, errors.New("CASEGRAPH_DEV=1 with CASEGRAPH_OIDC_ISSUER or CASEGRAPH_OIDC_AUDIENCE: development tokens would take the identity provider's place; set one or the other")
		}
		c.Dev = true
	case "0", "false":
		c.Dev = false
	default:
		return c, fmt.Errorf("CASEGRAPH_DEV must be 1 or 0, not %q", v)
	}
	if v := os.Getenv("CASEGRAPH_TRUSTED_PROXIES"); v != "" {
		p, err := server.ParseTrustedProxies(v)
		if err != nil {
			return c, fmt.Errorf("CASEGRAPH_TRUSTED_PROXIES: %w", err)
		}
		c.TrustedProxies = p
	}
	if err := envWhole("CASEGRAPH_RATE_LIMIT", 0, &c.RateLimit, "CASEGRAPH_RATE_LIMIT must be a number of requests a minute (0: no limit)"); err != nil {
		return c, err
	}
	if c.RateLimit == 0 {
		c.CostLimit = 0 // no rate limit of any kind (a load test)
	}
	if err := envWhole("CASEGRAPH_COST_LIMIT", 0, &c.CostLimit, "CASEGRAPH_COST_LIMIT must be a cost a minute per principal (0: no limit)"); err != nil {
		return c, err
	}
	for _, n := range []struct {
		env  string
		into *int
		what string
	}{{"CASEGRAPH_MAX_CONNS", &c.MaxConns, "connections"}, {"CASEGRAPH_MAX_CONNS_PER_ADDRESS", &c.MaxConnsPerAddress, "connections"},
		{"CASEGRAPH_MAX_OPERATIONS", &c.MaxOperations, "operations"}, {"CASEGRAPH_MAX_QUEUED", &c.MaxQueued, "operations"},
		{"CASEGRAPH_MAX_UNSENT_BYTES", &c.MaxUnsentBytes, "bytes"}} {
		if err := envWhole(n.env, 1, n.into, fmt.Sprintf("%s must be a positive number of %s", n.env, n.what)); err != nil {
			return c, err
		}
	}
	if err := envWhole("CASEGRAPH_MAX_COST", 1, &c.MaxCost, "CASEGRAPH_MAX_COST must be a positive number (the cost ceiling of one operation)"); err != nil {
		return c, err
	}
	if v := os.Getenv("CASEGRAPH_REQUEST_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond || d > 10*time.Minute {
			return c, fmt.Errorf("CASEGRAPH_REQUEST_TIMEOUT must be a duration between 100ms and 10m, such as 5s")
		}
		c.RequestTimeout = d
	}
	switch strings.ToLower(os.Getenv("CASEGRAPH_LOG_LEVEL")) {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return c, fmt.Errorf("CASEGRAPH_LOG_LEVEL must be debug, info, warn or error")
	}
	return c, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envWhole sets *into from the environment variable name, when it is set,
// to the whole number it holds, at least least; otherwise it is refused
// with refusal. The whole value is read: fmt.Sscan, used until
// 2026-12-07, read "32MiB" as 32 and "1m" as 1, a bound a thousandth or
// a millionth of the one meant, without a word.
func envWhole(name string, least int, into *int, refusal string) error {
	v := os.Getenv(name)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < least {
		return errors.New(refusal)
	}
	*into = n
	return nil
}
