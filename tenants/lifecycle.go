package tenants

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Suspend stops writes to an active tenant. Its data stays readable and exportable: suspension
// must never lock a county out of its own data.
func (s *Store) Suspend(ctx context.Context, t *Tenant, reason string) error {
	return s.setStatus(ctx, t, StatusActive, StatusSuspended, "tenant.suspend", map[string]string{"reason": reason})
}

// Reactivate resumes a suspended tenant.
func (s *Store) Reactivate(ctx context.Context, t *Tenant) error {
	return s.setStatus(ctx, t, StatusSuspended, StatusActive, "tenant.resume", nil)
}

func (s *Store) setStatus(ctx context.Context, t *Tenant, from, to Status, action string, detail any) error {
	defer s.invalidate(ctx, invalidTenants, "")
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		cur, err := findTenantByID(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		if cur.Status != from {
			return errs.E(errs.Conflict, msgTenantOnlyTenantCanChanged, cur.Slug, cur.Status, from, to)
		}
		cur.Status, cur.UpdatedAt = to, s.now()
		if _, err := tx.NewUpdate().Model(cur).Column("status", "updated_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		*t = *cur
		return s.Audit(ctx, tx, action, &t.ID, t.Slug, detail)
	})
}

// Offboard ends a tenant: it writes the full export to archive, runs the Undo of every step
// that has one (destroying the tenant's key, so copies left in backups are unreadable), drops the
// schema and roles (or removes the file) and marks the tenant deleted. It can be re-run after a
// crash; a tenant already offboarding skips straight to what is left. archive may be nil only
// when the tenant is already offboarding and its export was taken.
//
// Destroying the key destroys the citizens' personal data the tenant holds, so a tenant that
// holds any is refused (conflict, saying what to do) until its handover is on record: an export
// with personal data in clear, or a waiver (FindHandover). The check comes before anything is
// written; a tenant already offboarding passed it when it started.
func (p *Provisioner) Offboard(ctx context.Context, t *Tenant, archive io.Writer) error {
	return p.offboard(ctx, t, archive, nil)
}

// offboard is Offboard; saved, when not nil, runs after the export was written to archive and
// before anything is destroyed (OffboardTo stores the archive then), and a failure stops there.
func (p *Provisioner) offboard(ctx context.Context, t *Tenant, archive io.Writer, saved func() error) error {
	defer p.store.invalidate(ctx, invalidTenants, "")
	s := p.store
	if t.Status == StatusDeleted {
		return errs.E(errs.Gone, msgTenantWasAlreadyOffboarded, t.Slug)
	}
	if t.Status == StatusProvisioning {
		return errs.E(errs.Conflict, msgTenantStillProvisioningFinishResume, t.Slug)
	}
	children, err := s.Children(ctx, t)
	if err != nil {
		return err
	}
	if len(children) > 0 {
		return errs.E(errs.Conflict, msgTenantStillHasCountyLevel, t.Slug, len(children))
	}
	if t.Status != StatusOffboarding {
		if archive == nil {
			return errs.E(errs.Invalid, msgOffboardingNeedsSomewhereWriteExport)
		}
		h, err := s.FindHandover(ctx, t)
		if err != nil {
			return err
		}
		if h.Stale() && h.Waived == nil {
			return errs.E(errs.Conflict, msgOffboardHandoverStale, t.NameZH, t.Slug, h.Records, h.Exported.Records)
		}
		if h.Needed() {
			return errs.E(errs.Conflict, msgOffboardNeedsHandover, t.NameZH, t.Slug, h.Records)
		}
		if err := s.Export(ctx, t, archive); err != nil {
			return fmt.Errorf("export before offboarding: %w", err)
		}
		if saved != nil {
			if err := saved(); err != nil {
				return fmt.Errorf("storing the export before offboarding: %w", err)
			}
		}
		if err := s.setStatus(ctx, t, t.Status, StatusOffboarding, "tenant.offboard.start", handoverDetail(h)); err != nil {
			return err
		}
	}
	for _, st := range p.steps {
		if u, ok := st.(Undo); ok {
			if err := u.Undo(ctx, t); err != nil {
				return fmt.Errorf("offboard %s, undo %s: %w", t.Slug, st.Name(), err)
			}
		}
	}
	if err := s.dropSchema(ctx, t); err != nil {
		return err
	}
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		t.Status, t.UpdatedAt, t.DeletedAt = StatusDeleted, now, &now
		if _, err := tx.NewUpdate().Model(t).Column("status", "updated_at", "deleted_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*Membership)(nil)).Where("tenant_id = ?", t.ID).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*Invitation)(nil)).Where("tenant_id = ?", t.ID).Exec(ctx); err != nil {
			return err
		}
		return s.Audit(ctx, tx, "tenant.offboard.done", &t.ID, t.Slug, nil)
	})
}

