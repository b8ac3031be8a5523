// Package leaktest holds CaseGraph's end-to-end leak test: the real server
// over the seeded demo data, real GraphQL over HTTP as a principal of every
// role (and one token with two roles), and an oracle written from
// policies/policy.csv that says, for each principal, which rows and which
// sensitive values it may see. The package has no code of its own; its
// tests are its content.
//
// The queries are derived from the executable schema (every root field,
// every edge, every @sensitive field, every path of up to three edges, and
// every mutation's payload), so that an edge added tomorrow is covered
// without a change here. The bytes of every answer are scanned for values
// the principal may not read; the audit trail must hold exactly the
// decisions each answer carried; every policy line that can allow a
// sensitive read must have allowed one, which the fixtures (a consent
// naming every agency kind on one victim in three) make possible.
// docs/leak-test.md says what is checked, the bounds, and what to add when
// the API grows.
package leaktest
