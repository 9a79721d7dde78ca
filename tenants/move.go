package tenants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// FreezeRetryAfter is what a write refused by a tenant's write freeze tells the client to wait.
const FreezeRetryAfter = 5 * time.Second

// moveLeaseTTL is how long a move's lease lasts without renewal: a move whose process died
// can be resumed by another once it has expired.
const moveLeaseTTL = time.Minute

// The audit actions of a move.
const (
	AuditMoveStart    = "tenant.move.start"
	AuditMoveResume   = "tenant.move.resume"
	AuditMoveSwitched = "tenant.move.switched"
	AuditMoveDone     = "tenant.move.done"
	AuditMoveFailed   = "tenant.move.failed"
	AuditMoveAborted  = "tenant.move.aborted"
	// AuditMoveFallback: the source cluster has no logical replication for the move, which
	// copies with pg_dump under the write freeze instead (the reason in the detail).
	AuditMoveFallback = "tenant.move.fallback"
)

// MoveOptions say where a move takes a tenant and how.
type MoveOptions struct {
	// To is the cluster to move the tenant to.
	To string
	// Abort rolls back the move in progress instead (before its switch): the copy is dropped,
	// the tenant stays where it was and its writes resume.
	Abort bool
	// KeepOld keeps the tenant's schema on the cluster it left, renamed <schema>_moved_<time>
	// and closed to the tenant's roles, for the operator to drop; by default it is dropped as
	// soon as the tenant is switched (after the copy was verified).
	KeepOld bool
	// Jobs is how many parallel jobs pg_dump and pg_restore run (default 2).
	Jobs int
	// Settle is how long the freeze waits for every replica to see a change of the tenant's
	// row (the freeze, then the new placement); default three cache sync intervals.
	Settle time.Duration
	// WorkDir holds the dump for the time of the copy (default the system's temporary folder);
	// BinDir the PostgreSQL client programs (default found on PATH).
	WorkDir, BinDir string

	// failAt, when set (tests), stops the move at the named step as a crash would: nothing is
	// cleaned up, the freeze stays.
	failAt string
}

// MoveResult is what a move did.
type MoveResult struct {
	Tenant  string `json:"tenant"`
	From    string `json:"from"`
	To      string `json:"to"`
	Resumed bool   `json:"resumed,omitempty"`
	// Method is how the schema was copied: MoveLogical (replication while the tenant writes) or
	// MoveDump (pg_dump under the freeze); Fallback says why it was not logical replication.
	Method   string `json:"method,omitempty"`
	Fallback string `json:"fallback,omitempty"`
	// IdentityFull are the tables without a primary key that were given REPLICA IDENTITY FULL
	// for the replication (a setting that stays with them).
	IdentityFull []string `json:"identity_full,omitempty"`
	Aborted      bool     `json:"aborted,omitempty"`
	// Tables are the tables copied, each with its rows and the checksum both clusters agreed on.
	Tables []MovedTable `json:"tables,omitempty"`
	// Aside is where the schema left on the old cluster was kept (KeepOld), else empty.
	Aside string `json:"aside,omitempty"`
	// The steps' durations: the copy (logical: the structure and the subscription's initial copy,
	// while the tenant writes; dump: dump and load, frozen), the catch-up of the last changes in
	// the freeze (logical), the verification, and how long the tenant refused writes (from the
	// freeze committing to its lifting).
	Copy    time.Duration `json:"copy"`
	CatchUp time.Duration `json:"catch_up,omitempty"`
	Verify  time.Duration `json:"verify"`
	Freeze  time.Duration `json:"freeze"`
	Total   time.Duration `json:"total"`
}

// MovedTable is one table of a moved schema.
type MovedTable struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
	Sum  string `json:"sum"`
}

