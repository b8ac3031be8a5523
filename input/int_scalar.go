package input

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"github.com/casegraph/casegraph/apperr"
)

// MarshalInt and UnmarshalInt are the GraphQL Int scalar for Go's int
// (gqlgen.yml), MarshalInt64 and UnmarshalInt64 for the amounts of money
// held in int64. They read an Int as the GraphQL specification has it: a
// number, whole, and for an int within 32 bits. gqlgen's own read a
// string of digits as a number ("3" for an Int!), so a client that sent
// the wrong type was never told, and took any 64-bit value.
func MarshalInt(i int) graphql.Marshaler { return graphql.MarshalInt(i) }

// UnmarshalInt reads an Int argument held in Go's int: a whole number
// from -2^31 to 2^31-1.
func UnmarshalInt(v any) (int, error) {
	n, err := wholeNumber(v, errNotAnInt)
	if err != nil {
		return 0, err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, errNotAnInt
	}
	return int(n), nil
}

// MarshalInt64 writes an amount held in int64.
func MarshalInt64(i int64) graphql.Marshaler { return graphql.MarshalInt64(i) }

// UnmarshalInt64 reads an Int argument held in int64 (an amount of money
// in lek, which may pass 2^31): a whole number of 64 bits at most.
func UnmarshalInt64(v any) (int64, error) {
	return wholeNumber(v, errNotAnInt64)
}

var (
	errNotAnInt   = &apperr.Error{Code: apperr.BadUserInput, Message: "An Int is a whole number from -2147483648 to 2147483647, sent as a number (not a string)."}
	errNotAnInt64 = &apperr.Error{Code: apperr.BadUserInput, Message: "This Int is a whole number of 64 bits at most, sent as a number (not a string)."}
)

// wholeNumber reads a literal of the document (int64) or a variable's JSON
// number (json.Number; 3.0 is 3, as JSON does not tell them apart), and
// nothing else: not a string, whatever it holds.
func wholeNumber(v any, refused error) (int64, error) {
	switch v := v.(type) {
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case json.Number:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, refused
		}
		return int64(f), nil
	default:
		return 0, refused
	}
}
