package cases_test

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

// TestConcurrentReports sends many reports at once to two tenants, one of them bad. On
// PostgreSQL they are written in groups (group.go): every good report is stored once, with its
// event, numbered without gaps or repeats per tenant, the number it was answered with being the
// one stored; the bad one gets its own error and costs the others nothing.
func TestConcurrentReports(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		clk := &clock{t: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)}
		s := cases.NewService(cases.Config{Gate: e.Store, Cipher: fakeCipher{}, PhotoDir: t.TempDir(), Now: clk.now})
		const each = 40
		type result struct {
			tenant string
			c      *cases.Case
			err    error
			bad    bool
		}
		results := make(chan result, 2*each+1)
		var wg sync.WaitGroup
		for i := range 2*each + 1 {
			wg.Go(func() {
				tn, in := e.TenantA, cases.ReportInput{Kind: "event", ClassCode: "0101", Lon: 101.5, Lat: 25, Description: fmt.Sprint(i), ReporterPhone: "139"}
				if i%2 == 1 {
					tn = e.TenantB
				}
				bad := i == 2*each
				if bad {
					in.ClassCode = "9999"
				}
				c, err := s.Report(as(tn, uuid.New(), tenants.Acceptor), in)
				results <- result{tenant: tn.Slug, c: c, err: err, bad: bad}
			})
		}
		wg.Wait()
		close(results)
		numbers := map[string][]string{}
		for r := range results {
			if r.bad {
				if !errs.Is(r.err, errs.Invalid) {
					t.Fatalf("the bad report: %v", r.err)
				}
				continue
			}
			if r.err != nil {
				t.Fatalf("report to %s: %v", r.tenant, r.err)
			}
			numbers[r.tenant] = append(numbers[r.tenant], r.c.Number)
			ctx := as(e.TenantA, uuid.New(), tenants.Acceptor)
			if r.tenant == e.TenantB.Slug {
				ctx = as(e.TenantB, uuid.New(), tenants.Acceptor)
			}
			got, err := s.FindCaseByID(ctx, r.c.ID)
			if err != nil || got.Number != r.c.Number || got.Seq != r.c.Seq || len(got.Events) != 1 || got.Reporter.Phone != "139" {
				t.Fatalf("stored %+v (%v), answered %s", got, err, r.c.Number)
			}
		}
		for _, tn := range []*tenants.Tenant{e.TenantA, e.TenantB} {
			ns := numbers[tn.Slug]
			sort.Strings(ns)
			if len(ns) != each {
				t.Fatalf("%s: %d reports stored, want %d", tn.Slug, len(ns), each)
			}
			for i, n := range ns {
				if want := fmt.Sprintf("%s-2026-%06d", tn.AdminCode, i+1); n != want {
					t.Fatalf("%s: number %d is %s, want %s", tn.Slug, i, n, want)
				}
			}
		}
	})
}
