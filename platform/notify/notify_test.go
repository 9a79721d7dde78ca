package notify_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/notify"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

func eachDialect(t *testing.T, body func(t *testing.T, dialect string)) {
	t.Run("sqlite", func(t *testing.T) { body(t, "sqlite") })
	t.Run("postgres", func(t *testing.T) { body(t, "postgres") })
}

// A dispatched case reaches its department's staff in their inbox, by email (read back from a
// real SMTP server), by the department's WeChat Work robot and by SMS with a valid signature;
// another department hears nothing, and nothing is sent twice.
func TestDispatchReachesDepartment(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, true)
		if _, err := w.svc.UpdatePreferences(w.as("alice"), notify.Preferences{Channels: map[string][]string{
			notify.KindDispatched: {"email", "sms"}}}); err != nil {
			t.Fatal(err)
		}
		number := w.dispatch(t, w.deptA, w.clock.Now().Add(48*time.Hour))
		rep := w.pass(t)
		if rep.Sent != 4 || rep.Failed+rep.Dead+rep.Held != 0 {
			t.Fatalf("report %+v, want 4 sent (2 emails, 1 SMS, 1 robot)", rep)
		}
		mails := w.mail.messages(t, 2)
		if len(mails) != 2 || mails[0].To[0] != "alice@chuxiong.example" || mails[1].To[0] != "bob@chuxiong.example" {
			t.Fatalf("mails %+v, want one to alice and one to bob", mails)
		}
		for _, m := range mails {
			if !strings.Contains(m.Subject, number) || !strings.Contains(m.Subject, "派遣") || !strings.Contains(m.Text, "市政公用局") || !strings.Contains(m.Text, "鹿城南路") {
				t.Errorf("mail %q / %q lacks the case", m.Subject, m.Text)
			}
		}
		robot := w.wecom.received()
		if len(robot) != 1 || !strings.Contains(robot[0], number) {
			t.Fatalf("robot got %q, want the case once", robot)
		}
		sms := w.sms.messages()
		if len(sms) != 1 || sms[0].Get("PhoneNumbers") != "13800000001" || sms[0].Get("SignName") != "城管通知" || sms[0].Get("TemplateCode") != "SMS_123456" {
			t.Fatalf("sms %v, want one to alice", sms)
		}
		var p map[string]string
		if err := json.Unmarshal([]byte(sms[0].Get("TemplateParam")), &p); err != nil || p["number"] != number {
			t.Errorf("TemplateParam %q", sms[0].Get("TemplateParam"))
		}
		if got := w.usage.count(billing.MeterSMS); got != 1 {
			t.Errorf("sms meter %d, want 1", got)
		}
		if got := w.usage.count(notify.MeterEmails); got != 2 {
			t.Errorf("email meter %d, want 2", got)
		}
		for key, want := range map[string]int{"alice": 1, "bob": 1, "carol": 0} {
			ns, err := w.svc.FindInbox(w.as(key), notify.InboxFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) != want {
				t.Errorf("%s's inbox has %d, want %d", key, len(ns), want)
			}
		}
		// Passes again (a restart, a second replica): nothing more is sent.
		w.clock.Add(time.Minute)
		if rep := w.pass(t); rep.Sent != 0 {
			t.Errorf("second pass sent %d", rep.Sent)
		}
		if got := len(w.mail.messages(t, 0)); got != 2 {
			t.Errorf("mailpit holds %d mails, want 2", got)
		}
		if len(w.wecom.received()) != 1 || len(w.sms.messages()) != 1 || w.sms.bad != 0 {
			t.Errorf("robot %d, sms %d (bad %d) after the second pass", len(w.wecom.received()), len(w.sms.messages()), w.sms.bad)
		}
		// Rework of the same case notifies again, as its own event.
		w.exec(t, w.e.A, `INSERT INTO case_events (id, case_id, version, action, from_state, to_state, actor_id, post, reason, at)
			VALUES ('ev-rework-1', ?, 3, 'rework', 'checked', 'dispatched', 'x', 'shift_lead', '井盖未盖好', ?)`, w.caseIDs[number], w.clock.Now())
		w.pass(t)
		ns, _ := w.svc.FindInbox(w.as("bob"), notify.InboxFilter{Unread: true})
		if len(ns) != 2 || ns[0].Kind != notify.KindRework || !strings.Contains(ns[0].Body, "井盖未盖好") {
			t.Fatalf("bob's inbox %s, want the rework first", kindsOf(ns))
		}
	})
}

