package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeViolations runs axe-core (app/testdata/axe.min.js, vendored from npm by
// tools/assets/build.sh; test-only, not embedded) on the session's page for WCAG 2.0 and 2.1,
// levels A and AA, and returns one line per violation with its nodes.
func axeViolations(s *session) []string {
	s.b.t.Helper()
	src, err := os.ReadFile("testdata/axe.min.js")
	if err != nil {
		s.b.t.Fatal(err)
	}
	eval[bool](s, string(src)+";true")
	ctx, cancel := context.WithTimeout(s.ctx, 60*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
		.then(function (r) { return r.violations.map(function (v) {
			return v.id + ' (' + v.impact + '): ' + v.help + ' — ' + v.nodes.map(function (n) { return n.target.join(' ') + ' ' + n.failureSummary; }).join(' | ');
		}); })`, chromedp.EvalAwaitPromise))
	if err != nil {
		s.b.t.Fatalf("axe: %v", err)
	}
	return out
}

// checkA11y fails the test for any WCAG 2.1 A/AA violation axe finds on the page.
func checkA11y(t *testing.T, s *session, page string) {
	t.Helper()
	for _, v := range axeViolations(s) {
		t.Errorf("%s: %s", page, v)
	}
}

// TestBrowserMapsAndA11y: with no tile service the public form's map draws the county's boundary
// and its grids as vector paths, no tiles; with an XYZ source the maps fetch its tiles; the
// citizens' pages pass axe-core's WCAG 2.1 A/AA rules on a phone; a report needs no map click.
func TestBrowserMapsAndA11y(t *testing.T) {
	f := surveyFixture(t, "sqlite")
	b := newBrowser(t, f.listen(t))
	s := b.user("citizen")
	s.do(chromedp.EmulateViewport(360, 780, chromedp.EmulateMobile))

	// Offline: the boundary (楚雄市 from the atlas) and A's unit grid, as SVG paths.
	s.visit("/r/chuxiong/")
	waitJS(s, "the offline layers", `document.querySelectorAll('#public-map .leaflet-overlay-pane path').length >= 2`)
	if n := eval[int](s, `document.querySelectorAll('#public-map .leaflet-tile').length`); n != 0 {
		t.Errorf("offline map has %d tiles", n)
	}
	if w := eval[float64](s, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("the report form is %v px wide on a 360 px phone", w)
	}
	s.shot("public-form-offline")
	checkA11y(t, s, "report form")

	// The place picker offers A's grid names; a report by place, without a map click.
	s.do(chromedp.Focus(chromedp.CSS("#p-addr")))
	s.do(chromedp.SendKeys(chromedp.CSS("#p-addr"), "A社"))
	waitJS(s, "the place names", `Array.from(document.querySelectorAll('#p-places option')).some(function (o) { return o.value === 'A社区'; })`)
	s.fill("#p-addr", "A社区")
	s.fill("#p-service", "component-0101")
	s.fill("#p-desc", "路灯不亮")
	s.click(".public-form button[type=submit]")
	waitJS(s, "the progress page", `location.pathname === '/r/chuxiong/lookup' && document.querySelector('.case-number') !== null`)
	s.shot("public-follow")
	checkA11y(t, s, "follow page")

	// The public map: the problem as a marker, the list, the follow form.
	s.visit("/r/chuxiong/map")
	waitJS(s, "the problem's marker", `document.querySelectorAll('#problems-map .leaflet-marker-pane > *, #problems-map .leaflet-overlay-pane path').length >= 3`)
	if got := s.text("#pm-list"); !strings.Contains(got, "1") {
		t.Errorf("list heading %q", got)
	}
	if w := eval[float64](s, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("the public map is %v px wide on a 360 px phone", w)
	}
	s.shot("public-map")
	checkA11y(t, s, "public map")

	// The survey page (by link).
	s.visit("/r/chuxiong/survey")
	checkA11y(t, s, "survey page")

	// An XYZ source: every map requests its tiles from it.
	var hits atomic.Int32
	png, _ := base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
	tiles := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write(png)
	}))
	defer tiles.Close()
	if res, _ := f.do(t, "adminA", "PUT", "/api/v1/t/chuxiong/map/tiles", fmt.Sprintf(`{"kind":"xyz","url":"%s/{z}/{x}/{y}.png","attribution":"测试瓦片"}`, tiles.URL)); res.status != 200 {
		t.Fatalf("xyz: %d %s", res.status, res.body)
	}
	s.visit("/r/chuxiong/map")
	waitJS(s, "tiles from the XYZ server", `document.querySelectorAll('#problems-map img.leaflet-tile-loaded').length > 0`)
	if hits.Load() == 0 {
		t.Error("no tile was requested from the XYZ server")
	}
	if got := s.text("#problems-map .leaflet-control-attribution"); !strings.Contains(got, "测试瓦片") {
		t.Errorf("attribution %q", got)
	}
	// The console's maps use the same source: the admin's case map.
	admin := b.user("adminA")
	admin.login("adminA@test.cn", testPassword)
	before := hits.Load()
	admin.visit("/t/chuxiong/map")
	waitJS(admin, "tiles on the case map", `document.querySelectorAll('.map img.leaflet-tile-loaded').length > 0`)
	if hits.Load() == before {
		t.Error("the case map requested no tiles")
	}
}
