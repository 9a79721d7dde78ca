package secrets

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/google/uuid"
	"github.com/hashicorp/vault/api"
)

// Vault is the production secret store: transit with one key per tenant (tenant-<tenant id>)
// for personal data, and KV v2 under tenants/<tenant id>/ for credentials. It needs the policy in
// deploy/vault/cityops-app.hcl.
type Vault struct {
	client       *api.Client
	kv           *api.KVv2
	transitMount string
	kvMount      string
	keeper       *keeper
	log          *slog.Logger
	now          func() time.Time
	warn         sync.Once
}

var _ Store = (*Vault)(nil)

// OpenVault logs in to Vault as cfg says and keeps the token alive until Close. A Vault that
// cannot be reached is not an error: the store retries in the background and its operations
// fail with errs.Unavailable until Vault answers.
func OpenVault(ctx context.Context, cfg Config, log *slog.Logger) (*Vault, error) {
	cfg.Backend = BackendVault
	if err := cfg.Validate(); err != nil {
		return nil, errs.Wrap(err, errs.Invalid, msgVaultConfigurationInvalid, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "secrets", "backend", BackendVault)
	vc := api.DefaultConfig() // TLS from VAULT_CACERT and friends
	if vc.Error != nil {
		return nil, fmt.Errorf("vault client configuration: %w", vc.Error)
	}
	vc.Address = cfg.VaultAddr
	// Fail fast when Vault is down: a request that needs a key answers 503 at once rather than
	// after the client's default 60 s and two slow retries.
	vc.Timeout = 15 * time.Second
	vc.MaxRetries = 1
	vc.MinRetryWait, vc.MaxRetryWait = 100*time.Millisecond, 400*time.Millisecond
	client, err := api.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	client.ClearToken() // never a token picked up from the environment by the client itself
	var m authMethod
	if cfg.VaultToken != "" || cfg.VaultTokenFile != "" {
		m = &tokenLogin{token: cfg.VaultToken, file: cfg.VaultTokenFile}
	} else {
		m = &approleLogin{roleID: cfg.VaultRoleID, mount: cfg.AppRoleMount, wrapped: cfg.VaultWrappedSecretID, wrappedFile: cfg.VaultWrappedSecretIDFile}
	}
	v := &Vault{client: client, kv: client.KVv2(cfg.KVMount), transitMount: cfg.TransitMount, kvMount: cfg.KVMount, log: log, now: clock.Now}
	v.keeper = newKeeper(client, m, log)
	if err := v.keeper.start(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// Close stops the token renewal. A token from an AppRole login belongs to this process alone
// and is revoked; a given token (VAULT_TOKEN, a token file) may be shared and is left alone.
func (v *Vault) Close() error {
	v.keeper.stop()
	if _, ok := v.keeper.method.(*approleLogin); ok && v.keeper.state() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := v.client.Auth().Token().RevokeSelfWithContext(ctx, ""); err != nil {
			v.log.Warn("revoke the vault token at close", "err", err)
		}
	}
	return nil
}

// Ping reports whether keys can be used: the app is logged in, Vault answers and is unsealed,
// and the token may use transit keys. It warns once when the policy would let an encrypt
// re-create a destroyed key.
func (v *Vault) Ping(ctx context.Context) error {
	if err := v.keeper.ready(ctx); err != nil {
		return err
	}
	probe := v.transitMount + "/encrypt/" + keyName(uuid.Max)
	caps, err := v.client.Sys().CapabilitiesSelfWithContext(ctx, probe)
	if err != nil {
		return v.fail(ctx, uuid.Nil, err)
	}
	if slices.Contains(caps, "root") || slices.Contains(caps, "create") {
		v.warn.Do(func() {
			v.log.Warn("the vault token may create transit keys on encrypt: a destroyed tenant key could be re-created silently; use the policy in deploy/vault/cityops-app.hcl", "capabilities", caps)
		})
	}
	if !slices.Contains(caps, "root") && !slices.Contains(caps, "update") {
		return errs.E(errs.Unavailable, msgVaultTokenMayNotUse, probe, caps)
	}
	return nil
}

// call runs op with the current token. When Vault refuses the token itself (expired, revoked),
// it logs in again and runs op once more.
func (v *Vault) call(ctx context.Context, op func(ctx context.Context) error) (err error) {
	defer func() { countVaultError(err) }()
	if err := v.keeper.ready(ctx); err != nil {
		return err
	}
	err = op(ctx)
	if !isStatus(err, http.StatusForbidden) || v.tokenValid(ctx) {
		return err
	}
	if err := v.keeper.relogin(ctx); err != nil {
		return err
	}
	return op(ctx)
}

// tokenValid tells a dead token from a policy that denies: only the first gives 403 on
// lookup-self, which the default policy allows.
func (v *Vault) tokenValid(ctx context.Context) bool {
	_, err := v.client.Auth().Token().LookupSelfWithContext(ctx)
	return !isStatus(err, http.StatusForbidden)
}

func isStatus(err error, code int) bool {
	var re *api.ResponseError
	return errors.As(err, &re) && re.StatusCode == code
}

// fail translates an error from Vault into the errs vocabulary. tenant may be uuid.Nil when no
// key is involved.
func (v *Vault) fail(ctx context.Context, tenant uuid.UUID, err error) error {
	if err == nil {
		return nil
	}
	var coded *errs.Error
	if errors.As(err, &coded) {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("vault: %w", ctx.Err())
	}
	var re *api.ResponseError
	if !errors.As(err, &re) {
		return errs.Wrap(err, errs.Unavailable, msgKeyServiceVaultCannotReached)
	}
	msg := strings.ToLower(strings.Join(re.Errors, "; "))
	switch {
	case re.StatusCode == http.StatusServiceUnavailable || strings.Contains(msg, "vault is sealed"):
		return errs.Wrap(err, errs.Unavailable, msgKeyServiceVaultSealedUnavailable)
	case re.StatusCode == http.StatusTooManyRequests || re.StatusCode >= 500:
		return errs.Wrap(err, errs.Unavailable, msgKeyServiceVaultFailedAnswer)
	case re.StatusCode == http.StatusForbidden:
		return errs.Wrap(err, errs.Unavailable, msgKeyServiceVaultDeniedApp)
	}
	if tenant != uuid.Nil {
		if e := v.itemError(ctx, tenant, msg); e != nil {
			return errs.Wrap(err, errs.CodeOf(e), msgMessage, errs.MessageOf(e))
		}
	}
	return errs.Wrap(err, errs.Internal, msgVaultRequestFailed)
}

// itemError classifies a transit error message, or returns nil.
func (v *Vault) itemError(ctx context.Context, tenant uuid.UUID, msg string) error {
	msg = strings.ToLower(msg)
	switch {
	case msg == "":
		return nil
	case strings.Contains(msg, "key not found") || strings.Contains(msg, "no existing key"):
		return v.missingKey(ctx, tenant)
	case strings.Contains(msg, "disallowed by policy") || strings.Contains(msg, "too old"):
		return errs.E(errs.Invalid, msgCiphertextWasMadeKeyVersion2)
	case strings.Contains(msg, "message authentication failed") || strings.Contains(msg, "invalid ciphertext") ||
		strings.Contains(msg, "invalid key version") || strings.Contains(msg, "unable to decrypt"):
		return errWrongKey()
	case strings.Contains(msg, "base64") || strings.Contains(msg, "invalid"):
		return errs.E(errs.Invalid, msgValueNotCiphertextPlatform)
	}
	return errs.E(errs.Internal, msgTransit, msg)
}

// missingKey tells a destroyed key (a tombstone exists) from one never made.
func (v *Vault) missingKey(ctx context.Context, tenant uuid.UUID) error {
	destroyed, err := v.tombstoned(ctx, tenant)
	switch {
	case err != nil:
		return err
	case destroyed:
		return errDestroyed(tenant)
	}
	return errNoKey(tenant)
}

func tombstonePath(t uuid.UUID) string { return "tenants/" + t.String() + "/tombstone" }

func credentialPath(t uuid.UUID, name string) string {
	return "tenants/" + t.String() + "/credentials/" + name
}

func (v *Vault) tombstoned(ctx context.Context, tenant uuid.UUID) (bool, error) {
	var found bool
	err := v.call(ctx, func(ctx context.Context) error {
		_, err := v.kv.Get(ctx, tombstonePath(tenant))
		if errors.Is(err, api.ErrSecretNotFound) {
			found = false
			return nil
		}
		found = err == nil
		return err
	})
	return found, v.fail(ctx, uuid.Nil, err)
}

func (v *Vault) keyPath(t uuid.UUID, op string) string {
	if op == "" {
		return v.transitMount + "/keys/" + keyName(t)
	}
	return v.transitMount + "/" + op + "/" + keyName(t)
}

// readKey reads the tenant's transit key; nil when there is none.
func (v *Vault) readKey(ctx context.Context, tenant uuid.UUID) (*KeyInfo, error) {
	var info *KeyInfo
	err := v.call(ctx, func(ctx context.Context) error {
		s, err := v.client.Logical().ReadWithContext(ctx, v.keyPath(tenant, ""))
		if err != nil || s == nil {
			info = nil
			return err
		}
		info = &KeyInfo{LatestVersion: intField(s.Data, "latest_version"), MinDecryptionVersion: intField(s.Data, "min_decryption_version")}
		return nil
	})
	return info, v.fail(ctx, tenant, err)
}

func intField(data map[string]any, key string) int {
	switch n := data[key].(type) {
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	case float64:
		return int(n)
	case int:
		return n
	}
	return 0
}

// EnsureTenantKey creates the tenant's transit key if it has none.
func (v *Vault) EnsureTenantKey(ctx context.Context, tenant uuid.UUID) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	destroyed, err := v.tombstoned(ctx, tenant)
	if err != nil {
		return err
	}
	if destroyed {
		return errDestroyed(tenant)
	}
	if k, err := v.readKey(ctx, tenant); err != nil || k != nil {
		return err
	}
	// A write to keys/<name> creates the key, or leaves an existing one as it is: two
	// provisioning runs racing each other both succeed.
	err = v.call(ctx, func(ctx context.Context) error {
		_, err := v.client.Logical().WriteWithContext(ctx, v.keyPath(tenant, ""), map[string]any{
			"type": "aes256-gcm96", "exportable": false, "allow_plaintext_backup": false,
		})
		return err
	})
	if err == nil {
		v.log.Info("tenant key created", "tenant", tenant)
	}
	return v.fail(ctx, tenant, err)
}

// TenantKey describes the tenant's transit key.
func (v *Vault) TenantKey(ctx context.Context, tenant uuid.UUID) (KeyInfo, error) {
	if err := checkTenant(tenant); err != nil {
		return KeyInfo{}, err
	}
	k, err := v.readKey(ctx, tenant)
	if err != nil {
		return KeyInfo{}, err
	}
	if k == nil {
		return KeyInfo{}, v.missingKey(ctx, tenant)
	}
	return *k, nil
}

// RotateTenantKey adds a key version.
func (v *Vault) RotateTenantKey(ctx context.Context, tenant uuid.UUID) (KeyInfo, error) {
	if _, err := v.TenantKey(ctx, tenant); err != nil {
		return KeyInfo{}, err
	}
	err := v.call(ctx, func(ctx context.Context) error {
		_, err := v.client.Logical().WriteWithContext(ctx, v.keyPath(tenant, "keys")+"/rotate", nil)
		return err
	})
	if err := v.fail(ctx, tenant, err); err != nil {
		return KeyInfo{}, err
	}
	info, err := v.TenantKey(ctx, tenant)
	if err == nil {
		v.log.Info("tenant key rotated", "tenant", tenant, "version", info.LatestVersion)
	}
	return info, err
}

// SetMinDecryptionVersion sets the oldest key version that still decrypts.
func (v *Vault) SetMinDecryptionVersion(ctx context.Context, tenant uuid.UUID, version int) error {
	info, err := v.TenantKey(ctx, tenant)
	if err != nil {
		return err
	}
	if version < 1 || version > info.LatestVersion {
		return errs.Field("min_decryption_version", msgMinimumDecryptionVersionMustBetween, info.LatestVersion)
	}
	err = v.call(ctx, func(ctx context.Context) error {
		_, err := v.client.Logical().WriteWithContext(ctx, v.keyPath(tenant, "keys")+"/config", map[string]any{"min_decryption_version": version})
		return err
	})
	return v.fail(ctx, tenant, err)
}

// DestroyTenantKey deletes the tenant's transit key and its credentials. A tombstone written
// first makes the destruction stick: EnsureTenantKey refuses the tenant from then on, and a
// crash half-way is finished by running it again.
func (v *Vault) DestroyTenantKey(ctx context.Context, tenant uuid.UUID) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	destroyed, err := v.tombstoned(ctx, tenant)
	if err != nil {
		return err
	}
	if !destroyed {
		err := v.call(ctx, func(ctx context.Context) error {
			_, err := v.kv.Put(ctx, tombstonePath(tenant), map[string]any{"destroyed_at": v.now().UTC().Format(time.RFC3339)})
			return err
		})
		if err != nil {
			return v.fail(ctx, uuid.Nil, err)
		}
	}
	k, err := v.readKey(ctx, tenant)
	if err != nil {
		return err
	}
	if k != nil {
		err = v.call(ctx, func(ctx context.Context) error {
			// Transit refuses to delete a key unless deletion_allowed was set first.
			if _, err := v.client.Logical().WriteWithContext(ctx, v.keyPath(tenant, "keys")+"/config", map[string]any{"deletion_allowed": true}); err != nil {
				return err
			}
			_, err := v.client.Logical().DeleteWithContext(ctx, v.keyPath(tenant, ""))
			return err
		})
		if err != nil {
			return v.fail(ctx, uuid.Nil, err)
		}
		v.log.Info("tenant key destroyed", "tenant", tenant, "versions", k.LatestVersion)
	}
	names, err := v.credentialNames(ctx, tenant)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := v.DeleteCredential(ctx, tenant, name); err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
	}
	return nil
}