// A failed delivery is retried after its backoff and sent once; one the robot refuses for good
// (an invalid key) is dead at once. A delivery claimed by a worker that died (its lease) is sent
// once the lease ends.
func TestRetryNeverTwice(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, false)
		w.wecom.fail = []int{45009} // the rate limit: retried
		number := w.dispatch(t, w.deptA, w.clock.Now().Add(48*time.Hour))
		rep := w.pass(t)
		if rep.Failed != 1 || rep.Sent != 0 {
			t.Fatalf("first pass %+v, want the robot failed once", rep)
		}
		if rep := w.pass(t); rep.Sent+rep.Failed != 0 {
			t.Fatalf("pass before the backoff %+v, want nothing", rep)
		}
		w.clock.Add(2 * time.Minute)
		if rep := w.pass(t); rep.Sent != 1 {
			t.Fatalf("pass after the backoff %+v, want sent", rep)
		}
		w.clock.Add(time.Hour)
		w.pass(t)
		if got := w.wecom.received(); len(got) != 1 || !strings.Contains(got[0], number) {
			t.Fatalf("robot got %q, want the case once", got)
		}

		// A worker that claims and dies: its claim holds the delivery for the lease, then the
		// next pass sends it, once.
		w.dispatch(t, w.deptA, w.clock.Now().Add(48*time.Hour))
		if _, err := w.svc.Fanout(w.e.A, 100); err != nil {
			t.Fatal(err)
		}
		w.exec(t, w.e.A, `UPDATE notify_deliveries SET lease_until = ? WHERE status = 'pending'`, w.clock.Now().Add(2*time.Minute).UnixMilli())
		if rep := w.pass(t); rep.Sent != 0 {
			t.Fatalf("a leased delivery was sent: %+v", rep)
		}
		w.clock.Add(3 * time.Minute)
		if rep := w.pass(t); rep.Sent != 1 {
			t.Fatalf("after the lease %+v, want sent", rep)
		}
		if got := len(w.wecom.received()); got != 2 {
			t.Fatalf("robot got %d, want 2", got)
		}

		// An invalid key is dead at once.
		w.wecom.mu.Lock()
		w.wecom.key = "another"
		w.wecom.mu.Unlock()
		w.dispatch(t, w.deptA, w.clock.Now().Add(48*time.Hour))
		if rep := w.pass(t); rep.Dead != 1 {
			t.Fatalf("invalid key: %+v, want dead", rep)
		}
	})
}

// Quiet hours hold SMS and the robot until the morning (China time); the inbox fills at once.
func TestQuietHours(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, false)
		if _, err := w.svc.UpdatePreferences(w.as("alice"), notify.Preferences{Channels: map[string][]string{notify.KindDispatched: {"sms"}}}); err != nil {
			t.Fatal(err)
		}
		w.clock.Set(time.Date(2026, 12, 7, 23, 30, 0, 0, cst))
		w.dispatch(t, w.deptA, w.clock.Now().Add(48*time.Hour))
		rep := w.pass(t)
		if rep.Sent != 0 || len(w.sms.messages()) != 0 || len(w.wecom.received()) != 0 {
			t.Fatalf("sent in the night: %+v", rep)
		}
		if n, _ := w.svc.CountUnread(w.as("alice")); n != 1 {
			t.Fatalf("alice has %d unread, want 1 at once", n)
		}
		w.clock.Set(time.Date(2026, 12, 8, 6, 59, 0, 0, cst))
		if rep := w.pass(t); rep.Sent != 0 {
			t.Fatalf("sent before the quiet hours end: %+v", rep)
		}
		w.clock.Set(time.Date(2026, 12, 8, 7, 1, 0, 0, cst))
		if rep := w.pass(t); rep.Sent != 2 {
			t.Fatalf("morning: %+v, want the SMS and the robot", rep)
		}
		if len(w.sms.messages()) != 1 || len(w.wecom.received()) != 1 {
			t.Fatal("the morning's messages did not arrive")
		}
	})
}

