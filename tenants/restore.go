package tenants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/internal/pgbackrest"
	"github.com/uptrace/bun"
)

// RestoreMode says where a restored tenant schema goes.
type RestoreMode string

// The modes of a restore.
const (
	// RestoreSide loads the schema as it was beside the live one, under another name, read-only
	// for the tenant's roles, to compare and to copy rows back by hand.
	RestoreSide RestoreMode = "side"
	// RestoreInPlace replaces the live schema with the restored one during a short write freeze;
	// the live schema is kept aside under another name until the operator drops it.
	RestoreInPlace RestoreMode = "in-place"
)

// RestoreOptions say what to restore a tenant from, to when and into what.
type RestoreOptions struct {
	// To is the time to restore to: after the end of a backup, before now.
	To   time.Time
	Mode RestoreMode
	// Backup is the pgBackRest stanza of the cluster (and, if set, a repository path that
	// overrides its configuration's).
	Backup pgbackrest.Repo
	// WorkDir is where the cluster is restored to for the time of the restore (room for the whole
	// cluster); BinDir holds the PostgreSQL programs of the backup's version (empty: found).
	WorkDir, BinDir string
	// Jobs is how many parallel jobs pg_dump and pg_restore run (default 2).
	Jobs int
	// PrefectureAlone allows an in-place restore of a prefecture: only its own schema goes back
	// in time, its counties stay as they are.
	PrefectureAlone bool
	// Settle is how long the write freeze waits, after the suspension committed, for every
	// replica to see it before the swap (default three cache sync intervals).
	Settle time.Duration

	// failAt, when set (tests), fails the in-place restore at the named step.
	failAt string
}

// RestoreResult is what a restore did.
type RestoreResult struct {
	Tenant string      `json:"tenant"`
	Mode   RestoreMode `json:"mode"`
	To     time.Time   `json:"to"`
	// Backup is the label of the backup set the restore started from.
	Backup string `json:"backup"`
	// Schema holds the restored data: the side schema, or the tenant's own schema in place.
	Schema string `json:"schema"`
	// Aside is where an in-place restore kept the schema it replaced (drop it when done).
	Aside string `json:"aside,omitempty"`
	// Tables compare each table's rows: restored, and live (side) or replaced (in place).
	Tables []RestoredTable `json:"tables"`
	// Migrated are the tenant migrations applied to the restored schema before the swap (those
	// added since the backup's time).
	Migrated []string `json:"migrated,omitempty"`
	// The steps' durations: restoring the cluster up to To, dumping the schema from it, loading it
	// into the live database, the swap's transaction; Freeze is how long the tenant refused
	// writes (the swap and the wait for every replica to see the suspension, Settle).
	ClusterRestore time.Duration `json:"cluster_restore"`
	Dump           time.Duration `json:"dump"`
	Load           time.Duration `json:"load"`
	Swap           time.Duration `json:"swap"`
	Freeze         time.Duration `json:"freeze"`
	Total          time.Duration `json:"total"`
}

// RestoredTable is one table's rows in a restore's comparison; -1 where the table is missing.
type RestoredTable struct {
	Name     string `json:"name"`
	Restored int64  `json:"restored"`
	Live     int64  `json:"live"`
}

// The audit actions of a restore.
const (
	AuditRestoreStart  = "tenant.restore.start"
	AuditRestoreDone   = "tenant.restore.done"
	AuditRestoreFailed = "tenant.restore.failed"
)

