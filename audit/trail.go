package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/sync/singleflight"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/viewer"
)

// TrailQuery is one page of the trail a reader asks for.
type TrailQuery struct {
	Scope  Scope
	Filter Filter
	// After is the seq of the event the page begins after, in the page's
	// direction (nil: the first page).
	After       *int64
	OldestFirst bool
	Limit       int
	// Where and Cursor are the filter and cursor as the reader sent them,
	// recorded with the reading.
	Where, Cursor any
}

// TrailPage is one page of the trail, and whether pages lie before and
// after it.
type TrailPage struct {
	Events      []Event
	HasPrevious bool
	HasNext     bool
}

// ReadTrail returns one page of the events q.Scope may see, newest first
// unless q.OldestFirst, and records the reading itself on ctx's recorder
// (TrailRead): who looked at who looked.
func ReadTrail(ctx context.Context, client *ent.Client, q TrailQuery) (TrailPage, error) {
	f := q.Filter
	if q.After != nil {
		if q.OldestFirst {
			f.AfterSeq = *q.After
		} else {
			f.BeforeSeq = *q.After
		}
	}
	events, err := Query(ctx, client, q.Scope, f, !q.OldestFirst, q.Limit+1)
	if err != nil {
		return TrailPage{}, err
	}
	page := TrailPage{Events: events, HasPrevious: q.After != nil}
	if len(events) > q.Limit {
		page.Events, page.HasNext = events[:q.Limit], true
	}
	if rec := FromContext(ctx); rec != nil {
		detail, err := json.Marshal(map[string]any{"where": q.Where, "after": q.Cursor, "oldestFirst": q.OldestFirst,
			"allAgencies": q.Scope.All, "returned": len(page.Events)})
		if err != nil {
			return TrailPage{}, err
		}
		rec.Note(TrailRead, string(detail))
	}
	return page, nil
}

// NewAnchor checks an anchor a reader gives: an event's seq (from 1) and
// its hash as Verify and Export write it (any case).
func NewAnchor(seq int64, hash string) (Anchor, bool) {
	if seq < 1 || len(hash) != len(GenesisHash) {
		return Anchor{}, false
	}
	return Anchor{Seq: seq, Hash: strings.ToLower(hash)}, true
}

// Verifier verifies the chain for readers. A walk reads the whole trail,
// so there is at most one at a time, whoever asks and with whatever
// anchors: a reader joins the walk under way, and its anchors are checked
// after, against the events as stored (anchored). When each reader's
// anchors started a walk of their own, any number of anchors, real or
// not, kept the database reading the whole trail over and over (a hunt
// over HTTP). Its zero value is ready.
type Verifier struct {
	walks singleflight.Group
}

// Verify is Verify, shared with the walk under way. The walk runs to its
// end even if the reader who started it goes away, but a reader waits for
// it only until its own request ends (a trail too long to walk within a
// request is verified by the command, casegraph audit verify). A
// verification reads the whole trail: who checked it, and what they were
// told, is recorded like a read of it (TrailRead).
//
// A reader of one agency's events (scope) anchors only its own people's
// events, whose hashes ReadTrail shows it, and is told no hash: an event's
// hash covers fields such a reader is not shown (a link's other record),
// and the hash of an event before a mismatched anchor, the chain's last,
// or a yes or no on a hash guessed for another agency's event let a DPO
// of any agency try values against it until one matched (a hunt over
// HTTP recovered a hidden case's id so, in well under a second). Of the
// breaks past the first it is listed those at its own people's events and
// past the chain's end, and counted the others (Verification.ForAgency).
func (v *Verifier) Verify(ctx context.Context, client *ent.Client, scope Scope, anchors ...Anchor) (Verification, error) {
	// Checked before the walk, and again after it against every event
	// stored by then (an anchor on an event not yet written at first would
	// have been compared with another agency's event written meanwhile);
	// the verification is recorded only once both passed, since its record
	// says whether the anchors held, and the DPO reads its own records (a
	// review read a guessed hash's answer back so).
	if !scope.All {
		if err := ownAnchors(ctx, client, scope, anchors); err != nil {
			return Verification{}, err
		}
	}
	out, err := v.verify(ctx, client, anchors)
	if err != nil {
		return out, err
	}
	if !scope.All {
		if err := ownAnchors(ctx, client, scope, anchors); err != nil {
			return Verification{}, err
		}
		out = out.ForAgency(scope.AgencyID)
		out.LastHash = ""
	}
	return out, noteVerification(ctx, anchors, out)
}

// noteVerification records who verified the chain and what they were told
// (TrailRead).
func noteVerification(ctx context.Context, anchors []Anchor, out Verification) error {
	rec := FromContext(ctx)
	if rec == nil {
		return nil
	}
	detail, err := json.Marshal(map[string]any{"verify": true, "anchors": len(anchors), "valid": out.Valid, "checked": out.Checked, "brokenAt": out.BrokenAt,
		"breaks": out.BreakCount})
	if err != nil {
		return err
	}
	rec.Note(TrailRead, string(detail))
	return nil
}

// ownAnchors refuses an anchor on a stored event that the reader's agency's
// people did not cause: another agency's, or no agency's (a refused token,
// the command line). An anchor past the chain's end is the reader's to
// name: it says the chain ends before it, whatever its hash. One
// statement.
func ownAnchors(ctx context.Context, client *ent.Client, scope Scope, anchors []Anchor) error {
	if len(anchors) == 0 {
		return nil
	}
	seqs := make([]int64, len(anchors))
	for i, a := range anchors {
		seqs[i] = a.Seq
	}
	others, err := client.AuditEvent.Query().
		Where(auditevent.IDIn(seqs...), auditevent.Or(auditevent.ActorAgencyIDNEQ(scope.AgencyID), auditevent.ActorAgencyIDIsNil())).
		Exist(viewer.SystemContext(ctx))
	if err != nil {
		return fmt.Errorf("audit: reading the anchors' events: %w", err)
	}
	if others {
		return apperr.InvalidField("anchors", "An anchor must be an event of your agency's people: the hashes of other agencies' events are not shown to you.")
	}
	return nil
}

func (v *Verifier) verify(ctx context.Context, client *ent.Client, anchors []Anchor) (Verification, error) {
	out, err := v.walk(ctx, client)
	if err == nil && beyond(out, anchors) {
		// The walk joined may have begun before the anchor's event was
		// written (it was exported from a newer chain): a walk begun now
		// says whether the chain reaches it.
		out, err = v.walk(ctx, client)
	}
	if err == nil {
		out, err = anchored(ctx, client, out, anchors)
	}
	return out, err
}

// walk waits for the walk under way, or begins one, until ctx ends.
func (v *Verifier) walk(ctx context.Context, client *ent.Client) (Verification, error) {
	done := v.walks.DoChan("walk", func() (any, error) {
		return Verify(context.WithoutCancel(ctx), client)
	})
	select {
	case r := <-done:
		out, _ := r.Val.(Verification)
		return out, r.Err
	case <-ctx.Done():
		return Verification{}, ctx.Err()
	}
}

// beyond reports whether an anchor names an event past the end of the
// chain as v walked it.
func beyond(v Verification, anchors []Anchor) bool {
	for _, a := range anchors {
		if a.Seq > v.WalkedTo {
			return true
		}
	}
	return false
}
