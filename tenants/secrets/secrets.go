package secrets

import (
	"context"
	"encoding/base64"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/google/uuid"
)

// Store is the secret store of the deployment: a Keyring or a Vault. Every method is safe for
// concurrent use. Consumers that need only part of it declare the part (Cipher, Credentials).
type Store interface {
	Keys
	Cipher
	Credentials

	// Ping reports whether tenant keys can be used now: nil, or an errs.Unavailable error that
	// says why not (Vault down, sealed, the token expired or lacking the policy).
	Ping(ctx context.Context) error
	// Close stops background work (token renewal) and releases files.
	Close() error
}

// Keys is the lifecycle of a tenant's key.
type Keys interface {
	// EnsureTenantKey creates the tenant's key if it has none. It is idempotent, and refuses
	// with errs.Destroyed a tenant whose key was destroyed.
	EnsureTenantKey(ctx context.Context, tenant uuid.UUID) error
	// TenantKey describes the tenant's key: errs.NotFound if it has none, errs.Destroyed if it
	// was destroyed.
	TenantKey(ctx context.Context, tenant uuid.UUID) (KeyInfo, error)
	// RotateTenantKey adds a new key version; new ciphertexts use it, old ones stay readable.
	RotateTenantKey(ctx context.Context, tenant uuid.UUID) (KeyInfo, error)
	// Rewrap re-encrypts ciphertexts under the newest key version without exposing the
	// plaintext to the caller. Empty strings stay empty. All or nothing.
	Rewrap(ctx context.Context, tenant uuid.UUID, ciphertexts []string) ([]string, error)
	// SetMinDecryptionVersion refuses ciphertexts made by key versions older than version. Raise
	// it only after every stored ciphertext was re-wrapped; it can be lowered again.
	SetMinDecryptionVersion(ctx context.Context, tenant uuid.UUID, version int) error
	// DestroyTenantKey destroys every version of the tenant's key and its credentials, for
	// good: ciphertexts made with it give errs.Destroyed from then on. It is idempotent.
	DestroyTenantKey(ctx context.Context, tenant uuid.UUID) error
}

// Cipher encrypts and decrypts a tenant's personal data with the tenant's key. An empty plaintext
// encrypts to the empty string and back, so optional fields stay optional without a call to the
// key service.
type Cipher interface {
	Encrypt(ctx context.Context, tenant uuid.UUID, plaintext []byte) (string, error)
	Decrypt(ctx context.Context, tenant uuid.UUID, ciphertext string) ([]byte, error)
	// EncryptBatch encrypts many values in few round trips (imports). All or nothing: on error
	// no ciphertext is returned.
	EncryptBatch(ctx context.Context, tenant uuid.UUID, plaintexts [][]byte) ([]string, error)
	// DecryptBatch decrypts many values in few round trips. All or nothing.
	DecryptBatch(ctx context.Context, tenant uuid.UUID, ciphertexts []string) ([][]byte, error)
}

// Credentials keeps a tenant's integration credentials. Values go in and are never listed:
// ListCredentials gives masked metadata only. Reveal is for server-side code that must use a
// credential (to call the SMS gateway, say); no handler may send its result to a client.
type Credentials interface {
	// PutCredential sets (or replaces) the named credential. setBy says who, for the listing.
	PutCredential(ctx context.Context, tenant uuid.UUID, name, value, setBy string) (Credential, error)
	// ListCredentials lists the tenant's credentials by name, masked.
	ListCredentials(ctx context.Context, tenant uuid.UUID) ([]Credential, error)
	// Credential returns the value of the named credential for use by the server: errs.NotFound
	// if there is none.
	Credential(ctx context.Context, tenant uuid.UUID, name string) (Secret, error)
	// DeleteCredential removes the named credential and all its versions: errs.NotFound if
	// there is none.
	DeleteCredential(ctx context.Context, tenant uuid.UUID, name string) error
}

// KeyInfo describes a tenant's key.
type KeyInfo struct {
	// LatestVersion is the version new ciphertexts are made with (1 after creation).
	LatestVersion int `json:"latest_version"`
	// MinDecryptionVersion is the oldest version that still decrypts.
	MinDecryptionVersion int `json:"min_decryption_version"`
}

// Credential is the masked metadata of an integration credential. It has no field for the value.
type Credential struct {
	Name string `json:"name"`
	// Last4 is the last four characters of the value, or empty when the value is shorter than
	// eight characters (four would give too much of it away).
	Last4 string    `json:"last4"`
	SetAt time.Time `json:"set_at"`
	SetBy string    `json:"set_by"`
}

// Secret is a credential value. It prints, logs and marshals as [redacted]; Reveal gives the
// value to the code that uses it.
type Secret struct{ value string }

// Reveal returns the value.
func (s Secret) Reveal() string { return s.value }

// String returns "[redacted]", so that %v and %s never print the value.
func (Secret) String() string { return "[redacted]" }

