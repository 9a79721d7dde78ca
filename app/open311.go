package app

import "github.com/cityops/cityops/platform/open311"

// newOpen311 builds the Open311 GeoReport v2 layer over the case loop and the catalog; its HTTP
// transport is app/open311api, mounted by newServer.
func (a *App) newOpen311() *open311.Service {
	return open311.NewService(open311.Config{Gate: a.store, Tenants: a.store, Cases: a.cases,
		Classes: a.platform.catalog, Departments: a.platform.org, Geocoder: a.platform.grids, Now: a.store.Now, Logger: a.log})
}
