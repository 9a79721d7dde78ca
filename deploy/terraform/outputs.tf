output "database" {
  description = "The database and login role CityOps uses."
  value = {
    name = postgresql_database.cityops.name
    role = postgresql_role.app.name
  }
}

output "vault_approle" {
  description = "Where replicas log in, and the role id (not secret on its own)."
  value = {
    path    = vault_auth_backend.approle.path
    role_id = data.vault_approle_auth_backend_role_id.app.role_id
    policy  = vault_policy.app.name
  }
}

output "replica_files" {
  description = "The environment file and systemd unit of each replica."
  value       = { for name, f in local_file.unit : name => dirname(f.filename) }
}
