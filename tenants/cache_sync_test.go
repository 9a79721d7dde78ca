package tenants

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/testdb"
)

// TestCachesInStepAcrossReplicas: two replicas (two stores on one PostgreSQL database) both
// cache a tenant and a token's principal; what one changes — a suspension, a token revoked, an
// identity's roles — reaches the other within about a second (not the caches' five seconds),
// through SyncCaches.
func TestCachesInStepAcrossReplicas(t *testing.T) {
	pg := testdb.Postgres(t)
	cfg := Config{DatabaseURL: pg.DSN, RolePrefix: pg.RolePrefix, Passwords: testPasswords}
	one, two := mustOpen(t, cfg), mustOpen(t, cfg)
	a, _ := provisionAB(t, one)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go one.SyncCaches(ctx, 50*time.Millisecond)
	go two.SyncCaches(ctx, 50*time.Millisecond)

	id, err := one.CreateIdentity(ctx, NewIdentity{Email: "staff@chuxiong.example", Name: "员工", Password: "a long password 1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := one.Grant(ctx, a, id.ID, Acceptor); err != nil {
		t.Fatal(err)
	}
	token, tok, err := one.CreateAPIToken(ctx, id.ID, "drill", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The second replica caches the tenant and the principal, once it has applied the
	// invalidations of the set-up above.
	time.Sleep(300 * time.Millisecond)
	if got, _, err := two.ResolveSlug(ctx, a.Slug); err != nil || got.Status != StatusActive {
		t.Fatalf("resolve: %v %v", got, err)
	}
	if p, err := two.PrincipalByAPIToken(ctx, token); err != nil || !slices.Contains(p.RolesIn(a.ID), Acceptor) {
		t.Fatalf("principal: %+v %v", p, err)
	}
	within := func(what string, ok func() bool) {
		t.Helper()
		began := time.Now()
		for !ok() {
			if time.Since(began) > 2*time.Second {
				t.Fatalf("%s did not reach the other replica in 2 s (the caches keep entries %s)", what, TenantCacheTTL)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%s reached the other replica in %s", what, time.Since(began).Round(10*time.Millisecond))
	}

	if err := one.Suspend(ctx, a, "drill"); err != nil {
		t.Fatal(err)
	}
	within("a suspension", func() bool {
		got, _, err := two.ResolveSlug(ctx, a.Slug)
		return err == nil && got.Status == StatusSuspended
	})
	if err := one.SetMemberRoles(ctx, a, id.ID, []Role{Inspector}); err != nil {
		t.Fatal(err)
	}
	within("a change of roles", func() bool {
		p, err := two.PrincipalByAPIToken(ctx, token)
		return err == nil && slices.Contains(p.RolesIn(a.ID), Inspector) && !slices.Contains(p.RolesIn(a.ID), Acceptor)
	})
	if err := one.RevokeAPIToken(ctx, id.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	within("a revoked token", func() bool {
		_, err := two.PrincipalByAPIToken(ctx, token)
		return errs.Is(err, errs.Unauthorized)
	})
}

// TestLoginLimitsAcrossReplicas: failed logins spread over three replicas (three stores on one
// PostgreSQL database) meet the limits of one: after the account's free failures on one replica
// and the next, the third refuses even the right password until the delay is over; a success
// clears the account everywhere.
func TestLoginLimitsAcrossReplicas(t *testing.T) {
	pg := testdb.Postgres(t)
	cfg := Config{DatabaseURL: pg.DSN, RolePrefix: pg.RolePrefix, Passwords: testPasswords}
	now := throttleStart
	var replicas []*Store
	for range 3 {
		s := mustOpen(t, cfg)
		s.now = func() time.Time { return now }
		replicas = append(replicas, s)
	}
	ctx := context.Background()
	if _, err := replicas[0].CreateIdentity(ctx, NewIdentity{Email: "li@chuxiong.cn", Password: "a long password"}); err != nil {
		t.Fatal(err)
	}
	const addr = "198.51.100.7"
	for i := range accountLimit.free {
		r := replicas[i%2] // the guesses go to two of the replicas
		if _, _, err := r.Login(ctx, "li@chuxiong.cn", "wrong password!", "", addr); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("wrong password %d: %v", i+1, err)
		}
	}
	_, _, err := replicas[2].Login(ctx, "li@chuxiong.cn", "a long password", "", addr)
	if !errs.Is(err, errs.RateLimited) || errs.RetryAfterOf(err) != time.Second {
		t.Fatalf("the third replica, during the delay: %v (retry after %v)", err, errs.RetryAfterOf(err))
	}
	now = now.Add(time.Second)
	if _, _, err := replicas[2].Login(ctx, "li@chuxiong.cn", "a long password", "", addr); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
	// The success cleared the account on every replica: five more free failures anywhere.
	for i := range accountLimit.free {
		if _, _, err := replicas[i%3].Login(ctx, "li@chuxiong.cn", "wrong password!", "", addr); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("wrong password %d after the success: %v", i+1, err)
		}
	}
}
