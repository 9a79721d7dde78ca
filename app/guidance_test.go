package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

// guidanceFixture is the API fixture with the prefecture's own admin (prefAdmin) and the admin
// of a county under another prefecture (farAdmin).
func guidanceFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	f := newFixture(t, dialect)
	ctx := context.Background()
	pref, err := f.app.store.FindTenantBySlug(ctx, "chuxiong-zhou")
	if err != nil {
		t.Fatal(err)
	}
	f.tokens["prefAdmin"], f.ids["prefAdmin"] = mustAccount(t, f.app.store, "prefadmin@test.cn", "", pref, tenants.TenantAdmin)
	if _, err := f.app.prov.Provision(ctx, tenants.NewTenant{Slug: "dali-zhou", NameZH: "大理州", Kind: tenants.Prefecture, AdminCode: "532900"}); err != nil {
		t.Fatal(err)
	}
	far, err := f.app.prov.Provision(ctx, tenants.NewTenant{Slug: "dali", NameZH: "大理市", Kind: tenants.City, AdminCode: "532901", ParentSlug: "dali-zhou"})
	if err != nil {
		t.Fatal(err)
	}
	f.tokens["farAdmin"], f.ids["farAdmin"] = mustAccount(t, f.app.store, "faradmin@test.cn", "", far.Tenant, tenants.TenantAdmin)
	return f
}

