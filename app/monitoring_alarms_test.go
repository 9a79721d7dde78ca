package app

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

func init() {
	v, peak, by, caseID, cerr := 30.0, 32.0, "duty@test.cn", "01937a3c-0000-7000-8000-000000000001", "没有小类"
	alarms := []*monitoring.Alarm{
		{ID: "01937a3c-0000-7000-8000-0000000000a1", Kind: "above", Metric: "level", Severity: "critical", State: "raised", Message: "level 30cm > 20cm",
			Value: &v, Peak: &peak, Hits: 3, CaseStatus: "waiting", DeviceCode: "WL-1", DeviceName: "东门<积水>", RaisedAt: sampleNow, LastAt: sampleNow},
		{ID: "01937a3c-0000-7000-8000-0000000000a2", Kind: "no_data", Severity: "warning", State: "acknowledged", AckBy: &by, AckAt: &sampleNow,
			CaseStatus: "opened", CaseID: &caseID, DeviceCode: "GAS-1", RaisedAt: sampleNow, LastAt: sampleNow},
		{ID: "01937a3c-0000-7000-8000-0000000000a3", Kind: "rate", Severity: "info", State: "cleared", ClearedBy: &by, ClearedAt: &sampleNow,
			CaseStatus: "failed", CaseError: &cerr, DeviceCode: "BR-1", RaisedAt: sampleNow, LastAt: sampleNow},
	}
	states := []string{"raised", "acknowledged", "cleared"}
	samplePage("monitoring/alarms", fiber.Map{"Base": "/t/chuxiong", "State": "open", "States": states},
		fiber.Map{"Base": "/t/chuxiong", "Alarms": alarms, "State": "all", "States": states, "Device": "WL-1", "CanAct": true})
	names := map[string]string{"waterlog": "积水", "bridge": "桥梁"}
	dev, clear := "BR-1", 15.0
	rules := []*monitoring.Rule{
		{ID: "r1", Name: "积水<超限>", DeviceType: "waterlog", Metric: "level", Kind: "above", Threshold: 20, ClearAt: &clear, Severity: "warning",
			Action: "case", CaseKind: "event", ClassCode: "0406", Enabled: true},
		{ID: "r2", Name: "桥梁", DeviceType: "bridge", DeviceCode: &dev, Metric: "tilt", Kind: "rate", Threshold: 0.5, Severity: "critical", Action: "alarm"},
	}
	common := func(m fiber.Map) fiber.Map {
		m["Base"], m["TypeNames"], m["Types"], m["Kinds"] = "/t/chuxiong", names, monitoring.Types, monitoring.RuleKinds
		m["Severities"], m["Actions"] = monitoring.Severities, []string{"alarm", "confirm", "case"}
		return m
	}
	samplePage("monitoring/rules", common(fiber.Map{"Edit": monitoring.RuleInput{}}),
		common(fiber.Map{"Rules": rules, "Edit": monitoring.InputOf(rules[0]), "EditID": "r1", "EditEnabled": true, "CanAdmin": true}))
}

