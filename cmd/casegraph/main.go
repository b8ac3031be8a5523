// Command casegraph runs CaseGraph: `casegraph serve` starts the API,
// `migrate` applies the schema migrations, `seed` loads agencies and demo
// data, `token` prints a development token, `policy` reads the access
// policy, `audit` verifies and exports the audit trail. Configuration comes from the
// environment (see README.md): DATABASE_URL, CASEGRAPH_ADDR,
// CASEGRAPH_DATA_DIR, CASEGRAPH_DEV, CASEGRAPH_OIDC_ISSUER,
// CASEGRAPH_OIDC_AUDIENCE, CASEGRAPH_RATE_LIMIT, CASEGRAPH_TRUSTED_PROXIES,
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
	"strings"
	"syscall"

	"github.com/casegraph/casegraph/server"
)

const usage = `casegraph: one GraphQL API over trafficking cases, per-agency access to victim data.

Usage:
  casegraph serve [--seed-demo-if-empty]   start the API (GraphiQL at /)
  casegraph migrate [--status]             apply pending schema migrations
  casegraph seed --agencies | --demo [--scale N] [--seed S] [--today YYYY-MM-DD]
                                           load the agency registry, or demo data
  casegraph token --subject S --agency CODE --role ROLE [--role ROLE2] [--ttl 8h]
                                           print a development token
` + policyUsage + `  casegraph audit verify [--anchor SEQ:HASH] [--file EXPORT.jsonl]
                                           walk the audit trail's hash chain, or an export's (exit 1 if broken)
  casegraph audit export --since TIME [--format jsonl|csv]
                                           the audit events since TIME, for the Commissioner
`

const usageEnvironment = `Environment: DATABASE_URL (empty: embedded SQLite under CASEGRAPH_DATA_DIR,
default ./data), CASEGRAPH_ADDR (default :8080), CASEGRAPH_DEV (1 or 0),
CASEGRAPH_OIDC_ISSUER and CASEGRAPH_OIDC_AUDIENCE (production tokens),
CASEGRAPH_RATE_LIMIT (requests a minute per client address, default 1200),
CASEGRAPH_TRUSTED_PROXIES (load balancers whose X-Forwarded-For names the
client: addresses or CIDR prefixes, comma-separated; default none),
CASEGRAPH_LOG_LEVEL (debug, info, warn, error).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "casegraph:", err)
		}
		if errors.Is(err, errChainBroken) {
			os.Exit(1) // a finding, not a failure to run
		}
		os.Exit(2)
	}
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
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, logger, args[1:], stderr)
	case "migrate":
		return migrate(ctx, cfg, args[1:], stdout)
	case "seed":
		return seedCmd(ctx, cfg, args[1:], stdout)
	case "token":
		return token(cfg, args[1:], stdout)
	case "policy":
		return policyCmd(ctx, cfg, args[1:], stdout)
	case "audit":
		return auditCmd(ctx, cfg, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage+"\n"+usageEnvironment)
		return nil
	}
	fmt.Fprint(stderr, usage+"\n"+usageEnvironment)
	return fmt.Errorf("unknown command %q", args[0])
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
	// TrustedProxies: CASEGRAPH_TRUSTED_PROXIES, comma-separated.
	TrustedProxies []netip.Prefix
	LogLevel       slog.Level
}

func configFromEnv() (config, error) {
	c := config{
		DatabaseURL:  os.Getenv("DATABASE_URL"),
		Addr:         envOr("CASEGRAPH_ADDR", ":8080"),
		DataDir:      envOr("CASEGRAPH_DATA_DIR", "data"),
		OIDCIssuer:   os.Getenv("CASEGRAPH_OIDC_ISSUER"),
		OIDCAudience: os.Getenv("CASEGRAPH_OIDC_AUDIENCE"),
		RateLimit:    1200,
	}
	// Development tokens are on by default only for the embedded database.
	c.Dev = c.DatabaseURL == ""
	switch v := os.Getenv("CASEGRAPH_DEV"); v {
	case "":
	case "1", "true":
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
	if v := os.Getenv("CASEGRAPH_RATE_LIMIT"); v != "" {
		if _, err := fmt.Sscan(v, &c.RateLimit); err != nil || c.RateLimit < 0 {
			return c, fmt.Errorf("CASEGRAPH_RATE_LIMIT must be a number of requests a minute (0: no limit)")
		}
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