// tenantMove is a move in progress (control.tenant_moves).
type tenantMove struct {
	bun.BaseModel `bun:"table:control.tenant_moves"`

	TenantID  uuid.UUID `bun:"tenant_id,pk,type:uuid"`
	From      string    `bun:"from_cluster"`
	To        string    `bun:"to_cluster"`
	Step      string    `bun:"step"`
	StartedAt time.Time `bun:"started_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// Move moves tenant t's schema to another cluster. It copies the schema by logical replication
// (publication on the source, subscription on the target) while the tenant keeps writing; then
// it freezes the tenant's writes (reads go on), waits for every replica to see the freeze and for
// the writes in flight to end, waits for the subscription to apply the last changes and sets the
// sequences (catchUp), verifies the copy and drops the replication. Where the source has no
// logical replication (wal_level, or the subscription fails) it falls back to copying the schema
// with pg_dump and pg_restore under the freeze, and says so (MoveResult.Fallback, the audit).
// Either way it verifies the copy (each table's rows and a checksum of
// its content, on both clusters), switches the tenant's placement in the control plane, waits
// for the replicas to see it, drops (or keeps aside, KeepOld) the schema it left, and lifts the
// freeze. Every step is recorded (control.tenant_moves) and audited: a move interrupted by a
// crash is resumed by running it again with the same To, or rolled back with Abort. A lease
// keeps two moves of a tenant from running at once. A copy that does not verify is rolled back
// and the tenant is left where it was.
//
// The prefecture reads each county through the county's own transaction on the county's own
// cluster (the gate), never across schemas in one query, so a county and its prefecture may
// live on different clusters.
func (s *Store) Move(ctx context.Context, t *Tenant, o MoveOptions) (*MoveResult, error) {
	started := time.Now()
	if s.dialect != dbx.Postgres {
		return nil, errs.E(errs.Invalid, msgMoveNeedsPostgres, t.Slug)
	}
	if !dbx.ValidIdent(t.SchemaName) || !dbx.ValidIdent(t.DBRole) || len(t.SchemaName) > 30 {
		return nil, errs.E(errs.Internal, msgTenantHasInvalidSchemaRole, t.ID)
	}
	if o.Jobs <= 0 {
		o.Jobs = 2
	}
	if o.Settle <= 0 {
		o.Settle = 3 * CacheSyncInterval
	}
	lease, holder := "tenant-move:"+t.ID.String(), uuid.NewString()
	got, err := s.TryLease(ctx, lease, holder, moveLeaseTTL)
	if err != nil {
		return nil, err
	}
	if !got {
		return nil, errs.E(errs.Conflict, msgMoveLeaseHeld, t.Slug, moveLeaseTTL)
	}
	renewCtx, stopRenew := context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		stopRenew()
		if err := s.ReleaseLease(context.WithoutCancel(ctx), lease, holder); err != nil {
			s.log.Warn("move: releasing the lease", "tenant", t.Slug, "err", err)
		}
	}()
	go func() {
		for {
			select {
			case <-renewCtx.Done():
				return
			case <-time.After(moveLeaseTTL / 4):
				if ok, err := s.TryLease(renewCtx, lease, holder, moveLeaseTTL); (err != nil || !ok) && renewCtx.Err() == nil {
					s.log.Error("move: the lease could not be renewed", "tenant", t.Slug, "err", err)
				}
			}
		}
	}()

	cur, err := s.FindTenantByID(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	*t = *cur
	if t.Status != StatusActive && t.Status != StatusSuspended {
		return nil, errs.E(errs.Conflict, msgMoveTenantNotLive, t.Slug, t.Status)
	}
	mv, err := s.findMove(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	if o.Abort {
		return s.abortMove(ctx, t, mv, started)
	}
	if o.To == "" {
		return nil, errs.Field("to", msgMoveToRequired)
	}
	if !s.known(o.To) {
		return nil, errs.Field("to", msgClusterNotConfigured, o.To)
	}
	res := &MoveResult{Tenant: t.Slug, From: t.Cluster, To: o.To}
	switch {
	case mv == nil && t.Cluster == o.To:
		return nil, errs.E(errs.Conflict, msgMoveAlreadyThere, t.Slug, o.To)
	case mv != nil && mv.To != o.To:
		return nil, errs.E(errs.Conflict, msgMoveOtherInProgress, t.Slug, mv.From, mv.To, mv.To, t.Slug)
	case mv == nil:
		now := s.now()
		mv = &tenantMove{TenantID: t.ID, From: t.Cluster, To: o.To, Step: "freeze", StartedAt: now, UpdatedAt: now}
		err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewInsert().Model(mv).Exec(ctx); err != nil {
				return err
			}
			return s.Audit(ctx, tx, AuditMoveStart, &t.ID, t.Slug, map[string]any{"from": mv.From, "to": mv.To})
		})
		if err != nil {
			return nil, err
		}
	default:
		res.Resumed, res.From = true, mv.From
		if err := s.AuditNow(ctx, AuditMoveResume, &t.ID, t.Slug, map[string]any{"from": mv.From, "to": mv.To, "step": mv.Step}); err != nil {
			return nil, err
		}
	}
	if !s.known(mv.From) {
		return nil, errs.E(errs.Unavailable, msgClusterNotConfigured, mv.From)
	}

	var frozen time.Time
	freeze := func() error {
		if err := s.setFreeze(ctx, t, "move to "+o.To); err != nil {
			return err
		}
		frozen = time.Now()
		return sleepCtx(ctx, o.Settle)
	}
	if t.Cluster != o.To {
		// Not switched yet: copy, verify, switch. A failure rolls the move back.
		rollback := func(step string, cause error) (*MoveResult, error) {
			if o.failAt != "" {
				return nil, cause // a simulated crash leaves everything as it is
			}
			if err := s.rollbackMove(context.WithoutCancel(ctx), t, mv, AuditMoveFailed, map[string]any{"step": step, "error": cause.Error()}); err != nil {
				s.log.Error("move: rolling back", "tenant", t.Slug, "err", err)
				return nil, errs.Wrap(errors.Join(cause, err), errs.Unavailable, msgMoveFailedFrozen, t.Slug, step, t.Slug)
			}
			if e := (*errs.Error)(nil); errors.As(cause, &e) && e.Code != errs.Internal {
				return nil, cause
			}
			return nil, errs.Wrap(cause, errs.Unavailable, msgMoveFailedRolledBack, t.Slug, step, cause.Error())
		}
		// A move starts its copy afresh (a resumed one too): what an earlier attempt's replication
		// left goes first.
		if err := s.dropReplication(ctx, t.SchemaName, mv.From, mv.To); err != nil {
			return rollback("copy", err)
		}
		why, full, err := s.logicalBlocker(ctx, t.SchemaName, mv.From)
		if err != nil {
			return rollback("copy", err)
		}
		res.IdentityFull = full
		res.Method = MoveLogical
		if why == "" {
			// Copy while the tenant keeps writing (a crashed attempt's freeze is lifted for it).
			if t.WriteFreeze != "" {
				if err := s.liftFreeze(ctx, t); err != nil {
					return rollback("copy", err)
				}
			}
			if err := s.moveStep(ctx, mv, "sync"); err != nil {
				return rollback("copy", err)
			}
			step := time.Now()
			err := s.startReplication(ctx, t, mv.From, mv.To, o)
			if err == nil {
				err = s.waitSynced(ctx, t.SchemaName, mv.To)
			}
			if o.failAt == "sync" {
				return nil, errors.Join(errors.New("test crash after the initial sync"), err)
			}
			if err != nil {
				if ctx.Err() != nil {
					return rollback("copy", err)
				}
				why = err.Error()
				if err := s.dropReplication(ctx, t.SchemaName, mv.From, mv.To); err != nil {
					return rollback("copy", err)
				}
			}
			res.Copy = time.Since(step)
		}
		if why != "" {
			res.Method, res.Fallback, res.Copy = MoveDump, why, 0
			s.log.Warn("move: no logical replication, copying under the write freeze", "tenant", t.Slug, "reason", why)
			if err := s.AuditNow(ctx, AuditMoveFallback, &t.ID, t.Slug, map[string]any{"from": mv.From, "to": mv.To, "reason": why}); err != nil {
				return rollback("copy", err)
			}
		}
		if err := freeze(); err != nil {
			return rollback("freeze", err)
		}
		if err := s.quiesce(ctx, mv.From, t.SchemaName); err != nil {
			return rollback("freeze", err)
		}
		step := time.Now()
		if res.Method == MoveLogical {
			if err := s.catchUp(ctx, t.SchemaName, mv.From, mv.To); err != nil {
				return rollback("catch-up", err)
			}
			res.CatchUp = time.Since(step)
		} else {
			if err := s.moveStep(ctx, mv, "copy"); err != nil {
				return rollback("copy", err)
			}
			if err := s.copySchema(ctx, t, mv.From, mv.To, o); err != nil {
				return rollback("copy", err)
			}
			res.Copy = time.Since(step)
		}
		if o.failAt == "copy" {
			return nil, errors.New("test crash after the copy")
		}
		step = time.Now()
		tables, err := s.verifyCopy(ctx, t.SchemaName, mv.From, mv.To)
		res.Verify, res.Tables = time.Since(step), tables
		if err != nil {
			return rollback("verify", err)
		}
		// Verified under the freeze: nothing more to stream.
		if err := s.dropReplication(ctx, t.SchemaName, mv.From, mv.To); err != nil {
			return rollback("switch", err)
		}
		err = s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
			r, err := tx.NewUpdate().Model((*Tenant)(nil)).Set("cluster = ?", mv.To).Set("updated_at = ?", s.now()).
				Where("id = ? AND cluster = ?", t.ID, mv.From).Exec(ctx)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n != 1 {
				return errs.E(errs.Conflict, msgMoveTenantChanged, t.Slug)
			}
			if _, err := tx.NewUpdate().Model(mv).Set("step = 'switched'").Set("updated_at = ?", s.now()).WherePK().Exec(ctx); err != nil {
				return err
			}
			return s.Audit(ctx, tx, AuditMoveSwitched, &t.ID, t.Slug, map[string]any{"from": mv.From, "to": mv.To, "tables": tables})
		})
		s.invalidate(ctx, invalidTenants, "")
		if err != nil {
			return rollback("switch", err)
		}
		t.Cluster = mv.To
		if o.failAt == "switch" {
			return nil, errors.New("test crash after the switch")
		}
		// Every replica routes the tenant to its new cluster before writes resume.
		if err := sleepCtx(ctx, o.Settle); err != nil {
			return nil, err
		}
	} else if err := freeze(); err != nil {
		return nil, err
	}
	aside, err := s.retireSchema(ctx, t, mv.From, o.KeepOld)
	if err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, msgMoveFinishFailed, t.Slug, mv.To, t.Slug, mv.To)
	}
	res.Aside = aside
	err = s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*Tenant)(nil)).Set("write_freeze = ''").Where("id = ?", t.ID).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(mv).WherePK().Exec(ctx); err != nil {
			return err
		}
		res.Freeze, res.Total = time.Since(frozen), time.Since(started)
		detail := map[string]any{"from": mv.From, "to": mv.To, "aside": aside,
			"freeze_ms": res.Freeze.Milliseconds(), "total_ms": res.Total.Milliseconds(), "resumed": res.Resumed}
		if res.Method != "" {
			detail["method"], detail["copy_ms"], detail["catch_up_ms"] = res.Method, res.Copy.Milliseconds(), res.CatchUp.Milliseconds()
		}
		if res.Fallback != "" {
			detail["fallback"] = res.Fallback
		}
		if len(res.IdentityFull) > 0 {
			detail["replica_identity_full"] = res.IdentityFull
		}
		return s.Audit(ctx, tx, AuditMoveDone, &t.ID, t.Slug, detail)
	})
	s.invalidate(ctx, invalidTenants, "")
	if err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, msgMoveFinishFailed, t.Slug, mv.To, t.Slug, mv.To)
	}
	t.WriteFreeze = ""
	return res, nil
}

// abortMove rolls back the move in progress of t, if it has not switched yet.
func (s *Store) abortMove(ctx context.Context, t *Tenant, mv *tenantMove, started time.Time) (*MoveResult, error) {
	if mv == nil {
		return nil, errs.E(errs.Conflict, msgMoveNoneInProgress, t.Slug)
	}
	if t.Cluster == mv.To {
		return nil, errs.E(errs.Conflict, msgMoveAbortSwitched, t.Slug, mv.To, mv.To, t.Slug)
	}
	if err := s.rollbackMove(ctx, t, mv, AuditMoveAborted, map[string]any{"from": mv.From, "to": mv.To, "step": mv.Step}); err != nil {
		return nil, err
	}
	return &MoveResult{Tenant: t.Slug, From: mv.From, To: mv.To, Aborted: true, Total: time.Since(started)}, nil
}

// rollbackMove drops the copy of a move that has not switched, lifts the freeze and forgets
// the move. The copy is dropped only while the control plane places the tenant elsewhere.
func (s *Store) rollbackMove(ctx context.Context, t *Tenant, mv *tenantMove, action string, detail map[string]any) error {
	cur, err := s.FindTenantByID(ctx, t.ID)
	if err != nil {
		return err
	}
	if cur.Cluster == mv.To {
		return errs.E(errs.Conflict, msgMoveAbortSwitched, t.Slug, mv.To, mv.To, t.Slug)
	}
	if s.known(mv.To) && s.known(mv.From) {
		if err := s.dropReplication(ctx, t.SchemaName, mv.From, mv.To); err != nil {
			return err
		}
	}
	if s.known(mv.To) {
		if err := s.clusterTx(ctx, mv.To, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+dbx.QuoteIdent(t.SchemaName)+" CASCADE")
			return err
		}); err != nil {
			return err
		}
	}
	err = s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*Tenant)(nil)).Set("write_freeze = ''").Where("id = ?", t.ID).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(mv).WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.Audit(ctx, tx, action, &t.ID, t.Slug, detail)
	})
	s.invalidate(ctx, invalidTenants, "")
	if err == nil {
		t.WriteFreeze = ""
	}
	return err
}

func (s *Store) findMove(ctx context.Context, id uuid.UUID) (*tenantMove, error) {
	var mvs []*tenantMove
	if err := s.db.NewSelect().Model(&mvs).Where("tenant_id = ?", id).Scan(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	if len(mvs) == 0 {
		return nil, nil
	}
	return mvs[0], nil
}

func (s *Store) moveStep(ctx context.Context, mv *tenantMove, step string) error {
	mv.Step, mv.UpdatedAt = step, s.now()
	_, err := s.db.NewUpdate().Model(mv).Column("step", "updated_at").WherePK().Exec(ctx)
	return dbx.Translate(err)
}

// setFreeze pauses t's writes (the gate refuses them with Retry-After) and tells the replicas.
func (s *Store) setFreeze(ctx context.Context, t *Tenant, reason string) error {
	defer s.invalidate(ctx, invalidTenants, "")
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*Tenant)(nil)).Set("write_freeze = ?", reason).Where("id = ?", t.ID).Exec(ctx); err != nil {
			return err
		}
		t.WriteFreeze = reason
		return nil
	})
}

// liftFreeze resumes t's writes (before a move's copy by replication, which runs while the
// tenant writes).
func (s *Store) liftFreeze(ctx context.Context, t *Tenant) error {
	defer s.invalidate(ctx, invalidTenants, "")
	_, err := s.db.NewUpdate().Model((*Tenant)(nil)).Set("write_freeze = ''").Where("id = ?", t.ID).Exec(ctx)
	if err == nil {
		t.WriteFreeze = ""
	}
	return dbx.Translate(err)
}

// quiesce waits for the writes in flight to the schema on cluster (admitted before the freeze
// reached their replica) to end: it takes and releases every table's ACCESS EXCLUSIVE lock.
func (s *Store) quiesce(ctx context.Context, cluster, schema string) error {
	return s.clusterTx(ctx, cluster, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '30s'"); err != nil {
			return err
		}
		var tables []string
		if err := tx.NewRaw("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = ? ORDER BY tablename", schema).Scan(ctx, &tables); err != nil {
			return err
		}
		if len(tables) == 0 {
			return fmt.Errorf("schema %s on cluster %s has no tables", schema, cluster)
		}
		_, err := tx.ExecContext(ctx, "LOCK TABLE "+strings.Join(tables, ", ")+" IN ACCESS EXCLUSIVE MODE")
		return err
	})
}

// prepareCopy readies a copy of t's schema from one cluster to another: the tenant's roles on
// the target with nothing an interrupted copy left there (prepareTarget), a work directory for
// the dump (the caller removes it) and the libpq environments of both clusters.
func (s *Store) prepareCopy(ctx context.Context, t *Tenant, from, to string, o MoveOptions) (dir string, srcEnv, dstEnv []string, err error) {
	if err := s.prepareTarget(ctx, t, to); err != nil {
		return "", nil, nil, err
	}
	if srcEnv, err = libpqEnv(s.urls[from]); err != nil {
		return "", nil, nil, err
	}
	if dstEnv, err = libpqEnv(s.urls[to]); err != nil {
		return "", nil, nil, err
	}
	if dir, err = os.MkdirTemp(o.WorkDir, "cityops-move-"); err != nil {
		return "", nil, nil, err
	}
	return dir, srcEnv, dstEnv, nil
}

// copySchema copies t's schema from one cluster to another with pg_dump and pg_restore, after
// making the tenant's two roles on the target (roles are per cluster) and dropping what an
// interrupted copy left there; then it grants what provisioning grants.
func (s *Store) copySchema(ctx context.Context, t *Tenant, from, to string, o MoveOptions) error {
	dir, srcEnv, dstEnv, err := s.prepareCopy(ctx, t, from, to, o)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dump := filepath.Join(dir, "dump")
	if out, err := s.runPG(ctx, o.BinDir, "pg_dump", srcEnv, "-n", t.SchemaName, "-Fd", "-j", fmt.Sprint(o.Jobs),
		"--no-tablespaces", "-f", dump); err != nil {
		return fmt.Errorf("pg_dump: %w\n%s", err, out)
	}
	if out, err := s.runPG(ctx, o.BinDir, "pg_restore", dstEnv, "--exit-on-error", "--no-tablespaces", "-j", fmt.Sprint(o.Jobs),
		"-d", dbnameOf(dstEnv), dump); err != nil {
		return fmt.Errorf("pg_restore: %w\n%s", err, out)
	}
	return s.grantMoved(ctx, t, to)
}

// prepareTarget makes the tenant's two roles on the target cluster (roles are per cluster) and
// drops what an interrupted copy left there.
func (s *Store) prepareTarget(ctx context.Context, t *Tenant, to string) error {
	target := *t
	target.Cluster = to
	if err := s.createSchema(ctx, &target); err != nil { // the roles (and an empty schema)
		return err
	}
	return s.clusterTx(ctx, to, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+dbx.QuoteIdent(t.SchemaName)+" CASCADE")
		return err
	})
}

// grantMoved grants on the copied schema what provisioning grants.
func (s *Store) grantMoved(ctx context.Context, t *Tenant, to string) error {
	schema, rw, ro := dbx.QuoteIdent(t.SchemaName), dbx.QuoteIdent(t.DBRole), dbx.QuoteIdent(t.ReadOnlyRole())
	return s.clusterTx(ctx, to, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `
ALTER SCHEMA `+schema+` OWNER TO `+rw+`;
REVOKE ALL ON SCHEMA `+schema+` FROM PUBLIC;
GRANT USAGE ON SCHEMA `+schema+` TO `+ro+`;
GRANT SELECT ON ALL TABLES IN SCHEMA `+schema+` TO `+ro+`;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA `+schema+` TO `+ro+`;
ALTER DEFAULT PRIVILEGES FOR ROLE `+rw+` IN SCHEMA `+schema+` GRANT SELECT ON TABLES TO `+ro+`;
ALTER DEFAULT PRIVILEGES FOR ROLE `+rw+` IN SCHEMA `+schema+` GRANT SELECT ON SEQUENCES TO `+ro+`;`)
		return err
	})
}

// runPG runs a PostgreSQL client program with env as its libpq settings (and no PG* variables of
// this process's own).
func (s *Store) runPG(ctx context.Context, binDir, prog string, env []string, args ...string) ([]byte, error) {
	if binDir != "" {
		prog = filepath.Join(binDir, prog)
	}
	cmd := exec.CommandContext(ctx, prog, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Env = append(cmd.Env, "PGAPPNAME=cityops-move")
	return cmd.CombinedOutput()
}

// verifyCopy compares the schema on both clusters: the same tables, and in each the same rows
// (count) with the same content (an md5 over every row's text, in a fixed order, with the
// settings that shape a value's text fixed alike on both sides).
func (s *Store) verifyCopy(ctx context.Context, schema, from, to string) ([]MovedTable, error) {
	type side struct {
		tables []MovedTable
		err    error
	}
	sum := func(cluster string) side {
		var out []MovedTable
		db, err := s.pool(cluster)
		if err != nil {
			return side{err: err}
		}
		err = db.RunInTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, `SET LOCAL timezone = 'UTC'; SET LOCAL datestyle = 'ISO, YMD'; SET LOCAL intervalstyle = 'postgres';
				SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'`); err != nil {
				return err
			}
			var names []string
			if err := tx.NewRaw("SELECT tablename FROM pg_tables WHERE schemaname = ? ORDER BY 1", schema).Scan(ctx, &names); err != nil {
				return err
			}
			for _, n := range names {
				m := MovedTable{Name: n}
				if err := tx.NewRaw("SELECT count(*), coalesce(md5(string_agg(md5(x::text), '' ORDER BY md5(x::text))), '') FROM "+
					dbx.QuoteIdent(schema)+"."+dbx.QuoteIdent(n)+" x").Scan(ctx, &m.Rows, &m.Sum); err != nil {
					return err
				}
				out = append(out, m)
			}
			return nil
		})
		return side{out, dbx.Translate(err)}
	}
	dst := make(chan side, 1)
	go func() { dst <- sum(to) }()
	a := sum(from)
	b := <-dst
	if a.err != nil {
		return nil, a.err
	}
	if b.err != nil {
		return nil, b.err
	}
	if !slices.Equal(a.tables, b.tables) {
		var diff []string
		for _, x := range a.tables {
			i := slices.IndexFunc(b.tables, func(y MovedTable) bool { return y.Name == x.Name })
			switch {
			case i < 0:
				diff = append(diff, x.Name+" (missing)")
			case b.tables[i] != x:
				diff = append(diff, fmt.Sprintf("%s (%d rows, copied %d)", x.Name, x.Rows, b.tables[i].Rows))
			}
		}
		if len(diff) == 0 {
			diff = append(diff, "extra tables in the copy")
		}
		return a.tables, errs.E(errs.Conflict, msgMoveVerifyFailed, strings.Join(diff, ", "))
	}
	return a.tables, nil
}

