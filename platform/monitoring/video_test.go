package monitoring_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
)

// videoWorld is a world whose service seals camera sources with a local keyring and runs its
// gateway with cfg.
func videoWorld(t *testing.T, w *world, cfg monitoring.VideoConfig) *world {
	t.Helper()
	kr, err := secrets.OpenKeyring(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kr.Close() })
	for _, tn := range []*tenants.Tenant{w.e.Prefecture, w.e.TenantA, w.e.TenantB} {
		if err := kr.EnsureTenantKey(context.Background(), tn.ID); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	w.s = monitoring.NewService(monitoring.Config{Gate: w.e.Store, Now: w.clk.Now, Cipher: kr, Video: cfg})
	return w
}

// videoServer is the module on a fiber app like server, with the API's caller chosen by ?as=:
// A's admin (default), b (B's admin), view (the prefecture viewer in A), pref (the prefecture's
// admin), amember (a read-only member of A).
func (w *world) videoServer(t testing.TB, u *usage) (*fiber.App, module.Parts) {
	t.Helper()
	k := module.Kit{Store: w.e.Store, Now: w.clk.Now, Usage: u, Log: slog.New(slog.DiscardHandler),
		Entitled: func(context.Context, *tenants.Tenant, string) (bool, error) { return true, nil }}
	parts, err := monitoring.Module(w.s).Build(k)
	if err != nil {
		t.Fatal(err)
	}
	f := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		code := errs.CodeOf(err)
		st := module.Status(code)
		if fe, ok := err.(*fiber.Error); ok {
			st = fe.Code
		}
		return module.SendProblem(c, st, module.Problem{Status: st, Code: string(code), Detail: errs.MessageOf(err)})
	}})
	parts.Machine(router{f.Group("/api/v1/ingest/:tenant")})
	api := f.Group("/api/v1/t/:tenant", func(c *fiber.Ctx) error {
		sc := tenants.SystemScope(w.e.TenantA)
		switch c.Query("as") {
		case "b":
			sc = tenants.SystemScope(w.e.TenantB)
		case "view":
			sc = tenants.ScopeFrom(w.e.View)
		case "pref":
			sc = tenants.SystemScope(w.e.Prefecture)
		case "amember":
			sc = &tenants.Scope{Tenant: w.e.TenantA, Roles: []tenants.Role{tenants.Viewer}, ReadOnly: true}
		}
		c.SetUserContext(tenants.WithScope(c.UserContext(), sc))
		return c.Next()
	})
	parts.API(router{api})
	return f, parts
}

