package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

const pgbouncerMissing = "pgbouncer not found: apt-get install pgbouncer"

// PgBouncer starts a private pgbouncer in front of pg's database, in
// transaction pooling mode, and returns a postgres:// DSN that goes through
// it (same user and database name as pg.DSN, no password needed). The
// pgbouncer is stopped when tb's cleanups run, before pg's database is dropped.
//
// Only pg's user can log in through it (it is the one user in auth_file).
func PgBouncer(tb testing.TB, pg PG) string {
	tb.Helper()
	bin := findPgBouncer()
	if bin == "" {
		// Deliberately not a skip, with or without $CI: a test that asks
		// for pgbouncer must not pass vacuously.
		tb.Fatal(pgbouncerMissing)
	}
	target, err := pgconn.ParseConfig(pg.DSN)
	if err != nil {
		tb.Fatalf("testdb: PgBouncer: parse pg.DSN: %v", err)
	}
	sslmode := "prefer"
	if u, err := url.Parse(pg.DSN); err == nil && u.Query().Get("sslmode") != "" {
		sslmode = u.Query().Get("sslmode")
	}
	who, err := helperUser()
	if err != nil {
		tb.Fatalf("testdb: PgBouncer: %v", err)
	}
	dir, err := makeTempDir(who, "cityops-pgbouncer-")
	if err != nil {
		tb.Fatalf("testdb: PgBouncer: %v", err)
	}
	// The directory is only needed while pgbouncer starts (it reads the ini
	// and auth_file once); it is removed as soon as pgbouncer is up, so a
	// killed test process leaves nothing behind.
	defer os.RemoveAll(dir)

	userlist := filepath.Join(dir, "userlist.txt")
	if err := os.WriteFile(userlist, []byte(pgbQuote(target.User)+` ""`+"\n"), 0o600); err != nil {
		tb.Fatalf("testdb: PgBouncer: %v", err)
	}
	server := []string{
		"host=" + pgbConnValue(target.Host),
		"port=" + strconv.Itoa(int(target.Port)),
		"dbname=" + pgbConnValue(target.Database),
		"user=" + pgbConnValue(target.User),
	}
	if target.Password != "" {
		server = append(server, "password="+pgbConnValue(target.Password))
	}

	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("testdb: PgBouncer: %v", err)
		}
		ini := filepath.Join(dir, "pgbouncer.ini")
		conf := strings.Join([]string{
			"[databases]",
			pg.Database + " = " + strings.Join(server, " "),
			"",
			"[pgbouncer]",
			"listen_addr = 127.0.0.1",
			"listen_port = " + strconv.Itoa(port),
			"unix_socket_dir =",
			"auth_type = trust",
			"auth_file = " + userlist,
			"pool_mode = transaction",
			"ignore_startup_parameters = extra_float_digits,search_path,options",
			"server_tls_sslmode = " + sslmode,
			"max_client_conn = 500",
			"default_pool_size = 20",
			"admin_users = " + target.User,
			"log_connections = 0",
			"log_disconnections = 0",
			"",
		}, "\n")
		if err := os.WriteFile(ini, []byte(conf), 0o600); err != nil {
			tb.Fatalf("testdb: PgBouncer: %v", err)
		}
		if err := who.chown(dir); err != nil {
			tb.Fatalf("testdb: PgBouncer: %v", err)
		}

		dsn := (&url.URL{
			Scheme:   "postgres",
			User:     url.User(target.User),
			Host:     "127.0.0.1:" + strconv.Itoa(port),
			Path:     "/" + pg.Database,
			RawQuery: "sslmode=disable",
		}).String()
		stop, log, err := runPgBouncer(bin, ini, who, dsn)
		if err == nil {
			tb.Cleanup(func() {
				stop()
				if tb.Failed() {
					tb.Logf("testdb: pgbouncer log (%s):\n%s", dsn, log.String())
				}
			})
			return dsn
		}
		lastErr = err
		if !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	tb.Fatalf("testdb: PgBouncer: %v", lastErr)
	return ""
}

// runPgBouncer starts pgbouncer and waits until dsn answers a query through it.
func runPgBouncer(bin, ini string, who runAs, dsn string) (stop func(), log *tailBuffer, err error) {
	log = &tailBuffer{max: 64 << 10}
	cmd := exec.Command(bin, ini)
	cmd.Env = helperEnv()
	cmd.Stdout = log
	cmd.Stderr = log
	// pgbouncer refuses to run as root ("PgBouncer should not run as root");
	// as root we start it directly as the helper user.
	who.apply(cmd)
	if err := startTied(cmd); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()

	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // immediate shutdown
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		stop()
		return nil, nil, err
	}
	defer db.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			return nil, nil, fmt.Errorf("pgbouncer exited during startup (as %s): %s\n%s", who.name, cmd.ProcessState, log.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var one int
		err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
		cancel()
		if err == nil {
			return stop, log, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, nil, fmt.Errorf("pgbouncer not answering on %s: %v\n%s", redact(dsn), err, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func findPgBouncer() string {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer", "/usr/local/bin/pgbouncer"} {
		if isExecutable(p) {
			return p
		}
	}
	return ""
}

// pgbQuote quotes a name for pgbouncer's [databases] keys and auth_file.
func pgbQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// pgbConnValue quotes a value in a pgbouncer connection string if needed.
func pgbConnValue(s string) string {
	if s != "" && !strings.ContainsAny(s, " '\\\t") {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
