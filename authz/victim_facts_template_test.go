package authz

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"entgo.io/ent/dialect"
)

// TestVictimFactsTemplate: the facts' statement filled in from the
// template built once a dialect is the statement built for the request's
// own inputs, text and arguments, for any inputs: a request's agency,
// subject, time or victims put at another's place would open one agency's
// victims to another.
func TestVictimFactsTemplate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, d := range []string{dialect.Postgres, dialect.SQLite} {
		for range 200 {
			in := factsInputs{agency: rng.IntN(1000) + 1, principalAgency: rng.IntN(1000) + 1,
				subject: string(rune('a'+rng.IntN(26))) + "@agency", now: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).UTC()}
			for range rng.IntN(600) {
				in.ids = append(in.ids, rng.IntN(100_000)+1)
			}
			if rng.IntN(10) == 0 {
				in.ids = nil
			}
			if rng.IntN(4) == 0 {
				in.principalAgency = in.agency // as in every request
			}
			wantText, wantArgs := buildVictimFactsQuery(d, in)
			tmpl := factsTemplateFor(d)
			if gotArgs := tmpl.fill(d, in); tmpl.text != wantText || !reflect.DeepEqual(gotArgs, wantArgs) {
				t.Fatalf("%s, %+v: the template gives\n%s\n%v\nthe statement built for the inputs is\n%s\n%v", d, in, tmpl.text, gotArgs, wantText, wantArgs)
			}
		}
	}
}