// aJPEG is a small JPEG.
func aJPEG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range 16 {
		img.Set(i, i, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func get(t testing.TB, f *fiber.App, path string) answer {
	t.Helper()
	return send(t, f, httptest.NewRequest("GET", path, nil))
}

func call(t testing.TB, f *fiber.App, method, path, body string) answer {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return send(t, f, req)
}

// photos records the photos the snapshot pass adds to cases.
type photos struct {
	mu   sync.Mutex
	adds map[string]int
}

func (p *photos) AddPhoto(_ context.Context, caseID string, data []byte) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.adds == nil {
		p.adds = map[string]int{}
	}
	p.adds[caseID] += len(data)
	return "photo-" + caseID, nil
}

// TestVideoEvents: events from a camera's analytics through the ingest: one alarm per camera and
// type (repeats count hits), the same event id taken once, every bad payload a 4xx problem, other
// tenants' tokens refused; the type mapping decides the case status; the snapshot sent with the
// event is the alarm's, and becomes a photo of its case once the case is opened.
func TestVideoEvents(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		w = videoWorld(t, w, monitoring.VideoConfig{})
		u := &usage{}
		f, _ := w.videoServer(t, u)
		cam, tok, err := w.s.CreateCamera(w.e.A, monitoring.CameraInput{
			DeviceInput: monitoring.DeviceInput{Code: "CAM-1", Name: ptr("鹿城路口"), Lon: ptr(101.505), Lat: ptr(25.005)},
			Source:      monitoring.SourceInput{Protocol: "rtsp", URL: "rtsp://admin:s3cret@192.0.2.10:554/Streaming/Channels/101"}})
		if err != nil || cam.SourceHint != "rtsp://192.0.2.10:554" || cam.Type != "camera" {
			t.Fatalf("CreateCamera = %+v, %v", cam, err)
		}
		sensorTok := w.mustDevice(t, w.e.A, "WL-1", "waterlog")
		_, tokB, err := w.s.CreateCamera(w.e.B, monitoring.CameraInput{
			DeviceInput: monitoring.DeviceInput{Code: "CAM-9", Lon: ptr(101.505), Lat: ptr(25.005)},
			Source:      monitoring.SourceInput{Protocol: "onvif", URL: "rtsp://192.0.2.20/profile1", SnapshotURL: "http://192.0.2.20/onvif/snapshot"}})
		if err != nil {
			t.Fatal(err)
		}
		// The source is sealed: nothing of it but scheme, host and port comes back.
		for _, p := range []string{"/api/v1/t/chuxiong/monitoring/cameras", "/api/v1/t/chuxiong/monitoring/cameras/CAM-1", "/api/v1/t/chuxiong/monitoring/devices/CAM-1"} {
			a := get(t, f, p)
			if a.Status != 200 || strings.Contains(a.Body, "s3cret") || strings.Contains(a.Body, "admin") || strings.Contains(a.Body, "Channels") {
				t.Fatalf("%s: %d %s", p, a.Status, a.Body)
			}
		}
		var sealed string
		if err := w.e.Store.Tx(w.e.A, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewSelect().TableExpr("monitoring_cameras").Column("source").Scan(ctx, &sealed)
		}); err != nil || !strings.HasPrefix(sealed, "kr:v1:") || strings.Contains(sealed, "s3cret") {
			t.Fatalf("stored source %q, %v", sealed, err)
		}

		const ingA, ingB = "/api/v1/ingest/chuxiong/events", "/api/v1/ingest/wuding/events"
		snap := base64.StdEncoding.EncodeToString(aJPEG(t))
		ev := func(id, typ string) string {
			return fmt.Sprintf(`{"id":%q,"type":%q,"confidence":0.92,"snapshot":%q}`, id, typ, snap)
		}
		big := base64.StdEncoding.EncodeToString(append(aJPEG(t), make([]byte, monitoring.MaxSnapshot)...))
		for _, tc := range []struct {
			name, path, tok, body string
			status                int
			want                  string
		}{
			{"no token", ingA, "", ev("e1", "occupied_road"), 401, "Bearer"},
			{"B's token into A", ingA, tokB, ev("e1", "occupied_road"), 401, "unauthorized"},
			{"A's token into B", ingB, tok, ev("e1", "occupied_road"), 401, "unauthorized"},
			{"a sensor's token", ingA, sensorTok, ev("e1", "occupied_road"), 403, "camera"},
			{"confidence a string", ingA, tok, `{"id":"e1","type":"occupied_road","confidence":"high"}`, 400, "confidence"},
			{"confidence above 1", ingA, tok, `{"id":"e1","type":"occupied_road","confidence":7}`, 400, "confidence"},
			{"id a number", ingA, tok, `{"id":1,"type":"occupied_road"}`, 400, "id"},
			{"NUL in the id", ingA, tok, `{"id":"e\u00001","type":"occupied_road"}`, 400, "id"},
			{"NUL in the type", ingA, tok, `{"id":"e1","type":"occupied\u0000road"}`, 400, "type"},
			{"unknown type", ingA, tok, ev("e1", "alien_landing"), 400, "alien_landing"},
			{"unknown member", ingA, tok, `{"id":"e1","type":"occupied_road","evil":1}`, 400, "evil"},
			{"snapshot not base64", ingA, tok, `{"id":"e1","type":"occupied_road","snapshot":"%%%"}`, 400, "snapshot"},
			{"snapshot not a JPEG", ingA, tok, `{"id":"e1","type":"occupied_road","snapshot":"` + base64.StdEncoding.EncodeToString([]byte("GIF89a, honest")) + `"}`, 415, "JPEG"},
			{"oversize snapshot", ingA, tok, `{"id":"e1","type":"occupied_road","snapshot":"` + big + `"}`, 413, "512"},
			{"in the future", ingA, tok, `{"id":"e1","type":"occupied_road","at":"2030-01-01T00:00:00Z"}`, 400, "time"},
			{"bad time", ingA, tok, `{"id":"e1","type":"occupied_road","at":"soon"}`, 400, "at"},
			{"not JSON", ingA, tok, `{"id":`, 400, "invalid"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := post(t, f, tc.path, tc.tok, tc.body)
				if a.Status != tc.status || a.Type != "application/problem+json" || !strings.Contains(a.Body, tc.want) {
					t.Fatalf("%d %s %s, want %d with %q", a.Status, a.Type, a.Body, tc.status, tc.want)
				}
			})
		}
		if as, _ := w.s.FindAlarms(w.e.A, monitoring.AlarmFilter{}); len(as) != 0 || len(u.recs) != 0 {
			t.Fatalf("refused events wrote alarms %v or usage %v", as, u.recs)
		}
		type res struct {
			Alarm, CaseStatus string
			Hits              int
			Duplicate         bool
		}
		decode := func(a answer) res {
			t.Helper()
			var r struct {
				Alarm      string `json:"alarm"`
				Hits       int    `json:"hits"`
				CaseStatus string `json:"case_status"`
				Duplicate  bool   `json:"duplicate"`
			}
			if a.Status != 200 || json.Unmarshal([]byte(a.Body), &r) != nil {
				t.Fatalf("event: %d %s", a.Status, a.Body)
			}
			return res{r.Alarm, r.CaseStatus, r.Hits, r.Duplicate}
		}
		first := decode(post(t, f, ingA, tok, ev("e1", "occupied_road")))
		if first.Alarm == "" || first.Hits != 1 || first.CaseStatus != "none" || first.Duplicate {
			t.Fatalf("first %+v", first)
		}
		again := decode(post(t, f, ingA, tok, ev("e1", "occupied_road")))
		if !again.Duplicate || again.Alarm != first.Alarm {
			t.Fatalf("again %+v", again)
		}
		second := decode(post(t, f, ingA, tok, ev("e2", "occupied_road")))
		if second.Alarm != first.Alarm || second.Hits != 2 || second.Duplicate {
			t.Fatalf("second %+v", second)
		}
		as, err := w.s.FindAlarms(w.e.A, monitoring.AlarmFilter{Device: "CAM-1"})
		if err != nil || len(as) != 1 || as[0].Hits != 2 || as[0].Source != "video" || as[0].Kind != "occupied_road" || as[0].Message != "占道经营" {
			t.Fatalf("alarms %+v %v", as, err)
		}
		if len(u.recs) != 2 {
			t.Fatalf("usage %+v", u.recs)
		}
		// The type mapping: exposed garbage opens a case; a case action needs its class.
		if a := call(t, f, "PUT", "/api/v1/t/chuxiong/monitoring/video/event-types/exposed_garbage", `{"action":"case","case_kind":"event"}`); a.Status != 400 || !strings.Contains(a.Body, "class_code") {
			t.Fatalf("no class: %d %s", a.Status, a.Body)
		}
		if a := call(t, f, "PUT", "/api/v1/t/chuxiong/monitoring/video/event-types/exposed_garbage?as=view", `{"action":"alarm"}`); a.Status != 403 {
			t.Fatalf("viewer maps: %d %s", a.Status, a.Body)
		}
		if a := call(t, f, "PUT", "/api/v1/t/chuxiong/monitoring/video/event-types/exposed_garbage", `{"action":"case","case_kind":"事件","class_code":"0101","description":"暴露垃圾，请清运"}`); a.Status != 200 || !strings.Contains(a.Body, `"case_kind":"event"`) {
			t.Fatalf("map: %d %s", a.Status, a.Body)
		}
		if a := call(t, f, "PUT", "/api/v1/t/chuxiong/monitoring/video/event-types/helmet_missing", `{"action":"confirm","case_kind":"event","class_code":"0102","min_confidence":0.8}`); a.Status != 200 {
			t.Fatalf("custom type: %d %s", a.Status, a.Body)
		}
		garbage := decode(post(t, f, ingA, tok, ev("e3", "exposed_garbage")))
		if garbage.Alarm == first.Alarm || garbage.CaseStatus != "pending" || garbage.Hits != 1 {
			t.Fatalf("garbage %+v", garbage)
		}
		if r := decode(post(t, f, ingA, tok, `{"id":"e4","type":"helmet_missing","confidence":0.5}`)); r.Alarm != "" {
			t.Fatalf("below the minimum confidence: %+v", r)
		}
		if r := decode(post(t, f, ingA, tok, `{"id":"e5","type":"helmet_missing","confidence":0.9}`)); r.CaseStatus != "waiting" {
			t.Fatalf("confirm: %+v", r)
		}
		a := get(t, f, "/api/v1/t/chuxiong/monitoring/video/event-types")
		if a.Status != 200 || !strings.Contains(a.Body, `"type":"helmet_missing"`) || !strings.Contains(a.Body, `"name_zh":"占道经营"`) {
			t.Fatalf("types: %d %s", a.Status, a.Body)
		}
		// The event's snapshot is the alarm's; B sees none of it.
		if a := get(t, f, "/api/v1/t/chuxiong/monitoring/alarms/"+first.Alarm+"/snapshot"); a.Status != 200 || a.Type != "image/jpeg" {
			t.Fatalf("snapshot: %d %s", a.Status, a.Type)
		}
		if a := get(t, f, "/api/v1/t/chuxiong/monitoring/alarms/"+first.Alarm+"/snapshot?as=b"); a.Status != 404 {
			t.Fatalf("B reads A's snapshot: %d", a.Status)
		}
		// The case opener opens the garbage alarm's case; the snapshot pass adds the photo, once.
		ph := &photos{}
		w.s.UsePhotos(ph)
		w.s.SetCases(w.cs)
		if n, err := w.s.OpenAlarmCases(w.e.A); err != nil || n != 1 {
			t.Fatalf("the case opener opened %d cases: %v", n, err)
		}
		as, err = w.s.FindAlarms(w.e.A, monitoring.AlarmFilter{})
		if err != nil {
			t.Fatal(err)
		}
		caseID := ""
		for _, a := range as {
			if a.ID == garbage.Alarm && a.CaseID != nil {
				caseID = *a.CaseID
			}
		}
		c, err := w.cs.FindCaseByID(w.e.A, caseID)
		if err != nil || c.Source != cases.FromVideo || c.ClassCode != "0101" || !strings.Contains(c.Description, "暴露垃圾，请清运") {
			t.Fatalf("the garbage alarm's case: %+v %v", c, err)
		}
		for i, want := range []int{1, 0} {
			rep, err := w.s.Snapshots(w.e.A)
			if err != nil || rep.Attached != want {
				t.Fatalf("pass %d: %+v %v", i, rep, err)
			}
		}
		if len(ph.adds) != 1 || ph.adds[caseID] == 0 {
			t.Fatalf("photos %+v", ph.adds)
		}
		// Taken events are forgotten after the raw retention (30 days).
		events := func() (n int) {
			if err := w.e.Store.Tx(w.e.A, tenants.Read, func(ctx context.Context, db bun.IDB) (err error) {
				c, err := db.NewSelect().TableExpr("monitoring_video_events").Count(ctx)
				n = int(c)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := events(); n != 5 {
			t.Fatalf("%d events taken, want 5", n)
		}
		w.clk.Add(31 * 24 * time.Hour)
		if _, err := w.s.Snapshots(w.e.A); err != nil || events() != 0 {
			t.Fatalf("after 31 days: %d events, %v", events(), err)
		}
	})
}

