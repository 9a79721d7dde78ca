package billing

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// testClock is a settable test clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t.UTC().Truncate(time.Microsecond)
}

func (c *testClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// MustOpenStore opens a migrated control plane on dialect ("sqlite" or "postgres").
func MustOpenStore(tb testing.TB, dialect dbx.Dialect, now func() time.Time) *tenants.Store {
	tb.Helper()
	cfg := tenants.Config{DataDir: tb.TempDir(), Now: now, Passwords: tenants.PasswordParams{Memory: 64, Time: 1, Threads: 1}}
	if dialect == dbx.Postgres {
		pg := testdb.Postgres(tb)
		cfg.DatabaseURL, cfg.RolePrefix = pg.DSN, pg.RolePrefix
	}
	s, err := tenants.Open(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if _, err := s.MigrateControl(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// env is a billing service on a store with a test clock.
type env struct {
	store *tenants.Store
	svc   *Service
	clock *testClock
}

func newEnv(tb testing.TB, dialect dbx.Dialect, gw Gateway) *env {
	tb.Helper()
	c := &testClock{}
	c.Set(time.Date(2026, 5, 14, 9, 30, 0, 0, clock.China))
	st := MustOpenStore(tb, dialect, c.Now)
	svc := NewService(Deps{Store: st, Now: c.Now, Gateway: gw, FlushInterval: 20 * time.Millisecond})
	tb.Cleanup(func() { svc.Close() })
	return &env{store: st, svc: svc, clock: c}
}

// eachDialect runs body on SQLite and on PostgreSQL.
func eachDialect(t *testing.T, gw func() Gateway, body func(t *testing.T, e *env)) {
	for _, d := range []dbx.Dialect{dbx.SQLite, dbx.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			var g Gateway
			if gw != nil {
				g = gw()
			}
			body(t, newEnv(t, d, g))
		})
	}
}

// mustTenant inserts a bare tenant row (billing needs no schema) and returns it.
func mustTenant(tb testing.TB, e *env, slug, code string) *tenants.Tenant {
	tb.Helper()
	now := e.clock.Now()
	t := &tenants.Tenant{ID: uuid.New(), Slug: slug, NameZH: slug + "县", Kind: tenants.County, AdminCode: code, Plan: "starter",
		Status: tenants.StatusActive, SchemaName: "t_" + code, DBRole: "x_t_" + code, CreatedAt: now, UpdatedAt: now}
	if _, err := e.store.DB().NewInsert().Model(t).Exec(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return t
}
