package policytools

import (
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/viewer"
)

// WhatIfsRunning lets a test hold every what-if slot.
var WhatIfsRunning = whatIfsRunning

// MatrixCell is m's cell of role at kind for obj and act.
func MatrixCell(m Matrix, role viewer.Role, kind domain.AgencyKind, obj, act string) Cell {
	return m.cell(role, kind, obj, act)
}
