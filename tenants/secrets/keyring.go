package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/cache"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Keyring is the local secret store: per-tenant AES-256-GCM data keys, wrapped by a master key
// file, in a SQLite file under <data dir>/secrets/. It needs nothing but the data directory.
//
// The master key (32 random bytes, master.key, mode 0600) is created on first start. Two keys are
// derived from it with HKDF: one wraps the tenant data keys, one seals credentials. Losing
// master.key loses every tenant's personal data; back it up apart from the database backups.
type Keyring struct {
	db   *dbx.SQLiteHandle
	wrap cipher.AEAD // wraps tenant data keys
	cred cipher.AEAD // seals credential values
	log  *slog.Logger
	now  func() time.Time
	// keys are tenants' key sets, unwrapped, by tenant and the keyring file's data version.
	keys  *cache.Cache[keyVersion, *keySet]
	watch dataVersion
}

type keyVersion struct {
	tenant  uuid.UUID
	version int64
}

// keyCacheTTL bounds how long an unchanged key set stays in memory.
const keyCacheTTL = time.Minute

// dataVersion reads SQLite's PRAGMA data_version on one connection of its own: the value
// changes whenever another connection (this process's writer, or another process such as the
// CLI) commits to the keyring file. Encryption and decryption reuse a tenant's key set only while
// it is unchanged, so a key rotated or destroyed anywhere is seen by the next call, and the key
// set is not read and unwrapped for every value.
type dataVersion struct {
	db   *sql.DB
	mu   sync.Mutex
	conn *sql.Conn
	stmt *sql.Stmt
	last int64 // the version read last
}

// get returns the file's data version and whether it differs from the one read before.
func (d *dataVersion) get(ctx context.Context) (v int64, changed bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		conn, err := d.db.Conn(ctx)
		if err != nil {
			return 0, false, err
		}
		stmt, err := conn.PrepareContext(ctx, "PRAGMA data_version")
		if err != nil {
			conn.Close()
			return 0, false, err
		}
		d.conn, d.stmt = conn, stmt
	}
	if err := d.stmt.QueryRowContext(ctx).Scan(&v); err != nil {
		d.closeLocked() // a new connection starts a new sequence: the next read counts as a change
		d.last = 0
		return 0, false, err
	}
	changed, d.last = v != d.last, v
	return v, changed, nil
}

func (d *dataVersion) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closeLocked()
}

func (d *dataVersion) closeLocked() {
	if d.conn != nil {
		d.stmt.Close()
		d.conn.Close()
		d.conn, d.stmt = nil, nil
	}
}

// keySetFor is the tenant's key set for encryption and decryption, from the cache while the
// keyring file is unchanged.
func (k *Keyring) keySetFor(ctx context.Context, tenant uuid.UUID) (*keySet, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	v, changed, err := k.watch.get(ctx)
	if err != nil {
		return nil, k.dbErr(err)
	}
	if changed {
		// Drop every set read under an older version: a destroyed tenant key must not stay
		// unwrapped in memory, however unreachable, until it ages out.
		k.keys.Purge()
	}
	return k.keys.Get(ctx, keyVersion{tenant, v}, func(ctx context.Context) (*keySet, error) {
		return k.loadKeys(ctx, k.db.Reader, tenant)
	})
}

var _ Store = (*Keyring)(nil)

const (
	masterKeyFile = "master.key"
	keyringFile   = "keyring.db"
	checkValue    = "cityops keyring check"
)

const keyringSchema = `
CREATE TABLE IF NOT EXISTS meta (
	k TEXT PRIMARY KEY,
	v BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tenants (
	tenant_id TEXT PRIMARY KEY,
	min_decryption_version INTEGER NOT NULL DEFAULT 1,
	created_at TEXT NOT NULL,
	destroyed_at TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tenant_keys (
	tenant_id TEXT NOT NULL,
	version INTEGER NOT NULL,
	wrapped BLOB NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (tenant_id, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS credentials (
	tenant_id TEXT NOT NULL,
	name TEXT NOT NULL,
	sealed BLOB NOT NULL,
	last4 TEXT NOT NULL,
	set_by TEXT NOT NULL,
	set_at TEXT NOT NULL,
	PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;
`

