package app

import (
	"context"
	"time"

	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/tenants"
)

// The meters the composition root records because no single module causes them: monthly active
// users (each member's first request in their tenant in a month, recordActiveUser) and storage (a
// daily sample of each tenant's database, objects (case photos) and modules' files, sampleStorage). Cases
// created are recorded by the case loop, API requests by meterAPIRequest, a module's own meters
// by the module.

// storageInterval is how often the storage loop samples; the first sample of a day counts.
const storageInterval = time.Hour

// runStorageSamples samples every tenant's storage at start and then every interval until ctx
// ends.
func (a *App) runStorageSamples(ctx context.Context, interval time.Duration) {
	tasks.Every(ctx, interval, a.sampleStorage)
}

// sampleStorage records the day's storage sample of every live tenant not yet sampled today: its
// database, its case photos and what each module keeps on disk. A tenant that cannot be measured is logged and
// skipped; the next pass tries again.
func (a *App) sampleStorage(ctx context.Context) {
	ts, err := a.store.FindTenants(ctx, tenants.TenantFilter{})
	if err != nil {
		a.log.Error("storage sample: listing tenants", "err", err)
		return
	}
	for _, t := range ts {
		if ctx.Err() != nil {
			return
		}
		if t.Status != tenants.StatusActive && t.Status != tenants.StatusSuspended || a.billing.StorageSampled(t.ID) {
			continue
		}
		n, err := a.tenantBytes(ctx, t)
		if err == nil {
			err = a.billing.RecordStorage(ctx, t.ID, n)
		}
		if err != nil && ctx.Err() == nil {
			a.log.Error("storage sample", "tenant", t.Slug, "err", err)
		}
	}
}

// tenantBytes is everything t stores: database, its objects (case photos: its prefix in the
// object store, local or a bucket), modules' files.
func (a *App) tenantBytes(ctx context.Context, t *tenants.Tenant) (int64, error) {
	n, err := a.store.DatabaseSize(ctx, t)
	if err != nil {
		return 0, err
	}
	objects, err := a.tenantObjectBytes(ctx, t)
	if err != nil {
		return 0, err
	}
	n += objects
	for _, m := range a.modules.list {
		if m.parts.Storage != nil {
			b, err := m.parts.Storage(ctx, t)
			if err != nil {
				return 0, err
			}
			n += b
		}
	}
	return n, nil
}
