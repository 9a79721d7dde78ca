package tenants

import (
	"context"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
)

// TestPrincipalCache: a token's or session's principal is reused for PrincipalCacheTTL (a row
// deleted behind the store's back is noticed only after it), while revocation, logout and role
// changes through the store take effect at once.
func TestPrincipalCache(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }
		p := NewProvisioner(s)
		mustProvision(t, p, prefecture)
		a := mustProvision(t, p, countyA)
		id, err := s.CreateIdentity(ctx, NewIdentity{Email: "cache@chuxiong.cn", Password: "a long password"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Grant(ctx, a, id.ID, Inspector); err != nil {
			t.Fatal(err)
		}
		tok, rec, err := s.CreateAPIToken(ctx, id.ID, "cached", 0)
		if err != nil {
			t.Fatal(err)
		}
		roles := func() []Role {
			t.Helper()
			pr, err := s.PrincipalByAPIToken(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			return pr.RolesIn(a.ID)
		}
		if r := roles(); len(r) != 1 || r[0] != Inspector {
			t.Fatalf("roles %v", r)
		}
		// Cached: a membership removed straight in the database still shows for the TTL …
		if _, err := s.db.NewDelete().Model((*Membership)(nil)).Where("identity_id = ?", id.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if r := roles(); len(r) != 1 {
			t.Fatalf("within the TTL: roles %v", r)
		}
		// … and not after it.
		now = now.Add(PrincipalCacheTTL)
		if r := roles(); len(r) != 0 {
			t.Fatalf("after the TTL: roles %v", r)
		}
		// Role changes through the store are seen at once.
		if err := s.Grant(ctx, a, id.ID, Acceptor); err != nil {
			t.Fatal(err)
		}
		if r := roles(); len(r) != 1 || r[0] != Acceptor {
			t.Fatalf("after grant: roles %v", r)
		}
		if err := s.SetMemberRoles(ctx, a, id.ID, []Role{Inspector}); err != nil {
			t.Fatal(err)
		}
		if r := roles(); len(r) != 1 || r[0] != Inspector {
			t.Fatalf("after set roles: %v", r)
		}
		// Revocation is seen at once.
		if err := s.RevokeAPIToken(ctx, id.ID, rec.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PrincipalByAPIToken(ctx, tok); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("revoked token: %v", err)
		}
		// A token expiring before the TTL is not used past its expiry.
		short, _, err := s.CreateAPIToken(ctx, id.ID, "short", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PrincipalByAPIToken(ctx, short); err != nil {
			t.Fatal(err)
		}
		now = now.Add(2 * time.Second)
		if _, err := s.PrincipalByAPIToken(ctx, short); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("expired token: %v", err)
		}
		// Sessions: cached, and logout is seen at once.
		ses, _, err := s.Login(ctx, "cache@chuxiong.cn", "a long password", "", "")
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := s.PrincipalBySession(ctx, ses); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Logout(ctx, ses); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PrincipalBySession(ctx, ses); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("after logout: %v", err)
		}
	})
}
