package migrations

// DecideConsentAges is what the consents' age migrations run, for a test
// to count its statements.
var DecideConsentAges = decideConsentAges
