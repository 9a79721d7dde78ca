package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

const fieldA = "/api/v1/t/chuxiong/field"

// fieldReport posts a report with its photos to tenant's /field/reports as who, under key.
func fieldReport(t *testing.T, f *caseFixture, who, tenant, key, report string, photos ...[]byte) *response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("report", report)
	for i, p := range photos {
		w, _ := mw.CreateFormFile("photo", fmt.Sprintf("p%d.jpg", i))
		w.Write(p)
	}
	mw.Close()
	req := httptest.NewRequest("POST", "/api/v1/t/"+tenant+"/field/reports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := f.send(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// keyed sends a JSON body with an Idempotency-Key.
func keyed(t *testing.T, f *caseFixture, who, method, path, key, body string) *response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	req.Header.Set("Idempotency-Key", key)
	res, err := f.send(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const fieldJPEG = "\xff\xd8\xff\xe0 photo from the street"

// TestFieldAPI: 城管通's report is idempotent by key over HTTP (a retry, five at once, another
// county with the same key), bad input is a 4xx problem, track batches are idempotent, and
// another county's people (and the prefecture) neither post into nor read A's tracks and tasks.
func TestFieldAPI(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			tb, err := f.app.store.FindTenantBySlug(context.Background(), "wuding")
			if err != nil {
				t.Fatal(err)
			}
			f.tokens["inspectorB"], f.ids["inspectorB"] = mustAccount(t, f.app.store, "inspectorb@test.cn", "", tb, tenants.Inspector)
			report := `{"kind":"component","class_code":"0101","description":"井盖缺失","address":"鹿城南路","lon":101.505,"lat":25.005}`
			key := uuid.NewString()
			first := fieldReport(t, f, "inspectorA", "chuxiong", key, report, []byte(fieldJPEG))
			if first.status != 201 {
				t.Fatalf("report: %d %s", first.status, first.body)
			}
			var c caseView
			json.Unmarshal([]byte(first.body), &c)
			// Five retries at once: the same case, 200.
			var wg sync.WaitGroup
			for range 5 {
				wg.Go(func() {
					res := fieldReport(t, f, "inspectorA", "chuxiong", key, report, []byte(fieldJPEG))
					var again caseView
					json.Unmarshal([]byte(res.body), &again)
					if res.status != 200 || again.ID != c.ID {
						t.Errorf("retry: %d %s", res.status, res.body)
					}
				})
			}
			wg.Wait()
			list := f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/cases?source=inspector", "", 200)
			if n := strings.Count(list.body, `"number":`); n != 1 {
				t.Fatalf("%d cases after six sends of one key", n)
			}
			full := f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/cases/"+c.ID, "", 200)
			if n := strings.Count(full.body, `"sha256":`); n != 1 {
				t.Fatalf("%d photos, want 1: %s", n, full.body)
			}
			// B's inspector with the same key: B's own case.
			if res := fieldReport(t, f, "inspectorB", "wuding", key, `{"kind":"component","class_code":"0101","lon":102.2,"lat":25.5}`); res.status != 201 || strings.Contains(res.body, c.ID) {
				t.Fatalf("B with A's key: %d %s", res.status, res.body)
			}
			// B's inspector cannot post into A.
			if res := fieldReport(t, f, "inspectorB", "chuxiong", uuid.NewString(), report); res.status != 403 && res.status != 404 {
				t.Fatalf("B into A: %d %s", res.status, res.body)
			}

			// Bad input: a 4xx problem each, nothing made.
			f.app.cases.SetMaxPhoto(1 << 10)
			bad := []struct {
				name   string
				res    *response
				status int
			}{
				{"no key", fieldReport(t, f, "inspectorA", "chuxiong", "", report), 400},
				{"key not a UUID", fieldReport(t, f, "inspectorA", "chuxiong", "12345", report), 400},
				{"oversize photo", fieldReport(t, f, "inspectorA", "chuxiong", uuid.NewString(), report, append([]byte("\xff\xd8\xff"), bytes.Repeat([]byte("x"), 2<<10)...)), 413},
				{"not a photo", fieldReport(t, f, "inspectorA", "chuxiong", uuid.NewString(), report, []byte("<svg/>")), 415},
				{"outside China", fieldReport(t, f, "inspectorA", "chuxiong", uuid.NewString(), `{"kind":"component","class_code":"0101","lon":2.35,"lat":48.85}`), 400},
				{"NUL", fieldReport(t, f, "inspectorA", "chuxiong", uuid.NewString(), `{"kind":"component","class_code":"0101","description":"a\u0000b","lon":101.505,"lat":25.005}`), 400},
				{"not JSON", fieldReport(t, f, "inspectorA", "chuxiong", uuid.NewString(), `{"kind":`), 400},
				{"unknown field", fieldReport(t, f, "inspectorA", "chuxiong", uuid.NewString(), `{"kind":"component","class_code":"0101","lon":101.505,"lat":25.005,"x":1}`), 400},
				{"not multipart", keyed(t, f, "inspectorA", "POST", fieldA+"/reports", uuid.NewString(), report), 415},
			}
			f.app.cases.SetMaxPhoto(10 << 20)
			// (A body whose multipart framing is broken never reaches a handler: the server
			// refuses it with 400 while reading the request.)
			broken := httptest.NewRequest("POST", fieldA+"/reports", strings.NewReader("--x\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\n{}\r\n--x--\r\n"))
			broken.Header.Set("Content-Type", "multipart/form-data; boundary=x")
			broken.Header.Set("Authorization", "Bearer "+f.tokens["inspectorA"])
			broken.Header.Set("Idempotency-Key", uuid.NewString())
			br, err := f.send(t, broken)
			if err != nil {
				t.Fatal(err)
			}
			bad = append(bad, struct {
				name   string
				res    *response
				status int
			}{"multipart without its report", br, 400})
			for _, b := range bad {
				if b.res.status != b.status || !strings.Contains(b.res.header.Get("Content-Type"), "problem+json") {
					t.Errorf("%s: %d %s %s, want %d problem", b.name, b.res.status, b.res.header.Get("Content-Type"), b.res.body, b.status)
				}
			}
			list = f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/cases?source=inspector", "", 200)
			if n := strings.Count(list.body, `"number":`); n != 1 {
				t.Fatalf("bad input made cases: %d", n)
			}

			// Tracks.
			now := time.Now().UTC()
			batch := fmt.Sprintf(`{"points":[{"at":%q,"lon":101.505,"lat":25.005,"accuracy":5},{"at":%q,"lon":101.506,"lat":25.006,"accuracy":5}]}`,
				now.Add(-2*time.Minute).Format(time.RFC3339), now.Add(-time.Minute).Format(time.RFC3339))
			tk := uuid.NewString()
			if res := keyed(t, f, "inspectorA", "POST", fieldA+"/tracks", tk, batch); res.status != 201 {
				t.Fatalf("track batch: %d %s", res.status, res.body)
			}
			if res := keyed(t, f, "inspectorA", "POST", fieldA+"/tracks", tk, batch); res.status != 200 {
				t.Fatalf("track batch again: %d %s", res.status, res.body)
			}
			tracks := f.mustDo(t, "shiftA", "GET", fieldA+"/tracks", "", 200)
			if !strings.Contains(tracks.body, f.ids["inspectorA"]) || strings.Count(tracks.body, `"accuracy"`) != 2 {
				t.Fatalf("the shift lead's tracks: %s", tracks.body)
			}
			for _, bad := range []string{`{"points":[]}`, `{"points":[{"at":"2020-01-01T00:00:00Z","lon":101.5,"lat":25}]}`, `{"points":[{"at":"` + now.Format(time.RFC3339) + `","lon":500,"lat":25}]}`} {
				if res := keyed(t, f, "inspectorA", "POST", fieldA+"/tracks", uuid.NewString(), bad); res.status != 400 {
					t.Errorf("bad batch %s: %d %s", bad, res.status, res.body)
				}
			}
			// Cross-tenant probes: B's inspector and admin, the prefecture.
			for _, p := range []struct{ who, method, path string }{
				{"inspectorB", "POST", fieldA + "/tracks"},
				{"inspectorB", "GET", fieldA + "/tracks"},
				{"inspectorB", "GET", fieldA + "/tasks"},
				{"adminB", "GET", fieldA + "/tracks"},
				{"viewer", "GET", fieldA + "/tracks"},
				{"viewer", "GET", fieldA + "/tasks"},
				{"viewer", "POST", fieldA + "/tracks"},
			} {
				res := keyed(t, f, p.who, p.method, p.path, uuid.NewString(), batch)
				if res.status != 403 && res.status != 404 {
					t.Errorf("%s %s %s: %d %s", p.who, p.method, p.path, res.status, res.body)
				}
				if strings.Contains(res.body, "101.505") {
					t.Errorf("%s %s %s leaks A's track", p.who, p.method, p.path)
				}
			}
			if res := f.mustDo(t, "inspectorA", "GET", fieldA+"/tasks", "", 200); !strings.Contains(res.body, `"Cases"`) {
				t.Fatalf("tasks: %s", res.body)
			}
		})
	}
}
