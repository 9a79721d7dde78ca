// Package platformtest boots the control plane with a prefecture and two counties for the store
// tests of the platform modules, on SQLite and on PostgreSQL.
package platformtest

import (
	"context"
	"testing"

	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/migrations"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
)

// Env is a migrated store with the prefecture 楚雄州 (532300) and two of its counties, 楚雄市
// (532301, "A") and 武定县 (532329, "B"), and a context scoped to each.
type Env struct {
	Store *tenants.Store
	// A and B are tenant admins' contexts in each county; View is the prefecture viewer's
	// read-only context in A; Pref is the prefecture's own admin context.
	A, B, View, Pref context.Context
	TenantA, TenantB *tenants.Tenant
	Prefecture       *tenants.Tenant
	// PostgresDSN is the database's superuser DSN on PostgreSQL (for floors measured through
	// psql in benchmarks); empty on SQLite.
	PostgresDSN string

	pg  testdb.PG
	cfg tenants.Config
}

// MustEnvThroughPgBouncer builds an Env on PostgreSQL whose Store reaches the database through
// PgBouncer in transaction pooling mode (provisioning and migrations ran directly), where any
// session-level state would leak from one tenant's transaction into the next one's.
func MustEnvThroughPgBouncer(tb testing.TB, mods ...module.Module) *Env {
	tb.Helper()
	e := MustEnv(tb, "postgres", mods...)
	cfg := e.cfg
	cfg.DataDir, cfg.DatabaseURL = tb.TempDir(), testdb.PgBouncer(tb, e.pg)
	s, err := tenants.Open(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	e.Store = s
	return e
}

// EachDialect runs body on SQLite and on PostgreSQL, with the tenant migrations of mods (a module
// that keeps tables of its own) applied after the platform's.
func EachDialect(t *testing.T, body func(t *testing.T, e *Env), mods ...module.Module) {
	t.Run("sqlite", func(t *testing.T) { body(t, MustEnv(t, "sqlite", mods...)) })
	t.Run("postgres", func(t *testing.T) { body(t, MustEnv(t, "postgres", mods...)) })
}

// MustEnv builds an Env on dialect ("sqlite" or "postgres"), with the tenant migrations of mods.
func MustEnv(tb testing.TB, dialect string, mods ...module.Module) *Env {
	tb.Helper()
	cfg := tenants.Config{DataDir: tb.TempDir(), Passwords: tenants.PasswordParams{Memory: 64, Time: 1, Threads: 1}}
	for _, m := range mods {
		if m.Migrations == nil {
			continue
		}
		ms, err := migrations.LoadFS(m.Migrations, dialect, m.Name)
		if err != nil {
			tb.Fatalf("module %s: migrations: %v", m.Name, err)
		}
		cfg.Migrations = append(cfg.Migrations, ms...)
	}
	var pg testdb.PG
	if dialect == "postgres" {
		pg = testdb.Postgres(tb)
		cfg.DatabaseURL, cfg.RolePrefix = pg.DSN, pg.RolePrefix
	}
	s, err := tenants.Open(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if _, err := s.MigrateControl(ctx); err != nil {
		tb.Fatal(err)
	}
	p := tenants.NewProvisioner(s)
	prov := func(in tenants.NewTenant) *tenants.Tenant {
		res, err := p.Provision(ctx, in)
		if err != nil {
			tb.Fatalf("provision %s: %v", in.Slug, err)
		}
		return res.Tenant
	}
	e := &Env{Store: s, PostgresDSN: cfg.DatabaseURL, pg: pg, cfg: cfg}
	e.Prefecture = prov(tenants.NewTenant{Slug: "chuxiong-zhou", NameZH: "楚雄州", Kind: tenants.Prefecture, AdminCode: "532300"})
	e.TenantA = prov(tenants.NewTenant{Slug: "chuxiong", NameZH: "楚雄市", Kind: tenants.City, AdminCode: "532301", ParentSlug: "chuxiong-zhou"})
	e.TenantB = prov(tenants.NewTenant{Slug: "wuding", NameZH: "武定县", Kind: tenants.County, AdminCode: "532329", ParentSlug: "chuxiong-zhou"})
	e.A = tenants.WithScope(ctx, tenants.SystemScope(e.TenantA))
	e.B = tenants.WithScope(ctx, tenants.SystemScope(e.TenantB))
	e.Pref = tenants.WithScope(ctx, tenants.SystemScope(e.Prefecture))
	e.View = tenants.WithScope(ctx, &tenants.Scope{Tenant: e.TenantA, Roles: []tenants.Role{tenants.Viewer}, ReadOnly: true, Via: e.Prefecture})
	return e
}

// MustAudit returns the audit entries of action on tenant, newest first.
func (e *Env) MustAudit(tb testing.TB, tenant *tenants.Tenant, action string) []*tenants.AuditEntry {
	tb.Helper()
	es, err := e.Store.FindAudit(context.Background(), tenants.AuditFilter{TenantID: &tenant.ID, Action: action})
	if err != nil {
		tb.Fatal(err)
	}
	return es
}

// MustAuditedOnce fails tb unless tenant A's audit log holds exactly one entry of action, on
// target with detail (JSON as stored), and tenant B's none: what the modules' audit tests check
// of every change.
func (e *Env) MustAuditedOnce(tb testing.TB, action, target, detail string) {
	tb.Helper()
	es := e.MustAudit(tb, e.TenantA, action)
	if len(es) != 1 || es[0].Target != target || es[0].Detail != detail {
		for _, x := range es {
			tb.Logf("%s %s %s", x.Action, x.Target, x.Detail)
		}
		tb.Fatalf("%s: %d entries, want 1 on %q with %s", action, len(es), target, detail)
	}
	if len(e.MustAudit(tb, e.TenantB, action)) != 0 {
		tb.Fatalf("%s audited on B", action)
	}
}
