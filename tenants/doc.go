// Package tenants is the control plane: the tenant registry and its hierarchy, provisioning and
// the rest of a tenant's life, the one gate to tenant data (Store.Tx), identities, memberships and
// roles, sessions and API tokens, and the append-only audit log.
//
// Every tenant-scoped read or write goes through Store.Tx, which takes the tenant from the
// request's Scope in the context and fails closed without one. On PostgreSQL it opens one
// transaction that sets search_path and the tenant's role with SET LOCAL (nothing session-level, so
// it stays correct behind PgBouncer in transaction mode); a read-only scope gets a read-only
// transaction and the tenant's read-only role, so the database refuses a write even if the HTTP
// layer let one through. On SQLite each tenant is its own file, opened lazily, a bounded number
// kept open; a read-only scope reads through a connection opened with mode=ro.
//
// Store.Restore puts one tenant's schema back to a point in time from the cluster's pgBackRest
// backups (beside the live schema, or in its place during a short write freeze), touching no other
// tenant; Store.RestoreFile does the same for a SQLite tenant's file from a file-level backup.
package tenants
