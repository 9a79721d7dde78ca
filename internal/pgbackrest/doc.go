// Package pgbackrest drives pgBackRest (https://pgbackrest.org, 2.45 as Debian ships it) for a
// point-in-time restore of a cluster into a throwaway PostgreSQL instance: the backups of a stanza,
// the restore of one of them into a temporary directory up to a time, and the instance started
// there (unix socket only, no archiving) for a caller to read what it needs from. It knows nothing
// of tenants; tenants.Store.Restore takes one tenant's schema out of the instance.
//
// Every program runs through exec.Command with its arguments, never through a shell of ours, as
// the OS user that owns the repository (PostgreSQL refuses to run as root). pg_ctl starts the
// server through a shell of its own with the paths in double quotes, so a work directory with
// quotes, $, backquotes or backslashes in its path is refused.
package pgbackrest
