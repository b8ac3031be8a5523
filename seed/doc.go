// Package seed holds CaseGraph's reference data: the agency registry
// (AgencyRegistry), with the regions and judicial districts its codes are
// made of. Agencies creates the agencies of the registry that do not exist
// yet; it is safe to call at every start, and production uses it.
//
// The synthetic demo world (cases, victims, proceedings, support) is the
// subpackage demo, which only `casegraph seed --demo`, `casegraph serve
// --seed-demo-if-empty` and tests use.
//
// Agencies wraps its context with viewer.SystemContext: seeding is system
// work, not done on behalf of a principal.
package seed
