package monitoring

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/platform/module"
)

//go:embed templates openapi.json migrations
var files embed.FS

// Module is monitoring's registration: its tables (tenant migrations monitoring.0001…), its API
// (/monitoring/…: devices, their tokens, imports, readings, rejections and settings; cameras,
// their live streams, snapshots and event types), its machine routes (POST
// /api/v1/ingest/{tenant}/readings and …/events, authenticated by device tokens), its pages
// (/monitoring, a device's page, the cameras and a camera's page), the sensor_readings meter, the
// simulator command and its loops (retention, the video gateway's reaper, snapshots). Plans sell
// it (Entitlement); members and the prefecture read it, the tenant's admins change it.
func Module(s *Service) module.Module {
	tpl, _ := fs.Sub(files, "templates")
	api, _ := files.ReadFile("openapi.json")
	migs, _ := fs.Sub(files, "migrations")
	return module.Module{
		Name:        "monitoring",
		Entitlement: Entitlement,
		Title:       msgTitle.ID(),
		Meters:      []string{billing.MeterSensorReadings},
		Templates:   tpl,
		Migrations:  migs,
		OpenAPI:     api,
		Nav:         []module.Nav{{Path: "/monitoring", Label: "monitoring.nav"}, {Path: "/monitoring/cameras", Label: "monitoring.video.cameras"}},
		Commands:    []module.Command{simulateCommand},
		Build: func(k module.Kit) (module.Parts, error) {
			if s == nil {
				return module.Parts{}, fmt.Errorf("monitoring: no service")
			}
			if err := s.stats.register(k.Metrics); err != nil {
				return module.Parts{}, fmt.Errorf("monitoring: metrics: %w", err)
			}
			h := &handlers{s: s, k: k}
			return module.Parts{
				API: func(r module.Router) { h.routes(r); h.videoRoutes(r) },
				Console: func(r module.Router) {
					r.Get("/monitoring", h.pageDevices)
					r.Get("/monitoring/devices/:code", h.pageDevice)
					h.videoPages(r)
				},
				Machine: func(r module.Router) { r.Post("/readings", h.ingest); r.Post("/events", h.events) },
				Run:     map[string]func(context.Context, []string, io.Writer) error{"simulate": s.runSimulate},
				Demo:    s.seedDemo,
				Background: []module.Loop{{Name: "retention", Run: func(ctx context.Context) {
					s.runRetention(ctx, k, RetentionEvery, k.Log)
				}}, {Name: "video gateway", Run: s.gw.run}, {Name: "video snapshots", Run: func(ctx context.Context) {
					s.runSnapshots(ctx, k, SnapshotsEvery, k.Log)
				}}},
			}, nil
		},
	}
}
