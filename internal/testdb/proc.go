package testdb

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// runAs is the OS identity helper processes (postgres, pgbouncer) run as.
// A nil credential means "as ourselves".
type runAs struct {
	cred *syscall.Credential
	name string
}

// helperUser picks who runs postgres and pgbouncer. Both refuse to run as
// root, so as root we switch to the "postgres" user (created by Debian's
// postgresql-common and pgbouncer packages) or, failing that, "nobody".
func helperUser() (runAs, error) {
	if os.Geteuid() != 0 {
		return runAs{name: "current user"}, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		return runAs{
			cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}},
			name: name,
		}, nil
	}
	return runAs{}, errors.New(`running as root and neither a "postgres" nor a "nobody" user exists (postgres and pgbouncer refuse to run as root)`)
}

// chown gives dir (recursively) to the helper user, if we are switching users.
func (r runAs) chown(dir string) error {
	if r.cred == nil {
		return nil
	}
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(r.cred.Uid), int(r.cred.Gid))
	})
}

// apply sets the credential on cmd and detaches it from our process group,
// so a Ctrl-C aimed at go test does not kill it before we clean up.
func (r runAs) apply(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = r.cred
	cmd.SysProcAttr.Setpgid = true
	if r.cred != nil {
		// Our HOME (/root) is unreadable for the helper user.
		env := cmd.Env[:0:0]
		for _, kv := range cmd.Env {
			if !strings.HasPrefix(kv, "HOME=") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env, "HOME=/")
	}
}

// makeTempDir creates a private temporary directory that the helper user can
// reach: if TMPDIR lies under a directory others cannot traverse (e.g.
// /root/...), /tmp is used instead.
func makeTempDir(r runAs, pattern string) (string, error) {
	base := os.TempDir()
	if r.cred != nil && !traversableByOthers(base) {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, pattern)
	if err != nil {
		return "", err
	}
	if err := r.chown(dir); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("chown %s to %s: %w", dir, r.name, err)
	}
	return dir, nil
}

func traversableByOthers(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// helperEnv is the environment for helper processes: ours minus libpq
// variables that could redirect them.
func helperEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || k == "LC_ALL" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
