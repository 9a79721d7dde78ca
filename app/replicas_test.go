package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/blob/blobtest"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets/secretstest"
)

// TestThreeReplicas: three replicas of one deployment (three processes' worth of App on one
// PostgreSQL database and one S3 bucket, versitygw) behind a round-robin proxy, as a load
// balancer puts them. Requests through the proxy land on every replica; a photo uploaded through
// one is served by another; a suspension made through one refuses writes on all three within a
// second (the cache sync, not the caches' 5 s); the overdue job runs on exactly one of them, and
// when that replica stops another takes it over.
func TestThreeReplicas(t *testing.T) {
	bucket := blobtest.MustStart(t).MustBucket(t)
	f := newCaseFixtureConfig(t, "postgres", Options{}, func(c *Config) { c.Blob = bucket })
	base := f.app
	opTok, adminTok, acceptorTok := f.tokens["operator"], f.tokens["adminA"], f.tokens["acceptorA"]

	type replica struct {
		app  *App
		addr string
		logs *secretstest.Buffer
		stop context.CancelFunc
		done chan error
	}
	var rs []*replica
	for range 3 {
		cfg := base.cfg
		cfg.DataDir = t.TempDir()
		logs := &secretstest.Buffer{}
		a, err := New(context.Background(), cfg, Options{Logger: slog.New(slog.NewJSONHandler(logs, nil)), Passwords: tenants.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
		if err != nil {
			t.Fatal(err)
		}
		a.leaseTiming = leaseTiming{ttl: 2 * time.Second, renew: 300 * time.Millisecond, poll: 100 * time.Millisecond}
		ctx, stop := context.WithCancel(context.Background())
		r := &replica{app: a, logs: logs, stop: stop, done: make(chan error, 1)}
		addrc := make(chan string, 1)
		go func() { r.done <- a.Serve(ctx, func(addr string) { addrc <- addr }) }()
		r.addr = recv(t, addrc, "a replica to listen")
		rs = append(rs, r)
	}
	t.Cleanup(func() {
		for _, r := range rs {
			r.stop()
			<-r.done
			r.app.Close()
		}
	})

	// The load balancer: round robin over the three.
	var next atomic.Uint64
	lb := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		r := rs[next.Add(1)%uint64(len(rs))]
		pr.SetURL(&url.URL{Scheme: "http", Host: r.addr})
	}})
	t.Cleanup(lb.Close)
	send := func(host, token, method, path, contentType, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, host+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", contentType)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	call := func(host, token, method, path, body string) int {
		t.Helper()
		st, _ := send(host, token, method, path, "application/json", body)
		return st
	}
	const write = "/api/v1/t/chuxiong/settings/note"
	for i := range 6 { // twice on each replica
		if st := call(lb.URL, adminTok, "PUT", write, `{"value":"before"}`); st != 200 {
			t.Fatalf("write %d through the balancer: %d", i, st)
		}
	}

	// A case reported through the first replica, its photo uploaded through the second and
	// served by the third (the bucket is their one store; none keeps it on its disk).
	st, body := send("http://"+rs[0].addr, acceptorTok, "POST", casesA, "application/json", reportA)
	var c struct{ ID string }
	if err := json.Unmarshal([]byte(body), &c); st != 201 || err != nil {
		t.Fatalf("report: %d %s", st, body)
	}
	st, body = send("http://"+rs[1].addr, acceptorTok, "POST", casesA+"/"+c.ID+"/photos", "image/png", pngBytes)
	var p struct{ ID string }
	if err := json.Unmarshal([]byte(body), &p); st != 201 || err != nil {
		t.Fatalf("photo: %d %s", st, body)
	}
	if st, body := send("http://"+rs[2].addr, adminTok, "GET", casesA+"/"+c.ID+"/photos/"+p.ID, "", ""); st != 200 || body != pngBytes {
		t.Fatalf("the photo from the third replica: %d (%d bytes)", st, len(body))
	}

	// Suspended through the second replica: every replica refuses writes within a second.
	if st := call("http://"+rs[1].addr, opTok, "POST", "/api/v1/tenants/chuxiong/suspend", `{"reason":"drill"}`); st != 200 {
		t.Fatalf("suspend: %d", st)
	}
	began := time.Now()
	for i, r := range rs {
		for call("http://"+r.addr, adminTok, "PUT", write, `{"value":"after"}`) == 200 {
			if time.Since(began) > time.Second {
				t.Fatalf("replica %d still takes writes %s after the suspension", i, time.Since(began))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Logf("the suspension refused writes on all three replicas within %s", time.Since(began).Round(10*time.Millisecond))

	// The overdue job runs on one replica; when it stops, another takes over.
	holders := func() []int {
		var out []int
		for i, r := range rs {
			if strings.Contains(r.logs.String(), `"msg":"background loop runs here (lease taken)","loop":"case overdue"`) {
				out = append(out, i)
			}
		}
		return out
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(holders()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // several renewals: nobody else takes it
	first := holders()
	if len(first) != 1 {
		t.Fatalf("the overdue job runs on replicas %v, want exactly one", first)
	}
	rs[first[0]].stop()
	if err := <-rs[first[0]].done; err != nil {
		t.Fatal(err)
	}
	rs[first[0]].done <- nil // for the cleanup
	deadline = time.Now().Add(5 * time.Second)
	for len(holders()) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if h := holders(); len(h) != 2 {
		t.Fatalf("after replica %d stopped, the overdue job ran on %v", first[0], h)
	}
}
