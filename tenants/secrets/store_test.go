package secrets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/google/uuid"
)

// The behavioural suite: every test here runs against the keyring and against a real Vault.

func TestEncryptDecrypt(t *testing.T) {
	eachBackend(t, func(t *testing.T, s secrets.Store) {
		ctx := context.Background()
		tn := newTenant(t, s)
		for _, plain := range []string{"张三", "13800138000", "530102199001011234", strings.Repeat("x", 4000)} {
			c := mustEncrypt(t, s, tn, plain)
			if !strings.HasPrefix(c, prefixOf(s)+":v1:") {
				t.Fatalf("ciphertext %.30q: want prefix %s:v1:", c, prefixOf(s))
			}
			if strings.Contains(c, plain) {
				t.Fatalf("ciphertext contains the plaintext")
			}
			if got := mustDecrypt(t, s, tn, c); got != plain {
				t.Fatalf("Decrypt: got %q, want %q", got, plain)
			}
			if v, err := secrets.CiphertextVersion(c); err != nil || v != 1 {
				t.Fatalf("CiphertextVersion: got %d, %v; want 1", v, err)
			}
		}
		if a, b := mustEncrypt(t, s, tn, "李四"), mustEncrypt(t, s, tn, "李四"); a == b {
			t.Fatal("two encryptions of one value are equal: the nonce is not random")
		}

		// An empty value stays empty, without a key.
		if c := mustEncrypt(t, s, tn, ""); c != "" {
			t.Fatalf("Encrypt(\"\"): got %q, want \"\"", c)
		}
		if p := mustDecrypt(t, s, tn, ""); p != "" {
			t.Fatalf("Decrypt(\"\"): got %q", p)
		}

		// Bad input is refused with a code, never a panic or garbage.
		for _, bad := range []string{"hello", "kr:v1", "vault:v0:AAAA", "kr:vx:AAAA", "kr:v1:!!!", "vault:v1:", "other:v1:AAAA"} {
			_, err := s.Decrypt(ctx, tn, bad)
			wantCode(t, err, errs.Invalid)
		}
		other := "kr:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		if prefixOf(s) == "kr" {
			other = "vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		}
		_, err := s.Decrypt(ctx, tn, other)
		wantCode(t, err, errs.Invalid)
		if !strings.Contains(errs.MessageOf(err), "another secret store") {
			t.Fatalf("a ciphertext of the other backend: got %q", errs.MessageOf(err))
		}
		_, err = s.Encrypt(ctx, uuid.Nil, []byte("x"))
		wantCode(t, err, errs.Invalid)
		_, err = s.Encrypt(ctx, tn, make([]byte, secrets.MaxPlaintext+1))
		wantCode(t, err, errs.TooLarge)
	})
}

func TestTenantKeyLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, s secrets.Store) {
		ctx := context.Background()
		tn := uuid.New()

		// No key yet: a clear not-found, for encryption too (with the app policy Vault must
		// not create the key on encrypt).
		_, err := s.TenantKey(ctx, tn)
		wantCode(t, err, errs.NotFound)
		_, err = s.Encrypt(ctx, tn, []byte("x"))
		wantCode(t, err, errs.NotFound)

		// Ensure is idempotent, also when racing itself.
		var wg sync.WaitGroup
		errc := make(chan error, 4)
		for range 4 {
			wg.Go(func() { errc <- s.EnsureTenantKey(ctx, tn) })
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatalf("EnsureTenantKey: %v", err)
			}
		}
		if err := s.EnsureTenantKey(ctx, tn); err != nil {
			t.Fatal(err)
		}
		info, err := s.TenantKey(ctx, tn)
		if err != nil || info != (secrets.KeyInfo{LatestVersion: 1, MinDecryptionVersion: 1}) {
			t.Fatalf("TenantKey: got %+v, %v", info, err)
		}
	})
}

func TestBatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, s secrets.Store) {
		ctx := context.Background()
		tn := newTenant(t, s)
		in := make([][]byte, 2500) // more than one Vault request
		for i := range in {
			if i%7 != 3 {
				in[i] = fmt.Appendf(nil, "居民%d 1390000%04d", i, i)
			}
		}
		cs, err := s.EncryptBatch(ctx, tn, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != len(in) {
			t.Fatalf("got %d ciphertexts for %d values", len(cs), len(in))
		}
		for i, c := range cs {
			if (c == "") != (len(in[i]) == 0) {
				t.Fatalf("value %d: ciphertext %q for %q", i, c, in[i])
			}
		}
		ps, err := s.DecryptBatch(ctx, tn, cs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range in {
			if string(ps[i]) != string(in[i]) {
				t.Fatalf("value %d: got %q, want %q", i, ps[i], in[i])
			}
		}
		// All or nothing: one bad value fails the batch and returns nothing.
		bad := append([]string{}, cs[:10]...)
		bad[5] = prefixOf(s) + ":v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		got, err := s.DecryptBatch(ctx, tn, bad)
		if err == nil || got != nil {
			t.Fatalf("DecryptBatch with a damaged value: got %d values, %v", len(got), err)
		}
		wantCode(t, err, errs.Invalid)
		if out, err := s.EncryptBatch(ctx, tn, nil); err != nil || len(out) != 0 {
			t.Fatalf("EncryptBatch(nil): %v, %v", out, err)
		}
	})
}

