// Package cost decides, before any resolver or SQL statement runs, whether a
// GraphQL request is small enough to serve: it bounds the document's shape
// (tokens, fragments, spreads, aliases, depth, fields once fragments are
// expanded) and computes the operation's cost, each field multiplied by the
// page sizes of the connections above it. It also gives every connection
// that names no page size the default one, so that what was costed is what
// runs. docs/limits.md explains the model and its defaults.
package cost

import (
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/apperr"
)

// Limits bound one request. The zero value is not usable: start from
// DefaultLimits.
type Limits struct {
	// MaxCost is the ceiling of an operation's cost (see Measure).
	MaxCost int
	// MaxTokens bounds the document's length in GraphQL tokens, read
	// before it is parsed.
	MaxTokens int
	// MaxDepth bounds how deeply fields nest, fragments expanded.
	MaxDepth int
	// MaxValueDepth bounds how deeply the lists and objects of a value
	// written in the document (an argument, a directive's argument, a
	// variable's default) nest: validation's work on a value grows with
	// the square of its depth, before any cost is charged (a `where` of
	// 980 nested `not`s, 6.9 KB, took 0.2 s of CPU to be refused; a
	// review's finding, 2026-12-07). Variables sent as JSON are bounded
	// alike, at the same depth, before they are decoded (graph's
	// withinJSONBounds).
	MaxValueDepth int
	// MaxFields bounds how many fields the operation selects once every
	// fragment spread is expanded (a fragment spread twice counts twice):
	// it stops "fragment bombs" whose text is small and whose tree is not.
	MaxFields int
	// MaxAliases bounds how many times one selection set may ask for the
	// same field (under different aliases).
	MaxAliases int
	// MaxAliasBytes bounds the length of an alias. An answer repeats a
	// field's alias for every object it is asked of, and no count of
	// values sees how long the name is: a one-megabyte alias of
	// __typename under 500 cases was an answer of 276 MB built in memory
	// before its size was checked (a review's finding; sixteen such pages
	// by fragment spreads ran a server out of memory).
	MaxAliasBytes int
	// MaxFieldPairs bounds the pairs of fields validation compares: those
	// answered under one name in one selection, once fields of one name
	// are merged with their sub-selections as validation merges them.
	// 2,000 fields under one name were 2 million comparisons, and a million
	// errors when they differed.
	MaxFieldPairs int
	// MaxFragments bounds the fragment definitions of a document, and
	// MaxSpreads its fragment spreads.
	MaxFragments, MaxSpreads int
	// MaxIntrospection bounds the __schema and __type fields of an
	// operation.
	MaxIntrospection int
	// DefaultPage is the page size of a connection asked for without
	// first or last; MaxPage is the largest page one may ask for.
	DefaultPage, MaxPage int
	// UnpagedList is the length assumed of a list that takes no page
	// arguments (a short list such as a referral's status history), and
	// ListSizes the length of those known to be longer, by "Type.field".
	UnpagedList int
	ListSizes   map[string]int
	// FixedCosts are the costs of fields whose work does not depend on
	// what is selected under them (computed whole in memory), by
	// "Type.field": what is under them is not counted again.
	FixedCosts map[string]int
	// LookupCost is the cost of each id a field looks up (nodes(ids:)), on
	// top of the fields read from it: measured, a refused id costs the
	// server as much as some twenty fields.
	LookupCost int
	// MutationCost is the cost of each mutation field on top of its
	// payload's fields and its input's items: its transaction, its checks
	// and its audit events, which no field of its payload counts. At
	// nothing, a document of 300 mutations refused or changing nothing
	// (each asking its id) cost 600, and took 0.13–0.15 s of the server's
	// CPU on SQLite, 0.22–0.29 s on PostgreSQL (a review, 2026-12-07),
	// where the dashboard page of README, priced 16,952, takes 0.02–0.04 s:
	// the budget of a minute bought a few CPUs' worth of such work. 250 is
	// that work measured as the page's fields are priced (about 0.45 ms of
	// CPU on SQLite, at 1.8 µs a unit).
	MutationCost int
	// FilterIDCost is the cost of each id a list's where names (id, idIn,
	// idNEQ, idNotIn), once for the field of the document however many
	// objects it is asked under: the ids are looked up in one statement
	// for the field (graph.recordIDsAsked), and those not shown recorded.
	// Measured beside nodes(ids:), a refused id of a where takes about
	// three fifths of the server's time one of nodes takes (no error is
	// answered for it): half the price. docs/limits.md says why.
	FilterIDCost int
}

