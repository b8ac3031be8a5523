// Package demo draws CaseGraph's demo data. Load writes, in one transaction
// (all of it or none), the agencies of seed.AgencyRegistry, then five whole
// years of synthetic cases at the Albanian volumes of docs/domain.md, or any
// multiple of them (Options.Scale), and the current year up to yesterday at
// its share of them, as of Options.Today (by default the current date): the demo always
// ends where the clock is, so some investigations are within their deadline
// and others overdue, as in a live system. The same seed, scale and date
// always give the same data.
//
// Every personal value Load writes is synthetic: common Albanian given names
// and surnames combined at random, dates of birth and personal numbers made
// to fit them, generic addresses, health notes and testimony phrases. None
// describes a real person or event.
//
// A review (an appeal, a recourse to the High Court) names the decision it
// reviews when it was decided in the demo's last two years (namesReviewed),
// and names none when older, as a record stored before reviews could name
// one; so the demo holds both, which docs/domain.md reads alike. Since
// 2026-12-07 (twenty-first session); the demo named none before.
//
// The generator follows each record's lifecycle in its own file: a year's
// cases and suspects (cases.go), victims (victims.go), criminal proceedings
// and court decisions (proceedings.go), referrals, services and consents
// (support.go); plans.go holds what a year draws before it has database ids,
// and demo.go writes it.
//
// Load wraps its context with viewer.SystemContext: seeding is system work,
// not done on behalf of a principal.
package demo
