package app

import (
	"bytes"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/app/web"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

func TestMessagesExistInBothLanguages(t *testing.T) {
	for key := range web.Messages["zh-CN"] {
		if _, ok := web.Messages["en"][key]; !ok {
			t.Errorf("%q has no English text", key)
		}
	}
	for key := range web.Messages["en"] {
		if _, ok := web.Messages["zh-CN"][key]; !ok {
			t.Errorf("%q has no Chinese text", key)
		}
	}
}

// TestEveryPageRenders renders each page with empty and with full data, in both languages, and
// checks that every form field has a label and no text key is left untranslated.
func TestEveryPageRenders(t *testing.T) {
	ui, err := newWebUI()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	parent := uuid.New()
	tenant := &tenants.Tenant{ID: uuid.New(), Slug: "chuxiong", NameZH: "楚雄市", NameEN: "Chuxiong", Kind: tenants.City, AdminCode: "532301", ParentID: &parent, Status: tenants.StatusActive}
	me := &meResponse{
		Identity:    &tenants.Identity{Email: "a@b.cn", Name: "张三", OperatorRole: tenants.OperatorAdmin, LastLoginAt: &now},
		Memberships: []meMembership{{Tenant: tenant, Roles: []tenants.Role{tenants.TenantAdmin, tenants.Inspector}}},
	}
	full := map[string]fiber.Map{
		"login":  {"Error": "邮箱或密码不正确。", "Email": "a@b.cn", "Next": "/me"},
		"me":     {"Me": me, "Tenants": []*tenants.Tenant{tenant}, "CSRF": "tok"},
		"invite": {"Token": "inv_x", "Error": "expired"},
		"error":  {"Problem": Problem{Status: 404, Title: "Not Found", Detail: "No tenant.", RequestID: "r1"}},
		"billing_statement": {"Statement": &statementPage{Tenant: "楚雄市", Code: "532301", Year: "2026", From: "2026-01-01", To: "2026-12-31",
			Opening: "100.00", Closing: "50.00", Outstanding: "50.00", Credit: "0.00", Generated: "2026-05-14 09:30", Plan: "starter",
			Lines:       []statementPageLine{{Date: "2026-02-01", Journal: "7", Kind: "还款", Category: "银行转账", Memo: "<script>x</script>", Reference: "BANK-1", Credit: "50.00", Balance: "50.00"}},
			Instalments: []statementPageInstalment{{Year: "2026", Due: "2026-12-31", Principal: "40.00", Interest: "1.40", Amount: "41.40", Status: "已开票"}},
			Usage:       []statementPageUsage{{Name: "新建案件", Value: "12"}}, Totals: []statementPageUsage{{Name: "还款", Value: "50.00"}}}},
	}
	empty := map[string]fiber.Map{
		"login":             {},
		"me":                {"Me": &meResponse{Identity: &tenants.Identity{Email: "a@b.cn"}}},
		"invite":            {"Done": true},
		"error":             {"Problem": Problem{}},
		"billing_statement": {"Statement": &statementPage{}},
	}
	for name := range ui.pages {
		if full[name] == nil {
			t.Fatalf("page %s has no test data; add it here", name)
		}
		for _, lang := range []string{"zh-CN", "en"} {
			for variant, data := range map[string]fiber.Map{"full": full[name], "empty": empty[name]} {
				data["Lang"] = lang
				var buf bytes.Buffer
				if err := ui.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
					t.Fatalf("%s (%s, %s): %v", name, lang, variant, err)
				}
				html := buf.String()
				if m := regexp.MustCompile(`>[a-z]+\.[a-z_.]+<`).FindString(html); m != "" {
					t.Errorf("%s (%s, %s): untranslated key %s", name, lang, variant, m)
				}
				checkLabels(t, name, html)
				if !strings.Contains(html, `lang="`+lang+`"`) || !strings.Contains(html, `href="#main"`) {
					t.Errorf("%s (%s): missing lang attribute or skip link", name, lang)
				}
			}
		}
	}
}

var (
	inputRe = regexp.MustCompile(`<input [^>]*>`)
	idRe    = regexp.MustCompile(`id="([^"]+)"`)
)

// checkLabels checks that every visible input has a <label for=…>.
func checkLabels(t *testing.T, page, html string) {
	t.Helper()
	for _, in := range inputRe.FindAllString(html, -1) {
		if strings.Contains(in, `type="hidden"`) {
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
