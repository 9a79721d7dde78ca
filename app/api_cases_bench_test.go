package app

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// BenchmarkCases measures case creation and the filtered list over the HTTP stack (fiber's
// in-process Test: routing, token authentication, the tenant gate, JSON) with
// CITYOPS_BENCH_CASES cases (default 100000; docs/benchmarks.md has the 1,000,000 figures) in
// one tenant, on SQLite and on PostgreSQL.
func BenchmarkCases(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("CITYOPS_BENCH_CASES")); err == nil && v > 0 {
		n = v
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			a, token := benchApp(b, dialect)
			seedCases(b, a, mustTenantB(b, a, "chuxiong"), n)
			req := func(method, path, body string) (int, string) {
				r := httptest.NewRequest(method, path, strings.NewReader(body))
				r.Header.Set("Authorization", "Bearer "+token)
				if body != "" {
					r.Header.Set("Content-Type", "application/json")
				}
				res, err := a.fiber.Test(r, -1)
				if err != nil {
					b.Fatal(err)
				}
				defer res.Body.Close()
				body2, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(body2)
			}
			b.Run("create", func(b *testing.B) {
				for b.Loop() {
					if st, body := req("POST", casesA, reportA); st != 201 {
						b.Fatalf("create: %d %s", st, body)
					}
				}
			})
			for _, q := range []string{
				"?limit=50",
				"?state=dispatched&limit=50",
				"?grid=53230100100101&state=handling&limit=50",
				"?kind=component&class_code=0101&source=hotline&limit=50",
				"?overdue=true&limit=50",
				"?from=2025-01-01&to=2027-01-01&limit=50",
			} {
				b.Run("list"+q, func(b *testing.B) {
					for b.Loop() {
						if st, body := req("GET", casesA+q, ""); st != 200 {
							b.Fatalf("list: %d %s", st, body)
						}
					}
				})
			}
			b.Run("geojson", func(b *testing.B) {
				for b.Loop() {
					if st, body := req("GET", casesA+".geojson?bbox=101.5,25,101.5005,25.0005", ""); st != 200 {
						b.Fatalf("geojson: %d %s", st, body)
					}
				}
			})
		})
	}
}

// benchApp boots the app with tenant A (its grids and standard as in the tests) and an acceptor
// who is also a shift lead, and returns the acceptor's token.
func benchApp(b *testing.B, dialect string) (*App, string) {
	a, _, ta := MustBootApp(b, dialect)
	id, tok := benchAccount(b, a)
	benchTenant(b, a, ta, id, tok)
	return a, tok
}

// benchAccount creates the benchmark's identity and an API token for it.
func benchAccount(b *testing.B, a *App) (uuid.UUID, string) {
	ctx := context.Background()
	id, err := a.store.CreateIdentity(ctx, tenants.NewIdentity{Email: "bench@test.cn", Password: testPassword})
	if err != nil {
		b.Fatal(err)
	}
	tok, _, err := a.store.CreateAPIToken(ctx, id.ID, "bench", 0)
	if err != nil {
		b.Fatal(err)
	}
	return id.ID, tok
}

// benchTenant makes identity id (whose token is tok) an acceptor and admin of t and gives t a
// department, the grids of gridsOf(t.AdminCode) and the standard, as the tests set up tenant A.
func benchTenant(b *testing.B, a *App, t *tenants.Tenant, id uuid.UUID, tok string) {
	ctx := context.Background()
	for _, r := range []tenants.Role{tenants.Acceptor, tenants.TenantAdmin} {
		if err := a.store.Grant(ctx, t, id, r); err != nil {
			b.Fatal(err)
		}
	}
	up := func(path, ct, body string) {
		r := httptest.NewRequest("POST", "/api/v1/t/"+t.Slug+path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Content-Type", ct)
		res, err := a.fiber.Test(r, -1)
		if err != nil || res.StatusCode >= 300 {
			b.Fatalf("%s: %v %v", path, err, res.StatusCode)
		}
		res.Body.Close()
	}
	up("/departments", "application/json", `{"code":"SZJ","name":"市政局"}`)
	up("/grids/import", "application/geo+json", gridsOf(t.AdminCode))
	up("/standards/import", "text/csv", platformStandards)
}

// seedCases writes n cases straight into tenant t in one statement, spread over states, sources
// and overdue flags like a live tenant (2% overdue), all in t's unit grid (gridsOf(t.AdminCode)).
func seedCases(b *testing.B, a *App, t *tenants.Tenant, n int) {
	start := time.Now()
	ctx := tenants.WithScope(context.Background(), tenants.SystemScope(t))
	var q string
	cols := `id, number, seq, state, version, source, kind, class_code, description, address, lon, lat, grid_code, reported_by,
		extensions, pauses, pending, overdue, overtime_multiple, supervised, self_handled, created_at, updated_at`
	states := `CASE i % 8 WHEN 0 THEN 'reported' WHEN 1 THEN 'accepted' WHEN 2 THEN 'filed' WHEN 3 THEN 'dispatched'
		WHEN 4 THEN 'handling' WHEN 5 THEN 'fed_back' WHEN 6 THEN 'checking' ELSE 'closed' END`
	sources := `CASE i % 3 WHEN 0 THEN 'inspector' WHEN 1 THEN 'hotline' ELSE 'citizen' END`
	if a.store.Dialect() == dbx.Postgres {
		q = `INSERT INTO cases (` + cols + `) SELECT 'bench-' || i, ?4 || '-2025-' || lpad(i::text, 7, '0'), 202500000000 + i, ` + states + `, 1, ` + sources + `,
			'component', '0101', '', '', 101.5 + (i % 100) * 0.0001, 25.0 + (i % 97) * 0.0001, ?4 || '00100101', 'bench',
			'[]', '[]', '', i % 50 = 0, 0, false, false, ?0::timestamptz - (?1 - i) * interval '1 second', ?2
			FROM generate_series(1, ?3) AS i`
	} else {
		q = `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?3)
			INSERT INTO cases (` + cols + `) SELECT 'bench-' || i, printf(?4 || '-2025-%07d', i), 202500000000 + i, ` + states + `, 1, ` + sources + `,
			'component', '0101', '', '', 101.5 + (i % 100) * 0.0001, 25.0 + (i % 97) * 0.0001, ?4 || '00100101', 'bench',
			'[]', '[]', '', i % 50 = 0, 0, false, false, ?0, ?2 FROM s`
	}
	now := clock.Now()
	err := a.store.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := db.ExecContext(ctx, q, now, n, now, n, t.AdminCode); err != nil {
			return err
		}
		_, err := db.ExecContext(ctx, "ANALYZE cases")
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d cases in %s", n, time.Since(start).Round(time.Millisecond))
}

func mustTenantB(b *testing.B, a *App, slug string) *tenants.Tenant {
	t, err := a.store.FindTenantBySlug(context.Background(), slug)
	if err != nil {
		b.Fatal(err)
	}
	return t
}
