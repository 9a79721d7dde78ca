package tenants

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/uptrace/bun"
)

// The two ways a move copies a schema.
const (
	// MoveLogical copies with PostgreSQL logical replication while the tenant keeps writing, and
	// freezes writes only to catch up the last changes, verify and switch.
	MoveLogical = "logical"
	// MoveDump copies with pg_dump and pg_restore under the freeze (the fallback when the source
	// cluster has no logical replication: wal_level is not logical, or the target cannot subscribe).
	MoveDump = "dump"
)

// moveCatchUpTimeout bounds how long the frozen tenant waits for the subscription to apply the
// last changes; past it the move is rolled back.
const moveCatchUpTimeout = 2 * time.Minute

// replName is the name of a move's publication (source), subscription (target) and replication
// slot (source) for a schema.
func replName(schema string) string { return "cityops_move_" + schema }

// logicalBlocker says why schema cannot be moved by logical replication from cluster (empty if
// it can): the cluster's wal_level. A published table without a primary key (or other replica
// identity) would refuse its updates and deletes on the source, so such tables (append-only
// ones: the monitoring readings) are given REPLICA IDENTITY FULL there first; they are returned
// (the setting comes along with the copy and stays).
func (s *Store) logicalBlocker(ctx context.Context, schema, cluster string) (string, []string, error) {
	db, err := s.pool(cluster)
	if err != nil {
		return "", nil, err
	}
	var level string
	if err := db.NewRaw("SELECT current_setting('wal_level')").Scan(ctx, &level); err != nil {
		return "", nil, dbx.Translate(err)
	}
	if level != "logical" {
		return fmt.Sprintf("wal_level is %s on cluster %s, not logical", level, cluster), nil, nil
	}
	var bare []string
	if err := db.NewRaw(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = ? AND c.relkind IN ('r', 'p') AND c.relreplident <> 'f'
		AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND (i.indisprimary OR i.indisreplident))
		ORDER BY 1`, schema).Scan(ctx, &bare); err != nil {
		return "", nil, dbx.Translate(err)
	}
	for _, n := range bare {
		if _, err := db.ExecContext(ctx, "SET lock_timeout = '10s'; ALTER TABLE "+dbx.QuoteIdent(schema)+"."+dbx.QuoteIdent(n)+
			" REPLICA IDENTITY FULL; RESET lock_timeout"); err != nil {
			return fmt.Sprintf("table %s has no primary key and could not be given REPLICA IDENTITY FULL: %v", n, err), nil, nil
		}
	}
	return "", bare, nil
}

// startReplication makes the tenant's roles and the schema's structure on the target cluster
// (pg_dump --schema-only), grants what provisioning grants, publishes the schema on the source
// and subscribes the target to it, which copies the tables' rows and then streams their changes.
func (s *Store) startReplication(ctx context.Context, t *Tenant, from, to string, o MoveOptions) error {
	dir, srcEnv, dstEnv, err := s.prepareCopy(ctx, t, from, to, o)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dump := filepath.Join(dir, "schema.dump")
	if out, err := s.runPG(ctx, o.BinDir, "pg_dump", srcEnv, "-n", t.SchemaName, "--schema-only", "-Fc",
		"--no-tablespaces", "-f", dump); err != nil {
		return fmt.Errorf("pg_dump --schema-only: %w\n%s", err, out)
	}
	if out, err := s.runPG(ctx, o.BinDir, "pg_restore", dstEnv, "--exit-on-error", "--no-tablespaces",
		"-d", dbnameOf(dstEnv), dump); err != nil {
		return fmt.Errorf("pg_restore --schema-only: %w\n%s", err, out)
	}
	if err := s.grantMoved(ctx, t, to); err != nil {
		return err
	}
	src, err := s.pool(from)
	if err != nil {
		return err
	}
	dst, err := s.pool(to)
	if err != nil {
		return err
	}
	name := dbx.QuoteIdent(replName(t.SchemaName))
	if _, err := src.ExecContext(ctx, "CREATE PUBLICATION "+name+" FOR TABLES IN SCHEMA "+dbx.QuoteIdent(t.SchemaName)); err != nil {
		return fmt.Errorf("create publication on %s: %w", from, err)
	}
	// The target connects to the source with the source's URL from the configuration; CREATE
	// SUBSCRIPTION makes the replication slot on the source and starts the initial copy.
	if _, err := dst.ExecContext(ctx, "CREATE SUBSCRIPTION "+name+" CONNECTION ? PUBLICATION "+name+
		" WITH (copy_data = true, create_slot = true, enabled = true)", conninfo(srcEnv)); err != nil {
		return fmt.Errorf("create subscription on %s: %w", to, err)
	}
	return nil
}

// conninfo is a libpq key/value connection string of env (PG* variables).
func conninfo(env []string) string {
	keys := map[string]string{"PGHOST": "host", "PGPORT": "port", "PGUSER": "user", "PGPASSWORD": "password",
		"PGDATABASE": "dbname", "PGSSLMODE": "sslmode", "PGSSLROOTCERT": "sslrootcert", "PGSSLCERT": "sslcert",
		"PGSSLKEY": "sslkey", "PGCONNECT_TIMEOUT": "connect_timeout"}
	var parts []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if key, ok := keys[k]; ok {
			parts = append(parts, key+"='"+strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v)+"'")
		}
	}
	return strings.Join(parts, " ") + " application_name='cityops-move'"
}

// waitSynced waits for the subscription's initial copy of every table to end (each table
// 'r'eady: streaming changes). A table copy that fails on the target is an error.
func (s *Store) waitSynced(ctx context.Context, schema, to string) error {
	dst, err := s.pool(to)
	if err != nil {
		return err
	}
	for {
		var pending, failed int
		if err := dst.NewRaw(`SELECT
			(SELECT count(*) FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = ? AND r.srsubstate <> 'r'),
			(SELECT coalesce(sum(sync_error_count + apply_error_count), 0) FROM pg_stat_subscription_stats WHERE subname = ?)`,
			replName(schema), replName(schema)).Scan(ctx, &pending, &failed); err != nil {
			return dbx.Translate(err)
		}
		if failed > 0 {
			return fmt.Errorf("the subscription on cluster %s failed to copy or apply (%d errors; see that cluster's log)", to, failed)
		}
		if pending == 0 {
			return nil
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// catchUp runs in the freeze, after the writes in flight have ended: it takes the source's WAL
// position (flushed, so that the replication sees it), sets the schema's sequences on the target
// as they are on the source (logical replication does not carry them), and waits for the
// subscription to confirm it applied everything up to that position.
func (s *Store) catchUp(ctx context.Context, schema, from, to string) error {
	src, err := s.pool(from)
	if err != nil {
		return err
	}
	dst, err := s.pool(to)
	if err != nil {
		return err
	}
	var lsn string
	err = src.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// A transaction id makes this commit write (and, synchronously, flush) a commit record
		// after the position taken, so the WAL up to it reaches the walsender.
		if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = on; SELECT txid_current()"); err != nil {
			return err
		}
		return tx.NewRaw("SELECT pg_current_wal_insert_lsn()::text").Scan(ctx, &lsn)
	})
	if err != nil {
		return dbx.Translate(err)
	}
	var seqs []string
	if err := src.NewRaw("SELECT sequencename FROM pg_sequences WHERE schemaname = ? ORDER BY 1", schema).Scan(ctx, &seqs); err != nil {
		return dbx.Translate(err)
	}
	for _, q := range seqs {
		name := dbx.QuoteIdent(schema) + "." + dbx.QuoteIdent(q)
		var last int64
		var called bool
		if err := src.NewRaw("SELECT last_value, is_called FROM "+name).Scan(ctx, &last, &called); err != nil {
			return dbx.Translate(err)
		}
		if _, err := dst.ExecContext(ctx, "SELECT setval(?::regclass, ?, ?)", name, last, called); err != nil {
			return dbx.Translate(err)
		}
	}
	deadline := time.Now().Add(moveCatchUpTimeout)
	for {
		var done bool
		var failed int
		if err := src.NewRaw("SELECT coalesce(bool_or(confirmed_flush_lsn >= ?::pg_lsn), false) FROM pg_replication_slots WHERE slot_name = ?",
			lsn, replName(schema)).Scan(ctx, &done); err != nil {
			return dbx.Translate(err)
		}
		if done {
			return nil
		}
		if err := dst.NewRaw("SELECT coalesce(sum(apply_error_count), 0) FROM pg_stat_subscription_stats WHERE subname = ?",
			replName(schema)).Scan(ctx, &failed); err != nil {
			return dbx.Translate(err)
		}
		if failed > 0 {
			return fmt.Errorf("the subscription on cluster %s failed to apply changes (see that cluster's log)", to)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the subscription on cluster %s did not apply the changes up to %s within %v", to, lsn, moveCatchUpTimeout)
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// dropReplication removes what a move's logical replication made for schema, whatever step it
// reached: the subscription on the target, the replication slots on the source (the
// subscription's and those of its table copies: a slot left behind keeps the source's WAL
// forever) and the publication on the source. Nothing there is fine.
func (s *Store) dropReplication(ctx context.Context, schema, from, to string) error {
	name := replName(schema)
	var errsOut []error
	var subOID int64
	if dst, err := s.pool(to); err == nil {
		var oids []int64
		if err := dst.NewRaw("SELECT oid FROM pg_subscription WHERE subname = ?", name).Scan(ctx, &oids); err != nil {
			errsOut = append(errsOut, fmt.Errorf("cluster %s: %w", to, err))
		}
		if len(oids) > 0 {
			subOID = oids[0]
			q := dbx.QuoteIdent(name)
			// Detached from its slot first: the slots are dropped below, on the source, whether or
			// not DROP SUBSCRIPTION could reach it.
			for _, stmt := range []string{"ALTER SUBSCRIPTION " + q + " DISABLE", "ALTER SUBSCRIPTION " + q + " SET (slot_name = NONE)", "DROP SUBSCRIPTION " + q} {
				if _, err := dst.ExecContext(ctx, stmt); err != nil {
					errsOut = append(errsOut, fmt.Errorf("cluster %s: %s: %w", to, stmt, err))
					break
				}
			}
		}
	} else {
		errsOut = append(errsOut, err)
	}
	src, err := s.pool(from)
	if err != nil {
		return errors.Join(append(errsOut, err)...)
	}
	slotsQ := "slot_name = ?"
	args := []any{name}
	if subOID != 0 {
		slotsQ += " OR slot_name LIKE ?"
		args = append(args, fmt.Sprintf("pg\\_%d\\_sync\\_%%", subOID))
	}
	for try := 0; ; try++ {
		var left int
		err := src.NewRaw("SELECT count(*) FROM (SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active AND ("+slotsQ+")) x", args...).Scan(ctx, &left)
		if err == nil {
			_, err = src.ExecContext(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active AND ("+slotsQ+")", args...)
		}
		if err == nil {
			err = src.NewRaw("SELECT count(*) FROM pg_replication_slots WHERE "+slotsQ, args...).Scan(ctx, &left)
		}
		if err == nil && left == 0 {
			break
		}
		if try == 50 {
			errsOut = append(errsOut, fmt.Errorf("cluster %s: replication slot %s not dropped (%d left): %v", from, name, left, err))
			break
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	if _, err := src.ExecContext(ctx, "DROP PUBLICATION IF EXISTS "+dbx.QuoteIdent(name)); err != nil {
		errsOut = append(errsOut, fmt.Errorf("cluster %s: %w", from, err))
	}
	return errors.Join(errsOut...)
}

// replicationLeft lists the subscriptions, replication slots and publications of moves on the
// clusters (tests, checks).
func (s *Store) replicationLeft(ctx context.Context, clusters ...string) ([]string, error) {
	var out []string
	for _, c := range clusters {
		db, err := s.pool(c)
		if err != nil {
			return nil, err
		}
		var got []string
		if err := db.NewRaw(`SELECT 'subscription ' || subname FROM pg_subscription WHERE subname LIKE 'cityops\_move\_%'
			UNION ALL SELECT 'slot ' || slot_name FROM pg_replication_slots WHERE slot_name LIKE 'cityops\_move\_%' OR slot_name LIKE 'pg\_%\_sync\_%'
			UNION ALL SELECT 'publication ' || pubname FROM pg_publication WHERE pubname LIKE 'cityops\_move\_%'`).Scan(ctx, &got); err != nil {
			return nil, err
		}
		for _, g := range got {
			out = append(out, c+": "+g)
		}
	}
	return out, nil
}
