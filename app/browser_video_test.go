package app

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/monitoring"
	"github.com/gofiber/fiber/v2"
)

func init() {
	dev := &monitoring.Device{Code: "CAM-1", Name: "鹿城路口", Type: "camera", Lon: 101.5, Lat: 25.0, GridCode: ptrTo("53230100100101"),
		Status: "online", LastSeen: &sampleNow, CreatedAt: sampleNow, UpdatedAt: sampleNow}
	own := &monitoring.Camera{Device: dev, Protocol: "rtsp", SourceHint: "rtsp://192.0.2.10:554", Configured: true, SharedWith: []string{"wuding"}}
	shared := &monitoring.Camera{Device: &monitoring.Device{Code: "ZCAM-1", Type: "camera", Status: "offline"}, Protocol: "gb28181",
		SourceHint: "rtsp://198.51.100.7:554", Configured: true, Owner: "chuxiong-zhou"}
	bare := &monitoring.Camera{Device: &monitoring.Device{Code: "CAM-2", Type: "camera", Status: "offline"}}
	samplePage("monitoring/cameras", fiber.Map{"Base": "/t/chuxiong"},
		fiber.Map{"Base": "/t/chuxiong", "Cameras": []*monitoring.Camera{own, shared, bare}, "VideoOn": true})
	caseID := "c-1"
	alarms := []*monitoring.Alarm{
		{ID: "a-1", Source: "video", Kind: "occupied_road", State: "raised", Hits: 3, CaseStatus: "opened", CaseID: &caseID, RaisedAt: sampleNow},
		{ID: "a-2", Source: "video", Kind: "helmet_missing", State: "cleared", Hits: 1, CaseStatus: "none", RaisedAt: sampleNow},
	}
	samplePage("monitoring/camera", fiber.Map{"Base": "/t/chuxiong", "Camera": bare, "Path": "/t/chuxiong/monitoring/cameras/CAM-2"},
		fiber.Map{"Base": "/t/chuxiong", "Camera": own, "Path": "/t/chuxiong/monitoring/cameras/CAM-1", "VideoOn": true, "Alarms": alarms,
			"Snapshots": map[string]bool{"a-1": true}, "EventNames": map[string]string{"occupied_road": "占道经营"}})
}

// testFFmpeg is the ffmpeg the tests' App runs its video gateway with ("" when it is missing:
// live video is off, as in production without CITYOPS_FFMPEG).
func testFFmpeg() string {
	p, _ := exec.LookPath("ffmpeg")
	return p
}

// needVideo skips the test (fails it under CI) unless ffmpeg and GStreamer's RTSP server for
// Python are installed; it returns the test RTSP stream it starts.
func needVideo(t *testing.T) string {
	t.Helper()
	const pkgs = "apt-get install ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly (scripts/test.sh installs them)"
	missing := testFFmpeg() == ""
	if !missing {
		missing = exec.Command("/usr/bin/python3", "-c", "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer").Run() != nil
	}
	if missing {
		if os.Getenv("CI") != "" {
			t.Fatal("the video tests need " + pkgs)
		}
		t.Skip("the video tests need " + pkgs)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("/usr/bin/python3", filepath.Join("..", "platform", "monitoring", "testdata", "rtsp_server.py"), fmt.Sprint(port))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); strings.TrimSpace(line) != "ready" {
		t.Fatalf("RTSP server: %q", line)
	}
	return fmt.Sprintf("rtsp://127.0.0.1:%d/test", port)
}

// TestBrowserCameraPlays: a county's admin registers a camera on a generated RTSP stream; a
// member opens its page in Chromium and the <video> plays it through the app's gateway (hls.js):
// its time advances. The camera's source does not reach the page; another county gets 404 for
// the page and the stream.
func TestBrowserCameraPlays(t *testing.T) {
	src := needVideo(t)
	f := newFixture(t, "sqlite")
	evalPlan(t, f, "chuxiong") // the standard plan sells monitoring
	evalPlan(t, f, "wuding")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	for _, l := range f.app.loops {
		if l.name == "monitoring video gateway" { // stops the streams when the test ends
			go func() { defer close(done); l.run(ctx) }()
		}
	}
	t.Cleanup(func() { cancel(); <-done })
	res, err := f.do(t, "adminA", "POST", "/api/v1/t/chuxiong/monitoring/cameras",
		`{"code":"CAM-1","name":"鹿城路口","lon":101.505,"lat":25.005,"source":{"protocol":"rtsp","url":"`+src+`"}}`)
	if err != nil || res.status != 201 {
		t.Fatalf("create: %v %+v", err, res)
	}
	for _, p := range []string{"/t/chuxiong/monitoring/cameras/CAM-1", "/api/v1/t/chuxiong/monitoring/cameras/CAM-1/live/index.m3u8"} {
		if res, err := f.do(t, "adminB", "GET", p, ""); err != nil || res.status != 404 {
			t.Fatalf("B asks %s: %v %d", p, err, res.status)
		}
	}
	b := newBrowser(t, f.listen(t))
	s := b.user("inspectorA")
	s.login("inspectorA@test.cn", testPassword)
	s.visit("/t/chuxiong/monitoring/cameras")
	s.clickTo(`tr[data-camera="CAM-1"] a`, "/t/chuxiong/monitoring/cameras/CAM-1")
	if h := s.html(); strings.Contains(h, "/test") || !strings.Contains(h, "rtsp://127.0.0.1:") {
		t.Fatalf("the page shows the source's path or lacks its host: %s", h)
	}
	var at float64
	deadline := time.Now().Add(60 * time.Second)
	for at < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the video does not play: currentTime %v, error %q, status %q", at,
				eval[string](s, `document.getElementById('camera-live').getAttribute('data-error')||''`), s.text("#camera-status"))
		}
		time.Sleep(500 * time.Millisecond)
		at = eval[float64](s, `document.getElementById('camera-live').currentTime`)
	}
	time.Sleep(2 * time.Second)
	if later := eval[float64](s, `document.getElementById('camera-live').currentTime`); later <= at {
		t.Fatalf("currentTime does not advance: %v then %v", at, later)
	}
	if w := eval[float64](s, `document.getElementById('camera-live').videoWidth`); w != 320 {
		t.Fatalf("videoWidth %v, want the test pattern's 320", w)
	}
	s.shot("camera-live")
}
