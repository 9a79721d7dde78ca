package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/platform/analysis"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/evaluation"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/guidance"
	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/platform/notify"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
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
	// exchange pushes the case history, grids, components and the evaluation's monthly figures
	// up to the province, with each destination's credential from the secret store.
	exchange *exchange.Service
	// hotline takes the 12345 hotline's work orders in as cases (set by New once the case loop
	// exists); their outcome goes back through the exchange.
	hotline *exchange.Hotline
	// importer imports the history of the systems a county ran before (set by New with the
	// hotline: it encrypts reporters with the tenant's key and meters what it creates).
	importer *exchange.Importer
	// monitoring keeps the devices and their readings, resolving a device's grid and checking
	// its component with the grids and the catalog; its alarms open cases through the case loop
	// (set by New once the case loop exists).
	monitoring *monitoring.Service
	// notify tells people of their cases and alarms: inbox, email, WeChat Work robots and SMS,
	// with each tenant's credentials from the secret store.
	notify *notify.Service
	// guidance is the two-level work of a prefecture and its counties (业务指导, 监督检查), its
	// files in the object store, a report's indicator fields pre-filled from the evaluation.
	guidance *guidance.Service
}

func newPlatform(store *tenants.Store, creds secrets.Store, blobs blob.Store, cfg Config, log *slog.Logger) *platform {
	g := grids.NewService(store, store.Now)
	o := org.NewService(store, store.Now, g.Index())
	ev := evaluation.NewService(store, store.Now)
	cat := catalog.NewService(store, o, g, store.Now)
	p := &platform{
		org:        o,
		grids:      g,
		catalog:    cat,
		calendar:   calendar.NewService(store, store.Now),
		evaluation: ev,
		analysis:   analysis.NewService(store, ev, store.Now),
		exchange: exchange.NewService(exchange.Config{Gate: store, Credentials: creds, Indicators: monthlyIndicators{ev},
			Now: store.Now, Log: log.With("component", "exchange")}),
		monitoring: monitoring.NewService(monitoring.Config{Gate: store, Grids: g, Components: cat, Classes: cat, Now: store.Now, Cipher: creds,
			MQTT: monitoring.MQTT{URL: cfg.MQTTURL, Username: cfg.MQTTUsername, Password: cfg.MQTTPassword, ClientID: cfg.MQTTClientID, ShareGroup: cfg.MQTTShareGroup},
			Video: monitoring.VideoConfig{FFmpeg: cfg.FFmpeg, Dir: filepath.Join(cfg.DataDir, "video"), Transcode: cfg.VideoTranscode,
				External: cfg.VideoExternal, Log: log.With("component", "video")}}),
		notify: notify.NewService(notify.Config{Gate: store, Credentials: creds, Now: store.Now, Log: log.With("component", "notify"),
			SMTP:     notify.SMTP{Host: cfg.SMTPHost, Port: cfg.SMTPPort, TLS: cfg.SMTPTLS, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, From: cfg.SMTPFrom},
			WeComURL: cfg.WeComURL, SMS: &notify.Aliyun{Endpoint: cfg.AliyunSMSURL}}),
	}
	p.guidance = guidance.NewService(guidance.Config{Gate: store, Blobs: blobs, Indicators: guidanceIndicators{ev}, Reminders: guidanceReminders{p.notify}, Outbox: exchange.Enqueue,
		Now: store.Now, Log: log.With("component", "guidance")})
	return p
}

// guidanceReminders raises the guidance module's reminders as notifications of the county.
type guidanceReminders struct{ n *notify.Service }

func (g guidanceReminders) Remind(ctx context.Context, kind, key, title string, due time.Time) (bool, error) {
	return g.n.Remind(ctx, notify.Reminder{Kind: kind, Key: key, Title: title, Due: due})
}

// guidanceIndicators pre-fills a report template's indicator fields from the evaluation's
// monthly totals (Summarize) of the county.
type guidanceIndicators struct{ ev *evaluation.Service }

func (g guidanceIndicators) Monthly(ctx context.Context, year int, month time.Month) (map[string]int64, error) {
	s, err := g.ev.Summarize(ctx, evaluation.Month(year, month))
	if err != nil {
		return nil, err
	}
	return map[string]int64{"reported": s.Reported, "filed": s.Filed, "closed": s.Closed, "closed_on_time": s.ClosedOnTime,
		"inspector_reported": s.InspectorReported}, nil
}

// monthlyIndicators gives the exchange the evaluation's monthly totals (Summarize).
type monthlyIndicators struct{ ev *evaluation.Service }

func (m monthlyIndicators) Monthly(ctx context.Context, year int, month time.Month) (exchange.MonthFigures, error) {
	s, err := m.ev.Summarize(ctx, evaluation.Month(year, month))
	if err != nil {
		return exchange.MonthFigures{}, err
	}
	return exchange.MonthFigures{Reported: s.Reported, Filed: s.Filed, Closed: s.Closed, ClosedOnTime: s.ClosedOnTime,
		InspectorReported: s.InspectorReported}, nil
}

// casePhotos gives monitoring the case loop's photos: an alarm's snapshot becomes a photo of its
// case.
type casePhotos struct{ cs *cases.Service }

func (p casePhotos) AddPhoto(ctx context.Context, caseID string, data []byte) (string, error) {
	ph, err := p.cs.AddPhoto(ctx, caseID, data)
	if err != nil {
		return "", err
	}
	return ph.ID, nil
}
