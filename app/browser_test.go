package app

// The browser harness: tests that drive the console in a real headless Chromium (Debian's
// chromium package; scripts/test.sh installs it) against the app served on a loopback port.
// Every page a journey visits can be saved as a screenshot into the directory named by
// CITYOPS_SCREENSHOTS (default: screenshots/ at the repository root).

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/tenants"
)

// chromiumPath is the browser the tests drive.
func chromiumPath() string {
	if p := os.Getenv("CITYOPS_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// screenshotDir is where journeys save their pages.
func screenshotDir(t testing.TB) string {
	dir := os.Getenv("CITYOPS_SCREENSHOTS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(filepath.Dir(wd), "screenshots") // tests run in app/
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless Chromium for a test; each user of a journey gets a session of their own
// (a separate browser context: its own cookies).
type browser struct {
	t     *testing.T
	base  string // http://127.0.0.1:port
	alloc context.Context
	root  context.Context
	mu    sync.Mutex
	shots int
}

// newBrowser starts Chromium for the app served at addr (host:port, see fixture.listen).
func newBrowser(t *testing.T, addr string) *browser {
	t.Helper()
	bin := chromiumPath()
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no Chromium at %s for the browser tests: apt-get install chromium (or set CITYOPS_CHROMIUM); scripts/test.sh installs it", bin)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	if err := chromedp.Do(root); err != nil { // start the browser now, without a timeout
		cancelRoot()
		cancelAlloc()
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() { cancelRoot(); cancelAlloc() })
	return &browser{t: t, base: "http://" + addr, alloc: alloc, root: root}
}

// session is one user's tab.
type session struct {
	b    *browser
	name string
	ctx  context.Context
}

// user opens a new browser context for name (used in screenshot file names). Dialogs
// (window.confirm) are accepted, as a user who reads them and agrees would.
func (b *browser) user(name string) *session {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	// The first run on a context opens its tab for the context's lifetime: never under a timeout.
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("open a tab for %s: %v", name, err)
	}
	s := &session{b: b, name: name, ctx: ctx}
	s.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: "window.confirm = function () { return true; };",
		})
		return err
	}))
	return s
}

// cast gives each person of a journey a logged-in session of their own, made on first use:
// who@domain with password. Sessions already open can be handed in as known.
func (b *browser) cast(domain, password string, known map[string]*session) func(who string) *session {
	users := map[string]*session{}
	for who, s := range known {
		users[who] = s
	}
	return func(who string) *session {
		if s, ok := users[who]; ok {
			return s
		}
		s := b.user(who)
		s.login(who+"@"+domain, password)
		users[who] = s
		return s
	}
}

// do runs actions with a time limit, failing the test with the page's URL on error.
func (s *session) do(actions ...chromedp.Action[chromedp.Void]) {
	s.b.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		lctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		defer cancel()
		loc, _ := chromedp.Run(lctx, chromedp.Location())
		s.b.t.Fatalf("%s at %s: %v", s.name, loc, err)
	}
}

// visit opens path (relative to the app) and waits for the page body.
func (s *session) visit(path string) {
	s.b.t.Helper()
	s.do(chromedp.Navigate(s.b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// fill types value into the field matched by the CSS selector (replacing what was there).
func (s *session) fill(sel, value string) {
	s.b.t.Helper()
	s.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), value))
}

