package auth_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/viewer"
)

// FuzzBearerToken presents arbitrary bytes as a development bearer token,
// to DevIssuer.Verify and through Middleware (issue 9). Property: no panic;
// a token is accepted only with the claims its issuer signed; every refusal
// is 401 UNAUTHENTICATED with a reason of this package (never "unavailable":
// nothing is down), and neither the error nor the answer quotes the token.
func FuzzBearerToken(f *testing.F) {
	d, err := auth.LoadOrCreateDevKey(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	const subject = "fuzz-officer"
	valid, err := d.Issue(subject, agencyCode, []viewer.Role{viewer.RoleInvestigator}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	_, otherKey, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	header, payload, _ := strings.Cut(valid, ".")
	payload, signature, _ := strings.Cut(payload, ".")
	forged, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": auth.DevIssuerName, "aud": auth.DevAudience, "sub": subject, "agency": agencyCode,
		"roles": []string{"investigator"}, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
	}).SignedString(otherKey)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		valid,
		forged,
		header + "." + payload + ".", // signature stripped
		enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + payload + ".", // alg none
		enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + payload + "." + signature,
		enc([]byte(`{"alg":"EdDSA","kid":"../../etc/passwd"}`)) + "." + payload + "." + signature,
		header + "." + enc([]byte(`{"sub":"x","agency":"police-tirane","roles":"admin","exp":99999999999}`)) + "." + signature,
		header + "." + enc([]byte(`{"exp":1e400}`)) + "." + signature,
		header + "." + enc([]byte(`{"roles":[{"a":1}],"aud":[[]]}`)) + "." + signature,
		header + "." + enc([]byte(strings.Repeat("[", 10000))) + "." + signature,
		header + ".." + signature,
		"a.b.c", "....", "", " ", "Bearer x", "\x00", "\xff\xfe", "e30.e30.e30", "eyJ", valid + "x", valid[:len(valid)-1],
	} {
		f.Add([]byte(seed))
	}
	agencies := func(_ context.Context, code string) (int, bool, error) {
		if code == agencyCode {
			return agencyID, true, nil
		}
		return 0, false, nil
	}
	mw := auth.Middleware(d, agencies, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if viewer.FromContext(r.Context()) == nil {
			t := "no principal after authentication"
			http.Error(w, t, http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))

	f.Fuzz(func(t *testing.T, raw []byte) {
		token := string(raw)
		quotes := func(s string) bool { return len(token) >= 16 && strings.Contains(s, token) }

		claims, err := d.Verify(context.Background(), token)
		switch {
		case err == nil:
			if claims.Subject != subject || claims.Agency != agencyCode || len(claims.Roles) != 1 || claims.Roles[0] != viewer.RoleInvestigator {
				t.Fatalf("accepted a token with claims its issuer never signed: %+v", claims)
			}
		case errors.Is(auth.Reason(err), auth.ErrUnavailable), errors.Is(auth.Reason(err), auth.ErrNoToken):
			t.Fatalf("refused for %v: nothing is down and a token was given", auth.Reason(err))
		case quotes(err.Error()):
			t.Fatalf("the error quotes the token: %v", err)
		}

		req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusNoContent {
			if err != nil && strings.TrimSpace(token) == token {
				t.Fatalf("the middleware let in a token Verify refuses (%v)", err)
			}
			return
		}
		var body struct {
			Errors []struct {
				Message    string
				Extensions struct{ Code string }
			}
		}
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401:\n%s", rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 || body.Errors[0].Extensions.Code != string(apperr.Unauthenticated) {
			t.Fatalf("want one UNAUTHENTICATED error, got %v:\n%s", err, rec.Body)
		}
		if quotes(rec.Body.String()) {
			t.Fatalf("the answer quotes the token:\n%s", rec.Body)
		}
	})
}
