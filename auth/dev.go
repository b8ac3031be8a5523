package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/viewer"
)

// Development-mode constants.
const (
	// DefaultDataDir is the data directory used when LoadOrCreateDevKey is
	// given an empty one.
	DefaultDataDir = "data"
	// DevKeyFile is the name of the signing key file in the data directory.
	DevKeyFile = "dev-signing-key.pem"
	// DevIssuerName is the iss claim of development tokens.
	DevIssuerName = "casegraph-dev"
	// DevAudience is the aud claim of development tokens.
	DevAudience = "casegraph"
	// DefaultTokenTTL is the lifetime callers should give development tokens
	// unless told otherwise: one working day.
	DefaultTokenTTL = 8 * time.Hour
	// MaxTokenTTL bounds the lifetime of every token, development or OIDC,
	// so a leaked one does not stay useful forever: Issue refuses a longer
	// ttl, and Verify refuses a token whose exp lies further ahead
	// (ErrLifetime), whoever signed it.
	MaxTokenTTL = 7 * 24 * time.Hour
)

// devAlg is the only algorithm development tokens may use.
var devAlg = jwt.SigningMethodEdDSA

// DevIssuer signs and verifies development tokens with an Ed25519 key kept in
// the data directory. It implements [Verifier]; it accepts only tokens it
// could have signed itself: alg EdDSA, iss DevIssuerName, aud DevAudience.
type DevIssuer struct {
	key    ed25519.PrivateKey
	pub    ed25519.PublicKey
	parser *jwt.Parser
}

var _ Verifier = (*DevIssuer)(nil)

// LoadOrCreateDevKey returns a DevIssuer using the key in dir/DevKeyFile
// (dir defaults to DefaultDataDir). On first use it creates dir (mode 0700)
// if missing and a fresh key file (mode 0600, PKCS#8 PEM); afterwards it
// reuses that key, so tokens stay valid across restarts. It refuses a key
// file that other users can read or write.
func LoadOrCreateDevKey(dir string) (*DevIssuer, error) {
	if dir == "" {
		dir = DefaultDataDir
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: create data directory: %w", err)
	}
	path := filepath.Join(dir, DevKeyFile)
	key, err := readDevKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createDevKey(path)
	}
	if err != nil {
		return nil, err
	}
	return newDevIssuer(key), nil
}

// LoadDevKey returns a DevIssuer using the existing key in dir/DevKeyFile,
// and never creates one: a tool that mints tokens for a server must sign
// with that server's key, and a fresh key would make tokens no server
// accepts. The error wraps fs.ErrNotExist when there is no key.
func LoadDevKey(dir string) (*DevIssuer, error) {
	if dir == "" {
		dir = DefaultDataDir
	}
	key, err := readDevKey(filepath.Join(dir, DevKeyFile))
	if err != nil {
		return nil, err
	}
	return newDevIssuer(key), nil
}

func newDevIssuer(key ed25519.PrivateKey) *DevIssuer {
	opts := append([]jwt.ParserOption{jwt.WithValidMethods([]string{devAlg.Alg()})},
		validatorOptions(DevIssuerName, DevAudience)...)
	return &DevIssuer{
		key:    key,
		pub:    key.Public().(ed25519.PublicKey),
		parser: jwt.NewParser(opts...),
	}
}

// readDevKey reads the key at path; the error wraps fs.ErrNotExist when
// there is none yet.
func readDevKey(path string) (ed25519.PrivateKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("auth: dev signing key: %w", err)
	}
	// Like ssh, refuse a key others may read: anyone who can read it can mint
	// tokens for any agency and role. Windows has no such permission bits.
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("auth: dev signing key %s is accessible by other users (mode %#o); run chmod 600 on it", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: dev signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("auth: dev signing key %s: no PKCS#8 PEM block", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: dev signing key %s: %w", path, err)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: dev signing key %s: want an Ed25519 key, have %T", path, parsed)
	}
	return key, nil
}

