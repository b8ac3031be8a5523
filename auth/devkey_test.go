package auth_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/viewer"
)

// LoadDevKey signs with the key a server made and never makes one: a fresh
// key would sign tokens that no server accepts.
func TestLoadDevKeyNeverCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := auth.LoadDevKey(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadDevKey of an empty directory: %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadDevKey created %s (%v)", dir, err)
	}
	server, err := auth.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	minter, err := auth.LoadDevKey(dir)
	if err != nil {
		t.Fatalf("LoadDevKey after the server made the key: %v", err)
	}
	tok, err := minter.Issue("s", agencyCode, []viewer.Role{viewer.RoleInvestigator}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Verify(context.Background(), tok); err != nil {
		t.Errorf("the server refuses a token signed with its own key: %v", err)
	}
}