// TestCameraSharing: the prefecture's camera shared with county A is listed for A, read-only,
// and for nobody else; only the prefecture shares, and only with its own counties.
func TestCameraSharing(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		w = videoWorld(t, w, monitoring.VideoConfig{})
		f, _ := w.videoServer(t, &usage{})
		for _, ctx := range []context.Context{w.e.Pref, w.e.A} {
			if _, _, err := w.s.CreateCamera(ctx, monitoring.CameraInput{
				DeviceInput: monitoring.DeviceInput{Code: "ZCAM-1", Name: ptr("州 1"), Lon: ptr(101.52), Lat: ptr(25.03)},
				Source:      monitoring.SourceInput{Protocol: "gb28181", URL: "rtsp://u:p@198.51.100.7/34020000001320000001", ExternalPath: "zhou/cam-1"}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.s.ShareCamera(w.e.A, "ZCAM-1", "wuding"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a county shares: %v", err)
		}
		for _, bad := range []string{"chuxiong-zhou", "nowhere", "x\x00y"} {
			if err := w.s.ShareCamera(w.e.Pref, "ZCAM-1", bad); !errs.Is(err, errs.Invalid) {
				t.Fatalf("share with %q: %v", bad, err)
			}
		}
		if a := call(t, f, "POST", "/api/v1/t/chuxiong-zhou/monitoring/cameras/ZCAM-1/shares?as=pref", `{"tenant":"chuxiong"}`); a.Status != 200 || !strings.Contains(a.Body, `"shared_with":["chuxiong"]`) {
			t.Fatalf("share: %d %s", a.Status, a.Body)
		}
		if es := w.e.MustAudit(t, w.e.Prefecture, "monitoring.camera.share"); len(es) != 1 || es[0].Target != "ZCAM-1" || !strings.Contains(es[0].Detail, "chuxiong") {
			t.Fatalf("audit %+v", es)
		}
		cs, err := w.s.FindCameras(w.e.A)
		if err != nil || len(cs) != 2 || cs[0].Owner != "" || cs[1].Owner != "chuxiong-zhou" || !cs[1].ReadOnly() || cs[1].ExternalPath != "" || cs[1].TokenPrefix != "" {
			t.Fatalf("A's cameras %+v %v", cs, err)
		}
		if cs, err := w.s.FindCameras(w.e.B); err != nil || len(cs) != 0 {
			t.Fatalf("B's cameras %+v %v", cs, err)
		}
		// Over the API: A's members and the prefecture's viewer in A see it; B gets 404.
		for _, tc := range []struct {
			as     string
			status int
		}{{"", 200}, {"amember", 200}, {"view", 200}, {"b", 404}} {
			a := get(t, f, "/api/v1/t/x/monitoring/shared/chuxiong-zhou/ZCAM-1?as="+tc.as)
			if a.Status != tc.status || (tc.status == 200 && (!strings.Contains(a.Body, `"owner":"chuxiong-zhou"`) || strings.Contains(a.Body, "198.51.100.7/3402") || strings.Contains(a.Body, "u:p"))) {
				t.Fatalf("as %q: %d %s", tc.as, a.Status, a.Body)
			}
		}
		if a := get(t, f, "/api/v1/t/x/monitoring/shared/wuding/CAM-1"); a.Status != 404 {
			t.Fatalf("a sibling as owner: %d %s", a.Status, a.Body)
		}
		// A shared camera stays read-only: A cannot change it through its own routes (its own
		// ZCAM-1 is another camera).
		if a := call(t, f, "PUT", "/api/v1/t/x/monitoring/cameras/ZCAM-1/source?as=amember", `{"protocol":"rtsp","url":"rtsp://evil/"}`); a.Status != 403 {
			t.Fatalf("member sets a source: %d %s", a.Status, a.Body)
		}
		if err := w.s.UnshareCamera(w.e.Pref, "ZCAM-1", "chuxiong"); err != nil {
			t.Fatal(err)
		}
		if a := get(t, f, "/api/v1/t/x/monitoring/shared/chuxiong-zhou/ZCAM-1"); a.Status != 404 {
			t.Fatalf("after unsharing: %d %s", a.Status, a.Body)
		}
		// Bad sources are refused before anything is written.
		for _, in := range []monitoring.SourceInput{
			{Protocol: "rtsp", URL: "file:///etc/passwd"},
			{Protocol: "rtsp", URL: "-i /etc/passwd"},
			{Protocol: "rtsp", URL: "rtsp://-evil/x"},
			{Protocol: "rtsp", URL: "rtsp://host/a b"},
			{Protocol: "rtsp", URL: "rtsp://host/a\x00b"},
			{Protocol: "hls", URL: "rtsp://host/a"},
			{Protocol: "onvif", URL: "rtsp://host/a", SnapshotURL: "rtsp://host/snap"},
			{Protocol: "rtsp", URL: "rtsp://host/a", ExternalPath: "../etc"},
		} {
			if _, err := w.s.SetSource(w.e.A, "ZCAM-1", in); !errs.Is(err, errs.Invalid) {
				t.Errorf("source %+v: %v", in, err)
			}
		}
	})
}

// needBinary returns the path of name, or skips the test (fails it under CI) when it is missing.
func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: apt-get install ffmpeg (scripts/test.sh installs it)", name)
		}
		t.Skipf("%s is missing (apt-get install ffmpeg; scripts/test.sh installs it)", name)
	}
	return p
}

