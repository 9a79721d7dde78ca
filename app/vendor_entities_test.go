package app

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cityops/cityops/platform/exchange"
)

// TestVendorEntitiesAPI: the tenant's admin imports the szcg-a county's departments, grids,
// components and staff over the API, in order; a dry run lists what it cannot map; a bad row is a
// 422 with the report; a re-run changes nothing; the prefecture may not import (403), another
// county finds nothing (404); an unknown entity is a 404.
func TestVendorEntitiesAPI(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			runScenarios(t, f.fixture, []scenario{
				{"admin saves", "adminA", "PUT", vendorsA + "/szcg-a/mapping", vendorSample(t, "szcg-a.mapping.json"), 200, `"departments":{"fields"`, ""},
			})
			imports := vendorsA + "/szcg-a/imports/"
			files := []struct {
				entity, file string
				created      int
			}{{"departments", "szcg-a-departments.csv", 4}, {"grids", "szcg-a-grids.csv", 5}, {"components", "szcg-a-components.csv", 4}, {"staff", "szcg-a-staff.csv", 6}}
			for _, fl := range files {
				ct, body := multipartFile(t, fl.file, vendorSample(t, fl.file))
				for _, tc := range []struct {
					who, path string
					status    int
					want      string
				}{
					{"viewer", imports + fl.entity + "?dry_run=true", 403, ""},
					{"inspectorA", imports + fl.entity, 403, ""},
					{"adminB", imports + fl.entity, 404, ""},
					{"adminB", "/api/v1/t/wuding/exchange/vendors/szcg-a/imports/" + fl.entity, 404, "szcg-a"},
					{"adminA", imports + "roads", 404, "roads"},
					{"adminA", imports + fl.entity + "?dry_run=true", 200, `"dry_run":true`},
				} {
					if res := f.sendBody(t, tc.who, "POST", tc.path, ct, body); res.status != tc.status || !strings.Contains(res.body, tc.want) {
						t.Fatalf("%s POST %s: %d %s", tc.who, tc.path, res.status, res.body)
					}
				}
				res := f.sendBody(t, "adminA", "POST", imports+fl.entity, ct, body)
				var rep exchange.ImportReport
				json.Unmarshal([]byte(res.body), &rep)
				if res.status != 200 || rep.Created != fl.created || !rep.Applied || string(rep.Entity) != fl.entity {
					t.Fatalf("%s: %d %s", fl.entity, res.status, res.body)
				}
				if again := f.sendBody(t, "adminA", "POST", imports+fl.entity, ct, body); again.status != 200 || !strings.Contains(again.body, `"created":0,"updated":0,"unchanged":`) {
					t.Fatalf("%s again: %d %s", fl.entity, again.status, again.body)
				}
			}
			staff := vendorSample(t, "szcg-a-staff.csv") + "A0007,钱网格,13800000007,数字城管中心,网格员\n"
			ct, body := multipartFile(t, "s.csv", staff)
			res := f.sendBody(t, "adminA", "POST", imports+"staff", ct, body)
			if res.status != 422 || !strings.Contains(res.body, `"value":"网格员"`) || !strings.Contains(res.body, `"first_row":8`) ||
				!strings.Contains(res.body, `"applied":false`) || !strings.Contains(res.body, `"column":"角色"`) {
				t.Fatalf("unmapped role: %d %s", res.status, res.body)
			}
			runScenarios(t, f.fixture, []scenario{
				{"staff imported, without login", "adminA", "GET", "/api/v1/t/chuxiong/staff", "", 200, `"name":"王受理"`, ""},
				{"runs name their entity", "viewer", "GET", exA + "/imports", "", 200, `"entity":"staff"`, ""},
				{"B sees no runs of A", "adminB", "GET", "/api/v1/t/wuding/exchange/imports", "", 200, "[]", ""},
			})
			var list []struct {
				Name       string  `json:"name"`
				IdentityID *string `json:"identity_id"`
			}
			if err := json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/staff", "", 200).body), &list); err != nil {
				t.Fatal(err)
			}
			imported := 0
			for _, s := range list {
				if strings.HasSuffix(s.Name, "受理") || strings.HasSuffix(s.Name, "监督") || strings.HasSuffix(s.Name, "领导") {
					imported++
					if s.IdentityID != nil {
						t.Fatalf("an imported staff member has a login: %+v", s)
					}
				}
			}
			if imported != 3 {
				t.Fatalf("%d imported staff found: %+v", imported, list)
			}
		})
	}
}
