package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const testPassword = "test password 1"

// fixture is a booted App with the prefecture, two counties and one account per kind of user,
// each with an API token.
type fixture struct {
	app    *App
	tokens map[string]string // who → bearer token
	ids    map[string]string // who → identity id
}

// MustBootApp boots a migrated App on dialect ("sqlite" or "postgres") with the prefecture
// 楚雄州 and its city 楚雄市 (chuxiong, 532301) provisioned; it returns the App and chuxiong.
func MustBootApp(tb testing.TB, dialect string) (*App, *tenants.Tenant, *tenants.Tenant) {
	tb.Helper()
	return mustBootAppWith(tb, dialect, Options{})
}

// mustBootAppWith is MustBootApp with opts (a quiet logger and fast password hashing are set).
func mustBootAppWith(tb testing.TB, dialect string, opts Options) (*App, *tenants.Tenant, *tenants.Tenant) {
	tb.Helper()
	return mustBootAppConfig(tb, dialect, opts, nil)
}

// mustBootAppConfig is mustBootAppWith on a configuration changed by adjust (when not nil).
func mustBootAppConfig(tb testing.TB, dialect string, opts Options, adjust func(*Config)) (*App, *tenants.Tenant, *tenants.Tenant) {
	tb.Helper()
	cfg := Config{DataDir: tb.TempDir(), Addr: "127.0.0.1:0", LogFormat: "json", LogLevel: "error", MigrateWorkers: 2, BodyLimit: 64 << 10, MaxOpenTenants: 8,
		PDFFont: testPDFFont}
	if dialect == "postgres" {
		pg := testdb.Postgres(tb)
		cfg.DatabaseURL, cfg.RolePrefix = pg.DSN, pg.RolePrefix
	}
	if adjust != nil {
		adjust(&cfg)
	}
	ctx := context.Background()
	opts.Logger, opts.Passwords = slog.New(slog.DiscardHandler), tenants.PasswordParams{Memory: 64, Time: 1, Threads: 1}
	a, err := New(ctx, cfg, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	if _, err := a.Migrate(ctx, nil); err != nil {
		tb.Fatal(err)
	}
	pref, err := a.prov.Provision(ctx, tenants.NewTenant{Slug: "chuxiong-zhou", NameZH: "楚雄州", Kind: tenants.Prefecture, AdminCode: "532300"})
	if err != nil {
		tb.Fatal(err)
	}
	ta, err := a.prov.Provision(ctx, tenants.NewTenant{Slug: "chuxiong", NameZH: "楚雄市", Kind: tenants.City, AdminCode: "532301", ParentSlug: "chuxiong-zhou"})
	if err != nil {
		tb.Fatal(err)
	}
	return a, pref.Tenant, ta.Tenant
}

func newFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	return newFixtureWith(t, dialect, Options{})
}

// newFixtureWith is newFixture on an App booted with opts.
func newFixtureWith(t *testing.T, dialect string, opts Options) *fixture {
	t.Helper()
	return newFixtureConfig(t, dialect, opts, nil)
}

// newFixtureConfig is newFixtureWith on a configuration changed by adjust (when not nil).
func newFixtureConfig(t *testing.T, dialect string, opts Options, adjust func(*Config)) *fixture {
	t.Helper()
	a, prefT, taT := mustBootAppConfig(t, dialect, opts, adjust)
	ctx := context.Background()
	f := &fixture{app: a, tokens: map[string]string{}, ids: map[string]string{}}
	s := a.store
	tb, err := a.prov.Provision(ctx, tenants.NewTenant{Slug: "wuding", NameZH: "武定县", Kind: tenants.County, AdminCode: "532329", ParentSlug: "chuxiong-zhou"})
	if err != nil {
		t.Fatal(err)
	}
	account := func(who string, op tenants.Role, tenant *tenants.Tenant, role tenants.Role) {
		f.tokens[who], f.ids[who] = mustAccount(t, s, who+"@test.cn", op, tenant, role)
	}
	account("operator", tenants.OperatorAdmin, nil, "")
	account("support", tenants.OperatorSupport, nil, "")
	account("adminA", "", taT, tenants.TenantAdmin)
	account("inspectorA", "", taT, tenants.Inspector)
	account("adminB", "", tb.Tenant, tenants.TenantAdmin)
	account("viewer", "", prefT, tenants.PrefectureViewer)
	account("nobody", "", nil, "")
	// A's own data, which nobody outside A may see.
	if _, err := f.do(t, "adminA", "PUT", "/api/v1/t/chuxiong/settings/secret", `{"value":"A-SECRET-VALUE"}`); err != nil {
		t.Fatal(err)
	}
	return f
}

