package app

import (
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
