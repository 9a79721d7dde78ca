package app

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/internal/msg"

	"github.com/cityops/cityops/app/web"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// TestMessageCatalog: every user-visible message of the process (errors of every package, the
// console's texts, the modules') has both languages with the same verbs, and every text id a
// console template names is declared.
func TestMessageCatalog(t *testing.T) {
	for _, p := range msg.Check() {
		t.Error(p)
	}
	ids := regexp.MustCompile(`\bt[f]? \$?\.Lang "([^"]+)"`)
	err := fs.WalkDir(web.Files, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.Files, path)
		if err != nil {
			return err
		}
		for _, m := range ids.FindAllStringSubmatch(string(b), -1) {
			if !msg.Known(m[1]) {
				t.Errorf("%s names the text %q, which no message declares", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// pageSample is the data a page is rendered with in TestEveryPageRenders: empty (nothing there
// yet) and full (every field and list filled, with text that needs escaping).
type pageSample struct{ Empty, Full fiber.Map }

// pageSamples holds every page's samples; each console part's test file adds its pages in init.
var pageSamples = map[string]pageSample{}

func samplePage(name string, empty, full fiber.Map) {
	if _, dup := pageSamples[name]; dup {
		panic("two samples for page " + name)
	}
	pageSamples[name] = pageSample{empty, full}
}

// Sample values the console parts' samples share.
var (
	sampleNow    = time.Date(2026, 5, 14, 9, 30, 0, 0, time.UTC)
	sampleParent = uuid.New()
	sampleTenant = &tenants.Tenant{ID: uuid.New(), Slug: "chuxiong", NameZH: "楚雄市", NameEN: "Chuxiong", Kind: tenants.City,
		AdminCode: "532301", ParentID: &sampleParent, Status: tenants.StatusActive}
	samplePrefecture = &tenants.Tenant{ID: sampleParent, Slug: "chuxiong-zhou", NameZH: "楚雄州", NameEN: "Chuxiong Prefecture",
		Kind: tenants.Prefecture, AdminCode: "532300", Status: tenants.StatusActive}
	sampleScope = &tenants.Scope{Tenant: sampleTenant, Roles: []tenants.Role{tenants.TenantAdmin, tenants.Inspector, tenants.ShiftLead}}
	sampleMe    = &api.MeResponse{
		Identity:    &tenants.Identity{Email: "a@b.cn", Name: "张三", OperatorRole: tenants.OperatorAdmin, LastLoginAt: &sampleNow},
		Memberships: []api.MeMembership{{Tenant: sampleTenant, Roles: []tenants.Role{tenants.TenantAdmin, tenants.Inspector}}},
	}
	sampleMap = console.MapConfig{Tiles: "offline", Base: console.MapBase{Kind: "offline", Tiles: []console.TileLayer{}, Offline: []map[string]any{{"url": "/r/chuxiong/map/boundary.geojson", "kind": "boundary"}}}}
)

func init() {
	samplePage("login", fiber.Map{}, fiber.Map{"Error": "邮箱或密码不正确。", "Email": "a@b.cn", "Next": "/me"})
	samplePage("me", fiber.Map{"Me": &api.MeResponse{Identity: &tenants.Identity{Email: "a@b.cn"}}},
		fiber.Map{"Me": sampleMe, "Tenants": []*tenants.Tenant{sampleTenant}, "CSRF": "tok"})
	samplePage("invite", fiber.Map{"Done": true}, fiber.Map{"Token": "inv_x", "Error": "expired"})
	samplePage("error", fiber.Map{"Problem": Problem{}},
		fiber.Map{"Problem": Problem{Status: 404, Title: "Not Found", Detail: "No tenant.", RequestID: "r1", Code: "not_found"}})
	samplePage("billing_statement", fiber.Map{"Statement": &console.StatementPage{}},
		fiber.Map{"Statement": &console.StatementPage{Tenant: "楚雄市", Code: "532301", Year: "2026", From: "2026-01-01", To: "2026-12-31",
			Opening: "100.00", Closing: "50.00", Outstanding: "50.00", Credit: "0.00", Generated: "2026-05-14 09:30", Plan: "starter",
			Lines:       []console.StatementPageLine{{Date: "2026-02-01", Journal: "7", Kind: "还款", Category: "银行转账", Memo: "<script>x</script>", Reference: "BANK-1", Credit: "50.00", Balance: "50.00"}},
			Instalments: []console.StatementPageInstalment{{Year: "2026", Due: "2026-12-31", Principal: "40.00", Interest: "1.40", Amount: "41.40", Status: "已开票"}},
			Usage:       []console.StatementPageUsage{{Name: "新建案件", Value: "12"}}, Totals: []console.StatementPageUsage{{Name: "还款", Value: "50.00"}}}})
}

// TestEveryPageRenders renders each page with empty and with full data, in both languages, inside
// a tenant (with its navigation) and outside, and checks that every form field has a label and no
// text key is left untranslated.
func TestEveryPageRenders(t *testing.T) {
	ui, err := console.New(console.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range ui.Pages() {
		sample, ok := pageSamples[name]
		if !ok {
			t.Errorf("page %s has no samples; add them with samplePage in its test file", name)
			continue
		}
		for _, lang := range []string{"zh-CN", "en"} {
			for variant, src := range map[string]fiber.Map{"full": sample.Full, "empty": sample.Empty} {
				data := fiber.Map{}
				for k, v := range src {
					data[k] = v
				}
				data["Lang"] = lang
				if variant == "full" {
					if data["Tenant"] == nil {
						data["Tenant"], data["Scope"] = sampleTenant, sampleScope
					}
					if data["Nav"] == nil {
						data["Nav"] = []console.NavItem{{Href: "/t/chuxiong/inbox", Key: "nav.inbox", Active: true}, {Href: "/t/chuxiong/cases", Key: "nav.cases"}}
					}
					if data["Flash"] == nil {
						data["Flash"] = "已完成。"
					}
				}
				var buf bytes.Buffer
				if err := ui.Execute(&buf, name, data); err != nil {
					t.Errorf("%s (%s, %s): %v", name, lang, variant, err)
					continue
				}
				html := buf.String()
				if m := regexp.MustCompile(`>[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*<`).FindString(html); m != "" {
					t.Errorf("%s (%s, %s): untranslated key %s", name, lang, variant, m)
				}
				if m := regexp.MustCompile(`(title|aria-label|placeholder|data-confirm)="[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*"`).FindString(html); m != "" {
					t.Errorf("%s (%s, %s): untranslated key in attribute %s", name, lang, variant, m)
				}
				checkLabels(t, name, html)
				if !strings.Contains(html, `lang="`+lang+`"`) || !strings.Contains(html, `href="#main"`) {
					t.Errorf("%s (%s): missing lang attribute or skip link", name, lang)
				}
				if strings.Contains(html, "<script>") && !strings.Contains(html, "&lt;script&gt;") {
					t.Errorf("%s (%s, %s): an inline script (the CSP refuses it) or unescaped data", name, lang, variant)
				}
			}
		}
	}
}

var (
	inputRe = regexp.MustCompile(`<(?:input|select|textarea) [^>]*>`)
	idRe    = regexp.MustCompile(`id="([^"]+)"`)
)

// checkLabels checks that every visible input, select and textarea has a <label for=…> or an
// aria-label.
func checkLabels(t *testing.T, page, html string) {
	t.Helper()
	for _, in := range inputRe.FindAllString(html, -1) {
		if strings.Contains(in, `type="hidden"`) || strings.Contains(in, `aria-label="`) || strings.Contains(in, `type="submit"`) {
			continue
		}
		m := idRe.FindStringSubmatch(in)
		if m == nil || !strings.Contains(html, `for="`+m[1]+`"`) {
			t.Errorf("%s: input without a label: %s", page, in)
		}
	}
}

func TestLanguageSwitch(t *testing.T) {
	f := newFixture(t, "sqlite")
	res, _ := f.send(t, httptest.NewRequest("GET", "/login", nil))
	if res.status != 200 || !strings.Contains(res.body, "电子邮箱") {
		t.Fatalf("login page in Chinese: %d", res.status)
	}
	res, _ = f.send(t, httptest.NewRequest("GET", "/login?lang=en", nil))
	if !strings.Contains(res.body, "Email") || !strings.Contains(res.header.Get("Set-Cookie"), "cityops_lang=en") {
		t.Fatalf("login page in English: %s", res.body)
	}
	req := httptest.NewRequest("GET", "/me", nil)
	req.Header.Set("Accept", "text/html")
	res, _ = f.send(t, req)
	if res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Fatalf("anonymous /me: %d %s", res.status, res.header.Get("Location"))
	}
	req = httptest.NewRequest("GET", "/nowhere", nil)
	req.Header.Set("Accept", "text/html")
	res, _ = f.send(t, req)
	if res.status != 404 || !strings.Contains(res.body, "<html") {
		t.Fatalf("error page: %d %s", res.status, res.body)
	}
}

// webLogin signs who in through the login form and returns the session cookie and its CSRF token.
func webLogin(t *testing.T, f *fixture, who string) (cookie, csrf string) {
	t.Helper()
	req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"email": {who + "@test.cn"}, "password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := f.send(t, req)
	if err != nil || res.status != 303 {
		t.Fatalf("login %s: %v %v", who, err, res)
	}
	m := regexp.MustCompile(sessionCookie + `=([^;]+)`).FindStringSubmatch(res.header.Get("Set-Cookie"))
	if m == nil {
		t.Fatalf("login %s: no session cookie", who)
	}
	return m[1], api.CSRFToken(m[1])
}

// webPage sends a console request with a session: a GET, or a POST of form with the CSRF token.
func webPage(t *testing.T, f *fixture, cookie, csrf, method, path string, form url.Values) *response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if method == "POST" {
		if form == nil {
			form = url.Values{}
		}
		form.Set("_csrf", csrf)
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	}
	res, err := f.send(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestLoginLandsWhereTheWorkIs: after the login form (and at /, and after accepting an
// invitation) a person lands where their work is, unless the form carries a safe next page.
func TestLoginLandsWhereTheWorkIs(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	s := f.app.store
	tenant := func(slug string) *tenants.Tenant {
		t.Helper()
		tn, err := s.FindTenantBySlug(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		return tn
	}
	account := func(who string, grants map[string][]tenants.Role) {
		t.Helper()
		id, err := s.CreateIdentity(ctx, tenants.NewIdentity{Email: who + "@test.cn", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		for slug, roles := range grants {
			for _, r := range roles {
				if err := s.Grant(ctx, tenant(slug), id.ID, r); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	account("twoUnits", map[string][]tenants.Role{"chuxiong": {tenants.Inspector}, "wuding": {tenants.Viewer}})
	account("adminInspector", map[string][]tenants.Role{"chuxiong": {tenants.TenantAdmin, tenants.Inspector}})
	account("viewerA", map[string][]tenants.Role{"chuxiong": {tenants.Viewer}})
	account("prefAdmin", map[string][]tenants.Role{"chuxiong-zhou": {tenants.TenantAdmin}})

	login := func(t *testing.T, who, next string) *response {
		t.Helper()
		return f.postForm(t, "/login", url.Values{"email": {who + "@test.cn"}, "password": {testPassword}, "next": {next}})
	}
	for _, tc := range []struct {
		name, who, next, want string
	}{
		{"operator", "operator", "", "/ops"},
		{"operator support", "support", "", "/ops"},
		{"tenant admin", "adminA", "", "/t/chuxiong/admin"},
		{"inspector", "inspectorA", "", "/t/chuxiong/inbox"},
		{"admin who is also an inspector works the inbox", "adminInspector", "", "/t/chuxiong/inbox"},
		{"viewer", "viewerA", "", "/t/chuxiong/cases"},
		{"prefecture viewer", "viewer", "", "/t/chuxiong-zhou/overview"},
		{"prefecture admin", "prefAdmin", "", "/t/chuxiong-zhou/admin"},
		{"two tenants", "twoUnits", "", "/me"},
		{"no tenant", "nobody", "", "/me"},
		{"next", "adminA", "/t/chuxiong/cases?state=reported", "/t/chuxiong/cases?state=reported"},
		{"next for an operator", "operator", "/ops/tenants/chuxiong", "/ops/tenants/chuxiong"},
		{"next for two tenants", "twoUnits", "/t/wuding/", "/t/wuding/"},
		{"next to another host", "inspectorA", "//evil.example/x", "/t/chuxiong/inbox"},
		{"next with a backslash", "inspectorA", `/\evil.example`, "/t/chuxiong/inbox"},
		{"next with a tab (a browser drops it: //evil)", "inspectorA", "/\t/evil.example", "/t/chuxiong/inbox"},
		{"absolute next", "viewer", "https://evil.example/", "/t/chuxiong-zhou/overview"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := login(t, tc.who, tc.next)
			if got := res.header.Get("Location"); res.status != 303 || got != tc.want {
				t.Fatalf("got %d → %q, want 303 → %q", res.status, got, tc.want)
			}
			m := regexp.MustCompile(sessionCookie + `=([^;]+)`).FindStringSubmatch(res.header.Get("Set-Cookie"))
			if m == nil {
				t.Fatal("no session cookie")
			}
			if tc.next != "" {
				return
			}
			// / and a tenant's own root page follow the same rule.
			if res := webPage(t, f, m[1], "", "GET", "/", nil); res.status != 303 || res.header.Get("Location") != tc.want {
				t.Errorf("GET /: got %d → %q, want %q", res.status, res.header.Get("Location"), tc.want)
			}
			if rest, ok := strings.CutPrefix(tc.want, "/t/"); ok {
				slug, _, _ := strings.Cut(rest, "/")
				if res := webPage(t, f, m[1], "", "GET", "/t/"+slug+"/", nil); res.status != 303 || res.header.Get("Location") != tc.want {
					t.Errorf("GET /t/%s/: got %d → %q, want %q", slug, res.status, res.header.Get("Location"), tc.want)
				}
			}
		})
	}

	// Accepting an invitation signs the person in and sends them to work: a newcomer to their
	// post's page, someone already in another unit to the list of their units.
	accept := func(t *testing.T, slug, email string, role tenants.Role, password string) *response {
		t.Helper()
		_, token, err := s.Invite(ctx, tenant(slug), email, "", role)
		if err != nil {
			t.Fatal(err)
		}
		return f.postForm(t, "/invite/"+token, url.Values{"name": {"新人"}, "password": {password}})
	}
	for _, tc := range []struct {
		name, slug, email string
		role              tenants.Role
		password, want    string
	}{
		{"newcomer", "chuxiong", "new-dispatcher@test.cn", tenants.Dispatcher, "new member pw 1", "/t/chuxiong/inbox"},
		{"prefecture viewer", "chuxiong-zhou", "new-viewer@test.cn", tenants.PrefectureViewer, "new member pw 2", "/t/chuxiong-zhou/overview"},
		{"already in another unit", "chuxiong", "adminB@test.cn", tenants.Viewer, testPassword, "/me"},
	} {
		t.Run("invitation "+tc.name, func(t *testing.T) {
			res := accept(t, tc.slug, tc.email, tc.role, tc.password)
			if got := res.header.Get("Location"); res.status != 303 || got != tc.want {
				t.Fatalf("got %d → %q, want 303 → %q\n%s", res.status, got, tc.want, res.body)
			}
			m := regexp.MustCompile(sessionCookie + `=([^;]+)`).FindStringSubmatch(res.header.Get("Set-Cookie"))
			if m == nil {
				t.Fatal("no session cookie")
			}
			if res := webPage(t, f, m[1], "", "GET", tc.want, nil); res.status != 200 {
				t.Fatalf("GET %s signed in: %d", tc.want, res.status)
			}
		})
	}
}

// postForm posts form, urlencoded and with no session, as a browser's form would.
func (f *fixture) postForm(t *testing.T, path string, form url.Values) *response {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := f.send(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