// StartRTSP starts testdata/rtsp_server.py (GStreamer's RTSP server with a generated H.264 test
// pattern) and returns its stream's URL.
func startRTSP(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer").Run(); err != nil {
		msg := "no GStreamer RTSP server for the video tests: apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly (scripts/test.sh installs them)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(py, filepath.Join("testdata", "rtsp_server.py"), fmt.Sprint(port))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("RTSP server: %q", line)
	}
	return fmt.Sprintf("rtsp://127.0.0.1:%d/test", port)
}

// TestVideoGatewayPlaysRTSP plays a generated RTSP stream through the gateway: the member's
// first request starts ffmpeg, the playlist lists segments that arrive and decode (ffprobe),
// another tenant gets 404 for the same addresses, a shared camera plays for the county it is
// shared with, a snapshot is a JPEG frame, and the stream stops once nobody asks for Grace.
func TestVideoGatewayPlaysRTSP(t *testing.T) {
	ffmpeg := needBinary(t, "ffmpeg")
	ffprobe := needBinary(t, "ffprobe")
	src := startRTSP(t)
	for _, dialect := range []string{"sqlite"} {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			w := videoWorld(t, newWorld(t, mustEnv(t, dialect)), monitoring.VideoConfig{FFmpeg: ffmpeg, Dir: dir, Grace: 2 * time.Second})
			f, parts := w.videoServer(t, &usage{})
			ctx, cancel := context.WithCancel(context.Background())
			var loops sync.WaitGroup
			for _, l := range parts.Background {
				if l.Name == "video gateway" {
					loops.Add(1)
					go func() { defer loops.Done(); l.Run(ctx) }()
				}
			}
			defer func() { cancel(); loops.Wait() }()
			toks := map[string]string{}
			for _, c := range []struct {
				ctx  context.Context
				code string
			}{{w.e.A, "CAM-1"}, {w.e.Pref, "ZCAM-1"}} {
				_, tok, err := w.s.CreateCamera(c.ctx, monitoring.CameraInput{
					DeviceInput: monitoring.DeviceInput{Code: c.code, Lon: ptr(101.505), Lat: ptr(25.005)},
					Source:      monitoring.SourceInput{Protocol: "rtsp", URL: src}})
				if err != nil {
					t.Fatal(err)
				}
				toks[c.code] = tok
			}
			if err := w.s.ShareCamera(w.e.Pref, "ZCAM-1", "chuxiong"); err != nil {
				t.Fatal(err)
			}
			for _, base := range []string{"/api/v1/t/chuxiong/monitoring/cameras/CAM-1/live/", "/api/v1/t/chuxiong/monitoring/shared/chuxiong-zhou/ZCAM-1/live/"} {
				// Another tenant is refused before anything starts.
				for _, file := range []string{"index.m3u8", "seg1.ts"} {
					if a := get(t, f, base+file+"?as=b"); a.Status != 404 || a.Type != "application/problem+json" {
						t.Fatalf("B asks %s%s: %d %s", base, file, a.Status, a.Body)
					}
				}
				segs := map[string]bool{}
				deadline := time.Now().Add(30 * time.Second)
				for len(segs) < 2 && time.Now().Before(deadline) {
					a := get(t, f, base+"index.m3u8?as=amember")
					if a.Status != 200 || !strings.HasPrefix(a.Body, "#EXTM3U") {
						t.Fatalf("playlist: %d %s", a.Status, a.Body)
					}
					for _, line := range strings.Split(a.Body, "\n") {
						if strings.HasSuffix(line, ".ts") {
							segs[line] = true
						}
					}
					time.Sleep(500 * time.Millisecond)
				}
				if len(segs) < 2 {
					t.Fatalf("segments %v", segs)
				}
				decoded := 0
				for s := range segs {
					a := get(t, f, base+s+"?as=amember")
					if a.Status == 404 {
						continue // deleted by ffmpeg's window meanwhile
					}
					if a.Status != 200 || a.Type != "video/mp2t" {
						t.Fatalf("segment %s: %d %s", s, a.Status, a.Type)
					}
					if a := get(t, f, base+s+"?as=b"); a.Status != 404 {
						t.Fatalf("B asks segment %s: %d", s, a.Status)
					}
					p := filepath.Join(t.TempDir(), s)
					os.WriteFile(p, []byte(a.Body), 0o600)
					out, err := exec.Command(ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
						"-show_entries", "stream=codec_name,width,nb_read_frames", "-of", "csv=p=0", p).Output()
					if err != nil || !strings.HasPrefix(string(out), "h264,320,") {
						t.Fatalf("ffprobe %s: %q %v", s, out, err)
					}
					decoded++
				}
				if decoded == 0 {
					t.Fatal("no segment decoded")
				}
				if a := get(t, f, strings.TrimSuffix(base, "/live/")+"?as=amember"); a.Status != 200 || !strings.Contains(a.Body, `"viewers":1`) {
					t.Fatalf("viewers: %d %s", a.Status, a.Body)
				}
			}
			if a := get(t, f, "/api/v1/t/chuxiong/monitoring/cameras/CAM-1/live/../../x?as=amember"); a.Status != 404 {
				t.Fatalf("path escape: %d", a.Status)
			}
			if a := get(t, f, "/api/v1/t/chuxiong/monitoring/cameras/CAM-1/live/evil.sh?as=amember"); a.Status != 404 {
				t.Fatalf("other file: %d", a.Status)
			}
			// An event without a snapshot: the snapshot pass grabs a frame of the camera for its alarm.
			r := result2(t, post(t, f, "/api/v1/ingest/chuxiong/events", toks["CAM-1"], `{"id":"e1","type":"smoke_fire","confidence":0.8}`))
			if rep, err := w.s.Snapshots(w.e.A); err != nil || rep.Grabbed != 1 {
				t.Fatalf("snapshot pass: %+v %v", rep, err)
			}
			if b, err := w.s.FindSnapshot(w.e.A, r); err != nil || len(b) < 100 || b[0] != 0xFF || b[1] != 0xD8 {
				t.Fatalf("grabbed snapshot: %d bytes, %v", len(b), err)
			}
			a := get(t, f, "/api/v1/t/chuxiong/monitoring/cameras/CAM-1/snapshot?as=amember")
			if a.Status != 200 || a.Type != "image/jpeg" {
				t.Fatalf("snapshot: %d %s", a.Status, a.Body)
			}
			if _, err := jpeg.Decode(strings.NewReader(a.Body)); err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			// Nobody asks any more: both streams stop after Grace and their segments go.
			deadline := time.Now().Add(20 * time.Second)
			for {
				left, _ := os.ReadDir(dir)
				if len(left) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("streams still running: %v", left)
				}
				time.Sleep(500 * time.Millisecond)
			}
		})
	}
	// Without ffmpeg, live video says it is off; the rest answers.
	w := videoWorld(t, newWorld(t, mustEnv(t, "sqlite")), monitoring.VideoConfig{})
	f, _ := w.videoServer(t, &usage{})
	if _, _, err := w.s.CreateCamera(w.e.A, monitoring.CameraInput{DeviceInput: monitoring.DeviceInput{Code: "CAM-1", Lon: ptr(101.505), Lat: ptr(25.005)},
		Source: monitoring.SourceInput{Protocol: "rtsp", URL: src}}); err != nil {
		t.Fatal(err)
	}
	if a := get(t, f, "/api/v1/t/chuxiong/monitoring/cameras/CAM-1/live/index.m3u8"); a.Status != 503 || !strings.Contains(a.Body, "CITYOPS_FFMPEG") {
		t.Fatalf("video off: %d %s", a.Status, a.Body)
	}
}

