package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

const hotlineA = exA + "/hotline/work-orders"

// workOrder is a work order of A's hotline: number n, in A's unit grid, with the caller's name
// and phone.
func workOrder(n, description string) string {
	b, _ := json.Marshal(map[string]any{"number": n, "citizen_name": "李四PII", "citizen_phone": "13900139000",
		"address": "鹿城路12号", "lon": 101.505, "lat": 25.005, "description": description, "category": "市政设施",
		"deadline": "2026-12-10T09:00:00Z"})
	return string(b)
}

// hotlineFixture is the case fixture with A's hotline categories mapped (the default to
// component 0101) and an acceptor of B.
func hotlineFixture(t *testing.T, dialect string) *caseFixture {
	t.Helper()
	f := newCaseFixture(t, dialect)
	ctx := tenants.WithScope(context.Background(), tenants.SystemScope(mustTenant(t, f.fixture, "chuxiong")))
	if err := f.app.platform.hotline.PutClass(ctx, exchange.DefaultCategory, catalog.Component, "0101"); err != nil {
		t.Fatal(err)
	}
	f.tokens["acceptorB"], f.ids["acceptorB"] = mustAccount(t, f.app.store, "acceptorb@test.cn", "", mustTenant(t, f.fixture, "wuding"), tenants.Acceptor)
	return f
}

