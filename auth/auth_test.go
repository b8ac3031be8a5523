package auth_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

const (
	agencyCode = "police-tirane"
	agencyID   = 7
)

// knownAgencies resolves only agencyCode.
func knownAgencies(_ context.Context, code string) (int, bool, error) {
	if code == agencyCode {
		return agencyID, true, nil
	}
	return 0, false, nil
}

// newDevIssuer returns a DevIssuer with its key in a fresh directory, and
// that key.
func newDevIssuer(t *testing.T) (*auth.DevIssuer, ed25519.PrivateKey) {
	t.Helper()
	dir := t.TempDir()
	d, err := auth.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatalf("LoadOrCreateDevKey: %v", err)
	}
	return d, readKey(t, filepath.Join(dir, auth.DevKeyFile))
}

// readKey reads the PKCS#8 PEM Ed25519 key at path, so tests can sign tokens
// a DevIssuer would never issue.
func readKey(t *testing.T, path string) ed25519.PrivateKey {
	t.Helper()
	return testserver.ReadDevKey(t, path)
}

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

// claims returns valid claims from iss for aud, changed by edit (a nil
// value deletes the claim).
func claims(iss, aud string, edit map[string]any) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"iss":    iss,
		"aud":    aud,
		"sub":    "officer-42",
		"agency": agencyCode,
		"roles":  []string{"investigator", "analyst"},
		"iat":    now.Unix(),
		"nbf":    now.Unix(),
		"exp":    now.Add(time.Hour).Unix(),
		"jti":    "test",
	}
	for k, v := range edit {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func devClaims(edit map[string]any) jwt.MapClaims {
	return claims(auth.DevIssuerName, auth.DevAudience, edit)
}

// response is what the middleware did with one request.
type response struct {
	status      int
	contentType string
	challenge   string
	body        string
	code        string
	message     string
	nextCalled  bool
	principal   *viewer.Principal
	log         string
	refusals    []string
}

// serve sends one request with the given Authorization headers through the
// real Middleware.
func serve(t *testing.T, v auth.Verifier, agencies auth.AgencyResolver, authz ...string) response {
	t.Helper()
	var res response
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hook := auth.WithRefusalHook(func(r *http.Request, reason error) {
		res.refusals = append(res.refusals, reason.Error())
	})
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res.nextCalled = true
		res.principal = viewer.FromContext(r.Context())
		if viewer.IsSystem(r.Context()) {
			t.Error("next got a system context")
		}
		w.WriteHeader(http.StatusNoContent)
	})
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ me { id } }"}`))
	for _, a := range authz {
		req.Header.Add("Authorization", a)
	}
	rec := httptest.NewRecorder()
	auth.Middleware(v, agencies, logger, hook)(next).ServeHTTP(rec, req)

	res.status = rec.Code
	res.contentType = rec.Header().Get("Content-Type")
	res.challenge = rec.Header().Get("WWW-Authenticate")
	res.body = rec.Body.String()
	res.log = logBuf.String()
	if res.status != http.StatusNoContent {
		var body struct {
			Errors []struct {
				Message    string `json:"message"`
				Extensions struct {
					Code string `json:"code"`
				} `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
			t.Fatalf("body %q is not a GraphQL error response (%v)", res.body, err)
		}
		res.code = body.Errors[0].Extensions.Code
		res.message = body.Errors[0].Message
	}
	return res
}

func TestDevIssuerRoundTrip(t *testing.T) {
	d, _ := newDevIssuer(t)
	roles := []viewer.Role{viewer.RoleProsecutor, viewer.RoleDPO}
	before := time.Now()
	raw, err := d.Issue("officer-42", agencyCode, roles, auth.DefaultTokenTTL)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}

	t.Run("verifies", func(t *testing.T) {
		c, err := d.Verify(context.Background(), raw)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if c.Subject != "officer-42" || c.Agency != agencyCode || !slices.Equal(c.Roles, roles) {
			t.Errorf("claims = %+v", c)
		}
		wantExp := before.Add(auth.DefaultTokenTTL)
		if d := c.ExpiresAt.Sub(wantExp); d < -2*time.Second || d > 2*time.Second {
			t.Errorf("ExpiresAt = %v, want about %v", c.ExpiresAt, wantExp)
		}
	})

	t.Run("token shape", func(t *testing.T) {
		var mc jwt.MapClaims
		tok, _, err := jwt.NewParser().ParseUnverified(raw, &mc)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Header["alg"] != "EdDSA" {
			t.Errorf("alg = %v", tok.Header["alg"])
		}
		for _, k := range []string{"iss", "aud", "sub", "agency", "roles", "iat", "nbf", "exp", "jti"} {
			if _, ok := mc[k]; !ok {
				t.Errorf("claim %s missing", k)
			}
		}
		if mc["iss"] != "casegraph-dev" {
			t.Errorf("iss = %v", mc["iss"])
		}
		if aud, _ := mc.GetAudience(); !slices.Equal(aud, []string{"casegraph"}) {
			t.Errorf("aud = %v", aud)
		}
		if jti, _ := mc["jti"].(string); len(jti) < 16 {
			t.Errorf("jti = %q, want a random id", jti)
		}
	})

	t.Run("jti differs per token", func(t *testing.T) {
		raw2, err := d.Issue("officer-42", agencyCode, roles, auth.DefaultTokenTTL)
		if err != nil {
			t.Fatal(err)
		}
		var a, b jwt.RegisteredClaims
		_, _, _ = jwt.NewParser().ParseUnverified(raw, &a)
		_, _, _ = jwt.NewParser().ParseUnverified(raw2, &b)
		if a.ID == b.ID {
			t.Errorf("two tokens share jti %q", a.ID)
		}
	})
}

func TestIssueRejectsBadInput(t *testing.T) {
	d, _ := newDevIssuer(t)
	ok := []viewer.Role{viewer.RoleInvestigator}
	tests := []struct {
		name, subject, agency string
		roles                 []viewer.Role
		ttl                   time.Duration
		field                 string
	}{
		{"empty subject", "", agencyCode, ok, time.Hour, "subject"},
		{"blank subject", "  ", agencyCode, ok, time.Hour, "subject"},
		{"empty agency", "s", "", ok, time.Hour, "agency"},
		{"no roles", "s", agencyCode, nil, time.Hour, "roles"},
		{"unknown role", "s", agencyCode, []viewer.Role{viewer.RoleJudge, "superuser"}, time.Hour, "roles"},
		{"zero ttl", "s", agencyCode, ok, 0, "ttl"},
		{"negative ttl", "s", agencyCode, ok, -time.Minute, "ttl"},
		{"ttl over 7 days", "s", agencyCode, ok, auth.MaxTokenTTL + time.Second, "ttl"},
		{"subject too long", strings.Repeat("s", auth.MaxSubjectLength+1), agencyCode, ok, time.Hour, "subject"},
		{"subject with a line break", "officer\n42", agencyCode, ok, time.Hour, "subject"},
		{"agency too long", "s", strings.Repeat("a", auth.MaxAgencyLength+1), ok, time.Hour, "agency"},
		{"too many roles", "s", agencyCode, slices.Repeat(ok, auth.MaxRoleClaims+1), time.Hour, "roles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := d.Issue(tt.subject, tt.agency, tt.roles, tt.ttl)
			if raw != "" {
				t.Errorf("got a token")
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput || ae.Field != tt.field {
				t.Fatalf("err = %#v, want BAD_USER_INPUT on %s", err, tt.field)
			}
		})
	}
	t.Run("ttl of exactly 7 days", func(t *testing.T) {
		if _, err := d.Issue("s", agencyCode, ok, auth.MaxTokenTTL); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDevKeyFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are not meaningful on Windows")
	}
	dir := filepath.Join(t.TempDir(), "data", "nested")
	path := filepath.Join(dir, auth.DevKeyFile)

	first, err := auth.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatalf("first load: %v", err)
	}
	raw, err := first.Issue("officer-42", agencyCode, []viewer.Role{viewer.RoleAdmin}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pemBefore, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("directory mode 0700", func(t *testing.T) { checkMode(t, dir, 0o700) })
	t.Run("key file mode 0600 PKCS8 Ed25519", func(t *testing.T) {
		checkMode(t, path, 0o600)
		readKey(t, path)
	})
	t.Run("no temporary files left", func(t *testing.T) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Errorf("dir holds %d entries, want only the key", len(entries))
		}
	})
	t.Run("second load reuses the key", func(t *testing.T) {
		second, err := auth.LoadOrCreateDevKey(dir)
		if err != nil {
			t.Fatalf("second load: %v", err)
		}
		if _, err := second.Verify(context.Background(), raw); err != nil {
			t.Errorf("second issuer refuses first issuer's token: %v", err)
		}
		pemAfter, _ := os.ReadFile(path)
		if !bytes.Equal(pemBefore, pemAfter) {
			t.Error("key file was rewritten")
		}
	})
	t.Run("other key refuses token", func(t *testing.T) {
		other, _ := newDevIssuer(t)
		_, err := other.Verify(context.Background(), raw)
		if !errors.Is(err, auth.ErrSignature) {
			t.Errorf("err = %v, want ErrSignature", err)
		}
	})
	t.Run("key readable by others refused", func(t *testing.T) {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(path, 0o600) })
		if _, err := auth.LoadOrCreateDevKey(dir); err == nil {
			t.Error("loaded a world-readable key")
		}
	})
	t.Run("garbage key file refused", func(t *testing.T) {
		bad := t.TempDir()
		if err := os.WriteFile(filepath.Join(bad, auth.DevKeyFile), []byte("not a key"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := auth.LoadOrCreateDevKey(bad); err == nil {
			t.Error("loaded a garbage key file")
		}
	})
}

// checkMode checks the permission bits of the file at path.
func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("mode = %#o, want %#o", got, want)
	}
}

func TestMiddlewareRefusals(t *testing.T) {
	d, key := newDevIssuer(t)
	other, _ := newDevIssuer(t)
	pub := key.Public().(ed25519.PublicKey)
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	now := time.Now()
	edDSA := func(edit map[string]any) string { return sign(t, jwt.SigningMethodEdDSA, key, devClaims(edit), nil) }
	issue := func(iss *auth.DevIssuer, agency string) string {
		raw, err := iss.Issue("officer-42", agency, []viewer.Role{viewer.RoleInvestigator}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	valid := issue(d, agencyCode)
	failing := func(context.Context, string) (int, bool, error) {
		return 0, false, errors.New("database is down")
	}
	const (
		noChallenge    = `Bearer realm="casegraph"`
		tokenChallenge = `Bearer realm="casegraph", error="invalid_token"`
	)

	tests := []struct {
		name      string
		authz     []string
		agencies  auth.AgencyResolver
		status    int
		code      apperr.Code
		reason    error
		challenge string
	}{
		{name: "no header", status: 401, reason: auth.ErrNoToken, challenge: noChallenge},
		{name: "empty header", authz: []string{""}, status: 401, reason: auth.ErrNoToken, challenge: noChallenge},
		{name: "basic scheme", authz: []string{"Basic dXNlcjpwYXNz"}, status: 401, reason: auth.ErrBadHeader},
		{name: "bearer without token", authz: []string{"Bearer"}, status: 401, reason: auth.ErrBadHeader},
		{name: "bearer with blank token", authz: []string{"Bearer   "}, status: 401, reason: auth.ErrBadHeader},
		{name: "token with space", authz: []string{"Bearer " + valid + " extra"}, status: 401, reason: auth.ErrBadHeader},
		{name: "two authorization headers", authz: []string{"Bearer " + valid, "Bearer " + valid}, status: 401, reason: auth.ErrBadHeader},
		{name: "garbage token", authz: []string{"Bearer not-a-jwt"}, status: 401, reason: auth.ErrMalformed},
		{name: "garbage segments", authz: []string{"Bearer a.b.c"}, status: 401, reason: auth.ErrMalformed},
		{name: "roles not an array", authz: []string{"Bearer " + edDSA(map[string]any{"roles": "admin"})}, status: 401, reason: auth.ErrMalformed},
		{name: "expired", authz: []string{"Bearer " + edDSA(map[string]any{
			"iat": now.Add(-2 * time.Hour).Unix(), "nbf": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Minute).Unix(),
		})}, status: 401, reason: auth.ErrExpired},
		{name: "not yet valid", authz: []string{"Bearer " + edDSA(map[string]any{"nbf": now.Add(5 * time.Minute).Unix()})}, status: 401, reason: auth.ErrNotYetValid},
		{name: "issued in the future", authz: []string{"Bearer " + edDSA(map[string]any{"iat": now.Add(5 * time.Minute).Unix()})}, status: 401, reason: auth.ErrNotYetValid},
		{name: "wrong signature", authz: []string{"Bearer " + issue(other, agencyCode)}, status: 401, reason: auth.ErrSignature},
		{name: "tampered payload", authz: []string{"Bearer " + tamper(t, valid)}, status: 401, reason: auth.ErrSignature},
		{name: "alg none", authz: []string{"Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, devClaims(nil), nil)}, status: 401, reason: auth.ErrAlgorithm},
		{name: "HS256 with raw public key", authz: []string{"Bearer " + sign(t, jwt.SigningMethodHS256, []byte(pub), devClaims(nil), nil)}, status: 401, reason: auth.ErrAlgorithm},
		{name: "HS256 with PEM public key", authz: []string{"Bearer " + sign(t, jwt.SigningMethodHS256, pubPEM, devClaims(nil), nil)}, status: 401, reason: auth.ErrAlgorithm},
		{name: "unknown alg", authz: []string{"Bearer " + withHeader(t, valid, `{"alg":"XS999","typ":"JWT"}`)}, status: 401, reason: auth.ErrAlgorithm},
		{name: "wrong audience", authz: []string{"Bearer " + edDSA(map[string]any{"aud": "other-service"})}, status: 401, reason: auth.ErrAudience},
		{name: "wrong issuer", authz: []string{"Bearer " + edDSA(map[string]any{"iss": "someone-else"})}, status: 401, reason: auth.ErrIssuer},
		{name: "no expiry", authz: []string{"Bearer " + edDSA(map[string]any{"exp": nil})}, status: 401, reason: auth.ErrClaims},
		{name: "no subject", authz: []string{"Bearer " + edDSA(map[string]any{"sub": nil})}, status: 401, reason: auth.ErrClaims},
		{name: "no agency", authz: []string{"Bearer " + edDSA(map[string]any{"agency": nil})}, status: 401, reason: auth.ErrClaims},
		{name: "unknown role", authz: []string{"Bearer " + edDSA(map[string]any{"roles": []string{"investigator", "superuser"}})}, status: 401, reason: auth.ErrClaims},
		{name: "no roles", authz: []string{"Bearer " + edDSA(map[string]any{"roles": nil})}, status: 401, reason: auth.ErrClaims},
		{name: "empty roles", authz: []string{"Bearer " + edDSA(map[string]any{"roles": []string{}})}, status: 401, reason: auth.ErrClaims},
		{name: "unknown agency", authz: []string{"Bearer " + issue(d, "police-atlantis")}, status: 401, reason: auth.ErrUnknownAgency},
		{name: "resolver error", authz: []string{"Bearer " + valid}, agencies: failing, status: 503, code: apperr.Unavailable, reason: auth.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.agencies == nil {
				tt.agencies = knownAgencies
			}
			if tt.code == "" {
				tt.code = apperr.Unauthenticated
			}
			if tt.challenge == "" && tt.status == 401 {
				tt.challenge = tokenChallenge
			}
			wantMessage := "authentication failed: " + tt.reason.Error()
			if tt.status == 503 {
				wantMessage = "service unavailable"
			}

			res := serve(t, d, tt.agencies, tt.authz...)

			if res.status != tt.status {
				t.Errorf("status = %d, want %d", res.status, tt.status)
			}
			if res.code != string(tt.code) {
				t.Errorf("extensions.code = %q, want %q", res.code, tt.code)
			}
			if res.nextCalled {
				t.Error("next was called")
			}
			if res.message != wantMessage {
				t.Errorf("message = %q, want %q", res.message, wantMessage)
			}
			wantBody := fmt.Sprintf(`{"errors":[{"message":%q,"extensions":{"code":%q}}]}`, wantMessage, tt.code)
			if res.body != wantBody {
				t.Errorf("body = %s, want %s", res.body, wantBody)
			}
			if res.contentType != "application/json" {
				t.Errorf("Content-Type = %q", res.contentType)
			}
			if res.challenge != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", res.challenge, tt.challenge)
			}
			if !slices.Equal(res.refusals, []string{tt.reason.Error()}) {
				t.Errorf("refusal hook got %q, want [%q]", res.refusals, tt.reason)
			}
			if !strings.Contains(res.log, "authentication refused") || !strings.Contains(res.log, tt.reason.Error()) {
				t.Errorf("log %q lacks the refusal and its reason", res.log)
			}
			for _, a := range tt.authz {
				_, tok, _ := strings.Cut(a, " ")
				if len(tok) > 8 && (strings.Contains(res.body, tok) || strings.Contains(res.log, tok)) {
					t.Error("token echoed in body or log")
				}
			}
			if strings.Contains(res.log, "investigator") || strings.Contains(res.log, "superuser") {
				t.Errorf("log %q names roles", res.log)
			}
		})
	}
}

// tamper changes the token's payload, keeping its signature.
func tamper(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	payload = bytes.Replace(payload, []byte(`"investigator"`), []byte(`"admin"`), 1)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// withHeader replaces the token's header.
func withHeader(t *testing.T, raw, header string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	parts[0] = base64.RawURLEncoding.EncodeToString([]byte(header))
	return strings.Join(parts, ".")
}

func TestMiddlewareSuccess(t *testing.T) {
	d, key := newDevIssuer(t)
	now := time.Now()
	roles := []viewer.Role{viewer.RoleCaseWorker, viewer.RoleCoordinator}
	issued, err := d.Issue("officer-42", agencyCode, roles, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	edDSA := func(edit map[string]any) string { return sign(t, jwt.SigningMethodEdDSA, key, devClaims(edit), nil) }

	tests := []struct {
		name      string
		authz     string
		wantRoles []viewer.Role
	}{
		{"issued token", "Bearer " + issued, roles},
		{"lower-case scheme", "bearer " + issued, roles},
		{"upper-case scheme", "BEARER " + issued, roles},
		{"extra spaces", "  Bearer   " + issued + " ", roles},
		{"expired within leeway", "Bearer " + edDSA(map[string]any{"exp": now.Add(-10 * time.Second).Unix()}),
			[]viewer.Role{viewer.RoleInvestigator, viewer.RoleAnalyst}},
		{"not before within leeway", "Bearer " + edDSA(map[string]any{"nbf": now.Add(10 * time.Second).Unix()}),
			[]viewer.Role{viewer.RoleInvestigator, viewer.RoleAnalyst}},
		{"audience list", "Bearer " + edDSA(map[string]any{"aud": []string{"other", auth.DevAudience}}),
			[]viewer.Role{viewer.RoleInvestigator, viewer.RoleAnalyst}},
		{"duplicate roles collapsed", "Bearer " + edDSA(map[string]any{"roles": []string{"judge", "judge", "dpo"}}),
			[]viewer.Role{viewer.RoleJudge, viewer.RoleDPO}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resolved []string
			agencies := func(ctx context.Context, code string) (int, bool, error) {
				if !viewer.IsSystem(ctx) {
					t.Error("resolver context is not a system context")
				}
				resolved = append(resolved, code)
				return knownAgencies(ctx, code)
			}
			res := serve(t, d, agencies, tt.authz)
			if res.status != http.StatusNoContent || !res.nextCalled {
				t.Fatalf("status = %d, next called = %v, body %s", res.status, res.nextCalled, res.body)
			}
			want := &viewer.Principal{Subject: "officer-42", AgencyCode: agencyCode, AgencyID: agencyID, Roles: tt.wantRoles}
			p := res.principal
			if p == nil || p.Subject != want.Subject || p.AgencyCode != want.AgencyCode || p.AgencyID != want.AgencyID || !slices.Equal(p.Roles, want.Roles) {
				t.Errorf("principal = %+v, want %+v", p, want)
			}
			if !slices.Equal(resolved, []string{agencyCode}) {
				t.Errorf("resolver asked for %q", resolved)
			}
			if len(res.refusals) != 0 || res.log != "" {
				t.Errorf("refusal reported: hook %q, log %q", res.refusals, res.log)
			}
		})
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"nil", nil, nil},
		{"wrapped", fmt.Errorf("x: %w", auth.ErrExpired), auth.ErrExpired},
		{"unclassified", errors.New("boom"), auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.Reason(tt.err); got != tt.want {
				t.Errorf("Reason = %v, want %v", got, tt.want)
			}
		})
	}
}

// idp is a minimal OpenID provider: discovery document and JWKS.
type idp struct {
	srv *httptest.Server
	key *rsa.PrivateKey
	kid string
	// keyFetches counts the requests for the JWKS.
	keyFetches atomic.Int64
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	p := &idp{key: rsaKey(t), kid: "key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                p.srv.URL,
			"jwks_uri":                              p.srv.URL + "/jwks",
			"authorization_endpoint":                p.srv.URL + "/authorize",
			"token_endpoint":                        p.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256", "HS256", "none"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		p.keyFetches.Add(1)
		writeJSON(w, map[string]any{"keys": []map[string]string{{
			"kty": "RSA",
			"use": "sig",
			"alg": "RS256",
			"kid": p.kid,
			"n":   base64.RawURLEncoding.EncodeToString(p.key.N.Bytes()),
			"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(p.key.E)).Bytes()),
		}}})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

const oidcAudience = "casegraph-api"

func TestOIDCVerifier(t *testing.T) {
	p := newIDP(t)
	ctx := context.Background()
	v, err := auth.NewOIDCVerifier(ctx, p.srv.URL, oidcAudience)
	if err != nil {
		t.Fatalf("NewOIDCVerifier: %v", err)
	}
	now := time.Now()
	kid := map[string]any{"kid": p.kid}
	rs256 := func(edit map[string]any) string {
		return sign(t, jwt.SigningMethodRS256, p.key, claims(p.srv.URL, oidcAudience, edit), kid)
	}
	otherKey := rsaKey(t)
	pubDER, err := x509.MarshalPKIXPublicKey(&p.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	tests := []struct {
		name  string
		token string
		want  error // nil: accepted
	}{
		{"valid RS256", rs256(nil), nil},
		{"valid without kid", sign(t, jwt.SigningMethodRS256, p.key, claims(p.srv.URL, oidcAudience, nil), nil), nil},
		{"wrong audience", rs256(map[string]any{"aud": "someone-else"}), auth.ErrAudience},
		{"wrong issuer", rs256(map[string]any{"iss": "https://evil.example"}), auth.ErrIssuer},
		{"expired", rs256(map[string]any{"iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Minute).Unix()}), auth.ErrExpired},
		{"not yet valid", rs256(map[string]any{"nbf": now.Add(time.Minute).Unix()}), auth.ErrNotYetValid},
		{"signed by other key", sign(t, jwt.SigningMethodRS256, otherKey, claims(p.srv.URL, oidcAudience, nil), kid), auth.ErrSignature},
		{"signed by other key, unknown kid", sign(t, jwt.SigningMethodRS256, otherKey, claims(p.srv.URL, oidcAudience, nil), map[string]any{"kid": "key-2"}), auth.ErrSignature},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(p.srv.URL, oidcAudience, nil), kid), auth.ErrAlgorithm},
		{"HS256 with PEM public key", sign(t, jwt.SigningMethodHS256, pubPEM, claims(p.srv.URL, oidcAudience, nil), kid), auth.ErrAlgorithm},
		{"RS512 not advertised", sign(t, jwt.SigningMethodRS512, p.key, claims(p.srv.URL, oidcAudience, nil), kid), auth.ErrAlgorithm},
		{"unknown role", rs256(map[string]any{"roles": []string{"root"}}), auth.ErrClaims},
		{"no agency", rs256(map[string]any{"agency": nil}), auth.ErrClaims},
		{"garbage", "garbage", auth.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(ctx, tt.token)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Subject != "officer-42" || c.Agency != agencyCode ||
					!slices.Equal(c.Roles, []viewer.Role{viewer.RoleInvestigator, viewer.RoleAnalyst}) || c.ExpiresAt.IsZero() {
					t.Errorf("claims = %+v", c)
				}
				return
			}
			if c != nil {
				t.Errorf("got claims %+v", c)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Error("error echoes the token")
			}
		})
	}

	t.Run("through middleware", func(t *testing.T) {
		res := serve(t, v, knownAgencies, "Bearer "+rs256(nil))
		if res.status != http.StatusNoContent || res.principal == nil || res.principal.AgencyID != agencyID {
			t.Errorf("status %d, principal %+v", res.status, res.principal)
		}
		res = serve(t, v, knownAgencies, "Bearer "+rs256(map[string]any{"aud": "someone-else"}))
		if res.status != http.StatusUnauthorized || res.code != string(apperr.Unauthenticated) || res.nextCalled {
			t.Errorf("wrong audience: status %d, code %s, next called %v", res.status, res.code, res.nextCalled)
		}
	})
}

func TestNewOIDCVerifierErrors(t *testing.T) {
	p := newIDP(t)
	tests := []struct{ name, issuer, audience string }{
		{"no audience", p.srv.URL, ""},
		{"no issuer", "", oidcAudience},
		{"issuer mismatch", p.srv.URL + "/", oidcAudience},
		{"no discovery document", p.srv.URL + "/tenant", oidcAudience},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := auth.NewOIDCVerifier(context.Background(), tt.issuer, tt.audience); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestOIDCProviderUnreachable(t *testing.T) {
	p := newIDP(t)
	v, err := auth.NewOIDCVerifier(context.Background(), p.srv.URL, oidcAudience)
	if err != nil {
		t.Fatal(err)
	}
	token := sign(t, jwt.SigningMethodRS256, p.key, claims(p.srv.URL, oidcAudience, nil), map[string]any{"kid": p.kid})
	// The keys have not been fetched yet; now they cannot be.
	p.srv.Close()

	res := serve(t, v, knownAgencies, "Bearer "+token)
	if res.status != http.StatusServiceUnavailable || res.code != string(apperr.Unavailable) || res.nextCalled {
		t.Errorf("status %d, code %q, next called %v; want 503 UNAVAILABLE", res.status, res.code, res.nextCalled)
	}
	if res.message != "service unavailable" {
		t.Errorf("message = %q", res.message)
	}
	if !strings.Contains(res.log, "level=ERROR") {
		t.Errorf("outage not logged at Error level: %q", res.log)
	}
}
