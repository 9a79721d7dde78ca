package web

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestVendorMatchesLock checks that the embedded front-end libraries are the versions
// assets/package-lock.json pins (tools/assets/build.sh copies them).
func TestVendorMatchesLock(t *testing.T) {
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	b, err := os.ReadFile("assets/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatal(err)
	}
	v, err := Files.ReadFile("static/vendor/VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(v)), "\n") {
		name, version, _ := strings.Cut(line, " ")
		if got := lock.Packages["node_modules/"+name].Version; got != version {
			t.Errorf("%s: vendor has %s, package-lock.json pins %q; run tools/assets/build.sh", name, version, got)
		}
	}
	for _, f := range []string{"static/vendor/echarts/echarts.common.min.js", "static/vendor/leaflet/leaflet.js", "static/vendor/leaflet.markercluster/leaflet.markercluster.js", "static/vendor/hls.js/hls.light.min.js", AtlasFile, "static/vendor/boundaries/LICENSE"} {
		if _, err := Files.Open(f); err != nil {
			t.Errorf("%s is not embedded: %v", f, err)
		}
	}
}
