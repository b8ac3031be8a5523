package gqlname_test

import (
	"testing"

	"github.com/casegraph/casegraph/internal/gqlname"
)

func TestOf(t *testing.T) {
	for name, want := range map[string]string{
		"defendants_connection": "defendantsConnection",
		"has_prosecutions_with": "hasProsecutionsWith",
		"closed_at":             "closedAt",
		"victims":               "victims",
		"a__b":                  "aB",
		"":                      "",
	} {
		if got := gqlname.Of(name); got != want {
			t.Errorf("Of(%q) = %q, want %q", name, got, want)
		}
	}
}
