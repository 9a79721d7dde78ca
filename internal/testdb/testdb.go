package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// PG describes one fresh test database.
type PG struct {
	// DSN connects to the test database (postgres:// URL, usable with
	// sql.Open("pgx", DSN)) as the administrative user.
	DSN string
	// AdminDSN connects to the server's maintenance database as the same
	// administrative user.
	AdminDSN string
	// RolePrefix ("ct" + 8 hex digits) is the prefix every role created by
	// the test must start with; such roles are dropped on cleanup.
	RolePrefix string
	// Database is the name of the test database.
	Database string
}

const (
	envDatabaseURL = "CITYOPS_TEST_DATABASE_URL"
	envLocalPort   = "CITYOPS_TESTDB_LOCAL_PORT"
	envPGBinDir    = "CITYOPS_TESTDB_PG_BINDIR"

	dbNamePrefix   = "cityops_test_"
	rolePrefixHead = "ct"
	commentTag     = "cityops-testdb"
)

// server is the PostgreSQL server chosen for this test process.
type server struct {
	adminURL *url.URL // maintenance database, administrative user
	admin    *sql.DB
	source   string // human-readable description, for logs
}

var (
	serverMu  sync.Mutex
	serverCur *server
	serverErr error
)

// Main runs the tests and then releases what testdb started for this process
// (the throwaway cluster, if one was needed). Call it from TestMain:
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	shutdown()
	os.Exit(code)
}

func shutdown() {
	serverMu.Lock()
	defer serverMu.Unlock()
	if serverCur != nil {
		_ = serverCur.admin.Close()
	}
	stopCluster()
}

// Postgres returns a freshly created, empty database that is dropped (together
// with every role named RolePrefix...) when tb's cleanups run.
func Postgres(tb testing.TB) PG {
	tb.Helper()
	srv, err := getServer(tb)
	if err != nil {
		tb.Fatalf("testdb: no PostgreSQL available: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var pg PG
	for attempt := 0; ; attempt++ {
		id := randomHex(4)
		pg = PG{Database: dbNamePrefix + id, RolePrefix: rolePrefixHead + id}
		_, err = srv.admin.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(pg.Database)+" TEMPLATE template0 ENCODING 'UTF8'")
		if err == nil {
			break
		}
		if attempt < 2 && strings.Contains(err.Error(), "already exists") {
			continue
		}
		tb.Fatalf("testdb: create database on %s: %v", srv.source, err)
	}
	comment := fmt.Sprintf("%s owner=%s pid=%d created=%d", commentTag, processNamespace(), os.Getpid(), time.Now().Unix())
	if _, err := srv.admin.ExecContext(ctx, "COMMENT ON DATABASE "+quoteIdent(pg.Database)+" IS "+quoteLiteral(comment)); err != nil {
		tb.Logf("testdb: comment on database %s: %v", pg.Database, err)
	}

	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := dropDatabaseAndRoles(ctx, srv.admin, pg.Database, pg.RolePrefix); err != nil {
			tb.Errorf("testdb: cleanup of %s: %v", pg.Database, err)
		}
	})

	u := *srv.adminURL
	pg.AdminDSN = u.String()
	u.Path = "/" + pg.Database
	u.RawPath = ""
	pg.DSN = u.String()
	return pg
}

func dropDatabaseAndRoles(ctx context.Context, admin *sql.DB, database, rolePrefix string) error {
	var errs []error
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(database)+" WITH (FORCE)"); err != nil {
		errs = append(errs, fmt.Errorf("drop database: %w", err))
	}
	rows, err := admin.QueryContext(ctx, "SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname", rolePrefix)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list roles: %w", err))...)
	}
	var roles []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			_ = rows.Close()
			return errors.Join(append(errs, err)...)
		}
		roles = append(roles, r)
	}
	if err := rows.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := rows.Err(); err != nil {
		errs = append(errs, err)
	}
	if len(roles) > 0 {
		quoted := make([]string, len(roles))
		for i, r := range roles {
			quoted[i] = quoteIdent(r)
		}
		// One statement, so roles that are members of each other go together.
		if _, err := admin.ExecContext(ctx, "DROP ROLE IF EXISTS "+strings.Join(quoted, ", ")); err != nil {
			errs = append(errs, fmt.Errorf("drop roles %s: %w", strings.Join(roles, ", "), err))
		}
	}
	return errors.Join(errs...)
}

// getServer finds (once per process) the server to use.
func getServer(tb testing.TB) (*server, error) {
	serverMu.Lock()
	defer serverMu.Unlock()
	if serverCur != nil || serverErr != nil {
		return serverCur, serverErr
	}
	serverCur, serverErr = findServer(tb)
	if serverErr == nil {
		tb.Logf("testdb: using %s", serverCur.source)
	}
	return serverCur, serverErr
}

