//go:build unix

package app

import (
	"context"
	"testing"

	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/module/moduletest"
	"github.com/cityops/cityops/tenants"
)

// BenchmarkModuleEntitlement measures what the entitlement check adds to a request on a module a
// plan sells: "request" serves GET /api/v1/t/chuxiong/notices (the check passes), "check" is the
// check alone (billing.Entitled, answered from its cache as on every request after the first).
// docs/benchmarks.md ("Modules") has the figures.
func BenchmarkModuleEntitlement(b *testing.B) {
	a, _, chuxiong := mustBootAppWith(b, "sqlite", Options{Modules: []module.Module{moduletest.Noticeboard()}})
	ctx := context.Background()
	id, token := benchAccount(b, a)
	if err := a.store.Grant(ctx, chuxiong, id, tenants.TenantAdmin); err != nil {
		b.Fatal(err)
	}
	if _, err := a.billing.SetPlan(ctx, chuxiong, "", map[string]bool{moduletest.Entitlement: true}); err != nil {
		b.Fatal(err)
	}
	storeUsage := func() {
		if err := a.billing.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("request", func(b *testing.B) {
		serveEach(b, a.fiber.Handler(), edgeRequest("GET", "/api/v1/t/chuxiong/notices", token, "", nil), 200, storeUsage)
	})
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if on, _, err := a.billing.Entitled(ctx, chuxiong, moduletest.Entitlement); err != nil || !on {
				b.Fatal("not entitled", err)
			}
		}
	})
}
