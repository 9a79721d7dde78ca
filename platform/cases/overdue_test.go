package cases_test

import (
	"context"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

// tenantList is a fixed list of tenants, whatever the filter.
type tenantList []*tenants.Tenant

func (l tenantList) FindTenants(context.Context, tenants.TenantFilter) ([]*tenants.Tenant, error) {
	return l, nil
}

// TestMarkOverdueAll: one run flags the overdue cases of every active tenant; a tenant that fails
// is counted and does not stop the others; without a tenant list the job refuses to run.
func TestMarkOverdueAll(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)}
		cfg := cases.Config{Gate: e.Store, Tenants: e.Store, Cipher: fakeCipher{}, PhotoDir: t.TempDir(), Now: clk.now}
		s := cases.NewService(cfg)
		for _, tn := range []*tenants.Tenant{e.TenantA, e.TenantB} {
			if _, err := s.Report(as(tn, uuid.New(), tenants.Inspector), cases.ReportInput{Kind: "component", ClassCode: "0101", Lon: 101.5, Lat: 25}); err != nil {
				t.Fatal(err)
			}
		}
		overdue := func(tn *tenants.Tenant) int {
			t.Helper()
			yes := true
			p, err := s.FindCases(as(tn, uuid.New(), tenants.Leader), cases.Filter{Overdue: &yes})
			if err != nil {
				t.Fatal(err)
			}
			return len(p.Cases)
		}
		clk.add(30 * 24 * time.Hour) // far past the accept stage's limit
		if a, b := overdue(e.TenantA), overdue(e.TenantB); a != 0 || b != 0 {
			t.Fatalf("overdue before the run: A %d, B %d", a, b)
		}
		if failed, err := s.MarkOverdueAll(ctx, 2); failed != 0 || err != nil {
			t.Fatalf("MarkOverdueAll: %d failed, %v", failed, err)
		}
		if a, b := overdue(e.TenantA), overdue(e.TenantB); a != 1 || b != 1 {
			t.Fatalf("overdue cases after the run: A %d, B %d, want 1 each", a, b)
		}

		// A tenant whose schema is gone fails alone; the others are still marked.
		ghost := &tenants.Tenant{ID: uuid.New(), Slug: "ghost", Status: tenants.StatusActive, SchemaName: "t_999999", DBRole: "nobody_t_999999"}
		cfg.Tenants = tenantList{ghost, e.TenantA}
		if failed, err := cases.NewService(cfg).MarkOverdueAll(ctx, 1); failed != 1 || err != nil {
			t.Fatalf("with a broken tenant: %d failed, %v; want 1, nil", failed, err)
		}

		cfg.Tenants = nil
		if _, err := cases.NewService(cfg).MarkOverdueAll(ctx, 2); !errs.Is(err, errs.Internal) {
			t.Fatalf("without a tenant list: %v", err)
		}
	})
}
