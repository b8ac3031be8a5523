package audit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Record is one record of an event about several: the fields of many
// records decided alike in one request (a page's victims, each with its
// legalName refused by the same rule) are one event, not one each, so that
// a page costs the trail a few rows whatever its size (issue 11).
//
// The event's own columns name no record (entity id 0); its records are
// rows of audit_event_records, indexed by record for "who looked at this
// victim". Its detail holds RecordsDigest over them, so the hash chain
// covers them as it covers every column: a record added or removed shows.
//
// Nonce is a random value of each record, part of the digest and shown
// only to those who may verify the whole chain: a data protection officer
// of one agency is shown the event and the records of their agency, and
// without the nonces cannot test which other records (of other agencies'
// cases) the digest, and so the hash, covers by trying ids.
type Record struct {
	ID    int    `json:"id"`
	Nonce string `json:"nonce"`
}

// RecordsDigest is the digest an event about several records holds in its
// detail ({"recordsDigest":"…"}, docs/audit.md): SHA-256, as 64 lower-case
// hex digits, over the line "<id>:<nonce>\n" of each record, in ascending
// order of id.
func RecordsDigest(records []Record) string {
	sorted := slices.SortedFunc(slices.Values(records), func(a, b Record) int { return a.ID - b.ID })
	h := sha256.New()
	var b []byte
	for _, r := range sorted {
		b = strconv.AppendInt(b[:0], int64(r.ID), 10)
		b = append(b, ':')
		b = append(b, r.Nonce...)
		b = append(b, '\n')
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// recordsDetail is the detail of an event about records.
func recordsDetail(records []Record) string {
	return `{"recordsDigest":"` + RecordsDigest(records) + `"}`
}

// digestOf returns the records digest an event's detail holds, if any.
func digestOf(detail string) (string, bool) {
	if !strings.Contains(detail, `"recordsDigest"`) {
		return "", false
	}
	var d struct {
		RecordsDigest *string `json:"recordsDigest"`
	}
	if json.Unmarshal([]byte(detail), &d) != nil || d.RecordsDigest == nil {
		return "", false
	}
	return *d.RecordsDigest, true
}

// nonceLength is the length of a record's nonce: 128 bits in hex.
const nonceLength = 32

// wellFormedNonce reports whether n is 32 lower-case hex digits.
func wellFormedNonce(n string) bool {
	if len(n) != nonceLength {
		return false
	}
	for _, c := range []byte(n) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// newNonce returns 128 random bits as 32 lower-case hex digits.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return hex.EncodeToString(b[:])
}

// EntityIDs returns the records an event is about: its entity, or its
// records, in ascending order; empty (not nil) when it is about none.
func (e Event) EntityIDs() []int {
	if len(e.Records) == 0 {
		if e.EntityID == 0 {
			return []int{}
		}
		return []int{e.EntityID}
	}
	ids := make([]int, len(e.Records))
	for i, r := range e.Records {
		ids[i] = r.ID
	}
	slices.Sort(ids)
	return ids
}

// Entries counts what events add to the trail as it grew before events
// about several records: one for each record of such an event, one for
// every other event. Each stays a row (of audit_event_records), so what a
// caller is charged for its events (graph.AuditEventCost) is not made
// cheaper by grouping.
func Entries(events []Event) int {
	n := 0
	for _, e := range events {
		n += max(1, len(e.Records))
	}
	return n
}