// mustAccount creates an identity with email (an operator with op, unless op is ""), grants it
// role in tenant (if any) and returns an API token of it and its id.
func mustAccount(tb testing.TB, s *tenants.Store, email string, op tenants.Role, tenant *tenants.Tenant, role tenants.Role) (token, id string) {
	tb.Helper()
	ctx := context.Background()
	ident, err := s.CreateIdentity(ctx, tenants.NewIdentity{Email: email, Password: testPassword, OperatorRole: op})
	if err != nil {
		tb.Fatal(err)
	}
	if tenant != nil {
		if err := s.Grant(ctx, tenant, ident.ID, role); err != nil {
			tb.Fatal(err)
		}
	}
	tok, _, err := s.CreateAPIToken(ctx, ident.ID, "test", 0)
	if err != nil {
		tb.Fatal(err)
	}
	return tok, ident.ID.String()
}

// listen serves the app on a loopback port until the test ends and returns the address.
func (f *fixture) listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go f.app.fiber.Listener(lingering(ln, new(tasks.Group)))
	t.Cleanup(func() { f.app.fiber.Shutdown() })
	return ln.Addr().String()
}

type response struct {
	status int
	body   string
	header http.Header
}

func (f *fixture) do(t *testing.T, who, method, path, body string) (*response, error) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		if !utf8.ValidString(body) { // a photo's bytes: sending them as JSON is refused at the edge
			req.Header.Set("Content-Type", "application/octet-stream")
		}
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	}
	return f.send(t, req)
}

func (f *fixture) send(t *testing.T, req *http.Request) (*response, error) {
	t.Helper()
	res, err := f.app.fiber.Test(req, -1)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &response{status: res.StatusCode, body: string(b), header: res.Header}, nil
}

type scenario struct {
	name   string
	who    string
	method string
	path   string
	body   string
	status int
	want   string // a substring of the body
	absent string // must not appear in the body
}

func runScenarios(t *testing.T, f *fixture, cases []scenario) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.do(t, tc.who, tc.method, tc.path, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if res.status != tc.status {
				t.Fatalf("%s %s as %s: status %d, want %d\n%s", tc.method, tc.path, tc.who, res.status, tc.status, res.body)
			}
			if tc.want != "" && !strings.Contains(res.body, tc.want) {
				t.Fatalf("body lacks %q:\n%s", tc.want, res.body)
			}
			if tc.absent != "" && strings.Contains(res.body, tc.absent) {
				t.Fatalf("body has %q:\n%s", tc.absent, res.body)
			}
			if res.status >= 400 {
				if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("error with Content-Type %q, want application/problem+json", ct)
				}
				var p Problem
				if err := json.Unmarshal([]byte(res.body), &p); err != nil || p.Code == "" || p.Detail == "" || p.Status != res.status {
					t.Fatalf("not a problem document: %s", res.body)
				}
			}
		})
	}
}