// OpenKeyring opens (or creates) the keyring under dataDir/secrets.
func OpenKeyring(ctx context.Context, dataDir string, log *slog.Logger) (*Keyring, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := filepath.Join(dataDir, "secrets")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keyring directory: %w", err)
	}
	h, err := dbx.OpenSQLite(filepath.Join(dir, keyringFile), nil, 4)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	k := &Keyring{db: h, log: log.With("component", "secrets", "backend", BackendKeyring), now: clock.Now,
		keys: cache.New[keyVersion, *keySet](10_000, keyCacheTTL), watch: dataVersion{db: h.Reader.DB}}
	if err := k.init(ctx, dir); err != nil {
		h.Close()
		return nil, err
	}
	return k, nil
}

func (k *Keyring) init(ctx context.Context, dir string) error {
	// secure_delete: a deleted key's bytes are overwritten in the file, not left in free pages.
	if _, err := k.db.Writer.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if _, err := k.db.Writer.ExecContext(ctx, keyringSchema); err != nil {
		return fmt.Errorf("keyring schema: %w", err)
	}
	var check []byte
	err := k.db.Writer.NewRaw("SELECT v FROM meta WHERE k = 'check'").Scan(ctx, &check)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("keyring: %w", err)
	}
	master, err := loadMasterKey(filepath.Join(dir, masterKeyFile), check == nil)
	if err != nil {
		return err
	}
	if k.wrap, err = deriveAEAD(master, "cityops keyring: wrap tenant data keys"); err != nil {
		return err
	}
	if k.cred, err = deriveAEAD(master, "cityops keyring: seal credentials"); err != nil {
		return err
	}
	clear(master)
	if check == nil {
		sealed := k.wrap.Seal(nil, nil, []byte(checkValue), []byte("check"))
		_, err := k.db.Writer.ExecContext(ctx, "INSERT INTO meta (k, v) VALUES ('check', ?) ON CONFLICT (k) DO NOTHING", sealed)
		return err
	}
	got, err := k.wrap.Open(nil, nil, check, []byte("check"))
	if err != nil || subtle.ConstantTimeCompare(got, []byte(checkValue)) != 1 {
		return fmt.Errorf("keyring: %s does not belong to %s (it was replaced?); restore the master key that made the keyring", filepath.Join(dir, masterKeyFile), filepath.Join(dir, keyringFile))
	}
	return nil
}

// loadMasterKey reads the master key, or creates it when create is true (an empty keyring).
func loadMasterKey(path string, create bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return nil, fmt.Errorf("keyring: %s is missing but the keyring already holds keys wrapped by it; restore it from the backup", path)
		}
		if err := createMasterKey(path); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("keyring master key: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keyring master key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keyring: %s is readable by others (mode %04o); run chmod 600 on it", path, fi.Mode().Perm())
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("keyring: %s is not a base64 encoded 32-byte key", path)
	}
	return key, nil
}

// createMasterKey writes a new random key to a temporary file and links it into place, so that
// two processes starting at once agree on one key and nobody ever reads a half-written file.
func createMasterKey(path string) error {
	key := make([]byte, 32)
	rand.Read(key)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".master-*.tmp")
	if err != nil {
		return fmt.Errorf("keyring master key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("keyring master key: %w", err)
	}
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("keyring master key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("keyring master key: %w", err)
	}
	return nil
}

func deriveAEAD(master []byte, purpose string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, master, nil, purpose, 32)
	if err != nil {
		return nil, err
	}
	return newAEAD(key)
}

// newAEAD is AES-256-GCM with a random 96-bit nonce prepended to each ciphertext.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// Close closes the keyring's database.
func (k *Keyring) Close() error {
	k.watch.close()
	return k.db.Close()
}

