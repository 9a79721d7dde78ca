package grids

import (
	"os"
	"testing"
)

// TestAtlas reads the shipped boundaries: a county by its code, a renumbered county by its
// name, a prefecture's counties, nothing for a code outside the data set.
func TestAtlas(t *testing.T) {
	data, err := os.ReadFile("../../app/web/static/vendor/boundaries/yunnan.json")
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAtlas(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code, name string
		n          int
		first      string
	}{
		{"532301", "楚雄市", 1, "楚雄市"},
		{"532329", "武定县", 1, "武定县"},
		{"532302", "禄丰市", 1, "禄丰县"}, // renumbered in 2021: found by name
		{"532300", "楚雄彝族自治州", 10, "楚雄市"},
		{"530000", "云南省", 129, ""},
		{"110101", "东城区", 0, ""},
		{"5323", "x", 0, ""},
	} {
		got := a.Divisions(tc.code, tc.name)
		if len(got) != tc.n || (tc.first != "" && got[0].Name != tc.first) {
			t.Errorf("%s %s: %d divisions, want %d (%s first)", tc.code, tc.name, len(got), tc.n, tc.first)
		}
	}
	if _, err := NewAtlas([]byte("{")); err == nil {
		t.Error("a broken atlas is read")
	}
}
