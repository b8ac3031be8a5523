package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PolicyRule is one line of the casbin access policy, as casbin's adapters
// store it: the policy type and up to six values. The database holds the
// policy in force; policies/ holds the default it is seeded from.
type PolicyRule struct {
	ent.Schema
}

// Mixin of PolicyRule: its rows are scoped like every entity's, with no
// timestamps of its own; in GraphQL, not part of the generated API.
func (PolicyRule) Mixin() []ent.Mixin { return []ent.Mixin{RowScope{}, unlisted} }

// Fields of PolicyRule.
func (PolicyRule) Fields() []ent.Field {
	fields := []ent.Field{field.String("ptype").NotEmpty()}
	for _, v := range []string{"v0", "v1", "v2", "v3", "v4", "v5"} {
		fields = append(fields, field.String(v).Default(""))
	}
	return fields
}

// Indexes of PolicyRule: a line is in the policy once.
func (PolicyRule) Indexes() []ent.Index {
	return []ent.Index{index.Fields("ptype", "v0", "v1", "v2", "v3", "v4", "v5").Unique()}
}
