package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestConfigMQTT: a bad broker URL, client id or share group is reported with the others; the
// password is redacted, in the URL too.
func TestConfigMQTT(t *testing.T) {
	c := Config{Addr: "127.0.0.1:0", DataDir: "x", BodyLimit: 1 << 20, LogFormat: "json", LogLevel: "info", MigrateWorkers: 1,
		MQTTURL: "http://broker", MQTTClientID: "a/b", MQTTShareGroup: "g#"}
	err := c.Validate()
	for _, want := range []string{"CITYOPS_MQTT_URL", "CITYOPS_MQTT_CLIENT_ID", "CITYOPS_MQTT_SHARE_GROUP"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not report %s: %v", want, err)
		}
	}
	c = Config{Addr: "127.0.0.1:0", DataDir: "x", BodyLimit: 1 << 20, LogFormat: "json", LogLevel: "info", MigrateWorkers: 1,
		MQTTURL: "tcp://app:secret@broker:1883", MQTTClientID: "cityops-1", MQTTShareGroup: "cityops", MQTTPassword: "secret"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if r := c.Redacted(); strings.Contains(r.MQTTURL+r.MQTTPassword, "secret") {
		t.Errorf("not redacted: %q %q", r.MQTTURL, r.MQTTPassword)
	}
}

// TestServeMQTTOff: without a broker the server says once that MQTT ingestion is off and runs
// no MQTT loop; with one it runs the monitoring mqtt loop.
func TestServeMQTTOff(t *testing.T) {
	for _, url := range []string{"", "tcp://127.0.0.1:1"} {
		cfg := Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", LogFormat: "json", LogLevel: "info", MigrateOnStart: true,
			MigrateWorkers: 2, BodyLimit: 1 << 20, ShutdownGrace: 5 * time.Second, MQTTURL: url, MQTTClientID: "cityops-ingest"}
		var logs bytes.Buffer
		a, err := New(context.Background(), cfg, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range a.loops {
			names = append(names, l.name)
		}
		if has := slices.Contains(names, "monitoring mqtt"); has != (url != "") {
			t.Errorf("MQTT URL %q: loops %v", url, names)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		started := make(chan struct{})
		go func() { done <- a.Serve(ctx, func(string) { close(started) }) }()
		<-started
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		a.Close()
		off := strings.Count(logs.String(), "MQTT ingestion is off")
		if (url == "" && off != 1) || (url != "" && off != 0) {
			t.Errorf("MQTT URL %q: %d times 'MQTT ingestion is off' in %s", url, off, logs.String())
		}
	}
}

// TestCLIMQTTAuth: `cityops monitoring mqtt-auth DIR` writes the broker's files (here with the
// app's user only: no tenant has devices yet); an unknown --tenant is refused.
func TestCLIMQTTAuth(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CITYOPS_DATA_DIR", dir)
	t.Setenv("CITYOPS_LOG_LEVEL", "error")
	t.Setenv("CITYOPS_DATABASE_URL", "")
	t.Setenv("CITYOPS_MQTT_URL", "tcp://127.0.0.1:1883")
	t.Setenv("CITYOPS_MQTT_USERNAME", "cityops-app")
	t.Setenv("CITYOPS_MQTT_PASSWORD", "app-secret")
	if out, errOut, code := runCLI(t, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errOut)
	}
	out, errOut, code := runCLI(t, "", "monitoring", "mqtt-auth", filepath.Join(dir, "mqtt"))
	if code != 0 || !strings.Contains(out, "0 devices of 0 tenants") {
		t.Fatalf("mqtt-auth: %d %s %s", code, out, errOut)
	}
	acl, _ := os.ReadFile(filepath.Join(dir, "mqtt", "acl"))
	pw, _ := os.ReadFile(filepath.Join(dir, "mqtt", "passwd"))
	if !strings.Contains(string(acl), "user cityops-app\ntopic read cityops/+/+/readings") || !strings.HasPrefix(string(pw), "cityops-app:$7$101$") {
		t.Errorf("acl %q, passwd %q", acl, pw)
	}
	if _, _, code := runCLI(t, "", "monitoring", "mqtt-auth", filepath.Join(dir, "mqtt"), "--tenant", "nosuch"); code == 0 {
		t.Error("an unknown tenant was not refused")
	}
}
