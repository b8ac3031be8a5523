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

// Anchor is an event's number and hash kept outside the database (from an
// earlier verification or export). The chain alone cannot show that its
// last events were removed, or that someone able to drop the triggers
// rewrote it whole with fresh hashes; an anchor can.
type Anchor struct {
	Seq  int64
	Hash string
}

// verifyBatch is how many events are read at a time.
const verifyBatch = 5000

// Verify walks the whole chain in order and reports the first broken link,
// checking also that each anchor's event is still there with its hash.
func Verify(ctx context.Context, client *ent.Client, anchors ...Anchor) (Verification, error) {
	sys := viewer.SystemContext(ctx)
	v := Verification{Valid: true, LastHash: GenesisHash}
	want := map[int64]string{}
	var furthest int64
	for _, a := range anchors {
		want[a.Seq] = a.Hash
		furthest = max(furthest, a.Seq)
	}
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
			case want[e.Seq] != "" && want[e.Seq] != e.Hash:
				problem = "its hash is not the anchor's: the chain was rewritten up to here"
			}
			if problem != "" {
				v.Valid, v.BrokenAt, v.Problem = false, e.Seq, problem
				return v, nil
			}
			v.Checked++
			v.LastSeq, v.LastHash = e.Seq, e.Hash
		}
		if len(rows) < verifyBatch {
			if v.LastSeq < furthest {
				v.Valid, v.BrokenAt = false, v.LastSeq+1
				v.Problem = fmt.Sprintf("the chain ends at event %d but an anchor names event %d: events were removed from its end", v.LastSeq, furthest)
			}
			return v, nil
		}
	}
}
