package pgbackrest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Repo is a pgBackRest stanza and where its repository is.
type Repo struct {
	// Bin is the pgbackrest binary; empty means "pgbackrest" on PATH.
	Bin string
	// Config is pgbackrest.conf (--config); empty is pgBackRest's default
	// (/etc/pgbackrest/pgbackrest.conf).
	Config string
	// Stanza names the cluster in the repository (--stanza). Required.
	Stanza string
	// RepoPath overrides repo1-path (a repository on local disk, e.g. a copy of the backups);
	// empty keeps the configuration's repository (local disk or S3).
	RepoPath string
	// OSUser runs pgbackrest and PostgreSQL; empty runs them as the current user, which must not
	// be root.
	OSUser string
}

// Backup is one backup set of the stanza.
type Backup struct {
	Label string    `json:"label"`
	Type  string    `json:"type"` // full, diff or incr
	Start time.Time `json:"start"`
	Stop  time.Time `json:"stop"`
	// PGVersion is the cluster's major version ("15").
	PGVersion string `json:"pg_version"`
}

// ErrTargetNotReached says that recovery ran out of archived WAL before the target time: the WAL
// that holds it has not been archived yet.
var ErrTargetNotReached = errors.New("recovery ended before the target time was reached")

func (r Repo) bin() string {
	if r.Bin != "" {
		return r.Bin
	}
	return "pgbackrest"
}

func (r Repo) args(command string, extra ...string) []string {
	var a []string
	if r.Config != "" {
		a = append(a, "--config="+r.Config)
	}
	a = append(a, "--stanza="+r.Stanza)
	if r.RepoPath != "" {
		a = append(a, "--repo1-path="+r.RepoPath)
	}
	a = append(a, extra...)
	return append(a, command)
}

// Check reports what is wrong with r before anything runs.
func (r Repo) Check() error {
	if r.Stanza == "" || strings.HasPrefix(r.Stanza, "-") {
		return errors.New("pgbackrest: a stanza is required")
	}
	if _, err := exec.LookPath(r.bin()); err != nil {
		return fmt.Errorf("pgbackrest not found (apt-get install pgbackrest): %w", err)
	}
	if _, err := r.who(); err != nil {
		return err
	}
	return nil
}

