package monitoring_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	mqtt "github.com/eclipse/paho.mqtt.golang"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
)

// kit is what the module's Build gets in the server, with u recording the usage.
func (w *world) kit(u *usage) module.Kit {
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("MQTT_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return module.Kit{Store: w.e.Store, Now: w.clk.Now, Usage: u, Log: log,
		Entitled: func(_ context.Context, t *tenants.Tenant, _ string) (bool, error) {
			return t.ID != w.e.Prefecture.ID, nil
		}}
}

// running is a consumer running until stop.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (r *running) stop() {
	r.cancel()
	<-r.done
}

// consume runs a consumer of w's service on b with client id, and stops it at the test's end.
func (w *world) consume(t testing.TB, b *broker, id string, u *usage, beforeAck func() bool) *running {
	t.Helper()
	c := monitoring.NewConsumer(w.s, w.kit(u), monitoring.MQTT{URL: b.url(), ClientID: id})
	if beforeAck != nil {
		c.SetBeforeAck(beforeAck)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); c.Run(ctx) }()
	t.Cleanup(r.stop)
	select {
	case <-c.Subscribed():
	case <-time.After(30 * time.Second):
		t.Fatal("the consumer did not subscribe")
	}
	return r
}

// counts are what a tenant holds of the ingest.
type counts struct {
	Readings, Minute, Batches int
}

