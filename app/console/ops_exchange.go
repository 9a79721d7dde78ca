package console

import (
	"context"
	"strings"

	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// ExchangeUnits is every tenant's upward connection (platform/exchange's Service.Units).
type ExchangeUnits interface {
	Units(ctx context.Context, scopes []*tenants.Scope, audit func(ctx context.Context, sc *tenants.Scope) error) ([]exchange.UnitStatus, error)
}

// exchange is the operator's view of the upward connection: every live tenant's destinations
// with their backlog, failures and last delivery, each tenant read through an operator's
// read-only scope and the read audited in it, as a support read of the tenant is. The page is
// the exchange module's own template (exchange/ops), which shares its table with the
// prefecture's page.
func (o *opsPages) exchange(c *fiber.Ctx) error {
	ctx, path := c.UserContext(), strings.Clone(c.Path())
	all, err := o.d.Store.FindTenants(ctx, tenants.TenantFilter{})
	if err != nil {
		return err
	}
	var scopes []*tenants.Scope
	for _, t := range all {
		if t.Status == tenants.StatusActive || t.Status == tenants.StatusSuspended {
			scopes = append(scopes, &tenants.Scope{Tenant: t, Roles: []tenants.Role{tenants.Viewer}, ReadOnly: true, Operator: true})
		}
	}
	units, err := o.d.Exchange.Units(ctx, scopes, func(ctx context.Context, sc *tenants.Scope) error {
		return o.d.Store.AuditCrossRead(ctx, sc, fiber.MethodGet, path)
	})
	if err != nil {
		return err
	}
	return o.d.UI.Render(c, "exchange/ops", fiber.Map{"Units": units})
}