// TestHotlineWorkOrders: a work order becomes a case with source hotline once (a repeat is the
// same case, other content for its number a 409), the caller's name and phone are encrypted at
// rest, another county's credential cannot submit into A, and bad input is a 4xx problem.
func TestHotlineWorkOrders(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := hotlineFixture(t, dialect)
			first := f.mustDo(t, "acceptorA", "POST", hotlineA, workOrder("GD-0001", "井盖缺失"), 201)
			var wo exchange.WorkOrder
			json.Unmarshal([]byte(first.body), &wo)
			if wo.CaseID == "" || wo.State != "reported" || wo.ClassCode != "0101" || wo.Deadline == nil {
				t.Fatalf("work order: %s", first.body)
			}
			again := f.mustDo(t, "acceptorA", "POST", hotlineA, workOrder("GD-0001", "井盖缺失"), 200)
			var wo2 exchange.WorkOrder
			json.Unmarshal([]byte(again.body), &wo2)
			if wo2.CaseID != wo.CaseID || wo2.CaseNumber != wo.CaseNumber {
				t.Fatalf("repeat: %s, want case %s", again.body, wo.CaseID)
			}
			var c caseView
			json.Unmarshal([]byte(f.mustDo(t, "acceptorA", "GET", casesA+"/"+wo.CaseID, "", 200).body), &c)
			if c.Reporter == nil || c.Reporter.Name != "李四PII" {
				t.Fatalf("reporter: %+v", c.Reporter)
			}
			ctx := tenants.WithScope(context.Background(), tenants.SystemScope(mustTenant(t, f.fixture, "chuxiong")))
			var name, phone, source string
			var n int
			if err := f.app.store.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
				if err := db.NewSelect().Table("cases").Column("reporter_name_enc", "reporter_phone_enc", "source").Where("id = ?", wo.CaseID).
					Scan(ctx, &name, &phone, &source); err != nil {
					return err
				}
				return db.NewRaw("SELECT count(*) FROM cases WHERE source = 'hotline'").Scan(ctx, &n)
			}); err != nil {
				t.Fatal(err)
			}
			if source != "hotline" || n != 1 {
				t.Fatalf("source %q, %d hotline cases", source, n)
			}
			if name == "" || phone == "" || strings.Contains(name, "李四") || strings.Contains(phone, "13900139000") {
				t.Fatalf("stored in clear: %q %q", name, phone)
			}
			noPoint := `{"number":"GD-0003","address":"A-SECRET-GRID 东门","description":"路灯不亮","category":"路灯"}`
			runScenarios(t, f.fixture, []scenario{
				{"other content is a conflict", "acceptorA", "POST", hotlineA, workOrder("GD-0001", "井盖又缺了"), 409, "GD-0001", ""},
				{"placed by the grid its address names", "acceptorA", "POST", hotlineA, noPoint, 201, `"case_number"`, ""},
				{"B's acceptor into A", "acceptorB", "POST", hotlineA, workOrder("GD-0002", "B"), 404, "", wo.CaseID},
				{"B's admin into A", "adminB", "POST", hotlineA, workOrder("GD-0002", "B"), 404, "", wo.CaseID},
				{"not an acceptor", "inspectorA", "POST", hotlineA, workOrder("GD-0002", "x"), 403, "", ""},
				{"no credential", "", "POST", hotlineA, workOrder("GD-0002", "x"), 401, "", ""},
				{"B has no mapping", "acceptorB", "POST", "/api/v1/t/wuding/exchange/hotline/work-orders", workOrder("GD-0001", "B"), 400, "category", wo.CaseID},
				{"no number", "acceptorA", "POST", hotlineA, `{"description":"x","lon":101.505,"lat":25.005}`, 400, "number", ""},
				{"bad number", "acceptorA", "POST", hotlineA, `{"number":"GD 1/2","description":"x","lon":101.505,"lat":25.005}`, 400, "number", ""},
				{"no description", "acceptorA", "POST", hotlineA, `{"number":"GD-0004","lon":101.505,"lat":25.005}`, 400, "description", ""},
				{"NUL", "acceptorA", "POST", hotlineA, `{"number":"GD-0004","description":"x\u0000y","lon":101.505,"lat":25.005}`, 400, "description", ""},
				{"lon without lat", "acceptorA", "POST", hotlineA, `{"number":"GD-0004","description":"x","lon":101.505}`, 400, "lat", ""},
				{"no point, no grid named", "acceptorA", "POST", hotlineA, `{"number":"GD-0004","description":"x","address":"某处"}`, 400, "address", ""},
				{"no point, no address", "acceptorA", "POST", hotlineA, `{"number":"GD-0004","description":"x"}`, 400, "lon", ""},
				{"unknown member", "acceptorA", "POST", hotlineA, `{"number":"GD-0004","description":"x","lon":101.505,"lat":25.005,"priority":1}`, 400, "priority", ""},
				{"not JSON", "acceptorA", "POST", hotlineA, `number=1`, 400, "", ""},
			})
			// The refusals left no claim behind: the number is free.
			f.mustDo(t, "acceptorA", "POST", hotlineA, workOrder("GD-0004", "井盖缺失"), 201)

			// The hotline's return visit: the citizen's satisfaction, kept with the work order.
			sat := hotlineA + "/GD-0001/satisfaction"
			runScenarios(t, f.fixture, []scenario{
				{"no satisfaction yet", "acceptorA", "GET", hotlineA + "/GD-0001", "", 200, `"satisfaction":null`, ""},
				{"satisfaction", "acceptorA", "PUT", sat, `{"result":"basically_satisfied","comment":"处理及时\n但有噪音"}`, 200, `"result":"basically_satisfied"`, ""},
				{"read back", "adminA", "GET", hotlineA + "/GD-0001", "", 200, `"comment":"处理及时\n但有噪音"`, ""},
				{"unknown result", "acceptorA", "PUT", sat, `{"result":"great"}`, 400, "result", ""},
				{"NUL in the comment", "acceptorA", "PUT", sat, `{"result":"satisfied","comment":"a\u0000"}`, 400, "comment", ""},
				{"unknown work order", "acceptorA", "PUT", hotlineA + "/GD-9999/satisfaction", `{"result":"satisfied"}`, 404, "GD-9999", ""},
				{"NUL in the path", "acceptorA", "GET", hotlineA + "/GD%00", "", 400, "path", ""},
				{"not a number", "acceptorA", "GET", hotlineA + "/GD%20%E4%B8%80", "", 404, "", ""},
				{"not an acceptor", "inspectorA", "PUT", sat, `{"result":"dissatisfied"}`, 403, "", ""},
				{"B's acceptor reads A's", "acceptorB", "GET", hotlineA + "/GD-0001", "", 404, "", wo.CaseID},
				{"B's acceptor rates A's", "acceptorB", "PUT", sat, `{"result":"dissatisfied"}`, 404, "", wo.CaseID},
				{"B's own has no GD-0001", "acceptorB", "GET", "/api/v1/t/wuding/exchange/hotline/work-orders/GD-0001", "", 404, "", wo.CaseID},
			})
		})
	}
}