// Ping checks that the keyring's database answers; the keys are always available.
func (k *Keyring) Ping(ctx context.Context) error {
	if err := k.db.Reader.PingContext(ctx); err != nil {
		return errs.Wrap(err, errs.Unavailable, msgLocalKeyringCannotRead)
	}
	return nil
}

// keySet is what the keyring knows of one tenant's key at one moment.
type keySet struct {
	tenant    uuid.UUID
	exists    bool
	destroyed bool
	min       int
	latest    int
	wrapped   map[int][]byte
	mu        sync.Mutex // guards aeads
	aeads     map[int]cipher.AEAD
	k         *Keyring
}

func (k *Keyring) loadKeys(ctx context.Context, db bun.IDB, tenant uuid.UUID) (*keySet, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	ks := &keySet{tenant: tenant, k: k, wrapped: map[int][]byte{}, aeads: map[int]cipher.AEAD{}}
	rows, err := db.QueryContext(ctx, `SELECT t.min_decryption_version, t.destroyed_at, k.version, k.wrapped
		FROM tenants t LEFT JOIN tenant_keys k ON k.tenant_id = t.tenant_id WHERE t.tenant_id = ?`, tenant.String())
	if err != nil {
		return nil, k.dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var destroyed sql.NullString
		var v sql.NullInt64
		var w []byte
		if err := rows.Scan(&ks.min, &destroyed, &v, &w); err != nil {
			return nil, k.dbErr(err)
		}
		ks.exists, ks.destroyed = true, destroyed.Valid
		if v.Valid {
			ks.wrapped[int(v.Int64)] = w
			ks.latest = max(ks.latest, int(v.Int64))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, k.dbErr(err)
	}
	return ks, nil
}

// usable fails unless the tenant has a live key.
func (ks *keySet) usable() error {
	switch {
	case ks.destroyed:
		return errDestroyed(ks.tenant)
	case !ks.exists || ks.latest == 0:
		return errNoKey(ks.tenant)
	}
	return nil
}

func (ks *keySet) aead(version int) (cipher.AEAD, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if a, ok := ks.aeads[version]; ok {
		return a, nil
	}
	w, ok := ks.wrapped[version]
	if !ok {
		return nil, errs.E(errs.Invalid, msgCiphertextNamesKeyVersionWhich, version)
	}
	raw, err := ks.k.wrap.Open(nil, nil, w, wrapAAD(ks.tenant, version))
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, msgTenantKeyVersionCannotUnwrapped, ks.tenant, version)
	}
	a, err := newAEAD(raw)
	clear(raw)
	if err != nil {
		return nil, err
	}
	ks.aeads[version] = a
	return a, nil
}

func wrapAAD(t uuid.UUID, version int) []byte {
	return []byte("cityops keyring data key " + t.String() + " v" + strconv.Itoa(version))
}

func dataAAD(t uuid.UUID, version int) []byte {
	return []byte(t.String() + " v" + strconv.Itoa(version))
}

func (ks *keySet) encrypt(p []byte) (string, error) {
	if len(p) == 0 {
		return "", nil
	}
	a, err := ks.aead(ks.latest)
	if err != nil {
		return "", err
	}
	sealed := a.Seal(nil, nil, p, dataAAD(ks.tenant, ks.latest))
	return prefixKeyring + ":v" + strconv.Itoa(ks.latest) + ":" + base64.StdEncoding.EncodeToString(sealed), nil
}

func (ks *keySet) decrypt(c string) ([]byte, error) {
	if c == "" {
		return []byte{}, nil
	}
	version, body, err := parseCiphertext(c, prefixKeyring)
	if err != nil {
		return nil, err
	}
	if version < ks.min {
		return nil, errTooOld(version, ks.min)
	}
	a, err := ks.aead(version)
	if err != nil {
		return nil, err
	}
	sealed, _ := base64.StdEncoding.DecodeString(body) // checked by parseCiphertext
	p, err := a.Open(nil, nil, sealed, dataAAD(ks.tenant, version))
	if err != nil {
		return nil, errWrongKey()
	}
	return p, nil
}

