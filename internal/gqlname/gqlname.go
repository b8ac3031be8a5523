// Package gqlname spells ent's names as the GraphQL schema does. The schema's
// annotations (ent/schema), the generator that edits the GraphQL schema
// (ent/entc.go) and the resolvers that name a where's filters (graph) must
// agree on it.
package gqlname

import "strings"

// Of is an ent name, in snake case, as entgql spells it in GraphQL:
// defendants_connection is defendantsConnection, has_prosecutions_with
// hasProsecutionsWith.
func Of(name string) string {
	words := strings.Split(name, "_")
	for i := 1; i < len(words); i++ {
		if words[i] != "" {
			words[i] = strings.ToUpper(words[i][:1]) + words[i][1:]
		}
	}
	return strings.Join(words, "")
}
