# One environment file and one systemd unit per replica, for configuration management to place
# on the hosts. The wrapped secret id is not written here: it is issued per start by the
# deployment pipeline (vault write -wrap-ttl=5m -f auth/<approle path>/role/cityops-app/secret-id)
# and placed in /run/cityops/wrapped-secret-id, so that no long-lived secret sits on disk.

resource "local_sensitive_file" "env" {
  for_each = { for r in var.replicas : r.name => r }

  filename        = "${var.output_dir}/${each.key}/cityops.env"
  file_permission = "0600"
  content         = <<-EOT
    CITYOPS_ADDR=${each.value.addr}
    CITYOPS_BASE_URL=${var.base_url}
    CITYOPS_DATA_DIR=/var/lib/cityops
    CITYOPS_DATABASE_URL=${local.database_url}
    CITYOPS_DB_ROLE_PREFIX=cityops_${var.environment}
    CITYOPS_DB_MAX_CONNS=${var.db_max_conns_per_replica}
    CITYOPS_MIGRATE_ON_START=false
    CITYOPS_TRUSTED_PROXIES=${join(",", var.trusted_proxies)}
    CITYOPS_LOG_FORMAT=json
    CITYOPS_SECRETS=vault
    VAULT_ADDR=${var.vault_address}
    CITYOPS_VAULT_ROLE_ID=${data.vault_approle_auth_backend_role_id.app.role_id}
    CITYOPS_VAULT_WRAPPED_SECRET_ID_FILE=/run/cityops/wrapped-secret-id
    CITYOPS_VAULT_TRANSIT_MOUNT=${var.vault_transit_mount}
    CITYOPS_VAULT_KV_MOUNT=${var.vault_kv_mount}
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
    Wants=network-online.target

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
  EOT
}
