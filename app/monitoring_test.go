package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/platform/monitoring"
	"github.com/gofiber/fiber/v2"
)

func init() {
	dev := &monitoring.Device{Code: "MH-1", Name: "北门<井盖>", Type: "manhole", Lon: 101.5, Lat: 25.0, GridCode: ptrTo("53230100100101"),
		ComponentCode: ptrTo("5323010101000001"), Status: "online", LastSeen: &sampleNow, CreatedAt: sampleNow, UpdatedAt: sampleNow}
	names := map[string]string{"manhole": "井盖"}
	samplePage("monitoring/devices", fiber.Map{"Base": "/t/chuxiong", "TypeNames": names, "Types": monitoring.Types},
		fiber.Map{"Base": "/t/chuxiong", "Devices": []*monitoring.Device{dev, {Code: "GAS-1", Type: "gas", Status: "offline"}}, "TypeNames": names,
			"Types": monitoring.Types, "Type": "manhole", "Status": "online"})
	typ, _ := monitoring.FindType("manhole")
	series := func(res string, ps []monitoring.Point) *monitoring.Series {
		return &monitoring.Series{Device: "MH-1", Metric: "tilt", Unit: "°", Resolution: res, From: sampleNow.Add(-time.Hour), To: sampleNow, Points: ps}
	}
	base := func(ser *monitoring.Series, latest []monitoring.Latest) fiber.Map {
		return fiber.Map{"Base": "/t/chuxiong", "Device": dev, "TypeName": "井盖", "Metrics": typ.Metrics, "MetricNames": map[string]string{"tilt": "倾角", "open": "开启"},
			"Latest": latest, "Series": ser, "Metric": "tilt", "Period": "24h", "Periods": []struct {
				Key string
				D   time.Duration
			}{{"1h", time.Hour}, {"24h", 24 * time.Hour}}, "Resolutions": monitoring.Resolutions, "Zone": time.UTC}
	}
	samplePage("monitoring/device", base(series("raw", nil), nil),
		base(series("hour", []monitoring.Point{{At: sampleNow, N: 3, Min: 1, Max: 3, Avg: 2, Last: 3}}),
			[]monitoring.Latest{{Metric: "tilt", Unit: "°", Value: 3, At: sampleNow}}))
}

func ptrTo[T any](v T) *T { return &v }