// Preferences hold: no channel chosen sends nothing but the inbox; the digest sends one email a
// day instead of one per event; templates are the tenant's.
func TestPreferencesDigestTemplates(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, true)
		st, err := w.svc.FindSettings(w.e.A)
		if err != nil {
			t.Fatal(err)
		}
		st.WeCom = false
		st.Templates = map[string]string{notify.KindDispatched: "请{{.Department}}处置案件{{.Number}}"}
		if _, err := w.svc.UpdateSettings(w.e.A, *st); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.UpdatePreferences(w.as("alice"), notify.Preferences{Channels: map[string][]string{notify.KindDispatched: {}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.UpdatePreferences(w.as("bob"), notify.Preferences{Channels: map[string][]string{notify.KindDispatched: {"email"}}, Digest: true}); err != nil {
			t.Fatal(err)
		}
		n1 := w.dispatch(t, w.deptA, w.clock.Now().Add(48*time.Hour))
		w.clock.Add(time.Second)
		n2 := w.dispatch(t, w.deptA, w.clock.Now().Add(48*time.Hour))
		if rep := w.pass(t); rep.Sent != 0 {
			t.Fatalf("sent %+v, want nothing (alice chose none, bob the digest)", rep)
		}
		ns, _ := w.svc.FindInbox(w.as("alice"), notify.InboxFilter{})
		if len(ns) != 2 || ns[0].Body != "请市政公用局处置案件"+n2 {
			t.Fatalf("alice's inbox %s", kindsOf(ns))
		}
		w.clock.Set(time.Date(2026, 12, 8, 8, 5, 0, 0, cst))
		for range 2 {
			if err := w.svc.Digest(w.e.A); err != nil {
				t.Fatal(err)
			}
			w.pass(t)
		}
		mails := w.mail.messages(t, 1)
		if len(mails) != 1 || mails[0].To[0] != "bob@chuxiong.example" || !strings.Contains(mails[0].Text, n1) || !strings.Contains(mails[0].Text, n2) {
			t.Fatalf("digest %+v, want one to bob with both cases", mails)
		}
	})
}

// Deadlines: a case near its deadline warns (预警), past it is overdue, each once.
func TestDeadlines(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, false)
		w.dispatch(t, w.deptA, w.clock.Now().Add(90*time.Minute))
		w.pass(t)
		w.clock.Add(time.Minute)
		w.pass(t)
		ns, _ := w.svc.FindInbox(w.as("bob"), notify.InboxFilter{})
		if got := kindsOf(ns); !strings.Contains(got, "dispatched:") || !strings.Contains(got, "warning:") || len(ns) != 2 {
			t.Fatalf("bob's inbox %s, want the dispatch and one warning", got)
		}
		w.clock.Add(2 * time.Hour)
		w.pass(t)
		w.pass(t)
		ns, _ = w.svc.FindInbox(w.as("bob"), notify.InboxFilter{})
		if len(ns) != 3 || ns[0].Kind != notify.KindOverdue {
			t.Fatalf("bob's inbox %s, want an overdue once", kindsOf(ns))
		}
	})
}

