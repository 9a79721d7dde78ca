package monitoring_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/billing"
)

// TestIngestHTTP: the ingest over HTTP: the device token as the bearer, every bad request a 4xx
// problem (never a 500), one usage record per batch of the accepted readings, idempotent by the
// batch; the API's writes refused to the prefecture viewer; readings as CSV with a BOM.
func TestIngestHTTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		u := &usage{}
		f := w.server(t, u, true)
		tok := w.mustDevice(t, w.e.A, "WL-1", "waterlog")
		tokB := w.mustDevice(t, w.e.B, "WL-9", "waterlog")
		const ingA, ingB = "/api/v1/ingest/chuxiong/readings", "/api/v1/ingest/wuding/readings"
		at := w.clk.Now().Add(-time.Minute).Format(time.RFC3339)
		ok := `{"batch":"b1","readings":[{"metric":"level","value":12.5,"at":"` + at + `"},{"metric":"level","value":13,"unit":"cm"},{"metric":"level","value":-3}]}`
		for _, tc := range []struct {
			name, path, tok, body string
			status                int
			want                  string
		}{
			{"no token", ingA, "", ok, 401, "Bearer"},
			{"bad token", ingA, "cod_wrong", ok, 401, "unauthorized"},
			{"A's token into B", ingB, tok, ok, 401, "unauthorized"},
			{"B's token into A", ingA, tokB, ok, 401, "unauthorized"},
			{"unknown tenant", "/api/v1/ingest/nowhere/readings", tok, ok, 404, "nowhere"},
			{"malformed JSON", ingA, tok, `{"readings":[{"metric":"level",`, 400, "invalid"},
			{"not an object", ingA, tok, `[1,2]`, 400, "invalid"},
			{"value a string", ingA, tok, `{"readings":[{"metric":"level","value":"high"}]}`, 400, "value"},
			{"bad time", ingA, tok, `{"readings":[{"metric":"level","value":1,"at":"yesterday"}]}`, 400, "at"},
			{"unknown member", ingA, tok, `{"readings":[],"evil":1}`, 400, "evil"},
			{"NUL in the metric", ingA, tok, `{"readings":[{"metric":"lev\u0000el","value":1}]}`, 400, "NUL"},
			{"oversize body", ingA, tok, `{"readings":[{"metric":"` + strings.Repeat("x", 1<<20) + `","value":1}]}`, 413, "too_large"},
			{"too many readings", ingA, tok, `{"readings":[` + strings.TrimSuffix(strings.Repeat(`{"metric":"level","value":1},`, 5001), ",") + `]}`, 413, "5000"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := post(t, f, tc.path, tc.tok, tc.body)
				if a.Status != tc.status || a.Type != "application/problem+json" || !strings.Contains(a.Body, tc.want) {
					t.Fatalf("%d %s %s, want %d with %q", a.Status, a.Type, a.Body, tc.status, tc.want)
				}
			})
		}
		if len(u.recs) != 0 {
			t.Fatalf("refused requests metered: %+v", u.recs)
		}
		r := result(t, post(t, f, ingA, tok, ok))
		if r.Accepted != 2 || r.Rejected["out_of_range"] != 1 {
			t.Fatalf("result %+v", r)
		}
		again := result(t, post(t, f, ingA, tok, ok))
		if !again.Duplicate || again.Accepted != 2 {
			t.Fatalf("again %+v", again)
		}
		none := result(t, post(t, f, ingA, tok, `{"readings":[{"metric":"level","value":900}]}`))
		if none.Accepted != 0 {
			t.Fatalf("none %+v", none)
		}
		keys := map[string]int64{}
		for _, rec := range u.recs {
			if rec.Tenant != w.e.TenantA.ID || rec.Meter != billing.MeterSensorReadings {
				t.Fatalf("record %+v", rec)
			}
			keys[rec.Key] = rec.Quantity
		}
		if len(keys) != 1 || keys["monitoring.batch:WL-1:b1"] != 2 {
			t.Fatalf("usage %+v", u.recs)
		}
		// Not entitled: refused before anything is read.
		if a := post(t, w.server(t, &usage{}, false), ingA, tok, ok); a.Status != 403 {
			t.Fatalf("not entitled: %d %s", a.Status, a.Body)
		}
		// The API: the viewer reads, and every write is refused.
		api := "/api/v1/t/chuxiong/monitoring"
		for _, tc := range []struct{ method, path, body string }{
			{"POST", "/devices", `{"code":"X-1","type":"gas","lon":101.5,"lat":25.0}`},
			{"PATCH", "/devices/WL-1", `{"name":"x"}`},
			{"DELETE", "/devices/WL-1", ""},
			{"POST", "/devices/WL-1/token", ""},
			{"PUT", "/settings", `{"raw_days":1,"minute_days":1,"hour_days":1,"day_days":0,"offline_minutes":5}`},
			{"POST", "/devices/import", "code,type,lon,lat\nX-2,gas,101.5,25.0\n"},
		} {
			req := httptest.NewRequest(tc.method, api+tc.path+"?as=view", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			if a := send(t, f, req); a.Status != 403 || a.Type != "application/problem+json" {
				t.Errorf("viewer %s %s: %d %s", tc.method, tc.path, a.Status, a.Body)
			}
		}
		if a := send(t, f, httptest.NewRequest("GET", api+"/devices/WL-1?as=view", nil)); a.Status != 200 || !strings.Contains(a.Body, `"latest":[{"metric":"level"`) {
			t.Fatalf("viewer reads: %d %s", a.Status, a.Body)
		}
		from := w.clk.Now().Add(-time.Hour).Format(time.RFC3339)
		a := send(t, f, httptest.NewRequest("GET", api+"/devices/WL-1/readings?format=csv&resolution=minute&from="+from, nil))
		if a.Status != 200 || !strings.HasPrefix(a.Body, "\ufeffat,count,min,max,avg,last,unit\n") || !strings.Contains(a.Body, ",1,12.5,12.5,12.5,12.5,cm") {
			t.Fatalf("CSV: %d %q", a.Status, a.Body)
		}
		a = send(t, f, httptest.NewRequest("GET", api+"/devices/WL-1/readings?from="+from, nil))
		var ser struct {
			Resolution string
			Points     []json.RawMessage
		}
		if json.Unmarshal([]byte(a.Body), &ser); a.Status != 200 || ser.Resolution != "raw" || len(ser.Points) != 2 {
			t.Fatalf("JSON: %d %s", a.Status, a.Body)
		}
		for _, q := range []string{"?metric=strain", "?resolution=week", "?from=soon", "?format=xml", "?from=2026-12-08&to=2026-12-07"} {
			if a := send(t, f, httptest.NewRequest("GET", api+"/devices/WL-1/readings"+q, nil)); a.Status != 400 {
				t.Errorf("readings%s: %d %s", q, a.Status, a.Body)
			}
		}
		a = send(t, f, httptest.NewRequest("GET", api+"/rejections", nil))
		if a.Status != 200 || !strings.Contains(a.Body, `"reason":"out_of_range","count":2`) {
			t.Fatalf("rejections: %d %s", a.Status, a.Body)
		}
		req := httptest.NewRequest("POST", api+"/devices", strings.NewReader(`{"code":"GAS-1","type":"燃气","lon":101.6,"lat":25.1}`))
		req.Header.Set("Content-Type", "application/json")
		if a := send(t, f, req); a.Status != 201 || !strings.Contains(a.Body, `"token":"cod_`) || !strings.Contains(a.Body, `"type":"gas"`) {
			t.Fatalf("create: %d %s", a.Status, a.Body)
		}
		req = httptest.NewRequest("POST", api+"/devices/import", strings.NewReader("设备编码,类型,经度,纬度\nBIN-1,垃圾桶满溢,101.6,25.1\n"))
		req.Header.Set("Content-Type", "text/csv")
		if a := send(t, f, req); a.Status != 200 || !strings.Contains(a.Body, `"devices":[{"code":"BIN-1","token":"cod_`) {
			t.Fatalf("import: %d %s", a.Status, a.Body)
		}
		req = httptest.NewRequest("POST", api+"/devices/import", strings.NewReader("设备编码,类型,经度,纬度\nBIN-1,垃圾桶满溢,101.6,25.1\n"))
		req.Header.Set("Content-Type", "text/csv")
		if a := send(t, f, req); a.Status != 422 || !strings.Contains(a.Body, `"problems"`) {
			t.Fatalf("import again: %d %s", a.Status, a.Body)
		}
		_ = fmt.Sprint()
	})
}
