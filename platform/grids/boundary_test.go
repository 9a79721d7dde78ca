package grids_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// within asks the service's index WithinBoundaryIn inside a gate transaction, as the case module does.
func within(t *testing.T, e *platformtest.Env, s *grids.Service, ctx context.Context, lon, lat float64) bool {
	t.Helper()
	var in bool
	err := e.Store.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		in, err = s.Index().WithinBoundaryIn(ctx, db, lon, lat)
		return err
	})
	if err != nil {
		t.Fatalf("within (%g, %g): %v", lon, lat, err)
	}
	return in
}

// donut is a 1°×1° square around 楚雄市 (101–102°E, 25–26°N) with a 0.2° hole in its middle.
const donut = `{"type":"Polygon","coordinates":[[[101,25],[102,25],[102,26],[101,26],[101,25]],[[101.4,25.4],[101.4,25.6],[101.6,25.6],[101.6,25.4],[101.4,25.4]]]}`

func TestBoundaryWithin(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		reader, writer := grids.NewService(e.Store, nil), grids.NewService(e.Store, nil)
		// No boundary: any point within China's extent, none outside.
		if _, err := reader.FindBoundary(e.A); !errs.Is(err, errs.NotFound) {
			t.Fatalf("no boundary: %v", err)
		}
		for _, p := range []struct {
			lon, lat float64
			want     bool
		}{{101.5, 25.5, true}, {87.6, 43.8, true}, {0, 0, false}, {25.0, 101.5, false}, {140, 30, false}} {
			if got := within(t, e, writer, e.A, p.lon, p.lat); got != p.want {
				t.Errorf("no boundary, (%g, %g): got %v, want %v", p.lon, p.lat, got, p.want)
			}
		}
		// A polygon with a hole; the index the writer keeps sees the write at once.
		b, err := writer.PutBoundary(e.A, []byte(`{"type":"Feature","properties":{"name":"楚雄市"},"geometry":`+donut+`}`))
		if err != nil {
			t.Fatal(err)
		}
		if b.BBox != [4]float64{101, 25, 102, 26} || b.AreaM2 < 1e10 {
			t.Fatalf("put: %+v", b)
		}
		for _, p := range []struct {
			lon, lat float64
			want     bool
		}{
			{101.1, 25.1, true},   // inside
			{101.5, 25.5, false},  // in the hole
			{101.4, 25.5, false},  // on the hole's edge: the hole's
			{101.0, 25.5, true},   // on the outer edge
			{102.5, 25.5, false},  // east of it
			{100.99, 25.5, false}, // just west
			{0, 0, false},         // outside China
		} {
			if got := within(t, e, writer, e.A, p.lon, p.lat); got != p.want {
				t.Errorf("donut, (%g, %g): got %v, want %v", p.lon, p.lat, got, p.want)
			}
		}
		// Tenant B has none of A's boundary; the prefecture viewer reads it and cannot change it.
		if _, err := reader.FindBoundary(e.B); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B finds A's boundary: %v", err)
		}
		if !within(t, e, writer, e.B, 87.6, 43.8) {
			t.Fatal("A's boundary applies in B")
		}
		got, err := reader.FindBoundary(e.View)
		if err != nil || got.BBox != b.BBox {
			t.Fatalf("viewer reads: %+v %v", got, err)
		}
		if _, err := writer.PutBoundary(e.View, []byte(donut)); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("viewer writes: %v", err)
		}
		if err := writer.DeleteBoundary(e.View); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("viewer deletes: %v", err)
		}
		// The Feature read back is taken again as it is.
		f, err := got.Feature()
		if err != nil || !strings.Contains(string(f), `"type":"Feature"`) || !strings.Contains(string(f), `"bbox":[101,25,102,26]`) {
			t.Fatalf("feature: %s %v", f, err)
		}
		if again, err := writer.PutBoundary(e.A, f); err != nil || again.BBox != b.BBox || again.AreaM2 != b.AreaM2 {
			t.Fatalf("round trip: %+v %v", again, err)
		}
		// A MultiPolygon (a county with an exclave) replaces it.
		multi := `{"type":"MultiPolygon","coordinates":[` +
			`[[[101,25],[101.2,25],[101.2,25.2],[101,25.2],[101,25]]],` +
			`[[[101.5,25.5],[101.6,25.5],[101.6,25.6],[101.5,25.6],[101.5,25.5]]]]}`
		if _, err := writer.PutBoundary(e.A, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":`+multi+`}]}`)); err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct {
			lon, lat float64
			want     bool
		}{{101.1, 25.1, true}, {101.55, 25.55, true}, {101.3, 25.3, false}, {101.9, 25.9, false}} {
			if got := within(t, e, writer, e.A, p.lon, p.lat); got != p.want {
				t.Errorf("multipolygon, (%g, %g): got %v, want %v", p.lon, p.lat, got, p.want)
			}
		}
		// Deleted: any point in China again.
		if err := writer.DeleteBoundary(e.A); err != nil {
			t.Fatal(err)
		}
		if !within(t, e, writer, e.A, 101.9, 25.9) {
			t.Fatal("after delete, a point in China is outside")
		}
		if err := writer.DeleteBoundary(e.A); !errs.Is(err, errs.NotFound) {
			t.Fatalf("delete twice: %v", err)
		}
		if _, err := reader.FindBoundary(e.A); !errs.Is(err, errs.NotFound) {
			t.Fatalf("after delete: %v", err)
		}
	})
}

