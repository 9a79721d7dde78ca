package testdb

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Archived is a throwaway PostgreSQL cluster of a test's own that archives its WAL to a
// pgBackRest repository in the same temporary directory: what a point-in-time restore needs.
type Archived struct {
	// DSN connects as the superuser "postgres" to the database "cityops" of the cluster.
	DSN string
	// Config is the pgbackrest.conf of the stanza Stanza, whose repository is RepoPath.
	Config, Stanza, RepoPath string
	// OSUser is the OS user the cluster and pgBackRest run as ("" when not switching users).
	OSUser string
	// BinDir holds the cluster's PostgreSQL binaries.
	BinDir string
	// Dir is the temporary directory the cluster, the repository and the logs live in.
	Dir string

	who runAs
}

// PgBackRest returns the pgbackrest binary, or "" if none is installed.
func PgBackRest() string {
	if p, err := exec.LookPath("pgbackrest"); err == nil {
		return p
	}
	if isExecutable("/usr/bin/pgbackrest") {
		return "/usr/bin/pgbackrest"
	}
	return ""
}

// RequirePgBackRest skips tb when pgbackrest is not installed, or fails it when CI is set (the
// test command installs it: scripts/test.sh).
func RequirePgBackRest(tb testing.TB) string {
	tb.Helper()
	bin := PgBackRest()
	if bin == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("pgbackrest is not installed (apt-get install pgbackrest; scripts/test.sh installs it)")
		}
		tb.Skip("pgbackrest is not installed (apt-get install pgbackrest); skipping the backup tests")
	}
	return bin
}

// ArchivedCluster starts a cluster of tb's own with WAL archiving to a new pgBackRest stanza,
// creates the database "cityops" and returns it. It is stopped and removed when tb's cleanups
// run (or, if the test process dies, by a watcher, as for the shared throwaway cluster).
func ArchivedCluster(tb testing.TB) *Archived {
	tb.Helper()
	bin := RequirePgBackRest(tb)
	bindir, err := findPGBinDir()
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	who, err := helperUser()
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	dir, err := makeTempDir(who, "cityops-pitr-")
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	data := filepath.Join(dir, "data")
	pgctl := filepath.Join(bindir, "pg_ctl")
	watcher := exec.Command("/bin/sh", "-c", watcherScript, "cityops-testdb-watcher", pgctl, data, dir)
	watcher.Env = helperEnv()
	who.apply(watcher)
	pipe, err := watcher.StdinPipe()
	if err != nil {
		_ = os.RemoveAll(dir)
		tb.Fatalf("testdb: %v", err)
	}
	if err := watcher.Start(); err != nil {
		_ = os.RemoveAll(dir)
		tb.Fatalf("testdb: start cleanup watcher: %v", err)
	}
	c := &cluster{dir: dir, watcher: watcher, watchPipe: pipe}
	tb.Cleanup(c.stop)

	a := &Archived{Stanza: "cityops", Dir: dir, BinDir: bindir, RepoPath: filepath.Join(dir, "repo"),
		Config: filepath.Join(dir, "pgbackrest.conf"), who: who}
	if who.cred != nil {
		a.OSUser = who.name
	}
	start := time.Now()
	a.run(tb, filepath.Join(bindir, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	port, err := freePort()
	if err != nil {
		tb.Fatal(err)
	}
	conf := fmt.Sprintf(`[global]
repo1-path=%s
repo1-retention-full=2
log-path=%s
lock-path=%s
log-level-console=warn
log-level-file=info
start-fast=y
archive-async=n

[cityops]
pg1-path=%s
pg1-port=%d
pg1-socket-path=%s
pg1-user=postgres
`, a.RepoPath, filepath.Join(dir, "log"), filepath.Join(dir, "lock"), data, port, dir)
	if err := os.WriteFile(a.Config, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	for _, d := range []string{a.RepoPath, filepath.Join(dir, "log"), filepath.Join(dir, "lock")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			tb.Fatal(err)
		}
	}
	if err := who.chown(dir); err != nil {
		tb.Fatal(err)
	}
	archive := bin + " --config=" + a.Config + " --stanza=" + a.Stanza + " archive-push %p"
	logFile := filepath.Join(dir, "postgres.log")
	opts := fmt.Sprintf("-p %d -k '%s' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
		"-c max_connections=100 -c shared_buffers=64MB -c wal_level=replica -c archive_mode=on "+
		"-c archive_timeout=60 -c max_wal_size=1GB", port, dir)
	// archive_command holds spaces, so it goes into the configuration file rather than -o.
	if err := appendFile(filepath.Join(data, "postgresql.conf"), "\narchive_command = '"+archive+"'\n"); err != nil {
		tb.Fatal(err)
	}
	pgCtl := exec.Command(pgctl, "-D", data, "-l", logFile, "-w", "-t", "60", "-o", opts, "start")
	pgCtl.Env = helperEnv()
	who.apply(pgCtl)
	if out, err := pgCtl.CombinedOutput(); err != nil {
		logText, _ := os.ReadFile(logFile)
		tb.Fatalf("testdb: pg_ctl start (as %s): %v\n%s\n%s", who.name, err, out, logText)
	}
	a.PgBackRest(tb, "stanza-create")
	u := &url.URL{Scheme: "postgres", User: url.User("postgres"), Host: "127.0.0.1:" + strconv.Itoa(port),
		Path: "/postgres", RawQuery: "sslmode=disable"}
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE cityops"); err != nil {
		tb.Fatal(err)
	}
	u.Path = "/cityops"
	a.DSN = u.String()
	tb.Logf("testdb: archived cluster in %s on 127.0.0.1:%d (as %s, %v)", dir, port, who.name, time.Since(start).Round(time.Millisecond))
	return a
}

// PgBackRest runs pgbackrest with the cluster's configuration and stanza (as the cluster's OS
// user) and returns its output; it fails tb if pgbackrest fails.
func (a *Archived) PgBackRest(tb testing.TB, args ...string) string {
	tb.Helper()
	return a.run(tb, PgBackRest(), append([]string{"--config=" + a.Config, "--stanza=" + a.Stanza}, args...)...)
}

func (a *Archived) run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = helperEnv()
	cmd.Dir = "/"
	a.who.apply(cmd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tb.Fatalf("testdb: %s %v (as %s): %v\n%s", filepath.Base(name), args, a.who.name, err, out.String())
	}
	return out.String()
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
