package app

import (
	"context"
	"strings"
	"testing"

	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

// TestNotifyAPI covers the notifications' endpoints: the caller's inbox and preferences, the
// admins' settings, another tenant's user (404), the prefecture's viewer (reads, changes
// nothing: 403), and bad input (4xx problem+json). platform/notify's tests send the mail.
func TestNotifyAPI(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			id := uuid.NewString()
			runScenarios(t, f, []scenario{
				{"owner reads inbox", "adminA", "GET", "/api/v1/t/chuxiong/notify/inbox", "", 200, "[]", ""},
				{"owner counts unread", "adminA", "GET", "/api/v1/t/chuxiong/notify/unread", "", 200, `"unread":0`, ""},
				{"owner marks all read", "adminA", "POST", "/api/v1/t/chuxiong/notify/inbox/read", "", 204, "", ""},
				{"owner marks an unknown one", "adminA", "POST", "/api/v1/t/chuxiong/notify/inbox/" + id + "/read", "", 404, "", ""},
				{"owner sets preferences", "adminA", "PUT", "/api/v1/t/chuxiong/notify/preferences", `{"channels":{"dispatched":["email","sms"]},"digest":true}`, 200, `"digest":true`, ""},
				{"owner reads preferences", "adminA", "GET", "/api/v1/t/chuxiong/notify/preferences", "", 200, `"sms"`, ""},
				{"admin sets settings", "adminA", "PUT", "/api/v1/t/chuxiong/notify/settings", `{"quiet_start":1380,"quiet_end":360,"warn_minutes":60,"wecom":true,"templates":{"dispatched":"请{{.Department}}处置{{.Number}}"}}`, 200, `"quiet_start":1380`, ""},
				{"admin reads settings", "adminA", "GET", "/api/v1/t/chuxiong/notify/settings", "", 200, `"wecom":true`, ""},
				{"owner reads the page", "adminA", "GET", "/t/chuxiong/notify", "", 200, "通知", ""},

				{"B reads A inbox", "adminB", "GET", "/api/v1/t/chuxiong/notify/inbox", "", 404, "", ""},
				{"B marks A's", "adminB", "POST", "/api/v1/t/chuxiong/notify/inbox/" + id + "/read", "", 404, "", ""},
				{"B reads A settings", "adminB", "GET", "/api/v1/t/chuxiong/notify/settings", "", 404, "", "1380"},
				{"B sets A settings", "adminB", "PUT", "/api/v1/t/chuxiong/notify/settings", `{"warn_minutes":5}`, 404, "", ""},

				{"viewer reads inbox", "viewer", "GET", "/api/v1/t/chuxiong/notify/inbox", "", 200, "[]", ""},
				{"viewer marks read", "viewer", "POST", "/api/v1/t/chuxiong/notify/inbox/read", "", 403, "", ""},
				{"viewer sets preferences", "viewer", "PUT", "/api/v1/t/chuxiong/notify/preferences", `{"channels":{}}`, 403, "", ""},
				{"viewer sets settings", "viewer", "PUT", "/api/v1/t/chuxiong/notify/settings", `{"warn_minutes":5}`, 403, "", ""},
				{"inspector reads settings", "inspectorA", "GET", "/api/v1/t/chuxiong/notify/settings", "", 403, "", ""},

				{"bad json", "adminA", "PUT", "/api/v1/t/chuxiong/notify/settings", `{"warn_minutes":`, 400, "", ""},
				{"unknown field", "adminA", "PUT", "/api/v1/t/chuxiong/notify/settings", `{"nope":1}`, 400, "", ""},
				{"quiet out of range", "adminA", "PUT", "/api/v1/t/chuxiong/notify/settings", `{"quiet_start":2000}`, 400, "quiet_start", ""},
				{"template does not parse", "adminA", "PUT", "/api/v1/t/chuxiong/notify/settings", `{"templates":{"dispatched":"{{.Nope"}}`, 400, "", ""},
				{"NUL in a field", "adminA", "PUT", "/api/v1/t/chuxiong/notify/settings", `{"smtp_host":"a\u0000b"}`, 400, "", ""},
				{"unknown channel", "adminA", "PUT", "/api/v1/t/chuxiong/notify/preferences", `{"channels":{"dispatched":["fax"]}}`, 400, "fax", ""},
				{"unknown event", "adminA", "PUT", "/api/v1/t/chuxiong/notify/preferences", `{"channels":{"newsletter":["email"]}}`, 400, "", ""},
				{"bad unread filter", "adminA", "GET", "/api/v1/t/chuxiong/notify/inbox?unread=maybe", "", 400, "", ""},
			})
		})
	}
}

// TestNotifyDispatchThroughCaseLoop: a case dispatched through the real case loop reaches the
// inbox of its department's handler (and not another department's) once the notify fanout passes
// (twice, adding nothing the second time), and its console page shows it.
func TestNotifyDispatchThroughCaseLoop(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			c := f.report(t, "acceptorA", reportA)
			for _, step := range []struct {
				who    string
				action cases.Action
			}{{"acceptorA", cases.Accept}, {"shiftA", cases.File}, {"dispatcherA", cases.Dispatch}} {
				c = f.act(t, step.who, c, step.action, 200)
			}
			ctx := tenants.WithScope(context.Background(), tenants.SystemScope(mustTenant(t, f.fixture, "chuxiong")))
			pass := func() {
				for range 2 { // twice: nothing doubles
					if _, err := f.app.platform.notify.Fanout(ctx, 100); err != nil {
						t.Fatal(err)
					}
				}
			}
			pass()
			if res := f.mustDo(t, "handlerA", "GET", "/api/v1/t/chuxiong/notify/unread", "", 200); !strings.Contains(res.body, `"unread":1`) {
				t.Fatalf("handlerA unread: %s", res.body)
			}
			if res := f.mustDo(t, "handlerA", "GET", "/api/v1/t/chuxiong/notify/inbox", "", 200); !strings.Contains(res.body, c.Number) || !strings.Contains(res.body, `"kind":"dispatched"`) {
				t.Fatalf("handlerA inbox: %s", res.body)
			}
			if res := f.mustDo(t, "handlerX", "GET", "/api/v1/t/chuxiong/notify/inbox", "", 200); res.body != "[]" {
				t.Fatalf("handlerX inbox: %s", res.body)
			}
			if res := f.mustDo(t, "handlerA", "GET", "/t/chuxiong/notify", "", 200); !strings.Contains(res.body, c.Number) {
				t.Fatalf("the page lacks the case")
			}
			// The navigation carries the unread count on every page, the caller's own.
			if res := f.mustDo(t, "handlerA", "GET", "/t/chuxiong/cases", "", 200); !strings.Contains(res.body, `<span class="badge count">1<span class="sr">`) {
				t.Fatalf("handlerA's navigation lacks the unread count")
			}
			if res := f.mustDo(t, "handlerX", "GET", "/t/chuxiong/cases", "", 200); strings.Contains(res.body, `badge count`) {
				t.Fatalf("handlerX's navigation shows a count")
			}
			f.mustDo(t, "handlerA", "POST", "/api/v1/t/chuxiong/notify/inbox/read", "", 204)
			if res := f.mustDo(t, "handlerA", "GET", "/t/chuxiong/cases", "", 200); strings.Contains(res.body, `badge count`) {
				t.Fatalf("the count stays after all are read")
			}
		})
	}
}