func findServer(tb testing.TB) (*server, error) {
	// 1. Explicit configuration.
	if raw := os.Getenv(envDatabaseURL); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return nil, fmt.Errorf("%s must be a postgres:// URL (got %q)", envDatabaseURL, redact(raw))
		}
		srv, err := openAdmin(u, envDatabaseURL+" ("+redact(raw)+")", 10*time.Second)
		if err != nil {
			return nil, fmt.Errorf("%s is set but unusable: %w", envDatabaseURL, err)
		}
		sweepStale(srv)
		return srv, nil
	}

	// 2. A server on localhost.
	var probeErrs []string
	port := os.Getenv(envLocalPort)
	if port == "" {
		port = "5432"
	}
	if port != "off" {
		if _, err := strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("%s must be a port number or \"off\" (got %q)", envLocalPort, port)
		}
		for _, user := range []string{"postgres", "root"} {
			u := &url.URL{
				Scheme:   "postgres",
				User:     url.User(user),
				Host:     "localhost:" + port,
				Path:     "/postgres",
				RawQuery: "sslmode=disable",
			}
			srv, err := openAdmin(u, "server on localhost:"+port+" as "+user, 5*time.Second)
			if err == nil {
				sweepStale(srv)
				return srv, nil
			}
			probeErrs = append(probeErrs, fmt.Sprintf("localhost:%s as %s: %v", port, user, err))
			if isConnRefused(err) {
				break // nothing listening; no point trying another user
			}
		}
	}

	// 3. A throwaway cluster of our own.
	u, err := startCluster(tb)
	if err != nil {
		probeErrs = append(probeErrs, "throwaway cluster: "+err.Error())
		return nil, fmt.Errorf("%s\n  install PostgreSQL (apt-get install postgresql), start a server on localhost:5432, or set %s",
			strings.Join(probeErrs, "\n  "), envDatabaseURL)
	}
	if len(probeErrs) > 0 {
		tb.Logf("testdb: %s", strings.Join(probeErrs, "; "))
	}
	srv, err := openAdmin(u, "throwaway cluster at "+u.Host, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("throwaway cluster started but unusable: %w", err)
	}
	return srv, nil
}

// openAdmin connects to u and checks that the user may create databases and roles.
func openAdmin(u *url.URL, source string, timeout time.Duration) (*server, error) {
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(30 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var ok bool
	err = db.QueryRowContext(ctx,
		`SELECT rolsuper OR (rolcreatedb AND rolcreaterole) FROM pg_roles WHERE rolname = current_user`).Scan(&ok)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if !ok {
		_ = db.Close()
		return nil, errors.New("user is neither superuser nor CREATEDB+CREATEROLE")
	}
	return &server{adminURL: u, admin: db, source: source}, nil
}

// sweepStale drops databases (and their roles) left behind on this host by
// test processes that no longer exist, e.g. ones killed by go test -timeout.
func sweepStale(srv *server) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := srv.admin.QueryContext(ctx, `
		SELECT d.datname, shobj_description(d.oid, 'pg_database')
		FROM pg_database d
		WHERE starts_with(d.datname, $1) AND shobj_description(d.oid, 'pg_database') LIKE $2`,
		dbNamePrefix, commentTag+" %")
	if err != nil {
		return
	}
	type stale struct{ db, prefix string }
	var found []stale
	ns := processNamespace()
	for rows.Next() {
		var name, comment string
		if rows.Scan(&name, &comment) != nil {
			continue
		}
		var owner string
		var pid int
		var created int64
		if _, err := fmt.Sscanf(comment, commentTag+" owner=%s pid=%d created=%d", &owner, &pid, &created); err != nil {
			continue
		}
		// Only databases created in our own PID namespace on this host can be
		// judged by pid; anything else (other machines, other containers
		// sharing the server) is left alone.
		if strings.HasPrefix(ns, "unknown") || owner != ns || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		found = append(found, stale{name, rolePrefixHead + strings.TrimPrefix(name, dbNamePrefix)})
	}
	_ = rows.Close()
	for _, s := range found {
		_ = dropDatabaseAndRoles(ctx, srv.admin, s.db, s.prefix)
	}
}

func isConnRefused(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection refused")
}

// processNamespace identifies "this host and PID namespace", so that pids
// recorded in database comments are only compared within the same namespace.
func processNamespace() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "unknown"
	}
	h = strings.ReplaceAll(h, " ", "_")
	ns, err := os.Readlink("/proc/self/ns/pid") // e.g. "pid:[4026531836]"
	if err != nil {
		return "unknown@" + h
	}
	return h + "@" + strings.ReplaceAll(ns, " ", "_")
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// redact hides the password in a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	return u.Redacted()
}
