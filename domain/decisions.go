package domain

import (
	"slices"
	"time"
)

// Conviction is what a verdict says of whether its decision convicts
// someone: itself, or by the sentence it carries, or by the decision it
// upholds (Decision.Convicts).
type Conviction int

// The Convictions of the verdicts (Verdict.Conviction).
const (
	// ConvictsNoOne: an acquittal, a dismissal, a retrial ordered.
	ConvictsNoOne Conviction = iota
	// ConvictsSomeone: a conviction, of the offence charged or of a
	// lesser one, at any instance.
	ConvictsSomeone
	// ConvictsWhenSentenced: a review that amends the decision it
	// reviews, which may make an acquittal a conviction or a conviction
	// an acquittal, or change a sentence; the amended decision states its
	// sentence, so it convicts when it carries one.
	ConvictsWhenSentenced
	// ConvictsAsReviewed: a review that upholds the decision it reviews
	// convicts when that decision does.
	ConvictsAsReviewed
)

// Conviction says how a decision of verdict v convicts (docs/domain.md,
// "Criminal proceedings"). It is the one table of it: casework's refusals
// of a sentence and of compensation and the statistics' count of
// compensation ordered read it, through Decision.Convicts and its SQL
// (statistics.convicts).
func (v Verdict) Conviction() Conviction {
	switch v {
	case VerdictConvicted, VerdictConvictedOfLesserOffence:
		return ConvictsSomeone
	case VerdictAmended:
		return ConvictsWhenSentenced
	case VerdictUpheld:
		return ConvictsAsReviewed
	}
	return ConvictsNoOne
}

// Decision is what the rule of who a court decision convicts reads of
// one: its instance, date and verdict, whether it carries a sentence (a
// sentence kind), and for a review the decision it names as the one it
// reviews (ReviewedID, 0 when it names none). ID orders the decisions of
// one date, the last recorded last; a decision not yet recorded has 0
// and is read as recorded after every other, as it will be
// (recordedAfter).
type Decision struct {
	ID         int
	Instance   Instance
	DecidedOn  time.Time
	Verdict    Verdict
	Sentenced  bool
	ReviewedID int
}

// Reviewed is the decision d reviews among all, its proceeding's
// decisions: at the instance d's reviews (Instance.Reviews), decided on
// or before d, the one d names (ReviewedID) when it names one; else the
// latest, and of those decided on one date the last recorded: a retrial
// after a review that quashed the first decision is decided after that
// review, so the latest before a review is the one it reviewed; but of
// two decisions of one day (co-defendants decided together, a
// correction) the order of recording, which a clerk cannot see, decides,
// and a review that names one says which. ok is false at first instance,
// and when no such decision is recorded (only a review stored before
// recordCourtDecision required one, or one naming a decision that is none
// of these, which casework refuses). statistics.convicts is its SQL.
func (d Decision) Reviewed(all []Decision) (Decision, bool) {
	instance, ok := d.Instance.Reviews()
	if !ok {
		return Decision{}, false
	}
	var reviewed Decision
	found := false
	for _, x := range all {
		if x.Instance != instance || x.DecidedOn.After(d.DecidedOn) || d.ReviewedID != 0 && x.ID != d.ReviewedID {
			continue
		}
		if !found || x.DecidedOn.After(reviewed.DecidedOn) || x.DecidedOn.Equal(reviewed.DecidedOn) && recordedAfter(x, reviewed) {
			reviewed, found = x, true
		}
	}
	return reviewed, found
}

// recordedAfter reports whether x was recorded after y: by a higher ID,
// or being recorded now (ID 0), after every decision stored.
func recordedAfter(x, y Decision) bool {
	return x.ID != y.ID && (x.ID == 0 || y.ID != 0 && x.ID > y.ID)
}

// Deciding is the decision whose verdict says whether d convicts: d
// itself, or for a review that upholds one the decision it upholds, its
// deciding decision in turn (the High Court upholding an appeal that
// upheld a conviction convicts as that conviction does). A review
// upholding no decision recorded is its own deciding decision.
func (d Decision) Deciding(all []Decision) Decision {
	if d.Verdict.Conviction() != ConvictsAsReviewed {
		return d
	}
	if r, ok := d.Reviewed(all); ok {
		return r.Deciding(all)
	}
	return d
}

// Convicts reports whether decision d, among all its proceeding's
// decisions (d itself among them or not), convicts someone, and so may
// carry a sentence and order compensation to the victim: by its
// verdict's Conviction, an UPHELD decision by the decision it upholds,
// an AMENDED one by its own sentence. A review upholding no decision
// recorded (stored before recordCourtDecision required one) is read as
// before the rule, as convicting.
func (d Decision) Convicts(all []Decision) bool {
	switch x := d.Deciding(all); x.Verdict.Conviction() {
	case ConvictsSomeone, ConvictsAsReviewed:
		return true
	case ConvictsWhenSentenced:
		return x.Sentenced
	}
	return false
}

// ReviewDepth is how many reviews deep the rule of Convicts may read: the
// longest chain of instances each reviewing the next (the High Court an
// appeal's decision, an appeal a first instance's), for SQL that nests a
// statement a review.
func ReviewDepth() int {
	depth := 0
	for _, i := range All[Instance]() {
		depth = max(depth, i.Depth())
	}
	return depth
}

// Depth is how many instances lie below i along what its decisions
// review (Instance.Reviews): none at first instance, one on appeal (a
// first instance's decision), two at the High Court. A decision at i
// reviews one of depth one less, so decisions written in order of depth
// find the decision a review names already written (seed/demo).
func (i Instance) Depth() int {
	n := 0
	for next, ok := i.Reviews(); ok; next, ok = next.Reviews() {
		n++
	}
	return n
}

// WithDecision is all with d in place of the decision of its ID (added
// when none has it), for the rules read after d changes.
func WithDecision(all []Decision, d Decision) []Decision {
	out := slices.Clone(all)
	if i := slices.IndexFunc(out, func(x Decision) bool { return x.ID == d.ID }); i >= 0 {
		out[i] = d
		return out
	}
	return append(out, d)
}