func TestPutBoundaryRefusesBadGeometry(t *testing.T) {
	e := platformtest.MustEnv(t, "sqlite")
	s := grids.NewService(e.Store, nil)
	ring := make([]string, 0, grids.MaxBoundaryPositions+1)
	for i := range grids.MaxBoundaryPositions {
		ring = append(ring, fmt.Sprintf("[%g,25]", 101+float64(i)*1e-6))
	}
	ring = append(ring, "[101,26]", "[101,25]")
	huge := `{"type":"Polygon","coordinates":[[` + strings.Join(ring, ",") + `]]}`
	for _, tc := range []struct {
		name, body string
		code       errs.Code
		want       string
	}{
		{"not json", `{"type":`, errs.Invalid, "not GeoJSON"},
		{"an array", `[1,2]`, errs.Invalid, "not GeoJSON"},
		{"a point", `{"type":"Point","coordinates":[101.5,25]}`, errs.Invalid, "is a Point"},
		{"a point feature", `{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[101.5,25]}}`, errs.Invalid, "is a Point"},
		{"no geometry", `{"type":"Feature","properties":{},"geometry":null}`, errs.Invalid, "no geometry"},
		{"two features", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":` + donut + `},{"type":"Feature","geometry":` + donut + `}]}`, errs.Invalid, "has 2 features"},
		{"unclosed", `{"type":"Polygon","coordinates":[[[101,25],[102,25],[102,26],[101,26]]]}`, errs.Invalid, "not closed"},
		{"lat lon swapped", `{"type":"Polygon","coordinates":[[[25,101],[26,101],[26,102],[25,102],[25,101]]]}`, errs.Invalid, "outside China"},
		{"bad coordinates", `{"type":"Polygon","coordinates":"oops"}`, errs.Invalid, "cannot be read"},
		{"too many positions", huge, errs.TooLarge, "Simplify"},
	} {
		_, err := s.PutBoundary(e.A, []byte(tc.body))
		if !errs.Is(err, tc.code) || !strings.Contains(errs.MessageOf(err), tc.want) {
			t.Errorf("%s: %v, want %s with %q", tc.name, err, tc.code, tc.want)
		}
	}
	if _, err := s.FindBoundary(e.A); !errs.Is(err, errs.NotFound) {
		t.Fatalf("a refused boundary was stored: %v", err)
	}
	// Every message of the boundary is said in Chinese too.
	_, err := s.PutBoundary(e.A, []byte(`{"type":"Point","coordinates":[101.5,25]}`))
	if zh := errs.MessageIn(err, "zh-CN"); zh == errs.MessageOf(err) {
		t.Errorf("no Chinese wording: %s", zh)
	}
	b, _ := json.Marshal(grids.Boundary{})
	if !strings.Contains(string(b), `"bbox"`) || strings.Contains(string(b), `"Geometry"`) {
		t.Errorf("boundary JSON: %s", b)
	}
}
