package testdb

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cluster is a throwaway PostgreSQL cluster owned by this test process.
type cluster struct {
	dir       string
	watcher   *exec.Cmd
	watchPipe io.WriteCloser
}

// clusterCur is guarded by serverMu.
var clusterCur *cluster

// watcherScript runs as the cluster's OS user. It blocks until its stdin
// reaches EOF, which happens when we close the pipe (stopCluster) or when the
// test process exits for any reason, and then stops the server and deletes
// the directory.
const watcherScript = `while read -r _; do :; done
"$1" -D "$2" -m immediate -w -t 60 stop >/dev/null 2>&1
rm -rf "$3"`

// startCluster creates and starts the shared throwaway cluster and returns an
// admin URL for it. Callers hold serverMu.
func startCluster(tb testing.TB) (*url.URL, error) {
	c, u, err := newCluster(tb)
	if err != nil {
		return nil, err
	}
	clusterCur = c
	return u, nil
}

// Cluster starts a throwaway PostgreSQL cluster of tb's own (a second server beside the one
// Postgres uses, as a deployment with several clusters has), creates the database "cityops" in
// it and returns a URL that connects to it as the superuser "postgres". The cluster is stopped and
// removed when tb's cleanups run (or, if the test process dies, by its watcher).
//
// Test clusters run with wal_level=logical (a move between clusters copies a schema by logical
// replication); settings are extra server settings ("name=value", e.g. "wal_level=replica").
func Cluster(tb testing.TB, settings ...string) string {
	tb.Helper()
	c, u, err := newCluster(tb, settings...)
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	tb.Cleanup(c.stop)
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE cityops"); err != nil {
		tb.Fatalf("testdb: create database in the cluster: %v", err)
	}
	u.Path = "/cityops"
	return u.String()
}

// newCluster creates and starts a throwaway cluster and returns it with an
// admin URL for it.
func newCluster(tb testing.TB, settings ...string) (*cluster, *url.URL, error) {
	bindir, err := findPGBinDir()
	if err != nil {
		return nil, nil, err
	}
	who, err := helperUser()
	if err != nil {
		return nil, nil, err
	}
	dir, err := makeTempDir(who, "cityops-pg-")
	if err != nil {
		return nil, nil, err
	}
	if len(dir) > 80 {
		// Unix socket paths are limited to ~107 bytes.
		_ = os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("temporary directory path %q is too long for a unix socket; set TMPDIR=/tmp", dir)
	}
	data := filepath.Join(dir, "data")
	pgctl := filepath.Join(bindir, "pg_ctl")

	watcher := exec.Command("/bin/sh", "-c", watcherScript, "cityops-testdb-watcher", pgctl, data, dir)
	watcher.Env = helperEnv()
	who.apply(watcher)
	pipe, err := watcher.StdinPipe()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	if err := watcher.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("start cleanup watcher: %w", err)
	}
	c := &cluster{dir: dir, watcher: watcher, watchPipe: pipe}
	fail := func(err error) (*cluster, *url.URL, error) {
		c.stop()
		return nil, nil, err
	}

	start := time.Now()
	initdb := exec.Command(filepath.Join(bindir, "initdb"),
		"-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.Env = helperEnv()
	who.apply(initdb)
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb (as %s): %v\n%s", who.name, err, out))
	}

	logFile := filepath.Join(dir, "postgres.log")
	var port int
	for attempt := 0; ; attempt++ {
		if port, err = freePort(); err != nil {
			return fail(err)
		}
		opts := fmt.Sprintf("-p %d -k '%s' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
			"-c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB -c wal_level=logical", port, dir)
		for _, kv := range settings {
			opts += " -c '" + strings.ReplaceAll(kv, "'", "") + "'"
		}
		pgCtl := exec.Command(pgctl, "-D", data, "-l", logFile, "-w", "-t", "60", "-o", opts, "start")
		pgCtl.Env = helperEnv()
		who.apply(pgCtl)
		out, err := pgCtl.CombinedOutput()
		if err == nil {
			break
		}
		logText, _ := os.ReadFile(logFile)
		if attempt < 3 && bytes.Contains(logText, []byte("could not bind")) {
			continue // someone took the port in between; try another
		}
		return fail(fmt.Errorf("pg_ctl start (as %s): %v\n%s\n%s", who.name, err, out, logText))
	}

	tb.Logf("testdb: started throwaway cluster in %s on 127.0.0.1:%d (as %s, %s, %v)",
		dir, port, who.name, bindir, time.Since(start).Round(time.Millisecond))
	return c, &url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     "127.0.0.1:" + strconv.Itoa(port),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}, nil
}

// stop makes the watcher stop the server and remove the directory, and
// waits for it to finish.
func (c *cluster) stop() {
	_ = c.watchPipe.Close()
	done := make(chan struct{})
	go func() { _ = c.watcher.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		fmt.Fprintf(os.Stderr, "testdb: timed out stopping throwaway cluster in %s\n", c.dir)
	}
}

// stopCluster stops the throwaway cluster, if any. Callers hold serverMu.
func stopCluster() {
	if clusterCur != nil {
		clusterCur.stop()
		clusterCur = nil
	}
}

// findPGBinDir locates a directory with initdb, pg_ctl and postgres.
func findPGBinDir() (string, error) {
	var candidates []string
	if d := os.Getenv(envPGBinDir); d != "" {
		candidates = append(candidates, d)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real // e.g. /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	// Debian/Ubuntu keep the server binaries off PATH, one directory per major version.
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { return pgMajor(versions[i]) > pgMajor(versions[j]) })
	candidates = append(candidates, versions...)
	candidates = append(candidates, "/usr/local/pgsql/bin")

	for _, d := range candidates {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) && isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found on PATH, in $" + envPGBinDir +
		" or /usr/lib/postgresql/*/bin")
}

func pgMajor(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
