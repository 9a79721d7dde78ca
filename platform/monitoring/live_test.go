package monitoring_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// liveServer is the module's API and ingest as the app mounts them, on a loopback port (a stream
// needs a real connection); the X-As header says who asks: "a" and "b" (each county's admin),
// "pref" (the prefecture's viewer on the prefecture's own routes), "view" (the prefecture's
// viewer in A).
func (w *world) liveServer(t *testing.T) (string, *fiber.App) {
	t.Helper()
	k := module.Kit{Store: w.e.Store, Now: w.clk.Now, Usage: &usage{}, Log: slog.New(slog.DiscardHandler),
		Entitled: func(context.Context, *tenants.Tenant, string) (bool, error) { return true, nil }}
	parts, err := monitoring.Module(w.s).Build(k)
	if err != nil {
		t.Fatal(err)
	}
	f := fiber.New(fiber.Config{Immutable: true, DisableStartupMessage: true, ErrorHandler: func(c *fiber.Ctx, err error) error {
		st := module.Status(errs.CodeOf(err))
		return module.SendProblem(c, st, module.Problem{Status: st, Code: string(errs.CodeOf(err)), Detail: errs.MessageOf(err)})
	}})
	parts.Machine(router{f.Group("/api/v1/ingest/:tenant")})
	viewer := &tenants.Principal{Identity: &tenants.Identity{ID: uuid.New(), Email: "viewer@test.cn"},
		Memberships: []tenants.Membership{{TenantID: w.e.Prefecture.ID, Role: tenants.PrefectureViewer}}}
	api := f.Group("/api/v1/t/:tenant", func(c *fiber.Ctx) error {
		var sc *tenants.Scope
		ctx := c.UserContext()
		switch c.Get("X-As") {
		case "a":
			sc = tenants.SystemScope(w.e.TenantA)
		case "b":
			sc = tenants.SystemScope(w.e.TenantB)
		case "pref":
			sc = &tenants.Scope{Tenant: w.e.Prefecture, Roles: []tenants.Role{tenants.PrefectureViewer}, ReadOnly: true}
			ctx = tenants.WithPrincipal(ctx, viewer)
		case "view":
			sc = tenants.ScopeFrom(w.e.View)
			ctx = tenants.WithPrincipal(ctx, viewer)
		default:
			return fiber.ErrUnauthorized
		}
		c.SetUserContext(tenants.WithScope(ctx, sc))
		return c.Next()
	})
	parts.API(router{api})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go f.Listener(ln)
	t.Cleanup(func() { f.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String(), f
}

// liveGet is a GET of the live feed's JSON snapshot as who.
func liveGet(t *testing.T, base, who, query string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/t/x/monitoring/live"+query, nil)
	req.Header.Set("X-As", who)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// event is one server-sent event.
type event struct{ ID, Kind, Data string }

// liveStream opens the live stream as who (lastID: a Last-Event-ID to continue from) and returns
// its events as they come; the stream is closed when the test ends.
func liveStream(t *testing.T, base, who, lastID string) <-chan event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/t/x/monitoring/live", nil)
	req.Header.Set("X-As", who)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan event, 1000)
	go func() {
		defer res.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Kind != "" {
					out <- ev
				}
				ev = event{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Kind = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Data = line[6:]
			}
		}
	}()
	return out
}

// waitEvent reads events until one of kind satisfies ok (within 10 s), and returns it with the
// last id seen on the way.
func waitEvent(t *testing.T, ch <-chan event, kind string, ok func(data string) bool, lastID *string) event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, open := <-ch:
			if !open {
				t.Fatalf("the stream ended before a %s event", kind)
			}
			if ev.ID != "" && lastID != nil {
				*lastID = ev.ID
			}
			if ev.Kind == kind && ok(ev.Data) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within 10 s", kind)
		}
	}
}

// noEvent fails if an event of kind satisfying bad comes within d.
func noEvent(t *testing.T, ch <-chan event, d time.Duration, kind string, bad func(data string) bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev, open := <-ch:
			if !open {
				return
			}
			if ev.Kind == kind && bad(ev.Data) {
				t.Fatalf("unexpected %s event: %s", kind, ev.Data)
			}
		case <-deadline:
			return
		}
	}
}

