package app

import (
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/testdb"
)

// TestCLIRestore covers the restore command's input and the SQLite restore from a file; the
// PostgreSQL restore from pgBackRest is tenants.TestRestoreDrill.
func TestCLIRestore(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CITYOPS_DATA_DIR", dir)
	t.Setenv("CITYOPS_LOG_LEVEL", "error")
	t.Setenv("CITYOPS_DATABASE_URL", "")
	t.Setenv("LC_ALL", "en_US.UTF-8")
	for _, args := range [][]string{
		{"migrate"},
		{"tenants", "create", "--slug", "chuxiong-zhou", "--name-zh", "楚雄州", "--kind", "prefecture", "--admin-code", "532300"},
		{"tenants", "create", "--slug", "wuding", "--name-zh", "武定县", "--admin-code", "532329", "--parent", "chuxiong-zhou"},
	} {
		if out, errOut, code := runCLI(t, "", args...); code != 0 {
			t.Fatalf("%v: %s %s", args, out, errOut)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tenants", "restore", "nosuch", "--to", "2026-01-01 10:00:00"}, "nosuch"},
		{[]string{"tenants", "restore", "wuding", "--to", "yesterday"}, `"yesterday" is not a time`},
		{[]string{"tenants", "restore", "wuding", "--to", "2026-01-01T10:00:00+08:00"}, "runs on SQLite"},
		{[]string{"tenants", "restore", "wuding", "--from", filepath.Join(dir, "nosuch.db")}, "cannot be read"},
		{[]string{"tenants", "restore", "wuding", "--from", filepath.Join(dir, "tenants", "t_532300.db")}, "is not a database file of tenant wuding"},
	} {
		out, errOut, code := runCLI(t, "", c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: %d %s %s; want an error saying %q", c.args, code, out, errOut, c.want)
		}
	}
	// A file-level copy of wuding's file, put back.
	live := filepath.Join(dir, "tenants", "t_532329.db")
	backup := filepath.Join(t.TempDir(), "t_532329.db")
	in, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(backup)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	in.Close()
	out.Close()
	stdout, errOut, code := runCLI(t, "", "tenants", "restore", "wuding", "--from", backup)
	if code != 0 || !strings.Contains(stdout, "is restored from") {
		t.Fatalf("restore --from: %d %s %s", code, stdout, errOut)
	}
	stdout, _, _ = runCLI(t, "", "tenants", "list")
	if !strings.Contains(stdout, "active") || strings.Contains(stdout, "suspended") {
		t.Errorf("after the restore: %s", stdout)
	}
	if _, err := parseRestoreTime("2026-12-07 15:04:05"); err != nil {
		t.Error(err)
	}
	if got, _ := parseRestoreTime("2026-12-07 15:04:05"); !got.Equal(time.Date(2026, 12, 7, 7, 4, 5, 0, time.UTC)) {
		t.Errorf("China time: got %v", got.UTC())
	}
}

// TestCLIRestorePostgres runs `cityops tenants restore` as an operator would, against a cluster
// that archives to pgBackRest: side first, then in place, from the repository given by path.
func TestCLIRestorePostgres(t *testing.T) {
	arch := testdb.ArchivedCluster(t)
	t.Setenv("CITYOPS_DATA_DIR", t.TempDir())
	t.Setenv("CITYOPS_LOG_LEVEL", "error")
	t.Setenv("CITYOPS_DATABASE_URL", arch.DSN)
	t.Setenv("LC_ALL", "en_US.UTF-8")
	for _, args := range [][]string{
		{"migrate"},
		{"tenants", "create", "--slug", "chuxiong-zhou", "--name-zh", "楚雄州", "--kind", "prefecture", "--admin-code", "532300"},
		{"tenants", "create", "--slug", "wuding", "--name-zh", "武定县", "--admin-code", "532329", "--parent", "chuxiong-zhou"},
	} {
		if out, errOut, code := runCLI(t, "", args...); code != 0 {
			t.Fatalf("%v: %s %s", args, out, errOut)
		}
	}
	db, err := sql.Open("pgx", arch.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	exec("INSERT INTO t_532329.settings (key, value, updated_at) VALUES ('k.before', 'x', now())")
	arch.PgBackRest(t, "backup", "--type=full")
	time.Sleep(1100 * time.Millisecond)
	to := time.Now()
	time.Sleep(200 * time.Millisecond)
	exec("INSERT INTO t_532329.settings (key, value, updated_at) VALUES ('k.after', 'x', now()), ('k.after2', 'x', now())")
	exec("DELETE FROM t_532329.settings WHERE key = 'k.before'")

	common := []string{"--to", to.Format(time.RFC3339Nano), "--pgbackrest-config", arch.Config, "--stanza", arch.Stanza,
		"--from-backup-dir", arch.RepoPath, "--work-dir", arch.Dir, "--pg-bindir", arch.BinDir}
	if arch.OSUser != "" {
		common = append(common, "--os-user", arch.OSUser)
	}
	out, errOut, code := runCLI(t, "", append([]string{"tenants", "restore", "wuding"}, common...)...)
	if code != 0 || !strings.Contains(out, "read-only schema t_532329_at_") || !strings.Contains(out, "settings  4") {
		t.Fatalf("restore --into side: %d %s %s", code, out, errOut)
	}
	t.Log(out)
	out, errOut, code = runCLI(t, "", append([]string{"tenants", "restore", "wuding", "--into", "in-place"}, common...)...)
	if code != 0 || !strings.Contains(out, "restored in place") {
		t.Fatalf("restore --into in-place: %d %s %s", code, out, errOut)
	}
	t.Log(out)
	var keys string
	if err := db.QueryRow("SELECT string_agg(key, ',' ORDER BY key) FROM t_532329.settings WHERE key LIKE 'k.%'").Scan(&keys); err != nil || keys != "k.before" {
		t.Errorf("after the restore: %q %v, want k.before", keys, err)
	}
	_, errOut, code = runCLI(t, "", append([]string{"tenants", "restore", "chuxiong-zhou", "--into", "in-place"}, common...)...)
	if code == 0 || !strings.Contains(errOut, "--prefecture-alone") {
		t.Errorf("prefecture in place: %d %s", code, errOut)
	}
}
