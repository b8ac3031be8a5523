package audit

import "testing"

// TestForAgencyPastTheAgenciesListedApart: the walk lists apart the breaks
// of at most maxAgencyLists agencies, so that a trail rewritten with a
// fresh agency id at every event does not hold a list per event; a DPO of
// an agency past them is listed its own of the first MaxBreaks of all and
// told its list was cut, one of an agency listed apart its own as always.
// A break past the chain's end is listed to each, however many came
// before it.
func TestForAgencyPastTheAgenciesListedApart(t *testing.T) {
	v := Verification{Valid: true}
	for agency := 1; agency <= maxAgencyLists+1; agency++ {
		v.addBreak(Break{Seq: int64(agency), Kind: BreakHash, Problem: "altered", agency: agency})
	}
	v.WalkedTo = maxAgencyLists + 1
	v.addBreak(Break{Seq: v.WalkedTo + 1, Kind: BreakTailRemoved, Problem: "removed"})
	if len(v.own) != maxAgencyLists || !v.agenciesCut || len(v.Breaks) != MaxBreaks || !v.BreaksCut {
		t.Fatalf("%d agencies listed apart (cut %v), %d breaks listed (cut %v); want %d, cut, %d, cut", len(v.own), v.agenciesCut, len(v.Breaks), v.BreaksCut, maxAgencyLists, MaxBreaks)
	}
	first := v.ForAgency(1)
	if len(first.Breaks) != 2 || first.Breaks[0].Seq != 1 || first.Breaks[1].Kind != BreakTailRemoved || first.BreaksCut || first.BreaksWithheld != maxAgencyLists {
		t.Errorf("agency 1's DPO: %+v, want its break and the tail's, not cut, %d withheld", first, maxAgencyLists)
	}
	past := v.ForAgency(maxAgencyLists + 1)
	if len(past.Breaks) != 1 || past.Breaks[0].Kind != BreakTailRemoved || !past.BreaksCut || past.BreaksWithheld != MaxBreaks {
		t.Errorf("the DPO of an agency past those listed apart: %+v, want the tail's break, none of its own among the first %d, cut", past, MaxBreaks)
	}
}