func TestRotation(t *testing.T) {
	eachBackend(t, func(t *testing.T, s secrets.Store) {
		ctx := context.Background()
		tn := newTenant(t, s)
		old := mustEncrypt(t, s, tn, "王五")

		info, err := s.RotateTenantKey(ctx, tn)
		if err != nil || info.LatestVersion != 2 || info.MinDecryptionVersion != 1 {
			t.Fatalf("RotateTenantKey: got %+v, %v", info, err)
		}
		cur := mustEncrypt(t, s, tn, "赵六")
		if !strings.HasPrefix(cur, prefixOf(s)+":v2:") {
			t.Fatalf("after rotation: got %.20q, want version 2", cur)
		}
		// Old ciphertexts stay readable.
		if got := mustDecrypt(t, s, tn, old); got != "王五" {
			t.Fatalf("old ciphertext after rotation: got %q", got)
		}

		// The re-wrap job: everything to the newest version, then raise the minimum.
		wrapped, err := s.Rewrap(ctx, tn, []string{old, cur, ""})
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range wrapped[:2] {
			if v, _ := secrets.CiphertextVersion(c); v != 2 {
				t.Fatalf("rewrapped value %d: %.20q is not version 2", i, c)
			}
		}
		if wrapped[2] != "" {
			t.Fatalf("rewrap of an empty value: got %q", wrapped[2])
		}
		if err := s.SetMinDecryptionVersion(ctx, tn, 2); err != nil {
			t.Fatal(err)
		}
		if info, _ := s.TenantKey(ctx, tn); info.MinDecryptionVersion != 2 {
			t.Fatalf("TenantKey after SetMinDecryptionVersion: %+v", info)
		}
		if got := mustDecrypt(t, s, tn, wrapped[0]); got != "王五" {
			t.Fatalf("rewrapped: got %q", got)
		}
		_, err = s.Decrypt(ctx, tn, old)
		wantCode(t, err, errs.Invalid)
		if !strings.Contains(errs.MessageOf(err), "minimum decryption version") {
			t.Fatalf("too old a ciphertext: got message %q", errs.MessageOf(err))
		}
		for _, v := range []int{0, 3} {
			wantCode(t, s.SetMinDecryptionVersion(ctx, tn, v), errs.Invalid)
		}
		// The minimum can be lowered again: the old version was not deleted.
		if err := s.SetMinDecryptionVersion(ctx, tn, 1); err != nil {
			t.Fatal(err)
		}
		if got := mustDecrypt(t, s, tn, old); got != "王五" {
			t.Fatalf("after lowering the minimum: got %q", got)
		}
	})
}

