package app

import (
	"strconv"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// platform holds the city-operation modules every tenant shares. Each reaches tenant data only
// through the store's gate.
type platform struct {
	org      *org.Service
	grids    *grids.Service
	catalog  *catalog.Service
	calendar *calendar.Service
}

func newPlatform(store *tenants.Store) *platform {
	o := org.NewService(store, store.Now)
	g := grids.NewService(store, store.Now)
	return &platform{
		org:      o,
		grids:    g,
		catalog:  catalog.NewService(store, o, g, store.Now),
		calendar: calendar.NewService(store, store.Now),
	}
}

// platformRoutes adds the calendar API to the tenant group. Reads are open to every member and to
// read-only scopes (prefecture viewers, support); writes need tenant_admin, since configuring it
// is the county admin's job.
func (a *App) platformRoutes(t fiber.Router) {
	admin := a.needRole(tenants.TenantAdmin)
	p := a.platform

	t.Get("/calendar", a.apiGetCalendar)
	t.Put("/calendar", admin, a.apiPutCalendar)
	t.Get("/calendar/deadline", a.apiDeadline)
	t.Post("/calendar/import", admin, module.Import([]string{"text/csv", module.XLSXType, "application/json"},
		func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
			year, err := strconv.Atoi(c.Query("year"))
			if err != nil {
				return nil, errs.Field("year", msgGiveYearBeingImportedYear)
			}
			return p.calendar.ImportYear(c.UserContext(), year, data, format, dry)
		}))
}