// click clicks the element matched by sel; when the click starts a navigation (a link, a form
// submission) it waits until the next document has loaded, so the following steps see the new
// page. Navigation is told by the old document's beforeunload, which fires as it starts.
func (s *session) click(sel string) {
	s.b.t.Helper()
	s.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	eval[bool](s, `(function(){window.__cityopsOld=true;sessionStorage.setItem('cityopsNav','');`+
		`window.addEventListener('beforeunload',function(){sessionStorage.setItem('cityopsNav','left')});return true})()`)
	s.do(chromedp.Click(chromedp.CSS(sel)))
	deadline := time.Now().Add(20 * time.Second)
	quiet := time.Now().Add(600 * time.Millisecond)
	for {
		state := s.navState()
		switch {
		case state == "new":
			return
		case state == "stay" && time.Now().After(quiet):
			return // the click did not navigate
		case time.Now().After(deadline):
			s.b.t.Fatalf("%s: the page after clicking %s did not load", s.name, sel)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// navState is "new" once a new document has loaded, "left" while a navigation is under way and
// "stay" when none has started.
func (s *session) navState() string {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){`+
		`if(window.__cityopsOld){return sessionStorage.getItem('cityopsNav')==='left'?'left':'stay'}`+
		`return document.readyState==='complete'?'new':'left'})()`))
	if err != nil {
		return "left" // the old document is going away; ask again
	}
	return v
}

// upload sets a file input to the given local files.
func (s *session) upload(sel string, files ...string) {
	s.b.t.Helper()
	s.do(chromedp.SetUploadFiles(chromedp.CSS(sel), files))
}

// text is the visible text of the first element matched by sel.
func (s *session) text(sel string) string {
	s.b.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		s.b.t.Fatalf("%s: text of %s: %v", s.name, sel, err)
	}
	return v
}

// html is the current document's markup.
func (s *session) html() string {
	s.b.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		s.b.t.Fatalf("%s: html: %v", s.name, err)
	}
	return v
}

// location is the current URL's path and query.
func (s *session) location() string {
	s.b.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		s.b.t.Fatalf("%s: location: %v", s.name, err)
	}
	return strings.TrimPrefix(loc, s.b.base)
}

// eval runs a JavaScript expression in the page and returns its value.
func eval[T any](s *session, expr string) T {
	s.b.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		s.b.t.Fatalf("%s: eval %s: %v", s.name, expr, err)
	}
	return v
}

// waitText waits until the element matched by sel contains want.
func (s *session) waitText(sel, want string) {
	s.b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := eval[string](s, fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.innerText:""})()`, sel))
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			s.b.t.Fatalf("%s: %s never showed %q (it shows %q)", s.name, sel, want, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// shot saves a full-page screenshot as NN-<test>-<user>-<name>.png.
func (s *session) shot(name string) {
	s.b.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		s.b.t.Fatalf("%s: screenshot %s: %v", s.name, name, err)
	}
	s.b.mu.Lock()
	s.b.shots++
	n := s.b.shots
	s.b.mu.Unlock()
	file := fmt.Sprintf("%02d-%s-%s-%s.png", n, s.b.t.Name(), s.name, name)
	file = unsafeName.ReplaceAllString(file, "_")
	if err := os.WriteFile(filepath.Join(screenshotDir(s.b.t), file), png, 0o644); err != nil {
		s.b.t.Fatal(err)
	}
}

// login signs in through the login form and waits for the page it leads to.
func (s *session) login(email, password string) {
	s.b.t.Helper()
	s.loginTo(email, password, "")
}

// loginTo signs in through the login form with ?next=next and waits until the browser is there
// (anywhere but the login page when next is empty).
func (s *session) loginTo(email, password, next string) {
	s.b.t.Helper()
	if next == "" {
		s.visit("/login")
	} else {
		s.visit("/login?next=" + url.QueryEscape(next))
	}
	s.fill("#email", email)
	s.fill("#password", password)
	s.click("form.login button[type=submit]")
	if next != "" {
		s.waitLocation(next)
	} else if strings.HasPrefix(s.location(), "/login") {
		s.b.t.Fatalf("%s: login as %s failed: %s", s.name, email, s.text("main"))
	}
}

