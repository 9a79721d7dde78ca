package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/open311"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

func init() {
	services := []open311.PublicService{{Code: "component-0101", Name: "上水井盖 / Water manhole cover"}, {Code: "event-0101", Name: "暴露垃圾<b>"}}
	samplePage("public_report", fiber.Map{"Tenant": sampleTenant, "Base": "/r/chuxiong", "Form": map[string]string{}, "Map": sampleMap, "Layers": []map[string]any{}},
		fiber.Map{"Tenant": sampleTenant, "Base": "/r/chuxiong", "Services": services, "Map": sampleMap, "Layers": []map[string]any{},
			"Form":  map[string]string{"service_code": "event-0101", "description": "<script>x</script>", "address_string": "鹿城南路", "lat": "25.03", "long": "101.54", "first_name": "李四", "phone": "139"},
			"Error": "输入有误：lat is between -90 and 90."})
	samplePage("public_lookup", fiber.Map{"Tenant": sampleTenant, "Base": "/r/chuxiong"},
		fiber.Map{"Tenant": sampleTenant, "Base": "/r/chuxiong", "Number": "532301-2026-000001", "Token": "0b0c-<x>", "Error": "找不到您要的内容：No report.",
			"Progress": &open311.Progress{Number: "532301-2026-000001", State: cases.Dispatched,
				Request: open311.Request{ServiceName: "上水井盖", Address: "鹿城南路<b>", AgencyResponsible: "市政局"},
				Steps:   []open311.Step{{At: sampleNow, State: cases.Reported}, {At: sampleNow.Add(time.Hour), State: cases.Dispatched}}}})
}

// publicFixture is the fixture with 楚雄市 taking reports for one public service (武定县 none).
func publicFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	f := newFixture(t, dialect)
	if err := f.app.open311.AddServiceCode(context.Background(), mustTenant(t, f, "chuxiong"), "component-0101"); err != nil {
		t.Fatal(err)
	}
	return f
}

// publicPost posts the public form as a multipart body, with photo (if any) in "media".
func publicPost(t *testing.T, f *fixture, path string, fields map[string]string, photo []byte, ip string) *response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if photo != nil {
		fw, _ := w.CreateFormFile("media", "photo.jpg")
		fw.Write(photo)
	}
	w.Close()
	req := httptest.NewRequest("POST", path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Accept", "text/html")
	if ip != "" {
		req.RemoteAddr = ip + ":1234"
	}
	res, err := f.send(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// jpeg is the smallest thing http.DetectContentType takes for a JPEG.
var jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}, make([]byte, 200)...)

func countCases(t *testing.T, f *fixture, slug string) int {
	t.Helper()
	res, _ := f.do(t, "operator", "GET", "/api/v1/t/"+slug+"/cases?limit=500", "")
	var page struct{ Cases []cases.Case }
	if err := json.Unmarshal([]byte(res.body), &page); err != nil {
		t.Fatalf("cases of %s: %d %s", slug, res.status, res.body)
	}
	return len(page.Cases)
}

func TestWebPublicReport(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testWebPublicReport(t, dialect) })
	}
}

