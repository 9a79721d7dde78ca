package tenants

import (
	"context"
	"testing"
	"time"
)

// TestResolveSlugCache: a resolved tenant is reused, a status change on this replica shows at
// once, another replica's change shows after TenantCacheTTL, callers cannot change the cache, and
// unknown slugs are not remembered.
func TestResolveSlugCache(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }
		p := NewProvisioner(s)
		if _, _, err := s.ResolveSlug(ctx, "chuxiong"); err == nil {
			t.Fatal("an unknown slug resolved")
		}
		mustProvision(t, p, prefecture)
		a := mustProvision(t, p, countyA)
		got, anc, err := s.ResolveSlug(ctx, "chuxiong") // not cached as unknown
		if err != nil || got.ID != a.ID || len(anc) != 1 || anc[0].Slug != "chuxiong-zhou" {
			t.Fatalf("resolve: %+v %v %v", got, anc, err)
		}
		got.NameZH, anc[0].NameZH = "changed", "changed"
		again, anc2, _ := s.ResolveSlug(ctx, "chuxiong")
		if again.NameZH != "楚雄市" || anc2[0].NameZH != "楚雄州" {
			t.Fatal("a caller's change reached the cache")
		}
		if err := s.Suspend(ctx, a, "test"); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := s.ResolveSlug(ctx, "chuxiong"); got.Status != StatusSuspended {
			t.Fatalf("after suspend on this replica: %s", got.Status)
		}
		// Another replica's change (straight in the database) shows after the TTL.
		if _, err := s.db.NewUpdate().Model((*Tenant)(nil)).Set("status = ?", StatusActive).Where("id = ?", a.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := s.ResolveSlug(ctx, "chuxiong"); got.Status != StatusSuspended {
			t.Fatalf("within the TTL: %s", got.Status)
		}
		now = now.Add(TenantCacheTTL)
		if got, _, _ := s.ResolveSlug(ctx, "chuxiong"); got.Status != StatusActive {
			t.Fatalf("after the TTL: %s", got.Status)
		}
	})
}
