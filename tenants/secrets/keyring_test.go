package secrets_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/google/uuid"
	_ "modernc.org/sqlite"
)

func TestKeyringMasterKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := mustKeyring(t, dir)
	tn := newTenant(t, k)
	c := mustEncrypt(t, k, tn, "张三")
	if _, err := k.PutCredential(ctx, tn, "sms_gateway", "sms-secret-1234", "admin"); err != nil {
		t.Fatal(err)
	}
	k.Close()

	master := filepath.Join(dir, "secrets", "master.key")
	fi, err := os.Stat(master)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key mode %04o, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(master)); di.Mode().Perm() != 0o700 {
		t.Fatalf("secrets directory mode %04o, want 0700", di.Mode().Perm())
	}

	// Reopened, it reads what it wrote.
	k2 := mustKeyring(t, dir)
	if got := mustDecrypt(t, k2, tn, c); got != "张三" {
		t.Fatalf("after reopening: %q", got)
	}
	if sec, err := k2.Credential(ctx, tn, "sms_gateway"); err != nil || sec.Reveal() != "sms-secret-1234" {
		t.Fatalf("credential after reopening: %v", err)
	}
	k2.Close()

	orig, _ := os.ReadFile(master)
	log, _ := testLogger(t)

	// A master key others can read is refused.
	os.Chmod(master, 0o644)
	if _, err := secrets.OpenKeyring(ctx, dir, log); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable master key: got %v", err)
	}
	os.Chmod(master, 0o600)

	// Another master key is refused, not used to produce garbage.
	other := t.TempDir()
	mustKeyring(t, other).Close()
	b, _ := os.ReadFile(filepath.Join(other, "secrets", "master.key"))
	os.WriteFile(master, b, 0o600)
	if _, err := secrets.OpenKeyring(ctx, dir, log); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Fatalf("wrong master key: got %v", err)
	}

	// A lost master key is not silently replaced by a new one.
	os.Remove(master)
	if _, err := secrets.OpenKeyring(ctx, dir, log); err == nil || !strings.Contains(err.Error(), "restore it") {
		t.Fatalf("missing master key: got %v", err)
	}
	if _, err := os.Stat(master); err == nil {
		t.Fatal("a new master key was made for a keyring that holds keys")
	}
	os.WriteFile(master, orig, 0o600)
	if got := mustDecrypt(t, mustKeyring(t, dir), tn, c); got != "张三" {
		t.Fatalf("with the master key restored: %q", got)
	}
}

// TestKeyringShredding checks that destroying a key removes its bytes from the files, not only
// the rows: a copy of the keyring taken afterwards cannot bring the data back.
func TestKeyringShredding(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := mustKeyring(t, dir)
	tn := newTenant(t, k)
	if _, err := k.RotateTenantKey(ctx, tn); err != nil {
		t.Fatal(err)
	}
	if _, err := k.PutCredential(ctx, tn, "vendor", "vendor-password-0001", "ops"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "secrets", "keyring.db")
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var blobs [][]byte
	for _, q := range []string{"SELECT wrapped FROM tenant_keys WHERE tenant_id = ?", "SELECT sealed FROM credentials WHERE tenant_id = ?"} {
		rows, err := db.Query(q, tn.String())
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b []byte
			rows.Scan(&b)
			blobs = append(blobs, b)
		}
		rows.Close()
	}
	db.Close()
	if len(blobs) != 3 {
		t.Fatalf("found %d key and credential blobs, want 3", len(blobs))
	}

	if err := k.DestroyTenantKey(ctx, tn); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"keyring.db", "keyring.db-wal"} {
		data, err := os.ReadFile(filepath.Join(dir, "secrets", name))
		if err != nil {
			continue
		}
		for _, b := range blobs {
			if bytes.Contains(data, b) {
				t.Fatalf("%s still holds a destroyed key or credential", name)
			}
		}
	}
}

