package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"time"

	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/app/web"
	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/open311"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/cityops/cityops/tenants/sso"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// App is the composition root: New builds everything the process runs, Close tears it down, and
// tests boot exactly what production boots.
type App struct {
	cfg Config
	log *slog.Logger
	// limits keeps the rate limiters' counts in Redis, shared by the replicas (nil: in memory).
	limits  *sharedLimits
	store   *tenants.Store
	prov    *tenants.Provisioner
	fiber   *fiber.App
	metrics *metrics
	web     *console.UI

	// platform: the services of the shared modules (organisation, grids, catalog, calendar).
	platform *platform

	// secrets: per-tenant keys for citizens' personal data and integration credentials.
	secrets secrets.Store
	// billing: usage, plans, the ledger and Stripe (nil gateway when offline).
	billing *billing.Service
	// cases: the case loop (GB/T 30428.8).
	cases *cases.Service
	// blobs: photos and offboarding archives (the local disk, or a bucket every replica shares).
	blobs blob.Store
	// open311: the public Open311 GeoReport v2 API over the case loop.
	open311 *open311.Service

	// modules are the modules plugged in through platform/module (platformModules and
	// Options.Modules), with their built parts.
	modules *mounted
	// gate is the edge's access control, in front of every transport.
	gate *gate
	// sso signs staff in through their OpenID Connect providers (sso.go).
	sso *sso.Service
	// apiDoc is the served OpenAPI document, with the modules' operations.
	apiDoc []byte

	// loops are the background loops Serve runs with the server, each once across the replicas
	// (on the holder of its lease, held as leaseTiming says) unless it is per replica.
	loops       []loop
	leaseTiming leaseTiming
	// jobs are the console's provisioning runs.
	jobs *provJobs
}

// Options are the parts a caller may supply instead of the defaults (tests use them).
type Options struct {
	Logger    *slog.Logger
	Now       func() time.Time
	Passwords tenants.PasswordParams
	// Steps are extra provisioning steps (the tenant key, the billing customer).
	Steps []tenants.Step
	// Modules are plugged in after the platform's own (platformModules).
	Modules []module.Module
	// CaseConfig, if set, adjusts the case loop's configuration before it is built (tests give
	// it a clock of their own or a key store that fails).
	CaseConfig func(*cases.Config)
}

