package app

import (
	"context"
	"time"

	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/platform/cases"
)

// newCases builds the case loop over the gate, the tenant keys and billing's usage meter, and
// puts its photos and its reporters' personal data into tenant exports (and so under
// offboarding's handover check).
func (a *App) newCases(adjust func(*cases.Config)) *cases.Service {
	s := cases.NewService(a.casesConfig(adjust))
	a.store.AddExportFiles(s.PhotoExport())
	a.store.AddExportSealed(s.SealedExport())
	return s
}

// casesConfig is the case loop's configuration in this App, changed by adjust (a test seam).
func (a *App) casesConfig(adjust func(*cases.Config)) cases.Config {
	cfg := cases.Config{Gate: a.store, Tenants: a.store, Cipher: a.secrets, Usage: a.billing,
		Blobs: a.blobs, Now: a.store.Now, Logger: a.log,
		Places: a.platform.grids.Index(), Classes: a.platform.catalog.Entries()}
	if adjust != nil {
		adjust(&cfg)
	}
	return cfg
}

// runOverdue marks overdue cases in every active tenant every interval until ctx ends
// (cases.Service.MarkOverdueAll, four tenants at a time; it logs a failing tenant itself). Each
// run recomputes from the database, so nothing is lost across restarts.
func (a *App) runOverdue(ctx context.Context, interval time.Duration) {
	tasks.Every(ctx, interval, func(ctx context.Context) {
		if _, err := a.cases.MarkOverdueAll(ctx, 4); err != nil && ctx.Err() == nil {
			a.log.Error("overdue job", "err", err)
		}
	})
}
