variable "environment" {
  description = "Name of this deployment (prod, staging); used in names and the role prefix."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,15}$", var.environment))
    error_message = "environment is 2 to 16 lower-case letters and digits, starting with a letter."
  }
}

variable "postgres" {
  description = "The PostgreSQL server (primary) that holds the control plane and the tenant schemas. The admin user creates the database and the application's login role."
  type = object({
    host           = string
    port           = number
    admin_username = string
    admin_password = string
    sslmode        = string
  })
  sensitive = true
}

variable "pgbouncer" {
  description = "PgBouncer in transaction mode in front of PostgreSQL, which the app replicas connect through. Leave host empty to connect straight to PostgreSQL."
  type = object({
    host = string
    port = number
  })
  default = { host = "", port = 6432 }
}

variable "vault_address" {
  description = "Vault's address as the app replicas reach it (https://vault.internal:8200)."
  type        = string
}

variable "vault_transit_mount" {
  description = "Mount path of the transit engine holding one key per tenant. Given to CityOps alone."
  type        = string
  default     = "transit"
}

variable "vault_kv_mount" {
  description = "Mount path of the KV v2 engine holding per-tenant integration credentials."
  type        = string
  default     = "secret"
}

variable "vault_secret_id_ttl" {
  description = "How long a replica's AppRole secret id is valid (seconds). The deployment pipeline issues a new one at each release; keep this longer than the time between releases."
  type        = number
  default     = 2592000
}

variable "replica_cidrs" {
  description = "The replicas' source addresses as CIDRs (10.0.1.0/24). When given, their secret ids and tokens are refused from anywhere else."
  type        = list(string)
  default     = []
}

variable "replicas" {
  description = "The app replicas: a name and the address each listens on (behind the load balancer)."
  type = list(object({
    name = string
    addr = string
  }))
  default = [
    { name = "app-1", addr = "0.0.0.0:8080" },
    { name = "app-2", addr = "0.0.0.0:8080" },
  ]
}

variable "object_storage" {
  description = "The S3 bucket every replica keeps case photos and offboarding archives in (docs/operations.md, \"Object storage\"); made beforehand, private. Each replica reads its key from /etc/cityops/s3-access-key and /etc/cityops/s3-secret-key (mode 0600, owner cityops). null keeps them on each replica's disk, right for one replica only."
  type = object({
    endpoint   = string
    bucket     = string
    region     = optional(string, "us-east-1")
    path_style = optional(bool, true)
  })
  default = null

  validation {
    condition     = var.object_storage == null || can(regex("^https?://[^/]+/?$", var.object_storage.endpoint))
    error_message = "object_storage.endpoint is the S3 API's http(s) URL with no path, e.g. https://minio.internal:9000."
  }
}

variable "base_url" {
  description = "The public https URL users reach CityOps at."
  type        = string
}

variable "trusted_proxies" {
  description = "Load balancer addresses whose X-Forwarded-For the app believes."
  type        = list(string)
  default     = []
}

variable "db_max_conns_per_replica" {
  description = "Connections per replica. Keep replicas × this under PgBouncer's default_pool_size × pools, or under max_connections without PgBouncer."
  type        = number
  default     = 20
}

variable "output_dir" {
  description = "Where the per-replica environment files and systemd units are written, for configuration management to ship."
  type        = string
  default     = "./out"
}

variable "tenant_clusters" {
  description = "Further PostgreSQL clusters that hold tenant schemas beside the main one (docs/operations.md, \"Several PostgreSQL clusters\"): a name, the app role's URL on it (the same role and database name as on the main cluster, made beforehand) and how many tenants it may hold (0: no limit). Each replica gets them in /etc/cityops/clusters (mode 0600); the migration environment names them too, since `cityops migrate` migrates every cluster."
  type = list(object({
    name     = string
    url      = string
    capacity = optional(number, 0)
  }))
  default   = []
  sensitive = true

  validation {
    condition     = alltrue([for c in var.tenant_clusters : can(regex("^[a-z][a-z0-9_]{0,30}$", c.name)) && c.name != "main" && can(regex("^postgres(ql)?://", c.url)) && c.capacity >= 0])
    error_message = "Each tenant cluster has a name of lower-case letters, digits and _ (not \"main\"), a postgres:// URL and a capacity of 0 or more."
  }
}

variable "main_cluster_capacity" {
  description = "How many tenants the main cluster may hold before provisioning places new ones on tenant_clusters (0: no limit)."
  type        = number
  default     = 0
}