// retireSchema drops the schema a moved tenant left on its old cluster, or keeps it aside under
// <schema>_moved_<time>, closed to the tenant's roles. A schema already gone (a resumed move)
// is fine.
func (s *Store) retireSchema(ctx context.Context, t *Tenant, cluster string, keep bool) (string, error) {
	if cluster == t.Cluster {
		return "", errs.E(errs.Internal, msgMoveTenantChanged, t.Slug)
	}
	aside := ""
	err := s.clusterTx(ctx, cluster, func(ctx context.Context, tx bun.Tx) error {
		var there bool
		if err := tx.NewRaw("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ?)", t.SchemaName).Scan(ctx, &there); err != nil {
			return err
		}
		if !there {
			return nil
		}
		q := dbx.QuoteIdent(t.SchemaName)
		if !keep {
			_, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '30s'; DROP SCHEMA "+q+" CASCADE")
			return err
		}
		aside = t.SchemaName + "_moved_" + s.now().UTC().Format("20060102t150405")
		a := dbx.QuoteIdent(aside)
		_, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '30s'; ALTER SCHEMA "+q+" RENAME TO "+a+"; ALTER SCHEMA "+a+
			" OWNER TO CURRENT_USER; REVOKE ALL ON SCHEMA "+a+" FROM "+dbx.QuoteIdent(t.DBRole)+", "+dbx.QuoteIdent(t.ReadOnlyRole()))
		return err
	})
	return aside, err
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
