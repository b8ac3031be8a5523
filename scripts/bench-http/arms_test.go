package benchhttp_test

import (
	"os"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	benchhttp "github.com/casegraph/casegraph/scripts/bench-http"
	"github.com/casegraph/casegraph/viewer"
)

// dashboard is the shape of the benchmark's page that the arms' claims
// are about: the victims and their legalName.
type dashboard struct {
	Cases struct {
		Edges []struct {
			Node struct {
				Victims struct {
					Edges []struct {
						Node struct {
							Pseudonym string
							LegalName *string
						}
					}
				}
			}
		}
	}
}

func (d dashboard) victims() (n int, legalNames int) {
	for _, c := range d.Cases.Edges {
		for _, v := range c.Node.Victims.Edges {
			n++
			if v.Node.LegalName != nil && *v.Node.LegalName != "" {
				legalNames++
			}
		}
	}
	return n, legalNames
}

// TestArmsGetWhatTheyClaim: each arm of the benchmark asks a page the
// served schema accepts, and its principal gets what the arm's figures
// are said to measure (docs/benchmark-http.md): nolegal no error, refused
// every legalName refused with FORBIDDEN, allowed every legalName read.
// A wrong principal or a query the schema rejects would make the table
// measure something else.
func TestArmsGetWhatTheyClaim(t *testing.T) {
	arms, err := benchhttp.ReadArms(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(arms) != 3 {
		t.Fatalf("arms.tsv has %d arms, want nolegal, refused and allowed", len(arms))
	}
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		testdb.Demo(t, db, 1)
		s := testserver.Start(t, db)
		for _, arm := range arms {
			t.Run(arm.Name, func(t *testing.T) {
				query, err := os.ReadFile(arm.Query)
				if err != nil {
					t.Fatal(err)
				}
				asksLegalName := strings.Contains(withoutComments(string(query)), "legalName")
				token := s.Token(t, arm.Agency, viewer.Role(arm.Role))
				r := s.Ask(t, token, string(query), nil)
				page := testserver.Data[dashboard](t, r)
				victims, legalNames := page.victims()
				if victims == 0 {
					t.Fatalf("the page shows %s no victim: the arm would measure an empty page\n%s", arm.Agency, r.Body)
				}
				switch arm.Expect {
				case "clean":
					if len(r.Errors) > 0 {
						t.Fatalf("errors for %s %s:\n%s", arm.Agency, arm.Role, r.Body)
					}
					if asksLegalName && legalNames != victims {
						t.Errorf("%d of %d victims with a legalName for %s %s, want every one", legalNames, victims, arm.Agency, arm.Role)
					}
				case "refused":
					if !asksLegalName {
						t.Fatalf("arm %s expects refusals but its page asks no legalName", arm.Name)
					}
					if legalNames != 0 {
						t.Errorf("%s %s read %d legalNames, want none", arm.Agency, arm.Role, legalNames)
					}
					refused := 0
					for _, e := range r.Errors {
						if e.Code() != "FORBIDDEN" || !strings.HasSuffix(testserver.PathString(e.Path), ".legalName") {
							t.Errorf("error %q at %s, want only FORBIDDEN at legalName", e.Code(), testserver.PathString(e.Path))
							continue
						}
						refused++
					}
					if refused != victims {
						t.Errorf("%d legalNames refused, want one per victim (%d)", refused, victims)
					}
				default:
					t.Fatalf("arm %s expects %q: neither clean nor refused", arm.Name, arm.Expect)
				}
			})
		}
	})
}

// withoutComments is a GraphQL document without its comment lines.
func withoutComments(doc string) string {
	var kept []string
	for line := range strings.SplitSeq(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}
