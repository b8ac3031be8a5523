package testdb

import (
	"context"

	"github.com/casegraph/casegraph/ent"
)

// NodeIDs says, for every GraphQL type implementing Node (by its GraphQL
// name), how to list the ids of its rows; tests call it with a system
// context. Tests that must reach every node type range over it and fail on
// a type of the schema it lacks, so a new type is added here once.
var NodeIDs = map[string]func(context.Context, *ent.Client) ([]int, error){
	"Agency":         func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Agency.Query().IDs(ctx) },
	"Case":           func(ctx context.Context, c *ent.Client) ([]int, error) { return c.CaseFile.Query().IDs(ctx) },
	"CaseAssignment": func(ctx context.Context, c *ent.Client) ([]int, error) { return c.CaseAssignment.Query().IDs(ctx) },
	"CaseEvent":      func(ctx context.Context, c *ent.Client) ([]int, error) { return c.CaseEvent.Query().IDs(ctx) },
	"Charge":         func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Charge.Query().IDs(ctx) },
	"Consent":        func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Consent.Query().IDs(ctx) },
	"CourtDecision":  func(ctx context.Context, c *ent.Client) ([]int, error) { return c.CourtDecision.Query().IDs(ctx) },
	"EmergencyGrant": func(ctx context.Context, c *ent.Client) ([]int, error) { return c.EmergencyGrant.Query().IDs(ctx) },
	"Prosecution":    func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Prosecution.Query().IDs(ctx) },
	"Referral":       func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Referral.Query().IDs(ctx) },
	"SupportService": func(ctx context.Context, c *ent.Client) ([]int, error) { return c.SupportService.Query().IDs(ctx) },
	"Suspect":        func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Suspect.Query().IDs(ctx) },
	"Victim":         func(ctx context.Context, c *ent.Client) ([]int, error) { return c.Victim.Query().IDs(ctx) },
}
