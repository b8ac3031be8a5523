package authz_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestDefendantsConnectionAnswersAsTheList: a proceeding's
// defendantsConnection holds exactly the defendants its deprecated list
// defendants holds, for every principal: a suspect outside the caller's
// rows is in neither (nor in totalCount), and each sensitive field is the
// same value, or the same refusal (FORBIDDEN with the same reason), on
// both. pT is given a defendant of Durres's case (sD), which the Tirana
// agencies do not see, and one more of its own case.
func TestDefendantsConnectionAnswersAsTheList(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		sT2 := addSuspect(t, e, "S-2026-0003", f.caseT)
		ok(0, e.db.Client.Prosecution.UpdateOneID(f.pT).AddDefendantIDs(f.sD, sT2).Exec(sys()))(t)
		answersAsTheList(t, e, listAndConnection{
			parents: "prosecutions(first: 10)", items: "suspects(first: 50)",
			list: "defendants", connection: "defendantsConnection",
			item:      "{ id pseudonym legalName personalNumber }",
			sensitive: []string{"legalName", "personalNumber"},
		}, map[string][]string{gid(f.pT): gids(f.sT, f.sD, sT2), gid(f.pD): gids(f.sD)})
	})
}

// TestProsecutionsConnectionAnswersAsTheList: a suspect's
// prosecutionsConnection holds exactly the proceedings its deprecated
// list prosecutions holds, for every principal, as a proceeding's
// defendants do (above): a proceeding outside the caller's rows is in
// neither, and the fields read under each proceeding (its defendants'
// names) are the same values or the same refusals on both. sD, of
// Durres's case, is also a defendant in Tirana's pT, which the Durres
// agencies do not see, and sT in Durres's pD.
func TestProsecutionsConnectionAnswersAsTheList(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		sT2 := addSuspect(t, e, "S-2026-0003", f.caseT)
		ok(0, e.db.Client.Prosecution.UpdateOneID(f.pT).AddDefendantIDs(f.sD, sT2).Exec(sys()))(t)
		ok(0, e.db.Client.Prosecution.UpdateOneID(f.pD).AddDefendantIDs(f.sT).Exec(sys()))(t)
		answersAsTheList(t, e, listAndConnection{
			parents: "suspects(first: 5)", items: "prosecutions(first: 50)",
			list: "prosecutions", connection: "prosecutionsConnection",
			item:      "{ id registrationNumber stage defendantsConnection(first: 5) { edges { node { id legalName personalNumber } } } }",
			sensitive: []string{"legalName", "personalNumber"},
		}, map[string][]string{gid(f.sT): gids(f.pT, f.pD), gid(f.sD): gids(f.pD, f.pT), gid(sT2): gids(f.pT)})
	})
}

// addSuspect adds a suspect of caseID with a legal name.
func addSuspect(t *testing.T, e *env, pseudonym string, caseID int) int {
	t.Helper()
	return ok(e.db.Client.Suspect.Create().SetPseudonym(pseudonym).SetSex(domain.SexFemale).SetNationality("AL").
		SetRole(domain.SuspectRoleExploiter).SetCaseID(caseID).SetLegalName("Suspect " + pseudonym).Save(sys()))(t).ID
}

// listAndConnection is a list edge and the connection served beside it
// (connectionBeside in ent/schema). parents is the root page of the
// records that hold both, items the root page of the records they list
// (which says which of those the caller sees), item the selection of
// one listed record, id first, and sensitive the sensitive fields item
// reads at any depth.
type listAndConnection struct {
	parents, items, list, connection, item string
	sensitive                              []string
}