// Restore restores tenant t's schema to the time o.To from the cluster's pgBackRest backups,
// without touching any other tenant's schema: it restores the cluster into a throwaway instance
// up to that time, dumps t's schema from it and loads it into the live database, beside the live
// schema (RestoreSide) or in its place (RestoreInPlace: the tenant is suspended for the swap,
// the schema it replaces is renamed aside and kept, the tenant's two roles get their grants
// again, then it is resumed if it was active). The control plane's rows are touched only for the
// suspension and the audit entries. A restore that fails leaves the tenant as it was (and resumed)
// and says so.
func (s *Store) Restore(ctx context.Context, t *Tenant, o RestoreOptions) (*RestoreResult, error) {
	started := time.Now()
	if s.dialect != dbx.Postgres {
		return nil, errs.E(errs.Invalid, msgRestoreNeedsPostgres, t.Slug)
	}
	if t.Status != StatusActive && t.Status != StatusSuspended {
		return nil, errs.E(errs.Conflict, msgRestoreTenantNotLive, t.Slug, t.Status)
	}
	if t.Cluster != "" && t.Cluster != MainCluster {
		// The backups (the stanza) are the main cluster's; each other cluster has its own.
		return nil, errs.E(errs.Conflict, msgRestoreOtherCluster, t.Slug, t.Cluster)
	}
	if !dbx.ValidIdent(t.SchemaName) || !dbx.ValidIdent(t.DBRole) || len(t.SchemaName) > 30 {
		return nil, errs.E(errs.Internal, msgTenantHasInvalidSchemaRole, t.ID)
	}
	switch o.Mode {
	case RestoreSide, RestoreInPlace:
	default:
		return nil, errs.Field("into", msgRestoreMode, o.Mode)
	}
	if t.Kind == Prefecture && o.Mode == RestoreInPlace && !o.PrefectureAlone {
		return nil, errs.E(errs.Conflict, msgRestorePrefecture, t.Slug)
	}
	now := s.now()
	if o.To.IsZero() {
		return nil, errs.Field("to", msgRestoreTimeRequired)
	}
	if !o.To.Before(now) {
		return nil, errs.Field("to", msgRestoreTimeFuture, stamp(o.To), stamp(now))
	}
	if o.To.Before(t.CreatedAt) {
		return nil, errs.Field("to", msgRestoreBeforeTenant, stamp(o.To), t.Slug, stamp(t.CreatedAt))
	}
	if o.Jobs <= 0 {
		o.Jobs = 2
	}
	if o.Settle <= 0 {
		o.Settle = 3 * CacheSyncInterval
	}
	if err := o.Backup.Check(); err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, msgRestoreBackupUnusable, err.Error())
	}
	backups, err := o.Backup.Backups(ctx)
	if err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, msgRestoreBackupUnusable, err.Error())
	}
	if len(backups) == 0 {
		return nil, errs.E(errs.Conflict, msgRestoreNoBackups, o.Backup.Stanza)
	}
	var set *pgbackrest.Backup
	for i := range backups {
		// A backup is consistent at its stop (recorded to the second): the time must be later.
		if !backups[i].Stop.Add(time.Second).After(o.To) {
			set = &backups[i]
		}
	}
	if set == nil {
		return nil, errs.Field("to", msgRestoreBeforeFirstBackup, stamp(o.To), stamp(backups[0].Stop.Add(time.Second)))
	}

	res := &RestoreResult{Tenant: t.Slug, Mode: o.Mode, To: o.To.UTC(), Backup: set.Label}
	tag := o.To.UTC().Format("20060102t150405")
	load := t.SchemaName + "_at_" + tag
	if o.Mode == RestoreInPlace {
		load = t.SchemaName + "_restoring_" + now.UTC().Format("20060102t150405")
	}
	var exists bool
	if err := s.db.NewRaw("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ?)", load).Scan(ctx, &exists); err != nil {
		return nil, dbx.Translate(err)
	}
	if exists {
		return nil, errs.E(errs.Conflict, msgRestoreSchemaExists, load)
	}
	detail := map[string]any{"to": res.To, "mode": o.Mode, "backup": set.Label, "stanza": o.Backup.Stanza}
	if err := s.AuditNow(ctx, AuditRestoreStart, &t.ID, t.Slug, detail); err != nil {
		return nil, err
	}
	fail := func(step string, cause error) (*RestoreResult, error) {
		ctx := context.WithoutCancel(ctx)
		if _, err := s.db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+dbx.QuoteIdent(load)+" CASCADE"); err != nil {
			s.log.Error("restore: dropping the partly loaded schema", "schema", load, "err", err)
		}
		if err := s.AuditNow(ctx, AuditRestoreFailed, &t.ID, t.Slug, map[string]any{"step": step, "error": cause.Error()}); err != nil {
			s.log.Error("restore: audit of the failure", "tenant", t.Slug, "err", err)
		}
		s.log.Error("restore failed", "tenant", t.Slug, "step", step, "err", cause)
		if e := (*errs.Error)(nil); errors.As(cause, &e) && e.Code != errs.Internal {
			return nil, cause
		}
		return nil, errs.Wrap(cause, errs.Unavailable, msgRestoreFailedUnchanged, t.Slug, step, cause.Error())
	}

	// The time's WAL must be in the archive: close the current segment (pg_switch_wal needs a
	// grant; without it the archive_timeout closes it) and wait for the archiver.
	s.switchWAL(ctx)
	var dbname, super string
	if err := s.db.NewRaw("SELECT current_database(), (SELECT rolname FROM pg_roles WHERE oid = 10)").Scan(ctx, &dbname, &super); err != nil {
		return fail("restore", err)
	}

	step := time.Now()
	inst, err := o.Backup.Restore(ctx, pgbackrest.RestoreOptions{Set: set.Label, To: o.To, WorkDir: o.WorkDir, BinDir: o.BinDir,
		PGVersion: set.PGVersion, Database: dbname})
	if errors.Is(err, pgbackrest.ErrTargetNotReached) {
		return fail("restore", errs.Wrap(err, errs.Unavailable, msgRestoreWALNotArchived, stamp(o.To)))
	}
	if err != nil {
		return fail("restore", err)
	}
	defer inst.Close()
	res.ClusterRestore = time.Since(step)

	step = time.Now()
	if err := s.takeSchema(ctx, inst, super, dbname, t, load, o.Jobs); err != nil {
		return fail("dump", err)
	}
	res.Dump = time.Since(step)

	step = time.Now()
	env, err := libpqEnv(s.databaseURL)
	if err != nil {
		return fail("load", err)
	}
	if out, err := inst.Run(ctx, "pg_restore", env, "--exit-on-error", "--no-tablespaces", "-j", fmt.Sprint(o.Jobs),
		"-d", dbnameOf(env), filepath.Join(inst.Dir, "dump")); err != nil {
		return fail("load", fmt.Errorf("%w\n%s", err, out))
	}
	res.Load = time.Since(step)
	inst.Close()

	if o.Mode == RestoreSide {
		if err := s.sealSide(ctx, t, load); err != nil {
			return fail("load", err)
		}
		if res.Tables, err = s.compareRows(ctx, load, t.SchemaName); err != nil {
			return fail("load", err)
		}
		res.Schema, res.Total = load, time.Since(started)
		detail["schema"], detail["tables"] = load, res.Tables
		if err := s.AuditNow(ctx, AuditRestoreDone, &t.ID, t.Slug, detail); err != nil {
			return nil, err
		}
		return res, nil
	}

	// In place: bring the restored schema up to today's migrations, then swap it in.
	staged := *t
	staged.SchemaName = load
	if res.Migrated, err = s.migrateTenant(ctx, &staged); err != nil {
		return fail("migrate", err)
	}
	if o.failAt == "migrate" {
		return fail("migrate", errors.New("test failure"))
	}
	if res.Tables, err = s.compareRows(ctx, load, t.SchemaName); err != nil {
		return fail("swap", err)
	}
	aside := t.SchemaName + "_before_" + now.UTC().Format("20060102t150405")
	wasActive := t.Status == StatusActive
	if wasActive {
		if err := s.Suspend(ctx, t, "restore to "+stamp(o.To)); err != nil {
			return fail("freeze", err)
		}
	}
	frozen := time.Now()
	resume := func() error {
		if !wasActive {
			return nil
		}
		return s.Reactivate(context.WithoutCancel(ctx), t)
	}
	select {
	case <-time.After(o.Settle):
	case <-ctx.Done():
	}
	detail["schema"], detail["aside"], detail["tables"], detail["migrated"] = t.SchemaName, aside, res.Tables, res.Migrated
	err = ctx.Err()
	if err == nil {
		step = time.Now()
		err = s.swapSchema(ctx, t, load, aside, o.failAt, detail)
		res.Swap = time.Since(step)
	}
	if err != nil {
		rerr := resume()
		res.Freeze = time.Since(frozen)
		if rerr != nil {
			s.log.Error("restore: resuming after a failed swap", "tenant", t.Slug, "err", rerr)
			_, err = fail("swap", err)
			return nil, errs.Wrap(errors.Join(err, rerr), errs.Unavailable, msgRestoreFailedSuspended, t.Slug, t.Slug)
		}
		return fail("swap", err)
	}
	if err := resume(); err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, msgRestoreDoneSuspended, t.Slug, stamp(o.To), t.Slug)
	}
	res.Freeze = time.Since(frozen)
	res.Schema, res.Aside, res.Total = t.SchemaName, aside, time.Since(started)
	return res, nil
}

