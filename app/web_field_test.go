package app

import (
	"strings"
	"testing"

	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/gofiber/fiber/v2"
)

// The samples of 城管通's pages for TestEveryPageRenders.
func init() {
	row := console.CaseRow{Case: cases.Case{ID: "c1", Number: "532301-2026-000001", State: cases.Verifying, Description: "<b>井盖</b>", Address: "北浦路", Lat: 25.03, Lon: 101.54, Version: 3},
		ClassName: "上水井盖", Late: true}
	samplePage("field", fiber.Map{"Tenant": sampleTenant, "Base": "/t/chuxiong", "API": "/api/v1/t/chuxiong"},
		fiber.Map{"Base": "/t/chuxiong", "API": "/api/v1/t/chuxiong", "CSRF": "tok", "Waiting": int64(2),
			"Classes": []catalog.Class{{Kind: "component", Code: "0101", NameZH: "上水井盖"}, {Kind: "event", Code: "0201", NameZH: "<i>暴露垃圾</i>"}},
			"Tasks":   []console.FieldTask{{CaseRow: row, Action: cases.Verify, Photo: "/api/v1/t/chuxiong/cases/c1/photos/p1"}, {CaseRow: row, Action: cases.Check}},
			"Mine":    []console.CaseRow{row}})
	samplePage("field_tracks", fiber.Map{"Map": sampleMap, "Base": "/t/chuxiong", "Day": "2026-05-14"},
		fiber.Map{"Map": sampleMap, "Base": "/t/chuxiong", "Day": "2026-05-14",
			"Tracks": []map[string]any{{"Email": "<b>inspector</b>@test.cn", "From": "08:00", "To": "11:30", "Color": "#7c3aed", "Km": 3.2, "Points": 120}},
			"Layers": []map[string]any{{"kind": "tracks", "fit": true, "data": map[string]any{"type": "FeatureCollection", "features": []any{}}}}})
}

// TestWebField: 城管通's pages for their people and nobody else: the workspace, its manifest
// and service worker (content types and scope), the track map; tenant B's admin, the prefecture
// and a post without tracks are refused.
func TestWebField(t *testing.T) {
	w := newCaseWeb(t, "sqlite")
	checks := []struct {
		who, path string
		status    int
		want      string
	}{
		{"inspectorA", "/t/chuxiong/m/", 200, `rel="manifest"`},
		{"inspectorA", "/t/chuxiong/m/manifest.webmanifest", 200, `"start_url":"/t/chuxiong/m/"`},
		{"inspectorA", "/t/chuxiong/m/sw.js", 200, "registration.scope"},
		{"shiftA", "/t/chuxiong/tracks", 200, "巡查轨迹"},
		{"shiftA", "/t/chuxiong/tracks?date=yesterday", 400, ""},
		{"shiftA", "/t/chuxiong/m/", 403, ""},
		{"handlerA", "/t/chuxiong/tracks", 403, ""},
		{"inspectorA", "/t/chuxiong/tracks", 403, ""},
		{"adminB", "/t/chuxiong/m/", 404, ""},
		{"adminB", "/t/chuxiong/tracks", 404, ""},
		{"viewer", "/t/chuxiong/m/", 403, ""},
		{"viewer", "/t/chuxiong/tracks", 403, ""},
	}
	for _, c := range checks {
		res := w.get(t, c.who, c.path)
		if res.status != c.status || !strings.Contains(res.body, c.want) {
			t.Errorf("%s GET %s: %d, want %d with %q: %.300s", c.who, c.path, res.status, c.status, c.want, res.body)
		}
		switch {
		case strings.HasSuffix(c.path, "sw.js") && res.status == 200:
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") || res.header.Get("Service-Worker-Allowed") != "/t/chuxiong/m/" {
				t.Errorf("sw.js: %s, allowed %q", ct, res.header.Get("Service-Worker-Allowed"))
			}
		case strings.HasSuffix(c.path, ".webmanifest") && res.status == 200:
			if ct := res.header.Get("Content-Type"); ct != "application/manifest+json" || !strings.Contains(res.body, `"display":"standalone"`) || !strings.Contains(res.body, "icon-512.png") {
				t.Errorf("manifest: %s %s", ct, res.body)
			}
		}
	}
}
