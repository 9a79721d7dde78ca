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
//
// On PostgreSQL tenants may be spread over several clusters (clusters.go): the control plane
// (on the main cluster) records each tenant's cluster by name, the configuration maps names to
// URLs, provisioning picks the cluster with the most room, and the gate runs each tenant's
// transaction on its cluster's pool. Store.Move moves a tenant's schema to another cluster: it
// copies by logical replication while the tenant writes, then freezes writes (refused with
// Retry-After, reads go on) for the catch-up, a verification table by table and the switch of the
// placement (pg_dump under the freeze where the source has no wal_level=logical); resumable after
// a crash, leaving no replication slot behind, and held by a lease.
package tenants