// waitLocation waits until the page's path and query start with path (a form's redirect can
// take a moment).
func (s *session) waitLocation(path string) {
	s.b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		loc := s.location()
		if strings.HasPrefix(loc, path) {
			return
		}
		if time.Now().After(deadline) {
			s.b.t.Fatalf("%s is at %s, not %s: %s", s.name, loc, path, s.text("main"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inviteLink reads the invitation link the page shows in #invite-link and returns its path.
func (s *session) inviteLink() string {
	s.b.t.Helper()
	link := eval[string](s, `document.getElementById("invite-link").value`)
	i := strings.Index(link, "/invite/inv_")
	if i < 0 {
		s.b.t.Fatalf("%s: no invitation link on the page: %q", s.name, link)
	}
	return link[i:]
}

// acceptInvitation opens an invitation's path, joins with name and password, and waits until the
// browser, signed in, is at landing (where the invitee's work is).
func (s *session) acceptInvitation(path, name, password, landing string) {
	s.b.t.Helper()
	s.visit(path)
	s.fill("#name", name)
	s.fill("#password", password)
	s.click("main form button[type=submit]")
	s.waitLocation(landing)
}

// clickTo clicks sel and waits until the browser is at path.
func (s *session) clickTo(sel, path string) {
	s.b.t.Helper()
	s.click(sel)
	s.waitLocation(path)
}

// TestBrowserLoginAndLanguage is the harness's own check: Chromium renders the login page in
// Chinese, logs in, switches to English, and the page's scripts run under the CSP without errors.
func TestBrowserLoginAndLanguage(t *testing.T) {
	f := newFixture(t, "sqlite")
	if _, err := f.app.store.CreateIdentity(context.Background(), tenants.NewIdentity{Email: "browser@test.cn", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, f.listen(t))
	s := b.user("operator")
	s.visit("/login")
	if !strings.Contains(s.text("h1"), "登录") {
		t.Fatalf("login page is not in Chinese: %q", s.text("h1"))
	}
	s.shot("login")
	s.login("browser@test.cn", testPassword)
	s.visit("/me?lang=en")
	if got := s.text("h1"); got != "My account" {
		t.Fatalf("English switch: h1 = %q", got)
	}
	s.shot("me-en")
}

// TestBrowserKeyboard: the console works from the keyboard alone. The login form takes focus,
// Tab moves to the password and Enter logs in; on a tenant page the first Tab reaches the skip
// link, which is visible when focused and leads into the main content; Tab then walks the
// account links and the sections in reading order.
func TestBrowserKeyboard(t *testing.T) {
	f := newFixture(t, "sqlite")
	b := newBrowser(t, f.listen(t))
	s := b.user("inspector")
	s.visit("/login")
	if id := eval[string](s, `document.activeElement.id`); id != "email" {
		t.Fatalf("the login page focuses %q, want the email field", id)
	}
	s.do(chromedp.KeyEvent("inspectorA@test.cn\t" + testPassword))
	if id := eval[string](s, `document.activeElement.id`); id != "password" {
		t.Fatalf("Tab from the email field went to %q", id)
	}
	s.do(chromedp.KeyEvent("\r"))
	for deadline := time.Now().Add(15 * time.Second); strings.HasPrefix(s.location(), "/login"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Enter did not log in: %s", s.text("main"))
		}
	}

	s.visit("/t/chuxiong/cases")
	s.do(chromedp.KeyEvent("\t"))
	if got := eval[string](s, `document.activeElement.className+"|"+(document.activeElement.getBoundingClientRect().left>=0)`); got != "skip|true" {
		t.Fatalf("the first Tab reaches %q, want the visible skip link", got)
	}
	s.shot("skip-link")
	s.do(chromedp.KeyEvent("\r"))
	if h := eval[string](s, `location.hash`); h != "#main" {
		t.Fatalf("the skip link leads to %q", h)
	}
	s.visit("/t/chuxiong/cases")
	var order []string
	for range 12 {
		s.do(chromedp.KeyEvent("\t"))
		order = append(order, eval[string](s, `(document.activeElement.closest("nav.sections")?"section:":"")+document.activeElement.textContent.trim()`))
	}
	want := []string{"section:" + console.Translate("zh-CN", "nav.inbox"), "section:" + console.Translate("zh-CN", "nav.cases"), "section:" + console.Translate("zh-CN", "nav.map"), "section:" + console.Translate("zh-CN", "nav.report")}
	got := []string{}
	for _, o := range order {
		if strings.HasPrefix(o, "section:") {
			got = append(got, o)
		}
	}
	if len(got) < len(want) || strings.Join(got[:len(want)], ",") != strings.Join(want, ",") {
		t.Fatalf("Tab walks the sections as %v (all stops: %v), want %v first", got, order, want)
	}
}

// TestBrowserEvaluation: the admin of a county whose plan sells the evaluation opens its page on a
// 1920×1080 screen with a few cases walked through the loop, follows a count to the cases behind
// it and one of them to its case page.
func TestBrowserEvaluation(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	evalPlan(t, f.fixture, "chuxiong")
	cs := evalLoop(t, f)
	b := newBrowser(t, f.listen(t))
	s := b.user("adminA")
	s.do(chromedp.EmulateViewport(1920, 1080))
	s.login("adminA@test.cn", testPassword)
	s.visit("/t/chuxiong/evaluation")
	if h := s.text("h1"); !strings.Contains(h, "综合评价") || !strings.Contains(h, "楚雄市") {
		t.Fatalf("h1 %q", h)
	}
	if w := eval[int](s, `window.innerWidth`); w != 1920 {
		t.Fatalf("the window is %d wide, want 1920", w)
	}
	s.waitText("#departments", "市政局A-SECRET")
	waitJS(s, "the grid heat map", `document.querySelectorAll('#heatmap path.leaflet-interactive').length > 0`)
	s.shot("evaluation")

	// The department's dispatched count: the closed case and the open one, not the filed one.
	link := `#departments tr[data-key="` + f.dept + `"] a[href*="count=dispatched"]`
	if got := s.text(link); got != "2" {
		t.Fatalf("the department's dispatched count reads %q, want 2", got)
	}
	s.clickTo(link, "/t/chuxiong/evaluation/cases?")
	s.waitText("main", "共 2 件案件")
	if p := s.text("main p:nth-of-type(2)"); !strings.Contains(p, "专业部门 · 派遣数 · 市政局A-SECRET") {
		t.Fatalf("the list does not name its figure: %q", p)
	}
	main := s.text("main")
	if !strings.Contains(main, cs[0].Number) || !strings.Contains(main, cs[1].Number) || strings.Contains(main, cs[2].Number) {
		t.Fatalf("the cases behind the count: %s", main)
	}
	s.shot("cases-behind")

	s.clickTo(`main a[href="/t/chuxiong/cases/`+cs[0].ID+`"]`, "/t/chuxiong/cases/"+cs[0].ID)
	s.waitText("main", cs[0].Number)
	s.shot("case")

	// The big screen: full window, then redrawn from its live stream after a new report.
	s.visit("/t/chuxiong/evaluation/screen")
	waitJS(s, "the screen drew its figures", `document.querySelector('[data-k="reported_today"]').textContent === '3'`)
	waitJS(s, "the trend chart", `document.querySelector('#screen-trend svg') !== null`)
	if r := eval[[]int](s, `(function(){var r=document.getElementById('screen').getBoundingClientRect();return [r.width|0,r.height|0]})()`); r[0] != 1920 || r[1] != 1080 {
		t.Fatalf("the screen covers %v, want 1920×1080", r)
	}
	s.shot("screen")
	f.report(t, "acceptorA", reportA)
	waitJS(s, "the screen's live update", `document.querySelector('[data-k="reported_today"]').textContent === '4'`)
	s.shot("screen-updated")

	// The prefecture's comparison, as its viewer: the counties side by side, a county opening
	// its evaluation and a count its cases.
	evalPlan(t, f.fixture, "chuxiong-zhou")
	v := b.user("viewer")
	v.do(chromedp.EmulateViewport(1920, 1080))
	v.login("viewer@test.cn", testPassword)
	v.visit("/t/chuxiong-zhou/evaluation")
	v.waitText("#counties", "楚雄市")
	v.shot("prefecture-evaluation")
	v.clickTo(`#counties tr[data-key="chuxiong"] a[href*="count=filed"]`, "/t/chuxiong/evaluation/cases?")
	v.waitText("main", cs[0].Number)
	v.shot("prefecture-cases-behind")
	v.visit("/t/chuxiong-zhou/evaluation")
	v.clickTo(`#counties tr[data-key="chuxiong"] th a`, "/t/chuxiong/evaluation?")
	v.waitText("#departments", "市政局A-SECRET")
}