// TestMonitoringAccess: monitoring's API for its owner, another county's admin (404 everywhere,
// none of A's data), the prefecture's viewer (reads, and 403 on every write) and a member who is
// not an admin; bad input is a 4xx problem; the ingest takes a device's token and no member's,
// refuses a token of another tenant, meters the accepted readings once per batch and counts the
// rejections in Prometheus.
func TestMonitoringAccess(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			const mon = "/api/v1/t/chuxiong/monitoring"
			// On the starter plan: neither the API nor the ingest.
			runScenarios(t, f, []scenario{
				{"API on the starter plan", "adminA", "GET", mon + "/devices", "", 403, "Monitoring", ""},
				{"ingest on the starter plan", "adminA", "POST", "/api/v1/ingest/chuxiong/readings", `{"readings":[]}`, 403, "monitoring", ""},
			})
			evalPlan(t, f, "chuxiong") // the standard plan sells monitoring
			evalPlan(t, f, "wuding")
			res, err := f.do(t, "adminA", "POST", mon+"/devices", `{"code":"WL-1","name":"东门积水","type":"积水","lon":101.505,"lat":25.005}`)
			if err != nil || res.status != 201 {
				t.Fatalf("create: %v %+v", err, res)
			}
			var made struct{ Token string }
			json.Unmarshal([]byte(res.body), &made)
			f.tokens["deviceA"] = made.Token
			res, _ = f.do(t, "adminB", "POST", "/api/v1/t/wuding/monitoring/devices", `{"code":"WL-9","type":"waterlog","lon":102.4,"lat":25.5}`)
			json.Unmarshal([]byte(res.body), &made)
			f.tokens["deviceB"] = made.Token
			const ing = "/api/v1/ingest/chuxiong/readings"
			batch := `{"batch":"b-1","readings":[{"metric":"level","value":12.5},{"metric":"level","value":900},{"metric":"depth","value":1}]}`
			newDev := `{"code":"GAS-1","type":"gas","lon":101.6,"lat":25.1}`
			runScenarios(t, f, []scenario{
				{"device posts", "deviceA", "POST", ing, batch, 200, `"accepted":1`, ""},
				{"device posts again", "deviceA", "POST", ing, batch, 200, `"duplicate":true`, ""},
				{"A's device into B", "deviceA", "POST", "/api/v1/ingest/wuding/readings", batch, 401, "", ""},
				{"B's device into A", "deviceB", "POST", ing, batch, 401, "", ""},
				{"a member's API token", "adminA", "POST", ing, batch, 401, "", ""},
				{"no token", "", "POST", ing, batch, 401, "", ""},
				{"unknown tenant", "deviceA", "POST", "/api/v1/ingest/nowhere/readings", batch, 404, "", ""},
				{"malformed", "deviceA", "POST", ing, `{"readings":[`, 400, "", ""},
				{"wrong type", "deviceA", "POST", ing, `{"readings":[{"metric":"level","value":true}]}`, 400, "value", ""},
				{"NUL", "deviceA", "POST", ing, `{"readings":[{"device":"WL\u00001","metric":"level","value":1}]}`, 400, "", ""},
				{"a device token is no API token", "deviceA", "GET", mon + "/devices", "", 401, "", ""},
				{"admin lists", "adminA", "GET", mon + "/devices", "", 200, `"status":"online"`, "token_hash"},
				{"admin reads", "adminA", "GET", mon + "/devices/WL-1", "", 200, `"value":12.5`, ""},
				{"admin reads readings", "adminA", "GET", mon + "/devices/WL-1/readings?resolution=hour", "", 200, `"count":1`, ""},
				{"admin reads rejections", "adminA", "GET", mon + "/rejections", "", 200, `"reason":"out_of_range","count":1`, ""},
				{"admin reads types", "adminA", "GET", mon + "/types", "", 200, `"%LEL"`, ""},
				{"admin reads settings", "adminA", "GET", mon + "/settings", "", 200, `"raw_days":30`, ""},
				{"B lists A's", "adminB", "GET", mon + "/devices", "", 404, "", "WL-1"},
				{"B reads A's", "adminB", "GET", mon + "/devices/WL-1", "", 404, "", "东门"},
				{"B reads A's readings", "adminB", "GET", mon + "/devices/WL-1/readings", "", 404, "", ""},
				{"B reads A's rejections", "adminB", "GET", mon + "/rejections", "", 404, "", ""},
				{"B reads A's settings", "adminB", "GET", mon + "/settings", "", 404, "", ""},
				{"B creates in A", "adminB", "POST", mon + "/devices", newDev, 404, "", ""},
				{"B changes A's", "adminB", "PATCH", mon + "/devices/WL-1", `{"name":"x"}`, 404, "", ""},
				{"B rotates A's", "adminB", "POST", mon + "/devices/WL-1/token", "", 404, "", ""},
				{"B deletes A's", "adminB", "DELETE", mon + "/devices/WL-1", "", 404, "", ""},
				{"B's own are B's", "adminB", "GET", "/api/v1/t/wuding/monitoring/devices", "", 200, "WL-9", "WL-1"},
				{"viewer lists", "viewer", "GET", mon + "/devices", "", 200, "WL-1", "token_hash"},
				{"viewer reads", "viewer", "GET", mon + "/devices/WL-1/readings?format=csv", "", 200, "\ufeffat,", ""},
				{"viewer creates", "viewer", "POST", mon + "/devices", newDev, 403, "", ""},
				{"viewer changes", "viewer", "PATCH", mon + "/devices/WL-1", `{"name":"x"}`, 403, "", ""},
				{"viewer rotates", "viewer", "POST", mon + "/devices/WL-1/token", "", 403, "", "cod_"},
				{"viewer deletes", "viewer", "DELETE", mon + "/devices/WL-1", "", 403, "", ""},
				{"viewer changes settings", "viewer", "PUT", mon + "/settings", `{"raw_days":1,"minute_days":1,"hour_days":1,"day_days":0,"offline_minutes":5}`, 403, "", ""},
				{"inspector creates", "inspectorA", "POST", mon + "/devices", newDev, 403, "tenant_admin", ""},
				{"bad type", "adminA", "POST", mon + "/devices", `{"code":"X-1","type":"toaster","lon":101.6,"lat":25.1}`, 400, `"field":"type"`, ""},
				{"unknown member", "adminA", "POST", mon + "/devices", `{"code":"X-1","type":"gas","lon":101.6,"lat":25.1,"evil":1}`, 400, `"field":"evil"`, ""},
				{"lon a string", "adminA", "POST", mon + "/devices", `{"code":"X-1","type":"gas","lon":"east","lat":25.1}`, 400, `"field":"lon"`, ""},
				{"NUL in the name", "adminA", "POST", mon + "/devices", `{"code":"X-1","type":"gas","lon":101.6,"lat":25.1,"name":"a\u0000b"}`, 400, `"field":"name"`, ""},
				{"taken code", "adminA", "POST", mon + "/devices", `{"code":"WL-1","type":"gas","lon":101.6,"lat":25.1}`, 409, `"field":"code"`, ""},
				{"bad status", "adminA", "GET", mon + "/devices?status=asleep", "", 400, `"field":"status"`, ""},
				{"bad resolution", "adminA", "GET", mon + "/devices/WL-1/readings?resolution=week", "", 400, `"field":"resolution"`, ""},
				{"bad settings", "adminA", "PUT", mon + "/settings", `{"raw_days":0,"minute_days":1,"hour_days":1,"day_days":0,"offline_minutes":5}`, 400, `"field":"raw_days"`, ""},
				{"unknown device", "adminA", "GET", mon + "/devices/NOPE", "", 404, "NOPE", ""},
			})
			// Metered once for the batch (sent twice), with the accepted readings only.
			if err := f.app.billing.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			ta, _ := f.app.store.FindTenantBySlug(context.Background(), "chuxiong")
			us, err := f.app.billing.FindUsage(context.Background(), billing.UsageFilter{Tenant: ta.ID, Meter: billing.MeterSensorReadings})
			if err != nil || len(us) != 1 || us[0].Quantity != 1 || us[0].Events != 1 {
				t.Fatalf("usage %+v %v", us, err)
			}
			// Rotating: the old token is refused at once.
			res, _ = f.do(t, "adminA", "POST", mon+"/devices/WL-1/token", "")
			json.Unmarshal([]byte(res.body), &made)
			if r, _ := f.do(t, "deviceA", "POST", ing, batch); r.status != 401 {
				t.Fatalf("rotated token: %d %s", r.status, r.body)
			}
			f.tokens["deviceA"] = made.Token
			if r, _ := f.do(t, "deviceA", "POST", ing, `{"readings":[{"metric":"level","value":3}]}`); r.status != 200 {
				t.Fatalf("new token: %d %s", r.status, r.body)
			}
			// Over its quota of sensor readings, the county keeps ingesting, and is metered.
			ctx := context.Background()
			if err := f.app.billing.Record(ctx, ta.ID, billing.MeterSensorReadings, 6_000_000, "test:over-quota"); err != nil {
				t.Fatal(err)
			}
			if err := f.app.billing.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			qs, err := f.app.billing.QuotaStatus(ctx, ta, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			over := false
			for _, q := range qs {
				over = over || (q.Meter == billing.MeterSensorReadings && q.Over)
			}
			if !over {
				t.Fatalf("not over the quota: %+v", qs)
			}
			if r, _ := f.do(t, "deviceA", "POST", ing, `{"batch":"over","readings":[{"metric":"level","value":4},{"metric":"level","value":5}]}`); r.status != 200 || !strings.Contains(r.body, `"accepted":2`) {
				t.Fatalf("over the quota: %d %s", r.status, r.body)
			}
			f.app.billing.Flush(ctx)
			us, _ = f.app.billing.FindUsage(ctx, billing.UsageFilter{Tenant: ta.ID, Meter: billing.MeterSensorReadings})
			var total int64
			for _, u := range us {
				total += u.Quantity
			}
			if total != 6_000_000+1+1+2 {
				t.Fatalf("usage over the quota: %d (%+v)", total, us)
			}
			// Prometheus.
			r, err := f.send(t, httptest.NewRequest("GET", "/metrics", nil))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`cityops_monitoring_readings_total{outcome="accepted",tenant="chuxiong"} 4`,
				`cityops_monitoring_readings_total{outcome="out_of_range",tenant="chuxiong"} 1`,
				`cityops_monitoring_readings_total{outcome="unknown_metric",tenant="chuxiong"} 1`,
				`cityops_monitoring_unauthorized_total{tenant="chuxiong"}`} {
				if !strings.Contains(r.body, want) {
					t.Errorf("metrics lack %s", want)
				}
			}
		})
	}
}

