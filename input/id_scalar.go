package input

import (
	"encoding/json"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"github.com/casegraph/casegraph/apperr"
)

// errNotAnID is what a value that is not an id is told, whatever it was:
// gqlgen's own error named Go's types ("map is not an int").
var errNotAnID = &apperr.Error{Code: apperr.BadUserInput, Message: "An id is a string of digits, as the server gives it out."}

// MarshalID and UnmarshalID are the GraphQL ID scalar (gqlgen.yml):
// gqlgen's IntID, except that an id is read only as the server writes it.
// strconv.Atoi also reads "012" and "+12" as 12: the record found then
// answers with an id other than the one asked, and a client that keys
// records by their id holds two keys for one record.
func MarshalID(id int) graphql.Marshaler {
	return graphql.MarshalIntID(id)
}

// UnmarshalID reads an ID argument: the digits of a non-negative integer,
// without a sign or leading zeros, as a string or a JSON integer.
func UnmarshalID(v any) (int, error) {
	var text string
	switch v := v.(type) {
	case string:
		text = v
	case json.Number:
		text = string(v)
	case int:
		text = strconv.Itoa(v) // a literal in the document: -5 is no id either
	case int64:
		text = strconv.FormatInt(v, 10)
	default:
		return 0, errNotAnID
	}
	id, err := strconv.Atoi(text)
	if err != nil || id < 0 || strconv.Itoa(id) != text {
		return 0, errNotAnID
	}
	return id, nil
}
