package secrets

import (
	"context"

	"github.com/cityops/cityops/tenants"
)

// Step is the provisioning step "secrets": Run gives the tenant its key (idempotent, so a
// resumed provisioning converges), and Undo destroys it at offboarding, after the export, so
// that every copy of the tenant's data left in a backup is unreadable.
type Step struct {
	keys Keys
}

var (
	_ tenants.Step = (*Step)(nil)
	_ tenants.Undo = (*Step)(nil)
)

// NewStep returns the provisioning step for keys.
func NewStep(keys Keys) *Step { return &Step{keys: keys} }

// Name is the step's name in the provisioning state machine.
func (*Step) Name() string { return "secrets" }

// Run ensures the tenant has a key.
func (s *Step) Run(ctx context.Context, t *tenants.Tenant) error {
	return s.keys.EnsureTenantKey(ctx, t.ID)
}

// Undo destroys the tenant's key and credentials; running it again is harmless.
func (s *Step) Undo(ctx context.Context, t *tenants.Tenant) error {
	return s.keys.DestroyTenantKey(ctx, t.ID)
}
