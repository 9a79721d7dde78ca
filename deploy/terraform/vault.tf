# Vault: a transit engine (one key per tenant, created at provisioning, destroyed at offboarding),
# a KV v2 engine for integration credentials, the least-privilege app policy from
# deploy/vault/cityops-app.hcl, and an AppRole the replicas log in with. The provider reads
# VAULT_ADDR and VAULT_TOKEN (an admin token) from the environment of whoever runs terraform.

provider "vault" {}

resource "vault_mount" "transit" {
  path        = var.vault_transit_mount
  type        = "transit"
  description = "CityOps: one key per tenant for citizens' personal data"
}

resource "vault_mount" "kv" {
  path        = var.vault_kv_mount
  type        = "kv"
  options     = { version = "2" }
  description = "CityOps: per-tenant integration credentials"
}

resource "vault_policy" "app" {
  name = "cityops-app-${var.environment}"
  # The policy file is written for the default mounts; other mounts are substituted here.
  policy = replace(replace(file("${path.module}/../vault/cityops-app.hcl"),
    "path \"transit/", "path \"${var.vault_transit_mount}/"),
  "path \"secret/", "path \"${var.vault_kv_mount}/")
}

resource "vault_auth_backend" "approle" {
  type = "approle"
  path = "approle-cityops-${var.environment}"
}

resource "vault_approle_auth_backend_role" "app" {
  backend        = vault_auth_backend.approle.path
  role_name      = "cityops-app"
  token_policies = [vault_policy.app.name]
  token_ttl      = 3600
  token_max_ttl  = 14400
  # A replica's Vault Agent logs in again with its secret id whenever its token reaches the
  # maximum TTL and whenever it restarts, so a secret id is not single-use: it is bound to the
  # replicas' addresses (when given), expires after vault_secret_id_ttl, and the pipeline issues
  # a new one at each release.
  secret_id_num_uses    = 0
  secret_id_ttl         = var.vault_secret_id_ttl
  secret_id_bound_cidrs = var.replica_cidrs
  token_bound_cidrs     = var.replica_cidrs
}

data "vault_approle_auth_backend_role_id" "app" {
  backend   = vault_auth_backend.approle.path
  role_name = vault_approle_auth_backend_role.app.role_name
}