// Backups lists the stanza's backup sets, oldest first.
func (r Repo) Backups(ctx context.Context) ([]Backup, error) {
	who, err := r.who()
	if err != nil {
		return nil, err
	}
	out, err := run(ctx, who, nil, r.bin(), r.args("info", "--output=json", "--log-level-console=error")...)
	if err != nil {
		return nil, err
	}
	var info []struct {
		Name   string `json:"name"`
		Status struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
		DB []struct {
			ID      int    `json:"id"`
			Version string `json:"version"`
		} `json:"db"`
		Backup []struct {
			Label     string `json:"label"`
			Type      string `json:"type"`
			Timestamp struct {
				Start int64 `json:"start"`
				Stop  int64 `json:"stop"`
			} `json:"timestamp"`
			Database struct {
				ID int `json:"id"`
			} `json:"database"`
			Error *bool `json:"error"`
		} `json:"backup"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return nil, fmt.Errorf("pgbackrest info: %w", err)
	}
	var bs []Backup
	for _, st := range info {
		if st.Name != r.Stanza {
			continue
		}
		if st.Status.Code != 0 && st.Status.Code != 2 { // 2: no backups yet
			return nil, fmt.Errorf("pgbackrest info: stanza %s: %s", st.Name, st.Status.Message)
		}
		versions := map[int]string{}
		for _, d := range st.DB {
			versions[d.ID] = d.Version
		}
		for _, b := range st.Backup {
			if b.Error != nil && *b.Error {
				continue
			}
			bs = append(bs, Backup{Label: b.Label, Type: b.Type, Start: time.Unix(b.Timestamp.Start, 0).UTC(),
				Stop: time.Unix(b.Timestamp.Stop, 0).UTC(), PGVersion: versions[b.Database.ID]})
		}
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].Stop.Before(bs[j].Stop) })
	return bs, nil
}

// RestoreOptions say what to restore and where.
type RestoreOptions struct {
	// Set is the backup set's label (Backups); To the time to recover to.
	Set string
	To  time.Time
	// WorkDir is the parent of the temporary directory the cluster is restored into; it needs
	// room for the whole cluster. Empty is the system's temporary directory.
	WorkDir string
	// BinDir holds pg_ctl, postgres, pg_dump of the backup's major version; empty looks in
	// /usr/lib/postgresql/<version>/bin, then on PATH.
	BinDir string
	// PGVersion is the backup's major version, to find BinDir.
	PGVersion string
	// Database, if set, restores only that database's files (--db-include); the others are left
	// empty (they are not needed to read one schema).
	Database string
}

// Instance is a throwaway PostgreSQL instance a backup was restored into. It listens on a unix
// socket in its own directory only; Close stops it and removes the directory.
type Instance struct {
	Dir    string // the temporary directory: data, socket, log
	Port   int
	BinDir string
	who    *syscall.Credential
	data   string
	log    string
}

// Restore restores backup set o.Set to time o.To into a new temporary directory and starts it
// there, promoted at the target, and returns the running instance. On failure nothing is left
// behind.
func (r Repo) Restore(ctx context.Context, o RestoreOptions) (inst *Instance, err error) {
	who, err := r.who()
	if err != nil {
		return nil, err
	}
	bindir, err := findBinDir(o.BinDir, o.PGVersion)
	if err != nil {
		return nil, err
	}
	base := o.WorkDir
	if base == "" {
		base = os.TempDir()
	}
	// pg_ctl starts the server through a shell with the paths in double quotes.
	if strings.ContainsAny(base, "\"'$`\\\n") {
		return nil, fmt.Errorf("work directory %q: quotes, $, backquotes and backslashes are not allowed", base)
	}
	dir, err := os.MkdirTemp(base, "cityops-restore-")
	if err != nil {
		return nil, err
	}
	if len(dir) > 90 {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("work directory %s is too long for a unix socket path; choose a shorter one", dir)
	}
	inst = &Instance{Dir: dir, BinDir: bindir, who: who, data: filepath.Join(dir, "data"), log: filepath.Join(dir, "postgres.log")}
	defer func() {
		if err != nil {
			inst.Close()
			inst = nil
		}
	}()
	if who != nil {
		if err := os.Chown(dir, int(who.Uid), int(who.Gid)); err != nil {
			return inst, err
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return inst, err
	}
	args := []string{
		"--pg1-path=" + inst.data, "--set=" + o.Set, "--type=time",
		"--target=" + o.To.UTC().Format("2006-01-02 15:04:05.999999") + "+00",
		"--target-action=promote", "--archive-mode=off",
		"--tablespace-map-all=" + filepath.Join(dir, "tablespaces"),
		"--lock-path=" + filepath.Join(dir, "lock"), "--log-level-console=warn", "--log-level-file=off",
	}
	// The system databases are always restored; pgBackRest refuses to be asked for them.
	if o.Database != "" && o.Database != "postgres" && o.Database != "template0" && o.Database != "template1" {
		args = append(args, "--db-include="+o.Database)
	}
	if out, err := run(ctx, who, nil, r.bin(), r.args("restore", args...)...); err != nil {
		return inst, fmt.Errorf("%w\n%s", err, out)
	}
	// The live cluster's postgresql.conf and pg_hba.conf may live outside its data directory
	// (Debian keeps them in /etc/postgresql), and what a restored one says is for the live
	// server, so the instance gets its own: trust on its private socket, nothing on TCP, no
	// archiving (a promoted copy must never push WAL into the live stanza's repository), no hot
	// standby (whose parameter checks a smaller instance would fail).
	if inst.Port, err = freePort(); err != nil {
		return inst, err
	}
	files := map[string]string{
		"pg_hba.conf":   "local all all trust\n",
		"pg_ident.conf": "",
		"postgresql.conf": fmt.Sprintf("port = %d\nlisten_addresses = ''\nunix_socket_directories = '%s'\n"+
			"archive_mode = off\nhot_standby = off\nfsync = off\nmax_wal_senders = 0\nwal_level = replica\n"+
			"shared_preload_libraries = ''\nlogging_collector = off\n", inst.Port, dir),
	}
	for name, text := range files {
		p := filepath.Join(inst.data, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			return inst, err
		}
		if who != nil {
			if err := os.Chown(p, int(who.Uid), int(who.Gid)); err != nil {
				return inst, err
			}
		}
	}
	if out, err := run(ctx, who, nil, filepath.Join(bindir, "pg_ctl"), "-D", inst.data, "-l", inst.log, "-w", "-t", "600", "start"); err != nil {
		return inst, inst.startError(fmt.Errorf("start the restored instance: %w\n%s", err, out))
	}
	// With hot standby off the instance accepts connections once recovery reached the target and
	// it promoted (pg_ctl -w may return before: the server is up, still replaying WAL).
	for {
		_, err := run(ctx, who, nil, filepath.Join(bindir, "pg_isready"), "-q", "-h", dir, "-p", strconv.Itoa(inst.Port))
		if err == nil {
			return inst, nil
		}
		if _, serr := os.Stat(filepath.Join(inst.data, "postmaster.pid")); serr != nil {
			return inst, inst.startError(errors.New("the restored instance stopped during recovery"))
		}
		select {
		case <-ctx.Done():
			return inst, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// startError is err with what the server log says about it.
func (i *Instance) startError(err error) error {
	logText, _ := os.ReadFile(i.log)
	if bytes.Contains(logText, []byte("recovery ended before configured recovery target was reached")) {
		return fmt.Errorf("%w: %s", ErrTargetNotReached, tail(logText, 800))
	}
	return fmt.Errorf("%w\n%s", err, tail(logText, 2000))
}

// DSN connects to database db of the instance as role over its unix socket.
func (i *Instance) DSN(role, db string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", i.Dir, i.Port, role, db)
}

// Run runs one of the instance's PostgreSQL programs (pg_dump, pg_restore, psql) with args,
// as the instance's OS user, with env added to a clean environment.
func (i *Instance) Run(ctx context.Context, program string, env []string, args ...string) ([]byte, error) {
	return run(ctx, i.who, env, filepath.Join(i.BinDir, program), args...)
}

// Log returns the end of the instance's server log.
func (i *Instance) Log() string {
	b, _ := os.ReadFile(i.log)
	return tail(b, 2000)
}

// Close stops the instance at once and removes its directory.
func (i *Instance) Close() error {
	if _, err := os.Stat(filepath.Join(i.data, "postmaster.pid")); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_, _ = run(ctx, i.who, nil, filepath.Join(i.BinDir, "pg_ctl"), "-D", i.data, "-m", "immediate", "-w", "stop")
	}
	return os.RemoveAll(i.Dir)
}

// who is the credential of r.OSUser (nil for the current user).
func (r Repo) who() (*syscall.Credential, error) {
	if r.OSUser == "" {
		if os.Geteuid() == 0 {
			return nil, errors.New("PostgreSQL does not run as root: name the OS user that owns the repository (e.g. postgres)")
		}
		return nil, nil
	}
	u, err := user.Lookup(r.OSUser)
	if err != nil {
		return nil, fmt.Errorf("OS user %q: %w", r.OSUser, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil || uid == 0 {
		return nil, fmt.Errorf("OS user %q cannot run PostgreSQL", r.OSUser)
	}
	if uint64(os.Geteuid()) == uid {
		return nil, nil
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// run runs name with args as who, in /, with a clean environment plus env, and returns its
// combined output.
func run(ctx context.Context, who *syscall.Credential, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = "/"
	base := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C"}
	if who != nil {
		base = append(base, "HOME=/")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: who}
	} else if h := os.Getenv("HOME"); h != "" {
		base = append(base, "HOME="+h)
	}
	cmd.Env = append(base, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(redactArgs(args), " "), err, tail(out.Bytes(), 2000))
	}
	return out.Bytes(), nil
}

// redactArgs hides anything that looks like a password in arguments shown in errors.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.Contains(a, "password") || strings.Contains(a, "://") {
			a = "[redacted]"
		}
		out[i] = a
	}
	return out
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

func findBinDir(dir, version string) (string, error) {
	var candidates []string
	if dir != "" {
		candidates = append(candidates, dir)
	} else {
		if version != "" {
			candidates = append(candidates, "/usr/lib/postgresql/"+version+"/bin")
		}
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				p = real
			}
			candidates = append(candidates, filepath.Dir(p))
		}
		if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
			candidates = append(candidates, strings.TrimSpace(string(out)))
		}
	}
	for _, d := range candidates {
		ok := true
		for _, p := range []string{"pg_ctl", "postgres", "pg_dump", "pg_restore", "pg_isready"} {
			if fi, err := os.Stat(filepath.Join(d, p)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				ok = false
			}
		}
		if ok {
			return d, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL %s binaries (pg_ctl, postgres, pg_dump, pg_restore) in %v", version, candidates)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