// handoverDetail is what the audit entry of an offboarding's start says about the handover it
// relied on.
func handoverDetail(h *Handover) map[string]any {
	d := map[string]any{"personal_data_records": h.Records}
	if h.Exported != nil {
		d["exported_in_clear"] = h.Exported.AuditID
	}
	if h.Waived != nil {
		d["waived"] = h.Waived.AuditID
	}
	return d
}

// ArchivePrefix is the folder of t's offboarding archives in the object store:
// offboarding/<tenant id>/. It is outside the tenant's own prefix, which offboarding empties.
func ArchivePrefix(id uuid.UUID) string { return "offboarding/" + id.String() + "/" }

// OffboardTo offboards t once the caller has confirmed it by repeating its slug (confirm): it
// writes the export archive into archives as ArchivePrefix/<slug>-<UTC time>.zip (never
// replacing one) — stored before anything is destroyed — then carries on as Offboard does. It
// returns the archive's key. If offboarding fails before it started (the tenant is still active
// or suspended), nothing is stored; once the tenant is offboarding, a re-run carries on and
// returns the key of the archive taken when it started. The API, the operator's console and the
// CLI all offboard through it.
func (p *Provisioner) OffboardTo(ctx context.Context, t *Tenant, confirm string, archives blob.Store) (key string, err error) {
	if confirm != t.Slug {
		return "", errs.Field("confirm", msgOffboardConfirmSlugRemovesData, t.NameZH, t.Slug)
	}
	if t.Status == StatusOffboarding {
		// The archive was taken when offboarding started.
		err := p.Offboard(ctx, t, nil)
		return p.LatestArchive(ctx, t, archives), err
	}
	key = ArchivePrefix(t.ID) + fmt.Sprintf("%s-%s.zip", t.Slug, p.store.now().UTC().Format("20060102T150405Z"))
	if _, err := archives.Stat(ctx, key); err == nil {
		return "", errs.E(errs.Conflict, msgOffboardArchiveExists, key)
	}
	// The archive is spooled to a temporary file (unlinked at once where the system allows, so
	// that nothing stays behind if the process dies) and then stored whole.
	f, err := os.CreateTemp("", "cityops-offboard-*.zip")
	if err != nil {
		return "", err
	}
	removed := os.Remove(f.Name()) == nil
	defer func() {
		f.Close()
		if !removed {
			os.Remove(f.Name())
		}
	}()
	saved := func() error {
		size, err := f.Seek(0, io.SeekCurrent)
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err == nil {
			_, err = archives.Put(ctx, key, f, size, blob.PutOptions{ContentType: "application/zip"})
		}
		return err
	}
	if err := p.offboard(ctx, t, f, saved); err != nil {
		if started := t.Status == StatusOffboarding || t.Status == StatusDeleted; !started {
			// Stored, but the tenant did not move on: the archive goes again (best effort; a
			// re-run takes a new one).
			archives.Delete(context.WithoutCancel(ctx), key)
			return "", err
		}
		if !stored(ctx, archives, key) {
			return "", err
		}
		return key, err
	}
	return key, nil
}

func stored(ctx context.Context, archives blob.Store, key string) bool {
	_, err := archives.Stat(ctx, key)
	return err == nil
}

// LatestArchive is the key of t's latest offboarding archive in archives, "" if there is none.
func (p *Provisioner) LatestArchive(ctx context.Context, t *Tenant, archives blob.Store) string {
	infos, err := archives.List(ctx, ArchivePrefix(t.ID))
	if err != nil || len(infos) == 0 {
		return ""
	}
	return infos[len(infos)-1].Key
}

