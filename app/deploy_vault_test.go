package app

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/tenants/secrets"
	"github.com/cityops/cityops/tenants/secrets/secretstest"
	"github.com/google/uuid"
	"github.com/hashicorp/vault/api"
)

// TestDeployedReplicaVaultLogin is a replica as deploy/terraform lays it out, against a real
// Vault: the replica's environment file and its Vault Agent's configuration are rendered from
// deploy/terraform/templates (by terraform's own templatefile when terraform is installed), the
// AppRole is mounted at the environment's own path and set as vault.tf sets it (reusable secret
// ids) but with tokens that live 2 s and at most 5 s, the real Vault Agent runs the rendered
// configuration, and the app reads the rendered file as it reads its environment. The secret
// store keeps encrypting and decrypting while tokens expire again and again, after the app
// restarts, and after the agent restarts.
func TestDeployedReplicaVaultLogin(t *testing.T) {
	v := secretstest.Must(t)
	bin, err := secretstest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const mount = "approle-cityops-drill"
	root := v.Root()
	if err := root.Sys().EnableAuthWithOptionsWithContext(ctx, mount, &api.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	v.MustWrite(t, "auth/"+mount+"/role/cityops-app", map[string]any{
		"token_policies": secretstest.AppPolicy, "token_ttl": "2s", "token_max_ttl": "5s",
		"secret_id_num_uses": 0, "secret_id_ttl": "1h",
	})
	rs, err := root.Logical().Read("auth/" + mount + "/role/cityops-app/role-id")
	if err != nil || rs == nil {
		t.Fatalf("role id: %v", err)
	}
	sid := v.MustWrite(t, "auth/"+mount+"/role/cityops-app/secret-id", nil)

	dir := t.TempDir()
	etc, run := filepath.Join(dir, "etc"), filepath.Join(dir, "run")
	for _, d := range []string{etc, run} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(etc, "vault-role-id"), rs.Data["role_id"].(string))
	write(filepath.Join(etc, "vault-secret-id"), sid.Data["secret_id"].(string))
	tokenFile := filepath.Join(run, "vault-token")
	agentHCL := renderTemplate(t, "vault-agent.hcl.tftpl", map[string]string{
		"vault_address": v.Addr, "approle_path": mount,
		"role_id_file": filepath.Join(etc, "vault-role-id"), "secret_id_file": filepath.Join(etc, "vault-secret-id"),
		"token_file": tokenFile, "pid_file": filepath.Join(run, "vault-agent.pid"),
	})
	write(filepath.Join(etc, "vault-agent.hcl"), agentHCL)
	envFile := renderTemplate(t, "cityops.env.tftpl", map[string]string{
		"addr": "127.0.0.1:0", "base_url": "https://cityops.example.gov.cn", "database_url": "postgres://cityops@db.internal:6432/cityops_drill",
		"role_prefix": "cityops_drill", "db_max_conns": "20", "trusted_proxies": "10.0.0.2", "vault_address": v.Addr,
		"token_file": tokenFile, "transit_mount": "transit", "kv_mount": "secret",
		"blob": "local", "s3_endpoint": "", "s3_bucket": "", "s3_region": "us-east-1", "s3_path_style": "true", "s3_access_key_file": "", "s3_secret_key_file": "",
		"clusters_file": filepath.Join(etc, "clusters"), "cluster_capacity": "main=150,b=150",
	})
	write(filepath.Join(etc, "clusters"), "b=postgres://cityops:pw@db2.internal:6432/cityops_drill\n")

	agent := startAgent(t, bin, filepath.Join(etc, "vault-agent.hcl"))
	cfg, err := LoadConfigFrom(parseEnvFile(t, envFile, dir))
	if err != nil {
		t.Fatalf("the rendered environment does not load: %v", err)
	}
	if cfg.Secrets.Backend != secrets.BackendVault || cfg.Secrets.VaultTokenFile != tokenFile {
		t.Fatalf("the rendered environment does not log in through the agent: %+v", cfg.Secrets)
	}
	if !strings.Contains(cfg.Clusters, "b=postgres://") || cfg.ClusterCapacity != "main=150,b=150" {
		t.Fatalf("the rendered environment lacks the tenant clusters: %q %q", cfg.Clusters, cfg.ClusterCapacity)
	}

	open := func() (secrets.Store, *secretstest.Buffer) {
		t.Helper()
		logs := &secretstest.Buffer{}
		s, err := secrets.Open(ctx, cfg.Secrets, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err != nil {
			t.Fatalf("open the secret store as the replica does: %v", err)
		}
		return s, logs
	}
	s, logs := open()
	tenant := uuid.New()
	if err := s.EnsureTenantKey(ctx, tenant); err != nil {
		t.Fatalf("EnsureTenantKey: %v\n%s", err, logs)
	}
	// use encrypts and decrypts every 100 ms for d; every call must succeed.
	use := func(s secrets.Store, logs *secretstest.Buffer, d time.Duration) {
		t.Helper()
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			c, err := s.Encrypt(ctx, tenant, []byte("城运"))
			if err != nil {
				t.Fatalf("Encrypt at %s: %v\nstore:\n%s\nagent:\n%s", time.Now().Format(time.TimeOnly), err, logs, agent.out)
			}
			if p, err := s.Decrypt(ctx, tenant, c); err != nil || string(p) != "城运" {
				t.Fatalf("Decrypt: %q, %v\nstore:\n%s", p, err, logs)
			}
		}
	}
	first := readToken(t, tokenFile)
	use(s, logs, 12*time.Second) // two maximum TTLs and more
	if readToken(t, tokenFile) == first {
		t.Fatal("the agent never logged in again: the token file holds the first token still")
	}
	s.Close()

	// The app restarts: it reads the agent's current token.
	s, logs = open()
	use(s, logs, 3*time.Second)

	// The agent restarts: it logs in again with the same secret id, and the app follows.
	agent.stop(t)
	before := readToken(t, tokenFile)
	agent = startAgent(t, bin, filepath.Join(etc, "vault-agent.hcl"))
	deadline := time.Now().Add(10 * time.Second)
	for readToken(t, tokenFile) == before && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if readToken(t, tokenFile) == before {
		t.Fatalf("the restarted agent wrote no token:\n%s", agent.out)
	}
	use(s, logs, 7*time.Second)
	s.Close()
}