func (f *fixture) mustCreate(t *testing.T, who, path, body string) map[string]any {
	t.Helper()
	res, err := f.do(t, who, "POST", path, body)
	if err != nil {
		t.Fatal(err)
	}
	if res.status != 201 {
		t.Fatalf("POST %s as %s: %d\n%s", path, who, res.status, res.body)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGuidanceAPI walks the two-level flows through the API and probes every route across
// tenants: another county (B) cannot read or answer A's items, a county outside the prefecture
// gets nothing, a county cannot write the prefecture's records, the prefecture (its admin or its
// viewer) cannot write a county's, and bad input is a 4xx problem.
func TestGuidanceAPI(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := guidanceFixture(t, dialect)
			const P, A, B, far = "/api/v1/t/chuxiong-zhou/guidance", "/api/v1/t/chuxiong/guidance", "/api/v1/t/wuding/guidance", "/api/v1/t/dali/guidance"

			// A notice with an attachment (multipart), for A only.
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			mw.WriteField("data", `{"kind":"notice","title":"关于开展井盖专项整治的通知","body":"各县市：……","ack_due":"2099-12-31","counties":["chuxiong"]}`)
			fw, _ := mw.CreateFormFile("files", "方案.png")
			fw.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"))
			mw.Close()
			res := f.sendBody(t, "prefAdmin", "POST", P+"/notices", mw.FormDataContentType(), body.String())
			if res.status != 201 {
				t.Fatalf("publish: %d %s", res.status, res.body)
			}
			var notice struct {
				ID    string
				Files []struct{ ID string }
			}
			json.Unmarshal([]byte(res.body), &notice)
			n, file := notice.ID, notice.Files[0].ID
			task := f.mustCreate(t, "prefAdmin", P+"/tasks", `{"title":"城区井盖专项检查","checklist":["井盖完好"],"points":[{"lat":25.03,"lng":101.54,"label":"鹿城广场"}],"due":"2099-12-31","counties":["chuxiong"]}`)["id"].(string)
			tpl := f.mustCreate(t, "prefAdmin", P+"/templates", `{"title":"工作月报","all":true,"fields":[{"key":"reported","label":"上报数","type":"indicator","indicator":"reported"},{"key":"note","label":"说明","type":"text"}]}`)["id"].(string)

			runScenarios(t, f, []scenario{
				// The prefecture's side.
				{"pref lists notices", "prefAdmin", "GET", P + "/notices", "", 200, n, ""},
				{"pref reads the attachment", "prefAdmin", "GET", P + "/notices/" + n + "/files/" + file, "", 200, "PNG", ""},
				{"pref viewer reads status", "viewer", "GET", P + "/notices/" + n, "", 200, `"receipts"`, ""},
				{"pref viewer publishes", "viewer", "POST", P + "/notices", `{"kind":"notice","title":"x","all":true}`, 403, "", ""},
				{"A publishes in the prefecture", "adminA", "POST", P + "/notices", `{"kind":"notice","title":"x","all":true}`, 404, "", ""},
				{"A reads the prefecture's status", "adminA", "GET", P + "/notices/" + n, "", 404, "", ""},
				{"A reviews in the prefecture", "adminA", "POST", P + "/tasks/" + task + "/counties/chuxiong/review", `{"verdict":"scored","score":100}`, 404, "", ""},
				{"A publishes in its own tenant", "adminA", "POST", A + "/notices", `{"kind":"notice","title":"x","all":true}`, 404, "", ""},
				{"far reads the prefecture", "farAdmin", "GET", P + "/notices", "", 404, "", ""},
				// A's side: it sees its notice, task and report; B and far see none of A's.
				{"A inbox", "adminA", "GET", A + "/inbox", "", 200, n, ""},
				{"A reads the attachment", "adminA", "GET", A + "/inbox/" + n + "/files/" + file, "", 200, "PNG", ""},
				{"A assigned", "adminA", "GET", A + "/assigned", "", 200, task, ""},
				{"A reports", "adminA", "GET", A + "/reports", "", 200, tpl, ""},
				{"B inbox lacks A's notice", "adminB", "GET", B + "/inbox", "", 200, "[]", n},
				{"B reads A's notice", "adminB", "GET", B + "/inbox/" + n, "", 404, "", ""},
				{"B acknowledges A's notice", "adminB", "POST", B + "/inbox/" + n + "/ack", "", 404, "", ""},
				{"B reads A's attachment", "adminB", "GET", B + "/inbox/" + n + "/files/" + file, "", 404, "", "PNG"},
				{"B reads A's task", "adminB", "GET", B + "/assigned/" + task, "", 404, "", ""},
				{"B answers A's task", "adminB", "POST", B + "/assigned/" + task + "/responses", `{"findings":"x","checks":[{"ok":true}]}`, 404, "", ""},
				{"B through A's tenant", "adminB", "GET", A + "/inbox", "", 404, "", ""},
				{"B acknowledges through A's tenant", "adminB", "POST", A + "/inbox/" + n + "/ack", "", 404, "", ""},
				{"far inbox", "farAdmin", "GET", far + "/inbox", "", 200, "[]", ""},
				{"far reads the notice", "farAdmin", "GET", far + "/inbox/" + n, "", 404, "", ""},
				{"far reads the task", "farAdmin", "GET", far + "/assigned/" + task, "", 404, "", ""},
				{"far reads the template", "farAdmin", "GET", far + "/reports/" + tpl, "", 404, "", ""},
				{"far submits", "farAdmin", "POST", far + "/reports/" + tpl, `{"period":"2020-01","values":{"reported":"1","note":""}}`, 404, "", ""},
				{"far rechecks", "farAdmin", "GET", far + "/rechecks", "", 200, "[]", ""},
				// The prefecture cannot write a county's records.
				{"pref admin acknowledges for A", "prefAdmin", "POST", A + "/inbox/" + n + "/ack", "", 404, "", ""},
				{"pref viewer acknowledges for A", "viewer", "POST", A + "/inbox/" + n + "/ack", "", 403, "", ""},
				{"pref viewer answers for A", "viewer", "POST", A + "/assigned/" + task + "/responses", `{"findings":"x","checks":[{"ok":true}]}`, 403, "", ""},
				{"pref viewer submits for A", "viewer", "POST", A + "/reports/" + tpl, `{"period":"2020-01","values":{"reported":"1","note":""}}`, 403, "", ""},
				{"pref viewer rechecks for A", "viewer", "POST", A + "/rechecks/" + task, `{"case_id":"x","passed":true}`, 403, "", ""},
				{"inspector acknowledges", "inspectorA", "POST", A + "/inbox/" + n + "/ack", "", 403, "", ""},
				// Bad input.
				{"bad kind", "prefAdmin", "POST", P + "/notices", `{"kind":"memo","title":"x","all":true}`, 400, "kind", ""},
				{"NUL title", "prefAdmin", "POST", P + "/notices", `{"kind":"notice","title":"a\u0000b","all":true}`, 400, "", ""},
				{"unknown member", "prefAdmin", "POST", P + "/notices", `{"kind":"notice","title":"x","all":true,"nope":1}`, 400, "", ""},
				{"bad json", "prefAdmin", "POST", P + "/tasks", `{"title":`, 400, "", ""},
				{"task without due", "prefAdmin", "POST", P + "/tasks", `{"title":"x","all":true}`, 400, "due", ""},
				{"bad point", "prefAdmin", "POST", P + "/tasks", `{"title":"x","all":true,"due":"2099-01-01","points":[{"lat":91,"lng":0,"label":"x"}]}`, 400, "points", ""},
				{"foreign county", "prefAdmin", "POST", P + "/tasks", `{"title":"x","due":"2099-01-01","counties":["dali"]}`, 400, "counties", ""},
				{"bad id", "prefAdmin", "GET", P + "/notices/nope", "", 400, "", ""},
				{"unknown notice", "prefAdmin", "GET", P + "/notices/0190a0b0-0000-7000-8000-000000000000", "", 404, "", ""},
				{"score out of range", "prefAdmin", "POST", P + "/tasks/" + task + "/counties/chuxiong/review", `{"verdict":"scored","score":101}`, 400, "", ""},
				{"review before an answer", "prefAdmin", "POST", P + "/tasks/" + task + "/counties/chuxiong/review", `{"verdict":"scored","score":80}`, 409, "", ""},
				{"review a foreign county", "prefAdmin", "POST", P + "/tasks/" + task + "/counties/dali/review", `{"verdict":"scored","score":80}`, 404, "", ""},
				{"bad template field", "prefAdmin", "POST", P + "/templates", `{"title":"x","all":true,"fields":[{"key":"A B","label":"x","type":"number"}]}`, 400, "", ""},
				{"bad period", "adminA", "GET", A + "/reports/" + tpl + "?period=2026-13", "", 400, "period", ""},
				{"bad value", "adminA", "POST", A + "/reports/" + tpl, `{"period":"2020-01","values":{"reported":"many"}}`, 400, "", ""},
				{"checks missing", "adminA", "POST", A + "/assigned/" + task + "/responses", `{"findings":"x"}`, 400, "checks", ""},
				{"bad spot sample", "prefAdmin", "POST", P + "/spotchecks", `{"county":"chuxiong","size":0,"from":"2026-01-01","to":"2026-02-01","due":"2099-01-01"}`, 400, "", ""},
				{"no closed cases", "prefAdmin", "POST", P + "/spotchecks", `{"county":"chuxiong","size":3,"from":"2026-01-01","to":"2026-02-01","due":"2099-01-01"}`, 409, "", ""},

				// The walk: A acknowledges, answers, is scored; submits its report.
				{"A acknowledges", "adminA", "POST", A + "/inbox/" + n + "/ack", `{"note":"已部署"}`, 200, `"acked_at":"`, ""},
				{"status shows it", "prefAdmin", "GET", P + "/notices/" + n, "", 200, `"note":"已部署"`, ""},
				{"A answers", "adminA", "POST", A + "/assigned/" + task + "/responses", `{"findings":"发现 2 处破损","checks":[{"ok":false,"note":"2 处"}]}`, 201, `"state":"answered"`, ""},
				{"pref scores", "prefAdmin", "POST", P + "/tasks/" + task + "/counties/chuxiong/review", `{"verdict":"scored","score":85,"comment":"整改及时"}`, 201, `"state":"scored"`, ""},
				{"A sees the score", "adminA", "GET", A + "/assigned/" + task, "", 200, `"score":85`, ""},
				{"A submits", "adminA", "POST", A + "/reports/" + tpl, `{"period":"2026-01","values":{"reported":"12","note":"正常"}}`, 201, `"reported":"12"`, ""},
				{"pref sees the report", "prefAdmin", "GET", P + "/templates/" + tpl + "?period=2026-01", "", 200, `"reported":"12"`, ""},
				{"B still misses it", "prefAdmin", "GET", P + "/templates/" + tpl + "?period=2026-01", "", 200, `"missing":1`, ""},
			})
			// Nothing of A's reached B's tenant: its inbox, tasks and reports stay its own.
			for _, path := range []string{B + "/inbox", B + "/assigned"} {
				if res, _ := f.do(t, "adminB", "GET", path, ""); res.status != 200 || strings.Contains(res.body, "已部署") || strings.Contains(res.body, "发现 2 处破损") {
					t.Fatalf("B sees A's records at %s: %s", path, res.body)
				}
			}
		})
	}
}

