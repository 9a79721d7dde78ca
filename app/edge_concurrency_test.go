package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityops/cityops/tenants"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// chuxiongUnits are the ten county-level units of 楚雄州 with slugs of one length, so that a
// slug left in a reused request buffer is overwritten in place by the next request's slug.
var chuxiongUnits = []struct{ code, name string }{
	{"532301", "楚雄市"}, {"532302", "禄丰市"}, {"532322", "双柏县"}, {"532323", "牟定县"},
	{"532324", "南华县"}, {"532325", "姚安县"}, {"532326", "大姚县"}, {"532327", "永仁县"},
	{"532328", "元谋县"}, {"532329", "武定县"},
}

// edgeFixture boots the app with the prefecture and its ten units (slugs chuxiong, cx532302 …), a
// prefecture viewer and an admin per unit, each with an API token, served on a loopback port.
type edgeFixture struct {
	app    *App
	addr   string
	slugs  []string
	viewer string            // the prefecture viewer's token
	admins map[string]string // slug → that unit's admin's token
}

func newEdgeFixture(t *testing.T, dialect string) *edgeFixture {
	t.Helper()
	a, pref, _ := MustBootApp(t, dialect)
	ctx := context.Background()
	s := a.store
	e := &edgeFixture{app: a, admins: map[string]string{}}
	token := func(email string, op tenants.Role, t0 *tenants.Tenant, role tenants.Role) string {
		tok, _ := mustAccount(t, s, email, op, t0, role)
		return tok
	}
	// MustBootApp provisioned 楚雄市 as "chuxiong"; the other units get slugs of its length.
	chuxiong, err := s.FindTenantBySlug(ctx, "chuxiong")
	if err != nil {
		t.Fatal(err)
	}
	e.slugs = append(e.slugs, chuxiong.Slug)
	e.admins[chuxiong.Slug] = token("admin@chuxiong.cn", "", chuxiong, tenants.TenantAdmin)
	for _, u := range chuxiongUnits[1:] {
		kind := tenants.County
		if strings.HasSuffix(u.name, "市") {
			kind = tenants.City
		}
		slug := "cx" + u.code
		p, err := a.prov.Provision(ctx, tenants.NewTenant{Slug: slug, NameZH: u.name, Kind: kind, AdminCode: u.code, ParentSlug: pref.Slug})
		if err != nil {
			t.Fatal(err)
		}
		e.slugs = append(e.slugs, slug)
		e.admins[slug] = token("admin@"+slug+".cn", "", p.Tenant, tenants.TenantAdmin)
	}
	e.viewer = token("viewer@zhou.cn", "", pref, tenants.PrefectureViewer)
	e.addr = (&fixture{app: a}).listen(t)
	return e
}

// get sends one request over client and returns its status and body.
func (e *edgeFixture) get(client *http.Client, method, token, path string) (int, string, error) {
	req, err := http.NewRequest(method, "http://"+e.addr+path, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// TestNoCrossTenantAnswers sends many concurrent requests to every unit at once, as the
// prefecture viewer and as each unit's own admin, over a handful of kept-alive connections, and
// checks that every answer names the tenant asked for. Slugs of one length in reused request
// buffers once made a cached slug turn into another county's (issue: lufeng answered as wuding).
func TestNoCrossTenantAnswers(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			e := newEdgeFixture(t, dialect)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 16}, Timeout: 30 * time.Second}
			runs := 1
			if n, err := strconv.Atoi(os.Getenv("CITYOPS_EDGE_RUNS")); err == nil && n > 0 {
				runs = n // CITYOPS_EDGE_RUNS=100: the run repeated, on the same tenants
			}
			for run := range runs {
				crossTenantRun(t, e, client, run)
			}
		})
	}
}

// crossTenantRun is one run of TestNoCrossTenantAnswers: 16 clients, 30 requests each.
func crossTenantRun(t *testing.T, e *edgeFixture, client *http.Client, run int) {
	const rounds = 30
	var wrong, failed atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first []string
	note := func(s string) {
		mu.Lock()
		if len(first) < 5 {
			first = append(first, s)
		}
		mu.Unlock()
	}
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				slug := e.slugs[(w+r)%len(e.slugs)]
				token := e.viewer
				if (w+r)%2 == 0 {
					token = e.admins[slug]
				}
				status, body, err := e.get(client, "GET", token, "/api/v1/t/"+slug+"/")
				if err != nil {
					failed.Add(1)
					note(err.Error())
					continue
				}
				var home struct {
					Tenant struct{ Slug string } `json:"tenant"`
				}
				if status != 200 || json.Unmarshal([]byte(body), &home) != nil || home.Tenant.Slug != slug {
					wrong.Add(1)
					note(fmt.Sprintf("GET /api/v1/t/%s/ → %d %s", slug, status, body))
				}
			}
		}()
	}
	wg.Wait()
	if wrong.Load() > 0 || failed.Load() > 0 {
		t.Fatalf("run %d: %d of %d answers named another tenant or failed, %d transport errors; first: %q",
			run+1, wrong.Load(), 16*rounds, failed.Load(), first)
	}
}

