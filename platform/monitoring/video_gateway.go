package monitoring

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/google/uuid"
)

// VideoConfig configures live viewing and snapshots.
type VideoConfig struct {
	// FFmpeg is the ffmpeg binary (CITYOPS_FFMPEG). Empty: the gateway is off; the console says
	// so, snapshots come only from cameras' HTTP snapshot URLs and events, everything else works.
	FFmpeg string
	// Dir holds the HLS segments of the streams being watched (one temporary directory per
	// stream, removed when it stops): <data dir>/video by default.
	Dir string
	// Grace is how long a stream keeps running after its last viewer's last request (30 s when 0).
	Grace time.Duration
	// Transcode re-encodes the video to H.264 (for H.265 cameras, which browsers do not play)
	// instead of copying it; it costs a CPU core per stream (CITYOPS_VIDEO_TRANSCODE).
	Transcode bool
	// External is the base URL of an external media server (MediaMTX's HLS server, say
	// http://127.0.0.1:8888) that the app proxies, under the same authenticated path, the
	// cameras that have an external path (CITYOPS_VIDEO_EXTERNAL). Optional.
	External string
	// Log receives the streams' starts, stops and failures.
	Log *slog.Logger
}

// MaxSnapshot bounds a snapshot (sent with an event, grabbed or fetched).
const MaxSnapshot = 512 << 10

