package monitoring_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// mustRule creates a rule in A.
func (w *world) mustRule(t testing.TB, in monitoring.RuleInput) *monitoring.Rule {
	t.Helper()
	r, err := w.s.CreateRule(w.e.A, in)
	if err != nil {
		t.Fatalf("rule %s: %v", in.Name, err)
	}
	return r
}

// feed sends values of metric with token, one every step, the first at the clock's time; the
// clock moves past the last.
func (w *world) feed(t testing.TB, tok, metric string, step time.Duration, vals ...float64) {
	t.Helper()
	base := w.clk.Now()
	rs := make([]monitoring.ReadingInput, len(vals))
	for i, v := range vals {
		rs[i] = monitoring.ReadingInput{Metric: metric, Value: v, At: base.Add(time.Duration(i) * step)}
	}
	res, err := w.s.Ingest(w.e.A, tok, monitoring.Batch{Readings: rs})
	if err != nil || res.Accepted != len(vals) {
		t.Fatalf("ingest %v: %+v %v", vals, res, err)
	}
	w.clk.Add(time.Duration(len(vals)) * step)
}

// alarmsOf returns A's alarms of device (newest first).
func (w *world) alarmsOf(t testing.TB, device string) []*monitoring.Alarm {
	t.Helper()
	as, err := w.s.FindAlarms(w.e.A, monitoring.AlarmFilter{Device: device})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// sensorCases counts A's cases reported by monitoring.
func (w *world) sensorCases(t testing.TB) int {
	t.Helper()
	var n int
	if err := w.e.Store.Tx(w.e.A, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewRaw("SELECT count(*) FROM cases WHERE source = 'sensor'").Scan(ctx, &n)
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func f64(v float64) *float64 { return &v }

// TestRuleCheck: a rule's fields are checked with the field at fault named; the class of a
// rule that opens cases must be in the catalog; B does not see A's rules, and the prefecture
// viewer changes none.
func TestRuleCheck(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		w.mustDevice(t, w.e.A, "WL-1", "waterlog")
		ok := monitoring.RuleInput{Name: "积水", DeviceType: "waterlog", Metric: "level", Kind: "above", Threshold: f64(20), ClearAt: f64(15),
			Action: "case", CaseKind: "event", ClassCode: "0406"}
		with := func(f func(in *monitoring.RuleInput)) monitoring.RuleInput { in := ok; f(&in); return in }
		for _, tc := range []struct {
			name  string
			in    monitoring.RuleInput
			field string
		}{
			{"no name", with(func(in *monitoring.RuleInput) { in.Name = " " }), "name"},
			{"NUL in the name", with(func(in *monitoring.RuleInput) { in.Name = "a\x00b" }), "name"},
			{"unknown type", with(func(in *monitoring.RuleInput) { in.DeviceType = "toaster" }), "device_type"},
			{"unknown device", with(func(in *monitoring.RuleInput) { in.Device = "NOPE-1" }), "device"},
			{"device of another type", with(func(in *monitoring.RuleInput) { in.Device, in.DeviceType = "WL-1", "gas" }), "device_type"},
			{"metric not of the type", with(func(in *monitoring.RuleInput) { in.Metric = "tilt" }), "metric"},
			{"no metric", with(func(in *monitoring.RuleInput) { in.Metric = "" }), "metric"},
			{"unknown kind", with(func(in *monitoring.RuleInput) { in.Kind = "between" }), "kind"},
			{"no threshold", with(func(in *monitoring.RuleInput) { in.Threshold = nil }), "threshold"},
			{"threshold out of range", with(func(in *monitoring.RuleInput) { in.Threshold = f64(900) }), "threshold"},
			{"clear_at on the wrong side", with(func(in *monitoring.RuleInput) { in.ClearAt = f64(25) }), "clear_at"},
			{"rate not positive", with(func(in *monitoring.RuleInput) { in.Kind, in.ClearAt, in.Threshold = "rate", nil, f64(0) }), "threshold"},
			{"no_data in fractions", with(func(in *monitoring.RuleInput) { in.Kind, in.ClearAt, in.Threshold = "no_data", nil, f64(1.5) }), "threshold"},
			{"no_data with clear_at", with(func(in *monitoring.RuleInput) { in.Kind, in.Threshold = "no_data", f64(10) }), "clear_at"},
			{"bad severity", with(func(in *monitoring.RuleInput) { in.Severity = "doom" }), "severity"},
			{"bad action", with(func(in *monitoring.RuleInput) { in.Action = "page" }), "action"},
			{"no case kind", with(func(in *monitoring.RuleInput) { in.CaseKind = "" }), "case_kind"},
			{"bad class code", with(func(in *monitoring.RuleInput) { in.ClassCode = "04'6" }), "class_code"},
			{"class not in the catalog", with(func(in *monitoring.RuleInput) { in.ClassCode = "0999" }), "class_code"},
			{"NUL in the description", with(func(in *monitoring.RuleInput) { in.Description = "x\x00" }), "description"},
		} {
			_, err := w.s.CreateRule(w.e.A, tc.in)
			if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
				t.Errorf("%s: %v (field %q), want invalid %s", tc.name, err, errs.FieldOf(err), tc.field)
			}
		}
		r := w.mustRule(t, ok)
		if r.Severity != "warning" || !r.Enabled || r.Description == "" {
			t.Fatalf("defaults: %+v", r)
		}
		// A no_data rule may leave the metric out; a device's rule takes the device's type.
		nd := w.mustRule(t, monitoring.RuleInput{Name: "无数据", Device: "WL-1", Kind: "no_data", Threshold: f64(30)})
		if nd.DeviceType != "waterlog" || nd.DeviceCode == nil || *nd.DeviceCode != "WL-1" {
			t.Fatalf("device rule %+v", nd)
		}
		if _, err := w.s.FindRuleByID(w.e.B, r.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B reads A's rule: %v", err)
		}
		if _, err := w.s.UpdateRule(w.e.B, r.ID, ok); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B changes A's rule: %v", err)
		}
		if err := w.s.DeleteRule(w.e.B, r.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B deletes A's rule: %v", err)
		}
		if _, err := w.s.CreateRule(w.e.View, ok); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("viewer creates: %v", err)
		}
		if rs, err := w.s.FindRules(w.e.View); err != nil || len(rs) != 2 {
			t.Fatalf("viewer reads: %v %v", rs, err)
		}
		up := ok
		up.Enabled = new(bool)
		if got, err := w.s.UpdateRule(w.e.A, r.ID, up); err != nil || got.Enabled || !got.CreatedAt.Equal(r.CreatedAt) {
			t.Fatalf("update: %+v %v", got, err)
		}
		if err := w.s.DeleteRule(w.e.A, nd.ID); err != nil {
			t.Fatal(err)
		}
		if rs, _ := w.s.FindRules(w.e.A); len(rs) != 1 {
			t.Fatalf("after delete: %v", rs)
		}
	})
}

