package monitoring

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
)

//go:embed templates openapi.json migrations
var files embed.FS

// Module is monitoring's registration: its tables (tenant migrations monitoring.0001 to 0005),
// its API (/monitoring/…: devices, their tokens, imports, readings, rejections, settings, the
// quota, rules and alarms; cameras, their live streams, snapshots and event types), its machine
// routes (POST /api/v1/ingest/{tenant}/readings and …/events, authenticated by device tokens),
// its pages (/monitoring, a device's page, the alarms, the rules, the live map, the big screen
// and their live feed, the cameras and a camera's page), the sensor_readings meter, the
// simulator and mqtt-auth commands, and its loops (retention, the alarms' cases, the no_data
// check, the video gateway's reaper, snapshots and, when an MQTT broker is configured
// (Config.MQTT), the MQTT consumer "monitoring mqtt"). Plans sell it (Entitlement); members and
// the prefecture read it, the tenant's admins change it.
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
		Nav: []module.Nav{{Path: "/monitoring", Label: "monitoring.nav"}, {Path: "/monitoring/alarms", Label: "monitoring.nav.alarms"},
			{Path: "/monitoring/cameras", Label: "monitoring.video.cameras"},
			{Path: "/monitoring/rules", Label: "monitoring.nav.rules", Roles: []tenants.Role{tenants.TenantAdmin}}},
		Commands: []module.Command{simulateCommand, mqttAuthCommand},
		Build: func(k module.Kit) (module.Parts, error) {
			if s == nil {
				return module.Parts{}, fmt.Errorf("monitoring: no service")
			}
			if err := s.stats.register(k.Metrics); err != nil {
				return module.Parts{}, fmt.Errorf("monitoring: metrics: %w", err)
			}
			h := &handlers{s: s, k: k}
			loops := []module.Loop{{Name: "retention", Run: func(ctx context.Context) {
				s.runRetention(ctx, k, RetentionEvery, k.Log)
			}}, {Name: "alarm cases", PerReplica: true, Run: func(ctx context.Context) {
				// On every replica: the ingest kicks its own replica's opener, and the claim keeps
				// two replicas from opening one alarm's case.
				s.runCases(ctx, k, CasesEvery, k.Log)
			}}, {Name: "no data", Run: func(ctx context.Context) {
				s.runSilence(ctx, k, SilenceEvery, k.Log)
			}}, {Name: "video gateway", PerReplica: true, Run: s.gw.run}, // this replica's ffmpeg processes
				{Name: "video snapshots", Run: func(ctx context.Context) {
					s.runSnapshots(ctx, k, SnapshotsEvery, k.Log)
				}}}
			if s.mqtt.URL != "" {
				c := newConsumer(s, k, s.mqtt)
				// One consumer across the replicas (its lease) when they share one client id and
				// session; with a shared subscription each replica consumes with its own.
				loops = append(loops, module.Loop{Name: "mqtt", PerReplica: s.mqtt.ShareGroup != "", Run: func(ctx context.Context) { c.Run(ctx) }})
			}
			return module.Parts{
				API: func(r module.Router) { h.routes(r); h.videoRoutes(r) },
				Console: func(r module.Router) {
					r.Get("/monitoring", h.pageDevices)
					r.Get("/monitoring/devices/:code", h.pageDevice)
					r.Get("/monitoring/map", h.pageMap)
					r.Get("/monitoring/screen", h.pageScreen)
					r.Get("/monitoring/live", h.liveFeed)
					h.alarmPages(r)
					h.videoPages(r)
				},
				Machine: func(r module.Router) {
					r.Post("/readings", ingestLimit(k), h.ingest)
					r.Post("/events", ingestLimit(k), h.events)
				},
				Run: map[string]func(context.Context, []string, io.Writer) error{
					"simulate": s.runSimulate,
					"mqtt-auth": func(ctx context.Context, args []string, out io.Writer) error {
						return s.runMQTTAuth(ctx, k, args, out)
					},
				},
				Demo:       s.seedDemo,
				Background: loops,
			}, nil
		},
	}
}
