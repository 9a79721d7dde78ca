package testdb_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/testdb"
)

const (
	envChild      = "CITYOPS_TESTDB_SELFTEST_CHILD" // "main", "nomain" or "kill"
	childTestName = "TestChildProcess"
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "nomain" {
		os.Exit(m.Run()) // exercise the no-Main path: the watcher must clean up
	}
	testdb.Main(m)
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestPostgres(t *testing.T) {
	var pg testdb.PG
	t.Run("use", func(t *testing.T) {
		pg = testdb.Postgres(t)
		if !regexp.MustCompile(`^ct[0-9a-f]{8}$`).MatchString(pg.RolePrefix) {
			t.Errorf("RolePrefix = %q", pg.RolePrefix)
		}
		if !strings.HasPrefix(pg.DSN, "postgres://") || !strings.HasPrefix(pg.AdminDSN, "postgres://") {
			t.Errorf("DSN %q / AdminDSN %q are not postgres:// URLs", pg.DSN, pg.AdminDSN)
		}
		db := open(t, pg.DSN)
		var name string
		if err := db.QueryRowContext(ctx(t), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if name != pg.Database {
			t.Fatalf("connected to %q, want %q", name, pg.Database)
		}
		// Roles the way the app creates them, including one that owns
		// objects and one that is a member of another.
		for _, stmt := range []string{
			fmt.Sprintf(`CREATE ROLE %s_owner NOLOGIN`, pg.RolePrefix),
			fmt.Sprintf(`CREATE ROLE %s_tenant_1 NOLOGIN IN ROLE %s_owner`, pg.RolePrefix, pg.RolePrefix),
			`CREATE TABLE t (id int)`,
			fmt.Sprintf(`ALTER TABLE t OWNER TO %s_owner`, pg.RolePrefix),
			fmt.Sprintf(`GRANT SELECT ON t TO %s_tenant_1`, pg.RolePrefix),
			`INSERT INTO t VALUES (1), (2)`,
		} {
			if _, err := db.ExecContext(ctx(t), stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		// Keep a connection open: cleanup must drop the database anyway.
		conn, err := db.Conn(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRowContext(ctx(t), "SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
			t.Fatalf("count = %d, %v", n, err)
		}
	})
	if t.Failed() {
		return
	}

	admin := open(t, pg.AdminDSN)
	var dbs, roles int
	if err := admin.QueryRowContext(ctx(t), "SELECT count(*) FROM pg_database WHERE datname = $1", pg.Database).Scan(&dbs); err != nil {
		t.Fatal(err)
	}
	if err := admin.QueryRowContext(ctx(t), "SELECT count(*) FROM pg_roles WHERE starts_with(rolname, $1)", pg.RolePrefix).Scan(&roles); err != nil {
		t.Fatal(err)
	}
	if dbs != 0 || roles != 0 {
		t.Errorf("after cleanup: %d databases named %s and %d roles %s* remain", dbs, pg.Database, roles, pg.RolePrefix)
	}
}

func TestPostgresParallel(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	for i := 0; i < 6; i++ {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			pg := testdb.Postgres(t)
			mu.Lock()
			if seen[pg.Database] || seen[pg.RolePrefix] {
				t.Errorf("duplicate %s / %s", pg.Database, pg.RolePrefix)
			}
			seen[pg.Database], seen[pg.RolePrefix] = true, true
			mu.Unlock()
			if _, err := open(t, pg.DSN).ExecContext(ctx(t), "CREATE TABLE x (id int)"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPgBouncer(t *testing.T) {
	pg := testdb.Postgres(t)
	dsn := testdb.PgBouncer(t, pg)
	if dsn == pg.DSN {
		t.Fatal("PgBouncer returned the direct DSN")
	}
	// default_query_exec_mode=exec: pgbouncer 1.18 (Debian 12) cannot carry
	// pgx's named prepared statements across server connections.
	db := open(t, dsn+"&default_query_exec_mode=exec")
	c := ctx(t)

	var name string
	if err := db.QueryRowContext(c, "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != pg.Database {
		t.Fatalf("through pgbouncer connected to %q, want %q", name, pg.Database)
	}

	// SET LOCAL lives exactly as long as the transaction — the property
	// tenant scoping relies on under transaction pooling.
	tx, err := db.BeginTx(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(c, "SET LOCAL app.tenant_id = 'tenant-42'"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := tx.QueryRowContext(c, "SELECT current_setting('app.tenant_id')").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "tenant-42" {
		t.Fatalf("inside transaction app.tenant_id = %q", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var after sql.NullString
	if err := db.QueryRowContext(c, "SELECT current_setting('app.tenant_id', true)").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after.Valid && after.String != "" {
		t.Fatalf("after commit app.tenant_id = %q, want unset", after.String)
	}

	// It really is pgbouncer, in transaction mode: ask its admin console.
	u := strings.Replace(dsn, "/"+pg.Database+"?", "/pgbouncer?", 1) + "&default_query_exec_mode=simple_protocol"
	console := open(t, u)
	rows, err := console.QueryContext(c, "SHOW CONFIG")
	if err != nil {
		t.Fatalf("pgbouncer admin console: %v", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	config := map[string]string{}
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		config[vals[0].String] = vals[1].String
	}
	if config["pool_mode"] != "transaction" {
		t.Errorf("pgbouncer pool_mode = %q, want transaction", config["pool_mode"])
	}
}

// TestThrowawayCluster re-runs this test binary with the localhost probe
// disabled, so testdb has to start its own cluster, in three ways: with Main,
// without Main, and SIGKILLed mid-test. Each time the cluster directory must
// disappear afterwards (and with it the server).
func TestThrowawayCluster(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("child process")
	}
	if !haveServerBinaries() {
		t.Skip("PostgreSQL server binaries (initdb) not installed: the throwaway-cluster path cannot be tested here")
	}
	for _, mode := range []string{"main", "nomain", "kill"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^"+childTestName+"$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), envChild+"="+mode, "CITYOPS_TESTDB_LOCAL_PORT=off", "CITYOPS_TEST_DATABASE_URL=")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			var dir, bouncer string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				log.WriteString(line + "\n")
				if m := regexp.MustCompile(`started throwaway cluster in (\S+) on`).FindStringSubmatch(line); m != nil {
					dir = m[1]
				}
				if m := regexp.MustCompile(`CHILD-READY bouncer=(\S+)`).FindStringSubmatch(line); m != nil {
					bouncer = m[1]
					if mode == "kill" {
						_ = cmd.Process.Signal(syscall.SIGKILL)
					}
				}
			}
			err = cmd.Wait()
			if mode != "kill" && err != nil {
				t.Fatalf("child failed: %v\n%s", err, log.String())
			}
			if dir == "" || bouncer == "" {
				t.Fatalf("child did not start a throwaway cluster and pgbouncer:\n%s", log.String())
			}
			if mode == "main" {
				// Main waits for the cluster to be gone before exiting.
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Errorf("%s still exists after the child exited (stat: %v)", dir, err)
				}
				return
			}
			deadline := time.Now().Add(60 * time.Second)
			for {
				_, err := os.Stat(dir)
				if os.IsNotExist(err) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s still exists 60s after the child exited", dir)
				}
				time.Sleep(50 * time.Millisecond)
			}
			for {
				c, err := net.DialTimeout("tcp", bouncer, time.Second)
				if err != nil {
					break
				}
				_ = c.Close()
				if time.Now().After(deadline) {
					t.Fatalf("pgbouncer still listening on %s after the child exited", bouncer)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// TestChildProcess is the body of TestThrowawayCluster's child processes.
func TestChildProcess(t *testing.T) {
	mode := os.Getenv(envChild)
	if mode == "" {
		t.Skip("only run as a child of TestThrowawayCluster")
	}
	pg := testdb.Postgres(t)
	if !strings.Contains(pg.AdminDSN, "127.0.0.1") {
		t.Fatalf("expected a throwaway cluster on 127.0.0.1, got %s", pg.AdminDSN)
	}
	var v string
	if err := open(t, pg.DSN).QueryRowContext(ctx(t), "SHOW fsync").Scan(&v); err != nil || v != "off" {
		t.Fatalf("fsync = %q, %v", v, err)
	}
	dsn := testdb.PgBouncer(t, pg)
	if err := open(t, dsn+"&default_query_exec_mode=exec").QueryRowContext(ctx(t), "SELECT 'ok'").Scan(&v); err != nil {
		t.Fatal(err)
	}
	host := regexp.MustCompile(`@([^/]+)/`).FindStringSubmatch(dsn)[1]
	fmt.Printf("CHILD-READY bouncer=%s\n", host)
	if mode == "kill" {
		time.Sleep(time.Minute) // the parent SIGKILLs us
	}
}

func haveServerBinaries() bool {
	if _, err := exec.LookPath("initdb"); err == nil {
		return true
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	return len(m) > 0 || os.Getenv("CITYOPS_TESTDB_PG_BINDIR") != ""
}

// TestClusterSettings: a throwaway cluster runs with wal_level=logical (a move copies from it by
// logical replication) unless its settings say otherwise.
func TestClusterSettings(t *testing.T) {
	for _, c := range []struct {
		settings []string
		want     string
	}{{nil, "logical"}, {[]string{"wal_level=replica"}, "replica"}} {
		db, err := sql.Open("pgx", testdb.Cluster(t, c.settings...))
		if err != nil {
			t.Fatal(err)
		}
		var level string
		if err := db.QueryRow("SHOW wal_level").Scan(&level); err != nil || level != c.want {
			t.Errorf("Cluster(%v): wal_level %q (%v), want %q", c.settings, level, err, c.want)
		}
		db.Close()
	}
}