// liveAlarm is an alarm row as the rules engine will write it; the tests write it through the
// tenant's gate, the live view only reads it.
type liveAlarm struct {
	ID, Device, Severity, State string
	CaseID                      string
	Value                       float64
	At                          time.Time // raised_at, and updated_at unless Updated is set
	Updated                     time.Time
}

// mustAlarm writes a (insert or update by id) in ctx's tenant.
func mustAlarm(t testing.TB, ctx context.Context, st *tenants.Store, a liveAlarm) {
	t.Helper()
	if a.Updated.IsZero() {
		a.Updated = a.At
	}
	err := st.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		var dev int64
		if err := db.NewSelect().Table("monitoring_devices").Column("id").Where("code = ?", a.Device).Scan(ctx, &dev); err != nil {
			return err
		}
		row := &monitoring.Alarm{ID: a.ID, DeviceID: dev, Source: "rule", Kind: monitoring.RuleAbove, Metric: "level", Severity: a.Severity,
			State: a.State, Message: "level above 30", Value: &a.Value, Peak: &a.Value, RaisedAtMS: a.At.UnixMilli(), LastAtMS: a.Updated.UnixMilli(),
			Hits: 1, CaseStatus: monitoring.CaseNone, UpdatedAtMS: a.Updated.UnixMilli()}
		if a.State != monitoring.AlarmCleared {
			k := "test:" + a.ID
			row.OpenKey = &k
		}
		if a.CaseID != "" {
			row.CaseID, row.CaseStatus = &a.CaseID, monitoring.CaseOpened
		}
		_, err := db.NewInsert().Model(row).On("CONFLICT (id) DO UPDATE").
			Set("state = EXCLUDED.state, open_key = EXCLUDED.open_key, severity = EXCLUDED.severity, updated_at = EXCLUDED.updated_at, case_id = EXCLUDED.case_id").Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatalf("alarm %s: %v", a.ID, err)
	}
}

// liveState decodes a snapshot.
func liveState(t *testing.T, body string) monitoring.LiveState {
	t.Helper()
	var s monitoring.LiveState
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return s
}

func levels(s monitoring.LiveState) map[string]string {
	out := map[string]string{}
	for _, d := range s.Devices {
		out[d.Unit+"/"+d.Code] = d.Level
	}
	return out
}

