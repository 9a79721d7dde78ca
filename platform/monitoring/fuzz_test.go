package monitoring_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/platform/platformtest"
)

// FuzzIngest posts arbitrary bodies to arbitrary tenants' ingest with a valid device token: the
// answer is a result or a 4xx problem, never a 5xx, and what is accepted plus what is rejected is
// what was sent.
func FuzzIngest(f *testing.F) {
	e := platformtest.MustEnv(f, "sqlite", monitoring.Module(nil))
	w := newWorld(f, e)
	srv := w.server(f, &usage{}, true)
	tok := w.mustDevice(f, e.A, "MH-1", "manhole")
	for _, seed := range []struct{ tenant, body string }{
		{"chuxiong", `{"readings":[{"metric":"tilt","value":1}]}`},
		{"chuxiong", `{"batch":"x","readings":[{"device":"MH-1","metric":"open","value":1,"unit":"","at":"2026-12-07T12:00:00Z"}]}`},
		{"chuxiong", `{"readings":[{"device":"\u0000","metric":"tilt","value":1e308}]}`},
		{"chuxiong", `{"readings":[{"metric":"tilt","value":-0,"at":"0001-01-01T00:00:00Z"}]}`},
		{"chuxiong", `{"readings":[{"metric":"tilt","value":1,"at":"9999-12-31T23:59:59Z"}]}`},
		{"wuding", `{"readings":[]}`},
		{"chuxiong\x00", `{}`},
		{"%ff", `null`},
	} {
		f.Add(seed.tenant, seed.body)
	}
	f.Fuzz(func(t *testing.T, tenant, body string) {
		req := httptest.NewRequest("POST", "/api/v1/ingest/"+url.PathEscape(tenant)+"/readings", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		a := send(t, srv, req)
		if a.Status >= 500 {
			t.Fatalf("%q %q: %d %s", tenant, body, a.Status, a.Body)
		}
		if a.Status != 200 {
			if a.Type != "application/problem+json" {
				t.Fatalf("%q: %d with %s", body, a.Status, a.Type)
			}
			return
		}
		var b monitoring.Batch
		json.Unmarshal([]byte(body), &b)
		var r monitoring.Result
		if err := json.Unmarshal([]byte(a.Body), &r); err != nil {
			t.Fatal(err)
		}
		n := r.Accepted
		for _, k := range r.Rejected {
			n += k
		}
		if n != len(b.Readings) && !r.Duplicate {
			t.Fatalf("%q: %d accepted and rejected of %d", body, n, len(b.Readings))
		}
	})
}
