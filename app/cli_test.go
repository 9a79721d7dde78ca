package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

func runCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func TestCLITenantLifecycle(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CITYOPS_DATA_DIR", dir)
	t.Setenv("CITYOPS_LOG_LEVEL", "error")
	t.Setenv("CITYOPS_DATABASE_URL", "")
	if out, errOut, code := runCLI(t, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errOut)
	}
	if out, errOut, code := runCLI(t, "", "tenants", "create", "--slug", "chuxiong-zhou", "--name-zh", "楚雄州", "--kind", "prefecture", "--admin-code", "532300"); code != 0 {
		t.Fatalf("create: %s %s", out, errOut)
	}
	out, errOut, code := runCLI(t, "", "tenants", "create", "--slug", "wuding", "--name-zh", "武定县", "--admin-code", "532329", "--parent", "chuxiong-zhou", "--admin-email", "boss@wuding.cn")
	if code != 0 || !strings.Contains(out, "/invite/inv_") {
		t.Fatalf("create county: %d %s %s", code, out, errOut)
	}
	_, errOut, code = runCLI(t, "", "tenants", "create", "--slug", "Bad Slug", "--name-zh", "x", "--admin-code", "532322", "--parent", "chuxiong-zhou")
	if code == 0 || !strings.Contains(errOut, "slug") {
		t.Fatalf("bad slug: %d %s", code, errOut)
	}
	out, _, code = runCLI(t, "", "tenants", "list", "--json")
	var list []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 {
		t.Fatalf("list --json: %d %s", code, out)
	}
	for _, k := range []string{"id", "slug", "admin_code", "kind", "status", "parent_id"} {
		if _, ok := list[1][k]; !ok {
			t.Fatalf("list --json lacks %s: %v", k, list[1])
		}
	}
	if out, e, code := runCLI(t, "sms-gateway-secret-9876\n", "credentials", "set", "wuding", "sms"); code != 0 || !strings.Contains(out, "9876") {
		t.Fatalf("credentials set: %s %s", out, e)
	}
	if out, _, code := runCLI(t, "", "credentials", "list", "wuding"); code != 0 || !strings.Contains(out, "sms") || strings.Contains(out, "sms-gateway-secret") {
		t.Fatalf("credentials list: %s", out)
	}
	// The 12345 hotline's category mapping (the case loop checks the class when a work order
	// comes in).
	if out, e, code := runCLI(t, "", "exchange", "hotline-class", "wuding", "*", "event", "0102"); code != 0 || !strings.Contains(out, "0102") {
		t.Fatalf("hotline-class: %d %s %s", code, out, e)
	}
	if _, e, code := runCLI(t, "", "exchange", "hotline-class", "wuding", "路灯", "lamp", "0102"); code == 0 || !strings.Contains(e, "class") {
		t.Fatalf("hotline-class with a bad kind: %d %s", code, e)
	}
	if _, e, code := runCLI(t, "", "tenants", "suspend", "wuding", "--reason", "test"); code != 0 {
		t.Fatal(e)
	}
	if _, e, code := runCLI(t, "", "tenants", "resume", "wuding"); code != 0 {
		t.Fatal(e)
	}
	exportPath := dir + "/wuding.zip"
	if _, e, code := runCLI(t, "", "tenants", "export", "wuding", "-o", exportPath); code != 0 {
		t.Fatal(e)
	}
	if _, e, code := runCLI(t, "", "tenants", "export", "wuding", "-o", exportPath); code == 0 {
		t.Fatalf("export overwrote an existing file: %s", e)
	}
	if _, e, code := runCLI(t, "", "tenants", "offboard", "wuding"); code == 0 || !strings.Contains(e, "confirm with its slug wuding") {
		t.Fatalf("offboard without confirm: %s", e)
	}
	if out, e, code := runCLI(t, "", "tenants", "offboard", "wuding", "--confirm", "wuding"); code != 0 || !strings.Contains(out, "offboarded") {
		t.Fatalf("offboard: %s %s", out, e)
	}
	out, _, _ = runCLI(t, "", "tenants", "list")
	if strings.Contains(out, "wuding") {
		t.Fatalf("offboarded tenant still listed: %s", out)
	}
	if out, e, code := runCLI(t, "operator password 1\n", "identities", "create", "--email", "op@cityops.cn", "--operator-role", "operator_admin"); code != 0 {
		t.Fatalf("identities create: %s %s", out, e)
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	c := Config{Addr: "nope", DatabaseURL: "mysql://x", DataDir: "", BodyLimit: 1, LogFormat: "xml", LogLevel: "loud", MigrateWorkers: 0, TrustedProxies: []string{"not-an-ip"},
		Clusters: "main=postgres://x/y"}
	err := c.Validate()
	for _, want := range []string{"CITYOPS_CLUSTERS", "CITYOPS_ADDR", "CITYOPS_DATABASE_URL", "CITYOPS_DATA_DIR", "CITYOPS_BODY_LIMIT", "CITYOPS_LOG_FORMAT", "CITYOPS_LOG_LEVEL", "CITYOPS_MIGRATE_WORKERS", "CITYOPS_TRUSTED_PROXIES"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not report %s: %v", want, err)
		}
	}
}

func TestServeListensAndShutsDown(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", LogFormat: "json", LogLevel: "error", MigrateOnStart: true,
		MigrateWorkers: 2, BodyLimit: 1 << 20, ShutdownGrace: 5 * time.Second}
	a, err := New(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, func(addr string) { addrc <- addr }) }()
	addr := <-addrc
	res, err := http.Get("http://" + addr + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
	res.Body.Close()
	// A taken port fails at once.
	b := *a
	b.cfg.Addr = addr
	if err := b.Serve(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("serving on a taken port: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}
