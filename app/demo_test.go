package app

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	pngenc "image/png"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/tenants"
)

// TestDemoRunsTheWholeLoop seeds the demo and walks one case through the loop as the demo's own
// accounts: the inspector reports at the demo grid, the acceptor accepts, the shift lead files,
// the dispatcher dispatches, the handler takes it and feeds back, the acceptor sends the
// inspector to check, the inspector checks, the shift lead closes; the prefecture viewer sees it.
func TestDemoRunsTheWholeLoop(t *testing.T) {
	a, f := demoApp(t)
	for _, who := range []string{"inspector", "acceptor", "shiftlead", "dispatcher", "handler", "leader"} {
		f.tokens[who] = mustToken(t, a, who+"@chuxiong.demo")
	}
	f.tokens["viewer"] = mustToken(t, a, "viewer@chuxiong-zhou.demo")
	f.tokens["wuding"] = mustToken(t, a, "admin@wuding.demo")

	// The demo's own cases of today stand at every stage of the loop; its history is older.
	today := a.store.Now().In(clock.China).Format(time.DateOnly)
	for state, want := range map[string]int{"reported": 3, "accepted": 2, "filed": 2, "dispatched": 1, "handling": 2, "closed": 3} {
		res, _ := f.do(t, "viewer", "GET", "/api/v1/t/chuxiong/cases?state="+state+"&from="+today, "")
		var page struct{ Cases []json.RawMessage }
		json.Unmarshal([]byte(res.body), &page)
		if res.status != 200 || len(page.Cases) != want {
			t.Errorf("demo cases in state %s: %d (status %d), want %d", state, len(page.Cases), res.status, want)
		}
	}
	res, _ := f.do(t, "inspector", "POST", "/api/v1/t/chuxiong/cases", `{"kind":"component","class_code":"0101","lon":101.546,"lat":25.033,"description":"井盖缺失","source":"inspector"}`)
	if res.status != 201 {
		t.Fatalf("report: %d %s", res.status, res.body)
	}
	var c struct {
		ID       string `json:"id"`
		Version  int    `json:"version"`
		State    string `json:"state"`
		GridCode string `json:"grid_code"`
	}
	json.Unmarshal([]byte(res.body), &c)
	if c.GridCode != "53230100100101" {
		t.Fatalf("the demo grid did not resolve: %s", res.body)
	}
	var deptID string
	res, _ = f.do(t, "dispatcher", "GET", "/api/v1/t/chuxiong/departments", "")
	var depts []struct{ ID, Code string }
	json.Unmarshal([]byte(res.body), &depts)
	for _, d := range depts {
		if d.Code == "SZJ" {
			deptID = d.ID
		}
	}
	steps := []struct{ who, action, extra, state string }{
		{"acceptor", "accept", "", "accepted"},
		{"shiftlead", "file", "", "filed"},
		{"dispatcher", "dispatch", `,"department_id":"` + deptID + `"`, "dispatched"},
		{"handler", "take", "", "handling"},
		{"handler", "feedback", "", "fed_back"},
		{"acceptor", "send_check", "", "checking"},
		{"inspector", "check", `,"passed":true`, "checked"},
		{"shiftlead", "close", "", "closed"},
	}
	for _, s := range steps {
		if s.action == "feedback" {
			// The after-photo, uploaded by the handler first.
			var png bytes.Buffer
			if err := pngenc.Encode(&png, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("POST", "/api/v1/t/chuxiong/cases/"+c.ID+"/photos", &png)
			req.Header.Set("Content-Type", "image/png")
			req.Header.Set("Authorization", "Bearer "+f.tokens["handler"])
			pres, _ := f.send(t, req)
			var ph struct{ ID string }
			if json.Unmarshal([]byte(pres.body), &ph); pres.status != 201 || ph.ID == "" {
				t.Fatalf("after-photo: %d %s", pres.status, pres.body)
			}
			s.extra = `,"attachments":["` + ph.ID + `"]`
		}
		body := `{"version":` + itoa(c.Version) + `,"reason":"演示"` + s.extra + `}`
		res, _ = f.do(t, s.who, "POST", "/api/v1/t/chuxiong/cases/"+c.ID+"/actions/"+s.action, body)
		if res.status != 200 {
			t.Fatalf("%s by %s: %d %s", s.action, s.who, res.status, res.body)
		}
		json.Unmarshal([]byte(res.body), &c)
		if c.State != s.state {
			t.Fatalf("after %s: state %s, want %s", s.action, c.State, s.state)
		}
	}
	res, _ = f.do(t, "viewer", "GET", "/api/v1/t/chuxiong/cases/"+c.ID, "")
	if res.status != 200 || !strings.Contains(res.body, `"closed"`) {
		t.Fatalf("prefecture viewer reading the case: %d %s", res.status, res.body)
	}
	res, _ = f.do(t, "viewer", "POST", "/api/v1/t/chuxiong/cases/"+c.ID+"/actions/supervise", `{"version":`+itoa(c.Version)+`,"reason":"x"}`)
	if res.status != 403 {
		t.Fatalf("prefecture viewer acting: %d", res.status)
	}
	res, _ = f.do(t, "wuding", "GET", "/api/v1/t/chuxiong/cases/"+c.ID, "")
	if res.status != 404 {
		t.Fatalf("another county's admin reading the case: %d", res.status)
	}
	res, _ = f.do(t, "", "GET", "/open311/v2/services.json?jurisdiction_id=chuxiong", "")
	if res.status != 200 || !strings.Contains(res.body, "component-0101") {
		t.Fatalf("demo Open311 services: %d %s", res.status, res.body)
	}
}

func mustToken(t *testing.T, a *App, email string) string {
	t.Helper()
	id, err := a.store.FindIdentityByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.store.CreateAPIToken(context.Background(), id.ID, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestDemoModulePagesSpeakBothLanguages opens every module's console page of the demo (the
// county's as its admin, the prefecture's as its viewer, and the big screen) in Chinese and in
// English: each answers 200 and leaves no message id untranslated in its text or attributes.
// The console's own pages are checked with samples (TestEveryPageRenders); a module's pages are
// its templates, rendered here with the demo's data.
func TestDemoModulePagesSpeakBothLanguages(t *testing.T) {
	a, f := demoApp(t)
	login := func(email string) string {
		t.Helper()
		req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"email": {email}, "password": {DemoPassword}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := f.send(t, req)
		if err != nil || res.status != 303 {
			t.Fatalf("login %s: %v %v", email, err, res)
		}
		m := regexp.MustCompile(sessionCookie + `=([^;]+)`).FindStringSubmatch(res.header.Get("Set-Cookie"))
		if m == nil {
			t.Fatalf("login %s: no session cookie", email)
		}
		return m[1]
	}
	pages := map[string][]string{} // who → paths
	for _, m := range a.modules.list {
		for _, n := range m.Nav {
			pages["admin@chuxiong.demo"] = append(pages["admin@chuxiong.demo"], "/t/chuxiong"+n.Path)
			pages["viewer@chuxiong-zhou.demo"] = append(pages["viewer@chuxiong-zhou.demo"], "/t/chuxiong-zhou"+n.Path, "/t/chuxiong"+n.Path)
		}
	}
	pages["admin@chuxiong.demo"] = append(pages["admin@chuxiong.demo"], "/t/chuxiong/evaluation/screen")
	pages["viewer@chuxiong-zhou.demo"] = append(pages["viewer@chuxiong-zhou.demo"], "/t/chuxiong-zhou/evaluation/screen")
	if len(pages["admin@chuxiong.demo"]) < 4 {
		t.Fatalf("the modules' pages: %v", pages)
	}
	t.Logf("pages: %v", pages)
	text := regexp.MustCompile(`>[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*<`)
	attr := regexp.MustCompile(`(title|aria-label|placeholder|data-confirm|alt)="[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*"`)
	for who, paths := range pages {
		cookie := login(who)
		for _, p := range paths {
			for _, lang := range []string{"zh-CN", "en"} {
				res := webPage(t, f, cookie, "", "GET", p+"?lang="+lang, nil)
				if res.status != 200 {
					t.Errorf("%s %s (%s): %d", who, p, lang, res.status)
					continue
				}
				if m := text.FindString(res.body); m != "" {
					t.Errorf("%s %s (%s): untranslated %s", who, p, lang, m)
				}
				if m := attr.FindString(res.body); m != "" {
					t.Errorf("%s %s (%s): untranslated %s", who, p, lang, m)
				}
			}
		}
	}
}

// demoApp is an App on SQLite in a temporary directory, migrated and seeded with the demo, and a
// fixture on it (no accounts of its own).
func demoApp(t *testing.T) (*App, *fixture) {
	t.Helper()
	cfg := Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", LogFormat: "json", LogLevel: "error", MigrateWorkers: 2, BodyLimit: 1 << 20, MaxOpenTenants: 16}
	ctx := context.Background()
	a, err := New(ctx, cfg, Options{Logger: slog.New(slog.DiscardHandler), Passwords: tenants.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if _, err := a.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.SeedDemo(ctx, io.Discard); err != nil {
		t.Fatal(err)
	}
	return a, &fixture{app: a, tokens: map[string]string{}, ids: map[string]string{}}
}