// TestGuidanceReminders: what a county has not acknowledged, answered or submitted close to its
// deadline becomes a notification of the county's members who act for it (its inbox, through
// platform/notify's fanout), once however many passes run; another county is reminded of nothing
// that is not its own.
func TestGuidanceReminders(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := guidanceFixture(t, dialect)
			const P = "/api/v1/t/chuxiong-zhou/guidance"
			soon := time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339)
			f.mustCreate(t, "prefAdmin", P+"/notices", `{"kind":"notice","title":"签收提醒测试通知","ack_due":"`+soon+`","counties":["chuxiong"]}`)
			f.mustCreate(t, "prefAdmin", P+"/tasks", `{"title":"提醒测试检查任务","due":"`+soon+`","counties":["chuxiong"]}`)
			f.mustCreate(t, "prefAdmin", P+"/notices", `{"kind":"notice","title":"远期通知","ack_due":"2099-12-31","counties":["chuxiong"]}`)
			ctx := context.Background()
			for slug, want := range map[string]int{"chuxiong": 2, "wuding": 0} {
				sc := tenants.WithScope(ctx, tenants.SystemScope(mustTenant(t, f, slug)))
				for pass, w := range []int{want, 0} { // the second pass adds nothing
					n, err := f.app.platform.guidance.RemindCounty(sc)
					if err != nil || n != w {
						t.Fatalf("%s pass %d: %d reminders, %v; want %d", slug, pass, n, err, w)
					}
				}
				if _, err := f.app.platform.notify.Fanout(sc, 100); err != nil {
					t.Fatal(err)
				}
			}
			res, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/notify/inbox", "")
			for _, want := range []string{`"kind":"guidance_due"`, "签收提醒测试通知", `"kind":"supervision_due"`, "提醒测试检查任务"} {
				if !strings.Contains(res.body, want) {
					t.Fatalf("A's admin's inbox lacks %s: %s", want, res.body)
				}
			}
			if strings.Contains(res.body, "远期通知") {
				t.Fatal("a notice due in years is reminded of")
			}
			if res, _ := f.do(t, "inspectorA", "GET", "/api/v1/t/chuxiong/notify/inbox", ""); res.body != "[]" {
				t.Fatalf("the inspector is reminded: %s", res.body)
			}
			if res, _ := f.do(t, "adminB", "GET", "/api/v1/t/wuding/notify/inbox", ""); res.body != "[]" {
				t.Fatalf("B is reminded of A's items: %s", res.body)
			}
		})
	}
}