// TestAlarmRuleKinds: each kind raises and clears, with hysteresis: above and below clear only
// once back past clear_at, a rate takes its previous value from the stored readings, no_data is
// raised by CheckSilence and cleared by the next reading.
func TestAlarmRuleKinds(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		wl := w.mustDevice(t, w.e.A, "WL-1", "waterlog")
		sl := w.mustDevice(t, w.e.A, "SL-1", "streetlight")
		br := w.mustDevice(t, w.e.A, "BR-1", "bridge")
		gas := w.mustDevice(t, w.e.A, "GAS-1", "gas")
		w.mustRule(t, monitoring.RuleInput{Name: "积水", DeviceType: "waterlog", Metric: "level", Kind: "above", Threshold: f64(20), ClearAt: f64(15)})
		w.mustRule(t, monitoring.RuleInput{Name: "路灯", DeviceType: "streetlight", Metric: "current", Kind: "below", Threshold: f64(0.1), ClearAt: f64(0.2)})
		w.mustRule(t, monitoring.RuleInput{Name: "桥梁", Device: "BR-1", Metric: "tilt", Kind: "rate", Threshold: f64(0.5), ClearAt: f64(0.2), Severity: "critical"})
		w.mustRule(t, monitoring.RuleInput{Name: "燃气无数据", DeviceType: "gas", Kind: "no_data", Threshold: f64(30)})

		w.feed(t, wl, "level", time.Second, 10, 25, 30, 18) // raised at 25, 30 a hit, 18 is not back past 15
		as := w.alarmsOf(t, "WL-1")
		if len(as) != 1 || as[0].State != "raised" || as[0].Hits != 2 || *as[0].Peak != 30 || *as[0].Value != 30 || as[0].Kind != "above" {
			t.Fatalf("above: %+v", as)
		}
		w.feed(t, wl, "level", time.Second, 14, 16, 22) // cleared at 14; 16 raises nothing; 22 raises anew
		as = w.alarmsOf(t, "WL-1")
		if len(as) != 2 || as[0].State != "raised" || as[1].State != "cleared" || as[1].ClearedBy == nil || *as[1].ClearedBy != "rule" || as[1].ClearedAt == nil {
			t.Fatalf("above cleared: %+v %+v", as[0], as[1])
		}

		w.feed(t, sl, "current", time.Second, 2.0, 0.05, 0.15)
		if as := w.alarmsOf(t, "SL-1"); len(as) != 1 || as[0].State != "raised" || *as[0].Peak != 0.05 {
			t.Fatalf("below: %+v", as)
		}
		w.feed(t, sl, "current", time.Second, 0.3)
		if as := w.alarmsOf(t, "SL-1"); len(as) != 1 || as[0].State != "cleared" {
			t.Fatalf("below cleared: %+v", as)
		}

		w.feed(t, br, "tilt", time.Minute, 0, 0.1)
		w.feed(t, br, "tilt", time.Minute, 0.9) // 0.8 a minute, against the stored 0.1
		if as := w.alarmsOf(t, "BR-1"); len(as) != 1 || as[0].State != "raised" || as[0].Severity != "critical" || *as[0].Value < 0.79 {
			t.Fatalf("rate: %+v", as)
		}
		w.feed(t, br, "tilt", time.Minute, 1.2, 1.3) // 0.3 stays, 0.1 clears
		if as := w.alarmsOf(t, "BR-1"); len(as) != 1 || as[0].State != "cleared" || as[0].Hits != 1 {
			t.Fatalf("rate cleared: %+v", as)
		}

		w.feed(t, gas, "concentration", time.Second, 1)
		if n, err := w.s.CheckSilence(w.e.A); err != nil || n != 0 {
			t.Fatalf("silence at once: %d %v", n, err)
		}
		w.clk.Add(31 * time.Minute)
		if n, err := w.s.CheckSilence(w.e.A); err != nil || n != 1 {
			t.Fatalf("silence: %d %v", n, err)
		}
		if n, err := w.s.CheckSilence(w.e.A); err != nil || n != 0 {
			t.Fatalf("silence again: %d %v", n, err)
		}
		if as := w.alarmsOf(t, "GAS-1"); len(as) != 1 || as[0].State != "raised" || as[0].Kind != "no_data" || *as[0].Value < 31 {
			t.Fatalf("no_data: %+v", as)
		}
		w.feed(t, gas, "concentration", time.Second, 1)
		if as := w.alarmsOf(t, "GAS-1"); len(as) != 1 || as[0].State != "cleared" {
			t.Fatalf("no_data cleared: %+v", as)
		}
		// B has none of them.
		if as, err := w.s.FindAlarms(w.e.B, monitoring.AlarmFilter{}); err != nil || len(as) != 0 {
			t.Fatalf("B: %v %v", as, err)
		}
		// A disabled rule raises nothing, and its open alarms are cleared when it is disabled.
		rs, _ := w.s.FindRules(w.e.A)
		for _, r := range rs {
			in := monitoring.InputOf(r)
			in.Enabled = new(bool)
			if r.DeviceCode != nil {
				in.DeviceType = ""
			}
			if _, err := w.s.UpdateRule(w.e.A, r.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		w.feed(t, wl, "level", time.Second, 10, 40)
		if as := w.alarmsOf(t, "WL-1"); len(as) != 2 || as[0].State != "cleared" || *as[0].ClearedBy != "rule" || as[0].Hits != 1 {
			t.Fatalf("disabled: %+v", as[0])
		}
	})
}

