package secrets_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/cityops/cityops/tenants/secrets/secretstest"
	"github.com/google/uuid"
)

// One dev-mode Vault serves the whole package; tests that seal, stop or cut it start their own.
var (
	vaultOnce sync.Once
	vault     *secretstest.Vault
	vaultErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if vault != nil {
		vault.Stop()
	}
	os.Exit(code)
}

// sharedVault returns the package's Vault, starting it on first use.
func sharedVault(tb testing.TB) *secretstest.Vault {
	tb.Helper()
	vaultOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		vault, vaultErr = secretstest.Start(ctx)
	})
	if vaultErr != nil {
		tb.Fatalf("secretstest: %v", vaultErr)
	}
	return vault
}

func testLogger(tb testing.TB) (*slog.Logger, *secretstest.Buffer) {
	buf := &secretstest.Buffer{}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("store log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func mustKeyring(tb testing.TB, dir string) *secrets.Keyring {
	tb.Helper()
	log, _ := testLogger(tb)
	k, err := secrets.OpenKeyring(context.Background(), dir, log)
	if err != nil {
		tb.Fatalf("OpenKeyring: %v", err)
	}
	tb.Cleanup(func() { k.Close() })
	return k
}

func mustOpen(tb testing.TB, cfg secrets.Config) secrets.Store {
	tb.Helper()
	log, _ := testLogger(tb)
	s, err := secrets.Open(context.Background(), cfg, log)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// mustVaultStore opens a Vault store that logs in the production way: AppRole, the app policy,
// a response-wrapped secret id.
func mustVaultStore(tb testing.TB) secrets.Store {
	tb.Helper()
	return mustOpen(tb, sharedVault(tb).AppRoleConfig(tb))
}

// eachBackend runs one behavioural test body against the keyring and against Vault.
func eachBackend(t *testing.T, fn func(t *testing.T, s secrets.Store)) {
	t.Run("keyring", func(t *testing.T) { fn(t, mustKeyring(t, t.TempDir())) })
	t.Run("vault", func(t *testing.T) { fn(t, mustVaultStore(t)) })
}

// newTenant gives a fresh tenant id with a key.
func newTenant(tb testing.TB, s secrets.Store) uuid.UUID {
	tb.Helper()
	id := uuid.New()
	if err := s.EnsureTenantKey(context.Background(), id); err != nil {
		tb.Fatalf("EnsureTenantKey: %v", err)
	}
	return id
}

func mustEncrypt(tb testing.TB, s secrets.Store, t uuid.UUID, p string) string {
	tb.Helper()
	c, err := s.Encrypt(context.Background(), t, []byte(p))
	if err != nil {
		tb.Fatalf("Encrypt: %v", err)
	}
	return c
}

func mustDecrypt(tb testing.TB, s secrets.Store, t uuid.UUID, c string) string {
	tb.Helper()
	p, err := s.Decrypt(context.Background(), t, c)
	if err != nil {
		tb.Fatalf("Decrypt: %v", err)
	}
	return string(p)
}

// wantCode fails unless err carries code.
func wantCode(tb testing.TB, err error, code errs.Code) {
	tb.Helper()
	if got := errs.CodeOf(err); got != code {
		tb.Fatalf("got error %v (code %q), want code %q", err, got, code)
	}
}

// eventually retries fn until it returns nil or the time is up.
func eventually(tb testing.TB, within time.Duration, fn func() error) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("still failing after %s: %v", within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func prefixOf(s secrets.Store) string {
	if _, ok := s.(*secrets.Vault); ok {
		return "vault"
	}
	return "kr"
}

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
