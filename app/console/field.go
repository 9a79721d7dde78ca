package console

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"time"

	"github.com/cityops/cityops/app/web"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// 城管通: the inspector's phone workspace under /t/:tenant/m/, an installable web app (manifest,
// service worker) laid out for one hand on a 360 px screen: the tasks waiting for the inspector
// (核实, 核查), the report form (class, description, photos from the camera, the phone's
// position) and the inspector's own reports. The page's script (static/js/field.js) keeps what
// is filed in IndexedDB while there is no signal and sends it, each with its idempotency key, to
// the case API's /field routes when the signal returns; it records the patrol track while the
// inspector is on duty. The shift lead's track map is /t/:tenant/tracks.
func MountField(r fiber.Router, d WorkspaceDeps) {
	w := &workspace{d}
	r.Get("/m/", w.field)
	r.Get("/m/sw.js", w.fieldWorker)
	r.Get("/m/manifest.webmanifest", w.fieldManifest)
	r.Get("/tracks", w.trackMap)
}

// fieldWorker serves the service worker from the workspace's own path, so its scope is the
// workspace (/t/:tenant/m/).
func (w *workspace) fieldWorker(c *fiber.Ctx) error {
	b, err := fs.ReadFile(web.Files, "static/field/sw.js")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("Service-Worker-Allowed", tenantBase(c)+"/m/")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(b)
}

// fieldManifest is the web app manifest: 城管通, opening on the tenant's workspace.
func (w *workspace) fieldManifest(c *fiber.Ctx) error {
	base := tenantBase(c) + "/m/"
	l := Lang(c)
	m := map[string]any{
		"name": Translate(l, "field.app") + " · " + module.Scope(c).Tenant.Name(l), "short_name": Translate(l, "field.app"),
		"description": Translate(l, "field.app.description"),
		"lang":        l, "start_url": base, "scope": base, "id": base, "display": "standalone", "orientation": "portrait",
		"background_color": "#ffffff", "theme_color": "#0b5cad",
		"icons": []map[string]string{
			{"src": "/static/field/icon-192.png", "sizes": "192x192", "type": "image/png"},
			{"src": "/static/field/icon-512.png", "sizes": "512x512", "type": "image/png"},
			{"src": "/static/field/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
		},
	}
	b, _ := json.Marshal(m)
	c.Set(fiber.HeaderContentType, "application/manifest+json")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(b)
}

// FieldTask is a case waiting for the inspector, as the phone shows it.
type FieldTask struct {
	CaseRow
	Action cases.Action
	Photo  string // the first photo's URL, "" without one
}

// field is the workspace page.
func (w *workspace) field(c *fiber.Ctx) error {
	sc := module.Scope(c)
	if !sc.Has(tenants.Inspector) || sc.ReadOnly {
		return errs.E(errs.Forbidden, msgFieldInspectorOnly)
	}
	names, classes, _, err := w.caseNames(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	now := w.d.Store.Now()
	page, err := w.d.Cases.FindQueue(ctx, cases.Queue{States: cases.WaitingStates(tenants.Inspector), Soon: dueSoon, Limit: 30})
	if err != nil {
		return err
	}
	api := "/api/v1" + tenantBase(c)
	var tasks []FieldTask
	for _, cs := range page.Cases {
		t := FieldTask{CaseRow: names.row(cs, now), Action: cases.Verify}
		if cs.State == cases.Checking {
			t.Action = cases.Check
		}
		if full, err := w.d.Cases.FindCaseByID(ctx, cs.ID); err == nil && len(full.Photos) > 0 {
			t.Photo = api + "/cases/" + cs.ID + "/photos/" + full.Photos[0].ID
		}
		tasks = append(tasks, t)
	}
	// My reports: the inspector's own, newest first.
	me := ""
	if p := module.Principal(c); p != nil && p.Identity != nil {
		me = p.Identity.ID.String()
	}
	var mine []CaseRow
	list, err := w.d.Cases.FindCases(ctx, cases.Filter{Source: cases.FromInspector, Limit: 100})
	if err != nil {
		return err
	}
	for _, cs := range list.Cases {
		if cs.ReportedBy == me && len(mine) < 20 {
			mine = append(mine, names.row(cs, now))
		}
	}
	return w.d.UI.Render(c, "field", fiber.Map{"Base": tenantBase(c), "API": api, "Classes": classes, "Tasks": tasks,
		"Waiting": page.Waiting, "Mine": mine, "Today": now.Format(time.DateOnly)})
}

// trackMap is the shift lead's map of the day's patrol tracks (巡查轨迹).
func (w *workspace) trackMap(c *fiber.Ctx) error {
	sc := module.Scope(c)
	if !cases.CanViewTracks(sc) {
		return errs.E(errs.Forbidden, msgFieldTracksPosts)
	}
	day, err := cases.ParseDay(c, w.d.Store.Now())
	if err != nil {
		return err
	}
	ts, err := w.d.Cases.FindTracks(c.UserContext(), day)
	if err != nil {
		return err
	}
	colors := []string{"#7c3aed", "#0b5cad", "#b42318", "#3f8f29", "#d97706", "#0e7490"}
	type feature struct {
		Type       string         `json:"type"`
		Geometry   map[string]any `json:"geometry"`
		Properties map[string]any `json:"properties"`
	}
	var fs []feature
	type row struct {
		Email, From, To, Color string
		Km                     float64
		Points                 int
	}
	var rows []row
	for i, t := range ts {
		color := colors[i%len(colors)]
		coords := make([][2]float64, len(t.Points))
		for j, p := range t.Points {
			coords[j] = [2]float64{p.Lon, p.Lat}
		}
		from, to := t.From.In(clock.China).Format("15:04"), t.To.In(clock.China).Format("15:04")
		label := t.InspectorEmail + " · " + from + "–" + to + " · " + formatKm(t.Meters) + " km"
		geom := map[string]any{"type": "LineString", "coordinates": coords}
		if len(coords) == 1 {
			geom = map[string]any{"type": "Point", "coordinates": coords[0]}
		}
		fs = append(fs, feature{Type: "Feature", Geometry: geom, Properties: map[string]any{"name": label, "color": color}})
		rows = append(rows, row{Email: t.InspectorEmail, From: from, To: to, Color: color, Km: t.Meters / 1000, Points: len(t.Points)})
	}
	layers := []map[string]any{{"url": "/api/v1" + tenantBase(c) + "/grids.geojson?level=unit", "kind": "grids", "interactive": false}}
	if len(fs) > 0 {
		layers = append(layers, map[string]any{"kind": "tracks", "fit": true, "data": map[string]any{"type": "FeatureCollection", "features": fs}})
	}
	return w.d.UI.Render(c, "field_tracks", fiber.Map{"Base": tenantBase(c), "Day": day.Format(time.DateOnly), "Tracks": rows, "Layers": layers})
}

// formatKm writes metres as kilometres with one decimal.
func formatKm(m float64) string { return fmt.Sprintf("%.1f", m/1000) }