// TestAlarmDedupConcurrent: batches of one device racing over the threshold raise one alarm
// (the unique open key), which counts every batch's hit, and one case.
func TestAlarmDedupConcurrent(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		tok := w.mustDevice(t, w.e.A, "WL-1", "waterlog")
		w.mustRule(t, monitoring.RuleInput{Name: "积水", DeviceType: "waterlog", Metric: "level", Kind: "above", Threshold: f64(20),
			Action: "case", CaseKind: "event", ClassCode: "0406"})
		w.s.SetCases(w.cs)
		base := w.clk.Now()
		var wg sync.WaitGroup
		errc := make(chan error, 16)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := w.s.Ingest(w.e.A, tok, monitoring.Batch{Readings: []monitoring.ReadingInput{{Metric: "level", Value: 30, At: base.Add(time.Duration(i) * time.Second)}}})
				if err != nil {
					errc <- err
				}
				if _, err := w.s.OpenAlarmCases(w.e.A); err != nil {
					errc <- err
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		if _, err := w.s.OpenAlarmCases(w.e.A); err != nil {
			t.Fatal(err)
		}
		as := w.alarmsOf(t, "WL-1")
		if len(as) != 1 || as[0].Hits != 16 || as[0].State != "raised" || as[0].CaseStatus != "opened" {
			t.Fatalf("alarms: %d %+v", len(as), as)
		}
		if n := w.sensorCases(t); n != 1 {
			t.Fatalf("%d cases", n)
		}
	})
}

