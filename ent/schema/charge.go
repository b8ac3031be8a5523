package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/casegraph/casegraph/domain"
)

// Charge is an offence a prosecution charges, under an article of the
// Criminal Code. When a THB charge is reclassified to a lesser offence, the
// article it had before is kept: the monitoring mechanism counts them.
type Charge struct {
	ent.Schema
}

// Mixin of Charge.
func (Charge) Mixin() []ent.Mixin { return []ent.Mixin{Record{}, listed(createInput)} }

// Fields of Charge.
func (Charge) Fields() []ent.Field {
	return []ent.Field{
		sortable(field.Enum("article").GoType(domain.Article("")).
			Comment("Changes only through reclassifyCharge.").
			Annotations(immutableInput)),
		sortable(field.Enum("reclassified_from").GoType(domain.Article("")).Optional().Nillable().
			Annotations(notSettable)),
		recordedAt("reclassified_at"),
		field.Int("prosecution_id").Immutable(),
		field.Int("suspect_id").Optional().Nillable(),
	}
}

// Edges of Charge.
func (Charge) Edges() []ent.Edge {
	return []ent.Edge{
		belongsTo("prosecution", Prosecution.Type, "charges"),
		edge.To("suspect", Suspect.Type).Field("suspect_id").Unique(),
	}
}

// Indexes of Charge.
func (Charge) Indexes() []ent.Index {
	return indexed("article", "reclassified_from", "prosecution_id", "suspect_id")
}
