package app

import (
	"testing"

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
				{"unknown event", "adminA", "PUT", "/api/v1/t/chuxiong/notify/preferences", `{"channels":{"bulletin":["email"]}}`, 400, "", ""},
				{"bad unread filter", "adminA", "GET", "/api/v1/t/chuxiong/notify/inbox?unread=maybe", "", 400, "", ""},
			})
		})
	}
}
