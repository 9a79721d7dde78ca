package app

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cityops/cityops/platform/monitoring"
	"github.com/gofiber/fiber/v2"
)

func init() {
	names := map[string]string{"manhole": "井盖", "gas": "燃气"}
	levels := []string{"critical", "warning", "info", "online", "offline"}
	words := monitoring.LiveWords{Types: names, Kinds: map[string]string{"above": "超过上限"}, Severity: map[string]string{"critical": "严重", "warning": "警告", "info": "提示"},
		Units: map[string]string{"chuxiong": "楚雄市"}}
	v := 42.5
	caseID := "c-1"
	al := &monitoring.LiveAlarm{Alarm: &monitoring.Alarm{ID: "a-1", Kind: "above", Severity: "critical", State: "raised", Value: &v, CaseID: &caseID,
		DeviceCode: "GAS-1", DeviceName: "北门<燃气>", RaisedAt: sampleNow}, Unit: "chuxiong", Key: "chuxiong/a-1", Open: true,
		DeviceLink: "/t/chuxiong/monitoring/devices/GAS-1", CaseLink: "/t/chuxiong/cases/c-1"}
	video := &monitoring.LiveAlarm{Alarm: &monitoring.Alarm{ID: "a-2", Kind: "occupied_road", Severity: "warning", State: "acknowledged", DeviceCode: "CAM-1",
		RaisedAt: sampleNow}, Unit: "chuxiong", Key: "chuxiong/a-2", Open: true, DeviceLink: "/t/chuxiong/monitoring/devices/CAM-1"}
	full := &monitoring.LiveState{At: sampleNow, Cursor: "1", Units: []monitoring.LiveUnit{{Slug: "chuxiong", Name: "楚雄市"}},
		Devices: []*monitoring.LiveDevice{{Unit: "chuxiong", Code: "GAS-1", Type: "gas", Status: "online", Alarm: "critical", Level: "critical"}},
		Alarms:  []*monitoring.LiveAlarm{al, video},
		Counts: monitoring.LiveCounts{Status: map[string]int{"online": 0, "offline": 0, "alarm": 1}, Types: map[string]int{"gas": 1},
			Severity: map[string]int{"critical": 1, "warning": 1}}}
	for _, page := range []string{"monitoring/map", "monitoring/screen"} {
		samplePage(page, fiber.Map{"Base": "/t/chuxiong", "State": &monitoring.LiveState{}, "Words": monitoring.LiveWords{}, "Types": monitoring.Types,
			"TypeNames": names, "Levels": levels, "Map": sampleMap, "Layers": []any{}},
			fiber.Map{"Base": "/t/chuxiong", "State": full, "Words": words, "Types": monitoring.Types, "TypeNames": names, "Levels": levels,
				"Stream": "/t/chuxiong/monitoring/live?since=1", "Prefecture": true, "Units": words.Units, "Map": sampleMap, "Layers": []any{}})
	}
}

// TestMonitoringLiveAccess: the live view's pages and feed for the county's admin, another
// county's admin (404 on every one of them), and the prefecture's viewer, whose own map shows
// every county's devices (read-only) and who reads a county's too.
func TestMonitoringLiveAccess(t *testing.T) {
	f := newFixture(t, "sqlite")
	for _, slug := range []string{"chuxiong", "wuding", "chuxiong-zhou"} {
		evalPlan(t, f, slug)
	}
	if res, err := f.do(t, "adminA", "POST", "/api/v1/t/chuxiong/monitoring/devices", `{"code":"WL-1","name":"东门积水","type":"waterlog","lon":101.505,"lat":25.005}`); err != nil || res.status != 201 {
		t.Fatalf("create: %v %+v", err, res)
	}
	if res, err := f.do(t, "adminB", "POST", "/api/v1/t/wuding/monitoring/devices", `{"code":"WL-9","name":"武定积水","type":"waterlog","lon":102.4,"lat":25.5}`); err != nil || res.status != 201 {
		t.Fatalf("create in B: %v %+v", err, res)
	}
	runScenarios(t, f, []scenario{
		{"A's live JSON", "adminA", "GET", "/api/v1/t/chuxiong/monitoring/live", "", 200, `"code":"WL-1"`, "WL-9"},
		{"B asks for A's live JSON", "adminB", "GET", "/api/v1/t/chuxiong/monitoring/live", "", 404, "", "WL-1"},
		{"the prefecture's live JSON", "viewer", "GET", "/api/v1/t/chuxiong-zhou/monitoring/live", "", 200, `"unit":"wuding","code":"WL-9"`, ""},
		{"the prefecture's viewer in A", "viewer", "GET", "/api/v1/t/chuxiong/monitoring/live", "", 200, `"code":"WL-1"`, "WL-9"},
		{"the prefecture's viewer writes", "viewer", "POST", "/api/v1/t/chuxiong/monitoring/devices", `{"code":"X-1","type":"gas","lon":101.6,"lat":25.1}`, 403, "", ""},
		{"bad cursor", "adminA", "GET", "/api/v1/t/chuxiong/monitoring/live?since=soon", "", 400, `"field":"since"`, ""},
	})
	cookieA, _ := webLogin(t, f, "adminA")
	cookieB, _ := webLogin(t, f, "adminB")
	cookieV, _ := webLogin(t, f, "viewer")
	for _, tc := range []struct {
		cookie, path string
		status       int
		want, not    string
	}{
		{cookieA, "/t/chuxiong/monitoring/map", 200, `data-stream="/t/chuxiong/monitoring/live?since=`, "WL-9"},
		{cookieA, "/t/chuxiong/monitoring/map?lang=en", 200, "Open alarms", ""},
		{cookieA, "/t/chuxiong/monitoring/screen", 200, "运行监测大屏", ""},
		{cookieA, "/t/chuxiong/monitoring", 200, `href="/t/chuxiong/monitoring/map"`, ""},
		{cookieA, "/t/chuxiong/monitoring/live", 200, `"code":"WL-1"`, ""},
		{cookieB, "/t/chuxiong/monitoring/map", 404, "", "WL-1"},
		{cookieB, "/t/chuxiong/monitoring/screen", 404, "", "WL-1"},
		{cookieB, "/t/chuxiong/monitoring/live", 404, "", "WL-1"},
		{cookieV, "/t/chuxiong-zhou/monitoring/map", 200, `"unit":"wuding"`, ""},
		{cookieV, "/t/chuxiong-zhou/monitoring/screen", 200, "楚雄州", ""},
		{cookieV, "/t/chuxiong/monitoring/map", 200, "WL-1", "WL-9"},
	} {
		res := webPage(t, f, tc.cookie, "", "GET", tc.path, nil)
		if res.status != tc.status || !strings.Contains(res.body, tc.want) || (tc.not != "" && strings.Contains(res.body, tc.not)) {
			t.Errorf("GET %s: %d, want %d with %q without %q\n%.2000s", tc.path, res.status, tc.status, tc.want, tc.not, res.body)
		}
	}
	// A stream for B on A's feed: refused before it starts.
	req := httptest.NewRequest("GET", "/t/chuxiong/monitoring/live", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cookie", sessionCookie+"="+cookieB)
	if res, err := f.send(t, req); err != nil || res.status != 404 || strings.Contains(res.body, "WL-1") {
		t.Fatalf("B's stream of A: %v %+v", err, res)
	}
}
