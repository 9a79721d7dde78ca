//go:build unix

package app

import (
	"context"
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// The edge's costs, measured without a network: each request is copied into one reused
// *fasthttp.RequestCtx, as fasthttp's server reuses its own, and served by the fiber handler.
// docs/benchmarks.md ("HTTP edge") has the figures. (Unix only: the CPU time comes from
// getrusage.)

// edgeRequest builds a request as a client of the API sends it: a bearer token, JSON accepted,
// a language, and body (of media type ctype) if any.
func edgeRequest(method, uri, token, ctype string, body []byte) *fasthttp.Request {
	req := new(fasthttp.Request)
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	req.Header.SetHost("cityops.example.cn")
	req.Header.Set(fiber.HeaderAuthorization, "Bearer "+token)
	req.Header.Set(fiber.HeaderAccept, fiber.MIMEApplicationJSON)
	req.Header.Set(fiber.HeaderAcceptLanguage, "zh-CN,zh;q=0.9,en;q=0.8")
	req.Header.Set(fiber.HeaderUserAgent, "cityops-bench/1")
	if body != nil {
		req.Header.SetContentType(ctype)
		req.SetBody(body)
	}
	return req
}

// serveEach serves req through h once per iteration on one reused RequestCtx, reset between
// requests as fasthttp's server resets it (user values, request, response), and checks the
// status of each answer. pause, if not nil, runs every 10,000 requests with the timer stopped.
//
// Besides ns/op (wall time) it reports cpu-ns/op: the CPU time of the whole process per request
// (garbage collection and background work such as storing usage events included). On a shared
// machine wall time also counts the time other work held the CPU; CPU time does much less so.
func serveEach(b *testing.B, h fasthttp.RequestHandler, req *fasthttp.Request, want int, pause func()) {
	b.Helper()
	var ctx fasthttp.RequestCtx
	ctx.Init(req, nil, nil)
	b.ReportAllocs()
	n := 0
	var paused time.Duration
	cpu0 := cpuTime()
	for b.Loop() {
		if n++; pause != nil && n%10_000 == 0 {
			b.StopTimer()
			p0 := cpuTime()
			pause()
			paused += cpuTime() - p0
			b.StartTimer()
		}
		ctx.ResetUserValues()
		ctx.Request.Reset()
		ctx.Response.Reset()
		req.CopyTo(&ctx.Request)
		h(&ctx)
		if got := ctx.Response.StatusCode(); got != want {
			b.Fatalf("%s %s: status %d, want %d\n%s", req.Header.Method(), req.URI().FullURI(), got, want, ctx.Response.Body())
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0-paused)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time the process has used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkImmutable is the price of fiber.Config{Immutable: true} (edge.go, "Request strings
// do not outlive the request") against its alternative, copying at the boundary: a handler that
// reads what ours typically read, on an app with no database. "mutable" clones only the two
// values a real handler keeps (the tenant's slug and the token, which caches keep as keys);
// "immutable" clones nothing itself and fiber copies the path and method of every request and
// each value as it is read.
func BenchmarkImmutable(b *testing.B) {
	req := edgeRequest("GET", "/api/v1/t/chuxiong/cases?state=dispatched,handling&limit=50&grid=53230100100101",
		"cot_0123456789abcdef0123456789abcdef0123456789abcdef", "", nil)
	req.Header.SetCookie(sessionCookie, "0123456789abcdef0123456789abcdef0123456789abcdef")
	for _, v := range []struct {
		name      string
		immutable bool
	}{{"mutable", false}, {"immutable", true}} {
		b.Run(v.name, func(b *testing.B) {
			f := fiber.New(fiber.Config{Immutable: v.immutable, DisableStartupMessage: true})
			f.Get("/api/v1/t/:tenant/cases", func(c *fiber.Ctx) error {
				tenant, token := c.Params("tenant"), c.Get(fiber.HeaderAuthorization)
				if !v.immutable {
					tenant, token = strings.Clone(tenant), strings.Clone(token)
				}
				return c.JSON(struct {
					Tenant  string `json:"tenant"`
					State   string `json:"state"`
					Limit   string `json:"limit"`
					Grid    string `json:"grid"`
					Auth    bool   `json:"auth"`
					Session bool   `json:"session"`
					Lang    string `json:"lang"`
					Method  string `json:"method"`
					Path    string `json:"path"`
				}{tenant, c.Query("state"), c.Query("limit"), c.Query("grid"), token != "",
					c.Cookies(sessionCookie) != "", c.Get(fiber.HeaderAcceptLanguage), c.Method(), c.Path()})
			})
			serveEach(b, f.Handler(), req, fiber.StatusOK, nil)
		})
	}
}

// BenchmarkTenantHome gives the edge's costs their scale: the real app (SQLite) answering its
// cheapest request inside a tenant, GET /api/v1/t/chuxiong/ (token, tenant scope, JSON; every
// lookup cached), and two writes with a JSON body: the largest setting (4 KiB of text) and a
// tenant boundary of 10 KiB (GeoJSON: many small tokens, the JSON walk's dearest kind of
// body). Each request is also served by a bare app (Immutable, one handler answering 204)
// with and without checkInput in front, so that checkInput's own cost is the difference.
func BenchmarkTenantHome(b *testing.B) {
	a, _, chuxiong := MustBootApp(b, "sqlite")
	id, token := benchAccount(b, a)
	if err := a.store.Grant(context.Background(), chuxiong, id, tenants.TenantAdmin); err != nil {
		b.Fatal(err)
	}
	// Every request inside a tenant queues a usage event (billing's api_requests meter), stored
	// in batches in the background. Storing them every 10,000 requests, outside the timing,
	// keeps the recorder's buffer from filling up, so that a request measures its own cost
	// rather than the rate at which the store takes usage events.
	storeUsage := func() {
		if err := a.billing.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	bare := func(check bool) fasthttp.RequestHandler {
		f := fiber.New(fiber.Config{Immutable: true, DisableStartupMessage: true})
		if check {
			f.Use(checkInput)
		}
		f.All("/*", func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusNoContent) })
		return f.Handler()
	}
	for _, r := range []struct {
		name string
		req  *fasthttp.Request
		want int
	}{
		{"home", edgeRequest("GET", "/api/v1/t/chuxiong/", token, "", nil), fiber.StatusOK},
		{"put-setting-4KiB", edgeRequest("PUT", "/api/v1/t/chuxiong/settings/x", token, fiber.MIMEApplicationJSON,
			[]byte(`{"value":"`+strings.ReplaceAll(settingText(4096), "\n", `\n`)+`"}`)), fiber.StatusOK},
		{"put-boundary-10KiB", edgeRequest("PUT", "/api/v1/t/chuxiong/boundary", token, "application/geo+json",
			boundaryJSON(10<<10)), fiber.StatusOK},
	} {
		b.Run(r.name, func(b *testing.B) {
			b.Run("app", func(b *testing.B) {
				serveEach(b, a.fiber.Handler(), r.req, r.want, storeUsage)
				b.StopTimer()
				storeUsage()
			})
			b.Run("bare", func(b *testing.B) { serveEach(b, bare(false), r.req, fiber.StatusNoContent, nil) })
			b.Run("bare+checkInput", func(b *testing.B) { serveEach(b, bare(true), r.req, fiber.StatusNoContent, nil) })
		})
	}
}

// settingText is Chinese text with line breaks, n bytes at most: the largest value a setting
// takes.
func settingText(n int) string {
	const line = "城市运行管理服务平台：案件从上报、受理、立案、派遣、处置到核查、结案。\n"
	var sb strings.Builder
	for _, r := range strings.Repeat(line, n/len(line)+1) {
		if sb.Len()+len(string(r)) > n {
			break
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// boundaryJSON is a GeoJSON Polygon around 楚雄市 of about n bytes: one ring of positions on a
// circle, closed.
func boundaryJSON(n int) []byte {
	const pos = len("[101.546000,25.032000],")
	k := (n - 40) / pos
	var sb strings.Builder
	sb.WriteString(`{"type":"Polygon","coordinates":[[`)
	for i := 0; i <= k; i++ {
		a := 2 * math.Pi * float64(i%k) / float64(k)
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "[%.6f,%.6f]", 101.546+0.2*math.Cos(a), 25.032+0.2*math.Sin(a))
	}
	sb.WriteString(`]]}`)
	return []byte(sb.String())
}

// BenchmarkCheckJSON is checkInput's JSON walk alone on GeoJSON bodies (the dearest kind: many
// small tokens) of 10 KiB, 1 MiB (the most a JSON endpoint decodes) and 16 MiB (the largest
// imported file). The walk runs before authentication, on any body sent as JSON up to
// CITYOPS_BODY_LIMIT.
func BenchmarkCheckJSON(b *testing.B) {
	for _, n := range []int{10 << 10, 1 << 20, 16 << 20} {
		body := boundaryJSON(n)
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := checkJSON(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
