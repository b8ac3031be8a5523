// Package seed loads CaseGraph's reference data and demo data.
//
// Agencies creates the agencies of DOMAIN.md (AgencyRegistry) that do not
// exist yet; it is safe to call at every start. Demo adds five whole years
// of synthetic cases at the Albanian volumes of DOMAIN.md, or any multiple
// of them (Options.Scale), and the current year up to yesterday at its
// share of them, as of Options.Today (by default the current date): the
// demo always ends where the clock is, so some investigations are within
// their deadline and others overdue, as in a live system. The same seed,
// scale and date always give the same data.
//
// Every personal value Demo writes is synthetic: common Albanian given names
// and surnames combined at random, dates of birth and personal numbers made
// to fit them, generic addresses, health notes and testimony phrases. None
// describes a real person or event.
//
// Both wrap their context with viewer.SystemContext: seeding is system work,
// not done on behalf of a principal.
package seed
