package tenants

import (
	"context"
	"testing"
	"time"
	"unsafe"
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

// TestResolveSlugKeepsNoCallerBuffer: the slug a caller passes may alias a buffer it reuses (as
// fiber's request buffers are without Immutable). Changing that buffer after the call must not
// change which tenant the cache answers for either slug. Both slugs have one length, as the
// counties' slugs that were once answered for each other had.
func TestResolveSlugKeepsNoCallerBuffer(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		p := NewProvisioner(s)
		mustProvision(t, p, prefecture)
		lufeng := mustProvision(t, p, NewTenant{Slug: "lufeng", NameZH: "禄丰市", Kind: City, AdminCode: "532302", ParentSlug: "chuxiong-zhou"})
		wuding := mustProvision(t, p, NewTenant{Slug: "wuding", NameZH: "武定县", Kind: County, AdminCode: "532329", ParentSlug: "chuxiong-zhou"})

		buf := []byte("lufeng")
		key := unsafe.String(&buf[0], len(buf)) // aliases buf, as a request string would
		if got, _, err := s.ResolveSlug(ctx, key); err != nil || got.ID != lufeng.ID {
			t.Fatalf("lufeng: %v %v", got, err)
		}
		copy(buf, "wuding") // the next request reuses the buffer
		// Every entry is still filed under its own tenant's slug. (Lookups alone rarely show the
		// fault: a key changed in place sits where the old slug hashed, and a lookup finds it
		// only when the new slug's hash lands there too — as it did, under load, in production.)
		s.tenants.mu.Lock()
		for k, e := range s.tenants.m {
			if k != e.t.Slug {
				t.Errorf("cache entry of %s is filed under %q", e.t.Slug, k)
			}
		}
		s.tenants.mu.Unlock()
		if got, _, err := s.ResolveSlug(ctx, "wuding"); err != nil || got.ID != wuding.ID {
			t.Fatalf("wuding after the buffer changed: got %+v, %v; want wuding", got, err)
		}
		if got, _, err := s.ResolveSlug(ctx, "lufeng"); err != nil || got.ID != lufeng.ID {
			t.Fatalf("lufeng after the buffer changed: got %+v, %v; want lufeng", got, err)
		}
	})
}

// TestResolveSlugCacheRace: a lookup that read the tenant before a change cleared the cache does
// not put what it read back (a frozen tenant would otherwise look unfrozen for TenantCacheTTL).
func TestResolveSlugCacheRace(t *testing.T) {
	s := MustOpenSQLite(t)
	a, _ := provisionAB(t, s)
	ctx := context.Background()
	s.tenants.afterRead = func() {
		if err := s.setFreeze(ctx, a, "move to b"); err != nil {
			t.Fatal(err)
		}
	}
	got, _, err := s.ResolveSlug(ctx, a.Slug)
	if err != nil {
		t.Fatal(err)
	}
	s.tenants.afterRead = nil
	if got.WriteFreeze != "" {
		t.Fatalf("the lookup read %q, want the row from before the freeze", got.WriteFreeze)
	}
	got, _, err = s.ResolveSlug(ctx, a.Slug)
	if err != nil || got.WriteFreeze == "" {
		t.Errorf("after the freeze: %q (%v); the row from before it was cached", got.WriteFreeze, err)
	}
}