// TestKeyringTwoProcesses checks that a key destroyed through one handle (the CLI) is gone for
// another (the server) at once: the server reuses a key set only while the keyring file is
// unchanged (PRAGMA data_version).
func TestKeyringTwoProcesses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	server, cli := mustKeyring(t, dir), mustKeyring(t, dir)
	tn := newTenant(t, server)
	c := mustEncrypt(t, server, tn, "居民")
	if _, err := cli.PutCredential(ctx, tn, "sms_gateway", "set-by-the-cli", "cli"); err != nil {
		t.Fatal(err)
	}
	if sec, err := server.Credential(ctx, tn, "sms_gateway"); err != nil || sec.Reveal() != "set-by-the-cli" {
		t.Fatalf("server reading the CLI's credential: %v", err)
	}
	if err := cli.DestroyTenantKey(ctx, tn); err != nil {
		t.Fatal(err)
	}
	_, err := server.Decrypt(ctx, tn, c)
	wantCode(t, err, errs.Destroyed)
}

func TestOpenConfig(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, secrets.Config{DataDir: t.TempDir()}) // the default is the keyring
	if _, ok := s.(*secrets.Keyring); !ok {
		t.Fatalf("default backend: got %T", s)
	}
	for _, c := range []struct {
		cfg  secrets.Config
		want string
	}{
		{secrets.Config{Backend: "aws"}, "CITYOPS_SECRETS"},
		{secrets.Config{Backend: "keyring"}, "CITYOPS_DATA_DIR"},
		{secrets.Config{Backend: "vault"}, "VAULT_ADDR"},
		{secrets.Config{Backend: "vault", VaultAddr: "http://127.0.0.1:1"}, "needs credentials"},
		{secrets.Config{Backend: "vault", VaultAddr: "ftp://x", VaultToken: "t"}, "VAULT_ADDR"},
		{secrets.Config{Backend: "vault", VaultAddr: "http://v:8200", VaultToken: "t", VaultRoleID: "r"}, "not both"},
		{secrets.Config{Backend: "vault", VaultAddr: "http://v:8200", VaultRoleID: "r"}, "WRAPPED_SECRET_ID"},
		{secrets.Config{Backend: "vault", VaultAddr: "http://v:8200", VaultToken: "t", TransitMount: "a b"}, "TRANSIT_MOUNT"},
	} {
		_, err := secrets.Open(ctx, c.cfg, nil)
		wantCode(t, err, errs.Invalid)
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want it to mention %s", c.cfg, err, c.want)
		}
	}
	// Every problem at once.
	err := secrets.Config{Backend: "vault", VaultAddr: "x", TransitMount: "a b"}.Validate()
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Errorf("Validate reported %d problems, want 3: %v", n, err)
	}
	// The configuration logs without its secrets.
	var b strings.Builder
	cfg := secrets.Config{Backend: "vault", VaultToken: "hvs.topsecret", VaultWrappedSecretID: "hvs.wrapped"}
	newTextLogger(&b).Info("config", "secrets", cfg)
	if strings.Contains(b.String(), "topsecret") || strings.Contains(b.String(), "hvs.wrapped") {
		t.Fatalf("configuration logged with its secrets: %s", b.String())
	}
}

func FuzzCiphertext(f *testing.F) {
	k := mustKeyring(f, f.TempDir())
	tn := uuid.New()
	if err := k.EnsureTenantKey(context.Background(), tn); err != nil {
		f.Fatal(err)
	}
	good := mustEncrypt(f, k, tn, "seed")
	for _, s := range []string{good, "", "kr:v1:", "kr:v99999999999:AAAA", "vault:v1:AAAA", "kr:v1:" + strings.Repeat("A", 40), "kr::", ":::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		v, err := secrets.CiphertextVersion(c)
		if err == nil && c != "" && v < 1 {
			t.Fatalf("CiphertextVersion(%q) = %d without error", c, v)
		}
		p, err := k.Decrypt(context.Background(), tn, c)
		if err != nil && errs.CodeOf(err) == errs.Internal {
			t.Fatalf("Decrypt(%q): an internal error: %v", c, err)
		}
		if err == nil && c != good && c != "" {
			t.Fatalf("Decrypt(%q) accepted a forged ciphertext: %q", c, p)
		}
	})
}
