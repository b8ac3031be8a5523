package audit

import (
	"context"
	"fmt"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/viewer"
)

// Verification is the result of walking the chain.
type Verification struct {
	// Valid is true when every event's hash is its content's and links to
	// the event before it, with no number missing.
	Valid bool `json:"valid"`
	// Checked counts the events walked.
	Checked int64 `json:"checked"`
	// LastSeq and LastHash are the chain's end: keep them elsewhere to
	// detect a truncated tail later.
	LastSeq  int64  `json:"lastSeq"`
	LastHash string `json:"lastHash"`
	// BrokenAt is the first event that does not verify (0 when valid),
	// and Problem says how.
	BrokenAt int64  `json:"brokenAt,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// verifyBatch is how many events are read at a time.
const verifyBatch = 5000

// Verify walks the whole chain in order and reports the first broken link.
func Verify(ctx context.Context, client *ent.Client) (Verification, error) {
	sys := viewer.SystemContext(ctx)
	v := Verification{Valid: true, LastHash: GenesisHash}
	for {
		rows, err := client.AuditEvent.Query().Where(auditevent.IDGT(v.LastSeq)).
			Order(ent.Asc(auditevent.FieldID)).Limit(verifyBatch).All(sys)
		if err != nil {
			return v, fmt.Errorf("audit: reading the chain: %w", err)
		}
		for _, r := range rows {
			e := FromRow(r)
			problem := ""
			switch {
			case e.Seq != v.LastSeq+1:
				problem = fmt.Sprintf("events %d to %d are missing", v.LastSeq+1, e.Seq-1)
			case e.PrevHash != v.LastHash:
				problem = "its previous hash is not the hash of the event before it"
			case e.ComputeHash() != e.Hash:
				problem = "its content does not match its hash: it was altered"
			}
			if problem != "" {
				v.Valid, v.BrokenAt, v.Problem = false, e.Seq, problem
				return v, nil
			}
			v.Checked++
			v.LastSeq, v.LastHash = e.Seq, e.Hash
		}
		if len(rows) < verifyBatch {
			return v, nil
		}
	}
}
