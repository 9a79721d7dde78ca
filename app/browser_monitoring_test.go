package app

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/tenants"
)

// The monitoring journey's steps, each a helper.

// monitoringJourney is a county (chuxiong) and the prefecture on the standard plan, which sells
// monitoring, served on a loopback port with a browser.
type monitoringJourney struct {
	f    *fixture
	addr string
	b    *browser
}

func newMonitoringJourney(t *testing.T) *monitoringJourney {
	t.Helper()
	f := newFixture(t, "sqlite")
	for _, slug := range []string{"chuxiong", "wuding", "chuxiong-zhou"} {
		evalPlan(t, f, slug)
	}
	addr := f.listen(t)
	return &monitoringJourney{f: f, addr: addr, b: newBrowser(t, addr)}
}

// addDevice makes a device in slug as who, through the API.
func (j *monitoringJourney) addDevice(t *testing.T, who, slug, body string) {
	t.Helper()
	if res, err := j.f.do(t, who, "POST", "/api/v1/t/"+slug+"/monitoring/devices", body); err != nil || res.status != 201 {
		t.Fatalf("device in %s: %v %+v", slug, err, res)
	}
}

// simulate runs the device simulator (cityops monitoring simulate) against the served app: the
// tenant's first n simulated devices (SIM-0001…) post readings through the HTTP ingest for d.
func (j *monitoringJourney) simulate(t *testing.T, slug string, n int, d time.Duration) *monitoring.SimReport {
	t.Helper()
	rep, err := j.f.app.platform.monitoring.Simulate(context.Background(), monitoring.SimConfig{Tenant: slug, Devices: n, Rate: n, Duration: d,
		URL: "http://" + j.addr, Lon: 101.505, Lat: 25.005}, io.Discard)
	if err != nil || rep.Accepted == 0 {
		t.Fatalf("simulate: %+v %v", rep, err)
	}
	return rep
}

// addRule adds an alarm rule in slug as who, through the API.
func (j *monitoringJourney) addRule(t *testing.T, who, slug, body string) {
	t.Helper()
	if res, err := j.f.do(t, who, "POST", "/api/v1/t/"+slug+"/monitoring/rules", body); err != nil || res.status != 201 {
		t.Fatalf("rule in %s: %v %+v", slug, err, res)
	}
}

// simulateIncident runs the simulator with its incident (cityops monitoring simulate --incident):
// the tenant's first simulated device (SIM-0001) reports what the usual rules alarm on for d.
func (j *monitoringJourney) simulateIncident(t *testing.T, slug string, d time.Duration) {
	t.Helper()
	rep, err := j.f.app.platform.monitoring.Simulate(context.Background(), monitoring.SimConfig{Tenant: slug, Devices: 1, Rate: 1, Duration: d,
		URL: "http://" + j.addr, Lon: 101.505, Lat: 25.005, Incident: true}, io.Discard)
	if err != nil || rep.Accepted == 0 {
		t.Fatalf("simulate --incident: %+v %v", rep, err)
	}
}

// openAlarmCases makes one pass of the alarms' case opener over slug, as the server's loop
// "monitoring alarm cases" does (the journey's app runs no loops).
func (j *monitoringJourney) openAlarmCases(t *testing.T, slug string) {
	t.Helper()
	ctx := context.Background()
	ten, err := j.f.app.store.FindTenantBySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := j.f.app.platform.monitoring.OpenAlarmCases(tenants.WithScope(ctx, tenants.SystemScope(ten))); err != nil || n != 1 {
		t.Fatalf("the case opener opened %d cases: %v", n, err)
	}
}

// openLiveMap opens path (a live map or screen) and waits for its script to have drawn the
// snapshot; it marks the window, so that markWindowKept tells a reload.
func openLiveMap(s *session, path string) {
	s.b.t.Helper()
	s.visit(path)
	waitJS(s, "the live view drew its snapshot", `document.getElementById('live') && document.getElementById('live').dataset.ready === 'true'`)
	eval[bool](s, `window.__liveKept = true`)
}