func (w *world) counts(t testing.TB, ctx context.Context) counts {
	t.Helper()
	var c counts
	err := w.e.Store.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		for _, q := range []struct {
			sql string
			n   *int
		}{
			{"SELECT count(*) FROM monitoring_readings", &c.Readings},
			{"SELECT coalesce(sum(n), 0) FROM monitoring_minute", &c.Minute},
			{"SELECT count(*) FROM monitoring_batches", &c.Batches},
		} {
			if err := db.QueryRowContext(ctx, q.sql).Scan(q.n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor polls cond until it holds, failing after d with what the last poll said.
func waitFor(t testing.TB, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, said := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s: %s", d, what, said)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitCounts waits until ctx's tenant holds want.
func (w *world) waitCounts(t testing.TB, ctx context.Context, want counts) {
	t.Helper()
	waitFor(t, 60*time.Second, "readings stored", func() (bool, string) {
		got := w.counts(t, ctx)
		return got == want, fmt.Sprintf("got %+v, want %+v", got, want)
	})
}

// levels are n readings of a water-level device, one a second from the clock's time minus
// an hour plus offset seconds, in one payload with batch id.
func (w *world) levels(batch string, offset, n int) string {
	var sb strings.Builder
	if batch != "" {
		fmt.Fprintf(&sb, `{"batch":%q,"readings":[`, batch)
	} else {
		sb.WriteString(`{"readings":[`)
	}
	base := w.clk.Now().Add(-time.Hour)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"metric":"level","value":%d,"at":%q}`, (offset+i)%400, base.Add(time.Duration(offset+i)*time.Second).Format(time.RFC3339Nano))
	}
	sb.WriteString("]}")
	return sb.String()
}

// TestMQTTIngest publishes to the topics of two tenants: readings land in the topic's tenant
// with their rollups and usage; a device of B named in A's topic, a reading naming another
// device, unknown tenants, bad topics and malformed payloads are counted and acknowledged, and
// the consumer goes on.
func TestMQTTIngest(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		b := mustBroker(t, "")
		w.mustDevice(t, w.e.A, "WL-001", "waterlog")
		w.mustDevice(t, w.e.A, "WL-002", "waterlog")
		w.mustDevice(t, w.e.B, "WL-B01", "waterlog")
		u := &usage{}
		w.consume(t, b, "ingest-1", u, nil)
		p := mustPublisher(t, b.url(), "dev-1", "", "")
		at := w.clk.Now().Add(-time.Minute).Format(time.RFC3339)
		p.mustPublish("cityops/chuxiong/WL-001/readings", w.levels("a-1", 0, 3))
		p.mustPublish("cityops/wuding/WL-B01/readings", w.levels("b-1", 0, 2))
		// B's device through A's topic: A has no such device.
		p.mustPublish("cityops/chuxiong/WL-B01/readings", w.levels("x-1", 0, 4))
		// A reading naming another device of A, and one naming B's.
		p.mustPublish("cityops/chuxiong/WL-001/readings", `{"batch":"a-2","readings":[{"device":"WL-002","metric":"level","value":1,"at":"`+at+`"},{"device":"WL-B01","metric":"level","value":1,"at":"`+at+`"},{"metric":"level","value":2,"at":"`+at+`"}]}`)
		for _, bad := range []struct{ topic, payload string }{
			{"cityops/chuxiong/WL-001/readings", "not json"},
			{"cityops/chuxiong/WL-001/readings", `{"readings":[{"metric":"level","value":"high"}]}`},
			{"cityops/chuxiong/WL-001/readings", `{"readings":[{"metric":"le\u0000vel","value":1}]}`},
			{"cityops/chuxiong/WL-001/readings", `{"batch":"no/slash","readings":[]}`},
			{"cityops/chuxiong/WL-001/readings", `{"readings":[],"extra":1}`},
			{"cityops/chuxiong/WL-001/readings", `{"readings":[` + strings.Repeat(`{"metric":"level","value":1},`, 40_000) + `{"metric":"level","value":1}]}`},
			{"cityops/Chuxiong/WL-001/readings", w.levels("", 0, 1)},
			{"cityops/chuxiong/WL 001/readings", w.levels("", 0, 1)},
			{"cityops/nosuch/WL-001/readings", w.levels("", 0, 1)},
			{"cityops/chuxiong-zhou/WL-001/readings", w.levels("", 0, 1)}, // the prefecture's plan lacks monitoring
		} {
			p.mustPublish(bad.topic, bad.payload)
		}
		// And the consumer goes on.
		p.mustPublish("cityops/chuxiong/WL-001/readings", w.levels("a-3", 10, 2))
		w.waitCounts(t, w.e.A, counts{Readings: 3 + 1 + 2, Minute: 6, Batches: 3})
		w.waitCounts(t, w.e.B, counts{Readings: 2, Minute: 2, Batches: 1})
		waitFor(t, 10*time.Second, "outcomes counted", func() (bool, string) {
			got := fmt.Sprint(w.s.MQTTCount("taken"), w.s.MQTTCount("malformed"), w.s.MQTTCount("bad_topic"), w.s.MQTTCount("unknown_tenant"),
				w.s.MQTTCount("not_entitled"), w.s.MQTTCount("unknown_device"))
			return got == "4 6 2 1 1 1", got + ", want 4 6 2 1 1 1 (taken malformed bad_topic unknown_tenant not_entitled unknown_device)"
		})
		rej, err := w.s.FindRejections(w.e.A, "", "")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, r := range rej {
			got[r.Reason] += r.N
		}
		if got[monitoring.RejectUnknownDevice] != 4+1 || got[monitoring.RejectForeignDevice] != 1 || len(got) != 2 {
			t.Errorf("A's rejections: %v, want unknown_device 5 (B's device in A's topic, and named), foreign_device 1", got)
		}
		if rej, _ := w.s.FindRejections(w.e.B, "", ""); len(rej) != 0 {
			t.Errorf("B's rejections: %+v, want none", rej)
		}
		d, err := w.s.FindDeviceByCode(w.e.A, "WL-001")
		if err != nil || d.Status != "online" {
			t.Errorf("WL-001: %+v %v, want online", d, err)
		}
		u.mu.Lock()
		var metered = map[string]int64{}
		for _, r := range u.recs {
			metered[r.Tenant.String()] += r.Quantity
		}
		u.mu.Unlock()
		if metered[w.e.TenantA.ID.String()] != 6 || metered[w.e.TenantB.ID.String()] != 2 {
			t.Errorf("metered %v, want A 6, B 2", metered)
		}
	})
}

// TestMQTTBrokerRestart restarts the broker while readings are published (before, while it is
// down, after): every reading is stored once.
func TestMQTTBrokerRestart(t *testing.T) {
	w := newWorld(t, platformtest.MustEnv(t, "postgres", monitoring.Module(nil)))
	w.mustDevice(t, w.e.A, "WL-001", "waterlog")
	b := mustBroker(t, "")
	w.consume(t, b, "ingest-1", &usage{}, nil)
	p := mustPublisher(t, b.url(), "dev-1", "", "")
	for i := range 50 {
		p.mustPublish("cityops/chuxiong/WL-001/readings", w.levels(fmt.Sprintf("m%d", i), i*10, 10))
	}
	b.stop()
	var toks []sent
	for i := 50; i < 100; i++ { // while the broker is down: the client keeps them for later
		toks = append(toks, p.publish("cityops/chuxiong/WL-001/readings", w.levels(fmt.Sprintf("m%d", i), i*10, 10)))
	}
	b.start()
	for i := 100; i < 150; i++ {
		toks = append(toks, p.publish("cityops/chuxiong/WL-001/readings", w.levels(fmt.Sprintf("m%d", i), i*10, 10)))
	}
	wait(t, toks)
	w.waitCounts(t, w.e.A, counts{Readings: 1500, Minute: 1500, Batches: 150})
}

// TestMQTTConsumerRestart stops the consumer, publishes while it is away and starts it again
// with the same client id: the broker kept the session's messages, every reading is stored
// once.
func TestMQTTConsumerRestart(t *testing.T) {
	w := newWorld(t, platformtest.MustEnv(t, "postgres", monitoring.Module(nil)))
	w.mustDevice(t, w.e.A, "WL-001", "waterlog")
	b := mustBroker(t, "")
	r := w.consume(t, b, "ingest-1", &usage{}, nil)
	p := mustPublisher(t, b.url(), "dev-1", "", "")
	for i := range 20 {
		p.mustPublish("cityops/chuxiong/WL-001/readings", w.levels(fmt.Sprintf("m%d", i), i*10, 10))
	}
	w.waitCounts(t, w.e.A, counts{Readings: 200, Minute: 200, Batches: 20})
	r.stop()
	for i := 20; i < 120; i++ {
		p.mustPublish("cityops/chuxiong/WL-001/readings", w.levels("", i*10, 10)) // no batch id: the payload's hash
	}
	time.Sleep(200 * time.Millisecond)
	if got := w.counts(t, w.e.A); got.Readings != 200 {
		t.Fatalf("with the consumer stopped: %+v", got)
	}
	w.consume(t, b, "ingest-1", &usage{}, nil)
	w.waitCounts(t, w.e.A, counts{Readings: 1200, Minute: 1200, Batches: 120})
}

// TestMQTTDatabaseOutage makes the database refuse every connection while readings arrive:
// nothing is acknowledged, the broker holds them, and when the database is back everything is
// stored once.
func TestMQTTDatabaseOutage(t *testing.T) {
	w := newWorld(t, platformtest.MustEnv(t, "postgres", monitoring.Module(nil)))
	w.mustDevice(t, w.e.A, "WL-001", "waterlog")
	b := mustBroker(t, "")
	w.consume(t, b, "ingest-1", &usage{}, nil)
	p := mustPublisher(t, b.url(), "dev-1", "", "")
	for i := range 20 {
		p.mustPublish("cityops/chuxiong/WL-001/readings", w.levels(fmt.Sprintf("m%d", i), i*10, 10))
	}
	w.waitCounts(t, w.e.A, counts{Readings: 200, Minute: 200, Batches: 20})

	// The outage: the test database takes no connection, and every open one is cut.
	u, err := url.Parse(w.e.PostgresDSN)
	if err != nil {
		t.Fatal(err)
	}
	dbname := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	allow := func(on bool) {
		t.Helper()
		if _, err := admin.Exec(fmt.Sprintf(`ALTER DATABASE %q WITH ALLOW_CONNECTIONS %t`, dbname, on)); err != nil {
			t.Fatal(err)
		}
	}
	allow(false)
	t.Cleanup(func() { allow(true) })
	if _, err := admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, dbname); err != nil {
		t.Fatal(err)
	}
	for i := 20; i < 120; i++ {
		p.mustPublish("cityops/chuxiong/WL-001/readings", w.levels(fmt.Sprintf("m%d", i), i*10, 10))
	}
	time.Sleep(3 * time.Second) // the consumer fails and tries again meanwhile
	allow(true)
	w.waitCounts(t, w.e.A, counts{Readings: 1200, Minute: 1200, Batches: 120})
}

// TestMQTTRedelivery kills the consumer after its commit and before its acknowledgements: the
// broker sends the messages again to the next consumer, which writes nothing twice (batch ids
// and, without one, the payload's hash).
func TestMQTTRedelivery(t *testing.T) {
	w := newWorld(t, platformtest.MustEnv(t, "postgres", monitoring.Module(nil)))
	w.mustDevice(t, w.e.A, "WL-001", "waterlog")
	// A rule the stream crosses once (levels climb from 0 to 299): one alarm, hit by every
	// reading above 100.
	if _, err := w.s.CreateRule(w.e.A, monitoring.RuleInput{Name: "积水", DeviceType: "waterlog", Metric: "level", Kind: monitoring.RuleAbove,
		Threshold: ptr(100.0), Severity: "warning", Action: monitoring.ActionAlarm}); err != nil {
		t.Fatal(err)
	}
	alarms := func() (n, hits int) {
		t.Helper()
		as, err := w.s.FindAlarms(w.e.A, monitoring.AlarmFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			hits += a.Hits
		}
		return len(as), hits
	}
	b := mustBroker(t, "")
	var once sync.Once
	committed := make(chan struct{})
	r := w.consume(t, b, "ingest-1", &usage{}, func() bool {
		once.Do(func() { close(committed) })
		return false // dies before acknowledging
	})
	p := mustPublisher(t, b.url(), "dev-1", "", "")
	var toks []sent
	for i := range 30 {
		batch := fmt.Sprintf("m%d", i)
		if i%2 == 1 {
			batch = ""
		}
		toks = append(toks, p.publish("cityops/chuxiong/WL-001/readings", w.levels(batch, i*10, 10)))
	}
	wait(t, toks)
	<-committed
	w.waitCounts(t, w.e.A, counts{Readings: 300, Minute: 300, Batches: 30})
	r.stop()
	n, hits := alarms()
	if n != 1 || hits != 199 {
		t.Fatalf("before the redelivery: %d alarms with %d hits, want 1 with 199", n, hits)
	}
	dups := w.s.MQTTCount("duplicate")
	w.consume(t, b, "ingest-1", &usage{}, nil)
	waitFor(t, 30*time.Second, "the messages sent again", func() (bool, string) {
		n := w.s.MQTTCount("duplicate") - dups
		return n == 30, fmt.Sprintf("%d duplicates, want 30", n)
	})
	if got := w.counts(t, w.e.A); got != (counts{Readings: 300, Minute: 300, Batches: 30}) {
		t.Errorf("after the redelivery: %+v, want 300 readings, 30 batches", got)
	}
	if n, hits := alarms(); n != 1 || hits != 199 {
		t.Errorf("after the redelivery: %d alarms with %d hits, want the same 1 with 199", n, hits)
	}
}

// TestMQTTAuthFiles starts a broker with the password and ACL files mqtt-auth writes: a device
// logs in with its token and publishes to its own topic; what it publishes to another device's
// topic is dropped by the broker, and a wrong password does not log in.
func TestMQTTAuthFiles(t *testing.T) {
	e := platformtest.MustEnv(t, "postgres", monitoring.Module(nil))
	w := newWorld(t, e)
	w.s = monitoring.NewService(monitoring.Config{Gate: e.Store, Now: w.clk.Now, MQTT: monitoring.MQTT{Username: "cityops-app", Password: "app-secret"}})
	tok1 := w.mustDevice(t, e.A, "WL-001", "waterlog")
	w.mustDevice(t, e.A, "WL-002", "waterlog")
	tokB := w.mustDevice(t, e.B, "WL-B01", "waterlog")
	dir := t.TempDir()
	rep, err := w.s.WriteMQTTAuth(context.Background(), w.kit(&usage{}), "", dir)
	if err != nil || rep.Devices != 3 || rep.Tenants != 2 || len(rep.Missing) != 0 {
		t.Fatalf("mqtt-auth: %+v %v", rep, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "passwd")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("passwd: %v %v", fi, err)
	}
	b := mustBroker(t, fmt.Sprintf("allow_anonymous false\npassword_file %s\nacl_file %s\n", filepath.Join(dir, "passwd"), filepath.Join(dir, "acl")))
	c := monitoring.NewConsumer(w.s, w.kit(&usage{}), monitoring.MQTT{URL: b.url(), ClientID: "ingest-1", Username: "cityops-app", Password: "app-secret"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-c.Subscribed()

	bad := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.url()).SetClientID("bad").SetUsername("chuxiong.WL-001").SetPassword(tokB))
	if tok := bad.Connect(); tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
		bad.Disconnect(0)
		t.Fatal("a device logged in with another device's token")
	}
	p := mustPublisher(t, b.url(), "dev-1", "chuxiong.WL-001", tok1)
	p.mustPublish("cityops/chuxiong/WL-002/readings", w.levels("not-mine", 0, 5)) // dropped by the broker
	p.mustPublish("cityops/wuding/WL-B01/readings", w.levels("not-mine-b", 0, 5)) // dropped by the broker
	p.mustPublish("cityops/chuxiong/WL-001/readings", w.levels("mine", 0, 3))
	pb := mustPublisher(t, b.url(), "dev-b", "wuding.WL-B01", tokB)
	pb.mustPublish("cityops/wuding/WL-B01/readings", w.levels("b", 0, 2))
	w.waitCounts(t, e.A, counts{Readings: 3, Minute: 3, Batches: 1})
	w.waitCounts(t, e.B, counts{Readings: 2, Minute: 2, Batches: 1})
	time.Sleep(300 * time.Millisecond)
	if got := w.counts(t, e.A); got.Readings != 3 {
		t.Errorf("A after the denied publish: %+v", got)
	}
	if n := w.s.MQTTCount("taken"); n != 2 {
		t.Errorf("taken %d messages, want 2 (the broker drops the others)", n)
	}
}