// DefaultLimits are CaseGraph's defaults. The cost ceiling lets the
// dashboard page of README (50 cases, 20 victims and 10 proceedings each,
// 10 charges a proceeding: cost about 13,000), a DPO's page of 500 audit
// events and GraphiQL's introspection query through, and refuses what
// would take the server more than a fraction of a second; docs/limits.md
// has the measurements behind it.
func DefaultLimits() Limits {
	return Limits{
		MaxCost:          25_000,
		MaxTokens:        15_000,
		MaxDepth:         20,
		MaxValueDepth:    64,
		MaxFields:        2_000,
		MaxAliases:       20,
		MaxAliasBytes:    64,
		MaxFieldPairs:    50_000,
		MaxFragments:     200,
		MaxSpreads:       1_000,
		MaxIntrospection: 2,
		DefaultPage:      50,
		MaxPage:          500,
		UnpagedList:      10,
		LookupCost:       20,
		MutationCost:     250,
		FilterIDCost:     10,
		ListSizes: map[string]int{
			// The policy's lines.
			"Query.policyLines": 500,
			// A proceeding's defendants in one list, deprecated for
			// defendantsConnection: priced as that connection's default
			// page. At ten, a page of 50 proceedings of 30 defendants
			// each resolved more than twice its cost and was stopped (a
			// hunt); the list has no bound of its own, so a proceeding of
			// more than 50 is still an estimate the fields-resolved bound
			// (graph.fieldBudget) answers for.
			"Prosecution.defendants": 50,
			// A suspect's proceedings in one list, deprecated for
			// prosecutionsConnection, priced as the defendants' list and
			// for the same reason: at ten, a suspect of 300 proceedings
			// resolved thirty times its price, and the two lists refer
			// back to each other, so that each level of the loop
			// (suspect, proceedings, defendants, proceedings…) multiplied
			// what the model missed. Past 50 the fields-resolved bound
			// answers for it, as for the defendants.
			"Suspect.prosecutions": 50,
		},
		FixedCosts: map[string]int{
			// The access matrix is computed in memory from the policy, the
			// same work whichever of its cells' fields are read (about
			// 11,000 cells): what it costs is building it.
			"Query.accessMatrix": 5_000,
			// A what-if builds the matrix twice, each cell a pass over the
			// whole policy (a what-if of 500 lines touching every role took
			// 7 s of CPU): policytools.WhatIf also runs one per CPU at a
			// time, and stops at the deadline.
			"Query.policyWhatIf": 10_000,
			// Verifying walks the whole audit trail: one a request.
			"Query.verifyAuditTrail": 20_000,
			// The drift replays the policy's whole history (1,001 changes
			// of 500 lines took 2 s a call): one a request too, since the
			// twenty-seventh session (2026-12-08), before which twenty
			// aliases of it were one request.
			"Query.policyDrift": 20_000,
			// A statistics table is at most one grouped statement over a
			// whole table (a request reads a few groupings of a table, then
			// its finest cells: statistics.maxGroupingsPerTable), summed in
			// memory, whatever cells are read: eight panels of a dashboard
			// fit one request. TestStatisticsFieldsHaveFixedCosts holds
			// every statistics field to a line here.
			"Query.victimStatistics":       1_000,
			"Query.caseStatistics":         1_000,
			"Query.prosecutionStatistics":  1_000,
			"Query.trialRequestStatistics": 1_000,
			"Query.decisionStatistics":     1_000,
			"Query.prosecutionMeasures":    1_000,
			"Query.referralMeasures":       1_000,
			"Query.referralStatistics":     1_000,
			"Query.victimSupport":          1_000,
		},
	}
}

// TooComplex is the error of a request over one of the limits: code
// TOO_COMPLEX, the measure and its limit in extensions.
func tooComplex(measure string, value, limit int, message string) *apperr.Error {
	return &apperr.Error{
		Code:    apperr.TooComplex,
		Message: message,
		Details: map[string]any{"limit": measure, "value": value, "maximum": limit},
	}
}

// saturatingAdd and saturatingMul keep counts from overflowing: anything
// past the ceiling is refused anyway, so capping at a large value loses
// nothing.
const ceiling = 1 << 40

func saturatingAdd(a, b int) int {
	if a+b > ceiling {
		return ceiling
	}
	return a + b
}

func saturatingMul(a, b int) int {
	if a != 0 && b > ceiling/a {
		return ceiling
	}
	if a*b > ceiling {
		return ceiling
	}
	return a * b
}

// IsIntrospection reports whether a field reads the schema itself.
func IsIntrospection(f *ast.Field) bool { return f.Name == "__schema" || f.Name == "__type" }
