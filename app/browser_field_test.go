package app

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// setPosition makes the phone's position (lat, lon) through the DevTools geolocation override,
// as a GPS fix would: getCurrentPosition and watchPosition answer with it.
func (s *session) setPosition(lat, lon float64) {
	s.b.t.Helper()
	acc := 6.0
	s.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc})
		return err
	}))
}

// setOnline switches the tab's network off or back on: every request of the page (and of its
// service worker) fails while off, and navigator.onLine and the online/offline events follow.
func (s *session) setOnline(on bool) {
	s.b.t.Helper()
	s.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		off := !on
		conds := []*network.Conditions{}
		if off {
			conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
		}
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &off, MatchedNetworkConditions: conds}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

// grantGeolocation lets the app's origin read the position in the session's browser context.
func (s *session) grantGeolocation() {
	s.b.t.Helper()
	c := chromedp.FromContext(s.ctx)
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if err := c.Browser.Call(ctx, "Browser.grantPermissions", map[string]any{
		"permissions": []string{"geolocation"}, "origin": s.b.base, "browserContextId": c.BrowserContextID}, nil); err != nil {
		s.b.t.Fatalf("grant geolocation: %v", err)
	}
}

// TestBrowserFieldOffline: an inspector on a 360×740 phone opens 城管通 (the service worker
// registers and caches the shell), goes on duty, loses the signal, files three reports with
// photos at three positions while walking, gets the signal back, and the outbox empties itself:
// exactly three cases stand in the database, each with its photo and the position taken when it
// was filed. The walk's positions were recorded as a patrol track, which the shift lead sees on
// the track map of the day. No page scrolls sideways at 360 px.
func TestBrowserFieldOffline(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	photo := writePNG(t, filepath.Join(t.TempDir(), "cover.png"), 64, 48)
	b := newBrowser(t, f.listen(t))
	in := b.user("inspector")
	in.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
	in.grantGeolocation()
	in.setPosition(25.0050, 101.5050)
	in.login("inspectora@test.cn", testPassword)
	in.visit("/t/chuxiong/m/")
	in.waitText(".f-brand", "城管通")
	waitJS(in, "the service worker", `!!(window.cityopsField && window.cityopsField.sw) && !!navigator.serviceWorker.controller`)
	if got := eval[string](in, `window.cityopsField.sw`); !strings.HasSuffix(got, "/t/chuxiong/m/") {
		t.Fatalf("service worker scope %q", got)
	}
	manifest := eval[string](in, `document.querySelector('link[rel=manifest]').href`)
	if !strings.HasSuffix(manifest, "/t/chuxiong/m/manifest.webmanifest") {
		t.Fatalf("manifest link %q", manifest)
	}
	noSideScroll(t, in)
	in.shot("tasks")

	// On duty: the walk is recorded.
	in.do(chromedp.Click(chromedp.CSS("#f-duty")))
	waitJS(in, "the first track point", `document.getElementById('f-track').textContent !== ''`)

	// The signal goes.
	in.setOnline(false)
	waitJS(in, "the offline badge", `document.getElementById('f-net').classList.contains('off') && navigator.onLine === false`)
	in.do(chromedp.Click(chromedp.CSS(`[data-tab="report"]`)))
	positions := [][2]float64{{25.0052, 101.5052}, {25.0058, 101.5056}, {25.0064, 101.5061}}
	for i, p := range positions {
		in.setPosition(p[0], p[1])
		// The position shows once the phone has it (watchPosition records the walk too).
		in.do(chromedp.Click(chromedp.CSS("#f-locate")))
		waitJS(in, "the position", fmt.Sprintf(`Math.abs(parseFloat(document.getElementById('f-lat').value) - %f) < 1e-7`, p[0]))
		in.fill("#f-class", "component/0101")
		in.fill("#f-desc", "离线上报 "+string(rune('一'+i)))
		in.fill("#f-addr", "鹿城南路 "+string(rune('1'+i))+" 号")
		in.upload("#f-photo", photo)
		if i == 0 {
			in.shot("report-offline")
		}
		// As a thumb would: the button scrolled to the middle of the screen, clear of the bars.
		eval[bool](in, `(function(){document.querySelector('.f-submit').scrollIntoView({block:'center'});return true})()`)
		in.do(chromedp.Click(chromedp.CSS(".f-submit")))
		waitJS(in, "the report in the outbox", `window.cityopsField.pending === `+string(rune('1'+i)))
	}
	in.waitText("#f-queue", "待发送 3 条")
	noSideScroll(t, in)
	in.shot("queued-offline")
	if n := countFieldCases(t, f); n != 0 {
		t.Fatalf("%d cases reached the server while offline", n)
	}
	// Still without signal, the workspace opens again from the service worker's cache, with the
	// outbox as it was.
	in.visit("/t/chuxiong/m/")
	in.waitText(".f-brand", "城管通")
	in.waitText("#f-queue", "待发送 3 条")
	in.shot("reopened-offline")
	in.do(chromedp.Click(chromedp.CSS("#f-duty")))
	waitJS(in, "the duty switch", `document.getElementById('f-duty').checked === false`)
	// Off duty (above): the rest of the track went into the outbox too.
	waitJS(in, "the track batch in the outbox", `window.cityopsField.pending >= 4`)

	// The signal returns: the outbox empties itself.
	in.setOnline(true)
	waitJS(in, "the outbox to empty", `window.cityopsField.pending === 0 && window.cityopsField.failed === 0`)
	in.shot("sent")

	// Exactly three cases, each with its photo and its position.
	list := f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/cases?source=inspector", "", 200)
	var page struct {
		Cases []struct {
			ID          string
			Lat, Lon    float64
			Description string
		}
	}
	json.Unmarshal([]byte(list.body), &page)
	if len(page.Cases) != 3 {
		t.Fatalf("%d cases after going online, want 3: %s", len(page.Cases), list.body)
	}
	found := map[string]bool{}
	for _, c := range page.Cases {
		for _, p := range positions {
			if near(c.Lat, p[0]) && near(c.Lon, p[1]) {
				found[fmt.Sprint(p)] = true
			}
		}
		full := f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/cases/"+c.ID, "", 200)
		if n := strings.Count(full.body, `"media_type":"image/png"`); n != 1 {
			t.Errorf("case %s has %d photos", c.ID, n)
		}
	}
	if len(found) != 3 {
		t.Fatalf("positions of the cases: %+v", page.Cases)
	}
	// The reports show under My reports once the page is opened again.
	in.visit("/t/chuxiong/m/")
	in.do(chromedp.Click(chromedp.CSS(`[data-tab="mine"]`)))
	if n := eval[int](in, `document.querySelectorAll('#mine .f-list li .f-num').length`); n != 3 {
		t.Fatalf("My reports lists %d", n)
	}
	in.shot("mine")

	// The shift lead sees the day's track on the map.
	lead := b.user("shiftlead")
	lead.login("shifta@test.cn", testPassword)
	lead.visit("/t/chuxiong/tracks")
	lead.waitText("h1", "巡查轨迹")
	lead.waitText("table.tracks", "inspectora@test.cn")
	waitJS(lead, "the track on the map", `document.querySelectorAll('#trackmap path.leaflet-interactive').length >= 1`)
	if pts := eval[string](lead, `document.querySelector('table.tracks tr.track td:last-child').textContent`); pts < "3" {
		t.Fatalf("the track has %s points", pts)
	}
	lead.shot("tracks")
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

// countFieldCases counts tenant A's cases from the inspector.
func countFieldCases(t *testing.T, f *caseFixture) int {
	t.Helper()
	list := f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/cases?source=inspector", "", 200)
	return strings.Count(list.body, `"number":`)
}

// noSideScroll fails the test when the page is wider than the phone.
func noSideScroll(t *testing.T, s *session) {
	t.Helper()
	if w := eval[float64](s, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("the page is %v px wide on a 360 px phone", w)
	}
}
