package tenants

import (
	"testing"

	"github.com/cityops/cityops/internal/errs"
)

// TestParseTileSource: every kind's rules, the field each refusal names, and what is kept.
func TestParseTileSource(t *testing.T) {
	for _, tc := range []struct {
		name, in, field string
		want            TileSource
	}{
		{"empty is offline", `{}`, "", TileSource{Kind: TilesOffline}},
		{"none is offline", `{"kind":"none","url":"https://x/{z}/{x}/{y}"}`, "", TileSource{Kind: TilesOffline}},
		{"tianditu defaults", `{"kind":"tianditu","url":"https://dropped/{z}/{x}/{y}"}`, "", TileSource{Kind: TilesTianditu, Layer: "vec", Style: "wmts", MaxZoom: 18}},
		{"tianditu imagery xyz", `{"kind":"tianditu","layer":"img","style":"xyz","max_zoom":16}`, "", TileSource{Kind: TilesTianditu, Layer: "img", Style: "xyz", MaxZoom: 16}},
		{"xyz", `{"kind":"xyz","url":"https://{s}.t.example.cn/{z}/{x}/{-y}.png","subdomains":"abc","attribution":"© x"}`, "",
			TileSource{Kind: TilesXYZ, URL: "https://{s}.t.example.cn/{z}/{x}/{-y}.png", Subdomains: "abc", Attribution: "© x", MaxZoom: 18}},
		{"wmts defaults", `{"kind":"wmts","url":"http://10.1.2.3:8080/wmts","wmts_layer":"l","matrix_set":"w"}`, "",
			TileSource{Kind: TilesWMTS, URL: "http://10.1.2.3:8080/wmts", WMTSLayer: "l", WMTSStyle: "default", MatrixSet: "w", Format: "image/png", MaxZoom: 18}},
		{"not json", `[1]`, "value", TileSource{}},
		{"kind", `{"kind":"bing"}`, "kind", TileSource{}},
		{"zoom", `{"kind":"offline","max_zoom":23}`, "max_zoom", TileSource{}},
		{"tianditu style", `{"kind":"tianditu","style":"wms"}`, "style", TileSource{}},
		{"xyz no url", `{"kind":"xyz"}`, "url", TileSource{}},
		{"xyz relative", `{"kind":"xyz","url":"/tiles/{z}/{x}/{y}.png"}`, "url", TileSource{}},
		{"xyz file", `{"kind":"xyz","url":"file:///etc/{z}/{x}/{y}"}`, "url", TileSource{}},
		{"xyz no y", `{"kind":"xyz","url":"https://t.example.cn/{z}/{x}.png"}`, "url", TileSource{}},
		{"xyz angle", `{"kind":"xyz","url":"https://t.example.cn/{z}/{x}/{y}.png<script>"}`, "url", TileSource{}},
		{"two {s}", `{"kind":"xyz","url":"https://{s}.{s}.example.cn/{z}/{x}/{y}.png","subdomains":"ab"}`, "url", TileSource{}},
		{"bad subdomains", `{"kind":"xyz","url":"https://{s}.t.example.cn/{z}/{x}/{y}.png","subdomains":"a b"}`, "subdomains", TileSource{}},
		{"control char", `{"kind":"xyz","url":"https://t.example.cn/{z}/{x}/{y}.png","attribution":"a\nb"}`, "attribution", TileSource{}},
		{"wmts matrix", `{"kind":"wmts","url":"https://w.example.cn/wmts","wmts_layer":"l"}`, "matrix_set", TileSource{}},
	} {
		got, err := ParseTileSource([]byte(tc.in))
		if tc.field != "" {
			if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != tc.field {
				t.Errorf("%s: %v (field %q), want invalid %s", tc.name, err, errs.FieldOf(err), tc.field)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v %v, want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestTileSourceOrigin(t *testing.T) {
	for src, want := range map[TileSource]string{
		{Kind: TilesOffline}:  "",
		{Kind: TilesTianditu}: "https://*.tianditu.gov.cn",
		{Kind: TilesXYZ, URL: "https://{s}.tile.example.cn/{z}/{x}/{y}.png"}: "https://*.tile.example.cn",
		{Kind: TilesXYZ, URL: "http://127.0.0.1:8080/{z}/{x}/{y}.png"}:       "http://127.0.0.1:8080",
		{Kind: TilesWMTS, URL: "https://t{s}.example.cn/wmts?x=1"}:           "https://*.example.cn",
	} {
		if got := src.Origin(); got != want {
			t.Errorf("%s: %q, want %q", src.URL, got, want)
		}
	}
}
