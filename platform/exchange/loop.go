package exchange

import (
	"context"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"golang.org/x/sync/errgroup"
)

// The delivery loop's pace: a pass every PassInterval over every tenant, LoopWorkers tenants at
// a time, each for at most TenantBudget before the next tenant's turn (a county draining a long
// backlog does not hold up the others; it goes on at the next pass).
const (
	PassInterval = time.Second
	LoopWorkers  = 4
	TenantBudget = 5 * time.Second
)

// Run is the module's background loop: every interval (PassInterval when 0) it delivers the
// outbox of every active tenant whose plan has the exchange (Deliver). It returns when ctx ends.
// Everything it does is recomputed from the database at each pass, so it may run on several
// replicas at once and be stopped anywhere.
func (s *Service) Run(ctx context.Context, k module.Kit, interval time.Duration) {
	if interval <= 0 {
		interval = PassInterval
	}
	ent := &entitlements{check: k.Entitled, ttl: 30 * time.Second, seen: map[string]entitled{}}
	tasks.Every(ctx, interval, func(ctx context.Context) { s.pass(ctx, k, ent) })
}

func (s *Service) pass(ctx context.Context, k module.Kit, ent *entitlements) {
	ts, err := k.Store.FindTenants(ctx, tenants.TenantFilter{Status: tenants.StatusActive})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("exchange: listing tenants", "err", err)
		}
		return
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(LoopWorkers)
	for _, t := range ts {
		if gctx.Err() != nil {
			break
		}
		on, err := ent.has(gctx, t, s.now())
		if err != nil {
			s.log.Error("exchange: entitlement", "tenant", t.Slug, "err", err)
			continue
		}
		if !on {
			continue
		}
		g.Go(func() error {
			st, err := s.Deliver(tenants.WithScope(gctx, tenants.SystemScope(t)), TenantBudget)
			switch {
			case err != nil && gctx.Err() == nil && !errs.Is(err, errs.NotFound):
				s.log.Error("exchange: delivering", "tenant", t.Slug, "err", err)
			case st.Batches > 0:
				s.log.Debug("exchange: delivered", "tenant", t.Slug, "batches", st.Batches, "delivered", st.Delivered,
					"refused", st.Refused, "failed", st.Failed)
			}
			return nil
		})
	}
	_ = g.Wait()
}

// entitlements remembers for a while whether each tenant's plan has the exchange, so that a
// pass a second does not ask billing about every tenant every second.
type entitlements struct {
	check func(ctx context.Context, t *tenants.Tenant, entitlement string) (bool, error)
	ttl   time.Duration
	mu    sync.Mutex
	seen  map[string]entitled
}

type entitled struct {
	on   bool
	plan string
	at   time.Time
}

func (e *entitlements) has(ctx context.Context, t *tenants.Tenant, now time.Time) (bool, error) {
	if e.check == nil {
		return true, nil
	}
	key := t.ID.String()
	e.mu.Lock()
	v, ok := e.seen[key]
	e.mu.Unlock()
	if ok && v.plan == t.Plan && now.Sub(v.at) < e.ttl && now.Sub(v.at) >= 0 {
		return v.on, nil
	}
	on, err := e.check(ctx, t, Entitlement)
	if err != nil {
		return false, err
	}
	e.mu.Lock()
	e.seen[key] = entitled{on: on, plan: t.Plan, at: now}
	e.mu.Unlock()
	return on, nil
}
