// Package testdb gives tests a real, isolated PostgreSQL database (and,
// optionally, a PgBouncer in front of it).
//
// Typical use:
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		pg := testdb.Postgres(t)          // fresh database, dropped on cleanup
//		db, err := sql.Open("pgx", pg.DSN) // github.com/jackc/pgx/v5/stdlib
//		...
//		bouncerDSN := testdb.PgBouncer(t, pg) // same database via pgbouncer (transaction pooling)
//	}
//
// # Finding a server
//
// Postgres looks for a server in this order and remembers the answer for the
// rest of the test process:
//
//  1. CITYOPS_TEST_DATABASE_URL, if set: a postgres:// URL for a superuser
//     (or a role with CREATEDB and CREATEROLE). Its database part is only used
//     for administration. If it is set but unusable the test fails; there is
//     no fallback.
//  2. A server on localhost:5432 (sslmode=disable), connecting as user
//     "postgres", then as "root". The port can be changed with
//     CITYOPS_TESTDB_LOCAL_PORT; the value "off" disables this probe (this
//     is how the throwaway-cluster path is exercised on a machine that does
//     have a server).
//  3. A throwaway cluster, started once per test process: initdb + pg_ctl in
//     a temporary directory, trust auth, a free 127.0.0.1 port, the unix
//     socket in the same directory, fsync=off. Binaries are taken from
//     CITYOPS_TESTDB_PG_BINDIR, PATH, `pg_config --bindir` or
//     /usr/lib/postgresql/<newest>/bin. When the tests run as root, the
//     cluster runs as the "postgres" OS user (or "nobody"), because
//     PostgreSQL refuses to run as root. The cluster is stopped and its
//     directory removed by Main once the tests finish; without Main (or if
//     the process is killed) a small watcher process notices that the test
//     process has gone and does the same.
//  4. Otherwise the test fails, telling you to `apt-get install postgresql`.
//
// # Isolation
//
// Every Postgres call creates a new database named cityops_test_<8 hex>
// (CREATE DATABASE ... TEMPLATE template0, about 0.1s) and returns a DSN that
// connects to it as the administrative user. Roles are cluster-wide, so each
// call also gets a RolePrefix "ct<same 8 hex>": code under test must name any
// role it creates "<RolePrefix>_..." (or at least starting with RolePrefix).
// On cleanup the database is dropped WITH (FORCE) and every role whose name
// starts with RolePrefix is dropped.
//
// If a test process is killed before its cleanups run (for example by
// go test -timeout), its databases and roles stay behind on a shared server.
// Every test database carries a comment naming its creator (host, PID
// namespace, pid); the next test process in the same host and PID namespace
// drops those whose creator no longer exists, together with their roles.
//
// # A second cluster
//
// Cluster starts a throwaway cluster of the test's own (whatever server Postgres uses), with a
// database "cityops", and stops it on cleanup: what a test of tenants spread over two PostgreSQL
// clusters needs. Throwaway clusters run with wal_level=logical (a move between clusters copies by
// logical replication from them); Cluster(tb, "wal_level=replica") starts one without, for the
// fallback. The server Postgres uses may well have wal_level=replica (the machine's server is
// never reconfigured): a test that needs a logical source moves from a throwaway cluster.
//
// # PgBouncer
//
// PgBouncer starts a private pgbouncer (pool_mode = transaction,
// auth_type = trust) on a free 127.0.0.1 port in front of the test database
// and stops it on cleanup. pgbouncer refuses to run as root; as root it is
// started directly as the "postgres" (or "nobody") OS user.
//
// Debian 12 ships pgbouncer 1.18, which has no support for protocol-level
// named prepared statements (max_prepared_statements appeared in 1.21). pgx's
// default query exec mode (cache_statement) prepares named statements, and
// under transaction pooling those land on whichever server connection is free
// ("prepared statement \"stmtcache_...\" already exists" / "does not exist";
// with 30 concurrent goroutines most queries failed). Code that must work
// behind pgbouncer 1.18 should use default_query_exec_mode=exec (or
// simple_protocol). The DSN returned by PgBouncer deliberately does not set
// it, so tests see what production would.
package testdb
