// Package secretstest runs a real Vault server for tests: a dev-mode server on a free loopback
// port, with transit enabled, the app policy from deploy/vault/cityops-app.hcl written, and
// AppRole ready, so that tests log in exactly as production does.
//
// The vault binary is found on PATH, in $CITYOPS_VAULT_BIN, or in the cache that
// tools/vault/build.sh fills; failing all three, that script is run (it builds Vault from the Go
// module proxy, several minutes the first time). A test that cannot get a Vault fails, saying
// what to install; it never skips.
package secretstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/tenants/secrets"
	"github.com/hashicorp/vault/api"
)

// AppPolicy is the name under which the app policy is written.
const AppPolicy = "cityops-app"

// AppRole is the name of the AppRole role whose tokens carry AppPolicy.
const AppRole = "cityops-app"

// Vault is a running dev-mode Vault server.
type Vault struct {
	Addr      string // http://127.0.0.1:<port>
	RootToken string
	UnsealKey string

	root *api.Client
	cmd  *exec.Cmd
	out  *Buffer
	exit chan struct{}
	once sync.Once
}

var unsealKeyRe = regexp.MustCompile(`Unseal Key: (\S+)`)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of a vault binary, building one if need be (once per process).
func Binary() (string, error) {
	binOnce.Do(func() { binPath, binErr = findOrBuild() })
	return binPath, binErr
}

func findOrBuild() (string, error) {
	if p := os.Getenv("CITYOPS_VAULT_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CITYOPS_VAULT_BIN=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("vault"); err == nil {
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err == nil {
		p := filepath.Join(cache, "cityops", "vault-1.21.0", "vault")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	script, err := buildScript()
	if err != nil {
		return "", err
	}
	if _, err := exec.LookPath("go"); err != nil {
		return "", errors.New("no vault binary: install HashiCorp Vault 1.21 (put `vault` on PATH), or install Go so that tools/vault/build.sh can build it")
	}
	fmt.Fprintf(os.Stderr, "secretstest: no vault binary yet; building one with %s (several minutes, once)\n", script)
	cmd := exec.Command("bash", script)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("no vault binary, and %s failed (%v): install HashiCorp Vault 1.21 and put `vault` on PATH, or fix the build (it needs Go and the Go module proxy)", script, err)
	}
	p := strings.TrimSpace(lastLine(string(out)))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s printed %q, which is not a file", script, p)
	}
	return p, nil
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// repoRoot walks up from the working directory to the root module's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && regexp.MustCompile(`(?m)^module github\.com/cityops/cityops\s*$`).Match(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("secretstest: cannot find the repository root (go.mod of github.com/cityops/cityops) above the working directory")
		}
		dir = parent
	}
}

func buildScript() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "tools", "vault", "build.sh"), nil
}

// PolicyText returns deploy/vault/cityops-app.hcl with the mounts changed to transit and kv.
func PolicyText(transit, kv string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, "deploy", "vault", "cityops-app.hcl"))
	if err != nil {
		return "", err
	}
	s := strings.ReplaceAll(string(b), `path "transit/`, `path "`+transit+`/`)
	return strings.ReplaceAll(s, `path "secret/`, `path "`+kv+`/`), nil
}

// Start starts a dev-mode Vault on a free loopback port and prepares it: transit enabled, the
// app policy written, AppRole enabled with the role AppRole. Stop it with Stop.
func Start(ctx context.Context) (*Vault, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	var last error
	for range 3 { // the free port may be taken between choosing and binding it
		v, err := start(ctx, bin)
		if err == nil {
			if err := v.setup(ctx); err != nil {
				v.Stop()
				return nil, err
			}
			return v, nil
		}
		last = err
	}
	return nil, last
}

