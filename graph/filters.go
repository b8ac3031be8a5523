package graph

import (
	"errors"
	"strings"
)

// isEmptyNestedFilter reports whether err is ent's refusal of an empty
// filter object inside not, and or or (`where: {not: {}}`): the generated
// Filter accepts an empty where at the top but fails, wrapped in the path
// of the nested field, on one inside. Found by FuzzGraphQLRequest; it was
// INTERNAL. ent names each type's error ErrEmpty<Type>WhereInput with the
// text "ent: empty predicate <Type>WhereInput"; matching the text of the
// innermost error covers types added later.
func isEmptyNestedFilter(err error) bool {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			break
		}
		err = next
	}
	return strings.HasPrefix(err.Error(), "ent: empty predicate ") && strings.HasSuffix(err.Error(), "WhereInput")
}
