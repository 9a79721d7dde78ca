package exchange

import (
	"context"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
	"golang.org/x/sync/errgroup"
)

// unitWorkers is how many tenants Units reads at once.
const unitWorkers = 4

// UnitStatus is one tenant's upward connection as its prefecture or the operator sees it: its
// destinations with their backlog and last delivery (no credentials), or Unavailable when it
// could not be read (still provisioning, gone, or its database did not answer).
type UnitStatus struct {
	Tenant       *tenants.Tenant `json:"-"`
	Slug         string          `json:"tenant"`
	Name         string          `json:"name"`
	AdminCode    string          `json:"admin_code"`
	Destinations []*Destination  `json:"destinations"`
	Unavailable  bool            `json:"unavailable"`
}

// Health is the worst of the unit's destinations' (Destination.Health), "none" without any,
// "unavailable" when it could not be read.
func (u *UnitStatus) Health() string {
	if u.Unavailable {
		return "unavailable"
	}
	if len(u.Destinations) == 0 {
		return "none"
	}
	rank := map[string]int{"ok": 0, "behind": 1, "disabled": 2, "dead": 3, "failing": 4}
	worst := "ok"
	for _, d := range u.Destinations {
		if h := d.Health(); rank[h] > rank[worst] {
			worst = h
		}
	}
	return worst
}

// Units reads the upward connection of the tenant of each scope (a prefecture's counties:
// tenants.Store ReadableUnder; the operator's tenants), each through its own scope, read-only,
// after audit has recorded the read.
func (s *Service) Units(ctx context.Context, scopes []*tenants.Scope, audit func(ctx context.Context, sc *tenants.Scope) error) ([]UnitStatus, error) {
	out := make([]UnitStatus, len(scopes))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(unitWorkers)
	for i, sc := range scopes {
		t := sc.Tenant
		out[i] = UnitStatus{Tenant: t, Slug: t.Slug, Name: t.NameZH, AdminCode: t.AdminCode, Destinations: []*Destination{}}
		if t.Status != tenants.StatusActive && t.Status != tenants.StatusSuspended {
			out[i].Unavailable = true
			continue
		}
		g.Go(func() error {
			if err := audit(gctx, sc); err != nil {
				return err
			}
			var ds []*Destination
			err := s.gate.Tx(tenants.WithScope(gctx, sc), tenants.Read, func(ctx context.Context, db bun.IDB) error {
				if err := db.NewSelect().Model(&ds).OrderExpr("code").Scan(ctx); err != nil {
					return err
				}
				return s.fillBacklogs(ctx, db, ds)
			})
			switch {
			case err == nil:
				out[i].Destinations = ds
			case errs.CodeOf(err) == errs.Internal && gctx.Err() != nil:
				return err
			default:
				s.log.Warn("exchange: reading a unit", "tenant", t.Slug, "err", err)
				out[i].Unavailable = true
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
