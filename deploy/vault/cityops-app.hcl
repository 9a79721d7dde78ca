# cityops-app: the Vault policy of the CityOps application, least privilege.
#
# Mounts: transit at "transit/" and KV version 2 at "secret/" (the defaults of
# CITYOPS_VAULT_TRANSIT_MOUNT and CITYOPS_VAULT_KV_MOUNT). With other mounts,
# change the first path segment of every rule below. Give the transit mount to
# CityOps alone: the rules use "+" for the key name (one path segment), so
# they cover every key on the mount, each named tenant-<tenant uuid>.
#
#   vault policy write cityops-app deploy/vault/cityops-app.hcl
#
# Why "+" and never "tenant-*": a glob also matches deeper paths
# (transit/keys/tenant-x/rotate), and Vault lets the rule whose first wildcard
# comes later win, so a glob rule on transit/keys/tenant-* would silently
# replace the rotate and config rules below.

# --- Tenant keys (transit) ---------------------------------------------------

# Provisioning creates a tenant's key; reading it gives the key versions;
# offboarding deletes it (crypto-shredding). Transit treats every write to
# keys/<name> as "update" (it has no existence check), and on a key that
# exists the write changes nothing, so "update" here means "create if
# missing". A key's settings change only through the config rule below.
path "transit/keys/+" {
  capabilities = ["read", "update", "delete"]
}

# Rotation: a new key version.
path "transit/keys/+/rotate" {
  capabilities = ["update"]
}

# min_decryption_version after a re-wrap, and deletion_allowed just before
# the key is deleted at offboarding.
path "transit/keys/+/config" {
  capabilities = ["update"]
}

# Encrypt: "update" but NOT "create". With "create", an encrypt under a key
# that does not exist makes a new key, so an encrypt after offboarding would
# silently re-create the destroyed key. Without it Vault refuses, and the app
# reports "data destroyed".
path "transit/encrypt/+" {
  capabilities = ["update"]
}

path "transit/decrypt/+" {
  capabilities = ["update"]
}

# Re-wrap old ciphertexts to the newest key version after a rotation.
path "transit/rewrap/+" {
  capabilities = ["update"]
}

# Deliberately absent: transit/export, transit/backup, transit/restore,
# transit/keys/+/trim, transit/datakey, and anything outside transit/keys,
# encrypt, decrypt and rewrap.

# --- Integration credentials (KV v2) ----------------------------------------

# Per-tenant credentials at secret/data/tenants/<tenant id>/credentials/<name>.
path "secret/data/tenants/+/credentials/+" {
  capabilities = ["create", "update", "read"]
}

# Listing names, and deleting a credential with all its versions.
path "secret/metadata/tenants/+/credentials/" {
  capabilities = ["list"]
}

path "secret/metadata/tenants/+/credentials/+" {
  capabilities = ["delete"]
}

# The tombstone written when a tenant's key is destroyed: it can be written
# and read, never deleted, so a destroyed tenant is never given a new key.
path "secret/data/tenants/+/tombstone" {
  capabilities = ["create", "read"]
}

# --- The app's own token -----------------------------------------------------
# The built-in "default" policy (kept on the AppRole, as by default) already
# lets a token look itself up, renew itself and check its capabilities
# (sys/capabilities-self, used by the readiness check); nothing more is needed.
