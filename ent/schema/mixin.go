package schema

import (
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/casegraph/casegraph/internal/gqlname"
	"github.com/casegraph/casegraph/rowscope"
)

// RowScope attaches the one privacy policy, rowscope.Policy, to an entity:
// a principal sees and changes only the rows the entity's row in
// rowscope's table allows, and none of an entity the table does not name.
// Every schema mixes it in, directly or through Record
// (TestEverySchemaHasTheRowScope in package rowscope checks it); no schema
// declares a policy of its own. See docs/row-scope.md.
type RowScope struct {
	mixin.Schema
}

// Policy of RowScope.
func (RowScope) Policy() ent.Policy { return rowscope.Policy() }

// Record is mixed into every entity: when it was created and last updated,
// and a version number for optimistic concurrency (an update names the
// version it last saw and fails with CONFLICT if it changed). None of them is
// settable through a mutation input. It carries the row scope (RowScope).
type Record struct {
	RowScope
}

// Fields of the Record mixin.
func (Record) Fields() []ent.Field {
	notInput := entgql.Skip(entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)
	return []ent.Field{
		sortable(field.Time("created_at").Immutable().Default(time.Now).
			Annotations(notInput)),
		sortable(field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now).
			Annotations(notInput)),
		field.Int("version").Default(1).Positive().
			Comment("Incremented by every update; updates must name the version they last saw.").
			Annotations(notInput, entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Indexes of the Record mixin: connections order by both timestamps.
func (Record) Indexes() []ent.Index {
	return []ent.Index{index.Fields("created_at"), index.Fields("updated_at")}
}

// sortable lets an entity's connections be ordered by f. Its value in the
// entity's GraphQL order field enumeration is f's name in upper case (age_group
// is AGE_GROUP): one rule, so the API's names cannot drift from the columns'.
func sortable(f ent.Field) ent.Field {
	d := f.Descriptor()
	d.Annotations = append(d.Annotations, entgql.OrderField(strings.ToUpper(d.Name)))
	return f
}

// connectionAnnotations are the GraphQL annotations of an entity that is
// listed through a cursor connection: a Relay connection and multi-field
// ordering, plus whatever the entity adds (generated inputs, query field).
func connectionAnnotations(extra ...schema.Annotation) []schema.Annotation {
	return append([]schema.Annotation{entgql.RelayConnection(), entgql.MultiOrder()}, extra...)
}

// createAndUpdateInputs asks entgql for Create<T>Input and Update<T>Input.
var createAndUpdateInputs = entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate())

// createInput asks entgql for Create<T>Input only: the entity changes after
// creation only through dedicated mutations.
var createInput = entgql.Mutations(entgql.MutationCreate())

// notFilterable keeps a field out of `where` inputs: free text, which is
// neither indexed nor meant for exact matching.
var notFilterable = entgql.Skip(entgql.SkipWhereInput)

// notSettable keeps a field out of generated mutation inputs; it changes only
// through a dedicated mutation (a stage transition, a withdrawal).
var notSettable = entgql.Skip(entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)

// recordedAt is when something happened to a record (a stage reached, a
// charge reclassified): set by the dedicated mutation that does it, not
// through an input, and not a filter.
func recordedAt(name string) ent.Field {
	return field.Time(name).Optional().Nillable().Annotations(notSettable, notFilterable)
}

// immutableInput keeps a field out of the generated update input.
var immutableInput = entgql.Skip(entgql.SkipMutationUpdateInput)

// belongsTo is the edge from a record to the one record it belongs to (a
// suspect to its case, a charge to its proceeding, a consent to its
// victim): required, set at creation through the field name_id, never
// moved; ref names the owner's edge back to its records.
func belongsTo(name string, owner any, ref string) ent.Edge {
	return edge.From(name, owner).Ref(ref).Field(name + "_id").Unique().Required().Immutable()
}

// refersTo is a required reference to another record (most often an
// agency) through the field name_id, set at creation and never changed.
func refersTo(name string, t any, annotations ...schema.Annotation) ent.Edge {
	e := edge.To(name, t).Field(name + "_id").Unique().Required().Immutable()
	if len(annotations) > 0 {
		e = e.Annotations(annotations...)
	}
	return e
}

// indexed is one index a column, for the columns lists and filters order
// or match by.
func indexed(columns ...string) []ent.Index {
	out := make([]ent.Index, len(columns))
	for i, c := range columns {
		out[i] = index.Fields(c)
	}
	return out
}

// owns is the edge from a record to the records that belong to it (a
// case's suspects, a victim's consents), listed as a connection and set
// from their side (belongsTo), with extra annotations (FilteredPage).
func owns(name string, t any, extra ...schema.Annotation) ent.Edge {
	return edge.To(name, t).Annotations(append([]schema.Annotation{entgql.RelayConnection(), notSettable}, extra...)...)
}

// api is how an entity shows in the generated GraphQL API. It is a mixin,
// so that an entity's Mixin says in one line what kind of record it is and
// how it is listed.
type api struct {
	mixin.Schema
	annotations []schema.Annotation
}

// Annotations of api.
func (a api) Annotations() []schema.Annotation { return a.annotations }

// exposed is an entity with the given GraphQL annotations.
func exposed(annotations ...schema.Annotation) api { return api{annotations: annotations} }

// listed is an entity listed through a cursor connection (see
// connectionAnnotations), with extra annotations: generated inputs, a
// query field.
func listed(extra ...schema.Annotation) api { return exposed(connectionAnnotations(extra...)...) }

// unlisted keeps an entity out of the generated API: it is read through
// hand-written queries, or not at all.
var unlisted = exposed(entgql.Skip(entgql.SkipAll))

// ConnectionBeside is the annotation of a list edge that is also served as
// a connection, under another name (ent/entc.go, connectionsBeside): the
// list stays for the clients that read it, deprecated, and the connection
// pages it like every other list. A list's type cannot become a
// connection's without breaking every client that reads it
// (docs/schema-changes.md).
type ConnectionBeside struct {
	// Edge is the connection's name in ent (defendants_connection, which
	// GraphQL calls defendantsConnection); Description its description.
	Edge        string `json:"edge"`
	Description string `json:"description"`
}

// Name of the annotation, as ent/entc.go reads it.
func (ConnectionBeside) Name() string { return "CaseGraphConnectionBeside" }

// connectionBeside serves a list edge also as the connection name,
// described by description, and deprecates the list in its favour,
// saying why.
func connectionBeside(name, description, why string) []schema.Annotation {
	return []schema.Annotation{
		ConnectionBeside{Edge: name, Description: description},
		entgql.Directives(entgql.Deprecated("Use " + gqlname.Of(name) + ": " + why)),
	}
}

// FilteredPage is the annotation of a connection edge that takes a where,
// the filter of its records' own fields that the root list of them takes
// (ent/entc.go, edgesNotFilterable). The owner's where input still has no
// filter through the edge.
type FilteredPage struct{}

// Name of the annotation, as ent/entc.go reads it.
func (FilteredPage) Name() string { return "CaseGraphFilteredPage" }