// TestGuidanceProvince: the prefecture relays guidance from the provincial platform to a county
// (marked as relayed), and reports a typical experience up: it is queued for the data exchange's
// provincial destination in the same transaction and delivered in profile cityops-province/1.
func TestGuidanceProvince(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := guidanceFixture(t, dialect)
			ctx := context.Background()
			pref := mustTenant(t, f, "chuxiong-zhou")
			if _, err := f.app.billing.SetPlan(ctx, pref, "", map[string]bool{exchange.Entitlement: true}); err != nil {
				t.Fatal(err)
			}
			var got []map[string]any
			var mu sync.Mutex
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var env struct{ Items []map[string]any }
				b, _ := io.ReadAll(r.Body)
				json.Unmarshal(b, &env)
				var res []map[string]string
				mu.Lock()
				for _, it := range env.Items {
					got = append(got, it)
					res = append(res, map[string]string{"key": it["key"].(string), "status": "accepted"})
				}
				mu.Unlock()
				json.NewEncoder(w).Encode(map[string]any{"results": res})
			}))
			t.Cleanup(recv.Close)
			const P = "/api/v1/t/chuxiong-zhou/guidance"
			runScenarios(t, f, []scenario{
				{"destination", "prefAdmin", "PUT", "/api/v1/t/chuxiong-zhou/exchange/destinations/province", `{"url":"` + recv.URL + `","name":"云南省平台","token":"T-1"}`, 200, "", ""},
				{"relay", "prefAdmin", "POST", P + "/notices", `{"kind":"policy","title":"省住建厅关于城市运管服平台运行的指导意见","origin":"province","counties":["chuxiong"]}`, 201, `"origin":"province"`, ""},
				{"A sees it relayed", "adminA", "GET", "/api/v1/t/chuxiong/guidance/inbox", "", 200, `"origin":"province"`, ""},
				{"bad origin", "prefAdmin", "POST", P + "/notices", `{"kind":"policy","title":"x","origin":"nation","all":true}`, 400, "origin", ""},
				{"report up", "prefAdmin", "POST", P + "/upward", `{"stream":"experience","title":"楚雄州井盖专项整治经验","body":"……"}`, 201, `"queued":1`, ""},
				{"bad stream", "prefAdmin", "POST", P + "/upward", `{"stream":"gossip","title":"x"}`, 400, "stream", ""},
				{"a county reports up", "adminA", "POST", "/api/v1/t/chuxiong/guidance/upward", `{"stream":"news","title":"x"}`, 404, "", ""},
				{"A in the prefecture", "adminA", "GET", P + "/upward", "", 404, "", ""},
				{"viewer reports up", "viewer", "POST", P + "/upward", `{"stream":"news","title":"x"}`, 403, "", ""},
				{"list", "viewer", "GET", P + "/upward", "", 200, "楚雄州井盖专项整治经验", ""},
			})
			if _, err := f.app.platform.exchange.Deliver(tenants.WithScope(ctx, tenants.SystemScope(pref)), 0); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			var up map[string]any
			for _, it := range got {
				if it["kind"] == exchange.KindUpward {
					up = it
				}
			}
			if up == nil || !strings.HasPrefix(up["key"].(string), "532300/up:") {
				t.Fatalf("the report did not go up: %v", got)
			}
			data, _ := json.Marshal(up["data"])
			if !strings.Contains(string(data), `"stream":"experience"`) || !strings.Contains(string(data), "楚雄州井盖专项整治经验") {
				t.Fatalf("the report went up as %s", data)
			}
		})
	}
}