// restoreLeftovers lists the schemas restores left beside t's (side schemas, schemas kept aside,
// a staging schema of a crashed run), which offboarding drops with the tenant's own. Their names
// start with the tenant's schema and "_", which no other tenant's schema does.
func restoreLeftovers(ctx context.Context, db bun.IDB, t *Tenant) ([]string, error) {
	var names []string
	err := db.NewRaw(`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, ?) AND substr(nspname, ?) ~ '^(at|before|restoring)_[0-9]{8}t[0-9]{6}$'
		ORDER BY 1`, t.SchemaName+"_", len(t.SchemaName)+2).Scan(ctx, &names)
	return names, err
}

// switchWAL closes the current WAL segment and waits (up to a minute) until the archiver has
// archived it, so that the restore finds the latest writes in the archive.
func (s *Store) switchWAL(ctx context.Context) {
	var seg string
	if err := s.db.NewRaw("SELECT pg_walfile_name(pg_switch_wal())").Scan(ctx, &seg); err != nil {
		s.log.Warn("restore: pg_switch_wal refused; the latest writes reach the archive at archive_timeout", "err", err)
		return
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var last sql.NullString
		if err := s.db.NewRaw("SELECT last_archived_wal FROM pg_stat_archiver").Scan(ctx, &last); err != nil {
			return
		}
		if last.Valid && len(last.String) >= 24 && last.String[:24] >= seg {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	s.log.Warn("restore: the archiver has not archived the current WAL segment after a minute", "segment", seg)
}

// takeSchema renames t's schema in the restored instance to load (the instance is ours) and
// dumps it to inst.Dir/dump.
func (s *Store) takeSchema(ctx context.Context, inst *pgbackrest.Instance, super, dbname string, t *Tenant, load string, jobs int) error {
	db, err := sql.Open("pgx", inst.DSN(super, dbname))
	if err != nil {
		return err
	}
	defer db.Close()
	var there bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", t.SchemaName).Scan(&there); err != nil {
		return fmt.Errorf("%w\n%s", err, inst.Log())
	}
	if !there {
		return errs.E(errs.NotFound, msgRestoreNoSchemaThen, t.Slug, t.SchemaName)
	}
	if _, err := db.ExecContext(ctx, "ALTER SCHEMA "+dbx.QuoteIdent(t.SchemaName)+" RENAME TO "+dbx.QuoteIdent(load)); err != nil {
		return err
	}
	db.Close()
	out, err := inst.Run(ctx, "pg_dump", nil, "-h", inst.Dir, "-p", fmt.Sprint(inst.Port), "-U", super, "-d", dbname,
		"-n", load, "-Fd", "-j", fmt.Sprint(jobs), "-f", filepath.Join(inst.Dir, "dump"))
	if err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
}

// sealSide makes a side schema read-only for the tenant: the platform's own role owns it and
// what is in it, the tenant's read-only role may read it, its read-write role nothing.
func (s *Store) sealSide(ctx context.Context, t *Tenant, side string) error {
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		q := dbx.QuoteIdent(side)
		var rels []struct {
			Name string `bun:"name"`
			Kind string `bun:"kind"`
		}
		// Sequences that belong to a column follow their table.
		if err := tx.NewRaw(`SELECT c.oid::regclass::text AS name, c.relkind::text AS kind FROM pg_class c
			WHERE c.relnamespace = ?::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
			AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
				AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
			ORDER BY c.relkind <> 'S', 1`, side).Scan(ctx, &rels); err != nil {
			return err
		}
		var fns []string
		if err := tx.NewRaw("SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = ?::regnamespace", side).Scan(ctx, &fns); err != nil {
			return err
		}
		ddl := []string{"ALTER SCHEMA " + q + " OWNER TO CURRENT_USER"}
		for _, r := range rels {
			kind := map[string]string{"S": "SEQUENCE", "v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}[r.Kind]
			if kind == "" {
				kind = "TABLE"
			}
			// regclass text is a quoted, schema-qualified name as PostgreSQL prints it.
			ddl = append(ddl, "ALTER "+kind+" "+r.Name+" OWNER TO CURRENT_USER")
		}
		for _, f := range fns {
			ddl = append(ddl, "ALTER FUNCTION "+f+" OWNER TO CURRENT_USER")
		}
		ro := dbx.QuoteIdent(t.ReadOnlyRole())
		ddl = append(ddl, "REVOKE ALL ON SCHEMA "+q+" FROM PUBLIC",
			"GRANT USAGE ON SCHEMA "+q+" TO "+ro,
			"GRANT SELECT ON ALL TABLES IN SCHEMA "+q+" TO "+ro,
			"ALTER DEFAULT PRIVILEGES FOR ROLE "+dbx.QuoteIdent(t.DBRole)+" IN SCHEMA "+q+" REVOKE ALL ON TABLES FROM "+ro,
			"ALTER DEFAULT PRIVILEGES FOR ROLE "+dbx.QuoteIdent(t.DBRole)+" IN SCHEMA "+q+" REVOKE ALL ON SEQUENCES FROM "+ro)
		_, err := tx.ExecContext(ctx, strings.Join(ddl, ";\n"))
		return err
	})
}