// TestAlarmFlapping: a device crossing its threshold back and forth over 100 batches raises an
// alarm at each crossing past the hysteresis, but they all join the one case still open.
func TestAlarmFlapping(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		tok := w.mustDevice(t, w.e.A, "WL-1", "waterlog")
		w.mustRule(t, monitoring.RuleInput{Name: "积水", DeviceType: "waterlog", Metric: "level", Kind: "above", Threshold: f64(20), ClearAt: f64(15),
			Action: "case", CaseKind: "event", ClassCode: "0406"})
		w.s.SetCases(w.cs)
		for i := range 100 {
			v := 10.0
			if i%2 == 0 {
				v = 25
			}
			w.feed(t, tok, "level", time.Second, v)
			if _, err := w.s.OpenAlarmCases(w.e.A); err != nil {
				t.Fatal(err)
			}
		}
		if n := w.sensorCases(t); n != 1 {
			t.Fatalf("%d cases", n)
		}
		as, err := w.s.FindAlarms(w.e.A, monitoring.AlarmFilter{Limit: 1000})
		if err != nil || len(as) != 50 {
			t.Fatalf("%d alarms, %v", len(as), err)
		}
		for _, a := range as {
			if a.CaseID == nil || *a.CaseID != *as[len(as)-1].CaseID || a.CaseStatus != "opened" {
				t.Fatalf("alarm %+v", a)
			}
		}
	})
}

