package monitoring_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// A's unit grid, and a component of A's inventory inside it.
const (
	gridA = "53230100100101"
	compA = "5323010101000001"
)

func square(lon0, lat0, d float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`,
		lon0, lat0, lon0+d, lat0, lon0+d, lat0+d, lon0, lat0+d, lon0, lat0)
}

func feature(code, name, geom string) string {
	return fmt.Sprintf(`{"type":"Feature","properties":{"code":%q,"name":%q},"geometry":%s}`, code, name, geom)
}

var gridsJSON = `{"type":"FeatureCollection","features":[` + strings.Join([]string{
	feature("53230100100000", "鹿城街道", square(101.49, 24.99, 0.05)),
	feature("53230100100100", "鹿城社区", square(101.495, 24.995, 0.03)),
	feature(gridA, "鹿城一号网格", square(101.50, 25.00, 0.01)),
}, ",") + `]}`

// clock is a test's settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// world is A and B with grids, the catalog and the monitoring service on a settable clock.
type world struct {
	e   *platformtest.Env
	s   *monitoring.Service
	clk *clock
	// cs is the case loop, which the alarm tests give the service (SetCases).
	cs *cases.Service
}

func newWorld(t testing.TB, e *platformtest.Env) *world {
	t.Helper()
	g := grids.NewService(e.Store, nil)
	o := org.NewService(e.Store, nil, g.Index())
	cat := catalog.NewService(e.Store, o, g, nil)
	if rep, err := g.Import(e.A, []byte(gridsJSON), false); err != nil || rep.Accepted != 3 {
		t.Fatalf("grids: %+v %v", rep, err)
	}
	if _, err := cat.ImportComponents(e.A, []byte("部件编码,名称,经度,纬度\n"+compA+",井盖,101.505,25.005\n"), "csv", false); err != nil {
		t.Fatalf("components: %v", err)
	}
	clk := &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	return &world{e: e, clk: clk, s: monitoring.NewService(monitoring.Config{Gate: e.Store, Grids: g, Components: cat, Classes: cat, Now: clk.Now}),
		cs: cases.NewService(cases.Config{Gate: e.Store, PhotoDir: t.TempDir(), Places: g.Index(), Classes: cat.Entries(), RulesTTL: -1})}
}

func eachDialect(t *testing.T, body func(t *testing.T, w *world)) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) { body(t, newWorld(t, e)) }, monitoring.Module(nil))
}

func ptr[T any](v T) *T { return &v }

// mustDevice makes a device in ctx's tenant and returns its token.
func (w *world) mustDevice(t testing.TB, ctx context.Context, code, typ string) string {
	t.Helper()
	_, tok, err := w.s.CreateDevice(ctx, monitoring.DeviceInput{Code: code, Type: typ, Name: ptr("测试 " + code), Lon: ptr(101.505), Lat: ptr(25.005)})
	if err != nil {
		t.Fatalf("device %s: %v", code, err)
	}
	return tok
}

// usage records what the ingest meters.
type usage struct {
	mu   sync.Mutex
	recs []usageRecord
}

type usageRecord struct {
	Tenant   uuid.UUID
	Meter    string
	Quantity int64
	Key      string
}

func (u *usage) Record(_ context.Context, tenant uuid.UUID, meter string, q int64, key string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.recs = append(u.recs, usageRecord{tenant, meter, q, key})
	return nil
}

// server is the module's API and ingest on a fiber app: the ingest as the app mounts it
// (/api/v1/ingest/:tenant), the API under /api/v1/t/:tenant as tenant A's admin (or ?as=view:
// the prefecture viewer); errors become problems as the app's handler makes them.
func (w *world) server(t testing.TB, u *usage, entitled bool) *fiber.App {
	t.Helper()
	k := module.Kit{Store: w.e.Store, Now: w.clk.Now, Usage: u, Log: slog.New(slog.DiscardHandler),
		Entitled: func(context.Context, *tenants.Tenant, string) (bool, error) { return entitled, nil }}
	parts, err := monitoring.Module(w.s).Build(k)
	if err != nil {
		t.Fatal(err)
	}
	f := fiber.New(fiber.Config{Immutable: true, ErrorHandler: func(c *fiber.Ctx, err error) error {
		code := errs.CodeOf(err)
		st := module.Status(code)
		if fe, ok := err.(*fiber.Error); ok {
			st = fe.Code
		}
		return module.SendProblem(c, st, module.Problem{Status: st, Code: string(code), Detail: errs.MessageOf(err)})
	}})
	parts.Machine(router{f.Group("/api/v1/ingest/:tenant")})
	api := f.Group("/api/v1/t/:tenant", func(c *fiber.Ctx) error {
		sc := tenants.SystemScope(w.e.TenantA)
		switch c.Query("as") {
		case "view":
			sc = tenants.ScopeFrom(w.e.View)
		case "b": // B's admin, asking for A's things by their ids
			sc = tenants.SystemScope(w.e.TenantB)
		case "handler": // a member of A without a post that acts on alarms
			sc = &tenants.Scope{Tenant: w.e.TenantA, Roles: []tenants.Role{tenants.Handler}}
		}
		c.SetUserContext(tenants.WithScope(c.UserContext(), sc))
		return c.Next()
	})
	parts.API(router{api})
	return f
}

type answer struct {
	Status int
	Body   string
	Type   string
}

// post sends body to path with token as the bearer.
func post(t testing.TB, f *fiber.App, path, token, body string) answer {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, f, req)
}

func send(t testing.TB, f *fiber.App, req *http.Request) answer {
	t.Helper()
	res, err := f.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, string(b), res.Header.Get("Content-Type")}
}

func result(t testing.TB, a answer) monitoring.Result {
	t.Helper()
	if a.Status != 200 {
		t.Fatalf("ingest: %d %s", a.Status, a.Body)
	}
	var r monitoring.Result
	if err := json.Unmarshal([]byte(a.Body), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// router is a fiber group as a module.Router.
type router struct{ r fiber.Router }

func (g router) Get(p string, hs ...fiber.Handler)    { g.r.Get(p, hs...) }
func (g router) Post(p string, hs ...fiber.Handler)   { g.r.Post(p, hs...) }
func (g router) Put(p string, hs ...fiber.Handler)    { g.r.Put(p, hs...) }
func (g router) Patch(p string, hs ...fiber.Handler)  { g.r.Patch(p, hs...) }
func (g router) Delete(p string, hs ...fiber.Handler) { g.r.Delete(p, hs...) }