func start(ctx context.Context, bin string) (*Vault, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	home, err := os.MkdirTemp("", "secretstest-vault-")
	if err != nil {
		return nil, err
	}
	v := &Vault{Addr: "http://127.0.0.1:" + strconv.Itoa(port), RootToken: randomHex(16), out: &Buffer{}, exit: make(chan struct{})}
	v.cmd = exec.Command(bin, "server", "-dev", "-dev-root-token-id="+v.RootToken,
		"-dev-listen-address=127.0.0.1:"+strconv.Itoa(port), "-dev-no-store-token", "-log-level=warn")
	// HOME keeps the dev server away from the user's ~/.vault-token; no VAULT_* variable leaks in.
	v.cmd.Env = append(cleanEnv(), "HOME="+home, "VAULT_ADDR="+v.Addr)
	v.cmd.Stdout, v.cmd.Stderr = v.out, v.out
	if err := startTied(v.cmd); err != nil {
		os.RemoveAll(home)
		return nil, fmt.Errorf("start vault: %w", err)
	}
	go func() {
		v.cmd.Wait()
		os.RemoveAll(home)
		close(v.exit)
	}()
	cfg := api.DefaultConfig()
	cfg.Address = v.Addr
	cfg.MaxRetries = 0
	if v.root, err = api.NewClient(cfg); err != nil {
		v.Stop()
		return nil, err
	}
	v.root.SetToken(v.RootToken)
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Ready when it answers unsealed and has printed its banner with the unseal key.
		h, err := v.root.Sys().HealthWithContext(ctx)
		if m := unsealKeyRe.FindStringSubmatch(v.out.String()); m != nil && err == nil && h.Initialized && !h.Sealed {
			v.UnsealKey = m[1]
			break
		}
		select {
		case <-v.exit:
			return nil, fmt.Errorf("vault server exited at start:\n%s", v.out.String())
		case <-ctx.Done():
			v.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			v.Stop()
			return nil, fmt.Errorf("vault server did not become ready in 30s:\n%s", v.out.String())
		}
	}
	return v, nil
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAULT_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return env
}

func (v *Vault) setup(ctx context.Context) error {
	sys := v.root.Sys()
	if err := sys.MountWithContext(ctx, "transit", &api.MountInput{Type: "transit"}); err != nil {
		return fmt.Errorf("enable transit: %w", err)
	}
	policy, err := PolicyText("transit", "secret")
	if err != nil {
		return err
	}
	if err := sys.PutPolicyWithContext(ctx, AppPolicy, policy); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	if err := sys.EnableAuthWithOptionsWithContext(ctx, "approle", &api.EnableAuthOptions{Type: "approle"}); err != nil {
		return fmt.Errorf("enable approle: %w", err)
	}
	_, err = v.root.Logical().WriteWithContext(ctx, "auth/approle/role/"+AppRole, map[string]any{
		"token_policies": AppPolicy, "token_ttl": "1h", "token_max_ttl": "4h", "secret_id_ttl": "0",
	})
	return err
}

// Stop kills the server (a dev server keeps nothing).
func (v *Vault) Stop() {
	v.once.Do(func() {
		if v.cmd.Process != nil {
			v.cmd.Process.Kill()
		}
		<-v.exit
	})
}

// Logs returns what the server printed.
func (v *Vault) Logs() string { return v.out.String() }

// Must starts a Vault for one test and stops it when the test ends. It fails the test, saying
// what to install, when no vault binary can be had.
func Must(tb testing.TB) *Vault {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	v, err := Start(ctx)
	if err != nil {
		tb.Fatalf("secretstest: %v", err)
	}
	tb.Cleanup(v.Stop)
	return v
}

// Root returns a client holding the root token.
func (v *Vault) Root() *api.Client { return v.root }

// MustWrite writes data to path as root.
func (v *Vault) MustWrite(tb testing.TB, path string, data map[string]any) *api.Secret {
	tb.Helper()
	s, err := v.root.Logical().Write(path, data)
	if err != nil {
		tb.Fatalf("vault write %s: %v", path, err)
	}
	return s
}

