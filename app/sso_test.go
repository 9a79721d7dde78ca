package app

// Single sign-on against a real OpenID provider (internal/oidctest: zitadel/oidc's op package on a
// loopback port), driven by an HTTP client that follows redirects and keeps cookies as a browser
// does, through the app served on a loopback port.

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/internal/oidctest"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

func init() {
	p := &tenants.SSOProvider{ID: uuid.New(), Key: "corp", DisplayName: "州政务统一身份认证 <b>", Issuer: "https://sso.example.gov.cn",
		ClientID: "cityops", Scopes: "openid email profile", Claim: "employee_number", Enabled: false, UpdatedAt: sampleNow}
	samplePage("logout", fiber.Map{}, fiber.Map{"To": "https://sso.example.gov.cn/logout?id_token_hint=a.b.c&post_logout_redirect_uri=https%3A%2F%2Fcityops.example%2Flogin"})
	samplePage("sso_admin", fiber.Map{"Base": "/ops/sso", "Ops": true, "PostLogout": "https://cityops.example/login", "Skew": "2m0s"},
		fiber.Map{"Base": "/t/chuxiong/admin/sso", "PostLogout": "https://cityops.example/login", "Skew": "2m0s",
			"LoginURL": "https://cityops.example/login?unit=chuxiong", "Error": "<script>x</script>",
			"Form":      tenants.SSOProviderInput{Key: "corp", DisplayName: "x"},
			"Providers": []console.SSOProviderRow{{P: p, RedirectURI: "https://cityops.example/sso/t/chuxiong/corp/callback", Links: []*tenants.SSOLink{{Value: "10023", Email: "a@b.cn"}}}},
			"Policy":    &tenants.LoginPolicy{PasswordsOff: true, JITAccounts: true},
			"Requests":  []*tenants.SSORequest{{ID: uuid.New(), Email: "new@b.cn", Name: "李四", Value: "new@b.cn", Provider: "州政务", RequestedAt: sampleNow}},
			"Roles":     []tenants.Role{tenants.Inspector, tenants.Viewer}})
}

// ssoFixture is the app served on a loopback port with CITYOPS_BASE_URL its address, the
// tenants chuxiong (A) and wuding (B), and an OpenID provider that knows the app as client
// "cityops".
type ssoFixture struct {
	*fixture
	base string
	op   *oidctest.Provider
	a, b *tenants.Tenant
	// ahead is how far the app's clock runs ahead of the provider's (negative: behind).
	ahead *atomic.Int64
}

const ssoSecret = "client secret of cityops at the provider"