// TestMetricsAfterMixedTraffic scrapes /metrics after concurrent traffic of every method and
// checks that the exposition parses and names only real methods.
func TestMetricsAfterMixedTraffic(t *testing.T) {
	e := newEdgeFixture(t, "sqlite")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 30 * time.Second}
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 40 {
				m := methods[(w+r)%len(methods)]
				slug := e.slugs[(w*3+r)%len(e.slugs)]
				paths := []string{"/api/v1/t/" + slug + "/", "/api/v1/t/" + slug + "/settings", "/healthz", "/nowhere/" + slug}
				if _, _, err := e.get(client, m, e.admins[slug], paths[r%len(paths)]); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	status, body, err := e.get(client, "GET", "", "/metrics")
	if err != nil || status != 200 {
		t.Fatalf("/metrics: %d %v\n%s", status, err, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	fam := families["cityops_http_requests_total"]
	if fam == nil {
		t.Fatal("no cityops_http_requests_total in the exposition")
	}
	known := map[string]bool{}
	for _, m := range methods {
		known[m] = true
	}
	for _, m := range fam.Metric {
		for _, l := range m.Label {
			if l.GetName() == "method" && !known[l.GetValue()] {
				t.Errorf("method label %q", l.GetValue())
			}
			if l.GetName() == "route" && strings.Contains(l.GetValue(), "cx53") {
				t.Errorf("route label %q carries a request's path, not a route", l.GetValue())
			}
		}
	}
}

// TestNoCrossTenantDataUnderLoad probes every tenant-scoped GET route, of the API and of the
// console, for every unit at once, as the prefecture viewer and as each unit's admin: no answer
// may carry another unit's data or link into another unit. Each unit holds a setting and a
// department that name it (MARK-<code>).
func TestNoCrossTenantDataUnderLoad(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			e := newEdgeFixture(t, dialect)
			// A probe waits up to two minutes: ten whole-tenant exports at once (every table of
			// every unit, zipped) take over 30 s under -race on two busy cores, and what is
			// checked here is whose data an answer carries, not how fast it comes.
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 16}, Timeout: 2 * time.Minute}
			mark := map[string]string{} // slug → its marker
			for i, slug := range e.slugs {
				m := "MARK-" + chuxiongUnits[i].code
				mark[slug] = m
				for _, req := range []struct{ method, path, body string }{
					{"PUT", "/api/v1/t/" + slug + "/settings/marker", `{"value":"` + m + `"}`},
					{"POST", "/api/v1/t/" + slug + "/departments", `{"code":"MK","name":"` + m + `"}`},
				} {
					r, _ := http.NewRequest(req.method, "http://"+e.addr+req.path, strings.NewReader(req.body))
					r.Header.Set("Authorization", "Bearer "+e.admins[slug])
					r.Header.Set("Content-Type", "application/json")
					res, err := client.Do(r)
					if err != nil || res.StatusCode >= 300 {
						t.Fatalf("seed %s: %v %v", req.path, err, res)
					}
					res.Body.Close()
				}
			}
			var routes []string
			for _, r := range e.app.fiber.GetRoutes(true) {
				// The API's tenant routes and the console's (a bearer token opens pages too).
				if r.Method == "GET" && (r.Path == "/api/v1/t/:tenant" || strings.HasPrefix(r.Path, "/api/v1/t/:tenant/") ||
					strings.HasPrefix(r.Path, "/t/:tenant/")) {
					routes = append(routes, routeParam.ReplaceAllStringFunc(r.Path, func(p string) string {
						if p == ":tenant" {
							return p
						}
						return "x"
					}))
				}
			}
			type probe struct{ slug, path, token string }
			work := make(chan probe)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var leaks []string
			var sent atomic.Int64
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for p := range work {
						status, body, err := e.get(client, "GET", p.token, strings.Replace(p.path, ":tenant", p.slug, 1))
						sent.Add(1)
						if err != nil || status >= 500 {
							mu.Lock()
							leaks = append(leaks, fmt.Sprintf("%s for %s: %d %v", p.path, p.slug, status, err))
							mu.Unlock()
							continue
						}
						for other, m := range mark {
							if other != p.slug && (strings.Contains(body, m) || strings.Contains(body, "/t/"+other+"/") ||
								strings.Contains(body, `"`+other+`"`) && strings.HasPrefix(other, "cx")) {
								mu.Lock()
								leaks = append(leaks, fmt.Sprintf("%s for %s carries %s's data", p.path, p.slug, other))
								mu.Unlock()
							}
						}
					}
				}()
			}
			for round := range 3 {
				for _, path := range routes {
					for _, slug := range e.slugs {
						tok := e.viewer
						if round%2 == 1 {
							tok = e.admins[slug]
						}
						work <- probe{slug, path, tok}
					}
				}
			}
			close(work)
			wg.Wait()
			if len(leaks) > 0 {
				t.Fatalf("%d of %d probes: %q", len(leaks), sent.Load(), leaks[:min(len(leaks), 10)])
			}
			t.Logf("%d probes over %d routes and %d units: none carried another unit's data", sent.Load(), len(routes), len(e.slugs))
		})
	}
}