func TestDestroy(t *testing.T) {
	eachBackend(t, func(t *testing.T, s secrets.Store) {
		ctx := context.Background()
		tn := newTenant(t, s)
		keep := newTenant(t, s)
		c := mustEncrypt(t, s, tn, "孙七")
		kept := mustEncrypt(t, s, keep, "周八")
		if _, err := s.PutCredential(ctx, tn, "sms_gateway", "sms-secret-0001", "admin"); err != nil {
			t.Fatal(err)
		}

		if err := s.DestroyTenantKey(ctx, tn); err != nil {
			t.Fatal(err)
		}
		_, err := s.Decrypt(ctx, tn, c)
		wantCode(t, err, errs.Destroyed)
		if !strings.Contains(errs.MessageOf(err), "destroyed") {
			t.Fatalf("message %q does not say the data was destroyed", errs.MessageOf(err))
		}
		_, err = s.DecryptBatch(ctx, tn, []string{c, c})
		wantCode(t, err, errs.Destroyed)
		_, err = s.Encrypt(ctx, tn, []byte("x"))
		wantCode(t, err, errs.Destroyed)
		_, err = s.Rewrap(ctx, tn, []string{c})
		wantCode(t, err, errs.Destroyed)
		_, err = s.TenantKey(ctx, tn)
		wantCode(t, err, errs.Destroyed)
		_, err = s.RotateTenantKey(ctx, tn)
		wantCode(t, err, errs.Destroyed)
		wantCode(t, s.EnsureTenantKey(ctx, tn), errs.Destroyed) // never a new key
		_, err = s.PutCredential(ctx, tn, "sms_gateway", "again-0000", "admin")
		wantCode(t, err, errs.Destroyed)
		if list, err := s.ListCredentials(ctx, tn); err != nil || len(list) != 0 {
			t.Fatalf("credentials after destroy: %v, %v", list, err)
		}
		_, err = s.Credential(ctx, tn, "sms_gateway")
		wantCode(t, err, errs.Destroyed)

		// Idempotent, for an offboarding resumed after a crash.
		if err := s.DestroyTenantKey(ctx, tn); err != nil {
			t.Fatalf("second DestroyTenantKey: %v", err)
		}
		// Another tenant is untouched.
		if got := mustDecrypt(t, s, keep, kept); got != "周八" {
			t.Fatalf("other tenant after destroy: got %q", got)
		}
		// A tenant that never had a key can be destroyed too.
		if err := s.DestroyTenantKey(ctx, uuid.New()); err != nil {
			t.Fatalf("destroy without a key: %v", err)
		}
	})
}