// TestMonitoringAlarms: the app gives monitoring the case loop and the catalog: a rule that
// opens cases is checked against the catalog, its alarm becomes a case with source sensor that
// the API shows; the alarm and rule endpoints are A's alone (404 for B), read-only for the
// prefecture viewer (403 on writes), and their actions are refused to an inspector.
func TestMonitoringAlarms(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			evalPlan(t, f, "chuxiong")
			evalPlan(t, f, "wuding")
			const mon = "/api/v1/t/chuxiong/monitoring"
			res, err := f.do(t, "adminA", "POST", mon+"/devices", `{"code":"WL-1","name":"东门积水","type":"积水","lon":101.505,"lat":25.005}`)
			if err != nil || res.status != 201 {
				t.Fatalf("device: %v %+v", err, res)
			}
			var made struct{ Token, ID string }
			json.Unmarshal([]byte(res.body), &made)
			f.tokens["deviceA"] = made.Token
			rule := `{"name":"积水超限","device_type":"waterlog","metric":"level","kind":"above","threshold":20,"clear_at":15,"action":"case","case_kind":"event","class_code":"0406"}`
			runScenarios(t, f, []scenario{
				{"unknown class", "adminA", "POST", mon + "/rules", `{"name":"x","device_type":"waterlog","metric":"level","kind":"above","threshold":20,"action":"case","case_kind":"event","class_code":"0999"}`, 400, `"field":"class_code"`, ""},
				{"inspector adds a rule", "inspectorA", "POST", mon + "/rules", rule, 403, "", ""},
				{"viewer adds a rule", "viewer", "POST", mon + "/rules", rule, 403, "", ""},
				{"B adds a rule in A", "adminB", "POST", mon + "/rules", rule, 404, "", ""},
				{"admin adds a rule", "adminA", "POST", mon + "/rules", rule, 201, `"class_code":"0406"`, ""},
				{"over the threshold", "deviceA", "POST", "/api/v1/ingest/chuxiong/readings", `{"readings":[{"metric":"level","value":30}]}`, 200, `"accepted":1`, ""},
			})
			res, _ = f.do(t, "adminA", "GET", mon+"/rules", "")
			var rs []struct{ ID string }
			json.Unmarshal([]byte(res.body), &rs)
			res, _ = f.do(t, "adminA", "GET", mon+"/alarms?state=open", "")
			var as []struct {
				ID         string
				CaseStatus string `json:"case_status"`
			}
			if json.Unmarshal([]byte(res.body), &as); len(as) != 1 || as[0].CaseStatus != "pending" || len(rs) != 1 {
				t.Fatalf("alarms %s", res.body)
			}
			ta, _ := f.app.store.FindTenantBySlug(context.Background(), "chuxiong")
			if n, err := f.app.platform.monitoring.OpenAlarmCases(tenants.WithScope(context.Background(), tenants.SystemScope(ta))); err != nil || n != 1 {
				t.Fatalf("open cases: %d %v", n, err)
			}
			a, r := mon+"/alarms/"+as[0].ID, mon+"/rules/"+rs[0].ID
			res, _ = f.do(t, "adminA", "GET", a, "")
			var got struct {
				CaseID string `json:"case_id"`
			}
			json.Unmarshal([]byte(res.body), &got)
			runScenarios(t, f, []scenario{
				{"the case", "adminA", "GET", "/api/v1/t/chuxiong/cases/" + got.CaseID, "", 200, `"source":"sensor"`, ""},
				{"B reads A's alarm", "adminB", "GET", a, "", 404, "", "WL-1"},
				{"B lists A's alarms", "adminB", "GET", mon + "/alarms", "", 404, "", "WL-1"},
				{"B reads A's rule", "adminB", "GET", r, "", 404, "", "积水"},
				{"B lists A's rules", "adminB", "GET", mon + "/rules", "", 404, "", "积水"},
				{"B changes A's rule", "adminB", "PUT", r, rule, 404, "", ""},
				{"B deletes A's rule", "adminB", "DELETE", r, "", 404, "", ""},
				{"B acknowledges A's alarm", "adminB", "POST", a + "/acknowledge", "", 404, "", ""},
				{"B clears A's alarm", "adminB", "POST", a + "/clear", "", 404, "", ""},
				{"B confirms A's alarm", "adminB", "POST", a + "/confirm", "", 404, "", ""},
				{"B dismisses A's alarm", "adminB", "POST", a + "/dismiss", "", 404, "", ""},
				{"viewer reads the alarm", "viewer", "GET", a, "", 200, `"case_status":"opened"`, ""},
				{"viewer reads the rules", "viewer", "GET", mon + "/rules", "", 200, "积水超限", ""},
				{"viewer changes the rule", "viewer", "PUT", r, rule, 403, "", ""},
				{"viewer deletes the rule", "viewer", "DELETE", r, "", 403, "", ""},
				{"viewer acknowledges", "viewer", "POST", a + "/acknowledge", "", 403, "", ""},
				{"viewer clears", "viewer", "POST", a + "/clear", "", 403, "", ""},
				{"inspector acknowledges", "inspectorA", "POST", a + "/acknowledge", "", 403, "", ""},
				{"admin acknowledges", "adminA", "POST", a + "/acknowledge", "", 200, `"acknowledged_by":"admina@test.cn"`, ""},
				{"admin clears", "adminA", "POST", a + "/clear", `{"reason":"已处置"}`, 200, `"cleared_by":"admina@test.cn"`, ""},
				{"over again", "deviceA", "POST", "/api/v1/ingest/chuxiong/readings", `{"readings":[{"metric":"level","value":40}]}`, 200, `"accepted":1`, ""},
			})
			// The console: the rules page and its forms, the alarm list and its buttons.
			cookie, csrf := webLogin(t, f, "adminA")
			if p := webPage(t, f, cookie, csrf, "GET", "/t/chuxiong/monitoring/rules?lang=en", nil); p.status != 200 || !strings.Contains(p.body, "积水超限") || !strings.Contains(p.body, "Add a rule") {
				t.Fatalf("rules page: %d", p.status)
			}
			form := url.Values{"name": {"井盖开启"}, "device_type": {"manhole"}, "metric": {"open"}, "kind": {"above"}, "threshold": {"0.5"},
				"severity": {"critical"}, "action": {"confirm"}, "case_kind": {"component"}, "class_code": {"0101"}, "enabled": {"1"}}
			if p := webPage(t, f, cookie, csrf, "POST", "/t/chuxiong/monitoring/rules", form); p.status != 303 {
				t.Fatalf("add rule: %d %s", p.status, p.body)
			}
			form.Set("threshold", "high")
			if p := webPage(t, f, cookie, csrf, "POST", "/t/chuxiong/monitoring/rules", form); p.status != 400 {
				t.Fatalf("bad rule: %d", p.status)
			}
			p := webPage(t, f, cookie, csrf, "GET", "/t/chuxiong/monitoring/alarms", nil)
			m := regexp.MustCompile(`/monitoring/alarms/([0-9a-f-]{36})/acknowledge`).FindStringSubmatch(p.body)
			if p.status != 200 || m == nil || !strings.Contains(p.body, "/t/chuxiong/cases/"+got.CaseID) {
				t.Fatalf("alarms page: %d %s", p.status, p.body)
			}
			if p := webPage(t, f, cookie, csrf, "POST", "/t/chuxiong/monitoring/alarms/"+m[1]+"/acknowledge", nil); p.status != 303 {
				t.Fatalf("acknowledge form: %d %s", p.status, p.body)
			}
			if p := webPage(t, f, cookie, csrf, "POST", "/t/chuxiong/monitoring/rules/"+rs[0].ID+"/toggle", nil); p.status != 303 {
				t.Fatalf("toggle: %d %s", p.status, p.body)
			}
			// Off: its open alarm is cleared.
			if res, _ := f.do(t, "adminA", "GET", mon+"/alarms?state=open", ""); res.body != "[]" {
				t.Fatalf("open after the rule is off: %s", res.body)
			}
			vc, vcsrf := webLogin(t, f, "viewer")
			if p := webPage(t, f, vc, vcsrf, "POST", "/t/chuxiong/monitoring/alarms/"+m[1]+"/clear", nil); p.status != 403 {
				t.Fatalf("viewer clears in the console: %d", p.status)
			}
			if p := webPage(t, f, vc, vcsrf, "GET", "/t/chuxiong/monitoring/alarms?state=all", nil); p.status != 200 || strings.Contains(p.body, "/acknowledge\"") {
				t.Fatalf("viewer's alarm page: %d", p.status)
			}
		})
	}
}
