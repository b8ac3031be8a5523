// Package leaktest holds CaseGraph's end-to-end leak test: the real server
// over a seeded database, real GraphQL over HTTP as a principal of every
// role, and an oracle written from policies/policy.csv that says, for each
// principal, which rows and which sensitive values it may see. The package
// has no code of its own; its tests are its content (see leak_test.go).
package leaktest