// MustAppRole creates (or updates) an AppRole role with the given policies and token lifetimes
// and returns its role id.
func (v *Vault) MustAppRole(tb testing.TB, role string, policies []string, ttl, maxTTL time.Duration) string {
	tb.Helper()
	v.MustWrite(tb, "auth/approle/role/"+role, map[string]any{
		"token_policies": strings.Join(policies, ","), "token_ttl": seconds(ttl), "token_max_ttl": seconds(maxTTL), "secret_id_ttl": "0",
	})
	s, err := v.root.Logical().Read("auth/approle/role/" + role + "/role-id")
	if err != nil || s == nil {
		tb.Fatalf("read role id of %s: %v", role, err)
	}
	return s.Data["role_id"].(string)
}

// MustWrappedSecretID returns a fresh secret id of role, response-wrapped as a trusted
// orchestrator hands it out (single use, valid for five minutes).
func (v *Vault) MustWrappedSecretID(tb testing.TB, role string) string {
	tb.Helper()
	c, err := v.root.Clone()
	if err != nil {
		tb.Fatal(err)
	}
	c.SetToken(v.RootToken)
	c.SetWrappingLookupFunc(func(string, string) string { return "5m" })
	s, err := c.Logical().Write("auth/approle/role/"+role+"/secret-id", nil)
	if err != nil || s == nil || s.WrapInfo == nil {
		tb.Fatalf("wrapped secret id of %s: %v", role, err)
	}
	return s.WrapInfo.Token
}

// TokenOptions shape a token made by MustToken.
type TokenOptions struct {
	Policies []string
	TTL      time.Duration // 0: the default (32 days in dev mode)
	MaxTTL   time.Duration // explicit max TTL; 0: none
	// NotRenewable makes a token that cannot be renewed.
	NotRenewable bool
}

// MustToken creates a token (without the root policy).
func (v *Vault) MustToken(tb testing.TB, o TokenOptions) string {
	tb.Helper()
	renewable := !o.NotRenewable
	req := &api.TokenCreateRequest{Policies: o.Policies, Renewable: &renewable}
	if o.TTL > 0 {
		req.TTL = seconds(o.TTL)
	}
	if o.MaxTTL > 0 {
		req.ExplicitMaxTTL = seconds(o.MaxTTL)
	}
	s, err := v.root.Auth().Token().Create(req)
	if err != nil {
		tb.Fatalf("create token: %v", err)
	}
	return s.Auth.ClientToken
}

// MustPolicy writes a policy.
func (v *Vault) MustPolicy(tb testing.TB, name, hcl string) {
	tb.Helper()
	if err := v.root.Sys().PutPolicy(name, hcl); err != nil {
		tb.Fatalf("write policy %s: %v", name, err)
	}
}

// AppRoleConfig returns the configuration production uses: AppRole login with the app policy
// and a fresh wrapped secret id.
func (v *Vault) AppRoleConfig(tb testing.TB) secrets.Config {
	tb.Helper()
	role := v.MustAppRole(tb, AppRole, []string{AppPolicy}, time.Hour, 4*time.Hour)
	return secrets.Config{Backend: secrets.BackendVault, VaultAddr: v.Addr, VaultRoleID: role, VaultWrappedSecretID: v.MustWrappedSecretID(tb, AppRole)}
}

// Seal seals the server; Unseal opens it again with the dev unseal key. Storage survives both.
func (v *Vault) Seal(tb testing.TB) {
	tb.Helper()
	if err := v.root.Sys().Seal(); err != nil {
		tb.Fatalf("seal: %v", err)
	}
}

// Unseal unseals the server.
func (v *Vault) Unseal(tb testing.TB) {
	tb.Helper()
	if v.UnsealKey == "" {
		tb.Fatal("the dev server printed no unseal key")
	}
	s, err := v.root.Sys().Unseal(v.UnsealKey)
	if err != nil || s.Sealed {
		tb.Fatalf("unseal: %v", err)
	}
}

func seconds(d time.Duration) string { return strconv.Itoa(int(d.Seconds())) + "s" }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Buffer is a bytes.Buffer safe for concurrent writers (a server's output, a logger), capped at
// 1 MiB so that a runaway writer cannot fill memory.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

// String returns what was written.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