// The inbox is the caller's: another person's notification is not found, another tenant's
// scope sees none, the prefecture's read-only viewer changes nothing, and bad input is refused.
func TestInboxAccessAndInput(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, false)
		w.dispatch(t, w.deptA, w.clock.Now().Add(48*time.Hour))
		w.pass(t)
		ns, err := w.svc.FindInbox(w.as("alice"), notify.InboxFilter{})
		if err != nil || len(ns) != 1 {
			t.Fatalf("alice's inbox %v %v", ns, err)
		}
		if err := w.svc.MarkRead(w.as("carol"), ns[0].ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("carol marks alice's: %v, want not found", err)
		}
		dave := tenants.WithPrincipal(w.e.B, &tenants.Principal{Identity: w.users["dave"]})
		if got, _ := w.svc.FindInbox(dave, notify.InboxFilter{}); len(got) != 0 {
			t.Errorf("tenant B sees %d", len(got))
		}
		if err := w.svc.MarkRead(dave, ns[0].ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("tenant B marks A's: %v, want not found", err)
		}
		view := tenants.WithPrincipal(w.e.View, &tenants.Principal{Identity: w.users["alice"]})
		if err := w.svc.MarkRead(view, ns[0].ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("viewer marks: %v, want forbidden", err)
		}
		if _, err := w.svc.UpdateSettings(w.e.View, notify.Settings{QuietStart: 1, QuietEnd: 2, WarnMinutes: 5}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("viewer changes settings: %v, want forbidden", err)
		}
		if _, err := w.svc.UpdatePreferences(view, notify.Preferences{}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("viewer changes preferences: %v, want forbidden", err)
		}
		if err := w.svc.MarkRead(w.as("alice"), ns[0].ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := w.svc.CountUnread(w.as("alice")); n != 0 {
			t.Errorf("unread %d after mark read", n)
		}
		for name, in := range map[string]notify.Settings{
			"quiet":    {QuietStart: 2000, WarnMinutes: 5},
			"warn":     {WarnMinutes: 0},
			"tls":      {WarnMinutes: 5, SMTPTLS: "ssl3"},
			"nul":      {WarnMinutes: 5, SMTPHost: "a\x00b"},
			"header":   {WarnMinutes: 5, SMTPFrom: "a@b\r\nBcc: x@y"},
			"template": {WarnMinutes: 5, Templates: map[string]string{notify.KindDispatched: "{{.Nope"}},
			"field":    {WarnMinutes: 5, Templates: map[string]string{notify.KindDispatched: "{{.Nope}}"}},
			"kind":     {WarnMinutes: 5, Templates: map[string]string{"newsletter": "x"}},
		} {
			if _, err := w.svc.UpdateSettings(w.e.A, in); !errs.Is(err, errs.Invalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		for name, in := range map[string]map[string][]string{"kind": {"nope": {"email"}}, "channel": {notify.KindDispatched: {"fax"}}, "wecom": {notify.KindDispatched: {"wecom"}}} {
			if _, err := w.svc.UpdatePreferences(w.as("alice"), notify.Preferences{Channels: in}); !errs.Is(err, errs.Invalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		if err := w.svc.MarkRead(w.as("alice"), "not-a-uuid"); !errs.Is(err, errs.NotFound) {
			t.Errorf("bad id: %v, want not found", err)
		}
		if _, err := w.svc.FindInbox(context.Background(), notify.InboxFilter{}); err == nil {
			t.Error("no principal: no error")
		}
	})
}

// The signature matches Aliyun's documented example of SendSms (dysmsapi, signature version 1.0).
func TestAliyunSignatureExample(t *testing.T) {
	v := url.Values{}
	for k, x := range map[string]string{"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123", "PhoneNumbers": "15300000001",
		"RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用", "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
		"SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": `{"customer":"test"}`, "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25"} {
		v.Set(k, x)
	}
	if got, want := notify.AliyunSign("GET", v, "testSecret"), "zJDF+Lrzhj/ThnlvIToysFRq6t4="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	if got := aliyunSignature("GET", v, "testSecret"); got != notify.AliyunSign("GET", v, "testSecret") {
		t.Errorf("the test's server computes %s", got)
	}
}

func kindsOf(ns []*notify.Notification) string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Kind+":"+n.Body)
	}
	return strings.Join(out, " | ")
}

// An old dispatch (a vendor import of past cases' history) or a case no longer the department's
// notifies nobody.
func TestStaleEventsNotifyNobody(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, false)
		now := w.clock.Now()
		w.clock.Set(now.AddDate(-1, 0, 0))
		w.dispatch(t, w.deptA, w.clock.Now().Add(48*time.Hour))
		w.clock.Set(now)
		closed := w.dispatch(t, w.deptA, now.Add(48*time.Hour))
		w.exec(t, w.e.A, `UPDATE cases SET state = 'closed' WHERE id = ?`, w.caseIDs[closed])
		if rep := w.pass(t); rep.Sent != 0 {
			t.Fatalf("sent %+v", rep)
		}
		if ns, _ := w.svc.FindInbox(w.as("bob"), notify.InboxFilter{}); len(ns) != 0 {
			t.Fatalf("bob's inbox %s", kindsOf(ns))
		}
	})
}

