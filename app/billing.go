package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/billing/stripegw"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// newBilling builds the billing service: online with a Stripe gateway when CITYOPS_STRIPE_KEY is
// set, otherwise offline (the ledger and statements work alone).
func newBilling(cfg Config, store *tenants.Store, log *slog.Logger, now func() time.Time, mods []module.Module) (*billing.Service, error) {
	var gw billing.Gateway
	if cfg.StripeKey != "" {
		g, err := stripegw.New(stripegw.Config{Key: cfg.StripeKey, WebhookSecret: cfg.StripeWebhookSecret, APIBase: cfg.StripeAPIBase})
		if err != nil {
			return nil, fmt.Errorf("stripe: %w", err)
		}
		gw = g
	}
	ents, meters := moduleCatalog(mods)
	return billing.NewService(billing.Deps{Store: store, Logger: log, Now: now, Gateway: gw, Modules: ents, Meters: meters}), nil
}

// meterAPIRequest counts every request on a tenant route. It never fails or holds up a request.
func (a *App) meterAPIRequest(c *fiber.Ctx) error {
	if sc := tenants.ScopeFrom(c.UserContext()); sc != nil && sc.Tenant != nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), 50*time.Millisecond)
		err := a.billing.Record(ctx, sc.Tenant.ID, billing.MeterAPIRequests, 1, "api:"+uuid.NewString())
		cancel()
		if err != nil {
			a.log.Warn("API request not metered", "tenant", sc.Tenant.Slug, "err", err)
		}
	}
	return c.Next()
}

// statements serves yearly statements for the API and the console: the CSV and the printable
// page in the console's language, the page rendered with the console's template.
func (a *App) statements() api.Statements {
	return api.Statements{Billing: a.billing, Lang: console.Lang, Page: func(c *fiber.Ctx, st *billing.Statement) error {
		return a.web.Render(c, "billing_statement", fiber.Map{"Statement": console.StatementView(st, console.Lang(c))})
	}}
}

// exportDir is where export downloads are spooled (under .spool): <data>/exports. Offboarding
// archives go to the object store (tenants.ArchivePrefix).
func (a *App) exportDir() string { return filepath.Join(a.cfg.DataDir, "exports") }