// TestMonitoringDemoPages: the demo county's devices and their readings on the console's pages,
// in both languages, for its admin and the prefecture's viewer.
func TestMonitoringDemoPages(t *testing.T) {
	_, f := demoApp(t)
	for _, who := range []string{"admin@chuxiong.demo", "viewer@chuxiong-zhou.demo"} {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"email": {who}, "password": {DemoPassword}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := f.send(t, req)
		if err != nil || res.status != 303 {
			t.Fatalf("login %s: %v %v", who, err, res)
		}
		cookie := regexp.MustCompile(sessionCookie + `=([^;]+)`).FindStringSubmatch(res.header.Get("Set-Cookie"))[1]
		for _, tc := range []struct{ path, lang, want string }{
			{"/t/chuxiong/monitoring", "zh-CN", `data-device="WL-001" data-status="online"`},
			{"/t/chuxiong/monitoring", "zh-CN", "垃圾桶满溢"},
			{"/t/chuxiong/monitoring?status=offline", "en", "No devices yet"},
			{"/t/chuxiong/monitoring/devices/WL-001", "zh-CN", "最新读数"},
			{"/t/chuxiong/monitoring/devices/WL-001?period=1h", "en", `<td class="num">`},
			{"/t/chuxiong/monitoring/devices/BR-001?metric=tilt&period=7d", "en", "Average"},
		} {
			sep := "?"
			if strings.Contains(tc.path, "?") {
				sep = "&"
			}
			res := webPage(t, f, cookie, "", "GET", tc.path+sep+"lang="+tc.lang, nil)
			if res.status != 200 || !strings.Contains(res.body, tc.want) {
				t.Errorf("%s %s: %d, lacks %q", who, tc.path, res.status, tc.want)
			}
		}
	}
}