func errTooOld(version, min int) error {
	return errs.E(errs.Invalid, msgCiphertextWasMadeKeyVersion, version, min)
}

func (k *Keyring) dbErr(err error) error {
	if errs.CodeOf(err) != errs.Internal {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return errs.Wrap(err, errs.Unavailable, msgLocalKeyringDatabaseCannotUsed)
}

// writeTx runs fn in an immediate write transaction.
func (k *Keyring) writeTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	err := k.db.Writer.RunInTx(ctx, nil, fn)
	if err != nil {
		return k.dbErr(dbx.Translate(err))
	}
	return nil
}

func (k *Keyring) stamp() string { return k.now().UTC().Format(time.RFC3339Nano) }

// EnsureTenantKey creates version 1 of the tenant's key if it has none.
func (k *Keyring) EnsureTenantKey(ctx context.Context, tenant uuid.UUID) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	return k.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		ks, err := k.loadKeys(ctx, tx, tenant)
		if err != nil {
			return err
		}
		if ks.destroyed {
			return errDestroyed(tenant)
		}
		if ks.latest > 0 {
			return nil
		}
		now := k.stamp()
		if _, err := tx.ExecContext(ctx, "INSERT INTO tenants (tenant_id, min_decryption_version, created_at) VALUES (?, 1, ?) ON CONFLICT (tenant_id) DO NOTHING", tenant.String(), now); err != nil {
			return err
		}
		return k.addVersion(ctx, tx, tenant, 1, now)
	})
}

func (k *Keyring) addVersion(ctx context.Context, tx bun.Tx, tenant uuid.UUID, version int, now string) error {
	raw := make([]byte, 32)
	rand.Read(raw)
	wrapped := k.wrap.Seal(nil, nil, raw, wrapAAD(tenant, version))
	clear(raw)
	_, err := tx.ExecContext(ctx, "INSERT INTO tenant_keys (tenant_id, version, wrapped, created_at) VALUES (?, ?, ?, ?)", tenant.String(), version, wrapped, now)
	return err
}

// TenantKey describes the tenant's key.
func (k *Keyring) TenantKey(ctx context.Context, tenant uuid.UUID) (KeyInfo, error) {
	ks, err := k.loadKeys(ctx, k.db.Reader, tenant)
	if err != nil {
		return KeyInfo{}, err
	}
	if err := ks.usable(); err != nil {
		return KeyInfo{}, err
	}
	return KeyInfo{LatestVersion: ks.latest, MinDecryptionVersion: ks.min}, nil
}

// RotateTenantKey adds a key version.
func (k *Keyring) RotateTenantKey(ctx context.Context, tenant uuid.UUID) (KeyInfo, error) {
	var info KeyInfo
	err := k.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		ks, err := k.loadKeys(ctx, tx, tenant)
		if err != nil {
			return err
		}
		if err := ks.usable(); err != nil {
			return err
		}
		info = KeyInfo{LatestVersion: ks.latest + 1, MinDecryptionVersion: ks.min}
		return k.addVersion(ctx, tx, tenant, info.LatestVersion, k.stamp())
	})
	if err == nil {
		k.log.Info("tenant key rotated", "tenant", tenant, "version", info.LatestVersion)
	}
	return info, err
}

// SetMinDecryptionVersion sets the oldest key version that still decrypts.
func (k *Keyring) SetMinDecryptionVersion(ctx context.Context, tenant uuid.UUID, version int) error {
	return k.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		ks, err := k.loadKeys(ctx, tx, tenant)
		if err != nil {
			return err
		}
		if err := ks.usable(); err != nil {
			return err
		}
		if version < 1 || version > ks.latest {
			return errs.Field("min_decryption_version", msgMinimumDecryptionVersionMustBetween, ks.latest)
		}
		_, err = tx.ExecContext(ctx, "UPDATE tenants SET min_decryption_version = ? WHERE tenant_id = ?", version, tenant.String())
		return err
	})
}