// GoString returns "[redacted]", for %#v.
func (Secret) GoString() string { return "[redacted]" }

// LogValue keeps the value out of slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalText keeps the value out of JSON and other encodings.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Limits on what goes into the store.
const (
	// MaxPlaintext bounds one value to encrypt. Personal data fields are short; this keeps a
	// single bad import row from making a huge request to Vault.
	MaxPlaintext = 64 << 10
	// MaxCredential bounds a credential value (PEM bundles fit).
	MaxCredential = 16 << 10
	// batchChunk bounds how many values go to Vault in one request (Vault refuses JSON arrays
	// of more than 10,000 elements by default).
	batchChunk = 2000
)

var credentialNameRe = regexp.MustCompile(`^[a-z][a-z0-9_.-]{1,63}$`)

func checkTenant(t uuid.UUID) error {
	if t == uuid.Nil {
		return errs.Field("tenant", msgTenantIdRequired)
	}
	return nil
}

// keyName is the tenant's transit key name (and the keyring's row key): tenant-<uuid>. The uuid's
// canonical form is lower-case hex and hyphens, safe in a URL path.
func keyName(t uuid.UUID) string { return "tenant-" + t.String() }

func checkCredentialName(name string) error {
	if !credentialNameRe.MatchString(name) {
		return errs.Field("name", msgCredentialNameNotValidUse, textutil.Truncate(name, 70))
	}
	return nil
}

func checkCredential(name, value, setBy string) error {
	if err := checkCredentialName(name); err != nil {
		return err
	}
	switch {
	case value == "":
		return errs.Field("value", msgCredentialValueEmpty)
	case len(value) > MaxCredential:
		return errs.Field("value", msgCredentialValueLongerThanBytes, MaxCredential)
	case !utf8.ValidString(value):
		return errs.Field("value", msgCredentialValueNotValidUtf)
	case len(setBy) > 200 || !utf8.ValidString(setBy):
		return errs.Field("set_by", msgAuthorCredentialNotValidText)
	}
	return nil
}

func checkPlaintexts(ps [][]byte) error {
	for i, p := range ps {
		if len(p) > MaxPlaintext {
			return errs.E(errs.TooLarge, msgValueBytesMostBytesCan, i+1, len(p), MaxPlaintext)
		}
	}
	return nil
}

// last4 masks a credential value down to its last four characters, or nothing for short values.
func last4(value string) string {
	r := []rune(value)
	if len(r) < 8 {
		return ""
	}
	return string(r[len(r)-4:])
}

// Ciphertext prefixes: which implementation made a ciphertext.
const (
	prefixVault   = "vault"
	prefixKeyring = "kr"
)

// parseCiphertext splits "<prefix>:v<version>:<base64>" and checks the prefix is want.
func parseCiphertext(c, want string) (version int, body string, err error) {
	prefix, version, body, err := splitCiphertext(c)
	if err != nil {
		return 0, "", err
	}
	if prefix != want {
		return 0, "", errs.E(errs.Invalid, msgCiphertextWasMadeAnotherSecret, backendName(prefix), backendName(want))
	}
	return version, body, nil
}

func splitCiphertext(c string) (prefix string, version int, body string, err error) {
	bad := func() (string, int, string, error) {
		return "", 0, "", errs.E(errs.Invalid, msgValueNotCiphertextPlatform)
	}
	prefix, rest, ok := strings.Cut(c, ":")
	if !ok || (prefix != prefixVault && prefix != prefixKeyring) {
		return bad()
	}
	v, body, ok := strings.Cut(rest, ":")
	if !ok || len(v) < 2 || len(v) > 10 || v[0] != 'v' || v[1] == '0' {
		return bad()
	}
	version, err = strconv.Atoi(v[1:])
	if err != nil || version < 1 || body == "" {
		return bad()
	}
	if _, err := base64.StdEncoding.DecodeString(body); err != nil {
		return bad()
	}
	return prefix, version, body, nil
}

// CiphertextVersion returns the key version that made ciphertext, so a re-wrap job can find the
// values still on an old version. The empty string (an empty plaintext) has version 0.
func CiphertextVersion(ciphertext string) (int, error) {
	if ciphertext == "" {
		return 0, nil
	}
	_, v, _, err := splitCiphertext(ciphertext)
	return v, err
}

func backendName(prefix string) string {
	if prefix == prefixVault {
		return "Vault"
	}
	return "the local keyring"
}

// Errors shared by both implementations.
func errDestroyed(t uuid.UUID) error {
	return errs.E(errs.Destroyed, msgDataWasDestroyedEncryptionKey, t)
}

func errNoKey(t uuid.UUID) error {
	return errs.E(errs.NotFound, msgTenantHasNoEncryptionKey, t)
}

func errWrongKey() error {
	return errs.E(errs.Invalid, msgCiphertextCannotDecryptedTenantKey)
}

func errNoCredential(name string) error {
	return errs.E(errs.NotFound, msgThereNoCredentialNamed, name)
}