// TestTenantEndpointsIsolation covers every tenant-scoped endpoint: its owner, another tenant's
// user (who must get 404 and none of A's data), the prefecture viewer (reads only) and operators.
func TestTenantEndpointsIsolation(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			const secret = "A-SECRET-VALUE"
			inspectorA := f.ids["inspectorA"]
			runScenarios(t, f, []scenario{
				{"owner reads settings", "adminA", "GET", "/api/v1/t/chuxiong/settings", "", 200, secret, ""},
				{"B reads A settings", "adminB", "GET", "/api/v1/t/chuxiong/settings", "", 404, "", secret},
				{"B writes A setting", "adminB", "PUT", "/api/v1/t/chuxiong/settings/secret", `{"value":"pwned"}`, 404, "", secret},
				{"nobody reads A", "nobody", "GET", "/api/v1/t/chuxiong/settings", "", 404, "", secret},
				{"anonymous reads A", "", "GET", "/api/v1/t/chuxiong/settings", "", 401, "", secret},
				{"B reads A home", "adminB", "GET", "/api/v1/t/chuxiong/", "", 404, "", secret},
				{"B reads A home without the slash", "adminB", "GET", "/api/v1/t/chuxiong", "", 404, "", secret},
				{"B lists A members", "adminB", "GET", "/api/v1/t/chuxiong/members", "", 404, "", "inspectora@"},
				{"B sets A roles", "adminB", "PUT", "/api/v1/t/chuxiong/members/" + inspectorA, `{"roles":["tenant_admin"]}`, 404, "", ""},
				{"B lists A invitations", "adminB", "GET", "/api/v1/t/chuxiong/invitations", "", 404, "", ""},
				{"B invites into A", "adminB", "POST", "/api/v1/t/chuxiong/invitations", `{"email":"x@y.cn","role":"tenant_admin"}`, 404, "", ""},
				{"B reads A audit", "adminB", "GET", "/api/v1/t/chuxiong/audit", "", 404, "", secret},
				{"B exports A", "adminB", "GET", "/api/v1/t/chuxiong/export", "", 404, "", secret},
				{"B reads A tenant record", "adminB", "GET", "/api/v1/tenants/chuxiong", "", 404, "", "532301"},
				{"B lists tenants", "adminB", "GET", "/api/v1/tenants", "", 200, "wuding", "532301"},
				{"B reads operator audit", "adminB", "GET", "/api/v1/audit", "", 403, "", secret},

				{"viewer reads A settings", "viewer", "GET", "/api/v1/t/chuxiong/settings", "", 200, secret, ""},
				{"viewer reads B members", "viewer", "GET", "/api/v1/t/wuding/members", "", 200, "adminb@", ""},
				{"viewer writes A setting", "viewer", "PUT", "/api/v1/t/chuxiong/settings/secret", `{"value":"x"}`, 403, "read-only", ""},
				{"viewer invites into A", "viewer", "POST", "/api/v1/t/chuxiong/invitations", `{"email":"x@y.cn","role":"inspector"}`, 403, "", ""},
				{"viewer sets A roles", "viewer", "PUT", "/api/v1/t/chuxiong/members/" + inspectorA, `{"roles":["tenant_admin"]}`, 403, "", ""},
				{"viewer exports A", "viewer", "GET", "/api/v1/t/chuxiong/export", "", 403, "", ""},
				{"viewer home is read-only", "viewer", "GET", "/api/v1/t/chuxiong/", "", 200, `"read_only":true`, ""},
				{"viewer home without the slash", "viewer", "GET", "/api/v1/t/chuxiong", "", 200, `"read_only":true`, ""},
				{"viewer lists counties", "viewer", "GET", "/api/v1/tenants", "", 200, "532301", ""},

				{"inspector cannot write settings", "inspectorA", "PUT", "/api/v1/t/chuxiong/settings/x", `{"value":"x"}`, 403, "tenant_admin", ""},
				{"inspector reads members", "inspectorA", "GET", "/api/v1/t/chuxiong/members", "", 200, "admina@", ""},

				{"support reads A read-only", "support", "GET", "/api/v1/t/chuxiong/settings", "", 200, secret, ""},
				{"support cannot write A", "support", "PUT", "/api/v1/t/chuxiong/settings/x", `{"value":"x"}`, 403, "", ""},
				{"support cannot create tenants", "support", "POST", "/api/v1/tenants", `{"slug":"yaoan","name_zh":"姚安县","kind":"county","admin_code":"532325","parent":"chuxiong-zhou"}`, 403, "", ""},
				{"admin cannot create tenants", "adminA", "POST", "/api/v1/tenants", `{"slug":"yaoan","name_zh":"姚安县","kind":"county","admin_code":"532325","parent":"chuxiong-zhou"}`, 403, "", ""},
				{"admin cannot suspend", "adminA", "POST", "/api/v1/tenants/chuxiong/suspend", ``, 403, "", ""},
			})
			// The value B tried to write never arrived.
			res, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/settings", "")
			if !strings.Contains(res.body, secret) || strings.Contains(res.body, "pwned") {
				t.Fatalf("A's settings after the attempts: %s", res.body)
			}
			// The viewer's cross-tenant reads were audited, and A's admin sees them.
			res, _ = f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/audit?action=tenant.cross_read", "")
			if res.status != 200 || !strings.Contains(res.body, "viewer@test.cn") {
				t.Fatalf("cross-tenant reads not audited: %d %s", res.status, res.body)
			}
			// A's audit does not show B's entries.
			if strings.Contains(res.body, "wuding") {
				t.Fatalf("A's audit shows B's entries: %s", res.body)
			}
		})
	}
}