// New opens the database and builds the server. It does not listen.
func New(ctx context.Context, cfg Config, opts Options) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = NewLogger(cfg, os.Stderr)
	}
	// What the modules declare is read first: their migrations go to the store, their meters and
	// entitlements to billing.
	mods := append(platformModules(nil, nil), opts.Modules...)
	if err := checkModules(mods); err != nil {
		return nil, err
	}
	dialect := dbx.SQLite
	if cfg.DatabaseURL != "" {
		dialect = dbx.Postgres
	}
	migs, err := moduleMigrations(mods, dialect)
	if err != nil {
		return nil, err
	}
	clusters, err := cfg.clusters()
	if err != nil {
		return nil, fmt.Errorf("CITYOPS_CLUSTERS: %w", err)
	}
	store, err := tenants.Open(tenants.Config{
		DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir, RolePrefix: cfg.RolePrefix,
		Pool:           dbx.PoolOptions{MaxOpen: cfg.DBMaxConns, MaxLifetime: cfg.DBConnLifetime},
		MaxOpenTenants: cfg.MaxOpenTenants, Logger: log, Now: opts.Now, Passwords: opts.Passwords,
		Migrations: migs, Clusters: clusters,
	})
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, store: store, jobs: newProvJobs()}
	if a.blobs, err = openBlobs(ctx, cfg, log); err != nil {
		store.Close()
		return nil, err
	}
	if cfg.RedisURL != "" {
		if a.limits, err = newSharedLimits(cfg.RedisURL, log.With("component", "limits")); err != nil {
			store.Close()
			return nil, fmt.Errorf("CITYOPS_REDIS_URL: %w", err)
		}
	}
	if cfg.DatabaseURL != "" && cfg.Secrets.Backend != secrets.BackendVault {
		log.Warn("PostgreSQL with the local keyring: tenant keys live on this machine only, so other replicas cannot decrypt; use CITYOPS_SECRETS=vault when running more than one replica")
	}
	// A Vault that is down at start is not fatal: keyless pages are served and keys come back
	// when Vault does. A wrong configuration is.
	if a.secrets, err = secrets.Open(ctx, cfg.Secrets, log.With("component", "secrets")); err != nil {
		store.Close()
		return nil, err
	}
	a.secrets = secrets.Audited(a.secrets, store)
	if a.billing, err = newBilling(cfg, store, log, opts.Now, mods); err != nil {
		a.secrets.Close()
		store.Close()
		return nil, err
	}
	a.platform = newPlatform(store, a.secrets, a.blobs, cfg, log)
	// The maps' offline boundaries ship with the binary (app/web/static/vendor/boundaries).
	atlasData, err := web.Files.ReadFile(web.AtlasFile)
	if err != nil {
		a.Close()
		return nil, err
	}
	atlas, err := grids.NewAtlas(atlasData)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.platform.grids.UseAtlas(atlas)
	a.cases = a.newCases(opts.CaseConfig)
	a.platform.monitoring.SetCases(a.cases)
	a.platform.monitoring.UsePhotos(casePhotos{a.cases})
	a.platform.hotline = exchange.NewHotline(exchange.HotlineConfig{Gate: store, Cases: a.cases, Geocoder: a.platform.grids, Now: store.Now})
	a.platform.importer = exchange.NewImporter(exchange.ImporterConfig{Gate: store, Cipher: a.secrets, Credentials: a.secrets, Usage: a.billing,
		Classes: a.platform.catalog.Entries(), Grids: a.platform.grids, Components: a.platform.catalog, Org: a.platform.org,
		HistoryChanged: a.platform.evaluation.HistoryChanged, Now: store.Now, Log: log})
	mods = append(platformModules(a.platform, a.cases), opts.Modules...) // the same list, serving the services
	a.open311 = a.newOpen311()
	a.prov = tenants.NewProvisioner(store, append(slices.Clip(opts.Steps), secrets.NewStep(a.secrets), a.billing.ProvisionStep(), a.cases.PhotoStep())...)
	if err := store.Ping(ctx); err != nil {
		a.Close()
		return nil, fmt.Errorf("database: %w", err)
	}
	a.metrics = newMetrics(store, a.billing)
	a.prov.Observe(a.metrics.observeProvisioning)
	a.modules = &mounted{billing: a.billing}
	a.gate = &gate{store: store, billing: a.billing, log: a.log, baseURL: cfg.BaseURL}
	a.sso = a.newSSO()
	if a.web, err = console.New(console.Deps{Store: store, Secrets: a.secrets, MapTiles: cfg.MapTiles, Modules: mods, ModuleNav: a.modules.nav}); err != nil {
		a.Close()
		return nil, err
	}
	kit := module.Kit{Store: store, Now: store.Now, Usage: a.billing, Pages: a.web, Log: a.log, PDFFont: cfg.PDFFont, Metrics: a.metrics.reg,
		Entitled: func(ctx context.Context, t *tenants.Tenant, entitlement string) (bool, error) {
			on, _, err := a.billing.Entitled(ctx, t, entitlement)
			return on, err
		},
		Limits: a.limitStore,
		Quota: func(ctx context.Context, t *tenants.Tenant, meter string) (module.Quota, error) {
			sts, err := a.billing.QuotaStatus(ctx, t, store.Now())
			for _, st := range sts {
				if st.Meter == meter {
					return module.Quota{Meter: meter, Used: st.Quantity, Included: st.Included, Over: st.Over, OverageFen: st.OverageFen}, err
				}
			}
			return module.Quota{Meter: meter}, err
		}}
	if err := a.modules.build(mods, kit, store); err != nil {
		a.Close()
		return nil, err
	}
	if a.apiDoc, err = buildOpenAPI(append(slices.Clip(mods), ssoOpenAPI)); err != nil {
		a.Close()
		return nil, err
	}
	a.fiber = a.newServer()
	a.loops, a.leaseTiming = a.backgroundLoops(), defaultLeaseTiming
	return a, nil
}