// Rewrap re-encrypts ciphertexts under the newest key version.
func (k *Keyring) Rewrap(ctx context.Context, tenant uuid.UUID, ciphertexts []string) ([]string, error) {
	ks, err := k.keySetFor(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if err := ks.usable(); err != nil {
		return nil, err
	}
	out := make([]string, len(ciphertexts))
	for i, c := range ciphertexts {
		if c == "" {
			continue
		}
		p, err := ks.decrypt(c)
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i+1, err)
		}
		if out[i], err = ks.encrypt(p); err != nil {
			return nil, err
		}
		clear(p)
	}
	return out, nil
}

// DestroyTenantKey deletes every version of the tenant's key and its credentials, leaving a
// tombstone so that the tenant is never given a new key.
func (k *Keyring) DestroyTenantKey(ctx context.Context, tenant uuid.UUID) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	if _, err := k.db.Writer.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
		return k.dbErr(err)
	}
	var versions int
	err := k.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := k.stamp()
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (tenant_id, min_decryption_version, created_at, destroyed_at) VALUES (?, 1, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET destroyed_at = coalesce(tenants.destroyed_at, excluded.destroyed_at)`, tenant.String(), now, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM tenant_keys WHERE tenant_id = ?", tenant.String())
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		versions = int(n)
		_, err = tx.ExecContext(ctx, "DELETE FROM credentials WHERE tenant_id = ?", tenant.String())
		return err
	})
	if err != nil {
		return err
	}
	// Move the overwritten pages into the main file and empty the WAL, so the old key bytes are
	// not left in the log. Readers holding an old snapshot can delay this; the next checkpoint
	// finishes it.
	if _, err := k.db.Writer.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		k.log.Warn("keyring checkpoint after destroying a key", "tenant", tenant, "err", err)
	}
	if versions > 0 {
		k.log.Info("tenant key destroyed", "tenant", tenant, "versions", versions)
	}
	return nil
}

// Encrypt encrypts plaintext with the tenant's newest key version.
func (k *Keyring) Encrypt(ctx context.Context, tenant uuid.UUID, plaintext []byte) (string, error) {
	out, err := k.EncryptBatch(ctx, tenant, [][]byte{plaintext})
	if err != nil {
		return "", err
	}
	return out[0], nil
}

// Decrypt decrypts a ciphertext of the tenant.
func (k *Keyring) Decrypt(ctx context.Context, tenant uuid.UUID, ciphertext string) ([]byte, error) {
	out, err := k.DecryptBatch(ctx, tenant, []string{ciphertext})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// EncryptBatch encrypts many values with one key lookup.
func (k *Keyring) EncryptBatch(ctx context.Context, tenant uuid.UUID, plaintexts [][]byte) ([]string, error) {
	if err := checkPlaintexts(plaintexts); err != nil {
		return nil, err
	}
	ks, err := k.keySetFor(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if err := ks.usable(); err != nil {
		return nil, err
	}
	out := make([]string, len(plaintexts))
	for i, p := range plaintexts {
		if out[i], err = ks.encrypt(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DecryptBatch decrypts many values with one key lookup.
func (k *Keyring) DecryptBatch(ctx context.Context, tenant uuid.UUID, ciphertexts []string) ([][]byte, error) {
	ks, err := k.keySetFor(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if err := ks.usable(); err != nil {
		return nil, err
	}
	out := make([][]byte, len(ciphertexts))
	for i, c := range ciphertexts {
		if out[i], err = ks.decrypt(c); err != nil {
			if len(ciphertexts) > 1 {
				return nil, fmt.Errorf("value %d: %w", i+1, err)
			}
			return nil, err
		}
	}
	return out, nil
}

// tombstoned reports whether the tenant's key was destroyed.
func (k *Keyring) tombstoned(ctx context.Context, db bun.IDB, tenant uuid.UUID) error {
	var n int
	err := db.NewRaw("SELECT count(*) FROM tenants WHERE tenant_id = ? AND destroyed_at IS NOT NULL", tenant.String()).Scan(ctx, &n)
	if err != nil {
		return k.dbErr(err)
	}
	if n > 0 {
		return errDestroyed(tenant)
	}
	return nil
}

func credAAD(t uuid.UUID, name string) []byte {
	return []byte("cityops keyring credential " + t.String() + " " + name)
}

// PutCredential sets the named credential, sealed under the master key.
func (k *Keyring) PutCredential(ctx context.Context, tenant uuid.UUID, name, value, setBy string) (Credential, error) {
	if err := checkTenant(tenant); err != nil {
		return Credential{}, err
	}
	if err := checkCredential(name, value, setBy); err != nil {
		return Credential{}, err
	}
	c := Credential{Name: name, Last4: last4(value), SetAt: k.now().UTC(), SetBy: setBy}
	sealed := k.cred.Seal(nil, nil, []byte(value), credAAD(tenant, name))
	err := k.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := k.tombstoned(ctx, tx, tenant); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO credentials (tenant_id, name, sealed, last4, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, name) DO UPDATE SET sealed = excluded.sealed, last4 = excluded.last4, set_by = excluded.set_by, set_at = excluded.set_at`,
			tenant.String(), name, sealed, c.Last4, setBy, c.SetAt.Format(time.RFC3339Nano))
		return err
	})
	if err != nil {
		return Credential{}, err
	}
	return c, nil
}

