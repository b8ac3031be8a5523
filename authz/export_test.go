package authz

// LoadedPolicy is the policy e decides by, as an opaque value: a test
// compares two to tell whether a reload replaced it.
func LoadedPolicy(e *Enforcer) any { return e.policy.Load() }

// InMemoryBuilds lets a test hold the slots of policies built in memory
// (InMemorySlot).
var InMemoryBuilds = inMemoryBuilds