// windowKept fails unless the page was not reloaded since openLiveMap.
func windowKept(s *session) {
	s.b.t.Helper()
	if !eval[bool](s, `window.__liveKept === true`) {
		s.b.t.Fatalf("%s: the page was reloaded", s.name)
	}
}

// markerLevel is the level (critical, warning, info, online, offline) of the marker of device
// key (unit/code), "" when the map has no such marker.
func markerLevel(s *session, key string) string {
	return eval[string](s, `(function(){var p=document.querySelector('path[data-device="`+key+`"]');return p?p.getAttribute('data-level'):''})()`)
}

// waitMarkerLevel waits for the marker of key to show level.
func waitMarkerLevel(s *session, key, level string) {
	s.b.t.Helper()
	waitJS(s, "the marker of "+key+" turning "+level, `(function(){var p=document.querySelector('path[data-device="`+key+`"]');return !!p&&p.getAttribute('data-level')==='`+level+`'})()`)
}

// markerColour is the fill colour of the marker of key.
func markerColour(s *session, key string) string {
	return eval[string](s, `(function(){var p=document.querySelector('path[data-device="`+key+`"]');return p?p.getAttribute('fill'):''})()`)
}

// TestBrowserMonitoring: a county's member opens the live device map, where the county's
// simulated device is offline (grey); the simulator posts its readings through the HTTP ingest
// and, without a reload, the marker turns online (green) and the legend counts it. With a rule of
// the county's admin, the simulator's incident raises an alarm: it appears in the alarm list and
// turns the marker red; the case it opened is linked from its row and followed to its page; the
// water drained, the rule clears the alarm, which leaves the list, and the marker is green again. The device's page charts
// its readings. The prefecture's viewer opens the prefecture's big screen, which
// shows the county's device, and another county's admin gets a 404 for the county's map.
func TestBrowserMonitoring(t *testing.T) {
	j := newMonitoringJourney(t)
	j.addDevice(t, "adminA", "chuxiong", `{"code":"SIM-0001","name":"东门积水","type":"waterlog","lon":101.505,"lat":25.005}`)
	j.addDevice(t, "adminB", "wuding", `{"code":"WD-1","name":"武定燃气","type":"gas","lon":102.4,"lat":25.5}`)

	s := j.b.user("inspectorA")
	s.login("inspectorA@test.cn", testPassword)
	s.visit("/t/chuxiong/monitoring")
	s.clickTo(`#open-map`, "/t/chuxiong/monitoring/map")
	openLiveMap(s, "/t/chuxiong/monitoring/map")
	const dev = "chuxiong/SIM-0001"
	if got := markerLevel(s, dev); got != "offline" {
		t.Fatalf("the device's marker is %q before any reading, want offline", got)
	}
	grey := markerColour(s, dev)
	if n := eval[int](s, `document.querySelectorAll('path[data-device]').length`); n != 1 {
		t.Fatalf("the county's map shows %d markers, want its 1 device", n)
	}
	s.waitText(`.live-legend [data-count="offline"]`, "1")
	s.waitText("#live-no-alarms", "暂无未消除的告警")
	s.shot("map-offline")

	j.simulate(t, "chuxiong", 1, 2*time.Second)
	waitMarkerLevel(s, dev, "online")
	windowKept(s)
	if green := markerColour(s, dev); green == grey || green == "" {
		t.Fatalf("the marker's colour did not change (%q → %q)", grey, green)
	}
	s.waitText(`.live-legend [data-count="online"]`, "1")
	s.waitText(`.live-legend [data-count="offline"]`, "0")
	if eval[int](s, `+document.getElementById('live').dataset.events || 0`) < 1 {
		t.Fatal("the change did not come over the live stream")
	}
	s.shot("map-online")

	// A rule of the county's admin (water above 20 cm, clearing at 15, a case at once); the
	// simulator's device reports water at 45 cm: without a reload the alarm's row appears and
	// the marker turns red; the case the alarm opened is linked from its row, and followed to
	// the case's page.
	j.addRule(t, "adminA", "chuxiong", `{"name":"东门积水超限","device_type":"waterlog","metric":"level","kind":"above","threshold":20,"clear_at":15,`+
		`"severity":"critical","action":"case","case_kind":"event","class_code":"0406","description":"东门积水超过 20 厘米"}`)
	j.simulateIncident(t, "chuxiong", 2*time.Second)
	row := `#live-alarms tr[data-alarm^="chuxiong/"]`
	s.waitText(row, "超过上限")
	waitMarkerLevel(s, dev, "critical")
	s.waitText(`[data-k="alarms"]`, "1")
	if got := s.text(row + ` td.sev-critical`); got != "严重" {
		t.Fatalf("the alarm's severity reads %q", got)
	}
	if eval[string](s, `document.querySelector('`+row+` a').getAttribute('href')`) != "/t/chuxiong/monitoring/devices/SIM-0001" {
		t.Fatal("the alarm's row does not link to its device")
	}
	s.shot("map-alarm")
	j.openAlarmCases(t, "chuxiong")
	caseLink := row + ` a[href^="/t/chuxiong/cases/"]`
	waitJS(s, "the alarm's case linked from its row", `document.querySelector('`+caseLink+`') !== null`)
	windowKept(s)
	href := eval[string](s, `document.querySelector('`+caseLink+`').getAttribute('href')`)
	s.clickTo(caseLink, href)
	s.waitText("body", "东门积水超过 20 厘米")
	s.waitText("body", "运行监测告警")
	s.shot("alarm-case")

	// The water drains (the simulator's usual readings, below 15 cm): the rule clears the alarm,
	// its row leaves the list and the marker is green again.
	openLiveMap(s, "/t/chuxiong/monitoring/map")
	j.simulate(t, "chuxiong", 1, 2*time.Second)
	waitJS(s, "the cleared alarm leaving the list", `document.querySelector('`+row+`') === null`)
	waitMarkerLevel(s, dev, "online")
	windowKept(s)

	// The popup, then the device's page with its chart and its table.
	eval[bool](s, `document.querySelector('path[data-device="`+dev+`"]').dispatchEvent(new MouseEvent('click', {bubbles: true}))`)
	s.waitText(".leaflet-popup-content", "东门积水")
	s.waitText(".leaflet-popup-content .live-latest", "cm")
	s.clickTo(`.leaflet-popup-content a[href="/t/chuxiong/monitoring/devices/SIM-0001"]`, "/t/chuxiong/monitoring/devices/SIM-0001")
	waitJS(s, "the readings chart", `document.querySelector('#readings-chart svg') !== null`)
	if n := eval[int](s, `document.querySelectorAll('table.monitoring-readings tbody tr').length`); n < 1 {
		t.Fatalf("the readings table has %d rows", n)
	}
	s.shot("device-chart")

	// In English: the same map, its words from the catalog.
	openLiveMap(s, "/t/chuxiong/monitoring/map?lang=en")
	s.waitText("h1", "Device map")
	s.waitText(".live-legend", "Online 1")
	s.waitText("#live-no-alarms", "No open alarm.")

	// The prefecture's viewer: the big screen across its counties, read-only.
	v := j.b.user("viewer")
	v.do(chromedp.EmulateViewport(1920, 1080))
	v.login("viewer@test.cn", testPassword)
	openLiveMap(v, "/t/chuxiong-zhou/monitoring/screen")
	waitMarkerLevel(v, dev, "online")
	waitMarkerLevel(v, "wuding/WD-1", "offline")
	v.waitText(`[data-k="devices"]`, "2")
	if r := eval[[]int](v, `(function(){var r=document.getElementById('live').getBoundingClientRect();return [r.width|0,r.height|0]})()`); r[0] != 1920 || r[1] != 1080 {
		t.Fatalf("the screen covers %v, want 1920×1080", r)
	}
	v.shot("prefecture-screen")

	// Another county's admin: no such page.
	o := j.b.user("adminB")
	o.login("adminB@test.cn", testPassword)
	o.visit("/t/chuxiong/monitoring/map")
	if eval[bool](o, `document.getElementById('live') !== null`) || eval[bool](o, `document.body.textContent.indexOf('SIM-0001') >= 0`) {
		t.Fatal("another county's admin sees the county's live map")
	}
}