// swapSchema puts the restored schema load in place of t's, in one transaction: it waits for the
// writes in flight to the tenant's tables (ACCESS EXCLUSIVE on each), renames the live schema to
// aside and load to the tenant's, grants the tenant's two roles what provisioning grants them,
// and records the audit entry.
func (s *Store) swapSchema(ctx context.Context, t *Tenant, load, aside, failAt string, detail map[string]any) error {
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '30s'; SELECT pg_advisory_xact_lock(hashtext(?))", t.SchemaName); err != nil {
			return err
		}
		var tables []string
		if err := tx.NewRaw("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = ? ORDER BY tablename", t.SchemaName).Scan(ctx, &tables); err != nil {
			return err
		}
		if len(tables) > 0 {
			if _, err := tx.ExecContext(ctx, "LOCK TABLE "+strings.Join(tables, ", ")+" IN ACCESS EXCLUSIVE MODE"); err != nil {
				return err
			}
		}
		schema, rw, ro := dbx.QuoteIdent(t.SchemaName), dbx.QuoteIdent(t.DBRole), dbx.QuoteIdent(t.ReadOnlyRole())
		ddl := `
ALTER SCHEMA ` + schema + ` RENAME TO ` + dbx.QuoteIdent(aside) + `;
REVOKE ALL ON SCHEMA ` + dbx.QuoteIdent(aside) + ` FROM ` + ro + `;
ALTER SCHEMA ` + dbx.QuoteIdent(load) + ` RENAME TO ` + schema + `;
ALTER SCHEMA ` + schema + ` OWNER TO ` + rw + `;
REVOKE ALL ON SCHEMA ` + schema + ` FROM PUBLIC;
GRANT USAGE ON SCHEMA ` + schema + ` TO ` + ro + `;
GRANT SELECT ON ALL TABLES IN SCHEMA ` + schema + ` TO ` + ro + `;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA ` + schema + ` TO ` + ro + `;
ALTER DEFAULT PRIVILEGES FOR ROLE ` + rw + ` IN SCHEMA ` + schema + ` GRANT SELECT ON TABLES TO ` + ro + `;
ALTER DEFAULT PRIVILEGES FOR ROLE ` + rw + ` IN SCHEMA ` + schema + ` GRANT SELECT ON SEQUENCES TO ` + ro + `;
`
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
		if failAt == "swap" {
			return errors.New("test failure in the swap")
		}
		return s.Audit(ctx, tx, AuditRestoreDone, &t.ID, t.Slug, detail)
	})
}

