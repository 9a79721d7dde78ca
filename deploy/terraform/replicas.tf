# Per replica: its environment file, its Vault Agent's configuration and the systemd units of the
# agent and of the app, for configuration management to place on the hosts.
#
# The replica logs in to Vault through Vault Agent (templates/vault-agent.hcl.tftpl): the agent
# logs in with AppRole from /etc/cityops/vault-role-id and /etc/cityops/vault-secret-id, keeps
# the token renewed, logs in again at its maximum TTL and after any restart, and writes the
# current token to /run/cityops/vault-token, which the app reads (VAULT_TOKEN_FILE) at every
# login. The secret id is issued by the deployment pipeline at each release
# (vault write -f auth/<approle path>/role/cityops-app/secret-id), bound to the replicas'
# addresses (replica_cidrs) and expiring after vault_secret_id_ttl; nothing a person must do
# when a token expires or a process restarts.

locals {
  token_file = "/run/cityops/vault-token"
  # The tenant clusters as CITYOPS_CLUSTERS reads them (one "name=url" a line) and their
  # capacities as CITYOPS_CLUSTER_CAPACITY does.
  clusters_file    = length(var.tenant_clusters) == 0 ? "" : "/etc/cityops/clusters"
  clusters         = join("\n", [for c in var.tenant_clusters : "${c.name}=${c.url}"])
  cluster_capacity = join(",", concat(["main=${var.main_cluster_capacity}"], [for c in var.tenant_clusters : "${c.name}=${c.capacity}"]))
}

resource "local_sensitive_file" "env" {
  for_each = { for r in var.replicas : r.name => r }

  filename        = "${var.output_dir}/${each.key}/cityops.env"
  file_permission = "0600"
  content = templatefile("${path.module}/templates/cityops.env.tftpl", {
    addr            = each.value.addr
    base_url        = var.base_url
    database_url    = local.database_url
    role_prefix     = "cityops_${var.environment}"
    db_max_conns    = var.db_max_conns_per_replica
    trusted_proxies = join(",", var.trusted_proxies)
    vault_address   = var.vault_address
    token_file      = local.token_file
    transit_mount   = var.vault_transit_mount
    kv_mount        = var.vault_kv_mount
    # Object storage: the shared bucket, or each replica's disk when there is none.
    blob               = var.object_storage == null ? "local" : "s3"
    s3_endpoint        = var.object_storage == null ? "" : var.object_storage.endpoint
    s3_bucket          = var.object_storage == null ? "" : var.object_storage.bucket
    s3_region          = var.object_storage == null ? "us-east-1" : var.object_storage.region
    s3_path_style      = var.object_storage == null ? "true" : tostring(var.object_storage.path_style)
    s3_access_key_file = var.object_storage == null ? "" : "/etc/cityops/s3-access-key"
    s3_secret_key_file = var.object_storage == null ? "" : "/etc/cityops/s3-secret-key"
    clusters_file      = local.clusters_file
    cluster_capacity   = local.cluster_capacity
  })

  lifecycle {
    precondition {
      condition     = length(var.replicas) <= 1 || var.object_storage != null
      error_message = "More than one replica needs object_storage (a bucket they share): on each replica's own disk, a photo uploaded through one is not found by the others."
    }
  }
}

# The tenant clusters' URLs (with the app role's password), for /etc/cityops/clusters.
resource "local_sensitive_file" "clusters" {
  for_each = length(var.tenant_clusters) == 0 ? {} : { for r in var.replicas : r.name => r }

  filename        = "${var.output_dir}/${each.key}/clusters"
  file_permission = "0600"
  content         = "${local.clusters}\n"
}

resource "local_file" "vault_agent" {
  for_each = { for r in var.replicas : r.name => r }

  filename        = "${var.output_dir}/${each.key}/vault-agent.hcl"
  file_permission = "0644"
  content = templatefile("${path.module}/templates/vault-agent.hcl.tftpl", {
    vault_address  = var.vault_address
    approle_path   = vault_auth_backend.approle.path
    role_id_file   = "/etc/cityops/vault-role-id"
    secret_id_file = "/etc/cityops/vault-secret-id"
    token_file     = local.token_file
    pid_file       = "/run/cityops/vault-agent.pid"
  })
}

resource "local_file" "role_id" {
  for_each = { for r in var.replicas : r.name => r }

  filename        = "${var.output_dir}/${each.key}/vault-role-id"
  file_permission = "0644"
  content         = data.vault_approle_auth_backend_role_id.app.role_id
}

resource "local_file" "agent_unit" {
  for_each = { for r in var.replicas : r.name => r }

  filename        = "${var.output_dir}/${each.key}/cityops-vault-agent.service"
  file_permission = "0644"
  content         = <<-EOT
    [Unit]
    Description=Vault Agent for CityOps (城运) ${var.environment} ${each.key}
    After=network-online.target
    Wants=network-online.target

    [Service]
    User=cityops
    RuntimeDirectory=cityops
    RuntimeDirectoryPreserve=yes
    ExecStart=/usr/local/bin/vault agent -config=/etc/cityops/vault-agent.hcl
    Restart=always
    RestartSec=2
    NoNewPrivileges=true
    ProtectSystem=strict
    ReadWritePaths=/run/cityops

    [Install]
    WantedBy=multi-user.target
  EOT
}

resource "local_file" "unit" {
  for_each = { for r in var.replicas : r.name => r }

  filename        = "${var.output_dir}/${each.key}/cityops.service"
  file_permission = "0644"
  content         = <<-EOT
    [Unit]
    Description=CityOps (城运) ${var.environment} ${each.key}
    After=network-online.target
    Wants=network-online.target cityops-vault-agent.service
    After=cityops-vault-agent.service

    [Service]
    User=cityops
    EnvironmentFile=/etc/cityops/cityops.env
    ExecStart=/usr/local/bin/cityops serve
    Restart=on-failure
    # SIGTERM drains in-flight requests for CITYOPS_SHUTDOWN_GRACE (20s by default).
    TimeoutStopSec=30
    NoNewPrivileges=true
    ProtectSystem=strict
    ReadWritePaths=/var/lib/cityops
    PrivateTmp=true

    [Install]
    WantedBy=multi-user.target
  EOT
}

# Migrations run once per release, from the pipeline, straight against PostgreSQL.
resource "local_sensitive_file" "migrate_env" {
  filename        = "${var.output_dir}/migrate.env"
  file_permission = "0600"
  content         = <<-EOT
    CITYOPS_DATABASE_URL=${local.migrate_database_url}
    CITYOPS_DB_ROLE_PREFIX=cityops_${var.environment}
    CITYOPS_MIGRATE_WORKERS=8
    CITYOPS_CLUSTERS=${replace(local.clusters, "\n", ";")}
    CITYOPS_CLUSTER_CAPACITY=${local.cluster_capacity}
  EOT
}
