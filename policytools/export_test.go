package policytools

// WhatIfsRunning lets a test hold every what-if slot.
var WhatIfsRunning = whatIfsRunning
