package authz_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/casegraph/casegraph/domain"
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
		c := e.db.Client
		sT2 := ok(c.Suspect.Create().SetPseudonym("S-2026-0003").SetSex(domain.SexFemale).SetNationality("AL").
			SetRole(domain.SuspectRoleExploiter).SetCaseID(f.caseT).SetLegalName("Suspect S-2026-0003").Save(sys()))(t).ID
		ok(0, c.Prosecution.UpdateOneID(f.pT).AddDefendantIDs(f.sD, sT2).Exec(sys()))(t)
		stored := map[string][]string{gid(f.pT): gids(f.sT, f.sD, sT2), gid(f.pD): gids(f.sD)}

		const query = `{ suspects(first: 50) { edges { node { id } } }
  prosecutions(first: 10) { edges { node { id
    defendants { id pseudonym legalName personalNumber }
    defendantsConnection { totalCount edges { node { id pseudonym legalName personalNumber } } } } } } }`
		type suspect struct {
			ID, Pseudonym             string
			LegalName, PersonalNumber *string
		}
		type answer struct {
			Suspects struct {
				Edges []struct{ Node struct{ ID string } }
			}
			Prosecutions struct {
				Edges []struct {
					Node struct {
						ID                   string
						Defendants           []suspect
						DefendantsConnection struct {
							TotalCount int
							Edges      []struct{ Node suspect }
						}
					}
				}
			}
		}
		hidden, allowed, refused := 0, 0, 0
		for _, who := range []struct {
			agency string
			role   viewer.Role
		}{
			{"police-tirane", viewer.RoleInvestigator},
			{"police-durres", viewer.RoleInvestigator},
			{"prosecution-tirane", viewer.RoleProsecutor},
			{"prosecution-durres", viewer.RoleProsecutor},
			{"prosecution-general", viewer.RoleProsecutor},
			{"court-tirane", viewer.RoleJudge},
			{"onac", viewer.RoleCoordinator},
			{"ngo-vatra", viewer.RoleCaseWorker},
		} {
			name := who.agency + " " + string(who.role)
			r := e.do(t, e.tok(t, who.agency, who.role), query, nil)
			a := decode[answer](t, r)
			sees := map[string]bool{}
			for _, s := range a.Suspects.Edges {
				sees[s.Node.ID] = true
			}
			// Each refusal by where it is: the proceeding, the suspect
			// (read from the answer at the error's path) and the field.
			type at struct{ proceeding, suspect, field string }
			refusals := map[string]map[at]string{"defendants": {}, "defendantsConnection": {}}
			for _, er := range r.Errors {
				if er.Code() != "FORBIDDEN" || len(er.Path) < 6 {
					t.Fatalf("%s: an error that is not a field's refusal: %s", name, r.Body)
				}
				i, edge := int(er.Path[2].(float64)), er.Path[4].(string)
				p := a.Prosecutions.Edges[i].Node
				var s suspect
				if edge == "defendants" {
					s = p.Defendants[int(er.Path[5].(float64))]
				} else {
					s = p.DefendantsConnection.Edges[int(er.Path[6].(float64))].Node
				}
				refusals[edge][at{p.ID, s.ID, er.Field()}] = fmt.Sprint(er.Extensions["reason"])
			}
			if !maps.Equal(refusals["defendants"], refusals["defendantsConnection"]) {
				t.Errorf("%s: the list refuses %v, the connection %v", name, refusals["defendants"], refusals["defendantsConnection"])
			}
			refused += len(refusals["defendants"])
			for _, pe := range a.Prosecutions.Edges {
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
				list := map[string]suspect{}
				for _, s := range p.Defendants {
					list[s.ID] = s
				}
				conn := map[string]suspect{}
				for _, edge := range p.DefendantsConnection.Edges {
					conn[edge.Node.ID] = edge.Node
				}
				if got := slices.Sorted(maps.Keys(list)); !slices.Equal(got, want) {
					t.Errorf("%s: %s's defendants %v, want the suspects it sees %v", name, p.ID, got, want)
				}
				if got := slices.Sorted(maps.Keys(conn)); !slices.Equal(got, want) || p.DefendantsConnection.TotalCount != len(want) {
					t.Errorf("%s: %s's defendantsConnection %v (totalCount %d), want %v", name, p.ID, got, p.DefendantsConnection.TotalCount, want)
				}
				for id, s := range list {
					if j, k := jsonOf(s), jsonOf(conn[id]); j != k {
						t.Errorf("%s: suspect %s is %s in the list and %s in the connection", name, id, j, k)
					}
					if s.LegalName != nil {
						allowed++
					}
				}
			}
		}
		if hidden == 0 || allowed == 0 || refused == 0 {
			t.Errorf("%d defendants hidden, %d names read, %d fields refused: the test needs each", hidden, allowed, refused)
		}
	})
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
