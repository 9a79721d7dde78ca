package tenants

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
)

// RestoreFile puts back a SQLite tenant's database file from a file-level backup (a copy of
// tenants/t_<code>.db taken with the server stopped or with sqlite3 .backup): it copies the file
// beside the live one, checks that it is a SQLite database of this tenant (its settings name
// the tenant's administrative code), then, with the tenant suspended for the swap, renames the
// live file (and its write-ahead log) aside as <file>.before-<time> and the copy in, and resumes
// the tenant if it was active. No other tenant's file is touched. It returns the aside file's path.
func (s *Store) RestoreFile(ctx context.Context, t *Tenant, from string) (string, error) {
	if s.dialect != dbx.SQLite {
		return "", errs.E(errs.Invalid, msgRestoreFileNeedsSQLite, t.Slug)
	}
	if t.Status != StatusActive && t.Status != StatusSuspended {
		return "", errs.E(errs.Conflict, msgRestoreTenantNotLive, t.Slug, t.Status)
	}
	live := s.tenantPath(t)
	now := s.now().UTC().Format("20060102t150405")
	staged, aside := live+".restoring-"+now, live+".before-"+now
	if err := copyFile(from, staged); err != nil {
		return "", errs.Wrap(err, errs.Invalid, msgRestoreFileUnreadable, from, err.Error())
	}
	defer os.Remove(staged)
	if err := checkTenantFile(ctx, staged, t); err != nil {
		return "", err
	}
	if err := s.AuditNow(ctx, AuditRestoreStart, &t.ID, t.Slug, map[string]any{"from": from, "mode": RestoreInPlace}); err != nil {
		return "", err
	}
	wasActive := t.Status == StatusActive
	if wasActive {
		if err := s.Suspend(ctx, t, "restore from "+from); err != nil {
			return "", err
		}
		defer func() {
			if err := s.Reactivate(context.WithoutCancel(ctx), t); err != nil {
				s.log.Error("restore: resuming", "tenant", t.Slug, "err", err)
			}
		}()
	}
	s.handles.forget(live)
	if err := os.Rename(live, aside); err != nil {
		return "", errs.Wrap(err, errs.Unavailable, msgRestoreFailedUnchanged, t.Slug, "swap", err.Error())
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Rename(live+suffix, aside+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("restore: moving aside", "file", live+suffix, "err", err)
		}
	}
	if err := os.Rename(staged, live); err != nil {
		// Put the live file back: the tenant stays as it was.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Rename(aside+suffix, live+suffix)
		}
		return "", errs.Wrap(err, errs.Unavailable, msgRestoreFailedUnchanged, t.Slug, "swap", err.Error())
	}
	err := s.AuditNow(ctx, AuditRestoreDone, &t.ID, t.Slug, map[string]any{"from": from, "aside": aside, "mode": RestoreInPlace})
	return aside, err
}

// checkTenantFile opens path as a SQLite database and checks that it belongs to t.
func checkTenantFile(ctx context.Context, path string, t *Tenant) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	head := make([]byte, 16)
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || !bytes.Equal(head, []byte("SQLite format 3\x00")) {
		return errs.E(errs.Invalid, msgRestoreFileNotTenant, path, t.Slug)
	}
	h, err := dbx.OpenSQLite(path, nil, 1)
	if err != nil {
		return errs.Wrap(err, errs.Invalid, msgRestoreFileNotTenant, path, t.Slug)
	}
	defer func() {
		h.Close()
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
	}()
	var code string
	if err := h.Reader.NewRaw("SELECT value FROM settings WHERE key = 'admin_code'").Scan(ctx, &code); err != nil || code != t.AdminCode {
		return errs.E(errs.Invalid, msgRestoreFileNotTenant, path, t.Slug)
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

var (
	msgRestoreFileNeedsSQLite = msg.New("tenants.restore_file_needs_sqlite",
		"%s runs on PostgreSQL: restore it from the pgBackRest backups (--to TIME), not from a file.",
		"%s 运行在 PostgreSQL 上：请从 pgBackRest 备份按时间恢复（--to 时间），而不是从文件恢复。")
	msgRestoreFileUnreadable = msg.New("tenants.restore_file_unreadable",
		"The backup file %s cannot be read: %s",
		"无法读取备份文件 %s：%s")
	msgRestoreFileNotTenant = msg.New("tenants.restore_file_not_tenant",
		"%s is not a database file of tenant %s.",
		"%s 不是单位 %s 的数据库文件。")
)