// ListCredentials lists the tenant's credentials, masked.
func (k *Keyring) ListCredentials(ctx context.Context, tenant uuid.UUID) ([]Credential, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	rows, err := k.db.Reader.QueryContext(ctx, "SELECT name, last4, set_by, set_at FROM credentials WHERE tenant_id = ? ORDER BY name", tenant.String())
	if err != nil {
		return nil, k.dbErr(err)
	}
	defer rows.Close()
	out := []Credential{}
	for rows.Next() {
		var c Credential
		var at string
		if err := rows.Scan(&c.Name, &c.Last4, &c.SetBy, &at); err != nil {
			return nil, k.dbErr(err)
		}
		c.SetAt, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, k.dbErr(err)
	}
	return out, nil
}

// Credential returns the value of the named credential, for server-side use only.
func (k *Keyring) Credential(ctx context.Context, tenant uuid.UUID, name string) (Secret, error) {
	if err := checkTenant(tenant); err != nil {
		return Secret{}, err
	}
	if err := checkCredentialName(name); err != nil {
		return Secret{}, err
	}
	var sealed []byte
	err := k.db.Reader.NewRaw("SELECT sealed FROM credentials WHERE tenant_id = ? AND name = ?", tenant.String(), name).Scan(ctx, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		if err := k.tombstoned(ctx, k.db.Reader, tenant); err != nil {
			return Secret{}, err
		}
		return Secret{}, errNoCredential(name)
	}
	if err != nil {
		return Secret{}, k.dbErr(err)
	}
	v, err := k.cred.Open(nil, nil, sealed, credAAD(tenant, name))
	if err != nil {
		return Secret{}, errs.Wrap(err, errs.Internal, msgCredentialTenantCannotUnsealed, name, tenant)
	}
	return Secret{value: string(v)}, nil
}

// DeleteCredential removes the named credential.
func (k *Keyring) DeleteCredential(ctx context.Context, tenant uuid.UUID, name string) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	if err := checkCredentialName(name); err != nil {
		return err
	}
	return k.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM credentials WHERE tenant_id = ? AND name = ?", tenant.String(), name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoCredential(name)
		}
		return nil
	})
}
