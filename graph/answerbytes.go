package graph

import (
	"context"
	"reflect"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// answerBytes is about how many bytes value, a field's resolved value,
// takes in the answer's JSON, when it can be long: a text, or a list of
// scalars (ids, numbers, enumeration values, texts), lists of lists
// included. It is never more than the JSON (a text's escapes are not
// counted), so an answer refused for it is one that would have been
// refused built whole. Anything else is 0: a number or a flag is a few
// bytes, which the fields budget bounds, and an object's size is that of
// its fields, each counted as it is resolved.
//
// Only texts were counted once (a []string, a string): an audit event's
// entities, resolved as []int, and a policy change's lines, [][]string,
// were not, so twenty aliases of entities over pages of events built a
// 33 MB answer before it was refused at the end (a hunt, 2026-12-06).
func answerBytes(ctx context.Context, value any) int {
	switch v := value.(type) {
	case string:
		return len(v) + len(`""`)
	case *string:
		if v == nil {
			return 0
		}
		return len(*v) + len(`""`)
	}
	list := reflect.ValueOf(value)
	if list.Kind() != reflect.Slice {
		return 0
	}
	inner, ok := scalarOfList(list.Type())
	if !ok {
		return 0 // a list of objects
	}
	quotes := 0
	if isInt(inner) && isIDList(ctx) {
		quotes = len(`""`) // an id is written as a text (graphql.MarshalIntID)
	}
	return scalarsBytes(list, quotes)
}

// scalarOfList returns the scalar type a list (of lists, of pointers) ends
// in, and false when it ends in anything else (objects).
func scalarOfList(t reflect.Type) (reflect.Type, bool) {
	for {
		switch t.Kind() {
		case reflect.Slice, reflect.Array, reflect.Pointer:
			t = t.Elem()
		case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64:
			return t, true
		default:
			return t, isInt(t)
		}
	}
}

func isInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// isIDList reports whether the field resolving under ctx is a list of ids
// (at any depth of lists).
func isIDList(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return false
	}
	t := fc.Field.Definition.Type
	for t.Elem != nil {
		t = t.Elem
	}
	return t.NamedType == "ID"
}

// scalarsBytes is the JSON length of v, a scalar or a list of them, with
// quotes added to each integer (an id).
func scalarsBytes(v reflect.Value, quotes int) int {
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		n := v.Len()
		size := len(`[]`) + max(n-1, 0) // the brackets and the commas
		for i := range n {
			size += scalarsBytes(v.Index(i), quotes)
		}
		return size
	case reflect.Pointer:
		if v.IsNil() {
			return len("null")
		}
		return scalarsBytes(v.Elem(), quotes)
	case reflect.String:
		return v.Len() + len(`""`)
	case reflect.Bool:
		if v.Bool() {
			return len("true")
		}
		return len("false")
	case reflect.Float32, reflect.Float64:
		var digits [32]byte
		return len(strconv.AppendFloat(digits[:0], v.Float(), 'g', -1, v.Type().Bits()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var digits [24]byte
		return len(strconv.AppendInt(digits[:0], v.Int(), 10)) + quotes
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var digits [24]byte
		return len(strconv.AppendUint(digits[:0], v.Uint(), 10)) + quotes
	}
	return 0
}