func (s *Store) dropSchema(ctx context.Context, t *Tenant) error {
	if !dbx.ValidIdent(t.SchemaName) || !dbx.ValidIdent(t.DBRole) {
		return errs.E(errs.Internal, msgTenantHasInvalidSchemaRole, t.ID)
	}
	if s.dialect == dbx.SQLite {
		path := s.tenantPath(t)
		s.handles.forget(path)
		var err error
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if e := os.Remove(path + suffix); e != nil && !errors.Is(e, os.ErrNotExist) {
				err = errors.Join(err, e)
			}
		}
		return err
	}
	schema, rw, ro := dbx.QuoteIdent(t.SchemaName), dbx.QuoteIdent(t.DBRole), dbx.QuoteIdent(t.ReadOnlyRole())
	s.dropElsewhere(ctx, t)
	return s.clusterTx(ctx, t.Cluster, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7032)"); err != nil {
			return err
		}
		var roles []string
		if err := tx.NewRaw("SELECT rolname FROM pg_roles WHERE rolname IN (?, ?)", t.DBRole, t.ReadOnlyRole()).Scan(ctx, &roles); err != nil {
			return err
		}
		ddl := "DROP SCHEMA IF EXISTS " + schema + " CASCADE;"
		leftovers, err := restoreLeftovers(ctx, tx, t)
		if err != nil {
			return err
		}
		for _, l := range leftovers {
			ddl += "DROP SCHEMA IF EXISTS " + dbx.QuoteIdent(l) + " CASCADE;"
		}
		for _, r := range roles {
			if dbx.ValidIdent(r) {
				ddl += "DROP OWNED BY " + dbx.QuoteIdent(r) + ";"
			}
		}
		ddl += "DROP ROLE IF EXISTS " + ro + "; DROP ROLE IF EXISTS " + rw + ";"
		_, err = tx.ExecContext(ctx, ddl)
		return err
	})
}

// dropElsewhere removes what moves left of t on the clusters it no longer lives on: schemas kept
// aside (<schema>_moved_<time>, MoveOptions.KeepOld) and its two roles, which a move leaves on the
// cluster it left. A cluster that cannot be reached is logged and skipped: its leftovers hold no
// data the tenant still uses, and an operator drops them by hand (docs/operations.md).
func (s *Store) dropElsewhere(ctx context.Context, t *Tenant) {
	names := []string{MainCluster}
	for name := range s.pools {
		names = append(names, name)
	}
	for _, name := range names {
		if name == t.Cluster || (name == MainCluster && t.Cluster == "") {
			continue
		}
		err := s.clusterTx(ctx, name, func(ctx context.Context, tx bun.Tx) error {
			var aside []string
			if err := tx.NewRaw(`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, ?) AND substr(nspname, ?) ~ '^[0-9]{8}t[0-9]{6}$' ORDER BY 1`,
				t.SchemaName+"_moved_", len(t.SchemaName)+len("_moved_")+1).Scan(ctx, &aside); err != nil {
				return err
			}
			var roles []string
			if err := tx.NewRaw("SELECT rolname FROM pg_roles WHERE rolname IN (?, ?)", t.DBRole, t.ReadOnlyRole()).Scan(ctx, &roles); err != nil {
				return err
			}
			ddl := ""
			for _, a := range aside {
				ddl += "DROP SCHEMA IF EXISTS " + dbx.QuoteIdent(a) + " CASCADE;"
			}
			for _, r := range roles {
				if dbx.ValidIdent(r) {
					ddl += "DROP OWNED BY " + dbx.QuoteIdent(r) + "; DROP ROLE IF EXISTS " + dbx.QuoteIdent(r) + ";"
				}
			}
			if ddl == "" {
				return nil
			}
			_, err := tx.ExecContext(ctx, ddl)
			return err
		})
		if err != nil && ctx.Err() == nil {
			s.log.Warn("offboard: what a move left on another cluster was not dropped", "tenant", t.Slug, "cluster", name, "err", err)
		}
	}
}
