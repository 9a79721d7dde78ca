package open311_test

import (
	"testing"

	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/open311"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/platform/platformtest"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// TestOperatorChangesAudited: api keys and public services are audited on their tenant as the
// CLI always recorded them; a refused change records nothing.
func TestOperatorChangesAudited(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		o, g := org.NewService(e.Store, nil), grids.NewService(e.Store, nil)
		s := open311.NewService(open311.Config{Gate: e.Store, Tenants: e.Store, Classes: catalog.NewService(e.Store, o, g, nil)})
		ctx := e.A
		_, k, err := s.CreateKey(ctx, e.TenantA, "12345 热线")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RevokeKey(ctx, e.TenantA, k.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.AddServiceCode(ctx, e.TenantA, "event-9999"); err == nil {
			t.Fatal("opened a class the catalog does not have")
		}
		if err := s.AddServiceCode(ctx, e.TenantA, "component-0101"); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveServiceCode(ctx, e.TenantA, "component-0101"); err != nil {
			t.Fatal(err)
		}
		for action, want := range map[string][2]string{
			"open311.key_create":     {k.ID, `{"name":"12345 热线"}`},
			"open311.key_revoke":     {k.ID, `{"name":"12345 热线"}`},
			"open311.service_add":    {"component-0101", `{}`},
			"open311.service_remove": {"component-0101", `{}`},
		} {
			e.MustAuditedOnce(t, action, want[0], want[1])
		}
	})
}
