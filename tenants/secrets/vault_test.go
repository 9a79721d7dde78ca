package secrets_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/cityops/cityops/tenants/secrets/secretstest"
	"github.com/google/uuid"
	"github.com/hashicorp/vault/api"
)

// Vault as production runs it, and what happens when it is not there.

// TestVaultDestroyedKeyNotRecreated checks the point of the app policy: after a key is destroyed,
// an encrypt is refused; it does not make a new key under the old name.
func TestVaultDestroyedKeyNotRecreated(t *testing.T) {
	ctx := context.Background()
	v := sharedVault(t)
	s := mustVaultStore(t)
	tn := newTenant(t, s)
	mustEncrypt(t, s, tn, "x")
	if err := s.DestroyTenantKey(ctx, tn); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, err := s.Encrypt(ctx, tn, []byte("after offboarding"))
		wantCode(t, err, errs.Destroyed)
		_, err = s.EncryptBatch(ctx, tn, [][]byte{[]byte("a"), []byte("b")})
		wantCode(t, err, errs.Destroyed)
	}
	key, err := v.Root().Logical().Read("transit/keys/tenant-" + tn.String())
	if err != nil || key != nil {
		t.Fatalf("the destroyed key exists again: %v, %v", key, err)
	}
	// The tombstone stays, and the app cannot remove it.
	if _, err := v.Root().Logical().Read("secret/data/tenants/" + tn.String() + "/tombstone"); err != nil {
		t.Fatal(err)
	}
}

// TestVaultOutage cuts the network to Vault mid-run (a proxy in front of it stops), checks that
// key operations fail fast with 503 and nothing half-done, then that service comes back by itself.
func TestVaultOutage(t *testing.T) {
	ctx := context.Background()
	v := sharedVault(t)
	proxy := v.MustProxy(t)
	cfg := v.AppRoleConfig(t)
	cfg.VaultAddr = proxy.URL()
	s := mustOpen(t, cfg)
	tn := newTenant(t, s)
	c := mustEncrypt(t, s, tn, "outage")
	if _, err := s.PutCredential(ctx, tn, "sms_gateway", "sms-key-12345678", "ops"); err != nil {
		t.Fatal(err)
	}

	proxy.Down()
	start := time.Now()
	out, err := s.Encrypt(ctx, tn, []byte("during the outage"))
	wantCode(t, err, errs.Unavailable)
	if out != "" {
		t.Fatalf("Encrypt returned %q with an error", out)
	}
	if !strings.Contains(errs.MessageOf(err), "Vault") {
		t.Fatalf("message %q does not say what is down", errs.MessageOf(err))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a failed Encrypt took %s; it must fail fast", d)
	}
	outs, err := s.EncryptBatch(ctx, tn, [][]byte{[]byte("a"), []byte("b")})
	wantCode(t, err, errs.Unavailable)
	if outs != nil {
		t.Fatal("EncryptBatch returned values with an error")
	}
	_, err = s.Decrypt(ctx, tn, c)
	wantCode(t, err, errs.Unavailable)
	_, err = s.ListCredentials(ctx, tn)
	wantCode(t, err, errs.Unavailable)
	_, err = s.PutCredential(ctx, tn, "sms_gateway", "new-value-0000", "ops")
	wantCode(t, err, errs.Unavailable)
	wantCode(t, s.DestroyTenantKey(ctx, uuid.New()), errs.Unavailable)
	wantCode(t, s.Ping(ctx), errs.Unavailable)
	// An empty value needs no key and still works.
	if c, err := s.Encrypt(ctx, tn, nil); err != nil || c != "" {
		t.Fatalf("empty value during the outage: %q, %v", c, err)
	}

	proxy.Up(t)
	eventually(t, 15*time.Second, func() error { return s.Ping(ctx) })
	if got := mustDecrypt(t, s, tn, c); got != "outage" {
		t.Fatalf("after the outage: %q", got)
	}
	mustEncrypt(t, s, tn, "after the outage")
	if sec, err := s.Credential(ctx, tn, "sms_gateway"); err != nil || sec.Reveal() != "sms-key-12345678" {
		t.Fatalf("credential after the outage (the failed Put must not have changed it): %v %v", sec.Reveal() == "", err)
	}
}