// answersAsTheList checks, as each principal of the fixture, that the
// connection of every parent holds exactly what its list holds: the
// records stored lists for the parent (by global id) that the principal
// sees, no other, totalCount their number, each record the same bytes in
// both, and each field refused (FORBIDDEN, with its reason) at the same
// record and place in both. It fails unless the principals together had
// a record hidden, a sensitive value read and a field refused, so that
// each comparison compared something.
func answersAsTheList(t *testing.T, e *env, b listAndConnection, stored map[string][]string) {
	t.Helper()
	query := fmt.Sprintf(`{ items: %s { edges { node { id } } }
  parents: %s { edges { node { id
    list: %s %s
    connection: %s { totalCount edges { node %s } } } } } }`, b.items, b.parents, b.list, b.item, b.connection, b.item)
	type answer struct {
		Items struct {
			Edges []struct{ Node struct{ ID string } }
		}
		Parents struct {
			Edges []struct {
				Node struct {
					ID         string
					List       []json.RawMessage
					Connection struct {
						TotalCount int
						Edges      []struct{ Node json.RawMessage }
					}
				}
			}
		}
	}
	idOf := func(item json.RawMessage) string {
		var v struct{ ID string }
		if err := json.Unmarshal(item, &v); err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	hidden, read, refused := 0, 0, 0
	for _, who := range []testserver.Principal{
		e.s.As(t, "police-tirane", viewer.RoleInvestigator),
		e.s.As(t, "police-durres", viewer.RoleInvestigator),
		e.s.As(t, "prosecution-tirane", viewer.RoleProsecutor),
		e.s.As(t, "prosecution-durres", viewer.RoleProsecutor),
		e.s.As(t, "prosecution-general", viewer.RoleProsecutor),
		e.s.As(t, "court-tirane", viewer.RoleJudge),
		e.s.As(t, "onac", viewer.RoleCoordinator),
		e.s.As(t, "ngo-vatra", viewer.RoleCaseWorker),
	} {
		name := who.Subject
		r := e.do(t, who.Token, query, nil)
		a := decode[answer](t, r)
		sees := map[string]bool{}
		for _, s := range a.Items.Edges {
			sees[s.Node.ID] = true
		}
		// Each refusal by where it is: the parent, the listed record
		// (read from the answer at the error's path), the place in it
		// and the field.
		type at struct{ parent, item, place, field string }
		refusals := map[string]map[at]string{"list": {}, "connection": {}}
		for _, er := range r.Errors {
			if er.Code() != "FORBIDDEN" || len(er.Path) < 7 || er.Path[0] != "parents" {
				t.Fatalf("%s: an error that is not a field's refusal: %s", name, r.Body)
			}
			p := a.Parents.Edges[int(er.Path[2].(float64))].Node
			edge, rest := er.Path[4].(string), er.Path[6:]
			var item json.RawMessage
			if edge == "list" {
				item = p.List[int(er.Path[5].(float64))]
			} else {
				item, rest = p.Connection.Edges[int(er.Path[6].(float64))].Node, er.Path[8:]
			}
			refusals[edge][at{p.ID, idOf(item), fmt.Sprint(rest), er.Field()}] = fmt.Sprint(er.Extensions["reason"])
		}
		if !maps.Equal(refusals["list"], refusals["connection"]) {
			t.Errorf("%s: the list refuses %v, the connection %v", name, refusals["list"], refusals["connection"])
		}
		refused += len(refusals["list"])
		for _, pe := range a.Parents.Edges {
			p := pe.Node
			var want []string
			for _, id := range stored[p.ID] {
				if sees[id] {
					want = append(want, id)
				} else {
					hidden++
				}
			}
			slices.Sort(want)
			list, conn := map[string]json.RawMessage{}, map[string]json.RawMessage{}
			for _, item := range p.List {
				list[idOf(item)] = item
			}
			for _, edge := range p.Connection.Edges {
				conn[idOf(edge.Node)] = edge.Node
			}
			if got := slices.Sorted(maps.Keys(list)); !slices.Equal(got, want) {
				t.Errorf("%s: %s's %s %v, want the records it sees %v", name, p.ID, b.list, got, want)
			}
			if got := slices.Sorted(maps.Keys(conn)); !slices.Equal(got, want) || p.Connection.TotalCount != len(want) {
				t.Errorf("%s: %s's %s %v (totalCount %d), want %v", name, p.ID, b.connection, got, p.Connection.TotalCount, want)
			}
			for id, item := range list {
				if !bytes.Equal(item, conn[id]) {
					t.Errorf("%s: %s is %s in the list and %s in the connection", name, id, item, conn[id])
				}
				read += sensitiveValues(t, item, b.sensitive)
			}
		}
	}
	t.Logf("%s beside %s: %d records hidden, %d sensitive values read, %d fields refused", b.connection, b.list, hidden, read, refused)
	if hidden == 0 || read == 0 || refused == 0 {
		t.Errorf("%d records hidden, %d sensitive values read, %d fields refused: the test needs each", hidden, read, refused)
	}
}

// sensitiveValues counts the fields named in names, at any depth of the
// JSON object item, that hold a value.
func sensitiveValues(t *testing.T, item json.RawMessage, names []string) int {
	t.Helper()
	var v any
	if err := json.Unmarshal(item, &v); err != nil {
		t.Fatal(err)
	}
	n := 0
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if x != nil && slices.Contains(names, k) {
					n++
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return n
}
