package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

// openBlobs opens the object store the configuration names. On the local disk, photos kept by an
// earlier version under <data>/photos/<tenant>/ move into the store first (a rename per tenant).
func openBlobs(ctx context.Context, cfg Config, log *slog.Logger) (blob.Store, error) {
	st, err := blob.Open(ctx, cfg.Blob)
	if err != nil {
		return nil, fmt.Errorf("object storage: %w", err)
	}
	log.Info("object storage", "config", cfg.Blob)
	if l, ok := st.(*blob.Local); ok {
		if err := moveLegacyPhotos(filepath.Join(cfg.DataDir, "photos"), l.Root(), log); err != nil {
			return nil, fmt.Errorf("object storage: moving photos from %s: %w", filepath.Join(cfg.DataDir, "photos"), err)
		}
	}
	return st, nil
}

// moveLegacyPhotos renames old/<tenant id>/ to root/tenants/<tenant id>/photos/ for each tenant
// whose photos are not in the store yet, and removes old once it is empty.
func moveLegacyPhotos(old, root string, log *slog.Logger) error {
	ents, err := os.ReadDir(old)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		id, err := uuid.Parse(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		dst := filepath.Join(root, filepath.FromSlash(blob.TenantPrefix(id)), "photos")
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(old, e.Name()), dst); err != nil {
			return err
		}
		log.Info("photos moved into the object store", "tenant", id, "to", dst)
	}
	os.Remove(old) // only if empty
	return nil
}

// tenantObjectBytes is how many bytes t's objects take in the object store (its prefix).
func (a *App) tenantObjectBytes(ctx context.Context, t *tenants.Tenant) (int64, error) {
	return blob.Size(ctx, a.blobs, blob.TenantPrefix(t.ID))
}