// TestVaultStopped stops the Vault server itself mid-run. A dev server keeps nothing across a
// restart, so recovery is checked through the proxy in TestVaultOutage; here the point is a clear
// 503 from a server that is gone.
func TestVaultStopped(t *testing.T) {
	ctx := context.Background()
	v := secretstest.Must(t)
	s := mustOpen(t, secrets.Config{Backend: secrets.BackendVault, VaultAddr: v.Addr, VaultToken: v.MustToken(t, secretstest.TokenOptions{Policies: []string{secretstest.AppPolicy}})})
	tn := newTenant(t, s)
	c := mustEncrypt(t, s, tn, "x")
	v.Stop()
	_, err := s.Decrypt(ctx, tn, c)
	wantCode(t, err, errs.Unavailable)
	_, err = s.Encrypt(ctx, tn, []byte("y"))
	wantCode(t, err, errs.Unavailable)
	wantCode(t, s.EnsureTenantKey(ctx, uuid.New()), errs.Unavailable)
	wantCode(t, s.Ping(ctx), errs.Unavailable)
}

// TestVaultSealed seals Vault mid-run: 503 with a message that says so, and service again once it
// is unsealed, with the same token.
func TestVaultSealed(t *testing.T) {
	ctx := context.Background()
	v := secretstest.Must(t)
	log, logs := testLogger(t)
	cfg := v.AppRoleConfig(t)
	s, err := secrets.OpenVault(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tn := newTenant(t, s)
	c := mustEncrypt(t, s, tn, "sealed")

	v.Seal(t)
	_, err = s.Decrypt(ctx, tn, c)
	wantCode(t, err, errs.Unavailable)
	if !strings.Contains(errs.MessageOf(err), "sealed") {
		t.Fatalf("message %q does not say Vault is sealed", errs.MessageOf(err))
	}
	wantCode(t, s.Ping(ctx), errs.Unavailable)

	v.Unseal(t)
	eventually(t, 15*time.Second, func() error { return s.Ping(ctx) })
	if got := mustDecrypt(t, s, tn, c); got != "sealed" {
		t.Fatalf("after unsealing: %q", got)
	}
	if strings.Contains(logs.String(), "panic") {
		t.Fatal(logs.String())
	}
}

// TestVaultStartsWhileDown starts the app while Vault is unreachable: it starts (pages without
// keys must work), says why keys are unavailable, and logs in by itself once Vault is there,
// unwrapping the secret id then.
func TestVaultStartsWhileDown(t *testing.T) {
	ctx := context.Background()
	v := sharedVault(t)
	proxy := v.MustProxy(t)
	cfg := v.AppRoleConfig(t)
	cfg.VaultAddr = proxy.URL()
	proxy.Down()
	s := mustOpen(t, cfg)
	err := s.Ping(ctx)
	wantCode(t, err, errs.Unavailable)
	_, err = s.Encrypt(ctx, uuid.New(), []byte("x"))
	wantCode(t, err, errs.Unavailable)

	proxy.Up(t)
	eventually(t, 40*time.Second, func() error { return s.Ping(ctx) })
	newTenant(t, s)
}

// TestVaultTokenExpired gives the app a short-lived token that cannot be renewed: once it expires,
// key operations fail with a 503 that says why, and nothing panics.
func TestVaultTokenExpired(t *testing.T) {
	ctx := context.Background()
	v := sharedVault(t)
	tok := v.MustToken(t, secretstest.TokenOptions{Policies: []string{secretstest.AppPolicy}, TTL: 3 * time.Second, NotRenewable: true})
	s := mustOpen(t, secrets.Config{Backend: secrets.BackendVault, VaultAddr: v.Addr, VaultToken: tok})
	tn := newTenant(t, s)
	c := mustEncrypt(t, s, tn, "x")
	time.Sleep(4 * time.Second)
	_, err := s.Decrypt(ctx, tn, c)
	wantCode(t, err, errs.Unavailable)
	if !strings.Contains(errs.MessageOf(err), "expired") {
		t.Fatalf("message %q does not say the token expired", errs.MessageOf(err))
	}
	wantCode(t, s.Ping(ctx), errs.Unavailable)
}

// TestVaultTokenRenewed gives the app a renewable token with a short TTL: the lifetime watcher
// keeps it alive well past that TTL.
func TestVaultTokenRenewed(t *testing.T) {
	v := sharedVault(t)
	tok := v.MustToken(t, secretstest.TokenOptions{Policies: []string{secretstest.AppPolicy}, TTL: 3 * time.Second})
	s := mustOpen(t, secrets.Config{Backend: secrets.BackendVault, VaultAddr: v.Addr, VaultToken: tok})
	tn := newTenant(t, s)
	c := mustEncrypt(t, s, tn, "renewed")
	time.Sleep(7 * time.Second)
	// Still the same token, renewed, not a new login.
	if _, err := v.Root().Auth().Token().Lookup(tok); err != nil {
		t.Fatalf("the token expired: %v", err)
	}
	if got := mustDecrypt(t, s, tn, c); got != "renewed" {
		t.Fatalf("after the first TTL: %q", got)
	}
}

// TestVaultAppRoleRelogin gives AppRole tokens a short maximum TTL: the app logs in again before
// each runs out, with the secret id it unwrapped once, and never stops serving.
func TestVaultAppRoleRelogin(t *testing.T) {
	ctx := context.Background()
	v := sharedVault(t)
	role := v.MustAppRole(t, "short-lived", []string{secretstest.AppPolicy}, 2*time.Second, 4*time.Second)
	log, logs := testLogger(t)
	s, err := secrets.OpenVault(ctx, secrets.Config{VaultAddr: v.Addr, VaultRoleID: role, VaultWrappedSecretID: v.MustWrappedSecretID(t, "short-lived")}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tn := newTenant(t, s)
	c := mustEncrypt(t, s, tn, "relogin")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got := mustDecrypt(t, s, tn, c); got != "relogin" {
			t.Fatalf("got %q", got)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "maximum TTL") {
		t.Fatalf("no re-login was logged:\n%s", logs.String())
	}
}

// TestVaultBadCredentials: refused credentials fail the start with a clear message.
func TestVaultBadCredentials(t *testing.T) {
	ctx := context.Background()
	v := sharedVault(t)
	cfg := v.AppRoleConfig(t)
	s := mustOpen(t, cfg) // uses the wrapped secret id up
	newTenant(t, s)

	_, err := secrets.OpenVault(ctx, cfg, nil) // the same wrapping token again
	wantCode(t, err, errs.Invalid)
	if !strings.Contains(err.Error(), "already used") && !strings.Contains(err.Error(), "invalid, expired") {
		t.Fatalf("reused wrapped secret id: %v", err)
	}

	// A wrapping token that AppRole did not make (here: a wrapped token creation) is refused.
	c, _ := v.Root().Clone()
	c.SetToken(v.RootToken)
	c.SetWrappingLookupFunc(func(string, string) string { return "5m" })
	w, err := c.Logical().Write("auth/token/create", map[string]any{"policies": []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.VaultWrappedSecretID = w.WrapInfo.Token
	_, err = secrets.OpenVault(ctx, cfg, nil)
	wantCode(t, err, errs.Invalid)
	if !strings.Contains(err.Error(), "not by AppRole") {
		t.Fatalf("foreign wrapping token: %v", err)
	}

	_, err = secrets.OpenVault(ctx, secrets.Config{VaultAddr: v.Addr, VaultToken: "hvs.not-a-token"}, nil)
	wantCode(t, err, errs.Invalid)
}

// TestVaultWrongPolicy runs the app with a token that may not use transit keys: a clear error,
// no panic, and a readiness check that names the problem.
func TestVaultWrongPolicy(t *testing.T) {
	ctx := context.Background()
	v := sharedVault(t)
	owner := mustVaultStore(t)
	tn := newTenant(t, owner)
	c := mustEncrypt(t, owner, tn, "x")

	v.MustPolicy(t, "cityops-read-only", `
path "transit/keys/+" { capabilities = ["read"] }
path "secret/data/tenants/+/tombstone" { capabilities = ["read"] }
`)
	tok := v.MustToken(t, secretstest.TokenOptions{Policies: []string{"cityops-read-only"}})
	s := mustOpen(t, secrets.Config{Backend: secrets.BackendVault, VaultAddr: v.Addr, VaultToken: tok})
	_, err := s.Encrypt(ctx, tn, []byte("y"))
	wantCode(t, err, errs.Unavailable)
	if !strings.Contains(errs.MessageOf(err), "policy") {
		t.Fatalf("message %q does not point at the policy", errs.MessageOf(err))
	}
	_, err = s.Decrypt(ctx, tn, c)
	wantCode(t, err, errs.Unavailable)
	_, err = s.RotateTenantKey(ctx, tn)
	wantCode(t, err, errs.Unavailable)
	_, err = s.PutCredential(ctx, tn, "sms_gateway", "value-1234", "ops")
	wantCode(t, err, errs.Unavailable)
	err = s.Ping(ctx)
	wantCode(t, err, errs.Unavailable)
	if !strings.Contains(errs.MessageOf(err), "cityops-app.hcl") {
		t.Fatalf("Ping: %q does not name the policy to apply", errs.MessageOf(err))
	}
}

// TestVaultRootTokenWarns: a token that may create keys on encrypt works, but the readiness
// check warns that a destroyed key could come back.
func TestVaultRootTokenWarns(t *testing.T) {
	ctx := context.Background()
	v := sharedVault(t)
	log, logs := testLogger(t)
	s, err := secrets.OpenVault(ctx, secrets.Config{VaultAddr: v.Addr, VaultToken: v.RootToken}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "re-created silently") {
		t.Fatalf("no warning about the root token:\n%s", logs.String())
	}
}

// TestVaultCustomMounts runs with transit and KV mounted elsewhere, the policy changed to match.
func TestVaultCustomMounts(t *testing.T) {
	ctx := context.Background()
	v := sharedVault(t)
	sfx := uuid.NewString()[:8]
	transit, kv := "cityops-transit-"+sfx, "cityops-kv-"+sfx
	if err := v.Root().Sys().Mount(transit, &api.MountInput{Type: "transit"}); err != nil {
		t.Fatal(err)
	}
	if err := v.Root().Sys().Mount(kv, &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	policy, err := secretstest.PolicyText(transit, kv)
	if err != nil {
		t.Fatal(err)
	}
	v.MustPolicy(t, "cityops-custom", policy)
	tok := v.MustToken(t, secretstest.TokenOptions{Policies: []string{"cityops-custom"}})
	s := mustOpen(t, secrets.Config{Backend: secrets.BackendVault, VaultAddr: v.Addr, VaultToken: tok, TransitMount: transit, KVMount: "/" + kv + "/"})
	tn := newTenant(t, s)
	c := mustEncrypt(t, s, tn, "custom")
	if got := mustDecrypt(t, s, tn, c); got != "custom" {
		t.Fatal(got)
	}
	if _, err := s.PutCredential(ctx, tn, "tiles", "tile-key-abcdef", "ops"); err != nil {
		t.Fatal(err)
	}
	if k, _ := v.Root().Logical().Read(transit + "/keys/tenant-" + tn.String()); k == nil {
		t.Fatal("the key is not on the custom transit mount")
	}
	if sec, _ := v.Root().KVv2(kv).Get(ctx, "tenants/"+tn.String()+"/credentials/tiles"); sec == nil {
		t.Fatal("the credential is not on the custom KV mount")
	}
	if err := s.DestroyTenantKey(ctx, tn); err != nil {
		t.Fatal(err)
	}
	_, err = s.Decrypt(ctx, tn, c)
	wantCode(t, err, errs.Destroyed)
}

// TestVaultCloseRevokes: an AppRole token belongs to one process and is revoked at Close.
func TestVaultCloseRevokes(t *testing.T) {
	ctx := context.Background()
	v := sharedVault(t)
	role := v.MustAppRole(t, "close-test", []string{secretstest.AppPolicy}, time.Hour, time.Hour)
	live := func() int {
		s, err := v.Root().Logical().List("auth/token/accessors")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range s.Data["keys"].([]any) {
			info, err := v.Root().Auth().Token().LookupAccessor(a.(string))
			if err == nil && info.Data["meta"] != nil && info.Data["meta"].(map[string]any)["role_name"] == "close-test" {
				n++
			}
		}
		return n
	}
	s, err := secrets.OpenVault(ctx, secrets.Config{VaultAddr: v.Addr, VaultRoleID: role, VaultWrappedSecretID: v.MustWrappedSecretID(t, "close-test")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := live(); n != 1 {
		t.Fatalf("%d live tokens of the role after login, want 1", n)
	}
	s.Close()
	if n := live(); n != 0 {
		t.Fatalf("%d live tokens of the role after Close, want 0", n)
	}
}
