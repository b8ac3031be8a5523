package graph

import (
	"reflect"
	"time"

	"github.com/casegraph/casegraph/ent"
)

// cursorValueFits reports whether v, one value of a cursor as msgpack
// decoded it, can stand for a value of the ordering field field of the
// ordering type order. nil always fits (a nullable column's null); a field
// whose type cannot be told is left to the database.
func cursorValueFits(order string, field any, v any) bool {
	if v == nil {
		return true
	}
	valueOf, ok := ent.OrderValues[order]
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

// nullableOrderField reports whether the ordering field field of the
// ordering type order may be null: its value on a record with nothing set
// is a nil pointer (ent's Optional().Nillable() fields).
func nullableOrderField(order, field string) bool {
	valueOf, ok := ent.OrderValues[order]
	if !ok {
		return false
	}
	v, err := valueOf(field)
	if err != nil {
		return false
	}
	rv := reflect.ValueOf(v)
	return !rv.IsValid() || rv.Kind() == reflect.Pointer && rv.IsNil()
}