// An alarm raised (monitoring) reaches the members on the alarm posts and the tenant's robot,
// once.
func TestAlarmRaised(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, false)
		if err := w.e.Store.Grant(context.Background(), w.e.TenantA, w.users["alice"].ID, tenants.ShiftLead); err != nil {
			t.Fatal(err)
		}
		now := w.clock.Now()
		w.exec(t, w.e.A, `INSERT INTO monitoring_devices (code, name, type, lon, lat, token_hash, token_prefix, created_at, updated_at)
			VALUES ('WL-0001', '鹿城南路积水', 'waterlog', 101.5, 25.0, 'h', 'cod_x', ?, ?)`, now, now)
		w.exec(t, w.e.A, `INSERT INTO monitoring_alarms (id, device_id, source, kind, severity, state, message, raised_at, last_at, hits, case_status, updated_at)
			SELECT 'al-1', id, 'rule', 'above', 'critical', 'raised', '积水深度 35 cm 超过 20 cm', ?, ?, 1, 'none', ? FROM monitoring_devices`,
			now.UnixMilli(), now.UnixMilli(), now.UnixMilli())
		for range 2 {
			if err := w.svc.Scan(w.e.A, notify.ScanFrom{Alarms: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Fanout(w.e.A, 100); err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Deliver(w.e.A, w.usage, 100); err != nil {
				t.Fatal(err)
			}
		}
		ns, _ := w.svc.FindInbox(w.as("alice"), notify.InboxFilter{})
		if len(ns) != 1 || ns[0].Kind != notify.KindAlarm || !strings.Contains(ns[0].Body, "积水深度") {
			t.Fatalf("alice's inbox %s", kindsOf(ns))
		}
		if ns, _ := w.svc.FindInbox(w.as("bob"), notify.InboxFilter{}); len(ns) != 0 {
			t.Fatalf("bob (a handler) got %s", kindsOf(ns))
		}
		if got := w.wecom.received(); len(got) != 1 || !strings.Contains(got[0], "积水深度") {
			t.Fatalf("robot got %q", got)
		}
	})
}

// A vendor import that finished reaches the person who started it; a published evaluation
// bulletin reaches the tenant's leaders, shift leads and admins and its robot; each once, and only
// for the modules the tenant's plan has.
func TestImportAndBulletinEvents(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, false)
		ctx := context.Background()
		if err := w.e.Store.Grant(ctx, w.e.TenantA, w.users["carol"].ID, tenants.Leader); err != nil {
			t.Fatal(err)
		}
		now := w.clock.Now().UTC()
		run := `INSERT INTO vendor_runs (id, vendor, mapping_version, file_sha256, file_name, state, created, updated, unchanged, kept, started_by, started_at, finished_at)
			VALUES (?, 'dcm', 1, 'x', ?, ?, 3, 2, 10, 0, ?, ?, ?)`
		w.exec(t, w.e.A, run, "run-1", "cases-2026-11.csv", "done", "alice@chuxiong.example", now.Add(-2*time.Hour), now.Add(-time.Hour))
		w.exec(t, w.e.A, run, "run-old", "old.csv", "done", "alice@chuxiong.example", now.Add(-50*time.Hour), now.Add(-49*time.Hour))
		w.exec(t, w.e.A, `INSERT INTO vendor_runs (id, vendor, mapping_version, file_sha256, state, started_by, started_at) VALUES ('run-2', 'dcm', 1, 'y', 'running', 'alice@chuxiong.example', ?)`, now)
		w.exec(t, w.e.A, `INSERT INTO evaluation_bulletins (id, period, kind, version, published_at, published_by, figures, xlsx, xlsx_sha256, pdf, pdf_sha256)
			VALUES ('bl-1', '2026-11', 'month', 1, ?, 'carol@chuxiong.example', '{}', ?, 'a', ?, 'b')`, now.Add(-30*time.Minute), []byte("x"), []byte("p"))

		// A plan without the exchange and the evaluation: nothing.
		if err := w.svc.Scan(w.e.A, notify.ScanFrom{}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Fanout(w.e.A, 100); err != nil {
			t.Fatal(err)
		}
		if ns, _ := w.svc.FindInbox(w.as("alice"), notify.InboxFilter{}); len(ns) != 0 {
			t.Fatalf("without the modules alice got %s", kindsOf(ns))
		}
		for range 2 {
			if err := w.svc.Scan(w.e.A, notify.ScanFrom{Imports: true, Bulletins: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Fanout(w.e.A, 100); err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Deliver(w.e.A, w.usage, 100); err != nil {
				t.Fatal(err)
			}
		}
		ns, _ := w.svc.FindInbox(w.as("alice"), notify.InboxFilter{})
		if len(ns) != 1 || ns[0].Kind != notify.KindImport || !strings.Contains(ns[0].Body, "cases-2026-11.csv") || !strings.Contains(ns[0].Body, "新建 3 条，更新 2 条") {
			t.Fatalf("alice's inbox %s", kindsOf(ns))
		}
		ns, _ = w.svc.FindInbox(w.as("carol"), notify.InboxFilter{})
		if len(ns) != 1 || ns[0].Kind != notify.KindBulletin || !strings.Contains(ns[0].Body, "2026-11 月度评价公报（第 1 版）") {
			t.Fatalf("carol's inbox %s", kindsOf(ns))
		}
		if ns, _ := w.svc.FindInbox(w.as("bob"), notify.InboxFilter{}); len(ns) != 0 {
			t.Fatalf("bob got %s", kindsOf(ns))
		}
		if got := w.wecom.received(); len(got) != 1 || !strings.Contains(got[0], "公报") {
			t.Fatalf("robot got %q", got)
		}
		if n, err := w.svc.CountUnread(w.as("carol")); err != nil || n != 1 {
			t.Fatalf("carol's unread %d, %v", n, err)
		}
	})
}

