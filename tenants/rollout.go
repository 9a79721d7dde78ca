package tenants

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"
)

// RolloutResult is what a migration rollout did in one tenant.
type RolloutResult struct {
	Slug     string        `json:"slug"`
	Applied  []string      `json:"applied"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// MigrateTenants applies the tenant set's pending migrations to every active and suspended tenant,
// with at most workers at once. Each tenant migrates in its own transaction and records its own
// versions, so a rollout interrupted anywhere resumes where it stopped; a tenant that fails is
// reported and does not stop the others. progress, if set, is called after each tenant (from one
// goroutine at a time).
func (s *Store) MigrateTenants(ctx context.Context, workers int, progress func(done, total int, r RolloutResult)) ([]RolloutResult, error) {
	var ts []*Tenant
	for _, st := range []Status{StatusActive, StatusSuspended} {
		part, err := s.FindTenants(ctx, TenantFilter{Status: st})
		if err != nil {
			return nil, err
		}
		ts = append(ts, part...)
	}
	if workers <= 0 {
		workers = 4
	}
	results := make([]RolloutResult, len(ts))
	done := make(chan int)
	var g errgroup.Group
	g.SetLimit(workers)
	go func() {
		for i, t := range ts {
			g.Go(func() error {
				start := time.Now()
				applied, err := s.migrateTenant(ctx, t)
				r := RolloutResult{Slug: t.Slug, Applied: applied, Duration: time.Since(start)}
				if err != nil {
					r.Error = err.Error()
					s.log.Error("tenant migration failed", "tenant", t.Slug, "err", err)
				}
				results[i] = r
				done <- i
				return nil
			})
		}
		g.Wait()
		close(done)
	}()
	n := 0
	for i := range done {
		n++
		if progress != nil {
			progress(n, len(ts), results[i])
		}
	}
	return results, ctx.Err()
}
