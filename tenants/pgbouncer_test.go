package tenants

import (
	"testing"

	"github.com/cityops/cityops/internal/testdb"
)

// TestIsolationThroughPgBouncer runs the isolation suite through PgBouncer in transaction mode,
// where any session-level state would leak from one tenant's transaction into another's.
func TestIsolationThroughPgBouncer(t *testing.T) {
	pg := testdb.Postgres(t)
	// Control migrations run directly (DDL with advisory locks); tenant traffic goes through the pooler.
	mustOpen(t, Config{DatabaseURL: pg.DSN, RolePrefix: pg.RolePrefix, Passwords: testPasswords})
	bouncer := testdb.PgBouncer(t, pg)
	s := mustOpen(t, Config{DatabaseURL: bouncer, RolePrefix: pg.RolePrefix, Passwords: testPasswords})
	isolationSuite(t, s)
}
