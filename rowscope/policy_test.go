package rowscope

import (
	"context"
	"errors"
	"testing"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/entc/load"

	"github.com/casegraph/casegraph/ent/migrate"
	"github.com/casegraph/casegraph/ent/privacy"
	"github.com/casegraph/casegraph/viewer"
)

// TestEverySchemaHasTheRowScope loads the ent schemas as entc does and
// checks that each gets its one privacy policy from the RowScope mixin and
// declares none of its own, and that each has a row in the table: a new
// entity is denied to principals until someone decides its rows here.
func TestEverySchemaHasTheRowScope(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the schema package")
	}
	spec, err := (&load.Config{Path: "../ent/schema"}).Load()
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, s := range spec.Schemas {
		named[s.Name] = true
		if len(s.Policy) != 1 || !s.Policy[0].MixedIn {
			t.Errorf("%s: want exactly one policy, mixed in by RowScope (or Record); got %d positions", s.Name, len(s.Policy))
		}
		if _, ok := entityOf(s.Name); !ok {
			t.Errorf("%s has no row in the table of entities (rowscope/policy.go): principals see none of it", s.Name)
		}
	}
	for _, e := range entities {
		if !named[e.typ] {
			t.Errorf("the table of entities names %s, which is no ent schema", e.typ)
		}
	}
}

// TestEveryTableHasARow checks the table against the tables of the
// database schema, so a row cannot name the wrong table.
func TestEveryTableHasARow(t *testing.T) {
	tables := map[string]bool{}
	for _, e := range entities {
		tables[e.table] = true
	}
	for _, tb := range migrate.Tables {
		if !tables[tb.Name] {
			t.Errorf("table %s has no row in the table of entities", tb.Name)
		}
	}
}

// fakeStatement records the predicates the rule adds to a statement.
type fakeStatement struct{ where []func(*sql.Selector) }

func (f *fakeStatement) WhereP(ps ...func(*sql.Selector)) { f.where = append(f.where, ps...) }

// TestDenyByDefault: a type the table does not name is refused to a
// principal, however wide their scope, and left to system work; once the
// table names it, its rows are narrowed to the scope.
func TestDenyByDefault(t *testing.T) {
	wide := NewContext(context.Background(), &Scope{AgencyID: 1, Cases: All, Victims: All, GrantsOfAgency: true})
	var st fakeStatement
	if err := decide(wide, "Newcomer", nil, st.WhereP); !errors.Is(err, privacy.Deny) {
		t.Errorf("a query of a type without a row: %v, want a denial", err)
	}
	if err := decide(viewer.SystemContext(wide), "Newcomer", nil, st.WhereP); !errors.Is(err, privacy.Allow) {
		t.Errorf("system work on a type without a row: %v, want it allowed", err)
	}
	if len(st.where) != 0 {
		t.Errorf("a denied or system statement was narrowed")
	}

	entities = append(entities, entity{typ: "Newcomer", table: "newcomers", rows: func(s *Scope) func(*sql.Selector) { return none }})
	t.Cleanup(func() { entities = entities[:len(entities)-1] })
	if err := decide(wide, "Newcomer", nil, st.WhereP); !errors.Is(err, privacy.Allow) || len(st.where) != 1 {
		t.Errorf("a query of a type with a row: %v and %d predicates, want it allowed and narrowed", err, len(st.where))
	}
}

// TestAppendOnly: the audit trail is created by system work and changed by
// nobody.
func TestAppendOnly(t *testing.T) {
	sys := viewer.SystemContext(context.Background())
	var st fakeStatement
	for _, op := range []ent.Op{ent.OpUpdate, ent.OpUpdateOne, ent.OpDelete, ent.OpDeleteOne} {
		if err := decide(sys, "AuditEvent", fakeMutation{op: op}, st.WhereP); !errors.Is(err, privacy.Deny) {
			t.Errorf("%v of an audit event by system work: %v, want a denial", op, err)
		}
	}
	if err := decide(sys, "AuditEvent", fakeMutation{op: ent.OpCreate}, st.WhereP); !errors.Is(err, privacy.Allow) {
		t.Errorf("system work appending to the trail: %v", err)
	}
	scoped := NewContext(context.Background(), &Scope{AgencyID: 1, Cases: All, Victims: All})
	if err := decide(scoped, "AuditEvent", nil, st.WhereP); !errors.Is(err, privacy.Deny) {
		t.Errorf("a principal reading the trail through ent: %v, want a denial", err)
	}
}

// fakeMutation is a mutation of which the rule reads only the operation.
type fakeMutation struct {
	ent.Mutation
	op ent.Op
}

func (f fakeMutation) Op() ent.Op { return f.op }
