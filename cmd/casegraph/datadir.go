package main

// Which data directory a command uses, and what it may create there.
//
// CASEGRAPH_DATA_DIR defaults to ./data, relative to the folder the command
// runs in: run from another folder, a command would silently make a second,
// empty database or a second signing key, and a token signed with that key
// would be refused by the server for no visible reason. So:
//
//   - every command that uses the data directory says on stderr which file
//     it uses, as an absolute path, and whether it just created it;
//   - only serve, migrate and seed create the embedded database and, in
//     development mode, the signing key: they set a data directory up for
//     a server. policy, audit, report and token only read (report appends
//     its reads to the audit trail), and refuse a data
//     directory that has none, naming the directory they looked in;
//   - token refuses when development tokens are off, since no server of
//     that configuration accepts them.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/database"
)

// whereToRun is the advice of every refusal about a data directory.
const whereToRun = "run the command in the folder where `casegraph serve` runs, or set CASEGRAPH_DATA_DIR to the server's data directory"

// notice writes one line to the command's stderr: the data directory it uses, or
// what a long step does.
func (c config) notice(format string, args ...any) {
	w := c.Notices
	if w == nil {
		w = io.Discard
	}
	fmt.Fprintf(w, "casegraph: "+format+"\n", args...)
}

// absolute is path made absolute for messages; a relative path is what hid
// the wrong folder in the first place.
func absolute(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// openDatabase opens the configured database. The embedded one is created
// only when create is true; either way stderr says which file is used.
func openDatabase(ctx context.Context, cfg config, create bool) (*database.DB, error) {
	if cfg.DatabaseURL != "" {
		return database.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	}
	path := absolute(filepath.Join(cfg.DataDir, database.DefaultFile))
	_, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !create:
		return nil, fmt.Errorf("no CaseGraph database at %s: %s", path, whereToRun)
	case errors.Is(err, fs.ErrNotExist):
		cfg.notice("creating a new embedded database at %s", path)
	case err != nil:
		return nil, fmt.Errorf("embedded database %s: %w", path, err)
	default:
		cfg.notice("using the embedded database at %s", path)
	}
	return database.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
}

// prepareDevKey creates the development signing key in development mode,
// if there is none, for the server that will use the data directory.
func prepareDevKey(cfg config) (*auth.DevIssuer, error) {
	if !cfg.Dev {
		return nil, nil
	}
	path := absolute(filepath.Join(cfg.DataDir, auth.DevKeyFile))
	_, statErr := os.Stat(path)
	dev, err := auth.LoadOrCreateDevKey(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		cfg.notice("created a new development signing key at %s", path)
	} else {
		cfg.notice("using the development signing key at %s", path)
	}
	return dev, nil
}

// existingDevKey returns the signing key a server of this configuration
// uses, refusing to make one.
func existingDevKey(cfg config) (*auth.DevIssuer, error) {
	if !cfg.Dev {
		return nil, errors.New("development tokens are off in this configuration (DATABASE_URL names PostgreSQL, or CASEGRAPH_DEV=0): the server accepts only its OIDC issuer's tokens; set CASEGRAPH_DEV=1 as the server does to mint development tokens")
	}
	path := absolute(filepath.Join(cfg.DataDir, auth.DevKeyFile))
	dev, err := auth.LoadDevKey(cfg.DataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no development signing key at %s, and a new one would sign tokens no server accepts: %s (serve, migrate and seed create the key)", path, whereToRun)
	}
	if err != nil {
		return nil, err
	}
	cfg.notice("signing with the development key at %s", path)
	return dev, nil
}