// TestHotlineOutcomes: the outcome of hotline work orders (accepted, returned with the reason,
// completed with the reply) reaches the hotline's receiver exactly once and in each case's
// order, through the real delivery loop, after the receiver failed once; other cases' events,
// grids and the rest are not sent there.
func TestHotlineOutcomes(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := hotlineFixture(t, dialect)
			var mu sync.Mutex
			calls, seen := 0, map[string]bool{}
			var got []exchange.OutcomeV1
			var auth []string
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if calls == 1 {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				var env struct {
					Profile string
					Items   []struct {
						Key  string
						Data exchange.OutcomeV1
					}
				}
				b, _ := io.ReadAll(r.Body)
				json.Unmarshal(b, &env)
				auth = append(auth, r.Header.Get("Authorization"))
				var res []map[string]string
				for _, it := range env.Items {
					st := "accepted"
					if seen[it.Key] {
						st = "duplicate"
					} else {
						seen[it.Key] = true
						got = append(got, it.Data)
					}
					res = append(res, map[string]string{"key": it.Key, "status": st})
				}
				json.NewEncoder(w).Encode(map[string]any{"results": res})
			}))
			t.Cleanup(recv.Close)
			f.mustDo(t, "adminA", "PUT", exA+"/destinations/hotline",
				`{"url":"`+recv.URL+`","profile":"cityops-12345/1","token":"HOTLINE-TOKEN"}`, 200)

			// A citizen's case walks too: none of it goes to the hotline.
			f.act(t, "acceptorA", f.report(t, "acceptorA", strings.Replace(reportA, `"hotline"`, `"citizen"`, 1)), cases.Accept, 200)
			submit := func(n string) caseView {
				var wo exchange.WorkOrder
				json.Unmarshal([]byte(f.mustDo(t, "acceptorA", "POST", hotlineA, workOrder(n, "井盖缺失 "+n), 201).body), &wo)
				var c caseView
				json.Unmarshal([]byte(f.mustDo(t, "acceptorA", "GET", casesA+"/"+wo.CaseID, "", 200).body), &c)
				return c
			}
			done := submit("GD-1")
			for _, a := range pathTo[cases.Checked] {
				done = f.act(t, casePosts[transitionOf(t, cases.State(done.State), a).Posts[0]], done, a, 200)
			}
			done = f.act(t, "shiftA", done, cases.Close, 200)
			back := submit("GD-2")
			back = f.act(t, "acceptorA", back, cases.Void, 200)
			// GD-3 is closed without a word: the reply is the handler's feedback.
			quiet := submit("GD-3")
			for _, a := range pathTo[cases.Checked] {
				quiet = f.act(t, casePosts[transitionOf(t, cases.State(quiet.State), a).Posts[0]], quiet, a, 200)
			}
			f.mustDo(t, "shiftA", "POST", casesA+"/"+quiet.ID+"/actions/close", fmt.Sprintf(`{"version":%d}`, quiet.Version), 200)

			ctx, cancel := context.WithCancel(context.Background())
			var loop sync.WaitGroup
			loop.Go(func() {
				f.app.platform.exchange.Run(ctx, module.Kit{Store: f.app.store, Log: slog.New(slog.DiscardHandler)}, 20*time.Millisecond)
			})
			deadline := time.Now().Add(20 * time.Second)
			for {
				mu.Lock()
				n := len(got)
				mu.Unlock()
				if n >= 5 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			// A little longer: nothing more may arrive.
			time.Sleep(300 * time.Millisecond)
			cancel()
			loop.Wait()

			mu.Lock()
			defer mu.Unlock()
			var seq []string
			for _, o := range got {
				seq = append(seq, o.WorkOrder+":"+o.Outcome)
				switch o.Outcome {
				case exchange.OutcomeReturned:
					if o.Reason != "因为 void" || o.CaseID != back.ID {
						t.Errorf("returned: %+v", o)
					}
				case exchange.OutcomeCompleted:
					// GD-1's close said why: the reply is its reason; GD-3's did not.
					if want := map[string]string{"GD-1": "因为 close", "GD-3": "因为 feedback"}[o.WorkOrder]; o.Reply != want ||
						(o.WorkOrder == "GD-1" && o.CaseNumber != done.Number) {
						t.Errorf("completed: %+v", o)
					}
				}
				if o.AdminCode != "532301" {
					t.Errorf("admin code: %+v", o)
				}
			}
			// GD-1 and GD-3 accepted before completed; GD-2 returned; nothing else (the citizen's
			// case, the reports, the steps between).
			want := map[string][]string{"GD-1": {"GD-1:accepted", "GD-1:completed"}, "GD-2": {"GD-2:returned"},
				"GD-3": {"GD-3:accepted", "GD-3:completed"}}
			per := map[string][]string{}
			for _, s := range seq {
				n, _, _ := strings.Cut(s, ":")
				per[n] = append(per[n], s)
			}
			if len(seq) != 5 {
				t.Fatalf("outcomes %v, want %v", seq, want)
			}
			for n, w := range want {
				if strings.Join(per[n], ",") != strings.Join(w, ",") {
					t.Fatalf("outcomes %v, want %v", seq, want)
				}
			}
			if calls < 2 || len(auth) == 0 || auth[0] != "Bearer HOTLINE-TOKEN" {
				t.Fatalf("%d calls, auth %v", calls, auth)
			}
			if dialect == "sqlite" {
				// The county's page offers both profiles, the hotline's chosen for its destination.
				adminA, _ := webLogin(t, f.fixture, "adminA")
				page := webPage(t, f.fixture, adminA, "", "GET", "/t/chuxiong/exchange", nil)
				if page.status != 200 || !strings.Contains(page.body, `<option value="cityops-12345/1" selected>`) ||
					!strings.Contains(page.body, `<option value="cityops-province/1">`) {
					t.Fatalf("page: %d\n%s", page.status, page.body)
				}
			}
		})
	}
}
