package tenants

import (
	"context"
	"testing"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// testPasswords keeps argon2id cheap in tests; production uses DefaultPasswordParams.
var testPasswords = PasswordParams{Memory: 64, Time: 1, Threads: 1}

// MustOpenSQLite opens a migrated store on SQLite in a temporary directory.
func MustOpenSQLite(tb testing.TB) *Store {
	tb.Helper()
	return mustOpen(tb, Config{DataDir: tb.TempDir(), Passwords: testPasswords})
}

// MustOpenPostgres opens a migrated store on a fresh PostgreSQL database.
func MustOpenPostgres(tb testing.TB) *Store {
	tb.Helper()
	pg := testdb.Postgres(tb)
	return mustOpen(tb, Config{DatabaseURL: pg.DSN, RolePrefix: pg.RolePrefix, Passwords: testPasswords})
}

func mustOpen(tb testing.TB, cfg Config) *Store {
	tb.Helper()
	s, err := Open(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if _, err := s.MigrateControl(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// eachDialect runs body against SQLite and against PostgreSQL.
func eachDialect(t *testing.T, body func(t *testing.T, s *Store)) {
	t.Run(string(dbx.SQLite), func(t *testing.T) { body(t, MustOpenSQLite(t)) })
	t.Run(string(dbx.Postgres), func(t *testing.T) { body(t, MustOpenPostgres(t)) })
}

func mustProvision(tb testing.TB, p *Provisioner, in NewTenant) *Tenant {
	tb.Helper()
	res, err := p.Provision(context.Background(), in)
	if err != nil {
		tb.Fatalf("provision %s: %v", in.Slug, err)
	}
	return res.Tenant
}

// provisionAB provisions the prefecture and its two counties A and B.
func provisionAB(tb testing.TB, s *Store) (a, b *Tenant) {
	tb.Helper()
	p := NewProvisioner(s)
	mustProvision(tb, p, prefecture)
	return mustProvision(tb, p, countyA), mustProvision(tb, p, countyB)
}

var (
	prefecture = NewTenant{Slug: "chuxiong-zhou", NameZH: "楚雄州", Kind: Prefecture, AdminCode: "532300"}
	countyA    = NewTenant{Slug: "chuxiong", NameZH: "楚雄市", Kind: City, AdminCode: "532301", ParentSlug: "chuxiong-zhou"}
	countyB    = NewTenant{Slug: "wuding", NameZH: "武定县", Kind: County, AdminCode: "532329", ParentSlug: "chuxiong-zhou"}
)