// Close releases everything New opened, after Serve has returned (or without Serve: the command
// line, tests). It continues Serve's shutdown in the same order: provisioning runs and the
// console's vendor imports still going are cut (after Serve they have ended or been cut already)
// and the case writers finish, each bounded by cutWait; then the usage buffer is flushed, and the secret store and the database
// close.
func (a *App) Close() error {
	var problems []error
	ctx, cancel := context.WithTimeout(context.Background(), cutWait)
	defer cancel()
	if cut, err := a.jobs.stop(ctx); err != nil {
		problems = append(problems, err)
	} else if len(cut) > 0 {
		a.log.Warn("provisioning cut at close; it resumes at the next start or from the console", "tenants", cut)
	}
	ctx, cancel = context.WithTimeout(context.Background(), cutWait)
	defer cancel()
	if a.platform != nil && a.platform.importer != nil && !a.platform.importer.Stop(ctx) {
		problems = append(problems, errors.New("vendor imports still running at close"))
	}
	ctx, cancel = context.WithTimeout(context.Background(), cutWait)
	defer cancel()
	if !a.cases.Wait(ctx) {
		problems = append(problems, errors.New("case reports still being written at close"))
	}
	if a.limits != nil {
		problems = append(problems, a.limits.Close())
	}
	return errors.Join(append(problems, a.billing.Close(), a.secrets.Close(), a.store.Close())...)
}

// Store returns the control plane (for the CLI and tests).
func (a *App) Store() *tenants.Store { return a.store }

// Provisioner returns the tenant provisioner.
func (a *App) Provisioner() *tenants.Provisioner { return a.prov }

// Fiber returns the HTTP handler (for tests through fiber's Test).
func (a *App) Fiber() *fiber.App { return a.fiber }

// Migrate applies the control set and rolls the tenant set out to every tenant.
func (a *App) Migrate(ctx context.Context, progress func(done, total int, r tenants.RolloutResult)) ([]tenants.RolloutResult, error) {
	applied, err := a.store.MigrateControl(ctx)
	if err != nil {
		return nil, fmt.Errorf("control migrations: %w", err)
	}
	if len(applied) > 0 {
		a.log.Info("control migrations applied", "versions", applied)
	}
	return a.store.MigrateTenants(ctx, a.cfg.MigrateWorkers, func(done, total int, r tenants.RolloutResult) {
		a.metrics.observeMigration(r)
		if progress != nil {
			progress(done, total, r)
		}
	})
}

// Serve listens on the configured address and serves until ctx ends, with the background loops
// (backgroundLoops); then it shuts down. Listening first means a taken port fails at once, before
// anything else starts.
//
// Shutdown, in this order: stop accepting and drain the requests in flight (and the connections
// closing); stop the loops and wait for each; wait for the console's provisioning runs and cut
// those still going at the bound. Config.ShutdownGrace bounds it all; what is cancelled at the
// bound gets cutWait more to return. Cutting provisioning is safe: it records each step and
// resumes where it stopped, at the next start or from the console. Serve returns once all of it
// has returned; the caller's Close then flushes the usage buffer and closes the database. A loop
// that does not stop is an error; requests and provisioning cut at the bound are logged.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
	}
	if a.cfg.MigrateOnStart {
		results, err := a.Migrate(ctx, nil)
		if err != nil {
			ln.Close()
			return err
		}
		for _, r := range results {
			if r.Error != "" {
				a.log.Error("tenant not migrated; it stays on its old schema", "tenant", r.Slug, "err", r.Error)
			}
		}
	}
	if err := a.prov.ResumeAll(ctx); err != nil {
		a.log.Error("resuming interrupted provisioning", "err", err)
	}
	loops := startLoops(context.WithoutCancel(ctx), a.log, leased(a.loops, a.store, newHolder(), a.leaseTiming, a.log))
	closes := new(tasks.Group)
	served := make(chan error, 1)
	go func() { served <- a.fiber.Listener(lingering(ln, closes)) }()
	a.log.Info("serving", "addr", ln.Addr().String(), "dialect", a.store.Dialect())
	if a.cfg.MQTTURL == "" {
		a.log.Info("MQTT ingestion is off (CITYOPS_MQTT_URL is not set): devices send readings over HTTP only")
	} else {
		a.log.Info("MQTT ingestion is on", "broker", a.cfg.Redacted().MQTTURL, "client_id", a.cfg.MQTTClientID, "share_group", a.cfg.MQTTShareGroup)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	var failed error
	select {
	case failed = <-served:
		served = nil
	case <-ctx.Done():
	}
	a.log.Info("shutting down", "grace", a.cfg.ShutdownGrace)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownGrace)
	defer cancel()
	var problems []error
	if served != nil {
		if err := a.fiber.ShutdownWithContext(ctx); errors.Is(err, context.DeadlineExceeded) {
			a.log.Warn("requests still running at the end of the shutdown grace are abandoned")
		} else if err != nil {
			problems = append(problems, err)
		}
		ln.Close() // in case the server had not started accepting: then it stops at once
		select {
		case err := <-served:
			problems = append(problems, err)
		case <-ctx.Done():
		}
	}
	closes.Close()
	if !closes.Wait(ctx) {
		a.log.Warn("connections still closing at the end of the shutdown grace")
	}
	// The loops are cancelled only now, and get at least cutWait to return.
	end, _ := ctx.Deadline()
	lctx, lcancel := context.WithTimeout(context.WithoutCancel(ctx), max(time.Until(end), cutWait))
	defer lcancel()
	problems = append(problems, loops.stop(lctx))
	// The console's vendor imports: a run cut here continues when its file is imported again.
	if !a.platform.importer.Stop(ctx) {
		a.log.Warn("vendor imports still running at the end of the shutdown grace; importing the same file again continues them")
	}
	cut, err := a.jobs.stop(ctx)
	if len(cut) > 0 {
		a.log.Warn("provisioning cut at the end of the shutdown grace; it resumes at the next start or from the console", "tenants", cut)
	}
	return errors.Join(append(problems, failed, err)...)
}

