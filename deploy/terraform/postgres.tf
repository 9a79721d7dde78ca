# The database and the application's login role. The role needs CREATEROLE: provisioning creates
# two roles per tenant (<prefix>_t_<code> and its read-only twin) and grants them to itself, so
# that every tenant transaction can SET LOCAL ROLE into the tenant's role.

provider "postgresql" {
  host      = var.postgres.host
  port      = var.postgres.port
  username  = var.postgres.admin_username
  password  = var.postgres.admin_password
  sslmode   = var.postgres.sslmode
  superuser = false
}

resource "random_password" "app" {
  length  = 32
  special = false
}

resource "postgresql_role" "app" {
  name             = "cityops_${var.environment}"
  login            = true
  create_role      = true
  password         = random_password.app.result
  connection_limit = length(var.replicas) * var.db_max_conns_per_replica + 10
}

resource "postgresql_database" "cityops" {
  name              = "cityops_${var.environment}"
  owner             = postgresql_role.app.name
  encoding          = "UTF8"
  lc_collate        = "C.UTF-8"
  lc_ctype          = "C.UTF-8"
  template          = "template0"
  allow_connections = true
}

# Nobody but the owner may create objects in the public schema.
resource "postgresql_grant" "revoke_public_create" {
  database    = postgresql_database.cityops.name
  role        = "public"
  schema      = "public"
  object_type = "schema"
  privileges  = []
}

locals {
  db_host = var.pgbouncer.host != "" ? var.pgbouncer.host : var.postgres.host
  db_port = var.pgbouncer.host != "" ? var.pgbouncer.port : var.postgres.port

  # Replicas go through PgBouncer (transaction mode); migrations go straight to PostgreSQL.
  database_url = format("postgres://%s:%s@%s:%d/%s?sslmode=%s",
    postgresql_role.app.name, random_password.app.result, local.db_host, local.db_port,
  postgresql_database.cityops.name, var.postgres.sslmode)
  migrate_database_url = format("postgres://%s:%s@%s:%d/%s?sslmode=%s",
    postgresql_role.app.name, random_password.app.result, var.postgres.host, var.postgres.port,
  postgresql_database.cityops.name, var.postgres.sslmode)
}
