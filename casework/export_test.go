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