func TestCredentials(t *testing.T) {
	eachBackend(t, func(t *testing.T, s secrets.Store) {
		ctx := context.Background()
		tn := newTenant(t, s)
		const value = "sk-live-51Habcdefghij3456"
		got, err := s.PutCredential(ctx, tn, "sms_gateway", value, "admin@chuxiong.example")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "sms_gateway" || got.Last4 != "3456" || got.SetBy != "admin@chuxiong.example" || got.SetAt.IsZero() {
			t.Fatalf("PutCredential: got %+v", got)
		}
		if _, err := s.PutCredential(ctx, tn, "map.tiles", "short", "ops"); err != nil {
			t.Fatal(err)
		}
		list, err := s.ListCredentials(ctx, tn)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].Name != "map.tiles" || list[1].Name != "sms_gateway" {
			t.Fatalf("ListCredentials: got %+v", list)
		}
		if list[0].Last4 != "" {
			t.Fatalf("a short value must not be shown in part: got last4 %q", list[0].Last4)
		}
		if list[1].Last4 != "3456" || list[1].SetBy != "admin@chuxiong.example" || list[1].SetAt.IsZero() {
			t.Fatalf("masked metadata: got %+v", list[1])
		}
		b, _ := json.Marshal(list)
		if strings.Contains(string(b), value) || strings.Contains(string(b), "short") {
			t.Fatalf("the listing holds a value: %s", b)
		}

		// Server-side use: the value, which never prints.
		sec, err := s.Credential(ctx, tn, "sms_gateway")
		if err != nil || sec.Reveal() != value {
			t.Fatalf("Credential: %v", err)
		}
		var logged strings.Builder
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("use", "credential", sec)
		jb, _ := json.Marshal(map[string]any{"v": sec})
		for _, out := range []string{fmt.Sprint(sec), fmt.Sprintf("%v %s %+v %#v", sec, sec, sec, sec), logged.String(), string(jb)} {
			if strings.Contains(out, value) || !strings.Contains(out, "[redacted]") {
				t.Fatalf("a Secret printed as %q", out)
			}
		}

		// Replace, then delete.
		if _, err := s.PutCredential(ctx, tn, "sms_gateway", "rotated-value-9999", "admin2"); err != nil {
			t.Fatal(err)
		}
		if sec, _ := s.Credential(ctx, tn, "sms_gateway"); sec.Reveal() != "rotated-value-9999" {
			t.Fatal("PutCredential did not replace the value")
		}
		if list, _ := s.ListCredentials(ctx, tn); list[1].Last4 != "9999" || list[1].SetBy != "admin2" {
			t.Fatalf("after replacing: %+v", list[1])
		}
		if err := s.DeleteCredential(ctx, tn, "sms_gateway"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.DeleteCredential(ctx, tn, "sms_gateway"), errs.NotFound)
		_, err = s.Credential(ctx, tn, "sms_gateway")
		wantCode(t, err, errs.NotFound)
		if list, _ := s.ListCredentials(ctx, tn); len(list) != 1 {
			t.Fatalf("after delete: %+v", list)
		}

		// Bad input.
		for _, c := range []struct{ name, value, by string }{
			{"", "v", ""}, {"Sms", "v", ""}, {"a/b", "value", ""}, {"../x", "value", ""}, {"x", "value", ""},
			{"sms", "", ""}, {"sms", strings.Repeat("v", secrets.MaxCredential+1), ""}, {"sms", "\xff\xfe", ""},
		} {
			_, err := s.PutCredential(ctx, tn, c.name, c.value, c.by)
			wantCode(t, err, errs.Invalid)
		}
		_, err = s.Credential(ctx, tn, "../../transit")
		wantCode(t, err, errs.Invalid)
		if list, err := s.ListCredentials(ctx, uuid.New()); err != nil || len(list) != 0 {
			t.Fatalf("credentials of a tenant with none: %v, %v", list, err)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	eachBackend(t, func(t *testing.T, s secrets.Store) {
		ctx := context.Background()
		a, b := newTenant(t, s), newTenant(t, s)
		ca := mustEncrypt(t, s, a, "甲的电话 13912345678")

		// B's key cannot read A's ciphertext: an error, never A's plaintext or garbage.
		p, err := s.Decrypt(ctx, b, ca)
		wantCode(t, err, errs.Invalid)
		if p != nil {
			t.Fatalf("tenant B got %q from A's ciphertext", p)
		}
		_, err = s.DecryptBatch(ctx, b, []string{ca})
		wantCode(t, err, errs.Invalid)
		_, err = s.Rewrap(ctx, b, []string{ca})
		wantCode(t, err, errs.Invalid)

		// Credentials: B sees none of A's, cannot read or delete them.
		if _, err := s.PutCredential(ctx, a, "provincial_platform", "province-token-7777", "admin-a"); err != nil {
			t.Fatal(err)
		}
		if list, err := s.ListCredentials(ctx, b); err != nil || len(list) != 0 {
			t.Fatalf("tenant B lists %+v, %v", list, err)
		}
		_, err = s.Credential(ctx, b, "provincial_platform")
		wantCode(t, err, errs.NotFound)
		wantCode(t, s.DeleteCredential(ctx, b, "provincial_platform"), errs.NotFound)
		if sec, err := s.Credential(ctx, a, "provincial_platform"); err != nil || sec.Reveal() != "province-token-7777" {
			t.Fatalf("A's credential after B's attempts: %v", err)
		}

		// Destroying B leaves A whole.
		if err := s.DestroyTenantKey(ctx, b); err != nil {
			t.Fatal(err)
		}
		if got := mustDecrypt(t, s, a, ca); got != "甲的电话 13912345678" {
			t.Fatalf("A after B was destroyed: %q", got)
		}
	})
}

func TestStep(t *testing.T) {
	eachBackend(t, func(t *testing.T, s secrets.Store) {
		ctx := context.Background()
		st := secrets.NewStep(s)
		if st.Name() != "secrets" {
			t.Fatalf("Name: %q", st.Name())
		}
		tn := &tenants.Tenant{ID: uuid.New(), Slug: "chuxiong"}
		for range 2 { // a resumed provisioning runs the step again
			if err := st.Run(ctx, tn); err != nil {
				t.Fatal(err)
			}
		}
		c := mustEncrypt(t, s, tn.ID, "citizen")
		for range 2 { // so does a resumed offboarding
			if err := st.Undo(ctx, tn); err != nil {
				t.Fatal(err)
			}
		}
		_, err := s.Decrypt(ctx, tn.ID, c)
		wantCode(t, err, errs.Destroyed)
	})
}

func TestConcurrentUse(t *testing.T) {
	eachBackend(t, func(t *testing.T, s secrets.Store) {
		ctx := context.Background()
		ts := []uuid.UUID{newTenant(t, s), newTenant(t, s), newTenant(t, s)}
		var wg sync.WaitGroup
		errc := make(chan error, 64)
		for g := range 8 {
			wg.Go(func() {
				tn := ts[g%len(ts)]
				for i := range 20 {
					want := fmt.Sprintf("g%d-%d", g, i)
					c, err := s.Encrypt(ctx, tn, []byte(want))
					if err == nil {
						var p []byte
						p, err = s.Decrypt(ctx, tn, c)
						if err == nil && string(p) != want {
							err = fmt.Errorf("got %q, want %q", p, want)
						}
					}
					if err == nil && i%5 == 0 {
						_, err = s.PutCredential(ctx, tn, fmt.Sprintf("cred-%d", g), want, "test")
					}
					if err != nil {
						errc <- err
						return
					}
				}
			})
		}
		wg.Go(func() {
			if _, err := s.RotateTenantKey(ctx, ts[0]); err != nil {
				errc <- err
			}
		})
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
	})
}

func TestPing(t *testing.T) {
	eachBackend(t, func(t *testing.T, s secrets.Store) {
		if err := s.Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}
