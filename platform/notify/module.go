package notify

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
)

//go:embed templates openapi.json migrations
var files embed.FS

// How often the loops pass.
var (
	FanoutEvery  = 10 * time.Second
	DeliverEvery = 5 * time.Second
)

// The plan modules whose events notify: monitoring's alarms, the exchange's finished imports,
// the evaluation's published bulletins (their packages' Entitlement; notify imports none of
// them and reads their tables).
const (
	MonitoringEntitlement = "monitoring"
	ExchangeEntitlement   = "exchange"
	EvaluationEntitlement = "evaluation"
)

// Module is the notifications' registration: a shared free module (every tenant has it) with
// its tables (notify.0001), its API (/notify/…: the caller's inbox, unread count, mark read, the
// caller's preferences; the tenant's settings for its admins), its page /notify (通知), the
// meters of what it sends (billing's sms and its own notify_emails), and two loops: "notify
// fanout" (events → inbox rows and deliveries, the deadline and alarm scans, the daily digest)
// and "notify deliver" (the deliveries, with retries).
func Module(s *Service) module.Module {
	tpl, _ := fs.Sub(files, "templates")
	api, _ := files.ReadFile("openapi.json")
	migs, _ := fs.Sub(files, "migrations")
	return module.Module{
		Name:       "notify",
		Title:      msgTitle.ID(),
		Meters:     []string{billing.MeterSMS, MeterEmails},
		Templates:  tpl,
		Migrations: migs,
		OpenAPI:    api,
		Nav:        []module.Nav{{Path: "/notify", Label: "notify.nav", Count: s.countUnread}},
		Build: func(k module.Kit) (module.Parts, error) {
			if s == nil {
				return module.Parts{}, fmt.Errorf("notify: no service")
			}
			h := &handlers{s: s, k: k}
			return module.Parts{
				API:     h.routes,
				Console: h.pages,
				Background: []module.Loop{
					{Name: "fanout", Run: func(ctx context.Context) {
						tasks.Every(ctx, FanoutEvery, func(ctx context.Context) { s.PassFanout(ctx, k, k.Log) })
					}},
					{Name: "deliver", Run: func(ctx context.Context) {
						tasks.Every(ctx, DeliverEvery, func(ctx context.Context) { s.PassDeliver(ctx, k, k.Log) })
					}},
				},
			}, nil
		},
	}
}

// eachTenant runs fn for every active tenant in its system scope; a tenant that fails is logged
// and the others still run.
func eachTenant(ctx context.Context, k module.Kit, log *slog.Logger, what string, fn func(ctx context.Context, t *tenants.Tenant) error) {
	ts, err := k.Store.FindTenants(ctx, tenants.TenantFilter{Status: tenants.StatusActive})
	if err != nil {
		if ctx.Err() == nil {
			log.Error("notify "+what+": listing tenants", "err", err)
		}
		return
	}
	for _, t := range ts {
		if ctx.Err() != nil {
			return
		}
		if err := fn(tenants.WithScope(ctx, tenants.SystemScope(t)), t); err != nil && ctx.Err() == nil {
			log.Error("notify "+what, "tenant", t.Slug, "err", err)
		}
	}
}

// PassFanout is one pass of the fanout loop over every tenant: the scans, the fanout, the digest.
func (s *Service) PassFanout(ctx context.Context, k module.Kit, log *slog.Logger) {
	eachTenant(ctx, k, log, "fanout", func(ctx context.Context, t *tenants.Tenant) error {
		var from ScanFrom
		if k.Entitled != nil {
			from.Alarms, _ = k.Entitled(ctx, t, MonitoringEntitlement)
			from.Imports, _ = k.Entitled(ctx, t, ExchangeEntitlement)
			from.Bulletins, _ = k.Entitled(ctx, t, EvaluationEntitlement)
		}
		if err := s.Scan(ctx, from); err != nil {
			return err
		}
		for {
			n, err := s.Fanout(ctx, 100)
			if err != nil || n < 100 {
				if err != nil {
					return err
				}
				break
			}
		}
		return s.Digest(ctx)
	})
}

// PassDeliver is one pass of the delivery loop over every tenant.
func (s *Service) PassDeliver(ctx context.Context, k module.Kit, log *slog.Logger) {
	eachTenant(ctx, k, log, "deliver", func(ctx context.Context, t *tenants.Tenant) error {
		rep, err := s.Deliver(ctx, k.Usage, 50)
		if rep.Sent+rep.Failed+rep.Dead > 0 {
			log.Info("notify deliver", "tenant", t.Slug, "sent", rep.Sent, "failed", rep.Failed, "dead", rep.Dead, "held", rep.Held)
		}
		return err
	})
}