// createDevKey generates a key and stores it at path, unless another process
// got there first, in which case that process's key wins and is returned.
func createDevKey(path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: generate dev signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("auth: encode dev signing key: %w", err)
	}
	// Write a complete file under a temporary name, then link it into place:
	// the link fails if the file exists, so two servers starting at once never
	// overwrite each other's key, and nobody ever reads a half-written file.
	// os.CreateTemp creates the file with mode 0600.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dev-signing-key-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("auth: create dev signing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("auth: write dev signing key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("auth: write dev signing key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("auth: write dev signing key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readDevKey(path)
		}
		return nil, fmt.Errorf("auth: store dev signing key: %w", err)
	}
	return key, nil
}

// Issue signs a development token for subject acting for agency with roles,
// valid from now for ttl. Invalid input yields an *apperr.Error with code
// BAD_USER_INPUT.
func (d *DevIssuer) Issue(subject, agency string, roles []viewer.Role, ttl time.Duration) (string, error) {
	switch {
	case strings.TrimSpace(subject) == "":
		return "", apperr.InvalidField("subject", "The subject must not be empty.")
	case checkClaimText("sub", subject, MaxSubjectLength) != nil:
		return "", apperr.InvalidField("subject", "The subject must be one line of plain text of at most %d bytes.", MaxSubjectLength)
	case strings.TrimSpace(agency) == "":
		return "", apperr.InvalidField("agency", "The agency code must not be empty.")
	case checkClaimText(ClaimAgency, agency, MaxAgencyLength) != nil:
		return "", apperr.InvalidField("agency", "The agency code must be one line of plain text of at most %d bytes.", MaxAgencyLength)
	case len(roles) == 0:
		return "", apperr.InvalidField("roles", "At least one role is required.")
	case len(roles) > MaxRoleClaims:
		return "", apperr.InvalidField("roles", "At most %d roles are allowed.", MaxRoleClaims)
	case ttl <= 0 || ttl > MaxTokenTTL:
		return "", apperr.InvalidField("ttl", "The lifetime must be positive and at most %d days.", MaxTokenTTL/(24*time.Hour))
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		if !r.Valid() {
			return "", apperr.InvalidField("roles", "Unknown role %q.", r)
		}
		names[i] = string(r)
	}
	now := time.Now()
	claims := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    DevIssuerName,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{DevAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        rand.Text(),
		},
		Agency: agency,
		Roles:  names,
	}
	signed, err := jwt.NewWithClaims(devAlg, claims).SignedString(d.key)
	if err != nil {
		return "", fmt.Errorf("auth: sign dev token: %w", err)
	}
	return signed, nil
}

// Verify checks a development token; see [Verifier].
func (d *DevIssuer) Verify(_ context.Context, rawToken string) (*Claims, error) {
	var tc tokenClaims
	tok, err := d.parser.ParseWithClaims(rawToken, &tc, func(t *jwt.Token) (any, error) {
		// WithValidMethods already refuses other algorithms; checking again
		// here keeps the key from ever being handed to another method.
		if t.Method.Alg() != devAlg.Alg() {
			return nil, ErrAlgorithm
		}
		return d.pub, nil
	})
	if err != nil {
		return nil, classifyDevError(tok, err)
	}
	return tc.toClaims()
}

// classifyDevError maps an error of golang-jwt's parser to a reason.
// golang-jwt reports a refused algorithm as an invalid signature, so the
// algorithm is checked first.
func classifyDevError(tok *jwt.Token, err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return refusal(ErrMalformed, err)
	case tok != nil && (tok.Method == nil || tok.Method.Alg() != devAlg.Alg()):
		// Unknown, missing or unexpected alg (including "none").
		return refusal(ErrAlgorithm, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return refusal(ErrSignature, err)
	default:
		return classifyClaimsError(err)
	}
}