func newSSOFixture(t *testing.T, dialect string) *ssoFixture {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", BaseURL: base, LogFormat: "json", LogLevel: "error", MigrateWorkers: 2,
		BodyLimit: 64 << 10, MaxOpenTenants: 8, PDFFont: testPDFFont, SSOClockSkew: 2 * time.Minute}
	if dialect == "postgres" {
		pg := testdb.Postgres(t)
		cfg.DatabaseURL, cfg.RolePrefix = pg.DSN, pg.RolePrefix
	}
	ctx := context.Background()
	ahead := new(atomic.Int64)
	a, err := New(ctx, cfg, Options{Logger: slog.New(slog.DiscardHandler), Passwords: tenants.PasswordParams{Memory: 64, Time: 1, Threads: 1},
		Now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if _, err := a.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	provision := func(nt tenants.NewTenant) *tenants.Tenant {
		p, err := a.prov.Provision(ctx, nt)
		if err != nil {
			t.Fatal(err)
		}
		return p.Tenant
	}
	pref := provision(tenants.NewTenant{Slug: "chuxiong-zhou", NameZH: "楚雄州", Kind: tenants.Prefecture, AdminCode: "532300"})
	f := &ssoFixture{fixture: &fixture{app: a, tokens: map[string]string{}, ids: map[string]string{}}, base: base, ahead: ahead,
		a: provision(tenants.NewTenant{Slug: "chuxiong", NameZH: "楚雄市", Kind: tenants.City, AdminCode: "532301", ParentSlug: "chuxiong-zhou"}),
		b: provision(tenants.NewTenant{Slug: "wuding", NameZH: "武定县", Kind: tenants.County, AdminCode: "532329", ParentSlug: "chuxiong-zhou"})}
	for _, acc := range []struct {
		who  string
		op   tenants.Role
		t    *tenants.Tenant
		role tenants.Role
	}{{"operator", tenants.OperatorAdmin, nil, ""}, {"adminA", "", f.a, tenants.TenantAdmin}, {"inspectorA", "", f.a, tenants.Inspector},
		{"adminB", "", f.b, tenants.TenantAdmin}, {"adminP", "", pref, tenants.TenantAdmin}, {"viewerP", "", pref, tenants.PrefectureViewer}} {
		f.tokens[acc.who], f.ids[acc.who] = mustAccount(t, a.store, acc.who+"@test.cn", acc.op, acc.t, acc.role)
	}
	go a.fiber.Listener(lingering(ln, new(tasks.Group)))
	t.Cleanup(func() { a.fiber.Shutdown() })

	f.op = oidctest.Start(t)
	f.op.AddClient(oidctest.Client{ID: "cityops", Secret: ssoSecret,
		RedirectURIs: []string{base + "/sso/t/chuxiong/corp/callback", base + "/sso/t/wuding/corp/callback", base + "/sso/ops/corp/callback",
			base + "/sso/t/chuxiong-zhou/corp/callback"},
		PostLogoutRedirectURIs: []string{base + "/login"}})
	f.op.AddUser(oidctest.User{Subject: "u-insp", Email: "inspectorA@test.cn", EmailVerified: true, Name: "监督员甲"})
	f.op.AddUser(oidctest.User{Subject: "u-adminb", Email: "adminB@test.cn", EmailVerified: true})
	f.op.AddUser(oidctest.User{Subject: "u-op", Email: "operator@test.cn", EmailVerified: true})
	f.op.AddUser(oidctest.User{Subject: "u-new", Email: "newcomer@chuxiong.gov.cn", EmailVerified: true, Name: "新同事"})
	f.op.AddUser(oidctest.User{Subject: "u-pref", Email: "someone@pref.gov.cn", Claims: map[string]any{"employee_number": 10023}})
	// The unit's provider, set up through the API as docs/identity.md says.
	f.mustAPI(t, "adminA", "PUT", "/api/v1/t/chuxiong/sso/providers/corp",
		`{"display_name":"楚雄州统一身份认证","issuer":"`+f.op.Issuer+`","client_id":"cityops","client_secret":"`+ssoSecret+`","claim":"email"}`, 201)
	return f
}

// mustAPI sends an API request as who and fails unless the status is want; it returns the body.
func (f *ssoFixture) mustAPI(t *testing.T, who, method, path, body string, want int) string {
	t.Helper()
	res, err := f.do(t, who, method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	if res.status != want {
		t.Fatalf("%s %s as %s: got %d, want %d\n%s", method, path, who, res.status, want, res.body)
	}
	return res.body
}

// browser is an HTTP client with a cookie jar that follows redirects, as a browser does.
func (f *ssoFixture) browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

type ssoPage struct {
	status int
	url    *url.URL
	body   string
}

func get(t *testing.T, c *http.Client, u string) ssoPage {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return ssoPage{res.StatusCode, res.Request.URL, string(b)}
}

// signIn signs in as subject at the provider through the unit's (or, with slug "", the
// operator's) login button and returns the page the browser ends on.
func (f *ssoFixture) signIn(t *testing.T, c *http.Client, slug, subject string) ssoPage {
	t.Helper()
	f.op.SignInAs(subject)
	start := "/sso/ops/corp/start"
	if slug != "" {
		start = "/sso/t/" + slug + "/corp/start"
	}
	return get(t, c, f.base+start)
}

// me is who the browser's session is (the email), or "" when it has none.
func (f *ssoFixture) me(t *testing.T, c *http.Client) string {
	t.Helper()
	p := get(t, c, f.base+"/api/v1/me")
	if p.status != 200 {
		return ""
	}
	var me api.MeResponse
	if err := json.Unmarshal([]byte(p.body), &me); err != nil {
		t.Fatal(err)
	}
	return me.Identity.Email
}

func (f *ssoFixture) audited(t *testing.T, action string) []*tenants.AuditEntry {
	t.Helper()
	es, err := f.app.store.FindAudit(context.Background(), tenants.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// refused checks that the sign-in ended on the login page with status want and the message.
func refused(t *testing.T, p ssoPage, want int, message string) {
	t.Helper()
	if p.status != want || !strings.Contains(p.body, message) || !strings.Contains(p.body, `action="/login"`) {
		t.Fatalf("got %d at %s, want %d with %q\n%s", p.status, p.url, want, message, p.body)
	}
}

// TestSSOLogin: the whole single sign-on, on both dialects, against the real provider.
func TestSSOLogin(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newSSOFixture(t, dialect)
			ctx := context.Background()

			// The login page of the unit offers its provider.
			c := f.browser(t)
			p := get(t, c, f.base+"/login?next=/t/chuxiong/inbox")
			if p.status != 200 || !strings.Contains(p.body, "使用 楚雄州统一身份认证 登录") ||
				!strings.Contains(p.body, `href="/sso/t/chuxiong/corp/start?next=%2Ft%2Fchuxiong%2Finbox"`) {
				t.Fatalf("login page: %d\n%s", p.status, p.body)
			}
			if p := get(t, c, f.base+"/login?unit=wuding"); strings.Contains(p.body, "使用 ") {
				t.Fatalf("wuding has no provider, yet its login page offers one:\n%s", p.body)
			}

			// A full login: to the provider and back, onto the inspector's inbox.
			p = f.signIn(t, c, "chuxiong", "u-insp")
			if p.status != 200 || p.url.Path != "/t/chuxiong/inbox" {
				t.Fatalf("sign-in ends at %d %s\n%s", p.status, p.url, p.body)
			}
			if got := f.me(t, c); got != "inspectora@test.cn" {
				t.Fatalf("signed in as %q", got)
			}
			if es := f.audited(t, "sso.login"); len(es) != 1 || es[0].TenantID == nil || *es[0].TenantID != f.a.ID || !strings.Contains(es[0].Detail, `"provider":"corp"`) {
				t.Fatalf("sso.login audit: %+v", es)
			}

			t.Run("logout ends the session here and at the provider", func(t *testing.T) {
				u, _ := url.Parse(f.base)
				var tok string
				for _, ck := range c.Jar.Cookies(u) {
					if ck.Name == api.SessionCookie {
						tok = ck.Value
					}
				}
				res, err := c.PostForm(f.base+"/logout", url.Values{"_csrf": {api.CSRFToken(tok)}})
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				// A page that moves on to the provider's end_session_endpoint by itself.
				m := regexp.MustCompile(`<meta http-equiv="refresh" content="0;url=([^"]+)">`).FindStringSubmatch(string(b))
				if res.StatusCode != 200 || m == nil || !strings.HasPrefix(html.UnescapeString(m[1]), f.op.Issuer+"/") ||
					!strings.Contains(m[1], "id_token_hint=") || !strings.Contains(m[1], "post_logout_redirect_uri=") {
					t.Fatalf("logout: %d\n%s", res.StatusCode, b)
				}
				if got := f.me(t, c); got != "" {
					t.Fatalf("still signed in as %s after logout", got)
				}
				p := get(t, c, html.UnescapeString(m[1]))
				if p.status != 200 || p.url.Path != "/login" || p.url.Host != u.Host {
					t.Fatalf("the provider's logout ends at %d %s", p.status, p.url)
				}
				if ls := f.op.Logouts(); len(ls) != 1 || ls[0].Subject != "u-insp" || ls[0].ClientID != "cityops" {
					t.Fatalf("the provider's logouts: %+v", ls)
				}
				if got := f.me(t, c); got != "" {
					t.Fatalf("still signed in as %s after logout", got)
				}
			})

			t.Run("key rotation", func(t *testing.T) {
				c := f.browser(t)
				if p := f.signIn(t, c, "chuxiong", "u-insp"); p.status != 200 {
					t.Fatalf("before the rotation: %d", p.status)
				}
				old := f.op.KeyID()
				f.op.RotateKey()
				if f.op.KeyID() == old {
					t.Fatal("the key did not change")
				}
				c = f.browser(t)
				if p := f.signIn(t, c, "chuxiong", "u-insp"); p.status != 200 || p.url.Path != "/t/chuxiong/inbox" {
					t.Fatalf("after the rotation: %d %s\n%s", p.status, p.url, p.body)
				}
			})

			t.Run("token checks", func(t *testing.T) {
				t.Cleanup(func() { f.op.MutateIDTokens(nil) })
				now := func() float64 { return float64(time.Now().Unix()) }
				for _, tc := range []struct {
					name   string
					mutate func(map[string]any)
					ok     bool
					msg    string
				}{
					{"wrong audience", func(m map[string]any) {
						m["aud"], m["azp"], m["client_id"] = []string{"other-app"}, "other-app", "other-app"
					}, false, "签发给其他应用"},
					{"wrong audience among several", func(m map[string]any) { m["aud"], m["azp"] = []string{"other-app", "cityops"}, "other-app" }, false, "签发给其他应用"},
					{"expired", func(m map[string]any) { m["exp"] = now() - 600 }, false, "已过期"},
					{"expired within the clock-skew allowance", func(m map[string]any) { m["exp"] = now() - 60 }, true, ""},
					{"issued ahead within the allowance", func(m map[string]any) { m["iat"] = now() + 60 }, true, ""},
					{"issued ahead beyond the allowance", func(m map[string]any) { m["iat"], m["exp"] = now()+300, now()+900 }, false, "签发时间晚于当前时间"},
					{"another issuer", func(m map[string]any) { m["iss"] = "https://evil.example" }, false, "签发者不符"},
					{"another nonce", func(m map[string]any) { m["nonce"] = "replayed" }, false, "nonce 不符"},
					{"unverified email", func(m map[string]any) { m["email_verified"] = false }, false, "尚未验证"},
				} {
					f.op.MutateIDTokens(tc.mutate)
					c := f.browser(t)
					p := f.signIn(t, c, "chuxiong", "u-insp")
					if tc.ok {
						if p.status != 200 || p.url.Path != "/t/chuxiong/inbox" {
							t.Fatalf("%s: %d %s\n%s", tc.name, p.status, p.url, p.body)
						}
						continue
					}
					refused(t, p, 403, tc.msg)
					if got := f.me(t, c); got != "" {
						t.Fatalf("%s: signed in as %s", tc.name, got)
					}
				}
			})

			t.Run("the clocks of the provider and the app differ", func(t *testing.T) {
				t.Cleanup(func() { f.ahead.Store(0) })
				// The provider's ID tokens live 5 minutes; the allowance is 2.
				for _, tc := range []struct {
					ahead time.Duration
					ok    bool
					msg   string
				}{{6 * time.Minute, true, ""}, {8 * time.Minute, false, "已过期"}, {-time.Minute, true, ""}, {-3 * time.Minute, false, "签发时间晚于当前时间"}} {
					f.ahead.Store(int64(tc.ahead))
					p := f.signIn(t, f.browser(t), "chuxiong", "u-insp")
					if tc.ok && (p.status != 200 || p.url.Path != "/t/chuxiong/inbox") {
						t.Fatalf("our clock %s ahead: %d %s\n%s", tc.ahead, p.status, p.url, p.body)
					}
					if !tc.ok {
						refused(t, p, 403, tc.msg)
					}
				}
			})

			t.Run("the prefecture's provider, by employee number", func(t *testing.T) {
				f.mustAPI(t, "adminP", "PUT", "/api/v1/t/chuxiong-zhou/sso/providers/corp",
					`{"display_name":"州统一身份认证","issuer":"`+f.op.Issuer+`","client_id":"cityops","client_secret":"`+ssoSecret+`","claim":"employee_number","scopes":"openid profile"}`, 201)
				c := f.browser(t)
				refused(t, f.signIn(t, c, "chuxiong-zhou", "u-pref"), 403, "楚雄州没有您的账号")
				f.mustAPI(t, "adminA", "POST", "/api/v1/t/chuxiong/sso/providers/corp/links", `{"value":"10023","identity_id":"`+f.ids["viewerP"]+`"}`, 400)
				f.mustAPI(t, "adminP", "POST", "/api/v1/t/chuxiong-zhou/sso/providers/corp/links", `{"value":"10023","identity_id":"`+f.ids["adminA"]+`"}`, 400)
				f.mustAPI(t, "adminP", "POST", "/api/v1/t/chuxiong-zhou/sso/providers/corp/links", `{"value":"10023","identity_id":"`+f.ids["viewerP"]+`"}`, 200)
				if p := f.signIn(t, c, "chuxiong-zhou", "u-pref"); p.status != 200 || p.url.Path != "/t/chuxiong-zhou/overview" {
					t.Fatalf("prefecture viewer: %d %s\n%s", p.status, p.url, p.body)
				}
				if got := f.me(t, c); got != "viewerp@test.cn" {
					t.Fatalf("signed in as %q", got)
				}
				// The prefecture reads its counties, read-only.
				if p := get(t, c, f.base+"/api/v1/t/chuxiong"); p.status != 200 {
					t.Fatalf("a county through the prefecture's provider: %d", p.status)
				}
				u, _ := url.Parse(f.base)
				var tok string
				for _, ck := range c.Jar.Cookies(u) {
					if ck.Name == api.SessionCookie {
						tok = ck.Value
					}
				}
				req, _ := http.NewRequest("PUT", f.base+"/api/v1/t/chuxiong/settings/x", strings.NewReader(`{"value":"y"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-CSRF-Token", api.CSRFToken(tok))
				res, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 403 {
					t.Fatalf("a prefecture viewer writes to a county: %d", res.StatusCode)
				}
			})

			t.Run("cross-tenant", func(t *testing.T) {
				// Someone of B only, vouched for by A's provider, is not let into A (nor B).
				c := f.browser(t)
				refused(t, f.signIn(t, c, "chuxiong", "u-adminb"), 403, "楚雄市没有您的账号")
				// A sign-in started at A's provider cannot be finished at B's redirect URI.
				f.mustAPI(t, "adminB", "PUT", "/api/v1/t/wuding/sso/providers/corp",
					`{"display_name":"武定","issuer":"`+f.op.Issuer+`","client_id":"cityops","client_secret":"`+ssoSecret+`"}`, 201)
				c = f.browser(t)
				c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
					if strings.HasPrefix(req.URL.Path, "/sso/") {
						return http.ErrUseLastResponse
					}
					return nil
				}
				f.op.SignInAs("u-insp")
				res, err := c.Get(f.base + "/sso/t/chuxiong/corp/start")
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				back, _ := url.Parse(res.Header.Get("Location"))
				if back == nil || back.Path != "/sso/t/chuxiong/corp/callback" {
					t.Fatalf("the provider sends back to %q", res.Header.Get("Location"))
				}
				back.Path = "/sso/t/wuding/corp/callback"
				c.CheckRedirect = nil
				refused(t, get(t, c, back.String()), 400, "state 不一致")
				// A member of both units signed in through A's provider has A's roles only, and
				// an operator signed in through a unit's provider is no operator.
				if err := f.app.store.Grant(ctx, f.b, uuid.MustParse(f.ids["inspectorA"]), tenants.Inspector); err != nil {
					t.Fatal(err)
				}
				c = f.browser(t)
				if p := f.signIn(t, c, "chuxiong", "u-insp"); p.status != 200 {
					t.Fatalf("member of both: %d", p.status)
				}
				if p := get(t, c, f.base+"/api/v1/t/chuxiong"); p.status != 200 {
					t.Fatalf("A through A's provider: %d", p.status)
				}
				if p := get(t, c, f.base+"/api/v1/t/wuding"); p.status != 404 {
					t.Fatalf("B through A's provider: %d %s", p.status, p.body)
				}
				if err := f.app.store.Grant(ctx, f.a, uuid.MustParse(f.ids["operator"]), tenants.Viewer); err != nil {
					t.Fatal(err)
				}
				c = f.browser(t)
				if p := f.signIn(t, c, "chuxiong", "u-op"); p.status != 200 {
					t.Fatalf("operator through A's provider: %d", p.status)
				}
				if p := get(t, c, f.base+"/api/v1/tenants"); p.status != 200 || strings.Contains(p.body, "wuding") {
					t.Fatalf("an operator through A's provider sees: %d %s", p.status, p.body)
				}
			})

			t.Run("operator's provider", func(t *testing.T) {
				f.mustAPI(t, "operator", "PUT", "/api/v1/sso/providers/corp",
					`{"display_name":"运营方身份认证","issuer":"`+f.op.Issuer+`","client_id":"cityops","client_secret":"`+ssoSecret+`"}`, 201)
				f.mustAPI(t, "adminA", "GET", "/api/v1/sso/providers", "", 403)
				c := f.browser(t)
				if p := get(t, c, f.base+"/login?next=/ops"); !strings.Contains(p.body, "使用 运营方身份认证 登录") {
					t.Fatalf("the operator's login page:\n%s", p.body)
				}
				if p := f.signIn(t, c, "", "u-op"); p.status != 200 || p.url.Path != "/ops" {
					t.Fatalf("operator: %d %s", p.status, p.url)
				}
				refused(t, f.signIn(t, f.browser(t), "", "u-insp"), 403, "不是本平台运营方的工作人员")
			})

			t.Run("removed member", func(t *testing.T) {
				c := f.browser(t)
				if p := f.signIn(t, c, "chuxiong", "u-insp"); p.status != 200 {
					t.Fatalf("before: %d", p.status)
				}
				if err := f.app.store.SetMemberRoles(ctx, f.a, uuid.MustParse(f.ids["inspectorA"]), nil); err != nil {
					t.Fatal(err)
				}
				if p := get(t, c, f.base+"/api/v1/t/chuxiong"); p.status != 404 {
					t.Fatalf("the removed member's open session reaches A: %d", p.status)
				}
				refused(t, f.signIn(t, f.browser(t), "chuxiong", "u-insp"), 403, "楚雄市没有您的账号")
				if es := f.audited(t, "sso.refused"); len(es) == 0 || !strings.Contains(es[0].Detail, `"reason":"unknown"`) {
					t.Fatalf("sso.refused audit: %+v", es)
				}
			})

			t.Run("just-in-time account waits for approval", func(t *testing.T) {
				c := f.browser(t)
				refused(t, f.signIn(t, c, "chuxiong", "u-new"), 403, "楚雄市没有您的账号")
				f.mustAPI(t, "adminA", "PUT", "/api/v1/t/chuxiong/sso/policy", `{"jit_accounts":true}`, 200)
				refused(t, f.signIn(t, c, "chuxiong", "u-new"), 403, "已为您向楚雄市申请账号")
				refused(t, f.signIn(t, c, "chuxiong", "u-new"), 403, "正在等待管理员批准")
				if got := f.me(t, c); got != "" {
					t.Fatalf("a waiting account has a session: %s", got)
				}
				id, err := f.app.store.FindIdentityByEmail(ctx, "newcomer@chuxiong.gov.cn")
				if err != nil || id.Status != "disabled" {
					t.Fatalf("the waiting identity: %+v %v", id, err)
				}
				if _, _, err := f.app.store.Login(ctx, id.Email, "", "", "127.0.0.1"); err == nil {
					t.Fatal("the waiting identity logs in without a password")
				}
				var reqs []tenants.SSORequest
				if err := json.Unmarshal([]byte(f.mustAPI(t, "adminA", "GET", "/api/v1/t/chuxiong/sso/requests", "", 200)), &reqs); err != nil || len(reqs) != 1 {
					t.Fatalf("requests: %v %+v", err, reqs)
				}
				f.mustAPI(t, "adminB", "GET", "/api/v1/t/chuxiong/sso/requests", "", 404)
				f.mustAPI(t, "adminB", "POST", "/api/v1/t/wuding/sso/requests/"+reqs[0].ID.String()+"/approve", `{"roles":["tenant_admin"]}`, 404)
				f.mustAPI(t, "adminA", "POST", "/api/v1/t/chuxiong/sso/requests/"+reqs[0].ID.String()+"/approve", `{"roles":[]}`, 400)
				f.mustAPI(t, "adminA", "POST", "/api/v1/t/chuxiong/sso/requests/"+reqs[0].ID.String()+"/approve", `{"roles":["inspector"]}`, 200)
				if p := f.signIn(t, c, "chuxiong", "u-new"); p.status != 200 || p.url.Path != "/t/chuxiong/inbox" {
					t.Fatalf("after approval: %d %s\n%s", p.status, p.url, p.body)
				}
			})

			t.Run("passwords off", func(t *testing.T) {
				f.mustAPI(t, "adminB", "DELETE", "/api/v1/t/wuding/sso/providers/corp", "", 204)
				f.mustAPI(t, "adminB", "PUT", "/api/v1/t/wuding/sso/policy", `{"passwords_off":true}`, 400)
				f.mustAPI(t, "adminA", "PUT", "/api/v1/t/chuxiong/sso/policy", `{"passwords_off":true}`, 200)
				f.mustAPI(t, "adminA", "DELETE", "/api/v1/t/chuxiong/sso/providers/corp", "", 409)
				res := f.postForm(t, "/login", url.Values{"email": {"adminA@test.cn"}, "password": {testPassword}})
				if res.status != 403 || !strings.Contains(res.body, "楚雄市 已关闭密码登录") || !strings.Contains(res.body, "使用 楚雄州统一身份认证 登录") {
					t.Fatalf("password login with passwords off: %d\n%s", res.status, res.body)
				}
				if res, _ := f.do(t, "", "POST", "/api/v1/auth/login", `{"email":"adminA@test.cn","password":"`+testPassword+`"}`); res.status != 403 {
					t.Fatalf("API password login with passwords off: %d %s", res.status, res.body)
				}
				// The operator's break-glass account, and members of other units, keep passwords.
				for _, who := range []string{"operator", "adminB"} {
					if res := f.postForm(t, "/login", url.Values{"email": {who + "@test.cn"}, "password": {testPassword}}); res.status != 303 {
						t.Fatalf("%s with a password: %d", who, res.status)
					}
				}
				// Break-glass: the operator switches the unit's passwords back on.
				f.mustAPI(t, "adminA", "PUT", "/api/v1/tenants/chuxiong/sso/policy", `{"passwords_off":false}`, 403)
				f.mustAPI(t, "operator", "PUT", "/api/v1/tenants/chuxiong/sso/policy", `{"passwords_off":false,"jit_accounts":true}`, 200)
				if res := f.postForm(t, "/login", url.Values{"email": {"adminA@test.cn"}, "password": {testPassword}}); res.status != 303 {
					t.Fatalf("password login after the operator switched passwords on: %d", res.status)
				}
			})

			t.Run("bad input at the callback", func(t *testing.T) {
				cb := f.base + "/sso/t/chuxiong/corp/callback"
				for _, tc := range []struct {
					name, query string
					status      int
				}{
					{"no flow, no state", "", 400},
					{"no flow", "?state=x&code=y", 400},
					{"NUL bytes", "?state=%00&code=%00%00", 400},
					{"control characters", "?code=%01", 400},
				} {
					if p := get(t, f.browser(t), cb+tc.query); p.status != tc.status {
						t.Fatalf("%s: %d\n%s", tc.name, p.status, p.body)
					}
				}
				if p := get(t, f.browser(t), f.base+"/sso/t/chuxiong/nope/callback"); p.status != 404 {
					t.Fatalf("unknown provider: %d", p.status)
				}
				if p := get(t, f.browser(t), f.base+"/sso/t/nowhere/corp/start"); p.status != 404 {
					t.Fatalf("unknown unit: %d", p.status)
				}
				// A flow of this browser, answered with a forged state, a garbage code, an error.
				stopAtCallback := func(c *http.Client) *url.URL {
					c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
						if strings.HasPrefix(req.URL.Path, "/sso/") {
							return http.ErrUseLastResponse
						}
						return nil
					}
					f.op.SignInAs("u-insp")
					res, err := c.Get(f.base + "/sso/t/chuxiong/corp/start")
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					c.CheckRedirect = nil
					u, err := url.Parse(res.Header.Get("Location"))
					if err != nil {
						t.Fatal(err)
					}
					return u
				}
				for _, tc := range []struct {
					name   string
					change func(q url.Values)
					status int
					msg    string
				}{
					{"forged state", func(q url.Values) { q.Set("state", "forged") }, 400, "state 不一致"},
					{"garbage code", func(q url.Values) { q.Set("code", "garbage\u4e2d") }, 403, "未接受登录授权码"},
					{"no code", func(q url.Values) { q.Del("code") }, 400, "没有授权码"},
					{"provider error", func(q url.Values) { q.Del("code"); q.Set("error", "access_denied") }, 403, "未完成登录"},
				} {
					c := f.browser(t)
					genuine := stopAtCallback(c)
					u := *genuine
					q := u.Query()
					tc.change(q)
					u.RawQuery = q.Encode()
					refused(t, get(t, c, u.String()), tc.status, tc.msg)
					// The flow was used up: the genuine answer no longer works either.
					if p := get(t, c, genuine.String()); p.status != 400 {
						t.Fatalf("%s, then again: %d", tc.name, p.status)
					}
				}
				if p := get(t, f.browser(t), f.base+"/sso/t/chuxiong/corp/start?next=%00"); p.status != 400 {
					t.Fatalf("NUL in next: %d", p.status)
				}
			})

			t.Run("settings page and API input", func(t *testing.T) {
				cookie, _ := webLogin(t, f.fixture, "adminA")
				res := webPage(t, f.fixture, cookie, "", "GET", "/t/chuxiong/admin/sso", nil)
				if res.status != 200 || !strings.Contains(res.body, f.base+"/sso/t/chuxiong/corp/callback") || strings.Contains(res.body, ssoSecret) {
					t.Fatalf("settings page: %d\n%s", res.status, res.body)
				}
				for _, body := range []string{
					`{"display_name":"x","issuer":"http://evil.example","client_id":"c","client_secret":"s"}`,
					`{"display_name":"x","issuer":"ftp://x","client_id":"c","client_secret":"s"}`,
					`{"display_name":"","issuer":"https://x.example","client_id":"c","client_secret":"s"}`,
					`{"display_name":"x","issuer":"https://x.example","client_id":"c"}`,
					`{"display_name":"x","issuer":"https://x.example","client_id":"c d","client_secret":"s"}`,
					`{"display_name":"x","issuer":"https://x.example","client_id":"c","client_secret":"s","claim":"a b"}`,
				} {
					f.mustAPI(t, "adminA", "PUT", "/api/v1/t/chuxiong/sso/providers/other", body, 400)
				}
				f.mustAPI(t, "adminA", "PUT", "/api/v1/t/chuxiong/sso/providers/Bad_Key", `{"display_name":"x","issuer":"https://x.example","client_id":"c","client_secret":"s"}`, 400)
				if err := f.app.store.Grant(context.Background(), f.a, uuid.MustParse(f.ids["inspectorA"]), tenants.Inspector); err != nil {
					t.Fatal(err)
				}
				f.mustAPI(t, "inspectorA", "GET", "/api/v1/t/chuxiong/sso/providers", "", 403)
				f.mustAPI(t, "adminB", "GET", "/api/v1/t/chuxiong/sso/providers", "", 404)
				body := f.mustAPI(t, "adminA", "GET", "/api/v1/t/chuxiong/sso/providers", "", 200)
				if !strings.Contains(body, `"client_secret_set":true`) || strings.Contains(body, ssoSecret) {
					t.Fatalf("providers: %s", body)
				}
			})
		})
	}
}

// TestBrowserSSO: a person signs in through the unit's button in a real Chromium — to the
// provider and back onto their inbox — and signs out, at the provider too, back on the login page;
// the unit admin's settings page shows the provider and its redirect URI.
func TestBrowserSSO(t *testing.T) {
	f := newSSOFixture(t, "sqlite")
	b := newBrowser(t, strings.TrimPrefix(f.base, "http://"))
	s := b.user("inspector")
	f.op.SignInAs("u-insp")
	s.visit("/t/chuxiong/inbox")
	s.waitLocation("/login")
	if got := s.text(".sso-buttons"); !strings.Contains(got, "使用 楚雄州统一身份认证 登录") {
		t.Fatalf("the login page's buttons: %q", got)
	}
	s.shot("login")
	s.click(".sso-buttons a")
	s.waitLocation("/t/chuxiong/inbox")
	s.shot("inbox")
	s.click(`form[action="/logout"] button`)
	s.waitLocation("/login")
	if ls := f.op.Logouts(); len(ls) != 1 || ls[0].Subject != "u-insp" {
		t.Fatalf("the provider's logouts: %+v", ls)
	}
	s.visit("/t/chuxiong/inbox")
	s.waitLocation("/login")

	admin := b.user("adminA")
	admin.login("adminA@test.cn", testPassword)
	admin.visit("/t/chuxiong/admin/sso")
	if got := admin.text("main"); !strings.Contains(got, f.base+"/sso/t/chuxiong/corp/callback") || !strings.Contains(got, "楚雄州统一身份认证") {
		t.Fatalf("the settings page: %q", got)
	}
	admin.shot("settings")
}

// TestSSOSettingsForms: the settings pages' forms, for the unit's admin and the operator, with
// their refusals on the page; other units' admins and other roles are kept out.
func TestSSOSettingsForms(t *testing.T) {
	f := newSSOFixture(t, "sqlite")
	ctx := context.Background()
	cookie, csrf := webLogin(t, f.fixture, "adminA")
	post := func(path string, form url.Values) *response {
		t.Helper()
		return webPage(t, f.fixture, cookie, csrf, "POST", path, form)
	}
	const base = "/t/chuxiong/admin/sso"
	provider := url.Values{"key": {"yn"}, "display_name": {"云南政务服务"}, "issuer": {f.op.Issuer}, "client_id": {"cityops"},
		"client_secret": {ssoSecret}, "claim": {"phone_number"}, "enabled": {"1"}}
	if res := post(base+"/providers", provider); res.status != 303 || !strings.Contains(res.header.Get("Location"), "done=sso.admin.saved") {
		t.Fatalf("provider form: %d %s", res.status, res.body)
	}
	bad := url.Values{"key": {"yn2"}, "display_name": {"填错的"}, "issuer": {"http://sso.example.gov.cn"}, "client_id": {"cityops"}, "client_secret": {"s3cret-do-not-echo"}}
	if res := post(base+"/providers", bad); res.status != 400 || !strings.Contains(res.body, "必须使用 https") ||
		!strings.Contains(res.body, `value="填错的"`) || strings.Contains(res.body, "s3cret-do-not-echo") {
		t.Fatalf("a bad provider form: %d\n%s", res.status, res.body)
	}
	p, err := f.app.store.FindSSOProvider(ctx, &f.a.ID, "yn")
	if err != nil || p.Claim != "phone_number" || p.Scopes != "openid phone profile" || !p.Enabled {
		t.Fatalf("the provider saved: %+v %v", p, err)
	}
	if res := post(base+"/links", url.Values{"provider": {"yn"}, "value": {"+86 13800000000"}, "email": {"inspectorA@test.cn"}}); res.status != 303 {
		t.Fatalf("link: %d %s", res.status, res.body)
	}
	if res := post(base+"/links", url.Values{"provider": {"yn"}, "value": {"+86 13900000000"}, "email": {"adminB@test.cn"}}); res.status != 400 || !strings.Contains(res.body, "只能关联本单位的成员") {
		t.Fatalf("linking another unit's member: %d\n%s", res.status, res.body)
	}
	if res := webPage(t, f.fixture, cookie, csrf, "GET", base, nil); res.status != 200 || !strings.Contains(res.body, "&#43;86 13800000000") ||
		!strings.Contains(res.body, "/sso/t/chuxiong/yn/callback") {
		t.Fatalf("the page: %d\n%s", res.status, res.body)
	}
	if res := post(base+"/links/delete", url.Values{"provider": {"yn"}, "value": {"+86 13800000000"}}); res.status != 303 {
		t.Fatalf("unlink: %d %s", res.status, res.body)
	}

	// Just-in-time accounts through the forms: two ask, one is approved, one rejected.
	if res := post(base+"/policy", url.Values{"jit_accounts": {"1"}}); res.status != 303 {
		t.Fatalf("policy: %d %s", res.status, res.body)
	}
	f.op.AddUser(oidctest.User{Subject: "u-other", Email: "other@chuxiong.gov.cn", EmailVerified: true})
	for _, who := range []string{"u-new", "u-other"} {
		refused(t, f.signIn(t, f.browser(t), "chuxiong", who), 403, "已为您向楚雄市申请账号")
	}
	reqs, err := f.app.store.FindSSORequests(ctx, f.a.ID)
	if err != nil || len(reqs) != 2 {
		t.Fatalf("requests: %+v %v", reqs, err)
	}
	if res := webPage(t, f.fixture, cookie, csrf, "GET", base, nil); !strings.Contains(res.body, "newcomer@chuxiong.gov.cn") {
		t.Fatalf("the waiting accounts are not on the page:\n%s", res.body)
	}
	if res := post(base+"/requests/"+reqs[0].ID.String()+"/approve", nil); res.status != 400 || !strings.Contains(res.body, "至少选择一个角色") {
		t.Fatalf("approve without a role: %d\n%s", res.status, res.body)
	}
	if res := post(base+"/requests/not-a-uuid/approve", url.Values{"roles": {"inspector"}}); res.status != 404 {
		t.Fatalf("approve nonsense: %d", res.status)
	}
	if res := post(base+"/requests/"+reqs[0].ID.String()+"/approve", url.Values{"roles": {"inspector", "viewer"}}); res.status != 303 {
		t.Fatalf("approve: %d %s", res.status, res.body)
	}
	if res := post(base+"/requests/"+reqs[1].ID.String()+"/reject", nil); res.status != 303 {
		t.Fatalf("reject: %d %s", res.status, res.body)
	}
	if _, err := f.app.store.FindIdentityByEmail(ctx, reqs[1].Email); err == nil {
		t.Fatal("the rejected account's identity is still there")
	}
	if p := f.signIn(t, f.browser(t), "chuxiong", "u-new"); p.status != 200 {
		t.Fatalf("the approved account: %d", p.status)
	}
	refused(t, f.signIn(t, f.browser(t), "chuxiong", "u-other"), 403, "已为您向楚雄市申请账号")

	// Others are kept out; the operator has a page of its own.
	for _, who := range []string{"adminB", "inspectorA"} {
		c, s := webLogin(t, f.fixture, who)
		want := 404
		if who == "inspectorA" {
			want = 403
		}
		for _, r := range []struct{ method, path string }{{"GET", base}, {"POST", base + "/providers"}, {"POST", base + "/policy"}, {"POST", base + "/providers/yn/delete"}} {
			if res := webPage(t, f.fixture, c, s, r.method, r.path, url.Values{"passwords_off": {"1"}}); res.status != want {
				t.Fatalf("%s %s as %s: %d, want %d", r.method, r.path, who, res.status, want)
			}
		}
		if res := webPage(t, f.fixture, c, s, "GET", "/ops/sso", nil); res.status != 403 {
			t.Fatalf("/ops/sso as %s: %d", who, res.status)
		}
	}
	if res := post(base+"/providers/yn/delete", nil); res.status != 303 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	oc, os := webLogin(t, f.fixture, "operator")
	if res := webPage(t, f.fixture, oc, os, "POST", "/ops/sso/providers", url.Values{"key": {"corp"}, "display_name": {"运营方"}, "issuer": {f.op.Issuer},
		"client_id": {"cityops"}, "client_secret": {ssoSecret}, "enabled": {"1"}}); res.status != 303 {
		t.Fatalf("the operator's provider form: %d %s", res.status, res.body)
	}
	if res := webPage(t, f.fixture, oc, os, "GET", "/ops/sso", nil); res.status != 200 || !strings.Contains(res.body, "/sso/ops/corp/callback") ||
		strings.Contains(res.body, "sso-policy") {
		t.Fatalf("the operator's page: %d\n%s", res.status, res.body)
	}
}
