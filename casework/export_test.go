package casework

import "github.com/casegraph/casegraph/ent"

// RegisterVictimHashesBefore are the hashes idempotency records written
// before 2026-12-06 keep of a registerVictim request: its JSON with its
// lists in order (from 2026-12-05) and as sent (before), nulls and
// defaults as sent in both.
func RegisterVictimHashesBefore(in ent.CreateVictimInput, caseIDs []int) (listsInOrder, asSent string) {
	_, older, err := requestHashes(registerVictimRequest{in, caseIDs})
	if err != nil {
		panic(err)
	}
	return older[0], older[1]
}

// RegisterVictimHashes are the hashes an idempotency record of a
// registerVictim request keeps now: its canonical hash (canonical_hash)
// and the previous release's form (request_hash).
func RegisterVictimHashes(in ent.CreateVictimInput, caseIDs []int) (canonical, previous string) {
	hash, older, err := requestHashes(registerVictimRequest{in, caseIDs})
	if err != nil {
		panic(err)
	}
	return hash, older[0]
}

// AgeOf is what the age rules read of a stored victim.
var AgeOf = ageOf