// A case sent to 核实 or 核查 reaches its responsibility grid's inspector (every inspector when it
// has none), once, and nobody once the case has moved on.
func TestInspectorTasks(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, false)
		ctx := context.Background()
		for _, u := range []string{"alice", "carol"} {
			if err := w.e.Store.Grant(ctx, w.e.TenantA, w.users[u].ID, tenants.Inspector); err != nil {
				t.Fatal(err)
			}
		}
		var carolStaff string
		if err := w.e.Store.Tx(w.e.A, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewSelect().Table("staff").Column("id").Where("identity_id = ?", w.users["carol"].ID.String()).Scan(ctx, &carolStaff)
		}); err != nil {
			t.Fatal(err)
		}
		now := w.clock.Now()
		task := func(number, state, action string, inspector any) {
			w.seq++
			id := uuid.NewString()
			w.exec(t, w.e.A, `INSERT INTO cases (id, number, seq, state, version, source, kind, class_code, description, address, lon, lat, reported_by, inspector_id, created_at, updated_at)
				VALUES (?, ?, ?, ?, 2, 'citizen', 'event', '0101', '占道经营', '鹿城北路 3 号', 101.5, 25.0, 'x', ?, ?, ?)`,
				id, number, 202600000000+w.seq, state, inspector, now, now)
			w.exec(t, w.e.A, `INSERT INTO case_events (id, case_id, version, action, from_state, to_state, actor_id, post, at)
				VALUES (?, ?, 2, ?, 'reported', ?, 'x', 'acceptor', ?)`, uuid.NewString(), id, action, state, now)
			w.caseIDs[number] = id
		}
		task("532301-2026-900001", "verifying", "send_verify", carolStaff) // carol's grid
		task("532301-2026-900002", "checking", "send_check", nil)          // no grid inspector: both
		task("532301-2026-900003", "verifying", "send_verify", nil)
		w.exec(t, w.e.A, `UPDATE cases SET state = 'accepted' WHERE number = '532301-2026-900003'`) // verified already
		for range 2 {
			if _, err := w.svc.Fanout(w.e.A, 100); err != nil {
				t.Fatal(err)
			}
		}
		tasks := func(who string) string {
			ns, err := w.svc.FindInbox(w.as(who), notify.InboxFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, n := range ns {
				if !strings.Contains(n.Body, "请到现场") {
					t.Fatalf("%s: body %q", who, n.Body)
				}
				out = append(out, n.Kind+" "+strings.TrimPrefix(strings.TrimPrefix(n.Title, "【待核实】"), "【待核查】"))
			}
			slices.Sort(out)
			return strings.Join(out, ", ")
		}
		if got := tasks("alice"); got != "check_task 532301-2026-900002" {
			t.Fatalf("alice's tasks %s", got)
		}
		if got := tasks("carol"); got != "check_task 532301-2026-900002, verify_task 532301-2026-900001" {
			t.Fatalf("carol's tasks %s", got)
		}
		if ns, _ := w.svc.FindInbox(w.as("bob"), notify.InboxFilter{}); len(ns) != 0 {
			t.Fatalf("bob (a handler) got %s", kindsOf(ns))
		}
	})
}