func TestOperatorLifecycleAPI(t *testing.T) {
	f := newFixture(t, "sqlite")
	runScenarios(t, f, []scenario{
		{"create", "operator", "POST", "/api/v1/tenants", `{"slug":"yaoan","name_zh":"姚安县","name_en":"Yao'an","kind":"county","admin_code":"532325","parent":"chuxiong-zhou","first_admin_email":"boss@yaoan.cn"}`, 201, "first_admin_invitation_url", ""},
		{"create again is a conflict", "operator", "POST", "/api/v1/tenants", `{"slug":"yaoan","name_zh":"姚安县","kind":"county","admin_code":"532325","parent":"chuxiong-zhou"}`, 409, "already exists", ""},
		{"suspend", "operator", "POST", "/api/v1/tenants/yaoan/suspend", `{"reason":"test"}`, 200, `"suspended"`, ""},
		{"resume", "operator", "POST", "/api/v1/tenants/yaoan/resume", ``, 200, `"active"`, ""},
		{"resume twice", "operator", "POST", "/api/v1/tenants/yaoan/resume", ``, 409, "", ""},
		{"offboard without confirm", "operator", "POST", "/api/v1/tenants/yaoan/offboard", `{}`, 400, "confirm", ""},
		{"offboard", "operator", "POST", "/api/v1/tenants/yaoan/offboard", `{"confirm":"yaoan"}`, 200, "/api/v1/offboarding-archives/", ""},
		{"gone", "operator", "GET", "/api/v1/tenants/yaoan", "", 404, "", ""},
		{"audit", "operator", "GET", "/api/v1/audit?limit=50", "", 200, "tenant.offboard.done", ""},
		{"rotate key", "operator", "POST", "/api/v1/tenants/chuxiong/key/rotate", "", 200, `"latest_version":2`, ""},
		{"rotate again", "operator", "POST", "/api/v1/tenants/chuxiong/key/rotate", "", 200, `"min_decryption_version":3`, ""},
		{"support cannot rotate", "support", "POST", "/api/v1/tenants/chuxiong/key/rotate", "", 403, "", ""},
		{"tenant admin cannot rotate", "adminA", "POST", "/api/v1/tenants/chuxiong/key/rotate", "", 403, "", ""},
		{"rotate unknown", "operator", "POST", "/api/v1/tenants/nowhere/key/rotate", "", 404, "", ""},
	})
}

func TestSuspendedTenantKeepsReadAndExport(t *testing.T) {
	f := newFixture(t, "sqlite")
	runScenarios(t, f, []scenario{
		{"suspend", "operator", "POST", "/api/v1/tenants/chuxiong/suspend", ``, 200, "", ""},
		{"read", "adminA", "GET", "/api/v1/t/chuxiong/settings", "", 200, "A-SECRET-VALUE", ""},
		{"write refused", "adminA", "PUT", "/api/v1/t/chuxiong/settings/secret", `{"value":"x"}`, 403, "suspended", ""},
		{"export", "adminA", "GET", "/api/v1/t/chuxiong/export", "", 200, "", ""},
	})
}