// TestAlarmToCase: an alarm of a rule that opens cases becomes exactly one case (source sensor,
// the rule's class, the device's point, the alarm named in its description), also when two
// openers race and when a claim was left behind by a crash after its case was reported; the
// case's end clears the alarm (the trigger, on both dialects).
func TestAlarmToCase(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		tok := w.mustDevice(t, w.e.A, "GAS-1", "gas")
		tok2 := w.mustDevice(t, w.e.A, "GAS-2", "gas")
		tok3 := w.mustDevice(t, w.e.A, "GAS-3", "gas")
		r := w.mustRule(t, monitoring.RuleInput{Name: "燃气", DeviceType: "gas", Metric: "concentration", Kind: "above", Threshold: f64(25),
			Severity: "critical", Action: "case", CaseKind: "event", ClassCode: "0403", Description: "{name}（{device}）燃气 {value}{unit}"})
		w.feed(t, tok, "concentration", time.Second, 30)
		// Without the case loop, the alarm waits.
		if n, err := w.s.OpenAlarmCases(w.e.A); err != nil || n != 0 {
			t.Fatalf("no case loop: %d %v", n, err)
		}
		w.s.SetCases(w.cs)
		if n, err := w.s.OpenAlarmCases(w.e.A); err != nil || n != 1 {
			t.Fatalf("open: %d %v", n, err)
		}
		a := w.alarmsOf(t, "GAS-1")[0]
		if a.CaseStatus != "opened" || a.CaseID == nil || a.RuleID == nil || *a.RuleID != r.ID {
			t.Fatalf("alarm %+v", a)
		}
		c, err := w.cs.FindCaseByID(w.e.A, *a.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Source != cases.FromSensor || c.ClassCode != "0403" || c.Lon != 101.505 || !strings.Contains(c.Description, a.ID) ||
			!strings.Contains(c.Description, "测试 GAS-1（GAS-1）燃气 30%LEL") || !strings.HasPrefix(c.ReportedBy, "monitoring:") {
			t.Fatalf("case %+v", c)
		}
		if n, _ := w.s.OpenAlarmCases(w.e.A); n != 0 || w.sensorCases(t) != 1 {
			t.Fatalf("opened again: %d", n)
		}
		// Two openers racing over one alarm: one case.
		w.feed(t, tok2, "concentration", time.Second, 40)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() { defer wg.Done(); w.s.OpenAlarmCases(w.e.A) }()
		}
		wg.Wait()
		if n := w.sensorCases(t); n != 2 {
			t.Fatalf("racing openers: %d cases", n)
		}
		// A claim left behind after its case was reported: the case is found, not made again.
		w.feed(t, tok3, "concentration", time.Second, 50)
		a3 := w.alarmsOf(t, "GAS-3")[0]
		staff := tenants.WithScope(context.Background(), &tenants.Scope{Tenant: w.e.TenantA, Roles: []tenants.Role{tenants.Acceptor}})
		made, err := w.cs.Report(staff, cases.ReportInput{Source: cases.FromSensor, Kind: "event", ClassCode: "0403", Lon: 101.505, Lat: 25.005,
			Description: "燃气\n[运行监测告警 " + a3.ID + "，设备 GAS-3]"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.e.Store.Tx(w.e.A, tenants.Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewRaw("UPDATE monitoring_alarms SET case_claim_until = ? WHERE id = ?", w.clk.Now().UnixMilli()-1, a3.ID).Exec(ctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := w.s.OpenAlarmCases(w.e.A); err != nil || n != 1 {
			t.Fatalf("left behind: %d %v", n, err)
		}
		if a3 = w.alarmsOf(t, "GAS-3")[0]; a3.CaseID == nil || *a3.CaseID != made.ID || w.sensorCases(t) != 3 {
			t.Fatalf("left behind: %+v, %d cases", a3, w.sensorCases(t))
		}
		// Voiding the case clears its alarm.
		if _, err := w.cs.Act(staff, c.ID, cases.Void, cases.ActionInput{Version: c.Version, Reason: "误报"}); err != nil {
			t.Fatal(err)
		}
		a, _ = w.s.FindAlarmByID(w.e.A, a.ID)
		if a.State != "cleared" || a.ClearedBy == nil || *a.ClearedBy != "case" || a.ClearedAt == nil {
			t.Fatalf("after void: %+v", a)
		}
		// A class the catalog lost: the alarm fails with the reason and is tried again later.
		if err := w.e.Store.Tx(w.e.A, tenants.Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewRaw("UPDATE monitoring_rules SET class_code = '0999'").Exec(ctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		w.feed(t, tok, "concentration", time.Second, 60)
		if n, err := w.s.OpenAlarmCases(w.e.A); err != nil || n != 0 {
			t.Fatalf("bad class: %d %v", n, err)
		}
		if a := w.alarmsOf(t, "GAS-1")[0]; a.CaseStatus != "failed" || a.CaseError == nil || *a.CaseError == "" {
			t.Fatalf("failed: %+v", a)
		}
	})
}

// TestAlarmLifecycle: acknowledge, clear, confirm and dismiss, with who and when, each only
// where it fits; refused to posts that do not act on alarms, to the prefecture's viewer and
// (not found) to another tenant.
func TestAlarmLifecycle(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		var toks []string
		for _, c := range []string{"MH-1", "MH-2", "MH-3"} {
			toks = append(toks, w.mustDevice(t, w.e.A, c, "manhole"))
		}
		w.mustRule(t, monitoring.RuleInput{Name: "井盖开启", DeviceType: "manhole", Metric: "open", Kind: "above", Threshold: f64(0.5),
			Action: "confirm", CaseKind: "component", ClassCode: "0101"})
		for _, tok := range toks {
			w.feed(t, tok, "open", time.Second, 1)
		}
		id := func(dev string) string { return w.alarmsOf(t, dev)[0].ID }
		lead := tenants.WithScope(tenants.WithPrincipal(context.Background(), &tenants.Principal{Identity: &tenants.Identity{ID: uuid.New(), Email: "lead@test.cn"}}),
			&tenants.Scope{Tenant: w.e.TenantA, Roles: []tenants.Role{tenants.ShiftLead}})
		handler := tenants.WithScope(context.Background(), &tenants.Scope{Tenant: w.e.TenantA, Roles: []tenants.Role{tenants.Handler}})
		for _, tc := range []struct {
			name string
			ctx  context.Context
			code errs.Code
		}{{"handler", handler, errs.Forbidden}, {"viewer", w.e.View, errs.Forbidden}, {"B", w.e.B, errs.NotFound}} {
			for _, act := range []string{"acknowledge", "clear", "confirm", "dismiss"} {
				if _, err := w.s.ActOnAlarm(tc.ctx, id("MH-1"), act, ""); !errs.Is(err, tc.code) {
					t.Errorf("%s %s: %v", tc.name, act, err)
				}
			}
		}
		if _, err := w.s.FindAlarmByID(w.e.B, id("MH-1")); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B reads: %v", err)
		}
		a, err := w.s.ActOnAlarm(lead, id("MH-1"), "acknowledge", "")
		if err != nil || a.State != "acknowledged" || a.AckBy == nil || *a.AckBy != "lead@test.cn" || a.AckAt == nil || a.CaseStatus != "waiting" {
			t.Fatalf("acknowledge: %+v %v", a, err)
		}
		if _, err := w.s.ActOnAlarm(lead, a.ID, "acknowledge", ""); !errs.Is(err, errs.Conflict) {
			t.Fatalf("acknowledge twice: %v", err)
		}
		if a, err = w.s.ActOnAlarm(lead, a.ID, "confirm", ""); err != nil || a.CaseStatus != "pending" || a.State != "acknowledged" {
			t.Fatalf("confirm: %+v %v", a, err)
		}
		if _, err := w.s.ActOnAlarm(lead, a.ID, "dismiss", ""); !errs.Is(err, errs.Conflict) {
			t.Fatalf("dismiss after confirm: %v", err)
		}
		w.s.SetCases(w.cs)
		if n, err := w.s.OpenAlarmCases(w.e.A); err != nil || n != 1 {
			t.Fatalf("confirmed case: %d %v", n, err)
		}
		if a, err = w.s.ActOnAlarm(lead, id("MH-2"), "dismiss", ""); err != nil || a.CaseStatus != "none" || a.State != "cleared" || *a.ClearedBy != "lead@test.cn" {
			t.Fatalf("dismiss: %+v %v", a, err)
		}
		if a, err = w.s.ActOnAlarm(lead, id("MH-3"), "clear", "传感器误报"); err != nil || a.State != "cleared" || *a.ClearedBy != "lead@test.cn" || a.ClearedAt == nil {
			t.Fatalf("clear: %+v %v", a, err)
		}
		if _, err := w.s.ActOnAlarm(lead, a.ID, "clear", ""); !errs.Is(err, errs.Conflict) {
			t.Fatalf("clear twice: %v", err)
		}
		if _, err := w.s.ActOnAlarm(lead, a.ID, "clear", "x\x00"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("NUL reason: %v", err)
		}
		// A cleared alarm's device raises anew on its next reading.
		w.feed(t, toks[2], "open", time.Second, 1)
		if as := w.alarmsOf(t, "MH-3"); len(as) != 2 || as[0].State != "raised" {
			t.Fatalf("raised anew: %+v", as)
		}
		if open, _ := w.s.FindAlarms(w.e.A, monitoring.AlarmFilter{State: "open"}); len(open) != 2 {
			t.Fatalf("open: %d", len(open))
		}
	})
}

// TestAlarmHTTP: the rules' and alarms' API: bad input is a 4xx problem (never a 500), the
// prefecture viewer reads and is refused every write, another tenant's admin finds nothing,
// and a member without a post that acts on alarms is refused their actions.
func TestAlarmHTTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		f := w.server(t, &usage{}, true)
		tok := w.mustDevice(t, w.e.A, "WL-1", "waterlog")
		const api = "/api/v1/t/chuxiong/monitoring"
		do := func(method, path, body string) answer {
			req := httptest.NewRequest(method, api+path, strings.NewReader(body))
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			return send(t, f, req)
		}
		good := `{"name":"积水","device_type":"积水","metric":"level","kind":"above","threshold":20,"clear_at":15,"action":"confirm","case_kind":"event","class_code":"0406"}`
		a := do("POST", "/rules", good)
		if a.Status != 201 || !strings.Contains(a.Body, `"device_type":"waterlog"`) {
			t.Fatalf("create: %d %s", a.Status, a.Body)
		}
		ruleID := a.Body[strings.Index(a.Body, `"id":"`)+6:][:36]
		w.feed(t, tok, "level", time.Second, 30)
		alarmID := w.alarmsOf(t, "WL-1")[0].ID
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			want                     string
		}{
			{"unknown metric", "POST", "/rules", strings.Replace(good, `"level"`, `"depth"`, 1), 400, "metric"},
			{"threshold a string", "POST", "/rules", strings.Replace(good, `"threshold":20`, `"threshold":"high"`, 1), 400, "threshold"},
			{"threshold out of range", "POST", "/rules", strings.Replace(good, `"threshold":20`, `"threshold":1e300`, 1), 400, "threshold"},
			{"NUL in the name", "POST", "/rules", strings.Replace(good, `"积水"`, `"a\u0000b"`, 1), 400, "name"},
			{"enabled a string", "POST", "/rules", strings.Replace(good, `"name"`, `"enabled":"yes","name"`, 1), 400, "enabled"},
			{"unknown member", "POST", "/rules", strings.Replace(good, `"name"`, `"evil":1,"name"`, 1), 400, "evil"},
			{"not JSON", "POST", "/rules", `{"name":`, 400, "invalid"},
			{"unknown class", "POST", "/rules", strings.Replace(good, `"0406"`, `"0999"`, 1), 400, "0999"},
			{"unknown rule", "GET", "/rules/" + uuid.NewString(), "", 404, "not_found"},
			{"rule id not an id", "GET", "/rules/x%00y", "", 404, "not_found"},
			{"bad state", "GET", "/alarms?state=burning", "", 400, "state"},
			{"bad changed_since", "GET", "/alarms?changed_since=yesterday", "", 400, "changed_since"},
			{"NUL in the device", "GET", "/alarms?device=a%00b", "", 400, "device"},
			{"unknown alarm", "GET", "/alarms/" + uuid.NewString(), "", 404, "not_found"},
			{"unknown action", "POST", "/alarms/" + alarmID + "/explode", "", 404, ""},
			{"reason not a string", "POST", "/alarms/" + alarmID + "/clear", `{"reason":5}`, 400, "reason"},
			{"confirm", "POST", "/alarms/" + alarmID + "/confirm", "", 200, `"case_status":"pending"`},
			{"confirm again", "POST", "/alarms/" + alarmID + "/confirm", "", 409, "conflict"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := do(tc.method, tc.path, tc.body)
				if a.Status != tc.status || !strings.Contains(a.Body, tc.want) || (a.Status >= 400 && a.Status != 404 && a.Type != "application/problem+json") {
					t.Fatalf("%d %s %s, want %d with %q", a.Status, a.Type, a.Body, tc.status, tc.want)
				}
			})
		}
		writes := []struct{ method, path, body string }{
			{"POST", "/rules", good},
			{"PUT", "/rules/" + ruleID, good},
			{"DELETE", "/rules/" + ruleID, ""},
			{"POST", "/alarms/" + alarmID + "/acknowledge", ""},
			{"POST", "/alarms/" + alarmID + "/clear", `{"reason":"x"}`},
			{"POST", "/alarms/" + alarmID + "/confirm", ""},
			{"POST", "/alarms/" + alarmID + "/dismiss", ""},
		}
		for _, as := range []struct {
			who    string
			status int
		}{{"view", 403}, {"b", 404}} {
			for _, wr := range writes {
				if wr.path == "/rules" && as.who == "b" {
					continue // B may add rules of its own
				}
				if a := do(wr.method, wr.path+"?as="+as.who, wr.body); a.Status != as.status || a.Type != "application/problem+json" {
					t.Errorf("%s %s %s: %d %s", as.who, wr.method, wr.path, a.Status, a.Body)
				}
			}
		}
		for _, p := range []string{"/rules/" + ruleID, "/alarms/" + alarmID} {
			if a := do("GET", p+"?as=b", ""); a.Status != 404 {
				t.Errorf("B reads %s: %d %s", p, a.Status, a.Body)
			}
			if a := do("GET", p+"?as=view", ""); a.Status != 200 {
				t.Errorf("viewer reads %s: %d %s", p, a.Status, a.Body)
			}
		}
		if a := do("GET", "/alarms?as=b", ""); a.Status != 200 || a.Body != "[]" {
			t.Errorf("B lists: %d %s", a.Status, a.Body)
		}
		if a := do("POST", "/alarms/"+alarmID+"/acknowledge?as=handler", ""); a.Status != 403 {
			t.Errorf("handler acknowledges: %d %s", a.Status, a.Body)
		}
		if a := do("GET", "/alarms?state=open&device=WL-1&changed_since=0", ""); a.Status != 200 || !strings.Contains(a.Body, `"device":"WL-1"`) {
			t.Errorf("list: %d %s", a.Status, a.Body)
		}
		if a := do("POST", "/alarms/"+alarmID+"/acknowledge", ""); a.Status != 200 || !strings.Contains(a.Body, `"state":"acknowledged"`) {
			t.Errorf("acknowledge: %d %s", a.Status, a.Body)
		}
		if a := do("DELETE", "/rules/"+ruleID, ""); a.Status != 204 {
			t.Errorf("delete: %d %s", a.Status, a.Body)
		}
	})
}