// transitItem is one element of a transit request or response.
type transitItem struct {
	Plaintext  string `json:"plaintext,omitempty"`
	Ciphertext string `json:"ciphertext,omitempty"`
	Error      string `json:"error,omitempty"`
}

// transit runs one transit operation (encrypt, decrypt, rewrap) over items, in chunks. Items are
// sent in batch_input form even when there is one, so that errors come back per item.
func (v *Vault) transit(ctx context.Context, tenant uuid.UUID, op string, in []transitItem) ([]transitItem, error) {
	// One request at a time: two in parallel measured no faster here (see docs/secrets.md).
	out := make([]transitItem, 0, len(in))
	for chunk := range slices.Chunk(in, batchChunk) {
		res, err := v.transitChunk(ctx, tenant, op, chunk)
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

func (v *Vault) transitChunk(ctx context.Context, tenant uuid.UUID, op string, in []transitItem) ([]transitItem, error) {
	body, err := json.Marshal(struct {
		BatchInput []transitItem `json:"batch_input"`
	}{in})
	if err != nil {
		return nil, err
	}
	var res struct {
		Data struct {
			BatchResults []transitItem `json:"batch_results"`
		} `json:"data"`
	}
	err = v.call(ctx, func(ctx context.Context) error {
		r := v.client.NewRequest(http.MethodPut, "/v1/"+v.keyPath(tenant, op))
		r.BodyBytes = body
		// Not Logical().WriteRawWithContext: it cancels its context on return, before the body
		// is read (api v1.23). ReadRawWithContext uses this call for the same reason.
		//lint:ignore SA1019 the non-deprecated raw write cannot read the response body
		resp, err := v.client.RawRequestWithContext(ctx, r)
		if resp == nil {
			return err
		}
		defer resp.Body.Close()
		res.Data.BatchResults = nil
		// A batch whose items failed answers 400 with the errors per item in the body.
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusBadRequest {
			if derr := json.NewDecoder(resp.Body).Decode(&res); derr == nil && len(res.Data.BatchResults) > 0 {
				return nil
			}
		}
		return err
	})
	if err != nil {
		if isStatus(err, http.StatusForbidden) && op == "encrypt" {
			return nil, v.encryptDenied(ctx, tenant, err)
		}
		return nil, v.fail(ctx, tenant, err)
	}
	for _, r := range res.Data.BatchResults {
		if r.Error != "" {
			e := v.itemError(ctx, tenant, r.Error)
			return nil, errs.Wrap(errors.New(r.Error), errs.CodeOf(e), msgMessage, errs.MessageOf(e))
		}
	}
	if len(res.Data.BatchResults) != len(in) {
		return nil, errs.E(errs.Internal, msgVaultAnsweredResultsValues, op, len(res.Data.BatchResults), len(in))
	}
	return res.Data.BatchResults, nil
}

// encryptDenied explains a 403 on encrypt. The app policy has update but not create on
// transit/encrypt, so Vault treats an encrypt under a missing key as a create and denies it:
// that is a destroyed key (or one never made), not a policy problem.
func (v *Vault) encryptDenied(ctx context.Context, tenant uuid.UUID, denied error) error {
	k, err := v.readKey(ctx, tenant)
	if err == nil && k == nil {
		return v.missingKey(ctx, tenant)
	}
	return v.fail(ctx, tenant, denied)
}

// Encrypt encrypts plaintext with the tenant's transit key.
func (v *Vault) Encrypt(ctx context.Context, tenant uuid.UUID, plaintext []byte) (string, error) {
	out, err := v.EncryptBatch(ctx, tenant, [][]byte{plaintext})
	if err != nil {
		return "", err
	}
	return out[0], nil
}

// Decrypt decrypts a ciphertext of the tenant.
func (v *Vault) Decrypt(ctx context.Context, tenant uuid.UUID, ciphertext string) ([]byte, error) {
	out, err := v.DecryptBatch(ctx, tenant, []string{ciphertext})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// EncryptBatch encrypts many values through transit's batch_input.
func (v *Vault) EncryptBatch(ctx context.Context, tenant uuid.UUID, plaintexts [][]byte) ([]string, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	if err := checkPlaintexts(plaintexts); err != nil {
		return nil, err
	}
	out := make([]string, len(plaintexts))
	var in []transitItem
	var at []int
	for i, p := range plaintexts {
		if len(p) > 0 {
			in = append(in, transitItem{Plaintext: base64.StdEncoding.EncodeToString(p)})
			at = append(at, i)
		}
	}
	if len(in) == 0 {
		return out, nil
	}
	res, err := v.transit(ctx, tenant, "encrypt", in)
	if err != nil {
		return nil, err
	}
	for j, r := range res {
		if !strings.HasPrefix(r.Ciphertext, prefixVault+":v") {
			return nil, errs.E(errs.Internal, msgVaultEncryptReturnedNoCiphertext)
		}
		out[at[j]] = r.Ciphertext
	}
	return out, nil
}

// DecryptBatch decrypts many values through transit's batch_input.
func (v *Vault) DecryptBatch(ctx context.Context, tenant uuid.UUID, ciphertexts []string) ([][]byte, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	out := make([][]byte, len(ciphertexts))
	var in []transitItem
	var at []int
	for i, c := range ciphertexts {
		if c == "" {
			out[i] = []byte{}
			continue
		}
		if _, _, err := parseCiphertext(c, prefixVault); err != nil {
			return nil, err
		}
		in = append(in, transitItem{Ciphertext: c})
		at = append(at, i)
	}
	if len(in) == 0 {
		return out, nil
	}
	res, err := v.transit(ctx, tenant, "decrypt", in)
	if err != nil {
		return nil, err
	}
	for j, r := range res {
		p, err := base64.StdEncoding.DecodeString(r.Plaintext)
		if err != nil {
			return nil, errs.Wrap(err, errs.Internal, msgVaultDecryptReturnedBadBase64)
		}
		out[at[j]] = p
	}
	return out, nil
}

// Rewrap re-encrypts ciphertexts under the newest key version; Vault never shows the plaintext.
func (v *Vault) Rewrap(ctx context.Context, tenant uuid.UUID, ciphertexts []string) ([]string, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	out := make([]string, len(ciphertexts))
	var in []transitItem
	var at []int
	for i, c := range ciphertexts {
		if c == "" {
			continue
		}
		if _, _, err := parseCiphertext(c, prefixVault); err != nil {
			return nil, fmt.Errorf("value %d: %w", i+1, err)
		}
		in = append(in, transitItem{Ciphertext: c})
		at = append(at, i)
	}
	if len(in) == 0 {
		return out, nil
	}
	res, err := v.transit(ctx, tenant, "rewrap", in)
	if err != nil {
		return nil, err
	}
	for j, r := range res {
		out[at[j]] = r.Ciphertext
	}
	return out, nil
}

// PutCredential writes the credential to KV v2; the masked metadata is stored beside the value.
func (v *Vault) PutCredential(ctx context.Context, tenant uuid.UUID, name, value, setBy string) (Credential, error) {
	if err := checkTenant(tenant); err != nil {
		return Credential{}, err
	}
	if err := checkCredential(name, value, setBy); err != nil {
		return Credential{}, err
	}
	destroyed, err := v.tombstoned(ctx, tenant)
	if err != nil {
		return Credential{}, err
	}
	if destroyed {
		return Credential{}, errDestroyed(tenant)
	}
	c := Credential{Name: name, Last4: last4(value), SetAt: v.now().UTC().Truncate(time.Second), SetBy: setBy}
	err = v.call(ctx, func(ctx context.Context) error {
		_, err := v.kv.Put(ctx, credentialPath(tenant, name), map[string]any{
			"value": value, "last4": c.Last4, "set_by": setBy, "set_at": c.SetAt.Format(time.RFC3339),
		})
		return err
	})
	if err != nil {
		return Credential{}, v.fail(ctx, uuid.Nil, err)
	}
	return c, nil
}

func (v *Vault) credentialNames(ctx context.Context, tenant uuid.UUID) ([]string, error) {
	var names []string
	err := v.call(ctx, func(ctx context.Context) error {
		s, err := v.client.Logical().ListWithContext(ctx, v.kvMount+"/metadata/tenants/"+tenant.String()+"/credentials/")
		names = nil
		if err != nil || s == nil {
			return err
		}
		keys, _ := s.Data["keys"].([]any)
		for _, k := range keys {
			if n, ok := k.(string); ok && checkCredentialName(n) == nil {
				names = append(names, n)
			}
		}
		return nil
	})
	slices.Sort(names)
	return names, v.fail(ctx, uuid.Nil, err)
}

// ListCredentials lists the tenant's credentials, masked. It reads each one, drops the value
// and returns the rest.
func (v *Vault) ListCredentials(ctx context.Context, tenant uuid.UUID) ([]Credential, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	names, err := v.credentialNames(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := []Credential{}
	for _, name := range names {
		s, err := v.readCredential(ctx, tenant, name)
		if errs.Is(err, errs.NotFound) {
			continue // deleted since the listing
		}
		if err != nil {
			return nil, err
		}
		c := Credential{Name: name}
		c.Last4, _ = s.Data["last4"].(string)
		c.SetBy, _ = s.Data["set_by"].(string)
		at, _ := s.Data["set_at"].(string)
		c.SetAt, _ = time.Parse(time.RFC3339, at)
		out = append(out, c)
	}
	return out, nil
}

func (v *Vault) readCredential(ctx context.Context, tenant uuid.UUID, name string) (*api.KVSecret, error) {
	var s *api.KVSecret
	err := v.call(ctx, func(ctx context.Context) error {
		var err error
		s, err = v.kv.Get(ctx, credentialPath(tenant, name))
		return err
	})
	if errors.Is(err, api.ErrSecretNotFound) || (err == nil && (s == nil || s.Data == nil)) {
		return nil, errNoCredential(name)
	}
	return s, v.fail(ctx, uuid.Nil, err)
}

// Credential returns the value of the named credential, for server-side use only.
func (v *Vault) Credential(ctx context.Context, tenant uuid.UUID, name string) (Secret, error) {
	if err := checkTenant(tenant); err != nil {
		return Secret{}, err
	}
	if err := checkCredentialName(name); err != nil {
		return Secret{}, err
	}
	s, err := v.readCredential(ctx, tenant, name)
	if errs.Is(err, errs.NotFound) {
		if destroyed, terr := v.tombstoned(ctx, tenant); terr == nil && destroyed {
			return Secret{}, errDestroyed(tenant)
		}
	}
	if err != nil {
		return Secret{}, err
	}
	value, _ := s.Data["value"].(string)
	return Secret{value: value}, nil
}

// DeleteCredential deletes the credential and all its versions (KV v2 metadata delete).
func (v *Vault) DeleteCredential(ctx context.Context, tenant uuid.UUID, name string) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	if err := checkCredentialName(name); err != nil {
		return err
	}
	if _, err := v.readCredential(ctx, tenant, name); err != nil {
		return err
	}
	err := v.call(ctx, func(ctx context.Context) error {
		return v.kv.DeleteMetadata(ctx, credentialPath(tenant, name))
	})
	return v.fail(ctx, uuid.Nil, err)
}