// A console form the service refuses comes back as its page, with the reason above it, the form
// open and what was typed kept; nothing is published.
func TestGuidanceFormRefused(t *testing.T) {
	f := guidanceFixture(t, "sqlite")
	cookie, csrf := webLogin(t, f, "prefAdmin")
	res := webPage(t, f, cookie, csrf, "POST", "/t/chuxiong-zhou/guidance/tasks", url.Values{
		"title": {"井盖专项检查"}, "body": {"请逐项核对"}, "checklist": {"井盖完好"}, "points": {"not a point"}, "due": {"2099-12-31"}, "all": {"on"}})
	if res.status != 400 {
		t.Fatalf("refused task: %d %s", res.status, res.body)
	}
	for _, want := range []string{`id="form-error"`, `<details open><summary>`, `value="井盖专项检查"`, `>请逐项核对</textarea>`, `>not a point</textarea>`, `value="2099-12-31"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the page shown again lacks %s", want)
		}
	}
	if res, err := f.do(t, "prefAdmin", "GET", "/api/v1/t/chuxiong-zhou/guidance/tasks", ""); err != nil || res.status != 200 || strings.Contains(res.body, "井盖专项检查") {
		t.Fatalf("a refused task was opened: %s", res.body)
	}
	// An unknown notice is still the error page's 404.
	county, countyCSRF := webLogin(t, f, "adminA")
	if res := webPage(t, f, county, countyCSRF, "POST", "/t/chuxiong/guidance/notices/"+uuid.NewString()+"/ack", url.Values{"note": {"x"}}); res.status != 404 {
		t.Fatalf("unknown notice: %d", res.status)
	}
}
