package casework

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestRequestHashes: the hash kept of a request has its lists in order
// (a set sent in another order is the same request), and asSent is the
// hash of the JSON as it came, which idempotency records written before
// the lists were put in order keep, so that retrying one still matches.
func TestRequestHashes(t *testing.T) {
	of := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }
	type request struct {
		Forms []string       `json:"forms"`
		IDs   []int          `json:"ids"`
		Terms map[string]any `json:"terms"`
	}
	in := request{Forms: []string{"SEXUAL", "FORCED_BEGGING"}, IDs: []int{51539607553, 12884901888},
		Terms: map[string]any{"kinds": []string{"NGO", "COURT"}}}
	hash, asSent, err := requestHashes(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := of(`{"forms":["SEXUAL","FORCED_BEGGING"],"ids":[51539607553,12884901888],"terms":{"kinds":["NGO","COURT"]}}`); asSent != want {
		t.Errorf("asSent is not the hash of the JSON as sent")
	}
	if want := of(`{"forms":["FORCED_BEGGING","SEXUAL"],"ids":[12884901888,51539607553],"terms":{"kinds":["COURT","NGO"]}}`); hash != want {
		t.Errorf("hash is not the hash of the JSON with its lists in order")
	}
}