// NewLogger builds the process logger from the configuration.
func NewLogger(cfg Config, w *os.File) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	o := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, o))
	}
	return slog.New(slog.NewJSONHandler(w, o))
}

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// tenantRequests counts requests per tenant and status class: the label is the slug of a
	// tenant the request was resolved to (never a slug from the path that names none), so its
	// values are bounded by the tenants there are.
	tenantRequests *prometheus.CounterVec
	provisioning   *prometheus.HistogramVec
	migration      *prometheus.HistogramVec
}

func newMetrics(store *tenants.Store, bill *billing.Service) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cityops_http_requests_total", Help: "HTTP requests by method, route and status.",
	}, []string{"method", "route", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "cityops_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route"})
	m.tenantRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cityops_tenant_requests_total", Help: "Requests inside a tenant, by tenant slug and status class (2xx, 3xx, 4xx, 5xx).",
	}, []string{"tenant", "class"})
	m.provisioning = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "cityops_provisioning_duration_seconds", Help: "Tenant provisioning runs (provision, resume), by result (ok, failed).",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120},
	}, []string{"op", "result"})
	m.migration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "cityops_tenant_migration_duration_seconds", Help: "One tenant's migration in a rollout, by result (ok, failed).",
		Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"result"})
	tenantsGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cityops_db_open_connections", Help: "Open connections of the control database pool.",
	}, func() float64 { return float64(store.DB().Stats().OpenConnections) })
	m.reg.MustRegister(m.requests, m.duration, m.tenantRequests, m.provisioning, m.migration, tenantsGauge,
		collectors.NewDBStatsCollector(store.DB().DB, "control"),
		secrets.VaultErrors, billing.StripeErrors, bill.OutboxCollector(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Each other cluster's pool, as go_sql_* with db_name="cluster_<name>".
	for name, db := range store.ClusterDBs() {
		m.reg.MustRegister(collectors.NewDBStatsCollector(db.DB, "cluster_"+name))
	}
	return m
}

func (m *metrics) observeProvisioning(op string, d time.Duration, err error) {
	m.provisioning.WithLabelValues(op, resultLabel(err == nil)).Observe(d.Seconds())
}

func (m *metrics) observeMigration(r tenants.RolloutResult) {
	m.migration.WithLabelValues(resultLabel(r.Error == "")).Observe(r.Duration.Seconds())
}

func resultLabel(ok bool) string {
	if ok {
		return "ok"
	}
	return "failed"
}

// limitStore is the storage of the rate limiter named prefix: shared through Redis when
// CITYOPS_REDIS_URL is set, else this replica's memory.
func (a *App) limitStore(prefix string) fiber.Storage {
	if a.limits != nil {
		return a.limits.storage(prefix)
	}
	return newLimitStore()
}
