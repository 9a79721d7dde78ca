package app

import (
	"github.com/cityops/cityops/platform/analysis"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/evaluation"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
)

// platform holds the services of the city-operation modules every tenant shares (organisation,
// grids, catalog, calendar). Their modules serve their API (platformModules); the console, the
// case loop and the demo use them too. Each reaches tenant data only through the store's gate.
type platform struct {
	org      *org.Service
	grids    *grids.Service
	catalog  *catalog.Service
	calendar *calendar.Service
	// evaluation reads the case history: the module of the plans that sell it.
	evaluation *evaluation.Service
	// analysis reads the case history and the evaluation's monthly figures.
	analysis *analysis.Service
}

func newPlatform(store *tenants.Store) *platform {
	g := grids.NewService(store, store.Now)
	o := org.NewService(store, store.Now, g.Index())
	ev := evaluation.NewService(store, store.Now)
	return &platform{
		org:        o,
		grids:      g,
		catalog:    catalog.NewService(store, o, g, store.Now),
		calendar:   calendar.NewService(store, store.Now),
		evaluation: ev,
		analysis:   analysis.NewService(store, ev, store.Now),
	}
}
