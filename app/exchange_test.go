package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cityops/cityops/tenants"
)

const exA = "/api/v1/t/chuxiong/exchange"

// TestExchangeAccess: the exchange's API and pages for their owner, another county's admin
// (404 everywhere, none of A's data), the prefecture (reads A's and its counties', changes
// nothing), a member who is not an admin, support and the operator's page; bad input is a 4xx
// problem that names the field; the credential never comes back.
func TestExchangeAccess(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			// The province: takes case events, refuses grids for good.
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var env struct{ Items []struct{ Key, Kind string } }
				b, _ := io.ReadAll(r.Body)
				json.Unmarshal(b, &env)
				var res []map[string]string
				for _, it := range env.Items {
					st := "accepted"
					if it.Kind != "case_event" {
						st = "rejected"
					}
					res = append(res, map[string]string{"key": it.Key, "status": st, "message": "PROVINCE-SAYS-NO"})
				}
				json.NewEncoder(w).Encode(map[string]any{"results": res})
			}))
			t.Cleanup(recv.Close)
			const token = "TOKEN-VALUE-1234"
			dest := exA + "/destinations/province"
			put := `{"url":"` + recv.URL + `","name":"云南省平台","token":"` + token + `"}`
			replay := `{"from":"2026-01-01","to":"2026-12-31"}`
			runScenarios(t, f.fixture, []scenario{
				{"admin makes", "adminA", "PUT", dest, put, 200, `"code":"province"`, token},
				{"admin lists", "adminA", "GET", exA + "/destinations", "", 200, `"last4":"1234"`, token},
				{"admin reads", "adminA", "GET", dest, "", 200, `"backlog"`, token},
				{"B lists A's", "adminB", "GET", exA + "/destinations", "", 404, "", "province"},
				{"B reads A's", "adminB", "GET", dest, "", 404, "", "云南"},
				{"B changes A's", "adminB", "PUT", dest, `{"url":"https://evil.example/"}`, 404, "", ""},
				{"B deletes A's", "adminB", "DELETE", dest, "", 404, "", ""},
				{"B reads A's log", "adminB", "GET", dest + "/log", "", 404, "", ""},
				{"B reads A's items", "adminB", "GET", dest + "/items", "", 404, "", ""},
				{"B replays A's", "adminB", "POST", dest + "/replay", replay, 404, "", ""},
				{"B retries A's", "adminB", "POST", dest + "/retry", `{}`, 404, "", ""},
				{"B reads A's units", "adminB", "GET", exA + "/units", "", 404, "", ""},
				{"B's own are B's", "adminB", "GET", "/api/v1/t/wuding/exchange/destinations", "", 200, "[]", "province"},
				{"viewer reads A's", "viewer", "GET", exA + "/destinations", "", 200, "province", token},
				{"viewer changes A's", "viewer", "PUT", dest, put, 403, "", ""},
				{"viewer replays A's", "viewer", "POST", dest + "/replay", replay, 403, "", ""},
				{"viewer retries A's", "viewer", "POST", dest + "/retry", `{}`, 403, "", ""},
				{"viewer deletes A's", "viewer", "DELETE", dest, "", 403, "", ""},
				{"viewer reads the counties", "viewer", "GET", "/api/v1/t/chuxiong-zhou/exchange/units", "", 200, `"tenant":"chuxiong"`, token},
				{"a county has no units", "adminA", "GET", exA + "/units", "", 200, "[]", ""},
				{"inspector changes", "inspectorA", "PUT", dest, put, 403, "tenant_admin", ""},
				{"support changes", "support", "PUT", dest, put, 403, "", ""},
				{"bad url", "adminA", "PUT", dest, `{"url":"ftp://x.example/"}`, 400, `"field":"url"`, ""},
				{"unknown field", "adminA", "PUT", dest, `{"url":"https://x.example/","evil":1}`, 400, `"field":"evil"`, ""},
				{"NUL in the name", "adminA", "PUT", dest, `{"url":"https://x.example/","name":"a\u0000b"}`, 400, `"field":"name"`, ""},
				{"bad code", "adminA", "PUT", exA + "/destinations/Bad", `{"url":"https://x.example/"}`, 400, `"field":"code"`, ""},
				{"bad batch size", "adminA", "PUT", dest, `{"url":"https://x.example/","batch_size":100000}`, 400, `"field":"batch_size"`, ""},
				{"bad replay", "adminA", "POST", dest + "/replay", `{"from":"soon","to":"later"}`, 400, `"field":"from"`, ""},
				{"replay without a body", "adminA", "POST", dest + "/replay", ``, 415, "", ""},
				{"bad status", "adminA", "GET", dest + "/items?status=lost", "", 400, `"field":"status"`, ""},
				{"bad cursor", "adminA", "GET", dest + "/log?before=x", "", 400, `"field":"before"`, ""},
				{"unknown destination", "adminA", "GET", exA + "/destinations/nowhere", "", 404, "nowhere", ""},
			})
			// Something to deliver: a case (accepted) and last month's indicators (refused for
			// good), and the delivery as the loop makes it.
			f.report(t, "inspectorA", `{"kind":"component","class_code":"0101","lon":101.505,"lat":25.005}`)
			ta, err := f.app.store.FindTenantBySlug(context.Background(), "chuxiong")
			if err != nil {
				t.Fatal(err)
			}
			sys := tenants.WithScope(context.Background(), tenants.SystemScope(ta))
			deliver := func(want int) {
				t.Helper()
				if st, err := f.app.platform.exchange.Deliver(sys, 0); err != nil || st.Delivered != want || st.Refused != 1 {
					t.Fatalf("deliver: %+v %v", st, err)
				}
			}
			deliver(1)
			runScenarios(t, f.fixture, []scenario{
				{"log", "adminA", "GET", dest + "/log", "", 200, `"delivered":1`, ""},
				{"dead", "adminA", "GET", dest + "/items?status=dead", "", 200, `"kind":"indicators"`, ""},
				{"replay", "adminA", "POST", dest + "/replay", `{"from":"2020-01-01","to":"2099-12-31"}`, 202, `"cases":1`, ""},
				{"retry", "adminA", "POST", dest + "/retry", `{}`, 200, `"retried":1`, ""},
			})
			deliver(1)
			if dialect == "postgres" {
				return // the pages below render the same on both
			}
			// The pages: the county's, in both languages; another county's admin gets 404; the
			// prefecture sees its counties; the operator everyone.
			adminA, csrfA := webLogin(t, f.fixture, "adminA")
			page := webPage(t, f.fixture, adminA, "", "GET", "/t/chuxiong/exchange", nil)
			if page.status != 200 || !strings.Contains(page.body, "数据交换") || !strings.Contains(page.body, "云南省平台") ||
				!strings.Contains(page.body, "推送日志") || strings.Contains(page.body, token) || !strings.Contains(page.body, `href="/t/chuxiong/exchange"`) {
				t.Fatalf("A's page: %d\n%s", page.status, page.body)
			}
			if en := webPage(t, f.fixture, adminA, "", "GET", "/t/chuxiong/exchange?lang=en", nil); en.status != 200 || !strings.Contains(en.body, "Delivery log") {
				t.Fatalf("A's page in English: %d", en.status)
			}
			bad := webPage(t, f.fixture, adminA, csrfA, "POST", "/t/chuxiong/exchange/destinations/province/replay", url.Values{"from": {"soon"}, "to": {"later"}})
			if bad.status != 400 || !strings.Contains(bad.body, "不是日期") {
				t.Fatalf("a refused replay form: %d\n%s", bad.status, bad.body)
			}
			adminB, csrfB := webLogin(t, f.fixture, "adminB")
			if res := webPage(t, f.fixture, adminB, "", "GET", "/t/chuxiong/exchange", nil); res.status != 404 || strings.Contains(res.body, "云南省平台") {
				t.Fatalf("B's admin on A's page: %d", res.status)
			}
			if res := webPage(t, f.fixture, adminB, csrfB, "POST", "/t/chuxiong/exchange/destinations/province/delete", nil); res.status != 404 {
				t.Fatalf("B's admin deletes A's destination: %d", res.status)
			}
			viewer, csrfV := webLogin(t, f.fixture, "viewer")
			if res := webPage(t, f.fixture, viewer, "", "GET", "/t/chuxiong-zhou/exchange", nil); res.status != 200 ||
				!strings.Contains(res.body, `data-tenant="chuxiong"`) || !strings.Contains(res.body, "有失败数据") {
				t.Fatalf("the prefecture's page: %d\n%s", res.status, res.body)
			}
			if res := webPage(t, f.fixture, viewer, csrfV, "POST", "/t/chuxiong/exchange/destinations/province/retry", nil); res.status != 403 {
				t.Fatalf("the prefecture retries A's: %d", res.status)
			}
			if res := webPage(t, f.fixture, adminA, csrfA, "POST", "/t/chuxiong/exchange/destinations/province/retry", nil); res.status != 303 {
				t.Fatalf("retry form: %d %s", res.status, res.body)
			}
			op, _ := webLogin(t, f.fixture, "operator")
			if res := webPage(t, f.fixture, op, "", "GET", "/ops/exchange", nil); res.status != 200 || !strings.Contains(res.body, `data-tenant="chuxiong"`) ||
				!strings.Contains(res.body, `data-tenant="wuding"`) {
				t.Fatalf("the operator's page: %d\n%s", res.status, res.body)
			}
			// Every cross-tenant read was audited in the county read.
			res, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/audit?action=tenant.cross_read", "")
			if !strings.Contains(res.body, "/exchange/units") || !strings.Contains(res.body, "/ops/exchange") {
				t.Fatalf("cross-tenant reads of the exchange not audited: %s", res.body)
			}
		})
	}
}
