package tenants

import (
	"context"
	"sync"
	"time"
)

// TenantCacheTTL is how long ResolveSlug reuses a tenant and its ancestors before reading them
// again from the control plane.
//
// Every request inside a tenant resolves its slug and the tenant's ancestors (for prefecture
// access): two or three queries before any work, a tenth of the app's CPU under load. Tenants
// change rarely (suspend, resume, provisioning, offboarding). What the cache costs: on the
// replica that made the change it takes effect at once (every tenant write here clears the
// cache); on other replicas when their cache sync reads the change (SyncCaches, about half a
// second), or, should that fail, within TenantCacheTTL. Unknown slugs are never cached, so a new
// tenant is reachable at once everywhere.
const TenantCacheTTL = 5 * time.Second

type tenantCache struct {
	mu sync.Mutex
	m  map[string]cachedTenant // by slug
	// gen counts the clears: a lookup that read the control plane before a clear does not store
	// what it read after it (it may be the row from before the change that caused the clear —
	// a freeze, a move's new cluster — and would be reused for TenantCacheTTL).
	gen uint64
	// afterRead, when set (tests), runs between a lookup's read and its store.
	afterRead func()
}

type cachedTenant struct {
	t     Tenant
	anc   []Tenant
	until time.Time
}

// clear forgets every tenant; the store calls it after each write to control.tenants (and the
// cache sync when another replica wrote one).
func (c *tenantCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
	c.gen++
}

// ResolveSlug finds the live tenant slug and its ancestors (nearest first), as FindTenantBySlug
// and Ancestors do, reusing a recent answer for up to TenantCacheTTL. Callers get their own
// copies.
func (s *Store) ResolveSlug(ctx context.Context, slug string) (*Tenant, []*Tenant, error) {
	now := s.now()
	s.tenants.mu.Lock()
	e, ok := s.tenants.m[slug]
	gen := s.tenants.gen
	s.tenants.mu.Unlock()
	if !ok || !now.Before(e.until) {
		t, err := s.FindTenantBySlug(ctx, slug)
		if err != nil {
			return nil, nil, err
		}
		anc, err := s.Ancestors(ctx, t)
		if err != nil {
			return nil, nil, err
		}
		e = cachedTenant{t: *t, anc: make([]Tenant, len(anc)), until: now.Add(TenantCacheTTL)}
		for i, a := range anc {
			e.anc[i] = *a
		}
		if s.tenants.afterRead != nil {
			s.tenants.afterRead()
		}
		s.tenants.mu.Lock()
		if s.tenants.gen == gen {
			if s.tenants.m == nil || len(s.tenants.m) >= 10_000 {
				s.tenants.m = map[string]cachedTenant{}
			}
			// Keyed by the tenant's own slug as read from the database, never by the caller's
			// string, which may alias a request buffer that the next request overwrites.
			s.tenants.m[e.t.Slug] = e
		}
		s.tenants.mu.Unlock()
	}
	t := e.t
	anc := make([]*Tenant, len(e.anc))
	for i := range e.anc {
		a := e.anc[i]
		anc[i] = &a
	}
	return &t, anc, nil
}