func testWebPublicReport(t *testing.T, dialect string) {
	f := publicFixture(t, dialect)
	good := map[string]string{"service_code": "component-0101", "description": "井盖丢了", "address_string": "鹿城南路 1 号",
		"lat": "25.03", "long": "101.54", "first_name": "李四PII", "phone": "13900139000"}
	res := webPage(t, f, "", "", "GET", "/r/chuxiong/", nil)
	if res.status != 200 || !strings.Contains(res.body, "component-0101") || !strings.Contains(res.body, `enctype="multipart/form-data"`) {
		t.Fatalf("form: %d\n%s", res.status, res.body)
	}
	for _, path := range []string{"/r/nowhere/", "/r/wuding/", "/r/chuxiong-zhou/", "/r/Bad_Slug/lookup", "/r/wuding/lookup?number=1"} {
		if res := webPage(t, f, "", "", "GET", path, nil); res.status != 404 {
			t.Errorf("GET %s: %d, want 404", path, res.status)
		}
	}
	if res := publicPost(t, f, "/r/wuding/", good, nil, ""); res.status != 404 {
		t.Errorf("POST to a tenant without public services: %d, want 404", res.status)
	}

	// Bad input: a 4xx page with the form and a readable message; nothing created.
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name   string
		fields map[string]string
		photo  []byte
		status int
		want   string
	}{
		{"no service", with("service_code", ""), nil, 400, "service_code"},
		{"unknown service", with("service_code", "event-9999"), nil, 404, "event-9999"},
		{"no description", with("description", " "), nil, 400, "问题描述"},
		{"latitude out of range", with("lat", "125.03"), nil, 400, "-90 到 90 之间"},
		{"latitude not a number", with("lat", "北纬25"), nil, 400, "十进制数"},
		{"no location", with("long", ""), nil, 400, "lat 和 long"},
		{"not an image", good, []byte("%PDF-1.4 not a photo"), 400, "JPEG、PNG 或 WebP"},
	} {
		res := publicPost(t, f, "/r/chuxiong/", tc.fields, tc.photo, "")
		if res.status != tc.status || !strings.Contains(res.body, tc.want) || !strings.Contains(res.body, "<!doctype html>") {
			t.Errorf("%s: %d, want %d with %q\n%.2000s", tc.name, res.status, tc.status, tc.want, res.body)
		}
		if tc.status == 400 && (!strings.Contains(res.body, `role="alert"`) || !strings.Contains(res.body, "鹿城南路 1 号")) {
			t.Errorf("%s: the form is not shown again with the message and the input:\n%s", tc.name, res.body)
		}
	}
	// A body over the server's limit (64 KiB in tests, as the photo cap is for real bodies) is
	// refused before the form is read, with an error page.
	addr := f.listen(t)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range good {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("media", "big.jpg")
	fw.Write(append(jpeg, make([]byte, 100<<10)...))
	w.Close()
	req, _ := http.NewRequest("POST", "http://"+addr+"/r/chuxiong/", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Accept", "text/html")
	if hres, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(hres.Body)
		hres.Body.Close()
		if hres.StatusCode != 413 || !strings.Contains(string(b), "<!doctype html>") {
			t.Errorf("oversize: %d\n%.1000s", hres.StatusCode, b)
		}
	}
	if n := countCases(t, f, "chuxiong"); n != 0 {
		t.Fatalf("bad input created %d cases", n)
	}

	// A good report: a case the staff see, reported by the public web form, with the photo and
	// the reporter's data encrypted; the citizen lands on its progress page.
	res = publicPost(t, f, "/r/chuxiong/", good, jpeg, "")
	if res.status != 303 {
		t.Fatalf("report: %d\n%s", res.status, res.body)
	}
	loc := res.header.Get("Location")
	m := regexp.MustCompile(`^/r/chuxiong/lookup\?number=(532301-\d{4}-\d{6})&token=[0-9a-f-]{36}&done=public.done$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("redirect to %q", loc)
	}
	number := m[1]
	staff, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/cases", "")
	var page struct{ Cases []cases.Case }
	json.Unmarshal([]byte(staff.body), &page)
	if len(page.Cases) != 1 || page.Cases[0].Number != number || page.Cases[0].Source != cases.FromCitizen || page.Cases[0].State != cases.Reported {
		t.Fatalf("staff see %+v", page.Cases)
	}
	full, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/cases/"+page.Cases[0].ID, "")
	for _, want := range []string{`"reported_by":"web:公众网页上报 / public web form"`, `"photos":[{`, `"name":"李四PII"`, `"phone":"13900139000"`} {
		if !strings.Contains(full.body, want) {
			t.Errorf("the case lacks %s:\n%s", want, full.body)
		}
	}

	// The progress page: state and public history, no personal data, nothing of who acted.
	res = webPage(t, f, "", "", "GET", loc, nil)
	if res.status != 200 || !strings.Contains(res.body, number) || !strings.Contains(res.body, "已收到，待受理") || !strings.Contains(res.body, "已收到您反映的问题") ||
		!strings.Contains(res.body, "Open311") {
		t.Fatalf("progress: %d\n%s", res.status, res.body)
	}
	// The acceptor accepts it with an internal note: the citizen sees the new state, not the note
	// nor who acted.
	ta := mustTenant(t, f, "chuxiong")
	acc := tenants.WithPrincipal(context.Background(), &tenants.Principal{Identity: &tenants.Identity{ID: uuid.New(), Email: "acceptor-pii@test.cn"}})
	acc = tenants.WithScope(acc, &tenants.Scope{Tenant: ta, Roles: []tenants.Role{tenants.Acceptor}})
	if _, err := f.app.cases.Act(acc, page.Cases[0].ID, cases.Accept, cases.ActionInput{Version: page.Cases[0].Version, Reason: "内部备注：先打电话核实"}); err != nil {
		t.Fatal(err)
	}
	res = webPage(t, f, "", "", "GET", "/r/chuxiong/lookup?number="+url.QueryEscape(number)+"&token=forged", nil)
	if res.status != 200 || !strings.Contains(res.body, "已受理，待立案") || !strings.Contains(res.body, "已收到，待受理") || strings.Contains(res.body, "forged") {
		t.Errorf("lookup after acceptance: %d\n%s", res.status, res.body)
	}
	for _, pii := range []string{"李四PII", "13900139000", "井盖丢了", "web:", "system", "acceptor-pii", "内部备注", "Open311"} {
		if strings.Contains(res.body, pii) {
			t.Errorf("the progress page shows %q", pii)
		}
	}
	for _, tc := range []struct{ q, want string }{
		{"?number=532301-2026-999999", "找不到"},
		{"?number=" + strings.Repeat("9", 300), "找不到"},
	} {
		if res := webPage(t, f, "", "", "GET", "/r/chuxiong/lookup"+tc.q, nil); res.status != 404 || !strings.Contains(res.body, tc.want) {
			t.Errorf("lookup %s: %d", tc.q, res.status)
		}
	}
	// The same number in another tenant is not found there.
	if err := f.app.open311.AddServiceCode(context.Background(), mustTenant(t, f, "wuding"), "component-0101"); err != nil {
		t.Fatal(err)
	}
	if res := webPage(t, f, "", "", "GET", "/r/wuding/lookup?number="+number, nil); res.status != 404 {
		t.Errorf("another tenant's number: %d, want 404", res.status)
	}
	// A suspended tenant has no public pages.
	if res, _ := f.do(t, "operator", "POST", "/api/v1/tenants/wuding/suspend", ""); res.status != 200 {
		t.Fatalf("suspend: %d %s", res.status, res.body)
	}
	if res := webPage(t, f, "", "", "GET", "/r/wuding/", nil); res.status != 404 {
		t.Errorf("a suspended tenant's form: %d, want 404", res.status)
	}
}

func TestWebPublicRateLimitAndClosing(t *testing.T) {
	f := publicFixture(t, "sqlite")
	good := map[string]string{"service_code": "component-0101", "description": "路灯不亮", "lat": "25.03", "long": "101.54"}
	for i := 0; i < console.PublicPostsPerIP; i++ {
		if res := publicPost(t, f, "/r/chuxiong/", good, nil, "192.0.2.7"); res.status != 303 {
			t.Fatalf("report %d: %d", i, res.status)
		}
	}
	if res := publicPost(t, f, "/r/chuxiong/", good, nil, "192.0.2.7"); res.status != 429 {
		t.Fatalf("report over the limit: %d, want 429", res.status)
	}
	if n := countCases(t, f, "chuxiong"); n != console.PublicPostsPerIP {
		t.Fatalf("%d cases, want %d", n, console.PublicPostsPerIP)
	}
	// Revoking the form's key closes the form.
	ta := mustTenant(t, f, "chuxiong")
	if _, err := f.app.open311.RevokeKey(context.Background(), ta, open311.WebFormKeyID); err != nil {
		t.Fatal(err)
	}
	if res := webPage(t, f, "", "", "GET", "/r/chuxiong/", nil); res.status != 404 {
		t.Fatalf("closed form: %d, want 404", res.status)
	}
}

// TestBrowserPublicReport: a citizen on a phone reports a problem with a photo, placing it by a
// tap on the map, and follows it by its number.
func TestBrowserPublicReport(t *testing.T) {
	f := publicFixture(t, "sqlite")
	photo := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(photo, jpeg, 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, f.listen(t))
	s := b.user("citizen")
	s.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	s.visit("/r/chuxiong/")
	if h := s.text("h1"); h != "我要反映问题" {
		t.Fatalf("h1 %q", h)
	}
	if w := eval[float64](s, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the form is %v px wide on a 390 px phone", w)
	}
	s.shot("public-form")
	s.fill("#p-service", "component-0101")
	s.fill("#p-desc", "鹿城南路的井盖丢了，很危险")
	s.fill("#p-addr", "鹿城南路 1 号")
	waitJS(s, "the map", `document.querySelector('#public-map.leaflet-container') !== null`)
	s.do(chromedp.ScrollIntoView(chromedp.CSS("#public-map")), chromedp.Click(chromedp.CSS("#public-map")))
	waitJS(s, "a tap on the map sets the location", `document.getElementById('p-lat').value !== '' && document.getElementById('p-lon').value !== ''`)
	s.upload("#p-photo", photo)
	s.fill("#p-name", "李四")
	s.fill("#p-phone", "13900139000")
	s.shot("public-form-filled")
	s.click(".public-form button[type=submit]")
	waitJS(s, "the progress page", `location.pathname === '/r/chuxiong/lookup' && document.querySelector('.case-number') !== null`)
	if loc := s.location(); !strings.HasPrefix(loc, "/r/chuxiong/lookup?number=532301-") {
		t.Fatalf("after the report: %s\n%s", loc, s.text("main"))
	}
	number := s.text(".case-number")
	s.waitText(".flash", "已收到")
	s.shot("public-done")

	s.visit("/r/chuxiong/lookup")
	s.fill("#l-number", number)
	s.click("form[action='/r/chuxiong/lookup'] button[type=submit]")
	waitJS(s, "the lookup", `location.search.indexOf('number=') >= 0 && document.querySelector('.progress .state') !== null`)
	s.waitText(".progress .state", "已收到，待受理")
	if txt := s.text("main"); strings.Contains(txt, "李四") || strings.Contains(txt, "13900139000") {
		t.Fatalf("the lookup shows personal data:\n%s", txt)
	}
	s.shot("public-lookup")
}
