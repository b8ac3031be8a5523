package testserver

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/casegraph/casegraph/viewer"
)

// Principal is a person with a real development token, acting for one
// agency in one role.
type Principal struct {
	Token, Subject, Agency string
}

// Subject is the subject of the token Token and As issue: test-<role>@<agency>.
func Subject(agency string, role viewer.Role) string { return "test-" + string(role) + "@" + agency }

// As returns the principal of role at agency (the subject Token gives it).
func (s *Server) As(tb testing.TB, agency string, role viewer.Role) Principal {
	tb.Helper()
	return Principal{Token: s.Token(tb, agency, role), Subject: Subject(agency, role), Agency: agency}
}

// Colleague is another person of role at agency: the same rights as As
// gives, but a subject of its own (and so idempotency keys of its own).
func (s *Server) Colleague(tb testing.TB, agency string, role viewer.Role) Principal {
	tb.Helper()
	subject := "colleague-" + string(role) + "@" + agency
	tok, err := s.Issuer.Issue(subject, agency, []viewer.Role{role}, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return Principal{Token: tok, Subject: subject, Agency: agency}
}

// AgencyIDs maps each agency code of the registry to its row id.
func (s *Server) AgencyIDs(tb testing.TB) map[string]int {
	tb.Helper()
	all, err := s.DB.Client.Agency.Query().All(viewer.SystemContext(context.Background()))
	if err != nil {
		tb.Fatalf("listing agencies: %v", err)
	}
	ids := make(map[string]int, len(all))
	for _, a := range all {
		ids[a.Code] = a.ID
	}
	return ids
}

// GlobalID is the GraphQL id of a row id.
func GlobalID(id int) string { return strconv.Itoa(id) }

// GlobalIDs are the GraphQL ids of row ids, in their order.
func GlobalIDs(ids ...int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = GlobalID(id)
	}
	return out
}

// Atoi parses a GraphQL id back into a row id, failing the test when it is
// not one.
func Atoi(tb testing.TB, id string) int {
	tb.Helper()
	n, err := strconv.Atoi(id)
	if err != nil {
		tb.Fatalf("id %q: %v", id, err)
	}
	return n
}