func TestBadInputIsA4xxProblem(t *testing.T) {
	f := newFixture(t, "sqlite")
	big := `{"slug":"` + strings.Repeat("a", 70<<10) + `"}`
	runScenarios(t, f, []scenario{
		{"malformed json", "operator", "POST", "/api/v1/tenants", `{"slug":`, 400, "ends in the middle", ""},
		{"syntax error", "operator", "POST", "/api/v1/tenants", `{"slug" "x"}`, 400, "not valid JSON", ""},
		{"unknown field", "operator", "POST", "/api/v1/tenants", `{"slug":"x1","evil":1}`, 400, `"field":"evil"`, ""},
		{"wrong type", "operator", "POST", "/api/v1/tenants", `{"slug":42}`, 400, `"field":"slug"`, ""},
		{"array body", "operator", "POST", "/api/v1/tenants", `[1,2]`, 400, "JSON object", ""},
		{"two values", "operator", "POST", "/api/v1/tenants", `{} {}`, 400, "single JSON value", ""},
		{"empty body", "operator", "POST", "/api/v1/tenants", ``, 415, "", ""},
		{"sql slug", "operator", "POST", "/api/v1/tenants", `{"slug":"x'; drop table control.tenants;--","name_zh":"x","kind":"county","admin_code":"532322","parent":"chuxiong-zhou"}`, 400, `"field":"slug"`, ""},
		{"sql admin code", "operator", "POST", "/api/v1/tenants", `{"slug":"x1","name_zh":"x","kind":"county","admin_code":"53232'","parent":"chuxiong-zhou"}`, 400, `"field":"admin_code"`, ""},
		{"sql tenant in path", "adminA", "GET", "/api/v1/t/x';select%201;--/settings", "", 404, "", ""},
		{"unknown tenant", "adminA", "GET", "/api/v1/t/nowhere/settings", "", 404, "No tenant", ""},
		{"bad setting key", "adminA", "PUT", "/api/v1/t/chuxiong/settings/Bad%20Key", `{"value":"x"}`, 400, "setting key", ""},
		{"bad member id", "adminA", "PUT", "/api/v1/t/chuxiong/members/not-a-uuid", `{"roles":[]}`, 404, "", ""},
		{"bad role", "adminA", "POST", "/api/v1/t/chuxiong/invitations", `{"email":"a@b.cn","role":"god"}`, 400, `"field":"role"`, ""},
		{"bad audit cursor", "operator", "GET", "/api/v1/audit?before=abc", "", 400, "before", ""},
		{"bad token", "", "GET", "/api/v1/me", "", 401, "", ""},
		{"unknown route", "adminA", "GET", "/api/v1/nothing", "", 404, "", ""},
		{"wrong method", "adminA", "DELETE", "/api/v1/t/chuxiong/settings", "", 404, "", ""},
	})
	// An oversize body, through a real listener (fasthttp refuses it while reading).
	addr := f.listen(t)
	req0, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/tenants", strings.NewReader(big))
	req0.Header.Set("Content-Type", "application/json")
	req0.Header.Set("Authorization", "Bearer "+f.tokens["operator"])
	res0, err := http.DefaultClient.Do(req0)
	if err != nil {
		t.Fatal(err)
	}
	b0, _ := io.ReadAll(res0.Body)
	res0.Body.Close()
	if res0.StatusCode != 413 || res0.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(b0), "too large") {
		t.Fatalf("oversize body: %d %s %s", res0.StatusCode, res0.Header.Get("Content-Type"), b0)
	}
	// A wrong Authorization scheme is a clean 401.
	req := httptest.NewRequest("GET", "/api/v1/me", nil)
	req.Header.Set("Authorization", "Basic abc")
	res, _ := f.send(t, req)
	if res.status != 401 {
		t.Fatalf("basic auth: %d", res.status)
	}
	// Nothing was half created.
	res, _ = f.do(t, "operator", "GET", "/api/v1/tenants", "")
	if strings.Contains(res.body, `"x1"`) {
		t.Fatalf("a rejected tenant exists: %s", res.body)
	}
}