// TestMonitoringQuotaWarning: a county past the sensor messages its plan includes keeps
// ingesting (nothing is refused or dropped for billing); the API reports the month's use against
// the plan and the console warns, in both languages, that the overage is billed.
func TestMonitoringQuotaWarning(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	p, err := f.app.billing.FindPlan(ctx, "standard")
	if err != nil {
		t.Fatal(err)
	}
	p.Code, p.NameZH, p.NameEN = "tiny_sensors", "传感器小套餐", "Few sensors"
	mp := p.Meters[billing.MeterSensorReadings]
	mp.Included, mp.UnitPriceFen, mp.UnitSize = 10, 5, 1
	p.Meters[billing.MeterSensorReadings] = mp
	if err := f.app.billing.PutPlan(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.billing.SetPlan(ctx, mustTenant(t, f, "chuxiong"), p.Code, nil); err != nil {
		t.Fatal(err)
	}
	const mon = "/api/v1/t/chuxiong/monitoring"
	res, err := f.do(t, "adminA", "POST", mon+"/devices", `{"code":"WL-9","type":"积水","lon":101.505,"lat":25.005}`)
	if err != nil || res.status != 201 {
		t.Fatalf("device: %v %+v", err, res)
	}
	var dev struct{ Token string }
	if err := json.Unmarshal([]byte(res.body), &dev); err != nil {
		t.Fatal(err)
	}
	page := func(lang string) string {
		t.Helper()
		cookie, _ := webLogin(t, f, "adminA")
		return webPage(t, f, cookie, "", "GET", "/t/chuxiong/monitoring?lang="+lang, nil).body
	}
	post := func(n int) {
		t.Helper()
		var rs []string
		for i := range n {
			rs = append(rs, fmt.Sprintf(`{"metric":"level","value":%d}`, i))
		}
		res, err := f.send(t, withHeaders(t, "POST", "/api/v1/ingest/chuxiong/readings", `{"readings":[`+strings.Join(rs, ",")+`]}`, dev.Token, nil))
		if err != nil || res.status != 200 || !strings.Contains(res.body, fmt.Sprintf(`"accepted":%d`, n)) {
			t.Fatalf("ingest of %d: %v %+v", n, err, res)
		}
		if err := f.app.billing.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	post(8) // 80 %: a warning, not yet billed
	if body := page("zh-CN"); !strings.Contains(body, `id="quota-notice"`) || !strings.Contains(body, "已达套餐所含 10 条的 80%") {
		t.Fatalf("no warning at 80 %%:\n%s", body)
	}
	post(4) // 12 of 10: every reading still taken, the overage billed
	res, err = f.do(t, "adminA", "GET", mon+"/quota", "")
	if err != nil || res.status != 200 || !strings.Contains(res.body, `"used":12`) || !strings.Contains(res.body, `"included":10`) || !strings.Contains(res.body, `"over":true`) || !strings.Contains(res.body, `"overage_fen":10`) {
		t.Fatalf("quota: %v %+v", err, res)
	}
	if body := page("zh-CN"); !strings.Contains(body, "超出套餐所含 10 条共 2 条") || !strings.Contains(body, "0.10 元") {
		t.Fatalf("no overage notice:\n%s", body)
	}
	if body := page("en"); !strings.Contains(body, "2 more than the 10 the plan includes") {
		t.Fatalf("no English notice:\n%s", body)
	}
	// Another county's admin cannot read chuxiong's quota.
	runScenarios(t, f, []scenario{{"B reads A's quota", "adminB", "GET", mon + "/quota", "", 404, "", ""}})
}