// hlsFile is a file the gateway serves: its playlist and its numbered segments. An external
// media server's files are any single path segment of letters, digits, '-', '_' and '.'.
var (
	hlsFile      = regexp.MustCompile(`^(index\.m3u8|seg[0-9]{1,9}\.ts)$`)
	externalFile = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$`)
)

// ffmpegProtocols are the only protocols ffmpeg may open for a camera's URL (no file:, no
// concat:, no data:), whatever a playlist or redirect names.
const ffmpegProtocols = "tcp,udp,rtp,rtsp,rtsps,tls,http,https,httpproxy,crypto"

// gateway is the RTSP→HLS gateway: one ffmpeg per camera being watched, started by the first
// viewer's request, stopped Grace after the last request (reap, run by the "video gateway" loop).
type gateway struct {
	cfg     VideoConfig
	mu      sync.Mutex
	streams map[string]*stream
	client  *http.Client
}

type stream struct {
	key     string
	dir     string
	cmd     *exec.Cmd
	done    chan struct{} // closed when ffmpeg exits
	stderr  *bytes.Buffer // its last words, for the log
	last    time.Time
	viewers map[string]time.Time
}

func newGateway(cfg VideoConfig) *gateway {
	if cfg.Grace <= 0 {
		cfg.Grace = 30 * time.Second
	}
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(os.TempDir(), "cityops-video")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &gateway{cfg: cfg, streams: map[string]*stream{}, client: &http.Client{Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// On reports whether live viewing works (ffmpeg is configured).
func (g *gateway) On() bool { return g.cfg.FFmpeg != "" }

func streamKey(tenant uuid.UUID, device int64) string { return fmt.Sprintf("%s-%d", tenant, device) }

// inputArgs are ffmpeg's options for reading src: the protocols it may use, TCP for RTSP (the
// only transport that crosses NAT and firewalls reliably), a timeout, then -i and the URL, which
// checkURL validated (it starts with a scheme, never with '-').
func inputArgs(src string) []string {
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-protocol_whitelist", ffmpegProtocols}
	if strings.HasPrefix(src, "rtsp") {
		args = append(args, "-rtsp_transport", "tcp", "-timeout", "10000000")
	} else {
		args = append(args, "-rw_timeout", "10000000")
	}
	return append(args, "-i", src)
}

// playlist makes sure the stream of key runs (starting it with the URL open gives) and returns
// its playlist's path once ffmpeg wrote it; viewer is who asks, for the count of viewers.
func (g *gateway) playlist(ctx context.Context, key, viewer string, open func(context.Context) (string, error)) (string, error) {
	if !g.On() {
		return "", errs.E(errs.Unavailable, msgVideoOff)
	}
	st := g.touch(key, viewer)
	if st == nil {
		src, err := open(ctx)
		if err != nil {
			return "", err
		}
		if _, err := checkURL("url", src, "rtsp", "rtsps", "http", "https"); err != nil {
			return "", err
		}
		if st, err = g.start(key, viewer, src); err != nil {
			return "", err
		}
	}
	path := filepath.Join(st.dir, "index.m3u8")
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
		select {
		case <-st.done:
			g.cfg.Log.Warn("video: ffmpeg stopped", "stream", key, "err", strings.TrimSpace(st.stderr.String()))
			return "", errs.E(errs.Upstream, msgCameraNoAnswer)
		case <-deadline.C:
			return "", errs.E(errs.Upstream, msgCameraNoAnswer)
		case <-ctx.Done():
			return "", ctx.Err()
		case <-tick.C:
			g.mu.Lock()
			st.last = time.Now() // a stream is not idle while its first viewer waits
			g.mu.Unlock()
		}
	}
}

// segment returns the path of a segment of the running stream key.
func (g *gateway) segment(key, viewer, file string) (string, error) {
	st := g.touch(key, viewer)
	if st == nil {
		return "", errs.E(errs.NotFound, msgNoSegment)
	}
	path := filepath.Join(st.dir, file)
	if _, err := os.Stat(path); err != nil {
		return "", errs.E(errs.NotFound, msgNoSegment)
	}
	return path, nil
}

// touch marks a request of viewer on the running stream key and returns it (nil if none runs).
func (g *gateway) touch(key, viewer string) *stream {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.streams[key]
	if st == nil {
		return nil
	}
	select {
	case <-st.done: // it died: the next request starts it again
		delete(g.streams, key)
		go g.cleanup(st)
		return nil
	default:
	}
	now := time.Now()
	st.last, st.viewers[viewer] = now, now
	return st
}

// start runs ffmpeg for key (unless another request just did).
func (g *gateway) start(key, viewer, src string) (*stream, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if st := g.streams[key]; st != nil {
		return st, nil
	}
	if err := os.MkdirAll(g.cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("video directory: %w", err)
	}
	dir, err := os.MkdirTemp(g.cfg.Dir, key+"-")
	if err != nil {
		return nil, fmt.Errorf("video directory: %w", err)
	}
	codec := []string{"-c:v", "copy"}
	if g.cfg.Transcode {
		codec = []string{"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "50", "-pix_fmt", "yuv420p"}
	}
	args := append(inputArgs(src), "-map", "0:v:0")
	args = append(args, codec...)
	args = append(args, "-an", "-f", "hls", "-hls_time", "2", "-hls_list_size", "6",
		"-hls_flags", "delete_segments+omit_endlist+independent_segments",
		"-hls_segment_filename", filepath.Join(dir, "seg%d.ts"), filepath.Join(dir, "index.m3u8"))
	cmd := exec.Command(g.cfg.FFmpeg, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the app
	st := &stream{key: key, dir: dir, cmd: cmd, done: make(chan struct{}), stderr: &bytes.Buffer{}, viewers: map[string]time.Time{}}
	cmd.Stderr = &tail{b: st.stderr}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, errs.E(errs.Unavailable, msgFFmpegFailed)
	}
	go func() { cmd.Wait(); close(st.done) }()
	now := time.Now()
	st.last, st.viewers[viewer] = now, now
	g.streams[key] = st
	g.cfg.Log.Info("video: stream started", "stream", key)
	return st, nil
}

// tail keeps the last 4 KiB written to it.
type tail struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if t.b.Len() > 4096 {
		rest := append([]byte(nil), t.b.Bytes()[t.b.Len()-4096:]...)
		t.b.Reset()
		t.b.Write(rest)
	}
	return len(p), nil
}

// viewers counts the viewers of key who asked within the last Grace.
func (g *gateway) viewers(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.streams[key]
	if st == nil {
		return 0
	}
	n := 0
	for _, at := range st.viewers {
		if time.Since(at) < g.cfg.Grace {
			n++
		}
	}
	return n
}

// reap stops the streams nobody asked for within Grace (all of them when all is set).
func (g *gateway) reap(all bool) {
	g.mu.Lock()
	var gone []*stream
	for k, st := range g.streams {
		if all || time.Since(st.last) > g.cfg.Grace {
			gone = append(gone, st)
			delete(g.streams, k)
		}
	}
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, st := range gone {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.cleanup(st)
			g.cfg.Log.Info("video: stream stopped", "stream", st.key)
		}()
	}
	wg.Wait()
}

// stop stops the stream of key now (its source changed).
func (g *gateway) stop(key string) {
	g.mu.Lock()
	st := g.streams[key]
	delete(g.streams, key)
	g.mu.Unlock()
	if st != nil {
		g.cleanup(st)
	}
}

// cleanup ends ffmpeg (politely, then not) and removes its segments.
func (g *gateway) cleanup(st *stream) {
	if st.cmd.Process != nil {
		st.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-st.done:
		case <-time.After(3 * time.Second):
			st.cmd.Process.Kill()
			<-st.done
		}
	}
	os.RemoveAll(st.dir)
}

// run is the "video gateway" loop: it reaps idle streams every few seconds and stops every
// stream when ctx ends.
func (g *gateway) run(ctx context.Context) {
	every := min(g.cfg.Grace/2, 5*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			g.reap(true)
			return
		case <-t.C:
			g.reap(false)
		}
	}
}

// external fetches file of path from the external media server into w (the app proxies it, so
// the same login and tenant checks hold and the browser talks to the app only).
func (g *gateway) external(ctx context.Context, path, file string) (*http.Response, error) {
	if g.cfg.External == "" {
		return nil, errs.E(errs.Unavailable, msgVideoOff)
	}
	u := strings.TrimRight(g.cfg.External, "/") + "/" + path + "/" + url.PathEscape(file)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := g.client.Do(req)
	if err != nil {
		return nil, errs.E(errs.Upstream, msgCameraNoAnswer)
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		if res.StatusCode == http.StatusNotFound {
			return nil, errs.E(errs.NotFound, msgNoSegment)
		}
		return nil, errs.E(errs.Upstream, msgCameraNoAnswer)
	}
	return res, nil
}

// grab takes one JPEG frame: from the HTTP snapshot URL snap when there is one, else with
// ffmpeg from the stream src.
func (g *gateway) grab(ctx context.Context, src, snap string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if snap != "" {
		if _, err := checkURL("snapshot_url", snap, "http", "https"); err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, snap, nil)
		if err != nil {
			return nil, err
		}
		res, err := g.client.Do(req)
		if err != nil {
			return nil, errs.E(errs.Upstream, msgCameraNoAnswer)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return nil, errs.E(errs.Upstream, msgCameraNoAnswer)
		}
		b, err := io.ReadAll(io.LimitReader(res.Body, MaxSnapshot+1))
		if err != nil || len(b) > MaxSnapshot || !isJPEG(b) {
			return nil, errs.E(errs.Upstream, msgSnapshotNotJPEG)
		}
		return b, nil
	}
	if !g.On() {
		return nil, errs.E(errs.Unavailable, msgVideoOff)
	}
	if _, err := checkURL("url", src, "rtsp", "rtsps", "http", "https"); err != nil {
		return nil, err
	}
	args := append(inputArgs(src), "-frames:v", "1", "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "5", "pipe:1")
	cmd := exec.CommandContext(ctx, g.cfg.FFmpeg, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout = &limited{w: &out, n: MaxSnapshot + 1}
	if err := cmd.Run(); err != nil || out.Len() > MaxSnapshot || !isJPEG(out.Bytes()) {
		return nil, errs.E(errs.Upstream, msgCameraNoAnswer)
	}
	return out.Bytes(), nil
}

// limited writes at most n bytes to w and drops the rest (the length check then refuses it).
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

func isJPEG(b []byte) bool { return len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF }
