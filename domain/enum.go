// Package domain holds the enumerations of docs/domain.md and the lifecycles
// that govern stage and status changes. They are plain Go string types so that
// the same enumeration (a region, a form of exploitation) is one type in ent,
// one enum in GraphQL and one column type in SQL, wherever it is used.
//
// enums_gen.go is generated from the table in internal/enumgen (`make generate`):
// edit the table, not the file.
package domain

import (
	"fmt"
	"io"
	"slices"
	"strconv"
)

// enum is implemented by every enumeration of this package.
type enum interface {
	~string
	Values() []string
}

func marshalEnum[E enum](w io.Writer, e E) {
	_, _ = io.WriteString(w, strconv.Quote(string(e)))
}

func unmarshalEnum[E enum](v any, e *E) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("enum must be a string, got %T", v)
	}
	if !slices.Contains((*e).Values(), s) {
		return fmt.Errorf("%q is not a valid value", s)
	}
	*e = E(s)
	return nil
}

func valid[E enum](e E) bool { return slices.Contains(e.Values(), string(e)) }

// All lists every value of an enumeration as its own type, in the order of
// docs/domain.md, for code that ranges over a type rather than its strings.
func All[E enum]() []E {
	var zero E
	values := zero.Values()
	out := make([]E, len(values))
	for i, v := range values {
		out[i] = E(v)
	}
	return out
}

// IsProsecution reports whether agencies of kind k prosecute.
func (k AgencyKind) IsProsecution() bool {
	switch k {
	case AgencyKindProsecutionOffice, AgencyKindGeneralProsecutionOffice, AgencyKindSpecialProsecutionOffice:
		return true
	}
	return false
}

// DecidesAt is the instance courts of kind k decide at (false for an
// agency that is not a court): a decision's instance is its court's.
func (k AgencyKind) DecidesAt() (Instance, bool) {
	switch k {
	case AgencyKindCourtFirstInstance, AgencyKindSpecialCourtFirstInstance:
		return InstanceFirstInstance, true
	case AgencyKindCourtOfAppeal, AgencyKindSpecialCourtOfAppeal:
		return InstanceAppeal, true
	case AgencyKindHighCourt:
		return InstanceHighCourt, true
	}
	return "", false
}

// Reviews is the instance whose decision a decision at i reviews: an
// appeal is against a first-instance decision, a recourse to the High
// Court against an appeal's. False at first instance.
func (i Instance) Reviews() (Instance, bool) {
	switch i {
	case InstanceAppeal:
		return InstanceFirstInstance, true
	case InstanceHighCourt:
		return InstanceAppeal, true
	}
	return "", false
}

// OnReviewOnly reports whether v is given only on review of another
// decision (upheld, amended, quashed and sent back for retrial).
func (v Verdict) OnReviewOnly() bool {
	switch v {
	case VerdictUpheld, VerdictAmended, VerdictQuashedRetrial:
		return true
	}
	return false
}

// GivenAtTrial reports whether v is given only at a trial: a conviction,
// of the offence charged or of a lesser one, or an acquittal. A request
// to dismiss lets the court dismiss (DISMISSED) or send the file back for
// further investigation, not try the case; a review decides on the
// decision it reviews.
func (v Verdict) GivenAtTrial() bool {
	switch v {
	case VerdictConvicted, VerdictConvictedOfLesserOffence, VerdictAcquitted:
		return true
	}
	return false
}

// IsCourt reports whether agencies of kind k are courts.
func (k AgencyKind) IsCourt() bool {
	switch k {
	case AgencyKindCourtFirstInstance, AgencyKindSpecialCourtFirstInstance, AgencyKindCourtOfAppeal,
		AgencyKindSpecialCourtOfAppeal, AgencyKindHighCourt:
		return true
	}
	return false
}

// LegalBasisParts are the parts in a case that are a legal basis for
// reading its victims' data without their consent: the criminal
// proceedings' own (authz's "proceedings" condition reads them; casework
// lets only the proceedings' actors give them).
func LegalBasisParts() []CasePart {
	return []CasePart{CasePartProsecuting, CasePartAdjudicating}
}

// IsLegalBasis reports whether p is one of LegalBasisParts.
func (p CasePart) IsLegalBasis() bool {
	return slices.Contains(LegalBasisParts(), p)
}