// result2 is the alarm an event's answer names.
func result2(t *testing.T, a answer) string {
	t.Helper()
	var r struct {
		Alarm string `json:"alarm"`
	}
	if a.Status != 200 || json.Unmarshal([]byte(a.Body), &r) != nil || r.Alarm == "" {
		t.Fatalf("event: %d %s", a.Status, a.Body)
	}
	return r.Alarm
}

// TestVideoExternalServer: a camera with an external path is proxied from the external media
// server (a stand-in for MediaMTX's HLS server) under the same per-tenant path; names that are
// not one path segment and other tenants get 404; a camera's HTTP snapshot URL gives its
// snapshot without ffmpeg.
func TestVideoExternalServer(t *testing.T) {
	jpg := aJPEG(t)
	var asked []string
	var mu sync.Mutex
	media := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/zhou/cam-1/index.m3u8":
			rw.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			rw.Write([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000\nvideo1_stream.m3u8\n"))
		case "/zhou/cam-1/video1_stream.m3u8":
			rw.Write([]byte("#EXTM3U\n#EXTINF:1,\nseg7.mp4\n"))
		case "/zhou/cam-1/page.html":
			rw.Header().Set("Content-Type", "text/html")
			rw.Write([]byte("<script>alert(1)</script>"))
		case "/cam/snap.jpg":
			if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "pw" {
				rw.WriteHeader(401)
				return
			}
			rw.Header().Set("Content-Type", "image/jpeg")
			rw.Write(jpg)
		default:
			http.NotFound(rw, r)
		}
	}))
	defer media.Close()
	w := videoWorld(t, newWorld(t, mustEnv(t, "sqlite")), monitoring.VideoConfig{External: media.URL})
	f, _ := w.videoServer(t, &usage{})
	host := strings.TrimPrefix(media.URL, "http://")
	if _, _, err := w.s.CreateCamera(w.e.A, monitoring.CameraInput{DeviceInput: monitoring.DeviceInput{Code: "CAM-1", Lon: ptr(101.505), Lat: ptr(25.005)},
		Source: monitoring.SourceInput{Protocol: "onvif", URL: "rtsp://127.0.0.1:9/none", SnapshotURL: "http://admin:pw@" + host + "/cam/snap.jpg", ExternalPath: "zhou/cam-1"}}); err != nil {
		t.Fatal(err)
	}
	const live = "/api/v1/t/chuxiong/monitoring/cameras/CAM-1/live/"
	if a := get(t, f, live+"index.m3u8"); a.Status != 200 || !strings.Contains(a.Body, "video1_stream.m3u8") {
		t.Fatalf("playlist: %d %s", a.Status, a.Body)
	}
	if a := get(t, f, live+"video1_stream.m3u8"); a.Status != 200 || !strings.Contains(a.Body, "seg7.mp4") {
		t.Fatalf("variant: %d %s", a.Status, a.Body)
	}
	if a := get(t, f, live+"page.html"); a.Status != 200 || a.Type != "application/octet-stream" {
		t.Fatalf("HTML from the media server: %d %s", a.Status, a.Type)
	}
	if a := get(t, f, live+"seg8.mp4"); a.Status != 404 {
		t.Fatalf("missing segment: %d %s", a.Status, a.Body)
	}
	for _, p := range []string{live + "index.m3u8?as=b", live + "..%2F..%2Fcam%2Fsnap.jpg", live + ".hidden"} {
		if a := get(t, f, p); a.Status != 404 {
			t.Fatalf("%s: %d %s", p, a.Status, a.Body)
		}
	}
	mu.Lock()
	for _, p := range asked {
		if !strings.HasPrefix(p, "/zhou/cam-1/") {
			t.Fatalf("the media server was asked for %s", p)
		}
	}
	mu.Unlock()
	a := get(t, f, "/api/v1/t/chuxiong/monitoring/cameras/CAM-1/snapshot")
	if a.Status != 200 || a.Type != "image/jpeg" || a.Body != string(jpg) {
		t.Fatalf("HTTP snapshot: %d %s", a.Status, a.Type)
	}
	if a := get(t, f, "/api/v1/t/chuxiong/monitoring/cameras/CAM-1/snapshot?as=b"); a.Status != 404 {
		t.Fatalf("B's snapshot: %d", a.Status)
	}
}

func mustEnv(t *testing.T, dialect string) *platformtest.Env {
	return platformtest.MustEnv(t, dialect, monitoring.Module(nil))
}
