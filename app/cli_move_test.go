package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/tenants"
)

// TestMoveOverHTTP moves a county to a second cluster while requests come in: during the
// freeze its writes get 503 problem+json with Retry-After and its reads work, the other county
// writes as usual; afterwards its owner, the prefecture viewer and another county's admin see
// what they saw before (its data, read-only, nothing).
func TestMoveOverHTTP(t *testing.T) {
	second := testdb.Cluster(t)
	f := newFixtureConfig(t, "postgres", Options{}, func(c *Config) { c.Clusters = "b=" + second })
	ctx := context.Background()
	a, err := f.app.store.FindTenantBySlug(ctx, "chuxiong")
	if err != nil {
		t.Fatal(err)
	}
	from := a.Cluster
	to := map[string]string{"b": tenants.MainCluster, tenants.MainCluster: "b"}[from]
	done := make(chan error, 1)
	var res *tenants.MoveResult
	go func() {
		var err error
		res, err = f.app.store.Move(ctx, a, tenants.MoveOptions{To: to, Settle: 2 * time.Second})
		done <- err
	}()
	time.Sleep(time.Second) // the freeze is on, the copy has not started
	runScenarios(t, f, []scenario{
		{"write refused while moving", "adminA", "PUT", "/api/v1/t/chuxiong/settings/k", `{"value":"x"}`, 503, "being moved", ""},
		{"read while moving", "adminA", "GET", "/api/v1/t/chuxiong/settings", "", 200, "A-SECRET-VALUE", ""},
		{"viewer reads while moving", "viewer", "GET", "/api/v1/t/chuxiong/settings", "", 200, "A-SECRET-VALUE", ""},
		{"the other county writes", "adminB", "PUT", "/api/v1/t/wuding/settings/k", `{"value":"y"}`, 200, "", ""},
	})
	r, err := f.do(t, "adminA", "PUT", "/api/v1/t/chuxiong/settings/k", `{"value":"x"}`)
	if err != nil || r.header.Get("Retry-After") != "5" {
		t.Errorf("Retry-After %q (%v), want 5", r.header.Get("Retry-After"), err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.To != to {
		t.Fatalf("moved to %s", res.To)
	}
	runScenarios(t, f, []scenario{
		{"owner reads after the move", "adminA", "GET", "/api/v1/t/chuxiong/settings", "", 200, "A-SECRET-VALUE", ""},
		{"owner writes after the move", "adminA", "PUT", "/api/v1/t/chuxiong/settings/k", `{"value":"after"}`, 200, "", ""},
		{"viewer reads after the move", "viewer", "GET", "/api/v1/t/chuxiong/settings", "", 200, "after", ""},
		{"viewer cannot write", "viewer", "PUT", "/api/v1/t/chuxiong/settings/k", `{"value":"v"}`, 403, "", ""},
		{"other county sees nothing", "adminB", "GET", "/api/v1/t/chuxiong/settings", "", 404, "", "A-SECRET-VALUE"},
		{"other county cannot write", "adminB", "PUT", "/api/v1/t/chuxiong/settings/k", `{"value":"v"}`, 404, "", ""},
	})
}

// TestCLIMove runs `cityops tenants clusters`, `create --cluster` and `move` as an operator would,
// against two clusters.
func TestCLIMove(t *testing.T) {
	pg := testdb.Postgres(t)
	t.Setenv("CITYOPS_DATA_DIR", t.TempDir())
	t.Setenv("CITYOPS_LOG_LEVEL", "error")
	t.Setenv("CITYOPS_DATABASE_URL", pg.DSN)
	t.Setenv("CITYOPS_DB_ROLE_PREFIX", pg.RolePrefix)
	t.Setenv("CITYOPS_CLUSTERS", "b="+testdb.Cluster(t))
	t.Setenv("CITYOPS_CLUSTER_CAPACITY", "main=1,b=5")
	t.Setenv("LC_ALL", "en_US.UTF-8")
	for _, args := range [][]string{
		{"migrate"},
		{"tenants", "create", "--slug", "chuxiong-zhou", "--name-zh", "楚雄州", "--kind", "prefecture", "--admin-code", "532300", "--cluster", "main"},
		{"tenants", "create", "--slug", "wuding", "--name-zh", "武定县", "--admin-code", "532329", "--parent", "chuxiong-zhou"},
	} {
		if out, errOut, code := runCLI(t, "", args...); code != 0 {
			t.Fatalf("%v: %s %s", args, out, errOut)
		}
	}
	out, errOut, code := runCLI(t, "", "tenants", "clusters")
	if code != 0 || !strings.Contains(out, "b        1        5") || !strings.Contains(out, "main     1        1") {
		t.Fatalf("clusters: %d %s %s", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tenants", "move", "wuding"}, "Say which cluster"},
		{[]string{"tenants", "move", "wuding", "--to", "nowhere"}, `"nowhere" is not configured`},
		{[]string{"tenants", "move", "wuding", "--to", "b"}, "is on the cluster b already"},
		{[]string{"tenants", "move", "wuding", "--abort"}, "no move in progress"},
		{[]string{"tenants", "create", "--slug", "yaoan", "--name-zh", "姚安县", "--admin-code", "532325", "--parent", "chuxiong-zhou", "--cluster", "main"}, "full"},
	} {
		out, errOut, code := runCLI(t, "", c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: %d %s %s; want an error saying %q", c.args, code, out, errOut, c.want)
		}
	}
	out, errOut, code = runCLI(t, "", "tenants", "move", "wuding", "--to", "main", "--keep-old", "--settle", "100ms")
	if code != 0 || !strings.Contains(out, "moved from b to main") || !strings.Contains(out, "t_532329_moved_") ||
		!strings.Contains(out, "copied by logical replication while the tenant kept writing") || !strings.Contains(out, "REPLICA IDENTITY FULL") {
		t.Fatalf("move: %d %s %s", code, out, errOut)
	}
	out, _, _ = runCLI(t, "", "tenants", "list")
	if !strings.Contains(out, "t_532329  main") {
		t.Errorf("list after the move: %s", out)
	}
}