// compareRows counts the rows of every table of schemas a (restored) and b (live).
func (s *Store) compareRows(ctx context.Context, a, b string) ([]RestoredTable, error) {
	var names []string
	if err := s.db.NewRaw("SELECT DISTINCT tablename FROM pg_tables WHERE schemaname IN (?, ?) ORDER BY 1", a, b).Scan(ctx, &names); err != nil {
		return nil, dbx.Translate(err)
	}
	out := make([]RestoredTable, 0, len(names))
	for _, n := range names {
		r := RestoredTable{Name: n}
		for _, x := range []struct {
			schema string
			n      *int64
		}{{a, &r.Restored}, {b, &r.Live}} {
			var there bool
			if err := s.db.NewRaw("SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = ? AND tablename = ?)", x.schema, n).Scan(ctx, &there); err != nil {
				return nil, dbx.Translate(err)
			}
			*x.n = -1
			if there {
				if err := s.db.NewRaw("SELECT count(*) FROM "+dbx.QuoteIdent(x.schema)+"."+dbx.QuoteIdent(n)).Scan(ctx, x.n); err != nil {
					return nil, dbx.Translate(err)
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// libpqEnv turns the store's postgres:// URL into libpq's environment variables, so that the
// programs a restore runs reach the same database without a password on their command line
// (and without the pgx-only parameters libpq refuses).
func libpqEnv(raw string) ([]string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	env := []string{}
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	add("PGHOST", u.Hostname())
	add("PGPORT", u.Port())
	if u.User != nil {
		add("PGUSER", u.User.Username())
		if p, ok := u.User.Password(); ok {
			add("PGPASSWORD", p)
		}
	}
	add("PGDATABASE", strings.TrimPrefix(u.Path, "/"))
	q := u.Query()
	for param, v := range map[string]string{"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
		"dbname": "PGDATABASE", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
		"sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT", "target_session_attrs": "PGTARGETSESSIONATTRS"} {
		add(v, q.Get(param))
	}
	env = append(env, "PGAPPNAME=cityops-restore")
	return env, nil
}

// dbnameOf is PGDATABASE of env, as pg_restore's -d (which is also read as a connection string
// when it holds "=", so such names go through the environment alone).
func dbnameOf(env []string) string {
	name := "postgres"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PGDATABASE="); ok {
			name = v
		}
	}
	if strings.ContainsAny(name, "= ") || strings.Contains(name, "://") {
		return ""
	}
	return name
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000 UTC") }

// The restore's messages.
var (
	msgRestoreNeedsPostgres = msg.New("tenants.restore_needs_postgres",
		"%s runs on SQLite: restore its file from a file-level backup (cityops tenants restore --from FILE).",
		"%s 运行在 SQLite 上：请从文件级备份恢复其数据库文件（cityops tenants restore --from 文件）。")
	msgRestoreTenantNotLive = msg.New("tenants.restore_tenant_not_live",
		"Tenant %s is %s: only an active or suspended tenant can be restored.",
		"单位 %s 当前状态为 %s：只有正常或已暂停的单位可以恢复。")
	msgRestoreMode = msg.New("tenants.restore_mode",
		"%q is not a restore mode: use side (beside the live data, for comparison) or in-place.",
		"%q 不是有效的恢复方式：请使用 side（恢复到旁路模式，用于比对）或 in-place（原位恢复）。")
	msgRestorePrefecture = msg.New("tenants.restore_prefecture",
		"%s is a prefecture: an in-place restore takes only its own schema back in time, not its counties', so what it shares with them may disagree afterwards. Restore it into a side schema, or pass --prefecture-alone if that is what you want.",
		"%s 是州（市）级单位：原位恢复只会回退其自身的数据，不会回退所辖县（市）的数据，恢复后与各县共享的内容可能不一致。请先恢复到旁路模式比对；如确需如此，请加 --prefecture-alone。")
	msgRestoreTimeRequired = msg.New("tenants.restore_time_required",
		"Say the time to restore to (--to, e.g. 2026-12-07T15:04:05+08:00).",
		"请指定要恢复到的时间（--to，例如 2026-12-07T15:04:05+08:00）。")
	msgRestoreTimeFuture = msg.New("tenants.restore_time_future",
		"The time %s is not in the past (now is %s).",
		"时间 %s 不是过去的时间（现在是 %s）。")
	msgRestoreBeforeTenant = msg.New("tenants.restore_before_tenant",
		"The time %s is before tenant %s was created (%s).",
		"时间 %s 早于单位 %s 的创建时间（%s）。")
	msgRestoreBackupUnusable = msg.New("tenants.restore_backup_unusable",
		"The backups cannot be read: %s",
		"无法读取备份：%s")
	msgRestoreNoBackups = msg.New("tenants.restore_no_backups",
		"The stanza %s has no backup yet: take one (pgbackrest backup) before restoring.",
		"备份配置（stanza）%s 还没有任何备份：请先执行 pgbackrest backup。")
	msgRestoreBeforeFirstBackup = msg.New("tenants.restore_before_first_backup",
		"The time %s is before the first backup ended: the earliest time that can be restored is %s.",
		"时间 %s 早于第一个备份的完成时间：最早可恢复到 %s。")
	msgRestoreSchemaExists = msg.New("tenants.restore_schema_exists",
		"The schema %s exists already (an earlier restore): drop it first (DROP SCHEMA %[1]s CASCADE).",
		"模式（schema）%s 已存在（之前的恢复留下的）：请先删除（DROP SCHEMA %[1]s CASCADE）。")
	msgRestoreWALNotArchived = msg.New("tenants.restore_wal_not_archived",
		"The archived WAL does not reach %s yet; try again in a minute, or choose an earlier time.",
		"已归档的 WAL 日志尚未覆盖到 %s；请稍后重试，或选择更早的时间。")
	msgRestoreNoSchemaThen = msg.New("tenants.restore_no_schema_then",
		"Tenant %s had no data (schema %s) at that time.",
		"单位 %s 在该时间还没有数据（模式 %s）。")
	msgRestoreFailedUnchanged = msg.New("tenants.restore_failed_unchanged",
		"Restoring %s failed at the step %s; nothing was changed and the tenant works as before. Cause: %s",
		"恢复 %s 在“%s”步骤失败；未做任何更改，该单位照常使用。原因：%s")
	msgRestoreFailedSuspended = msg.New("tenants.restore_failed_suspended",
		"Restoring %s failed and nothing was changed, but the tenant could not be resumed: run cityops tenants resume %s.",
		"恢复 %s 失败，未做任何更改，但该单位未能恢复写入：请执行 cityops tenants resume %s。")
	msgRestoreDoneSuspended = msg.New("tenants.restore_done_suspended",
		"%s was restored to %s but is still suspended: run cityops tenants resume %s.",
		"%s 已恢复到 %s，但仍处于暂停状态：请执行 cityops tenants resume %s。")
)
