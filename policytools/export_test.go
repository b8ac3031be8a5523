package policytools

import (
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/viewer"
)

// MatrixCell is m's cell of role at kind for obj and act.
func MatrixCell(m Matrix, role viewer.Role, kind domain.AgencyKind, obj, act string) Cell {
	return m.cell(role, kind, obj, act)
}