// renderTemplate renders deploy/terraform/templates/name with vars: with terraform's
// templatefile when terraform is on PATH, otherwise by substituting ${name} (the only syntax
// these templates use; anything else fails the test).
func renderTemplate(t *testing.T, name string, vars map[string]string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "deploy", "terraform", "templates", name))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if tf, err := exec.LookPath("terraform"); err == nil {
		dir := t.TempDir()
		var b strings.Builder
		fmt.Fprintf(&b, "output \"out\" {\n  value = templatefile(%q, {\n", path)
		for k, v := range vars {
			fmt.Fprintf(&b, "    %s = %q\n", k, v)
		}
		b.WriteString("  })\n}\n")
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"init", "-input=false"}, {"apply", "-auto-approve", "-input=false"}} {
			cmd := exec.Command(tf, args...)
			cmd.Dir, cmd.Env = dir, append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("terraform %s: %v\n%s", args[0], err, out)
			}
		}
		cmd := exec.Command(tf, "output", "-raw", "out")
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "CHECKPOINT_DISABLE=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("terraform output: %v", err)
		}
		return string(out)
	}
	if strings.Contains(string(src), "%{") {
		t.Fatalf("%s uses template directives; install terraform to render it", name)
	}
	missing := ""
	out := regexp.MustCompile(`\$\{([^}]*)\}`).ReplaceAllStringFunc(string(src), func(m string) string {
		k := m[2 : len(m)-1]
		v, ok := vars[k]
		if !ok {
			missing = k
		}
		return v
	})
	if missing != "" {
		t.Fatalf("%s: no value for ${%s} (or an expression only terraform renders)", name, missing)
	}
	return out
}

// parseEnvFile reads a systemd environment file's KEY=VALUE lines; CITYOPS_DATA_DIR goes to dir.
func parseEnvFile(t *testing.T, s, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("not a variable: %q", line)
		}
		out[k] = v
	}
	out["CITYOPS_DATA_DIR"] = dir
	return out
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the agent's token file: %v", err)
	}
	return strings.TrimSpace(string(b))
}

type vaultAgent struct {
	cmd  *exec.Cmd
	out  *secretstest.Buffer
	done chan struct{}
}

// startAgent runs `vault agent` with config and waits for its first token.
func startAgent(t *testing.T, bin, config string) *vaultAgent {
	t.Helper()
	a := &vaultAgent{out: &secretstest.Buffer{}, done: make(chan struct{})}
	a.cmd = exec.Command(bin, "agent", "-config="+config)
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAULT_") {
			a.cmd.Env = append(a.cmd.Env, kv)
		}
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("vault agent: %v", err)
	}
	go func() { _ = a.cmd.Wait(); close(a.done) }()
	t.Cleanup(func() { a.stop(t) })
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(config), "..", "run", "vault-token")); err == nil && len(b) > 0 {
			return a
		}
		select {
		case <-a.done:
			t.Fatalf("vault agent exited:\n%s", a.out)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("vault agent wrote no token in 15 s:\n%s", a.out)
	return nil
}

func (a *vaultAgent) stop(t *testing.T) {
	select {
	case <-a.done:
		return
	default:
	}
	_ = a.cmd.Process.Signal(os.Interrupt)
	select {
	case <-a.done:
	case <-time.After(5 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.done
	}
}
