package testserver

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/casegraph/casegraph/auth"
)

// ReadDevKey reads the PKCS#8 PEM Ed25519 key a DevIssuer wrote.
func ReadDevKey(tb testing.TB, path string) ed25519.PrivateKey {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		tb.Fatalf("%s: no PRIVATE KEY block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		tb.Fatalf("%s holds a %T, not an Ed25519 key", path, k)
	}
	return key
}

// DevClaims are the claims of a valid development token, for a test to
// spoil one at a time.
func DevClaims(agency string, roles ...string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":    auth.DevIssuerName,
		"aud":    []string{auth.DevAudience},
		"sub":    "crafted@test",
		"iat":    now.Unix(),
		"nbf":    now.Unix(),
		"exp":    now.Add(time.Hour).Unix(),
		"agency": agency,
		"roles":  roles,
	}
}

// Sign signs claims with key as the development issuer does.
func Sign(tb testing.TB, key ed25519.PrivateKey, claims jwt.MapClaims) string {
	tb.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims).SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}
