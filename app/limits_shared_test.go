package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/tenants/secrets/secretstest"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
)

// mustRedis starts a Redis server of the test's own (Debian's redis-server) on a free port and
// returns its URL; it fails when CI is set and there is no redis-server, else skips.
func mustRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is missing: apt-get install redis-server")
		}
		t.Skip("redis-server is missing: apt-get install redis-server")
	}
	port, err := secretstest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not listen in 10 s")
		}
	}
	return "redis://" + addr + "/0"
}

// TestRateLimitsAcrossReplicas: with CITYOPS_REDIS_URL, two replicas' rate limiters count
// together (three requests allowed in all, not three each); with Redis gone, requests are still
// answered, counted per replica.
func TestRateLimitsAcrossReplicas(t *testing.T) {
	url := mustRedis(t)
	log := slog.New(slog.DiscardHandler)
	var servers []*httptest.Server
	for range 2 {
		l, err := newSharedLimits(url, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		f := fiber.New(fiber.Config{DisableStartupMessage: true})
		f.Use(limiter.New(limiter.Config{Max: 3, Expiration: time.Minute, Storage: l.storage("drill"),
			KeyGenerator: func(*fiber.Ctx) string { return "one-client" }}))
		f.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go f.Listener(ln)
		t.Cleanup(func() { f.Shutdown() })
		servers = append(servers, &httptest.Server{URL: "http://" + ln.Addr().String()})
	}
	get := func(s *httptest.Server) int {
		res, err := http.Get(s.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	var got []int
	for i := range 5 {
		got = append(got, get(servers[i%2]))
	}
	if fmt.Sprint(got) != "[200 200 200 429 429]" {
		t.Fatalf("five requests over two replicas: %v, want three allowed in all", got)
	}

	// Redis stops: requests are answered (counted in memory), never failed.
	l, err := newSharedLimits("redis://127.0.0.1:1/0", log)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st := l.storage("drill")
	if err := st.Set("k", []byte("1"), time.Minute); err != nil {
		t.Fatalf("Set without Redis: %v", err)
	}
	if b, err := st.Get("k"); err != nil || string(b) != "1" {
		t.Fatalf("Get without Redis: %q %v", b, err)
	}
}

// TestIngestRateLimitPerDevice: a device token posting more than BatchesPerMinute batches in a
// minute gets 429 with Retry-After — counted across two replicas through Redis — and another
// device is not held back.
func TestIngestRateLimitPerDevice(t *testing.T) {
	url := mustRedis(t)
	base, _, county := MustBootApp(t, "postgres")
	if _, err := base.billing.SetPlan(context.Background(), county, "standard", nil); err != nil {
		t.Fatal(err)
	}
	admin, _ := mustAccount(t, base.store, "admin@limits.test", "", county, "tenant_admin")
	var addrs []string
	for range 2 {
		cfg := base.cfg
		cfg.DataDir, cfg.RedisURL = t.TempDir(), url
		a, err := New(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		addrc, done := make(chan string, 1), make(chan error, 1)
		go func() { done <- a.Serve(ctx, func(addr string) { addrc <- addr }) }()
		addrs = append(addrs, "http://"+recv(t, addrc, "a replica to listen"))
		t.Cleanup(func() { stop(); <-done; a.Close() })
	}
	call := func(addr, token, path, body string) (int, http.Header) {
		req, _ := http.NewRequest("POST", addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header
	}
	device := func(code string) string {
		req, _ := http.NewRequest("POST", addrs[0]+"/api/v1/t/chuxiong/monitoring/devices",
			strings.NewReader(`{"code":"`+code+`","type":"bin","lon":101.505,"lat":25.005}`))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 201 {
			t.Fatalf("device %s: %v %v", code, err, res)
		}
		defer res.Body.Close()
		var d struct{ Token string }
		if err := json.NewDecoder(res.Body).Decode(&d); err != nil || d.Token == "" {
			t.Fatalf("device %s: %v", code, err)
		}
		return d.Token
	}
	busy, quiet := device("BIN-1"), device("BIN-2")
	for i := range monitoring.BatchesPerMinute {
		if st, _ := call(addrs[i%2], busy, "/api/v1/ingest/chuxiong/readings", `{"readings":[]}`); st != 200 {
			t.Fatalf("batch %d: %d", i+1, st)
		}
	}
	st, h := call(addrs[0], busy, "/api/v1/ingest/chuxiong/readings", `{"readings":[]}`)
	if st != 429 || h.Get("Retry-After") == "" {
		t.Fatalf("one batch over the limit (over two replicas): %d, Retry-After %q", st, h.Get("Retry-After"))
	}
	if st, _ := call(addrs[1], quiet, "/api/v1/ingest/chuxiong/readings", `{"readings":[]}`); st != 200 {
		t.Fatalf("another device: %d", st)
	}
}