func TestSessionLoginAndCSRF(t *testing.T) {
	f := newFixture(t, "sqlite")
	res, _ := f.do(t, "", "POST", "/api/v1/auth/login", `{"email":"adminA@test.cn","password":"`+testPassword+`"}`)
	if res.status != 200 {
		t.Fatalf("login: %d %s", res.status, res.body)
	}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	json.Unmarshal([]byte(res.body), &login)
	cookie := strings.Split(res.header.Get("Set-Cookie"), ";")[0]
	if !strings.HasPrefix(cookie, sessionCookie+"=") || !strings.Contains(res.header.Get("Set-Cookie"), "HttpOnly") {
		t.Fatalf("session cookie: %q", res.header.Get("Set-Cookie"))
	}
	put := func(csrf string) int {
		req := httptest.NewRequest("PUT", "/api/v1/t/chuxiong/settings/theme", strings.NewReader(`{"value":"dark"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", cookie)
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		r, _ := f.send(t, req)
		return r.status
	}
	if got := put(""); got != 403 {
		t.Fatalf("cookie write without CSRF token: %d, want 403", got)
	}
	if got := put("0000"); got != 403 {
		t.Fatalf("cookie write with a wrong CSRF token: %d, want 403", got)
	}
	if got := put(login.CSRF); got != 200 {
		t.Fatalf("cookie write with the CSRF token: %d, want 200", got)
	}
	res, _ = f.do(t, "", "POST", "/api/v1/auth/login", `{"email":"adminA@test.cn","password":"wrong password"}`)
	if res.status != 401 {
		t.Fatalf("wrong password: %d", res.status)
	}
}

func TestInvitationFlowAPI(t *testing.T) {
	f := newFixture(t, "sqlite")
	res, _ := f.do(t, "adminA", "POST", "/api/v1/t/chuxiong/invitations", `{"email":"new@chuxiong.cn","name":"李四","role":"dispatcher"}`)
	if res.status != 201 {
		t.Fatalf("invite: %d %s", res.status, res.body)
	}
	var inv struct{ Token string }
	json.Unmarshal([]byte(res.body), &inv)
	res, _ = f.do(t, "", "POST", "/api/v1/invitations/accept", `{"token":"`+inv.Token+`","password":"dispatcher pw 1"}`)
	if res.status != 201 {
		t.Fatalf("accept: %d %s", res.status, res.body)
	}
	res, _ = f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/members", "")
	if !strings.Contains(res.body, "new@chuxiong.cn") || !strings.Contains(res.body, "dispatcher") {
		t.Fatalf("members: %s", res.body)
	}
	// The new member logs in through the web form and sees the tenant on /me.
	form := url.Values{"email": {"new@chuxiong.cn"}, "password": {"dispatcher pw 1"}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, _ = f.send(t, req)
	if res.status != 303 {
		t.Fatalf("web login: %d", res.status)
	}
	req = httptest.NewRequest("GET", "/me", nil)
	req.Header.Set("Cookie", strings.Split(res.header.Get("Set-Cookie"), ";")[0])
	res, _ = f.send(t, req)
	if res.status != 200 || !strings.Contains(res.body, "楚雄市") || !strings.Contains(res.body, "派遣员") {
		t.Fatalf("me page: %d %s", res.status, res.body)
	}
}

func TestOperationalEndpoints(t *testing.T) {
	f := newFixture(t, "sqlite")
	for path, want := range map[string]string{
		"/healthz": `"ok"`, "/readyz": `"ready"`, "/metrics": "cityops_http_requests_total",
		"/api/v1/openapi.json": `"openapi"`, "/static/app.css": "--accent",
	} {
		res, _ := f.do(t, "", "GET", path, "")
		if res.status != 200 || !strings.Contains(res.body, want) {
			t.Fatalf("%s: %d %.200s", path, res.status, res.body)
		}
	}
}

func TestJSONBodyLimitAndRequestID(t *testing.T) {
	f := fiber.New(fiber.Config{BodyLimit: 4 << 20, ErrorHandler: (&App{log: slog.New(slog.DiscardHandler)}).errorHandler})
	f.Use(requestID)
	f.Post("/", func(c *fiber.Ctx) error {
		var v map[string]any
		if err := decodeJSON(c, &v); err != nil {
			return err
		}
		return c.SendStatus(204)
	})
	req := httptest.NewRequest("POST", "/", strings.NewReader(`{"a":"`+strings.Repeat("x", maxJSONBody)+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", "chosen-by-client")
	res, err := f.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 413 || !strings.Contains(string(b), "KiB") {
		t.Fatalf("JSON over the limit: %d %s", res.StatusCode, b)
	}
	if rid := res.Header.Get("X-Request-ID"); rid == "" || rid == "chosen-by-client" || strings.Contains(string(b), "chosen-by-client") {
		t.Fatalf("request id taken from the client: %q", rid)
	}
}

func TestCredentialsAreWriteOnly(t *testing.T) {
	f := newFixture(t, "sqlite")
	const value = "sk-tianditu-0123456789abcdef"
	runScenarios(t, f, []scenario{
		{"admin sets", "adminA", "PUT", "/api/v1/t/chuxiong/credentials/tianditu", `{"value":"` + value + `"}`, 200, `"last4":"cdef"`, value},
		{"admin lists masked", "adminA", "GET", "/api/v1/t/chuxiong/credentials", "", 200, "tianditu", value},
		{"inspector cannot set", "inspectorA", "PUT", "/api/v1/t/chuxiong/credentials/sms", `{"value":"x12345678"}`, 403, "", ""},
		{"B lists A", "adminB", "GET", "/api/v1/t/chuxiong/credentials", "", 404, "", "tianditu"},
		{"B sets A", "adminB", "PUT", "/api/v1/t/chuxiong/credentials/tianditu", `{"value":"evil-value-1234"}`, 404, "", ""},
		{"B deletes A", "adminB", "DELETE", "/api/v1/t/chuxiong/credentials/tianditu", "", 404, "", ""},
		{"B has none", "adminB", "GET", "/api/v1/t/wuding/credentials", "", 200, "[]", "tianditu"},
		{"viewer lists masked", "viewer", "GET", "/api/v1/t/chuxiong/credentials", "", 200, "tianditu", value},
		{"viewer cannot set", "viewer", "PUT", "/api/v1/t/chuxiong/credentials/tianditu", `{"value":"viewer-value-1"}`, 403, "", ""},
		{"viewer cannot delete", "viewer", "DELETE", "/api/v1/t/chuxiong/credentials/tianditu", "", 403, "", ""},
		{"bad name", "adminA", "PUT", "/api/v1/t/chuxiong/credentials/..%2Fx", `{"value":"abcdefgh1"}`, 400, "", ""},
		{"delete", "adminA", "DELETE", "/api/v1/t/chuxiong/credentials/tianditu", "", 204, "", ""},
		{"deleted", "adminA", "DELETE", "/api/v1/t/chuxiong/credentials/tianditu", "", 404, "", ""},
	})
	res, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/audit?action=credential.put", "")
	if !strings.Contains(res.body, "tianditu") || strings.Contains(res.body, value) {
		t.Fatalf("audit of credential.put: %s", res.body)
	}
}

// TestClientGoneMidRequest: a client that resets its connection halfway through a request body
// makes fasthttp's read fail before any route runs; the error handler must answer (to nobody)
// without touching route parameters, and the server must go on serving.
func TestClientGoneMidRequest(t *testing.T) {
	f := newFixture(t, "sqlite")
	addr := f.listen(t)
	for range 3 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /api/v1/t/chuxiong/cases HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"kind\":", addr)
		time.Sleep(20 * time.Millisecond)
		conn.(*net.TCPConn).SetLinger(0) // close with a reset: the server's read fails on the network
		conn.Close()
	}
	time.Sleep(100 * time.Millisecond)
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("the server stopped serving after clients went away: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("healthz: %d", res.StatusCode)
	}
}