// TestLiveSnapshot: the live view's JSON snapshot of a county (its devices with their levels,
// its open alarms with their links, the counts), of another county (none of A's), and of the
// prefecture (its counties' devices and alarms, read-only: the scopes it reads refuse a write);
// a bad cursor is a 400 problem.
func TestLiveSnapshot(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		tok := w.mustDevice(t, w.e.A, "WL-1", "waterlog")
		w.mustDevice(t, w.e.A, "GAS-1", "gas")
		w.mustDevice(t, w.e.B, "WL-9", "waterlog")
		now := w.clk.Now()
		mustAlarm(t, w.e.A, w.e.Store, liveAlarm{ID: "al-1", Device: "GAS-1", Severity: "critical", State: monitoring.AlarmRaised, Value: 42, At: now.Add(-time.Minute), CaseID: "case-7"})
		mustAlarm(t, w.e.A, w.e.Store, liveAlarm{ID: "al-2", Device: "GAS-1", Severity: "warning", State: monitoring.AlarmAcknowledged, Value: 20, At: now.Add(-2 * time.Minute)})
		mustAlarm(t, w.e.A, w.e.Store, liveAlarm{ID: "al-0", Device: "WL-1", Severity: "critical", State: monitoring.AlarmCleared, Value: 50, At: now.Add(-time.Hour)})
		base, _ := w.liveServer(t)
		if res, err := http.Post(base+"/api/v1/ingest/chuxiong/readings", "application/json", nil); err != nil || res.StatusCode != 401 {
			t.Fatalf("ingest without a token: %v %v", res, err)
		}
		req, _ := http.NewRequest("POST", base+"/api/v1/ingest/chuxiong/readings", strings.NewReader(`{"readings":[{"metric":"level","value":12}]}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
			t.Fatalf("ingest: %v %v", res, err)
		}

		code, body := liveGet(t, base, "a", "")
		if code != 200 {
			t.Fatalf("A: %d %s", code, body)
		}
		s := liveState(t, body)
		if got := levels(s); len(got) != 2 || got["chuxiong/WL-1"] != "online" || got["chuxiong/GAS-1"] != "critical" {
			t.Fatalf("A's levels %v", got)
		}
		if len(s.Alarms) != 2 || s.Alarms[0].ID != "al-1" || s.Alarms[0].CaseLink != "/t/chuxiong/cases/case-7" ||
			s.Alarms[0].DeviceLink != "/t/chuxiong/monitoring/devices/GAS-1" || s.Alarms[1].ID != "al-2" || s.Alarms[1].CaseLink != "" {
			t.Fatalf("A's alarms %s", body)
		}
		if s.Counts.Status["online"] != 1 || s.Counts.Status["alarm"] != 1 || s.Counts.Severity["critical"] != 1 || s.Counts.Severity["warning"] != 1 ||
			s.Counts.Types["gas"] != 1 || s.Cursor == "" {
			t.Fatalf("A's counts %+v cursor %q", s.Counts, s.Cursor)
		}

		code, body = liveGet(t, base, "b", "")
		s = liveState(t, body)
		if got := levels(s); code != 200 || len(got) != 1 || got["wuding/WL-9"] != "offline" || len(s.Alarms) != 0 || strings.Contains(body, "GAS-1") {
			t.Fatalf("B: %d %s", code, body)
		}

		// The prefecture's viewer: every county's devices and alarms, links into each county.
		code, body = liveGet(t, base, "pref", "")
		s = liveState(t, body)
		if got := levels(s); code != 200 || len(got) != 3 || got["chuxiong/GAS-1"] != "critical" || got["wuding/WL-9"] != "offline" {
			t.Fatalf("prefecture: %d %s", code, body)
		}
		if len(s.Units) != 3 || s.Units[0].Slug != "chuxiong-zhou" || len(s.Alarms) != 2 || s.Alarms[0].Unit != "chuxiong" {
			t.Fatalf("prefecture's units and alarms: %s", body)
		}
		// Each county's read is audited, as the prefecture's.
		for _, ten := range []*tenants.Tenant{w.e.TenantA, w.e.TenantB} {
			es := w.e.MustAudit(t, ten, "tenant.cross_read")
			if len(es) != 1 || !strings.Contains(es[0].Detail, `"via":"chuxiong-zhou"`) || !strings.Contains(es[0].Detail, "/monitoring/live") {
				t.Fatalf("the prefecture's read of %s audited as %+v", ten.Slug, es)
			}
		}
		// Read-only all the way down: the API refuses its writes, and so do the scopes it reads.
		req, _ = http.NewRequest("POST", base+"/api/v1/t/chuxiong/monitoring/devices", strings.NewReader(`{"code":"X-1","type":"gas","lon":101.5,"lat":25.0}`))
		req.Header.Set("X-As", "view")
		req.Header.Set("Content-Type", "application/json")
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 403 {
			t.Fatalf("the viewer's write: %v %v", res, err)
		}
		viewer := &tenants.Principal{Identity: &tenants.Identity{ID: uuid.New()}, Memberships: []tenants.Membership{{TenantID: w.e.Prefecture.ID, Role: tenants.PrefectureViewer}}}
		under, err := w.e.Store.ReadableUnder(context.Background(), viewer, w.e.Prefecture)
		if err != nil || len(under) != 2 {
			t.Fatalf("readable under: %v %v", under, err)
		}
		for _, sc := range under {
			err := w.e.Store.Tx(tenants.WithScope(context.Background(), sc), tenants.Write, func(ctx context.Context, db bun.IDB) error {
				_, err := db.NewDelete().TableExpr("monitoring_alarms").Where("1 = 1").Exec(ctx)
				return err
			})
			if !errs.Is(err, errs.Forbidden) {
				t.Fatalf("a write in %s through the prefecture's scope: %v", sc.Tenant.Slug, err)
			}
		}
		// The county's viewer through the prefecture: the county alone.
		if code, body = liveGet(t, base, "view", ""); code != 200 || len(liveState(t, body).Devices) != 2 {
			t.Fatalf("view: %d %s", code, body)
		}

		for _, q := range []string{"?since=yesterday", "?since=-5", "?since=1%00"} {
			req, _ := http.NewRequest("GET", base+"/api/v1/t/x/monitoring/live"+q, nil)
			req.Header.Set("X-As", "a")
			req.Header.Set("Accept", "text/event-stream")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(b), "since") {
				t.Errorf("%s: %d %s", q, res.StatusCode, b)
			}
		}
	})
}

// TestLiveStream: the live stream starts with a snapshot; a device posting readings turns online
// in it, an alarm row raised shows as an alarm event and recolours its device, its clearing
// removes it, a mere hit is no event; the other county's stream sees none of it; a client
// reconnecting with the last event's id gets the changes since then instead of a snapshot, one
// with a cursor too old a snapshot; an alarm storm is sent as a snapshot; a device silent for
// longer than the offline minutes goes offline; the server's shutdown ends the streams.
func TestLiveStream(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		tok := w.mustDevice(t, w.e.A, "WL-1", "waterlog")
		w.mustDevice(t, w.e.B, "WL-9", "waterlog")
		base, srv := w.liveServer(t)
		var last string
		a := liveStream(t, base, "a", "")
		snap := waitEvent(t, a, "snapshot", func(string) bool { return true }, &last)
		if !strings.Contains(snap.Data, `"code":"WL-1"`) || !strings.Contains(snap.Data, `"level":"offline"`) || strings.Contains(snap.Data, "WL-9") {
			t.Fatalf("snapshot %s", snap.Data)
		}
		b := liveStream(t, base, "b", "")
		waitEvent(t, b, "snapshot", func(string) bool { return true }, nil)

		// A device posts: online in A's stream.
		req, _ := http.NewRequest("POST", base+"/api/v1/ingest/chuxiong/readings", strings.NewReader(`{"readings":[{"metric":"level","value":12}]}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
			t.Fatalf("ingest: %v %v", res, err)
		}
		ev := waitEvent(t, a, "device", func(d string) bool { return strings.Contains(d, `"code":"WL-1"`) }, &last)
		var d monitoring.LiveDevice
		if err := json.Unmarshal([]byte(ev.Data), &d); err != nil || d.Status != "online" || d.Level != "online" || d.LastSeen == nil ||
			d.Link != "/t/chuxiong/monitoring/devices/WL-1" {
			t.Fatalf("device event %s (%v)", ev.Data, err)
		}

		// An alarm is raised: the alarm, and the device in alarm.
		now := w.clk.Now()
		mustAlarm(t, w.e.A, w.e.Store, liveAlarm{ID: "al-1", Device: "WL-1", Severity: "warning", State: monitoring.AlarmRaised, Value: 35, At: now})
		ev = waitEvent(t, a, "alarm", func(d string) bool { return strings.Contains(d, `"id":"al-1"`) }, &last)
		if !strings.Contains(ev.Data, `"open":true`) || !strings.Contains(ev.Data, `"key":"chuxiong/al-1"`) || !strings.Contains(ev.Data, `"severity":"warning"`) {
			t.Fatalf("alarm event %s", ev.Data)
		}
		waitEvent(t, a, "device", func(d string) bool {
			return strings.Contains(d, `"code":"WL-1"`) && strings.Contains(d, `"level":"warning"`)
		}, &last)
		cur := last

		// Cleared: gone from the open alarms, the device back to online.
		mustAlarm(t, w.e.A, w.e.Store, liveAlarm{ID: "al-1", Device: "WL-1", Severity: "warning", State: monitoring.AlarmCleared, Value: 35, At: now, Updated: now.Add(time.Second)})
		waitEvent(t, a, "alarm", func(d string) bool { return strings.Contains(d, `"id":"al-1"`) && strings.Contains(d, `"open":false`) }, &last)
		waitEvent(t, a, "device", func(d string) bool {
			return strings.Contains(d, `"code":"WL-1"`) && strings.Contains(d, `"level":"online"`)
		}, &last)

		// A hit on an open alarm (its count, last time) is no event.
		mustAlarm(t, w.e.A, w.e.Store, liveAlarm{ID: "al-2", Device: "WL-1", Severity: "info", State: monitoring.AlarmRaised, Value: 1, At: now})
		waitEvent(t, a, "alarm", func(d string) bool { return strings.Contains(d, `"id":"al-2"`) }, &last)
		mustAlarm(t, w.e.A, w.e.Store, liveAlarm{ID: "al-2", Device: "WL-1", Severity: "info", State: monitoring.AlarmRaised, Value: 1, At: now, Updated: now.Add(2 * time.Second)})
		noEvent(t, a, 2500*time.Millisecond, "alarm", func(d string) bool { return strings.Contains(d, `"id":"al-2"`) })
		mustAlarm(t, w.e.A, w.e.Store, liveAlarm{ID: "al-2", Device: "WL-1", Severity: "info", State: monitoring.AlarmCleared, Value: 1, At: now, Updated: now.Add(3 * time.Second)})
		waitEvent(t, a, "alarm", func(d string) bool { return strings.Contains(d, `"id":"al-2"`) && strings.Contains(d, `"open":false`) }, &last)

		// B saw none of it.
		noEvent(t, b, 1500*time.Millisecond, "device", func(d string) bool { return strings.Contains(d, "WL-1") })
		noEvent(t, b, 100*time.Millisecond, "alarm", func(string) bool { return true })

		// Reconnecting from the cursor of the alarm: its changes since, no snapshot.
		again := liveStream(t, base, "a", cur)
		cleared := false
		for ev := range again {
			if ev.Kind == "snapshot" {
				t.Fatalf("a reconnection with Last-Event-ID %s got a snapshot", cur)
			}
			if cleared = ev.Kind == "alarm" && strings.Contains(ev.Data, `"id":"al-1"`) && strings.Contains(ev.Data, `"open":false`); cleared {
				break
			}
		}
		if !cleared {
			t.Fatal("the reconnection did not resend the alarm's clearing")
		}
		// A cursor too old for the stream to continue from: a snapshot.
		old := liveStream(t, base, "a", "1000")
		if ev := <-old; ev.Kind != "snapshot" {
			t.Fatalf("an old cursor: %s first", ev.Kind)
		}

		// No reading for longer than the tenant's offline minutes (15): the device goes offline.
		w.clk.Add(16 * time.Minute)
		waitEvent(t, old, "device", func(d string) bool {
			return strings.Contains(d, `"code":"WL-1"`) && strings.Contains(d, `"status":"offline"`)
		}, nil)

		// More alarms changed at once than a poll reads: a fresh snapshot instead.
		if err := w.e.Store.Tx(w.e.A, tenants.Write, func(ctx context.Context, db bun.IDB) error {
			var dev int64
			if err := db.NewSelect().Table("monitoring_devices").Column("id").Where("code = 'WL-1'").Scan(ctx, &dev); err != nil {
				return err
			}
			rows := make([]*monitoring.Alarm, 2000)
			for i := range rows {
				k := fmt.Sprint("storm:", i)
				rows[i] = &monitoring.Alarm{ID: k, DeviceID: dev, OpenKey: &k, Source: "video", Kind: "occupied_road", Severity: "warning", State: monitoring.AlarmRaised,
					RaisedAtMS: now.UnixMilli(), LastAtMS: now.UnixMilli(), Hits: 1, CaseStatus: monitoring.CaseNone, UpdatedAtMS: w.clk.Now().UnixMilli()}
			}
			_, err := db.NewInsert().Model(&rows).Exec(ctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		snap = waitEvent(t, old, "snapshot", func(string) bool { return true }, nil)
		if s := liveState(t, snap.Data); len(s.Alarms) != 2000 || s.Counts.Severity["warning"] != 2000 {
			t.Fatalf("the storm's snapshot: %d alarms, counts %v", len(s.Alarms), s.Counts)
		}

		// The server shutting down ends its streams at once, not after their 50 s.
		start := time.Now()
		go srv.ShutdownWithTimeout(20 * time.Second)
		for range old {
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("a stream ended %s after the shutdown began", d)
		}
	})
}
