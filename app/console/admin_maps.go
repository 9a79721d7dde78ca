package console

import (
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// TileSourceForm reads a tile source from the integrations page's form (the API takes the same
// fields as JSON); tenants.TileSource.Check validates it.
func TileSourceForm(c *fiber.Ctx) (tenants.TileSource, error) {
	get := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	ts := tenants.TileSource{Kind: get("kind"), Layer: get("layer"), Style: get("style"), URL: get("url"), Subdomains: get("subdomains"),
		WMTSLayer: get("wmts_layer"), WMTSStyle: get("wmts_style"), MatrixSet: get("matrix_set"), MatrixPrefix: get("matrix_prefix"),
		Format: get("format"), Attribution: get("attribution")}
	if z := get("max_zoom"); z != "" {
		n, err := strconv.Atoi(z)
		if err != nil {
			return ts, errs.Field("max_zoom", msgMaxZoomNumber)
		}
		ts.MaxZoom = n
	}
	return ts, nil
}

func (p *adminPages) putTileSource(c *fiber.Ctx) error {
	ts, err := TileSourceForm(c)
	if err == nil {
		_, err = p.Store.PutTileSource(c.UserContext(), ts, module.Principal(c).Identity.Email)
	}
	// On failure the form comes back as typed.
	return adminFinish(c, err, p.integrationsPage, fiber.Map{"TileSource": ts}, "/integrations", "admin.maps.saved")
}

func (p *adminPages) putPublicMap(c *fiber.Ctx) error {
	pm := tenants.PublicMap{Photos: c.FormValue("photos") == "true"}
	days, err := strconv.Atoi(strings.TrimSpace(c.FormValue("days")))
	if err != nil {
		days = 0 // refused by PutPublicMap with its message
	}
	pm.Days = days
	_, err = p.Store.PutPublicMap(c.UserContext(), pm, module.Principal(c).Identity.Email)
	return adminFinish(c, err, p.integrationsPage, fiber.Map{"PublicMap": pm}, "/integrations", "admin.publicmap.saved")
}
