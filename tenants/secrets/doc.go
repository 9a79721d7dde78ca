// Package secrets owns every tenant's key material: the per-tenant key that encrypts citizens'
// personal data (reporter names, phone numbers, ID numbers) before it is stored, and the tenant's
// integration credentials (vendor systems, the provincial platform, map tile keys, the SMS
// gateway), which are written but never read back through the API.
//
// One interface, Store, has two implementations, picked by Config.Backend:
//
//   - Vault (production): transit with one key per tenant, named tenant-<tenant id>, for
//     encryption; KV v2 under tenants/<tenant id>/credentials/<name> for credentials; login by
//     AppRole (a role id and a response-wrapped secret id, unwrapped once at start) or by a
//     token, kept alive by Vault's lifetime watcher and logged in again before expiry. The policy
//     the app needs is deploy/vault/cityops-app.hcl: it may update but never create on
//     transit/encrypt, so an encrypt after a key was destroyed fails instead of silently making a
//     new key.
//   - Keyring (the embedded default): per-tenant AES-256-GCM data keys, wrapped by a master key
//     file that is created with mode 0600 on first start, in a SQLite file beside it. SQLite
//     rather than a flat file because the server and the cityops CLI may use the same data
//     directory at once: SQLite gives both processes transactions and a consistent view, and
//     with secure_delete a destroyed key's bytes are overwritten in the file, not just unlinked
//     from a page list. Nothing is cached in memory, so a key destroyed by one process is gone
//     for the other at once.
//
// Ciphertexts say which implementation and key version made them: "vault:v3:…" for Vault,
// "kr:v3:…" for the keyring. A key can be rotated (old ciphertexts stay readable), ciphertexts
// re-wrapped to the newest version, and then the minimum decryption version raised. At
// offboarding the key is destroyed after the export (crypto-shredding): every copy of the
// tenant's data left behind, in backups too, becomes unreadable, and reading it gives
// errs.Destroyed ("data destroyed"), never garbage.
//
// When the key service cannot be used (Vault down, sealed, unreachable, or the token refused),
// operations that need a key fail with errs.Unavailable (HTTP 503) and nothing is written half
// encrypted or in plain text; the Vault store logs in again by itself and serves again as soon as
// Vault does. Everything that needs no key keeps working, because nothing else depends on this
// package.
package secrets
