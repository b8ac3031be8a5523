package graph

import (
	"reflect"
	"time"

	entgo "entgo.io/ent"

	"github.com/casegraph/casegraph/ent"
)

// orderValues gives, for each ordering input type of the schema (by its
// GraphQL name), the value one of its fields puts into a cursor, read from
// an empty record: its Go type is what a cursor for that field must carry.
// A value of another type reaches PostgreSQL and fails there (SQLite
// compares anything), so connectionArguments refuses it up front.
// TestOrderValuesCoverSchema fails when an ordering type is missing.
var orderValues = map[string]func(field string) (entgo.Value, error){
	"AgencyOrder":         orderValue(func(f *ent.AgencyOrderField) func(*ent.Agency) (entgo.Value, error) { return f.Value }),
	"CaseAssignmentOrder": orderValue(func(f *ent.CaseAssignmentOrderField) func(*ent.CaseAssignment) (entgo.Value, error) { return f.Value }),
	"CaseEventOrder":      orderValue(func(f *ent.CaseEventOrderField) func(*ent.CaseEvent) (entgo.Value, error) { return f.Value }),
	"CaseOrder":           orderValue(func(f *ent.CaseOrderField) func(*ent.CaseFile) (entgo.Value, error) { return f.Value }),
	"ChargeOrder":         orderValue(func(f *ent.ChargeOrderField) func(*ent.Charge) (entgo.Value, error) { return f.Value }),
	"ConsentOrder":        orderValue(func(f *ent.ConsentOrderField) func(*ent.Consent) (entgo.Value, error) { return f.Value }),
	"CourtDecisionOrder":  orderValue(func(f *ent.CourtDecisionOrderField) func(*ent.CourtDecision) (entgo.Value, error) { return f.Value }),
	"EmergencyGrantOrder": orderValue(func(f *ent.EmergencyGrantOrderField) func(*ent.EmergencyGrant) (entgo.Value, error) { return f.Value }),
	"ProsecutionOrder":    orderValue(func(f *ent.ProsecutionOrderField) func(*ent.Prosecution) (entgo.Value, error) { return f.Value }),
	"ReferralOrder":       orderValue(func(f *ent.ReferralOrderField) func(*ent.Referral) (entgo.Value, error) { return f.Value }),
	"SupportServiceOrder": orderValue(func(f *ent.SupportServiceOrderField) func(*ent.SupportService) (entgo.Value, error) { return f.Value }),
	"SuspectOrder":        orderValue(func(f *ent.SuspectOrderField) func(*ent.Suspect) (entgo.Value, error) { return f.Value }),
	"VictimOrder":         orderValue(func(f *ent.VictimOrderField) func(*ent.Victim) (entgo.Value, error) { return f.Value }),
}

// orderValue reads the value the ordering field named by its GraphQL enum
// value takes on an empty record.
func orderValue[F any, PF interface {
	*F
	UnmarshalGQL(any) error
}, E any](valueOf func(*F) func(*E) (entgo.Value, error)) func(string) (entgo.Value, error) {
	return func(name string) (entgo.Value, error) {
		var f F
		if err := PF(&f).UnmarshalGQL(name); err != nil {
			return nil, err
		}
		return valueOf(&f)(new(E))
	}
}

// cursorValueFits reports whether v, one value of a cursor as msgpack
// decoded it, can stand for a value of the ordering field field of the
// ordering type order. nil always fits (a nullable column's null); a field
// whose type cannot be told is left to the database.
func cursorValueFits(order string, field any, v any) bool {
	if v == nil {
		return true
	}
	valueOf, ok := orderValues[order]
	name, isName := field.(string)
	if !ok || !isName {
		return true
	}
	want, err := valueOf(name)
	if err != nil || want == nil {
		return true
	}
	return sameKind(reflect.TypeOf(want), reflect.TypeOf(v))
}

var timeType = reflect.TypeFor[time.Time]()

// sameKind compares a field's Go type with a decoded cursor value's type
// by what the database makes of them.
func sameKind(field, value reflect.Type) bool {
	for field.Kind() == reflect.Pointer {
		field = field.Elem()
	}
	switch {
	case field == timeType || value == timeType:
		return field == value
	case isInteger(field.Kind()):
		return isInteger(value.Kind())
	case field.Kind() == reflect.Float32 || field.Kind() == reflect.Float64:
		return isInteger(value.Kind()) || value.Kind() == reflect.Float32 || value.Kind() == reflect.Float64
	}
	return field.Kind() == value.Kind()
}

func isInteger(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}