// TestAlarmLoops: the module's alarm loops, as the server runs them: "alarm cases" opens the case
// of an alarm raised by the ingest (kicked by it) for a tenant whose plan has monitoring, and
// "no data" raises the alarm of a silent device.
func TestAlarmLoops(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		tok := w.mustDevice(t, w.e.A, "WL-1", "waterlog")
		w.mustDevice(t, w.e.A, "GAS-1", "gas")
		gas := w.mustDevice(t, w.e.A, "GAS-2", "gas")
		w.mustRule(t, monitoring.RuleInput{Name: "积水", DeviceType: "waterlog", Metric: "level", Kind: "above", Threshold: f64(20),
			Action: "case", CaseKind: "event", ClassCode: "0406"})
		w.mustRule(t, monitoring.RuleInput{Name: "无数据", DeviceType: "gas", Metric: "concentration", Kind: "no_data", Threshold: f64(10)})
		w.feed(t, gas, "concentration", time.Second, 1)
		w.clk.Add(11 * time.Minute)
		w.s.SetCases(w.cs)
		k := module.Kit{Store: w.e.Store, Now: w.clk.Now, Log: slog.New(slog.DiscardHandler),
			Entitled: func(_ context.Context, tn *tenants.Tenant, ent string) (bool, error) {
				return ent == monitoring.Entitlement && tn.ID == w.e.TenantA.ID, nil
			}}
		parts, err := monitoring.Module(w.s).Build(k)
		if err != nil || len(parts.Background) < 3 || parts.Background[1].Name != "alarm cases" || parts.Background[2].Name != "no data" {
			t.Fatalf("parts: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var done sync.WaitGroup
		for _, l := range parts.Background[1:3] {
			done.Add(1)
			go func() { defer done.Done(); l.Run(ctx) }()
		}
		time.Sleep(100 * time.Millisecond) // the loops' first passes
		w.feed(t, tok, "level", time.Second, 30)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if as := w.alarmsOf(t, "WL-1"); len(as) == 1 && as[0].CaseStatus == "opened" && len(w.alarmsOf(t, "GAS-2")) == 1 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		done.Wait()
		if as := w.alarmsOf(t, "WL-1"); len(as) != 1 || as[0].CaseStatus != "opened" {
			t.Fatalf("case not opened: %+v", as)
		}
		if as := w.alarmsOf(t, "GAS-2"); len(as) != 1 || as[0].Kind != "no_data" {
			t.Fatalf("no_data: %+v", as)
		}
		if as := w.alarmsOf(t, "GAS-1"); len(as) != 0 {
			t.Fatalf("a device that never sent is silent: %+v", as)
		}
	})
}
